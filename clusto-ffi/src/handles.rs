//! Opaque handles: databases (live or as of a version) and transactions, and the two
//! helpers every call goes through to read or write.

use std::ffi::c_char;
use std::sync::Mutex;
use std::time::Duration;

use clusto_core::{Clusto, Error, OpenOptions, Transaction, TxMeta, View};

use crate::args::{invalid, opt_text, put, text};
use crate::status::{ClustoStatus, guard};

/// An open database, live or (from [`clusto_open_at`]) read-only as of a version. Any
/// number of threads may use one handle at once (see "Threads" at the top of this
/// header); [`clusto_close`] frees it.
pub struct ClustoDb {
    pub(crate) db: Clusto,
    pub(crate) at: Option<u64>,
    pub(crate) meta: Mutex<TxMeta>,
}

/// A write transaction begun with [`clusto_begin`], ended and freed by
/// [`clusto_commit`] or [`clusto_rollback`]. One thread at a time may use it; it may be
/// handed to another thread and used or ended there (see "Threads" at the top of this
/// header).
pub struct ClustoTxn {
    pub(crate) tx: Transaction,
    pub(crate) db: Clusto,
}

/// The database handle behind a pointer.
///
/// # Safety
/// `db` is NULL or a live handle from this library.
pub(crate) unsafe fn db_ref<'a>(db: *const ClustoDb) -> Result<&'a ClustoDb, Error> {
    // SAFETY: NULL or a live handle by contract.
    unsafe { db.as_ref() }.ok_or_else(|| invalid("db is NULL"))
}

/// The transaction behind a nullable pointer.
///
/// # Safety
/// `tx` is NULL or a live transaction from this library.
pub(crate) unsafe fn tx_mut<'a>(tx: *mut ClustoTxn) -> Option<&'a mut ClustoTxn> {
    // SAFETY: NULL or a live handle by contract.
    unsafe { tx.as_mut() }
}

fn check_pair(db: &ClustoDb, tx: &ClustoTxn) -> Result<(), Error> {
    if db.at.is_some() {
        return Err(invalid(
            "a transaction cannot be used with a handle opened as of a version",
        ));
    }
    if !db.db.same_store(&tx.db) {
        return Err(invalid("the transaction was begun on another database"));
    }
    Ok(())
}

/// Reads through `tx` when given (it sees its own writes), else the committed state
/// (as of the handle's version, for a handle from [`clusto_open_at`]).
pub(crate) fn read<T>(
    db: &ClustoDb,
    tx: Option<&mut ClustoTxn>,
    f: impl FnOnce(&View<'_>) -> clusto_core::Result<T>,
) -> clusto_core::Result<T> {
    match (tx, db.at) {
        (Some(tx), _) => {
            check_pair(db, tx)?;
            f(&tx.tx.view())
        }
        (None, None) => db.db.read(f),
        (None, Some(v)) => db.db.read_at(v, f),
    }
}

/// Writes in `tx` when given, else in a transaction of its own (one version).
pub(crate) fn write<T>(
    db: &ClustoDb,
    tx: Option<&mut ClustoTxn>,
    f: impl FnOnce(&mut Transaction) -> clusto_core::Result<T>,
) -> clusto_core::Result<T> {
    if db.at.is_some() {
        return Err(invalid("this handle reads a past version: it cannot write"));
    }
    match tx {
        Some(tx) => {
            check_pair(db, tx)?;
            f(&mut tx.tx)
        }
        None => {
            let meta = db.meta.lock().unwrap_or_else(|e| e.into_inner()).clone();
            db.db.write(meta, f)
        }
    }
}

/// The library version, e.g. "0.1.0". Static: do not free.
#[unsafe(no_mangle)]
pub extern "C" fn clusto_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// Opens (creating if needed, mode 0700) the database `path` names: a directory (a new
/// database is LMDB; an existing one opens with its engine), `lmdb:///path`,
/// `sled:///path`, `memory:` (a new database in memory, gone when closed) or
/// `postgresql://...` (a server's database whose schema `clusto initdb` made). A
/// directory already open in this process is shared, with the options of its first
/// open (a transaction begun on one of its handles may be used with another); each
/// `memory:` open is a new database, and each `postgresql://` open a handle that shares
/// nothing with the others, as if in another process. Its writes wait up to
/// `lock_wait_ms` milliseconds while another process writes (0: fail at once with
/// LOCKED); a sled database, which admits one process, is waited for as long on open.
/// Commits are on disk when they return. On success `*out` is a handle to free with
/// `clusto_close`. The library runs background threads, named "clusto-...", while a
/// database that needs them is open (LMDB's "grouped" syncer, PostgreSQL's connection
/// pool); closing its last handle, once its last transaction has ended, stops and joins
/// them. sled, once used, keeps its own pool of worker threads until the process exits.
/// A child made by `fork()` cannot use handles opened before it, nor open the same
/// embedded database again: those calls fail with CONFLICT (open it after `exec`). As
/// with any library that takes locks, fork only while no other thread of the parent is
/// inside a clusto call.
///
/// Errors: INVALID_ARGUMENT (NULL or non-UTF-8 path, an unknown DSN scheme or a bad
/// DSN, a directory of other files, a directory holding a database of another engine
/// than the DSN names, NULL out), NOT_FOUND (a PostgreSQL database without clusto's
/// schema), LOCKED (a sled database another process keeps open, a new database another
/// process is making), CONFLICT (in a child of `fork()`, a database the parent had
/// open), CORRUPT (also a database of a newer format), IO (the directory cannot be
/// made, the server cannot be reached), PANIC.
///
/// # Safety
/// `path` is a NUL-terminated string; `out` is valid for writing a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_open(
    path: *const c_char,
    lock_wait_ms: u64,
    out: *mut *mut ClustoDb,
) -> ClustoStatus {
    // SAFETY: the same contract, with no durability.
    unsafe { clusto_open_with(path, lock_wait_ms, std::ptr::null(), out) }
}

/// As `clusto_open`, with `durability`: NULL or "immediate" (every commit on disk
/// before it returns), "grouped" or "grouped:MS" (LMDB: a commit survives the death of
/// the process at once and reaches the disk within MS milliseconds; see the README), or
/// "periodic:MS" (sled).
///
/// Errors: those of `clusto_open` (INVALID_ARGUMENT, NOT_FOUND, LOCKED, CONFLICT,
/// CORRUPT, IO, PANIC); INVALID_ARGUMENT also for an unknown durability, or one the
/// engine cannot give.
///
/// # Safety
/// As `clusto_open`; `durability` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_open_with(
    path: *const c_char,
    lock_wait_ms: u64,
    durability: *const c_char,
    out: *mut *mut ClustoDb,
) -> ClustoStatus {
    guard(|| {
        crate::args::need(out, "out")?;
        // SAFETY: contract above.
        let path = unsafe { text(path, "path") }?;
        let mut options = OpenOptions {
            lock_wait: (lock_wait_ms > 0).then(|| Duration::from_millis(lock_wait_ms)),
            ..Default::default()
        };
        if !durability.is_null() {
            // SAFETY: contract above.
            options.set("durability", unsafe { text(durability, "durability") }?)?;
        }
        let db = Clusto::open_with(path, &options)?;
        let handle = Box::into_raw(Box::new(ClustoDb {
            db,
            at: None,
            meta: Mutex::new(TxMeta::default()),
        }));
        // SAFETY: checked non-NULL above.
        unsafe { put(out, handle, "out") }
    })
}

/// A second, read-only handle on the same database that reads it as it was at the end
/// of `version` (whatever version `db` reads). Free it with `clusto_close`, before or
/// after `db`. Writes through it, and transactions given with it, fail with
/// INVALID_ARGUMENT. The functions about versions (`clusto_latest_version`,
/// `clusto_wait_version`, `clusto_changes_json`, `clusto_entity_versions`) still read
/// the live database: see "Versions and as-of handles" at the top of this header.
///
/// Errors: INVALID_ARGUMENT (NULL db or out, a version newer than the latest: it does
/// not exist yet), CONFLICT (a handle used after `fork()`), CORRUPT, IO, PANIC.
///
/// # Safety
/// `db` is a live handle; `out` is valid for writing a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_open_at(
    db: *const ClustoDb,
    version: u64,
    out: *mut *mut ClustoDb,
) -> ClustoStatus {
    guard(|| {
        crate::args::need(out, "out")?;
        // SAFETY: contract above.
        let db = unsafe { db_ref(db) }?;
        db.db.read_at(version, |_| Ok(()))?;
        let handle = Box::into_raw(Box::new(ClustoDb {
            db: db.db.clone(),
            at: Some(version),
            meta: Mutex::new(TxMeta::default()),
        }));
        // SAFETY: checked non-NULL above.
        unsafe { put(out, handle, "out") }
    })
}

/// Closes a handle. NULL is ignored. A transaction begun on it is not ended: it stays
/// open, keeps the write transaction, and is still committed or rolled back with
/// `clusto_commit` or `clusto_rollback`; the database's files, locks and threads are
/// released once its last handle is closed and its last transaction ended (see
/// "Closing" at the top of this header).
///
/// # Safety
/// `db` is NULL or a handle from this library, not yet closed, that no other thread is
/// using or will use.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_close(db: *mut ClustoDb) {
    if !db.is_null() {
        // SAFETY: the handle came from Box::into_raw.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            drop(unsafe { Box::from_raw(db) })
        }));
    }
}

/// Sets the user and description recorded with the versions of the calls made without
/// a transaction (NULL clears them), by every thread using this handle; `clusto_json`
/// requests that name neither record these too.
///
/// Errors: INVALID_ARGUMENT (NULL db, text that is not UTF-8), PANIC.
///
/// # Safety
/// `db` is a live handle; the strings are NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_set_meta(
    db: *mut ClustoDb,
    user: *const c_char,
    description: *const c_char,
) -> ClustoStatus {
    guard(|| {
        // SAFETY: contract above.
        let (db, user, description) = unsafe {
            (
                db_ref(db)?,
                opt_text(user, "user")?,
                opt_text(description, "description")?,
            )
        };
        *db.meta.lock().unwrap_or_else(|e| e.into_inner()) = TxMeta {
            user: user.map(str::to_owned),
            description: description.map(str::to_owned),
        };
        Ok(())
    })
}

/// Begins the write transaction, recording `user` and `description` (either may be
/// NULL) with its version. Waits its turn after the other threads of this process
/// (LOCKED only when one of them keeps the write transaction for the handle's
/// `lock_wait_ms`, at least 5 seconds, without the turn moving on) and up to
/// `lock_wait_ms` while another process holds it, then fails with LOCKED; fails with CONFLICT if this thread holds it (also when it
/// handed that transaction to another thread). End it with `clusto_commit` or
/// `clusto_rollback`, on this thread or another (see "Threads" at the top of this
/// header).
///
/// Errors: INVALID_ARGUMENT (NULL db or out, text that is not UTF-8, a handle from
/// `clusto_open_at`), CONFLICT (this thread holds the write transaction; a handle used
/// after `fork()`), LOCKED (another process held the write lease for `lock_wait_ms`, or
/// one thread of this process the write transaction for as long, and 5 s at least),
/// CORRUPT, IO, PANIC.
///
/// # Safety
/// `db` is a live handle; the strings are NULL or NUL-terminated; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_begin(
    db: *const ClustoDb,
    user: *const c_char,
    description: *const c_char,
    out: *mut *mut ClustoTxn,
) -> ClustoStatus {
    guard(|| {
        crate::args::need(out, "out")?;
        // SAFETY: contract above.
        let (db, user, description) = unsafe {
            (
                db_ref(db)?,
                opt_text(user, "user")?,
                opt_text(description, "description")?,
            )
        };
        if db.at.is_some() {
            return Err(invalid("this handle reads a past version: it cannot write"));
        }
        let meta = TxMeta {
            user: user.map(str::to_owned),
            description: description.map(str::to_owned),
        };
        let tx = db.db.begin(meta)?;
        let handle = Box::into_raw(Box::new(ClustoTxn {
            tx,
            db: db.db.clone(),
        }));
        // SAFETY: checked non-NULL above.
        unsafe { put(out, handle, "out") }
    })
}

/// Commits and frees the transaction, on any thread. `*version` (if `version` is not
/// NULL) receives the new version, or 0 when nothing changed. The transaction is freed
/// whatever the outcome. A failed commit commits nothing, except that a sled database
/// cannot tell whether a commit failing with IO reached its disk: its handles then
/// refuse work until the database is closed and reopened, which shows one or the other.
///
/// Errors: INVALID_ARGUMENT (NULL tx), CONFLICT (a transaction used after `fork()`),
/// CORRUPT, IO, PANIC.
///
/// # Safety
/// `tx` is a live transaction; `version` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_commit(tx: *mut ClustoTxn, version: *mut u64) -> ClustoStatus {
    guard(|| {
        if tx.is_null() {
            return Err(invalid("tx is NULL"));
        }
        // SAFETY: the handle came from Box::into_raw in clusto_begin.
        let tx = unsafe { Box::from_raw(tx) };
        let committed = tx.tx.commit()?;
        if !version.is_null() {
            // SAFETY: non-NULL and writable by contract.
            unsafe { version.write(committed.unwrap_or(0)) };
        }
        Ok(())
    })
}

/// Discards and frees the transaction, on any thread. NULL is ignored.
///
/// # Safety
/// `tx` is NULL or a live transaction.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_rollback(tx: *mut ClustoTxn) {
    if !tx.is_null() {
        // SAFETY: the handle came from Box::into_raw in clusto_begin.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            drop(unsafe { Box::from_raw(tx) })
        }));
    }
}
