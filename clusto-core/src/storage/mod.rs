//! The storage boundary: an ordered key-value store with atomic batches.
//!
//! The model (entities, attributes, indexes, history) is written once against
//! [`KvRead`] and [`Backend`]; sled is the one backend today. A second backend (a
//! shared database for many hosts) implements these two traits and nothing else.

mod layered;
mod memory;
mod sled_backend;

pub use layered::{Layered, Pending};
pub use memory::MemoryBackend;
pub use sled_backend::SledBackend;

use crate::error::Result;
use crate::keys::prefix_end;

/// One stored entry: key and value bytes.
pub type Entry = (Vec<u8>, Vec<u8>);

/// An iterator over stored entries, in key order (or reverse key order).
pub type EntryIter<'a> = Box<dyn Iterator<Item = Result<Entry>> + 'a>;

/// One write of a batch: `None` removes the key.
pub type Write = (Vec<u8>, Option<Vec<u8>>);

/// Reading an ordered key-value store.
pub trait KvRead {
    /// The value stored under `key`.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;

    /// Entries with `start <= key < end` (no upper bound when `end` is `None`), in key
    /// order, or in reverse key order when `reverse` is set.
    fn scan(&self, start: &[u8], end: Option<&[u8]>, reverse: bool) -> EntryIter<'_>;

    /// Entries whose key starts with `prefix`, in key order.
    fn scan_prefix(&self, prefix: &[u8]) -> EntryIter<'_> {
        let end = prefix_end(prefix);
        self.scan(prefix, end.as_deref(), false)
    }

    /// The entry with the greatest key starting with `prefix`.
    fn last_with_prefix(&self, prefix: &[u8]) -> Result<Option<Entry>> {
        let end = prefix_end(prefix);
        self.scan(prefix, end.as_deref(), true).next().transpose()
    }
}

impl<T: KvRead + ?Sized> KvRead for &T {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        (**self).get(key)
    }

    fn scan(&self, start: &[u8], end: Option<&[u8]>, reverse: bool) -> EntryIter<'_> {
        (**self).scan(start, end, reverse)
    }
}

/// A store the model can commit to.
pub trait Backend: KvRead + Send + Sync {
    /// Applies all writes atomically: after a crash, either all or none are present, and
    /// no reader sees some of them without the others.
    fn apply(&self, writes: Vec<Write>) -> Result<()>;

    /// Makes every applied batch durable before returning.
    fn flush(&self) -> Result<()>;

    /// Bytes the store occupies on disk.
    fn size_on_disk(&self) -> Result<u64>;

    /// Whether the store holds no entry at all.
    fn is_empty(&self) -> Result<bool>;
}
