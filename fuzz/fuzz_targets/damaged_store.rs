//! Fuzzes the record decoder and key parsers: a small valid store whose raw entries are
//! replaced, removed or duplicated under garbled keys must be reported as corrupt by
//! opening, `check()` and reads — never a panic.
#![no_main]

use clusto_core::storage::{Backend, MemoryBackend};
use clusto_core::{AttrFilter, Clusto, Durability, Error, NewAttr, Related, TxMeta};
use libfuzzer_sys::fuzz_target;

fn valid_store() -> Vec<(Vec<u8>, Vec<u8>)> {
    let store = MemoryBackend::new();
    let db = Clusto::with_backend(Box::new(store.clone()), Durability::Immediate, None).unwrap();
    db.write(TxMeta::new("fuzz", "site"), |tx| {
        tx.init_clusto()?;
        let pool = tx.create("pool", "p1", &[])?;
        let server = tx.create("basicserver", "s1", &[])?;
        tx.insert(pool.id, server.id)?;
        tx.add_attr(server.id, NewAttr::new("owner", "alice"))?;
        tx.add_attr(server.id, NewAttr::new("n", 3).next_number())?;
        Ok(())
    })
    .unwrap();
    db.write(TxMeta::new("fuzz", "rename"), |tx| {
        tx.rename("s1", "s2").map(drop)
    })
    .unwrap();
    store.entries()
}

fn reported(e: &Error) -> bool {
    matches!(
        e,
        Error::Corrupt(_) | Error::NotFound(_) | Error::UnsupportedFormat { .. }
    )
}

fuzz_target!(|damage: Vec<(u16, u8, Vec<u8>)>| {
    static VALID: std::sync::OnceLock<Vec<(Vec<u8>, Vec<u8>)>> = std::sync::OnceLock::new();
    let entries = VALID.get_or_init(valid_store);
    let store = MemoryBackend::new();
    store
        .apply(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), Some(v.clone())))
                .collect(),
        )
        .unwrap();
    let writes = damage
        .iter()
        .map(|(at, how, bytes)| {
            let (key, value) = &entries[*at as usize % entries.len()];
            match how % 3 {
                0 => (key.clone(), Some(bytes.clone())),
                1 => (key.clone(), None),
                _ => ([key.as_slice(), bytes].concat(), Some(value.clone())),
            }
        })
        .collect();
    store.apply(writes).unwrap();
    let db = match Clusto::with_backend(Box::new(store), Durability::Immediate, None) {
        Ok(db) => db,
        Err(e) => return assert!(reported(&e), "{e:?}"),
    };
    if let Err(e) = db.check() {
        assert!(reported(&e), "check: {e:?}");
    }
    if let Err(e) = db.read(|v| v.dump(|_| Ok(()))) {
        assert!(reported(&e), "dump: {e:?}");
    }
    let _ = db.read(|v| {
        for e in v.all_entities()? {
            v.attrs(e.id, &AttrFilter::any().with_hidden())?;
            v.parents(e.id, &Related::direct())?;
        }
        Ok(())
    });
});
