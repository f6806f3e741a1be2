//! Crash safety: a child process commits durably and reports each commit; the parent kills
//! it with SIGKILL at random moments, reopens, and checks that the database is clean,
//! holds every reported commit, and holds no partial transaction.
//!
//! Rounds: `CLUSTO_CRASH_ROUNDS` (default 20; `make test-slow` runs hundreds).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use clusto_core::{Clusto, Durability, OpenOptions};
use common::{acknowledged, env_number, helper, open, spawn_piped, step, tally, verify};

const DB_ENV: &str = "CLUSTO_CRASH_DB";

/// Set: the writer commits with grouped durability (no sync of its own).
const GROUPED_ENV: &str = "CLUSTO_CRASH_GROUPED";

/// Grouped durability with a period longer than a round: what survives the kill is
/// what the commits left in the operating system's page cache.
fn grouped() -> OpenOptions {
    OpenOptions {
        durability: Durability::Grouped { every_ms: 60_000 },
        lock_wait: Some(Duration::from_secs(20)),
        ..Default::default()
    }
}

/// Not a test: the writer that `survives_sigkill` runs in a child process and kills.
/// After each commit it prints `committed N`.
#[test]
#[ignore = "helper run in a child process"]
fn crash_writer_helper() {
    let Ok(path) = std::env::var(DB_ENV) else {
        return;
    };
    let db = match std::env::var(GROUPED_ENV) {
        Ok(_) => Clusto::open_with(common::dsn(Path::new(&path)), &grouped()).unwrap(),
        Err(_) => open(Path::new(&path)),
    };
    let mut n = tally(&db);
    let stdout = std::io::stdout();
    loop {
        n += 1;
        step(&db, n).unwrap();
        writeln!(stdout.lock(), "committed {n}").unwrap();
    }
}

#[test]
fn survives_sigkill() {
    sigkill_rounds(false);
}

/// Grouped commits survive the death of the process that made them: every acknowledged
/// one is there, none is partial. (sled cannot promise that, and refuses the mode.)
#[test]
fn grouped_commits_survive_sigkill() {
    if common::engine() == "sled" {
        let dir = tempfile::tempdir().unwrap();
        let err = Clusto::open_with(common::dsn(&dir.path().join("db")), &grouped())
            .err()
            .expect("sled refuses grouped durability");
        assert!(err.to_string().contains("grouped"), "{err}");
        return;
    }
    sigkill_rounds(true);
}

fn sigkill_rounds(grouped: bool) {
    let rounds = env_number("CLUSTO_CRASH_ROUNDS", 20) as usize;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let mut last_acknowledged = 0;
    for round in 0..rounds {
        let mut writer = helper("crash_writer_helper", &[(DB_ENV, &path)]);
        if grouped {
            writer.env(GROUPED_ENV, "1");
        }
        let mut child = spawn_piped(writer.stderr(Stdio::null()));
        let (send, receive) = mpsc::channel();
        let out = BufReader::new(child.stdout.take().unwrap());
        let reader = std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                if let Some(n) = acknowledged(&line) {
                    let _ = send.send(n);
                }
            }
        });
        let first = receive
            .recv_timeout(Duration::from_secs(30))
            .expect("the writer commits");
        last_acknowledged = last_acknowledged.max(first);
        std::thread::sleep(Duration::from_millis(fastrand::u64(1..120)));
        child.kill().unwrap();
        child.wait().unwrap();
        reader.join().unwrap();
        last_acknowledged = last_acknowledged.max(receive.try_iter().max().unwrap_or(0));
        let db = open(&path);
        let n = verify(&db, last_acknowledged);
        drop(db);
        eprintln!("round {round}: {last_acknowledged} commits acknowledged, tally {n}");
    }
    assert!(
        last_acknowledged as usize >= rounds,
        "every round committed at least once"
    );
}
