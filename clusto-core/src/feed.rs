//! The change feed and diffs, built from the stored history: every version after a given
//! one with what it changed, a wait for the next commit (made by any process), and the
//! difference between two versions, whose cost follows the changes between them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use crate::db::Clusto;
use crate::error::{Error, Result};
use crate::filter::AttrFilter;
use crate::records::{Attribute, Change, EntityId, Version, VersionInfo};
use crate::value::Value;
use crate::view::{ChangeDetail, View};

/// One committed version with its changes, for the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionChanges {
    /// The version's record: number, time, user, description.
    pub info: VersionInfo,
    /// What it changed, in order, with the rows each change names.
    pub changes: Vec<ChangeDetail>,
}

/// Which versions and changes of the feed a watcher wants; every part left unset
/// matches all. A version passes when its user matches and at least one of its changes
/// passes; only the changes that pass are kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedFilter {
    /// The name of the entity changed.
    pub entity: Option<String>,
    /// The attribute key changed.
    pub key: Option<String>,
    /// The type of the entity changed.
    pub type_name: Option<String>,
    /// The user who committed the version.
    pub user: Option<String>,
}

impl FeedFilter {
    /// `version` with only the changes that pass, or `None` when none does.
    pub fn apply(&self, version: &VersionChanges) -> Option<VersionChanges> {
        if self
            .user
            .as_ref()
            .is_some_and(|u| version.info.user.as_ref() != Some(u))
        {
            return None;
        }
        let changes: Vec<ChangeDetail> = version
            .changes
            .iter()
            .filter(|d| {
                self.entity.as_ref().is_none_or(|n| d.entity.name == *n)
                    && self
                        .type_name
                        .as_ref()
                        .is_none_or(|t| d.entity.type_name == *t)
                    && self
                        .key
                        .as_ref()
                        .is_none_or(|k| d.attr.as_ref().is_some_and(|a| a.key == *k))
            })
            .cloned()
            .collect();
        (!changes.is_empty()).then(|| VersionChanges {
            info: version.info.clone(),
            changes,
        })
    }
}

/// How often a waiting watcher looks for a commit of another process.
const POLL: Duration = Duration::from_millis(10);

/// How long a watcher that hears commits announced waits before it looks anyway.
const LISTENING_LOOK: Duration = Duration::from_secs(1);

impl Clusto {
    /// Every version after `since`, oldest first, with its changes: at most `limit` of
    /// them (`None`: all), read in one snapshot. A consumer that resumes from the last
    /// version it saw misses nothing.
    pub fn changes(&self, since: Version, limit: Option<usize>) -> Result<Vec<VersionChanges>> {
        self.read(|v| v.changes_since(since, limit))
    }

    /// Waits until a version newer than `after` is committed — by this process or any
    /// other sharing the database — or `timeout` passes (`None`: no limit); returns the
    /// latest version then (still `<= after` on a timeout). A commit of this process
    /// wakes it at once; one of another process within ~10 ms on an embedded database,
    /// and as soon as its announcement arrives on PostgreSQL (`LISTEN`).
    pub fn wait_for_version(&self, after: Version, timeout: Option<Duration>) -> Result<Version> {
        // A timeout too long for the clock is no timeout.
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        // Listening starts before the first look, so no commit falls between the two. A
        // listener that cannot be had (no connection left on the server) means asking.
        let mut listener = self.commit_listener().unwrap_or(None);
        loop {
            let latest = self.latest_version()?;
            if latest > after {
                return Ok(latest);
            }
            let most = match listener {
                Some(_) => LISTENING_LOOK,
                None => POLL,
            };
            let pause = match deadline {
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => left.min(most),
                    _ => return Ok(latest),
                },
                None => most,
            };
            match listener.as_mut() {
                Some(heard) => {
                    if heard.wait(pause).is_err() {
                        // The listening session was lost: look every POLL from now on.
                        listener = None;
                    }
                }
                None => self.wait_for_commit(pause),
            }
        }
    }
}

/// How an entity differs between two versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffKind {
    /// It did not exist at the first version.
    Created,
    /// It no longer exists at the second.
    Deleted,
    /// It was renamed from `from` (and maybe changed too).
    Renamed {
        /// Its name at the first version.
        from: String,
    },
    /// It exists at both, with other attributes or another driver.
    Changed,
}

/// What changed about one entity between two versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityDiff {
    /// Its name at the second version (at the first, when deleted).
    pub name: String,
    /// How it changed.
    pub kind: DiffKind,
    /// Type and driver at the first version, when they were different (or it existed).
    pub before: Option<(String, String)>,
    /// Type and driver at the second version, when it exists there.
    pub after: Option<(String, String)>,
    /// Attributes it has at the second version only.
    pub added: Vec<Attribute>,
    /// Attributes it had at the first version only.
    pub removed: Vec<Attribute>,
    /// Attributes whose (key, subkey, number) slot holds another value: (before, after).
    pub changed: Vec<(Attribute, Attribute)>,
}

/// The difference between two versions of a database (or of some entities).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff {
    /// The first version.
    pub from: Version,
    /// The second version.
    pub to: Version,
    /// One entry per entity that differs, by name.
    pub entities: Vec<EntityDiff>,
}

/// The comparable part of an attribute: (key, subkey, number, value).
type AttrSlot = (String, Option<String>, Option<i64>);

fn slot(a: &Attribute) -> AttrSlot {
    (a.key.clone(), a.subkey.clone(), a.number)
}

/// An entity's state at one version: type, driver and attributes.
struct State {
    name: String,
    type_driver: (String, String),
    attrs: Vec<Attribute>,
}

impl Clusto {
    /// The difference between versions `from` and `to` (`None`: the latest), of the whole
    /// database or, with `names`, of the entities that have one of those names at either
    /// version: entities created, deleted and renamed, attributes added, removed and
    /// changed. It reads the changes between the two versions and the rows they name,
    /// so its cost follows the number of changes, not the size of the database.
    pub fn diff(&self, from: Version, to: Option<Version>, names: &[&str]) -> Result<Diff> {
        self.read(|v| v.diff(from, to, names))
    }
}

impl View<'_> {
    /// The versions after `since` with their changes, at most `limit` (see
    /// [`Clusto::changes`]).
    pub fn changes_since(
        &self,
        since: Version,
        limit: Option<usize>,
    ) -> Result<Vec<VersionChanges>> {
        let latest = self.latest_version()?;
        let last = match limit {
            Some(n) => latest.min(since.saturating_add(n as u64)),
            None => latest,
        };
        (since + 1..=last)
            .map(|version| {
                Ok(VersionChanges {
                    info: self.version_info(version)?,
                    changes: self.change_details(version)?,
                })
            })
            .collect()
    }

    /// The difference between versions `from` and `to` (`None`: the latest); see
    /// [`Clusto::diff`].
    pub fn diff(&self, from: Version, to: Option<Version>, names: &[&str]) -> Result<Diff> {
        let v = self;
        let latest = v.latest_version()?;
        let to = to.unwrap_or(latest);
        for version in [from, to] {
            if version > latest {
                return Err(Error::InvalidValue(format!(
                    "version {version} does not exist yet (the latest is {latest})"
                )));
            }
        }
        if from > to {
            return Err(Error::InvalidValue(format!(
                "a diff goes from an older version to a newer one, not {from} to {to}"
            )));
        }
        diff(v, from, to, names)
    }
}

/// The difference between versions `from` and `to` as `v` reads them (see
/// [`Clusto::diff`]).
pub(crate) fn diff(v: &View<'_>, from: Version, to: Version, names: &[&str]) -> Result<Diff> {
    // Every entity a change between the versions touched, with the type and driver it
    // had before its first driver change there.
    let mut touched: BTreeMap<EntityId, Option<(String, String)>> = BTreeMap::new();
    for version in from + 1..=to {
        for change in v.changes(version)? {
            let first_driver = match &change {
                Change::DriverChanged {
                    old_type,
                    old_driver,
                    ..
                } => Some((old_type.clone(), old_driver.clone())),
                _ => None,
            };
            let slot = touched.entry(change.entity()).or_default();
            if slot.is_none() {
                *slot = first_driver;
            }
        }
    }
    let state_at = |id: EntityId, at: Version, driver_before: &Option<(String, String)>| {
        let row = v.entity_by_id(id)?;
        if !row.visible_at(Some(at)) {
            return Ok(None);
        }
        let attrs = View::new(v.source(), Some(at)).attrs(id, &AttrFilter::any().with_hidden())?;
        let type_driver = match (at == from, driver_before) {
            (true, Some(old)) => old.clone(),
            _ => (row.type_name.clone(), row.driver.clone()),
        };
        Ok::<_, Error>(Some(State {
            name: row.name.clone(),
            type_driver,
            attrs,
        }))
    };
    let mut before = HashMap::new();
    let mut after = HashMap::new();
    for (id, driver_before) in &touched {
        if let Some(s) = state_at(*id, from, driver_before)? {
            before.insert(*id, s);
        }
        if let Some(s) = state_at(*id, to, driver_before)? {
            after.insert(*id, s);
        }
    }
    // A rename is a new row for the same thing: deleted and created in one version,
    // same type and driver, the old row's attributes copied (relations to it repointed).
    let mut renamed_to: HashMap<EntityId, EntityId> = HashMap::new();
    let gone: Vec<EntityId> = before
        .keys()
        .filter(|id| !after.contains_key(id))
        .copied()
        .collect();
    let new: Vec<EntityId> = after
        .keys()
        .filter(|id| !before.contains_key(id))
        .copied()
        .collect();
    for old in &gone {
        let old_row = v.entity_by_id(*old)?;
        let Some(deleted_at) = old_row.deleted_at else {
            continue;
        };
        let candidate = new.iter().find(|id| {
            let Ok(row) = v.entity_by_id(**id) else {
                return false;
            };
            row.version == deleted_at
                && row.type_name == old_row.type_name
                && row.driver == old_row.driver
                && !renamed_to.values().any(|taken| taken == *id)
                && copied(
                    &View::new(v.source(), Some(deleted_at - 1))
                        .attrs(*old, &AttrFilter::any().with_hidden())
                        .unwrap_or_default(),
                    &View::new(v.source(), Some(deleted_at))
                        .attrs(**id, &AttrFilter::any().with_hidden())
                        .unwrap_or_default(),
                    *old,
                    **id,
                )
        });
        if let Some(id) = candidate {
            renamed_to.insert(*old, *id);
        }
    }
    // A row deleted and a row of the same name created later (a delete undone, an
    // entity made again) are one thing to a reader of names.
    for old in &gone {
        if renamed_to.contains_key(old) {
            continue;
        }
        let old_name = &before[old].name;
        let again = new.iter().find(|id| {
            after[*id].name == *old_name && !renamed_to.values().any(|taken| taken == *id)
        });
        if let Some(id) = again {
            renamed_to.insert(*old, *id);
        }
    }
    let mut entities = Vec::new();
    let renamed_new: BTreeSet<EntityId> = renamed_to.values().copied().collect();
    for id in touched.keys() {
        if renamed_new.contains(id) {
            continue; // reported under its old row
        }
        let old = before.get(id);
        let (new_state, kind) = match (old, renamed_to.get(id)) {
            (Some(old), Some(new_id)) => {
                let new_state = after.get(new_id);
                let kind = match new_state {
                    Some(n) if n.name != old.name => DiffKind::Renamed {
                        from: old.name.clone(),
                    },
                    _ => DiffKind::Changed,
                };
                (new_state, kind)
            }
            (Some(_), None) => match after.get(id) {
                Some(state) => (Some(state), DiffKind::Changed),
                None => (None, DiffKind::Deleted),
            },
            (None, _) => match after.get(id) {
                Some(state) => (Some(state), DiffKind::Created),
                None => continue, // created and deleted again in between
            },
        };
        let entry = compare(old, new_state, kind, &renamed_to);
        if entry.kind == DiffKind::Changed
            && entry.added.is_empty()
            && entry.removed.is_empty()
            && entry.changed.is_empty()
            && entry.before == entry.after
        {
            continue;
        }
        let wanted = names.is_empty()
            || names.contains(&entry.name.as_str())
            || matches!(&entry.kind, DiffKind::Renamed { from } if names.contains(&from.as_str()));
        if wanted {
            entities.push(entry);
        }
    }
    entities.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Diff { from, to, entities })
}

/// Whether `new`'s attributes are `old`'s copied onto another row, relations to `old_id`
/// pointing to `new_id`.
fn copied(old: &[Attribute], new: &[Attribute], old_id: EntityId, new_id: EntityId) -> bool {
    let repoint = |value: &Value| match value {
        Value::Relation(t) if *t == old_id => Value::Relation(new_id),
        other => other.clone(),
    };
    let mut left: Vec<(AttrSlot, Value)> =
        old.iter().map(|a| (slot(a), repoint(&a.value))).collect();
    let mut right: Vec<(AttrSlot, Value)> =
        new.iter().map(|a| (slot(a), a.value.clone())).collect();
    left.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    right.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    left == right
}

/// The entry of one entity: its attributes at both versions compared by (key, subkey,
/// number, value), relations to rows that became other rows (`renamed_to`) followed; a
/// slot that lost one value and gained one is a change.
fn compare(
    old: Option<&State>,
    new: Option<&State>,
    kind: DiffKind,
    renamed_to: &HashMap<EntityId, EntityId>,
) -> EntityDiff {
    let repoint = |value: &Value| match value {
        Value::Relation(t) => Value::Relation(renamed_to.get(t).copied().unwrap_or(*t)),
        other => other.clone(),
    };
    let empty = Vec::new();
    let old_attrs = old.map_or(&empty, |s| &s.attrs);
    let new_attrs = new.map_or(&empty, |s| &s.attrs);
    let mut removed: Vec<Attribute> = Vec::new();
    let mut unmatched: Vec<&Attribute> = new_attrs.iter().collect();
    for a in old_attrs {
        let value = repoint(&a.value);
        match unmatched
            .iter()
            .position(|b| slot(b) == slot(a) && b.value == value)
        {
            Some(i) => {
                unmatched.swap_remove(i);
            }
            None => removed.push(a.clone()),
        }
    }
    let mut added: Vec<Attribute> = unmatched.into_iter().cloned().collect();
    let mut changed = Vec::new();
    removed.retain(|r| {
        let same_slot_removed = old_attrs.iter().filter(|a| slot(a) == slot(r)).count();
        match added.iter().position(|a| slot(a) == slot(r)) {
            Some(i) if same_slot_removed == 1 => {
                changed.push((r.clone(), added.remove(i)));
                false
            }
            _ => true,
        }
    });
    added.sort_by_key(|a| a.id);
    removed.sort_by_key(|a| a.id);
    EntityDiff {
        name: new.or(old).map(|s| s.name.clone()).unwrap_or_default(),
        kind,
        before: old.map(|s| s.type_driver.clone()),
        after: new.map(|s| s.type_driver.clone()),
        added,
        removed,
        changed,
    }
}
