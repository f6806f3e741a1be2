//! Checked conversions of C arguments, and strings handed back to C.

use std::ffi::{CStr, CString, c_char};

use clusto_core::Error;

/// An `InvalidValue` error (INVALID_ARGUMENT) naming the argument.
pub(crate) fn invalid(message: impl Into<String>) -> Error {
    Error::InvalidValue(message.into())
}

/// A required C string argument.
///
/// # Safety
/// `ptr` is NULL or a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn text<'a>(ptr: *const c_char, what: &str) -> Result<&'a str, Error> {
    if ptr.is_null() {
        return Err(invalid(format!("{what} is NULL")));
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    unsafe { CStr::from_ptr(ptr) }
        .to_str()
        .map_err(|_| invalid(format!("{what} is not valid UTF-8")))
}

/// An optional C string argument (NULL: none).
///
/// # Safety
/// As [`text`].
pub(crate) unsafe fn opt_text<'a>(
    ptr: *const c_char,
    what: &str,
) -> Result<Option<&'a str>, Error> {
    if ptr.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded contract.
        unsafe { text(ptr, what) }.map(Some)
    }
}

/// Writes `value` through a required out pointer.
///
/// # Safety
/// `out` is NULL or valid for a write of `T`.
pub(crate) unsafe fn put<T>(out: *mut T, value: T, what: &str) -> Result<(), Error> {
    if out.is_null() {
        return Err(invalid(format!("{what} is NULL")));
    }
    // SAFETY: non-NULL and writable by the caller's contract.
    unsafe { out.write(value) };
    Ok(())
}

/// Checks that a required out pointer is not NULL before any work is done.
pub(crate) fn need<T>(out: *mut T, what: &str) -> Result<(), Error> {
    if out.is_null() {
        Err(invalid(format!("{what} is NULL")))
    } else {
        Ok(())
    }
}

/// A string for C; free it with [`clusto_string_free`].
pub(crate) fn c_string(s: &str) -> *mut c_char {
    CString::new(s.replace('\0', "\\0"))
        .unwrap_or_default()
        .into_raw()
}

/// Frees a string the library returned. NULL is ignored.
///
/// # Safety
/// `s` is NULL or a string returned by this library and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_string_free(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: it came from CString::into_raw in c_string.
        drop(unsafe { CString::from_raw(s) });
    }
}
