//! A named background thread that does one small job at a fixed period, for as long as
//! its owner lives: the owner's drop stops and joins it, so a closed database leaves no
//! thread of this library running.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::error::{Error, Result};

/// Runs `tick` every `every` until dropped.
pub(crate) struct Ticker {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Ticker {
    /// Starts the thread `name`, which calls `tick` once per `every`.
    pub(crate) fn start(
        name: &str,
        every: Duration,
        mut tick: impl FnMut() + Send + 'static,
    ) -> Result<Self> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                    tick();
                }
            })
            .map_err(|e| Error::os(format_args!("cannot start the thread {name}"), &e))?;
        Ok(Ticker {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

    /// The job runs while the owner lives, and its thread is gone once the owner drops:
    /// the drop returns only after the thread ended, without waiting out a period.
    #[test]
    fn ticks_until_dropped_then_joins_at_once() {
        let ticks = Arc::new(AtomicUsize::new(0));
        let counter = ticks.clone();
        let ticker = Ticker::start("clusto-test-tick", Duration::from_millis(5), move || {
            counter.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
        while ticks.load(Ordering::SeqCst) < 3 {
            std::thread::sleep(Duration::from_millis(1));
        }
        let slow = Ticker::start("clusto-test-slow", Duration::from_secs(3600), || {}).unwrap();
        let started = Instant::now();
        drop(slow);
        assert!(started.elapsed() < Duration::from_secs(5));
        drop(ticker);
        let after = ticks.load(Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(
            ticks.load(Ordering::SeqCst),
            after,
            "a tick ran after the drop"
        );
    }
}
