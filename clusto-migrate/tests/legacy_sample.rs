//! The sample database made by the original clusto imports with a view identical to the
//! original's own: live state, counters, versions and the as-of snapshots.

mod common;

use std::path::PathBuf;

use clusto_core::{AttrFilter, Clusto};
use common::sample;

#[test]
fn sample_imports_with_the_expected_view() {
    let source = sample();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("sample.db");
    std::fs::copy(&source, &copy).unwrap();
    let db = Clusto::open(dir.path().join("clusto")).unwrap();
    let mut calls = 0;
    let report = clusto_migrate::migrate_sqlite(&copy, &db, |_, _| calls += 1).unwrap();
    common::assert_complete(&report);
    assert_eq!(report.source, copy.display().to_string());
    assert!(calls > 0);

    common::assert_expected_view(&db);

    // History reads work on the imported data: the renamed server and its old name.
    db.read_at(6303, |v| {
        assert!(v.find("sjc1-web01")?.is_some() && v.find("sjc1-www01")?.is_none());
        Ok(())
    })
    .unwrap();
    db.read(|v| {
        let www = v.entity("sjc1-www01")?;
        assert!(
            !v.referencers(www.id, &AttrFilter::key("_contains"))?
                .is_empty()
        );
        Ok(())
    })
    .unwrap();
}

#[test]
fn refuses_a_non_empty_target_and_other_sources() {
    let source = sample();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("sample.db");
    std::fs::copy(&source, &copy).unwrap();
    let db = Clusto::open(dir.path().join("clusto")).unwrap();
    db.write(Default::default(), |tx| tx.create_entity("x", "t", "d"))
        .unwrap();
    let err = clusto_migrate::migrate_sqlite(&copy, &db, |_, _| {}).unwrap_err();
    assert!(err.to_string().contains("not empty"), "{err}");
    // sqlite_path names files only; migrate() reads servers.
    assert!(
        clusto_migrate::sqlite_path("mysql://u@h/db")
            .unwrap_err()
            .to_string()
            .contains("not a SQLite file")
    );
    assert!(
        clusto_migrate::sqlite_path("oracle://u@h/db")
            .unwrap_err()
            .to_string()
            .contains("'oracle' is not supported")
    );
    assert_eq!(
        clusto_migrate::sqlite_path("sqlite:////abs/x.db").unwrap(),
        PathBuf::from("/abs/x.db")
    );
    let missing = clusto_migrate::migrate_sqlite(&dir.path().join("nope.db"), &db, |_, _| {});
    assert!(matches!(missing, Err(clusto_core::Error::NotFound(_))));
}
