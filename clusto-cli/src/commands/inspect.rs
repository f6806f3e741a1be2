//! Commands that read: info, show, list-all, list-pool, tree, history, query, check.

use clusto_core::{
    AttrFilter, Entity, EntityQuery, Related, Result, Timestamp, VersionQuery, View,
    json::version_json,
};
use serde_json::{Map, Value as Json, json};

use super::{Ctx, entity_record, names};
use crate::output::{Output, record};

fn describe(v: &View<'_>, e: &Entity) -> Result<Map<String, Json>> {
    let mut r = entity_record(e);
    r.insert(
        "parents".into(),
        names(&v.parents(e.id, &Related::direct())?),
    );
    let mut contents = Vec::new();
    for a in v.content_attrs(e.id, &AttrFilter::any())? {
        let Some(target) = a.value.as_relation() else {
            continue;
        };
        let name = v.entity_by_id(target)?.name;
        contents.push(match (a.subkey.as_deref(), a.number) {
            (Some("ru"), Some(u)) => format!("{name} (U{u})"),
            _ => name,
        });
    }
    r.insert("contents".into(), json!(contents));
    let attrs: Vec<Json> = v
        .attrs(e.id, &AttrFilter::any())?
        .iter()
        .map(|a| v.attr_json(a))
        .collect::<Result<_>>()?;
    r.insert("attrs".into(), Json::Array(attrs));
    let ips = v.ips_of(e.id)?;
    if !ips.is_empty() {
        r.insert("ips".into(), json!(ips));
    }
    let ports = v.port_info(e.id)?;
    if !ports.is_empty() {
        let ports: Vec<Json> = ports
            .iter()
            .filter(|p| p.connection.is_some())
            .map(|p| {
                json!({
                    "port": format!("{}:{}", p.port_type, p.number),
                    "connection": p.connection.as_ref().map(|c| c.name.clone()),
                    "other_port": p.other_port,
                })
            })
            .collect();
        r.insert("ports".into(), Json::Array(ports));
    }
    Ok(r)
}

/// `info NAME...` and `show NAME --at V`.
pub fn info(ctx: &Ctx, list: &[String], at: Option<u64>) -> Result<Output> {
    let read = |v: &View<'_>| -> Result<Vec<Map<String, Json>>> {
        list.iter().map(|n| describe(v, &v.entity(n)?)).collect()
    };
    let records = match at {
        None => ctx.db.read(read)?,
        Some(version) => ctx.db.read_at(version, read)?,
    };
    Ok(Output::Blocks(records))
}

fn entity_rows(list: &[Entity]) -> Output {
    Output::Records(list.iter().map(entity_record).collect())
}

/// `list-all [--type] [--driver]`.
pub fn list_all(ctx: &Ctx, type_name: &Option<String>, driver: &Option<String>) -> Result<Output> {
    let query = EntityQuery {
        types: type_name.iter().cloned().collect(),
        drivers: driver.iter().cloned().collect(),
        ..Default::default()
    };
    let mut list = ctx.db.read(|v| v.entities(&query))?;
    list.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entity_rows(&list))
}

/// `list-pool POOL... [--recursive] [--type] [--names]`.
pub fn list_pool(
    ctx: &Ctx,
    pools: &[String],
    recursive: bool,
    type_name: &Option<String>,
    only_names: bool,
) -> Result<Output> {
    ctx.db.read(|v| {
        let ids = pools
            .iter()
            .map(|p| Ok(v.entity(p)?.id))
            .collect::<Result<Vec<_>>>()?;
        let related = Related {
            types: type_name.iter().cloned().collect(),
            recursive,
            ..Default::default()
        };
        let mut members = v.from_pools(&ids, &related)?;
        members.sort_by(|a, b| a.name.cmp(&b.name));
        if only_names {
            return Ok(entity_rows(&members));
        }
        let mut rows = Vec::new();
        for m in &members {
            for ip in v.ips_of(m.id)? {
                rows.push(record([("name", json!(m.name)), ("ip", json!(ip))]));
            }
        }
        Ok(Output::Records(rows))
    })
}

fn tree_node(
    v: &View<'_>,
    e: &Entity,
    parents: bool,
    attrs: &[String],
    path: &mut Vec<u64>,
) -> Result<Json> {
    let mut node = entity_record(e);
    for key in attrs {
        let values: Vec<Json> = v
            .attrs(e.id, &AttrFilter::key(key.as_str()))?
            .iter()
            .map(|a| v.value_json(&a.value))
            .collect::<Result<_>>()?;
        node.insert(key.clone(), Json::Array(values));
    }
    let next = if parents {
        v.parents(e.id, &Related::direct())?
    } else {
        let mut seen = Vec::new();
        for m in v.contents(e.id, &AttrFilter::any(), &Related::direct())? {
            if !seen.iter().any(|s: &Entity| s.id == m.id) {
                seen.push(m);
            }
        }
        seen
    };
    let mut children = Vec::new();
    for child in next {
        if path.contains(&child.id.0) {
            continue;
        }
        path.push(child.id.0);
        children.push(tree_node(v, &child, parents, attrs, path)?);
        path.pop();
    }
    node.insert(
        if parents { "parents" } else { "contents" }.into(),
        Json::Array(children),
    );
    Ok(Json::Object(node))
}

fn draw(
    node: &Json,
    key: &str,
    attrs: &[String],
    prefix: &str,
    last: bool,
    root: bool,
    out: &mut String,
) {
    let extras: Vec<String> = attrs
        .iter()
        .filter_map(|k| {
            let values = node[k].as_array()?;
            (!values.is_empty()).then(|| {
                format!(
                    "{k}={}",
                    values
                        .iter()
                        .map(|v| v.as_str().map_or(v.to_string(), str::to_owned))
                        .collect::<Vec<_>>()
                        .join(",")
                )
            })
        })
        .collect();
    let label = format!(
        "{} [{}]{}",
        node["name"].as_str().unwrap_or(""),
        node["driver"].as_str().unwrap_or(""),
        if extras.is_empty() {
            String::new()
        } else {
            format!("  {}", extras.join(" "))
        }
    );
    if root {
        out.push_str(&label);
    } else {
        out.push_str(&format!(
            "{prefix}{}{label}",
            if last { "└── " } else { "├── " }
        ));
    }
    out.push('\n');
    let children = node[key].as_array().cloned().unwrap_or_default();
    let child_prefix = if root {
        String::new()
    } else {
        format!("{prefix}{}", if last { "    " } else { "│   " })
    };
    for (i, child) in children.iter().enumerate() {
        draw(
            child,
            key,
            attrs,
            &child_prefix,
            i + 1 == children.len(),
            false,
            out,
        );
    }
}

/// `tree NAME [-p|-c] [ATTR...]`.
pub fn tree(ctx: &Ctx, name: &str, parents: bool, attrs: &[String]) -> Result<Output> {
    let root = ctx.db.read(|v| {
        let e = v.entity(name)?;
        tree_node(v, &e, parents, attrs, &mut vec![e.id.0])
    })?;
    let mut text = String::new();
    draw(
        &root,
        if parents { "parents" } else { "contents" },
        attrs,
        "",
        true,
        true,
        &mut text,
    );
    Ok(Output::Text { text, json: root })
}

/// `history [NAME] [--since V|TIME] [--user U] [--changes]`.
pub fn history(
    ctx: &Ctx,
    name: Option<&str>,
    since: Option<&str>,
    user: Option<&str>,
    changes: bool,
) -> Result<Output> {
    let mut query = VersionQuery {
        user: user.map(str::to_owned),
        entity: name.map(str::to_owned),
        ..Default::default()
    };
    match since {
        Some(s) if s.chars().all(|c| c.is_ascii_digit()) => query.from = s.parse().ok(),
        Some(s) => {
            let text = if s.len() == 10 {
                format!("{s}T00:00:00")
            } else {
                s.to_owned()
            };
            query.since = Some(Timestamp::parse(&text)?);
        }
        None => {}
    }
    ctx.db.read(|v| {
        let versions = v.versions(&query)?;
        let mut rows = Vec::new();
        for info in versions {
            let mut r = match version_json(&info) {
                Json::Object(o) => o,
                _ => unreachable!(),
            };
            if changes {
                let list: Vec<Json> = v
                    .change_details(info.version)?
                    .iter()
                    .map(|d| v.change_json(d))
                    .collect::<Result<_>>()?;
                r.insert("changes".into(), Json::Array(list));
            }
            rows.push(r);
        }
        Ok(Output::Records(rows))
    })
}

/// A `KEY[.SUBKEY][=VALUE]` term as a filter (values are matched as strings, or as
/// integers when they look like one and no string matches).
fn term_filters(term: &str) -> Vec<AttrFilter> {
    let (lhs, value) = match term.split_once('=') {
        Some((l, v)) => (l, Some(v)),
        None => (term, None),
    };
    let base = match lhs.split_once('.') {
        Some((k, s)) => AttrFilter::key(k).subkey(s),
        None => AttrFilter::key(lhs),
    }
    .with_hidden();
    match value {
        None => vec![base],
        Some(v) => {
            let mut list = vec![base.clone().value(v)];
            if let Ok(i) = v.parse::<i64>() {
                list.push(base.value(i));
            }
            list
        }
    }
}

/// `query KEY[=VALUE]... [--type] [--driver] [--pool]`: entities matching every term.
pub fn query(
    ctx: &Ctx,
    terms: &[String],
    type_name: &Option<String>,
    driver: &Option<String>,
    pool: &Option<String>,
) -> Result<Output> {
    ctx.db.read(|v| {
        let mut list = v.entities(&EntityQuery {
            all_attrs: terms.iter().map(|t| term_filters(t)).collect(),
            types: type_name.iter().cloned().collect(),
            drivers: driver.iter().cloned().collect(),
            in_pools: match pool {
                Some(pool) => vec![v.entity(pool)?.id],
                None => Vec::new(),
            },
            ..Default::default()
        })?;
        list.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entity_rows(&list))
    })
}

/// `check`: the report, and whether it found problems.
pub fn check(ctx: &Ctx) -> Result<(Output, bool)> {
    let report = ctx.db.check()?;
    let summary = record([
        ("entities", json!(report.entities)),
        ("attributes", json!(report.attributes)),
        ("index_entries", json!(report.index_entries)),
        ("versions", json!(report.versions)),
        ("problems", json!(report.problems)),
        (
            "status",
            json!(if report.is_clean() {
                "clean"
            } else {
                "problems found"
            }),
        ),
    ]);
    Ok((Output::Records(vec![summary]), !report.is_clean()))
}
