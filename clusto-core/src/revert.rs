//! Revert and restore: undo one version, or bring entities back to their state as of a
//! version, as a new version. Every rule holds: a revert that would take a rack unit, a
//! resource or a name that is now someone else's is refused, and nothing changes.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::feed::{DiffKind, EntityDiff};
use crate::filter::{AttrFilter, NumberMatch};
use crate::records::{Attribute, Change, EntityId, Version};
use crate::txn::{NewAttr, NumberSpec, Transaction};
use crate::value::Value;
use crate::view::View;

/// The subkey of a rack slot, and of the attribute naming a resource's manager.
const RACK_UNIT: &str = "ru";
const MANAGER: &str = "manager";

impl Transaction {
    /// Undoes the changes of committed version `version` in this transaction: what it
    /// created is deleted, what it deleted comes back (a deleted entity as a new row with
    /// its name, attributes and containment), attributes it added are removed and those
    /// it removed are added again, a driver it changed is changed back. Counters keep
    /// their values (a counter never goes back).
    ///
    /// Refused with [`Error::Conflict`] listing them when a later version touched the
    /// same attributes or entities, unless `force`; refused whatever `force` says when a
    /// rule would break: a name, rack unit or resource that is now someone else's.
    pub fn revert(&mut self, version: Version, force: bool) -> Result<()> {
        self.atomic(|tx| {
            let view = tx.view();
            let latest = view.latest_version()?;
            if version == 0 || version > latest {
                return Err(Error::NotFound(format!(
                    "version {version} does not exist (the latest is {latest})"
                )));
            }
            let changes = view.changes(version)?;
            if !force {
                let conflicts = later_conflicts(&view, version, latest, &changes)?;
                if !conflicts.is_empty() {
                    return Err(Error::Conflict(format!(
                        "later versions touched what version {version} changed: {}; \
                         revert those first, or force",
                        conflicts.join("; ")
                    )));
                }
            }
            tx.undo(version, &changes)
        })
    }

    /// Applies the inverse of `changes` (those of `version`): first what it added goes
    /// (attributes, then entities, freeing their names and places), then what it removed
    /// comes back, then drivers change back.
    fn undo(&mut self, version: Version, changes: &[Change]) -> Result<()> {
        for change in changes {
            if let Change::AttrAdded { entity, attr } = change
                && let Some(a) = self.view().attr_by_id(*entity, *attr)?
                && a.deleted_at.is_none()
            {
                self.retire_attr(&a)?;
            }
        }
        for change in changes {
            if let Change::EntityCreated { entity } = change {
                let row = self.view().entity_by_id(*entity)?;
                if row.deleted_at.is_none() {
                    self.delete_entity(&row.name)?;
                }
            }
        }
        // Deleted entities come back as new rows: what pointed to the old rows is
        // restored pointing to the new ones.
        let mut new_ids: HashMap<EntityId, EntityId> = HashMap::new();
        for change in changes {
            if let Change::EntityDeleted { entity } = change {
                let old = self.view().entity_by_id(*entity)?;
                if old.version == version {
                    continue; // made and deleted by that version: it never showed
                }
                if self.view().find(&old.name)?.is_some() {
                    return Err(Error::AlreadyExists(format!(
                        "cannot bring back '{}': the name is taken by a live entity",
                        old.name
                    )));
                }
                let new = self.create_entity(&old.name, &old.type_name, &old.driver)?;
                new_ids.insert(old.id, new.id);
            }
        }
        let map = |id: EntityId| new_ids.get(&id).copied().unwrap_or(id);
        for change in changes {
            if let Change::AttrDeleted { entity, attr } = change
                && let Some(old) = self.view().attr_by_id(*entity, *attr)?
            {
                let value = match &old.value {
                    Value::Relation(t) => Value::Relation(map(*t)),
                    other => other.clone(),
                };
                self.bring_back(map(*entity), &old, value, version)?;
            }
        }
        for change in changes {
            if let Change::DriverChanged {
                entity,
                old_type,
                old_driver,
            } = change
            {
                let row = self.view().entity_by_id(map(*entity))?;
                if row.deleted_at.is_none() {
                    self.change_driver(&row.name, old_type, old_driver)?;
                }
            }
        }
        Ok(())
    }

    /// Adds `old` (removed by `version`) back to `owner` with `value`, unless the place it
    /// held is now someone else's.
    fn bring_back(
        &mut self,
        owner: EntityId,
        old: &Attribute,
        value: Value,
        version: Version,
    ) -> Result<()> {
        let view = self.view();
        let owner_row = view.entity_by_id(owner)?;
        if owner_row.deleted_at.is_some() {
            return Err(Error::NotFound(format!(
                "cannot put back attribute '{}' of '{}': the entity was deleted after \
                 version {version}",
                old.key, owner_row.name
            )));
        }
        if let Value::Relation(target) = &value {
            let target = view.entity_by_id(*target)?;
            if target.deleted_at.is_some() {
                return Err(Error::NotFound(format!(
                    "cannot put back '{}' of '{}': '{}' it points to no longer exists",
                    old.key, owner_row.name, target.name
                )));
            }
            if old.key == "_contains" && old.subkey.as_deref() == Some(RACK_UNIT) {
                let unit = old.number.unwrap_or_default();
                let taken = view.attrs(
                    owner,
                    &AttrFilter::key("_contains").subkey(RACK_UNIT).number(unit),
                )?;
                if let Some(other) = taken.first() {
                    let holder = view.value_json(&other.value)?;
                    return Err(Error::ResourceUnavailable(format!(
                        "cannot put '{}' back in rack '{}': unit {unit} is taken by {holder}",
                        target.name, owner_row.name
                    )));
                }
            }
        }
        if old.subkey.is_none()
            && let Some(manager) = allocation_manager(&view, old)?
            && !view.resource_available(manager, &value)?
        {
            let holders = view.resource_owners(manager, &value)?;
            let shown = match crate::resources::ip_address(&value) {
                Ok(address) if old.key == "ip" => address.to_string(),
                _ => value.to_string(),
            };
            return Err(Error::ResourceUnavailable(format!(
                "cannot give '{}' back its {} {shown}: now held by {}",
                owner_row.name,
                old.key,
                holders
                    .iter()
                    .map(|e| e.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        self.insert_attr(
            owner,
            NewAttr {
                key: old.key.clone(),
                subkey: old.subkey.clone(),
                number: old.number.map_or(NumberSpec::None, NumberSpec::Exact),
                value,
            },
        )
        .map(drop)
    }

    /// Makes the entities `diff` describes as they were at its first version: what was
    /// added is removed, what was removed comes back, created ones are deleted and
    /// deleted ones come back. Renamed entities are refused (revert the rename's version).
    pub(crate) fn restore_from(&mut self, entries: &[EntityDiff], to: Version) -> Result<()> {
        for entry in entries {
            if let DiffKind::Renamed { from } = &entry.kind {
                return Err(Error::Conflict(format!(
                    "'{}' was renamed from '{from}' since version {to}: revert the version \
                     of the rename instead",
                    entry.name
                )));
            }
        }
        for entry in entries {
            match entry.kind {
                DiffKind::Created => self.delete_entity(&entry.name)?,
                DiffKind::Deleted => {
                    let (type_name, driver) = entry.before.clone().unwrap_or_default();
                    self.create_entity(&entry.name, &type_name, &driver)?;
                }
                DiffKind::Changed | DiffKind::Renamed { .. } => {
                    if let (Some((t, d)), Some(now)) = (&entry.before, &entry.after)
                        && (t, d) != (&now.0, &now.1)
                    {
                        self.change_driver(&entry.name, t, d)?;
                    }
                }
            }
        }
        for entry in entries {
            let owner = match self.view().find(&entry.name)? {
                Some(e) => e.id,
                None => continue,
            };
            if entry.kind != DiffKind::Created {
                for a in entry
                    .added
                    .iter()
                    .chain(entry.changed.iter().map(|(_, a)| a))
                {
                    if let Some(live) = self.view().attr_by_id(a.entity, a.id)?
                        && live.deleted_at.is_none()
                    {
                        self.retire_attr(&live)?;
                    }
                }
            }
            for a in entry
                .removed
                .iter()
                .chain(entry.changed.iter().map(|(b, _)| b))
            {
                self.bring_back(owner, a, a.value.clone(), to)?;
            }
        }
        Ok(())
    }

    /// Makes the entities named `names` as they were at the end of version `to`, in
    /// this transaction (one new version on commit).
    pub fn restore(&mut self, names: &[&str], to: Version) -> Result<()> {
        if names.is_empty() {
            return Err(Error::InvalidValue(
                "restore needs the names of the entities to restore".into(),
            ));
        }
        self.atomic(|tx| {
            let latest = tx.view().latest_version()?;
            if to > latest {
                return Err(Error::InvalidValue(format!(
                    "version {to} does not exist yet (the latest is {latest})"
                )));
            }
            let entries = crate::feed::diff(&tx.view(), to, latest, names)?;
            tx.restore_from(&entries.entities, to)
        })
    }
}

/// The manager of the allocation `attr` records, if it is one: a sibling attribute with
/// the same key and number and subkey `manager`.
fn allocation_manager(view: &View<'_>, attr: &Attribute) -> Result<Option<EntityId>> {
    let Some(number) = attr.number else {
        return Ok(None);
    };
    let at = View::new(
        view.source(),
        Some(attr.deleted_at.unwrap_or(attr.version) - 1),
    );
    let filter = AttrFilter::key(&attr.key).subkey(MANAGER).number(number);
    let siblings = match attr.deleted_at {
        Some(_) => at.attrs(attr.entity, &filter)?,
        None => view.attrs(attr.entity, &filter)?,
    };
    Ok(siblings.iter().find_map(|a| a.value.as_relation()))
}

/// What later versions changed of what `changes` (those of `version`) touched.
fn later_conflicts(
    view: &View<'_>,
    version: Version,
    latest: Version,
    changes: &[Change],
) -> Result<Vec<String>> {
    let mut found = Vec::new();
    let name = |id: EntityId| view.entity_by_id(id).map(|e| e.name);
    for change in changes {
        match change {
            Change::AttrAdded { entity, attr } => {
                if let Some(a) = view.attr_by_id(*entity, *attr)?
                    && let Some(gone) = a.deleted_at
                    && gone > version
                {
                    found.push(format!(
                        "attribute '{}' of '{}' was removed by version {gone}",
                        a.key,
                        name(*entity)?
                    ));
                }
            }
            Change::AttrDeleted { entity, attr } => {
                let Some(a) = view.attr_by_id(*entity, *attr)? else {
                    continue;
                };
                let filter = AttrFilter::key(&a.key)
                    .with_hidden()
                    .number_match(match a.number {
                        Some(n) => NumberMatch::Is(n),
                        None => NumberMatch::Null,
                    });
                let filter = match &a.subkey {
                    Some(s) => filter.subkey(s),
                    None => filter.no_subkey(),
                };
                for now in view.attrs(*entity, &filter)? {
                    if now.version > version && now.version <= latest {
                        found.push(format!(
                            "attribute '{}' of '{}' was set again by version {}",
                            a.key,
                            name(*entity)?,
                            now.version
                        ));
                    }
                }
            }
            Change::EntityCreated { entity } | Change::DriverChanged { entity, .. } => {
                // Committed ones: this transaction's own work is not a later version.
                let later: Vec<Version> = view
                    .versions_touching(*entity)?
                    .into_iter()
                    .filter(|v| *v > version && *v <= latest)
                    .collect();
                if let Some(first) = later.first() {
                    found.push(format!(
                        "'{}' was changed by version {first}",
                        name(*entity)?
                    ));
                }
            }
            Change::EntityDeleted { .. } | Change::CounterSet { .. } => {}
        }
    }
    found.dedup();
    Ok(found)
}
