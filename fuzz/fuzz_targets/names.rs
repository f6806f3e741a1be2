//! Fuzzes name, key and value validation: any entity name, type, attribute key, subkey and
//! text either works and reads back the same, or is refused with an input error that
//! changes nothing.
#![no_main]

use clusto_core::storage::MemoryBackend;
use clusto_core::{AttrFilter, Clusto, Durability, Error, NewAttr, TxMeta};
use libfuzzer_sys::fuzz_target;

fn input_error(e: &Error) -> bool {
    matches!(e, Error::InvalidName(_) | Error::InvalidValue(_))
}

fuzz_target!(|input: (String, String, String, Option<String>, String)| {
    let (name, type_name, key, subkey, text) = input;
    let db =
        Clusto::with_backend(Box::new(MemoryBackend::new()), Durability::Immediate, None).unwrap();
    match db.write(TxMeta::default(), |tx| {
        tx.create_entity(&name, &type_name, "entity")
    }) {
        Ok(e) => {
            assert_eq!(db.read(|v| v.entity(&name)).unwrap(), e);
            let mut attr = NewAttr::new(key.as_str(), text.as_str());
            if let Some(s) = &subkey {
                attr = attr.subkey(s.as_str());
            }
            match db.write(TxMeta::default(), |tx| tx.add_attr(e.id, attr)) {
                Ok(a) => assert_eq!(
                    db.read(|v| v.attrs(e.id, &AttrFilter::any().with_hidden()))
                        .unwrap(),
                    vec![a]
                ),
                Err(err) => {
                    assert!(input_error(&err), "{err:?}");
                    assert_eq!(db.latest_version().unwrap(), 1);
                }
            }
        }
        Err(err) => {
            assert!(input_error(&err), "{err:?}");
            assert_eq!(db.latest_version().unwrap(), 0);
        }
    }
    assert!(db.check().unwrap().is_clean());
});
