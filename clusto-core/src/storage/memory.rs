//! A backend in memory: for tests, fuzzing and short-lived scratch databases.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, RwLock};

use super::{Backend, EntryIter, KvRead, Write};
use crate::error::Result;

/// An ordered map in memory used as a [`Backend`]; nothing reaches a disk. Clones share
/// one map, so a test can keep a clone to look at or damage the raw entries.
#[derive(Debug, Default, Clone)]
pub struct MemoryBackend {
    map: Arc<RwLock<BTreeMap<Vec<u8>, Vec<u8>>>>,
}

impl MemoryBackend {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every entry, in key order (a snapshot, e.g. to copy or damage a store in tests).
    pub fn entries(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

impl KvRead for MemoryBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self
            .map
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned())
    }

    fn scan(&self, start: &[u8], end: Option<&[u8]>, reverse: bool) -> EntryIter<'_> {
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        let upper = end.map_or(Bound::Unbounded, |e| Bound::Excluded(e.to_vec()));
        if end.is_some_and(|e| e <= start) {
            return Box::new(std::iter::empty());
        }
        // A copy of the range: the lock is not held while the caller iterates.
        let mut entries: Vec<_> = map
            .range((Bound::Included(start.to_vec()), upper))
            .map(|(k, v)| Ok((k.clone(), v.clone())))
            .collect();
        if reverse {
            entries.reverse();
        }
        Box::new(entries.into_iter())
    }
}

impl Backend for MemoryBackend {
    fn apply(&self, writes: Vec<Write>) -> Result<()> {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        for (key, value) in writes {
            match value {
                Some(v) => map.insert(key, v),
                None => map.remove(&key),
            };
        }
        Ok(())
    }

    fn flush(&self) -> Result<()> {
        Ok(())
    }

    fn size_on_disk(&self) -> Result<u64> {
        Ok(0)
    }

    fn is_empty(&self) -> Result<bool> {
        Ok(self
            .map
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty())
    }
}
