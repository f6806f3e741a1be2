//! Commands that change entities and attributes: initdb, attr, pool, create, rename,
//! delete. Each command is one transaction (one version).

use clusto_core::{
    AttrFilter, Error, NewAttr, NumberMatch, NumberSpec, Related, Result, Value, View,
};
use serde_json::{Value as Json, json};

use super::{AttrArgs, AttrCommand, Ctx, PoolCommand, entity_record};
use crate::output::{Output, record};

/// `initdb`.
pub fn initdb(ctx: &Ctx) -> Result<Output> {
    ctx.db.init_clusto(ctx.meta.clone())?;
    let path = ctx.db.path().map(|p| p.display().to_string());
    Ok(Output::Records(vec![record([
        ("database", json!(path)),
        ("version", json!(ctx.db.latest_version()?)),
    ])]))
}

fn number_spec(number: &Option<String>) -> Result<NumberSpec> {
    match number.as_deref() {
        None => Ok(NumberSpec::None),
        Some("next") => Ok(NumberSpec::Next),
        Some(n) => n
            .parse()
            .map(NumberSpec::Exact)
            .map_err(|_| Error::InvalidValue(format!("number '{n}' is not an integer or 'next'"))),
    }
}

fn filter(v: &View<'_>, args: &AttrArgs) -> Result<AttrFilter> {
    let mut f = match &args.key {
        Some(k) => AttrFilter::key(k.as_str()),
        None => AttrFilter::any(),
    };
    if let Some(s) = &args.subkey {
        f = f.subkey(s.as_str());
    }
    match number_spec(&args.number)? {
        NumberSpec::Exact(n) => f = f.number(n),
        NumberSpec::Next => f = f.number_match(NumberMatch::NotNull),
        NumberSpec::None => {}
    }
    if let Some(text) = &args.value {
        f = f.value(v.value_from_text(args.value_type.datatype(), text)?);
    }
    if args.all {
        f = f.with_hidden();
    }
    Ok(f)
}

fn new_attr(v: &View<'_>, args: &AttrArgs) -> Result<NewAttr> {
    let key = args
        .key
        .clone()
        .ok_or_else(|| Error::InvalidValue("give the attribute key with -k".into()))?;
    let text = args
        .value
        .as_deref()
        .ok_or_else(|| Error::InvalidValue("give the value with -v".into()))?;
    Ok(NewAttr {
        key,
        subkey: args.subkey.clone(),
        number: number_spec(&args.number)?,
        value: v.value_from_text(args.value_type.datatype(), text)?,
    })
}

fn attr_rows(v: &View<'_>, attrs: &[clusto_core::Attribute]) -> Result<Output> {
    let rows = attrs
        .iter()
        .map(|a| match v.attr_json(a)? {
            Json::Object(o) => Ok(o),
            _ => unreachable!("attr_json is an object"),
        })
        .collect::<Result<_>>()?;
    Ok(Output::Records(rows))
}

/// `attr show|add|set|delete`.
pub fn attr(ctx: &Ctx, cmd: &AttrCommand) -> Result<Output> {
    match cmd {
        AttrCommand::Show(args) => ctx.db.read(|v| {
            let e = v.entity(&args.name)?;
            let f = filter(v, args)?;
            let attrs = if args.merge {
                v.attrs_merged(e.id, &f)?
            } else {
                v.attrs(e.id, &f)?
            };
            attr_rows(v, &attrs)
        }),
        AttrCommand::Add(args) | AttrCommand::Set(args) => {
            let set = matches!(cmd, AttrCommand::Set(_));
            let (attr, json) = ctx.write(|tx| {
                let e = tx.view().entity(&args.name)?;
                let new = new_attr(&tx.view(), args)?;
                let a = if set {
                    tx.set_attr(e.id, new)?
                } else {
                    tx.add_attr(e.id, new)?
                };
                let json = tx.view().attr_json(&a)?;
                Ok((a, json))
            })?;
            let _ = attr;
            Ok(Output::Records(vec![
                json.as_object().cloned().unwrap_or_default(),
            ]))
        }
        AttrCommand::Delete(args) => {
            if args.key.is_none() && args.value.is_none() && args.subkey.is_none() {
                return Err(Error::InvalidValue(
                    "give at least -k, -s or -v of the attributes to delete".into(),
                ));
            }
            let n = ctx.write(|tx| {
                let e = tx.view().entity(&args.name)?;
                let f = filter(&tx.view(), args)?;
                tx.delete_attrs(e.id, &f)
            })?;
            Ok(Output::Records(vec![record([("deleted", json!(n))])]))
        }
    }
}

/// `pool show|create|delete|insert|remove`.
pub fn pool(ctx: &Ctx, cmd: &PoolCommand) -> Result<Output> {
    match cmd {
        PoolCommand::Show { pool, recursive } => ctx.db.read(|v| {
            let p = v.entity(pool)?;
            let related = Related {
                recursive: *recursive,
                ..Default::default()
            };
            let members = v.contents(p.id, &AttrFilter::any(), &related)?;
            Ok(Output::Records(members.iter().map(entity_record).collect()))
        }),
        PoolCommand::Create { pool, driver } => {
            if !clusto_core::drivers::require(driver)?.behaviour.is_pool() {
                return Err(Error::TypeMismatch(format!(
                    "'{driver}' is not a pool driver"
                )));
            }
            let e = ctx.write(|tx| tx.create(driver, pool, &[]))?;
            Ok(Output::Records(vec![entity_record(&e)]))
        }
        PoolCommand::Delete { pool } => {
            ctx.write(|tx| {
                let p = tx.view().entity(pool)?;
                if !tx.view().spec_of(&p).behaviour.is_pool() {
                    return Err(Error::TypeMismatch(format!(
                        "'{pool}' is a {}, not a pool",
                        p.driver
                    )));
                }
                tx.delete_entity(pool)
            })?;
            Ok(Output::Nothing)
        }
        PoolCommand::Insert { pool, names } | PoolCommand::Remove { pool, names } => {
            let insert = matches!(cmd, PoolCommand::Insert { .. });
            ctx.write(|tx| {
                let p = tx.view().entity(pool)?.id;
                for name in names {
                    let thing = tx.view().entity(name)?.id;
                    if insert {
                        tx.insert(p, thing)?;
                    } else {
                        tx.remove(p, thing)?;
                    }
                }
                Ok(())
            })?;
            Ok(Output::Nothing)
        }
    }
}

fn prop_value(text: &str) -> Value {
    text.parse::<i64>()
        .map(Value::Int)
        .unwrap_or_else(|_| Value::from(text))
}

/// `create DRIVER NAME [--prop k=v]...`: integer-looking property values are stored as
/// integers (rack units, digits…), others as text.
pub fn create(ctx: &Ctx, driver: &str, name: &str, props: &[String]) -> Result<Output> {
    let parsed: Vec<(String, Value)> = props
        .iter()
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.to_owned(), prop_value(v)))
                .ok_or_else(|| Error::InvalidValue(format!("property '{p}' is not key=value")))
        })
        .collect::<Result<_>>()?;
    let e = ctx.write(|tx| {
        let refs: Vec<(&str, Value)> = parsed
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        tx.create(driver, name, &refs)
    })?;
    Ok(Output::Records(vec![entity_record(&e)]))
}

/// `rename OLD NEW`.
pub fn rename(ctx: &Ctx, old: &str, new: &str) -> Result<Output> {
    let e = ctx.write(|tx| tx.rename(old, new))?;
    Ok(Output::Records(vec![entity_record(&e)]))
}

/// `delete NAME`.
pub fn delete(ctx: &Ctx, name: &str) -> Result<Output> {
    ctx.write(|tx| tx.delete_entity(name))?;
    Ok(Output::Nothing)
}
