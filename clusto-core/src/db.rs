//! The database handle: opening, sharing one store per path within a process, locking
//! against other processes, the single writer, and commits.

use std::collections::HashMap;
use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, LazyLock, Mutex, RwLock, Weak};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use crate::check::{self, CheckReport};
use crate::codec::{decode, encode};
use crate::commit_mark::{self, CommitMark};
use crate::error::{Error, Result};
use crate::keys;
use crate::records::Version;
use crate::storage::{Backend, SledBackend, Write};
use crate::txn::{Transaction, TxMeta};
use crate::view::View;

/// The on-disk format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// When a commit reaches the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Every commit is flushed to disk before it returns (the default).
    #[default]
    Immediate,
    /// Commits are flushed in the background every `every_ms` milliseconds: much
    /// faster for many small commits, but a crash may lose the commits of the last
    /// period (never part of one).
    Periodic {
        /// Flush period in milliseconds.
        every_ms: u64,
    },
}

/// How to open a database.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// When commits reach the disk.
    pub durability: Durability,
    /// How long to keep retrying while another process holds the database; `None`
    /// fails at once with [`Error::Locked`].
    pub lock_wait: Option<Duration>,
    /// The storage engine's page cache in MiB (`None`: [`DEFAULT_CACHE_MIB`]).
    pub cache_mib: Option<u64>,
    /// Opens a damaged database to read and export what remains: the handle does not
    /// refuse a store that ends before the last recorded commit, and refuses every write.
    /// It reads a private copy made beside the database (removed when the handle closes),
    /// so the damaged files are never changed; the copy needs as much free space.
    pub salvage: bool,
}

/// The default page cache size in MiB.
pub const DEFAULT_CACHE_MIB: u64 = 256;

/// Lets one thread at a time hold the write transaction, without tying the
/// transaction's lifetime to a borrow of the handle.
#[derive(Default)]
pub(crate) struct WriterGate {
    holder: Mutex<Option<ThreadId>>,
    freed: Condvar,
}

impl WriterGate {
    pub(crate) fn acquire(&self) -> Result<()> {
        let me = thread::current().id();
        let mut holder = self.holder.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            match *holder {
                None => {
                    *holder = Some(me);
                    return Ok(());
                }
                Some(t) if t == me => {
                    return Err(Error::Conflict(
                        "this thread already has an open write transaction; commit or drop it \
                         first"
                            .into(),
                    ));
                }
                Some(_) => holder = self.freed.wait(holder).unwrap_or_else(|e| e.into_inner()),
            }
        }
    }

    pub(crate) fn release(&self) {
        *self.holder.lock().unwrap_or_else(|e| e.into_inner()) = None;
        self.freed.notify_one();
    }
}

/// What every handle to one database shares.
pub(crate) struct Shared {
    pub(crate) backend: Box<dyn Backend>,
    pub(crate) writer: WriterGate,
    /// Held shared by readers and exclusively while a commit is applied, so a read never
    /// sees part of a commit.
    visibility: RwLock<()>,
    durability: Durability,
    path: Option<PathBuf>,
    /// Why a write to the store failed, once one has: the store's memory may then hold a
    /// commit the disk does not, so the handle refuses all further work until reopened.
    failed_write: Mutex<Option<String>>,
    /// The newest version known to be on disk (on-disk databases only).
    mark: Option<CommitMark>,
    /// Opened to salvage a damaged database: reads only.
    salvage: bool,
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Durable commits were flushed and marked as they came; a clean close flushes
        // and marks the periodic ones.
        if matches!(self.durability, Durability::Periodic { .. })
            && self.writable().is_ok()
            && let Ok(latest) = View::new(self.backend.as_ref(), None).latest_version()
        {
            let _ = self.flush_through(latest);
        }
    }
}

impl Shared {
    /// Applies `writes` as one atomic batch and, when durable, flushes them. A failure
    /// here leaves unknown whether the batch reached the disk: the handle is then
    /// poisoned, and reopening the database recovers whichever state the disk holds
    /// (the whole batch or none of it). `version` is the newest version the batch
    /// writes.
    pub(crate) fn commit(&self, writes: Vec<Write>, version: Version) -> Result<()> {
        self.writable()?;
        let written = {
            let _exclusive = self.visibility.write().unwrap_or_else(|e| e.into_inner());
            self.backend.apply(writes)
        };
        let flushed = written.and_then(|()| match self.durability {
            Durability::Immediate => self.flush_through(version),
            Durability::Periodic { .. } => Ok(()),
        });
        flushed.map_err(|e| {
            let cause = e.to_string();
            *self.failed_write.lock().unwrap_or_else(|e| e.into_inner()) = Some(cause.clone());
            Error::Io(format!(
                "the commit failed and may or may not have reached the disk ({cause}); close \
                 every handle and reopen the database"
            ))
        })
    }

    /// Flushes the store, then records in the commit mark that `latest` — read before
    /// the flush began — is on disk.
    fn flush_through(&self, latest: Version) -> Result<()> {
        self.backend.flush()?;
        match &self.mark {
            Some(mark) => mark.record(latest),
            None => Ok(()),
        }
    }

    /// Fails when the handle may not write: opened to salvage, or poisoned.
    pub(crate) fn writable(&self) -> Result<()> {
        if self.salvage {
            return Err(Error::Conflict(
                "the database was opened to salvage it: it can be read and exported, not \
                 changed"
                    .into(),
            ));
        }
        self.usable()
    }

    /// Fails once a write to the store has failed (see [`Shared::commit`]).
    pub(crate) fn usable(&self) -> Result<()> {
        match &*self.failed_write.lock().unwrap_or_else(|e| e.into_inner()) {
            None => Ok(()),
            Some(cause) => Err(Error::Io(format!(
                "an earlier commit failed ({cause}); close every handle and reopen the \
                 database"
            ))),
        }
    }
}

/// Refuses to make a database inside an existing directory that holds other files: a
/// mistyped path (a home directory, `/etc`) must not get sled's files scattered into it.
fn refuse_foreign_directory(path: &Path) -> Result<()> {
    let Ok(mut entries) = std::fs::read_dir(path) else {
        return Ok(()); // missing (it is created) or not a directory (creating it fails)
    };
    let holds_database = path.join("db").is_file(); // sled's log
    if !holds_database && entries.next().is_some() {
        return Err(Error::InvalidValue(format!(
            "{} is a directory with other files and no clusto database in it; give a new or \
             empty directory",
            path.display()
        )));
    }
    Ok(())
}

/// Databases open in this process, by canonical path, so that two opens share one store
/// (sled refuses a second open even from the same process).
static OPEN: LazyLock<Mutex<HashMap<PathBuf, Weak<Shared>>>> = LazyLock::new(Default::default);

/// A clusto database. Cheap to clone; clones and other opens of the same path in this
/// process share one store. `Send + Sync`.
#[derive(Clone)]
pub struct Clusto {
    shared: Arc<Shared>,
}

impl Clusto {
    /// Opens the database in directory `path`, creating it (mode 0700) if missing, with
    /// durable commits and no waiting for a lock.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, &OpenOptions::default())
    }

    /// Opens the database in directory `path` with `options`. A database already open in
    /// this process is shared, and keeps the options it was first opened with.
    pub fn open_with(path: impl AsRef<Path>, options: &OpenOptions) -> Result<Self> {
        let path = path.as_ref();
        refuse_foreign_directory(path)?;
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)
            .map_err(|e| Error::Io(format!("cannot create {}: {e}", path.display())))?;
        let canonical = path.canonicalize()?;
        let mut open = OPEN.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(shared) = open.get(&canonical).and_then(Weak::upgrade) {
            return Ok(Clusto { shared });
        }
        let flush_every = match options.durability {
            Durability::Immediate => None,
            Durability::Periodic { every_ms } => Some(every_ms.max(1)),
        };
        let started = Instant::now();
        let backend = loop {
            let cache = options.cache_mib.unwrap_or(DEFAULT_CACHE_MIB);
            let opened = if options.salvage {
                SledBackend::salvage(&canonical, cache)
            } else {
                SledBackend::open(&canonical, flush_every, cache)
            };
            match opened {
                Err(Error::Locked { .. })
                    if options.lock_wait.is_some_and(|w| started.elapsed() < w) =>
                {
                    thread::sleep(Duration::from_millis(50));
                }
                Err(Error::Locked { .. }) => {
                    return Err(Error::Locked {
                        path: path.to_path_buf(),
                    });
                }
                other => break other?,
            }
        };
        // A salvage neither trusts nor moves the mark.
        let (mark, recorded) = match options.salvage {
            true => (None, 0),
            false => CommitMark::open(&canonical).map(|(m, r)| (Some(m), r))?,
        };
        // An empty store is new unless the mark says commits were made to it: then it
        // is a log that lost everything, and writing its format would change it.
        if recorded > 0 && backend.is_empty()? {
            return Err(commit_mark::behind_mark(path, 0, recorded));
        }
        let db = Self::build(
            Box::new(backend),
            options.durability,
            Some(canonical.clone()),
            mark,
            options.salvage,
        )?;
        let latest = db.latest_version()?;
        if latest < recorded {
            return Err(commit_mark::behind_mark(path, latest, recorded));
        }
        open.retain(|_, weak| weak.strong_count() > 0);
        open.insert(canonical, Arc::downgrade(&db.shared));
        Ok(db)
    }

    /// A new, empty database in a temporary location, removed when the last handle drops.
    pub fn temporary() -> Result<Self> {
        Self::with_backend(
            Box::new(SledBackend::temporary()?),
            Durability::Periodic { every_ms: 1000 },
            None,
        )
    }

    /// Uses any [`Backend`]; checks (or, when empty, writes) the format version.
    pub fn with_backend(
        backend: Box<dyn Backend>,
        durability: Durability,
        path: Option<PathBuf>,
    ) -> Result<Self> {
        Self::build(backend, durability, path, None, false)
    }

    fn build(
        backend: Box<dyn Backend>,
        durability: Durability,
        path: Option<PathBuf>,
        mark: Option<CommitMark>,
        salvage: bool,
    ) -> Result<Self> {
        let format_key = keys::meta("format");
        match backend.get(&format_key)? {
            Some(bytes) => {
                let found: u32 = decode(&bytes, &|| "the format version".into())?;
                if found != FORMAT_VERSION {
                    return Err(Error::UnsupportedFormat {
                        found,
                        supported: FORMAT_VERSION,
                    });
                }
            }
            // A salvage changes nothing, not even an empty store.
            None if salvage && backend.is_empty()? => {}
            None if backend.is_empty()? => {
                backend.apply(vec![(format_key, Some(encode(&FORMAT_VERSION)))])?;
                backend.flush()?;
            }
            None => {
                return Err(Error::Corrupt(
                    "the database has data but no format version".into(),
                ));
            }
        }
        Ok(Clusto {
            shared: Arc::new(Shared {
                backend,
                writer: WriterGate::default(),
                visibility: RwLock::new(()),
                durability,
                path,
                failed_write: Mutex::new(None),
                mark,
                salvage,
            }),
        })
    }

    /// Whether two handles share one store (two opens of one path in this process).
    pub fn same_store(&self, other: &Clusto) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// The database directory (`None` for a temporary database).
    pub fn path(&self) -> Option<&Path> {
        self.shared.path.as_deref()
    }

    /// Runs `read` against a consistent live view of the committed state: no commit
    /// lands while it runs. Do not commit from inside `read`.
    pub fn read<T>(&self, read: impl FnOnce(&View<'_>) -> Result<T>) -> Result<T> {
        self.shared.usable()?;
        let _shared = self
            .shared
            .visibility
            .read()
            .unwrap_or_else(|e| e.into_inner());
        read(&View::new(self.shared.backend.as_ref(), None))
    }

    /// Runs `read` against the state as of the end of version `version`.
    pub fn read_at<T>(
        &self,
        version: Version,
        read: impl FnOnce(&View<'_>) -> Result<T>,
    ) -> Result<T> {
        self.shared.usable()?;
        let _shared = self
            .shared
            .visibility
            .read()
            .unwrap_or_else(|e| e.into_inner());
        read(&View::new(self.shared.backend.as_ref(), Some(version)))
    }

    /// Opens the write transaction, waiting while another thread holds it. Fails with
    /// [`Error::Conflict`] when this thread already holds it.
    pub fn begin(&self, meta: TxMeta) -> Result<Transaction> {
        Transaction::begin(self.shared.clone(), meta)
    }

    /// Runs `write` in a transaction and commits it when `write` succeeds; on error
    /// nothing is changed.
    pub fn write<T>(
        &self,
        meta: TxMeta,
        write: impl FnOnce(&mut Transaction) -> Result<T>,
    ) -> Result<T> {
        let mut tx = self.begin(meta)?;
        let value = write(&mut tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// The newest committed version.
    pub fn latest_version(&self) -> Result<Version> {
        self.read(|v| v.latest_version())
    }

    /// Verifies every record and index entry; see [`CheckReport`].
    pub fn check(&self) -> Result<CheckReport> {
        self.read(|_| check::run(self.shared.backend.as_ref()))
    }

    /// Flushes everything committed to disk.
    pub fn flush(&self) -> Result<()> {
        let latest = self.latest_version()?;
        self.shared.flush_through(latest)
    }

    /// The newest version the database's commit mark records as committed to disk;
    /// `None` without a mark (a temporary database, one never written to) or when the
    /// mark is damaged. After a salvage, versions above [`Clusto::latest_version`] up to
    /// this one are the ones the damage lost.
    pub fn committed_version(&self) -> Option<Version> {
        commit_mark::read(self.shared.path.as_deref()?)
    }

    /// When this handle's commits reach the disk.
    pub fn durability(&self) -> Durability {
        self.shared.durability
    }

    /// Bytes the database occupies on disk.
    pub fn size_on_disk(&self) -> Result<u64> {
        self.shared.backend.size_on_disk()
    }
}
