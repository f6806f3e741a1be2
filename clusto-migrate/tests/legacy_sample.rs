//! The sample database made by the original clusto imports with a view identical to the
//! original's own: live state, counters, versions and the as-of snapshots.

use std::path::PathBuf;

use clusto_core::{AttrFilter, Clusto};

fn sample() -> Option<PathBuf> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/legacy/sample-clusto.db");
    path.exists().then_some(path)
}

#[test]
fn sample_imports_with_the_expected_view() {
    let Some(source) = sample() else {
        panic!("shared/legacy/sample-clusto.db is missing beside the repository");
    };
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("sample.db");
    std::fs::copy(&source, &copy).unwrap();
    let db = Clusto::open(dir.path().join("clusto")).unwrap();
    let mut calls = 0;
    let report = clusto_migrate::migrate_sqlite(&copy, &db, |_, _| calls += 1).unwrap();
    assert!(report.skipped.is_empty(), "{:#?}", report.skipped);
    assert!(report.problems.is_empty(), "{:#?}", report.problems);
    assert_eq!(
        (
            report.entities,
            report.attributes,
            report.counters,
            report.versions
        ),
        (368, 13616, 291, 6310)
    );
    assert!(calls > 0);

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
    let ours = clusto_migrate::legacy_view(&db, &as_of).unwrap();
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
    let Some(source) = sample() else { return };
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("sample.db");
    std::fs::copy(&source, &copy).unwrap();
    let db = Clusto::open(dir.path().join("clusto")).unwrap();
    db.write(Default::default(), |tx| tx.create_entity("x", "t", "d"))
        .unwrap();
    let err = clusto_migrate::migrate_sqlite(&copy, &db, |_, _| {}).unwrap_err();
    assert!(err.to_string().contains("not empty"), "{err}");
    assert!(
        clusto_migrate::sqlite_path("mysql://u@h/db")
            .unwrap_err()
            .to_string()
            .contains("not supported")
    );
    assert_eq!(
        clusto_migrate::sqlite_path("sqlite:////abs/x.db").unwrap(),
        PathBuf::from("/abs/x.db")
    );
    let missing = clusto_migrate::migrate_sqlite(&dir.path().join("nope.db"), &db, |_, _| {});
    assert!(matches!(missing, Err(clusto_core::Error::NotFound(_))));
}
