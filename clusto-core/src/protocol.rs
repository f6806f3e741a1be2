//! The JSON protocol: the whole API behind one JSON request and one JSON response, for
//! scripting languages that find structs awkward. The C ABI's `clusto_json` and the HTTP
//! server's `POST /api` both run it, so they accept and answer the same documents.
//!
//! Request: `{"op": NAME, ...arguments}`; `{"op": "batch", "ops": [...], "user": U,
//! "description": D}` runs several operations in one transaction (one version; all or
//! nothing). A read may carry `"at": VERSION`. Response: `{"ok": true, "result": ...}`
//! or `{"ok": false, "error": {"code": "NOT_FOUND", "message": "..."}}`.
//!
//! Values in requests: a JSON integer, string or null; `{"relation": NAME}`;
//! `{"datetime": "YYYY-MM-DDTHH:MM:SS"}`; an array or object (stored as json). Results
//! use the same shapes (see `clusto_core::json`).
//!
//! Operations: version, check, init, create {driver, name, props?}, exists {name},
//! get {name}, delete {name}, rename {old, new}, attrs {name, key?, subkey?, number?,
//! value?, hidden?}, attr_add / attr_set {name, key, value, subkey?, number? (int or
//! "next"), datatype? (as `attrs` gives it: a value read, then written back with its
//! datatype, keeps its type)}, attr_delete {name, key?, subkey?, number?, value?}, insert {container,
//! thing}, rack_insert {rack, device, units}, remove {container, thing}, contents /
//! parents / pools {name, recursive?}, ip_allocate {device, manager?, ip?},
//! ip_deallocate {device, manager?, ip?}, ips {device}, ip_owners {ip}, name_allocate
//! {manager, driver}, port_connect {device, port_type, number, other, other_number},
//! port_disconnect {device, port_type, number}, port_connected {device, port_type,
//! number}, entities {names?, types?, drivers?, attrs?: [{key, subkey?, number?,
//! value?, hidden?}] (all must match), pools?} (a list of `{name, type, driver}`),
//! history {name?, user?, from?, to?}, changes {version} (a list of
//! `{entity, type, kind, change}`), feed {since?, limit?} (the versions after `since` with their
//! changes), diff {from, to?, names?} (`{from, to, entities: [...]}`), revert {version,
//! force?}, restore {names, to}. The JSON shapes of changes, feed entries and diffs are
//! `clusto_core::json`'s (`change_json`, `version_changes_json`, `diff_json`).

use serde_json::{Map, Value as Json, json};

use crate::db::Clusto;
use crate::error::{Error, ErrorKind, Result};
use crate::json::{entity_json, version_json};
use crate::{
    AttrFilter, Datatype, EntityId, EntityQuery, NewAttr, NumberMatch, NumberSpec, Related,
    SubkeyMatch, TextMatch, Transaction, TxMeta, Value, Version, VersionQuery, View,
};

/// The largest request text accepted, in bytes.
pub const MAX_REQUEST: usize = 16 << 20;

/// Every operation a request may name (`"op"`): [`execute`] refuses any other name with
/// INVALID_ARGUMENT ("unknown op") before it reads or writes anything, so an operation
/// added to the dispatch but not here cannot be reached. The C header's list of
/// operations is tested against this one (clusto-ffi/tests/header.rs).
pub const OPS: &[&str] = &[
    "version",
    "check",
    "init",
    "create",
    "exists",
    "get",
    "delete",
    "rename",
    "attrs",
    "attr_add",
    "attr_set",
    "attr_delete",
    "insert",
    "remove",
    "rack_insert",
    "contents",
    "parents",
    "pools",
    "ip_allocate",
    "ip_deallocate",
    "ips",
    "ip_owners",
    "name_allocate",
    "port_connect",
    "port_disconnect",
    "port_connected",
    "entities",
    "history",
    "changes",
    "feed",
    "diff",
    "revert",
    "restore",
    "batch",
];

/// Who runs a request and against which state.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Read this past version (`at` in the request overrides it); writes are refused.
    pub at: Option<Version>,
    /// The user and description a write records when the request names neither.
    pub meta: TxMeta,
    /// Whether the request's own `user` is ignored: the HTTP server records the token's
    /// name, which a request may not override.
    pub user_fixed: bool,
    /// Whether writes are refused (with [`Error::ReadOnly`]): reads run, writes do not.
    pub read_only: bool,
}

fn invalid(message: impl Into<String>) -> Error {
    Error::InvalidValue(message.into())
}

type Req = Map<String, Json>;

fn str_arg<'a>(req: &'a Req, name: &str) -> Result<&'a str> {
    req.get(name)
        .and_then(Json::as_str)
        .ok_or_else(|| invalid(format!("request needs a string '{name}'")))
}

fn opt_str<'a>(req: &'a Req, name: &str) -> Result<Option<&'a str>> {
    match req.get(name) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(format!("'{name}' must be a string"))),
    }
}

fn int_arg(req: &Req, name: &str) -> Result<i64> {
    req.get(name)
        .and_then(Json::as_i64)
        .ok_or_else(|| invalid(format!("request needs an integer '{name}'")))
}

fn bool_arg(req: &Req, name: &str) -> bool {
    req.get(name).and_then(Json::as_bool).unwrap_or(false)
}

/// A request value as a core value.
/// Driver properties given as a JSON object of values (`None` or null: none).
pub fn props_arg(view: &View<'_>, props: Option<&Json>) -> Result<Vec<(String, Value)>> {
    match props {
        None | Some(Json::Null) => Ok(Vec::new()),
        Some(Json::Object(o)) => o
            .iter()
            .map(|(k, v)| Ok((k.clone(), value_arg(view, v)?)))
            .collect(),
        Some(_) => Err(invalid("'props' must be an object")),
    }
}

/// A value of a request: `clusto_core::json`'s reading of JSON values.
fn value_arg(view: &View<'_>, v: &Json) -> Result<Value> {
    view.value_from_json(None, v)
}

fn filter_arg(view: &View<'_>, req: &Req) -> Result<AttrFilter> {
    Ok(AttrFilter {
        key: opt_str(req, "key")?.map(|k| TextMatch::Exact(k.to_owned())),
        subkey: opt_str(req, "subkey")?.map_or(SubkeyMatch::Any, |s| {
            SubkeyMatch::Is(TextMatch::Exact(s.to_owned()))
        }),
        number: match req.get("number") {
            None => NumberMatch::Any,
            Some(Json::Null) => NumberMatch::Null,
            Some(n) => NumberMatch::Is(
                n.as_i64()
                    .ok_or_else(|| invalid("'number' must be an integer or null"))?,
            ),
        },
        value: req.get("value").map(|v| value_arg(view, v)).transpose()?,
        include_hidden: bool_arg(req, "hidden"),
    })
}

fn names(list: &[crate::Entity]) -> Json {
    json!(list.iter().map(|e| e.name.as_str()).collect::<Vec<_>>())
}

/// Operations that only read.
fn read_op(op: &str, req: &Req, v: &View<'_>) -> Result<Option<Json>> {
    let related = || Related {
        recursive: bool_arg(req, "recursive"),
        ..Default::default()
    };
    Ok(Some(match op {
        "version" => json!(v.latest_version()?),
        "exists" => json!(v.find(str_arg(req, "name")?)?.is_some()),
        "get" => {
            let e = v.entity(str_arg(req, "name")?)?;
            let mut out = entity_json(&e);
            let attrs: Vec<Json> = v
                .attrs(e.id, &AttrFilter::any())?
                .iter()
                .map(|a| v.attr_json(a))
                .collect::<Result<_, _>>()?;
            out["attrs"] = Json::Array(attrs);
            out
        }
        "attrs" => {
            let e = v.entity(str_arg(req, "name")?)?;
            let f = filter_arg(v, req)?;
            Json::Array(
                v.attrs(e.id, &f)?
                    .iter()
                    .map(|a| v.attr_json(a))
                    .collect::<Result<_, _>>()?,
            )
        }
        "contents" => names(&v.contents(
            v.entity(str_arg(req, "name")?)?.id,
            &AttrFilter::any(),
            &related(),
        )?),
        "parents" => names(&v.parents(v.entity(str_arg(req, "name")?)?.id, &related())?),
        "pools" => names(&v.pools_of(
            v.entity(str_arg(req, "name")?)?.id,
            bool_arg(req, "recursive"),
        )?),
        "ips" => json!(v.ips_of(v.entity(str_arg(req, "device")?)?.id)?),
        "ip_owners" => names(&v.devices_with_ip(str_arg(req, "ip")?)?),
        "port_connected" => {
            let d = v.entity(str_arg(req, "device")?)?.id;
            json!(
                v.connected(d, str_arg(req, "port_type")?, int_arg(req, "number")?)?
                    .map(|e| e.name)
            )
        }
        "history" => {
            let query = VersionQuery {
                from: req.get("from").and_then(Json::as_u64),
                to: req.get("to").and_then(Json::as_u64),
                user: opt_str(req, "user")?.map(str::to_owned),
                entity: opt_str(req, "name")?.map(str::to_owned),
                ..Default::default()
            };
            let versions = v.versions(&query)?;
            Json::Array(versions.iter().map(version_json).collect())
        }
        "changes" => {
            let version = req
                .get("version")
                .and_then(Json::as_u64)
                .ok_or_else(|| invalid("request needs a 'version'"))?;
            let list: Vec<Json> = v
                .change_details(version)?
                .iter()
                .map(|d| v.change_json(d))
                .collect::<Result<_, Error>>()?;
            Json::Array(list)
        }
        "entities" => {
            let attrs = match req.get("attrs") {
                None | Some(Json::Null) => Vec::new(),
                Some(Json::Array(items)) => items
                    .iter()
                    .map(|f| {
                        f.as_object()
                            .ok_or_else(|| invalid("each of 'attrs' is an object {key, ...}"))
                            .and_then(|f| filter_arg(v, f))
                    })
                    .collect::<Result<Vec<_>, Error>>()?,
                Some(_) => return Err(invalid("'attrs' must be a list of filters")),
            };
            let pools = string_list(req, "pools")?
                .iter()
                .map(|p| Ok(v.entity(p)?.id))
                .collect::<Result<Vec<_>, Error>>()?;
            let found = v.entities(&EntityQuery {
                names: string_list(req, "names")?,
                types: string_list(req, "types")?,
                drivers: string_list(req, "drivers")?,
                all_attrs: attrs.into_iter().map(|f| vec![f]).collect(),
                in_pools: pools,
                ..Default::default()
            })?;
            Json::Array(found.iter().map(entity_json).collect())
        }
        "feed" => {
            let since = req.get("since").and_then(Json::as_u64).unwrap_or(0);
            let limit = req.get("limit").and_then(Json::as_u64).map(|n| n as usize);
            let feed = v
                .changes_since(since, limit)?
                .iter()
                .map(|c| v.version_changes_json(c))
                .collect::<Result<Vec<_>, Error>>()?;
            Json::Array(feed)
        }
        "diff" => {
            let from = req
                .get("from")
                .and_then(Json::as_u64)
                .ok_or_else(|| invalid("request needs 'from', a version"))?;
            let to = req.get("to").and_then(Json::as_u64);
            let names = string_list(req, "names")?;
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            v.diff_json(&v.diff(from, to, &names)?)?
        }
        _ => return Ok(None),
    }))
}

/// Operations that write (and, inside a transaction, the reads too).
fn write_op(op: &str, req: &Req, tx: &mut Transaction) -> Result<Json> {
    if let Some(result) = read_op(op, req, &tx.view())? {
        return Ok(result);
    }
    let entity = |tx: &Transaction, field: &str| -> Result<EntityId> {
        Ok(tx.view().entity(str_arg(req, field)?)?.id)
    };
    Ok(match op {
        "init" => entity_json(&tx.init_clusto()?),
        "create" => {
            let props = props_arg(&tx.view(), req.get("props"))?;
            let props: Vec<(&str, Value)> =
                props.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
            entity_json(&tx.create(str_arg(req, "driver")?, str_arg(req, "name")?, &props)?)
        }
        "delete" => {
            tx.delete_entity(str_arg(req, "name")?)?;
            Json::Null
        }
        "rename" => entity_json(&tx.rename(str_arg(req, "old")?, str_arg(req, "new")?)?),
        "attr_add" | "attr_set" => {
            let id = entity(tx, "name")?;
            let value = req
                .get("value")
                .ok_or_else(|| invalid("request needs a 'value'"))?;
            let number = match req.get("number") {
                None | Some(Json::Null) => NumberSpec::None,
                Some(Json::String(s)) if s == "next" => NumberSpec::Next,
                Some(n) => NumberSpec::Exact(
                    n.as_i64()
                        .ok_or_else(|| invalid("'number' must be an integer or \"next\""))?,
                ),
            };
            // With `datatype` (as `attrs` and `get` give it), a value read is written back
            // as it was: a datetime stays a datetime.
            let datatype = opt_str(req, "datatype")?.map(Datatype::parse).transpose()?;
            let attr = NewAttr {
                key: str_arg(req, "key")?.to_owned(),
                subkey: opt_str(req, "subkey")?.map(str::to_owned),
                number,
                value: tx.view().value_from_json(datatype, value)?,
            };
            let a = if op == "attr_set" {
                tx.set_attr(id, attr)?
            } else {
                tx.add_attr(id, attr)?
            };
            tx.view().attr_json(&a)?
        }
        "attr_delete" => {
            let id = entity(tx, "name")?;
            let f = filter_arg(&tx.view(), req)?;
            json!(tx.delete_attrs(id, &f)?)
        }
        "insert" => {
            let (c, t) = (entity(tx, "container")?, entity(tx, "thing")?);
            tx.insert(c, t)?;
            Json::Null
        }
        "rack_insert" => {
            let (r, d) = (entity(tx, "rack")?, entity(tx, "device")?);
            let units = req
                .get("units")
                .and_then(Json::as_array)
                .ok_or_else(|| invalid("request needs 'units', a list of integers"))?
                .iter()
                .map(|u| {
                    u.as_i64()
                        .ok_or_else(|| invalid("'units' must be integers"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            tx.rack_insert(r, d, &units)?;
            Json::Null
        }
        "remove" => {
            let (c, t) = (entity(tx, "container")?, entity(tx, "thing")?);
            json!(tx.remove(c, t)?)
        }
        "ip_allocate" => {
            let d = entity(tx, "device")?;
            let m = opt_str(req, "manager")?
                .map(|m| tx.view().entity(m))
                .transpose()?
                .map(|m| m.id);
            let a = tx.add_ip(d, opt_str(req, "ip")?, m)?;
            json!(crate::ip_address(&a.value)?.to_string())
        }
        "ip_deallocate" => {
            let d = entity(tx, "device")?;
            let m = opt_str(req, "manager")?
                .map(|m| tx.view().entity(m))
                .transpose()?
                .map(|m| m.id);
            json!(tx.remove_ip(d, opt_str(req, "ip")?, m)?)
        }
        "name_allocate" => {
            let m = entity(tx, "manager")?;
            entity_json(&tx.allocate_entity(m, str_arg(req, "driver")?, None)?)
        }
        "port_connect" => {
            let (d, o) = (entity(tx, "device")?, entity(tx, "other")?);
            tx.connect_ports(
                d,
                str_arg(req, "port_type")?,
                int_arg(req, "number")?,
                o,
                int_arg(req, "other_number")?,
            )?;
            Json::Null
        }
        "port_disconnect" => {
            let d = entity(tx, "device")?;
            json!(tx.disconnect_port(d, str_arg(req, "port_type")?, int_arg(req, "number")?)?)
        }
        "revert" => {
            let version = req
                .get("version")
                .and_then(Json::as_u64)
                .ok_or_else(|| invalid("request needs 'version'"))?;
            let force = req.get("force").and_then(Json::as_bool).unwrap_or(false);
            tx.revert(version, force)?;
            json!({"reverted": version})
        }
        "restore" => {
            let to = req
                .get("to")
                .and_then(Json::as_u64)
                .ok_or_else(|| invalid("request needs 'to', a version"))?;
            let names = string_list(req, "names")?;
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            tx.restore(&names, to)?;
            json!({"restored": names, "to": to})
        }
        other => return Err(invalid(format!("unknown op '{other}'"))),
    })
}

/// The list of strings `req[name]` (missing: empty).
fn string_list(req: &Req, name: &str) -> Result<Vec<String>> {
    match req.get(name) {
        None | Some(Json::Null) => Ok(Vec::new()),
        Some(Json::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| invalid(format!("'{name}' must be a list of strings")))
            })
            .collect(),
        Some(_) => Err(invalid(format!("'{name}' must be a list of strings"))),
    }
}

/// Runs one request (an object `{"op": ...}`) on `db` and gives its result.
pub fn execute(db: &Clusto, req: &Req, context: &Context) -> Result<Json> {
    let op = str_arg(req, "op")?;
    if !OPS.contains(&op) {
        return Err(invalid(format!("unknown op '{op}'")));
    }
    if op == "check" {
        let report = db.check()?;
        return Ok(json!({"clean": report.is_clean(), "problems": report.problems}));
    }
    let at = req.get("at").and_then(Json::as_u64).or(context.at);
    if op != "batch" {
        let read = |v: &View<'_>| read_op(op, req, v);
        let done = match at {
            Some(version) => db.read_at(version, read)?,
            None => db.read(read)?,
        };
        if let Some(result) = done {
            return Ok(result);
        }
    }
    if at.is_some() {
        return Err(invalid("a request reading a past version cannot write"));
    }
    if context.read_only {
        return Err(Error::ReadOnly(format!(
            "'{op}' writes, and this caller may only read"
        )));
    }
    let user = opt_str(req, "user")?;
    let description = opt_str(req, "description")?;
    let meta = if context.user_fixed {
        TxMeta {
            user: context.meta.user.clone(),
            description: description
                .map(str::to_owned)
                .or_else(|| context.meta.description.clone()),
        }
    } else if user.is_none() && description.is_none() {
        context.meta.clone()
    } else {
        TxMeta {
            user: user.map(str::to_owned),
            description: description.map(str::to_owned),
        }
    };
    db.write(meta, |tx| {
        if op != "batch" {
            return write_op(op, req, tx);
        }
        let ops = req
            .get("ops")
            .and_then(Json::as_array)
            .ok_or_else(|| invalid("a batch needs 'ops', a list"))?;
        let mut results = Vec::with_capacity(ops.len());
        for (i, sub) in ops.iter().enumerate() {
            let sub = sub
                .as_object()
                .ok_or_else(|| invalid(format!("op {i} of the batch is not an object")))?;
            let name = str_arg(sub, "op")?;
            if !OPS.contains(&name) {
                return Err(invalid(format!("op {i}: unknown op '{name}'")));
            }
            if name == "batch" || name == "check" {
                return Err(invalid(format!(
                    "op {i}: '{name}' cannot run inside a batch"
                )));
            }
            results.push(write_op(name, sub, tx).map_err(|e| prefix(i, e))?);
        }
        Ok(Json::Array(results))
    })
}

/// Names the failing operation of a batch in its error.
fn prefix(i: usize, e: Error) -> Error {
    let message = format!("op {i} of the batch: {e}");
    match e {
        Error::NotFound(_) => Error::NotFound(message),
        Error::AlreadyExists(_) => Error::AlreadyExists(message),
        Error::InvalidName(_) => Error::InvalidName(message),
        Error::TypeMismatch(_) => Error::TypeMismatch(message),
        Error::ResourceUnavailable(_) => Error::ResourceUnavailable(message),
        Error::Conflict(_) | Error::Ambiguous(_) | Error::PoolRule(_) | Error::Port(_) => {
            Error::Conflict(message)
        }
        other => other,
    }
}

/// The protocol's name for the kind of an error: NOT_FOUND, ALREADY_EXISTS,
/// INVALID_ARGUMENT, INVALID_NAME, TYPE_MISMATCH, RESOURCE_UNAVAILABLE, CONFLICT, LOCKED,
/// CORRUPT or IO (also for any kind a newer core adds).
pub fn error_code(e: &Error) -> &'static str {
    match e.kind() {
        ErrorKind::NotFound => "NOT_FOUND",
        ErrorKind::AlreadyExists => "ALREADY_EXISTS",
        ErrorKind::InvalidName => "INVALID_NAME",
        ErrorKind::InvalidValue | ErrorKind::InvalidResource => "INVALID_ARGUMENT",
        ErrorKind::TypeMismatch => "TYPE_MISMATCH",
        ErrorKind::ResourceUnavailable => "RESOURCE_UNAVAILABLE",
        ErrorKind::Ambiguous
        | ErrorKind::Conflict
        | ErrorKind::ReadOnly
        | ErrorKind::PoolRule
        | ErrorKind::Port => "CONFLICT",
        ErrorKind::Locked => "LOCKED",
        ErrorKind::Corrupt | ErrorKind::UnsupportedFormat => "CORRUPT",
        _ => "IO",
    }
}

/// The response document for an outcome: `{"ok": true, "result": ...}` or
/// `{"ok": false, "error": {"code": ..., "message": ...}}`.
pub fn response(outcome: &Result<Json>) -> Json {
    match outcome {
        Ok(result) => json!({"ok": true, "result": result}),
        Err(e) => json!({"ok": false, "error": {"code": error_code(e), "message": e.to_string()}}),
    }
}

/// Parses the request text `text` (at most [`MAX_REQUEST`] bytes, a JSON object) and runs
/// it: the whole protocol from text to outcome.
pub fn run(db: &Clusto, text: &str, context: &Context) -> Result<Json> {
    if text.len() > MAX_REQUEST {
        return Err(invalid(format!(
            "request is larger than {MAX_REQUEST} bytes"
        )));
    }
    let req: Json =
        serde_json::from_str(text).map_err(|e| invalid(format!("request is not JSON: {e}")))?;
    let req = req
        .as_object()
        .ok_or_else(|| invalid("request must be a JSON object"))?;
    execute(db, req, context)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(text: &str) -> Req {
        serde_json::from_str(text).unwrap()
    }

    /// Every name of [`OPS`] reaches an arm of the dispatch: run without its arguments,
    /// it answers or complains about them, never "unknown op".
    #[test]
    fn every_listed_op_is_dispatched() {
        let db = Clusto::open("memory:").unwrap();
        for op in OPS {
            for sub in [false, true] {
                if sub && (*op == "batch" || *op == "check") {
                    continue; // refused inside a batch, by name
                }
                let text = if sub {
                    format!(r#"{{"op": "batch", "ops": [{{"op": "{op}"}}]}}"#)
                } else {
                    format!(r#"{{"op": "{op}"}}"#)
                };
                if let Err(e) = execute(&db, &request(&text), &Context::default()) {
                    assert!(
                        !e.to_string().contains("unknown op"),
                        "{text}: {e} (listed in OPS, missing from the dispatch)"
                    );
                }
            }
        }
    }

    /// A name not in [`OPS`] is refused as unknown whatever the context: not as a write
    /// refused to a reader of a past version or to a read-only caller.
    #[test]
    fn an_unlisted_op_is_unknown_in_every_context() {
        let db = Clusto::open("memory:").unwrap();
        let contexts = [
            Context::default(),
            Context {
                at: Some(0),
                ..Context::default()
            },
            Context {
                read_only: true,
                ..Context::default()
            },
        ];
        for context in &contexts {
            for text in [
                r#"{"op": "nosuch"}"#,
                r#"{"op": "batch", "ops": [{"op": "nosuch"}]}"#,
            ] {
                if (context.at.is_some() || context.read_only) && text.contains("batch") {
                    continue; // a batch writes: refused as such first
                }
                let e = execute(&db, &request(text), context).unwrap_err();
                assert_eq!(error_code(&e), "INVALID_ARGUMENT", "{text}");
                assert!(e.to_string().contains("unknown op 'nosuch'"), "{text}: {e}");
            }
        }
    }
}
