//! Shared helpers of the clusto benchmarks: timing, memory and the result table.

use std::time::{Duration, Instant};

/// The benches allocate as clusto's programs (the CLI, the Python extension) do.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

/// The highest anonymous and file-backed resident memory (`RssAnon`, `RssFile` of
/// `/proc/self/status`) seen while it runs, in MiB. The kernel keeps a high-water mark
/// only of their sum (`VmHWM`); the split matters because an engine that maps its file
/// (LMDB) holds its cache as file pages the kernel may drop, where one that reads into
/// its own buffers (SQLite's page cache) holds it as anonymous memory.
pub struct RssPeaks {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    sampler: Option<std::thread::JoinHandle<(f64, f64)>>,
}

impl RssPeaks {
    /// Starts sampling every two milliseconds on a thread of its own.
    pub fn start() -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        let sampler = std::thread::spawn(move || {
            let mut peaks = (0.0f64, 0.0f64);
            loop {
                if let Some((anon, file)) = rss_split_mib() {
                    peaks = (peaks.0.max(anon), peaks.1.max(file));
                }
                if stopped.load(std::sync::atomic::Ordering::Relaxed) {
                    return peaks;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        RssPeaks {
            stop,
            sampler: Some(sampler),
        }
    }

    /// Stops sampling and returns the peaks: (anonymous, file-backed) MiB.
    pub fn finish(mut self) -> (f64, f64) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.sampler
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or((0.0, 0.0))
    }
}

/// This process's resident memory now, split: (anonymous, file-backed) MiB.
fn rss_split_mib() -> Option<(f64, f64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    };
    Some((field("RssAnon:")?, field("RssFile:")?))
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
