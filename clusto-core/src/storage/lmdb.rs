//! The LMDB backend (through heed): many processes on one host share a database; readers
//! never wait, one writer at a time.
//!
//! - A snapshot is an LMDB read transaction: it sees whole commits only and never blocks
//!   a writer.
//! - The write lease is a `flock` ([`super::lease_file`]); the commit itself is one LMDB
//!   write transaction opened on the committing thread.
//! - The memory map grows by doubling when a commit finds it full, and follows another
//!   process's growth when LMDB reports it. LMDB may remap only while this process has no
//!   transaction open, so every transaction holds `map` shared and a resize holds it
//!   exclusively.
//! - Durability: `Immediate` syncs on every commit (LMDB's default). `Grouped` commits
//!   without a sync — the commit is in the kernel's page cache, so it survives the death
//!   of the process — and a background thread syncs every `every_ms`.

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use heed::types::Bytes;
use heed::{Env, EnvFlags, EnvOpenOptions, MdbError, PutFlags, RoTxn, RwTxn, WithoutTls};
use parking_lot::{ArcRwLockReadGuard, RawRwLock, RwLock};

use super::lease_file::{Held, LeaseFile};
use super::lmdb_spaces::{Spaces, TREES, Tree, View, tree_for};
use super::long_keys::{self, RealOrder};
use super::ticker::Ticker;
use super::{
    Backend, EntryIter, KvRead, LentEntry, LentValue, Snapshot, Write, WriteLease, hand_over,
};
use crate::db::Durability;
use crate::error::{Error, Result};
use crate::records::Version;

/// LMDB's data file: its presence marks a directory as an LMDB database.
pub const DATA_FILE: &str = "data.mdb";

/// The map of a new database; it doubles as the data grows. Small enough for valgrind,
/// which cannot map more than a few tens of GiB.
const INITIAL_MAP: usize = 1 << 30;

/// Reader slots: one per open snapshot across all processes.
const MAX_READERS: u32 = 1022;

/// How often a snapshot or commit is retried after LMDB reported a map resize.
const RESIZE_RETRIES: usize = 8;

type MapGuard = ArcRwLockReadGuard<RawRwLock, ()>;

struct Inner {
    env: Env<WithoutTls>,
    /// The trees, opened before any transaction of the process (see `lmdb_spaces`).
    spaces: Spaces,
    /// Shared by every open transaction of this process, exclusive while remapping.
    map: Arc<RwLock<()>>,
    lease: Arc<LeaseFile>,
    dir: PathBuf,
}

/// An LMDB environment used as a [`Backend`].
pub struct LmdbBackend {
    inner: Arc<Inner>,
    /// The syncing thread of `Grouped` durability.
    syncer: Option<Ticker>,
}

impl Drop for LmdbBackend {
    fn drop(&mut self) {
        drop(self.syncer.take());
        // What the syncer had not synced yet.
        let _ = self.inner.env.force_sync();
    }
}

fn engine_error(doing: &str, dir: &Path, e: heed::Error) -> Error {
    match e {
        heed::Error::Mdb(MdbError::Corrupted | MdbError::Invalid | MdbError::PageNotFound) => {
            Error::Corrupt(format!("LMDB reports {doing} {}: {e}", dir.display()))
        }
        heed::Error::Mdb(MdbError::VersionMismatch) => Error::Corrupt(format!(
            "{} was written by an incompatible LMDB version: {e}",
            dir.display()
        )),
        heed::Error::Io(io) => Error::os(format_args!("{doing} {}", dir.display()), &io),
        other => Error::io_other(format!("{doing} {}: {other}", dir.display())),
    }
}

impl LmdbBackend {
    /// Opens (creating if needed) the LMDB database in directory `dir`, which exists.
    pub fn open(dir: &Path, durability: Durability) -> Result<Self> {
        Self::open_mapped(dir, durability, INITIAL_MAP, true)
    }

    /// Opens the LMDB database in directory `dir` for a salvage: nothing is written to
    /// it, not even the trees a database of an older build lacks (it is then read as it
    /// is), and commits are refused.
    pub fn open_for_salvage(dir: &Path) -> Result<Self> {
        Self::open_mapped(dir, Durability::Immediate, INITIAL_MAP, false)
    }

    /// [`LmdbBackend::open`] with a first map of `initial_map` bytes; `writable` says
    /// whether the trees a store lacks may be made.
    fn open_mapped(
        dir: &Path,
        durability: Durability,
        initial_map: usize,
        writable: bool,
    ) -> Result<Self> {
        let mut options = EnvOpenOptions::new().read_txn_without_tls();
        options
            .map_size(initial_map)
            .max_readers(MAX_READERS)
            .max_dbs(TREES as u32);
        let grouped_every = match durability {
            Durability::Immediate => None,
            Durability::Grouped { every_ms } | Durability::Periodic { every_ms } => {
                Some(every_ms.max(1))
            }
        };
        // SAFETY: the environment is opened once per process (the database handle keeps
        // one per path) and its files are only changed through LMDB.
        let env = unsafe { options.open(dir) }.map_err(|e| engine_error("opening", dir, e))?;
        if grouped_every.is_some() {
            // SAFETY: no transaction is open yet.
            unsafe { env.set_flags(EnvFlags::NO_SYNC, heed::FlagSetMode::Enable) }
                .map_err(|e| engine_error("configuring", dir, e))?;
        }
        // Reader slots of processes that died.
        env.clear_stale_readers()
            .map_err(|e| engine_error("clearing stale readers of", dir, e))?;
        let spaces = Spaces::open(&env, writable).map_err(|e| engine_error("opening", dir, e))?;
        let inner = Arc::new(Inner {
            env,
            spaces,
            map: Arc::new(RwLock::new(())),
            lease: LeaseFile::open(dir)?,
            dir: dir.to_path_buf(),
        });
        let syncer = match grouped_every {
            Some(every_ms) => {
                let synced = inner.clone();
                Some(Ticker::start(
                    "clusto-lmdb-sync",
                    Duration::from_millis(every_ms),
                    move || {
                        let _ = synced.env.force_sync();
                    },
                )?)
            }
            None => None,
        };
        Ok(LmdbBackend { inner, syncer })
    }
}

impl Inner {
    /// Adopts the map size another process grew the database to.
    fn adopt_resize(&self) -> Result<()> {
        let _exclusive = self.map.write();
        // SAFETY: `map` held exclusively: no transaction of this process is open.
        unsafe { self.env.resize(0) }.map_err(|e| engine_error("remapping", &self.dir, e))
    }

    /// Doubles the map after a commit found it full.
    fn grow(&self) -> Result<()> {
        let _exclusive = self.map.write();
        let doubled = self.env.info().map_size * 2;
        // SAFETY: `map` held exclusively: no transaction of this process is open.
        unsafe { self.env.resize(doubled) }.map_err(|e| engine_error("growing", &self.dir, e))
    }

    /// A read transaction with the map guard it needs.
    fn read_txn(self: &Arc<Self>) -> Result<LmdbSnapshot> {
        for _ in 0..RESIZE_RETRIES {
            let guard = self.map.read_arc_recursive();
            match self.env.clone().static_read_txn() {
                Ok(txn) => {
                    let view = self
                        .spaces
                        .view(&txn)
                        .map_err(|e| engine_error("reading", &self.dir, e))?;
                    return Ok(LmdbSnapshot {
                        txn,
                        view,
                        inner: self.clone(),
                        _map: guard,
                    });
                }
                Err(heed::Error::Mdb(MdbError::MapResized)) => {
                    drop(guard);
                    self.adopt_resize()?;
                }
                Err(e) => return Err(engine_error("reading", &self.dir, e)),
            }
        }
        Err(Error::io_other(format!(
            "reading {}: the map kept being resized",
            self.dir.display()
        )))
    }

    /// Applies `writes` in one write transaction, growing the map as needed; keys an
    /// older build left in the unnamed tree move into their trees first.
    fn apply(&self, writes: &[Write]) -> Result<()> {
        if writes.iter().any(|(key, _)| key.is_empty()) {
            return Err(Error::InvalidValue(format!(
                "writing {}: LMDB cannot store an empty key",
                self.dir.display()
            )));
        }
        let Some(trees) = self.spaces.trees() else {
            return Err(Error::InvalidValue(format!(
                "{} was opened for a salvage, which writes nothing",
                self.dir.display()
            )));
        };
        for _ in 0..RESIZE_RETRIES {
            let guard = self.map.read_recursive();
            match self.try_apply(writes, &trees) {
                Err(heed::Error::Mdb(MdbError::MapFull)) => {
                    drop(guard);
                    self.grow()?;
                }
                Err(heed::Error::Mdb(MdbError::MapResized)) => {
                    drop(guard);
                    self.adopt_resize()?;
                }
                other => return other.map_err(|e| engine_error("writing", &self.dir, e)),
            }
        }
        Err(Error::io_other(format!(
            "writing {}: the map kept being resized",
            self.dir.display()
        )))
    }

    /// Commits `writes` into `trees`, moving the keys left in the unnamed tree first.
    fn try_apply(&self, writes: &[Write], trees: &[Tree<'static>; TREES]) -> heed::Result<()> {
        let mut wtxn = self.env.write_txn()?;
        if self.spaces.keys_in_unnamed(&wtxn)? {
            self.spaces.move_unnamed_keys(trees, &mut wtxn)?;
        }
        put_writes(trees, &mut wtxn, writes)?;
        wtxn.commit()
    }
}

/// Puts `writes` (none with an empty key) into their trees.
fn put_writes(
    trees: &[Tree<'static>; TREES],
    wtxn: &mut RwTxn<'_>,
    writes: &[Write],
) -> heed::Result<()> {
    let same_run = |a: &Write, b: &Write| {
        a.1.is_some() == b.1.is_some() && tree_for(a.0[0]) == tree_for(b.0[0])
    };
    for run in writes.chunk_by(same_run) {
        let tree = trees[tree_for(run[0].0[0])];
        if run[0].1.is_none() {
            for (key, _) in run {
                tree.delete(wtxn, &long_keys::stored_key(key))?;
            }
            continue;
        }
        // Puts in key order go through one cursor: LMDB looks for the next key's place on
        // the page the cursor is on before it searches from the root.
        let mut cursor = tree.iter_mut(wtxn)?;
        for (key, value) in run {
            let value = value.as_deref().unwrap_or_default();
            // SAFETY: the key and value are the caller's, not borrowed from the
            // database.
            unsafe {
                cursor.put_current_with_options::<Bytes>(
                    PutFlags::empty(),
                    &long_keys::stored_key(key),
                    &long_keys::stored_value(key, value),
                )?
            };
        }
    }
    Ok(())
}

/// An LMDB read transaction.
pub(crate) struct LmdbSnapshot {
    // Dropped before the guard: the transaction ends while the map is still guarded.
    txn: RoTxn<'static, WithoutTls>,
    /// Where the transaction reads keys.
    view: View,
    inner: Arc<Inner>,
    _map: MapGuard,
}

impl LmdbSnapshot {
    /// The stored value under `key`'s stored form, from its space's tree.
    fn stored(&self, key: &[u8]) -> Result<Option<&[u8]>> {
        let Some(tree) = key.first().and_then(|&first| self.view.tree_of(first)) else {
            return Ok(None);
        };
        tree.get(&self.txn, &long_keys::stored_key(key))
            .map_err(|e| engine_error("reading", &self.inner.dir, e))
    }
}

impl KvRead for LmdbSnapshot {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        long_keys::value_for(key, self.stored(key)?)
    }

    fn scan_prefix_each(&self, prefix: &[u8], each: &mut LentEntry<'_>) -> Result<()> {
        let end = crate::keys::prefix_end(prefix);
        // LMDB takes no empty key, even as a bound; a long bound needs the real order.
        let unlent = prefix.is_empty()
            || !long_keys::is_direct(prefix)
            || end.as_deref().is_some_and(|e| !long_keys::is_direct(e));
        if unlent {
            return hand_over(self.scan_prefix(prefix), each);
        }
        let failed = |e| engine_error("reading", &self.inner.dir, e);
        let Some(tree) = self.view.tree_of(prefix[0]) else {
            return Ok(());
        };
        let bounds = (
            Bound::Included(prefix),
            end.as_deref().map_or(Bound::Unbounded, Bound::Excluded),
        );
        for entry in tree.range(&self.txn, &bounds).map_err(failed)? {
            let (key, value) = entry.map_err(failed)?;
            if !long_keys::is_direct(key) {
                // From the first long key on, in real order (see `long_keys`).
                let from = long_keys::group_start(key);
                return hand_over(self.scan(&from, end.as_deref(), false), each);
            }
            each(key, value)?;
        }
        Ok(())
    }

    fn get_each(&self, keys: &[Vec<u8>], each: &mut LentValue<'_>) -> Result<()> {
        for (i, key) in keys.iter().enumerate() {
            each(i, long_keys::value_in(key, self.stored(key)?)?.as_deref())?;
        }
        Ok(())
    }

    fn scan(&self, start: &[u8], end: Option<&[u8]>, reverse: bool) -> EntryIter<'_> {
        let (s, e) = long_keys::stored_bounds(start, end);
        if e.as_deref().is_some_and(|e| e <= s.as_slice()) {
            return Box::new(std::iter::empty());
        }
        let failed = |e| engine_error("reading", &self.inner.dir, e);
        let mut segments = self.view.segments(&s, e.as_deref());
        if reverse {
            segments.reverse();
        }
        let owned = move |r: heed::Result<(&[u8], &[u8])>| {
            r.map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(failed)
        };
        let stored: EntryIter<'_> = Box::new(segments.into_iter().flat_map(
            move |(tree, from, to)| -> EntryIter<'_> {
                let bounds = (
                    from.as_ref().map(Vec::as_slice),
                    to.as_ref().map(Vec::as_slice),
                );
                let range = match reverse {
                    false => tree
                        .range(&self.txn, &bounds)
                        .map(|it| -> EntryIter<'_> { Box::new(it.map(owned)) }),
                    true => tree
                        .rev_range(&self.txn, &bounds)
                        .map(|it| -> EntryIter<'_> { Box::new(it.map(owned)) }),
                };
                range.unwrap_or_else(|e| Box::new(std::iter::once(Err(failed(e)))))
            },
        ));
        Box::new(RealOrder::new(stored, start, end, reverse))
    }
}

/// The write lease of an LMDB database.
struct LmdbLease {
    /// Reads under the lease: the newest commit, since no other writer can commit.
    snapshot: Option<LmdbSnapshot>,
    inner: Arc<Inner>,
    _held: Held,
}

impl KvRead for LmdbLease {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.snapshot.as_ref().expect("open lease").get(key)
    }

    fn get_each(&self, keys: &[Vec<u8>], each: &mut LentValue<'_>) -> Result<()> {
        self.snapshot
            .as_ref()
            .expect("open lease")
            .get_each(keys, each)
    }

    fn scan_prefix_each(&self, prefix: &[u8], each: &mut LentEntry<'_>) -> Result<()> {
        self.snapshot
            .as_ref()
            .expect("open lease")
            .scan_prefix_each(prefix, each)
    }

    fn scan(&self, start: &[u8], end: Option<&[u8]>, reverse: bool) -> EntryIter<'_> {
        self.snapshot
            .as_ref()
            .expect("open lease")
            .scan(start, end, reverse)
    }
}

impl WriteLease for LmdbLease {
    fn commit(mut self: Box<Self>, writes: Vec<Write>, _version: Version) -> Result<()> {
        // The read transaction ends first: a commit that must grow the map needs this
        // process to hold none.
        self.snapshot = None;
        self.inner.apply(&writes)
    }
}

impl Backend for LmdbBackend {
    fn snapshot(&self) -> Result<Snapshot<'_>> {
        Ok(Box::new(self.inner.read_txn()?))
    }

    fn begin_write(&self, wait: Option<Duration>) -> Result<Box<dyn WriteLease>> {
        let held = self.inner.lease.acquire(wait)?;
        let snapshot = self.inner.read_txn()?;
        Ok(Box::new(LmdbLease {
            snapshot: Some(snapshot),
            inner: self.inner.clone(),
            _held: held,
        }))
    }

    fn upgrade_layout(&self, wait: Option<Duration>) -> Result<()> {
        let waiting = |inner: &Arc<Inner>| -> Result<bool> {
            let snapshot = inner.read_txn()?;
            let waiting = inner.spaces.keys_in_unnamed(&snapshot.txn);
            waiting.map_err(|e| engine_error("reading", &inner.dir, e))
        };
        if self.inner.spaces.trees().is_none() || !waiting(&self.inner)? {
            return Ok(());
        }
        // Decided again under the lease: another process may be moving them right now.
        let held = self.inner.lease.acquire(wait)?;
        if waiting(&self.inner)? {
            // A commit moves them; an empty one moves them alone.
            self.inner.apply(&[])?;
        }
        drop(held);
        self.flush()
    }

    fn flush(&self) -> Result<()> {
        self.inner
            .env
            .force_sync()
            .map_err(|e| engine_error("syncing", &self.inner.dir, e))
    }

    fn size_on_disk(&self) -> Result<u64> {
        // The file's allocated blocks: the map is sparse.
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(self.inner.dir.join(DATA_FILE))?;
        Ok(meta.blocks() * 512)
    }

    fn is_empty(&self) -> Result<bool> {
        let snapshot = self.inner.read_txn()?;
        snapshot
            .view
            .is_empty(&snapshot.txn)
            .map_err(|e| engine_error("reading", &self.inner.dir, e))
    }

    fn engine(&self) -> &'static str {
        "lmdb"
    }

    fn commit_failure_poisons(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use heed::CommitOrAbort;

    /// A scan that lends LMDB's bytes sees what the copying scan sees, in the same
    /// order, long keys (stored by hash, in groups) included.
    #[test]
    fn lent_scans_see_what_copied_scans_see() {
        use super::long_keys::MAX_DIRECT;
        let dir = tempfile::tempdir().unwrap();
        let db = LmdbBackend::open(dir.path(), Durability::Immediate).unwrap();
        let mut keys = Vec::new();
        for p in [b'a', b'b'] {
            for len in [
                1,
                MAX_DIRECT - 1,
                MAX_DIRECT,
                MAX_DIRECT + 1,
                MAX_DIRECT + 40,
            ] {
                for tail in 0u8..4 {
                    let mut key = vec![p; len];
                    key.push(tail);
                    keys.push(key);
                }
            }
            // A key stored as it is, equal to the first bytes of a group of long keys.
            keys.push(vec![p; MAX_DIRECT]);
        }
        let writes = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), Some(vec![i as u8])))
            .collect();
        db.apply(writes).unwrap();
        let snapshot = db.snapshot().unwrap();
        let mut prefixes: Vec<Vec<u8>> = vec![vec![b'a'], vec![b'b'], vec![b'a'; MAX_DIRECT]];
        prefixes.push(vec![b'b'; MAX_DIRECT - 1]);
        prefixes.push(vec![b'a'; MAX_DIRECT + 1]);
        for prefix in prefixes {
            let copied: Vec<super::super::Entry> =
                snapshot.scan_prefix(&prefix).map(|e| e.unwrap()).collect();
            let mut lent = Vec::new();
            snapshot
                .scan_prefix_each(&prefix, &mut |k, v| {
                    lent.push((k.to_vec(), v.to_vec()));
                    Ok(())
                })
                .unwrap();
            assert!(!copied.is_empty());
            assert_eq!(lent, copied, "prefix of {} bytes", prefix.len());
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Commits of puts and deletes, in key order as transactions send them or in
        /// any order, leave what a map given the same writes holds: keys short and long,
        /// values overwritten with other sizes, small and on overflow pages, keys
        /// deleted that exist or not.
        #[test]
        fn commits_leave_what_a_map_holds(
            commits in proptest::collection::vec(
                (
                    proptest::collection::vec(
                        (
                            (0usize..8, 0usize..4),
                            proptest::option::of((0u8..255, 0usize..3)),
                        ),
                        1..60,
                    ),
                    proptest::bool::ANY,
                ),
                1..8,
            )
        ) {
            use std::collections::BTreeMap;
            use super::long_keys::MAX_DIRECT;
            let lengths = [1, 9, MAX_DIRECT, MAX_DIRECT + 30];
            // Spaces with a tree of their own, and first bytes that share `@rest`.
            let firsts = [0, b'@', b'A', b'B', b'E', b'd', b'e', u8::MAX];
            let sizes = [0, 40, 5000];
            let dir = tempfile::tempdir().unwrap();
            let db = LmdbBackend::open(dir.path(), Durability::Grouped { every_ms: 1000 })
                .unwrap();
            let mut model = BTreeMap::new();
            for (writes, sorted) in commits {
                let mut commit: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
                for ((key, length), value) in writes {
                    let key = vec![firsts[key]; lengths[length]];
                    let value = value.map(|(byte, size)| vec![byte; sizes[size]]);
                    commit.insert(key, value);
                }
                let mut writes: Vec<Write> = commit.into_iter().collect();
                if !sorted {
                    writes.reverse();
                }
                for (key, value) in &writes {
                    match value {
                        Some(v) => model.insert(key.clone(), v.clone()),
                        None => model.remove(key),
                    };
                }
                db.apply(writes).unwrap();
            }
            let stored: Vec<(Vec<u8>, Vec<u8>)> = db
                .snapshot()
                .unwrap()
                .scan(&[], None, false)
                .map(|e| e.unwrap())
                .collect();
            let expected: Vec<(Vec<u8>, Vec<u8>)> = model.into_iter().collect();
            proptest::prop_assert_eq!(&stored, &expected);
            let snapshot = db.snapshot().unwrap();
            let backwards: Vec<_> = snapshot.scan(&[], None, true).map(|e| e.unwrap()).collect();
            proptest::prop_assert!(backwards.iter().rev().eq(expected.iter()));
            // A scan between two first bytes sees the keys between them, from any tree.
            let inside: Vec<_> = snapshot.scan(b"B", Some(b"e"), false).map(|e| e.unwrap()).collect();
            let between = expected.iter().filter(|(k, _)| k.as_slice() >= &b"B"[..] && k.as_slice() < &b"e"[..]);
            proptest::prop_assert!(inside.iter().eq(between));
        }
    }

    /// Writes `keys` as a build of before the spaces' trees did: into the unnamed tree.
    fn write_older_layout(dir: &Path, keys: &[(Vec<u8>, Vec<u8>)]) {
        // SAFETY: the environment is closed before the backend opens it.
        let env = unsafe { EnvOpenOptions::new().open(dir).unwrap() };
        let wtxn = env.write_txn().unwrap();
        env.create_databases_and_commit(wtxn, |opener, wtxn| {
            let db = opener.create_database::<Bytes, Bytes>(wtxn, None)?;
            for (k, v) in keys {
                db.put(wtxn, k, v)?;
            }
            Ok::<_, heed::Error>(CommitOrAbort::<_, ()>::Commit(db))
        })
        .unwrap();
        env.prepare_for_closing().wait();
    }

    /// What the unnamed tree holds.
    fn unnamed_keys(db: &LmdbBackend) -> Vec<Vec<u8>> {
        let txn = db.inner.env.read_txn().unwrap();
        db.inner
            .spaces
            .unnamed()
            .iter(&txn)
            .unwrap()
            .map(|e| e.unwrap().0.to_vec())
            .collect()
    }

    /// Every entry a snapshot of `db` reads.
    fn all(db: &LmdbBackend) -> Vec<super::super::Entry> {
        db.snapshot()
            .unwrap()
            .scan(&[], None, false)
            .map(|e| e.unwrap())
            .collect()
    }

    /// Opening a store of the older layout moves its keys, before any commit of the
    /// model's (`upgrade_layout`, which `Clusto::open` calls), and leaves under the
    /// store's counters the guard an older build's process trips on; the guard is not a
    /// key of the store, and stays. A value that looks like the guard under another key
    /// is a key like any other.
    #[test]
    fn the_layout_upgrade_moves_the_keys_and_leaves_the_guard() {
        let dir = tempfile::tempdir().unwrap();
        let counters = crate::keys::counters();
        let mut keys = vec![
            (b"Ea".to_vec(), vec![0xFF]),
            (b"Kz".to_vec(), b"1".to_vec()),
            (counters.clone(), b"2".to_vec()),
        ];
        keys.sort();
        write_older_layout(dir.path(), &keys);
        let db = LmdbBackend::open(dir.path(), Durability::Immediate).unwrap();
        assert_eq!(all(&db), keys, "read in place");
        assert!(unnamed_keys(&db).contains(&b"Ea".to_vec()));
        db.upgrade_layout(None).unwrap();
        assert_eq!(all(&db), keys);
        let left = unnamed_keys(&db);
        assert_eq!(left.len(), TREES + 1, "{left:?}");
        {
            let txn = db.inner.env.read_txn().unwrap();
            let guard = db.inner.spaces.unnamed().get(&txn, &counters).unwrap();
            assert!(crate::codec::decode::<u64>(guard.unwrap(), &|| "it".into()).is_err());
        }
        // Nothing left to do: no commit.
        let before = db.inner.env.info().last_txn_id;
        db.upgrade_layout(None).unwrap();
        assert_eq!(db.inner.env.info().last_txn_id, before);
        // Commits leave the guard where it is.
        db.apply(vec![(counters.clone(), Some(b"3".to_vec()))])
            .unwrap();
        assert_eq!(unnamed_keys(&db).len(), TREES + 1);
        assert_eq!(
            db.snapshot().unwrap().get(&counters).unwrap(),
            Some(b"3".to_vec())
        );
    }

    /// A store written by an older build keeps every key in LMDB's unnamed tree: it is
    /// read as it is, the first commit moves the keys into their spaces' trees, and a key
    /// an older build writes into the unnamed tree later is moved by the next commit.
    #[test]
    fn keys_of_the_older_layout_are_read_then_moved_into_their_trees() {
        let dir = tempfile::tempdir().unwrap();
        let old_keys: Vec<(Vec<u8>, Vec<u8>)> = [
            (&[1u8, 2][..], &b"other"[..]),
            (b"Ea", b"1"),
            (b"Eb", b"2"),
            (b"Kx", b"3"),
            (b"zz", b"4"),
        ]
        .iter()
        .map(|(k, v)| (k.to_vec(), v.to_vec()))
        .collect();
        write_older_layout(dir.path(), &old_keys);
        let db = LmdbBackend::open(dir.path(), Durability::Immediate).unwrap();
        assert_eq!(all(&db), old_keys, "read in place before any commit");
        assert_eq!(
            db.snapshot().unwrap().get(b"Eb").unwrap(),
            Some(b"2".to_vec())
        );
        assert!(!db.is_empty().unwrap());

        db.apply(vec![(b"Ec".to_vec(), Some(b"5".to_vec()))])
            .unwrap();
        let mut expected = old_keys.clone();
        expected.insert(3, (b"Ec".to_vec(), b"5".to_vec()));
        assert_eq!(all(&db), expected);
        let names = unnamed_keys(&db);
        assert_eq!(names.len(), TREES + 1, "the names and the guard: {names:?}");

        // An older build's process writes into the unnamed tree.
        {
            let mut wtxn = db.inner.env.write_txn().unwrap();
            db.inner
                .spaces
                .unnamed()
                .put(&mut wtxn, b"Ed", b"6")
                .unwrap();
            wtxn.commit().unwrap();
        }
        db.apply(vec![(b"Ee".to_vec(), Some(b"7".to_vec()))])
            .unwrap();
        expected.insert(4, (b"Ed".to_vec(), b"6".to_vec()));
        expected.insert(5, (b"Ee".to_vec(), b"7".to_vec()));
        assert_eq!(all(&db), expected);
        assert_eq!(unnamed_keys(&db).len(), TREES + 1);
    }

    /// A salvage of a store of the older layout reads it as it is and writes nothing,
    /// not even the trees; a salvage of a moved store reads the trees.
    #[test]
    fn a_salvage_reads_either_layout_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let keys = vec![
            (b"Ea".to_vec(), b"1".to_vec()),
            (b"Kx".to_vec(), b"2".to_vec()),
        ];
        write_older_layout(dir.path(), &keys);
        let salvage = LmdbBackend::open_for_salvage(dir.path()).unwrap();
        assert_eq!(all(&salvage), keys);
        assert_eq!(unnamed_keys(&salvage), vec![b"Ea".to_vec(), b"Kx".to_vec()]);
        let refused = salvage.apply(vec![(b"Eb".to_vec(), Some(vec![]))]);
        assert!(
            matches!(refused, Err(Error::InvalidValue(_))),
            "{refused:?}"
        );
        salvage.upgrade_layout(None).unwrap();
        assert_eq!(
            unnamed_keys(&salvage).len(),
            2,
            "no tree made, nothing moved"
        );
        drop(salvage);

        let db = LmdbBackend::open(dir.path(), Durability::Immediate).unwrap();
        db.upgrade_layout(None).unwrap();
        drop(db);
        let salvage = LmdbBackend::open_for_salvage(dir.path()).unwrap();
        assert_eq!(all(&salvage), keys);
    }

    /// A commit that does not fit the map doubles it, as often as needed; one that must
    /// grow it while another thread of the process holds a snapshot waits for that
    /// snapshot to end (LMDB remaps only with no transaction open), and the snapshot
    /// read its old state meanwhile. Everything reads back.
    #[test]
    fn the_map_grows_without_user_action() {
        let dir = tempfile::tempdir().unwrap();
        let small = 256 * 4096;
        let db = std::sync::Arc::new(
            LmdbBackend::open_mapped(dir.path(), Durability::Immediate, small, true).unwrap(),
        );
        db.apply(vec![(b"first".to_vec(), Some(vec![1]))]).unwrap();
        let (held, holding) = std::sync::mpsc::channel();
        let reader = {
            let db = db.clone();
            std::thread::spawn(move || {
                let old = db.snapshot().unwrap();
                held.send(()).unwrap();
                std::thread::sleep(std::time::Duration::from_millis(300));
                let before = old.get(b"first").unwrap() == Some(vec![1])
                    && old.get(&7001u32.to_be_bytes()).unwrap().is_none();
                drop(old);
                before
            })
        };
        holding.recv().unwrap();
        let value = vec![7u8; 4000];
        for batch in 0..8u32 {
            let writes = (0..500u32)
                .map(|i| {
                    (
                        (batch * 1000 + i).to_be_bytes().to_vec(),
                        Some(value.clone()),
                    )
                })
                .collect();
            db.apply(writes).unwrap();
        }
        assert!(
            reader.join().unwrap(),
            "the old snapshot read the old state"
        );
        assert!(db.inner.env.info().map_size > small * 8, "the map grew");
        let now = db.snapshot().unwrap();
        assert_eq!(now.get(&7001u32.to_be_bytes()).unwrap(), Some(value));
        assert_eq!(now.scan(&[], None, false).count(), 4001);
    }
}
