//! IP allocation cost as a subnet fills: every address of a /16 handed out in order,
//! one transaction each, to 256 servers in turn; then 1000 random addresses freed and allocated again (the
//! allocator wraps and must find them without testing addresses one by one).
//! Usage: `cargo bench -p clusto-benches --bench ipalloc -- [PREFIX]` (default 16).

use std::time::Instant;

use clusto_benches::{Row, print_table};
use clusto_core::{Clusto, Durability, NumberSpec, OpenOptions, TxMeta, Value};

fn main() {
    let prefix: u32 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(16);
    let dir = tempfile::tempdir().unwrap();
    let options = OpenOptions {
        durability: Durability::Periodic { every_ms: 500 },
        ..Default::default()
    };
    let db = Clusto::open_with(dir.path().join("db"), &options).unwrap();
    let mask = std::net::Ipv4Addr::from(u32::MAX << (32 - prefix)).to_string();
    let (net, server) = db
        .write(TxMeta::new("bench", "setup"), |tx| {
            tx.init_clusto()?;
            let net = tx.create(
                "ipmanager",
                "net",
                &[("baseip", "10.0.0.0".into()), ("netmask", mask.into())],
            )?;
            Ok((net.id, tx.create("basicserver", "s", &[])?.id))
        })
        .unwrap();
    let hosts = (1usize << (32 - prefix)) - 2;
    let mut per_op = Vec::with_capacity(hosts);
    for _ in 0..hosts {
        let start = Instant::now();
        db.write(TxMeta::default(), |tx| {
            tx.allocate(net, server, None, NumberSpec::Next, false)
        })
        .unwrap();
        per_op.push(start.elapsed());
    }
    let full = db.write(TxMeta::default(), |tx| {
        tx.allocate(net, server, None, NumberSpec::Next, false)
    });
    assert!(full.is_err(), "the subnet is full");
    let mut rows = Vec::new();
    let window = 1000.min(hosts);
    for (label, slice) in [
        ("first", &per_op[..window]),
        ("last", &per_op[hosts - window..]),
    ] {
        rows.push(Row {
            size: hosts,
            operation: format!("allocate next IP: {label} {window} of a /{prefix}"),
            ops: window,
            elapsed: slice.iter().sum(),
        });
    }
    let freed: Vec<String> = (0..window)
        .map(|_| {
            let n = fastrand::u32(1..=hosts as u32);
            std::net::Ipv4Addr::from(u32::from(std::net::Ipv4Addr::new(10, 0, 0, 0)) + n)
                .to_string()
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    db.write(TxMeta::default(), |tx| {
        for ip in &freed {
            let holder = tx.view().resource_owners(net, &Value::from(ip.as_str()))?[0].id;
            tx.deallocate(net, holder, Some(Value::from(ip.as_str())))?;
        }
        Ok(())
    })
    .unwrap();
    let start = Instant::now();
    for _ in 0..freed.len() {
        db.write(TxMeta::default(), |tx| {
            tx.allocate(net, server, None, NumberSpec::Next, false)
        })
        .unwrap();
    }
    rows.push(Row {
        size: hosts,
        operation: format!(
            "allocate after wrap: {} freed addresses scattered in a full /{prefix}",
            freed.len()
        ),
        ops: freed.len(),
        elapsed: start.elapsed(),
    });
    print_table(&rows);
    let report = db.check().unwrap();
    assert!(report.is_clean(), "{:?}", report.problems);
}
