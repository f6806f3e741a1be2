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
//! - The trees are opened (and made, in a store that lacks them) when the backend opens,
//!   before any transaction of the process begins: LMDB lets a transaction use only the
//!   trees opened before it began.
//! - The unnamed tree holds the trees' names (and, once keys were moved, the guard
//!   below). A store written by an older build keeps every key in it: such a store is read there until its keys are moved, and the
//!   next commit under the lease moves them into their trees, in the same transaction
//!   ([`Spaces::move_unnamed_keys`]); opening it with write access makes that commit at once.
//!   The move leaves [`GUARD`] under the key an older build reads before each write, so
//!   that such a process, if it had the store open, fails its writes instead of reusing
//!   ids. Keys it wrote there anyway are moved by the next commit.
//!   The pages the keys left are free for later commits: the file does not shrink.

use std::ops::Bound;
use std::sync::atomic::{AtomicBool, Ordering};

use heed::types::Bytes;
use heed::{CommitOrAbort, Database, Env, PutFlags, RoTxn, RwTxn, WithoutTls};

use super::lmdb_order::KeyOrder;
use crate::keys::space;

/// One LMDB tree of keys and values.
pub(super) type Tree<'t> = Database<'t, Bytes, Bytes, KeyOrder>;

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

/// The tree (index into the trees) that holds keys starting with `first`.
pub(super) fn tree_for(first: u8) -> usize {
    TREE_OF_BYTE[first as usize] as usize
}

/// Every name starts with this byte, which starts no space: the unnamed tree's names and
/// an older store's keys never meet.
const NAME_MARK: u8 = b'@';

/// What the move leaves in the unnamed tree under [`guard_key`], which an older build
/// reads before each write: a record in an envelope no build decodes, so the write fails
/// as `Corrupt`. Never moved.
const GUARD: &[u8] = &[0xFF];

/// The store's counters, which every write of every build reads first.
fn guard_key() -> Vec<u8> {
    crate::keys::counters()
}

/// Whether an entry of the unnamed tree is the guard.
fn is_guard(key: &[u8], value: &[u8]) -> bool {
    value == GUARD && key == guard_key()
}

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

/// The trees of one store, opened when the backend opened.
pub(super) struct Spaces {
    /// `None` for a salvage of a store of the older layout: it writes nothing, and reads
    /// the unnamed tree.
    trees: Option<[Tree<'static>; TREES]>,
    unnamed: Tree<'static>,
    /// Set once a transaction found the keys in the trees: they never move back.
    moved: AtomicBool,
}

/// Where one transaction reads keys.
#[derive(Clone, Copy)]
pub(super) enum View {
    /// In their spaces' trees.
    Trees([Tree<'static>; TREES]),
    /// In the unnamed tree: a store of the older layout, not moved yet.
    Unnamed(Tree<'static>),
}

impl Spaces {
    /// Opens the unnamed tree and the spaces' trees; makes those missing when `make` is
    /// set (a salvage makes none).
    pub(super) fn open(env: &Env<WithoutTls>, make: bool) -> heed::Result<Spaces> {
        let rtxn = env.read_txn()?;
        let found = env
            .open_databases_and_commit(rtxn, |opener, rtxn| {
                let unnamed = opener
                    .database_options()
                    .types()
                    .key_comparator()
                    .open(rtxn)?;
                let mut trees = [None; TREES];
                for (t, tree) in trees.iter_mut().enumerate() {
                    *tree = opener
                        .database_options()
                        .types()
                        .key_comparator()
                        .name(&name_of(t))
                        .open(rtxn)?;
                }
                Ok::<_, heed::Error>(CommitOrAbort::<_, ()>::Commit((unnamed, trees)))
            })?
            .unwrap_commit();
        let (Some(unnamed), trees) = found else {
            return Err(heed::Error::Mdb(heed::MdbError::NotFound));
        };
        let trees = match (trees.iter().all(Option::is_some), make) {
            (true, _) => Some(trees.map(|tree| tree.expect("all found"))),
            (false, false) => None,
            (false, true) => {
                let wtxn = env.write_txn()?;
                let made = env
                    .create_databases_and_commit(wtxn, |opener, wtxn| {
                        let mut made = [None; TREES];
                        for (t, tree) in made.iter_mut().enumerate() {
                            *tree = Some(
                                opener
                                    .database_options()
                                    .types()
                                    .key_comparator()
                                    .name(&name_of(t))
                                    .create(wtxn)?,
                            );
                        }
                        Ok::<_, heed::Error>(CommitOrAbort::<_, ()>::Commit(made))
                    })?
                    .unwrap_commit();
                Some(made.map(|tree| tree.expect("all made")))
            }
        };
        Ok(Spaces {
            trees,
            unnamed,
            moved: AtomicBool::new(false),
        })
    }

    /// Where `txn` reads: the unnamed tree while it holds an older build's keys and the
    /// trees hold none.
    pub(super) fn view(&self, txn: &RoTxn<'_>) -> heed::Result<View> {
        let Some(trees) = self.trees else {
            return Ok(View::Unnamed(self.unnamed));
        };
        if self.moved.load(Ordering::Acquire) {
            return Ok(View::Trees(trees));
        }
        let mut trees_empty = true;
        for tree in trees {
            trees_empty &= tree.is_empty(txn)?;
        }
        if trees_empty && holds_keys(self.unnamed, txn)? {
            return Ok(View::Unnamed(self.unnamed));
        }
        self.moved.store(true, Ordering::Release);
        Ok(View::Trees(trees))
    }

    /// Whether keys written by an older build wait in the unnamed tree, as `txn` sees it.
    pub(super) fn keys_in_unnamed(&self, txn: &RoTxn<'_>) -> heed::Result<bool> {
        holds_keys(self.unnamed, txn)
    }

    /// LMDB's unnamed tree.
    #[cfg(test)]
    pub(super) fn unnamed(&self) -> Tree<'static> {
        self.unnamed
    }

    /// The spaces' trees; `None` for a salvage of a store of the older layout.
    pub(super) fn trees(&self) -> Option<[Tree<'static>; TREES]> {
        self.trees
    }

    /// Moves every key of the unnamed tree (not the names, not the guard) into its space's
    /// tree, then leaves the guard. A tree that was empty takes its keys appended, which
    /// fills its pages; keys written by an older build into a store already moved go
    /// through an ordinary put.
    pub(super) fn move_unnamed_keys(
        &self,
        trees: &[Tree<'static>; TREES],
        wtxn: &mut RwTxn<'_>,
    ) -> heed::Result<()> {
        let unnamed = self.unnamed;
        let mut empty = [false; TREES];
        for (t, tree) in trees.iter().enumerate() {
            empty[t] = tree.is_empty(wtxn)?;
        }
        let key_ranges: [KeyRange<'_>; 2] = [
            (Bound::Unbounded, Bound::Excluded(&[NAME_MARK])),
            (Bound::Included(&[NAME_MARK + 1]), Bound::Unbounded),
        ];
        for range in key_ranges {
            let mut from: Bound<Vec<u8>> = range.0.map(<[u8]>::to_vec);
            loop {
                let bounds = (from.as_ref().map(Vec::as_slice), range.1);
                let batch: Vec<(Vec<u8>, Vec<u8>)> = unnamed
                    .range(wtxn, &bounds)?
                    .take(MOVE_BATCH)
                    .map(|entry| entry.map(|(k, v)| (k.to_vec(), v.to_vec())))
                    .collect::<heed::Result<_>>()?;
                let Some((last, _)) = batch.last() else {
                    break;
                };
                from = Bound::Excluded(last.clone());
                for (key, value) in batch.iter().filter(|(k, v)| !is_guard(k, v)) {
                    let t = tree_for(key[0]);
                    let flags = match empty[t] {
                        true => PutFlags::APPEND,
                        false => PutFlags::empty(),
                    };
                    trees[t].put_with_flags(wtxn, flags, key, value)?;
                }
            }
            unnamed.delete_range(wtxn, &range)?;
        }
        unnamed.put(wtxn, &guard_key(), GUARD)
    }
}

impl View {
    /// The tree holding keys that start with `first`; none for the first byte of the
    /// trees' names while the keys are read in the unnamed tree.
    pub(super) fn tree_of(&self, first: u8) -> Option<Tree<'static>> {
        match self {
            View::Trees(trees) => Some(trees[tree_for(first)]),
            View::Unnamed(_) if first == NAME_MARK => None,
            View::Unnamed(unnamed) => Some(*unnamed),
        }
    }

    /// Which tree `first` reads: runs of first bytes reading one tree make one segment,
    /// and one cursor puts a commit's run of writes into one tree.
    pub(super) fn tree_index(&self, first: u8) -> usize {
        match self {
            View::Trees(_) => tree_for(first),
            View::Unnamed(_) if first == NAME_MARK => TREES + 1,
            View::Unnamed(_) => TREES,
        }
    }

    /// Whether no key is stored.
    pub(super) fn is_empty(&self, txn: &RoTxn<'_>) -> heed::Result<bool> {
        match self {
            View::Trees(trees) => {
                for tree in trees {
                    if !tree.is_empty(txn)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            View::Unnamed(unnamed) => Ok(!holds_keys(*unnamed, txn)?),
        }
    }

    /// The parts of a scan of stored keys `start..end`, in key order: each tree with the
    /// bounds that keep its keys inside the scan and inside the first bytes it is read
    /// for (`@rest` holds the keys of many runs of first bytes).
    pub(super) fn segments(&self, start: &[u8], end: Option<&[u8]>) -> Vec<Segment<'static>> {
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
            if byte < last && self.tree_index(byte) == self.tree_index(byte + 1) {
                continue;
            }
            if let Some(tree) = self.tree_of(byte) {
                out.push((tree, from(run_start), upto(byte)));
            }
            run_start = byte.wrapping_add(1);
        }
        out
    }
}

/// Whether the unnamed tree holds keys, not only names and the guard. A store of the
/// older layout has a key first, or right after the guard.
fn holds_keys(unnamed: Tree<'_>, txn: &RoTxn<'_>) -> heed::Result<bool> {
    for entry in unnamed.iter(txn)? {
        let (key, value) = entry?;
        if key.first() != Some(&NAME_MARK) && !is_guard(key, value) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// How many keys a move reads before it writes them.
const MOVE_BATCH: usize = 4096;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_own_tree_holds_its_space_and_names_avoid_keys() {
        for (t, &byte) in OWN_TREES.iter().enumerate() {
            assert_eq!(tree_for(byte), t);
            assert!(name_of(t).ends_with(byte as char));
        }
        for byte in space::ALL.iter().filter(|b| !OWN_TREES.contains(b)) {
            assert_eq!(tree_for(*byte), TREES - 1);
        }
        assert_eq!(tree_for(0), TREES - 1);
        assert!(
            !space::ALL.contains(&NAME_MARK),
            "no key space starts like a name"
        );
        let names: std::collections::BTreeSet<String> = (0..TREES).map(name_of).collect();
        assert_eq!(names.len(), TREES);
    }
}
