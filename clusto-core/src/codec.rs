//! The one encode/decode pair for stored records.
//!
//! Every stored value is `[RECORD_FORMAT] ++ bincode(record)`. The leading byte lets a
//! later release change the encoding (bincode is unmaintained) with a migration: a
//! record in an unknown envelope is reported as corrupt, never guessed at.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::records::{AttrId, AttrRef, Entity, EntityId};
use crate::value::{Timestamp, ValueRef};

/// The envelope byte written in front of every record.
pub const RECORD_FORMAT: u8 = 1;

/// The most bytes a decoded record may claim. Without a limit, bincode allocates the
/// length a string or list claims before reading it, so one damaged length byte aborted
/// the process for lack of memory (found by the `damaged_store` fuzz target). No real
/// record comes near it.
const MAX_RECORD_BYTES: usize = 1 << 30;

/// Encodes a record in the current envelope.
pub fn encode<T: Serialize>(record: &T) -> Vec<u8> {
    let mut out = vec![RECORD_FORMAT];
    bincode::serde::encode_into_std_write(record, &mut out, bincode::config::standard())
        .expect("encoding into a Vec cannot fail");
    out
}

/// Decodes a record; `what` names it in the error when the bytes are not a valid record.
pub fn decode<T: DeserializeOwned>(bytes: &[u8], what: &dyn Fn() -> String) -> Result<T> {
    let body = body_of(bytes, what)?;
    whole(
        bincode::serde::decode_from_slice(body, config()),
        body,
        what,
    )
}

/// Decodes a record in place through serde: its texts borrow from `bytes`. The same
/// envelope and checks as [`decode`]; the reference the tests hold
/// [`decode_attr_in_place`] to.
#[cfg(test)]
pub(crate) fn decode_in_place<'a, T: serde::Deserialize<'a>>(
    bytes: &'a [u8],
    what: &dyn Fn() -> String,
) -> Result<T> {
    let body = body_of(bytes, what)?;
    whole(
        bincode::serde::borrow_decode_from_slice(body, config()),
        body,
        what,
    )
}

/// Decodes an entity record: what [`decode`] gives for the same bytes, and an error
/// where it fails (tests compare the two), read without serde's machinery. Queries
/// decode one entity per result (the 1000 members of a pool); through serde one took
/// 92 ns, this way 48.
pub fn decode_entity(bytes: &[u8], what: &dyn Fn() -> String) -> Result<Entity> {
    read_whole(body_of(bytes, what)?, "an entity record", what, |fields| {
        Some(Entity {
            id: EntityId(fields.u64()?),
            name: fields.str()?.to_owned(),
            type_name: fields.str()?.to_owned(),
            driver: fields.str()?.to_owned(),
            version: fields.u64()?,
            deleted_at: fields.option(Standard::u64)?,
        })
    })
}

/// Decodes an attribute record in place, its texts borrowed from `bytes` (a scan tests
/// them without allocating): what serde's in-place decoding gives, and an error where it
/// fails (tests compare the two), without serde's machinery.
pub(crate) fn decode_attr_in_place<'a>(
    bytes: &'a [u8],
    what: &dyn Fn() -> String,
) -> Result<AttrRef<'a>> {
    read_whole(
        body_of(bytes, what)?,
        "an attribute record",
        what,
        |fields| {
            Some(AttrRef {
                id: AttrId(fields.u64()?),
                entity: EntityId(fields.u64()?),
                key: fields.str()?,
                subkey: fields.option(Standard::str)?,
                number: fields.option(Standard::i64)?,
                value: match fields.u32()? {
                    0 => ValueRef::Int(fields.i64()?),
                    1 => ValueRef::String(fields.str()?),
                    2 => ValueRef::Null,
                    3 => ValueRef::Datetime(Timestamp(fields.i64()?)),
                    4 => ValueRef::Relation(EntityId(fields.u64()?)),
                    5 => ValueRef::Json(fields.str()?),
                    _ => return None,
                },
                version: fields.u64()?,
                deleted_at: fields.option(Standard::u64)?,
            })
        },
    )
}

/// The record `read` takes from all of `body`; `kind` and `what` name it in the error.
fn read_whole<'a, T>(
    body: &'a [u8],
    kind: &str,
    what: &dyn Fn() -> String,
    read: impl FnOnce(&mut Standard<'a>) -> Option<T>,
) -> Result<T> {
    let mut fields = Standard { rest: body };
    match read(&mut fields) {
        Some(record) if fields.rest.is_empty() => Ok(record),
        Some(_) => Err(Error::Corrupt(format!(
            "{} has {} trailing bytes",
            what(),
            fields.rest.len()
        ))),
        None => Err(Error::Corrupt(format!(
            "{} cannot be decoded: truncated or not {kind}",
            what()
        ))),
    }
}

/// Fields in bincode's standard encoding: unsigned integers as varints (a byte up to
/// 250, else a marker byte and 2, 4 or 8 little-endian bytes), signed ones zigzagged
/// first; strings as a length and UTF-8 bytes; an option as a tag byte and its value; an
/// enum as its variant's index and the variant's fields.
struct Standard<'a> {
    rest: &'a [u8],
}

impl<'a> Standard<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (taken, rest) = self.rest.split_at_checked(n)?;
        self.rest = rest;
        Some(taken)
    }

    /// A varint no wider than `widest` bytes.
    fn varint(&mut self, widest: usize) -> Option<u64> {
        let marker = self.take(1)?[0];
        let width = match marker {
            0..=250 => return Some(u64::from(marker)),
            251 => 2,
            252 => 4,
            253 => 8,
            _ => return None,
        };
        if width > widest {
            return None;
        }
        let mut le = [0u8; 8];
        le[..width].copy_from_slice(self.take(width)?);
        Some(u64::from_le_bytes(le))
    }

    fn u64(&mut self) -> Option<u64> {
        self.varint(8)
    }

    fn u32(&mut self) -> Option<u32> {
        self.varint(4).map(|v| v as u32)
    }

    fn i64(&mut self) -> Option<i64> {
        let zigzag = self.u64()?;
        Some((zigzag >> 1) as i64 ^ -((zigzag & 1) as i64))
    }

    fn str(&mut self) -> Option<&'a str> {
        let len = usize::try_from(self.u64()?).ok()?;
        std::str::from_utf8(self.take(len)?).ok()
    }

    fn option<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        match self.take(1)?[0] {
            0 => Some(None),
            1 => read(self).map(Some),
            _ => None,
        }
    }
}

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<MAX_RECORD_BYTES>()
}

/// The bincode body of a record in the current envelope.
fn body_of<'a>(bytes: &'a [u8], what: &dyn Fn() -> String) -> Result<&'a [u8]> {
    match bytes.split_first() {
        Some((&RECORD_FORMAT, body)) => Ok(body),
        Some((other, _)) => Err(Error::Corrupt(format!(
            "{} has unknown record format {other}",
            what()
        ))),
        None => Err(Error::Corrupt(format!("{} is empty", what()))),
    }
}

/// The decoded record, if it decoded and used the whole body.
fn whole<T>(
    decoded: std::result::Result<(T, usize), bincode::error::DecodeError>,
    body: &[u8],
    what: &dyn Fn() -> String,
) -> Result<T> {
    let (record, used) =
        decoded.map_err(|e| Error::Corrupt(format!("{} cannot be decoded: {e}", what())))?;
    if used != body.len() {
        return Err(Error::Corrupt(format!(
            "{} has {} trailing bytes",
            what(),
            body.len() - used
        )));
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{EntityId, Version};

    #[test]
    fn round_trip_and_rejects_garbage() {
        let record: (EntityId, Option<Version>, String) = (EntityId(7), Some(3), "x".into());
        let bytes = encode(&record);
        let back: (EntityId, Option<Version>, String) = decode(&bytes, &|| "t".into()).unwrap();
        assert_eq!(back, record);
        let bad = decode::<(EntityId, Option<Version>, String)>(&[9, 1, 2], &|| "t".into());
        assert!(matches!(bad, Err(Error::Corrupt(m)) if m.contains("unknown record format 9")));
        let truncated = decode::<(EntityId, Option<Version>, String)>(&bytes[..2], &|| "t".into());
        assert!(matches!(truncated, Err(Error::Corrupt(_))));
        // A string claiming 2^62 bytes (varint marker 253, then a u64).
        let mut huge = vec![RECORD_FORMAT, 253];
        huge.extend_from_slice(&(1u64 << 62).to_le_bytes());
        let claimed = decode::<String>(&huge, &|| "t".into());
        assert!(matches!(claimed, Err(Error::Corrupt(_))), "{claimed:?}");
    }
}

/// The decoders written here against serde's: the same record from a record's bytes,
/// and from any bytes either both fail or both give the same record.
#[cfg(test)]
mod fast_decoders {
    use super::*;
    use crate::records::{AttrId, Attribute};
    use crate::value::Value;
    use proptest::prelude::*;

    fn entity() -> impl Strategy<Value = Entity> {
        (
            any::<u64>(),
            "\\PC{0,20}",
            "[a-z]{0,12}",
            "\\PC{0,40}",
            any::<u64>(),
            proptest::option::of(any::<u64>()),
        )
            .prop_map(
                |(id, name, type_name, driver, version, deleted_at)| Entity {
                    id: EntityId(id),
                    name,
                    type_name,
                    driver,
                    version,
                    deleted_at,
                },
            )
    }

    fn attribute() -> impl Strategy<Value = Attribute> {
        let value = prop_oneof![
            any::<i64>().prop_map(Value::Int),
            "\\PC{0,20}".prop_map(Value::String),
            Just(Value::Null),
            any::<i64>().prop_map(|t| Value::Datetime(Timestamp(t))),
            any::<u64>().prop_map(|id| Value::Relation(EntityId(id))),
            "\\PC{0,20}".prop_map(Value::Json),
        ];
        (
            (any::<u64>(), any::<u64>(), "\\PC{0,12}"),
            proptest::option::of("[a-z]{0,6}"),
            proptest::option::of(any::<i64>()),
            value,
            any::<u64>(),
            proptest::option::of(any::<u64>()),
        )
            .prop_map(
                |((id, entity, key), subkey, number, value, version, deleted_at)| Attribute {
                    id: AttrId(id),
                    entity: EntityId(entity),
                    key,
                    subkey,
                    number,
                    value,
                    version,
                    deleted_at,
                },
            )
    }

    /// Both decoders of a kind of record give the same answer for `bytes`.
    fn agree(bytes: &[u8]) {
        let what = || "r".to_string();
        match (decode_entity(bytes, &what), decode::<Entity>(bytes, &what)) {
            (Ok(a), Ok(b)) => assert_eq!(a, b),
            (Err(Error::Corrupt(_)), Err(Error::Corrupt(_))) => {}
            (a, b) => panic!("entity: {a:?} against {b:?} for {bytes:?}"),
        }
        match (
            decode_attr_in_place(bytes, &what),
            decode_in_place::<AttrRef<'_>>(bytes, &what),
        ) {
            (Ok(a), Ok(b)) => assert_eq!(a, b),
            (Err(Error::Corrupt(_)), Err(Error::Corrupt(_))) => {}
            (a, b) => panic!("attribute: {a:?} against {b:?} for {bytes:?}"),
        }
    }

    /// A byte a damaged record may hold: any, or one that means something to the
    /// encoding (an option's tags, a variant's index, the varint markers, a UTF-8 lead
    /// byte).
    fn damage() -> impl Strategy<Value = u8> {
        prop_oneof![
            any::<u8>(),
            prop::sample::select(vec![
                0u8, 1, 2, 5, 6, 250, 251, 252, 253, 254, 255, 0x80, 0xc3
            ]),
        ]
    }

    /// `bytes` with `flips` set and cut at `cut`.
    fn damaged(
        mut bytes: Vec<u8>,
        flips: Vec<(prop::sample::Index, u8)>,
        cut: Option<prop::sample::Index>,
    ) -> Vec<u8> {
        for (at, byte) in flips {
            let at = at.index(bytes.len());
            bytes[at] = byte;
        }
        if let Some(cut) = cut {
            bytes.truncate(1 + cut.index(bytes.len()));
        }
        bytes
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn an_entity_reads_back_as_serde_reads_it(e in entity()) {
            let bytes = encode(&e);
            prop_assert_eq!(decode_entity(&bytes, &|| "e".into()).unwrap(), e);
            agree(&bytes);
        }

        #[test]
        fn an_attribute_reads_back_as_serde_reads_it(a in attribute()) {
            let bytes = encode(&a);
            let read = decode_attr_in_place(&bytes, &|| "a".into()).unwrap();
            prop_assert_eq!(read.value.to_value(), a.value.clone());
            prop_assert_eq!((read.id, read.entity, read.key), (a.id, a.entity, a.key.as_str()));
            agree(&bytes);
        }

        #[test]
        fn any_bytes_read_as_serde_reads_them(
            record in prop_oneof![entity().prop_map(|e| encode(&e)), attribute().prop_map(|a| encode(&a))],
            cut in proptest::option::weighted(0.2, any::<prop::sample::Index>()),
            flips in prop::collection::vec((any::<prop::sample::Index>(), damage()), 0..4),
            tail in prop::collection::vec(any::<u8>(), 0..3),
        ) {
            let mut bytes = damaged(record, flips, cut);
            bytes.extend(tail);
            agree(&bytes);
        }
    }

    /// Each byte of a few records set to each value that means something to the
    /// encoding, and each record cut at each length: read as serde reads it.
    #[test]
    fn every_damaged_byte_reads_as_serde_reads_it() {
        let entities = [
            Entity {
                id: EntityId(7),
                name: "s1".into(),
                type_name: "server".into(),
                driver: "é".into(),
                version: 300,
                deleted_at: None,
            },
            Entity {
                id: EntityId(70_000),
                name: String::new(),
                type_name: "t".into(),
                driver: "d".into(),
                version: u64::MAX,
                deleted_at: Some(251),
            },
        ];
        let attribute = |value: Value, subkey: Option<&str>, number: Option<i64>| Attribute {
            id: AttrId(300),
            entity: EntityId(7),
            key: "_contains".into(),
            subkey: subkey.map(str::to_owned),
            number,
            value,
            version: 66_000,
            deleted_at: Some(9),
        };
        let mut records: Vec<Vec<u8>> = entities.iter().map(encode).collect();
        for a in [
            attribute(Value::Relation(EntityId(1 << 40)), None, Some(-1)),
            attribute(Value::Int(i64::MIN), Some("s"), None),
            attribute(Value::String("é".into()), Some(""), Some(i64::MAX)),
            attribute(Value::Null, None, None),
            attribute(Value::Datetime(Timestamp(-3)), None, Some(0)),
            attribute(Value::Json("[1]".into()), Some("j"), Some(2)),
        ] {
            records.push(encode(&a));
        }
        for bytes in records {
            for at in 1..bytes.len() {
                agree(&bytes[..at]);
                for value in [
                    0u8, 1, 2, 3, 5, 6, 127, 128, 0xc3, 250, 251, 252, 253, 254, 255,
                ] {
                    let mut damaged = bytes.clone();
                    damaged[at] = value;
                    agree(&damaged);
                }
            }
        }
    }

    #[test]
    fn varint_widths_and_markers() {
        for v in [
            0,
            250,
            251,
            65_535,
            65_536,
            u64::from(u32::MAX),
            u64::from(u32::MAX) + 1,
            u64::MAX,
        ] {
            let e = Entity {
                id: EntityId(v),
                name: "n".repeat(300),
                type_name: "t".into(),
                driver: "d".into(),
                version: v,
                deleted_at: Some(v),
            };
            assert_eq!(decode_entity(&encode(&e), &|| "e".into()).unwrap(), e);
            agree(&encode(&e));
        }
        // A variant index written wide: serde takes it in 2 or 4 bytes, not in 8.
        let attr_with_variant = |index: &[u8]| {
            let mut bytes = vec![RECORD_FORMAT, 1, 7, 1, b'k', 0, 0];
            bytes.extend_from_slice(index);
            bytes.extend_from_slice(&[5, 3, 0]);
            bytes
        };
        let narrow = attr_with_variant(&[251, 4, 0]);
        let value = decode_attr_in_place(&narrow, &|| "a".into()).unwrap().value;
        assert_eq!(value, ValueRef::Relation(EntityId(5)));
        agree(&narrow);
        agree(&attr_with_variant(&[252, 4, 0, 0, 0]));
        let wide = attr_with_variant(&[253, 4, 0, 0, 0, 0, 0, 0, 0]);
        assert!(decode_attr_in_place(&wide, &|| "a".into()).is_err());
        agree(&wide);
        // The u128 marker: serde refuses it for a u64, and so does this reader.
        let mut bytes = vec![RECORD_FORMAT, 254];
        bytes.extend([0u8; 16]);
        assert!(decode_entity(&bytes, &|| "e".into()).is_err());
        agree(&bytes);
    }
}

/// The stored bytes of every record kind, pinned: a change of a record's fields, of a
/// variant's order or of the encoding fails here, and must come with a new
/// `RECORD_FORMAT` (or `FORMAT_VERSION`) and a migration.
#[cfg(test)]
mod golden {
    use super::*;
    use crate::records::{AttrId, Attribute, Change, Entity, EntityId, VersionInfo};
    use crate::value::{Timestamp, Value};

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn attr(id: u64, value: Value) -> Attribute {
        Attribute {
            id: AttrId(id),
            entity: EntityId(7),
            key: "k".into(),
            subkey: Some("s".into()),
            number: Some(2),
            value,
            version: 3,
            deleted_at: None,
        }
    }

    #[test]
    fn every_record_kind_keeps_its_bytes() {
        let entity = Entity {
            id: EntityId(7),
            name: "s1".into(),
            type_name: "server".into(),
            driver: "basicserver".into(),
            version: 3,
            deleted_at: Some(9),
        };
        let version = VersionInfo {
            version: 3,
            timestamp: Some(Timestamp(1_700_000_000_123_456)),
            user: Some("ops".into()),
            description: None,
        };
        let changes = vec![
            Change::EntityCreated {
                entity: EntityId(7),
            },
            Change::EntityDeleted {
                entity: EntityId(7),
            },
            Change::DriverChanged {
                entity: EntityId(7),
                old_type: "t".into(),
                old_driver: "d".into(),
            },
            Change::AttrAdded {
                entity: EntityId(7),
                attr: AttrId(300),
            },
            Change::AttrDeleted {
                entity: EntityId(7),
                attr: AttrId(300),
            },
            Change::CounterSet {
                entity: EntityId(7),
                key: "c".into(),
                value: Some(-1),
            },
        ];
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            (
                "entity",
                encode(&entity),
                "0107027331067365727665720b6261736963736572766572030109",
            ),
            (
                "int",
                encode(&attr(1, Value::Int(-5))),
                "010107016b010173010400090300",
            ),
            (
                "string",
                encode(&attr(2, Value::String("v".into()))),
                "010207016b01017301040101760300",
            ),
            (
                "null",
                encode(&attr(3, Value::Null)),
                "010307016b0101730104020300",
            ),
            (
                "datetime",
                encode(&attr(4, Value::Datetime(Timestamp(1_700_000_000_123_456)))),
                "010407016b010173010403fd8044403048140c000300",
            ),
            (
                "relation",
                encode(&attr(5, Value::Relation(EntityId(8)))),
                "010507016b010173010404080300",
            ),
            (
                "json",
                encode(&attr(6, Value::Json("[1]".into()))),
                "010607016b010173010405035b315d0300",
            ),
            (
                "version",
                encode(&version),
                "010301fd8044403048140c0001036f707300",
            ),
            (
                "changes",
                encode(&changes),
                "0106000701070207017401640307fb2c010407fb2c01050701630101",
            ),
            ("counter", encode(&-3i64), "0105"),
            ("latest version", encode(&300u64), "01fb2c01"),
        ];
        let mut wrong = Vec::new();
        for (what, bytes, expected) in &cases {
            if hex(bytes) != *expected {
                wrong.push(format!("{what}: {}", hex(bytes)));
            }
        }
        assert!(
            wrong.is_empty(),
            "stored bytes changed:\n{}",
            wrong.join("\n")
        );
    }

    /// A scan reads attribute records in place (`AttrRef`, `ValueRef`): they must read
    /// every value kind's stored bytes as the owned decoder does, with and without a
    /// subkey, deleted or not, and refuse what the owned decoder refuses.
    #[test]
    fn attribute_records_read_in_place_as_owned() {
        use crate::records::AttrRef;
        let values = [
            Value::Int(-5),
            Value::String("v".into()),
            Value::Null,
            Value::Datetime(Timestamp(1_700_000_000_123_456)),
            Value::Relation(EntityId(8)),
            Value::Json("[1]".into()),
        ];
        for (i, value) in values.into_iter().enumerate() {
            let mut a = attr(i as u64, value);
            for round in 0..2 {
                let bytes = encode(&a);
                let in_place: AttrRef<'_> = decode_in_place(&bytes, &|| "a".into()).unwrap();
                assert_eq!(in_place, a.as_attr_ref());
                assert_eq!(in_place.to_attribute(), a);
                let short =
                    decode_in_place::<AttrRef<'_>>(&bytes[..bytes.len() - 1], &|| "a".into());
                assert!(matches!(short, Err(Error::Corrupt(_))), "{short:?}");
                let mut long = bytes.clone();
                long.push(0);
                let long = decode_in_place::<AttrRef<'_>>(&long, &|| "a".into());
                assert!(matches!(long, Err(Error::Corrupt(m)) if m.contains("trailing")));
                if round == 0 {
                    a.subkey = None;
                    a.deleted_at = Some(4);
                }
            }
        }
    }

    #[test]
    fn every_key_kind_keeps_its_bytes() {
        use crate::keys;
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("entity", keys::entity(EntityId(7)), "450000000000000007"),
            (
                "live attr",
                keys::attr(EntityId(7), AttrId(300), true),
                "410000000000000007000000000000012c",
            ),
            (
                "dead attr",
                keys::attr(EntityId(7), AttrId(300), false),
                "480000000000000007000000000000012c",
            ),
            ("live name", keys::live_name("s1"), "4c73310001"),
            (
                "counter",
                keys::counter(EntityId(7), "c"),
                "430000000000000007630001",
            ),
            ("version", keys::version(3), "560000000000000003"),
            (
                "meta",
                keys::meta("latest_version"),
                "4d6c61746573745f76657273696f6e0001",
            ),
        ];
        let wrong: Vec<String> = cases
            .iter()
            .filter(|(_, bytes, expected)| hex(bytes) != *expected)
            .map(|(what, bytes, _)| format!("{what}: {}", hex(bytes)))
            .collect();
        assert!(
            wrong.is_empty(),
            "stored keys changed:\n{}",
            wrong.join("\n")
        );
    }
}
