//! What commands print: records (ordered fields with JSON values) rendered as an aligned
//! table, JSON, CSV or YAML, or free text (rack elevations, trees).

use std::io::{self, Write};

use clap::ValueEnum;
use serde_json::{Map, Value as Json};

/// The output formats of `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns, or `field: value` blocks for nested records.
    Table,
    /// A JSON array of objects (one per record), stable field names.
    Json,
    /// CSV with a header row; nested values as compact JSON.
    Csv,
    /// A YAML list of mappings.
    Yaml,
}

/// A command's result.
pub enum Output {
    /// Records, each an ordered list of fields, shown as a table.
    Records(Vec<Map<String, Json>>),
    /// Records shown as `field: value` blocks (one entity described in full).
    Blocks(Vec<Map<String, Json>>),
    /// Text for the table format; `json` for the others.
    Text { text: String, json: Json },
    /// Nothing to print.
    Nothing,
}

/// A record from `(field, value)` pairs.
pub fn record<const N: usize>(fields: [(&str, Json); N]) -> Map<String, Json> {
    fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn cell(v: &Json) -> String {
    match v {
        Json::Null => String::new(),
        Json::String(s) => s.clone(),
        Json::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(", "),
        Json::Object(o) if o.len() == 1 && o.contains_key("relation") => cell(&o["relation"]),
        other => other.to_string(),
    }
}

fn is_nested(v: &Json) -> bool {
    match v {
        Json::Array(items) => items.iter().any(|i| i.is_object() || i.is_array()),
        Json::Object(o) => !(o.len() == 1 && o.contains_key("relation")),
        _ => false,
    }
}

fn columns(records: &[Map<String, Json>]) -> Vec<String> {
    let mut cols: Vec<String> = Vec::new();
    for r in records {
        for k in r.keys() {
            if !cols.contains(k) {
                cols.push(k.clone());
            }
        }
    }
    cols
}

fn table(out: &mut impl Write, records: &[Map<String, Json>], blocks: bool) -> io::Result<()> {
    if blocks || records.iter().any(|r| r.values().any(is_nested)) {
        for (i, r) in records.iter().enumerate() {
            if i > 0 {
                writeln!(out)?;
            }
            let width = r.keys().map(|k| k.len()).max().unwrap_or(0);
            for (k, v) in r {
                match v {
                    Json::Array(items) if is_nested(v) => {
                        writeln!(out, "{k:width$}:")?;
                        for item in items {
                            let line = match item {
                                Json::Object(o) => o
                                    .iter()
                                    .map(|(k, v)| format!("{k}={}", cell(v)))
                                    .collect::<Vec<_>>()
                                    .join("  "),
                                other => cell(other),
                            };
                            writeln!(out, "  {line}")?;
                        }
                    }
                    _ => writeln!(out, "{k:width$}: {}", cell(v))?,
                }
            }
        }
        return Ok(());
    }
    let cols = columns(records);
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            cols.iter()
                .map(|c| r.get(c).map(cell).unwrap_or_default())
                .collect()
        })
        .collect();
    let widths: Vec<usize> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([c.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        padded.join("  ").trim_end().to_owned()
    };
    writeln!(out, "{}", line(cols.iter().map(String::as_str).collect()))?;
    for r in &rows {
        writeln!(out, "{}", line(r.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}

/// Prints `output` to stdout in `format`.
pub fn print(output: &Output, format: Format) -> io::Result<()> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let json = match output {
        Output::Nothing => return Ok(()),
        Output::Text { text, .. } if format == Format::Table => return write!(out, "{text}"),
        Output::Text { json, .. } => json.clone(),
        Output::Records(records) if format == Format::Table => {
            return table(&mut out, records, false);
        }
        Output::Blocks(records) if format == Format::Table => {
            return table(&mut out, records, true);
        }
        Output::Records(records) | Output::Blocks(records) => {
            Json::Array(records.iter().cloned().map(Json::Object).collect())
        }
    };
    match format {
        Format::Json | Format::Table => writeln!(out, "{}", serde_json::to_string_pretty(&json)?),
        Format::Yaml => write!(
            out,
            "{}",
            serde_yaml_ng::to_string(&json).map_err(io::Error::other)?
        ),
        Format::Csv => {
            let records: Vec<Map<String, Json>> = match json {
                Json::Array(items) => items
                    .into_iter()
                    .filter_map(|i| i.as_object().cloned())
                    .collect(),
                Json::Object(o) => vec![o],
                other => vec![record([("value", other)])],
            };
            let cols = columns(&records);
            let mut w = csv::Writer::from_writer(out);
            w.write_record(&cols)?;
            for r in &records {
                w.write_record(cols.iter().map(|c| match r.get(c) {
                    None | Some(Json::Null) => String::new(),
                    Some(Json::String(s)) => s.clone(),
                    Some(v) if is_nested(v) => v.to_string(),
                    Some(v) => cell(v),
                }))?;
            }
            w.flush()
        }
    }
}
