//! The `clusto` binary's start-up: a fresh process that opens an N-entity database and
//! answers `clusto info NAME`, timed from spawn to exit. Usage:
//! `cargo bench -p clusto-cli --bench startup -- [N…]` (default 100000).
//! `CLUSTO_BENCH_DB=path` keeps (or reuses) the database there.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use clusto_core::{Clusto, NewAttr, TxMeta};

const RUNS: usize = 30;

/// Servers in racks, with the attributes the other benchmarks give them.
fn build(path: &Path, n: usize) {
    let db = Clusto::open(path).unwrap();
    if db.latest_version().unwrap() > 0 {
        return;
    }
    db.write(TxMeta::new("bench", "init"), |tx| {
        tx.init_clusto().map(drop)
    })
    .unwrap();
    for batch in 0..n.div_ceil(1000) {
        db.write(TxMeta::new("bench", "load"), |tx| {
            let mut rack = None;
            for i in batch * 1000..((batch + 1) * 1000).min(n) {
                if i % 40 == 0 {
                    rack = Some(tx.create("basicrack", &format!("rack{}", i / 40), &[])?.id);
                }
                let rack = rack.expect("a rack every 40 servers");
                let s = tx.create("basicserver", &format!("s{i}"), &[])?;
                tx.add_attr(
                    s.id,
                    NewAttr::new("system", format!("P{i:010}")).subkey("serial"),
                )?;
                tx.add_attr(s.id, NewAttr::new("owner", format!("team{}", i % 100)))?;
                tx.rack_insert(rack, s.id, &[(i % 40) as i64 + 1])?;
            }
            Ok(())
        })
        .unwrap();
    }
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![100_000]
    } else {
        sizes
    };
    println!("| entities | command | runs | median ms | p90 ms | max ms |");
    println!("|---:|---|---:|---:|---:|---:|");
    for n in sizes {
        let dir = tempfile::tempdir().unwrap();
        let path = std::env::var("CLUSTO_BENCH_DB")
            .map(|p| Path::new(&p).to_path_buf())
            .unwrap_or_else(|_| dir.path().join("db"));
        build(&path, n);
        let name = format!("s{}", n / 2);
        let mut times: Vec<Duration> = (0..RUNS)
            .map(|_| {
                let start = Instant::now();
                let out = Command::new(env!("CARGO_BIN_EXE_clusto"))
                    .arg("--dsn")
                    .arg(&path)
                    .args(["info", &name])
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                start.elapsed()
            })
            .collect();
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "| {n} | clusto info {name} | {RUNS} | {:.1} | {:.1} | {:.1} |",
            ms(times[RUNS / 2]),
            ms(times[RUNS * 9 / 10]),
            ms(times[RUNS - 1])
        );
    }
}
