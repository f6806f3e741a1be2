//! Which LMDB tree holds a key: attribute and entity records have a tree (a named LMDB
//! database) each; the other key spaces share one.
//!
//! With every space in one tree, a lookup searched a tree of all the store's keys (four
//! levels at 10k servers), and a commit that adds keys at the end of a space in the
//! middle of the tree split pages there, where they stay half full. A space's own tree
//! is shallower, and keys added at its end fill its pages. But each tree a commit
//! touches costs it pages of its own (root and branches) and its record in the unnamed
//! tree. 3000 single `set_attr` commits (Rust, 10k servers) made 64.2k page writes with
//! one tree, 73.9k with a tree per space (23), 67.4k with six own trees, 66.7k with four
//! (adding the attribute index and live names) and 63.8k with the two of [`OWN_TREES`]:
//! the index and the names read no faster in trees of their own (one lookup or one
//! prefix per query), and random inserts leave their pages as full either way.
//!
//! - The tree named `@X` holds the keys whose first byte is the space byte `X`, whole: a
//!   tree's keys are the store's keys. `@rest` holds the keys of every other first byte.
//! - The unnamed tree holds the trees' names alone. A store written by an older build
//!   keeps every key in it: such a store is read as it is, and the next commit under
//!   the lease moves its keys into their trees, in the same transaction
//!   ([`move_unnamed_keys`]); opening it with write access makes that commit at once.
//!   The move leaves [`GUARD`] under the key an older build reads before each write, so
//!   that such a process, if it had the store open, fails its writes instead of reusing
//!   ids. Keys it wrote there anyway are moved by the next commit.
//!   The pages the keys left are free for later commits: the file does not shrink.

use std::ops::Bound;

use heed::types::Bytes;
use heed::{CommitOrAbort, Database, DatabaseOpener, Env, PutFlags, RoTxn, RwTxn, WithoutTls};

use crate::keys::space;

/// One LMDB tree of keys and values.
pub(super) type Tree<'t> = Database<'t, Bytes, Bytes>;

/// A part of a scan: a tree and the bounds of what is read from it.
pub(super) type Segment<'t> = (Tree<'t>, Bound<Vec<u8>>, Bound<Vec<u8>>);

/// Bounds of a range of keys.
type KeyRange<'a> = (Bound<&'a [u8]>, Bound<&'a [u8]>);

/// The spaces with a tree of their own: attribute records (most of the keys, added at
/// the end: an entity's attributes are scanned together) and entity records (one lookup
/// per entity a query returns).
const OWN_TREES: [u8; 2] = [space::ATTR, space::ENTITY];

/// Trees: one per space of [`OWN_TREES`], then `@rest`.
pub(super) const TREES: usize = OWN_TREES.len() + 1;

/// The tree of each first byte.
const TREE_OF_BYTE: [u8; 256] = {
    let mut of = [OWN_TREES.len() as u8; 256];
    let mut i = 0;
    while i < OWN_TREES.len() {
        of[OWN_TREES[i] as usize] = i as u8;
        i += 1;
    }
    of
};

/// Every name starts with this byte, which starts no space: the unnamed tree's names and
/// an older store's keys never meet.
const NAME_MARK: u8 = b'@';

/// What the move leaves in the unnamed tree under the key an older build reads before
/// each write (the store's counters): a record in an envelope no build decodes, so the
/// write fails as `Corrupt`. Never moved.
const GUARD: &[u8] = &[0xFF];

const _: () = {
    let mut i = 0;
    while i < space::ALL.len() {
        assert!(
            space::ALL[i] != NAME_MARK,
            "a key space starts like a tree's name"
        );
        i += 1;
    }
};

/// The name of tree `t`.
fn name_of(t: usize) -> String {
    match OWN_TREES.get(t) {
        Some(&byte) => format!("{}{}", NAME_MARK as char, byte as char),
        None => format!("{}rest", NAME_MARK as char),
    }
}

/// The trees of one store, as a transaction that began after they were read sees them.
#[derive(Clone, Copy)]
pub(super) struct Spaces<'t> {
    trees: [Option<Tree<'t>>; TREES],
    unnamed: Tree<'t>,
    /// The unnamed tree's entries when the trees were read: a transaction that finds
    /// another count must read them again (trees were made, or keys moved).
    unnamed_entries: u64,
    /// Keys stored in the unnamed tree by an older build, not yet moved.
    keys_in_unnamed: bool,
}

impl<'t> Spaces<'t> {
    /// The tree holding keys that start with `first`, if there is one yet; reads of a
    /// store whose keys were not moved yet go to the unnamed tree.
    pub(super) fn tree_of(&self, first: u8) -> Option<Tree<'t>> {
        match self.keys_in_unnamed && self.trees.iter().all(Option::is_none) {
            true => Some(self.unnamed),
            false => self.trees[TREE_OF_BYTE[first as usize] as usize],
        }
    }

    /// Whether keys written by an older build wait in the unnamed tree to be moved.
    pub(super) fn keys_in_unnamed(&self) -> bool {
        self.keys_in_unnamed
    }

    /// Whether `txn` sees the trees as they were read.
    pub(super) fn current_in(&self, txn: &RoTxn<'_>) -> heed::Result<bool> {
        Ok(self.unnamed.len(txn)? == self.unnamed_entries)
    }

    /// Whether a commit of `writes` needs no tree made and no key moved first.
    pub(super) fn ready_for(&self, writes: &[super::Write]) -> bool {
        !self.keys_in_unnamed
            && writes.iter().all(|(key, value)| {
                value.is_none() || self.trees[TREE_OF_BYTE[key[0] as usize] as usize].is_some()
            })
    }

    /// Whether no tree holds a key.
    pub(super) fn is_empty(&self, txn: &RoTxn<'_>) -> heed::Result<bool> {
        if self.keys_in_unnamed && !self.unnamed.is_empty(txn)? {
            return Ok(false);
        }
        for tree in self.trees.iter().flatten() {
            if !tree.is_empty(txn)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The parts of a scan of stored keys `start..end`, in key order: each tree with the
    /// bounds that keep its keys inside the scan and inside the first bytes it is read
    /// for (`@rest` holds the keys of many runs of first bytes).
    pub(super) fn segments(&self, start: &[u8], end: Option<&[u8]>) -> Vec<Segment<'t>> {
        let from = |first: u8| match start.first() {
            Some(&s) if s == first => Bound::Included(start.to_vec()),
            _ => Bound::Included(vec![first]),
        };
        let upto = |last: u8| match end {
            Some(e) if e.first() == Some(&last) => Bound::Excluded(e.to_vec()),
            _ if last == u8::MAX => Bound::Unbounded,
            _ => Bound::Excluded(vec![last + 1]),
        };
        let first = start.first().copied().unwrap_or(0);
        let last = end.map_or(u8::MAX, |e| e.first().copied().unwrap_or(0));
        let mut out = Vec::new();
        let mut run_start = first;
        for byte in first..=last {
            let same_next = byte < last
                && self.tree_index(byte) == self.tree_index(byte + 1)
                && self.tree_of(byte).is_some();
            if same_next {
                continue;
            }
            if let Some(tree) = self.tree_of(byte) {
                out.push((tree, from(run_start), upto(byte)));
            }
            run_start = byte.wrapping_add(1);
        }
        out
    }

    /// Which tree `first` reads: runs of first bytes reading one tree make one segment,
    /// and one cursor puts a commit's run of writes into one tree.
    pub(super) fn tree_index(&self, first: u8) -> usize {
        match self.keys_in_unnamed && self.trees.iter().all(Option::is_none) {
            true => TREES,
            false => TREE_OF_BYTE[first as usize] as usize,
        }
    }
}

impl Spaces<'static> {
    /// Reads the trees `txn` sees, opening in this process those it had not opened.
    /// `txn` ends: a transaction begun before a tree was opened cannot read it.
    pub(super) fn read(
        env: &Env<WithoutTls>,
        unnamed: Tree<'static>,
        txn: RoTxn<'static, WithoutTls>,
    ) -> heed::Result<Self> {
        let unnamed_entries = unnamed.len(&txn)?;
        let keys_in_unnamed = holds_keys(unnamed, &txn)?;
        let trees = env
            .open_databases_and_commit(txn, |opener, txn| {
                let mut trees = [None; TREES];
                for (t, tree) in trees.iter_mut().enumerate() {
                    *tree = opener.open_database::<Bytes, Bytes>(txn, Some(&name_of(t)))?;
                }
                Ok::<_, heed::Error>(CommitOrAbort::<_, ()>::Commit(trees))
            })?
            .unwrap_commit();
        Ok(Spaces {
            trees,
            unnamed,
            unnamed_entries,
            keys_in_unnamed,
        })
    }

    /// Commits `writes` after making every tree and moving the keys left in the unnamed
    /// tree (leaving [`GUARD`] under `guard_key`), all in `wtxn`; the trees as the commit
    /// leaves them.
    pub(super) fn commit_making_trees<'e>(
        env: &'e Env<WithoutTls>,
        unnamed: Tree<'static>,
        wtxn: RwTxn<'e>,
        writes: &[super::Write],
        guard_key: Option<&[u8]>,
        put: impl FnOnce(&Spaces<'_>, &mut RwTxn<'_>, &[super::Write]) -> heed::Result<()>,
    ) -> heed::Result<Self> {
        let trees = env
            .create_databases_and_commit(wtxn, |opener, wtxn| {
                let made = make_trees(opener, wtxn, unnamed)?;
                move_unnamed_keys(&made, wtxn, guard_key)?;
                put(&made, wtxn, writes)?;
                Ok::<_, heed::Error>(CommitOrAbort::<_, ()>::Commit(made.trees))
            })?
            .unwrap_commit();
        Ok(Spaces {
            trees,
            unnamed,
            // Counted by the next transaction, which reads the trees again.
            unnamed_entries: u64::MAX,
            keys_in_unnamed: false,
        })
    }
}

/// Makes (or opens) every tree in `wtxn`.
fn make_trees<'e>(
    opener: &DatabaseOpener<'e, WithoutTls>,
    wtxn: &mut RwTxn<'e>,
    unnamed: Tree<'static>,
) -> heed::Result<Spaces<'e>> {
    let mut trees = [None; TREES];
    for (t, tree) in trees.iter_mut().enumerate() {
        *tree = Some(opener.create_database::<Bytes, Bytes>(wtxn, Some(&name_of(t)))?);
    }
    Ok(Spaces {
        trees,
        unnamed,
        unnamed_entries: u64::MAX,
        keys_in_unnamed: false,
    })
}

/// Whether the unnamed tree holds keys, not only names and guards. A store of the older
/// layout has a key first, or right after its guard-free start.
fn holds_keys(unnamed: Tree<'_>, txn: &RoTxn<'_>) -> heed::Result<bool> {
    for entry in unnamed.iter(txn)? {
        let (key, value) = entry?;
        if key.first() != Some(&NAME_MARK) && value != GUARD {
            return Ok(true);
        }
    }
    Ok(false)
}

/// How many keys a move reads before it writes them.
const MOVE_BATCH: usize = 4096;

/// Moves every key of the unnamed tree (not the names, not the guards) into its space's
/// tree, then leaves [`GUARD`] under `guard_key`. A tree that was empty takes its keys
/// appended, which fills its pages; keys written by an older build into a store already
/// moved go through an ordinary put.
fn move_unnamed_keys(
    made: &Spaces<'_>,
    wtxn: &mut RwTxn<'_>,
    guard_key: Option<&[u8]>,
) -> heed::Result<()> {
    let mut guarded: Vec<Vec<u8>> = guard_key.map(<[u8]>::to_vec).into_iter().collect();
    let mut empty = [false; TREES];
    for (t, tree) in made.trees.iter().enumerate() {
        empty[t] = tree.is_some_and(|tree| tree.is_empty(wtxn).unwrap_or(false));
    }
    let key_ranges: [KeyRange<'_>; 2] = [
        (Bound::Unbounded, Bound::Excluded(&[NAME_MARK])),
        (Bound::Included(&[NAME_MARK + 1]), Bound::Unbounded),
    ];
    for range in key_ranges {
        let mut from: Bound<Vec<u8>> = range.0.map(<[u8]>::to_vec);
        loop {
            let bounds = (from.as_ref().map(Vec::as_slice), range.1);
            let batch: Vec<(Vec<u8>, Vec<u8>)> = made
                .unnamed
                .range(wtxn, &bounds)?
                .take(MOVE_BATCH)
                .map(|entry| entry.map(|(k, v)| (k.to_vec(), v.to_vec())))
                .collect::<heed::Result<_>>()?;
            let Some((last, _)) = batch.last() else {
                break;
            };
            from = Bound::Excluded(last.clone());
            for (key, value) in &batch {
                if value == GUARD {
                    guarded.push(key.clone());
                    continue;
                }
                let t = TREE_OF_BYTE[key[0] as usize] as usize;
                let tree = made.trees[t].expect("every tree was made");
                let flags = match empty[t] {
                    true => PutFlags::APPEND,
                    false => PutFlags::empty(),
                };
                tree.put_with_flags(wtxn, flags, key, value)?;
            }
        }
        made.unnamed.delete_range(wtxn, &range)?;
    }
    for key in guarded {
        made.unnamed.put(wtxn, &key, GUARD)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_own_tree_holds_its_space_and_names_avoid_keys() {
        for (t, &byte) in OWN_TREES.iter().enumerate() {
            assert_eq!(TREE_OF_BYTE[byte as usize] as usize, t);
            assert!(name_of(t).ends_with(byte as char));
        }
        for byte in space::ALL.iter().filter(|b| !OWN_TREES.contains(b)) {
            assert_eq!(TREE_OF_BYTE[*byte as usize] as usize, TREES - 1);
        }
        assert_eq!(TREE_OF_BYTE[0] as usize, TREES - 1);
        assert!(
            !space::ALL.contains(&NAME_MARK),
            "no key space starts like a name"
        );
        let names: std::collections::BTreeSet<String> = (0..TREES).map(name_of).collect();
        assert_eq!(names.len(), TREES);
    }
}
