//! Keys longer than an engine accepts, stored in its bounded key size with the order of
//! the key space kept.
//!
//! Index keys hold attribute values, which have no length limit, while LMDB refuses keys
//! over 511 bytes. A key of at most [`MAX_DIRECT`] bytes is stored as it is. A longer key
//! `K` is stored as `K[..MAX_DIRECT] ++ hash(K)`, and its value is prefixed with `K`
//! itself. Every stored key longer than [`MAX_DIRECT`] is such a key, so nothing else is
//! needed to tell them apart.
//!
//! Long keys that share their first [`MAX_DIRECT`] bytes (a *group*) sort by hash in the
//! engine, not by `K`; everything else keeps its order, since a group's stored keys all
//! sort between `K[..MAX_DIRECT]` and the next key not starting with it. A scan therefore
//! widens a bound that falls inside a group to the whole group, sorts each group it meets
//! by the real keys, and drops what lies outside the real bounds.

use std::borrow::Cow;

use xxhash_rust::xxh3::xxh3_128;

use crate::error::{Error, Result};
use crate::keys::prefix_end;
use crate::storage::Entry;

/// The longest key stored as it is (LMDB's limit is 511; a long key adds 16 bytes).
pub(crate) const MAX_DIRECT: usize = 480;

/// Whether `key` is stored as it is.
pub(crate) fn is_direct(key: &[u8]) -> bool {
    key.len() <= MAX_DIRECT
}

/// Where the group of the stored long key `stored` starts in real keys: every real key
/// of the group is at or after it, and no key stored as it is lies between it and the
/// group's stored keys.
pub(crate) fn group_start(stored: &[u8]) -> Vec<u8> {
    let mut start = stored[..MAX_DIRECT.min(stored.len())].to_vec();
    start.push(0);
    start
}

/// The stored form of `key`.
pub(crate) fn stored_key(key: &[u8]) -> Cow<'_, [u8]> {
    if key.len() <= MAX_DIRECT {
        return Cow::Borrowed(key);
    }
    let mut stored = Vec::with_capacity(MAX_DIRECT + 16);
    stored.extend_from_slice(&key[..MAX_DIRECT]);
    stored.extend_from_slice(&xxh3_128(key).to_be_bytes());
    Cow::Owned(stored)
}

/// The stored form of `value` under `key`: long keys carry themselves in front.
pub(crate) fn stored_value<'a>(key: &[u8], value: &'a [u8]) -> Cow<'a, [u8]> {
    if key.len() <= MAX_DIRECT {
        return Cow::Borrowed(value);
    }
    let mut stored = Vec::with_capacity(4 + key.len() + value.len());
    stored.extend_from_slice(&(key.len() as u32).to_be_bytes());
    stored.extend_from_slice(key);
    stored.extend_from_slice(value);
    Cow::Owned(stored)
}

/// The real key and value of a stored entry.
pub(crate) fn decode_entry(stored_key: &[u8], stored_value: &[u8]) -> Result<Entry> {
    if stored_key.len() <= MAX_DIRECT {
        return Ok((stored_key.to_vec(), stored_value.to_vec()));
    }
    let damaged = || Error::Corrupt(format!("long key entry {stored_key:?} is damaged"));
    let (len, rest) = stored_value.split_first_chunk::<4>().ok_or_else(damaged)?;
    let len = u32::from_be_bytes(*len) as usize;
    if rest.len() < len || !rest[..len].starts_with(&stored_key[..MAX_DIRECT]) {
        return Err(damaged());
    }
    Ok((rest[..len].to_vec(), rest[len..].to_vec()))
}

/// The value stored under `key`, given what the engine holds at `stored_key(key)`: a long
/// key whose hash slot holds another key is absent.
pub(crate) fn value_for(key: &[u8], stored: Option<&[u8]>) -> Result<Option<Vec<u8>>> {
    Ok(value_in(key, stored)?.map(Cow::into_owned))
}

/// [`value_for`], borrowing the stored bytes where they are the value.
pub(crate) fn value_in<'a>(key: &[u8], stored: Option<&'a [u8]>) -> Result<Option<Cow<'a, [u8]>>> {
    let Some(stored) = stored else {
        return Ok(None);
    };
    if key.len() <= MAX_DIRECT {
        return Ok(Some(Cow::Borrowed(stored)));
    }
    let (real, value) = decode_entry(&stored_key(key), stored)?;
    Ok((real == key).then_some(Cow::Owned(value)))
}

/// The stored bounds a scan of real keys `start..end` must read: a bound inside a group
/// widens to the whole group.
pub(crate) fn stored_bounds(start: &[u8], end: Option<&[u8]>) -> (Vec<u8>, Option<Vec<u8>>) {
    let start = start[..start.len().min(MAX_DIRECT)].to_vec();
    let end = end.and_then(|e| {
        if e.len() <= MAX_DIRECT {
            Some(e.to_vec())
        } else {
            prefix_end(&e[..MAX_DIRECT])
        }
    });
    (start, end)
}

/// Turns stored entries, in stored order (or reverse), into real entries in real order
/// within `start..end`.
pub(crate) struct RealOrder<I: Iterator<Item = Result<Entry>>> {
    stored: std::iter::Peekable<I>,
    start: Vec<u8>,
    end: Option<Vec<u8>>,
    reverse: bool,
    /// A group read ahead and sorted, served from the back.
    group: Vec<Entry>,
}

impl<I: Iterator<Item = Result<Entry>>> RealOrder<I> {
    /// Wraps `stored`, whose entries are (stored key, stored value).
    pub(crate) fn new(stored: I, start: &[u8], end: Option<&[u8]>, reverse: bool) -> Self {
        RealOrder {
            stored: stored.peekable(),
            start: start.to_vec(),
            end: end.map(<[u8]>::to_vec),
            reverse,
            group: Vec::new(),
        }
    }

    fn in_bounds(&self, key: &[u8]) -> bool {
        key >= self.start.as_slice() && self.end.as_deref().is_none_or(|e| key < e)
    }

    /// The next real entry in stored order, bounds not yet applied.
    fn next_unfiltered(&mut self) -> Option<Result<Entry>> {
        if let Some(entry) = self.group.pop() {
            return Some(Ok(entry));
        }
        let (key, value) = match self.stored.next()? {
            Ok(entry) => entry,
            Err(e) => return Some(Err(e)),
        };
        if key.len() <= MAX_DIRECT {
            return Some(Ok((key, value)));
        }
        let prefix = key[..MAX_DIRECT].to_vec();
        let mut group = vec![(key, value)];
        while let Some(Ok((next, _))) = self.stored.peek() {
            if next.len() <= MAX_DIRECT || next[..MAX_DIRECT] != prefix[..] {
                break;
            }
            group.push(self.stored.next().expect("peeked").expect("peeked Ok"));
        }
        let mut real = Vec::with_capacity(group.len());
        for (k, v) in group {
            match decode_entry(&k, &v) {
                Ok(entry) => real.push(entry),
                Err(e) => return Some(Err(e)),
            }
        }
        // Served by pop(), from the back.
        real.sort_by(|a, b| {
            if self.reverse {
                a.0.cmp(&b.0)
            } else {
                b.0.cmp(&a.0)
            }
        });
        self.group = real;
        self.group.pop().map(Ok)
    }
}

impl<I: Iterator<Item = Result<Entry>>> Iterator for RealOrder<I> {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.next_unfiltered()? {
                Ok((key, value)) if self.in_bounds(&key) => return Some(Ok((key, value))),
                Ok(_) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// Stores `keys` the way the engine would, scans `start..end` through [`RealOrder`].
    fn scan(keys: &[Vec<u8>], start: &[u8], end: Option<&[u8]>, reverse: bool) -> Vec<Vec<u8>> {
        let engine: BTreeMap<Vec<u8>, Vec<u8>> = keys
            .iter()
            .map(|k| {
                (
                    stored_key(k).into_owned(),
                    stored_value(k, b"v").into_owned(),
                )
            })
            .collect();
        let (s, e) = stored_bounds(start, end);
        if e.as_ref().is_some_and(|e| *e <= s) {
            return Vec::new();
        }
        let upper = e.map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
        let mut entries: Vec<Result<Entry>> = engine
            .range((std::ops::Bound::Included(s), upper))
            .map(|(k, v)| Ok((k.clone(), v.clone())))
            .collect();
        if reverse {
            entries.reverse();
        }
        RealOrder::new(entries.into_iter(), start, end, reverse)
            .map(|e| {
                let (k, v) = e.unwrap();
                assert_eq!(v, b"v");
                k
            })
            .collect()
    }

    fn key() -> impl Strategy<Value = Vec<u8>> {
        // Long keys sharing a prefix, short keys, keys at the limit: all the cases.
        (0usize..3, prop::collection::vec(0u8..3, 0..6), 0usize..4).prop_map(|(p, tail, pad)| {
            let mut k = vec![b'a' + p as u8; [1, MAX_DIRECT - 1, MAX_DIRECT, MAX_DIRECT + 3][pad]];
            k.extend(tail);
            k
        })
    }

    proptest! {
        #[test]
        fn scans_see_real_keys_in_real_order(
            keys in prop::collection::btree_set(key(), 0..30),
            start in key(),
            end in prop::option::of(key()),
            reverse: bool,
        ) {
            let keys: Vec<Vec<u8>> = keys.into_iter().collect();
            let mut expected: Vec<Vec<u8>> = keys
                .iter()
                .filter(|k| **k >= start && end.as_ref().is_none_or(|e| *k < e))
                .cloned()
                .collect();
            if reverse {
                expected.reverse();
            }
            prop_assert_eq!(scan(&keys, &start, end.as_deref(), reverse), expected);
        }
    }

    #[test]
    fn a_long_key_reads_back_and_another_in_its_slot_is_absent() {
        let long = vec![7u8; MAX_DIRECT + 10];
        let stored = stored_value(&long, b"x");
        assert_eq!(
            value_for(&long, Some(&stored)).unwrap(),
            Some(b"x".to_vec())
        );
        let mut other = long.clone();
        other.push(1);
        assert_eq!(value_for(&other, Some(&stored)).unwrap(), None);
        assert!(stored_key(&long).len() <= 511);
    }
}
