//! The real `clusto` binary against temporary databases.

use std::process::{Command, Output};

use clusto_core::{Clusto, NewAttr, TxMeta};

fn clusto(dsn: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_clusto"))
        .arg("--dsn")
        .arg(dsn)
        .args(args)
        .env_remove("CLUSTODSN")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

fn sample(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("db");
    let db = Clusto::open(&path).unwrap();
    db.write(TxMeta::new("alice", "rack it"), |tx| {
        let rack = tx.create_entity("r1", "rack", "basicrack")?;
        let s = tx.create_entity("s1", "server", "basicserver")?;
        tx.add_attr(
            rack.id,
            NewAttr::new("_contains", s.id).subkey("ru").number(3),
        )?;
        tx.add_attr(s.id, NewAttr::new("owner", "web"))
    })
    .unwrap();
    path
}

#[test]
fn initdb_info_history_check() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample(dir.path());
    let init = clusto(&path, &["initdb"]);
    assert!(init.status.success(), "{}", text(&init));
    assert!(text(&init).contains("at version 1"));

    let info = clusto(&path, &["info", "s1"]);
    assert!(info.status.success(), "{}", text(&info));
    let out = text(&info);
    assert!(
        out.contains("type:    server")
            && out.contains("parents: r1")
            && out.contains("owner = web"),
        "{out}"
    );

    let history = clusto(&path, &["history", "s1"]);
    assert!(text(&history).contains("1\t") && text(&history).contains("alice\track it"));

    let check = clusto(&path, &["check"]);
    assert!(
        check.status.success() && text(&check).contains("clean"),
        "{}",
        text(&check)
    );
}

#[test]
fn errors_have_documented_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let path = sample(dir.path());
    let missing = clusto(&path, &["info", "nope"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing).contains("'nope' does not exist"));
    let sql = clusto(std::path::Path::new("sqlite:///old.db"), &["check"]);
    assert_eq!(sql.status.code(), Some(3));
    assert!(text(&sql).contains("clusto migrate"));
}
