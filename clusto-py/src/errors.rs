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

/// The Python exception for a core error, carrying the core's message.
pub fn to_py(e: Error) -> PyErr {
    named(class_name(&e), &e.to_string())
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
