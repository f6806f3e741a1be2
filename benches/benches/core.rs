//! clusto-core at N entities: load, point reads, attribute queries, reverse lookups and
//! durable single commits. Usage: `cargo bench -p clusto-benches --bench core -- [N…]`
//! (default 10000 100000). `CLUSTO_BENCH_DSN=postgresql://…` runs it on that server, in a
//! schema of its own per size (made, and dropped after).

use clusto_benches::{Row, dir_size, measure, peak_rss_mib, print_table, sizes_from_args};
use clusto_core::{AttrFilter, Clusto, EntityId, NewAttr, OpenOptions, TxMeta};

const BATCH: usize = 1000;
const SERVERS_PER_RACK: usize = 40;
const OWNERS: usize = 100;

fn run(n: usize, rows: &mut Vec<Row>) {
    let dir = tempfile::tempdir().unwrap();
    let server = std::env::var("CLUSTO_BENCH_DSN").ok();
    let dsn = match &server {
        Some(server) => format!("{server}?schema=bench_{n}_{}", std::process::id()),
        None => dir.path().join("db").display().to_string(),
    };
    let options = OpenOptions {
        create: true,
        ..Default::default()
    };
    let db = Clusto::open_with(&dsn, &options).unwrap();
    let racks: Vec<EntityId> = db
        .write(TxMeta::new("bench", "racks"), |tx| {
            (0..n.div_ceil(SERVERS_PER_RACK))
                .map(|r| {
                    Ok(tx
                        .create_entity(&format!("rack{r}"), "rack", "basicrack")?
                        .id)
                })
                .collect()
        })
        .unwrap();

    let mut row = measure(
        n,
        "create server + 3 attrs + rack relation (1000/tx)",
        n / BATCH,
        |b| {
            db.write(TxMeta::new("bench", "load"), |tx| {
                for i in b * BATCH..(b + 1) * BATCH {
                    let s = tx.create_entity(&format!("s{i}"), "server", "basicserver")?;
                    tx.add_attr(
                        s.id,
                        NewAttr::new("system", format!("P{i:010}")).subkey("serial"),
                    )?;
                    tx.add_attr(s.id, NewAttr::new("cpucount", (i % 64) as i64))?;
                    tx.add_attr(s.id, NewAttr::new("owner", format!("team{}", i % OWNERS)))?;
                    tx.add_attr(s.id, NewAttr::new("rack", racks[i / SERVERS_PER_RACK]))?;
                }
                Ok(())
            })
            .unwrap();
        },
    );
    row.ops = n;
    rows.push(row);

    let lookups = 100_000;
    rows.push(measure(n, "get entity by name", lookups, |_| {
        let name = format!("s{}", fastrand::usize(..n));
        db.read(|v| v.entity(&name)).unwrap();
    }));
    rows.push(measure(n, "attrs of one entity", lookups, |_| {
        let name = format!("s{}", fastrand::usize(..n));
        db.read(|v| v.attrs(v.entity(&name)?.id, &AttrFilter::any()))
            .unwrap();
    }));
    let queries = 1000;
    rows.push(measure(
        n,
        &format!("owner = X ({} results)", n / OWNERS),
        queries,
        |_| {
            let owner = format!("team{}", fastrand::usize(..OWNERS));
            let found = db
                .read(|v| v.owners(&AttrFilter::key("owner").value(owner)))
                .unwrap();
            assert_eq!(found.len(), n / OWNERS);
        },
    ));
    rows.push(measure(n, "serial = X (1 result)", lookups, |_| {
        let serial = format!("P{:010}", fastrand::usize(..n));
        let f = AttrFilter::key("system").subkey("serial").value(serial);
        assert_eq!(db.read(|v| v.owners(&f)).unwrap().len(), 1);
    }));
    rows.push(measure(
        n,
        "reverse lookup: servers of a rack (40)",
        10_000,
        |_| {
            let rack = racks[fastrand::usize(..racks.len())];
            db.read(|v| v.referencers(rack, &AttrFilter::key("rack")))
                .unwrap();
        },
    ));
    let durable = 500;
    rows.push(measure(
        n,
        "durable commit: set one attribute",
        durable,
        |i| {
            let name = format!("s{}", fastrand::usize(..n));
            db.write(TxMeta::new("bench", "update"), |tx| {
                let id = tx.view().entity(&name)?.id;
                tx.set_attr(id, NewAttr::new("owner", format!("moved{i}")))
            })
            .unwrap();
        },
    ));
    let v = db.latest_version().unwrap() / 2;
    rows.push(measure(
        n,
        "as-of read: entity + attrs at an old version",
        10_000,
        |_| {
            let name = format!("s{}", fastrand::usize(..n / 2));
            db.read_at(v, |view| {
                view.attrs(view.entity(&name)?.id, &AttrFilter::any())
            })
            .unwrap();
        },
    ));
    db.flush().unwrap();
    eprintln!(
        "n={n}: database {:.1} MiB on disk, peak RSS so far {:.0} MiB",
        match server {
            Some(_) => db.size_on_disk().unwrap() as f64 / 1048576.0,
            None => dir_size(dir.path()) as f64 / 1048576.0,
        },
        peak_rss_mib().unwrap_or(0.0)
    );
    drop(db);
    if server.is_some() {
        clusto_core::storage::drop_postgres_schema(&dsn).unwrap();
    }
}

fn main() {
    let sizes = sizes_from_args(&[10_000, 100_000]);
    let mut rows = Vec::new();
    for n in sizes {
        run(n, &mut rows);
    }
    print_table(&rows);
}
