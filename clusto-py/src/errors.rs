//! Core errors as Python exceptions. The exception classes live in the Python module
//! `clusto.exceptions` (the original clusto's hierarchy, with builtin bases where the
//! original raised builtins); here each core error picks its class by name.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use clusto_core::{Error, ErrorKind};

/// The name of the `clusto.exceptions` class for a core error.
fn class_name(e: &Error) -> &'static str {
    match e.kind() {
        ErrorKind::NotFound => "NotFoundError",
        ErrorKind::InvalidValue => "InvalidValueError",
        ErrorKind::TypeMismatch => "WrongTypeError",
        ErrorKind::AlreadyExists | ErrorKind::InvalidName => "NameException",
        ErrorKind::PoolRule => "PoolException",
        ErrorKind::Port => "ConnectionException",
        ErrorKind::InvalidResource => "ResourceTypeException",
        ErrorKind::ResourceUnavailable => "ResourceNotAvailableException",
        ErrorKind::Ambiguous => "DriverException",
        ErrorKind::Conflict | ErrorKind::ReadOnly => "ConflictException",
        ErrorKind::Locked => "LockedException",
        ErrorKind::Corrupt | ErrorKind::UnsupportedFormat => "CorruptException",
        // I/O, and any kind a newer core adds.
        _ => "StorageIOError",
    }
}

/// The `errno` name of an operating-system failure, for `OSError.errno`.
fn errno_name(kind: std::io::ErrorKind) -> Option<&'static str> {
    use std::io::ErrorKind as Os;
    Some(match kind {
        Os::NotFound => "ENOENT",
        Os::PermissionDenied => "EACCES",
        Os::ConnectionRefused => "ECONNREFUSED",
        Os::ConnectionReset => "ECONNRESET",
        Os::ConnectionAborted => "ECONNABORTED",
        Os::NotConnected => "ENOTCONN",
        Os::AddrInUse => "EADDRINUSE",
        Os::AddrNotAvailable => "EADDRNOTAVAIL",
        Os::HostUnreachable => "EHOSTUNREACH",
        Os::NetworkUnreachable => "ENETUNREACH",
        Os::BrokenPipe => "EPIPE",
        Os::AlreadyExists => "EEXIST",
        Os::NotADirectory => "ENOTDIR",
        Os::IsADirectory => "EISDIR",
        Os::TimedOut => "ETIMEDOUT",
        Os::StorageFull => "ENOSPC",
        Os::ReadOnlyFilesystem => "EROFS",
        Os::OutOfMemory => "ENOMEM",
        Os::Interrupted => "EINTR",
        _ => return None,
    })
}

/// The Python exception for a core error, carrying the core's message; a
/// `StorageIOError` from the operating system also carries its `errno`.
pub fn to_py(e: Error) -> PyErr {
    let err = named(class_name(&e), &e.to_string());
    if let Error::Io { kind, .. } = &e
        && let Some(name) = errno_name(*kind)
    {
        Python::attach(|py| {
            let number = py.import("errno").and_then(|m| m.getattr(name));
            if let Ok(number) = number {
                let _ = err.value(py).setattr("errno", number);
            }
        });
    }
    err
}

/// A `TransactionException` with `message`.
pub fn transaction_error(message: &str) -> PyErr {
    named("TransactionException", message)
}

/// An instance of `clusto.exceptions.<class>` (a `RuntimeError` if the package is
/// missing, which only happens when the native module is used on its own).
fn named(class: &str, message: &str) -> PyErr {
    Python::attach(|py| {
        let made = py
            .import("clusto.exceptions")
            .and_then(|m| m.getattr(class))
            .and_then(|cls| cls.call1((message,)));
        match made {
            Ok(instance) => PyErr::from_value(instance),
            Err(_) => PyRuntimeError::new_err(message.to_owned()),
        }
    })
}
