//! The committed header `include/clusto.h` is what cbindgen makes of the current
//! source (`CLUSTO_BLESS=1` rewrites it), and its list of JSON operations is the
//! protocol's.

use std::collections::BTreeSet;
use std::path::PathBuf;

/// The header cbindgen makes of the current source and cbindgen.toml.
fn generated_header() -> Vec<u8> {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).unwrap();
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut generated);
    generated
}

/// include/clusto.h is the generated header (`CLUSTO_BLESS=1` writes it).
#[test]
fn header_is_fresh() {
    let generated = generated_header();
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("include/clusto.h");
    if std::env::var_os("CLUSTO_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/clusto.h is stale: run CLUSTO_BLESS=1 cargo test -p clusto-ffi --test header"
    );
}

/// The operation names the header lists under "JSON operations": the first word of each
/// entry (`attr_add|attr_set {...}` names two), an entry being a line indented by three
/// spaces, up to the block's first blank line.
fn header_ops(header: &str) -> BTreeSet<String> {
    let mut lines = header.lines();
    lines
        .by_ref()
        .find(|l| l.starts_with(" * JSON operations"))
        .expect("the header has a \"JSON operations\" block");
    let mut ops = BTreeSet::new();
    for line in lines.take_while(|l| l.trim_end() != " *") {
        let Some(entry) = line.strip_prefix(" *   ") else {
            continue;
        };
        if !entry.starts_with(|c: char| c.is_ascii_lowercase()) {
            continue; // a continuation line, indented further
        }
        let names = entry
            .split(|c: char| c.is_whitespace() || c == '{')
            .next()
            .unwrap_or_default();
        ops.extend(names.split('|').map(str::to_owned));
    }
    ops
}

/// The header documents exactly the operations `clusto_json` accepts: an op added to
/// `clusto_core::protocol::OPS` (which its dispatcher is checked against) and not to
/// the header, or listed in the header and gone from the protocol, fails here.
#[test]
fn header_lists_every_json_op() {
    // The header as generated: `header_is_fresh` checks that include/clusto.h is it.
    let header = String::from_utf8(generated_header()).unwrap();
    let documented = header_ops(&header);
    let accepted: BTreeSet<String> = clusto_core::protocol::OPS
        .iter()
        .map(|op| op.to_string())
        .collect();
    let undocumented: Vec<_> = accepted.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&accepted).collect();
    assert!(
        undocumented.is_empty() && unknown.is_empty(),
        "the JSON operations of include/clusto.h (from cbindgen.toml) differ from \
         clusto_core::protocol::OPS: missing from the header {undocumented:?}, not \
         accepted by the protocol {unknown:?}"
    );
}
