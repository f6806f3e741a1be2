//! Which versions touched an entity (its history), and where each is found.
//!
//! An entity row records the versions that created and deleted it, and so does each of
//! its attribute rows: those versions of its history are read from its rows. Only a
//! change that leaves no row behind — a driver changed in place, a counter set — needs
//! an entry in the touched index (`Y`, entity then version). A commit writes one for an
//! entity only when all of that entity's changes in the version are of that kind.
//!
//! Formats 1 to 5 wrote an entry for every entity a version touched, except in the
//! versions that created or deleted its row: a commit of a `set_attr` wrote a page of
//! the index for the history alone. The upgrade to format 6 removes the entries the
//! rows make redundant ([`redundant_entries`]).

use std::collections::BTreeSet;
use std::iter::Peekable;

use crate::codec::{decode_attr_in_place, decode_entity};
use crate::error::{Error, Result};
use crate::keys::{self, Key, space, u64_from_tail};
use crate::records::{Change, EntityId, Version};
use crate::storage::{EntryIter, KvRead, LentEntry, Write};
use crate::view::View;

/// Whether `change` is recorded on a row: an entity row created or deleted, an attribute
/// row added or deleted. Those rows keep the version.
fn is_on_a_row(change: &Change) -> bool {
    match change {
        Change::EntityCreated { .. }
        | Change::EntityDeleted { .. }
        | Change::AttrAdded { .. }
        | Change::AttrDeleted { .. } => true,
        Change::DriverChanged { .. } | Change::CounterSet { .. } => false,
    }
}

/// The touched-index entries (keys; the values are empty) one version's `changes` need:
/// one per entity none of whose changes is on a row.
pub(crate) fn entries_of(version: Version, changes: &[Change]) -> Vec<Vec<u8>> {
    let on_rows: BTreeSet<EntityId> = changes
        .iter()
        .filter(|c| is_on_a_row(c))
        .map(Change::entity)
        .collect();
    let off_rows: BTreeSet<EntityId> = changes
        .iter()
        .filter(|c| !is_on_a_row(c))
        .map(Change::entity)
        .collect();
    off_rows
        .difference(&on_rows)
        .map(|&id| key(id, version))
        .collect()
}

fn key(id: EntityId, version: Version) -> Vec<u8> {
    Key::new(space::TOUCHED)
        .entity(id)
        .version(version)
        .into_bytes()
}

/// The versions recorded on the rows of entity `id`: its own row's creation and
/// deletion, and those of each of its attribute rows, live or deleted.
fn row_versions(view: &View<'_>, id: EntityId) -> Result<BTreeSet<Version>> {
    let row = view.entity_by_id(id)?;
    let mut versions: BTreeSet<Version> = stamps(row.version, row.deleted_at).collect();
    for s in [space::ATTR, space::ATTR_OLD] {
        let prefix = Key::new(s).entity(id).into_bytes();
        view.source().scan_prefix_each(&prefix, &mut |key, bytes| {
            add_attr_stamps(&mut versions, key, bytes)
        })?;
    }
    Ok(versions)
}

/// The versions a row records: the one that made it and the one that deleted it.
fn stamps(version: Version, deleted_at: Option<Version>) -> impl Iterator<Item = Version> {
    std::iter::once(version).chain(deleted_at)
}

/// Adds to `versions` the [`stamps`] of the attribute record `bytes`, stored under `key`.
fn add_attr_stamps(versions: &mut BTreeSet<Version>, key: &[u8], bytes: &[u8]) -> Result<()> {
    let a = decode_attr_in_place(bytes, &|| format!("attribute record {key:?}"))?;
    versions.extend(stamps(a.version, a.deleted_at));
    Ok(())
}

/// Every version that touched entity row `id`, in order: those on its rows, and those
/// of its touched-index entries.
pub(crate) fn versions_touching(view: &View<'_>, id: EntityId) -> Result<Vec<Version>> {
    let mut versions = row_versions(view, id)?;
    let prefix = Key::new(space::TOUCHED).entity(id).into_bytes();
    for entry in view.source().scan_prefix(&prefix) {
        versions.insert(u64_from_tail(&entry?.0, 0)?);
    }
    Ok(versions.into_iter().collect())
}

/// The deletions that leave a store written by formats 1 to 5 with the entries a
/// commit of format 6 would have written: each entry whose version is on one of its
/// entity's rows goes.
pub(crate) fn redundant_entries(kv: &dyn KvRead) -> Result<Vec<Write>> {
    let mut rows = RowsInEntityOrder::new(kv);
    let mut writes = Vec::new();
    let mut rows_of: Option<(u64, BTreeSet<Version>)> = None;
    for entry in kv.scan_prefix(&[space::TOUCHED]) {
        let (key, _) = entry?;
        let cannot = |why: String| {
            Error::Corrupt(format!(
                "touched index entry {key:?} {why}: the database cannot be upgraded"
            ))
        };
        if key.len() != 17 {
            return Err(cannot("is malformed".into()));
        }
        let (entity, version) = (u64_from_tail(&key, 8)?, u64_from_tail(&key, 0)?);
        if rows_of.as_ref().is_none_or(|(of, _)| *of != entity) {
            let Some(versions) = rows.versions_of(entity)? else {
                return Err(cannot(format!("names missing entity {entity}")));
            };
            rows_of = Some((entity, versions));
        }
        let (_, on_rows) = rows_of.as_ref().expect("set above");
        if on_rows.contains(&version) {
            writes.push((key, None));
        }
    }
    Ok(writes)
}

/// The entity and attribute records of a store, read forward once in entity order (the
/// order of the touched index too): an upgrade asks for each entity's rows without a
/// read of its own, a round trip each on a server.
struct RowsInEntityOrder<'a> {
    entities: Peekable<EntryIter<'a>>,
    attrs: [Peekable<EntryIter<'a>>; 2],
}

impl<'a> RowsInEntityOrder<'a> {
    fn new(kv: &'a dyn KvRead) -> Self {
        let scan = |s: u8| kv.scan_prefix(&[s]).peekable();
        RowsInEntityOrder {
            entities: scan(space::ENTITY),
            attrs: [scan(space::ATTR), scan(space::ATTR_OLD)],
        }
    }

    /// What [`row_versions`] reads for entity `id`, or `None` when it has no record. Ids
    /// are asked for in increasing order.
    fn versions_of(&mut self, id: u64) -> Result<Option<BTreeSet<Version>>> {
        let mut versions = BTreeSet::new();
        take_entity(&mut self.entities, id, &mut |key, bytes| {
            let e = decode_entity(bytes, &|| format!("entity record {key:?}"))?;
            versions.extend(stamps(e.version, e.deleted_at));
            Ok(())
        })?;
        if versions.is_empty() {
            return Ok(None);
        }
        for attrs in &mut self.attrs {
            take_entity(attrs, id, &mut |key, bytes| {
                add_attr_stamps(&mut versions, key, bytes)
            })?;
        }
        Ok(Some(versions))
    }
}

/// Hands `each` the entries of `entries` (keys of an entity-first space, in order) that
/// belong to entity `id`, passing over those of smaller ids.
fn take_entity(
    entries: &mut Peekable<EntryIter<'_>>,
    id: u64,
    each: &mut LentEntry<'_>,
) -> Result<()> {
    loop {
        let owner = match entries.peek() {
            None => return Ok(()),
            Some(Err(_)) => return entries.next().expect("peeked").map(drop),
            Some(Ok((key, _))) => keys::entity_of(key)
                .ok_or_else(|| Error::Corrupt(format!("key {key:?} names no entity")))?,
        };
        if owner > id {
            return Ok(());
        }
        let (key, value) = entries.next().expect("peeked")?;
        if owner == id {
            each(&key, &value)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::AttrId;

    /// An entity gets an entry only when none of its changes in the version is on a row.
    #[test]
    fn entries_name_the_entities_changed_only_off_their_rows() {
        let counter = |id| Change::CounterSet {
            entity: EntityId(id),
            key: "next".into(),
            value: Some(1),
        };
        let changes = [
            Change::AttrAdded {
                entity: EntityId(1),
                attr: AttrId(10),
            },
            counter(1),
            counter(2),
            Change::DriverChanged {
                entity: EntityId(3),
                old_type: "server".into(),
                old_driver: "basicserver".into(),
            },
            counter(3),
            Change::EntityCreated {
                entity: EntityId(4),
            },
            counter(4),
        ];
        assert_eq!(
            entries_of(9, &changes),
            [key(EntityId(2), 9), key(EntityId(3), 9)]
        );
    }
}
