//! The functions on entities, attributes, containment, resources, ports and history.
//!
//! Every function takes the database and an optional transaction: with `tx` NULL the
//! call is its own transaction (one version, recorded with `clusto_set_meta`'s user);
//! with a transaction, it joins it and reads see its writes. Each function's "Errors:"
//! paragraph lists every status it can return; the causes shared by every read and
//! every write are in "Errors" at the top of the header (cbindgen.toml).

use std::ffi::c_char;

use clusto_core::{AttrFilter, NewAttr, Related, SubkeyMatch, TextMatch};

use crate::args::{c_string, invalid, need, opt_text, put, text};
use crate::handles::{ClustoDb, ClustoTxn, db_ref, read, tx_mut, write};
use crate::status::{ClustoStatus, guard};
use crate::values::{ClustoAttrs, ClustoNames, ClustoValue, number_match, number_spec, value_in};

/// Creates the `clustometa` entity and its schema version if missing (idempotent: no
/// version when both exist). With `tx` NULL it commits two versions, as the original
/// clusto did (the entity, then its schema version); in a transaction, one.
///
/// Errors: as any write, INVALID_ARGUMENT, CONFLICT, LOCKED, CORRUPT, IO, PANIC.
///
/// # Safety
/// `db` is a live handle; `tx` is NULL or a live transaction on it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_init(db: *const ClustoDb, tx: *mut ClustoTxn) -> ClustoStatus {
    guard(|| {
        // SAFETY: contract above.
        let (db, tx) = unsafe { (db_ref(db)?, tx_mut(tx)) };
        match tx {
            Some(tx) => write(db, Some(tx), |t| t.init_clusto()).map(drop),
            // Its own versions, as the original: the entity, then its schema version.
            None if db.at.is_none() => {
                let meta = db.meta.lock().unwrap_or_else(|e| e.into_inner()).clone();
                db.db.init_clusto(meta).map(drop)
            }
            None => write(db, None, |t| t.init_clusto()).map(drop),
        }
    })
}

/// Creates entity `name` of `driver` (e.g. "basicserver"), with the driver's property
/// defaults.
///
/// Errors: NOT_FOUND (unknown driver), ALREADY_EXISTS, INVALID_NAME (the name); as any
/// write, INVALID_ARGUMENT, CONFLICT, LOCKED, CORRUPT, IO, PANIC.
///
/// # Safety
/// `db` is a live handle; `tx` is NULL or a live transaction on it; strings are C strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_create(
    db: *const ClustoDb,
    tx: *mut ClustoTxn,
    driver: *const c_char,
    name: *const c_char,
) -> ClustoStatus {
    guard(|| {
        // SAFETY: contract above.
        let (db, tx, driver, name) = unsafe {
            (
                db_ref(db)?,
                tx_mut(tx),
                text(driver, "driver")?,
                text(name, "name")?,
            )
        };
        write(db, tx, |t| t.create(driver, name, &[])).map(drop)
    })
}

/// Creates entity `name` of `driver` with driver properties: `props` is a JSON object
/// of values (`{"baseip": "10.0.0.0", "netmask": "255.255.255.0"}` for an IP manager;
/// values as in `clusto_json`), or NULL for the driver's defaults.
///
/// Errors: NOT_FOUND (unknown driver, a relation to an entity that does not exist),
/// ALREADY_EXISTS, INVALID_NAME (the name, a property the driver does not have),
/// INVALID_ARGUMENT (`props` not a JSON object, a value not accepted); as any write,
/// INVALID_ARGUMENT, CONFLICT, LOCKED, CORRUPT, IO, PANIC.
///
/// # Safety
/// As `clusto_create`; `props` is NULL or a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_create_with(
    db: *const ClustoDb,
    tx: *mut ClustoTxn,
    driver: *const c_char,
    name: *const c_char,
    props: *const c_char,
) -> ClustoStatus {
    guard(|| {
        // SAFETY: contract above.
        let (db, tx, driver, name, props) = unsafe {
            (
                db_ref(db)?,
                tx_mut(tx),
                text(driver, "driver")?,
                text(name, "name")?,
                opt_text(props, "props")?,
            )
        };
        let props: Option<serde_json::Value> = props
            .map(|p| {
                serde_json::from_str(p).map_err(|e| invalid(format!("props is not JSON: {e}")))
            })
            .transpose()?;
        write(db, tx, |t| {
            let values = clusto_core::protocol::props_arg(&t.view(), props.as_ref())?;
            let values: Vec<(&str, clusto_core::Value)> = values
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect();
            t.create(driver, name, &values)
        })
        .map(drop)
    })
}

/// Stores in `*exists` whether a live entity is called `name`.
///
/// Errors: as any read, INVALID_ARGUMENT, CONFLICT, CORRUPT, IO, PANIC.
///
/// # Safety
/// As `clusto_create`; `exists` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_exists(
    db: *const ClustoDb,
    tx: *mut ClustoTxn,
    name: *const c_char,
    exists: *mut bool,
) -> ClustoStatus {
    guard(|| {
        need(exists, "exists")?;
        // SAFETY: contract above.
        let (db, tx, name) = unsafe { (db_ref(db)?, tx_mut(tx), text(name, "name")?) };
        let found = read(db, tx, |v| v.find(name))?.is_some();
        // SAFETY: checked non-NULL.
        unsafe { put(exists, found, "exists") }
    })
}

/// The type and driver of entity `name`, as new strings to free with
/// `clusto_string_free` (either out pointer may be NULL when not wanted).
///
/// Errors: NOT_FOUND; as any read, INVALID_ARGUMENT, CONFLICT, CORRUPT, IO, PANIC.
///
/// # Safety
/// As `clusto_create`; out pointers are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_entity_kind(
    db: *const ClustoDb,
    tx: *mut ClustoTxn,
    name: *const c_char,
    type_out: *mut *mut c_char,
    driver_out: *mut *mut c_char,
) -> ClustoStatus {
    guard(|| {
        // SAFETY: contract above.
        let (db, tx, name) = unsafe { (db_ref(db)?, tx_mut(tx), text(name, "name")?) };
        let e = read(db, tx, |v| v.entity(name))?;
        if !type_out.is_null() {
            // SAFETY: non-NULL and writable.
            unsafe { type_out.write(c_string(&e.type_name)) };
        }
        if !driver_out.is_null() {
            // SAFETY: non-NULL and writable.
            unsafe { driver_out.write(c_string(&e.driver)) };
        }
        Ok(())
    })
}

/// Deletes entity `name`; attributes elsewhere that refer to it go too.
///
/// Errors: NOT_FOUND; as any write, INVALID_ARGUMENT, CONFLICT, LOCKED, CORRUPT, IO,
/// PANIC.
///
/// # Safety
/// As `clusto_create`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_delete(
    db: *const ClustoDb,
    tx: *mut ClustoTxn,
    name: *const c_char,
) -> ClustoStatus {
    guard(|| {
        // SAFETY: contract above.
        let (db, tx, name) = unsafe { (db_ref(db)?, tx_mut(tx), text(name, "name")?) };
        write(db, tx, |t| t.delete_entity(name))
    })
}

/// Renames an entity; references follow.
///
/// Errors: NOT_FOUND, ALREADY_EXISTS, INVALID_NAME (the new name); as any write,
/// INVALID_ARGUMENT, CONFLICT, LOCKED, CORRUPT, IO, PANIC.
///
/// # Safety
/// As `clusto_create`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_rename(
    db: *const ClustoDb,
    tx: *mut ClustoTxn,
    old: *const c_char,
    new: *const c_char,
) -> ClustoStatus {
    guard(|| {
        // SAFETY: contract above.
        let (db, tx, old, new) = unsafe {
            (
                db_ref(db)?,
                tx_mut(tx),
                text(old, "old")?,
                text(new, "new")?,
            )
        };
        write(db, tx, |t| t.rename(old, new)).map(drop)
    })
}

/// Adds (or with `replace`, sets: replaces the one attribute with the same key, subkey
/// and number) an attribute of entity `name`. `subkey` may be NULL; `number_mode` is a
/// `CLUSTO_NUMBER_*` constant.
///
/// Errors: NOT_FOUND (the entity, or the entity a relation value names), INVALID_NAME
/// (key or subkey), INVALID_ARGUMENT (an unknown `number_mode` or value kind, a NULL or
/// unreadable value text, a relation to a deleted entity), CONFLICT (`replace` with
/// several matches); as any write, INVALID_ARGUMENT, CONFLICT, LOCKED, CORRUPT, IO,
/// PANIC.
///
/// # Safety
/// As `clusto_create`; `value` points to a valid `ClustoValue`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn clusto_attr_put(
    db: *const ClustoDb,
    tx: *mut ClustoTxn,
    name: *const c_char,
    key: *const c_char,
    subkey: *const c_char,
    number_mode: u32,
    number: i64,
    value: *const ClustoValue,
    replace: bool,
) -> ClustoStatus {
    guard(|| {
        // SAFETY: contract above.
        let (db, tx, name, key, subkey) = unsafe {
            (
                db_ref(db)?,
                tx_mut(tx),
                text(name, "name")?,
                text(key, "key")?,
                opt_text(subkey, "subkey")?,
            )
        };
        let number = number_spec(number_mode, number)?;
        write(db, tx, |t| {
            let view = t.view();
            let id = view.entity(name)?.id;
            // SAFETY: contract above.
            let value = unsafe { value_in(&view, value) }?;
            let attr = NewAttr {
                key: key.to_owned(),
                subkey: subkey.map(str::to_owned),
                number,
                value,
            };
            if replace {
                t.set_attr(id, attr)
            } else {
                t.add_attr(id, attr)
            }
        })
        .map(drop)
    })
}

/// A filter from nullable key, subkey and value, a `CLUSTO_MATCH_*` number rule and
/// whether hidden keys count.
///
/// # Safety
/// Strings are NULL or C strings; `value` is NULL or a valid `ClustoValue`.
unsafe fn filter(
    view: &clusto_core::View<'_>,
    key: *const c_char,
    subkey: *const c_char,
    number_mode: u32,
    number: i64,
    value: *const ClustoValue,
    include_hidden: bool,
) -> clusto_core::Result<AttrFilter> {
    // SAFETY: forwarded contract.
    let (key, subkey) = unsafe { (opt_text(key, "key")?, opt_text(subkey, "subkey")?) };
    Ok(AttrFilter {
        key: key.map(|k| TextMatch::Exact(k.to_owned())),
        subkey: subkey.map_or(SubkeyMatch::Any, |s| {
            SubkeyMatch::Is(TextMatch::Exact(s.to_owned()))
        }),
        number: number_match(number_mode, number)?,
        // SAFETY: forwarded contract.
        value: if value.is_null() {
            None
        } else {
            Some(unsafe { value_in(view, value) }?)
        },
        include_hidden,
    })
}

/// Deletes the attributes of entity `name` matching the filter (NULL key, subkey or
/// value match anything; hidden keys only when the key names one). `*count` (if not
/// NULL) receives how many were deleted.
///
/// Errors: NOT_FOUND (the entity, or the entity a relation value names),
/// INVALID_ARGUMENT (an unknown `number_mode`, a value as in `clusto_attr_put`); as any
/// write, INVALID_ARGUMENT, CONFLICT, LOCKED, CORRUPT, IO, PANIC.
///
/// # Safety
/// As `clusto_attr_put`; `value` may be NULL; `count` is NULL or writable.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn clusto_attr_delete(
    db: *const ClustoDb,
    tx: *mut ClustoTxn,
    name: *const c_char,
    key: *const c_char,
    subkey: *const c_char,
    number_mode: u32,
    number: i64,
    value: *const ClustoValue,
    count: *mut usize,
) -> ClustoStatus {
    guard(|| {
        // SAFETY: contract above.
        let (db, tx, name) = unsafe { (db_ref(db)?, tx_mut(tx), text(name, "name")?) };
        let n = write(db, tx, |t| {
            let view = t.view();
            let id = view.entity(name)?.id;
            // SAFETY: contract above.
            let f = unsafe { filter(&view, key, subkey, number_mode, number, value, false) }?;
            t.delete_attrs(id, &f)
        })?;
        if !count.is_null() {
            // SAFETY: non-NULL and writable.
            unsafe { count.write(n) };
        }
        Ok(())
    })
}

/// The attributes of entity `name` matching the filter (as `clusto_attr_delete`;
/// `include_hidden` adds keys starting with `_`). `*out` receives a list to free with
/// `clusto_attrs_free`.
///
/// Errors: NOT_FOUND, INVALID_ARGUMENT (as `clusto_attr_delete`); as any read,
/// INVALID_ARGUMENT, CONFLICT, CORRUPT, IO, PANIC.
///
/// # Safety
/// As `clusto_attr_delete`; `out` is writable.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn clusto_attr_query(
    db: *const ClustoDb,
    tx: *mut ClustoTxn,
    name: *const c_char,
    key: *const c_char,
    subkey: *const c_char,
    number_mode: u32,
    number: i64,
    value: *const ClustoValue,
    include_hidden: bool,
    out: *mut *mut ClustoAttrs,
) -> ClustoStatus {
    guard(|| {
        need(out, "out")?;
        // SAFETY: contract above.
        let (db, tx, name) = unsafe { (db_ref(db)?, tx_mut(tx), text(name, "name")?) };
        let list = read(db, tx, |v| {
            let id = v.entity(name)?.id;
            // SAFETY: contract above.
            let f = unsafe { filter(v, key, subkey, number_mode, number, value, include_hidden) }?;
            ClustoAttrs::build(v, &v.attrs(id, &f)?)
        })?;
        // SAFETY: checked non-NULL.
        unsafe { put(out, list, "out") }
    })
}

/// Puts `thing` into `container` under the container's rules (pools, locations…).
///
/// Errors: NOT_FOUND, CONFLICT (a pool's rule), TYPE_MISMATCH (a rack: use
/// `clusto_rack_insert`; a location or generic container refusing it), INVALID_ARGUMENT
/// (a cycle); as any write, INVALID_ARGUMENT, CONFLICT, LOCKED, CORRUPT, IO, PANIC.
///
/// # Safety
/// As `clusto_create`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_insert(
    db: *const ClustoDb,
    tx: *mut ClustoTxn,
    container: *const c_char,
    thing: *const c_char,
) -> ClustoStatus {
    guard(|| {
        // SAFETY: contract above.
        let (db, tx, c, t) = unsafe {
            (
                db_ref(db)?,
                tx_mut(tx),
                text(container, "container")?,
                text(thing, "thing")?,
            )
        };
        write(db, tx, |w| {
            let (c, t) = (w.view().entity(c)?.id, w.view().entity(t)?.id);
            w.insert(c, t).map(drop)
        })
    })
}

/// Racks `device` in `rack` at the `count` units of `units` (1 to 1024 of them, in any
/// order): distinct, adjacent, free, and within the rack's unit range, minu..maxu with
/// both ends included (1..45 for a basicrack unless its properties say otherwise). A
/// device with a `rack_units` attribute takes exactly that many units.
///
/// Errors: NOT_FOUND, TYPE_MISMATCH (not a rack / not a device), INVALID_ARGUMENT (NULL
/// `units`, `count` 0 or above 1024, a unit outside minu..maxu, units not distinct and
/// adjacent, not as many units as the device's `rack_units`, a minu or maxu that is not
/// an integer), CONFLICT (a unit is occupied, the device is already racked, the rack
/// has several minu or maxu values); as any write, INVALID_ARGUMENT, CONFLICT, LOCKED,
/// CORRUPT, IO, PANIC.
///
/// # Safety
/// As `clusto_create`; `units` points to `count` integers.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_rack_insert(
    db: *const ClustoDb,
    tx: *mut ClustoTxn,
    rack: *const c_char,
    device: *const c_char,
    units: *const i64,
    count: usize,
) -> ClustoStatus {
    guard(|| {
        // SAFETY: contract above.
        let (db, tx, r, d) = unsafe {
            (
                db_ref(db)?,
                tx_mut(tx),
                text(rack, "rack")?,
                text(device, "device")?,
            )
        };
        if units.is_null() || count == 0 || count > 1024 {
            return Err(invalid("units must point to 1 to 1024 rack units"));
        }
        // SAFETY: non-NULL, `count` readable integers by contract.
        let units = unsafe { std::slice::from_raw_parts(units, count) }.to_vec();
        write(db, tx, |w| {
            let (r, d) = (w.view().entity(r)?.id, w.view().entity(d)?.id);
            w.rack_insert(r, d, &units)
        })
    })
}

/// Takes `thing` out of `container` (every rack unit, for a rack). `*removed` (if not
/// NULL) receives how many containment attributes went.
///
/// Errors: NOT_FOUND; as any write, INVALID_ARGUMENT, CONFLICT, LOCKED, CORRUPT, IO,
/// PANIC.
///
/// # Safety
/// As `clusto_create`; `removed` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_remove(
    db: *const ClustoDb,
    tx: *mut ClustoTxn,
    container: *const c_char,
    thing: *const c_char,
    removed: *mut usize,
) -> ClustoStatus {
    guard(|| {
        // SAFETY: contract above.
        let (db, tx, c, t) = unsafe {
            (
                db_ref(db)?,
                tx_mut(tx),
                text(container, "container")?,
                text(thing, "thing")?,
            )
        };
        let n = write(db, tx, |w| {
            let (c, t) = (w.view().entity(c)?.id, w.view().entity(t)?.id);
            w.remove(c, t)
        })?;
        if !removed.is_null() {
            // SAFETY: non-NULL and writable.
            unsafe { removed.write(n) };
        }
        Ok(())
    })
}

/// Which related names `related_names` lists.
#[derive(Clone, Copy)]
enum Relation {
    Contents,
    Parents,
    Pools,
}

unsafe fn related_names(
    db: *const ClustoDb,
    tx: *mut ClustoTxn,
    name: *const c_char,
    recursive: bool,
    out: *mut *mut ClustoNames,
    which: Relation,
) -> ClustoStatus {
    guard(|| {
        need(out, "out")?;
        // SAFETY: forwarded contract.
        let (db, tx, name) = unsafe { (db_ref(db)?, tx_mut(tx), text(name, "name")?) };
        let related = Related {
            recursive,
            ..Default::default()
        };
        let list = read(db, tx, |v| {
            let id = v.entity(name)?.id;
            match which {
                Relation::Contents => v.contents(id, &AttrFilter::any(), &related),
                Relation::Parents => v.parents(id, &related),
                Relation::Pools => v.pools_of(id, recursive),
            }
        })?;
        // SAFETY: checked non-NULL.
        unsafe {
            put(
                out,
                ClustoNames::boxed(list.iter().map(|e| e.name.as_str())),
                "out",
            )
        }
    })
}

/// The members of `name` (all levels with `recursive`; a multi-unit device is listed
/// once per unit, as the original). `*out` receives a list to free with
/// `clusto_names_free`.
///
/// Errors: NOT_FOUND; as any read, INVALID_ARGUMENT, CONFLICT, CORRUPT, IO, PANIC.
///
/// # Safety
/// As `clusto_create`; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_contents(
    db: *const ClustoDb,
    tx: *mut ClustoTxn,
    name: *const c_char,
    recursive: bool,
    out: *mut *mut ClustoNames,
) -> ClustoStatus {
    // SAFETY: forwarded contract.
    unsafe { related_names(db, tx, name, recursive, out, Relation::Contents) }
}

/// The containers of `name` (every ancestor with `recursive`). Free with
/// `clusto_names_free`.
///
/// Errors: NOT_FOUND; as any read, INVALID_ARGUMENT, CONFLICT, CORRUPT, IO, PANIC.
///
/// # Safety
/// As `clusto_contents`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_parents(
    db: *const ClustoDb,
    tx: *mut ClustoTxn,
    name: *const c_char,
    recursive: bool,
    out: *mut *mut ClustoNames,
) -> ClustoStatus {
    // SAFETY: forwarded contract.
    unsafe { related_names(db, tx, name, recursive, out, Relation::Parents) }
}

/// The pools `name` is in (and the pools containing them, with `recursive`). Free with
/// `clusto_names_free`.
///
/// Errors: NOT_FOUND; as any read, INVALID_ARGUMENT, CONFLICT, CORRUPT, IO, PANIC.
///
/// # Safety
/// As `clusto_contents`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_pools(
    db: *const ClustoDb,
    tx: *mut ClustoTxn,
    name: *const c_char,
    recursive: bool,
    out: *mut *mut ClustoNames,
) -> ClustoStatus {
    // SAFETY: forwarded contract.
    unsafe { related_names(db, tx, name, recursive, out, Relation::Pools) }
}

/// Gives `device` an IP address: `ip` (NULL: the next free address of `manager`) from
/// `manager` (NULL: the one manager whose range holds `ip`). `*ip_out` (if not NULL)
/// receives the address, to free with `clusto_string_free`.
///
/// Errors: NOT_FOUND (the device or manager; no manager's range holds `ip`),
/// TYPE_MISMATCH (`manager` is not an IP manager), INVALID_ARGUMENT (both NULL, not an
/// address, an address outside the manager's range, no `ip` from a manager without a
/// baseip), RESOURCE_UNAVAILABLE (taken or exhausted), CONFLICT (several managers'
/// ranges hold `ip`); as any write, INVALID_ARGUMENT, CONFLICT, LOCKED, CORRUPT, IO,
/// PANIC.
///
/// # Safety
/// As `clusto_create`; `manager` and `ip` may be NULL; `ip_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_ip_allocate(
    db: *const ClustoDb,
    tx: *mut ClustoTxn,
    device: *const c_char,
    manager: *const c_char,
    ip: *const c_char,
    ip_out: *mut *mut c_char,
) -> ClustoStatus {
    guard(|| {
        // SAFETY: contract above.
        let (db, tx, device, manager, ip) = unsafe {
            (
                db_ref(db)?,
                tx_mut(tx),
                text(device, "device")?,
                opt_text(manager, "manager")?,
                opt_text(ip, "ip")?,
            )
        };
        let address = write(db, tx, |w| {
            let d = w.view().entity(device)?.id;
            let m = manager
                .map(|m| w.view().entity(m))
                .transpose()?
                .map(|m| m.id);
            let a = w.add_ip(d, ip, m)?;
            Ok(clusto_core::ip_address(&a.value)?.to_string())
        })?;
        if !ip_out.is_null() {
            // SAFETY: non-NULL and writable.
            unsafe { ip_out.write(c_string(&address)) };
        }
        Ok(())
    })
}

/// Frees `ip` held by `device` (NULL: every address `manager` gave it). `manager` NULL
/// means the one manager whose range holds `ip`.
///
/// Errors: NOT_FOUND (the device or manager; no manager's range holds `ip`),
/// TYPE_MISMATCH (`manager` is not an IP manager), INVALID_ARGUMENT (both NULL, not an
/// address, an address outside the manager's range), RESOURCE_UNAVAILABLE (held by
/// another entity), CONFLICT (several managers' ranges hold `ip`); as any write,
/// INVALID_ARGUMENT, CONFLICT, LOCKED, CORRUPT, IO, PANIC.
///
/// # Safety
/// As `clusto_ip_allocate`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_ip_deallocate(
    db: *const ClustoDb,
    tx: *mut ClustoTxn,
    device: *const c_char,
    manager: *const c_char,
    ip: *const c_char,
) -> ClustoStatus {
    guard(|| {
        // SAFETY: contract above.
        let (db, tx, device, manager, ip) = unsafe {
            (
                db_ref(db)?,
                tx_mut(tx),
                text(device, "device")?,
                opt_text(manager, "manager")?,
                opt_text(ip, "ip")?,
            )
        };
        write(db, tx, |w| {
            let d = w.view().entity(device)?.id;
            let m = manager
                .map(|m| w.view().entity(m))
                .transpose()?
                .map(|m| m.id);
            w.remove_ip(d, ip, m).map(drop)
        })
    })
}

/// The addresses of `device`. Free with `clusto_names_free`.
///
/// Errors: NOT_FOUND; as any read, INVALID_ARGUMENT, CONFLICT, CORRUPT, IO, PANIC.
///
/// # Safety
/// As `clusto_contents`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_ips_of(
    db: *const ClustoDb,
    tx: *mut ClustoTxn,
    device: *const c_char,
    out: *mut *mut ClustoNames,
) -> ClustoStatus {
    guard(|| {
        need(out, "out")?;
        // SAFETY: contract above.
        let (db, tx, device) = unsafe { (db_ref(db)?, tx_mut(tx), text(device, "device")?) };
        let ips = read(db, tx, |v| v.ips_of(v.entity(device)?.id))?;
        // SAFETY: checked non-NULL.
        unsafe { put(out, ClustoNames::boxed(ips), "out") }
    })
}

/// The names of the entities holding address `ip`. Free with `clusto_names_free`.
///
/// Errors: INVALID_ARGUMENT (not an address); as any read, INVALID_ARGUMENT, CONFLICT,
/// CORRUPT, IO, PANIC.
///
/// # Safety
/// As `clusto_contents`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_devices_with_ip(
    db: *const ClustoDb,
    tx: *mut ClustoTxn,
    ip: *const c_char,
    out: *mut *mut ClustoNames,
) -> ClustoStatus {
    guard(|| {
        need(out, "out")?;
        // SAFETY: contract above.
        let (db, tx, ip) = unsafe { (db_ref(db)?, tx_mut(tx), text(ip, "ip")?) };
        let owners = read(db, tx, |v| v.devices_with_ip(ip))?;
        // SAFETY: checked non-NULL.
        unsafe {
            put(
                out,
                ClustoNames::boxed(owners.iter().map(|e| e.name.as_str())),
                "out",
            )
        }
    })
}

/// Creates an entity of `driver` named by the simple entity-name manager `manager`;
/// `*name_out` receives its name, to free with `clusto_string_free`.
///
/// Errors: NOT_FOUND (the manager, an unknown driver), TYPE_MISMATCH (not an
/// entity-name manager), RESOURCE_UNAVAILABLE (out of names), ALREADY_EXISTS (an entity
/// has the next name), INVALID_NAME (the next name is not a valid name),
/// INVALID_ARGUMENT (a digits or next property that is not an integer); as any write,
/// INVALID_ARGUMENT, CONFLICT, LOCKED, CORRUPT, IO, PANIC.
///
/// # Safety
/// As `clusto_create`; `name_out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_name_allocate(
    db: *const ClustoDb,
    tx: *mut ClustoTxn,
    manager: *const c_char,
    driver: *const c_char,
    name_out: *mut *mut c_char,
) -> ClustoStatus {
    guard(|| {
        need(name_out, "name_out")?;
        // SAFETY: contract above.
        let (db, tx, manager, driver) = unsafe {
            (
                db_ref(db)?,
                tx_mut(tx),
                text(manager, "manager")?,
                text(driver, "driver")?,
            )
        };
        let e = write(db, tx, |w| {
            let m = w.view().entity(manager)?.id;
            w.allocate_entity(m, driver, None)
        })?;
        // SAFETY: checked non-NULL.
        unsafe { put(name_out, c_string(&e.name), "name_out") }
    })
}

/// Connects port `number` of `device` to port `other_number` of `other` (same type).
///
/// Errors: NOT_FOUND, CONFLICT (no such port on a driver, a port in use),
/// INVALID_ARGUMENT (a number below 1); as any write, INVALID_ARGUMENT, CONFLICT,
/// LOCKED, CORRUPT, IO, PANIC.
///
/// # Safety
/// As `clusto_create`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn clusto_port_connect(
    db: *const ClustoDb,
    tx: *mut ClustoTxn,
    device: *const c_char,
    port_type: *const c_char,
    number: i64,
    other: *const c_char,
    other_number: i64,
) -> ClustoStatus {
    guard(|| {
        // SAFETY: contract above.
        let (db, tx, device, port_type, other) = unsafe {
            (
                db_ref(db)?,
                tx_mut(tx),
                text(device, "device")?,
                text(port_type, "port_type")?,
                text(other, "other")?,
            )
        };
        write(db, tx, |w| {
            let (d, o) = (w.view().entity(device)?.id, w.view().entity(other)?.id);
            w.connect_ports(d, port_type, number, o, other_number)
        })
    })
}

/// Disconnects a port (both ends; a no-op on a free port).
///
/// Errors: NOT_FOUND, CONFLICT (no such port), INVALID_ARGUMENT (a number below 1); as
/// any write, INVALID_ARGUMENT, CONFLICT, LOCKED, CORRUPT, IO, PANIC.
///
/// # Safety
/// As `clusto_create`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_port_disconnect(
    db: *const ClustoDb,
    tx: *mut ClustoTxn,
    device: *const c_char,
    port_type: *const c_char,
    number: i64,
) -> ClustoStatus {
    guard(|| {
        // SAFETY: contract above.
        let (db, tx, device, port_type) = unsafe {
            (
                db_ref(db)?,
                tx_mut(tx),
                text(device, "device")?,
                text(port_type, "port_type")?,
            )
        };
        write(db, tx, |w| {
            let d = w.view().entity(device)?.id;
            w.disconnect_port(d, port_type, number).map(drop)
        })
    })
}

/// The device connected to a port: `*name_out` receives its name (free with
/// `clusto_string_free`), or NULL when the port is free.
///
/// Errors: NOT_FOUND, CONFLICT (no such port), INVALID_ARGUMENT (a number below 1); as
/// any read, INVALID_ARGUMENT, CONFLICT, CORRUPT, IO, PANIC.
///
/// # Safety
/// As `clusto_create`; `name_out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_port_connected(
    db: *const ClustoDb,
    tx: *mut ClustoTxn,
    device: *const c_char,
    port_type: *const c_char,
    number: i64,
    name_out: *mut *mut c_char,
) -> ClustoStatus {
    guard(|| {
        need(name_out, "name_out")?;
        // SAFETY: contract above.
        let (db, tx, device, port_type) = unsafe {
            (
                db_ref(db)?,
                tx_mut(tx),
                text(device, "device")?,
                text(port_type, "port_type")?,
            )
        };
        let peer = read(db, tx, |v| {
            v.connected(v.entity(device)?.id, port_type, number)
        })?;
        let ptr = peer.map_or(std::ptr::null_mut(), |p| c_string(&p.name));
        // SAFETY: checked non-NULL.
        unsafe { put(name_out, ptr, "name_out") }
    })
}

/// The newest committed version of the live database (0 for a new database): through a
/// handle from `clusto_open_at` too, which does not give its own version.
///
/// Errors: as any read, INVALID_ARGUMENT, CONFLICT, CORRUPT, IO, PANIC.
///
/// # Safety
/// `db` is a live handle; `version` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_latest_version(
    db: *const ClustoDb,
    version: *mut u64,
) -> ClustoStatus {
    guard(|| {
        need(version, "version")?;
        // SAFETY: contract above.
        let v = unsafe { db_ref(db) }?.db.latest_version()?;
        // SAFETY: checked non-NULL.
        unsafe { put(version, v, "version") }
    })
}

/// Waits until a version newer than `after` is committed — by this process or another
/// sharing the database — or `timeout_ms` milliseconds pass (0: no limit); `*newest`
/// receives the latest version then (still `<= after` after a timeout). Blocks the
/// calling thread; another process's commit is seen within ~10 ms. On a handle from
/// `clusto_open_at` it waits for the live database.
///
/// Errors: as any read, INVALID_ARGUMENT, CONFLICT, CORRUPT, IO, PANIC.
///
/// # Safety
/// `db` is a live handle; `newest` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_wait_version(
    db: *const ClustoDb,
    after: u64,
    timeout_ms: u64,
    newest: *mut u64,
) -> ClustoStatus {
    guard(|| {
        need(newest, "newest")?;
        // SAFETY: contract above.
        let db = unsafe { db_ref(db) }?;
        let timeout = (timeout_ms > 0).then(|| std::time::Duration::from_millis(timeout_ms));
        let v = db.db.wait_for_version(after, timeout)?;
        // SAFETY: checked non-NULL.
        unsafe { put(newest, v, "newest") }
    })
}

/// The change feed: every version after `since` with its changes, as a JSON array (each
/// entry `{version, timestamp, user, description, changes: [{entity, type, kind, change}]}`:
/// a VERSION with `"changes": [CHANGE]`, as the JSON op `feed` gives; see the top of
/// this header). `*json` receives it, to free with `clusto_string_free`. A consumer
/// that resumes from the last version it saw misses nothing. Timestamps are UTC. It
/// reads the live database, also through a handle from `clusto_open_at`.
///
/// Errors: as any read, INVALID_ARGUMENT, CONFLICT, CORRUPT, IO, PANIC.
///
/// # Safety
/// `db` is a live handle; `json` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_changes_json(
    db: *const ClustoDb,
    since: u64,
    json: *mut *mut c_char,
) -> ClustoStatus {
    guard(|| {
        need(json, "json")?;
        // SAFETY: contract above.
        let db = unsafe { db_ref(db) }?;
        let feed = db.db.read(|v| {
            let entries = v
                .changes_since(since, None)?
                .iter()
                .map(|c| v.version_changes_json(c))
                .collect::<clusto_core::Result<Vec<_>>>()?;
            Ok(serde_json::Value::Array(entries).to_string())
        })?;
        // SAFETY: checked non-NULL.
        unsafe { put(json, crate::args::c_string(&feed), "json") }
    })
}

/// The versions that touched any entity that had this name, ascending: `*versions`
/// receives an array of `*count` numbers to free with `clusto_versions_free`. It reads
/// the live database, also through a handle from `clusto_open_at`.
///
/// Errors: NOT_FOUND (the name never existed); as any read, INVALID_ARGUMENT, CONFLICT,
/// CORRUPT, IO, PANIC.
///
/// # Safety
/// `db` is a live handle; `name` a C string; `versions` and `count` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_entity_versions(
    db: *const ClustoDb,
    name: *const c_char,
    versions: *mut *mut u64,
    count: *mut usize,
) -> ClustoStatus {
    guard(|| {
        need(versions, "versions")?;
        need(count, "count")?;
        // SAFETY: contract above.
        let (db, name) = unsafe { (db_ref(db)?, text(name, "name")?) };
        let list = db.db.read(|v| v.entity_versions(name))?.into_boxed_slice();
        let len = list.len();
        let ptr = Box::into_raw(list) as *mut u64;
        // SAFETY: both checked non-NULL.
        unsafe {
            versions.write(ptr);
            count.write(len);
        }
        Ok(())
    })
}

/// Frees an array from `clusto_entity_versions`. NULL is ignored.
///
/// # Safety
/// `versions` and `count` are exactly what `clusto_entity_versions` returned.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_versions_free(versions: *mut u64, count: usize) {
    if !versions.is_null() {
        // SAFETY: rebuilds the boxed slice made by clusto_entity_versions.
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(versions, count)) });
    }
}

/// Runs the integrity check; `*problems` receives the number of problems found (0:
/// clean). The messages are in `clusto_last_error` when there are problems.
///
/// Errors: as any read, INVALID_ARGUMENT, CONFLICT, CORRUPT, IO, PANIC.
///
/// # Safety
/// `db` is a live handle; `problems` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_check(db: *const ClustoDb, problems: *mut u64) -> ClustoStatus {
    let mut messages = String::new();
    let status = guard(|| {
        need(problems, "problems")?;
        // SAFETY: contract above.
        let report = unsafe { db_ref(db) }?.db.check()?;
        messages = report.problems.join("\n");
        // SAFETY: checked non-NULL.
        unsafe { put(problems, report.problems.len() as u64, "problems") }
    });
    if status == ClustoStatus::Ok && !messages.is_empty() {
        crate::status::set_last_error(&messages);
    }
    status
}
