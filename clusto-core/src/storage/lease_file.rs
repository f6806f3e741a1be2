//! The cross-process write lease of an embedded database: an exclusive `flock` on a file
//! in the database directory.
//!
//! Why not LMDB's own writer mutex: a clusto transaction may be opened on one thread and
//! committed on another (Python hands objects between threads), while LMDB's mutex must
//! be released by the thread that took it; and that mutex cannot be waited on with a
//! timeout. The kernel drops a `flock` when its holder dies, even by SIGKILL, so a dead
//! writer never keeps the lease.

use std::fs::{File, TryLockError};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// The lease file's name inside the database directory.
pub const FILE_NAME: &str = "write.lease";

/// How often a waiting writer tries again.
const RETRY: Duration = Duration::from_millis(2);

/// The lease file of one database, opened once per process.
pub(crate) struct LeaseFile {
    file: File,
    dir: PathBuf,
}

/// Opens for reading and writing, creating it with mode 0600 if missing, a small file a
/// database keeps beside its data (the lease, sled's commit mark).
pub(crate) fn open_private(path: &Path) -> Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::os(format_args!("cannot open {}", path.display()), &e))
}

/// A held lease; dropping it releases it.
pub(crate) struct Held(Arc<LeaseFile>);

impl Drop for Held {
    fn drop(&mut self) {
        let _ = self.0.file.unlock();
    }
}

impl LeaseFile {
    /// Opens (creating, mode 0600) the lease file of the database in `dir`.
    pub(crate) fn open(dir: &Path) -> Result<Arc<Self>> {
        let file = open_private(&dir.join(FILE_NAME))?;
        Ok(Arc::new(LeaseFile {
            file,
            dir: dir.to_path_buf(),
        }))
    }

    /// The process id the holder of the lease wrote, if readable.
    fn holder(&self) -> Option<u32> {
        let mut pid = [0u8; 10];
        self.file.read_exact_at(&mut pid, 0).ok()?;
        std::str::from_utf8(&pid).ok()?.trim().parse().ok()
    }

    /// Writes this process's id into the file, for the error another writer gets; not
    /// synced, since it only matters while this process lives. A process that commits
    /// again and again finds its own id there and writes nothing: a write would dirty the
    /// file's page and inode on every commit.
    fn name_holder(&self) {
        let mine = format!("{:<10}", std::process::id());
        let mut named = [0u8; 10];
        if self.file.read_exact_at(&mut named, 0).is_ok() && named == mine.as_bytes() {
            return;
        }
        let _ = self.file.write_all_at(mine.as_bytes(), 0);
    }

    /// Takes the lease, waiting up to `wait` for another process to release it.
    pub(crate) fn acquire(self: &Arc<Self>, wait: Option<Duration>) -> Result<Held> {
        // No wait: fail at once; a wait too long for the clock: no deadline.
        let started = Instant::now();
        let deadline = wait.map(|w| started.checked_add(w));
        loop {
            match self.file.try_lock() {
                Ok(()) => {
                    self.name_holder();
                    return Ok(Held(self.clone()));
                }
                Err(TryLockError::WouldBlock) => {
                    let over = match deadline {
                        None => true,
                        Some(None) => false,
                        Some(Some(d)) => Instant::now() >= d,
                    };
                    if over {
                        return Err(Error::Locked {
                            path: self.dir.clone(),
                            holder: self.holder(),
                            by_this_process: false,
                        });
                    }
                    std::thread::sleep(RETRY);
                }
                Err(TryLockError::Error(e)) => {
                    return Err(Error::os(
                        format_args!("cannot take the write lease of {}", self.dir.display()),
                        &e,
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error another writer gets names the process that took the lease last, whether
    /// the file named another process before or this one already.
    #[test]
    fn the_file_names_the_process_that_took_the_lease() {
        let dir = tempfile::tempdir().unwrap();
        let lease = LeaseFile::open(dir.path()).unwrap();
        assert_eq!(lease.holder(), None, "a new file names no one");
        drop(lease.acquire(None).unwrap());
        assert_eq!(lease.holder(), Some(std::process::id()));
        drop(lease.acquire(None).unwrap());
        assert_eq!(lease.holder(), Some(std::process::id()), "named again");
        // As another process leaves it after its commit.
        lease.file.write_all_at(b"4194305   ", 0).unwrap();
        assert_eq!(lease.holder(), Some(4194305));
        drop(lease.acquire(None).unwrap());
        assert_eq!(
            lease.holder(),
            Some(std::process::id()),
            "the other's id replaced"
        );
    }
}
