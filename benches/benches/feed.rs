//! The change feed and diffs at scale: a diff between two versions of a 100k-entity
//! database with 10 changes between them, and the latency from a commit to a watcher in
//! another process waking. Usage: `cargo bench -p clusto-benches --bench feed -- [N]`
//! (default 100000).

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clusto_benches::sizes_from_args;
use clusto_core::{Clusto, NewAttr, TxMeta};

/// Runs as the watcher child: waits for each next version, prints it at once.
fn watcher(dsn: &str) {
    let db = Clusto::open(dsn).unwrap();
    let mut seen = db.latest_version().unwrap();
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready {seen}").unwrap();
    out.flush().unwrap();
    loop {
        seen = db.wait_for_version(seen, None).unwrap();
        writeln!(out, "woke {seen}").unwrap();
        out.flush().unwrap();
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, dsn, ..] = args.as_slice()
        && flag == "--watcher"
    {
        return watcher(dsn);
    }
    let n = sizes_from_args(&[100_000])[0];
    let dir = tempfile::tempdir().unwrap();
    let dsn = dir.path().join("db").display().to_string();
    let db = Clusto::open(&dsn).unwrap();
    for batch in 0..n.div_ceil(1000) {
        db.write(TxMeta::new("bench", "load"), |tx| {
            for i in batch * 1000..((batch + 1) * 1000).min(n) {
                let s = tx.create_entity(&format!("s{i}"), "server", "basicserver")?;
                tx.add_attr(s.id, NewAttr::new("owner", format!("team{}", i % 100)))?;
                tx.add_attr(s.id, NewAttr::new("serial", format!("SN{i:08}")))?;
            }
            Ok(())
        })
        .unwrap();
    }
    let before = db.latest_version().unwrap();
    for c in 0..10 {
        db.write(TxMeta::new("bench", "change"), |tx| {
            let s = tx.view().entity(&format!("s{}", c * 997 % n))?;
            tx.set_attr(s.id, NewAttr::new("owner", format!("moved{c}")))
                .map(drop)
        })
        .unwrap();
    }
    let runs = 200;
    let started = Instant::now();
    for _ in 0..runs {
        let diff = db.diff(before, None, &[]).unwrap();
        assert_eq!(diff.entities.len(), 10);
    }
    let per_diff = started.elapsed() / runs;
    println!("| entities | operation | runs | µs each |");
    println!("|---:|---|---:|---:|");
    println!(
        "| {n} | diff across 10 changes (10 entities changed) | {runs} | {:.1} |",
        per_diff.as_secs_f64() * 1e6
    );

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--watcher", &dsn])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = lines.next().unwrap().unwrap();
    assert!(ready.starts_with("ready"), "{ready}");
    let mut latencies = Vec::new();
    for i in 0..50 {
        std::thread::sleep(Duration::from_millis(fastrand::u64(5..40)));
        let version = db
            .write(TxMeta::new("bench", "watched"), |tx| {
                let s = tx.view().entity(&format!("s{i}"))?;
                tx.set_attr(s.id, NewAttr::new("note", i as i64))?;
                tx.version()
            })
            .unwrap();
        let committed = Instant::now();
        let line = lines.next().unwrap().unwrap();
        latencies.push(committed.elapsed());
        assert_eq!(line, format!("woke {version}"));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    latencies.sort();
    println!();
    println!(
        "| watch latency, commit → watcher in another process woken | runs | median ms | p90 ms | max ms |"
    );
    println!("|---|---:|---:|---:|---:|");
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "| LMDB, {n} entities | {} | {:.2} | {:.2} | {:.2} |",
        latencies.len(),
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.9)),
        ms(*latencies.last().unwrap())
    );
}
