//! PostgreSQL only, against a real server (`CLUSTO_TEST_POSTGRES_DSN`; `make test` starts
//! one): many client processes at once, connections cut under a client, and the errors
//! of a wrong password, a missing database, a server that is down and a foreign schema;
//! TLS as `sslmode` asks (the test CA is CLUSTO_TEST_POSTGRES_CA) and the password file.
//! (The conformance suite runs on PostgreSQL too, with `CLUSTO_TEST_ENGINE=postgresql`.)

#![cfg(feature = "postgres")]

mod common;

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::process::Stdio;

use clusto_core::{Clusto, Error, OpenOptions, TxMeta, Value};
use common::{helper, helper_says};

/// One test at a time: one of them restarts the server under the others.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn server() -> String {
    std::env::var("CLUSTO_TEST_POSTGRES_DSN").expect(
        "CLUSTO_TEST_POSTGRES_DSN names the test server's database: run through `make \
         test`, or start one with clusto-migrate/tests/start-sql-servers.sh start postgres",
    )
}

/// A fresh schema of its own for one test.
fn fresh(name: &str) -> String {
    let dsn = format!("{}?schema={name}_{}", server(), std::process::id());
    clusto_core::storage::drop_postgres_schema(&dsn).unwrap();
    let create = OpenOptions {
        create: true,
        ..Default::default()
    };
    drop(Clusto::open_with(&dsn, &create).unwrap());
    dsn
}

const CLIENT_ENV: &str = "CLUSTO_PG_CLIENT_DSN";
const ROUNDS: usize = 20;

/// Not a test: one of the clients of `many_clients_share_one_database`. Each round, in
/// one transaction: a server, an IP from `net`, a name from `names`; prints
/// `did VERSION IP NAME`. Between rounds it reads and checks a whole commit.
#[test]
#[ignore = "helper run in a child process"]
fn client_helper() {
    let Ok(dsn) = std::env::var(CLIENT_ENV) else {
        return;
    };
    let db = Clusto::open(&dsn).unwrap();
    let pid = std::process::id();
    for n in 0..ROUNDS {
        let (version, ip, name) = db
            .write(TxMeta::new("client", "round"), |tx| {
                let view = tx.view();
                let (net, names) = (view.entity("net")?.id, view.entity("names")?.id);
                let s = tx.create("basicserver", &format!("c{pid}-{n}"), &[])?;
                let ip = tx.add_ip(s.id, None, Some(net))?;
                let name = tx.allocate(names, s.id, None, clusto_core::NumberSpec::Next, false)?;
                Ok((
                    tx.version()?,
                    clusto_core::ip_address(&ip.value)?.to_string(),
                    name.value.to_string(),
                ))
            })
            .unwrap();
        println!("did {version} {ip} {name}");
        db.read(|v| {
            // Each commit adds a server and its IP together: never one without the other.
            let net = v.entity("net")?.id;
            let servers = v
                .all_entities()?
                .iter()
                .filter(|e| e.type_name == "server")
                .count();
            assert_eq!(servers, v.allocation_count(net)?);
            Ok(())
        })
        .unwrap();
    }
}

/// Eight clients on their own connections: no IP or name given twice, versions
/// consecutive with none missing, every acknowledged commit in the history, `check()`
/// clean.
#[test]
fn many_clients_share_one_database() {
    let _one_at_a_time = serial();
    let dsn = fresh("many");
    let db = Clusto::open(&dsn).unwrap();
    let start = db
        .write(TxMeta::new("setup", "site"), |tx| {
            tx.init_clusto()?;
            tx.create(
                "ipmanager",
                "net",
                &[
                    ("baseip", Value::from("10.3.0.0")),
                    ("netmask", Value::from("255.255.0.0")),
                ],
            )?;
            tx.create(
                "simplenamemanager",
                "names",
                &[("basename", Value::from("srv")), ("digits", Value::Int(5))],
            )?;
            tx.version()
        })
        .unwrap();
    let children: Vec<_> = (0..8)
        .map(|_| {
            helper("client_helper", &[])
                .env(CLIENT_ENV, &dsn)
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let (mut ips, mut names, mut versions) = (HashMap::new(), HashSet::new(), HashSet::new());
    for mut child in children {
        let mut out = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert!(child.wait().unwrap().success(), "{out}");
        for line in out.lines().filter_map(|l| l.split("did ").nth(1)) {
            let parts: Vec<&str> = line.split(' ').collect();
            let version: u64 = parts[0].parse().unwrap();
            assert!(versions.insert(version), "version {version} twice");
            if let Some(other) = ips.insert(parts[1].to_string(), version) {
                panic!("{} given by versions {other} and {version}", parts[1]);
            }
            assert!(
                names.insert(parts[2].to_string()),
                "name {} twice",
                parts[2]
            );
        }
    }
    let total = (8 * ROUNDS) as u64;
    assert_eq!(
        versions,
        (start + 1..=start + total).collect::<HashSet<_>>()
    );
    assert_eq!(db.latest_version().unwrap(), start + total);
    assert!(db.check().unwrap().is_clean());
    assert!(
        db.size_on_disk().unwrap() > 0,
        "the table's size, from the server"
    );
    db.read(|v| {
        for version in start + 1..=start + total {
            assert_eq!(v.version_info(version)?.user.as_deref(), Some("client"));
        }
        Ok(())
    })
    .unwrap();
}

/// An admin connection to the test server.
fn admin() -> postgres::Client {
    server()
        .parse::<postgres::Config>()
        .unwrap()
        .connect(postgres::NoTls)
        .unwrap()
}

const CUT_ENV: &str = "CLUSTO_PG_CUT_DSN";

/// Connections cut under a client (`pg_terminate_backend`): the call that meets the cut
/// gets a clear I/O error or succeeds on a new connection, nothing partial is left,
/// and the next calls work. The client is a process of its own, so that only its
/// connections are cut (the server knows a client's connections by its pid).
#[test]
fn a_cut_connection_costs_one_call() {
    let _one_at_a_time = serial();
    let dsn = fresh("cut");
    helper_says(
        helper("cut_helper", &[]).env(CUT_ENV, &dsn),
        "cut outcome ok",
    );
}

/// Not a test: the client of `a_cut_connection_costs_one_call`.
#[test]
#[ignore = "helper run in a child process"]
fn cut_helper() {
    let Ok(dsn) = std::env::var(CUT_ENV) else {
        return;
    };
    let db = Clusto::open(&dsn).unwrap();
    db.write(TxMeta::default(), |tx| tx.create_entity("a", "t", "d"))
        .unwrap();
    let holding = db.begin(TxMeta::default()).unwrap();
    // A transaction begins on the server with its first statement (a cut before that
    // costs nothing: it opens on a new connection); this one is under way.
    assert!(holding.view().find("a").unwrap().is_some());
    let cut = admin()
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = $1",
            &[&format!("clusto (pid {})", std::process::id())],
        )
        .unwrap();
    assert!(!cut.is_empty(), "the test's own connections were found");
    // pg_terminate_backend only signals: wait until the sessions are gone.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while admin()
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
            &[&format!("clusto (pid {})", std::process::id())],
        )
        .unwrap()
        .get::<_, i64>(0)
        > 0
    {
        assert!(std::time::Instant::now() < deadline, "the sessions ended");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut tx = holding;
    let failed = tx
        .create_entity("b", "t", "d")
        .map(drop)
        .and_then(|()| tx.commit().map(drop))
        .expect_err("the write's connection was cut");
    assert!(
        matches!(&failed, Error::Io { message: m, .. } if m.contains("connection") && !m.contains(":secret")),
        "{failed}"
    );
    // The pool's idle connections were cut too: the failed call dropped them, so the
    // next one connects anew.
    assert!(db.read(|v| v.find("a")).unwrap().is_some());
    db.write(TxMeta::default(), |tx| tx.create_entity("c", "t", "d"))
        .expect("works after the cut");
    db.read(|v| {
        assert!(v.find("b")?.is_none(), "nothing of the cut transaction");
        assert!(v.find("c")?.is_some());
        Ok(())
    })
    .unwrap();
    assert!(db.check().unwrap().is_clean());
    println!("cut outcome ok");
}

/// One clear error each, never the password, nothing created.
#[test]
fn bad_servers_and_schemas_are_refused_clearly() {
    let _one_at_a_time = serial();
    let server = server();
    let config: postgres::Config = server.parse().unwrap();
    let password = String::from_utf8(config.get_password().unwrap().to_vec()).unwrap();
    let host = format!(
        "{}:{}",
        match &config.get_hosts()[0] {
            postgres::config::Host::Tcp(h) => h.clone(),
            other => panic!("{other:?}"),
        },
        config.get_ports()[0]
    );
    let wrong_password = format!("postgresql://clusto:not-{password}@{host}/clusto");
    let missing_db = format!("postgresql://clusto:{password}@{host}/nosuchdb");
    let down = format!("postgresql://clusto:{password}@127.0.0.1:1/clusto");
    for (dsn, says) in [
        (&wrong_password, "password"),
        (&missing_db, "nosuchdb"),
        (&down, "cannot connect"),
    ] {
        let err = Clusto::open(dsn).err().expect("refused").to_string();
        assert!(err.contains(says), "{err}");
        assert!(!err.contains(&password), "the password is shown: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    // What the operating system said travels with the error, for callers that retry.
    match Clusto::open(&down).err().expect("refused") {
        Error::Io { kind, .. } => assert_eq!(kind, std::io::ErrorKind::ConnectionRefused),
        other => panic!("{other:?}"),
    }
    let missing = format!("{server}?schema=never_made_{}", std::process::id());
    let err = Clusto::open(&missing).err().unwrap().to_string();
    assert!(err.contains("initdb") && !err.contains(&password), "{err}");
    let count = |schema: &str| -> i64 {
        admin()
            .query_one(
                "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1",
                &[&schema],
            )
            .unwrap()
            .get(0)
    };
    assert_eq!(
        count(&format!("never_made_{}", std::process::id())),
        0,
        "nothing made"
    );
    let foreign = format!("foreign_{}", std::process::id());
    admin()
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {foreign} CASCADE; CREATE SCHEMA {foreign}; \
             CREATE TABLE {foreign}.orders (id int)"
        ))
        .unwrap();
    let err = Clusto::open(format!("{server}?schema={foreign}"))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("not a clusto database"), "{err}");
    let newer = fresh("newer");
    let schema = newer.rsplit_once("schema=").unwrap().1.to_string();
    admin()
        .batch_execute(&format!("UPDATE {schema}.clusto_layout SET version = 99"))
        .unwrap();
    let err = Clusto::open(&newer).err().unwrap();
    assert!(
        matches!(err, Error::UnsupportedFormat { found: 99, .. }),
        "{err}"
    );
}

/// A server restarted under a client (`pg_ctl restart -m fast`) costs the call in flight
/// only: it fails with a clear error, nothing of it is left, and the next calls work.
#[test]
fn a_server_restart_costs_the_in_flight_call_only() {
    let _one_at_a_time = serial();
    let restart = std::env::var("CLUSTO_TEST_POSTGRES_RESTART")
        .expect("CLUSTO_TEST_POSTGRES_RESTART restarts the test server (make test sets it)");
    let dsn = fresh("restart");
    let db = Clusto::open(&dsn).unwrap();
    db.write(TxMeta::default(), |tx| tx.create_entity("a", "t", "d"))
        .unwrap();
    // Connections in the pool, and one in a transaction when the server goes.
    db.read(|v| v.find("a")).unwrap();
    let mut tx = db.begin(TxMeta::default()).unwrap();
    tx.create_entity("b", "t", "d").unwrap();
    let status = std::process::Command::new("sh")
        .args(["-c", &restart])
        .status()
        .unwrap();
    assert!(status.success(), "the server restarted");
    let failed = tx
        .commit()
        .expect_err("the server went away mid-transaction");
    assert!(
        matches!(&failed, Error::Io { message: m, .. } if m.contains("connection") || m.contains("terminat")),
        "{failed}"
    );
    // A lost connection, whether the socket closed or the server said it was shutting
    // down: the same kind either way.
    assert!(
        matches!(
            &failed,
            Error::Io {
                kind: std::io::ErrorKind::ConnectionAborted,
                ..
            }
        ),
        "{failed:?}"
    );
    assert!(
        db.read(|v| v.find("a")).unwrap().is_some(),
        "the next call works"
    );
    assert!(
        db.read(|v| v.find("b")).unwrap().is_none(),
        "nothing of the lost one"
    );
    db.write(TxMeta::default(), |tx| tx.create_entity("c", "t", "d"))
        .unwrap();
    assert!(db.check().unwrap().is_clean());
}

/// The test server's CA (`start-sql-servers.sh` makes it and exports its path).
fn ca() -> String {
    std::env::var("CLUSTO_TEST_POSTGRES_CA").expect(
        "CLUSTO_TEST_POSTGRES_CA names the test server's CA (start-sql-servers.sh exports it \
         beside CLUSTO_TEST_POSTGRES_DSN)",
    )
}

/// The test server's password, host and port.
fn parts() -> (String, String, u16) {
    let config: postgres::Config = server().parse().unwrap();
    let password = String::from_utf8(config.get_password().unwrap().to_vec()).unwrap();
    let host = match &config.get_hosts()[0] {
        postgres::config::Host::Tcp(h) => h.clone(),
        other => panic!("{other:?}"),
    };
    (password, host, config.get_ports()[0])
}

/// Whether the server sees this process's open sessions as TLS ones (at least one, all
/// of them encrypted).
fn sessions_use_tls() -> bool {
    let row = admin()
        .query_one(
            "SELECT count(*), count(*) FILTER (WHERE s.ssl) FROM pg_stat_activity a \
             JOIN pg_stat_ssl s ON s.pid = a.pid WHERE a.application_name = $1",
            &[&format!("clusto (pid {})", std::process::id())],
        )
        .unwrap();
    let (all, tls): (i64, i64) = (row.get(0), row.get(1));
    all > 0 && all == tls
}

/// `sslmode=verify-full` with the server's CA: opens, writes and reads over TLS, by IP
/// address and by host name; `require` encrypts without a CA; `verify-ca` checks the
/// chain only, so a host name the certificate does not name is fine there.
#[test]
fn tls_as_sslmode_asks() {
    let _one_at_a_time = serial();
    let (ca, (_, _, port)) = (ca(), parts());
    let schema = format!("tls_{}", std::process::id());
    let verify_full = format!(
        "{}?sslmode=verify-full&sslrootcert={ca}&schema={schema}",
        server()
    );
    clusto_core::storage::drop_postgres_schema(&verify_full).unwrap();
    let create = OpenOptions {
        create: true,
        ..Default::default()
    };
    let db = Clusto::open_with(&verify_full, &create).unwrap();
    db.write(TxMeta::default(), |tx| {
        tx.create_entity("over-tls", "t", "d")
    })
    .unwrap();
    assert!(db.read(|v| v.find("over-tls")).unwrap().is_some());
    assert!(sessions_use_tls(), "the pooled sessions are encrypted");
    drop(db);
    let by_name = verify_full.replace("@127.0.0.1:", "@localhost:");
    let db = Clusto::open(&by_name).unwrap();
    assert!(db.read(|v| v.find("over-tls")).unwrap().is_some());
    drop(db);
    // `require` without sslrootcert (and no ~/.postgresql/root.crt): encrypted, unchecked.
    let require = format!("{}?sslmode=require&schema={schema}", server());
    let db = Clusto::open(&require).unwrap();
    assert!(db.read(|v| v.find("over-tls")).unwrap().is_some());
    assert!(sessions_use_tls(), "require encrypts");
    drop(db);
    // verify-ca: the chain is the server's, the name is not.
    let (password, _, _) = parts();
    let other_name = format!(
        "postgresql://clusto:{password}@wrong.invalid:{port}/clusto?hostaddr=127.0.0.1&\
         sslmode=verify-ca&sslrootcert={ca}&schema={schema}"
    );
    let db = Clusto::open(&other_name).unwrap();
    assert!(db.read(|v| v.find("over-tls")).unwrap().is_some());
    drop(db);
    // prefer (libpq's default) does not try TLS.
    let db = Clusto::open(format!("{}?sslmode=prefer&schema={schema}", server())).unwrap();
    assert!(db.read(|v| v.find("over-tls")).unwrap().is_some());
    assert!(!sessions_use_tls(), "prefer stays plain");
    drop(db);
    clusto_core::storage::drop_postgres_schema(&verify_full).unwrap();
}

/// A wrong CA, a wrong host name, a bad sslmode: one clear line each, never the password.
#[test]
fn tls_failures_are_refused_clearly() {
    let _one_at_a_time = serial();
    let (ca, (password, _, port)) = (ca(), parts());
    let other_ca = std::path::Path::new(&ca).with_file_name("other-ca.crt");
    let wrong_ca = format!(
        "{}?sslmode=verify-full&sslrootcert={}",
        server(),
        other_ca.display()
    );
    let wrong_name = format!(
        "postgresql://clusto:{password}@wrong.invalid:{port}/clusto?hostaddr=127.0.0.1&\
         sslmode=verify-full&sslrootcert={ca}"
    );
    for (dsn, says) in [
        (&wrong_ca, "UnknownIssuer"),
        (&wrong_name, "not valid for name \"wrong.invalid\""),
    ] {
        let err = Clusto::open(dsn).err().expect("refused");
        let Error::Io { message, .. } = &err else {
            panic!("not an I/O error: {err:?}");
        };
        assert!(
            message.contains("TLS") && message.contains(says),
            "{message}"
        );
        assert!(message.contains("verify-full"), "{message}");
        assert!(
            !message.contains(&password),
            "the password is shown: {message}"
        );
        assert_eq!(message.lines().count(), 1, "{message}");
    }
    let bogus = Clusto::open(format!("{}?sslmode=bogus", server()))
        .err()
        .unwrap();
    assert!(
        matches!(&bogus, Error::InvalidValue(m) if m.contains("sslmode 'bogus'")
            && !m.contains(&password)),
        "{bogus}"
    );
    let no_file = Clusto::open(format!(
        "{}?sslmode=verify-ca&sslrootcert=/nonexistent/ca.crt",
        server()
    ))
    .err()
    .unwrap();
    assert!(
        matches!(&no_file, Error::InvalidValue(m) if m.contains("/nonexistent/ca.crt")
            && !m.contains(&password)),
        "{no_file}"
    );
}

const PASSFILE_DSN_ENV: &str = "CLUSTO_PG_PASSFILE_DSN";

/// A DSN without a password, and a password file that gives it (PGPASSFILE, in a
/// child process of its own so that no other test sees the variable; and `passfile=`
/// in the DSN). A file others may read is ignored, and the refusal says so.
#[test]
fn the_password_file_gives_the_password() {
    let _one_at_a_time = serial();
    use std::os::unix::fs::PermissionsExt;
    let (password, host, port) = parts();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pgpass");
    std::fs::write(
        &file,
        format!(
            "# the test server\nother.invalid:{port}:clusto:clusto:wrong\n\
             {host}:{port}:clusto:clusto:{}\n",
            password.replace('\\', "\\\\").replace(':', "\\:")
        ),
    )
    .unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let with_password = fresh("passfile");
    let schema = with_password.rsplit_once("schema=").unwrap().1;
    let no_password = format!("postgresql://clusto@{host}:{port}/clusto?schema={schema}");
    helper_says(
        helper("passfile_helper", &[("PGPASSFILE", &file)])
            .env(PASSFILE_DSN_ENV, &no_password)
            .env_remove("PGPASSWORD"),
        "passfile outcome ok",
    );
    let in_dsn = format!("{no_password}&passfile={}", file.display());
    assert!(Clusto::open(&in_dsn).is_ok(), "passfile= in the DSN");
    // Readable by others: ignored as libpq ignores it, and the refusal says why.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = Clusto::open(&in_dsn)
        .err()
        .expect("no password")
        .to_string();
    assert!(err.contains("0600") && err.contains("pgpass"), "{err}");
    assert!(!err.contains(&password), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    clusto_core::storage::drop_postgres_schema(&with_password).unwrap();
}

/// Not a test: the client of `the_password_file_gives_the_password`.
#[test]
#[ignore = "helper run in a child process"]
fn passfile_helper() {
    let Ok(dsn) = std::env::var(PASSFILE_DSN_ENV) else {
        return;
    };
    let db = Clusto::open(&dsn).unwrap();
    db.write(TxMeta::default(), |tx| {
        tx.create_entity("by-passfile", "t", "d")
    })
    .unwrap();
    assert!(db.read(|v| v.find("by-passfile")).unwrap().is_some());
    println!("passfile outcome ok");
}

/// A TCP relay in front of the test server that counts round trips: each time the
/// client speaks after the server did (or first).
struct Relay {
    port: u16,
    trips: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// Bytes the clients sent.
    sent: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Relay {
    fn start(host: &str, port: u16) -> Relay {
        use std::net::{TcpListener, TcpStream};
        use std::sync::Arc;
        use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let local = listener.local_addr().unwrap().port();
        let trips = Arc::new(AtomicUsize::new(0));
        let counted = trips.clone();
        let sent = Arc::new(AtomicUsize::new(0));
        let sent_counted = sent.clone();
        let upstream = format!("{host}:{port}");
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { break };
                let Ok(server) = TcpStream::connect(&upstream) else {
                    break;
                };
                // 0: nobody spoke yet, 1: the client spoke last, 2: the server did.
                let last = Arc::new(AtomicU8::new(0));
                for (mut from, mut to, side) in [
                    (
                        client.try_clone().unwrap(),
                        server.try_clone().unwrap(),
                        1u8,
                    ),
                    (server, client, 2u8),
                ] {
                    let (last, trips, sent) = (last.clone(), counted.clone(), sent_counted.clone());
                    std::thread::spawn(move || {
                        use std::io::Write;
                        let mut buffer = [0u8; 65536];
                        loop {
                            let n = match from.read(&mut buffer) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => n,
                            };
                            if last.swap(side, Ordering::SeqCst) != side && side == 1 {
                                trips.fetch_add(1, Ordering::SeqCst);
                            }
                            if side == 1 {
                                sent.fetch_add(n, Ordering::SeqCst);
                            }
                            if to.write_all(&buffer[..n]).is_err() {
                                break;
                            }
                        }
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Relay {
            port: local,
            trips,
            sent,
        }
    }

    fn take(&self) -> usize {
        self.trips.swap(0, std::sync::atomic::Ordering::SeqCst)
    }

    /// The bytes the clients sent since the last call.
    fn take_sent(&self) -> usize {
        self.sent.swap(0, std::sync::atomic::Ordering::SeqCst)
    }

    /// A relay in front of the test server, and `dsn` pointed at it.
    fn in_front_of(dsn: &str) -> (Relay, String) {
        let (_, host, port) = parts();
        let relay = Relay::start(&host, port);
        let via_relay = dsn.replacen(
            &format!("@{host}:{port}/"),
            &format!("@127.0.0.1:{}/", relay.port),
            1,
        );
        assert_ne!(via_relay, dsn);
        (relay, via_relay)
    }
}

/// Issue #15's target: a point read such as `get_by_name` costs at most two round trips.
/// It costs one: its BEGIN travels with the name, which the server follows to the
/// entity's record in the same statement, and the snapshot's end goes with the next
/// BEGIN. An index lookup is one, with the records it names two, and with their
/// entities three.
#[test]
fn a_point_read_is_one_round_trip() {
    let _one = serial();
    let dsn = fresh("trips");
    Clusto::open(&dsn)
        .unwrap()
        .write(TxMeta::new("t", "fill"), |tx| {
            for i in 0..50 {
                let s = tx.create("basicserver", &format!("s{i}"), &[])?;
                tx.add_attr(
                    s.id,
                    clusto_core::NewAttr::new("owner", format!("team{}", i % 5)),
                )?;
            }
            Ok(())
        })
        .unwrap();
    let (relay, via_relay) = Relay::in_front_of(&dsn);
    let db = Clusto::open(&via_relay).unwrap();
    // Connecting and preparing statements is paid once per pooled connection.
    db.read(|v| v.find("s1")).unwrap();
    relay.take();
    for _ in 0..3 {
        let found = db.read(|v| v.find("s7")).unwrap();
        assert_eq!(found.unwrap().name, "s7");
        let trips = relay.take();
        assert!(trips <= 1, "get_by_name took {trips} round trips");
        assert!(db.read(|v| v.find("nobody")).unwrap().is_none());
        let trips = relay.take();
        assert!(trips <= 1, "a missing name took {trips} round trips");
    }
    let filter = clusto_core::AttrFilter::key("owner").value("team3");
    let attrs = db.read(|v| v.attr_query(&filter)).unwrap();
    assert_eq!(attrs.len(), 10);
    let trips = relay.take();
    assert!(
        trips <= 2,
        "the index lookup and its 10 attributes took {trips} round trips"
    );
    let owners = db.read(|v| v.owners(&filter)).unwrap();
    assert_eq!(owners.len(), 10);
    let trips = relay.take();
    assert!(
        trips <= 3,
        "an attribute query with its 10 entities took {trips} round trips"
    );
    // A snapshot left open for the next read is ended by the pool soon after.
    std::thread::sleep(std::time::Duration::from_millis(600));
    let lingering: i64 = admin()
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 \
             AND state LIKE 'idle in transaction%'",
            &[&format!("clusto (pid {})", std::process::id())],
        )
        .unwrap()
        .get(0);
    assert_eq!(lingering, 0, "an idle connection still holds a snapshot");
    drop(db);
    clusto_core::storage::drop_postgres_schema(&dsn).unwrap();
}

/// A commit writes what it was given, small (as text with its `COMMIT`), large (one
/// upsert) or of many rows (the keys removed, the rows copied in): a key written twice
/// keeps its last value, a key overwritten or removed is, the rest stays as it was.
#[test]
fn commits_small_and_large_apply_their_writes_in_order() {
    use clusto_core::storage::{Backend, KvRead, PostgresBackend};
    let _one = serial();
    let dsn = fresh("commits");
    let backend = PostgresBackend::open(&dsn, &OpenOptions::default()).unwrap();
    let key = |i: usize| format!("~test{i:06}").into_bytes();
    let value = |i: usize, tag: u8, width: usize| vec![tag; width + i % 7];
    let lease = backend.begin_write(None).unwrap();
    let first: Vec<_> = (0..3000).map(|i| (key(i), Some(value(i, 1, 40)))).collect();
    lease.commit(first, 0).unwrap();
    // 10 small rows; 100 rows of 1 KB (over 64 KiB); 3000 rows.
    for (rows, tag, width) in [(10, 2u8, 40), (100, 4u8, 1000), (3000, 3u8, 40)] {
        let lease = backend.begin_write(None).unwrap();
        let mut writes: Vec<_> = (0..rows)
            .map(|i| (key(i * 2), Some(value(i, tag, width))))
            .collect();
        writes.push((key(1), None));
        writes.push((key(5000 + rows), Some(vec![tag])));
        // Written twice: the second write counts.
        writes.push((key(0), Some(vec![tag, tag])));
        lease.commit(writes, 0).unwrap();
        let snapshot = backend.snapshot().unwrap();
        assert_eq!(snapshot.get(&key(0)).unwrap(), Some(vec![tag, tag]));
        assert_eq!(snapshot.get(&key(1)).unwrap(), None);
        assert_eq!(snapshot.get(&key(2)).unwrap(), Some(value(1, tag, width)));
        assert_eq!(snapshot.get(&key(3)).unwrap(), Some(value(3, 1, 40)));
        assert_eq!(snapshot.get(&key(5000 + rows)).unwrap(), Some(vec![tag]));
    }
    let snapshot = backend.snapshot().unwrap();
    let stored = snapshot.scan_prefix(b"~test").count();
    // 3000 first; key 1 gone; the 1500 even keys from 3000 to 5998 (5010 and 5100 among
    // them, added before); 8000.
    assert_eq!(stored, 3000 - 1 + 1500 + 1);
    drop(snapshot);
    drop(backend);
    clusto_core::storage::drop_postgres_schema(&dsn).unwrap();
}

/// A large commit copies in the keys its lease was told are new without deleting them
/// first (it sends no list of them to delete); if one was on the server after all, the
/// commit deletes every key it writes and copies again, instead of failing.
#[test]
fn a_commit_copies_new_keys_without_deleting_them() {
    use clusto_core::storage::{Backend, FreshIds, KvRead, PostgresBackend};
    let _one = serial();
    let dsn = fresh("fresh");
    let (relay, via_relay) = Relay::in_front_of(&dsn);
    let backend = PostgresBackend::open(&via_relay, &OpenOptions::default()).unwrap();
    // Attribute records of entity 5: their keys end with their attribute ids.
    let key = |i: u64| [&b"A"[..], &5u64.to_be_bytes(), &i.to_be_bytes()].concat();
    let rows = |ids: std::ops::Range<u64>, tag: u8| -> Vec<_> {
        ids.map(|i| (key(i), Some(vec![tag; 30]))).collect()
    };
    let commit = |writes, fresh: Option<FreshIds>| {
        let mut lease = backend.begin_write(None).unwrap();
        if let Some(fresh) = fresh {
            lease.fresh_ids(fresh);
        }
        relay.take();
        relay.take_sent();
        lease.commit(writes, 0).unwrap();
        (relay.take(), relay.take_sent())
    };
    // Told nothing: every key is deleted first.
    let told_nothing = commit(rows(0..1500, 1), None);
    // Told right: ids from 2000 on are new.
    let told_right = commit(
        rows(2000..3500, 2),
        Some(FreshIds {
            entity: 6,
            attr: 2000,
        }),
    );
    // Told wrong: every id is said to be new, and ids 0..1500 are there.
    let told_wrong = commit(rows(0..1500, 3), Some(FreshIds { entity: 0, attr: 0 }));
    // 1500 keys of 17 bytes are ~30 kB to delete; the rows copied are ~75 kB.
    assert!(
        told_right.1 + 20_000 < told_nothing.1 && told_wrong.0 > told_right.0,
        "(round trips, bytes sent): told nothing {told_nothing:?}, right {told_right:?}, \
         wrong {told_wrong:?}"
    );
    let snapshot = backend.snapshot().unwrap();
    assert_eq!(snapshot.get(&key(0)).unwrap(), Some(vec![3; 30]));
    assert_eq!(snapshot.get(&key(1499)).unwrap(), Some(vec![3; 30]));
    assert_eq!(snapshot.get(&key(2000)).unwrap(), Some(vec![2; 30]));
    assert_eq!(snapshot.scan_prefix(b"A").count(), 3000);
    drop(snapshot);
    drop(backend);
    clusto_core::storage::drop_postgres_schema(&dsn).unwrap();
}

/// A lease learns from a name that is not taken where the next taken ones are, and
/// answers the names between and after them without asking; it still finds every name
/// the server has, and the names the transaction took itself.
#[test]
fn a_lease_answers_names_between_known_ones_without_asking() {
    let _one = serial();
    let dsn = fresh("gaps");
    let db = Clusto::open(&dsn).unwrap();
    db.write(TxMeta::new("t", "fill"), |tx| {
        for name in ["a", "c", "e"] {
            tx.create("basicserver", name, &[])?;
        }
        Ok(())
    })
    .unwrap();
    drop(db);
    let (relay, via_relay) = Relay::in_front_of(&dsn);
    let db = Clusto::open(&via_relay).unwrap();
    db.read(|v| v.find("a")).unwrap();
    db.write(TxMeta::new("t", "gaps"), |tx| {
        relay.take();
        assert!(tx.view().find("b")?.is_none());
        assert_eq!(relay.take(), 1, "the first miss asks the server");
        // Between "b" and "c": known to be free.
        assert!(tx.view().find("bb")?.is_none());
        tx.create("basicserver", "bz", &[])?;
        assert_eq!(relay.take(), 0, "a name inside the gap asked the server");
        // The gap ends at the next taken name, which is found.
        assert_eq!(tx.view().find("c")?.map(|e| e.name).as_deref(), Some("c"));
        match tx.create("basicserver", "c", &[]) {
            Err(clusto_core::Error::AlreadyExists(_)) => {}
            other => panic!("a taken name was taken again: {other:?}"),
        }
        // What the transaction made inside the gap is seen.
        assert_eq!(tx.view().find("bz")?.map(|e| e.name).as_deref(), Some("bz"));
        relay.take();
        // The first miss also learnt the names after "c", and that none follows "e".
        assert!(tx.view().find("d")?.is_none());
        assert!(tx.view().find("zz")?.is_none());
        assert_eq!(
            relay.take(),
            0,
            "a name between or after known ones asked the server"
        );
        assert_eq!(tx.view().find("e")?.map(|e| e.name).as_deref(), Some("e"));
        Ok(())
    })
    .unwrap();
    let names = common::entity_names(&db);
    assert_eq!(names.len(), 4, "{names:?}");
    assert!(db.check().unwrap().problems.is_empty());
    drop(db);
    clusto_core::storage::drop_postgres_schema(&dsn).unwrap();
}

/// Inside a write transaction, an update of an entity not read yet reads its record and
/// its attributes in one round trip, as the transaction's first statement does.
#[test]
fn an_update_inside_a_transaction_reads_in_one_round_trip() {
    let _one = serial();
    let dsn = fresh("ahead");
    let ids = Clusto::open(&dsn)
        .unwrap()
        .write(TxMeta::new("t", "fill"), |tx| {
            (0..3)
                .map(|i| {
                    let s = tx.create("basicserver", &format!("s{i}"), &[])?;
                    tx.add_attr(s.id, clusto_core::NewAttr::new("owner", "a"))?;
                    Ok(s.id)
                })
                .collect::<clusto_core::Result<Vec<_>>>()
        })
        .unwrap();
    let (relay, via_relay) = Relay::in_front_of(&dsn);
    let db = Clusto::open(&via_relay).unwrap();
    db.write(TxMeta::new("t", "updates"), |tx| {
        tx.set_attr(ids[0], clusto_core::NewAttr::new("owner", "b"))?;
        for &id in &ids[1..] {
            relay.take();
            tx.set_attr(id, clusto_core::NewAttr::new("owner", "b"))?;
            assert_eq!(
                relay.take(),
                1,
                "an update read its entity in several round trips"
            );
        }
        Ok(())
    })
    .unwrap();
    let owners = db
        .read(|v| v.owners(&clusto_core::AttrFilter::key("owner").value("b")))
        .unwrap();
    assert_eq!(owners.len(), 3);
    drop(db);
    clusto_core::storage::drop_postgres_schema(&dsn).unwrap();
}

/// A write transaction asks the server once per key or page: the store cannot change
/// while it holds the lease, so what it read is remembered. And an entity it made has no
/// keys on the server to ask for. A 10k-server load went from ~31 round trips per
/// server to 4 with these.
#[test]
fn a_transaction_reads_each_key_from_the_server_once() {
    let _one = serial();
    let dsn = fresh("memo");
    Clusto::open(&dsn)
        .unwrap()
        .write(TxMeta::new("t", "fill"), |tx| {
            let rack = tx.create("basicrack", "r1", &[])?;
            let pool = tx.create("pool", "p1", &[])?;
            let s = tx.create("basicserver", "s0", &[])?;
            tx.insert(pool.id, s.id)?;
            tx.rack_insert(rack.id, s.id, &[1])
        })
        .unwrap();
    let (relay, via_relay) = Relay::in_front_of(&dsn);
    let db = Clusto::open(&via_relay).unwrap();
    db.read(|v| v.find("r1")).unwrap();
    relay.take();
    let mut per_server = Vec::new();
    db.write(TxMeta::new("t", "load"), |tx| {
        let view = tx.view();
        let (rack, pool) = (view.entity("r1")?.id, view.entity("p1")?.id);
        for i in 1..=6 {
            relay.take();
            let s = tx.create("basicserver", &format!("s{i}"), &[])?;
            tx.add_attr(s.id, clusto_core::NewAttr::new("owner", "team"))?;
            tx.insert(pool, s.id)?;
            tx.rack_insert(rack, s.id, &[i + 1])?;
            tx.view().attrs(s.id, &clusto_core::AttrFilter::any())?;
            per_server.push(relay.take());
        }
        Ok(())
    })
    .unwrap();
    // The first server reads the rack's keys together, then the pool's together, and
    // learns from its name's miss that no name follows it on the server: the later ones
    // ask nothing.
    assert!(
        per_server[0] <= 3 && per_server[1..].iter().all(|&trips| trips == 0),
        "round trips per server: {per_server:?}"
    );
    // An update in a transaction of its own: the name with its record (and with them
    // the lease's BEGIN, its lock and the counters), the attributes, then the writes
    // with the COMMIT.
    relay.take();
    db.write(TxMeta::new("t", "update"), |tx| {
        let id = tx.view().entity("s3")?.id;
        tx.set_attr(id, clusto_core::NewAttr::new("owner", "other"))
    })
    .unwrap();
    let trips = relay.take();
    assert!(trips <= 3, "a single update took {trips} round trips");
    // An update of an entity already in hand (as `s.set_attr(...)` from Python): its
    // record and attributes with the lease's BEGIN, then the writes with the COMMIT.
    let s3 = db.read(|v| v.entity("s3")).unwrap().id;
    relay.take();
    db.write(TxMeta::new("t", "update"), |tx| {
        tx.set_attr(s3, clusto_core::NewAttr::new("owner", "third"))
    })
    .unwrap();
    let trips = relay.take();
    assert!(trips <= 2, "an update by id took {trips} round trips");
    assert_eq!(
        db.read(|v| v.contents(
            db.read(|v| v.entity("p1")).unwrap().id,
            &clusto_core::AttrFilter::any(),
            &clusto_core::Related::direct(),
        ))
        .unwrap()
        .len(),
        7
    );
    assert!(db.check().unwrap().problems.is_empty());
    drop(db);
    clusto_core::storage::drop_postgres_schema(&dsn).unwrap();
}

/// A watcher on PostgreSQL sleeps on the server's announcement of commits (`LISTEN`):
/// waiting costs no round trips, and a commit by another client — here another handle,
/// which shares nothing with the watcher in this process — wakes it at once.
#[test]
fn a_watcher_is_woken_by_the_servers_announcement_not_by_asking() {
    let _one = serial();
    let dsn = fresh("listen");
    let (relay, via_relay) = Relay::in_front_of(&dsn);
    let watcher = Clusto::open(&via_relay).unwrap();
    let start = watcher.latest_version().unwrap();
    // The listening session is made once and kept between waits.
    watcher
        .wait_for_version(start, Some(std::time::Duration::from_millis(50)))
        .unwrap();
    relay.take();
    let quiet = std::time::Duration::from_millis(1500);
    let began = std::time::Instant::now();
    assert_eq!(watcher.wait_for_version(start, Some(quiet)).unwrap(), start);
    assert!(began.elapsed() >= quiet);
    let trips = relay.take();
    assert!(
        trips <= 6,
        "a quiet wait of 1.5 s took {trips} round trips (asking every 10 ms: ~150)"
    );

    let writer = Clusto::open(&dsn).unwrap();
    let woken = std::thread::scope(|scope| {
        let waiting = scope.spawn(|| {
            let began = std::time::Instant::now();
            let seen = watcher
                .wait_for_version(start, Some(std::time::Duration::from_secs(20)))
                .unwrap();
            (seen, began.elapsed())
        });
        std::thread::sleep(std::time::Duration::from_millis(300));
        writer
            .write(TxMeta::new("t", "wake"), |tx| {
                tx.create("basicserver", "waker", &[])
            })
            .unwrap();
        waiting.join().unwrap()
    });
    assert_eq!(woken.0, start + 1);
    assert!(
        woken.1 < std::time::Duration::from_secs(2),
        "the watcher woke {:?} after it began",
        woken.1
    );
    // Commits made while nobody waits are announced to the kept session too; the pool
    // reads them there, so the next wait does not wake once for each of them.
    for i in 0..20 {
        writer
            .write(TxMeta::new("t", "unwatched"), |tx| {
                tx.create("basicserver", &format!("unwatched{i}"), &[])
            })
            .unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    let latest = watcher.latest_version().unwrap();
    relay.take();
    watcher
        .wait_for_version(latest, Some(std::time::Duration::from_millis(600)))
        .unwrap();
    let trips = relay.take();
    assert!(
        trips <= 6,
        "a quiet wait after 20 unwatched commits took {trips} round trips"
    );
    drop((watcher, writer));
    clusto_core::storage::drop_postgres_schema(&dsn).unwrap();
}

/// A watcher whose listening session the server cuts goes on by asking: the wait still
/// ends with the next commit.
#[test]
fn a_watcher_whose_listening_session_is_cut_goes_on() {
    let _one = serial();
    let dsn = fresh("listencut");
    let watcher = Clusto::open(&dsn).unwrap();
    let start = watcher.latest_version().unwrap();
    watcher
        .wait_for_version(start, Some(std::time::Duration::from_millis(50)))
        .unwrap();
    let writer = Clusto::open(format!("{dsn}&application_name=writer")).unwrap();
    let seen = std::thread::scope(|scope| {
        let waiting = scope.spawn(|| {
            watcher
                .wait_for_version(start, Some(std::time::Duration::from_secs(20)))
                .unwrap()
        });
        std::thread::sleep(std::time::Duration::from_millis(300));
        // Cut every session listening on the test database, as an operator might.
        let cut: i64 = admin()
            .query_one(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()",
                &[],
            )
            .unwrap()
            .get(0);
        assert!(cut >= 1, "no listening session to cut");
        std::thread::sleep(std::time::Duration::from_millis(100));
        writer
            .write(TxMeta::new("t", "after the cut"), |tx| {
                tx.create("basicserver", "late", &[])
            })
            .unwrap();
        waiting.join().unwrap()
    });
    assert_eq!(seen, start + 1);
    drop((watcher, writer));
    clusto_core::storage::drop_postgres_schema(&dsn).unwrap();
}

/// The test server's client certificate and key for the role `clusto_cert`, which logs
/// in by certificate only.
fn client_cert() -> (String, String) {
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!("{name} names the test client certificate (start-sql-servers.sh exports it)")
        })
    };
    (
        var("CLUSTO_TEST_POSTGRES_CLIENT_CERT"),
        var("CLUSTO_TEST_POSTGRES_CLIENT_KEY"),
    )
}

const CERT_DSN_ENV: &str = "CLUSTO_PG_CERT_DSN";

/// A server that logs clients in by certificate (`cert` in pg_hba.conf): `sslcert` and
/// `sslkey` in the DSN, or libpq's default files under `~/.postgresql`, let clusto in
/// without a password; no certificate, a missing file or a key others may read are
/// refused clearly, naming the file and never a password.
#[test]
fn client_certificates_log_in_by_certificate() {
    let _one_at_a_time = serial();
    use std::os::unix::fs::PermissionsExt;
    let (ca, (password, host, port), (cert, key)) = (ca(), parts(), client_cert());
    let made = fresh("clientcert");
    let schema = made.rsplit_once("schema=").unwrap().1;
    let base = format!(
        "postgresql://clusto_cert@{host}:{port}/clusto?schema={schema}&sslmode=verify-full\
         &sslrootcert={ca}"
    );
    let with_cert = format!("{base}&sslcert={cert}&sslkey={key}");
    let db = Clusto::open(&with_cert).unwrap();
    db.write(TxMeta::new("t", "by certificate"), |tx| {
        tx.create("basicserver", "cert-made", &[])
    })
    .unwrap();
    // (pg_hba.conf admits clusto_cert only over TLS, by its certificate.)
    assert!(db.read(|v| v.find("cert-made")).unwrap().is_some());
    drop(db);

    // A named certificate asks for TLS, as libpq's default `prefer` would try it; with
    // `sslmode=disable` it is refused, naming both.
    let unstated = format!(
        "postgresql://clusto_cert@{host}:{port}/clusto?schema={schema}&sslrootcert={ca}\
         &sslcert={cert}&sslkey={key}"
    );
    let db = Clusto::open(&unstated).unwrap();
    assert!(db.read(|v| v.find("cert-made")).unwrap().is_some());
    drop(db);
    let err = Clusto::open(format!("{unstated}&sslmode=disable"))
        .err()
        .expect("a certificate without TLS")
        .to_string();
    assert!(
        err.contains("sslcert") && err.contains("sslmode=disable"),
        "{err}"
    );
    // No certificate: the server refuses, and says so.
    let err = Clusto::open(&base)
        .err()
        .expect("no certificate")
        .to_string();
    assert!(err.contains("certificate"), "{err}");
    assert!(!err.contains(&password), "{err}");
    // A named file that does not exist.
    let err = Clusto::open(format!("{base}&sslcert=/nonexistent/c.crt&sslkey={key}"))
        .err()
        .expect("missing certificate file")
        .to_string();
    assert!(err.contains("sslcert=/nonexistent/c.crt"), "{err}");
    // A key its group or others may read, as libpq refuses it.
    let dir = tempfile::tempdir().unwrap();
    let open_key = dir.path().join("open.key");
    std::fs::copy(&key, &open_key).unwrap();
    std::fs::set_permissions(&open_key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = Clusto::open(format!(
        "{base}&sslcert={cert}&sslkey={}",
        open_key.display()
    ))
    .err()
    .expect("a key others may read")
    .to_string();
    assert!(
        err.contains(&open_key.display().to_string()) && err.contains("0600"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    // libpq lets a key that root owns be group-readable.
    std::fs::set_permissions(&open_key, std::fs::Permissions::from_mode(0o640)).unwrap();
    let group_readable = Clusto::open(format!(
        "{base}&sslcert={cert}&sslkey={}",
        open_key.display()
    ));
    let root_owned = {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(&open_key).unwrap().uid() == 0
    };
    assert_eq!(
        group_readable.is_ok(),
        root_owned,
        "{:?}",
        group_readable.err()
    );

    // libpq's default files, in a home of their own (a child process with HOME set).
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join(".postgresql")).unwrap();
    std::fs::copy(&cert, home.join(".postgresql/postgresql.crt")).unwrap();
    std::fs::copy(&key, home.join(".postgresql/postgresql.key")).unwrap();
    std::fs::set_permissions(
        home.join(".postgresql/postgresql.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    helper_says(
        helper("cert_helper", &[("HOME", &home)])
            .env(CERT_DSN_ENV, &base)
            .env_remove("PGSSLCERT")
            .env_remove("PGSSLKEY"),
        "cert outcome ok",
    );
    clusto_core::storage::drop_postgres_schema(&made).unwrap();
}

/// Not a test: the client of `client_certificates_log_in_by_certificate` that finds its
/// certificate in `$HOME/.postgresql`.
#[test]
#[ignore = "helper run in a child process"]
fn cert_helper() {
    let Ok(dsn) = std::env::var(CERT_DSN_ENV) else {
        return;
    };
    let db = Clusto::open(&dsn).unwrap();
    assert!(db.read(|v| v.find("cert-made")).unwrap().is_some());
    println!("cert outcome ok");
}

/// An IP allocation reads the runs of held addresses once per transaction (one round
/// trip for the whole key, when its runs are few), not three or four times; ten in one
/// transaction read them once in all, and ask the server only for each one's server.
#[test]
fn an_allocation_reads_the_runs_of_held_values_once() {
    let _one = serial();
    let dsn = fresh("runs");
    let (net, servers) = Clusto::open(&dsn)
        .unwrap()
        .write(TxMeta::new("t", "fill"), |tx| {
            let net = tx.create(
                "ipmanager",
                "net",
                &[
                    ("baseip", "10.0.0.0".into()),
                    ("netmask", "255.255.0.0".into()),
                ],
            )?;
            let servers = (0..11)
                .map(|i| {
                    tx.create("basicserver", &format!("s{i}"), &[])
                        .map(|e| e.id)
                })
                .collect::<clusto_core::Result<Vec<_>>>()?;
            tx.allocate(
                net.id,
                servers[0],
                None,
                clusto_core::NumberSpec::Next,
                false,
            )?;
            Ok((net.id, servers))
        })
        .unwrap();
    let (relay, via_relay) = Relay::in_front_of(&dsn);
    let db = Clusto::open(&via_relay).unwrap();
    db.read(|v| v.find("net")).unwrap();
    relay.take();
    db.write(TxMeta::new("t", "one"), |tx| {
        tx.allocate(net, servers[1], None, clusto_core::NumberSpec::Next, false)
    })
    .unwrap();
    let one = relay.take();
    db.write(TxMeta::new("t", "ten"), |tx| {
        for s in &servers[2..] {
            tx.allocate(net, *s, None, clusto_core::NumberSpec::Next, false)?;
        }
        Ok(())
    })
    .unwrap();
    let ten = relay.take();
    // One: the lease with the manager, its attributes, the server and clustometa; the
    // runs; clustometa's counter; the commit (it was 10, then 7 with each of the first
    // reads on its own). Ten: one more each for its server's record (it was 26: the
    // runs three more times each).
    assert!(one <= 4, "one allocation took {one} round trips");
    assert!(
        ten <= one + 10,
        "ten allocations took {ten} round trips, one took {one}"
    );
    assert!(db.check().unwrap().problems.is_empty());
    drop(db);
    clusto_core::storage::drop_postgres_schema(&dsn).unwrap();
}

const HOLD_ENV: &str = "CLUSTO_PG_HOLD_DSN";

/// Not a test: holds the write lease of `a_writer_that_finds_the_lease_held_is_refused_clearly`
/// until its standard input closes, then commits.
#[test]
#[ignore = "helper run in a child process"]
fn hold_helper() {
    let Ok(dsn) = std::env::var(HOLD_ENV) else {
        return;
    };
    let db = Clusto::open(&dsn).unwrap();
    let mut holding = db.begin(TxMeta::new("holder", "hold")).unwrap();
    // The lease's lock goes out with the transaction's first statement.
    assert!(holding.view().find("a").unwrap().is_some());
    println!("holding");
    let mut rest = String::new();
    std::io::stdin().read_to_string(&mut rest).unwrap();
    holding.create_entity("held", "t", "d").unwrap();
    holding.commit().unwrap();
}

/// A writer that finds the lease held by another client gets `Locked`, naming the
/// holder's process, from the statement its lock travelled with; it leaves nothing on
/// the server and writes as soon as the holder is done. For a schema whose lock key is
/// negative as well as positive (the holder was not found for negative keys).
#[test]
fn a_writer_that_finds_the_lease_held_is_refused_clearly() {
    let _one = serial();
    for negative in [true, false] {
        let name = (0..)
            .map(|i| format!("held{i}"))
            .find(|name| {
                let schema = format!("{name}_{}", std::process::id());
                ((xxhash_rust::xxh3::xxh3_64(schema.as_bytes()) as i64) < 0) == negative
            })
            .unwrap();
        refused_while_held(&fresh(&name));
    }
}

fn refused_while_held(dsn: &str) {
    use std::io::{BufRead, BufReader};
    let db = Clusto::open_with(
        dsn,
        &OpenOptions {
            lock_wait: None,
            ..Default::default()
        },
    )
    .unwrap();
    db.write(TxMeta::default(), |tx| tx.create_entity("a", "t", "d"))
        .unwrap();
    let mut child = helper("hold_helper", &[])
        .env(HOLD_ENV, dsn)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert!(
        lines.any(|l| l.unwrap().contains("holding")),
        "the holder took the lease"
    );
    let err = db
        .write(TxMeta::default(), |tx| {
            tx.create_entity("b", "t", "d")?;
            tx.set_attr(
                tx.view().entity("a")?.id,
                clusto_core::NewAttr::new("owner", "x"),
            )
        })
        .unwrap_err();
    assert!(
        matches!(&err, Error::Locked { holder: Some(pid), .. } if *pid == child.id()),
        "{err}"
    );
    // A transaction that met `Locked` may try again: it asks for the lock again (still
    // held: `Locked` again, not a write without it), and gets it once the holder is done.
    let holder = child.id();
    db.write(TxMeta::default(), |tx| {
        for _ in 0..2 {
            let again = tx.create_entity("b", "t", "d").map(drop).unwrap_err();
            assert!(
                matches!(&again, Error::Locked { holder: Some(pid), .. } if *pid == holder),
                "{again}"
            );
        }
        drop(child.stdin.take());
        assert!(child.wait().unwrap().success());
        tx.create_entity("b", "t", "d").map(drop)
    })
    .expect("the lease is free again");
    db.read(|v| {
        assert!(v.find("held")?.is_some());
        assert!(v.find("b")?.is_some());
        assert!(
            v.attrs(v.entity("a")?.id, &clusto_core::AttrFilter::any())?
                .is_empty()
        );
        Ok(())
    })
    .unwrap();
    assert!(db.check().unwrap().is_clean());
    drop(db);
    clusto_core::storage::drop_postgres_schema(dsn).unwrap();
}

/// A pool or rack insert in its own transaction reads the container's and the thing's
/// keys together, with the lease's opening: a pool insert is that round trip and its
/// commit (it was 5), a rack insert those two and the device's present containers (7).
#[test]
fn an_insert_reads_both_ends_in_one_round_trip() {
    let _one = serial();
    let dsn = fresh("insert_trips");
    let (pool, rack) = Clusto::open(&dsn)
        .unwrap()
        .write(TxMeta::new("t", "fill"), |tx| {
            let p = tx.create("pool", "p", &[])?;
            let r = tx.create("basicrack", "r", &[])?;
            for i in 0..5 {
                let s = tx.create("basicserver", &format!("old{i}"), &[])?;
                tx.insert(p.id, s.id)?;
                tx.rack_insert(r.id, s.id, &[i + 1])?;
            }
            Ok((p.id, r.id))
        })
        .unwrap();
    let (relay, via_relay) = Relay::in_front_of(&dsn);
    let db = Clusto::open(&via_relay).unwrap();
    db.read(|v| v.find("p")).unwrap();
    for i in 0..3 {
        let s = db
            .write(TxMeta::new("t", "create"), |tx| {
                tx.create("basicserver", &format!("new{i}"), &[])
            })
            .unwrap();
        relay.take();
        db.write(TxMeta::new("t", "pool"), |tx| tx.insert(pool, s.id))
            .unwrap();
        let pooled = relay.take();
        db.write(TxMeta::new("t", "rack"), |tx| {
            tx.rack_insert(rack, s.id, &[10 + i])
        })
        .unwrap();
        let racked = relay.take();
        assert!(pooled <= 2, "a pool insert took {pooled} round trips");
        assert!(racked <= 4, "a rack insert took {racked} round trips");
    }
    assert!(db.check().unwrap().problems.is_empty());
    drop(db);
    clusto_core::storage::drop_postgres_schema(&dsn).unwrap();
}
