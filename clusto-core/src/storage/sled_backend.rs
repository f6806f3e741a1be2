//! The sled backend: one sled tree holds every key space.
//!
//! sled admits one process per database, so the write lease is the database handle's
//! own one-thread-at-a-time rule; a snapshot holds `visibility` shared, and a commit
//! holds it exclusively while its batch is applied, so a reader never sees part of one.

use std::fs::{File, TryLockError};
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use super::{Backend, EntryIter, KvRead, Snapshot, Write, WriteLease};
use crate::commit_mark::CommitMark;
use crate::error::{Error, Result};
use crate::records::Version;

/// A sled database used as a [`Backend`].
pub struct SledBackend {
    inner: Arc<SledInner>,
}

struct SledInner {
    db: sled::Db,
    /// Held shared by snapshots and exclusively while a commit is applied.
    visibility: RwLock<()>,
    /// Every commit is flushed before it returns (otherwise sled flushes periodically).
    durable: bool,
    /// The newest version known to be on disk; `None` for temporary and salvaged stores.
    mark: Option<CommitMark>,
    /// The newest version committed through this handle.
    last_committed: Mutex<Version>,
    /// Dropped after `db` (fields drop in order). `None` for a temporary database.
    log: Option<LogFile>,
    /// The copy a salvage works on, removed last.
    salvage_copy: Option<tempfile::TempDir>,
}

impl Drop for SledInner {
    fn drop(&mut self) {
        // Durable commits were flushed and marked as they came; a clean close flushes
        // and marks the periodic ones.
        let last = *self
            .last_committed
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if !self.durable && last > 0 {
            let _ = self.flush_through(last);
        }
    }
}

impl SledInner {
    fn flush(&self) -> Result<()> {
        contain("flushing", || self.db.flush())??;
        if let Some(log) = &self.log {
            log.file.sync_data()?;
        }
        Ok(())
    }

    /// Flushes, then records in the commit mark that `version` — committed before the
    /// flush began — is on disk.
    fn flush_through(&self, version: Version) -> Result<()> {
        self.flush()?;
        match &self.mark {
            Some(mark) => mark.record(version),
            None => Ok(()),
        }
    }

    fn apply(&self, writes: Vec<Write>) -> Result<()> {
        let batch_len = writes.len();
        let mut batch = sled::Batch::default();
        for (key, value) in writes {
            match value {
                Some(v) => batch.insert(key, v),
                None => batch.remove(key),
            }
        }
        {
            let _exclusive = self.visibility.write().unwrap_or_else(|e| e.into_inner());
            contain("writing", || self.db.apply_batch(batch))??;
        }
        drain_epoch_garbage(batch_len);
        Ok(())
    }
}

/// How long closing waits for sled's threads to let go of the database file.
const RELEASE_WAIT: Duration = Duration::from_millis(500);

/// sled's log file, held beside sled for what sled leaves undone:
/// - A flush: sled's own ends with `sync_file_range`, which writes the data but neither
///   the file's size nor the disk's write cache, so a commit could be lost to a power
///   cut after it returned. `sync_data` completes it.
/// - A close: sled's background threads hold the file, and with it the lock, a moment
///   after the handle drops. Until they let go, an open from this very process is
///   refused as `Locked` (seen in the damaged-copies test: a failed open, then a
///   salvage). Dropping this waits for that, a bounded time.
struct LogFile {
    file: File,
    path: PathBuf,
}

impl Drop for LogFile {
    fn drop(&mut self) {
        wait_until_unlocked(&self.path);
    }
}

/// Waits, at most [`RELEASE_WAIT`], until nothing holds the lock of sled's log `log`.
fn wait_until_unlocked(log: &Path) {
    let deadline = Instant::now() + RELEASE_WAIT;
    // The probe's own lock goes with its file, at the end of each turn.
    while let Ok(probe) = File::open(log)
        && let Err(TryLockError::WouldBlock) = probe.try_lock()
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(1));
    }
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

/// The segment sizes clusto has created databases with: sled's default now, 8 MiB in
/// the first builds.
const KNOWN_SEGMENT_SIZES: [usize; 2] = [SEGMENT_SIZE, 8 << 20];

/// The segment size of the database in `dir`, read off its log for when its `conf` is
/// lost, or `None` when the log does not tell. Guessing is not an option: sled opens a
/// log read with the wrong segment size as an empty database, and its first write
/// destroys the log (measured).
///
/// sled writes a segment header (checksum, log position) at the start of each segment
/// in use, and a segment's log position is a multiple of the segment size. The size is
/// the largest known one that every header found at a multiple of the smallest size
/// agrees with. A log without a second header is read alike with any size only if it
/// fits in one segment of the smallest.
fn segment_size_from_log(dir: &Path) -> Option<usize> {
    let log = File::open(dir.join("db")).ok()?;
    let len = log.metadata().ok()?.len();
    let smallest = KNOWN_SEGMENT_SIZES[0] as u64;
    let headers: Vec<(u64, u64)> = (1..)
        .map(|k| k * smallest)
        .take_while(|offset| offset + SEGMENT_HEADER_LEN <= len)
        .filter_map(|offset| segment_header_at(&log, offset).map(|lsn| (offset, lsn)))
        .collect();
    if headers.is_empty() {
        return (len <= smallest).then_some(KNOWN_SEGMENT_SIZES[0]);
    }
    KNOWN_SEGMENT_SIZES.into_iter().rev().find(|&size| {
        headers
            .iter()
            .all(|(offset, lsn)| offset % size as u64 == 0 && lsn % size as u64 == 0)
    })
}

/// A copy of the database in `dir`, in a new directory beside it (the same file system,
/// where the database's own space is), made while holding sled's lock on it so that no
/// other process writes meanwhile.
fn private_copy(dir: &Path) -> Result<tempfile::TempDir> {
    let failed = |e: std::io::Error| {
        Error::os(
            format_args!(
                "a salvage reads a copy of {}, to leave the damaged files as they are; \
                 making the copy failed",
                dir.display()
            ),
            &e,
        )
    };
    let _lock = match File::open(dir.join("db")) {
        Ok(log) => match log.try_lock() {
            Ok(()) => Some(log),
            Err(TryLockError::WouldBlock) => {
                return Err(Error::Locked {
                    path: dir.to_path_buf(),
                    holder: None,
                    by_this_process: false,
                });
            }
            Err(TryLockError::Error(e)) => return Err(failed(e)),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(failed(e)),
    };
    let copy = tempfile::Builder::new()
        .prefix(".clusto-salvage-")
        .tempdir_in(dir.parent().unwrap_or(dir))
        .map_err(failed)?;
    copy_tree(dir, copy.path()).map_err(failed)?;
    Ok(copy)
}

/// Copies the files and folders under `from` into the existing folder `to`.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            std::fs::create_dir(&target)?;
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// The bytes of sled's segment header.
const SEGMENT_HEADER_LEN: u64 = 20;

/// The log position in the segment header at `offset`, if a valid header is there.
fn segment_header_at(log: &File, offset: u64) -> Option<u64> {
    let mut header = [0u8; SEGMENT_HEADER_LEN as usize];
    log.read_exact_at(&mut header, offset).ok()?;
    let (crc, rest) = header.split_first_chunk::<4>()?;
    let (lsn, _) = rest.split_first_chunk::<8>()?;
    (u32::from_le_bytes(*crc) ^ 0xFFFF_FFFF == crc32fast::hash(rest))
        .then(|| u64::from_le_bytes(*lsn) ^ 0x7FFF_FFFF_FFFF_FFFF)
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
        let segment_size = segment_size_of(path).unwrap_or(SEGMENT_SIZE);
        Self::open_sized(path, flush_every_ms, cache_mib, segment_size)
    }

    fn open_sized(
        path: &Path,
        flush_every_ms: Option<u64>,
        cache_mib: u64,
        segment_size: usize,
    ) -> Result<Self> {
        let config = sled::Config::new()
            .path(path)
            .flush_every_ms(flush_every_ms)
            .cache_capacity(cache_mib * 1024 * 1024)
            .segment_size(segment_size);
        match contain("opening the database", || config.open())? {
            Ok(db) => {
                make_private(path)?;
                let path = path.join("db");
                let file = File::open(&path)
                    .map_err(|e| Error::os(format_args!("opening {}", path.display()), &e))?;
                Ok(SledBackend::new(
                    db,
                    flush_every_ms.is_none(),
                    Some(LogFile { file, path }),
                ))
            }
            Err(sled::Error::Io(e)) if e.to_string().contains(LOCK_MESSAGE) => Err(Error::Locked {
                path: path.to_path_buf(),
                holder: None,
                by_this_process: false,
            }),
            Err(sled::Error::Io(e)) => {
                Err(Error::os(format_args!("opening {}", path.display()), &e))
            }
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

    /// Opens a database that [`SledBackend::open`] reports corrupt, to read what remains.
    /// sled's recovery writes to the files it opens, so a salvage opens a private copy,
    /// made beside the database and removed when the handle drops: the damaged files stay
    /// as they were, for a backup or another attempt. When sled's small `conf` file is
    /// what is damaged, the copy's is rebuilt with the segment size read off the log.
    pub fn salvage(path: &Path, cache_mib: u64) -> Result<Self> {
        let copy = private_copy(path)?;
        // Errors name the database, not the copy.
        let named = |message: String| {
            message.replace(
                &copy.path().display().to_string(),
                &path.display().to_string(),
            )
        };
        let mut backend = Self::open_copy(copy.path(), cache_mib).map_err(|e| match e {
            Error::Corrupt(m) => Error::Corrupt(named(m)),
            Error::Io { kind, message } => Error::Io {
                kind,
                message: named(message),
            },
            other => other,
        })?;
        Arc::get_mut(&mut backend.inner)
            .expect("a new backend is not shared")
            .salvage_copy = Some(copy);
        Ok(backend)
    }

    /// Opens the salvage copy in `copy`, rebuilding its `conf` when that is what sled
    /// refuses.
    fn open_copy(copy: &Path, cache_mib: u64) -> Result<Self> {
        match Self::open(copy, None, cache_mib) {
            Err(Error::Corrupt(first)) if first.ends_with(CONF_HINT) => {
                let conf = copy.join("conf");
                if !conf.exists() {
                    return Err(Error::Corrupt(first));
                }
                let Some(segment_size) = segment_size_from_log(copy) else {
                    return Err(Error::Corrupt(format!(
                        "{first}; its segment size cannot be read off its log either, so \
                         'conf' cannot be rebuilt: restore it from a backup"
                    )));
                };
                std::fs::remove_file(&conf)?;
                Self::open_sized(copy, None, cache_mib, segment_size).map_err(|again| {
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
        Ok(SledBackend::new(db, false, None))
    }

    fn new(db: sled::Db, durable: bool, log: Option<LogFile>) -> Self {
        SledBackend {
            inner: Arc::new(SledInner {
                db,
                visibility: RwLock::new(()),
                durable,
                mark: None,
                last_committed: Mutex::new(0),
                log,
                salvage_copy: None,
            }),
        }
    }

    /// Records every durable commit in `mark` (see [`crate::commit_mark`]).
    pub(crate) fn with_mark(mut self, mark: CommitMark) -> Self {
        Arc::get_mut(&mut self.inner)
            .expect("a new backend is not shared")
            .mark = Some(mark);
        self
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

fn sled_get(db: &sled::Db, key: &[u8]) -> Result<Option<Vec<u8>>> {
    Ok(contain("reading", || db.get(key))??.map(|v| v.to_vec()))
}

fn sled_scan<'a>(
    db: &'a sled::Db,
    start: &[u8],
    end: Option<&[u8]>,
    reverse: bool,
) -> EntryIter<'a> {
    let iter = match end {
        Some(end) => db.range(start..end),
        None => db.range(start..),
    };
    if reverse {
        Box::new(Contained(iter.rev()))
    } else {
        Box::new(Contained(iter))
    }
}

/// A read of the committed state: no commit lands while it is held.
struct SledSnapshot<'a> {
    db: &'a sled::Db,
    _shared: RwLockReadGuard<'a, ()>,
}

impl KvRead for SledSnapshot<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        sled_get(self.db, key)
    }

    fn scan(&self, start: &[u8], end: Option<&[u8]>, reverse: bool) -> EntryIter<'_> {
        sled_scan(self.db, start, end, reverse)
    }
}

/// The write lease: the only writer of the process, which is the only one of the store.
struct SledLease(Arc<SledInner>);

impl KvRead for SledLease {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        sled_get(&self.0.db, key)
    }

    fn scan(&self, start: &[u8], end: Option<&[u8]>, reverse: bool) -> EntryIter<'_> {
        sled_scan(&self.0.db, start, end, reverse)
    }
}

impl WriteLease for SledLease {
    fn commit(self: Box<Self>, writes: Vec<Write>, version: Version) -> Result<()> {
        self.0.apply(writes)?;
        *self
            .0
            .last_committed
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = version;
        if self.0.durable {
            self.0.flush_through(version)?;
        }
        Ok(())
    }
}

impl Backend for SledBackend {
    fn snapshot(&self) -> Result<Snapshot<'_>> {
        Ok(Box::new(SledSnapshot {
            db: &self.inner.db,
            _shared: self
                .inner
                .visibility
                .read()
                .unwrap_or_else(|e| e.into_inner()),
        }))
    }

    fn begin_write(&self, _wait: Option<Duration>) -> Result<Box<dyn WriteLease>> {
        Ok(Box::new(SledLease(self.inner.clone())))
    }

    fn flush(&self) -> Result<()> {
        let last = *self
            .inner
            .last_committed
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        self.inner.flush_through(last)
    }

    fn size_on_disk(&self) -> Result<u64> {
        Ok(self.inner.db.size_on_disk()?)
    }

    fn is_empty(&self) -> Result<bool> {
        Ok(self.inner.db.is_empty())
    }

    fn engine(&self) -> &'static str {
        "sled"
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
        close(
            sled::Config::new()
                .path(&path)
                .segment_size(older)
                .open()
                .unwrap(),
            &path,
        );
        assert_eq!(segment_size_of(&path), Some(older));
        SledBackend::open(&path, None, 16).expect("opens with its own segment size");
        assert_eq!(segment_size_of(&dir.path().join("new")), None);
    }

    /// Closes a database opened with sled directly, as [`SledBackend`] closes its own:
    /// sled's threads hold its lock a moment after the handle drops.
    fn close(db: sled::Db, dir: &Path) {
        drop(db);
        wait_until_unlocked(&dir.join("db"));
    }

    /// A closed sled database of `keys` small keys, made with `segment_size`; `reopened`
    /// opens it once more, as a later session would.
    fn sled_db(path: &Path, segment_size: usize, keys: u32, reopened: bool) {
        let db = sled::Config::new()
            .path(path)
            .segment_size(segment_size)
            .open()
            .unwrap();
        for i in 0..keys {
            db.insert(i.to_be_bytes(), [7u8; 50].as_slice()).unwrap();
        }
        db.flush().unwrap();
        close(db, path);
        if reopened {
            SledBackend::open(path, None, 16).unwrap();
        }
    }

    fn damage_conf(path: &Path) -> Error {
        std::fs::write(path.join("conf"), "segment_size: many\n").unwrap();
        match SledBackend::open(path, None, 16) {
            Err(e) => e,
            Ok(_) => panic!("a damaged conf was accepted"),
        }
    }

    #[test]
    fn salvage_rebuilds_a_damaged_conf_with_the_segment_size_of_the_log() {
        for (size, keys) in [(SEGMENT_SIZE, 30_000), (8 << 20, 30_000), (SEGMENT_SIZE, 3)] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("db");
            sled_db(&path, size, keys, true);
            let refused = damage_conf(&path);
            assert!(
                matches!(&refused, Error::Corrupt(m) if m.ends_with(CONF_HINT)),
                "{refused}"
            );
            let salvaged = SledBackend::salvage(&path, 16).unwrap();
            assert_eq!(
                salvaged.inner.db.len(),
                keys as usize,
                "segment size {size}"
            );
            let copy = salvaged
                .inner
                .salvage_copy
                .as_ref()
                .unwrap()
                .path()
                .to_path_buf();
            assert_eq!(
                segment_size_of(&copy),
                Some(size),
                "the copy's conf is rebuilt"
            );
            let conf = std::fs::read_to_string(path.join("conf")).unwrap();
            assert_eq!(
                conf, "segment_size: many\n",
                "the damaged conf is left alone"
            );
            drop(salvaged);
            assert!(!copy.exists(), "the copy is removed");
        }
    }

    /// A log of several megabytes in its first 8 MiB segment could be either size: the
    /// damaged conf is kept and the database left as it was.
    #[test]
    fn salvage_refuses_to_guess_a_segment_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        sled_db(&path, 8 << 20, 5_000, false);
        damage_conf(&path);
        let log = std::fs::read(path.join("db")).unwrap();
        let refused = SledBackend::salvage(&path, 16)
            .err()
            .expect("no size guessed");
        assert!(
            matches!(&refused, Error::Corrupt(m) if m.contains("segment size cannot be read")),
            "{refused}"
        );
        assert_eq!(std::fs::read(path.join("db")).unwrap(), log);
        assert_eq!(
            std::fs::read_to_string(path.join("conf")).unwrap(),
            "segment_size: many\n"
        );
    }
}
