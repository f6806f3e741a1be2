//! The records clusto stores: entities, attributes, versions and the changes a version made.
//!
//! These are also the public data types: what a read returns is the stored record.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::value::{Timestamp, Value, ValueRef};

/// A committed transaction's number. Versions start at 1 and have no gaps.
pub type Version = u64;

/// The id of one entity row (one incarnation of a name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EntityId(pub u64);

/// The id of one attribute row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AttrId(pub u64);

impl fmt::Display for EntityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

impl fmt::Display for AttrId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "attr #{}", self.0)
    }
}

/// Whether a record created at `version` and deleted at `deleted_at` is visible: live
/// when `at` is `None`, else as of the end of version `at` (the original's
/// `version <= V AND (deleted_at_version IS NULL OR deleted_at_version > V)`).
pub fn visible(version: Version, deleted_at: Option<Version>, at: Option<Version>) -> bool {
    match at {
        None => deleted_at.is_none(),
        Some(v) => version <= v && deleted_at.is_none_or(|d| d > v),
    }
}

/// One incarnation of a named thing: a server, a rack, a pool, a resource manager…
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entity {
    /// Row id; a rename or a re-creation gives a new one.
    pub id: EntityId,
    /// Unique among live entities.
    pub name: String,
    /// The clusto type, e.g. `server`, `pool`, `rack`.
    pub type_name: String,
    /// The driver name, e.g. `basicserver`.
    pub driver: String,
    /// The version that created this row.
    pub version: Version,
    /// The version that deleted it, if it was deleted.
    pub deleted_at: Option<Version>,
}

impl Entity {
    /// Whether the entity is visible live (`at = None`) or as of version `at`.
    pub fn visible_at(&self, at: Option<Version>) -> bool {
        visible(self.version, self.deleted_at, at)
    }
}

/// One attribute row: `(key, subkey, number, value)` on an entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribute {
    /// Row id, in creation order.
    pub id: AttrId,
    /// The entity the attribute belongs to.
    pub entity: EntityId,
    /// The key; keys starting with `_` are hidden.
    pub key: String,
    /// The optional subkey; `Some("")` and `None` are different.
    pub subkey: Option<String>,
    /// The optional number.
    pub number: Option<i64>,
    /// The typed value.
    pub value: Value,
    /// The version that created this row.
    pub version: Version,
    /// The version that deleted it, if it was deleted.
    pub deleted_at: Option<Version>,
}

/// An attribute record read in place, its texts borrowed from the stored bytes: a scan
/// tests its filter on these and copies out only the rows it keeps. Its fields are
/// [`Attribute`]'s, in the same order, so it decodes from the same stored bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub(crate) struct AttrRef<'a> {
    pub id: AttrId,
    pub entity: EntityId,
    pub key: &'a str,
    #[serde(borrow)]
    pub subkey: Option<&'a str>,
    pub number: Option<i64>,
    #[serde(borrow)]
    pub value: ValueRef<'a>,
    pub version: Version,
    pub deleted_at: Option<Version>,
}

impl AttrRef<'_> {
    /// Whether the key is hidden (starts with `_`).
    pub(crate) fn is_hidden(&self) -> bool {
        self.key.starts_with('_')
    }

    /// Whether the attribute is visible live (`at = None`) or as of version `at`.
    pub(crate) fn visible_at(&self, at: Option<Version>) -> bool {
        visible(self.version, self.deleted_at, at)
    }

    /// The owned record.
    pub(crate) fn to_attribute(self) -> Attribute {
        Attribute {
            id: self.id,
            entity: self.entity,
            key: self.key.to_owned(),
            subkey: self.subkey.map(str::to_owned),
            number: self.number,
            value: self.value.to_value(),
            version: self.version,
            deleted_at: self.deleted_at,
        }
    }
}

impl Attribute {
    /// Whether the attribute is visible live (`at = None`) or as of version `at`.
    pub fn visible_at(&self, at: Option<Version>) -> bool {
        visible(self.version, self.deleted_at, at)
    }

    /// This record, borrowed.
    pub(crate) fn as_attr_ref(&self) -> AttrRef<'_> {
        AttrRef {
            id: self.id,
            entity: self.entity,
            key: &self.key,
            subkey: self.subkey.as_deref(),
            number: self.number,
            value: self.value.as_value_ref(),
            version: self.version,
            deleted_at: self.deleted_at,
        }
    }

    /// Whether the key is hidden (starts with `_`).
    pub fn is_hidden(&self) -> bool {
        self.as_attr_ref().is_hidden()
    }
}

/// The record of one committed version: who, when, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionInfo {
    /// The version number.
    pub version: Version,
    /// When it was committed (UTC), or `None` for imported versions without a time.
    pub timestamp: Option<Timestamp>,
    /// Who committed it.
    pub user: Option<String>,
    /// Why.
    pub description: Option<String>,
}

/// One change a version made. Attribute changes name the attribute row, which is kept
/// forever, so the full before/after can be read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change {
    /// An entity row was created.
    EntityCreated {
        /// The new row.
        entity: EntityId,
    },
    /// An entity row was deleted.
    EntityDeleted {
        /// The deleted row.
        entity: EntityId,
    },
    /// An entity's driver and type were changed in place.
    DriverChanged {
        /// The entity.
        entity: EntityId,
        /// Type before the change.
        old_type: String,
        /// Driver before the change.
        old_driver: String,
    },
    /// An attribute row was added.
    AttrAdded {
        /// The owner.
        entity: EntityId,
        /// The new row.
        attr: AttrId,
    },
    /// An attribute row was deleted.
    AttrDeleted {
        /// The owner.
        entity: EntityId,
        /// The deleted row.
        attr: AttrId,
    },
    /// A counter was set (counters are not versioned; this records the new value).
    CounterSet {
        /// The counter's entity.
        entity: EntityId,
        /// The counter's key.
        key: String,
        /// The value after the change, `None` when the counter was deleted.
        value: Option<i64>,
    },
}

impl Change {
    /// The kind of change, as every rendering names it (JSON `kind`, Python's
    /// `clusto.changes`): `entity_created`, `entity_deleted`, `driver_changed`,
    /// `attr_added`, `attr_deleted` or `counter_set`.
    pub fn kind(&self) -> &'static str {
        match self {
            Change::EntityCreated { .. } => "entity_created",
            Change::EntityDeleted { .. } => "entity_deleted",
            Change::DriverChanged { .. } => "driver_changed",
            Change::AttrAdded { .. } => "attr_added",
            Change::AttrDeleted { .. } => "attr_deleted",
            Change::CounterSet { .. } => "counter_set",
        }
    }

    /// The entity the change touched.
    pub fn entity(&self) -> EntityId {
        match self {
            Change::EntityCreated { entity }
            | Change::EntityDeleted { entity }
            | Change::DriverChanged { entity, .. }
            | Change::AttrAdded { entity, .. }
            | Change::AttrDeleted { entity, .. }
            | Change::CounterSet { entity, .. } => *entity,
        }
    }
}
