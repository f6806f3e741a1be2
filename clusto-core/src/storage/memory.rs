//! A backend in memory: for tests, fuzzing and short-lived scratch databases.
//!
//! The committed state is an immutable map behind an `Arc`: a snapshot is a clone of the
//! `Arc`, and a commit builds the next map (copying it only while a snapshot of the old
//! one is still alive).

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use super::{Backend, EntryIter, KvRead, Snapshot, Write, WriteLease};
use crate::error::Result;
use crate::records::Version;

type Map = BTreeMap<Vec<u8>, Vec<u8>>;

/// An ordered map in memory used as a [`Backend`]; nothing reaches a disk. Clones share
/// one store, so a test can keep a clone to look at or damage the raw entries.
#[derive(Debug, Default, Clone)]
pub struct MemoryBackend {
    committed: Arc<RwLock<Arc<Map>>>,
}

impl MemoryBackend {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn current(&self) -> Arc<Map> {
        self.committed
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Every entry, in key order (a snapshot, e.g. to copy or damage a store in tests).
    pub fn entries(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let map = self.current();
        map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    fn replace(&self, writes: Vec<Write>) {
        let mut committed = self.committed.write().unwrap_or_else(|e| e.into_inner());
        let map = Arc::make_mut(&mut committed);
        for (key, value) in writes {
            match value {
                Some(v) => map.insert(key, v),
                None => map.remove(&key),
            };
        }
    }
}

/// One committed state of a [`MemoryBackend`].
struct MemorySnapshot(Arc<Map>);

impl KvRead for MemorySnapshot {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.0.get(key).cloned())
    }

    fn scan(&self, start: &[u8], end: Option<&[u8]>, reverse: bool) -> EntryIter<'_> {
        if end.is_some_and(|e| e <= start) {
            return Box::new(std::iter::empty());
        }
        let upper = end.map_or(Bound::Unbounded, Bound::Excluded);
        let range = self
            .0
            .range::<[u8], _>((Bound::Included(start), upper))
            .map(|(k, v)| Ok((k.clone(), v.clone())));
        if reverse {
            Box::new(range.rev())
        } else {
            Box::new(range)
        }
    }
}

/// The write lease of a memory store: the database handle lets one thread at a time
/// hold it, and no other process can see the store.
struct MemoryLease {
    snapshot: Option<MemorySnapshot>,
    store: MemoryBackend,
}

impl KvRead for MemoryLease {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.snapshot.as_ref().expect("open lease").get(key)
    }

    fn scan(&self, start: &[u8], end: Option<&[u8]>, reverse: bool) -> EntryIter<'_> {
        self.snapshot
            .as_ref()
            .expect("open lease")
            .scan(start, end, reverse)
    }
}

impl WriteLease for MemoryLease {
    fn commit(mut self: Box<Self>, writes: Vec<Write>, _version: Version) -> Result<()> {
        // Let go of the old state first, so that it is not copied for our own sake.
        self.snapshot = None;
        self.store.replace(writes);
        Ok(())
    }
}

impl Backend for MemoryBackend {
    fn snapshot(&self) -> Result<Snapshot<'_>> {
        Ok(Box::new(MemorySnapshot(self.current())))
    }

    fn begin_write(&self, _wait: Option<Duration>) -> Result<Box<dyn WriteLease>> {
        Ok(Box::new(MemoryLease {
            snapshot: Some(MemorySnapshot(self.current())),
            store: self.clone(),
        }))
    }

    fn flush(&self) -> Result<()> {
        Ok(())
    }

    fn size_on_disk(&self) -> Result<u64> {
        Ok(0)
    }

    fn is_empty(&self) -> Result<bool> {
        Ok(self.current().is_empty())
    }

    fn engine(&self) -> &'static str {
        "memory"
    }

    fn commit_failure_poisons(&self) -> bool {
        false
    }
}
