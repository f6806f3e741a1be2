//! Shared helpers of the clusto benchmarks: timing, memory and the result table.

use std::time::{Duration, Instant};

/// One measured row: an operation at a size.
#[derive(Debug, Clone)]
pub struct Row {
    /// Number of entities in the database.
    pub size: usize,
    /// What was measured.
    pub operation: String,
    /// How many operations ran.
    pub ops: usize,
    /// How long they took.
    pub elapsed: Duration,
}

impl Row {
    /// Operations per second.
    pub fn ops_per_sec(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64()
    }

    /// Mean microseconds per operation.
    pub fn micros_per_op(&self) -> f64 {
        self.elapsed.as_secs_f64() * 1e6 / self.ops as f64
    }
}

/// Runs `op` `ops` times and returns the row.
pub fn measure(size: usize, operation: &str, ops: usize, mut op: impl FnMut(usize)) -> Row {
    let start = Instant::now();
    for i in 0..ops {
        op(i);
    }
    Row {
        size,
        operation: operation.to_owned(),
        ops,
        elapsed: start.elapsed(),
    }
}

/// The entity counts given on the command line (arguments that are numbers; cargo's
/// `--bench` is not), or `default` when none is.
pub fn sizes_from_args(default: &[usize]) -> Vec<usize> {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    if sizes.is_empty() {
        default.to_vec()
    } else {
        sizes
    }
}

/// Peak resident memory of this process in MiB (Linux `VmHWM`), if known.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Total size in bytes of the files under `path`.
pub fn dir_size(path: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// Prints rows as a Markdown table.
pub fn print_table(rows: &[Row]) {
    println!("| entities | operation | ops | ops/s | µs/op |");
    println!("|---:|---|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {} | {} | {:.0} | {:.2} |",
            r.size,
            r.operation,
            r.ops,
            r.ops_per_sec(),
            r.micros_per_op()
        );
    }
}
