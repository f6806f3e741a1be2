//! Typed values across the boundary, and the lists results come back in.

use std::ffi::{CString, c_char};

use clusto_core::{Attribute, Error, NumberMatch, NumberSpec, Timestamp, Value, View};

use crate::args::{invalid, text};

/// `ClustoValue.kind`: an integer in `int_value`.
pub const CLUSTO_VALUE_INT: u32 = 0;
/// `ClustoValue.kind`: a string in `text`.
pub const CLUSTO_VALUE_STRING: u32 = 1;
/// `ClustoValue.kind`: a NULL string.
pub const CLUSTO_VALUE_NULL: u32 = 2;
/// `ClustoValue.kind`: a datetime, in UTC: ISO `text` (YYYY-MM-DDTHH:MM:SS[.ffffff], no
/// zone suffix) if not NULL, else Unix microseconds in `int_value`. Read back, both are
/// set (see "Datetimes" at the top of this header).
pub const CLUSTO_VALUE_DATETIME: u32 = 3;
/// `ClustoValue.kind`: a relation: the name of a live entity in `text`.
pub const CLUSTO_VALUE_RELATION: u32 = 4;
/// `ClustoValue.kind`: JSON text (an array or object) in `text`.
pub const CLUSTO_VALUE_JSON: u32 = 5;

/// How a new attribute is numbered: no number.
pub const CLUSTO_NUMBER_NONE: u32 = 0;
/// How a new attribute is numbered: the next of the (entity, key) counter.
pub const CLUSTO_NUMBER_NEXT: u32 = 1;
/// How a new attribute is numbered: exactly `number`.
pub const CLUSTO_NUMBER_EXACT: u32 = 2;

/// How a filter matches the number: any.
pub const CLUSTO_MATCH_ANY: u32 = 0;
/// How a filter matches the number: no number.
pub const CLUSTO_MATCH_NULL: u32 = 1;
/// How a filter matches the number: some number.
pub const CLUSTO_MATCH_NOT_NULL: u32 = 2;
/// How a filter matches the number: exactly `number`.
pub const CLUSTO_MATCH_EXACT: u32 = 3;

/// A value passed in.
#[repr(C)]
pub struct ClustoValue {
    /// One of the `CLUSTO_VALUE_*` constants.
    pub kind: u32,
    /// The integer, or the datetime in Unix microseconds (UTC) when `text` is NULL.
    pub int_value: i64,
    /// The text of strings, datetimes, relations (a name) and JSON.
    pub text: *const c_char,
}

/// A value read back; its strings belong to the list it came from.
#[repr(C)]
pub struct ClustoValueOut {
    /// One of the `CLUSTO_VALUE_*` constants.
    pub kind: u32,
    /// The integer; the datetime in Unix microseconds (UTC); the id of a relation's
    /// target entity; 0 otherwise.
    pub int_value: i64,
    /// Strings, ISO datetimes (UTC), relation target names and JSON text; NULL
    /// otherwise.
    pub text: *const c_char,
}

/// The core value of a C value (`view` resolves relation names).
///
/// # Safety
/// `v` is NULL or points to a valid `ClustoValue` whose `text` is NULL or a C string.
pub(crate) unsafe fn value_in(view: &View<'_>, v: *const ClustoValue) -> Result<Value, Error> {
    // SAFETY: NULL or valid by contract.
    let v = unsafe { v.as_ref() }.ok_or_else(|| invalid("value is NULL"))?;
    // SAFETY: text is NULL or a C string by contract.
    let txt = || unsafe { text(v.text, "value text") };
    Ok(match v.kind {
        CLUSTO_VALUE_INT => Value::Int(v.int_value),
        CLUSTO_VALUE_STRING => Value::String(txt()?.to_owned()),
        CLUSTO_VALUE_NULL => Value::Null,
        CLUSTO_VALUE_DATETIME if v.text.is_null() => Value::Datetime(Timestamp(v.int_value)),
        CLUSTO_VALUE_DATETIME => Value::Datetime(Timestamp::parse(txt()?)?),
        CLUSTO_VALUE_RELATION => Value::Relation(view.entity(txt()?)?.id),
        CLUSTO_VALUE_JSON => Value::json(txt()?)?,
        other => {
            return Err(invalid(format!(
                "value kind {other} is not a CLUSTO_VALUE_* constant"
            )));
        }
    })
}

/// The number of a new attribute from `(mode, number)`.
pub(crate) fn number_spec(mode: u32, number: i64) -> Result<NumberSpec, Error> {
    match mode {
        CLUSTO_NUMBER_NONE => Ok(NumberSpec::None),
        CLUSTO_NUMBER_NEXT => Ok(NumberSpec::Next),
        CLUSTO_NUMBER_EXACT => Ok(NumberSpec::Exact(number)),
        other => Err(invalid(format!(
            "number mode {other} is not a CLUSTO_NUMBER_* constant"
        ))),
    }
}

/// The number rule of a filter from `(mode, number)`.
pub(crate) fn number_match(mode: u32, number: i64) -> Result<NumberMatch, Error> {
    match mode {
        CLUSTO_MATCH_ANY => Ok(NumberMatch::Any),
        CLUSTO_MATCH_NULL => Ok(NumberMatch::Null),
        CLUSTO_MATCH_NOT_NULL => Ok(NumberMatch::NotNull),
        CLUSTO_MATCH_EXACT => Ok(NumberMatch::Is(number)),
        other => Err(invalid(format!(
            "match mode {other} is not a CLUSTO_MATCH_* constant"
        ))),
    }
}

fn owned(s: &str) -> CString {
    CString::new(s.replace('\0', "\\0")).unwrap_or_default()
}

/// A list of strings (names or addresses). Free with `clusto_names_free`.
pub struct ClustoNames {
    items: Vec<CString>,
}

impl ClustoNames {
    pub(crate) fn boxed<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> *mut ClustoNames {
        Box::into_raw(Box::new(ClustoNames {
            items: items.into_iter().map(|s| owned(s.as_ref())).collect(),
        }))
    }
}

/// The number of strings in a list (0 for NULL).
///
/// # Safety
/// `list` is NULL or a live list.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_names_len(list: *const ClustoNames) -> usize {
    // SAFETY: NULL or live by contract.
    unsafe { list.as_ref() }.map_or(0, |l| l.items.len())
}

/// String `i` of a list, or NULL when out of range. It belongs to the list.
///
/// # Safety
/// `list` is NULL or a live list.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_names_get(list: *const ClustoNames, i: usize) -> *const c_char {
    // SAFETY: NULL or live by contract.
    unsafe { list.as_ref() }
        .and_then(|l| l.items.get(i))
        .map_or(std::ptr::null(), |s| s.as_ptr())
}

/// Frees a list. NULL is ignored.
///
/// # Safety
/// `list` is NULL or a list from this library, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_names_free(list: *mut ClustoNames) {
    if !list.is_null() {
        // SAFETY: came from Box::into_raw.
        drop(unsafe { Box::from_raw(list) });
    }
}

struct AttrOut {
    key: CString,
    subkey: Option<CString>,
    number: Option<i64>,
    kind: u32,
    int_value: i64,
    text: Option<CString>,
}

/// A list of attributes. Free with `clusto_attrs_free`.
pub struct ClustoAttrs {
    items: Vec<AttrOut>,
}

impl ClustoAttrs {
    pub(crate) fn build(view: &View<'_>, attrs: &[Attribute]) -> Result<*mut ClustoAttrs, Error> {
        let mut items = Vec::with_capacity(attrs.len());
        for a in attrs {
            let (kind, int_value, text) = match &a.value {
                Value::Int(i) => (CLUSTO_VALUE_INT, *i, None),
                Value::String(s) => (CLUSTO_VALUE_STRING, 0, Some(owned(s))),
                Value::Null => (CLUSTO_VALUE_NULL, 0, None),
                Value::Datetime(t) => (CLUSTO_VALUE_DATETIME, t.0, Some(owned(&t.to_iso()))),
                Value::Relation(id) => (
                    CLUSTO_VALUE_RELATION,
                    id.0 as i64,
                    Some(owned(&view.entity_by_id(*id)?.name)),
                ),
                Value::Json(s) => (CLUSTO_VALUE_JSON, 0, Some(owned(s))),
            };
            items.push(AttrOut {
                key: owned(&a.key),
                subkey: a.subkey.as_deref().map(owned),
                number: a.number,
                kind,
                int_value,
                text,
            });
        }
        Ok(Box::into_raw(Box::new(ClustoAttrs { items })))
    }
}

/// One attribute of a list; its strings belong to the list.
#[repr(C)]
pub struct ClustoAttr {
    /// The key.
    pub key: *const c_char,
    /// The subkey, or NULL.
    pub subkey: *const c_char,
    /// Whether `number` is set.
    pub has_number: bool,
    /// The number.
    pub number: i64,
    /// The value.
    pub value: ClustoValueOut,
}

/// The number of attributes in a list (0 for NULL).
///
/// # Safety
/// `list` is NULL or a live list.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_attrs_len(list: *const ClustoAttrs) -> usize {
    // SAFETY: NULL or live by contract.
    unsafe { list.as_ref() }.map_or(0, |l| l.items.len())
}

/// Fills `*out` with attribute `i` of a list. Returns false (and leaves `*out` alone)
/// when `list` or `out` is NULL or `i` is out of range.
///
/// # Safety
/// `list` is NULL or a live list; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_attrs_get(
    list: *const ClustoAttrs,
    i: usize,
    out: *mut ClustoAttr,
) -> bool {
    // SAFETY: NULL or live by contract.
    let Some(a) = (unsafe { list.as_ref() }).and_then(|l| l.items.get(i)) else {
        return false;
    };
    if out.is_null() {
        return false;
    }
    let ptr = |s: &Option<CString>| s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
    let attr = ClustoAttr {
        key: a.key.as_ptr(),
        subkey: ptr(&a.subkey),
        has_number: a.number.is_some(),
        number: a.number.unwrap_or(0),
        value: ClustoValueOut {
            kind: a.kind,
            int_value: a.int_value,
            text: ptr(&a.text),
        },
    };
    // SAFETY: non-NULL and writable by contract.
    unsafe { out.write(attr) };
    true
}

/// Frees a list. NULL is ignored.
///
/// # Safety
/// `list` is NULL or a list from this library, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clusto_attrs_free(list: *mut ClustoAttrs) {
    if !list.is_null() {
        // SAFETY: came from Box::into_raw.
        drop(unsafe { Box::from_raw(list) });
    }
}
