//! Writes: a [`Transaction`] collects changes, reads its own writes, and commits them as
//! one version — or leaves no trace.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::codec::encode;
use crate::db::Shared;
use crate::error::{Error, Result};
use crate::filter::{AttrFilter, NumberMatch, SubkeyMatch, TextMatch};
use crate::index;
use crate::keys::{self, FreshIds};
use crate::model::RackLayout;
use crate::records::{AttrId, Attribute, Change, Entity, EntityId, Version, VersionInfo};
use crate::resources::ManagerState;
use crate::storage::{Layered, Pending, WriteLease};
use crate::touched;
use crate::validate;
use crate::value::{Timestamp, Value};
use crate::version_index;
use crate::view::{StoreCounters, View};

/// Who makes a change and why; recorded with the version it commits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TxMeta {
    /// The user recorded with the version.
    pub user: Option<String>,
    /// The description recorded with the version.
    pub description: Option<String>,
}

impl TxMeta {
    /// A change by `user`, for `description`.
    pub fn new(user: impl Into<String>, description: impl Into<String>) -> Self {
        TxMeta {
            user: Some(user.into()),
            description: Some(description.into()),
        }
    }
}

/// How a new attribute gets its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NumberSpec {
    /// No number.
    #[default]
    None,
    /// This number; the counter does not move.
    Exact(i64),
    /// The next number of counter (entity, key): 0, 1, 2… never reused.
    Next,
}

/// An attribute to add or set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttr {
    /// The key.
    pub key: String,
    /// The subkey (`Some("")` is a real, empty subkey).
    pub subkey: Option<String>,
    /// How the number is chosen.
    pub number: NumberSpec,
    /// The value.
    pub value: Value,
}

impl NewAttr {
    /// An attribute with this key and value, no subkey and no number.
    pub fn new(key: impl Into<String>, value: impl Into<Value>) -> Self {
        NewAttr {
            key: key.into(),
            subkey: None,
            number: NumberSpec::None,
            value: value.into(),
        }
    }

    /// Sets the subkey.
    pub fn subkey(mut self, subkey: impl Into<String>) -> Self {
        self.subkey = Some(subkey.into());
        self
    }

    /// Sets an explicit number.
    pub fn number(mut self, number: i64) -> Self {
        self.number = NumberSpec::Exact(number);
        self
    }

    /// Takes the number from the (entity, key) counter.
    pub fn next_number(mut self) -> Self {
        self.number = NumberSpec::Next;
        self
    }

    /// The filter that finds the attributes `set_attr` replaces: same key, same subkey
    /// (or none), same number (any number for [`NumberSpec::Next`]), hidden or not.
    pub(crate) fn same_slot(&self) -> AttrFilter {
        AttrFilter {
            key: Some(TextMatch::Exact(self.key.clone())),
            subkey: match &self.subkey {
                None => SubkeyMatch::Null,
                Some(s) => SubkeyMatch::Is(TextMatch::Exact(s.clone())),
            },
            number: match self.number {
                NumberSpec::None => NumberMatch::Null,
                NumberSpec::Exact(n) => NumberMatch::Is(n),
                NumberSpec::Next => NumberMatch::NotNull,
            },
            value: None,
            include_hidden: true,
        }
    }
}

/// What a transaction reads of the store's counters: the version it commits as and the
/// ids it gives. The id counters stay here and are stored once, with the version, at
/// commit (a load gives a dozen ids per server, each a read and a write otherwise).
#[derive(Debug, Clone, Copy)]
struct Counters {
    version: Version,
    ids: IdCounters,
    ids_at_begin: IdCounters,
    /// The store's indexes by user and by time are complete up to this version.
    indexed_versions: Version,
}

/// The last entity and attribute ids given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct IdCounters {
    entity: u64,
    attr: u64,
}

/// Format 1's metadata key of the last attribute id given (see [`crate::upgrade`]).
pub(crate) const NEXT_ATTR_ID_V1: &str = "next_attr_id";

/// Format 1's metadata key of the newest committed version.
pub(crate) const LATEST_VERSION_V1: &str = "latest_version";

/// Format 1's metadata key of the last entity id given.
pub(crate) const NEXT_ENTITY_ID_V1: &str = "next_entity_id";

/// Rows per stored chunk of a version's change list.
pub(crate) const CHANGES_PER_CHUNK: usize = 4096;

/// A write transaction. Only one is open at a time per database; dropping it without
/// [`Transaction::commit`] discards every change. A failed operation inside it is
/// undone on its own, leaving the transaction's earlier work in place.
pub struct Transaction {
    shared: Arc<Shared>,
    /// The write lease across processes; `None` once committed.
    lease: Option<Box<dyn WriteLease>>,
    pending: Pending,
    changes: Vec<Change>,
    /// Attributes this transaction created and deleted again: visible at no version.
    vanished: Vec<AttrId>,
    /// The version this transaction makes and the id counters, read under the lease
    /// when first needed (see [`Counters`]).
    counters: Option<Counters>,
    /// Entities this transaction has read and found live, by id: an operation checks its
    /// entities are live, and a load's server is checked a dozen times. Forgotten when
    /// the entity's record is written and when an operation fails.
    live: RefCell<HashMap<EntityId, Entity>>,
    meta: TxMeta,
    /// Custom drivers whose stored specification this transaction has seen current.
    pub(crate) drivers_stored: HashSet<String>,
    /// What operations worked out from an entity's attributes, kept with their own
    /// writes applied for the next operation of this transaction on that entity (a load
    /// racks 40 servers in a row in one rack and takes 1000 addresses from one manager;
    /// each would read the rack's every unit, or the manager's properties, again).
    /// Forgotten when the entity's record or any of its attributes is written
    /// otherwise, and when an operation fails.
    pub(crate) derived: HashMap<EntityId, Derived>,
}

/// State an operation derives from an entity's attributes (see
/// [`Transaction::derived`]).
pub(crate) enum Derived {
    /// A rack's bounds and occupied units.
    Rack(RackLayout),
    /// A resource manager, its range and its last address handed out.
    Manager(ManagerState),
}

impl Transaction {
    pub(crate) fn begin(shared: Arc<Shared>, meta: TxMeta) -> Result<Self> {
        shared.writable()?;
        shared.writer.acquire(shared.thread_wait(), || {
            shared
                .path
                .clone()
                .unwrap_or_else(|| shared.backend.engine().into())
        })?;
        // A server sends the lease's request with the transaction's first statement,
        // and these reads with them.
        let leased = shared
            .backend
            .begin_write_prefetching(shared.lock_wait, &[keys::counters()]);
        let lease = match leased {
            Ok(lease) => lease,
            Err(e) => {
                shared.writer.release();
                return Err(e);
            }
        };
        Ok(Transaction {
            shared,
            lease: Some(lease),
            pending: Pending::default(),
            changes: Vec::new(),
            vanished: Vec::new(),
            counters: None,
            live: RefCell::default(),
            drivers_stored: HashSet::new(),
            derived: HashMap::new(),
            meta,
        })
    }

    /// The version this transaction commits as, if it changes anything.
    pub fn version(&mut self) -> Result<Version> {
        Ok(self.counters()?.version)
    }

    /// The version and id counters, read the first time they are needed.
    fn counters(&mut self) -> Result<&mut Counters> {
        if self.counters.is_none() {
            let stored = self.view().store_counters()?;
            if stored.format > crate::db::FORMAT_VERSION {
                return Err(Error::UnsupportedFormat {
                    found: stored.format,
                    supported: crate::db::FORMAT_VERSION,
                });
            }
            let ids = IdCounters {
                entity: stored.last_entity,
                attr: stored.last_attr,
            };
            let fresh = FreshIds {
                entity: ids.entity + 1,
                attr: ids.attr + 1,
            };
            self.pending.set_fresh(fresh);
            if let Some(lease) = self.lease.as_mut() {
                lease.fresh_ids(fresh);
            }
            self.counters = Some(Counters {
                version: stored.latest_version + 1,
                ids,
                ids_at_begin: ids,
                indexed_versions: stored.indexed_versions,
            });
        }
        Ok(self.counters.as_mut().expect("read above"))
    }

    /// A live view that includes this transaction's own writes.
    pub fn view(&self) -> View<'_> {
        let lease = self
            .lease
            .as_deref()
            .expect("a transaction holds its lease until commit");
        View::layered(Layered::new(lease, &self.pending))
    }

    /// Runs one operation so that it applies whole or not at all.
    pub(crate) fn atomic<T>(&mut self, op: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        let mark = self.pending.mark();
        let changes = self.changes.len();
        let vanished = self.vanished.len();
        let ids = self.counters.map(|c| c.ids);
        let result = op(self);
        if result.is_err() {
            self.pending.undo_to(mark);
            self.changes.truncate(changes);
            self.vanished.truncate(vanished);
            if let Some(c) = &mut self.counters {
                c.ids = ids.unwrap_or(c.ids_at_begin);
            }
            self.live.get_mut().clear();
            self.derived.clear();
        } else {
            self.pending.keep(mark);
        }
        result
    }

    pub(crate) fn put_key(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.pending.put(key, Some(value));
    }

    pub(crate) fn remove_key(&mut self, key: Vec<u8>) {
        self.pending.put(key, None);
    }

    fn next_entity_id(&mut self) -> Result<EntityId> {
        let ids = &mut self.counters()?.ids;
        ids.entity += 1;
        Ok(EntityId(ids.entity))
    }

    fn next_attr_id(&mut self) -> Result<AttrId> {
        let ids = &mut self.counters()?.ids;
        ids.attr += 1;
        Ok(AttrId(ids.attr))
    }

    /// Stores the counters as of this commit: `version` is the newest, and the indexes
    /// by user and by time are complete up to `indexed_versions`.
    fn store_counters(&mut self, version: Version, indexed_versions: Version) -> Result<()> {
        let ids = self.counters()?.ids;
        let stored = StoreCounters {
            latest_version: version,
            last_entity: ids.entity,
            last_attr: ids.attr,
            indexed_versions,
            format: crate::db::FORMAT_VERSION,
        };
        self.put_key(keys::counters(), encode(&stored));
        Ok(())
    }

    pub(crate) fn live_entity(&self, id: EntityId) -> Result<Entity> {
        if let Some(e) = self.live.borrow().get(&id) {
            return Ok(e.clone());
        }
        let e = self.view().entity_by_id(id)?;
        if e.deleted_at.is_some() {
            return Err(Error::NotFound(format!(
                "entity '{}' ({id}) was deleted",
                e.name
            )));
        }
        self.live.borrow_mut().insert(id, e.clone());
        Ok(e)
    }

    /// Fails as [`Transaction::live_entity`] does, without copying the record.
    fn ensure_live(&self, id: EntityId) -> Result<()> {
        if self.live.borrow().contains_key(&id) {
            return Ok(());
        }
        self.live_entity(id).map(drop)
    }

    /// Writes an entity record, replacing `old`'s index entries by the new ones.
    fn store_entity(&mut self, old: Option<&Entity>, new: &Entity) {
        self.live.get_mut().remove(&new.id);
        self.derived.remove(&new.id);
        let fresh = index::entity_entries(new);
        if let Some(old) = old {
            for (key, _) in index::entity_entries(old) {
                if !fresh.iter().any(|(k, _)| *k == key) {
                    self.remove_key(key);
                }
            }
        }
        for (key, value) in fresh {
            self.put_key(key, value);
        }
        self.put_key(keys::entity(new.id), encode(new));
    }

    /// Writes an attribute record (moving it to the deleted space once deleted),
    /// replacing `old`'s index entries by the new ones.
    fn store_attr(&mut self, old: Option<&Attribute>, new: &Attribute) -> Result<()> {
        self.derived.remove(&new.entity);
        if let Some(old) = old {
            for key in index::attr_keys(old) {
                self.remove_key(key);
            }
            self.remove_key(keys::attr(old.entity, old.id, old.deleted_at.is_none()));
        }
        for (key, value) in index::attr_entries(new) {
            self.put_key(key, value);
        }
        self.put_key(
            keys::attr(new.entity, new.id, new.deleted_at.is_none()),
            encode(new),
        );
        self.track_held_values(old, new)
    }

    pub(crate) fn retire_attr(&mut self, attr: &Attribute) -> Result<()> {
        let mut gone = attr.clone();
        let version = self.version()?;
        gone.deleted_at = Some(version);
        if attr.version == version {
            // Created by this transaction: visible at no version, so it leaves no row and
            // no change behind (a `_lastip` replaced 1000 times in one bulk load). Not
            // written through `store_attr`, so what was derived from it goes here.
            self.derived.remove(&attr.entity);
            for key in index::attr_keys(attr) {
                self.pending.discard(key);
            }
            self.pending.discard(keys::attr(attr.entity, attr.id, true));
            self.vanished.push(attr.id);
            return self.track_held_values(Some(attr), &gone);
        }
        self.store_attr(Some(attr), &gone)?;
        self.changes.push(Change::AttrDeleted {
            entity: attr.entity,
            attr: attr.id,
        });
        Ok(())
    }

    /// Creates an entity. The name must be free among live entities.
    pub fn create_entity(&mut self, name: &str, type_name: &str, driver: &str) -> Result<Entity> {
        validate::entity_name(name)?;
        validate::type_name("type", type_name)?;
        validate::type_name("driver", driver)?;
        let entity = self.atomic(|tx| {
            tx.store_driver(driver)?;
            if tx.view().find(name)?.is_some() {
                return Err(Error::AlreadyExists(format!(
                    "entity '{name}' already exists"
                )));
            }
            let entity = Entity {
                id: tx.next_entity_id()?,
                name: name.to_owned(),
                type_name: type_name.to_owned(),
                driver: driver.to_owned(),
                version: tx.version()?,
                deleted_at: None,
            };
            tx.store_entity(None, &entity);
            tx.changes.push(Change::EntityCreated { entity: entity.id });
            Ok(entity)
        })?;
        self.drivers_stored.insert(driver.to_owned());
        Ok(entity)
    }

    fn check_value(&self, value: &Value) -> Result<()> {
        match value {
            Value::Json(text) => Value::check_json(text),
            Value::Relation(target) if self.live.borrow().contains_key(target) => Ok(()),
            Value::Relation(target) => match self.view().entity_record(*target)? {
                Some(e) if e.deleted_at.is_none() => Ok(()),
                Some(e) => Err(Error::InvalidValue(format!(
                    "relation to '{}' ({target}), which was deleted",
                    e.name
                ))),
                None => Err(Error::InvalidValue(format!(
                    "relation to entity {target}, which does not exist"
                ))),
            },
            _ => Ok(()),
        }
    }

    /// Adds an attribute to a live entity and returns it.
    pub fn add_attr(&mut self, owner: EntityId, attr: NewAttr) -> Result<Attribute> {
        validate::attr_key("key", &attr.key)?;
        validate::attr_subkey(attr.subkey.as_deref())?;
        self.atomic(|tx| tx.insert_attr(owner, attr))
    }

    pub(crate) fn insert_attr(&mut self, owner: EntityId, attr: NewAttr) -> Result<Attribute> {
        self.ensure_live(owner)?;
        self.check_value(&attr.value)?;
        let number = match attr.number {
            NumberSpec::None => None,
            NumberSpec::Exact(n) => Some(n),
            NumberSpec::Next => Some(self.bump_counter(owner, &attr.key, -1)?),
        };
        let record = Attribute {
            id: self.next_attr_id()?,
            entity: owner,
            key: attr.key,
            subkey: attr.subkey,
            number,
            value: attr.value,
            version: self.version()?,
            deleted_at: None,
        };
        self.store_attr(None, &record)?;
        self.changes.push(Change::AttrAdded {
            entity: owner,
            attr: record.id,
        });
        Ok(record)
    }

    /// Replaces the one attribute with the same key, subkey and number (any number for
    /// [`NumberSpec::Next`]) by the new value. Setting the value it already has changes
    /// nothing; several matching attributes are an [`Error::Ambiguous`].
    pub fn set_attr(&mut self, owner: EntityId, attr: NewAttr) -> Result<Attribute> {
        validate::attr_key("key", &attr.key)?;
        validate::attr_subkey(attr.subkey.as_deref())?;
        self.atomic(|tx| {
            tx.view().read_entity_ahead(owner)?;
            let matches = tx.view().attrs(owner, &attr.same_slot())?;
            tx.replace_in_slot(owner, attr, matches)
        })
    }

    /// [`Transaction::set_attr`]'s rule, given the attributes of `owner` in `attr`'s
    /// slot (`matches`: read by the caller, inside the same operation).
    pub(crate) fn replace_in_slot(
        &mut self,
        owner: EntityId,
        attr: NewAttr,
        mut matches: Vec<Attribute>,
    ) -> Result<Attribute> {
        if matches.len() > 1 {
            let name = self.live_entity(owner)?.name;
            let subkey = attr
                .subkey
                .as_ref()
                .map_or_else(|| "none".to_owned(), |s| format!("'{s}'"));
            let number = match attr.number {
                NumberSpec::None => "none".to_owned(),
                NumberSpec::Exact(n) => n.to_string(),
                NumberSpec::Next => "the next".to_owned(),
            };
            return Err(Error::Ambiguous(format!(
                "entity '{name}' has {} attributes with key '{}', subkey {subkey} and \
                 number {number}: set_attr needs at most one",
                matches.len(),
                attr.key,
            )));
        }
        if let Some(old) = matches.pop() {
            if old.value == attr.value {
                return Ok(old);
            }
            self.retire_attr(&old)?;
        }
        self.insert_attr(owner, attr)
    }

    /// Deletes every attribute of `owner` that passes `filter`; returns how many.
    pub fn delete_attrs(&mut self, owner: EntityId, filter: &AttrFilter) -> Result<usize> {
        self.atomic(|tx| {
            tx.view().read_entity_ahead(owner)?;
            tx.live_entity(owner)?;
            let doomed = tx.view().attrs(owner, filter)?;
            for a in &doomed {
                tx.retire_attr(a)?;
            }
            Ok(doomed.len())
        })
    }

    pub(crate) fn bump_counter(&mut self, owner: EntityId, key: &str, default: i64) -> Result<i64> {
        let next = self.view().counter(owner, key)?.unwrap_or(default) + 1;
        self.write_counter(owner, key, Some(next));
        Ok(next)
    }

    pub(crate) fn write_counter(&mut self, owner: EntityId, key: &str, value: Option<i64>) {
        let k = keys::counter(owner, key);
        match value {
            Some(v) => self.put_key(k, encode(&v)),
            None => self.remove_key(k),
        }
        self.changes.push(Change::CounterSet {
            entity: owner,
            key: key.to_owned(),
            value,
        });
    }

    /// Increments counter (`owner`, `key`), creating it at `default` first, and returns
    /// the new value. A counter never goes back.
    pub fn counter_next(&mut self, owner: EntityId, key: &str, default: i64) -> Result<i64> {
        self.atomic(|tx| {
            tx.live_entity(owner)?;
            tx.bump_counter(owner, key, default)
        })
    }

    /// Sets counter (`owner`, `key`) to `value`, creating it if needed.
    pub fn counter_set(&mut self, owner: EntityId, key: &str, value: i64) -> Result<()> {
        self.atomic(|tx| {
            tx.live_entity(owner)?;
            tx.write_counter(owner, key, Some(value));
            Ok(())
        })
    }

    /// Deletes counter (`owner`, `key`); returns whether it existed.
    pub fn counter_delete(&mut self, owner: EntityId, key: &str) -> Result<bool> {
        self.atomic(|tx| {
            if tx.view().counter(owner, key)?.is_none() {
                return Ok(false);
            }
            tx.write_counter(owner, key, None);
            Ok(true)
        })
    }

    fn retire_entity(&mut self, entity: &Entity) -> Result<()> {
        for (key, _) in self.view().counters(entity.id)? {
            self.write_counter(entity.id, &key, None);
        }
        let mut gone = entity.clone();
        gone.deleted_at = Some(self.version()?);
        self.store_entity(Some(entity), &gone);
        self.changes
            .push(Change::EntityDeleted { entity: entity.id });
        Ok(())
    }

    /// Deletes an entity: every attribute elsewhere that refers to it, its own
    /// attributes and its counters go with it. Older versions still show it.
    pub fn delete_entity(&mut self, name: &str) -> Result<()> {
        self.atomic(|tx| {
            let entity = tx.view().entity(name)?;
            let all = AttrFilter::any().with_hidden();
            for a in tx.view().references(entity.id, &all)? {
                tx.retire_attr(&a)?;
            }
            for a in tx.view().attrs(entity.id, &all)? {
                tx.retire_attr(&a)?;
            }
            tx.retire_entity(&entity)
        })
    }

    /// Renames an entity the way the original did: a new entity row takes the new name,
    /// its attributes and counters, every reference to the old row is re-pointed to it,
    /// and the old row is deleted, all in one version.
    pub fn rename(&mut self, old_name: &str, new_name: &str) -> Result<Entity> {
        validate::entity_name(new_name)?;
        self.atomic(|tx| {
            let old = tx.view().entity(old_name)?;
            if tx.view().find(new_name)?.is_some() {
                return Err(Error::AlreadyExists(format!(
                    "cannot rename '{old_name}': entity '{new_name}' already exists"
                )));
            }
            let new = tx.create_entity(new_name, &old.type_name, &old.driver)?;
            let repoint = |v: &Value| match v {
                Value::Relation(t) if *t == old.id => Value::Relation(new.id),
                other => other.clone(),
            };
            let all = AttrFilter::any().with_hidden();
            for a in tx.view().attrs(old.id, &all)? {
                tx.retire_attr(&a)?;
                tx.copy_attr(&a, new.id, repoint(&a.value))?;
            }
            for a in tx.view().references(old.id, &all)? {
                tx.retire_attr(&a)?;
                tx.copy_attr(&a, a.entity, Value::Relation(new.id))?;
            }
            for (key, value) in tx.view().counters(old.id)? {
                tx.write_counter(new.id, &key, Some(value));
            }
            tx.retire_entity(&old)?;
            Ok(new)
        })
    }

    fn copy_attr(&mut self, from: &Attribute, owner: EntityId, value: Value) -> Result<()> {
        let copy = NewAttr {
            key: from.key.clone(),
            subkey: from.subkey.clone(),
            number: from.number.map_or(NumberSpec::None, NumberSpec::Exact),
            value,
        };
        self.insert_attr(owner, copy).map(drop)
    }

    /// Changes an entity's driver and type in place (the row keeps its id and version,
    /// as in the original); the version records the old ones.
    pub fn change_driver(&mut self, name: &str, type_name: &str, driver: &str) -> Result<Entity> {
        validate::type_name("type", type_name)?;
        validate::type_name("driver", driver)?;
        let changed = self.atomic(|tx| {
            tx.store_driver(driver)?;
            let old = tx.view().entity(name)?;
            if old.type_name == type_name && old.driver == driver {
                return Ok(old);
            }
            let mut new = old.clone();
            new.type_name = type_name.to_owned();
            new.driver = driver.to_owned();
            tx.store_entity(Some(&old), &new);
            tx.changes.push(Change::DriverChanged {
                entity: old.id,
                old_type: old.type_name,
                old_driver: old.driver,
            });
            Ok(new)
        })?;
        self.drivers_stored.insert(driver.to_owned());
        Ok(changed)
    }

    /// Writes an imported entity row and its index entries as they are.
    pub(crate) fn import_entity(&mut self, e: &Entity) {
        self.store_entity(None, e);
    }

    /// Writes an imported attribute row and its index entries as they are.
    pub(crate) fn import_attr(&mut self, a: &Attribute) -> Result<()> {
        self.store_attr(None, a)
    }

    /// Applies the pending writes as they are (an import wrote its own version records,
    /// up to `latest`).
    pub(crate) fn commit_raw(mut self, latest: Version) -> Result<()> {
        self.apply(latest)
    }

    /// Commits the pending writes through the lease; `version` is the newest they record.
    fn apply(&mut self, version: Version) -> Result<()> {
        let writes = std::mem::take(&mut self.pending).into_writes();
        let lease = self.lease.take().expect("a transaction commits once");
        self.shared.commit(lease, writes, version)
    }

    /// Drops the changes that name rows this transaction created and deleted again: they
    /// are visible at no version, so the history has nothing to say about them.
    fn drop_vanished_changes(&mut self) {
        if self.vanished.is_empty() {
            return;
        }
        let vanished: HashSet<AttrId> = std::mem::take(&mut self.vanished).into_iter().collect();
        self.changes.retain(
            |change| !matches!(change, Change::AttrAdded { attr, .. } if vanished.contains(attr)),
        );
    }

    /// Commits: returns the new version, or `None` when nothing changed (no version is
    /// used up). In the default durable mode the data is on disk when this returns.
    pub fn commit(mut self) -> Result<Option<Version>> {
        // A transaction that only added and removed again its own rows still made a
        // version (as the original did); its change list is just empty.
        if self.changes.is_empty() {
            return Ok(None);
        }
        self.drop_vanished_changes();
        let version = self.version()?;
        let info = VersionInfo {
            version,
            timestamp: Some(Timestamp::now()),
            user: self.meta.user.clone(),
            description: self.meta.description.clone(),
        };
        self.put_key(keys::version(version), encode(&info));
        let mut indexed = self.counters()?.indexed_versions;
        if let Some(block) = version_index::to_index(indexed, version) {
            for done in self.view().version_infos(block.clone())? {
                for key in version_index::keys_of(&done) {
                    self.put_key(key, Vec::new());
                }
            }
            indexed = *block.end();
        }
        self.store_counters(version, indexed)?;
        for key in touched::entries_of(version, &self.changes) {
            self.put_key(key, Vec::new());
        }
        let changes = std::mem::take(&mut self.changes);
        for (n, chunk) in changes.chunks(CHANGES_PER_CHUNK).enumerate() {
            self.put_key(
                keys::version_changes(version, n as u32),
                encode(&chunk.to_vec()),
            );
        }
        self.apply(version)?;
        Ok(Some(version))
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        // The lease goes first: the next writer of this process takes it at once.
        self.lease = None;
        self.shared.writer.release();
    }
}
