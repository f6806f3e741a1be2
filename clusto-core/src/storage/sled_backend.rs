//! The sled backend: one sled tree holds every key space.

use std::path::Path;

use super::{Backend, EntryIter, KvRead, Write};
use crate::error::{Error, Result};

/// A sled database used as a [`Backend`].
pub struct SledBackend {
    db: sled::Db,
}

/// sled's log segment size: 8 MiB stores a database in ~13% less space than the 512 KiB
/// default (measured; see benches/RESULTS.md). It is fixed when a database is created.
const SEGMENT_SIZE: usize = 8 << 20;

/// How sled says that another handle holds the database's file lock.
const LOCK_MESSAGE: &str = "could not acquire lock";

impl SledBackend {
    /// Opens (creating if needed) the sled database in directory `path`.
    ///
    /// `flush_every_ms` is sled's background flush period (`None` turns it off);
    /// `cache_mib` the page cache size.
    pub fn open(path: &Path, flush_every_ms: Option<u64>, cache_mib: u64) -> Result<Self> {
        let config = sled::Config::new()
            .path(path)
            .flush_every_ms(flush_every_ms)
            .cache_capacity(cache_mib * 1024 * 1024)
            .segment_size(SEGMENT_SIZE);
        match config.open() {
            Ok(db) => Ok(SledBackend { db }),
            Err(sled::Error::Io(e)) if e.to_string().contains(LOCK_MESSAGE) => Err(Error::Locked {
                path: path.to_path_buf(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// A database in a temporary location, removed when dropped.
    pub fn temporary() -> Result<Self> {
        let db = sled::Config::new()
            .temporary(true)
            .flush_every_ms(None)
            .open()?;
        Ok(SledBackend { db })
    }
}

/// Frees the page versions a large batch replaced.
///
/// `apply_batch` holds one epoch guard for the whole batch, so every old page version it
/// replaces is queued for the epoch reclaimer, which frees only a few hundred objects
/// per pin. Left alone, the backlog grows with every batch: 100k servers loaded in
/// batches of 1000 kept 3 GiB resident and slowed point reads 7×. Pinning and flushing
/// about once per 128 writes keeps up with it (measured: 6.3 GiB → 0.45 GiB).
fn drain_epoch_garbage(writes: usize) {
    for _ in 0..writes / 128 + 8 {
        crossbeam_epoch::pin().flush();
    }
}

fn owned(entry: sled::Result<(sled::IVec, sled::IVec)>) -> Result<(Vec<u8>, Vec<u8>)> {
    let (k, v) = entry?;
    Ok((k.to_vec(), v.to_vec()))
}

impl KvRead for SledBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.db.get(key)?.map(|v| v.to_vec()))
    }

    fn scan(&self, start: &[u8], end: Option<&[u8]>, reverse: bool) -> EntryIter<'_> {
        let iter = match end {
            Some(end) => self.db.range(start..end),
            None => self.db.range(start..),
        };
        if reverse {
            Box::new(iter.rev().map(owned))
        } else {
            Box::new(iter.map(owned))
        }
    }
}

impl Backend for SledBackend {
    fn apply(&self, writes: Vec<Write>) -> Result<()> {
        let batch_len = writes.len();
        let mut batch = sled::Batch::default();
        for (key, value) in writes {
            match value {
                Some(v) => batch.insert(key, v),
                None => batch.remove(key),
            }
        }
        let writes = batch_len;
        self.db.apply_batch(batch)?;
        drain_epoch_garbage(writes);
        Ok(())
    }

    fn flush(&self) -> Result<()> {
        self.db.flush()?;
        Ok(())
    }

    fn size_on_disk(&self) -> Result<u64> {
        Ok(self.db.size_on_disk()?)
    }

    fn is_empty(&self) -> Result<bool> {
        Ok(self.db.is_empty())
    }
}
