//! Importing rows with their own ids and history — from an original clusto database, or
//! a dump — into an empty database. Every rule of the live API is bypassed on purpose:
//! the rows already happened; what is checked is that they are consistent.

use std::collections::BTreeMap;

use crate::codec::encode;
use crate::db::Clusto;
use crate::error::{Error, Result};
use crate::keys;
use crate::records::{Attribute, Change, Entity, EntityId, Version, VersionInfo};
use crate::txn::{Transaction, TxMeta};
use crate::version_index;

/// Collects imported rows; [`Importer::finish`] writes them in one atomic batch.
pub struct Importer {
    tx: Transaction,
    entities: BTreeMap<EntityId, Entity>,
    changes: BTreeMap<Version, Vec<Change>>,
    versions: Vec<VersionInfo>,
    live_names: std::collections::HashSet<String>,
    max_attr: u64,
    /// Every attribute id seen, checked for repeats at the end (a sorted list costs less
    /// than a set at millions of rows).
    attr_ids: Vec<u64>,
}

impl Clusto {
    /// Starts an import into this database, which must hold no entity and no version.
    pub fn importer(&self) -> Result<Importer> {
        let tx = self.begin(TxMeta::default())?;
        let view = tx.view();
        if view.latest_version()? != 0 || !view.all_entities()?.is_empty() {
            return Err(Error::Conflict(
                "the target database is not empty: import into a new database".into(),
            ));
        }
        Ok(Importer {
            tx,
            entities: BTreeMap::new(),
            changes: BTreeMap::new(),
            versions: Vec::new(),
            live_names: Default::default(),
            max_attr: 0,
            attr_ids: Vec::new(),
        })
    }
}

/// A row is created at a version (they start at 1) and deleted, if at all, no earlier.
fn row_versions(what: &str, version: Version, deleted_at: Option<Version>) -> Result<()> {
    if version == 0 {
        return Err(Error::InvalidValue(format!(
            "{what} is created at version 0: versions start at 1"
        )));
    }
    if deleted_at.is_some_and(|d| d < version) {
        return Err(Error::InvalidValue(format!(
            "{what} is deleted before it was created"
        )));
    }
    Ok(())
}

impl Importer {
    fn note(&mut self, version: Version, change: Change) {
        self.changes.entry(version).or_default().push(change);
    }

    /// Adds an entity row with its own id, versions and (if deleted) deletion version.
    pub fn entity(&mut self, e: Entity) -> Result<()> {
        row_versions(&format!("entity {}", e.id), e.version, e.deleted_at)?;
        if self.entities.contains_key(&e.id) {
            return Err(Error::AlreadyExists(format!(
                "entity id {} appears twice",
                e.id.0
            )));
        }
        if e.deleted_at.is_none() && !self.live_names.insert(e.name.clone()) {
            return Err(Error::AlreadyExists(format!(
                "two live entities are named '{}'",
                e.name
            )));
        }
        self.tx.import_entity(&e);
        self.note(e.version, Change::EntityCreated { entity: e.id });
        if let Some(d) = e.deleted_at {
            self.note(d, Change::EntityDeleted { entity: e.id });
        }
        self.entities.insert(e.id, e);
        Ok(())
    }

    /// The entity row with this id, if imported.
    pub fn entity_row(&self, id: EntityId) -> Option<&Entity> {
        self.entities.get(&id)
    }

    /// Adds an attribute row (after its entity and, for a relation, its target).
    pub fn attr(&mut self, a: Attribute) -> Result<()> {
        row_versions(&format!("attribute {}", a.id.0), a.version, a.deleted_at)?;
        let owner = self.entities.get(&a.entity).ok_or_else(|| {
            Error::NotFound(format!(
                "attribute {} belongs to missing entity {}",
                a.id.0, a.entity
            ))
        })?;
        if a.deleted_at.is_none() && owner.deleted_at.is_some() {
            return Err(Error::InvalidValue(format!(
                "attribute {} is live but its entity '{}' was deleted",
                a.id.0, owner.name
            )));
        }
        if let Some(target) = a.value.as_relation() {
            let t = self.entities.get(&target).ok_or_else(|| {
                Error::NotFound(format!(
                    "attribute {} refers to missing entity {}",
                    a.id.0, target
                ))
            })?;
            if a.deleted_at.is_none() && t.deleted_at.is_some() {
                return Err(Error::InvalidValue(format!(
                    "attribute {} is live but refers to deleted entity '{}'",
                    a.id.0, t.name
                )));
            }
        }
        if let crate::value::Value::Json(text) = &a.value {
            crate::value::Value::check_json(text)?;
        }
        self.tx.import_attr(&a)?;
        self.note(
            a.version,
            Change::AttrAdded {
                entity: a.entity,
                attr: a.id,
            },
        );
        if let Some(d) = a.deleted_at {
            self.note(
                d,
                Change::AttrDeleted {
                    entity: a.entity,
                    attr: a.id,
                },
            );
        }
        self.max_attr = self.max_attr.max(a.id.0);
        self.attr_ids.push(a.id.0);
        Ok(())
    }

    /// Sets a counter of a live entity.
    pub fn counter(&mut self, entity: EntityId, key: &str, value: i64) -> Result<()> {
        match self.entities.get(&entity) {
            Some(e) if e.deleted_at.is_none() => {
                self.tx.put_key(keys::counter(entity, key), encode(&value));
                Ok(())
            }
            Some(e) => Err(Error::InvalidValue(format!(
                "counter '{key}' belongs to deleted entity '{}'",
                e.name
            ))),
            None => Err(Error::NotFound(format!(
                "counter '{key}' belongs to missing entity {entity}"
            ))),
        }
    }

    /// Adds a version record.
    pub fn version(&mut self, info: VersionInfo) {
        self.versions.push(info);
    }

    /// Writes everything in one atomic batch: the rows, their indexes, the version
    /// records with the changes each version made, and the counters of ids.
    pub fn finish(mut self) -> Result<Version> {
        self.attr_ids.sort_unstable();
        if let Some(pair) = self.attr_ids.windows(2).find(|p| p[0] == p[1]) {
            return Err(Error::AlreadyExists(format!(
                "attribute id {} appears twice",
                pair[0]
            )));
        }
        self.versions.sort_by_key(|v| v.version);
        let latest = self.versions.last().map_or(0, |v| v.version);
        for (i, v) in self.versions.iter().enumerate() {
            if v.version != i as u64 + 1 {
                return Err(Error::InvalidValue(format!(
                    "versions have a gap before {}",
                    v.version
                )));
            }
        }
        if let Some((&v, _)) = self.changes.range(latest + 1..).next() {
            return Err(Error::InvalidValue(format!(
                "rows refer to version {v}, beyond the last version {latest}"
            )));
        }
        for (&version, changes) in &self.changes {
            for key in crate::touched::entries_of(version, changes) {
                self.tx.put_key(key, Vec::new());
            }
        }
        for info in &self.versions {
            self.tx.put_key(keys::version(info.version), encode(info));
            for key in version_index::keys_of(info) {
                self.tx.put_key(key, Vec::new());
            }
            let changes = self.changes.remove(&info.version).unwrap_or_default();
            for (n, chunk) in changes.chunks(crate::txn::CHANGES_PER_CHUNK).enumerate() {
                self.tx.put_key(
                    keys::version_changes(info.version, n as u32),
                    encode(&chunk.to_vec()),
                );
            }
        }
        let counters = crate::view::StoreCounters {
            latest_version: latest,
            last_entity: self.entities.keys().next_back().map_or(0, |e| e.0),
            last_attr: self.max_attr,
            indexed_versions: latest,
            format: crate::db::FORMAT_VERSION,
        };
        self.tx.put_key(keys::counters(), encode(&counters));
        self.tx.commit_raw(latest)?;
        Ok(latest)
    }
}
