//! Fuzzes the JSON Lines dump import (`clusto import`): any bytes either import into a
//! database that `check()` finds clean, or are refused leaving the database empty.
#![no_main]

use clusto_core::storage::MemoryBackend;
use clusto_core::{Clusto, Durability};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let db =
        Clusto::with_backend(Box::new(MemoryBackend::new()), Durability::Immediate, None).unwrap();
    match clusto_migrate::dump::import(data, &db) {
        Ok(_) => {
            let report = db.check().unwrap();
            assert!(report.is_clean(), "{:#?}", report.problems);
        }
        Err(_) => {
            assert_eq!(
                db.latest_version().unwrap(),
                0,
                "a refused dump changes nothing"
            );
            assert!(db.read(|v| v.all_entities()).unwrap().is_empty());
        }
    }
});
