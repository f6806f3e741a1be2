//! The database handle: opening by DSN, sharing one store per path within a process,
//! the single writer of the process, and commits.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::{Duration, Instant};

use crate::check::{self, CheckReport};
use crate::codec::{decode, encode};
use crate::commit_mark::{self, CommitMark};
use crate::dsn::{self, Engine, Location};
use crate::error::{Error, Result};
use crate::keys;
use crate::records::Version;
use crate::storage::{Backend, KvRead, LmdbBackend, MemoryBackend, SledBackend, Write, WriteLease};
use crate::txn::{Transaction, TxMeta};
use crate::view::View;

/// The on-disk format this build reads and writes. It opens formats 1 to 5 too,
/// upgrading them (see the `upgrade` module) when it may write.
pub const FORMAT_VERSION: u32 = 6;

/// When a commit reaches the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Every commit is on disk before it returns (the default).
    #[default]
    Immediate,
    /// Group commit (LMDB): a commit is visible to every process at once and survives the
    /// death of the process that made it (SIGKILL included), since it is in the
    /// operating system's page cache; a background thread puts it on disk within
    /// `every_ms`. A power cut or kernel crash may lose the commits of the last `every_ms`
    /// — and, as LMDB documents for unsynced commits, can damage the file if the disk
    /// reorders writes: keep `Immediate` where that matters. sled cannot give this mode.
    Grouped {
        /// Sync period in milliseconds.
        every_ms: u64,
    },
    /// Commits are flushed in the background every `every_ms` milliseconds (sled): the
    /// death of the process may lose the commits of the last period (never part of
    /// one). LMDB gives the stronger [`Durability::Grouped`] for it.
    Periodic {
        /// Flush period in milliseconds.
        every_ms: u64,
    },
}

/// The sync period of `grouped` given without one.
pub const DEFAULT_GROUP_MS: u64 = 50;

impl std::str::FromStr for Durability {
    type Err = Error;

    /// `immediate`, `grouped`, `grouped:MS` or `periodic:MS` (as in clusto.conf).
    fn from_str(text: &str) -> Result<Self> {
        let text = text.trim();
        let (mode, period) = match text.split_once(':') {
            Some((mode, ms)) => (mode, Some(ms)),
            None => (text, None),
        };
        let every_ms = match period {
            None => DEFAULT_GROUP_MS,
            Some(ms) => ms.trim().parse().ok().filter(|&ms| ms > 0).ok_or_else(|| {
                Error::InvalidValue(format!(
                    "durability '{text}': the period must be a positive number of \
                     milliseconds"
                ))
            })?,
        };
        match (mode.trim(), period) {
            ("immediate", None) => Ok(Durability::Immediate),
            ("grouped", _) => Ok(Durability::Grouped { every_ms }),
            ("periodic", Some(_)) => Ok(Durability::Periodic { every_ms }),
            _ => Err(Error::InvalidValue(format!(
                "durability '{text}' is not one of immediate, grouped, grouped:MS, \
                 periodic:MS"
            ))),
        }
    }
}

impl std::fmt::Display for Durability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Durability::Immediate => write!(f, "immediate"),
            Durability::Grouped { every_ms } => write!(f, "grouped:{every_ms}"),
            Durability::Periodic { every_ms } => write!(f, "periodic:{every_ms}"),
        }
    }
}

/// How long a write waits, by default, while another process holds the write lease (or
/// an open waits for a sled database another process holds): as Python's sqlite3 does.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(5);

/// Commits counted by [`Clusto::commit_stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitStats {
    /// Commits that succeeded.
    pub commits: u64,
    /// Time spent in the storage's commit of them.
    pub time: Duration,
}

/// How to open a database.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// When commits reach the disk.
    pub durability: Durability,
    /// How long a write waits while another process holds the write lease (and an open
    /// of a sled database, which admits one process, waits for it) before
    /// [`Error::Locked`]; `None` fails at once. Default [`DEFAULT_LOCK_WAIT`].
    pub lock_wait: Option<Duration>,
    /// The storage engine's page cache in MiB (`None`: [`DEFAULT_CACHE_MIB`]).
    pub cache_mib: Option<u64>,
    /// Creates a server-side database's schema when it is missing (`clusto initdb`);
    /// without it, opening one that has none is an error. Embedded databases are
    /// always created.
    pub create: bool,
    /// Opens a damaged database to read and export what remains: the handle does not
    /// refuse a store that ends before the last recorded commit, and refuses every write.
    /// It reads a private copy made beside the database (removed when the handle closes),
    /// so the damaged files are never changed; the copy needs as much free space.
    pub salvage: bool,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            durability: Durability::default(),
            lock_wait: Some(DEFAULT_LOCK_WAIT),
            cache_mib: None,
            create: false,
            salvage: false,
        }
    }
}

impl OpenOptions {
    /// Applies one setting of a `[clusto]` section of clusto.conf (or a binding's
    /// keyword): `wait` (seconds; 0 fails at once), `durability` (see [`Durability`]'s
    /// `FromStr`) or `create` (true/false, see [`OpenOptions::create`]). Other keys are
    /// not options: `Ok(false)`.
    pub fn set(&mut self, key: &str, value: &str) -> Result<bool> {
        match key {
            "wait" => {
                let seconds: f64 = value
                    .trim()
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s >= 0.0)
                    .ok_or_else(|| {
                        Error::InvalidValue(format!(
                            "wait '{value}' is not a number of seconds (0 or more)"
                        ))
                    })?;
                self.lock_wait = (seconds > 0.0).then(|| Duration::from_secs_f64(seconds));
            }
            "durability" => self.durability = value.parse()?,
            "create" => {
                self.create = match value.trim() {
                    "true" | "yes" | "1" => true,
                    "false" | "no" | "0" => false,
                    other => {
                        return Err(Error::InvalidValue(format!(
                            "create '{other}' is not true or false"
                        )));
                    }
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// The default page cache size in MiB (sled; LMDB uses the operating system's).
pub const DEFAULT_CACHE_MIB: u64 = 256;

/// A number for the calling thread, never given to another. Not `thread::current()`,
/// whose first call on a thread the library did not start (a C program's `main`)
/// allocates a handle that stays until exit and that leak checkers report.
fn this_thread() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        static ID: Cell<u64> = const { Cell::new(0) };
    }
    ID.with(|id| {
        if id.get() == 0 {
            id.set(NEXT.fetch_add(1, Ordering::Relaxed));
        }
        id.get()
    })
}

/// Lets one thread at a time hold the write transaction, without tying the
/// transaction's lifetime to a borrow of the handle. Writers are served in the order
/// they asked (a ticket each): a thread that writes in a loop cannot starve the others.
/// A writer waits for another thread as long as it would for another process.
#[derive(Default)]
pub(crate) struct WriterGate {
    // parking_lot's: its `notify_all` makes no system call when no thread waits, which is
    // every commit of a single-threaded program.
    state: parking_lot::Mutex<GateState>,
    freed: parking_lot::Condvar,
}

#[derive(Default)]
struct GateState {
    holder: Option<u64>,
    /// The ticket the next writer to ask gets.
    next_ticket: u64,
    /// The ticket whose writer may go next (the holder's, while there is one).
    serving: u64,
    /// Tickets whose writers stopped waiting before their turn.
    abandoned: BTreeSet<u64>,
}

impl GateState {
    /// Passes the turn over writers that stopped waiting.
    fn skip_abandoned(&mut self) {
        if self.holder.is_none() {
            while self.abandoned.remove(&self.serving) {
                self.serving += 1;
            }
        }
    }
}

impl WriterGate {
    /// Takes the gate for this thread, waiting while other threads of this process take
    /// their turns; [`Error::Locked`] once one holder has kept it for `wait` without the
    /// turn moving on. (A transaction handed to another thread, which then began one of
    /// its own, used to wait forever.)
    pub(crate) fn acquire(&self, wait: Duration, name: impl Fn() -> PathBuf) -> Result<()> {
        let me = this_thread();
        let mut state = self.state.lock();
        if state.holder == Some(me) {
            return Err(Error::Conflict(
                "this thread already has an open write transaction; commit or drop it first".into(),
            ));
        }
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        // The wait starts again each time the turn moves on: writers queued behind
        // others that work normally are not refused; one stuck holder is.
        let mut turn = state.serving;
        let mut deadline = Instant::now().checked_add(wait);
        while state.serving != ticket || state.holder.is_some() {
            if state.serving != turn {
                turn = state.serving;
                deadline = Instant::now().checked_add(wait);
            }
            let left = match deadline {
                Some(d) => d.saturating_duration_since(Instant::now()),
                None => Duration::MAX,
            };
            if left.is_zero() {
                state.abandoned.insert(ticket);
                state.skip_abandoned();
                drop(state);
                self.freed.notify_all();
                return Err(Error::Locked {
                    path: name(),
                    holder: Some(std::process::id()),
                    by_this_process: true,
                });
            }
            self.freed
                .wait_for(&mut state, left.min(Duration::from_secs(3600)));
        }
        state.holder = Some(me);
        Ok(())
    }

    pub(crate) fn release(&self) {
        let mut state = self.state.lock();
        state.holder = None;
        state.serving += 1;
        state.skip_abandoned();
        drop(state);
        self.freed.notify_all();
    }
}

/// What every handle to one database shares.
pub(crate) struct Shared {
    pub(crate) backend: Box<dyn Backend>,
    pub(crate) writer: WriterGate,
    /// How long a write waits for another process's lease.
    pub(crate) lock_wait: Option<Duration>,
    durability: Durability,
    pub(crate) path: Option<PathBuf>,
    /// Why a write to the store failed, once one has: the store's memory may then hold a
    /// commit the disk does not, so the handle refuses all further work until reopened.
    failed_write: Mutex<Option<(std::io::ErrorKind, String)>>,
    /// Opened to salvage a damaged database: reads only.
    salvage: bool,
    /// The directory of a temporary database, removed after the backend closes.
    _temporary: Option<tempfile::TempDir>,
    /// Commits made through this handle and the time they took, counted, to wake the
    /// watchers of this process (parking_lot's, as the [`WriterGate`]'s).
    commits: (parking_lot::Mutex<CommitStats>, parking_lot::Condvar),
    /// The process that opened the store.
    pid: u32,
    /// The process's fork generation when the store was opened.
    fork_generation: u64,
}

impl Drop for Shared {
    fn drop(&mut self) {
        if self.path.is_none() {
            return;
        }
        // The open that holds the table while a failed reuse drops its store leaves the
        // entry to the next open's sweep, instead of waiting on itself.
        if let Ok(mut open) = OPEN.try_lock() {
            open.retain(|_, weak| weak.strong_count() > 0);
        }
    }
}

impl Shared {
    /// Applies `writes` through `lease` as one atomic commit. A failure here leaves
    /// unknown whether the batch reached the disk: the handle is then poisoned, and
    /// reopening the database recovers whichever state the disk holds (the whole batch
    /// or none of it). `version` is the newest version the batch writes.
    pub(crate) fn commit(
        &self,
        lease: Box<dyn WriteLease>,
        writes: Vec<Write>,
        version: Version,
    ) -> Result<()> {
        self.writable()?;
        let start = Instant::now();
        let committed = lease.commit(writes, version);
        if committed.is_ok() {
            let (stats, wake) = &self.commits;
            let mut stats = stats.lock();
            stats.commits += 1;
            stats.time += start.elapsed();
            wake.notify_all();
        }
        committed.map_err(|e| {
            if !self.backend.commit_failure_poisons() {
                return e;
            }
            let cause = e.to_string();
            let kind = match e {
                Error::Io { kind, .. } => kind,
                _ => std::io::ErrorKind::Other,
            };
            *self.failed_write.lock().unwrap_or_else(|e| e.into_inner()) =
                Some((kind, cause.clone()));
            Error::Io {
                kind,
                message: format!(
                    "the commit failed and may or may not have reached the disk ({cause}); \
                     close every handle and reopen the database"
                ),
            }
        })
    }

    /// How long a writer waits for another thread of this process: as long as for another
    /// process, and never less than [`DEFAULT_LOCK_WAIT`] (a handle that fails at once
    /// when another process writes still lets its own threads take turns).
    pub(crate) fn thread_wait(&self) -> Duration {
        self.lock_wait.unwrap_or_default().max(DEFAULT_LOCK_WAIT)
    }

    /// Fails when the handle may not write: opened to salvage, or poisoned.
    pub(crate) fn writable(&self) -> Result<()> {
        if self.salvage {
            return Err(Error::ReadOnly(
                "the database was opened to salvage it: it can be read and exported, not \
                 changed"
                    .into(),
            ));
        }
        self.usable()
    }

    /// Fails in a child made by `fork()` after the handle was opened: the engines' files,
    /// locks and threads belong to the parent (a write would hang or corrupt).
    fn same_process(&self) -> Result<()> {
        if forks::generation() == self.fork_generation {
            return Ok(());
        }
        Err(Error::Conflict(format!(
            "this database handle was opened by process {} before fork(); a child process \
             must open the database itself (after exec)",
            self.pid
        )))
    }

    /// Fails once a write to the store has failed (see [`Shared::commit`]).
    pub(crate) fn usable(&self) -> Result<()> {
        self.same_process()?;
        match &*self.failed_write.lock().unwrap_or_else(|e| e.into_inner()) {
            None => Ok(()),
            Some((kind, cause)) => Err(Error::Io {
                kind: *kind,
                message: format!(
                    "an earlier commit failed ({cause}); close every handle and reopen the \
                     database"
                ),
            }),
        }
    }
}

/// Whether this process is a `fork()` child of the one that opened a handle, without a
/// `getpid()` system call on every read (it was a tenth of a point read).
mod forks {
    use std::sync::Once;
    use std::sync::atomic::{AtomicU64, Ordering};

    static GENERATION: AtomicU64 = AtomicU64::new(0);
    static WATCH: Once = Once::new();

    extern "C" fn in_child() {
        GENERATION.fetch_add(1, Ordering::Relaxed);
    }

    /// How many `fork()`s separate this process from the first process of its line that
    /// asked: a child sees one more than its parent saw.
    pub(super) fn generation() -> u64 {
        WATCH.call_once(|| {
            // SAFETY: registers a handler that only increments an atomic, which is safe
            // in the child of a fork.
            let status = unsafe { libc::pthread_atfork(None, None, Some(in_child)) };
            assert_eq!(status, 0, "pthread_atfork failed");
        });
        GENERATION.load(Ordering::Relaxed)
    }
}

/// The format number `bytes` holds, if this build reads it: its own, or an older one
/// (which opening upgrades, or a salvage reads as it is).
fn readable_format(bytes: &[u8]) -> Result<u32> {
    let found: u32 = decode(bytes, &|| "the format version".into())?;
    match found {
        1..=FORMAT_VERSION => Ok(found),
        _ => Err(Error::UnsupportedFormat {
            found,
            supported: FORMAT_VERSION,
        }),
    }
}

/// Refuses to make a database inside an existing directory that holds other files: a
/// mistyped path (a home directory, `/etc`) must not get sled's files scattered into it.
fn refuse_foreign_directory(path: &Path) -> Result<()> {
    let Ok(mut entries) = std::fs::read_dir(path) else {
        return Ok(()); // missing (it is created) or not a directory (creating it fails)
    };
    let holds_database = engine_of(path).is_some();
    if !holds_database && entries.next().is_some() {
        return Err(Error::InvalidValue(format!(
            "{} is a directory with other files and no clusto database in it; give a new or \
             empty directory",
            path.display()
        )));
    }
    Ok(())
}

/// The engine of the database in directory `path`, if it holds one.
fn engine_of(path: &Path) -> Option<Engine> {
    if path.join(crate::storage::LMDB_DATA_FILE).is_file() {
        Some(Engine::Lmdb)
    } else if path.join("db").is_file() {
        Some(Engine::Sled) // sled's log
    } else {
        None
    }
}

/// Databases open in this process, by canonical path, so that two opens share one store
/// (sled refuses a second open even from the same process). A B-tree, like the driver
/// registry, so that a leak checker sees it as reachable.
static OPEN: LazyLock<Mutex<BTreeMap<PathBuf, Weak<Shared>>>> = LazyLock::new(Default::default);

/// A clusto database. Cheap to clone; clones and other opens of the same path in this
/// process share one store. `Send + Sync`.
#[derive(Clone)]
pub struct Clusto {
    shared: Arc<Shared>,
}

impl Clusto {
    /// Opens the database `dsn` names, creating it if missing, with durable commits and
    /// the default wait for another process's write lease. `dsn` is a directory path
    /// (an existing database opens with the engine that made it; a new one is LMDB),
    /// `lmdb:///path`, `sled:///path` or `memory:` (see [`crate::dsn`]).
    pub fn open(dsn: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(dsn, &OpenOptions::default())
    }

    /// Opens the database `dsn` names (as [`Clusto::open`]) with `options`. A database
    /// already open in this process is shared, and keeps the options it was first
    /// opened with.
    pub fn open_with(dsn: impl AsRef<Path>, options: &OpenOptions) -> Result<Self> {
        let db = Self::open_store(dsn.as_ref(), options)?;
        // Drivers another consumer registered behave the same here. A salvage reads
        // what it can, without them if need be.
        if let Err(e) = db.load_stored_drivers()
            && !options.salvage
        {
            return Err(e);
        }
        Ok(db)
    }

    fn open_store(dsn: &Path, options: &OpenOptions) -> Result<Self> {
        match dsn::locate(dsn)? {
            Location::Memory => Self::build(Box::new(MemoryBackend::new()), options, None, None),
            Location::Directory { path, engine } => Self::open_directory(&path, engine, options),
            #[cfg(feature = "postgres")]
            Location::Postgres { dsn } => Self::build(
                Box::new(crate::storage::PostgresBackend::open(&dsn, options)?),
                options,
                None,
                None,
            ),
            #[cfg(not(feature = "postgres"))]
            Location::Postgres { dsn } => Err(Error::InvalidValue(format!(
                "DSN '{}': this build has no PostgreSQL backend",
                dsn::hide_password(&dsn)
            ))),
        }
    }

    fn open_directory(path: &Path, asked: Option<Engine>, options: &OpenOptions) -> Result<Self> {
        refuse_foreign_directory(path)?;
        let found = engine_of(path);
        let engine = match (asked, found) {
            (Some(asked), Some(found)) if asked != found => {
                return Err(Error::InvalidValue(format!(
                    "{} holds a {} database, not {}: open it as {}:///{}, or copy it with \
                     `clusto copy`",
                    path.display(),
                    found.scheme(),
                    asked.scheme(),
                    found.scheme(),
                    path.display().to_string().trim_start_matches('/'),
                )));
            }
            (_, Some(found)) => found,
            (Some(asked), None) => asked,
            (None, None) => Engine::Lmdb,
        };
        if options.salvage && engine != Engine::Sled && found.is_none() {
            return Err(Error::NotFound(format!(
                "there is no database to salvage in {}",
                path.display()
            )));
        }
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)
            .map_err(|e| Error::os(format_args!("cannot create {}", path.display()), &e))?;
        let canonical = path.canonicalize()?;
        let mut open = OPEN.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(shared) = open.get(&canonical).and_then(Weak::upgrade) {
            shared.same_process()?;
            return Ok(Clusto { shared });
        }
        let db = match engine {
            Engine::Lmdb => {
                let backend = match options.salvage {
                    true => LmdbBackend::open_for_salvage(&canonical)?,
                    false => LmdbBackend::open(&canonical, options.durability)?,
                };
                Self::build(Box::new(backend), options, Some(canonical.clone()), None)?
            }
            Engine::Sled => Self::open_sled(path, &canonical, options)?,
        };
        open.retain(|_, weak| weak.strong_count() > 0);
        open.insert(canonical, Arc::downgrade(&db.shared));
        Ok(db)
    }

    /// Opens a sled database: one process at a time, so an open waits up to
    /// `lock_wait` for another process to close it; a commit mark reports a log that
    /// lost commits.
    fn open_sled(path: &Path, canonical: &Path, options: &OpenOptions) -> Result<Self> {
        let flush_every = match options.durability {
            Durability::Immediate => None,
            Durability::Periodic { every_ms } => Some(every_ms.max(1)),
            Durability::Grouped { .. } => {
                return Err(Error::InvalidValue(format!(
                    "{}: sled cannot give grouped durability (a commit that survives the \
                     death of the process without being flushed); use immediate or \
                     periodic, or move the database to LMDB with `clusto copy`",
                    path.display()
                )));
            }
        };
        let started = Instant::now();
        let backend = loop {
            let cache = options.cache_mib.unwrap_or(DEFAULT_CACHE_MIB);
            let opened = if options.salvage {
                SledBackend::salvage(canonical, cache)
            } else {
                SledBackend::open(canonical, flush_every, cache)
            };
            match opened {
                Err(Error::Locked { .. })
                    if options.lock_wait.is_some_and(|w| started.elapsed() < w) =>
                {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(Error::Locked { .. }) => {
                    return Err(Error::Locked {
                        path: path.to_path_buf(),
                        holder: None,
                        by_this_process: false,
                    });
                }
                other => break other?,
            }
        };
        // A salvage neither trusts nor moves the mark.
        let (backend, recorded) = match options.salvage {
            true => (backend, 0),
            false => {
                let (mark, recorded) = CommitMark::open(canonical)?;
                (backend.with_mark(mark), recorded)
            }
        };
        // An empty store is new unless the mark says commits were made to it: then it
        // is a log that lost everything, and writing its format would change it.
        if recorded > 0 && backend.is_empty()? {
            return Err(commit_mark::behind_mark(path, 0, recorded));
        }
        let (db, format) = Self::assemble(
            Box::new(backend),
            options,
            Some(canonical.to_path_buf()),
            None,
        )?;
        let latest = db.latest_version()?;
        if latest < recorded {
            return Err(commit_mark::behind_mark(path, latest, recorded));
        }
        // Only a store that is whole is upgraded.
        db.upgrade_format(format)?;
        Ok(db)
    }

    /// A new, empty database in a temporary directory (on the default engine), removed
    /// when the last handle drops. Its commits are not synced: it does not outlive the
    /// process anyway.
    pub fn temporary() -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("clusto-")
            .tempdir()
            .map_err(|e| Error::os("cannot make a temporary directory", &e))?;
        let options = OpenOptions {
            durability: Durability::Grouped { every_ms: 60_000 },
            ..OpenOptions::default()
        };
        let backend = LmdbBackend::open(dir.path(), options.durability)?;
        Self::build(Box::new(backend), &options, None, Some(dir))
    }

    /// A new, empty database on the engine `scheme` names (`lmdb`, `sled` or `memory`),
    /// removed when the last handle drops: for suites that run on every engine.
    pub fn temporary_on(scheme: &str) -> Result<Self> {
        match scheme {
            "lmdb" => Self::temporary(),
            "memory" => Self::open("memory:"),
            "sled" => {
                let options = OpenOptions {
                    durability: Durability::Periodic { every_ms: 1000 },
                    ..OpenOptions::default()
                };
                Self::build(Box::new(SledBackend::temporary()?), &options, None, None)
            }
            other => Err(Error::InvalidValue(format!(
                "unknown engine '{other}' (expected lmdb, sled or memory)"
            ))),
        }
    }

    /// Uses any [`Backend`]; checks (or, when empty, writes) the format version.
    pub fn with_backend(
        backend: Box<dyn Backend>,
        durability: Durability,
        path: Option<PathBuf>,
    ) -> Result<Self> {
        let options = OpenOptions {
            durability,
            ..OpenOptions::default()
        };
        Self::build(backend, &options, path, None)
    }

    pub(crate) fn build(
        backend: Box<dyn Backend>,
        options: &OpenOptions,
        path: Option<PathBuf>,
        temporary: Option<tempfile::TempDir>,
    ) -> Result<Self> {
        let (db, format) = Self::assemble(backend, options, path, temporary)?;
        db.upgrade_format(format)?;
        Ok(db)
    }

    /// Upgrades a store of an older format (`found` when it was opened) to this build's,
    /// in one commit under the write lease (see the `upgrade` module), after the engine
    /// has brought its own layout up to date. A salvage changes nothing, not even the
    /// format.
    fn upgrade_format(&self, found: u32) -> Result<()> {
        if self.shared.salvage {
            return Ok(());
        }
        let backend = &self.shared.backend;
        backend.upgrade_layout(self.shared.lock_wait)?;
        if found == FORMAT_VERSION {
            return Ok(());
        }
        let format_key = keys::meta("format");
        // Read again under the lease: another process may be upgrading it right now.
        let lease = backend.begin_write(self.shared.lock_wait)?;
        match lease.get(&format_key)? {
            Some(bytes) => {
                let now = readable_format(&bytes)?;
                if now == FORMAT_VERSION {
                    return Ok(());
                }
                let writes = crate::upgrade::to_current(lease.as_ref(), now, &format_key)?;
                lease.commit(writes, 0)?;
                backend.flush()
            }
            None => Ok(()),
        }
    }

    /// A handle on `backend`, whose format this build reads (a new store is given the
    /// current one), and that format; a store of an older format is left to
    /// [`Clusto::upgrade_format`].
    fn assemble(
        backend: Box<dyn Backend>,
        options: &OpenOptions,
        path: Option<PathBuf>,
        temporary: Option<tempfile::TempDir>,
    ) -> Result<(Self, u32)> {
        let format_key = keys::meta("format");
        let stored = backend.snapshot()?.get(&format_key)?;
        let mut format = FORMAT_VERSION;
        match stored {
            Some(bytes) => format = readable_format(&bytes)?,
            // A salvage changes nothing, not even an empty store.
            None if options.salvage && backend.is_empty()? => {}
            None => {
                // Decided under the lease: another process may be making it right now.
                let lease = backend.begin_write(options.lock_wait)?;
                match lease.get(&format_key)? {
                    Some(bytes) => format = readable_format(&bytes)?,
                    None if lease.scan(&[], None, false).next().is_none() => {
                        // The counters record from the start: its absence marks format 1.
                        let counters = crate::view::StoreCounters::default();
                        lease.commit(
                            vec![
                                (format_key, Some(encode(&FORMAT_VERSION))),
                                (keys::counters(), Some(encode(&counters))),
                            ],
                            0,
                        )?;
                        backend.flush()?;
                    }
                    None => {
                        return Err(Error::Corrupt(
                            "the database has data but no format version".into(),
                        ));
                    }
                }
            }
        }
        let db = Clusto {
            shared: Arc::new(Shared {
                backend,
                writer: WriterGate::default(),
                lock_wait: options.lock_wait,
                durability: options.durability,
                path,
                failed_write: Mutex::new(None),
                salvage: options.salvage,
                _temporary: temporary,
                commits: Default::default(),
                pid: std::process::id(),
                fork_generation: forks::generation(),
            }),
        };
        Ok((db, format))
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
        let snapshot = self.shared.backend.snapshot()?;
        read(&View::new(snapshot.as_ref(), None))
    }

    /// Runs `read` against the state as of the end of version `version`; a version
    /// newer than the latest is refused ([`Error::InvalidValue`]).
    pub fn read_at<T>(
        &self,
        version: Version,
        read: impl FnOnce(&View<'_>) -> Result<T>,
    ) -> Result<T> {
        self.shared.usable()?;
        let snapshot = self.shared.backend.snapshot()?;
        // A version not committed yet would read as later commits land.
        let latest = View::new(snapshot.as_ref(), None).latest_version()?;
        if version > latest {
            return Err(Error::InvalidValue(format!(
                "version {version} does not exist yet (the latest is {latest})"
            )));
        }
        read(&View::new(snapshot.as_ref(), Some(version)))
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
        self.shared.usable()?;
        check::run(self.shared.backend.snapshot()?.as_ref())
    }

    /// Flushes everything committed to disk.
    pub fn flush(&self) -> Result<()> {
        self.shared.backend.flush()
    }

    /// The newest version the database's commit mark records as committed to disk;
    /// `None` without a mark (a temporary database, one never written to) or when the
    /// mark is damaged. After a salvage, versions above [`Clusto::latest_version`] up to
    /// this one are the ones the damage lost.
    pub fn committed_version(&self) -> Option<Version> {
        commit_mark::read(self.shared.path.as_deref()?)
    }

    /// A listener for the commits of every process, when the backend announces them.
    pub(crate) fn commit_listener(
        &self,
    ) -> Result<Option<Box<dyn crate::storage::CommitListener + '_>>> {
        self.shared.usable()?;
        self.shared.backend.commit_listener()
    }

    /// Waits until this process commits to the database or `pause` passes.
    pub(crate) fn wait_for_commit(&self, pause: Duration) {
        let (stats, wake) = &self.shared.commits;
        let mut seen = stats.lock();
        let start = seen.commits;
        wake.wait_while_for(&mut seen, |now| now.commits == start, pause);
    }

    /// The commits made through this database's handles in this process, and the time
    /// the storage took to make them durable (the write lease's commit: the writes, and
    /// the sync the durability asks for). A commit's cost beyond it is the work of
    /// building the transaction.
    pub fn commit_stats(&self) -> CommitStats {
        *self.shared.commits.0.lock()
    }

    /// When this handle's commits reach the disk.
    pub fn durability(&self) -> Durability {
        self.shared.durability
    }

    /// The storage engine: `lmdb`, `sled` or `memory`.
    pub fn engine(&self) -> &'static str {
        self.shared.backend.engine()
    }

    /// Bytes the database occupies on disk.
    pub fn size_on_disk(&self) -> Result<u64> {
        self.shared.backend.size_on_disk()
    }
}
