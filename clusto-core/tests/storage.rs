//! Opening, sharing, locking and persistence of on-disk databases.

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use clusto_core::storage::{Backend, KvRead, LmdbBackend, MemoryBackend, SledBackend};
use clusto_core::{AttrFilter, Clusto, Durability, Error, NewAttr, OpenOptions, TxMeta};

const HOLDER_ENV: &str = "CLUSTO_TEST_HOLD_DB";

const HOLD_WRITE_ENV: &str = "CLUSTO_TEST_HOLD_WRITE";

/// Not a test: run by the tests below in a child process, it opens the database named
/// by the environment (and, with `CLUSTO_TEST_HOLD_WRITE`, opens a transaction that
/// creates `held`), says so, and holds it until stdin closes.
#[test]
#[ignore = "helper run in a child process"]
fn hold_database_helper() {
    let Ok(dsn) = std::env::var(HOLDER_ENV) else {
        return;
    };
    let db = Clusto::open(&dsn).unwrap();
    let _tx = std::env::var(HOLD_WRITE_ENV).is_ok().then(|| {
        let mut tx = db.begin(TxMeta::default()).unwrap();
        tx.create_entity("held", "t", "d").unwrap();
        tx
    });
    println!("holding");
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
}

/// A child process holding the database `dsn` (and its write lease with `write`).
fn holder(dsn: &str, write: bool) -> std::process::Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "hold_database_helper",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(HOLDER_ENV, dsn)
    .stdin(Stdio::piped())
    .stdout(Stdio::piped());
    if write {
        cmd.env(HOLD_WRITE_ENV, "1");
    }
    let mut child = cmd.spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("holding") {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "the helper did not open the database"
        );
    }
    // Its output stays open: a closed pipe made the helper's test harness report a
    // broken pipe when it printed its summary.
    child.stdout = Some(out.into_inner());
    child
}

/// The raw PostgreSQL store a DSN names, to damage it.
#[cfg(feature = "postgres")]
fn postgres_backend(dsn: &str) -> Box<dyn Backend> {
    Box::new(clusto_core::storage::PostgresBackend::open(dsn, &OpenOptions::default()).unwrap())
}

#[cfg(not(feature = "postgres"))]
fn postgres_backend(_: &str) -> Box<dyn Backend> {
    unreachable!("a postgresql run is built with the postgres feature")
}

fn no_wait() -> OpenOptions {
    OpenOptions {
        lock_wait: None,
        ..Default::default()
    }
}

/// LMDB: a second process reads and writes while another holds the database open;
/// while another holds the write lease, writes wait and then get `Locked`, reads go on;
/// a lease holder killed with SIGKILL frees the lease and leaves no trace.
#[test]
fn lmdb_processes_share_one_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let dsn = format!("lmdb://{}", path.display());
    Clusto::open(&dsn)
        .unwrap()
        .write(TxMeta::default(), |tx| tx.create_entity("first", "t", "d"))
        .unwrap();
    let mut open_child = holder(&dsn, false);
    let db = Clusto::open_with(&dsn, &no_wait()).expect("a second process opens it");
    db.write(TxMeta::default(), |tx| tx.create_entity("second", "t", "d"))
        .expect("and writes");
    drop(db); // the next open in this process gets its own options
    drop(open_child.stdin.take());
    open_child.wait().unwrap();

    let mut writer = holder(&dsn, true);
    let short = OpenOptions {
        lock_wait: Some(Duration::from_millis(200)),
        ..Default::default()
    };
    let waiting = Clusto::open_with(&dsn, &short).unwrap();
    let started = std::time::Instant::now();
    let err = waiting
        .write(TxMeta::default(), |tx| tx.create_entity("third", "t", "d"))
        .expect_err("the lease is held");
    assert!(matches!(&err, Error::Locked { .. }), "{err}");
    assert!(
        err.to_string().contains(&format!("(pid {})", writer.id())),
        "the error names the holder: {err}"
    );
    assert!(started.elapsed() >= Duration::from_millis(200), "it waited");
    assert!(
        waiting.read(|v| v.find("second")).unwrap().is_some(),
        "reads go on while another process writes"
    );
    writer.kill().unwrap(); // SIGKILL, with the lease held
    writer.wait().unwrap();
    let version = waiting
        .write(TxMeta::default(), |tx| tx.create_entity("third", "t", "d"))
        .expect("the killed writer's lease is free");
    assert!(
        waiting.read(|v| v.find("held")).unwrap().is_none(),
        "no trace"
    );
    assert_eq!(waiting.latest_version().unwrap(), 3);
    assert!(version.id.0 > 0);
    assert!(waiting.check().unwrap().is_clean());
}

fn wait_opts() -> OpenOptions {
    OpenOptions {
        lock_wait: Some(Duration::from_secs(10)),
        ..Default::default()
    }
}

/// sled admits one process: a second one gets `Locked`, naming the database.
#[test]
fn sled_is_locked_by_another_process() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let mut child = holder(&format!("sled://{}", path.display()), false);
    let err = Clusto::open_with(&path, &no_wait())
        .err()
        .expect("the database is held");
    assert!(matches!(&err, Error::Locked { .. }), "{err}");
    assert!(err.to_string().contains(path.to_str().unwrap()), "{err}");
    let short = OpenOptions {
        lock_wait: Some(Duration::from_millis(200)),
        ..Default::default()
    };
    assert!(matches!(
        Clusto::open_with(&path, &short),
        Err(Error::Locked { .. })
    ));
    drop(child.stdin.take());
    child.wait().unwrap();
    Clusto::open_with(&path, &wait_opts()).expect("opens once the other process is gone");
}

#[test]
fn data_survives_reopen_and_the_directory_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inventory");
    {
        let db = Clusto::open(&path).unwrap();
        let again = Clusto::open(&path).expect("a second open in one process shares the store");
        db.write(TxMeta::new("u", "d"), |tx| {
            let e = tx.create_entity("s1", "server", "basicserver")?;
            tx.add_attr(e.id, NewAttr::new("owner", "alice"))
        })
        .unwrap();
        assert!(again.read(|v| v.find("s1")).unwrap().is_some());
    }
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    let db = Clusto::open_with(&path, &wait_opts()).unwrap();
    let mut files = 0;
    for entry in std::fs::read_dir(&path).unwrap() {
        let meta = entry.unwrap().metadata().unwrap();
        let expected = if meta.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(meta.permissions().mode() & 0o777, expected, "{meta:?}");
        files += 1;
    }
    assert!(files >= 3, "sled's files and the commit mark");
    assert_eq!(db.latest_version().unwrap(), 1);
    assert_eq!(db.read(|v| v.entity("s1")).unwrap().name, "s1");
    assert!(db.check().unwrap().is_clean());
}

#[test]
fn periodic_durability_still_commits() {
    let dir = tempfile::tempdir().unwrap();
    let opts = OpenOptions {
        durability: Durability::Periodic { every_ms: 100 },
        ..Default::default()
    };
    let db = Clusto::open_with(dir.path().join("db"), &opts).unwrap();
    db.write(TxMeta::default(), |tx| tx.create_entity("x", "t", "d"))
        .unwrap();
    db.flush().unwrap();
    assert!(db.size_on_disk().unwrap() > 0);
}

#[test]
fn newer_format_is_refused() {
    let backend = MemoryBackend::new();
    // meta "format" = 99: envelope byte 1, then bincode's one-byte varint.
    let mut key = vec![b'M'];
    key.extend_from_slice(b"format\0\x01");
    backend.apply(vec![(key, Some(vec![1, 99]))]).unwrap();
    let err = Clusto::with_backend(Box::new(backend), Durability::Immediate, None)
        .err()
        .unwrap();
    assert!(
        matches!(
            err,
            Error::UnsupportedFormat {
                found: 99,
                supported: clusto_core::FORMAT_VERSION
            }
        ),
        "{err}"
    );
}

#[test]
fn data_without_a_format_is_corrupt() {
    let backend = MemoryBackend::new();
    backend
        .apply(vec![(b"Ejunk".to_vec(), Some(vec![0]))])
        .unwrap();
    let err = Clusto::with_backend(Box::new(backend), Durability::Immediate, None)
        .err()
        .unwrap();
    assert!(matches!(err, Error::Corrupt(_)), "{err}");
}

/// The store key of a live name (`L`, the name, its terminator), as clusto-core lays it
/// out.
fn live_name_key(name: &str) -> Vec<u8> {
    [b"L", name.as_bytes(), &[0, 1]].concat()
}

#[test]
fn check_reports_index_damage() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let dsn = common::dsn(&path);
    {
        let db = Clusto::open(&dsn).unwrap();
        db.write(TxMeta::default(), |tx| {
            let a = tx.create_entity("a", "t", "d")?;
            let b = tx.create_entity("b", "t", "d")?;
            tx.add_attr(a.id, NewAttr::new("peer", b.id))
        })
        .unwrap();
        assert!(db.check().unwrap().is_clean());
    }
    std::thread::sleep(Duration::from_millis(100));
    {
        let raw: Box<dyn Backend> = if dsn.starts_with("postgresql") {
            postgres_backend(&dsn)
        } else if dsn.starts_with("sled") {
            loop {
                match SledBackend::open(&path, None, 64) {
                    Err(Error::Locked { .. }) => std::thread::sleep(Duration::from_millis(50)),
                    other => break Box::new(other.unwrap()),
                }
            }
        } else {
            Box::new(LmdbBackend::open(&path, Durability::Immediate).unwrap())
        };
        let keys_under = |prefix: &[u8]| -> Vec<Vec<u8>> {
            raw.snapshot()
                .unwrap()
                .scan_prefix(prefix)
                .map(|e| e.unwrap().0)
                .collect()
        };
        let by_key = keys_under(b"K");
        assert_eq!(by_key.len(), 1);
        // The live name of `a` given `b`'s record.
        let name_of_b = raw
            .snapshot()
            .unwrap()
            .get(&live_name_key("b"))
            .unwrap()
            .unwrap();
        let reference = keys_under(b"R");
        assert_eq!(reference.len(), 1);
        raw.apply(vec![
            (by_key[0].clone(), None),
            (b"Rbogus-entry-0000000000000000".to_vec(), Some(vec![])),
            (live_name_key("a"), Some(name_of_b)),
            // The reference from `a` to `b` holding something else than its record.
            (reference[0].clone(), Some(vec![1, 2, 3])),
        ])
        .unwrap();
        raw.flush().unwrap();
    }
    let db = Clusto::open_with(&dsn, &wait_opts()).unwrap();
    let report = db.check().unwrap();
    assert_eq!(report.problems.len(), 5, "{:#?}", report.problems);
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("that are not its record"))
    );
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("missing index entry"))
    );
    assert_eq!(
        report
            .problems
            .iter()
            .filter(|p| p.contains("belongs to no"))
            .count(),
        2
    );
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("of entity 'a'") && p.contains("another record"))
    );
    // A read of `b`'s references says its index entry is damaged.
    let err = db
        .read(|v| v.referencers(v.entity("b")?.id, &AttrFilter::any()))
        .expect_err("the damage is reported");
    assert!(
        matches!(&err, Error::Corrupt(m) if m.contains("the record of index entry")),
        "{err}"
    );
    // A read by that name says so rather than answer with `b`.
    let err = db
        .read(|v| v.find("a"))
        .expect_err("the damage is reported");
    assert!(
        matches!(&err, Error::Corrupt(m) if m.contains("'a' holds the record of live 'b'")),
        "{err}"
    );
}

#[test]
fn a_directory_of_other_files_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let err = Clusto::open(dir.path()).err().expect("refused");
    assert!(
        matches!(&err, Error::InvalidValue(m) if m.contains("other files")),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "nothing was written"
    );
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    drop(Clusto::open(&empty).expect("an empty directory is fine"));
    drop(Clusto::open(&empty).expect("and so is a database"));
}

/// Every row of `db`, as a dump reads them.
fn rows(db: &Clusto) -> Vec<clusto_core::DumpRecord> {
    let mut rows = Vec::new();
    db.read(|v| {
        v.dump(|r| {
            rows.push(r);
            Ok(())
        })
    })
    .unwrap();
    rows
}

/// `clusto_core::copy` moves a sled database to LMDB with every row of its history, and
/// refuses a target that holds a database, leaving it as it was.
#[test]
fn copy_moves_a_sled_database_to_lmdb_with_its_history() {
    let dir = tempfile::tempdir().unwrap();
    let old = format!("sled://{}", dir.path().join("old").display());
    let new = format!("lmdb://{}", dir.path().join("new").display());
    {
        let db = Clusto::open(&old).unwrap();
        for n in 1..=12 {
            common::step(&db, n).unwrap();
        }
    }
    clusto_core::copy(&old, &new).unwrap();
    let (source, copy) = (Clusto::open(&old).unwrap(), Clusto::open(&new).unwrap());
    assert_eq!((source.engine(), copy.engine()), ("sled", "lmdb"));
    assert_eq!(rows(&copy), rows(&source));
    assert!(copy.check().unwrap().is_clean());
    assert_eq!(common::verify(&copy, 12), 12);
    let past = |db: &Clusto| {
        db.read_at(4, |v| Ok(v.find("e4")?.map(|e| e.name)))
            .unwrap()
    };
    assert_eq!(past(&copy), Some("e4".to_string()));
    assert_eq!(past(&copy), past(&source));
    let before = rows(&copy);
    drop(copy);
    let err = clusto_core::copy(&old, &new).unwrap_err();
    assert!(err.to_string().contains("not empty"), "{err}");
    assert_eq!(rows(&Clusto::open(&new).unwrap()), before);
}

/// A DSN with an unknown scheme, a directory of other files and a database of a newer
/// format each get one clear error, and nothing on disk changes.
#[test]
fn bad_dsns_are_refused_by_name() {
    let err = Clusto::open("ftp:///srv/db").err().unwrap();
    assert!(err.to_string().contains("unknown scheme 'ftp'"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let sled = dir.path().join("s");
    drop(Clusto::open(format!("sled://{}", sled.display())).unwrap());
    let err = Clusto::open(format!("lmdb://{}", sled.display()))
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("holds a sled database, not lmdb"),
        "{err}"
    );
    assert!(!sled.join(clusto_core::storage::LMDB_DATA_FILE).exists());
}

/// The settings of clusto.conf, read once in the core for every consumer.
#[test]
fn open_settings_read_and_refuse_by_name() {
    let mut options = OpenOptions::default();
    assert!(options.set("durability", "grouped:20").unwrap());
    assert_eq!(options.durability, Durability::Grouped { every_ms: 20 });
    options.set("durability", "grouped").unwrap();
    assert_eq!(
        options.durability,
        Durability::Grouped {
            every_ms: clusto_core::DEFAULT_GROUP_MS
        }
    );
    options.set("durability", " immediate ").unwrap();
    assert_eq!(options.durability, Durability::Immediate);
    assert!(options.set("wait", "2.5").unwrap());
    assert_eq!(options.lock_wait, Some(Duration::from_millis(2500)));
    options.set("wait", "0").unwrap();
    assert_eq!(options.lock_wait, None);
    assert!(!options.set("dsn", "/x").unwrap(), "not an open option");
    for (key, bad) in [
        ("durability", "sometimes"),
        ("durability", "grouped:0"),
        ("durability", "periodic"),
        ("wait", "-1"),
        ("wait", "soon"),
    ] {
        let err = options.set(key, bad).unwrap_err().to_string();
        assert!(err.contains(bad), "{err}");
    }
    assert_eq!(options.lock_wait, None, "a refused setting changes nothing");
}

/// A reader that holds a snapshot (`CLUSTO_SNAPSHOT_SECS`, default 2; a minute in
/// `make test-slow`) neither blocks writers nor sees them: it reads the state it began
/// with from start to end, and the writers' commits land meanwhile.
#[test]
fn a_long_reader_does_not_block_writers() {
    let hold = Duration::from_secs(common::env_number("CLUSTO_SNAPSHOT_SECS", 2));
    let db = common::temporary().unwrap();
    if db.engine() == "sled" {
        return; // sled's snapshots hold commits back; one process only anyway
    }
    db.write(TxMeta::default(), |tx| tx.create_entity("before", "t", "d"))
        .unwrap();
    let (started, holding) = std::sync::mpsc::channel();
    let released = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (db, released) = (db.clone(), released.clone());
        std::thread::spawn(move || {
            let reads = db
                .read(|v| {
                    started.send(()).unwrap();
                    let deadline = std::time::Instant::now() + hold;
                    let mut reads = 0;
                    while std::time::Instant::now() < deadline {
                        assert_eq!(v.latest_version()?, 1, "the snapshot does not move");
                        assert_eq!(v.all_entities()?.len(), 1);
                        reads += 1;
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    Ok(reads)
                })
                .unwrap();
            released.store(true, std::sync::atomic::Ordering::SeqCst);
            reads
        })
    };
    holding.recv().unwrap();
    let writing = std::time::Instant::now();
    let (mut commits, mut while_held) = (0, 0);
    while writing.elapsed() < hold / 2 {
        commits += 1;
        db.write(TxMeta::default(), |tx| {
            tx.create_entity(&format!("w{commits}"), "t", "d")
        })
        .unwrap();
        if !released.load(std::sync::atomic::Ordering::SeqCst) {
            while_held += 1;
        }
    }
    assert!(
        while_held > 10,
        "writers went on while the reader held its snapshot: {while_held} of {commits}"
    );
    assert!(reader.join().unwrap() > 0);
    assert_eq!(db.latest_version().unwrap(), 1 + commits);
}

const FORK_ENV: &str = "CLUSTO_TEST_FORK_DB";

/// Not a test: `a_forked_child_gets_a_clear_error` runs it alone in a child process, so
/// that no other test thread holds a lock when it forks (a forked child keeps only the
/// forking thread). Opens the database, forks, and in the child tries the parent's
/// handle and a reopen; prints what the child got.
#[test]
#[ignore = "helper run in a child process"]
fn fork_helper() {
    let Ok(dsn) = std::env::var(FORK_ENV) else {
        return;
    };
    let db = Clusto::open(&dsn).unwrap();
    db.write(TxMeta::default(), |tx| tx.create_entity("a", "t", "d"))
        .unwrap();
    // SAFETY: the child only calls clusto and exits with _exit.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let read = db.read(|v| v.find("a"));
        let write = db.write(TxMeta::default(), |tx| tx.create_entity("b", "t", "d"));
        let reopened = Clusto::open(&dsn);
        let refused = |e: &Error| matches!(e, Error::Conflict(m) if m.contains("before fork()"));
        // A server database gives the child its own connection; an embedded one is the
        // parent's store.
        let reopen_ok = match dsn.starts_with("postgresql") {
            true => reopened.is_ok(),
            false => reopened.as_ref().err().is_some_and(refused),
        };
        let ok = read.as_ref().err().is_some_and(refused)
            && write.as_ref().err().is_some_and(refused)
            && reopen_ok;
        // SAFETY: ends the child at once, without running the parent's destructors.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    let mut status = 0;
    // SAFETY: waits for the child forked above.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    let child_ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    let parent_ok = db.read(|v| v.find("b")).unwrap().is_none()
        && db
            .write(TxMeta::default(), |tx| tx.create_entity("c", "t", "d"))
            .is_ok();
    println!("fork outcome child={child_ok} parent={parent_ok}");
}

/// A child made by fork() without exec cannot use its parent's handle, nor reopen the
/// same database through it: each call says why, instead of hanging on the parent's
/// locks; the parent goes on.
#[test]
fn a_forked_child_gets_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let dsn = common::dsn(&dir.path().join("db"));
    common::helper_says(
        common::helper("fork_helper", &[]).env(FORK_ENV, &dsn),
        "fork outcome child=true parent=true",
    );
}
