use clusto_core::*;
use std::time::Instant;
fn main() {
    let dir = tempfile::tempdir().unwrap();
    let cache: u64 = std::env::var("CACHE")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(256);
    let opts = OpenOptions {
        cache_mib: Some(cache),
        ..Default::default()
    };
    let db = Clusto::open_with(dir.path().join("db"), &opts).unwrap();
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let (mut ops, mut commit) = (0.0, 0.0);
    for b in 0..n {
        let t = Instant::now();
        let mut tx = db.begin(TxMeta::default()).unwrap();
        for i in b * 1000..(b + 1) * 1000 {
            let s = tx
                .create_entity(&format!("s{i}"), "server", "basicserver")
                .unwrap();
            tx.add_attr(
                s.id,
                NewAttr::new("system", format!("P{i:010}")).subkey("serial"),
            )
            .unwrap();
            tx.add_attr(s.id, NewAttr::new("cpucount", (i % 64) as i64))
                .unwrap();
            tx.add_attr(s.id, NewAttr::new("owner", format!("team{}", i % 100)))
                .unwrap();
        }
        ops += t.elapsed().as_secs_f64();
        let t = Instant::now();
        tx.commit().unwrap();
        commit += t.elapsed().as_secs_f64();
    }
    let t = Instant::now();
    for k in 0..100_000usize {
        let name = format!("s{}", (k * 7919) % (n * 1000));
        db.read(|v| v.entity(&name)).unwrap();
    }
    let get = t.elapsed().as_secs_f64() * 1e6 / 100_000.0;
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .unwrap()
        .to_string();
    println!(
        "cache {cache}: per server ops {:.1} us, commit {:.1} us; get {get:.2} us; {hwm}",
        ops * 1e6 / (n * 1000) as f64,
        commit * 1e6 / (n * 1000) as f64
    );
}
