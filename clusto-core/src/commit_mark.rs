//! The commit mark: a small file beside the store that records the newest version known
//! to be on disk, so that opening a database whose log was damaged or cut short reports
//! it instead of silently answering from an older state.
//!
//! sled treats a log entry that fails its checksum as the torn end of the log and
//! recovers the state before it (measured: one flipped byte in the middle of the log
//! rolled a 200-version database back to version 91, and `check()` found it consistent,
//! as it is). The mark is written after a flush has returned, without a flush of its own,
//! so it is a lower bound of what the disk holds: a crash can leave it behind, never
//! ahead.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::records::Version;

/// The mark's file name inside the database directory.
pub const FILE_NAME: &str = "clusto.commit";

/// Mixed into the check word so that a file of zeros or of another format is not a mark.
const MAGIC: u64 = 0xc1u64 << 56 | 0x057c_0c0d_e5a1_1e5f;

/// The open mark file and the newest version it holds.
pub(crate) struct CommitMark {
    file: File,
    recorded: Mutex<Version>,
}

impl CommitMark {
    /// Opens (creating, mode 0600) the mark of the database in `dir`; returns it with the
    /// version it holds (0 when new or empty).
    pub(crate) fn open(dir: &Path) -> Result<(CommitMark, Version)> {
        let path = dir.join(FILE_NAME);
        let file = crate::storage::open_private(&path)?;
        let damaged = || {
            Error::Corrupt(format!(
                "the commit mark {} is damaged; open with salvage to read what remains",
                path.display()
            ))
        };
        let cannot_read =
            |e: std::io::Error| Error::os(format_args!("cannot read {}", path.display()), &e);
        // Empty: new, or created just before a crash. Any other length but 16 is damage.
        let recorded = match file.metadata().map_err(cannot_read)?.len() {
            0 => 0,
            16 => {
                let mut bytes = [0u8; 16];
                file.read_exact_at(&mut bytes, 0).map_err(cannot_read)?;
                decode(&bytes).ok_or_else(damaged)?
            }
            _ => return Err(damaged()),
        };
        Ok((
            CommitMark {
                file,
                recorded: Mutex::new(recorded),
            },
            recorded,
        ))
    }

    /// Records that `version` is on disk, unless a newer one is recorded already.
    pub(crate) fn record(&self, version: Version) -> Result<()> {
        let mut recorded = self.recorded.lock().unwrap_or_else(|e| e.into_inner());
        if version > *recorded {
            self.file.write_all_at(&encode(version), 0)?;
            *recorded = version;
        }
        Ok(())
    }
}

/// The version the mark of the database in `dir` records, read without creating or
/// changing it: `None` when there is no mark, an empty one, or a damaged one.
pub(crate) fn read(dir: &Path) -> Option<Version> {
    let bytes = std::fs::read(dir.join(FILE_NAME)).ok()?;
    decode(bytes.as_slice().try_into().ok()?)
}

/// The error for a store that ends before the version the mark says was committed.
pub(crate) fn behind_mark(path: &Path, latest: Version, recorded: Version) -> Error {
    Error::Corrupt(format!(
        "database {} ends at version {latest}, but version {recorded} was committed: its log \
         is damaged or was cut short; open it with salvage to read and export what remains",
        path.display()
    ))
}

fn encode(version: Version) -> [u8; 16] {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&version.to_le_bytes());
    bytes[8..].copy_from_slice(&(version ^ MAGIC).to_le_bytes());
    bytes
}

fn decode(bytes: &[u8; 16]) -> Option<Version> {
    let version = u64::from_le_bytes(bytes[..8].try_into().ok()?);
    let check = u64::from_le_bytes(bytes[8..].try_into().ok()?);
    (check == version ^ MAGIC).then_some(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_reads_back_and_never_goes_down() {
        let dir = tempfile::tempdir().unwrap();
        let (mark, v) = CommitMark::open(dir.path()).unwrap();
        assert_eq!(v, 0);
        mark.record(7).unwrap();
        mark.record(3).unwrap();
        drop(mark);
        assert_eq!(CommitMark::open(dir.path()).unwrap().1, 7);
        assert_eq!(read(dir.path()), Some(7));
        std::fs::write(dir.path().join(FILE_NAME), [0u8; 16]).unwrap();
        assert_eq!(read(dir.path()), None, "a damaged mark records nothing");
        assert_eq!(read(&dir.path().join("missing")), None);
    }

    #[test]
    fn a_damaged_mark_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        CommitMark::open(dir.path()).unwrap().0.record(9).unwrap();
        let path = dir.path().join(FILE_NAME);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[3] ^= 1;
        std::fs::write(&path, bytes).unwrap();
        let err = CommitMark::open(dir.path()).err().unwrap();
        assert!(matches!(err, Error::Corrupt(_)), "{err}");
    }
}
