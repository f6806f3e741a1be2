//! What the migration tests share: the legacy sample and the comparison of an imported
//! database with the original's own view of it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use clusto_core::Clusto;

/// The legacy sample database made by the original clusto, kept as a fixture
/// (`tests/fixtures/legacy/README.md` says how it was made).
pub fn sample() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/legacy/sample-clusto.db")
}

/// A copy of the sample in `dir` (the original file is never opened for writing).
pub fn sample_copy(dir: &Path) -> PathBuf {
    let source = sample();
    let copy = dir.join("sample.db");
    std::fs::copy(&source, &copy).unwrap();
    copy
}

/// The row counts of the sample: (entities, attributes, counters, versions).
pub const SAMPLE_ROWS: (usize, usize, usize, usize) = (368, 13616, 291, 6310);

/// Asserts that `report` imported every row of the sample, cleanly.
pub fn assert_complete(report: &clusto_migrate::Report) {
    assert!(report.skipped.is_empty(), "{:#?}", report.skipped);
    assert!(report.problems.is_empty(), "{:#?}", report.problems);
    assert_eq!(
        (
            report.entities,
            report.attributes,
            report.counters,
            report.versions
        ),
        SAMPLE_ROWS
    );
}

/// Asserts that `db`'s legacy view equals the original's own
/// (`sample-clusto.expected.json`), part by part and entity by entity so that a
/// difference is shown where it is.
pub fn assert_expected_view(db: &Clusto) {
    let source = sample();
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(source.with_file_name("sample-clusto.expected.json")).unwrap(),
    )
    .unwrap();
    let as_of: Vec<u64> = expected["as_of"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.parse().unwrap())
        .collect();
    let ours = clusto_migrate::legacy_view(db, &as_of).unwrap();
    for part in ["latest_version", "counters", "versions", "as_of"] {
        assert!(ours[part] == expected[part], "{part} differs");
    }
    let (ours_e, expected_e) = (
        ours["entities"].as_array().unwrap(),
        expected["entities"].as_array().unwrap(),
    );
    assert_eq!(ours_e.len(), expected_e.len());
    for (o, e) in ours_e.iter().zip(expected_e) {
        assert!(
            o == e,
            "entity {} differs:\n ours: {o}\n expected: {e}",
            e["name"]
        );
    }
    assert!(ours == expected);
}
