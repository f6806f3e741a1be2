//! clusto vs SQLite on clusto's own relational schema, the same workload on both sides
//! (issue 7): a data-center inventory of N servers — 3 attributes, one of 10 pools, a
//! rack slot and an IP each — then point reads, attribute-equality queries, pool
//! contents, parents, attribute updates (bulk and durable), as-of reads and deletes.
//!
//! Usage: `cargo bench -p clusto-benches --bench versus -- [N…]` (default 10000 100000).
//! Each side runs in its own process so peak RSS is its own.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use clusto_benches::{dir_size, peak_rss_mib};
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

fn clusto_side(n: usize, dir: &Path) -> Vec<Row> {
    let mut rows = Vec::new();
    let db = Clusto::open_with(
        dir.join("db"),
        &OpenOptions {
            durability: Durability::Immediate,
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
                    let s = tx.create("basicserver", &format!("s{i}"), &[])?;
                    tx.add_attr(
                        s.id,
                        NewAttr::new("system", format!("P{i:010}")).subkey("serial"),
                    )?;
                    tx.add_attr(s.id, NewAttr::new("cpucount", (i % 64) as i64))?;
                    tx.add_attr(s.id, NewAttr::new("owner", format!("team{}", i % OWNERS)))?;
                    tx.insert(pools[i % POOLS], s.id)?;
                    tx.rack_insert(racks[i / PER_RACK], s.id, &[(i % PER_RACK) as i64 + 1])?;
                    tx.allocate(net, s.id, None, NumberSpec::Next, false)?;
                }
                Ok(())
            })
            .unwrap();
        }
    });
    let size = dir_size(dir);
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
-- what a competent DBA adds for these queries
CREATE INDEX idx_attrs_relation ON entity_attrs (relation_id, key) WHERE relation_id IS NOT NULL;
CREATE INDEX idx_attrs_key_str ON entity_attrs (key, string_value) WHERE deleted_at_version IS NULL;
CREATE INDEX idx_attrs_key_int ON entity_attrs (key, int_value) WHERE deleted_at_version IS NULL;
CREATE INDEX idx_entities_live_name ON entities (name) WHERE deleted_at_version IS NULL;
CREATE INDEX idx_attrs_live_entity_key ON entity_attrs (entity_id, key) WHERE deleted_at_version IS NULL;
";

/// The SQLite side: the same logical operations on clusto's schema, with its version
/// semantics (one version row per transaction; deletes set deleted_at_version).
struct Sql {
    conn: Connection,
    version: i64,
}

impl Sql {
    fn begin(&mut self) {
        self.conn.execute_batch("BEGIN").unwrap();
        self.conn
            .execute("INSERT INTO clustoversioning (timestamp, user, description) VALUES (CURRENT_TIMESTAMP, 'bench', 'op')", [])
            .unwrap();
        self.version = self.conn.last_insert_rowid();
    }

    fn commit(&mut self) {
        self.conn.execute_batch("COMMIT").unwrap();
    }

    fn entity_id(&self, name: &str) -> i64 {
        self.conn
            .prepare_cached(
                "SELECT entity_id FROM entities WHERE name = ?1 AND deleted_at_version IS NULL",
            )
            .unwrap()
            .query_row([name], |r| r.get(0))
            .unwrap()
    }

    fn create(&self, name: &str, type_name: &str, driver: &str) -> i64 {
        let exists: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT entity_id FROM entities WHERE name = ?1 AND deleted_at_version IS NULL",
            )
            .unwrap()
            .query_row([name], |r| r.get(0))
            .optional()
            .unwrap();
        assert!(exists.is_none());
        self.conn
            .prepare_cached(
                "INSERT INTO entities (name, type, driver, version) VALUES (?1, ?2, ?3, ?4)",
            )
            .unwrap()
            .execute(params![name, type_name, driver, self.version])
            .unwrap();
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
        self.conn
            .prepare_cached(
                "INSERT INTO entity_attrs (entity_id, key, subkey, number, datatype, int_value, string_value, relation_id, version) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .unwrap()
            .execute(params![entity, key, subkey, number, datatype, int, text, rel, self.version])
            .unwrap();
    }

    fn counter_next(&self, entity: i64, key: &str) -> i64 {
        self.conn
            .prepare_cached(
                "INSERT INTO counters (entity_id, attr_key, value) VALUES (?1, ?2, 0) \
                 ON CONFLICT (entity_id, attr_key) DO UPDATE SET value = value + 1 RETURNING value",
            )
            .unwrap()
            .query_row(params![entity, key], |r| r.get(0))
            .unwrap()
    }

    fn set_attr(&self, entity: i64, key: &str, text: &str) {
        self.conn
            .prepare_cached(
                "UPDATE entity_attrs INDEXED BY idx_attrs_live_entity_key SET deleted_at_version = ?3 WHERE entity_id = ?1 AND key = ?2 AND subkey IS NULL \
                 AND number IS NULL AND deleted_at_version IS NULL",
            )
            .unwrap()
            .execute(params![entity, key, self.version])
            .unwrap();
        self.add(entity, key, None, None, "string", None, Some(text), None);
    }
}

fn sqlite_side(n: usize, dir: &Path) -> Vec<Row> {
    let mut rows = Vec::new();
    let path = dir.join("clusto.sqlite");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-262144;",
    )
    .unwrap();
    conn.execute_batch(SCHEMA).unwrap();
    // Without statistics SQLite's planner may pick the wide `key` index for the IP and
    // `_lastip` lookups, which makes the load quadratic; the two statements below name
    // the partial indexes a DBA would point them at.
    let mut db = Sql { conn, version: 0 };
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
    let base: i64 = (10i64 << 24) - (1i64 << 31);
    time(&mut rows, "load servers (1000 per transaction)", n, || {
        let mut last_ip = base;
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
                let pool = pools[i % POOLS];
                let member: Option<i64> = db
                    .conn
                    .prepare_cached("SELECT attr_id FROM entity_attrs WHERE relation_id = ?1 AND key = '_contains' AND entity_id = ?2 AND deleted_at_version IS NULL")
                    .unwrap()
                    .query_row(params![s, pool], |r| r.get(0))
                    .optional()
                    .unwrap();
                assert!(member.is_none());
                let c = db.counter_next(pool, "_contains");
                db.add(
                    pool,
                    "_contains",
                    None,
                    Some(c),
                    "relation",
                    None,
                    None,
                    Some(s),
                );
                let rack = racks[i / PER_RACK];
                let u = (i % PER_RACK) as i64 + 1;
                let taken: Option<i64> = db
                    .conn
                    .prepare_cached("SELECT attr_id FROM entity_attrs WHERE entity_id = ?1 AND key = '_contains' AND subkey = 'ru' AND number = ?2 AND deleted_at_version IS NULL")
                    .unwrap()
                    .query_row(params![rack, u], |r| r.get(0))
                    .optional()
                    .unwrap();
                assert!(taken.is_none());
                db.add(
                    rack,
                    "_contains",
                    Some("ru"),
                    Some(u),
                    "relation",
                    None,
                    None,
                    Some(s),
                );
                // The next free address after the last one handed out.
                let mut ip = last_ip + 1;
                loop {
                    let held: Option<i64> = db
                        .conn
                        .prepare_cached("SELECT attr_id FROM entity_attrs INDEXED BY idx_attrs_key_int WHERE key = 'ip' AND int_value = ?1 AND number IS NOT NULL AND deleted_at_version IS NULL")
                        .unwrap()
                        .query_row([ip], |r| r.get(0))
                        .optional()
                        .unwrap();
                    if held.is_none() {
                        break;
                    }
                    ip += 1;
                }
                last_ip = ip;
                let num = db.counter_next(meta, "ip");
                let addr = std::net::Ipv4Addr::from((ip + (1i64 << 31)) as u32).to_string();
                db.add(s, "ip", None, Some(num), "int", Some(ip), None, None);
                db.add(
                    s,
                    "ip",
                    Some("manager"),
                    Some(num),
                    "relation",
                    None,
                    None,
                    Some(net),
                );
                db.add(
                    s,
                    "ip",
                    Some("ipstring"),
                    Some(num),
                    "string",
                    None,
                    Some(&addr),
                    None,
                );
                db.add(
                    s,
                    "ip",
                    Some("cidr"),
                    Some(num),
                    "string",
                    None,
                    Some(&format!("{addr}/{}", prefix(n))),
                    None,
                );
                db.set_attr(net, "_lastip", &ip.to_string());
            }
            db.commit();
        }
    });
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
        let mut stmt = db.conn.prepare_cached("SELECT entity_id, name, type, driver, version FROM entities WHERE name = ?1 AND deleted_at_version IS NULL").unwrap();
        for i in 0..k {
            let _: (i64, String) = stmt
                .query_row([format!("s{}", rng(i, n))], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap();
        }
    });
    time(&mut rows, "owner = X", 200, || {
        let mut stmt = db.conn.prepare_cached("SELECT e.entity_id, e.name FROM entity_attrs a JOIN entities e ON e.entity_id = a.entity_id WHERE a.key = 'owner' AND a.string_value = ?1 AND a.deleted_at_version IS NULL").unwrap();
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
        let mut stmt = db.conn.prepare_cached("SELECT e.entity_id, e.name FROM entity_attrs a JOIN entities e ON e.entity_id = a.relation_id WHERE a.entity_id = ?1 AND a.key = '_contains' AND a.deleted_at_version IS NULL ORDER BY a.attr_id").unwrap();
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
        let mut stmt = db.conn.prepare_cached("SELECT DISTINCT e.entity_id, e.name FROM entity_attrs a JOIN entities e ON e.entity_id = a.entity_id WHERE a.relation_id = ?1 AND a.key = '_contains' AND a.deleted_at_version IS NULL").unwrap();
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
    db.conn.execute_batch("PRAGMA synchronous=NORMAL").unwrap();
    time(
        &mut rows,
        "as-of read: server and attributes at load time",
        k,
        || {
            let mut ent = db.conn.prepare_cached("SELECT entity_id FROM entities WHERE name = ?1 AND version <= ?2 AND (deleted_at_version IS NULL OR deleted_at_version > ?2)").unwrap();
            let mut attrs = db.conn.prepare_cached("SELECT key, subkey, number, datatype, int_value, string_value, relation_id FROM entity_attrs WHERE entity_id = ?1 AND version <= ?2 AND (deleted_at_version IS NULL OR deleted_at_version > ?2)").unwrap();
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
                db.conn.prepare_cached("UPDATE entity_attrs SET deleted_at_version = ?2 WHERE relation_id = ?1 AND deleted_at_version IS NULL").unwrap().execute(params![id, v]).unwrap();
                db.conn.prepare_cached("UPDATE entity_attrs SET deleted_at_version = ?2 WHERE entity_id = ?1 AND deleted_at_version IS NULL").unwrap().execute(params![id, v]).unwrap();
                db.conn
                    .prepare_cached("DELETE FROM counters WHERE entity_id = ?1")
                    .unwrap()
                    .execute([id])
                    .unwrap();
                db.conn
                    .prepare_cached(
                        "UPDATE entities SET deleted_at_version = ?2 WHERE entity_id = ?1",
                    )
                    .unwrap()
                    .execute(params![id, v])
                    .unwrap();
            }
            db.commit();
        },
    );
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
    if let [flag, side, n] = args.as_slice()
        && flag == "--side"
    {
        let n: usize = n.parse().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let rows = if side == "clusto" {
            clusto_side(n, dir.path())
        } else {
            sqlite_side(n, dir.path())
        };
        for (name, count, secs) in rows {
            println!("{name}\t{count}\t{secs}");
        }
        println!("peak RSS (MiB)\t0\t{}", peak_rss_mib().unwrap_or(0.0));
        return;
    }
    let sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() {
        vec![10_000, 100_000]
    } else {
        sizes
    };
    let exe = std::env::current_exe().unwrap();
    println!("| N | operation | clusto ops/s | SQLite ops/s | clusto / SQLite |");
    println!("|---:|---|---:|---:|---:|");
    for n in sizes {
        let run = |side: &str| -> Vec<(String, usize, f64)> {
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
                        f[1].parse().unwrap(),
                        f[2].parse().unwrap(),
                    )
                })
                .collect()
        };
        let (ours, theirs) = (run("clusto"), run("sqlite"));
        for ((name, count, a), (_, _, b)) in ours.iter().zip(&theirs) {
            if *count == 0 {
                println!(
                    "| {n} | {name} | {a:.0} | {b:.0} | {:.2} (lower is better) |",
                    a / b
                );
            } else {
                let (ra, rb) = (*count as f64 / a, *count as f64 / b);
                println!("| {n} | {name} | {ra:.0} | {rb:.0} | {:.2} |", ra / rb);
            }
        }
    }
}
