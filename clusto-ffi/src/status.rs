//! Status codes, the per-thread last error, and the boundary guard that turns errors and
//! panics into them.

use std::cell::RefCell;
use std::ffi::{CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use clusto_core::Error;
use clusto_core::protocol::error_code;

/// The status every fallible function returns.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClustoStatus {
    /// Success.
    Ok = 0,
    /// The named entity, driver, attribute, version or resource does not exist.
    NotFound = 1,
    /// The name is taken.
    AlreadyExists = 2,
    /// A NULL pointer, invalid UTF-8, an out-of-range or malformed argument; a write
    /// through a handle from `clusto_open_at`.
    InvalidArgument = 3,
    /// An invalid entity name, key or subkey, or a property the driver does not have.
    InvalidName = 4,
    /// The entity's driver does not allow the operation (not a rack, not a device, not
    /// the kind of resource manager the call needs...).
    TypeMismatch = 5,
    /// The resource is taken or the manager exhausted.
    ResourceUnavailable = 6,
    /// The change conflicts with the state: an ambiguous match, a pool or port rule,
    /// a transaction already open on this thread, a handle used in a child of `fork()`.
    Conflict = 7,
    /// Another process holds the database or its write lease, for longer than the
    /// handle waits (`lock_wait_ms`).
    Locked = 8,
    /// Stored data is corrupt or of an unsupported format.
    Corrupt = 9,
    /// An I/O error of the disk or the PostgreSQL server.
    Io = 10,
    /// A bug inside the library: a panic was caught at the boundary.
    Panic = 11,
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

pub(crate) fn set_last_error(message: &str) {
    let c = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = c);
}

/// The status for a core error: the one `clusto_core::protocol::error_code` names, so
/// the statuses and `clusto_json`'s codes group the kinds of error in one place.
pub(crate) fn status_of(e: &Error) -> ClustoStatus {
    match error_code(e) {
        "NOT_FOUND" => ClustoStatus::NotFound,
        "ALREADY_EXISTS" => ClustoStatus::AlreadyExists,
        "INVALID_NAME" => ClustoStatus::InvalidName,
        "INVALID_ARGUMENT" => ClustoStatus::InvalidArgument,
        "TYPE_MISMATCH" => ClustoStatus::TypeMismatch,
        "RESOURCE_UNAVAILABLE" => ClustoStatus::ResourceUnavailable,
        "CONFLICT" => ClustoStatus::Conflict,
        "LOCKED" => ClustoStatus::Locked,
        "CORRUPT" => ClustoStatus::Corrupt,
        // I/O, and any code a newer core adds.
        _ => ClustoStatus::Io,
    }
}

/// The upper-case name of a status, as the JSON entry point reports it.
pub(crate) fn status_name(s: ClustoStatus) -> &'static str {
    match s {
        ClustoStatus::Ok => "OK",
        ClustoStatus::NotFound => "NOT_FOUND",
        ClustoStatus::AlreadyExists => "ALREADY_EXISTS",
        ClustoStatus::InvalidArgument => "INVALID_ARGUMENT",
        ClustoStatus::InvalidName => "INVALID_NAME",
        ClustoStatus::TypeMismatch => "TYPE_MISMATCH",
        ClustoStatus::ResourceUnavailable => "RESOURCE_UNAVAILABLE",
        ClustoStatus::Conflict => "CONFLICT",
        ClustoStatus::Locked => "LOCKED",
        ClustoStatus::Corrupt => "CORRUPT",
        ClustoStatus::Io => "IO",
        ClustoStatus::Panic => "PANIC",
    }
}

/// Runs `body` with panics caught; an error sets the last error and its status.
pub(crate) fn guard(body: impl FnOnce() -> Result<(), Error>) -> ClustoStatus {
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

/// The message of the last failed call on this thread; "" after a success. The string
/// belongs to the library and stays valid until the next call on this thread: do not
/// free it.
#[unsafe(no_mangle)]
pub extern "C" fn clusto_last_error() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `clusto_json` reports `error.code` from the core's protocol and returns the C
    /// status: the two must name the same thing for every kind of error.
    #[test]
    fn the_status_and_the_protocol_code_agree() {
        let samples = [
            Error::NotFound("x".into()),
            Error::AlreadyExists("x".into()),
            Error::InvalidName("x".into()),
            Error::InvalidValue("x".into()),
            Error::InvalidResource("x".into()),
            Error::TypeMismatch("x".into()),
            Error::ResourceUnavailable("x".into()),
            Error::Ambiguous("x".into()),
            Error::Conflict("x".into()),
            Error::PoolRule("x".into()),
            Error::Port("x".into()),
            Error::ReadOnly("x".into()),
            Error::Corrupt("x".into()),
            Error::io_other("x"),
        ];
        for e in &samples {
            assert_eq!(status_name(status_of(e)), error_code(e), "{e:?}");
        }
    }
}
