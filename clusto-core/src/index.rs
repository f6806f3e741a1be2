//! Which index entries a record has. Writes, deletes and `check()` all derive the
//! entries from here, so an index can never disagree with the rule that builds it.

use crate::codec::encode;
use crate::keys::{Key, space};
use crate::records::{Attribute, Entity};

/// The index entries (key, value) an entity record must have in its current state.
pub fn entity_entries(e: &Entity) -> Vec<(Vec<u8>, Vec<u8>)> {
    let live = e.deleted_at.is_none();
    let (type_space, driver_space) = if live {
        (space::TYPE, space::DRIVER)
    } else {
        (space::TYPE_OLD, space::DRIVER_OLD)
    };
    let mut out = vec![
        (
            Key::new(type_space)
                .str(&e.type_name)
                .entity(e.id)
                .into_bytes(),
            Vec::new(),
        ),
        (
            Key::new(driver_space)
                .str(&e.driver)
                .entity(e.id)
                .into_bytes(),
            Vec::new(),
        ),
    ];
    // The live row is found through its name, which holds a copy of the record (a
    // lookup by name reads one entry); deleted rows of a name through the list of its
    // past incarnations.
    out.push(if live {
        (
            Key::new(space::LIVE_NAME).str(&e.name).into_bytes(),
            encode(e),
        )
    } else {
        (
            Key::new(space::NAME).str(&e.name).entity(e.id).into_bytes(),
            Vec::new(),
        )
    });
    out
}

/// The index keys an attribute record must have in its current state. Every key ends
/// with owner id ++ attribute id.
pub fn attr_keys(a: &Attribute) -> Vec<Vec<u8>> {
    let live = a.deleted_at.is_none();
    let pick = |l: u8, old: u8| if live { l } else { old };
    let mut out = vec![
        Key::new(pick(space::BY_KEY, space::BY_KEY_OLD))
            .str(&a.key)
            .value(&a.value)
            .opt_str(a.subkey.as_deref())
            .entity(a.entity)
            .attr(a.id)
            .into_bytes(),
    ];
    // Relation values are found through the reference index instead.
    if let (Some(subkey), false) = (&a.subkey, a.value.as_relation().is_some()) {
        out.push(
            Key::new(pick(space::BY_SUBKEY, space::BY_SUBKEY_OLD))
                .str(subkey)
                .value(&a.value)
                .entity(a.entity)
                .attr(a.id)
                .into_bytes(),
        );
    }
    if let Some(target) = a.value.as_relation() {
        out.push(
            Key::new(pick(space::REFERENCE, space::REFERENCE_OLD))
                .entity(target)
                .entity(a.entity)
                .attr(a.id)
                .into_bytes(),
        );
    }
    out
}

/// Whether the attribute index entries of `space` hold their attribute's record (format
/// 4: the references, so the references to an entity are read without a lookup per
/// attribute); the others hold nothing.
pub fn holds_record(space: u8) -> bool {
    space == space::REFERENCE || space == space::REFERENCE_OLD
}

/// The index entries (key, value) an attribute record must have in its current state:
/// [`attr_keys`], each with the record where [`holds_record`] says so.
pub fn attr_entries(a: &Attribute) -> Vec<(Vec<u8>, Vec<u8>)> {
    attr_keys(a)
        .into_iter()
        .map(|key| {
            let value = if holds_record(key[0]) {
                encode(a)
            } else {
                Vec::new()
            };
            (key, value)
        })
        .collect()
}
