//! The indexes of versions by user and by commit time (`U`, `Z`), written a block of
//! versions at a time.
//!
//! A commit that wrote its own two entries put each on a page at the end of its key
//! range: two more pages for every commit, ~15% of a Python `set_attr`'s time. So the
//! versions of a block of [`BLOCK`] get their entries together, from the commit that
//! starts the next block; a query reads the records of the newest, open block's versions
//! (at most [`BLOCK`]) besides the indexes.

use std::ops::RangeInclusive;

use crate::keys::{Key, space};
use crate::records::{Version, VersionInfo};

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

/// The versions whose entries a commit of `version` writes: the block before it, when
/// `version` starts a block.
pub(crate) fn completed_by(version: Version) -> Option<RangeInclusive<Version>> {
    (version >= BLOCK && version.is_multiple_of(BLOCK)).then(|| version - BLOCK..=version - 1)
}

/// The versions of a store whose newest is `latest` that have no entries: the open block.
pub(crate) fn open_block(latest: Version) -> RangeInclusive<Version> {
    latest - latest % BLOCK..=latest
}

/// Whether version `v` of a store whose newest is `latest` has its entries.
pub(crate) fn is_indexed(v: Version, latest: Version) -> bool {
    v < *open_block(latest).start()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Clusto, Durability};
    use crate::storage::{Backend, KvRead, MemoryBackend};
    use crate::txn::TxMeta;
    use crate::view::VersionQuery;

    /// Queries by user and by time find every version, whether its block is complete (in
    /// the indexes) or open (read from its record); the indexes hold the complete blocks'
    /// versions only.
    #[test]
    fn versions_by_user_and_by_time_cover_complete_and_open_blocks() {
        let store = MemoryBackend::new();
        let db =
            Clusto::with_backend(Box::new(store.clone()), Durability::Immediate, None).unwrap();
        let users = ["ann", "bob", "cid"];
        let entries = |space: u8| store.snapshot().unwrap().scan_prefix(&[space]).count();
        for n in 1..=150 {
            db.write(TxMeta::new(users[n % 3], "step"), |tx| {
                tx.create_entity(&format!("e{n}"), "t", "d").map(drop)
            })
            .unwrap();
            let latest = db.latest_version().unwrap();
            let indexed = (1..=latest).filter(|&v| is_indexed(v, latest)).count();
            assert_eq!(entries(space::BY_USER), indexed, "version {latest}");
            assert_eq!(entries(space::BY_TIME), indexed, "version {latest}");
            if n % 10 != 0 && n < 140 {
                continue;
            }
            let all = db.read(|v| v.versions(&VersionQuery::default())).unwrap();
            assert_eq!(all.len() as u64, latest);
            for user in users {
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
                .filter(|i| i.timestamp >= query.since && i.timestamp <= query.until)
                .cloned()
                .collect();
            assert_eq!(found, expected, "by time at version {latest}");
        }
    }

    /// Every version below the open block was indexed by exactly one commit.
    #[test]
    fn each_version_is_indexed_once_by_the_commit_that_starts_the_next_block() {
        for latest in 0..300 {
            let mut indexed: Vec<Version> =
                (1..=latest).filter_map(completed_by).flatten().collect();
            indexed.retain(|&v| v > 0);
            let expected: Vec<Version> = (1..=latest).filter(|&v| is_indexed(v, latest)).collect();
            assert_eq!(indexed, expected, "latest {latest}");
            assert!(open_block(latest).contains(&latest));
            assert!(open_block(latest).count() <= BLOCK as usize);
        }
    }
}
