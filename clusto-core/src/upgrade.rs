//! Upgrades of the stored format. A database of an older format is upgraded when it is
//! opened with write access, in one write under the lease: a crash leaves it whole in
//! one format or the other, and a process of another build that opens it meanwhile
//! waits for the lease, then finds the new format.
//!
//! Format 1 → 2: a version's change list moves from a key space of its own to the keys
//! right after the version's record, and the newest version and the last entity and
//! attribute ids move from three metadata entries to one record at the end of the version
//! space. A commit then writes its version, its changes and the counters side by side,
//! on one page of the store instead of three.
//!
//! Format 2 → 3: a live name's entry holds its entity's record, not only its id: a
//! lookup by name reads one entry of the store instead of two.
//!
//! Format 3 → 4: a reference index entry holds its attribute's record, not nothing: the
//! references to an entity (its parents) are read without a lookup per attribute. An
//! entry left empty (by a process of the older build still writing, or a salvage) is
//! still read, through the attribute's own record.
//!
//! Format 4 → 5: the indexes of versions by user and by time hold the versions of
//! complete blocks only (see `version_index`), and the counters record says up to which
//! version; the upgrade writes the counters so and removes the entries of the newest,
//! open block's versions, which queries now read from their records.
//!
//! Format 5 → 6: the touched index holds only the versions of an entity's history that
//! are on none of its rows (see `touched`), and the counters record names the format.
//! The upgrade removes the other entries and writes the counters so; a process of a
//! format-5 build fails to decode them at its next write, or its next query of versions
//! by user or time. Until it is restarted, the histories it reads of single entities
//! lack the versions whose entries went.

use crate::codec::encode;
use crate::error::{Error, Result};
use crate::keys::{self, space};
use crate::records::{AttrId, EntityId};
use crate::storage::{KvRead, Write};
use crate::txn::{LATEST_VERSION_V1, NEXT_ATTR_ID_V1, NEXT_ENTITY_ID_V1};
use crate::version_index;
use crate::view::{CountersOfFormat4, RECORDS_PER_CALL, StoreCounters, meta_value};

/// What the upgrade leaves under format 1's counters: a record in an envelope no build
/// knows.
const FORMAT_1_TOMBSTONE: &[u8] = &[0xFF];

/// The counters of a format-1 store, from its three metadata entries (all zero in a
/// new store): how a salvage, which may not upgrade, reads a format-1 database.
pub(crate) fn counters_of_format_1(kv: &dyn KvRead) -> Result<StoreCounters> {
    let meta =
        |name: &str| -> Result<u64> { meta_value(name, kv.get(&keys::meta(name))?.as_deref()) };
    // Format 1, like formats 2 to 4, indexed every version.
    Ok(CountersOfFormat4 {
        latest_version: meta(LATEST_VERSION_V1)?,
        last_entity: meta(NEXT_ENTITY_ID_V1)?,
        last_attr: meta(NEXT_ATTR_ID_V1)?,
    }
    .into())
}

/// The key prefix of version `v`'s change list in a format-1 store.
pub(crate) fn changes_of_format_1(v: crate::records::Version) -> Vec<u8> {
    keys::Key::new(space::CHANGES_V1).version(v).into_bytes()
}

/// The writes that turn a store of format `found`, read through `kv`, into the current
/// format, the format number with them, in key order.
pub(crate) fn to_current(kv: &dyn KvRead, found: u32, format_key: &[u8]) -> Result<Vec<Write>> {
    let mut writes = Vec::new();
    if found == 1 {
        writes.extend(from_format_1(kv)?);
    }
    // Format 1 → 2 leaves the names as they were, and neither touches the references.
    if found <= 2 {
        writes.extend(from_format_2(kv)?);
    }
    if found <= 3 {
        writes.extend(from_format_3(kv)?);
    }
    writes.extend(from_format_4_or_5(kv, found)?);
    writes.push((
        format_key.to_vec(),
        Some(encode(&crate::db::FORMAT_VERSION)),
    ));
    writes.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(writes)
}

/// The writes that turn a format-1 store, read through `kv`, into format 2, but for the
/// format number.
fn from_format_1(kv: &dyn KvRead) -> Result<Vec<Write>> {
    let mut writes: Vec<Write> = Vec::new();
    for entry in kv.scan_prefix(&[space::CHANGES_V1]) {
        let (key, value) = entry?;
        let (Ok(version), Ok(chunk)) = (
            <[u8; 8]>::try_from(key.get(1..9).unwrap_or_default()),
            <[u8; 4]>::try_from(key.get(9..).unwrap_or_default()),
        ) else {
            return Err(Error::Corrupt(format!(
                "change list key {key:?} is malformed: the database cannot be upgraded"
            )));
        };
        let moved = keys::version_changes(u64::from_be_bytes(version), u32::from_be_bytes(chunk));
        writes.push((key, None));
        writes.push((moved, Some(value)));
    }
    // The counters record is written by the last step (`from_format_4_or_5`). A
    // process of the old build that had the database open before the upgrade reads
    // these at every write: they become records no build decodes, so that its writes
    // fail (`Corrupt`) instead of taking versions and ids from zero again.
    for name in [LATEST_VERSION_V1, NEXT_ENTITY_ID_V1, NEXT_ATTR_ID_V1] {
        writes.push((keys::meta(name), Some(FORMAT_1_TOMBSTONE.to_vec())));
    }
    Ok(writes)
}

/// The writes that turn a format-2 store, read through `kv`, into format 3, but for the
/// format number: each live name's entry gets its entity's record.
fn from_format_2(kv: &dyn KvRead) -> Result<Vec<Write>> {
    let mut names = Vec::new();
    for entry in kv.scan_prefix(&[space::LIVE_NAME]) {
        let (key, value) = entry?;
        let Some(id) = keys::old_live_name_id(&value) else {
            return Err(Error::Corrupt(format!(
                "live name entry {key:?} holds no entity id: the database cannot be upgraded"
            )));
        };
        names.push((key, keys::entity(id), id));
    }
    copy_records(kv, names, |key, _, id| {
        format!("live name entry {key:?} points at missing entity {id}")
    })
}

/// The writes that turn a store of format 1 to 5 (`found`), read through `kv`, into
/// format 6, but for the format number: the counters record in its current form, and
/// the touched index without the entries the rows make redundant. From formats 1 to 4,
/// the counters also say the indexes by user and by time are complete up to the open
/// block, whose versions leave them. A process of an older build then fails to decode
/// the counters (`Corrupt`) at its next read or write of them instead of writing by its
/// own rules.
fn from_format_4_or_5(kv: &dyn KvRead, found: u32) -> Result<Vec<Write>> {
    let view = crate::view::View::new(kv, None);
    let mut counters = view.store_counters()?;
    let mut writes = Vec::new();
    if found <= 4 {
        counters.indexed_versions = version_index::indexed_through(counters.latest_version);
        for info in view.version_infos(version_index::unindexed(&counters))? {
            writes.extend(version_index::keys_of(&info).into_iter().map(|k| (k, None)));
        }
    }
    counters.format = crate::db::FORMAT_VERSION;
    writes.push((keys::counters(), Some(encode(&counters))));
    writes.extend(crate::touched::redundant_entries(kv)?);
    Ok(writes)
}

/// The writes that turn a format-3 store, read through `kv`, into format 4, but for the
/// format number: each reference index entry gets its attribute's record.
fn from_format_3(kv: &dyn KvRead) -> Result<Vec<Write>> {
    let mut references = Vec::new();
    for (s, live) in [(space::REFERENCE, true), (space::REFERENCE_OLD, false)] {
        // Every entry, whatever it holds: a format-3 store holds nothing there, and a
        // value that is not the record must not be carried into a format that reads it.
        for entry in kv.scan_prefix(&[s]) {
            let (key, _) = entry?;
            let ids =
                keys::u64_from_tail(&key, 8).and_then(|o| Ok((o, keys::u64_from_tail(&key, 0)?)));
            let Ok((owner, id)) = ids else {
                return Err(Error::Corrupt(format!(
                    "reference entry {key:?} is malformed: the database cannot be upgraded"
                )));
            };
            let record = keys::attr(EntityId(owner), AttrId(id), live);
            references.push((key, record, ()));
        }
    }
    copy_records(kv, references, |key, record, ()| {
        format!("reference entry {key:?} names missing attribute record {record:?}")
    })
}

/// The writes that give each entry of `copies` (entry key, record key, what the error
/// names) the record, read through `kv` in batches (one round trip each on a server,
/// under the lease). A missing record stops the upgrade: `missing` says which.
fn copy_records<T>(
    kv: &dyn KvRead,
    copies: Vec<(Vec<u8>, Vec<u8>, T)>,
    missing: impl Fn(&[u8], &[u8], &T) -> String,
) -> Result<Vec<Write>> {
    let mut writes: Vec<Write> = Vec::with_capacity(copies.len());
    for batch in copies.chunks(RECORDS_PER_CALL) {
        let records: Vec<Vec<u8>> = batch.iter().map(|(_, record, _)| record.clone()).collect();
        for ((key, record_key, named), record) in batch.iter().zip(kv.get_many(&records)?) {
            let Some(record) = record else {
                return Err(Error::Corrupt(format!(
                    "{}: the database cannot be upgraded",
                    missing(key, record_key, named)
                )));
            };
            writes.push((key.clone(), Some(record)));
        }
    }
    Ok(writes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Clusto, Durability};
    use crate::records::Change;
    use crate::storage::{Backend, MemoryBackend};
    use crate::txn::{NewAttr, TxMeta};

    fn open(store: &MemoryBackend) -> Clusto {
        Clusto::with_backend(Box::new(store.clone()), Durability::Immediate, None).unwrap()
    }

    /// A store of the current format holding one server, `s1`.
    fn store_with_s1() -> MemoryBackend {
        let store = MemoryBackend::new();
        open(&store)
            .write(TxMeta::new("ops", "build"), |tx| {
                tx.create_entity("s1", "server", "basicserver").map(drop)
            })
            .unwrap();
        store
    }

    /// Opening `store` refuses to upgrade it (`Corrupt`, naming `says`) and changes
    /// nothing.
    fn upgrade_is_refused(store: &MemoryBackend, says: &str) {
        let before = entries(store);
        let err = Clusto::with_backend(Box::new(store.clone()), Durability::Immediate, None)
            .err()
            .expect("the upgrade is refused");
        assert!(
            matches!(&err, Error::Corrupt(m) if m.contains(says)),
            "{err}"
        );
        assert_eq!(entries(store), before);
    }

    /// Opens `store`, left in an older format: first as a salvage, which reads `before`
    /// through `read`, checks clean and writes nothing; then read-write, which upgrades it
    /// back to `current` byte for byte and reads the same.
    fn salvage_then_upgrade<T: PartialEq + std::fmt::Debug>(
        store: &MemoryBackend,
        current: &[(Vec<u8>, Vec<u8>)],
        before: &T,
        read: impl Fn(&Clusto) -> T,
    ) {
        let options = crate::db::OpenOptions {
            salvage: true,
            ..Default::default()
        };
        let old_format = entries(store);
        let salvage = Clusto::build(Box::new(store.clone()), &options, None, None).unwrap();
        assert_eq!(&read(&salvage), before);
        assert!(salvage.check().unwrap().is_clean());
        drop(salvage);
        assert_eq!(entries(store), old_format, "a salvage writes nothing");

        let db = open(store);
        assert_eq!(
            entries(store),
            current,
            "the upgrade restores the current format"
        );
        assert_eq!(&read(&db), before);
        assert!(db.check().unwrap().is_clean());
    }

    fn entries(store: &MemoryBackend) -> Vec<(Vec<u8>, Vec<u8>)> {
        let snapshot = store.snapshot().unwrap();
        snapshot
            .scan(&[], None, false)
            .map(Result::unwrap)
            .collect()
    }

    /// Rewrites a store of the current format as format 5 wrote it: the touched index has
    /// an entry for each entity a version's changes name, but in the versions that
    /// created or deleted its row, and the counters record names no format.
    fn downgrade_to_5(store: &MemoryBackend) {
        let snapshot = store.snapshot().unwrap();
        let view = crate::view::View::new(&*snapshot, None);
        let counters = view.store_counters().unwrap();
        let mut writes: Vec<Write> = Vec::new();
        for v in 1..=counters.latest_version {
            for change in view.changes(v).unwrap() {
                let row = view.entity_by_id(change.entity()).unwrap();
                if row.version != v && row.deleted_at != Some(v) {
                    let key = keys::Key::new(space::TOUCHED).entity(row.id).version(v);
                    writes.push((key.into_bytes(), Some(Vec::new())));
                }
            }
        }
        let old = crate::view::CountersOfFormat5 {
            latest_version: counters.latest_version,
            last_entity: counters.last_entity,
            last_attr: counters.last_attr,
            indexed_versions: counters.indexed_versions,
        };
        writes.push((keys::counters(), Some(encode(&old))));
        writes.push((keys::meta("format"), Some(encode(&5u32))));
        store.apply(writes).unwrap();
    }

    /// Rewrites a store of the current format as format 4 wrote it: the touched index as
    /// format 5 wrote it, every version has its entries in the indexes by user and by
    /// time, and the counters record says nothing of them.
    fn downgrade_to_4(store: &MemoryBackend) {
        downgrade_to_5(store);
        let snapshot = store.snapshot().unwrap();
        let view = crate::view::View::new(&*snapshot, None);
        let counters = view.store_counters().unwrap();
        let mut writes: Vec<Write> = Vec::new();
        for info in view.version_infos(0..=counters.latest_version).unwrap() {
            let keys = version_index::keys_of(&info).into_iter();
            writes.extend(keys.map(|k| (k, Some(Vec::new()))));
        }
        let old = CountersOfFormat4 {
            latest_version: counters.latest_version,
            last_entity: counters.last_entity,
            last_attr: counters.last_attr,
        };
        writes.push((keys::counters(), Some(encode(&old))));
        writes.push((keys::meta("format"), Some(encode(&4u32))));
        store.apply(writes).unwrap();
    }

    /// Rewrites a store of the current format as format 3 wrote it: a reference entry
    /// holds nothing.
    fn downgrade_to_3(store: &MemoryBackend) {
        downgrade_to_4(store);
        let mut writes: Vec<Write> = Vec::new();
        for (key, _) in entries(store) {
            if crate::index::holds_record(key[0]) {
                writes.push((key, Some(Vec::new())));
            }
        }
        writes.push((keys::meta("format"), Some(encode(&3u32))));
        store.apply(writes).unwrap();
    }

    /// Rewrites a store of the current format as format 2 wrote it: a live name holds
    /// its entity's id.
    fn downgrade_to_2(store: &MemoryBackend) {
        downgrade_to_3(store);
        let mut writes: Vec<Write> = Vec::new();
        for (key, value) in entries(store) {
            if key[0] == space::LIVE_NAME {
                let e: crate::records::Entity = crate::codec::decode(&value, &String::new).unwrap();
                writes.push((key, Some(e.id.0.to_be_bytes().to_vec())));
            }
        }
        writes.push((keys::meta("format"), Some(encode(&2u32))));
        store.apply(writes).unwrap();
    }

    /// Rewrites a store of the current format as format 1 wrote it.
    fn downgrade(store: &MemoryBackend) {
        downgrade_to_2(store);
        let mut writes: Vec<Write> = Vec::new();
        for (key, value) in entries(store) {
            if key[0] == space::VERSION && key.len() == 13 {
                let mut old = vec![space::CHANGES_V1];
                old.extend_from_slice(&key[1..]);
                writes.push((key, None));
                writes.push((old, Some(value)));
            } else if key == keys::counters() {
                // As format 2 to 4 wrote it (see `downgrade_to_4`).
                let snapshot = store.snapshot().unwrap();
                let c = crate::view::View::new(&*snapshot, None)
                    .store_counters()
                    .unwrap();
                writes.push((key, None));
                for (name, n) in [
                    (LATEST_VERSION_V1, c.latest_version),
                    (NEXT_ENTITY_ID_V1, c.last_entity),
                    (NEXT_ATTR_ID_V1, c.last_attr),
                ] {
                    writes.push((keys::meta(name), Some(encode(&n))));
                }
            }
        }
        writes.push((keys::meta("format"), Some(encode(&1u32))));
        store.apply(writes).unwrap();
    }

    #[test]
    fn a_format_1_store_is_upgraded_on_open_and_reads_the_same() {
        let store = MemoryBackend::new();
        let db = open(&store);
        for i in 0..3 {
            db.write(TxMeta::new("ops", "build"), |tx| {
                let s = tx.create_entity(&format!("s{i}"), "server", "basicserver")?;
                tx.add_attr(s.id, NewAttr::new("owner", "team"))?;
                tx.set_attr(s.id, NewAttr::new("owner", format!("team{i}")))
            })
            .unwrap();
        }
        let history = |db: &Clusto| -> Vec<(crate::records::VersionInfo, Vec<Change>)> {
            db.read(|v| {
                (1..=v.latest_version()?)
                    .map(|n| Ok((v.version_info(n)?, v.changes(n)?)))
                    .collect()
            })
            .unwrap()
        };
        let before = history(&db);
        drop(db);
        let current = entries(&store);
        downgrade(&store);
        assert!(
            entries(&store)
                .iter()
                .any(|(k, _)| k[0] == space::CHANGES_V1)
        );

        let db = open(&store);
        let (tombstones, upgraded): (Vec<_>, Vec<_>) = entries(&store)
            .into_iter()
            .partition(|(_, v)| v.as_slice() == FORMAT_1_TOMBSTONE);
        assert_eq!(
            upgraded, current,
            "the upgrade restores the current format exactly"
        );
        // What an old build reads at every write now fails to decode.
        assert_eq!(tombstones.len(), 3);
        for (key, value) in &tombstones {
            let old_read = meta_value("old", Some(value));
            assert!(matches!(old_read, Err(Error::Corrupt(_))), "{key:?}");
        }
        assert_eq!(history(&db), before);
        assert!(db.check().unwrap().is_clean());
        // Versions and ids go on from where they were.
        let made = db
            .write(TxMeta::new("ops", "after"), |tx| {
                let e = tx.create_entity("s9", "server", "basicserver")?;
                Ok((tx.version()?, e.id.0))
            })
            .unwrap();
        assert_eq!(made, (4, 4));
        assert!(db.check().unwrap().is_clean());
    }

    #[test]
    fn a_format_2_store_is_upgraded_on_open_and_reads_the_same() {
        let store = MemoryBackend::new();
        let db = open(&store);
        db.write(TxMeta::new("ops", "build"), |tx| {
            for i in 0..3 {
                tx.create_entity(&format!("s{i}"), "server", "basicserver")?;
            }
            tx.delete_entity("s1")?;
            tx.create_entity("s1", "server", "basicserver").map(drop)
        })
        .unwrap();
        // Every entity, and the one `s1` names (the third: the first `s1` was deleted).
        let names = |db: &Clusto| {
            let all = db.read(|v| v.all_entities()).unwrap();
            let s1 = db.read(|v| v.entity("s1")).unwrap();
            (all, s1)
        };
        let before = names(&db);
        assert_eq!(before.1, before.0[2]);
        drop(db);
        let current = entries(&store);
        downgrade_to_2(&store);
        assert_ne!(entries(&store), current);
        // A salvage reads the names as format 2 holds them.
        salvage_then_upgrade(&store, &current, &before, names);
    }

    #[test]
    fn a_format_3_store_is_upgraded_on_open_and_reads_the_same() {
        use crate::filter::AttrFilter;
        let store = MemoryBackend::new();
        let db = open(&store);
        let (hub, spokes) = db
            .write(TxMeta::new("ops", "build"), |tx| {
                let hub = tx.create_entity("hub", "pool", "pool")?;
                let mut spokes = Vec::new();
                for i in 0..3 {
                    let s = tx.create_entity(&format!("s{i}"), "server", "basicserver")?;
                    tx.add_attr(hub.id, NewAttr::new("member", s.id))?;
                    spokes.push(s.id);
                }
                Ok((hub.id, spokes))
            })
            .unwrap();
        // A deleted reference (an entry of the deleted space) and a later version.
        db.write(TxMeta::new("ops", "prune"), |tx| {
            tx.delete_attrs(hub, &AttrFilter::key("member").value(spokes[1]))
        })
        .unwrap();
        let referenced = |db: &Clusto| {
            let at_build = db.read_at(1, |v| v.references(spokes[1], &AttrFilter::any()));
            let now = db.read(|v| {
                spokes
                    .iter()
                    .map(|s| v.referencers(*s, &AttrFilter::key("member")))
                    .collect::<Result<Vec<_>>>()
            });
            (at_build.unwrap(), now.unwrap())
        };
        let before = referenced(&db);
        assert_eq!(before.0.len(), 1);
        assert_eq!(before.1.iter().map(Vec::len).collect::<Vec<_>>(), [1, 0, 1]);
        drop(db);
        let current = entries(&store);
        downgrade_to_3(&store);
        let emptied = entries(&store)
            .into_iter()
            .filter(|(k, v)| crate::index::holds_record(k[0]) && v.is_empty())
            .count();
        assert_eq!(emptied, 3, "two live references and a deleted one");
        // A salvage reads the references through their records.
        salvage_then_upgrade(&store, &current, &before, referenced);
    }

    #[test]
    fn a_format_4_store_is_upgraded_on_open_and_reads_the_same() {
        use crate::view::VersionQuery;
        let store = MemoryBackend::new();
        let db = open(&store);
        let users = ["ann", "bob"];
        for n in 0..version_index::BLOCK + 6 {
            db.write(TxMeta::new(users[n as usize % 2], "step"), |tx| {
                tx.create_entity(&format!("e{n}"), "t", "d").map(drop)
            })
            .unwrap();
        }
        let history = |db: &Clusto| {
            db.read(|v| {
                let all = v.versions(&VersionQuery::default())?;
                let by_user = v.versions(&VersionQuery {
                    user: Some("bob".into()),
                    ..Default::default()
                })?;
                let since = all[3].timestamp;
                let by_time = v.versions(&VersionQuery {
                    since,
                    ..Default::default()
                })?;
                let expected = all.iter().filter(|i| i.timestamp >= since).count();
                assert_eq!(by_time.len(), expected);
                Ok((all.len(), by_user, by_time))
            })
            .unwrap()
        };
        let before = history(&db);
        assert_eq!(before.1.len(), 35);
        drop(db);
        let current = entries(&store);
        downgrade_to_4(&store);
        let by_user = |store: &MemoryBackend| {
            let snapshot = store.snapshot().unwrap();
            snapshot.scan_prefix(&[space::BY_USER]).count()
        };
        assert_eq!(by_user(&store), 70, "format 4 indexes every version");
        // A salvage reads each version once, from the index or its record.
        salvage_then_upgrade(&store, &current, &before, history);
        assert_eq!(by_user(&store), 63, "versions 1 to 63, the complete block");
    }

    /// A format-5 store, whose touched index names every entity each version changed,
    /// reads every history the same, as a salvage and upgraded; the upgrade leaves the
    /// entries the rows do not make redundant (a counter set, a driver changed) and the
    /// store as this build writes it, byte for byte.
    #[test]
    fn a_format_5_store_is_upgraded_on_open_and_reads_the_same() {
        let store = MemoryBackend::new();
        let db = open(&store);
        let w = |f: &dyn Fn(&mut crate::txn::Transaction) -> Result<()>| {
            db.write(TxMeta::new("ops", "step"), |tx| f(tx)).unwrap();
        };
        w(&|tx| {
            let s = tx.create_entity("s1", "server", "basicserver")?;
            let p = tx.create_entity("p1", "pool", "pool")?;
            tx.add_attr(s.id, NewAttr::new("owner", "a"))?;
            tx.insert(p.id, s.id).map(drop)
        });
        let s1 = db.read(|v| v.entity("s1")).unwrap().id;
        w(&|tx| tx.set_attr(s1, NewAttr::new("owner", "b")).map(drop));
        w(&|tx| tx.counter_set(s1, "next", 5));
        w(&|tx| tx.change_driver("s1", "server", "appserver").map(drop));
        w(&|tx| tx.delete_entity("p1"));
        // Entities with and without entries, between and after those: the upgrade reads
        // the rows in one pass beside the index.
        for i in 0..6 {
            w(&|tx| {
                let x = tx.create_entity(&format!("x{i}"), "server", "basicserver")?;
                for round in 0..i % 3 {
                    tx.set_attr(x.id, NewAttr::new("owner", round))?;
                }
                Ok(())
            });
            let x = db.read(|v| v.entity(&format!("x{i}"))).unwrap().id;
            if i % 2 == 0 {
                w(&|tx| tx.set_attr(x, NewAttr::new("owner", "later")).map(drop));
            }
            if i % 3 == 1 {
                w(&|tx| tx.counter_set(x, "next", 1));
            }
        }
        let names: Vec<String> = ["s1", "p1"]
            .into_iter()
            .map(String::from)
            .chain((0..6).map(|i| format!("x{i}")))
            .collect();
        let histories = |db: &Clusto| {
            let history = |name: &String| db.read(|v| v.entity_versions(name)).unwrap();
            names.iter().map(history).collect::<Vec<_>>()
        };
        let before = histories(&db);
        assert_eq!(before[..2], [vec![1, 2, 3, 4], vec![1, 5]]);
        drop(db);
        let touched = |store: &MemoryBackend| {
            let snapshot = store.snapshot().unwrap();
            snapshot.scan_prefix(&[space::TOUCHED]).count()
        };
        // s1 in versions 3 and 4; x1 and x4 in their counters' versions.
        assert_eq!(touched(&store), 4, "the versions that changed no row");
        let current = entries(&store);
        downgrade_to_5(&store);
        // And s1 in version 2; x0, x2 and x4 in the versions of their later `set_attr`.
        assert_eq!(
            touched(&store),
            8,
            "format 5 names every entity a version changed"
        );
        salvage_then_upgrade(&store, &current, &before, histories);
    }

    /// Counters written by a build of a newer format (which upgraded the store while this
    /// process held it open) stop this process's next write, which changes nothing.
    #[test]
    fn a_write_refuses_counters_of_a_newer_format() {
        let store = store_with_s1();
        let db = open(&store);
        let snapshot = store.snapshot().unwrap();
        let mut newer = crate::view::View::new(&*snapshot, None)
            .store_counters()
            .unwrap();
        newer.format = crate::db::FORMAT_VERSION + 1;
        store
            .apply(vec![(keys::counters(), Some(encode(&newer)))])
            .unwrap();
        let before = entries(&store);
        let err = db
            .write(TxMeta::new("ops", "late"), |tx| {
                tx.create_entity("s2", "server", "basicserver").map(drop)
            })
            .unwrap_err();
        assert!(
            matches!(err, Error::UnsupportedFormat { found, .. } if found == newer.format),
            "{err}"
        );
        assert_eq!(entries(&store), before);
    }

    /// A format-4 store whose reference entries are partly empty (an older build's
    /// process wrote them after the upgrade) reads the same, live and as of before a
    /// deletion, and checks clean; an entry holding another attribute's record is
    /// reported.
    #[test]
    fn references_read_the_same_whether_their_entries_hold_records_or_not() {
        use crate::filter::AttrFilter;
        let store = MemoryBackend::new();
        let db = open(&store);
        let target = db
            .write(TxMeta::new("ops", "build"), |tx| {
                let target = tx.create_entity("t", "server", "basicserver")?;
                for i in 0..4 {
                    let e = tx.create_entity(&format!("p{i}"), "pool", "pool")?;
                    tx.add_attr(e.id, NewAttr::new("member", target.id))?;
                }
                Ok(target.id)
            })
            .unwrap();
        db.write(TxMeta::new("ops", "prune"), |tx| {
            let p1 = tx.view().entity("p1")?.id;
            tx.delete_attrs(p1, &AttrFilter::key("member"))
        })
        .unwrap();
        let read = |db: &Clusto| {
            (
                db.read_at(1, |v| v.references(target, &AttrFilter::any()))
                    .unwrap(),
                db.read(|v| v.referencers(target, &AttrFilter::key("member")))
                    .unwrap(),
            )
        };
        let before = read(&db);
        assert_eq!((before.0.len(), before.1.len()), (4, 3));
        let references: Vec<(Vec<u8>, Vec<u8>)> = entries(&store)
            .into_iter()
            .filter(|(k, _)| crate::index::holds_record(k[0]))
            .collect();
        assert_eq!(references.len(), 4);
        assert!(references.iter().all(|(_, v)| !v.is_empty()));
        let emptied = references
            .iter()
            .step_by(2)
            .map(|(k, _)| (k.clone(), Some(Vec::new())))
            .collect();
        store.apply(emptied).unwrap();
        assert_eq!(read(&db), before);
        assert!(db.check().unwrap().is_clean());

        // Another attribute's record, well formed, under the last entry.
        let (last, _) = references.last().unwrap();
        let (_, other) = &references[1];
        store
            .apply(vec![(last.clone(), Some(other.clone()))])
            .unwrap();
        let problems = db.check().unwrap().problems;
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert!(
            problems[0].contains("that are not its record"),
            "{problems:#?}"
        );
    }

    #[test]
    fn a_reference_without_its_record_stops_the_upgrade_and_changes_nothing() {
        let store = store_with_s1();
        downgrade_to_3(&store);
        let dangling = keys::Key::new(space::REFERENCE)
            .entity(EntityId(1))
            .entity(EntityId(1))
            .attr(AttrId(99))
            .into_bytes();
        store.apply(vec![(dangling, Some(Vec::new()))]).unwrap();
        upgrade_is_refused(&store, "names missing attribute record");
    }

    #[test]
    fn a_damaged_touched_entry_stops_the_upgrade_and_changes_nothing() {
        for (entry, says) in [
            (vec![space::TOUCHED, 1, 2, 3], "is malformed"),
            (
                keys::Key::new(space::TOUCHED)
                    .entity(EntityId(77))
                    .version(1)
                    .into_bytes(),
                "names missing entity 77",
            ),
        ] {
            let store = store_with_s1();
            downgrade_to_5(&store);
            store.apply(vec![(entry, Some(Vec::new()))]).unwrap();
            upgrade_is_refused(&store, says);
        }
    }

    #[test]
    fn a_live_name_without_an_id_stops_the_upgrade_and_changes_nothing() {
        let store = store_with_s1();
        downgrade_to_2(&store);
        store
            .apply(vec![(keys::live_name("s1"), Some(vec![1, 2, 3]))])
            .unwrap();
        upgrade_is_refused(
            &store,
            "holds no entity id: the database cannot be upgraded",
        );
    }

    #[test]
    fn a_name_of_a_missing_entity_stops_the_upgrade_and_changes_nothing() {
        let store = store_with_s1();
        downgrade_to_2(&store);
        store
            .apply(vec![(
                keys::live_name("ghost"),
                Some(77u64.to_be_bytes().to_vec()),
            )])
            .unwrap();
        upgrade_is_refused(&store, "missing entity #77");
    }

    #[test]
    fn a_salvage_reads_a_format_1_store_without_upgrading_it() {
        let store = store_with_s1();
        downgrade(&store);
        let format_1 = entries(&store);
        let options = crate::db::OpenOptions {
            salvage: true,
            ..Default::default()
        };
        let db = Clusto::build(Box::new(store.clone()), &options, None, None).unwrap();
        db.read(|v| {
            assert_eq!(v.latest_version()?, 1);
            assert_eq!(v.changes(1)?.len(), 1);
            assert!(v.find("s1")?.is_some());
            Ok(())
        })
        .unwrap();
        assert!(db.check().unwrap().is_clean());
        assert_eq!(entries(&store), format_1, "a salvage writes nothing");
    }

    #[test]
    fn a_damaged_format_1_change_key_stops_the_upgrade_and_changes_nothing() {
        let store = MemoryBackend::new();
        drop(open(&store));
        downgrade(&store);
        store
            .apply(vec![(vec![space::CHANGES_V1, 1, 2], Some(vec![1]))])
            .unwrap();
        upgrade_is_refused(&store, "upgraded");
    }
}
