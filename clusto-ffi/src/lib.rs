//! The C ABI of clusto. Every function catches panics at the boundary, checks its
//! pointers and UTF-8, and returns a [`ClustoStatus`]; the message of the last error on
//! the calling thread is read with [`clusto_last_error`].

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use clusto_core::{Clusto, Error, OpenOptions};

/// Status codes returned by every fallible function.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClustoStatus {
    /// Success.
    Ok = 0,
    /// The named entity, attribute or version does not exist.
    NotFound = 1,
    /// The name is taken.
    AlreadyExists = 2,
    /// A NULL pointer, invalid UTF-8 or out-of-range argument.
    InvalidArgument = 3,
    /// An invalid entity name, key or subkey.
    InvalidName = 4,
    /// The entity's driver does not allow the operation.
    TypeMismatch = 5,
    /// The resource is taken or exhausted.
    ResourceUnavailable = 6,
    /// Conflicting transaction state or an ambiguous match.
    Conflict = 7,
    /// Another process holds the database.
    Locked = 8,
    /// Stored data is corrupt or of an unsupported format.
    Corrupt = 9,
    /// An I/O error.
    Io = 10,
    /// A bug inside the library (a caught panic).
    Panic = 11,
}

/// An open database; free it with [`clusto_close`].
pub struct ClustoDb {
    db: Clusto,
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(message: &str) {
    let c = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = c);
}

fn status_of(e: &Error) -> ClustoStatus {
    match e {
        Error::NotFound(_) => ClustoStatus::NotFound,
        Error::AlreadyExists(_) => ClustoStatus::AlreadyExists,
        Error::InvalidName(_) => ClustoStatus::InvalidName,
        Error::InvalidValue(_) | Error::InvalidResource(_) => ClustoStatus::InvalidArgument,
        Error::TypeMismatch(_) => ClustoStatus::TypeMismatch,
        Error::ResourceUnavailable(_) => ClustoStatus::ResourceUnavailable,
        Error::Ambiguous(_) | Error::Conflict(_) | Error::PoolRule(_) | Error::Port(_) => {
            ClustoStatus::Conflict
        }
        Error::Locked { .. } => ClustoStatus::Locked,
        Error::Corrupt(_) | Error::UnsupportedFormat { .. } => ClustoStatus::Corrupt,
        Error::Io(_) => ClustoStatus::Io,
    }
}

/// Runs `body` with panics caught and errors turned into a status and a message.
fn guard(body: impl FnOnce() -> Result<(), Error>) -> ClustoStatus {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => {
            set_last_error("");
            ClustoStatus::Ok
        }
        Ok(Err(e)) => {
            set_last_error(&e.to_string());
            status_of(&e)
        }
        Err(_) => {
            set_last_error("internal error: a panic was caught at the C boundary");
            ClustoStatus::Panic
        }
    }
}

fn invalid(what: &str) -> Error {
    Error::InvalidValue(what.to_owned())
}

/// # Safety
/// `ptr` is NULL or a NUL-terminated string.
unsafe fn text<'a>(ptr: *const c_char, what: &str) -> Result<&'a str, Error> {
    if ptr.is_null() {
        return Err(invalid(&format!("{what} is NULL")));
    }
    // SAFETY: the caller passes a NUL-terminated string.
    unsafe { CStr::from_ptr(ptr) }
        .to_str()
        .map_err(|_| invalid(&format!("{what} is not valid UTF-8")))
}

/// The library version, e.g. "0.1.0". Static: do not free.
#[unsafe(no_mangle)]
pub extern "C" fn clusto_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The message of the last error on this thread ("" after a success). Owned by the
/// library and valid until the next call on this thread: do not free.
#[unsafe(no_mangle)]
pub extern "C" fn clusto_last_error() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

/// Opens (creating if needed) the database in directory `path`, waiting up to
/// `lock_wait_ms` milliseconds while another process holds it. On success `*out` is a
/// handle to free with [`clusto_close`]. Errors: INVALID_ARGUMENT, LOCKED, CORRUPT, IO.
///
/// # Safety
/// `path` is a NUL-terminated string; `out` points to writable storage for a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_open(
    path: *const c_char,
    lock_wait_ms: u64,
    out: *mut *mut ClustoDb,
) -> ClustoStatus {
    guard(|| {
        if out.is_null() {
            return Err(invalid("out is NULL"));
        }
        // SAFETY: checked for NULL; the caller guarantees a C string.
        let path = unsafe { text(path, "path") }?;
        let options = OpenOptions {
            lock_wait: (lock_wait_ms > 0).then(|| Duration::from_millis(lock_wait_ms)),
            ..Default::default()
        };
        let db = Clusto::open_with(path, &options)?;
        // SAFETY: `out` is non-NULL and writable.
        unsafe { *out = Box::into_raw(Box::new(ClustoDb { db })) };
        Ok(())
    })
}

/// Closes a database handle. NULL is ignored.
///
/// # Safety
/// `db` is NULL or a handle from [`clusto_open`] not yet closed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_close(db: *mut ClustoDb) {
    if !db.is_null() {
        // SAFETY: the handle came from Box::into_raw in clusto_open.
        let _ = catch_unwind(AssertUnwindSafe(|| drop(unsafe { Box::from_raw(db) })));
    }
}

/// Stores the newest committed version in `*out`. Errors: INVALID_ARGUMENT, CORRUPT, IO.
///
/// # Safety
/// `db` is a live handle; `out` points to writable storage.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_latest_version(db: *const ClustoDb, out: *mut u64) -> ClustoStatus {
    guard(|| {
        if db.is_null() || out.is_null() {
            return Err(invalid("db or out is NULL"));
        }
        // SAFETY: non-NULL handle from clusto_open.
        let v = unsafe { &*db }.db.latest_version()?;
        // SAFETY: non-NULL, writable.
        unsafe { *out = v };
        Ok(())
    })
}

/// Runs the integrity check; stores the number of problems found in `*problems`.
/// Errors: INVALID_ARGUMENT, IO.
///
/// # Safety
/// `db` is a live handle; `problems` points to writable storage.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_check(db: *const ClustoDb, problems: *mut u64) -> ClustoStatus {
    guard(|| {
        if db.is_null() || problems.is_null() {
            return Err(invalid("db or problems is NULL"));
        }
        // SAFETY: non-NULL handle from clusto_open.
        let report = unsafe { &*db }.db.check()?;
        // SAFETY: non-NULL, writable.
        unsafe { *problems = report.problems.len() as u64 };
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ptr;

    fn last_error() -> String {
        // SAFETY: the library returns a valid C string.
        unsafe { CStr::from_ptr(clusto_last_error()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn open_check_close() {
        let dir = std::env::temp_dir().join(format!("clusto-ffi-{}", std::process::id()));
        let path = CString::new(dir.to_str().unwrap()).unwrap();
        let mut db = ptr::null_mut();
        // SAFETY: valid arguments.
        unsafe {
            assert_eq!(clusto_open(path.as_ptr(), 0, &mut db), ClustoStatus::Ok);
            let mut v = 99;
            assert_eq!(clusto_latest_version(db, &mut v), ClustoStatus::Ok);
            assert_eq!(v, 0);
            let mut problems = 99;
            assert_eq!(clusto_check(db, &mut problems), ClustoStatus::Ok);
            assert_eq!(problems, 0);
            clusto_close(db);
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn bad_arguments_get_a_status_and_a_message() {
        let mut db = ptr::null_mut();
        // SAFETY: NULL and invalid UTF-8 are what is being tested; both are checked.
        unsafe {
            assert_eq!(
                clusto_open(ptr::null(), 0, &mut db),
                ClustoStatus::InvalidArgument
            );
            assert!(last_error().contains("path is NULL"));
            let bad = [0xffu8, 0];
            assert_eq!(
                clusto_open(bad.as_ptr().cast(), 0, &mut db),
                ClustoStatus::InvalidArgument
            );
            assert!(last_error().contains("UTF-8"));
            assert_eq!(
                clusto_latest_version(ptr::null(), ptr::null_mut()),
                ClustoStatus::InvalidArgument
            );
            clusto_close(ptr::null_mut());
        }
        // SAFETY: static string.
        let version = unsafe { CStr::from_ptr(clusto_version()) };
        assert_eq!(version.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }
}
