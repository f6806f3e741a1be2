//! Containment: `_contains` relation attributes on the container, and the insert rules
//! of each container kind (reference §6 and §9).

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::drivers::{self, Behaviour};
use crate::error::{Error, Result};
use crate::filter::{AttrFilter, TextMatch};
use crate::keys::{Key, space, u64_from_tail};
use crate::records::{Attribute, Entity, EntityId};
use crate::storage::KvRead;
use crate::txn::{NewAttr, Transaction};
use crate::value::Value;
use crate::view::{View, first_of_each};

/// The key of containment attributes.
pub(crate) const CONTAINS: &str = "_contains";

/// Which related entities to return, and whether to follow containment transitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Related {
    /// Keep only entities of these types (empty: all).
    pub types: Vec<String>,
    /// Keep only entities of these drivers (empty: all).
    pub drivers: Vec<String>,
    /// Follow containment through every level.
    pub recursive: bool,
}

impl Related {
    /// Direct relations of any type.
    pub fn direct() -> Self {
        Self::default()
    }

    /// Relations at every level, of any type.
    pub fn all_levels() -> Self {
        Related {
            recursive: true,
            ..Self::default()
        }
    }

    fn accepts(&self, e: &Entity) -> bool {
        (self.types.is_empty() || self.types.contains(&e.type_name))
            && (self.drivers.is_empty() || self.drivers.contains(&e.driver))
    }
}

/// One containment edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// The container.
    pub parent: Entity,
    /// The contained entity.
    pub child: Entity,
}

fn contains_filter(filter: &AttrFilter) -> AttrFilter {
    AttrFilter {
        key: Some(TextMatch::Exact(CONTAINS.into())),
        ..filter.clone()
    }
}

impl View<'_> {
    /// The `_contains` attributes of a container that pass `filter` (e.g. a rack slot:
    /// subkey `ru`, number U); the key is always `_contains`.
    pub fn content_attrs(
        &self,
        container: EntityId,
        filter: &AttrFilter,
    ) -> Result<Vec<Attribute>> {
        self.attrs(container, &contains_filter(filter))
    }

    /// The members of a container whose `_contains` attribute passes `filter`, filtered
    /// by type and driver; with `recursive`, members of members too (an entity reached
    /// by two paths appears twice, as in the original).
    pub fn contents(
        &self,
        container: EntityId,
        filter: &AttrFilter,
        related: &Related,
    ) -> Result<Vec<Entity>> {
        let mut out = Vec::new();
        let mut path = vec![container];
        self.collect_contents(
            container,
            &contains_filter(filter),
            related,
            &mut path,
            &mut out,
        )?;
        Ok(out)
    }

    fn collect_contents(
        &self,
        container: EntityId,
        filter: &AttrFilter,
        related: &Related,
        path: &mut Vec<EntityId>,
        out: &mut Vec<Entity>,
    ) -> Result<()> {
        // A device on several rack units is stored once per unit, listed once.
        let targets = self
            .pick_attrs(container, filter, |a| a.value.as_relation())?
            .into_iter()
            .flatten()
            .collect();
        for member in self.entities_by_ids(&first_of_each(targets))? {
            let id = member.id;
            if related.accepts(&member) {
                out.push(member);
            }
            if related.recursive && !path.contains(&id) {
                path.push(id);
                self.collect_contents(id, filter, related, path, out)?;
                path.pop();
            }
        }
        Ok(())
    }

    /// Whether `container` directly contains `thing` (the original's `thing in container`).
    pub fn contains(&self, container: EntityId, thing: EntityId) -> Result<bool> {
        let f = AttrFilter::key(CONTAINS).value(Value::Relation(thing));
        Ok(!self.attrs(container, &f)?.is_empty())
    }

    /// The distinct direct containers of `thing`, in the order they took it, filtered by
    /// type and driver; with `recursive`, every ancestor (repeats possible).
    pub fn parents(&self, thing: EntityId, related: &Related) -> Result<Vec<Entity>> {
        let mut out = Vec::new();
        let mut path = vec![thing];
        self.collect_parents(thing, related, &mut path, &mut out)?;
        Ok(out)
    }

    fn collect_parents(
        &self,
        thing: EntityId,
        related: &Related,
        path: &mut Vec<EntityId>,
        out: &mut Vec<Entity>,
    ) -> Result<()> {
        for parent in self.referencers(thing, &AttrFilter::key(CONTAINS))? {
            let id = parent.id;
            if related.accepts(&parent) {
                out.push(parent);
            }
            if related.recursive && !path.contains(&id) {
                path.push(id);
                self.collect_parents(id, related, path, out)?;
                path.pop();
            }
        }
        Ok(())
    }

    /// Whether `ancestor` contains `thing` at some level.
    pub fn is_ancestor(&self, ancestor: EntityId, thing: EntityId) -> Result<bool> {
        let mut seen = HashSet::new();
        let mut todo = vec![thing];
        while let Some(id) = todo.pop() {
            for parent in self.referencers(id, &AttrFilter::key(CONTAINS))? {
                if parent.id == ancestor {
                    return Ok(true);
                }
                if seen.insert(parent.id) {
                    todo.push(parent.id);
                }
            }
        }
        Ok(false)
    }

    fn direct_parents_where(
        &self,
        thing: EntityId,
        keep: impl Fn(&Entity, Behaviour) -> bool,
    ) -> Result<Vec<Entity>> {
        Ok(self
            .parents(thing, &Related::direct())?
            .into_iter()
            .filter(|p| keep(p, drivers::spec_of(p).behaviour))
            .collect())
    }

    /// The pools `thing` is directly in, followed by the pools containing those pools,
    /// recursively when asked (not de-duplicated, as the original's `get_pools`).
    pub fn pools_of(&self, thing: EntityId, recursive: bool) -> Result<Vec<Entity>> {
        let direct = self.direct_parents_where(thing, |_, b| b.is_pool())?;
        let mut out = direct.clone();
        if recursive {
            for pool in &direct {
                out.extend(self.pools_of(pool.id, true)?);
            }
        }
        Ok(out)
    }

    /// The members shared by every pool `thing` is directly in, without `thing`; empty
    /// when it is in no pool.
    pub fn siblings(&self, thing: EntityId) -> Result<Vec<Entity>> {
        let pools = self.pools_of(thing, false)?;
        let Some((first, rest)) = pools.split_first() else {
            return Ok(Vec::new());
        };
        let mut shared = self.contents(first.id, &AttrFilter::any(), &Related::direct())?;
        for pool in rest {
            let members: HashSet<EntityId> = self
                .contents(pool.id, &AttrFilter::any(), &Related::direct())?
                .into_iter()
                .map(|e| e.id)
                .collect();
            shared.retain(|e| members.contains(&e.id));
        }
        let mut seen = HashSet::new();
        shared.retain(|e| e.id != thing && seen.insert(e.id));
        Ok(shared)
    }

    /// The entities in every one of `pools` (their intersection), filtered by type and
    /// driver; `recursive` counts members of nested pools and the nested pools. Each
    /// entry must be a pool.
    pub fn from_pools(&self, pools: &[EntityId], related: &Related) -> Result<Vec<Entity>> {
        let mut result: Option<BTreeSet<EntityId>> = None;
        let mut found = HashMap::new();
        for &pool in pools {
            let entity = self.entity_by_id(pool)?;
            if !drivers::spec_of(&entity).behaviour.is_pool() {
                return Err(Error::TypeMismatch(format!(
                    "'{}' is a {}, not a pool",
                    entity.name, entity.driver
                )));
            }
            let members = self.contents(pool, &AttrFilter::any(), related)?;
            let ids: BTreeSet<EntityId> = members.iter().map(|e| e.id).collect();
            found.extend(members.into_iter().map(|e| (e.id, e)));
            result = Some(match result {
                None => ids,
                Some(acc) => acc.intersection(&ids).copied().collect(),
            });
        }
        Ok(result
            .unwrap_or_default()
            .into_iter()
            .filter_map(|id| found.remove(&id))
            .collect())
    }

    /// The entity's attributes that pass `filter`, followed by those of every ancestor
    /// (the original's `merge_container_attrs`).
    pub fn attrs_merged(&self, id: EntityId, filter: &AttrFilter) -> Result<Vec<Attribute>> {
        let mut out = self.attrs(id, filter)?;
        for ancestor in self.parents(id, &Related::all_levels())? {
            out.extend(self.attrs(ancestor.id, filter)?);
        }
        Ok(out)
    }

    /// Every live containment edge, read in one pass over the `_contains` index.
    pub fn adjacency(&self) -> Result<Vec<Edge>> {
        let prefix = Key::new(space::BY_KEY).str(CONTAINS).into_bytes();
        let mut cache: HashMap<EntityId, Entity> = HashMap::new();
        let mut edges = Vec::new();
        for entry in self.kv.scan_prefix(&prefix) {
            let key = entry?.0;
            // After the key: the value's datatype tag (4 = relation) and its 8-byte id.
            if key.get(prefix.len()) != Some(&4) || key.len() < prefix.len() + 9 {
                continue;
            }
            let child = EntityId(u64::from_be_bytes(
                key[prefix.len() + 1..prefix.len() + 9]
                    .try_into()
                    .expect("8 bytes"),
            ));
            let parent = EntityId(u64_from_tail(&key, 8)?);
            let mut resolve = |id: EntityId| -> Result<Entity> {
                if let Some(e) = cache.get(&id) {
                    return Ok(e.clone());
                }
                let e = self.entity_by_id(id)?;
                cache.insert(id, e.clone());
                Ok(e)
            };
            edges.push(Edge {
                parent: resolve(parent)?,
                child: resolve(child)?,
            });
        }
        Ok(edges)
    }
}

impl Transaction {
    /// Puts `thing` into `container` under the container's rules: a pool refuses a
    /// thing already in it or in an exclusive pool; an exclusive pool refuses a thing in
    /// any pool; a unique pool refuses a thing in another pool of its driver; a location
    /// refuses a thing in another location of its driver; racks take devices by rack
    /// unit ([`Transaction::rack_insert`]); any other container takes only a thing with no
    /// parent. Inserting a container into itself or its own descendant is refused.
    pub fn insert(&mut self, container: EntityId, thing: EntityId) -> Result<Attribute> {
        self.atomic(|tx| {
            // The container's record, its own containers (no cycle) and its counters
            // (the number); the thing's record and its containers (the pool rules).
            tx.view().read_ahead_of_all(
                &[
                    (
                        container,
                        &[space::ENTITY, space::REFERENCE, space::COUNTER],
                    ),
                    (thing, &[space::ENTITY, space::REFERENCE]),
                ],
                &[],
            )?;
            let c = tx.live_entity(container)?;
            let t = tx.live_entity(thing)?;
            let view = tx.view();
            if container == thing || view.is_ancestor(thing, container)? {
                return Err(Error::InvalidValue(format!(
                    "cannot insert '{}' into '{}': it would contain itself",
                    t.name, c.name
                )));
            }
            let behaviour = drivers::spec_of(&c).behaviour;
            let refuse_pool = |why: String| Err(Error::PoolRule(why));
            if behaviour.is_pool() {
                if view.contains(container, thing)? {
                    return refuse_pool(format!("'{}' is already in pool '{}'", t.name, c.name));
                }
                let exclusive =
                    view.direct_parents_where(thing, |_, b| b == Behaviour::ExclusivePool)?;
                if let Some(p) = exclusive.first() {
                    return refuse_pool(format!("'{}' is in exclusive pool '{}'", t.name, p.name));
                }
            }
            match behaviour {
                Behaviour::ExclusivePool => {
                    if let Some(p) = view.pools_of(thing, false)?.first() {
                        return refuse_pool(format!(
                            "'{}' is in pool '{}': an exclusive pool takes only things in no pool",
                            t.name, p.name
                        ));
                    }
                }
                Behaviour::UniquePool => {
                    let same = view.direct_parents_where(thing, |p, _| p.driver == c.driver)?;
                    if let Some(p) = same.first() {
                        return refuse_pool(format!(
                            "'{}' is already in {} '{}'",
                            t.name, c.driver, p.name
                        ));
                    }
                }
                Behaviour::Rack => {
                    return Err(Error::TypeMismatch(format!(
                        "'{}' is a rack: insert devices by rack unit",
                        c.name
                    )));
                }
                Behaviour::Location => {
                    let same = view.direct_parents_where(thing, |p, _| p.driver == c.driver)?;
                    if let Some(p) = same.first() {
                        return Err(Error::TypeMismatch(format!(
                            "'{}' is already in {} '{}'",
                            t.name, c.driver, p.name
                        )));
                    }
                }
                b if b.is_pool() => {}
                _ => {
                    if let Some(p) = view.parents(thing, &Related::direct())?.first() {
                        return Err(Error::TypeMismatch(format!(
                            "'{}' is already in '{}'",
                            t.name, p.name
                        )));
                    }
                }
            }
            tx.insert_attr(container, NewAttr::new(CONTAINS, thing).next_number())
        })
    }

    /// Takes `thing` out of `container`: every `_contains` attribute of the container
    /// that points at it (every rack unit, for a rack). Returns how many were removed.
    pub fn remove(&mut self, container: EntityId, thing: EntityId) -> Result<usize> {
        self.delete_attrs(
            container,
            &AttrFilter::key(CONTAINS).value(Value::Relation(thing)),
        )
    }
}
