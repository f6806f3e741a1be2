//! Reads: a [`View`] answers every query of the model, live or as of a version, against
//! the committed store or a transaction's own writes.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::ops::RangeInclusive;

use crate::codec::{decode, decode_attr_in_place, decode_entity};
use crate::error::{Error, Result};
use crate::filter::{AttrFilter, NumberMatch, SubkeyMatch, TextMatch};
use crate::keys::{self, Key, read_str, space, u64_from_tail};
use crate::records::{AttrId, AttrRef, Attribute, Change, Entity, EntityId, Version, VersionInfo};
use crate::storage::{EntryIter, KvRead, Layered, LentEntry, LentValue};
use crate::value::{Timestamp, Value};
use crate::version_index;

/// Which entities [`View::entities`] returns. Empty lists do not filter; the lists that
/// are given are ANDed, and the attribute filters are ORed with each other (the
/// original's `get_entities`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntityQuery {
    /// Exact names.
    pub names: Vec<String>,
    /// Type names.
    pub types: Vec<String>,
    /// Driver names.
    pub drivers: Vec<String>,
    /// The entity must have an attribute matching at least one of these.
    pub attrs: Vec<AttrFilter>,
    /// And, for each of these groups, an attribute matching one filter of the group (the
    /// CLI's `query KEY=VALUE…` terms, ANDed).
    pub all_attrs: Vec<Vec<AttrFilter>>,
    /// And the entity is in each of these pools, at any depth.
    pub in_pools: Vec<EntityId>,
}

/// Which filters of an [`EntityQuery`] chose its candidates: each candidate matches them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chosen {
    /// None: names, types, drivers or every entity chose them.
    Nothing,
    /// `attrs`: each candidate has an attribute matching one of them.
    AnyOf,
    /// The first group of `all_attrs`.
    FirstGroup,
}

/// Which versions [`View::versions`] returns; every part left unset matches all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionQuery {
    /// First version, inclusive.
    pub from: Option<Version>,
    /// Last version, inclusive.
    pub to: Option<Version>,
    /// Committed at or after this time.
    pub since: Option<Timestamp>,
    /// Committed at or before this time.
    pub until: Option<Timestamp>,
    /// Committed by this user.
    pub user: Option<String>,
    /// Touching an entity that ever had this name (its creation, changes and deletion).
    pub entity: Option<String>,
}

/// A change of a version with the records it names, resolved for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeDetail {
    /// The change as stored.
    pub change: Change,
    /// The entity it touched (its row, live or deleted).
    pub entity: Entity,
    /// The attribute row, for attribute changes.
    pub attr: Option<Attribute>,
}

/// `ids` without repeats, each where it first appears; no hashing when there are none,
/// the usual case, and no copy either when they ascend (members taken in creation order).
pub(crate) fn first_of_each(mut ids: Vec<EntityId>) -> Vec<EntityId> {
    if ids.windows(2).all(|w| w[0] < w[1]) {
        return ids;
    }
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    if sorted.windows(2).all(|w| w[0] != w[1]) {
        return ids;
    }
    let mut seen = HashSet::with_capacity(ids.len());
    ids.retain(|id| seen.insert(*id));
    ids
}

/// Records read per `get_many` call when a query has found their keys.
pub(crate) const RECORDS_PER_CALL: usize = 512;

/// A consistent read view: live (`at() == None`) or as of the end of a version.
pub struct View<'a> {
    pub(crate) kv: Source<'a>,
    at: Option<Version>,
}

/// What a view reads. Plain references only: a `View` has no destructor, so a
/// temporary `tx.view()` ends its borrow of the transaction as soon as it is used.
pub(crate) enum Source<'a> {
    /// The committed store.
    Store(&'a dyn KvRead),
    /// A transaction's writes over the committed store.
    Layered(Layered<'a>),
}

impl KvRead for Source<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self {
            Source::Store(kv) => kv.get(key),
            Source::Layered(kv) => kv.get(key),
        }
    }

    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>> {
        match self {
            Source::Store(kv) => kv.get_many(keys),
            Source::Layered(kv) => kv.get_many(keys),
        }
    }

    fn get_each(&self, keys: &[Vec<u8>], each: &mut LentValue<'_>) -> Result<()> {
        match self {
            Source::Store(kv) => kv.get_each(keys, each),
            Source::Layered(kv) => kv.get_each(keys, each),
        }
    }

    fn scan_prefix_each(&self, prefix: &[u8], each: &mut LentEntry<'_>) -> Result<()> {
        match self {
            Source::Store(kv) => kv.scan_prefix_each(prefix, each),
            Source::Layered(kv) => kv.scan_prefix_each(prefix, each),
        }
    }

    fn prefetch_prefix(&self, prefix: &[u8]) -> Result<()> {
        match self {
            Source::Store(kv) => kv.prefetch_prefix(prefix),
            Source::Layered(kv) => kv.prefetch_prefix(prefix),
        }
    }

    fn learned(&self, key: &[u8], value: &[u8]) {
        match self {
            Source::Store(kv) => kv.learned(key, value),
            Source::Layered(kv) => kv.learned(key, value),
        }
    }

    fn read_ahead(&self, prefixes: &[&[u8]]) -> Result<()> {
        match self {
            Source::Store(kv) => kv.read_ahead(prefixes),
            Source::Layered(kv) => kv.read_ahead(prefixes),
        }
    }

    fn takes_read_ahead(&self) -> bool {
        match self {
            Source::Store(kv) => kv.takes_read_ahead(),
            Source::Layered(kv) => kv.takes_read_ahead(),
        }
    }

    fn scan(&self, start: &[u8], end: Option<&[u8]>, reverse: bool) -> EntryIter<'_> {
        match self {
            Source::Store(kv) => kv.scan(start, end, reverse),
            Source::Layered(kv) => kv.scan(start, end, reverse),
        }
    }
}

/// Where the attribute rows of a query are found.
enum AttrSource {
    /// Index keys under a prefix, in the live and the deleted space of one index.
    Index { live: u8, old: u8, tail: Vec<u8> },
    /// Every attribute row.
    All,
}

impl<'a> View<'a> {
    pub(crate) fn new(kv: &'a dyn KvRead, at: Option<Version>) -> Self {
        View {
            kv: Source::Store(kv),
            at,
        }
    }

    pub(crate) fn layered(kv: Layered<'a>) -> Self {
        View {
            kv: Source::Layered(kv),
            at: None,
        }
    }

    /// The version this view reads as of; `None` for the live state.
    pub fn at(&self) -> Option<Version> {
        self.at
    }

    fn live(&self) -> bool {
        self.at.is_none()
    }

    /// The store's counters.
    pub(crate) fn store_counters(&self) -> Result<StoreCounters> {
        let what = || "the store's counters".to_string();
        match self.kv.get(&keys::counters())? {
            Some(bytes) => {
                let counters = decode(&bytes, &what).or_else(|e| {
                    if let Ok(old) = decode::<CountersOfFormat5>(&bytes, &what) {
                        return Ok(old.into());
                    }
                    let old: CountersOfFormat4 = decode(&bytes, &what).map_err(|_| e)?;
                    Ok::<_, Error>(old.into())
                })?;
                if !version_index::is_consistent(&counters) {
                    return Err(Error::Corrupt(format!(
                        "the store's counters say the indexes of versions end at version {} \
                         and the newest version is {}: they cannot both be right",
                        counters.indexed_versions, counters.latest_version
                    )));
                }
                Ok(counters)
            }
            // Format 2 writes the record with the format number: only format 1 (read by a
            // salvage, which does not upgrade) or an empty store lacks it.
            None => crate::upgrade::counters_of_format_1(&self.kv),
        }
    }

    /// The newest committed version (0 for a new database).
    pub fn latest_version(&self) -> Result<Version> {
        Ok(self.store_counters()?.latest_version)
    }

    /// The entity row with this id, live or deleted, whatever the view's version.
    pub fn entity_by_id(&self, id: EntityId) -> Result<Entity> {
        self.entity_record(id)?
            .ok_or_else(|| Error::NotFound(format!("entity {id} does not exist")))
    }

    pub(crate) fn entity_record(&self, id: EntityId) -> Result<Option<Entity>> {
        match self.kv.get(&keys::entity(id))? {
            Some(bytes) => Ok(Some(decode_entity(&bytes, &|| {
                format!("entity record {id}")
            })?)),
            None => Ok(None),
        }
    }

    /// The entity visible under this name, or `None`.
    pub fn find(&self, name: &str) -> Result<Option<Entity>> {
        let live = self.live_named(name)?;
        if self.live() {
            return Ok(live);
        }
        // One entity at most holds a name at any version: when the live one held it
        // then, the deleted incarnations need not be read.
        if let Some(e) = live.filter(|e| e.visible_at(self.at)) {
            return Ok(Some(e));
        }
        Ok(self
            .deleted_incarnations(name)?
            .into_iter()
            .find(|e| e.visible_at(self.at)))
    }

    fn live_named(&self, name: &str) -> Result<Option<Entity>> {
        let Some(value) = self.kv.get(&keys::live_name(name))? else {
            return Ok(None);
        };
        // Formats 1 and 2 (read by a salvage) hold the entity's id.
        if let Some(id) = keys::old_live_name_id(&value) {
            return match self.entity_record(id)? {
                Some(e) => Ok(Some(e)),
                None => Err(Error::Corrupt(format!(
                    "name '{name}' points at missing entity {id}"
                ))),
            };
        }
        let e = decode_entity(&value, &|| format!("the record of name '{name}'"))?;
        if e.name != name || e.deleted_at.is_some() {
            return Err(Error::Corrupt(format!(
                "name '{name}' holds the record of {} '{}'",
                if e.deleted_at.is_some() {
                    "deleted"
                } else {
                    "live"
                },
                e.name
            )));
        }
        self.kv.learned(&keys::entity(e.id), &value);
        Ok(Some(e))
    }

    /// Every row that ever had this name: the deleted ones, then the live one.
    fn incarnations(&self, name: &str) -> Result<Vec<Entity>> {
        let mut rows = self.deleted_incarnations(name)?;
        rows.extend(self.live_named(name)?);
        Ok(rows)
    }

    /// The deleted rows that had this name, oldest first.
    fn deleted_incarnations(&self, name: &str) -> Result<Vec<Entity>> {
        let prefix = Key::new(space::NAME).str(name).into_bytes();
        let mut ids = Vec::new();
        self.kv.scan_prefix_each(&prefix, &mut |key, _| {
            ids.push(EntityId(u64_from_tail(key, 0)?));
            Ok(())
        })?;
        self.entities_by_ids(&ids)
    }

    /// The entity visible under this name; `NotFound` if there is none.
    pub fn entity(&self, name: &str) -> Result<Entity> {
        self.find(name)?.ok_or_else(|| match self.at {
            None => Error::NotFound(format!("entity '{name}' does not exist")),
            Some(v) => Error::NotFound(format!("entity '{name}' did not exist at version {v}")),
        })
    }

    /// The entities under these names, in the same order, `None` where missing.
    pub fn entities_by_names(&self, names: &[&str]) -> Result<Vec<Option<Entity>>> {
        names.iter().map(|n| self.find(n)).collect()
    }

    /// Entities matching a query, distinct, in creation (id) order.
    pub fn entities(&self, query: &EntityQuery) -> Result<Vec<Entity>> {
        let mut ids = BTreeSet::new();
        // The filters that chose the candidates are not checked again on each of them.
        let mut chosen_by = Chosen::Nothing;
        if !query.names.is_empty() {
            for name in &query.names {
                if let Some(e) = self.find(name)? {
                    ids.insert(e.id);
                }
            }
        } else if let Some(filters) = Some(&query.attrs)
            .filter(|f| !f.is_empty())
            .or_else(|| query.all_attrs.first())
        {
            for filter in filters {
                ids.extend(self.owner_ids(filter)?);
            }
            chosen_by = if query.attrs.is_empty() {
                Chosen::FirstGroup
            } else {
                Chosen::AnyOf
            };
        } else if !query.types.is_empty() {
            for t in &query.types {
                self.ids_in_index(space::TYPE, space::TYPE_OLD, t, &mut ids)?;
            }
        } else if !query.drivers.is_empty() {
            for d in &query.drivers {
                self.ids_in_index(space::DRIVER, space::DRIVER_OLD, d, &mut ids)?;
            }
        } else if query.in_pools.is_empty() {
            return self.all_entities();
        } else {
            ids.extend(self.all_entities()?.into_iter().map(|e| e.id));
        }
        let pools = query
            .in_pools
            .iter()
            .map(|pool| {
                let members = self.from_pools(&[*pool], &crate::Related::all_levels())?;
                Ok(members.into_iter().map(|m| m.id).collect::<BTreeSet<_>>())
            })
            .collect::<Result<Vec<_>>>()?;
        let ids: Vec<EntityId> = ids
            .into_iter()
            .filter(|id| pools.iter().all(|members| members.contains(id)))
            .collect();
        let mut out = Vec::new();
        for e in self.entities_by_ids(&ids)? {
            if e.visible_at(self.at) && self.entity_matches(&e, query, chosen_by)? {
                out.push(e);
            }
        }
        Ok(out)
    }

    fn entity_matches(&self, e: &Entity, q: &EntityQuery, chosen_by: Chosen) -> Result<bool> {
        let listed = |list: &[String], v: &str| list.is_empty() || list.iter().any(|x| x == v);
        if !(listed(&q.names, &e.name)
            && listed(&q.types, &e.type_name)
            && listed(&q.drivers, &e.driver))
        {
            return Ok(false);
        }
        let any_of_left = !q.attrs.is_empty() && chosen_by != Chosen::AnyOf;
        let groups_left = match chosen_by {
            Chosen::FirstGroup => &q.all_attrs[1..],
            _ => &q.all_attrs[..],
        };
        if !any_of_left && groups_left.is_empty() {
            return Ok(true);
        }
        let attrs = self.attrs(e.id, &AttrFilter::any().with_hidden())?;
        let any_of =
            |filters: &[AttrFilter]| filters.iter().any(|f| attrs.iter().any(|a| f.matches(a)));
        Ok((!any_of_left || any_of(&q.attrs)) && groups_left.iter().all(|g| any_of(g)))
    }

    fn ids_in_index(
        &self,
        live: u8,
        old: u8,
        text: &str,
        ids: &mut BTreeSet<EntityId>,
    ) -> Result<()> {
        let spaces: &[u8] = if self.live() { &[live] } else { &[live, old] };
        for &s in spaces {
            let prefix = Key::new(s).str(text).into_bytes();
            for entry in self.kv.scan_prefix(&prefix) {
                ids.insert(EntityId(u64_from_tail(&entry?.0, 0)?));
            }
        }
        Ok(())
    }

    /// Every entity visible in this view, in id order.
    pub fn all_entities(&self) -> Result<Vec<Entity>> {
        let mut out = Vec::new();
        for entry in self.kv.scan_prefix(&[space::ENTITY]) {
            let (key, bytes) = entry?;
            let e = decode_entity(&bytes, &|| format!("entity record {key:?}"))?;
            if e.visible_at(self.at) {
                out.push(e);
            }
        }
        Ok(out)
    }

    /// Says the record and the live attributes of `id` are about to be read.
    pub(crate) fn read_entity_ahead(&self, id: EntityId) -> Result<()> {
        self.read_ahead_of_all(&[(id, &[space::ENTITY, space::ATTR])], &[])
    }

    /// Says the keys of each entity in its `spaces` (entity-first ones: its record, its
    /// attributes, the references to it, its counters), and the live entries of `names`
    /// (found by name), are about to be read: a write lease on a server reads them all in
    /// one round trip (with its opening, if that has not gone out), so that the calls
    /// reading them after need none of their own.
    pub(crate) fn read_ahead_of_all(
        &self,
        entities: &[(EntityId, &[u8])],
        names: &[&str],
    ) -> Result<()> {
        if !self.kv.takes_read_ahead() {
            return Ok(());
        }
        let prefixes: Vec<Vec<u8>> = entities
            .iter()
            .flat_map(|(id, spaces)| {
                spaces
                    .iter()
                    .map(move |s| Key::new(*s).entity(*id).into_bytes())
            })
            .chain(names.iter().map(|name| keys::live_name(name)))
            .collect();
        let prefixes: Vec<&[u8]> = prefixes.iter().map(Vec::as_slice).collect();
        self.kv.read_ahead(&prefixes)
    }

    /// Hands `each` the attribute records of `owner` visible in this view, read in
    /// place: the live ones by id, then (as of an old version) the deleted ones by id.
    fn each_visible_attr(
        &self,
        owner: EntityId,
        each: &mut dyn FnMut(AttrRef<'_>) -> Result<()>,
    ) -> Result<()> {
        let spaces: &[u8] = if self.live() {
            &[space::ATTR]
        } else {
            &[space::ATTR, space::ATTR_OLD]
        };
        for &s in spaces {
            let prefix = Key::new(s).entity(owner).into_bytes();
            self.kv.scan_prefix_each(&prefix, &mut |key, bytes| {
                let a = decode_attr_in_place(bytes, &|| format!("attribute record {key:?}"))?;
                if a.visible_at(self.at) {
                    each(a)?;
                }
                Ok(())
            })?;
        }
        Ok(())
    }

    /// The attributes of one entity that pass `filter`, in creation order.
    ///
    /// A filter on a relation value, or on an exact key and a value, is served from an
    /// index (so "is X in this pool of 10 000" is a point lookup); any other filter reads
    /// the entity's attributes, and copies out only those that pass.
    pub fn attrs(&self, owner: EntityId, filter: &AttrFilter) -> Result<Vec<Attribute>> {
        match self.indexed_attrs(owner, filter)? {
            Some(found) => Ok(found),
            None => self.scanned_attrs(owner, filter, |a| a.to_attribute()),
        }
    }

    /// What `pick` takes from each attribute of `owner` that passes `filter`, in
    /// creation order: [`View::attrs`] without a copy of every row (a pool's contents
    /// need only each row's target).
    pub(crate) fn pick_attrs<T>(
        &self,
        owner: EntityId,
        filter: &AttrFilter,
        mut pick: impl FnMut(AttrRef<'_>) -> T,
    ) -> Result<Vec<T>> {
        match self.indexed_attrs(owner, filter)? {
            Some(found) => Ok(found.iter().map(|a| pick(a.as_attr_ref())).collect()),
            None => self.scanned_attrs(owner, filter, pick),
        }
    }

    /// The attributes of `owner` that pass `filter`, from an index, when the filter has
    /// one (a relation value, or an exact key and a value).
    fn indexed_attrs(
        &self,
        owner: EntityId,
        filter: &AttrFilter,
    ) -> Result<Option<Vec<Attribute>>> {
        let source = match (&filter.key, &filter.value) {
            (_, Some(Value::Relation(target))) => AttrSource::Index {
                live: space::REFERENCE,
                old: space::REFERENCE_OLD,
                tail: Key::new(0).entity(*target).entity(owner).into_bytes(),
            },
            (Some(TextMatch::Exact(_)), Some(_)) => Self::source_for(filter),
            _ => return Ok(None),
        };
        let mut found = self.collect_attrs(source, filter)?;
        found.retain(|a| a.entity == owner);
        Ok(Some(found))
    }

    /// What `pick` takes from each attribute of `owner` that passes `filter`, read from
    /// its attributes, in creation order.
    fn scanned_attrs<T>(
        &self,
        owner: EntityId,
        filter: &AttrFilter,
        mut pick: impl FnMut(AttrRef<'_>) -> T,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.each_visible_attr(owner, &mut |a| {
            if filter.matches_ref(&a) {
                out.push((a.id, pick(a)));
            }
            Ok(())
        })?;
        // As of an old version, the deleted rows were read after the live ones.
        if !self.live() {
            out.sort_by_key(|(id, _)| *id);
        }
        Ok(out.into_iter().map(|(_, picked)| picked).collect())
    }

    /// The attribute row with this id on `owner`, live or deleted.
    pub fn attr_by_id(&self, owner: EntityId, id: AttrId) -> Result<Option<Attribute>> {
        for live in [true, false] {
            if let Some(bytes) = self.kv.get(&keys::attr(owner, id, live))? {
                return Ok(Some(decode(&bytes, &|| format!("attribute record {id}"))?));
            }
        }
        Ok(None)
    }

    fn source_for(filter: &AttrFilter) -> AttrSource {
        let subkey_exact = match &filter.subkey {
            SubkeyMatch::Is(TextMatch::Exact(s)) => Some(Some(s.as_str())),
            SubkeyMatch::Null => Some(None),
            _ => None,
        };
        match (&filter.key, subkey_exact) {
            (Some(TextMatch::Exact(k)), sub) => {
                let mut tail = Key::new(0).str(k);
                if let Some(v) = &filter.value {
                    tail = tail.value(v);
                    if let Some(sub) = sub {
                        tail = tail.opt_str(sub);
                    }
                }
                AttrSource::Index {
                    live: space::BY_KEY,
                    old: space::BY_KEY_OLD,
                    tail: tail.into_bytes(),
                }
            }
            (Some(glob), _) if !glob.literal_prefix().is_empty() => AttrSource::Index {
                live: space::BY_KEY,
                old: space::BY_KEY_OLD,
                tail: Key::new(0).str_prefix(glob.literal_prefix()).into_bytes(),
            },
            (None, subkey) => match (filter.value.as_ref().and_then(Value::as_relation), subkey) {
                (Some(target), _) => AttrSource::Index {
                    live: space::REFERENCE,
                    old: space::REFERENCE_OLD,
                    tail: Key::new(0).entity(target).into_bytes(),
                },
                // The subkey index holds no relation values, so it answers only queries
                // for a value that is not one.
                (None, Some(Some(sub))) if filter.value.is_some() => AttrSource::Index {
                    live: space::BY_SUBKEY,
                    old: space::BY_SUBKEY_OLD,
                    tail: Key::new(0)
                        .str(sub)
                        .value(filter.value.as_ref().expect("checked"))
                        .into_bytes(),
                },
                _ => AttrSource::All,
            },
            _ => AttrSource::All,
        }
    }

    /// Attributes of every entity that pass `filter`, in creation order. Served from an
    /// index when the filter names a key, a key prefix, a relation target, or a subkey
    /// with a value; any other filter reads every attribute.
    pub fn attr_query(&self, filter: &AttrFilter) -> Result<Vec<Attribute>> {
        self.collect_attrs(Self::source_for(filter), filter)
    }

    fn collect_attrs(&self, source: AttrSource, filter: &AttrFilter) -> Result<Vec<Attribute>> {
        let mut out = Vec::new();
        let mut keep = |a: Attribute| {
            if a.visible_at(self.at) && filter.matches(&a) {
                out.push(a);
            }
        };
        match source {
            AttrSource::Index { live, old, tail } => {
                let spaces: &[(u8, bool)] = if self.live() {
                    &[(live, true)]
                } else {
                    &[(live, true), (old, false)]
                };
                for &(s, is_live) in spaces {
                    let mut prefix = vec![s];
                    prefix.extend_from_slice(&tail[1..]);
                    // An entry that holds its record is empty when an older build wrote
                    // it; then, as for the others, the key names the record.
                    let holds_records = crate::index::holds_record(s);
                    let mut records = Vec::new();
                    self.kv.scan_prefix_each(&prefix, &mut |key, held| {
                        if holds_records && !held.is_empty() {
                            keep(decode(held, &|| {
                                format!("the record of index entry {key:?}")
                            })?);
                            return Ok(());
                        }
                        let owner = EntityId(u64_from_tail(key, 8)?);
                        let id = AttrId(u64_from_tail(key, 0)?);
                        records.push(keys::attr(owner, id, is_live));
                        Ok(())
                    })?;
                    // The records in batches: one call each, one round trip on a server.
                    for chunk in records.chunks(RECORDS_PER_CALL) {
                        self.kv.get_each(chunk, &mut |i, bytes| {
                            let key = &chunk[i];
                            let bytes = bytes.ok_or_else(|| {
                                Error::Corrupt(format!("index entry for {key:?} has no record"))
                            })?;
                            keep(decode(bytes, &|| format!("attribute record {key:?}"))?);
                            Ok(())
                        })?;
                    }
                }
            }
            AttrSource::All => {
                let spaces: &[u8] = if self.live() {
                    &[space::ATTR]
                } else {
                    &[space::ATTR, space::ATTR_OLD]
                };
                for &s in spaces {
                    self.kv.scan_prefix_each(&[s], &mut |key, bytes| {
                        keep(decode(bytes, &|| format!("attribute record {key:?}"))?);
                        Ok(())
                    })?;
                }
            }
        }
        out.sort_by_key(|a| a.id);
        Ok(out)
    }

    /// The owner of each attribute matching `filter`: one entity per attribute, so an
    /// entity with two matching attributes appears twice (the original's `get_by_attr`).
    pub fn owners(&self, filter: &AttrFilter) -> Result<Vec<Entity>> {
        let owners = self.owner_ids(filter)?;
        let ids = first_of_each(owners.clone());
        if ids.len() == owners.len() {
            // Each owner once, as usual: its record is the answer.
            return self.entities_by_ids(&owners);
        }
        let rows: BTreeMap<EntityId, Entity> = ids
            .iter()
            .copied()
            .zip(self.entities_by_ids(&ids)?)
            .collect();
        Ok(owners.iter().map(|id| rows[id].clone()).collect())
    }

    /// The owner of each attribute matching `filter`, in attribute order.
    fn owner_ids(&self, filter: &AttrFilter) -> Result<Vec<EntityId>> {
        match self.owners_from_index(filter)? {
            Some(owners) => Ok(owners),
            None => Ok(self.attr_query(filter)?.iter().map(|a| a.entity).collect()),
        }
    }

    /// The owners of the attributes `filter` matches, in attribute order, from the index
    /// keys alone when they decide the match: a live view (the live index holds live
    /// attributes only), an exact key with a value (so the key's prefix is the match,
    /// hidden or not), a subkey the prefix states or any, and any number. `None` when the
    /// attribute records must be read.
    fn owners_from_index(&self, filter: &AttrFilter) -> Result<Option<Vec<EntityId>>> {
        let decided = self.live()
            && matches!(filter.key, Some(TextMatch::Exact(_)))
            && filter.value.is_some()
            && matches!(filter.number, NumberMatch::Any)
            && matches!(
                filter.subkey,
                SubkeyMatch::Any | SubkeyMatch::Null | SubkeyMatch::Is(TextMatch::Exact(_))
            );
        let AttrSource::Index { live, tail, .. } = Self::source_for(filter) else {
            return Ok(None);
        };
        if !decided {
            return Ok(None);
        }
        let mut prefix = vec![live];
        prefix.extend_from_slice(&tail[1..]);
        let mut found = Vec::new();
        self.kv.scan_prefix_each(&prefix, &mut |key, _| {
            found.push((
                AttrId(u64_from_tail(key, 0)?),
                EntityId(u64_from_tail(key, 8)?),
            ));
            Ok(())
        })?;
        found.sort();
        Ok(Some(found.into_iter().map(|(_, owner)| owner).collect()))
    }

    /// The entity rows with these ids, live or deleted, in the same order, read in
    /// batches (one call each).
    pub fn entities_by_ids(&self, ids: &[EntityId]) -> Result<Vec<Entity>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(RECORDS_PER_CALL) {
            let keys: Vec<Vec<u8>> = chunk.iter().map(|id| keys::entity(*id)).collect();
            self.kv.get_each(&keys, &mut |i, bytes| {
                let id = chunk[i];
                let bytes =
                    bytes.ok_or_else(|| Error::NotFound(format!("entity {id} does not exist")))?;
                out.push(decode_entity(bytes, &|| format!("entity record {id}"))?);
                Ok(())
            })?;
        }
        Ok(out)
    }

    /// Attributes of other entities whose value is a relation to `target` and that pass
    /// `filter`, in creation order.
    pub fn references(&self, target: EntityId, filter: &AttrFilter) -> Result<Vec<Attribute>> {
        let source = AttrSource::Index {
            live: space::REFERENCE,
            old: space::REFERENCE_OLD,
            tail: Key::new(0).entity(target).into_bytes(),
        };
        let mut refs = self.collect_attrs(source, filter)?;
        refs.retain(|a| a.entity != target);
        Ok(refs)
    }

    /// The distinct entities holding [`View::references`] to `target`, in the order of
    /// their first reference.
    pub fn referencers(&self, target: EntityId, filter: &AttrFilter) -> Result<Vec<Entity>> {
        let ids = self
            .references(target, filter)?
            .iter()
            .map(|a| a.entity)
            .collect();
        self.entities_by_ids(&first_of_each(ids))
    }

    /// The value of counter (`owner`, `key`), if it exists. Counters are not versioned:
    /// this is the current value whatever the view's version.
    pub fn counter(&self, owner: EntityId, key: &str) -> Result<Option<i64>> {
        match self.kv.get(&keys::counter(owner, key))? {
            Some(bytes) => Ok(Some(decode(&bytes, &|| {
                format!("counter '{key}' of {owner}")
            })?)),
            None => Ok(None),
        }
    }

    /// Every counter of `owner`, by key.
    pub fn counters(&self, owner: EntityId) -> Result<Vec<(String, i64)>> {
        let prefix = Key::new(space::COUNTER).entity(owner).into_bytes();
        let mut out = Vec::new();
        for entry in self.kv.scan_prefix(&prefix) {
            let (key, bytes) = entry?;
            let (name, _) = read_str(&key[prefix.len()..])?;
            let value = decode(&bytes, &|| format!("counter '{name}' of {owner}"))?;
            out.push((name, value));
        }
        Ok(out)
    }

    /// The record of one version.
    pub fn version_info(&self, v: Version) -> Result<VersionInfo> {
        // The key of the last number holds the store's counters.
        if v == Version::MAX {
            return Err(Error::NotFound(format!("version {v} does not exist")));
        }
        match self.kv.get(&keys::version(v))? {
            Some(bytes) => decode(&bytes, &|| format!("version record {v}")),
            None => Err(Error::NotFound(format!("version {v} does not exist"))),
        }
    }

    /// The records of the versions in `range` that exist, in order.
    pub(crate) fn version_infos(&self, range: RangeInclusive<Version>) -> Result<Vec<VersionInfo>> {
        let numbers: Vec<Version> = range.filter(|&v| v != Version::MAX).collect();
        let keys: Vec<Vec<u8>> = numbers.iter().map(|&v| keys::version(v)).collect();
        let mut out = Vec::with_capacity(keys.len());
        self.kv.get_each(&keys, &mut |i, bytes| {
            if let Some(bytes) = bytes {
                out.push(decode(bytes, &|| format!("version record {}", numbers[i]))?);
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// The versions matching `query`, in order.
    pub fn versions(&self, query: &VersionQuery) -> Result<Vec<VersionInfo>> {
        let mut numbers = Vec::new();
        // The newest versions are in no index yet (see `version_index`).
        let unindexed = || -> Result<Vec<VersionInfo>> {
            let counters = self.store_counters()?;
            self.version_infos(version_index::unindexed(&counters))
        };
        if let Some(user) = &query.user {
            let prefix = Key::new(space::BY_USER).opt_str(Some(user)).into_bytes();
            for entry in self.kv.scan_prefix(&prefix) {
                numbers.push(u64_from_tail(&entry?.0, 0)?);
            }
            let by_user = unindexed()?.into_iter();
            numbers.extend(
                by_user
                    .filter(|i| i.user.as_ref() == Some(user))
                    .map(|i| i.version),
            );
        } else if query.since.is_some() || query.until.is_some() {
            let start = Key::new(space::BY_TIME)
                .i64(query.since.map_or(i64::MIN, |t| t.0))
                .into_bytes();
            let end = match query.until {
                Some(t) if t.0 < i64::MAX => Key::new(space::BY_TIME).i64(t.0 + 1).into_bytes(),
                _ => vec![space::BY_TIME + 1],
            };
            for entry in self.kv.scan(&start, Some(&end), false) {
                numbers.push(u64_from_tail(&entry?.0, 0)?);
            }
            // Their times are checked below.
            numbers.extend(unindexed()?.iter().map(|i| i.version));
        } else {
            let start = keys::version(query.from.unwrap_or(0));
            let end = keys::version(query.to.map_or(u64::MAX, |to| to.saturating_add(1)));
            for entry in self.kv.scan(&start, Some(&end), false) {
                let (key, _) = entry?;
                if keys::is_version_record(&key) {
                    numbers.push(u64_from_tail(&key, 0)?);
                }
            }
        }
        // In version order (the time index gives them in time order), once each.
        numbers.sort_unstable();
        numbers.dedup();
        let mut out = Vec::new();
        for v in numbers {
            if query.from.is_some_and(|f| v < f) || query.to.is_some_and(|t| v > t) {
                continue;
            }
            let info = self.version_info(v)?;
            let in_time = |t: Option<Timestamp>| {
                query.since.is_none_or(|s| t.is_some_and(|t| t >= s))
                    && query.until.is_none_or(|u| t.is_some_and(|t| t <= u))
            };
            if in_time(info.timestamp) {
                out.push(info);
            }
        }
        if let Some(name) = &query.entity {
            let touched: BTreeSet<Version> = self.entity_versions(name)?.into_iter().collect();
            out.retain(|info| touched.contains(&info.version));
        }
        Ok(out)
    }

    /// The changes version `v` made, in the order they were made.
    pub fn changes(&self, v: Version) -> Result<Vec<Change>> {
        self.version_info(v)?;
        // The version's record comes first under its prefix, then its chunks; a
        // format-1 store, read by a salvage, keeps them in a space of their own.
        let after_record: EntryIter<'_> = Box::new(self.kv.scan_prefix(&keys::version(v)).skip(1));
        let mut chunks = after_record.peekable();
        if chunks.peek().is_none() {
            chunks = self
                .kv
                .scan_prefix(&crate::upgrade::changes_of_format_1(v))
                .peekable();
        }
        let mut out = Vec::new();
        for entry in chunks {
            let (_, bytes) = entry?;
            let chunk: Vec<Change> = decode(&bytes, &|| format!("changes of version {v}"))?;
            out.extend(chunk);
        }
        Ok(out)
    }

    /// The changes of version `v` with the entity and attribute rows they name.
    pub fn change_details(&self, v: Version) -> Result<Vec<ChangeDetail>> {
        self.changes(v)?
            .into_iter()
            .map(|change| {
                let entity = self.entity_by_id(change.entity())?;
                let attr = match &change {
                    Change::AttrAdded { entity, attr } | Change::AttrDeleted { entity, attr } => {
                        self.attr_by_id(*entity, *attr)?
                    }
                    _ => None,
                };
                Ok(ChangeDetail {
                    change,
                    entity,
                    attr,
                })
            })
            .collect()
    }

    /// Every version that touched an entity that ever had this name, in order: its
    /// creation, its changes and its deletion.
    pub fn entity_versions(&self, name: &str) -> Result<Vec<Version>> {
        let mut versions = BTreeSet::new();
        let rows = self.incarnations(name)?;
        for e in &rows {
            versions.extend(self.versions_touching(e.id)?);
        }
        if rows.is_empty() {
            return Err(Error::NotFound(format!("entity '{name}' never existed")));
        }
        Ok(versions.into_iter().collect())
    }

    /// Every version that touched the entity row `id`, in order: its creation, its
    /// changes and its deletion.
    pub fn versions_touching(&self, id: EntityId) -> Result<Vec<Version>> {
        crate::touched::versions_touching(self, id)
    }

    /// The store this view reads, to read it as of another version.
    pub(crate) fn source(&self) -> &dyn KvRead {
        &self.kv
    }
}

/// The store's counters (one record, [`keys::counters`]): the newest version, the last
/// entity and attribute ids given, the newest version up to which every version is in
/// the indexes by user and by time (see `version_index`), and the format of the build
/// that wrote them. All zero in a new store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct StoreCounters {
    pub(crate) latest_version: Version,
    pub(crate) last_entity: u64,
    pub(crate) last_attr: u64,
    pub(crate) indexed_versions: Version,
    /// Every commit reads the counters: a process of a build of an older format still
    /// holding the store open fails to decode them, and one of this build refuses
    /// counters a build of a newer format wrote, instead of writing by rules the store
    /// no longer follows.
    pub(crate) format: u32,
}

/// The counters record as format 5 wrote it, without the format.
#[derive(serde::Deserialize)]
#[cfg_attr(test, derive(serde::Serialize))]
pub(crate) struct CountersOfFormat5 {
    pub(crate) latest_version: Version,
    pub(crate) last_entity: u64,
    pub(crate) last_attr: u64,
    pub(crate) indexed_versions: Version,
}

impl From<CountersOfFormat5> for StoreCounters {
    fn from(old: CountersOfFormat5) -> Self {
        StoreCounters {
            latest_version: old.latest_version,
            last_entity: old.last_entity,
            last_attr: old.last_attr,
            indexed_versions: old.indexed_versions,
            format: 5,
        }
    }
}

/// The counters record as formats 2 to 4 wrote it: those formats indexed every version.
/// A process of such a build fails to decode the current record (`Corrupt`), so it stops
/// instead of writing index entries the current rule does not expect.
#[derive(serde::Deserialize)]
#[cfg_attr(test, derive(serde::Serialize))]
pub(crate) struct CountersOfFormat4 {
    pub(crate) latest_version: Version,
    pub(crate) last_entity: u64,
    pub(crate) last_attr: u64,
}

impl From<CountersOfFormat4> for StoreCounters {
    fn from(old: CountersOfFormat4) -> Self {
        StoreCounters {
            latest_version: old.latest_version,
            last_entity: old.last_entity,
            last_attr: old.last_attr,
            indexed_versions: old.latest_version,
            format: 4,
        }
    }
}

/// The value of the counter or metadata `name` from its stored bytes (0 when absent).
pub(crate) fn meta_value(name: &str, bytes: Option<&[u8]>) -> Result<u64> {
    match bytes {
        Some(bytes) => decode(bytes, &|| format!("metadata '{name}'")),
        None => Ok(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::encode;

    /// Processes of format-4 and format-5 builds refuse the current counters record (their
    /// next write fails instead of writing by their own rules), and the counters of
    /// formats 4 and 5 read as they were meant: format 4 indexed every version.
    #[test]
    fn the_counters_record_of_formats_4_5_and_of_now() {
        let now = StoreCounters {
            latest_version: 70,
            last_entity: 9,
            last_attr: 12,
            indexed_versions: 63,
            format: crate::db::FORMAT_VERSION,
        };
        let stored = encode(&now);
        let read_by_format_4 = decode::<CountersOfFormat4>(&stored, &String::new);
        assert!(matches!(read_by_format_4, Err(Error::Corrupt(_))));
        let read_by_format_5 = decode::<CountersOfFormat5>(&stored, &String::new);
        assert!(matches!(read_by_format_5, Err(Error::Corrupt(_))));

        let kv = crate::storage::MemoryBackend::new();
        use crate::storage::Backend;
        let read_back = |record: Vec<u8>| {
            kv.apply(vec![(keys::counters(), Some(record))]).unwrap();
            let snapshot = kv.snapshot().unwrap();
            View::new(&*snapshot, None).store_counters().unwrap()
        };
        let written_by_format_4 = CountersOfFormat4 {
            latest_version: 70,
            last_entity: 9,
            last_attr: 12,
        };
        assert_eq!(
            read_back(encode(&written_by_format_4)),
            StoreCounters {
                indexed_versions: 70,
                format: 4,
                ..now
            }
        );
        let written_by_format_5 = CountersOfFormat5 {
            latest_version: 70,
            last_entity: 9,
            last_attr: 12,
            indexed_versions: 63,
        };
        assert_eq!(
            read_back(encode(&written_by_format_5)),
            StoreCounters { format: 5, ..now }
        );
        assert_eq!(read_back(stored), now, "the record as it is now");
    }
}
