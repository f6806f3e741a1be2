//! The indexes of versions by user and by commit time (`U`, `Z`), written a block of
//! versions at a time.
//!
//! A commit that wrote its own two entries put each on a page at the end of its key
//! range: two more pages for every commit, ~15% of a Python `set_attr`'s time. So the
//! versions of a block of [`BLOCK`] get their entries together, from the first commit
//! of a later block. The store's counters say up to which version the indexes are
//! complete (`indexed_versions`); a query reads the records of the versions after it (the
//! open block: at most [`BLOCK`]) besides the indexes.

use std::ops::RangeInclusive;

use crate::keys::{Key, space};
use crate::records::{Version, VersionInfo};
use crate::view::StoreCounters;

/// Versions per block.
pub(crate) const BLOCK: u64 = 64;

/// The index keys of `info`'s version: by user, and by time when it has one.
pub(crate) fn keys_of(info: &VersionInfo) -> Vec<Vec<u8>> {
    let by_user = Key::new(space::BY_USER)
        .opt_str(info.user.as_deref())
        .version(info.version)
        .into_bytes();
    let by_time = info.timestamp.map(|t| {
        Key::new(space::BY_TIME)
            .i64(t.0)
            .version(info.version)
            .into_bytes()
    });
    std::iter::once(by_user).chain(by_time).collect()
}

/// The newest version to index once `latest` is committed: the last before its block.
pub(crate) fn indexed_through(latest: Version) -> Version {
    (latest - latest % BLOCK).saturating_sub(1)
}

/// The versions a commit of `version` indexes, the store's indexes being complete up to
/// `indexed`: every version before `version`'s block not indexed yet.
pub(crate) fn to_index(indexed: Version, version: Version) -> Option<RangeInclusive<Version>> {
    let through = indexed_through(version);
    (through > indexed).then(|| indexed + 1..=through)
}

/// The versions of a store with `counters` that its indexes do not hold.
pub(crate) fn unindexed(counters: &StoreCounters) -> RangeInclusive<Version> {
    counters.indexed_versions + 1..=counters.latest_version
}

/// Whether `counters` can be a store's: the indexes end at most a block before the
/// newest version (every commit and import leaves them so).
pub(crate) fn is_consistent(counters: &StoreCounters) -> bool {
    counters.indexed_versions <= counters.latest_version
        && counters.latest_version - counters.indexed_versions <= BLOCK
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Clusto, Durability};
    use crate::storage::{Backend, KvRead, MemoryBackend};
    use crate::txn::TxMeta;
    use crate::view::VersionQuery;

    const USERS: [&str; 3] = ["ann", "bob", "cid"];

    fn open(store: &MemoryBackend) -> Clusto {
        Clusto::with_backend(Box::new(store.clone()), Durability::Immediate, None).unwrap()
    }

    /// Commits version `n`, by one of [`USERS`].
    fn commit(db: &Clusto, n: usize) {
        db.write(TxMeta::new(USERS[n % 3], "step"), |tx| {
            tx.create_entity(&format!("e{n}"), "t", "d").map(drop)
        })
        .unwrap();
    }

    /// A store holding versions 1 to `n`, and a handle on it.
    fn with_versions(n: usize) -> (MemoryBackend, Clusto) {
        let store = MemoryBackend::new();
        let db = open(&store);
        for n in 1..=n {
            commit(&db, n);
        }
        (store, db)
    }

    /// How many versions the index by user and the one by time hold.
    fn entries(store: &MemoryBackend) -> (usize, usize) {
        let snapshot = store.snapshot().unwrap();
        let count = |space: u8| snapshot.scan_prefix(&[space]).count();
        (count(space::BY_USER), count(space::BY_TIME))
    }

    /// Queries by user and by time find every version, whether its block is complete (in
    /// the indexes) or open (read from its record); the indexes hold the complete blocks'
    /// versions only.
    #[test]
    fn versions_by_user_and_by_time_cover_complete_and_open_blocks() {
        let store = MemoryBackend::new();
        let db = open(&store);
        for n in 1..=150 {
            commit(&db, n);
            let latest = db.latest_version().unwrap();
            let indexed = indexed_through(latest) as usize;
            assert_eq!(entries(&store), (indexed, indexed), "version {latest}");
            if n % 10 == 0 || n >= 140 {
                queries_match_a_full_scan(&db);
            }
        }
    }

    /// `check` reports an index entry missing below the counters' mark, and one above it
    /// or naming another user.
    #[test]
    fn check_finds_index_entries_missing_or_astray() {
        let (store, db) = with_versions(70);
        assert!(db.check().unwrap().is_clean());
        let info = |v| db.read(|view| view.version_info(v)).unwrap();
        let mut stray = info(66);
        let of_66 = keys_of(&stray);
        stray.version = 5;
        stray.user = Some("nobody".into());
        let astray = keys_of(&stray);
        let missing = keys_of(&info(10));
        store
            .apply(vec![
                (of_66[0].clone(), Some(Vec::new())),
                (astray[0].clone(), Some(Vec::new())),
                (missing[1].clone(), None),
            ])
            .unwrap();
        let problems = db.check().unwrap().problems;
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems
                .iter()
                .any(|p| p.contains("version 10 is missing from the index Z"))
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("version 66") && p.contains("end at version 63"))
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("index U holds an entry for version 5"))
        );
    }

    /// An import indexes every version it brings (one without a time only by user); the
    /// first commit of a later block indexes the ones made since; both check clean.
    #[test]
    fn an_import_indexes_every_version_and_commits_go_on_from_it() {
        use crate::dump::DumpRecord;
        let (_, source) = with_versions(150);
        let store = MemoryBackend::new();
        let target = open(&store);
        let mut importer = target.importer().unwrap();
        source
            .read(|v| {
                v.dump(|r| match r {
                    DumpRecord::Version(mut info) if info.version % 7 == 0 => {
                        info.timestamp = None;
                        importer.record(DumpRecord::Version(info))
                    }
                    r => importer.record(r),
                })
            })
            .unwrap();
        importer.finish().unwrap();
        assert_eq!(entries(&store), (150, 150 - 21));
        queries_match_a_full_scan(&target);
        assert!(target.check().unwrap().is_clean());
        for n in 151..=200 {
            commit(&target, n);
            let indexed = if n < 192 { 150 } else { 191 };
            assert_eq!(entries(&store), (indexed, indexed - 21), "version {n}");
            queries_match_a_full_scan(&target);
        }
        assert!(target.check().unwrap().is_clean());
    }

    /// Counters whose end of the indexes does not fit the newest version are refused by
    /// the queries and reported by `check`, whatever the number.
    #[test]
    fn counters_that_do_not_hold_together_are_corrupt() {
        let (store, db) = with_versions(70);
        for indexed in [71, 2, u64::MAX] {
            let counters = StoreCounters {
                latest_version: 70,
                last_entity: 70,
                last_attr: 0,
                indexed_versions: indexed,
                format: crate::db::FORMAT_VERSION,
            };
            let record = crate::codec::encode(&counters);
            store
                .apply(vec![(crate::keys::counters(), Some(record))])
                .unwrap();
            let query = VersionQuery {
                user: Some("ann".into()),
                ..Default::default()
            };
            let err = db.read(|v| v.versions(&query)).unwrap_err();
            assert!(matches!(&err, crate::Error::Corrupt(m) if m.contains("indexes of versions")));
            let report = db.check().unwrap();
            assert!(
                report
                    .problems
                    .iter()
                    .any(|p| p.contains("indexes of versions")),
                "{indexed}: {:?}",
                report.problems
            );
        }
    }

    /// The versions by each user and in a time range, against a scan of every version.
    fn queries_match_a_full_scan(db: &Clusto) {
        let all = db.read(|v| v.versions(&VersionQuery::default())).unwrap();
        let latest = db.latest_version().unwrap();
        assert_eq!(all.len() as u64, latest);
        for user in USERS {
            let query = VersionQuery {
                user: Some(user.into()),
                ..Default::default()
            };
            let found = db.read(|v| v.versions(&query)).unwrap();
            let expected: Vec<_> = all
                .iter()
                .filter(|i| i.user.as_deref() == Some(user))
                .cloned()
                .collect();
            assert_eq!(found, expected, "{user} at version {latest}");
        }
        // From inside the complete blocks to the open one.
        let query = VersionQuery {
            since: all[all.len() / 4].timestamp,
            until: all[all.len() - 2].timestamp,
            ..Default::default()
        };
        let found = db.read(|v| v.versions(&query)).unwrap();
        let expected: Vec<_> = all
            .iter()
            .filter(|i| i.timestamp.is_some())
            .filter(|i| i.timestamp >= query.since && i.timestamp <= query.until)
            .cloned()
            .collect();
        assert_eq!(found, expected, "by time at version {latest}");
    }

    /// Each version is indexed once, by the first commit of a later block, whatever the
    /// store had indexed before (an import or an upgrade indexes up to another version).
    #[test]
    fn each_version_is_indexed_once_by_the_first_commit_of_a_later_block() {
        for start in [0, 1, 63, 64, 65, 200] {
            let mut indexed = start;
            let mut seen: Vec<Version> = (1..=start).collect();
            for version in start + 1..=400 {
                if let Some(range) = to_index(indexed, version) {
                    assert_eq!(*range.start(), indexed + 1);
                    indexed = *range.end();
                    seen.extend(range);
                }
                assert_eq!(indexed, indexed_through(version).max(start));
                assert!(version - indexed <= BLOCK, "at most a block unindexed");
            }
            assert_eq!(seen, (1..=indexed).collect::<Vec<_>>(), "from {start}");
        }
    }
}
