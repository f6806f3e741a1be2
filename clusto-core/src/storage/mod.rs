//! The storage seam: an ordered key-value store with snapshot reads and one write lease.
//!
//! The model (entities, attributes, indexes, history) is written once against [`KvRead`]
//! and [`Backend`]; backends only store bytes. A backend gives:
//! - [`Backend::snapshot`]: a read view that sees whole commits only;
//! - [`Backend::begin_write`]: the one write lease across every process sharing the store,
//!   whose reads see the newest commit and whose [`WriteLease::commit`] applies a batch
//!   atomically (dropping the lease aborts).
//!
//! Engines: [`LmdbBackend`] (the default: many processes on one host), [`SledBackend`]
//! (databases of the first release; one process at a time) and [`MemoryBackend`] (tests).

mod layered;
mod lease_file;
mod lmdb;
mod lmdb_order;
mod lmdb_spaces;
mod long_keys;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
mod sled_backend;
mod ticker;

pub use layered::{Layered, Pending};
pub(crate) use lease_file::open_private;
pub use lmdb::{DATA_FILE as LMDB_DATA_FILE, LmdbBackend};
pub use memory::MemoryBackend;
#[cfg(feature = "postgres")]
pub use postgres::{PostgresBackend, drop_schema as drop_postgres_schema};
pub use sled_backend::SledBackend;

use std::time::Duration;

use crate::error::Result;
pub use crate::keys::FreshIds;
use crate::keys::prefix_end;
use crate::records::Version;

/// One stored entry: key and value bytes.
pub type Entry = (Vec<u8>, Vec<u8>);

/// An iterator over stored entries, in key order (or reverse key order).
pub type EntryIter<'a> = Box<dyn Iterator<Item = Result<Entry>> + 'a>;

/// What [`KvRead::scan_prefix_each`] hands each entry to: its key and value.
pub type LentEntry<'a> = dyn FnMut(&[u8], &[u8]) -> Result<()> + 'a;

/// Hands each entry of `entries` to `each`: a scan's copies, for
/// [`KvRead::scan_prefix_each`].
pub(crate) fn hand_over(entries: EntryIter<'_>, each: &mut LentEntry<'_>) -> Result<()> {
    for entry in entries {
        let (key, value) = entry?;
        each(&key, &value)?;
    }
    Ok(())
}

/// What [`KvRead::get_each`] hands each value to: its key's position and the value.
pub type LentValue<'a> = dyn FnMut(usize, Option<&[u8]>) -> Result<()> + 'a;

/// One write of a batch: `None` removes the key.
pub type Write = (Vec<u8>, Option<Vec<u8>>);

/// Reading an ordered key-value store.
pub trait KvRead {
    /// The value stored under `key`.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;

    /// Entries with `start <= key < end` (no upper bound when `end` is `None`), in key
    /// order, or in reverse key order when `reverse` is set.
    fn scan(&self, start: &[u8], end: Option<&[u8]>, reverse: bool) -> EntryIter<'_>;

    /// The values stored under each of `keys`, in the same order: one call for an index
    /// lookup, so that a backend across a network answers it in one round trip.
    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>> {
        keys.iter().map(|k| self.get(k)).collect()
    }

    /// Hands the value stored under each of `keys` to `each`, in order, with its
    /// position: what [`KvRead::get_many`] reads, without a copy of each value where the
    /// engine can lend its own bytes.
    fn get_each(&self, keys: &[Vec<u8>], each: &mut LentValue<'_>) -> Result<()> {
        for (i, value) in self.get_many(keys)?.iter().enumerate() {
            each(i, value.as_deref())?;
        }
        Ok(())
    }

    /// Says that scans inside `prefix` will follow, many of them: a backend across a
    /// network may read the whole prefix now, once, if it is small, and answer them from
    /// that. A hint: the default does nothing.
    fn prefetch_prefix(&self, _prefix: &[u8]) -> Result<()> {
        Ok(())
    }

    /// Says the entries under each of `prefixes` will all be read next: a backend across
    /// a network reads them in one round trip, with the statement it still has to send
    /// (a write lease's opening) or, in a write lease, by themselves. A hint: the default
    /// does nothing.
    fn read_ahead(&self, _prefixes: &[&[u8]]) -> Result<()> {
        Ok(())
    }

    /// Whether [`KvRead::read_ahead`] does anything here: where it does not, callers
    /// need not build the prefixes.
    fn takes_read_ahead(&self) -> bool {
        false
    }

    /// Says the store holds `value` under `key`: a copy of it was found under another
    /// key (a live name holds its entity's record). A backend that keeps what a write
    /// lease read may keep this too, and need not ask for it. A hint: the default
    /// does nothing.
    fn learned(&self, _key: &[u8], _value: &[u8]) {}

    /// Entries whose key starts with `prefix`, in key order.
    fn scan_prefix(&self, prefix: &[u8]) -> EntryIter<'_> {
        let end = prefix_end(prefix);
        self.scan(prefix, end.as_deref(), false)
    }

    /// Hands each entry whose key starts with `prefix` to `each`, in key order: what
    /// [`KvRead::scan_prefix`] reads, without a copy of each entry where the engine can
    /// lend its own bytes.
    fn scan_prefix_each(&self, prefix: &[u8], each: &mut LentEntry<'_>) -> Result<()> {
        hand_over(self.scan_prefix(prefix), each)
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

    fn prefetch_prefix(&self, prefix: &[u8]) -> Result<()> {
        (**self).prefetch_prefix(prefix)
    }

    fn read_ahead(&self, prefixes: &[&[u8]]) -> Result<()> {
        (**self).read_ahead(prefixes)
    }

    fn takes_read_ahead(&self) -> bool {
        (**self).takes_read_ahead()
    }

    fn learned(&self, key: &[u8], value: &[u8]) {
        (**self).learned(key, value)
    }

    fn scan(&self, start: &[u8], end: Option<&[u8]>, reverse: bool) -> EntryIter<'_> {
        (**self).scan(start, end, reverse)
    }

    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>> {
        (**self).get_many(keys)
    }

    fn get_each(&self, keys: &[Vec<u8>], each: &mut LentValue<'_>) -> Result<()> {
        (**self).get_each(keys, each)
    }

    fn scan_prefix_each(&self, prefix: &[u8], each: &mut LentEntry<'_>) -> Result<()> {
        (**self).scan_prefix_each(prefix, each)
    }
}

impl<T: KvRead + ?Sized> KvRead for Box<T> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        (**self).get(key)
    }

    fn prefetch_prefix(&self, prefix: &[u8]) -> Result<()> {
        (**self).prefetch_prefix(prefix)
    }

    fn read_ahead(&self, prefixes: &[&[u8]]) -> Result<()> {
        (**self).read_ahead(prefixes)
    }

    fn takes_read_ahead(&self) -> bool {
        (**self).takes_read_ahead()
    }

    fn learned(&self, key: &[u8], value: &[u8]) {
        (**self).learned(key, value)
    }

    fn scan(&self, start: &[u8], end: Option<&[u8]>, reverse: bool) -> EntryIter<'_> {
        (**self).scan(start, end, reverse)
    }

    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>> {
        (**self).get_many(keys)
    }

    fn get_each(&self, keys: &[Vec<u8>], each: &mut LentValue<'_>) -> Result<()> {
        (**self).get_each(keys, each)
    }

    fn scan_prefix_each(&self, prefix: &[u8], each: &mut LentEntry<'_>) -> Result<()> {
        (**self).scan_prefix_each(prefix, each)
    }
}

/// A consistent read view of the committed store.
pub type Snapshot<'a> = Box<dyn KvRead + 'a>;

/// The write lease: while it is held, no other handle in any process commits. Its reads
/// see the newest commit. Dropping it without [`WriteLease::commit`] changes nothing.
pub trait WriteLease: KvRead + Send {
    /// Applies `writes` atomically and releases the lease. When it returns, the writes
    /// are visible to every new snapshot and as durable as the backend's mode promises.
    /// `version` is the newest version the batch records (for an engine's own commit
    /// marks).
    fn commit(self: Box<Self>, writes: Vec<Write>, version: Version) -> Result<()>;

    /// Says the store had given no ids from `fresh` on when the lease began: a write of a
    /// key naming one of them adds a key the store cannot hold. A hint for the commit: the
    /// default does nothing.
    fn fresh_ids(&mut self, _fresh: FreshIds) {}
}

/// Sleeps until a commit is announced: a backend shared across hosts tells its clients
/// when any of them commits, so a watcher need not ask again and again.
pub trait CommitListener {
    /// Waits up to `timeout` for a commit announced since the listener was made (or
    /// last returned `true`); whether one was.
    fn wait(&mut self, timeout: Duration) -> Result<bool>;
}

/// A store the model can read and commit to.
pub trait Backend: Send + Sync {
    /// A read view of the committed store as of now; it sees whole commits only.
    fn snapshot(&self) -> Result<Snapshot<'_>>;

    /// Takes the write lease, waiting up to `wait` while another process holds it
    /// (`None`: not at all), then [`crate::Error::Locked`]. Within one process the
    /// caller lets one thread at a time ask.
    fn begin_write(&self, wait: Option<Duration>) -> Result<Box<dyn WriteLease>>;

    /// [`Backend::begin_write`], saying the transaction will read `first` before
    /// anything else: a backend across a network sends these reads with the lease's own
    /// request and its first statement, so that reading them then costs no round trip.
    /// A hint: the default takes the lease.
    fn begin_write_prefetching(
        &self,
        wait: Option<Duration>,
        _first: &[Vec<u8>],
    ) -> Result<Box<dyn WriteLease>> {
        self.begin_write(wait)
    }

    /// A listener that hears of every commit made after this call returns, by any
    /// process; `None` when the backend does not announce commits (the caller then polls).
    fn commit_listener(&self) -> Result<Option<Box<dyn CommitListener + '_>>> {
        Ok(None)
    }

    /// Brings a store laid out by an older build of the engine up to date, under the
    /// lease (waiting up to `wait`); the model's records do not change. The default has
    /// nothing to do.
    fn upgrade_layout(&self, _wait: Option<Duration>) -> Result<()> {
        Ok(())
    }

    /// Puts every commit on disk before returning.
    fn flush(&self) -> Result<()>;

    /// Bytes the store occupies on disk.
    fn size_on_disk(&self) -> Result<u64>;

    /// Whether the store holds no entry at all.
    fn is_empty(&self) -> Result<bool> {
        Ok(self.snapshot()?.scan(&[], None, false).next().is_none())
    }

    /// The engine's name, as a DSN scheme: `lmdb`, `sled` or `memory`.
    fn engine(&self) -> &'static str;

    /// Whether a failed commit leaves this process's view of the store unsure (sled's
    /// in-memory tree may then hold what its disk does not), so the handle must be
    /// reopened; engines whose failed commits leave nothing behind say `false`.
    fn commit_failure_poisons(&self) -> bool {
        true
    }

    /// Applies `writes` as one commit under the write lease, outside the model: for
    /// copies, and for tests that damage a store on purpose.
    fn apply(&self, writes: Vec<Write>) -> Result<()> {
        self.begin_write(None)?.commit(writes, 0)
    }
}
