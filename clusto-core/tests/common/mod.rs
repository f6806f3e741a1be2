//! What the fault tests share: the writer whose every transaction can be verified after a
//! crash or an I/O error, the verification, and running a test of this binary as a child
//! process.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use clusto_core::{AttrFilter, Clusto, NewAttr, OpenOptions, Result, TxMeta, Value};

/// How many of the newest `e<N>` entities stay live; older ones are deleted.
pub const KEEP: i64 = 5;

/// The engine this run of the suite tests: `CLUSTO_TEST_ENGINE` (`lmdb`, `sled`,
/// `memory` or `postgresql`; default `lmdb`). The Makefile runs the suite once per engine;
/// on `postgresql`, `CLUSTO_TEST_POSTGRES_DSN` names the server's database.
pub fn engine() -> String {
    std::env::var("CLUSTO_TEST_ENGINE").unwrap_or_else(|_| "lmdb".into())
}

/// The PostgreSQL database of a `postgresql` run, in the schema `schema` (made if
/// missing, so that every test has a database of its own).
pub fn postgres_dsn(schema: &str) -> String {
    let server = std::env::var("CLUSTO_TEST_POSTGRES_DSN")
        .expect("CLUSTO_TEST_ENGINE=postgresql needs CLUSTO_TEST_POSTGRES_DSN");
    let dsn = format!("{server}?schema={schema}");
    let create = OpenOptions {
        create: true,
        ..Default::default()
    };
    drop(Clusto::open_with(&dsn, &create).unwrap());
    dsn
}

/// A new temporary database on the engine under test.
pub fn temporary() -> Result<Clusto> {
    if engine() == "postgresql" {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        return Clusto::open(postgres_dsn(&format!(
            "t{}_{n}_{nanos}",
            std::process::id()
        )));
    }
    Clusto::temporary_on(&engine())
}

/// The DSN of a database in directory `path` on the engine under test (the memory
/// engine has no directory: suites that reopen a path run on LMDB then; on PostgreSQL
/// the path names a schema of its own).
pub fn dsn(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap();
    let engine = match engine().as_str() {
        "memory" => "lmdb".to_string(),
        "postgresql" => {
            let mut hash = 0xcbf2_9ce4_8422_2325u64; // FNV-1a of the path
            for b in absolute.as_os_str().as_encoded_bytes() {
                hash = (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
            }
            return postgres_dsn(&format!("p{hash:016x}"));
        }
        other => other.to_string(),
    };
    format!("{engine}://{}", absolute.display())
}

/// Opens `path`, waiting for a lock a dying child may still hold.
pub fn open(path: &Path) -> Clusto {
    let opts = OpenOptions {
        lock_wait: Some(Duration::from_secs(20)),
        ..Default::default()
    };
    Clusto::open_with(dsn(path), &opts).unwrap()
}

/// The names of the live entities of `db`, by id.
pub fn entity_names(db: &Clusto) -> Vec<String> {
    db.read(|v| v.all_entities())
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect()
}

/// The number of the last transaction `step` committed (0 on an empty database).
pub fn tally(db: &Clusto) -> i64 {
    db.read(|v| {
        let Some(t) = v.find("tally")? else {
            return Ok(0);
        };
        Ok(v.attrs(t.id, &AttrFilter::key("count"))?[0]
            .value
            .as_int()
            .unwrap())
    })
    .unwrap()
}

/// Transaction `n`: creates `e<n>` with three attributes, renames `e<n-1>`, deletes the
/// entity that fell out of the last [`KEEP`], and sets `tally/count = n` — a mix of every
/// kind of write, so that a half-applied transaction shows in [`verify`].
pub fn step(db: &Clusto, n: i64) -> Result<()> {
    db.write(TxMeta::new("crash", format!("step {n}")), |tx| {
        let existing = tx.view().find("tally")?;
        let tally = match existing {
            Some(t) => t,
            None => tx.create_entity("tally", "counter", "entity")?,
        };
        let e = tx.create_entity(&format!("e{n}"), "server", "basicserver")?;
        for key in ["a", "b", "c"] {
            tx.add_attr(e.id, NewAttr::new(key, n))?;
        }
        tx.add_attr(tally.id, NewAttr::new("_seen", e.id).next_number())?;
        if n > 1 {
            tx.rename(&format!("e{}", n - 1), &format!("r{}", n - 1))?;
        }
        if n > KEEP {
            tx.delete_entity(&format!("r{}", n - KEEP))?;
        }
        tx.set_attr(tally.id, NewAttr::new("count", n))?;
        Ok(())
    })
}

/// Checks the database after a fault: `check()` clean, every acknowledged commit present,
/// each transaction whole. Returns the tally.
pub fn verify(db: &Clusto, acknowledged: i64) -> i64 {
    let report = db.check().unwrap();
    assert!(
        report.is_clean(),
        "check() after the fault: {:#?}",
        report.problems
    );
    let n = tally(db);
    assert!(
        n >= acknowledged,
        "commit {acknowledged} was acknowledged but the tally is {n}"
    );
    assert_eq!(
        db.latest_version().unwrap(),
        n as u64,
        "one version per transaction"
    );
    db.read(|v| {
        for j in 1..=n + 1 {
            let name = if j == n {
                format!("e{j}")
            } else {
                format!("r{j}")
            };
            let live = j <= n && j > n - KEEP;
            let found = v.find(&name)?;
            assert_eq!(found.is_some(), live, "{name} with tally {n}");
            if let Some(e) = found {
                let attrs = v.attrs(e.id, &AttrFilter::any())?;
                let values: Vec<_> = attrs.iter().map(|a| a.value.clone()).collect();
                assert_eq!(values, vec![Value::Int(j); 3], "attributes of {name}");
            }
        }
        let tally = v.entity("tally")?;
        let seen = v.references(tally.id, &AttrFilter::any().with_hidden())?;
        assert!(seen.is_empty());
        assert_eq!(
            v.attrs(tally.id, &AttrFilter::key("_seen"))?.len() as i64,
            KEEP.min(n)
        );
        Ok(())
    })
    .unwrap();
    n
}

/// The ignored test `helper` of this test binary, started as a child process with `env`.
pub fn helper(helper: &str, env: &[(&str, &Path)]) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        helper,
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Runs `cmd` (a [`helper`]) to its end and checks that it succeeded and printed
/// `outcome`; shows what it printed when not.
pub fn helper_says(cmd: &mut Command, outcome: &str) {
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let errors = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}{errors}");
    assert!(text.contains(outcome), "{text}");
}

/// Starts `cmd` with its stdout piped and stderr passed through.
pub fn spawn_piped(cmd: &mut Command) -> Child {
    cmd.stdout(Stdio::piped()).spawn().unwrap()
}

/// A helper's output line without the `test NAME ... ` that libtest may print in front
/// of the first line a test prints.
pub fn unprefixed(line: &str) -> &str {
    match line.strip_prefix("test ") {
        Some(rest) => rest.split_once(" ... ").map_or(line, |(_, said)| said),
        None => line,
    }
}

/// The number that `line` acknowledges, if it is `committed N`.
pub fn acknowledged(line: &str) -> Option<i64> {
    unprefixed(line)
        .strip_prefix("committed ")?
        .trim()
        .parse()
        .ok()
}

/// The value of a numeric environment variable, or `default`.
pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(default)
}
