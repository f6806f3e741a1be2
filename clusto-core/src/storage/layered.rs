//! A transaction's pending writes, layered over the committed store, so that reads in a
//! transaction see its own writes.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::iter::Peekable;
use std::ops::Bound;

use super::{Entry, EntryIter, KvRead, LentEntry, Write};
use crate::error::Result;
use crate::keys::{FreshIds, prefix_end};

/// A pending write: the new value, or `None` for a removal.
type PendingValue = Option<Vec<u8>>;

/// Writes not yet committed, with an undo journal so that one failed operation inside a
/// transaction can be taken back without losing the transaction's earlier work.
#[derive(Debug, Default)]
pub struct Pending {
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// The first ids the store had not given when the transaction began: keys naming
    /// them can only be this transaction's, so reads of them need not reach the store (a
    /// round trip each, on a server).
    fresh: Option<FreshIds>,
    /// For each write since the outermost open mark: the key and what the pending map
    /// held for it before (`None`: the key was not pending). Empty while no mark is open,
    /// so a long transaction does not keep a second copy of every key it wrote.
    journal: Vec<(Vec<u8>, Option<PendingValue>)>,
    /// Marks taken and not yet undone to or kept.
    open_marks: usize,
}

impl Pending {
    /// Says the store has given no ids from `fresh` on: keys naming them are looked up
    /// here only.
    pub fn set_fresh(&mut self, fresh: FreshIds) {
        self.fresh = Some(fresh);
    }

    /// Whether `key` names an id the store cannot hold yet.
    fn unstored(&self, key: &[u8]) -> bool {
        self.fresh.is_some_and(|fresh| fresh.named_in(key))
    }

    /// Whether every key of `start..end` belongs to an entity the store cannot hold yet.
    fn unstored_range(&self, start: &[u8], end: Option<&[u8]>) -> bool {
        matches!(
            (self.fresh, crate::keys::range_entity(start, end)),
            (Some(fresh), Some(id)) if id >= fresh.entity
        )
    }

    /// Records a write of `value` (`None` removes) under `key`.
    pub fn put(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
        if self.open_marks == 0 {
            self.writes.insert(key, value);
            return;
        }
        let before = self.writes.insert(key.clone(), value);
        self.journal.push((key, before));
    }

    /// Forgets a pending write, as if it had never been made (undoable like a write).
    pub fn discard(&mut self, key: Vec<u8>) {
        if let Some(before) = self.writes.remove(&key)
            && self.open_marks > 0
        {
            self.journal.push((key, Some(before)));
        }
    }

    /// A mark to roll back to with [`Pending::undo_to`]; every mark ends with either
    /// that or [`Pending::keep`].
    pub fn mark(&mut self) -> usize {
        self.open_marks += 1;
        self.journal.len()
    }

    /// Keeps the writes made after `mark`: only an enclosing mark can take them back now.
    pub fn keep(&mut self, mark: usize) {
        self.close_mark(mark);
    }

    fn close_mark(&mut self, mark: usize) {
        debug_assert!(self.open_marks > 0 && mark <= self.journal.len());
        self.open_marks -= 1;
        if self.open_marks == 0 {
            self.journal.clear();
        }
    }

    /// Takes back every write made after `mark`.
    pub fn undo_to(&mut self, mark: usize) {
        while self.journal.len() > mark {
            let (key, before) = self.journal.pop().expect("journal longer than mark");
            match before {
                Some(previous) => {
                    self.writes.insert(key, previous);
                }
                None => {
                    self.writes.remove(&key);
                }
            }
        }
        self.close_mark(mark);
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    /// The writes to commit, in key order.
    pub fn into_writes(self) -> Vec<Write> {
        self.writes.into_iter().collect()
    }
}

/// The committed store seen through pending writes.
pub struct Layered<'a> {
    base: &'a dyn KvRead,
    pending: &'a Pending,
}

impl<'a> Layered<'a> {
    /// Layers `pending` over `base`.
    pub fn new(base: &'a dyn KvRead, pending: &'a Pending) -> Self {
        Layered { base, pending }
    }
}

impl KvRead for Layered<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.pending.writes.get(key) {
            Some(pending) => Ok(pending.clone()),
            None if self.pending.unstored(key) => Ok(None),
            None => self.base.get(key),
        }
    }

    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>> {
        // The keys this transaction has not written go to the store in one call.
        let unwritten: Vec<Vec<u8>> = keys
            .iter()
            .filter(|k| {
                !self.pending.writes.contains_key(k.as_slice()) && !self.pending.unstored(k)
            })
            .cloned()
            .collect();
        let mut stored = self.base.get_many(&unwritten)?.into_iter();
        keys.iter()
            .map(|k| match self.pending.writes.get(k.as_slice()) {
                Some(pending) => Ok(pending.clone()),
                None if self.pending.unstored(k) => Ok(None),
                None => Ok(stored.next().flatten()),
            })
            .collect()
    }

    fn prefetch_prefix(&self, prefix: &[u8]) -> Result<()> {
        self.base.prefetch_prefix(prefix)
    }

    fn learned(&self, key: &[u8], value: &[u8]) {
        // What this transaction wrote is read from it, never from the store.
        if !self.pending.writes.contains_key(key) {
            self.base.learned(key, value);
        }
    }

    fn takes_read_ahead(&self) -> bool {
        self.base.takes_read_ahead()
    }

    fn read_ahead(&self, prefixes: &[&[u8]]) -> Result<()> {
        let stored: Vec<&[u8]> = prefixes
            .iter()
            .copied()
            .filter(|p| !self.pending.unstored_range(p, prefix_end(p).as_deref()))
            .collect();
        if stored.is_empty() {
            return Ok(());
        }
        self.base.read_ahead(&stored)
    }

    fn scan_prefix_each(&self, prefix: &[u8], each: &mut LentEntry<'_>) -> Result<()> {
        // The store's entries stay lent (no copy of each) and this transaction's writes
        // are handed over between them, in key order; a pending write wins over a stored
        // entry with the same key, and a pending removal hides it.
        let end = prefix_end(prefix);
        let upper = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
        let mut pending = self
            .pending
            .writes
            .range::<[u8], _>((Bound::Included(prefix), upper))
            .peekable();
        if !self.pending.unstored_range(prefix, end.as_deref()) {
            self.base.scan_prefix_each(prefix, &mut |key, value| {
                while let Some((k, v)) = pending.next_if(|(k, _)| k.as_slice() < key) {
                    if let Some(v) = v {
                        each(k, v)?;
                    }
                }
                match pending.next_if(|(k, _)| k.as_slice() == key) {
                    Some((_, Some(v))) => each(key, v),
                    Some((_, None)) => Ok(()),
                    None => each(key, value),
                }
            })?;
        }
        for (k, v) in pending {
            if let Some(v) = v {
                each(k, v)?;
            }
        }
        Ok(())
    }

    fn scan(&self, start: &[u8], end: Option<&[u8]>, reverse: bool) -> EntryIter<'_> {
        let upper = match end {
            Some(e) => Bound::Excluded(e),
            None => Bound::Unbounded,
        };
        let range = self
            .pending
            .writes
            .range::<[u8], _>((Bound::Included(start), upper));
        let pending: PendingIter<'_> = if reverse {
            Box::new(range.rev())
        } else {
            Box::new(range)
        };
        let base: EntryIter<'_> = if self.pending.unstored_range(start, end) {
            Box::new(std::iter::empty())
        } else {
            self.base.scan(start, end, reverse)
        };
        Box::new(Merge {
            base: base.peekable(),
            pending: pending.peekable(),
            reverse,
        })
    }
}

type PendingIter<'a> = Box<dyn Iterator<Item = (&'a Vec<u8>, &'a Option<Vec<u8>>)> + 'a>;

/// Merges committed entries with pending writes; a pending write wins over a committed
/// entry with the same key, and a pending removal hides it.
struct Merge<'a> {
    base: Peekable<EntryIter<'a>>,
    pending: Peekable<PendingIter<'a>>,
    reverse: bool,
}

impl Iterator for Merge<'_> {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let order = match (self.base.peek(), self.pending.peek()) {
                (None, None) => return None,
                (Some(Err(_)), _) => return self.base.next(),
                (Some(_), None) => return self.base.next(),
                (None, Some(_)) => Ordering::Greater,
                (Some(Ok((base_key, _))), Some((pending_key, _))) => {
                    let o = base_key.as_slice().cmp(pending_key.as_slice());
                    if self.reverse { o.reverse() } else { o }
                }
            };
            match order {
                Ordering::Less => return self.base.next(),
                Ordering::Equal => {
                    self.base.next();
                }
                Ordering::Greater => {}
            }
            let (key, value) = self.pending.next().expect("peeked");
            if let Some(value) = value {
                return Some(Ok((key.clone(), value.clone())));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    struct MapStore(BTreeMap<Vec<u8>, Vec<u8>>);

    impl KvRead for MapStore {
        fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
            Ok(self.0.get(key).cloned())
        }
        fn scan(&self, start: &[u8], end: Option<&[u8]>, reverse: bool) -> EntryIter<'_> {
            let upper = end.map_or(Bound::Unbounded, Bound::Excluded);
            let it = self
                .0
                .range::<[u8], _>((Bound::Included(start), upper))
                .map(|(k, v)| Ok((k.clone(), v.clone())));
            if reverse {
                Box::new(it.rev().collect::<Vec<_>>().into_iter())
            } else {
                Box::new(it.collect::<Vec<_>>().into_iter())
            }
        }
    }

    fn keys(it: EntryIter<'_>) -> Vec<u8> {
        it.map(|e| e.unwrap().0[0]).collect()
    }

    /// A scan that lends the store's bytes hands over exactly what the copying scan
    /// gives: pending writes before, between, over and after the stored entries, removals
    /// hidden, and nothing outside the prefix.
    #[test]
    fn lent_scan_merges_pending_writes_as_the_copying_scan_does() {
        let stored = [[1, 0], [1, 1], [1, 3], [2, 0]];
        let base = MapStore(stored.iter().map(|k| (k.to_vec(), k.to_vec())).collect());
        let mut pending = Pending::default();
        pending.put(vec![0, 9], Some(vec![9]));
        pending.put(vec![1], Some(vec![7]));
        pending.put(vec![1, 1], None);
        pending.put(vec![1, 2], Some(vec![12]));
        pending.put(vec![1, 3], Some(vec![13]));
        pending.put(vec![1, 4], Some(vec![14]));
        pending.put(vec![2, 1], None);
        let view = Layered::new(&base, &pending);
        for prefix in [&[][..], &[1], &[1, 3], &[2], &[3]] {
            let mut lent = Vec::new();
            view.scan_prefix_each(prefix, &mut |k, v| {
                lent.push((k.to_vec(), v.to_vec()));
                Ok(())
            })
            .unwrap();
            let copied: Vec<Entry> = view.scan_prefix(prefix).map(|e| e.unwrap()).collect();
            assert_eq!(lent, copied, "prefix {prefix:?}");
        }
        let mut under_1 = Vec::new();
        view.scan_prefix_each(&[1], &mut |k, v| {
            under_1.push((k.to_vec(), v.to_vec()));
            Ok(())
        })
        .unwrap();
        assert_eq!(
            under_1,
            vec![
                (vec![1], vec![7]),
                (vec![1, 0], vec![1, 0]),
                (vec![1, 2], vec![12]),
                (vec![1, 3], vec![13]),
                (vec![1, 4], vec![14]),
            ]
        );
    }

    #[test]
    fn pending_writes_shadow_and_hide_committed_ones() {
        let base = MapStore((1u8..=5).map(|k| (vec![k], vec![k])).collect());
        let mut pending = Pending::default();
        pending.put(vec![2], None);
        pending.put(vec![4], Some(vec![40]));
        pending.put(vec![6], Some(vec![60]));
        let view = Layered::new(&base, &pending);
        assert_eq!(keys(view.scan(&[0], None, false)), vec![1, 3, 4, 5, 6]);
        assert_eq!(keys(view.scan(&[0], None, true)), vec![6, 5, 4, 3, 1]);
        assert_eq!(keys(view.scan(&[2], Some(&[5]), false)), vec![3, 4]);
        assert_eq!(view.get(&[4]).unwrap(), Some(vec![40]));
        assert_eq!(view.get(&[2]).unwrap(), None);
        let many = view
            .get_many(&[vec![1], vec![2], vec![4], vec![6], vec![9], vec![5]])
            .unwrap();
        assert_eq!(
            many,
            vec![
                Some(vec![1]),
                None,
                Some(vec![40]),
                Some(vec![60]),
                None,
                Some(vec![5])
            ]
        );
    }

    /// A copy learned through a transaction reaches the store's cache only for keys the
    /// transaction has not written: what it wrote is read from it.
    #[test]
    fn a_learned_copy_reaches_the_store_only_for_keys_not_written() {
        struct Learning(MapStore, std::cell::RefCell<Vec<Vec<u8>>>);
        impl KvRead for Learning {
            fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
                self.0.get(key)
            }
            fn scan(&self, start: &[u8], end: Option<&[u8]>, reverse: bool) -> EntryIter<'_> {
                self.0.scan(start, end, reverse)
            }
            fn learned(&self, key: &[u8], _value: &[u8]) {
                self.1.borrow_mut().push(key.to_vec());
            }
        }
        let base = Learning(MapStore(Default::default()), Default::default());
        let mut pending = Pending::default();
        pending.put(vec![1], Some(vec![7]));
        let layered = Layered::new(&base, &pending);
        layered.learned(&[1], &[8]);
        layered.learned(&[2], &[8]);
        assert_eq!(*base.1.borrow(), vec![vec![2u8]]);
        assert_eq!(layered.get(&[1]).unwrap(), Some(vec![7]));
    }

    /// A store that counts the reads that reach it.
    struct Counting(MapStore, std::cell::Cell<usize>);

    impl KvRead for Counting {
        fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
            self.1.set(self.1.get() + 1);
            self.0.get(key)
        }
        fn scan(&self, start: &[u8], end: Option<&[u8]>, reverse: bool) -> EntryIter<'_> {
            self.1.set(self.1.get() + 1);
            self.0.scan(start, end, reverse)
        }
    }

    /// Keys of an entity the store had not given when the transaction began are read
    /// from the pending writes alone; older entities' keys and other spaces still reach
    /// the store.
    #[test]
    fn fresh_entities_are_not_looked_up_in_the_store() {
        use crate::keys::{self, Key, space};
        use crate::records::{AttrId, EntityId};
        let old_attr = keys::attr(EntityId(3), AttrId(1), true);
        let base = Counting(
            MapStore(
                [
                    (old_attr.clone(), vec![1]),
                    (keys::entity(EntityId(3)), vec![3]),
                ]
                .into(),
            ),
            Default::default(),
        );
        let mut pending = Pending::default();
        pending.set_fresh(FreshIds {
            entity: 10,
            attr: u64::MAX,
        });
        pending.put(keys::attr(EntityId(12), AttrId(5), true), Some(vec![5]));
        let view = Layered::new(&base, &pending);
        let attrs_of = |id: u64| {
            let start = Key::new(space::ATTR).u64(id).into_bytes();
            let end = Key::new(space::ATTR).u64(id + 1).into_bytes();
            view.scan(&start, Some(&end), false)
                .map(|e| e.unwrap().1)
                .collect::<Vec<_>>()
        };
        assert_eq!(attrs_of(12), vec![vec![5]]);
        assert_eq!(view.get(&keys::entity(EntityId(11))).unwrap(), None);
        assert_eq!(
            view.get_many(&[keys::entity(EntityId(10)), keys::entity(EntityId(3))])
                .unwrap(),
            vec![None, Some(vec![3])]
        );
        assert_eq!(base.1.get(), 1, "only entity 3's record reached the store");
        assert_eq!(attrs_of(3), vec![vec![1]]);
        assert_eq!(view.get(&keys::live_name("new")).unwrap(), None);
        // A range that reaches past the fresh entity's keys goes to the store (and finds
        // entity 3's record there, after the pending attribute).
        let wide = Key::new(space::ATTR).u64(12).into_bytes();
        assert_eq!(view.scan(&wide, None, false).count(), 2);
        assert_eq!(base.1.get(), 4);
    }

    #[test]
    fn nested_marks_undo_what_an_inner_kept_mark_wrote() {
        let mut pending = Pending::default();
        pending.put(vec![1], Some(vec![1]));
        let outer = pending.mark();
        pending.put(vec![1], Some(vec![9]));
        let inner = pending.mark();
        pending.put(vec![2], Some(vec![2]));
        pending.keep(inner);
        pending.undo_to(outer);
        assert_eq!(pending.into_writes(), vec![(vec![1], Some(vec![1]))]);
    }

    #[test]
    fn no_undo_journal_is_kept_while_no_mark_is_open() {
        let mut pending = Pending::default();
        let mark = pending.mark();
        pending.put(vec![1], Some(vec![1]));
        pending.discard(vec![1]);
        assert_eq!(pending.journal.len(), 2);
        pending.keep(mark);
        assert!(pending.journal.is_empty());
        pending.put(vec![2], Some(vec![2]));
        pending.discard(vec![2]);
        pending.put(vec![3], None);
        assert!(pending.journal.is_empty());
        assert_eq!(pending.into_writes(), vec![(vec![3], None)]);
    }

    #[test]
    fn undo_restores_the_state_at_the_mark() {
        let mut pending = Pending::default();
        pending.put(vec![1], Some(vec![1]));
        let mark = pending.mark();
        pending.put(vec![1], None);
        pending.put(vec![2], Some(vec![2]));
        pending.undo_to(mark);
        assert_eq!(pending.into_writes(), vec![(vec![1], Some(vec![1]))]);
    }
}
