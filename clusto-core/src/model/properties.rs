//! Creating entities by driver, properties, and the `clustometa` singleton.

use crate::db::Clusto;
use crate::drivers::{self, DriverSpec};
use crate::error::{Error, Result};
use crate::filter::AttrFilter;
use crate::records::{Attribute, Entity, EntityId};
use crate::txn::{NewAttr, Transaction, TxMeta};
use crate::value::Value;
use crate::view::View;

/// The name of the singleton entity that holds the schema version and global counters.
pub const CLUSTOMETA: &str = "clustometa";
/// The schema version the original clusto wrote (its last release line).
pub const SCHEMA_VERSION: i64 = 3;

/// The subkey under which properties are stored.
const PROPERTY: &str = "property";

impl View<'_> {
    /// The driver spec the entity behaves by (generic for an unknown driver).
    pub fn spec_of(&self, entity: &Entity) -> std::sync::Arc<DriverSpec> {
        drivers::spec_of(entity)
    }

    /// Property `name` of an entity: its stored value, else the driver's default.
    pub fn property(&self, id: EntityId, name: &str) -> Result<Option<Value>> {
        Ok(self.properties(id, &[name])?.pop().flatten())
    }

    /// Properties `names` of an entity, in the order given: each its stored value, else
    /// the driver's default. One pass over the entity's attributes serves them all, which
    /// matters for a rack or a manager that holds thousands of attributes.
    pub fn properties(&self, id: EntityId, names: &[&str]) -> Result<Vec<Option<Value>>> {
        let entity = self.entity_by_id(id)?;
        // A property's name may start with `_`, like any key.
        let attrs = self.attrs(id, &AttrFilter::any().subkey(PROPERTY).with_hidden())?;
        properties_among(&entity, names, &attrs)
    }

    /// An integer property (e.g. a rack's `maxu`); `None` when unset.
    pub(crate) fn int_property(&self, id: EntityId, name: &str) -> Result<Option<i64>> {
        int_value(name, self.property(id, name)?)
    }

    /// A text property (e.g. an IP manager's `baseip`); `None` when unset.
    pub(crate) fn text_property(&self, id: EntityId, name: &str) -> Result<Option<String>> {
        Ok(text_value(self.property(id, name)?))
    }

    /// The `clustometa` singleton, if the database was initialised.
    pub fn clustometa(&self) -> Result<Option<Entity>> {
        self.find(CLUSTOMETA)
    }
}

/// Properties `names` of `entity`, in the order given, from its attributes `attrs`
/// already read (those that are not properties are passed over): each its stored value,
/// else the driver's default.
pub(crate) fn properties_among(
    entity: &Entity,
    names: &[&str],
    attrs: &[Attribute],
) -> Result<Vec<Option<Value>>> {
    let spec = drivers::spec_of(entity);
    let defaults = names
        .iter()
        .map(|name| spec.property_default(name).map(Option::<&Value>::cloned))
        .collect::<Result<Vec<_>>>()?;
    let mut stored: Vec<Vec<&Value>> = vec![Vec::new(); names.len()];
    for a in attrs
        .iter()
        .filter(|a| a.subkey.as_deref() == Some(PROPERTY))
    {
        if let Some(i) = names.iter().position(|n| *n == a.key) {
            stored[i].push(&a.value);
        }
    }
    names
        .iter()
        .zip(stored)
        .zip(defaults)
        .map(|((name, stored), default)| match stored[..] {
            [] => Ok(default),
            [value] => Ok(Some(value.clone())),
            _ => Err(Error::Ambiguous(format!(
                "entity '{}' has {} values for property '{name}'",
                entity.name,
                stored.len()
            ))),
        })
        .collect()
}

/// Property `name`'s value as an integer; `None` when unset.
pub(crate) fn int_value(name: &str, value: Option<Value>) -> Result<Option<i64>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Int(i)) => Ok(Some(i)),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| {
            Error::InvalidValue(format!("property '{name}' is '{s}', not an integer"))
        }),
        Some(other) => Err(Error::InvalidValue(format!(
            "property '{name}' is a {}, not an integer",
            other.datatype()
        ))),
    }
}

/// A property's value as text; `None` when unset.
pub(crate) fn text_value(value: Option<Value>) -> Option<String> {
    match value {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => Some(other.to_string()),
    }
}

impl Transaction {
    /// Creates an entity of a registered driver, with its type, and stores every
    /// property whose value (given, else the default) is not NULL. A property the driver
    /// does not have is an error.
    pub fn create(
        &mut self,
        driver: &str,
        name: &str,
        properties: &[(&str, Value)],
    ) -> Result<Entity> {
        let spec = drivers::require(driver)?;
        for (given, _) in properties {
            spec.property_default(given)?;
        }
        self.atomic(|tx| {
            let entity = tx.create_entity(name, &spec.type_name, &spec.name)?;
            for (prop, default) in &spec.properties {
                let value = properties
                    .iter()
                    .find(|(n, _)| n == prop)
                    .map(|(_, v)| v.clone())
                    .or_else(|| default.clone());
                if let Some(v) = value.filter(|v| *v != Value::Null) {
                    tx.insert_attr(entity.id, NewAttr::new(prop.as_str(), v).subkey(PROPERTY))?;
                }
            }
            Ok(entity)
        })
    }

    /// Sets property `name` of an entity (the driver must have it).
    pub fn set_property(&mut self, id: EntityId, name: &str, value: Value) -> Result<Attribute> {
        let entity = self.live_entity(id)?;
        drivers::spec_of(&entity).property_default(name)?;
        self.set_attr(id, NewAttr::new(name, value).subkey(PROPERTY))
    }

    /// Creates the `clustometa` singleton with the schema version if it does not exist,
    /// in this transaction's one version (outside a transaction, [`Clusto::init_clusto`]
    /// takes the original's two); idempotent (no change, so no version, when it exists).
    pub fn init_clusto(&mut self) -> Result<Entity> {
        let meta = match self.view().clustometa()? {
            Some(meta) => meta,
            None => self.create("clustometa", CLUSTOMETA, &[])?,
        };
        if self.view().property(meta.id, "schemaversion")?.is_none() {
            self.set_property(meta.id, "schemaversion", Value::Int(SCHEMA_VERSION))?;
        }
        Ok(meta)
    }
}

impl Clusto {
    /// Creates the `clustometa` singleton with the schema version as the original did:
    /// one version makes the entity, a second sets its `schemaversion`, so a new
    /// database is at version 2 afterwards, as scripts of the original expect.
    /// Idempotent: what exists is left as it is, and no version is made for it. Inside a
    /// transaction, [`Transaction::init_clusto`] does the same in one version.
    pub fn init_clusto(&self, meta: TxMeta) -> Result<Entity> {
        let entity = self.write(meta.clone(), |tx| match tx.view().clustometa()? {
            Some(existing) => Ok(existing),
            None => tx.create("clustometa", CLUSTOMETA, &[]),
        })?;
        self.write(meta, |tx| {
            if tx.view().property(entity.id, "schemaversion")?.is_none() {
                tx.set_property(entity.id, "schemaversion", Value::Int(SCHEMA_VERSION))?;
            }
            Ok(entity)
        })
    }
}
