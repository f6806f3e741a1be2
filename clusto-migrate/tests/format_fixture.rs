//! A database written by an earlier build, in storage format 1, opens with this build and
//! reads the same: its export matches the export made when it was written.

use std::path::Path;

use clusto_core::Clusto;

#[test]
fn a_format_1_database_reads_as_it_was_written() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/format-v1");
    let dir = tempfile::tempdir().unwrap();
    let db_dir = dir.path().join("db");
    std::fs::create_dir(&db_dir).unwrap();
    std::fs::copy(fixture.join("db/data.mdb"), db_dir.join("data.mdb")).unwrap();

    let db = Clusto::open(&db_dir).unwrap();
    assert_eq!(db.engine(), "lmdb");
    assert!(db.check().unwrap().is_clean());
    let mut exported = Vec::new();
    clusto_migrate::dump::export(&db, None, &mut exported).unwrap();
    let expected = std::fs::read_to_string(fixture.join("export.jsonl")).unwrap();
    let exported = String::from_utf8(exported).unwrap();
    // Lines compare as JSON: the order of keys depends on serde_json's features in the
    // build that wrote them.
    for (i, (got, want)) in exported.lines().zip(expected.lines()).enumerate() {
        let got: serde_json::Value = serde_json::from_str(got).unwrap();
        let want: serde_json::Value = serde_json::from_str(want).unwrap();
        assert_eq!(got, want, "line {} of the export differs", i + 1);
    }
    assert_eq!(exported.lines().count(), expected.lines().count());

    // And it takes new writes in the same format.
    db.write(clusto_core::TxMeta::new("test", "after"), |tx| {
        tx.create("pool", "later", &[]).map(drop)
    })
    .unwrap();
    assert!(db.check().unwrap().is_clean());
}
