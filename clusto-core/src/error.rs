//! The one error type of clusto-core.
//!
//! Variants are grouped by what a caller can do about them; every message names the
//! entity, key, value or path involved, so a binding can pass it on unchanged.

use std::path::PathBuf;

/// Everything that can go wrong in clusto-core. New variants may come: match on
/// [`Error::kind`] where every case needs an answer (a binding's exception or status).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The named entity, attribute, version or resource does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A live entity already has this name, or the thing is already present.
    #[error("{0}")]
    AlreadyExists(String),
    /// An entity name, type, driver, key or subkey is not acceptable.
    #[error("{0}")]
    InvalidName(String),
    /// A value or argument is not acceptable (bad JSON, relation to a missing entity…).
    #[error("{0}")]
    InvalidValue(String),
    /// The entity's driver or type does not allow the operation.
    #[error("{0}")]
    TypeMismatch(String),
    /// A pool's membership rule refuses the insert (the original's `PoolException`).
    #[error("{0}")]
    PoolRule(String),
    /// A port does not exist or is in use (the original's `ConnectionException`).
    #[error("{0}")]
    Port(String),
    /// A resource is not of the manager's kind, or out of its range (the original's
    /// `ResourceTypeException`).
    #[error("{0}")]
    InvalidResource(String),
    /// A single match was required and several were found.
    #[error("{0}")]
    Ambiguous(String),
    /// The requested resource is taken or the pool of resources is exhausted.
    #[error("{0}")]
    ResourceUnavailable(String),
    /// The operation conflicts with the state of a transaction (e.g. a second
    /// transaction opened by the thread that already holds one).
    #[error("{0}")]
    Conflict(String),
    /// The handle may only read (a database opened to salvage it).
    #[error("{0}")]
    ReadOnly(String),
    /// Another process holds the database (sled) or its write lease — or another thread
    /// of this process its write transaction — longer than the handle waits.
    #[error("database {} is locked by {}", path.display(), locker(*holder, *by_this_process))]
    Locked {
        /// The database directory that could not be locked.
        path: PathBuf,
        /// The process that holds it, when the engine can tell.
        holder: Option<u32>,
        /// Whether the holder is another thread of this process.
        by_this_process: bool,
    },
    /// Stored data could not be decoded or contradicts itself.
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// The database was written by a newer or unknown on-disk format.
    #[error("database format {found} is not supported (this build reads format {supported})")]
    UnsupportedFormat {
        /// The format number found on disk.
        found: u32,
        /// The format number this build writes and reads.
        supported: u32,
    },
    /// The operating system, the network or the storage engine failed.
    #[error("I/O error: {message}")]
    Io {
        /// The operating system's kind of the failure (a missing file, a refused or lost
        /// connection, a full disk), or `Other` when the engine failed on its own.
        kind: std::io::ErrorKind,
        /// What failed, naming the file or server.
        message: String,
    },
}

/// What kind of error an [`Error`] is, without its message: what a binding maps, once,
/// to an exception class, a status code or an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// [`Error::NotFound`].
    NotFound,
    /// [`Error::AlreadyExists`].
    AlreadyExists,
    /// [`Error::InvalidName`].
    InvalidName,
    /// [`Error::InvalidValue`].
    InvalidValue,
    /// [`Error::TypeMismatch`].
    TypeMismatch,
    /// [`Error::PoolRule`].
    PoolRule,
    /// [`Error::Port`].
    Port,
    /// [`Error::InvalidResource`].
    InvalidResource,
    /// [`Error::Ambiguous`].
    Ambiguous,
    /// [`Error::ResourceUnavailable`].
    ResourceUnavailable,
    /// [`Error::Conflict`].
    Conflict,
    /// [`Error::ReadOnly`].
    ReadOnly,
    /// [`Error::Locked`].
    Locked,
    /// [`Error::Corrupt`].
    Corrupt,
    /// [`Error::UnsupportedFormat`].
    UnsupportedFormat,
    /// [`Error::Io`].
    Io,
}

/// Who holds a lock, for [`Error::Locked`]'s message.
fn locker(holder: Option<u32>, by_this_process: bool) -> String {
    match (by_this_process, holder) {
        (true, _) => "another thread of this process, which has held the write transaction \
            for as long as a writer waits (a transaction handed to another thread must be \
            committed or dropped before that thread begins one)"
            .to_owned(),
        (false, Some(pid)) => format!("another process (pid {pid})"),
        (false, None) => "another process".to_owned(),
    }
}

impl Error {
    /// What kind of error this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::AlreadyExists(_) => ErrorKind::AlreadyExists,
            Error::InvalidName(_) => ErrorKind::InvalidName,
            Error::InvalidValue(_) => ErrorKind::InvalidValue,
            Error::TypeMismatch(_) => ErrorKind::TypeMismatch,
            Error::PoolRule(_) => ErrorKind::PoolRule,
            Error::Port(_) => ErrorKind::Port,
            Error::InvalidResource(_) => ErrorKind::InvalidResource,
            Error::Ambiguous(_) => ErrorKind::Ambiguous,
            Error::ResourceUnavailable(_) => ErrorKind::ResourceUnavailable,
            Error::Conflict(_) => ErrorKind::Conflict,
            Error::ReadOnly(_) => ErrorKind::ReadOnly,
            Error::Locked { .. } => ErrorKind::Locked,
            Error::Corrupt(_) => ErrorKind::Corrupt,
            Error::UnsupportedFormat { .. } => ErrorKind::UnsupportedFormat,
            Error::Io { .. } => ErrorKind::Io,
        }
    }

    /// An [`Error::Io`] of the operating system's `e`, its message `context: e`.
    pub fn os(context: impl std::fmt::Display, e: &std::io::Error) -> Error {
        Error::Io {
            kind: e.kind(),
            message: format!("{context}: {e}"),
        }
    }

    /// An [`Error::Io`] of a failure the operating system did not report (the engine's
    /// own, or a state such as a handle poisoned by an earlier failed commit).
    pub fn io_other(message: impl Into<String>) -> Error {
        Error::Io {
            kind: std::io::ErrorKind::Other,
            message: message.into(),
        }
    }
}

/// The kind of the first operating-system error in the chain of causes of `e`, or
/// `Other` when there is none.
pub fn os_kind(e: &(dyn std::error::Error + 'static)) -> std::io::ErrorKind {
    io_cause(e).map_or(std::io::ErrorKind::Other, |io| io.kind())
}

/// The first operating-system error in the chain of causes of `e` (a client library's
/// error usually wraps the socket's).
pub fn io_cause<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a std::io::Error> {
    let mut next = Some(e);
    while let Some(cause) = next {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        next = cause.source();
    }
    None
}

/// The result type of clusto-core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

impl From<sled::Error> for Error {
    fn from(e: sled::Error) -> Self {
        match e {
            sled::Error::Corruption { at, .. } => {
                Error::Corrupt(format!("storage engine reports corruption at {at:?}"))
            }
            sled::Error::Io(io) => io.into(),
            other => Error::io_other(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_its_kind() {
        let s = || String::from("m");
        let cases = [
            (Error::NotFound(s()), ErrorKind::NotFound),
            (Error::AlreadyExists(s()), ErrorKind::AlreadyExists),
            (Error::InvalidName(s()), ErrorKind::InvalidName),
            (Error::InvalidValue(s()), ErrorKind::InvalidValue),
            (Error::TypeMismatch(s()), ErrorKind::TypeMismatch),
            (Error::PoolRule(s()), ErrorKind::PoolRule),
            (Error::Port(s()), ErrorKind::Port),
            (Error::InvalidResource(s()), ErrorKind::InvalidResource),
            (Error::Ambiguous(s()), ErrorKind::Ambiguous),
            (
                Error::ResourceUnavailable(s()),
                ErrorKind::ResourceUnavailable,
            ),
            (Error::Conflict(s()), ErrorKind::Conflict),
            (Error::ReadOnly(s()), ErrorKind::ReadOnly),
            (
                Error::Locked {
                    path: PathBuf::from("/db"),
                    holder: Some(7),
                    by_this_process: false,
                },
                ErrorKind::Locked,
            ),
            (Error::Corrupt(s()), ErrorKind::Corrupt),
            (
                Error::UnsupportedFormat {
                    found: 2,
                    supported: 1,
                },
                ErrorKind::UnsupportedFormat,
            ),
            (Error::io_other(s()), ErrorKind::Io),
        ];
        for (error, kind) in cases {
            assert_eq!(error.kind(), kind, "{error:?}");
        }
        let locked = Error::Locked {
            path: PathBuf::from("/db"),
            holder: Some(7),
            by_this_process: false,
        };
        assert_eq!(
            locked.to_string(),
            "database /db is locked by another process (pid 7)"
        );
        let locked = Error::Locked {
            path: PathBuf::from("/db"),
            holder: Some(7),
            by_this_process: true,
        };
        assert!(
            locked
                .to_string()
                .starts_with("database /db is locked by another thread of this process"),
            "{locked}"
        );
    }
}
