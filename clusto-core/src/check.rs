//! `check()`: every record decodes and is consistent, every record has exactly the index
//! entries [`crate::index`] says it must, and every index entry belongs to a record.
//!
//! Runs in O(records + index entries) point lookups and constant memory, so it works on
//! databases of any size.

use crate::codec::decode;
use crate::error::Result;
use crate::index;
use crate::keys::{self, read_str, space, u64_from_tail};
use crate::records::{AttrId, Attribute, Entity, EntityId, Version};
use crate::resources::held_value;
use crate::storage::KvRead;
use crate::value::Value;
use crate::version_index;
use crate::view::View;

/// What `check()` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Entity rows examined (live and deleted).
    pub entities: u64,
    /// Attribute rows examined (live and deleted).
    pub attributes: u64,
    /// Index entries examined.
    pub index_entries: u64,
    /// Versions examined.
    pub versions: u64,
    /// One line per problem, naming the record or key.
    pub problems: Vec<String>,
}

impl CheckReport {
    /// Whether no problem was found.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Entity index spaces and attribute index spaces (live, deleted).
const ENTITY_INDEXES: [u8; 6] = [
    space::NAME,
    space::LIVE_NAME,
    space::TYPE,
    space::TYPE_OLD,
    space::DRIVER,
    space::DRIVER_OLD,
];
const ATTR_INDEXES: [(u8, bool); 6] = [
    (space::BY_KEY, true),
    (space::BY_KEY_OLD, false),
    (space::BY_SUBKEY, true),
    (space::BY_SUBKEY_OLD, false),
    (space::REFERENCE, true),
    (space::REFERENCE_OLD, false),
];

/// Checks the store behind `kv`.
pub(crate) fn run(kv: &dyn KvRead) -> Result<CheckReport> {
    let view = View::new(kv, None);
    let mut report = CheckReport::default();
    let counters = match view.store_counters() {
        Ok(counters) => Some(counters),
        Err(e) => {
            report.problems.push(format!("the store's counters: {e}"));
            None
        }
    };
    let latest = counters.map_or(0, |c| c.latest_version);
    // Without counters, which versions the indexes by user and by time hold is unknown.
    let indexed = counters.map(|c| c.indexed_versions);
    check_versions(kv, &view, latest, indexed, &mut report)?;
    if let Some(indexed) = indexed {
        check_version_index_entries(kv, &view, indexed, &mut report)?;
    }
    // Without counters, no entity id is known to be past the last one given.
    let last_entity = counters.map_or(u64::MAX, |c| c.last_entity);
    check_entities(kv, latest, last_entity, &mut report)?;
    check_attrs(kv, &view, latest, &mut report)?;
    check_entity_indexes(kv, &view, &mut report)?;
    check_attr_indexes(kv, &mut report)?;
    check_counters(kv, &view, &mut report)?;
    check_runs(kv, &view, &mut report)?;
    Ok(report)
}

/// The version records and their change lists; and that each version up to `indexed`
/// is in the indexes by user and by time (see `version_index`).
fn check_versions(
    kv: &dyn KvRead,
    view: &View<'_>,
    latest: Version,
    indexed: Option<Version>,
    report: &mut CheckReport,
) -> Result<()> {
    let mut expected = 1;
    let counters = keys::counters();
    let mut record: Option<Vec<u8>> = None;
    for entry in kv.scan_prefix(&[space::VERSION]) {
        let (key, _) = entry?;
        if key == counters {
            continue;
        }
        if !keys::is_version_record(&key) {
            // A chunk of a change list, right after its version's record.
            if key.len() != 13 || record.as_deref() != key.get(..9) {
                report
                    .problems
                    .push(format!("change list key {key:?} follows no version record"));
            }
            continue;
        }
        record = Some(key.clone());
        let v = u64_from_tail(&key, 0)?;
        if v != expected {
            report.problems.push(format!(
                "version {v} follows {}: versions have a gap",
                expected - 1
            ));
        }
        match view
            .version_info(v)
            .and_then(|info| Ok((info, view.changes(v)?)))
        {
            Ok((info, _)) if indexed.is_some_and(|i| v <= i) => {
                for key in version_index::keys_of(&info) {
                    if kv.get(&key)?.is_none() {
                        report.problems.push(format!(
                            "version {v} is missing from the index {}",
                            key[0] as char
                        ));
                    }
                }
            }
            Ok(_) => {}
            Err(e) => report.problems.push(format!("version {v}: {e}")),
        }
        expected = v.saturating_add(1);
        report.versions += 1;
    }
    // (Format 1, which a salvage reads as it is, has no counters record.)
    if kv.get(&counters)?.is_some() && kv.scan_prefix(&[space::CHANGES_V1]).next().is_some() {
        report
            .problems
            .push("change lists of format 1 remain beside format 2's".into());
    }
    if expected - 1 != latest {
        report.problems.push(format!(
            "latest version is {latest} but the last version record is {}",
            expected - 1
        ));
    }
    Ok(())
}

/// Every entry of the indexes by user and by time names a version up to `indexed` under
/// its own user and time (the versions' side: [`check_versions`]).
fn check_version_index_entries(
    kv: &dyn KvRead,
    view: &View<'_>,
    indexed: Version,
    report: &mut CheckReport,
) -> Result<()> {
    for index in [space::BY_USER, space::BY_TIME] {
        let name = index as char;
        for entry in kv.scan_prefix(&[index]) {
            let (key, _) = entry?;
            let Ok(v) = u64_from_tail(&key, 0) else {
                report
                    .problems
                    .push(format!("index {name} holds a malformed key {key:?}"));
                continue;
            };
            if v > indexed {
                report.problems.push(format!(
                    "index {name} holds version {v}, past its end at version {indexed}"
                ));
            } else if !view
                .version_info(v)
                .is_ok_and(|info| version_index::keys_of(&info).contains(&key))
            {
                report.problems.push(format!(
                    "index {name} holds an entry for version {v} that does not match it"
                ));
            }
        }
    }
    Ok(())
}

fn stamp_problem(
    what: &str,
    version: Version,
    deleted_at: Option<Version>,
    latest: Version,
) -> Option<String> {
    if version == 0 || version > latest {
        return Some(format!(
            "{what} was created at version {version}, beyond {latest}"
        ));
    }
    match deleted_at {
        Some(d) if d < version || d > latest => Some(format!(
            "{what} was deleted at version {d}, outside {version}..={latest}"
        )),
        _ => None,
    }
}

fn check_entities(
    kv: &dyn KvRead,
    latest: Version,
    last_given: u64,
    report: &mut CheckReport,
) -> Result<()> {
    // Every id given is at most `last_given`, the counter: a transaction takes the ids
    // above it as its own, without looking them up in the store.
    for entry in kv.scan_prefix(&[space::ENTITY]) {
        let (key, bytes) = entry?;
        report.entities += 1;
        let e: Entity = match decode(&bytes, &|| format!("entity record {key:?}")) {
            Ok(e) => e,
            Err(err) => {
                report.problems.push(err.to_string());
                continue;
            }
        };
        if key != keys::entity(e.id) {
            report
                .problems
                .push(format!("entity {} is stored under key {key:?}", e.id));
        }
        if e.id.0 > last_given {
            report.problems.push(format!(
                "entity '{}' ({}) has an id above the entity id counter ({last_given})",
                e.name, e.id
            ));
        }
        if let Some(p) = stamp_problem(
            &format!("entity '{}' ({})", e.name, e.id),
            e.version,
            e.deleted_at,
            latest,
        ) {
            report.problems.push(p);
        }
        for (index_key, value) in index::entity_entries(&e) {
            match kv.get(&index_key)? {
                Some(found) if holds_index_value(&index_key, &value, &found, e.id) => {}
                Some(_) => report.problems.push(format!(
                    "index entry {index_key:?} of entity '{}' points elsewhere or holds \
                     another record",
                    e.name
                )),
                None => report.problems.push(format!(
                    "entity '{}' ({}) is missing index entry {index_key:?}",
                    e.name, e.id
                )),
            }
        }
    }
    Ok(())
}

fn check_attrs(
    kv: &dyn KvRead,
    view: &View<'_>,
    latest: Version,
    report: &mut CheckReport,
) -> Result<()> {
    for (s, live) in [(space::ATTR, true), (space::ATTR_OLD, false)] {
        for entry in kv.scan_prefix(&[s]) {
            let (key, bytes) = entry?;
            report.attributes += 1;
            let a: Attribute = match decode(&bytes, &|| format!("attribute record {key:?}")) {
                Ok(a) => a,
                Err(err) => {
                    report.problems.push(err.to_string());
                    continue;
                }
            };
            let what = format!("attribute {} '{}' of entity {}", a.id.0, a.key, a.entity);
            if key != keys::attr(a.entity, a.id, live) || a.deleted_at.is_none() != live {
                report
                    .problems
                    .push(format!("{what} is stored under the wrong key {key:?}"));
            }
            if let Some(p) = stamp_problem(&what, a.version, a.deleted_at, latest) {
                report.problems.push(p);
            }
            match view.entity_record(a.entity)? {
                None => report.problems.push(format!("{what} belongs to no entity")),
                Some(owner) if live && owner.deleted_at.is_some() => report.problems.push(format!(
                    "{what} is live but its entity '{}' was deleted",
                    owner.name
                )),
                Some(_) => {}
            }
            if let Some(target) = a.value.as_relation() {
                match view.entity_record(target)? {
                    None => report
                        .problems
                        .push(format!("{what} refers to missing entity {target}")),
                    Some(t) if live && t.deleted_at.is_some() => report.problems.push(format!(
                        "{what} is live but refers to deleted entity '{}'",
                        t.name
                    )),
                    Some(_) => {}
                }
            }
            if let Some(v) = held_value(&a).filter(|_| live)
                && view.run_containing(&a.key, v)?.is_none()
            {
                report
                    .problems
                    .push(format!("{what} holds {v}, which is in no run"));
            }
            for (index_key, expected) in index::attr_entries(&a) {
                match kv.get(&index_key)? {
                    None => report
                        .problems
                        .push(format!("{what} is missing index entry {index_key:?}")),
                    Some(found) if !holds_attr_index_value(&expected, &found) => {
                        report.problems.push(format!(
                            "{what} has index entry {index_key:?} holding {} bytes that are not {}",
                            found.len(),
                            match expected.is_empty() {
                                true => "an empty value",
                                false => "its record",
                            }
                        ))
                    }
                    Some(_) => {}
                }
            }
        }
    }
    Ok(())
}

/// Whether `found`, stored under the index key `key` of entity `id`, is the `expected`
/// value, or the entity's id where formats 1 and 2 stored that under a live name (a
/// salvage checks those as they are).
fn holds_index_value(key: &[u8], expected: &[u8], found: &[u8], id: EntityId) -> bool {
    found == expected
        || (key.first() == Some(&space::LIVE_NAME) && keys::old_live_name_id(found) == Some(id))
}

/// Whether `found`, stored under an attribute's index entry, is the `expected` value, or
/// nothing where formats 1 to 3 stored nothing under a reference (a salvage checks those
/// as they are; reads then take the attribute's own record).
fn holds_attr_index_value(expected: &[u8], found: &[u8]) -> bool {
    found == expected || found.is_empty()
}

/// The entity an entity index entry of space `s` names: a live name's value holds its
/// record (or, in formats 1 and 2, its id); the other entries end with the id.
fn entity_index_owner(s: u8, key: &[u8], value: &[u8]) -> Result<EntityId> {
    if s != space::LIVE_NAME {
        return Ok(EntityId(u64_from_tail(key, 0)?));
    }
    if let Some(id) = keys::old_live_name_id(value) {
        return Ok(id);
    }
    let e: crate::records::Entity = decode(value, &|| format!("the record of live name {key:?}"))?;
    Ok(e.id)
}

fn check_entity_indexes(kv: &dyn KvRead, view: &View<'_>, report: &mut CheckReport) -> Result<()> {
    for s in ENTITY_INDEXES {
        for entry in kv.scan_prefix(&[s]) {
            let (key, value) = entry?;
            report.index_entries += 1;
            let id = match entity_index_owner(s, &key, &value) {
                Ok(id) => id,
                Err(e) => {
                    report.problems.push(e.to_string());
                    continue;
                }
            };
            let owned = match view.entity_record(id) {
                Ok(Some(e)) => index::entity_entries(&e).iter().any(|(k, v)| {
                    *k == key && (s != space::LIVE_NAME || holds_index_value(k, v, &value, id))
                }),
                Ok(None) => false,
                Err(e) => {
                    report.problems.push(e.to_string());
                    continue;
                }
            };
            if !owned {
                report.problems.push(format!(
                    "index entry {key:?} belongs to no entity record ({id})"
                ));
            }
        }
    }
    Ok(())
}

fn check_attr_indexes(kv: &dyn KvRead, report: &mut CheckReport) -> Result<()> {
    for (s, live) in ATTR_INDEXES {
        for entry in kv.scan_prefix(&[s]) {
            let (key, _) = entry?;
            report.index_entries += 1;
            let ids = u64_from_tail(&key, 8).and_then(|o| Ok((o, u64_from_tail(&key, 0)?)));
            let Ok((owner, id)) = ids else {
                report
                    .problems
                    .push(format!("index entry {key:?} is malformed"));
                continue;
            };
            let record = kv.get(&keys::attr(EntityId(owner), AttrId(id), live))?;
            let owned = match record.map(|b| decode::<Attribute>(&b, &|| format!("attribute {id}")))
            {
                Some(Ok(a)) => index::attr_keys(&a).contains(&key),
                Some(Err(_)) | None => false,
            };
            if !owned {
                report.problems.push(format!(
                    "index entry {key:?} belongs to no {} attribute record (attribute {id})",
                    if live { "live" } else { "deleted" }
                ));
            }
        }
    }
    Ok(())
}

fn check_counters(kv: &dyn KvRead, view: &View<'_>, report: &mut CheckReport) -> Result<()> {
    for entry in kv.scan_prefix(&[space::COUNTER]) {
        let (key, bytes) = entry?;
        let Ok(owner) = u64_from_tail(&key[..9.min(key.len())], 0) else {
            report
                .problems
                .push(format!("counter key {key:?} is malformed"));
            continue;
        };
        if let Err(e) = decode::<i64>(&bytes, &|| format!("counter {key:?}")) {
            report.problems.push(e.to_string());
        }
        match view.entity_record(EntityId(owner))? {
            Some(e) if e.deleted_at.is_none() => {}
            _ => report
                .problems
                .push(format!("counter {key:?} belongs to no live entity")),
        }
    }
    Ok(())
}

/// Every run of held values is held in full, and runs of one key neither touch nor
/// overlap (so each is maximal).
fn check_runs(kv: &dyn KvRead, view: &View<'_>, report: &mut CheckReport) -> Result<()> {
    let mut previous: Option<(String, i64)> = None;
    for entry in kv.scan_prefix(&[space::RUN]) {
        let (key, bytes) = entry?;
        report.index_entries += 1;
        let parsed = read_str(&key[1..]).and_then(|(name, rest)| {
            let start: [u8; 8] = rest
                .try_into()
                .map_err(|_| crate::Error::Corrupt(format!("run key {key:?} is malformed")))?;
            let end: i64 = decode(&bytes, &|| format!("run {key:?}"))?;
            Ok((name, i64::from_be_bytes(start) ^ i64::MIN, end))
        });
        let (name, start, end) = match parsed {
            Ok(p) => p,
            Err(e) => {
                report.problems.push(e.to_string());
                continue;
            }
        };
        if let Some((prev_name, prev_end)) = &previous
            && *prev_name == name
            && prev_end.saturating_add(1) >= start
        {
            report.problems.push(format!(
                "runs of '{name}' ending at {prev_end} and starting at {start} are not separate"
            ));
        }
        if end < start {
            report.problems.push(format!(
                "run of '{name}' from {start} ends before it, at {end}"
            ));
        }
        for v in start..=end {
            if !view.value_held(&name, &Value::Int(v))? {
                report.problems.push(format!(
                    "run of '{name}' {start}..={end} includes {v}, which nobody holds"
                ));
                break;
            }
        }
        previous = Some((name, end));
    }
    Ok(())
}
