//! The sled backend: one sled tree holds every key space.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::{Backend, EntryIter, KvRead, Write};
use crate::error::{Error, Result};

/// A sled database used as a [`Backend`].
pub struct SledBackend {
    db: sled::Db,
}

/// sled's log segment size for new databases: sled's default. Each start zero-fills the
/// rest of the last segment and one free segment, and fsyncs: with the 8 MiB segments of
/// earlier builds that was 16 MB written per start, and `clusto info` on 100k servers
/// took 135 ms; with 512 KiB it took 85 ms, and the database was no larger (194 vs 220
/// MiB, measured). A database keeps the size it was created with (see [`segment_size_of`]).
const SEGMENT_SIZE: usize = 512 << 10;

/// The segment size recorded in the `conf` of the database in `dir` (sled refuses to
/// open a database with another one), or `None` for a new database or an unreadable conf.
fn segment_size_of(dir: &Path) -> Option<usize> {
    let conf = std::fs::read(dir.join("conf")).ok()?;
    String::from_utf8_lossy(&conf)
        .lines()
        .find_map(|l| l.strip_prefix("segment_size: "))?
        .trim()
        .parse()
        .ok()
}

/// Ends the error for a database whose `conf` sled refuses.
const CONF_HINT: &str = "if its file 'conf' is damaged, opening with salvage rebuilds it";

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
            .segment_size(segment_size_of(path).unwrap_or(SEGMENT_SIZE));
        match contain("opening the database", || config.open())? {
            Ok(db) => {
                make_private(path)?;
                Ok(SledBackend { db })
            }
            Err(sled::Error::Io(e)) if e.to_string().contains(LOCK_MESSAGE) => Err(Error::Locked {
                path: path.to_path_buf(),
            }),
            Err(sled::Error::Io(e)) => Err(Error::Io(format!("opening {}: {e}", path.display()))),
            // sled reports a damaged `conf` file as corruption at no position, or as a
            // database of an unsupported older version.
            Err(e @ (sled::Error::Corruption { at: None, .. } | sled::Error::Unsupported(_))) => {
                Err(Error::Corrupt(format!(
                    "the storage engine cannot open {}: {e}; {CONF_HINT}",
                    path.display()
                )))
            }
            Err(e) => Err(Error::Corrupt(format!(
                "the storage engine cannot open {}: {e}",
                path.display()
            ))),
        }
    }

    /// Opens a database that [`SledBackend::open`] reports corrupt, to read what remains:
    /// when sled's small `conf` file is what is damaged, it is moved aside to
    /// `conf.damaged` and rebuilt from the settings clusto creates databases with.
    pub fn salvage(path: &Path, cache_mib: u64) -> Result<Self> {
        match Self::open(path, None, cache_mib) {
            Err(Error::Corrupt(first)) if first.ends_with(CONF_HINT) => {
                let conf = path.join("conf");
                if !conf.exists() {
                    return Err(Error::Corrupt(first));
                }
                let aside = path.join("conf.damaged");
                std::fs::rename(&conf, &aside)?;
                Self::open(path, None, cache_mib).map_err(|again| {
                    // The conf was not the trouble: leave the files as they were.
                    let _ = std::fs::rename(&aside, &conf);
                    Error::Corrupt(format!("{first}; with 'conf' rebuilt: {again}"))
                })
            }
            other => other,
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

/// Gives the files sled made in `dir` mode 0600 and its folders 0700: sled creates them
/// with the process umask (often 0644), and an inventory of a site is not for every user
/// of the machine. Files sled adds later sit inside the 0700 database directory.
fn make_private(dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        let mode = if meta.is_dir() {
            make_private(&entry.path())?;
            0o700
        } else {
            0o600
        };
        if meta.permissions().mode() & 0o777 != mode {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(mode))?;
        }
    }
    Ok(())
}

/// Runs a call into sled, turning a panic into [`Error::Corrupt`]: sled panics on some
/// damaged files (measured: "tried to serialize Uninitialized" after flipping bytes in a
/// 40 MB log), and a panic must not reach the caller — least of all across Python or C.
fn contain<T>(doing: &str, call: impl FnOnce() -> T) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)).map_err(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Error::Corrupt(format!("the storage engine failed {doing}: {message}"))
    })
}

fn owned(entry: sled::Result<(sled::IVec, sled::IVec)>) -> Result<(Vec<u8>, Vec<u8>)> {
    let (k, v) = entry?;
    Ok((k.to_vec(), v.to_vec()))
}

/// A sled range whose every step is [`contain`]ed.
struct Contained<I>(I);

impl<I: Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>> Iterator for Contained<I> {
    type Item = Result<(Vec<u8>, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        match contain("reading", || self.0.next()) {
            Ok(entry) => entry.map(owned),
            Err(e) => Some(Err(e)),
        }
    }
}

impl KvRead for SledBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(contain("reading", || self.db.get(key))??.map(|v| v.to_vec()))
    }

    fn scan(&self, start: &[u8], end: Option<&[u8]>, reverse: bool) -> EntryIter<'_> {
        let iter = match end {
            Some(end) => self.db.range(start..end),
            None => self.db.range(start..),
        };
        if reverse {
            Box::new(Contained(iter.rev()))
        } else {
            Box::new(Contained(iter))
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
        contain("writing", || self.db.apply_batch(batch))??;
        drain_epoch_garbage(writes);
        Ok(())
    }

    fn flush(&self) -> Result<()> {
        contain("flushing", || self.db.flush())??;
        Ok(())
    }

    fn size_on_disk(&self) -> Result<u64> {
        Ok(self.db.size_on_disk()?)
    }

    fn is_empty(&self) -> Result<bool> {
        Ok(self.db.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_keeps_the_segment_size_it_was_created_with() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let older = 8 << 20;
        drop(
            sled::Config::new()
                .path(&path)
                .segment_size(older)
                .open()
                .unwrap(),
        );
        assert_eq!(segment_size_of(&path), Some(older));
        SledBackend::open(&path, None, 16).expect("opens with its own segment size");
        assert_eq!(segment_size_of(&dir.path().join("new")), None);
    }
}
