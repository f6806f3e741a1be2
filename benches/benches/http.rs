//! `clusto serve` under load: requests per second and latency of `GET /by-name/NAME` and
//! of an IP allocation (`POST /resourcemanager/ipmanager/NAME`), by 1 and 8 keep-alive
//! clients on loopback, against a database of N servers (default 10000).
//! Usage: `cargo bench -p clusto-benches --bench http -- [N]`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clusto_benches::sizes_from_args;
use clusto_core::{Clusto, Durability, NewAttr, OpenOptions, TxMeta};
use clusto_server::{Config, Server, Tokens};

const TOKEN: &str = "bench-0123456789abcdef";
const RUN: Duration = Duration::from_secs(3);

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1000.0
}

/// Starts a server on `db` and gives its base URL; it runs until the process ends.
fn serve(db: Clusto) -> String {
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        tokens: Some(Tokens::parse(&format!("bench {TOKEN}")).unwrap()),
        access_log: false,
        ..Config::default()
    };
    let server = Server::bind(db, config).unwrap();
    let url = format!("http://{}", server.local_addr().unwrap());
    std::thread::spawn(move || server.run_until(std::future::pending()));
    url
}

/// Runs `clients` threads for [`RUN`], each calling `request(client, thread, i)` in a
/// loop; prints a row.
fn load(
    label: &str,
    clients: usize,
    request: impl Fn(&reqwest::blocking::Client, usize, usize) -> u16 + Sync,
) {
    let deadline = Instant::now() + RUN;
    let failures = AtomicUsize::new(0);
    let started = Instant::now();
    let mut latencies: Vec<Duration> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|t| {
                let request = &request;
                let failures = &failures;
                scope.spawn(move || {
                    let client = reqwest::blocking::Client::new();
                    let mut own = Vec::new();
                    let mut i = 0;
                    while Instant::now() < deadline {
                        let t0 = Instant::now();
                        let status = request(&client, t, i);
                        own.push(t0.elapsed());
                        if !(200..300).contains(&status) {
                            failures.fetch_add(1, Ordering::Relaxed);
                        }
                        i += 1;
                    }
                    own
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let elapsed = started.elapsed();
    latencies.sort();
    assert_eq!(
        failures.load(Ordering::Relaxed),
        0,
        "{label}: failed requests"
    );
    println!(
        "| {label} | {clients} | {} | {:.0} | {:.2} | {:.2} |",
        latencies.len(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
    );
}

fn run(n: usize, durability: Durability, label: &str) {
    let dir = tempfile::tempdir().unwrap();
    let options = OpenOptions {
        durability,
        ..OpenOptions::default()
    };
    let db = Clusto::open_with(dir.path().join("db"), &options).unwrap();
    db.write(TxMeta::new("bench", "init"), |tx| {
        tx.init_clusto()?;
        let props = [
            ("baseip", "10.0.0.0".into()),
            ("netmask", "255.0.0.0".into()),
        ];
        tx.create("ipmanager", "net", &props).map(drop)
    })
    .unwrap();
    for batch in 0..n.div_ceil(1000) {
        db.write(TxMeta::new("bench", "load"), |tx| {
            for i in batch * 1000..((batch + 1) * 1000).min(n) {
                let s = tx.create("basicserver", &format!("s{i}"), &[])?;
                tx.add_attr(s.id, NewAttr::new("owner", format!("team{}", i % 100)))?;
            }
            Ok(())
        })
        .unwrap();
    }
    let url = Arc::new(serve(db));
    for clients in [1, 8] {
        load(&format!("GET /by-name ({label})"), clients, |c, t, i| {
            let name = (t * 7919 + i * 104_729) % n;
            c.get(format!("{url}/by-name/s{name}"))
                .send()
                .unwrap()
                .status()
                .as_u16()
        });
    }
    let next = AtomicUsize::new(0);
    for clients in [1, 8] {
        load(
            &format!("POST allocate an IP ({label})"),
            clients,
            |c, _, _| {
                let server = next.fetch_add(1, Ordering::Relaxed) % n;
                c.post(format!("{url}/resourcemanager/ipmanager/net"))
                    .bearer_auth(TOKEN)
                    .form(&[("object", format!("s{server}"))])
                    .send()
                    .unwrap()
                    .status()
                    .as_u16()
            },
        );
    }
}

fn main() {
    let n = sizes_from_args(&[10_000])[0];
    println!(
        "{n} servers, LMDB, loopback, keep-alive clients, {} s per row\n",
        RUN.as_secs()
    );
    println!("| request | clients | requests | per second | p50 ms | p99 ms |");
    println!("|---|---:|---:|---:|---:|---:|");
    run(n, Durability::Immediate, "immediate");
    run(
        n,
        Durability::Grouped {
            every_ms: clusto_core::DEFAULT_GROUP_MS,
        },
        "grouped",
    );
}
