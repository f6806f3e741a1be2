//! clusto vs SQLite on clusto's own relational schema, the same workload on both sides
//! (issue 7): a data-center inventory of N servers — 3 attributes, one of 10 pools, a
//! rack slot and an IP each — then point reads, attribute-equality queries, pool
//! contents, parents, attribute updates (bulk and durable), as-of reads and deletes.
//!
//! Usage: `cargo bench -p clusto-benches --bench versus -- [N…]` (default 10000 100000).
//! With `CLUSTO_BENCH_DSN=postgresql://…`, clusto on that PostgreSQL server is a fourth
//! side (in a schema of its own, dropped after), with PostgreSQL's own autocommit
//! one-row upsert on the same server as the floor of its durable update.
//! Each side runs in its own process so peak RSS is its own, `CLUSTO_BENCH_ROUNDS`
//! times (default 3), the sides taking turns; the table gives each side's median, since
//! a side's speed swings between runs on a shared machine. One side at one size:
//! `… --bench versus -- --side lmdb|sled|postgresql|sqlite N [--explain] [--profile]`, which prints
//! that side's raw rows (name, count, seconds); for SQLite, `--explain` prints every
//! statement's query plan after the load and again after `ANALYZE`, and `--profile`
//! times each statement kind (to stderr). `CLUSTO_BENCH_KEEP_LOADED=DIR` copies an
//! embedded side's store, as the load left it, into DIR.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use clusto_benches::{RssPeaks, dir_size, peak_rss_mib, sizes_from_args};
use clusto_core::{
    AttrFilter, Clusto, Durability, NewAttr, NumberSpec, OpenOptions, Related, TxMeta,
};
use rusqlite::{Connection, OptionalExtension, params};

const BATCH: usize = 1000;
const POOLS: usize = 10;
const PER_RACK: usize = 40;
const OWNERS: usize = 100;

/// One measured operation: name, count, seconds.
type Row = (String, usize, f64);

fn time(rows: &mut Vec<Row>, name: &str, count: usize, f: impl FnOnce()) {
    let start = Instant::now();
    f();
    rows.push((name.to_owned(), count, start.elapsed().as_secs_f64()));
}

fn rng(i: usize, n: usize) -> usize {
    (i.wrapping_mul(2_654_435_761) ^ 0x5bd1e995) % n
}

/// The subnet for N servers: a /16, or wider when N does not fit.
fn prefix(n: usize) -> u32 {
    (8..=16u32)
        .rev()
        .find(|p| (1usize << (32 - p)) - 2 >= n)
        .unwrap_or(8)
}

/// The PostgreSQL server of `CLUSTO_BENCH_DSN`, if the run has one.
fn bench_server() -> Option<String> {
    std::env::var("CLUSTO_BENCH_DSN").ok()
}

/// PostgreSQL's own durable commit on `server`: one-row upserts, each in its own
/// transaction (autocommit) over one connection — the floor of clusto's durable update.
fn postgres_commit_floor(server: &str, schema: &str, rows: &mut Vec<Row>) {
    let mut client = postgres::Client::connect(server, postgres::NoTls).unwrap();
    client
        .batch_execute(&format!(
            "CREATE TABLE {schema}.floor (k bytea PRIMARY KEY, v bytea NOT NULL)"
        ))
        .unwrap();
    let upsert = client
        .prepare(&format!(
            "INSERT INTO {schema}.floor VALUES ($1, $2) \
             ON CONFLICT (k) DO UPDATE SET v = excluded.v"
        ))
        .unwrap();
    time(
        rows,
        "PostgreSQL's own commit: one-row upsert, autocommit",
        200,
        || {
            for i in 0..200u32 {
                let key = (i % 20).to_be_bytes().to_vec();
                client.execute(&upsert, &[&key, &vec![7u8; 48]]).unwrap();
            }
        },
    );
    // An attribute update commits 2 removals and 11 upserts (the attribute's record and
    // index entries, moved to the deleted spaces, and the version's records): the same
    // statement clusto sends, alone, per autocommit transaction.
    let write = client
        .prepare(&format!(
            "WITH gone AS (DELETE FROM {schema}.floor WHERE k = ANY($1)) \
             INSERT INTO {schema}.floor (k, v) SELECT * FROM unnest($2::bytea[], $3::bytea[]) \
             ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v"
        ))
        .unwrap();
    let key = |i: u32, j: u32| {
        let mut k = vec![b'A' + j as u8];
        k.extend_from_slice(&(i.wrapping_mul(2_654_435_761) ^ j).to_be_bytes());
        k.extend_from_slice(&[0x2a; 24]);
        k
    };
    time(
        rows,
        "PostgreSQL's own commit: an update's 13 rows in one statement, autocommit",
        200,
        || {
            for i in 0..200u32 {
                let removed: Vec<Vec<u8>> = (0..2).map(|j| key(i, j)).collect();
                let keys: Vec<Vec<u8>> = (2..13).map(|j| key(i + 1, j)).collect();
                let values: Vec<Vec<u8>> = (2..13).map(|_| vec![7u8; 24]).collect();
                client.execute(&write, &[&removed, &keys, &values]).unwrap();
            }
        },
    );
}

/// Copies the files of `from` into `to` (made if missing).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// Copies the rows clusto's load left in its table, in the order PostgreSQL stored them
/// (insertion order, since a load only inserts), for [`postgres_load_floor`].
fn keep_loaded_rows(server: &str, schema: &str) {
    let mut client = postgres::Client::connect(server, postgres::NoTls).unwrap();
    client
        .batch_execute(&format!(
            "CREATE TABLE {schema}.loaded AS SELECT row_number() OVER (ORDER BY ctid) AS n, k, v \
             FROM {schema}.kv"
        ))
        .unwrap();
}

/// PostgreSQL alone storing the very rows of clusto's load, by binary `COPY` (its fastest
/// way in) into a table like clusto's, in as many transactions as the load had: what the
/// load would cost if clusto's rules and round trips took no time at all. Each
/// transaction's rows are read before its clock starts.
fn postgres_load_floor(server: &str, schema: &str, n: usize, rows: &mut Vec<Row>) {
    use postgres::binary_copy::BinaryCopyInWriter;
    use postgres::types::Type;
    let mut client = postgres::Client::connect(server, postgres::NoTls).unwrap();
    let total: i64 = client
        .query_one(&format!("SELECT count(*) FROM {schema}.loaded"), &[])
        .unwrap()
        .get(0);
    client
        .batch_execute(&format!(
            "CREATE TABLE {schema}.copied (k bytea PRIMARY KEY, v bytea NOT NULL)"
        ))
        .unwrap();
    let batches = (n / BATCH).max(1) as i64;
    let per_batch = (total + batches - 1) / batches;
    let mut spent = Duration::ZERO;
    for b in 0..batches {
        let chunk: Vec<(Vec<u8>, Vec<u8>)> = client
            .query(
                &format!("SELECT k, v FROM {schema}.loaded WHERE n > $1 AND n <= $2"),
                &[&(b * per_batch), &((b + 1) * per_batch)],
            )
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let start = Instant::now();
        let mut tx = client.transaction().unwrap();
        let sink = tx
            .copy_in(&format!("COPY {schema}.copied (k, v) FROM STDIN BINARY"))
            .unwrap();
        let mut writer = BinaryCopyInWriter::new(sink, &[Type::BYTEA, Type::BYTEA]);
        for (k, v) in &chunk {
            writer.write(&[k, v]).unwrap();
        }
        writer.finish().unwrap();
        tx.commit().unwrap();
        spent += start.elapsed();
    }
    rows.push((
        "PostgreSQL's own COPY of the load's rows (1000 servers' per transaction)".into(),
        n,
        spent.as_secs_f64(),
    ));
    rows.push((
        "rows the load stored per server".into(),
        0,
        total as f64 / n as f64,
    ));
}

/// Per-call times of the load, when `--profile` asks for them.
#[derive(Default)]
struct CallTimes(Option<RefCell<BTreeMap<&'static str, (usize, Duration)>>>);

impl CallTimes {
    fn new(on: bool) -> Self {
        CallTimes(on.then(Default::default))
    }

    /// Runs `call`, adding its time to `name`'s.
    fn time<T>(&self, name: &'static str, call: impl FnOnce() -> T) -> T {
        let Some(times) = &self.0 else {
            return call();
        };
        let start = Instant::now();
        let out = call();
        let mut times = times.borrow_mut();
        let entry = times.entry(name).or_default();
        entry.0 += 1;
        entry.1 += start.elapsed();
        out
    }

    fn report(&self, phase: &str) {
        if let Some(times) = &self.0 {
            for (name, (count, total)) in std::mem::take(&mut *times.borrow_mut()) {
                eprintln!(
                    "{phase}\t{name}\t{count}\t{:.3} s\t{:.2} µs each",
                    total.as_secs_f64(),
                    total.as_secs_f64() * 1e6 / count as f64
                );
            }
        }
    }
}

fn clusto_side(n: usize, dir: &Path, engine: &str, opts: &Opts) -> Vec<Row> {
    let calls = CallTimes::new(opts.profile);
    let mut rows = Vec::new();
    let schema = format!("versus_{n}_{}", std::process::id());
    let dsn = match engine {
        "postgresql" => format!(
            "{}?schema={schema}",
            bench_server().expect("the postgresql side needs CLUSTO_BENCH_DSN")
        ),
        _ => format!("{engine}://{}", dir.join("db").display()),
    };
    let db = Clusto::open_with(
        &dsn,
        &OpenOptions {
            durability: Durability::Immediate,
            create: true,
            ..Default::default()
        },
    )
    .unwrap();
    let mask = std::net::Ipv4Addr::from(u32::MAX << (32 - prefix(n))).to_string();
    let (pools, racks, net) = db
        .write(TxMeta::new("bench", "setup"), |tx| {
            tx.init_clusto()?;
            let dc = tx.create("basicdatacenter", "dc1", &[])?;
            let pools: Vec<_> = (0..POOLS)
                .map(|p| tx.create("pool", &format!("pool{p}"), &[]).map(|e| e.id))
                .collect::<Result<_, _>>()?;
            let mut racks = Vec::new();
            for r in 0..n.div_ceil(PER_RACK) {
                let rack = tx.create("basicrack", &format!("rack{r}"), &[])?;
                tx.insert(dc.id, rack.id)?;
                racks.push(rack.id);
            }
            let net = tx.create(
                "ipmanager",
                "net",
                &[
                    ("baseip", "10.0.0.0".into()),
                    ("netmask", mask.as_str().into()),
                ],
            )?;
            Ok((pools, racks, net.id))
        })
        .unwrap();
    time(&mut rows, "load servers (1000 per transaction)", n, || {
        for b in 0..n / BATCH {
            db.write(TxMeta::new("bench", "load"), |tx| {
                for i in b * BATCH..(b + 1) * BATCH {
                    let s =
                        calls.time("create", || tx.create("basicserver", &format!("s{i}"), &[]))?;
                    calls.time("add_attr", || {
                        tx.add_attr(
                            s.id,
                            NewAttr::new("system", format!("P{i:010}")).subkey("serial"),
                        )?;
                        tx.add_attr(s.id, NewAttr::new("cpucount", (i % 64) as i64))?;
                        tx.add_attr(s.id, NewAttr::new("owner", format!("team{}", i % OWNERS)))
                    })?;
                    calls.time("pool insert", || tx.insert(pools[i % POOLS], s.id))?;
                    calls.time("rack_insert", || {
                        tx.rack_insert(racks[i / PER_RACK], s.id, &[(i % PER_RACK) as i64 + 1])
                    })?;
                    calls.time("allocate", || {
                        tx.allocate(net, s.id, None, NumberSpec::Next, false)
                    })?;
                }
                Ok(())
            })
            .unwrap();
        }
    });
    calls.report("load");
    if engine == "postgresql" {
        keep_loaded_rows(&bench_server().unwrap(), &schema);
    }
    let size = match engine {
        "postgresql" => db.size_on_disk().unwrap(),
        _ => dir_size(dir),
    };
    // For a look at the loaded store with the engine's own tools (`mdb_stat`, `mdb_copy`).
    if let (Ok(keep), "lmdb" | "sled") = (std::env::var("CLUSTO_BENCH_KEEP_LOADED"), engine) {
        copy_dir(&dir.join("db"), Path::new(&keep));
    }
    let loaded = db.latest_version().unwrap();
    let k = 20_000;
    time(&mut rows, "get by name", k, || {
        for i in 0..k {
            db.read(|v| v.entity(&format!("s{}", rng(i, n)))).unwrap();
        }
    });
    time(&mut rows, "owner = X", 200, || {
        for i in 0..200 {
            let f = AttrFilter::key("owner").value(format!("team{}", i % OWNERS));
            db.read(|v| v.owners(&f)).unwrap();
        }
    });
    time(&mut rows, "pool contents", 20, || {
        for i in 0..20 {
            db.read(|v| v.contents(pools[i % POOLS], &AttrFilter::any(), &Related::direct()))
                .unwrap();
        }
    });
    time(&mut rows, "parents of a server", k, || {
        for i in 0..k {
            db.read(|v| v.parents(v.entity(&format!("s{}", rng(i, n)))?.id, &Related::direct()))
                .unwrap();
        }
    });
    time(
        &mut rows,
        "1000 attribute updates (one transaction)",
        1000,
        || {
            db.write(TxMeta::new("bench", "updates"), |tx| {
                for i in 0..1000 {
                    let id = tx.view().entity(&format!("s{}", rng(i, n)))?.id;
                    tx.set_attr(id, NewAttr::new("owner", format!("moved{i}")))?;
                }
                Ok(())
            })
            .unwrap();
        },
    );
    time(
        &mut rows,
        "attribute update (durable, one per transaction)",
        200,
        || {
            for i in 0..200 {
                db.write(TxMeta::new("bench", "update"), |tx| {
                    let id = tx.view().entity(&format!("s{}", rng(i + 7, n)))?.id;
                    tx.set_attr(id, NewAttr::new("owner", format!("again{i}")))
                })
                .unwrap();
            }
        },
    );
    time(
        &mut rows,
        "as-of read: server and attributes at load time",
        k,
        || {
            for i in 0..k {
                db.read_at(loaded, |v| {
                    v.attrs(v.entity(&format!("s{}", rng(i, n)))?.id, &AttrFilter::any())
                })
                .unwrap();
            }
        },
    );
    time(
        &mut rows,
        "delete 1000 servers (one transaction)",
        1000,
        || {
            db.write(TxMeta::new("bench", "delete"), |tx| {
                for i in 0..1000 {
                    tx.delete_entity(&format!("s{}", n - 1 - i))?;
                }
                Ok(())
            })
            .unwrap();
        },
    );
    if engine == "postgresql" {
        postgres_commit_floor(&bench_server().unwrap(), &schema, &mut rows);
        postgres_load_floor(&bench_server().unwrap(), &schema, n, &mut rows);
        drop(db);
        clusto_core::storage::drop_postgres_schema(&dsn).unwrap();
    }
    rows.push((
        "database size after load (MiB)".into(),
        0,
        size as f64 / 1048576.0,
    ));
    rows
}

const SCHEMA: &str = "
CREATE TABLE entities (entity_id INTEGER PRIMARY KEY, name VARCHAR(128) NOT NULL, type VARCHAR(32) NOT NULL,
  driver VARCHAR(32) NOT NULL, version INTEGER NOT NULL, deleted_at_version INTEGER);
CREATE TABLE entity_attrs (attr_id INTEGER PRIMARY KEY, entity_id INTEGER NOT NULL REFERENCES entities,
  key VARCHAR(256), subkey VARCHAR(256), number INTEGER, datatype VARCHAR(32) NOT NULL, int_value INTEGER,
  string_value TEXT, datetime_value DATETIME, relation_id INTEGER REFERENCES entities, version INTEGER NOT NULL,
  deleted_at_version INTEGER);
CREATE TABLE counters (counter_id INTEGER PRIMARY KEY, entity_id INTEGER NOT NULL, attr_key VARCHAR(256), value INTEGER);
CREATE TABLE clustoversioning (version INTEGER PRIMARY KEY AUTOINCREMENT, timestamp TIMESTAMP, user VARCHAR(64), description TEXT);
-- clusto's own indexes
CREATE INDEX idx_entity_name_version ON entities (name, version, deleted_at_version);
CREATE INDEX idx_attrs_entity_version ON entity_attrs (entity_id, version, deleted_at_version);
CREATE INDEX idx_attrs_key ON entity_attrs (key);
CREATE INDEX idx_attrs_subkey ON entity_attrs (subkey);
CREATE INDEX idx_attrs_str_value ON entity_attrs (string_value);
CREATE UNIQUE INDEX idx_counter_entity_attr ON counters (entity_id, attr_key);
-- what a competent DBA adds for these queries: live rows only, every column a lookup
-- names, so that each statement of the workload is one equality probe (see `STATEMENTS`)
CREATE INDEX idx_entities_live_name ON entities (name) WHERE deleted_at_version IS NULL;
CREATE INDEX idx_attrs_live_entity_key ON entity_attrs (entity_id, key) WHERE deleted_at_version IS NULL;
-- (not `WHERE key = '_contains' AND ...`: set_attr's `key = ?2` would then make SQLite
-- recompile that statement on every new binding, see `check_reprepares`)
CREATE INDEX idx_attrs_live_rack_unit ON entity_attrs (entity_id, number)
  WHERE subkey = 'ru' AND deleted_at_version IS NULL;
CREATE INDEX idx_attrs_live_relation ON entity_attrs (relation_id, key, entity_id)
  WHERE relation_id IS NOT NULL AND deleted_at_version IS NULL;
CREATE INDEX idx_attrs_key_str ON entity_attrs (key, string_value) WHERE deleted_at_version IS NULL;
CREATE INDEX idx_attrs_key_int ON entity_attrs (key, int_value) WHERE deleted_at_version IS NULL;
";

/// One statement of the SQLite side and the index search its query plan must show.
struct Stmt {
    name: &'static str,
    sql: &'static str,
    /// A substring of its `EXPLAIN QUERY PLAN` (empty for a plain insert).
    plan: &'static str,
}

const NEW_VERSION: Stmt = Stmt {
    name: "new version",
    sql: "INSERT INTO clustoversioning (timestamp, user, description) VALUES (CURRENT_TIMESTAMP, 'bench', 'op')",
    plan: "",
};
const LIVE_ENTITY: Stmt = Stmt {
    name: "live entity by name",
    sql: "SELECT entity_id FROM entities WHERE name = ?1 AND deleted_at_version IS NULL",
    plan: "(name=?)",
};
const INSERT_ENTITY: Stmt = Stmt {
    name: "insert entity",
    sql: "INSERT INTO entities (name, type, driver, version) VALUES (?1, ?2, ?3, ?4)",
    plan: "",
};
const INSERT_ATTR: Stmt = Stmt {
    name: "insert attribute",
    sql: "INSERT INTO entity_attrs (entity_id, key, subkey, number, datatype, int_value, string_value, relation_id, version) \
          VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    plan: "",
};
const COUNTER_NEXT: Stmt = Stmt {
    name: "counter next",
    sql: "INSERT INTO counters (entity_id, attr_key, value) VALUES (?1, ?2, 0) \
          ON CONFLICT (entity_id, attr_key) DO UPDATE SET value = value + 1 RETURNING value",
    plan: "",
};
/// `set_attr`'s first half: the live value of (entity, key) without subkey or number.
const RETIRE_ATTR: Stmt = Stmt {
    name: "set_attr: retire old value",
    sql: "UPDATE entity_attrs SET deleted_at_version = ?3 WHERE entity_id = ?1 AND key = ?2 \
          AND subkey IS NULL AND number IS NULL AND deleted_at_version IS NULL",
    plan: "idx_attrs_live_entity_key (entity_id=? AND key=?)",
};
/// Pool.insert: the thing must not be in this pool already...
const POOL_MEMBER: Stmt = Stmt {
    name: "pool insert: already a member?",
    sql: "SELECT attr_id FROM entity_attrs WHERE relation_id = ?1 AND key = '_contains' \
          AND entity_id = ?2 AND deleted_at_version IS NULL",
    plan: "idx_attrs_live_relation (relation_id=? AND key=? AND entity_id=?)",
};
/// ... nor in any exclusive pool.
const IN_EXCLUSIVE_POOL: Stmt = Stmt {
    name: "pool insert: in an exclusive pool?",
    sql: "SELECT p.entity_id FROM entity_attrs a JOIN entities p ON p.entity_id = a.entity_id \
          WHERE a.relation_id = ?1 AND a.key = '_contains' AND a.deleted_at_version IS NULL \
          AND p.driver = 'exclusive_pool'",
    plan: "idx_attrs_live_relation (relation_id=? AND key=?)",
};
/// BasicRack.insert: the rack's `minu`/`maxu` properties bound the unit...
const RACK_BOUNDS: Stmt = Stmt {
    name: "rack insert: minu/maxu",
    sql: "SELECT key, int_value FROM entity_attrs WHERE entity_id = ?1 AND key IN ('minu', 'maxu') \
          AND subkey IS NULL AND number IS NULL AND deleted_at_version IS NULL",
    plan: "idx_attrs_live_entity_key (entity_id=? AND key=?)",
};
/// ... the device must be in no rack yet...
const IN_RACK: Stmt = Stmt {
    name: "rack insert: already racked?",
    sql: "SELECT p.entity_id FROM entity_attrs a JOIN entities p ON p.entity_id = a.entity_id \
          WHERE a.relation_id = ?1 AND a.key = '_contains' AND a.deleted_at_version IS NULL \
          AND p.type = 'rack'",
    plan: "idx_attrs_live_relation (relation_id=? AND key=?)",
};
/// ... take its `rack_units` if it has that attribute...
const RACK_UNITS: Stmt = Stmt {
    name: "rack insert: rack_units",
    sql: "SELECT int_value FROM entity_attrs WHERE entity_id = ?1 AND key = 'rack_units' \
          AND deleted_at_version IS NULL",
    plan: "idx_attrs_live_entity_key (entity_id=? AND key=?)",
};
/// ... and the unit must be free.
const RACK_SLOT: Stmt = Stmt {
    name: "rack insert: unit free?",
    sql: "SELECT attr_id FROM entity_attrs WHERE entity_id = ?1 AND key = '_contains' \
          AND subkey = 'ru' AND number = ?2 AND deleted_at_version IS NULL",
    plan: "idx_attrs_live_rack_unit (entity_id=? AND number=?)",
};
/// IPManager.allocator: the scan starts after `_lastip`...
const LAST_IP: Stmt = Stmt {
    name: "ip: _lastip",
    sql: "SELECT string_value FROM entity_attrs WHERE entity_id = ?1 AND key = '_lastip' \
          AND subkey IS NULL AND number IS NULL AND deleted_at_version IS NULL",
    plan: "idx_attrs_live_entity_key (entity_id=? AND key=?)",
};
/// ... and skips every address some entity holds (under any manager).
const IP_HELD: Stmt = Stmt {
    name: "ip: address held?",
    sql: "SELECT attr_id FROM entity_attrs WHERE key = 'ip' AND int_value = ?1 \
          AND number IS NOT NULL AND deleted_at_version IS NULL",
    plan: "idx_attrs_key_int (key=? AND int_value=?)",
};
const GET_BY_NAME: Stmt = Stmt {
    name: "get by name",
    sql: "SELECT entity_id, name, type, driver, version FROM entities WHERE name = ?1 \
          AND deleted_at_version IS NULL",
    plan: "(name=?)",
};
const OWNER_EQ: Stmt = Stmt {
    name: "owner = X",
    sql: "SELECT e.entity_id, e.name FROM entity_attrs a JOIN entities e ON e.entity_id = a.entity_id \
          WHERE a.key = 'owner' AND a.string_value = ?1 AND a.deleted_at_version IS NULL",
    plan: "idx_attrs_key_str (key=? AND string_value=?)",
};
const POOL_CONTENTS: Stmt = Stmt {
    name: "pool contents",
    sql: "SELECT e.entity_id, e.name FROM entity_attrs a JOIN entities e ON e.entity_id = a.relation_id \
          WHERE a.entity_id = ?1 AND a.key = '_contains' AND a.deleted_at_version IS NULL ORDER BY a.attr_id",
    plan: "idx_attrs_live_entity_key (entity_id=? AND key=?)",
};
const PARENTS: Stmt = Stmt {
    name: "parents",
    sql: "SELECT DISTINCT e.entity_id, e.name FROM entity_attrs a JOIN entities e ON e.entity_id = a.entity_id \
          WHERE a.relation_id = ?1 AND a.key = '_contains' AND a.deleted_at_version IS NULL",
    plan: "idx_attrs_live_relation (relation_id=? AND key=?)",
};
const ASOF_ENTITY: Stmt = Stmt {
    name: "as-of entity",
    sql: "SELECT entity_id FROM entities WHERE name = ?1 AND version <= ?2 \
          AND (deleted_at_version IS NULL OR deleted_at_version > ?2)",
    plan: "idx_entity_name_version (name=? AND version<?)",
};
const ASOF_ATTRS: Stmt = Stmt {
    name: "as-of attributes",
    sql: "SELECT key, subkey, number, datatype, int_value, string_value, relation_id FROM entity_attrs \
          WHERE entity_id = ?1 AND version <= ?2 AND (deleted_at_version IS NULL OR deleted_at_version > ?2)",
    plan: "idx_attrs_entity_version (entity_id=? AND version<?)",
};
/// Entity.delete: the relations pointing at it, its own attributes, its counters, its row.
const DELETE_REFS: Stmt = Stmt {
    name: "delete: references to it",
    sql: "UPDATE entity_attrs SET deleted_at_version = ?2 WHERE relation_id = ?1 AND deleted_at_version IS NULL",
    plan: "idx_attrs_live_relation (relation_id=?)",
};
const DELETE_ATTRS: Stmt = Stmt {
    name: "delete: its attributes",
    sql: "UPDATE entity_attrs SET deleted_at_version = ?2 WHERE entity_id = ?1 AND deleted_at_version IS NULL",
    plan: "(entity_id=?)",
};
const DELETE_COUNTERS: Stmt = Stmt {
    name: "delete: its counters",
    sql: "DELETE FROM counters WHERE entity_id = ?1",
    plan: "idx_counter_entity_attr (entity_id=?)",
};
const DELETE_ENTITY: Stmt = Stmt {
    name: "delete: its row",
    sql: "UPDATE entities SET deleted_at_version = ?2 WHERE entity_id = ?1",
    plan: "INTEGER PRIMARY KEY (rowid=?)",
};

/// Every statement the SQLite side runs.
const STATEMENTS: &[&Stmt] = &[
    &NEW_VERSION,
    &LIVE_ENTITY,
    &INSERT_ENTITY,
    &INSERT_ATTR,
    &COUNTER_NEXT,
    &RETIRE_ATTR,
    &POOL_MEMBER,
    &IN_EXCLUSIVE_POOL,
    &RACK_BOUNDS,
    &IN_RACK,
    &RACK_UNITS,
    &RACK_SLOT,
    &LAST_IP,
    &IP_HELD,
    &GET_BY_NAME,
    &OWNER_EQ,
    &POOL_CONTENTS,
    &PARENTS,
    &ASOF_ENTITY,
    &ASOF_ATTRS,
    &DELETE_REFS,
    &DELETE_ATTRS,
    &DELETE_COUNTERS,
    &DELETE_ENTITY,
];

/// Checks that every statement's query plan is the index search it names and never a
/// scan (a `SCAN` of a table or index costs time in proportion to the data). A search
/// can also walk too much: planned on the `(entity_id, key)` index, the pool-membership
/// check walked the whole pool and made the load quadratic; hence the exact index and
/// columns per statement. Prints the plans when `print` is set.
fn check_plans(conn: &Connection, print: bool) {
    for q in STATEMENTS {
        let mut stmt = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {}", q.sql))
            .unwrap();
        let nulls = vec![None::<i64>; stmt.parameter_count()];
        let plan: Vec<String> = stmt
            .query_map(rusqlite::params_from_iter(nulls), |r| r.get(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        if print {
            eprintln!("{}: {}", q.name, q.sql);
            for line in &plan {
                eprintln!("    {line}");
            }
        }
        assert!(
            plan.iter().all(|l| !l.starts_with("SCAN"))
                && (q.plan.is_empty() || plan.iter().any(|l| l.contains(q.plan))),
            "{}: expected a search of {}, the plan is {plan:?}",
            q.name,
            q.plan
        );
    }
}

/// Checks that SQLite did not recompile any statement on a new binding. It does so,
/// silently, for a statement whose parameter it compared with a partial index's
/// `WHERE` (e.g. `key = ?2` against `WHERE key = '_contains'`): every execution then
/// pays a fresh prepare (~30 µs).
fn check_reprepares(conn: &Connection) {
    for q in STATEMENTS {
        let stmt = conn.prepare_cached(q.sql).unwrap();
        let n = stmt.get_status(rusqlite::StatementStatus::RePrepare);
        assert!(n == 0, "{}: recompiled {n} times", q.name);
    }
}

/// The SQLite side: the same logical operations on clusto's schema, with its version
/// semantics (one version row per transaction; deletes set deleted_at_version) and the
/// checks the original makes before each insert and allocation.
struct Sql {
    conn: Connection,
    version: i64,
    /// Per statement: executions and time, when `--profile` is given.
    profile: Option<RefCell<BTreeMap<&'static str, (u64, Duration)>>>,
}

impl Sql {
    fn record(&self, name: &'static str, start: Option<Instant>) {
        if let (Some(profile), Some(start)) = (&self.profile, start) {
            let mut p = profile.borrow_mut();
            let e = p.entry(name).or_default();
            e.0 += 1;
            e.1 += start.elapsed();
        }
    }

    /// Runs `f` on the cached statement `q`, timing it when profiling.
    fn run<R>(&self, q: &Stmt, f: impl FnOnce(&mut rusqlite::CachedStatement<'_>) -> R) -> R {
        let start = self.profile.as_ref().map(|_| Instant::now());
        let r = f(&mut self.conn.prepare_cached(q.sql).unwrap());
        self.record(q.name, start);
        r
    }

    fn exec(&self, q: &Stmt, p: impl rusqlite::Params) -> usize {
        self.run(q, |s| s.execute(p).unwrap())
    }

    fn one<T: rusqlite::types::FromSql>(&self, q: &Stmt, p: impl rusqlite::Params) -> Option<T> {
        self.run(q, |s| s.query_row(p, |r| r.get(0)).optional().unwrap())
    }

    /// Prints and clears the per-statement profile.
    fn report(&self, phase: &str) {
        if let Some(profile) = &self.profile {
            for (name, (count, total)) in std::mem::take(&mut *profile.borrow_mut()) {
                eprintln!(
                    "{phase}\t{name}\t{count}\t{:.3} s\t{:.2} µs each",
                    total.as_secs_f64(),
                    total.as_secs_f64() * 1e6 / count as f64
                );
            }
        }
    }

    fn begin(&mut self) {
        self.conn.execute_batch("BEGIN").unwrap();
        self.exec(&NEW_VERSION, []);
        self.version = self.conn.last_insert_rowid();
    }

    fn commit(&mut self) {
        let start = self.profile.as_ref().map(|_| Instant::now());
        self.conn.execute_batch("COMMIT").unwrap();
        self.record("COMMIT", start);
    }

    fn entity_id(&self, name: &str) -> i64 {
        self.one(&LIVE_ENTITY, [name]).unwrap()
    }

    fn create(&self, name: &str, type_name: &str, driver: &str) -> i64 {
        assert!(self.one::<i64>(&LIVE_ENTITY, [name]).is_none());
        self.exec(
            &INSERT_ENTITY,
            params![name, type_name, driver, self.version],
        );
        self.conn.last_insert_rowid()
    }

    #[allow(clippy::too_many_arguments)]
    fn add(
        &self,
        entity: i64,
        key: &str,
        subkey: Option<&str>,
        number: Option<i64>,
        datatype: &str,
        int: Option<i64>,
        text: Option<&str>,
        rel: Option<i64>,
    ) {
        self.exec(
            &INSERT_ATTR,
            params![
                entity,
                key,
                subkey,
                number,
                datatype,
                int,
                text,
                rel,
                self.version
            ],
        );
    }

    fn counter_next(&self, entity: i64, key: &str) -> i64 {
        self.one(&COUNTER_NEXT, params![entity, key]).unwrap()
    }

    fn set_attr(&self, entity: i64, key: &str, text: &str) {
        self.exec(&RETIRE_ATTR, params![entity, key, self.version]);
        self.add(entity, key, None, None, "string", None, Some(text), None);
    }

    /// Pool.insert with the original's checks.
    fn pool_insert(&self, pool: i64, thing: i64) {
        assert!(self.one::<i64>(&POOL_MEMBER, [thing, pool]).is_none());
        assert!(self.one::<i64>(&IN_EXCLUSIVE_POOL, [thing]).is_none());
        let c = self.counter_next(pool, "_contains");
        self.add(
            pool,
            "_contains",
            None,
            Some(c),
            "relation",
            None,
            None,
            Some(thing),
        );
    }

    /// BasicRack.insert of a device at one unit, with the original's checks.
    fn rack_insert(&self, rack: i64, device: i64, u: i64) {
        let (mut min, mut max) = (1, 45);
        self.run(&RACK_BOUNDS, |s| {
            let mut rows = s.query([rack]).unwrap();
            while let Some(r) = rows.next().unwrap() {
                let v: i64 = r.get(1).unwrap();
                if r.get_ref(0).unwrap().as_str().unwrap() == "minu" {
                    min = v;
                } else {
                    max = v;
                }
            }
        });
        assert!((min..=max).contains(&u));
        assert!(self.one::<i64>(&IN_RACK, [device]).is_none());
        if let Some(units) = self.one::<i64>(&RACK_UNITS, [device]) {
            assert_eq!(units, 1);
        }
        assert!(self.one::<i64>(&RACK_SLOT, [rack, u]).is_none());
        self.add(
            rack,
            "_contains",
            Some("ru"),
            Some(u),
            "relation",
            None,
            None,
            Some(device),
        );
    }

    /// IPManager.allocate of the next free address after `_lastip`, recorded the
    /// original's way: the value, its manager, `ipstring` and `cidr` under one global
    /// number, then `_lastip` set.
    fn allocate_ip(&self, meta: i64, net: i64, thing: i64, base: i64, prefix: u32) {
        let last: Option<String> = self.one(&LAST_IP, [net]);
        let mut ip = last.map_or(base, |s| s.parse().unwrap()) + 1;
        while self.one::<i64>(&IP_HELD, [ip]).is_some() {
            ip += 1;
        }
        let num = self.counter_next(meta, "ip");
        let addr = std::net::Ipv4Addr::from((ip + (1i64 << 31)) as u32).to_string();
        self.add(thing, "ip", None, Some(num), "int", Some(ip), None, None);
        self.add(
            thing,
            "ip",
            Some("manager"),
            Some(num),
            "relation",
            None,
            None,
            Some(net),
        );
        self.add(
            thing,
            "ip",
            Some("ipstring"),
            Some(num),
            "string",
            None,
            Some(&addr),
            None,
        );
        self.add(
            thing,
            "ip",
            Some("cidr"),
            Some(num),
            "string",
            None,
            Some(&format!("{addr}/{prefix}")),
            None,
        );
        self.set_attr(net, "_lastip", &ip.to_string());
    }
}

/// Options of a one-side run.
#[derive(Default)]
struct Opts {
    /// Print every SQLite statement's query plan, after the load and again after ANALYZE.
    explain: bool,
    /// Time every SQLite statement kind of the load, updates and deletes; for clusto,
    /// every call of the load.
    profile: bool,
}

fn sqlite_side(n: usize, dir: &Path, opts: &Opts) -> Vec<Row> {
    let mut rows = Vec::new();
    let path = dir.join("clusto.sqlite");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-262144;",
    )
    .unwrap();
    conn.execute_batch(SCHEMA).unwrap();
    // Room for every statement (the default keeps 16): an evicted one is prepared again.
    conn.set_prepared_statement_cache_capacity(2 * STATEMENTS.len());
    // Without statistics, plans do not depend on the data: check them before the load.
    check_plans(&conn, false);
    let mut db = Sql {
        conn,
        version: 0,
        profile: opts.profile.then(Default::default),
    };
    db.begin();
    let meta = db.create("clustometa", "clustometa", "clustometa");
    let dc = db.create("dc1", "datacenter", "basicdatacenter");
    let pools: Vec<i64> = (0..POOLS)
        .map(|p| db.create(&format!("pool{p}"), "pool", "pool"))
        .collect();
    let mut racks = Vec::new();
    for r in 0..n.div_ceil(PER_RACK) {
        let rack = db.create(&format!("rack{r}"), "rack", "basicrack");
        let c = db.counter_next(dc, "_contains");
        db.add(
            dc,
            "_contains",
            None,
            Some(c),
            "relation",
            None,
            None,
            Some(rack),
        );
        racks.push(rack);
    }
    let net = db.create("net", "resourcemanager", "ipmanager");
    db.commit();
    db.report("setup");
    // The network address of 10.0.0.0/prefix, stored as the original stores IPs.
    let base: i64 = (10i64 << 24) - (1i64 << 31);
    time(&mut rows, "load servers (1000 per transaction)", n, || {
        for b in 0..n / BATCH {
            db.begin();
            for i in b * BATCH..(b + 1) * BATCH {
                let s = db.create(&format!("s{i}"), "server", "basicserver");
                db.add(
                    s,
                    "system",
                    Some("serial"),
                    None,
                    "string",
                    None,
                    Some(&format!("P{i:010}")),
                    None,
                );
                db.add(
                    s,
                    "cpucount",
                    None,
                    None,
                    "int",
                    Some((i % 64) as i64),
                    None,
                    None,
                );
                db.add(
                    s,
                    "owner",
                    None,
                    None,
                    "string",
                    None,
                    Some(&format!("team{}", i % OWNERS)),
                    None,
                );
                db.pool_insert(pools[i % POOLS], s);
                db.rack_insert(racks[i / PER_RACK], s, (i % PER_RACK) as i64 + 1);
                db.allocate_ip(meta, net, s, base, prefix(n));
            }
            db.commit();
        }
    });
    db.report("load");
    check_plans(&db.conn, opts.explain);
    db.conn
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    let size = dir_size(dir);
    let loaded = db
        .conn
        .query_row("SELECT MAX(version) FROM clustoversioning", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap();
    let k = 20_000;
    time(&mut rows, "get by name", k, || {
        let mut stmt = db.conn.prepare_cached(GET_BY_NAME.sql).unwrap();
        for i in 0..k {
            let _: (i64, String) = stmt
                .query_row([format!("s{}", rng(i, n))], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap();
        }
    });
    time(&mut rows, "owner = X", 200, || {
        let mut stmt = db.conn.prepare_cached(OWNER_EQ.sql).unwrap();
        for i in 0..200 {
            let found: Vec<(i64, String)> = stmt
                .query_map([format!("team{}", i % OWNERS)], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .unwrap()
                .map(Result::unwrap)
                .collect();
            assert!(!found.is_empty());
        }
    });
    time(&mut rows, "pool contents", 20, || {
        let mut stmt = db.conn.prepare_cached(POOL_CONTENTS.sql).unwrap();
        for i in 0..20 {
            let found: Vec<(i64, String)> = stmt
                .query_map([pools[i % POOLS]], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            assert!(!found.is_empty());
        }
    });
    time(&mut rows, "parents of a server", k, || {
        let mut stmt = db.conn.prepare_cached(PARENTS.sql).unwrap();
        for i in 0..k {
            let id = db.entity_id(&format!("s{}", rng(i, n)));
            let found: Vec<(i64, String)> = stmt
                .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            assert!(found.len() >= 2);
        }
    });
    db.report("reads");
    time(
        &mut rows,
        "1000 attribute updates (one transaction)",
        1000,
        || {
            db.begin();
            for i in 0..1000 {
                let id = db.entity_id(&format!("s{}", rng(i, n)));
                db.set_attr(id, "owner", &format!("moved{i}"));
            }
            db.commit();
        },
    );
    db.report("updates");
    db.conn.execute_batch("PRAGMA synchronous=FULL").unwrap();
    time(
        &mut rows,
        "attribute update (durable, one per transaction)",
        200,
        || {
            for i in 0..200 {
                db.begin();
                let id = db.entity_id(&format!("s{}", rng(i + 7, n)));
                db.set_attr(id, "owner", &format!("again{i}"));
                db.commit();
            }
        },
    );
    db.report("durable updates");
    db.conn.execute_batch("PRAGMA synchronous=NORMAL").unwrap();
    time(
        &mut rows,
        "as-of read: server and attributes at load time",
        k,
        || {
            let mut ent = db.conn.prepare_cached(ASOF_ENTITY.sql).unwrap();
            let mut attrs = db.conn.prepare_cached(ASOF_ATTRS.sql).unwrap();
            for i in 0..k {
                let id: i64 = ent
                    .query_row(params![format!("s{}", rng(i, n)), loaded], |r| r.get(0))
                    .unwrap();
                let count = attrs
                    .query_map(params![id, loaded], |r| r.get::<_, String>(0))
                    .unwrap()
                    .count();
                assert!(count > 3);
            }
        },
    );
    time(
        &mut rows,
        "delete 1000 servers (one transaction)",
        1000,
        || {
            db.begin();
            for i in 0..1000 {
                let id = db.entity_id(&format!("s{}", n - 1 - i));
                let v = db.version;
                db.exec(&DELETE_REFS, params![id, v]);
                db.exec(&DELETE_ATTRS, params![id, v]);
                db.exec(&DELETE_COUNTERS, [id]);
                db.exec(&DELETE_ENTITY, params![id, v]);
            }
            db.commit();
        },
    );
    db.report("delete");
    check_reprepares(&db.conn);
    if opts.explain {
        // The plans must not depend on the planner guessing without statistics.
        db.conn.execute_batch("ANALYZE").unwrap();
        eprintln!("after ANALYZE:");
        check_plans(&db.conn, true);
    }
    rows.push((
        "database size after load (MiB)".into(),
        0,
        size as f64 / 1048576.0,
    ));
    rows
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--bench"))
        .collect();
    if let [flag, side, n, rest @ ..] = args.as_slice()
        && flag == "--side"
    {
        let n: usize = n.parse().unwrap();
        let mut opts = Opts::default();
        for a in rest {
            match a.as_str() {
                "--explain" => opts.explain = true,
                "--profile" => opts.profile = true,
                other => panic!("unknown option {other}"),
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let peaks = RssPeaks::start();
        let rows = match side.as_str() {
            "lmdb" | "sled" | "postgresql" => clusto_side(n, dir.path(), side, &opts),
            "sqlite" => sqlite_side(n, dir.path(), &opts),
            other => panic!("unknown side {other}: lmdb, sled, postgresql or sqlite"),
        };
        for (name, count, secs) in rows {
            println!("{name}\t{count}\t{secs}");
        }
        let (anon, file) = peaks.finish();
        println!("peak RSS (MiB)\t0\t{}", peak_rss_mib().unwrap_or(0.0));
        println!("peak anonymous RSS (MiB)\t0\t{anon}");
        println!("peak file-backed RSS (MiB)\t0\t{file}");
        return;
    }
    let sizes = sizes_from_args(&[10_000, 100_000]);
    let rounds: usize = std::env::var("CLUSTO_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3)
        .max(1);
    let exe = std::env::current_exe().unwrap();
    let mut sides = vec!["lmdb", "sled"];
    if bench_server().is_some() {
        sides.push("postgresql");
    }
    let title = |side: &str| match side {
        "lmdb" => "LMDB",
        "sled" => "sled",
        _ => "PostgreSQL",
    };
    println!("Each side: the median of {rounds} runs, the sides taking turns.\n");
    println!(
        "| N | operation | {} | SQLite ops/s | {} |",
        sides
            .iter()
            .map(|s| format!("{} ops/s", title(s)))
            .collect::<Vec<_>>()
            .join(" | "),
        sides
            .iter()
            .map(|s| format!("{} / SQLite", title(s)))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("|---:|---|{}", "---:|".repeat(2 * sides.len() + 1));
    for n in sizes {
        let run = |side: &str| -> BTreeMap<String, (usize, f64)> {
            let out = Command::new(&exe)
                .args(["--side", side, &n.to_string()])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .map(|l| {
                    let f: Vec<&str> = l.split('\t').collect();
                    (
                        f[0].to_owned(),
                        (f[1].parse().unwrap(), f[2].parse().unwrap()),
                    )
                })
                .collect()
        };
        let mut sqlite_runs = Vec::new();
        let mut our_runs = vec![Vec::new(); sides.len()];
        for _ in 0..rounds {
            sqlite_runs.push(run("sqlite"));
            for (runs, side) in our_runs.iter_mut().zip(&sides) {
                runs.push(run(side));
            }
        }
        let sqlite = medians(&sqlite_runs);
        let ours: Vec<_> = our_runs.iter().map(|runs| medians(runs)).collect();
        // Every row some side measured, in the table's order; a row only one side has
        // (the PostgreSQL floor) shows "—" elsewhere.
        let mut order: Vec<(String, usize)> = Vec::new();
        for side in &ours {
            for (name, (count, _)) in side {
                if !order.iter().any(|(n, _)| n == name) {
                    order.push((name.clone(), *count));
                }
            }
        }
        let position = |name: &str| {
            ROW_ORDER
                .iter()
                .position(|r| *r == name)
                .unwrap_or(ROW_ORDER.len())
        };
        order.sort_by_key(|(name, _)| position(name));
        for (name, count) in order {
            let value = |side: &BTreeMap<String, (usize, f64)>| side.get(&name).map(|(_, v)| *v);
            let shown = |v: Option<f64>| -> Option<f64> {
                v.map(|v| if count == 0 { v } else { count as f64 / v })
            };
            let q = shown(value(&sqlite));
            let cells: Vec<String> = ours
                .iter()
                .map(|side| shown(value(side)).map_or("—".into(), |v| format!("{v:.0}")))
                .collect();
            let ratios: Vec<String> = ours
                .iter()
                .map(|side| match (shown(value(side)), q) {
                    (Some(v), Some(q)) => format!("{:.2}", v / q),
                    _ => "—".into(),
                })
                .collect();
            let lower = if count == 0 { " (lower is better)" } else { "" };
            println!(
                "| {n} | {name}{lower} | {} | {} | {} |",
                cells.join(" | "),
                q.map_or("—".into(), |q| format!("{q:.0}")),
                ratios.join(" | ")
            );
        }
    }
}

/// Each row's median over `runs` of one side (count, then seconds or MiB).
fn medians(runs: &[BTreeMap<String, (usize, f64)>]) -> BTreeMap<String, (usize, f64)> {
    let mut values: BTreeMap<String, (usize, Vec<f64>)> = BTreeMap::new();
    for run in runs {
        for (name, (count, v)) in run {
            values
                .entry(name.clone())
                .or_insert((*count, Vec::new()))
                .1
                .push(*v);
        }
    }
    values
        .into_iter()
        .map(|(name, (count, mut vs))| {
            vs.sort_by(f64::total_cmp);
            (name, (count, vs[vs.len() / 2]))
        })
        .collect()
}

/// The order of the table's rows.
const ROW_ORDER: &[&str] = &[
    "load servers (1000 per transaction)",
    "get by name",
    "owner = X",
    "pool contents",
    "parents of a server",
    "1000 attribute updates (one transaction)",
    "attribute update (durable, one per transaction)",
    "PostgreSQL's own commit: one-row upsert, autocommit",
    "PostgreSQL's own commit: an update's 13 rows in one statement, autocommit",
    "PostgreSQL's own COPY of the load's rows (1000 servers' per transaction)",
    "rows the load stored per server",
    "as-of read: server and attributes at load time",
    "delete 1000 servers (one transaction)",
    "database size after load (MiB)",
    "peak RSS (MiB)",
    "peak anonymous RSS (MiB)",
    "peak file-backed RSS (MiB)",
];
