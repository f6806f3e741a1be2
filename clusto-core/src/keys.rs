//! Order-preserving binary keys and the key spaces of the store.
//!
//! One ordered keyspace holds everything; the first byte names the space. Integers are
//! big-endian (signed ones with the sign bit flipped) and strings are escaped and
//! terminated, so byte order is value order and every lookup is a point get or a
//! prefix scan.

use crate::error::{Error, Result};
use crate::records::{AttrId, EntityId, Version};
use crate::value::Value;

/// The key spaces. Upper case: live rows and indexes of live rows; lower case: the same
/// index for deleted rows, kept for reads as of an old version.
pub mod space {
    /// Runs of held integer values per key: key ++ run start → run end.
    pub const RUN: u8 = b'G';
    /// Metadata: format, id and version counters.
    pub const META: u8 = b'M';
    /// Entity records by id (live and deleted).
    pub const ENTITY: u8 = b'E';
    /// Live name → a copy of its entity's record (formats 1 and 2: the entity id).
    pub const LIVE_NAME: u8 = b'L';
    /// Deleted incarnations of a name: name ++ id.
    pub const NAME: u8 = b'N';
    /// Live entities by type / driver; lower case for deleted ones.
    pub const TYPE: u8 = b'T';
    /// Deleted entities by type.
    pub const TYPE_OLD: u8 = b't';
    /// Live entities by driver.
    pub const DRIVER: u8 = b'D';
    /// Deleted entities by driver.
    pub const DRIVER_OLD: u8 = b'd';
    /// Live attribute records: entity ++ attr.
    pub const ATTR: u8 = b'A';
    /// Deleted attribute records: entity ++ attr.
    pub const ATTR_OLD: u8 = b'H';
    /// Attributes by key, value, subkey.
    pub const BY_KEY: u8 = b'K';
    /// Deleted attributes by key, value, subkey.
    pub const BY_KEY_OLD: u8 = b'k';
    /// Attributes that have a subkey and a value other than a relation, by subkey and value.
    pub const BY_SUBKEY: u8 = b'S';
    /// Deleted attributes that have a subkey, by subkey and value.
    pub const BY_SUBKEY_OLD: u8 = b's';
    /// Relation attributes by target: target ++ owner ++ attr.
    pub const REFERENCE: u8 = b'R';
    /// Deleted relation attributes by target.
    pub const REFERENCE_OLD: u8 = b'r';
    /// Counters: entity ++ key.
    pub const COUNTER: u8 = b'C';
    /// Version records (version), each followed by the chunks of its change list
    /// (version ++ chunk number); after them all, the store's counters (`u64::MAX`). A
    /// commit's records thus share a page.
    pub const VERSION: u8 = b'V';
    /// Format 1 only: the changes of a version, in chunks (version ++ chunk number);
    /// read by the upgrade to format 2.
    pub const CHANGES_V1: u8 = b'X';
    /// Versions that touched an entity: entity ++ version.
    pub const TOUCHED: u8 = b'Y';
    /// Versions by user: user ++ version.
    pub const BY_USER: u8 = b'U';
    /// Versions by commit time: timestamp ++ version.
    pub const BY_TIME: u8 = b'Z';

    /// Every space above, in byte order.
    pub const ALL: [u8; 23] = [
        ATTR,
        COUNTER,
        DRIVER,
        ENTITY,
        RUN,
        ATTR_OLD,
        BY_KEY,
        LIVE_NAME,
        META,
        NAME,
        REFERENCE,
        BY_SUBKEY,
        TYPE,
        BY_USER,
        VERSION,
        CHANGES_V1,
        TOUCHED,
        BY_TIME,
        DRIVER_OLD,
        BY_KEY_OLD,
        REFERENCE_OLD,
        BY_SUBKEY_OLD,
        TYPE_OLD,
    ];
}

/// A key under construction.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key(pub Vec<u8>);

impl Key {
    /// Starts a key in a space.
    pub fn new(space: u8) -> Self {
        let mut v = Vec::with_capacity(32);
        v.push(space);
        Key(v)
    }

    /// Appends an unsigned integer.
    pub fn u64(mut self, x: u64) -> Self {
        self.0.extend_from_slice(&x.to_be_bytes());
        self
    }

    /// Appends a signed integer, ordered correctly against negative values.
    pub fn i64(mut self, x: i64) -> Self {
        self.0
            .extend_from_slice(&((x as u64) ^ (1 << 63)).to_be_bytes());
        self
    }

    /// Appends a u32.
    pub fn u32(mut self, x: u32) -> Self {
        self.0.extend_from_slice(&x.to_be_bytes());
        self
    }

    /// Appends a string: NUL is escaped as 00 FF and the end is marked by 00 01, so no
    /// string's key is a prefix of another's and order is kept.
    pub fn str(mut self, s: &str) -> Self {
        self.push_escaped(s);
        self.0.extend_from_slice(&[0, 1]);
        self
    }

    /// Appends the escaped bytes of `s` without the terminator: the key prefix shared by
    /// every string that starts with `s`.
    pub fn str_prefix(mut self, s: &str) -> Self {
        self.push_escaped(s);
        self
    }

    fn push_escaped(&mut self, s: &str) {
        for &b in s.as_bytes() {
            if b == 0 {
                self.0.extend_from_slice(&[0, 0xFF]);
            } else {
                self.0.push(b);
            }
        }
    }

    /// Appends an optional string: `None` sorts before every `Some`.
    pub fn opt_str(mut self, s: Option<&str>) -> Self {
        match s {
            None => {
                self.0.push(0);
                self
            }
            Some(s) => {
                self.0.push(1);
                self.str(s)
            }
        }
    }

    /// Appends a typed value: a datatype tag, then the value's ordered encoding.
    pub fn value(mut self, v: &Value) -> Self {
        match v {
            Value::Null => {
                self.0.push(0);
                self
            }
            Value::Int(i) => {
                self.0.push(1);
                self.i64(*i)
            }
            Value::String(s) => {
                self.0.push(2);
                self.str(s)
            }
            Value::Datetime(t) => {
                self.0.push(3);
                self.i64(t.0)
            }
            Value::Relation(e) => {
                self.0.push(4);
                self.u64(e.0)
            }
            Value::Json(s) => {
                self.0.push(5);
                self.str(s)
            }
        }
    }

    /// Appends an entity id.
    pub fn entity(self, id: EntityId) -> Self {
        self.u64(id.0)
    }

    /// Appends an attribute id.
    pub fn attr(self, id: AttrId) -> Self {
        self.u64(id.0)
    }

    /// Appends a version.
    pub fn version(self, v: Version) -> Self {
        self.u64(v)
    }

    /// The finished key.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

/// The spaces whose keys start with an entity id (its records, attributes, references
/// to it, counters and the versions that touched it).
const ENTITY_FIRST: [u8; 7] = [
    space::ENTITY,
    space::ATTR,
    space::ATTR_OLD,
    space::REFERENCE,
    space::REFERENCE_OLD,
    space::COUNTER,
    space::TOUCHED,
];

/// The spaces whose keys end with an entity id (the entities by type and by driver).
const ENTITY_LAST: [u8; 4] = [
    space::TYPE,
    space::TYPE_OLD,
    space::DRIVER,
    space::DRIVER_OLD,
];

/// The spaces whose keys end with an attribute id (the records and their indexes).
const ATTR_LAST: [u8; 8] = [
    space::ATTR,
    space::ATTR_OLD,
    space::BY_KEY,
    space::BY_KEY_OLD,
    space::BY_SUBKEY,
    space::BY_SUBKEY_OLD,
    space::REFERENCE,
    space::REFERENCE_OLD,
];

/// The first entity and attribute ids a store had not given when a write lease began:
/// a key that names one can only be one of that lease's own writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FreshIds {
    /// The first entity id not given.
    pub entity: u64,
    /// The first attribute id not given.
    pub attr: u64,
}

impl FreshIds {
    /// Whether `key` names an entity or an attribute from these ids on, so that the
    /// store cannot hold it.
    pub fn named_in(&self, key: &[u8]) -> bool {
        entity_of(key).is_some_and(|id| id >= self.entity)
            || id_at_end(key, &ENTITY_LAST).is_some_and(|id| id >= self.entity)
            || id_at_end(key, &ATTR_LAST).is_some_and(|id| id >= self.attr)
    }
}

/// The id a key of one of `spaces` ends with.
fn id_at_end(key: &[u8], spaces: &[u8]) -> Option<u64> {
    if key.len() < 9 || !spaces.contains(&key[0]) {
        return None;
    }
    Some(u64::from_be_bytes(key[key.len() - 8..].try_into().ok()?))
}

/// The entity a key belongs to, for a key of an entity-first space.
pub(crate) fn entity_of(key: &[u8]) -> Option<u64> {
    if key.len() < 9 || !ENTITY_FIRST.contains(&key[0]) {
        return None;
    }
    Some(u64::from_be_bytes(key[1..9].try_into().ok()?))
}

/// The entity every key of `start..end` belongs to, when the range lies inside one
/// entity's keys of one entity-first space.
pub(crate) fn range_entity(start: &[u8], end: Option<&[u8]>) -> Option<u64> {
    let id = entity_of(start)?;
    let past = Key::new(start[0]).u64(id.checked_add(1)?).into_bytes();
    (end? <= past.as_slice()).then_some(id)
}

/// The smallest key greater than every key starting with `prefix` (`None`: no bound).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Reads the big-endian u64 that ends at `end` bytes before the end of `key`.
pub fn u64_from_tail(key: &[u8], end: usize) -> Result<u64> {
    let stop = key
        .len()
        .checked_sub(end)
        .filter(|&s| s >= 8)
        .ok_or_else(|| Error::Corrupt(format!("index key {key:?} is too short")))?;
    let bytes: [u8; 8] = key[stop - 8..stop].try_into().expect("8 bytes");
    Ok(u64::from_be_bytes(bytes))
}

/// Reads a string written by [`Key::str`] at the start of `bytes`; returns it and the
/// bytes after it.
pub fn read_str(bytes: &[u8]) -> Result<(String, &[u8])> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1)) {
            (0, Some(0xFF)) => out.push(0),
            (0, Some(1)) => {
                let text = String::from_utf8(out)
                    .map_err(|_| Error::Corrupt(format!("key text {bytes:?} is not UTF-8")))?;
                return Ok((text, &bytes[i + 2..]));
            }
            (0, _) => break,
            (b, _) => {
                out.push(b);
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    Err(Error::Corrupt(format!("key text {bytes:?} is malformed")))
}

/// Key of an entity record.
pub fn entity(id: EntityId) -> Vec<u8> {
    Key::new(space::ENTITY).entity(id).into_bytes()
}

/// Key of an attribute record, live or deleted.
pub fn attr(owner: EntityId, id: AttrId, live: bool) -> Vec<u8> {
    let s = if live { space::ATTR } else { space::ATTR_OLD };
    Key::new(s).entity(owner).attr(id).into_bytes()
}

/// Key of the live-name index.
pub fn live_name(name: &str) -> Vec<u8> {
    Key::new(space::LIVE_NAME).str(name).into_bytes()
}

/// The entity id a live name's value holds in formats 1 and 2, which stored the id
/// (big-endian) instead of a copy of the record: eight bytes, the first zero below 2^56
/// entities, where every record starts with its envelope byte (`None`: a record).
pub(crate) fn old_live_name_id(value: &[u8]) -> Option<EntityId> {
    match <[u8; 8]>::try_from(value) {
        Ok(id) if id[0] == 0 => Some(EntityId(u64::from_be_bytes(id))),
        _ => None,
    }
}

/// Key of a counter.
pub fn counter(owner: EntityId, key: &str) -> Vec<u8> {
    Key::new(space::COUNTER).entity(owner).str(key).into_bytes()
}

/// Key of a version record.
pub fn version(v: Version) -> Vec<u8> {
    Key::new(space::VERSION).version(v).into_bytes()
}

/// Key of chunk `n` of version `v`'s change list.
pub fn version_changes(v: Version, n: u32) -> Vec<u8> {
    Key::new(space::VERSION).version(v).u32(n).into_bytes()
}

/// Key of the store's counters: the newest version, the last entity and attribute ids.
pub fn counters() -> Vec<u8> {
    version(u64::MAX)
}

/// Whether `key` (of the version space) is a version record, not a change chunk or the
/// counters.
pub fn is_version_record(key: &[u8]) -> bool {
    key.len() == 9 && key[0] == space::VERSION && key[1..] != u64::MAX.to_be_bytes()
}

/// Key of a metadata entry.
pub fn meta(name: &str) -> Vec<u8> {
    Key::new(space::META).str(name).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_order_is_kept() {
        let mut xs = [-5i64, 3, i64::MIN, 0, i64::MAX, -1];
        let mut keys: Vec<_> = xs
            .iter()
            .map(|&x| Key::new(0).i64(x).into_bytes())
            .collect();
        xs.sort();
        keys.sort();
        let sorted: Vec<_> = xs
            .iter()
            .map(|&x| Key::new(0).i64(x).into_bytes())
            .collect();
        assert_eq!(keys, sorted);
    }

    #[test]
    fn string_order_is_kept_and_prefix_free() {
        let words = ["", "a", "a\0", "a\0b", "ab", "b", "\u{e9}"];
        let keys: Vec<_> = words
            .iter()
            .map(|w| Key::new(0).str(w).into_bytes())
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        for (i, a) in keys.iter().enumerate() {
            for (j, b) in keys.iter().enumerate() {
                if i != j {
                    assert!(
                        !b.starts_with(a),
                        "{:?} is a prefix of {:?}",
                        words[i],
                        words[j]
                    );
                }
            }
        }
        let p = Key::new(0).str_prefix("a").into_bytes();
        assert!(keys[1].starts_with(&p) && keys[4].starts_with(&p) && !keys[5].starts_with(&p));
    }

    #[test]
    fn read_str_inverts_str() {
        for w in ["", "a\0b", "caf\u{e9}"] {
            let key = Key::new(0).str(w).u64(7).into_bytes();
            let (back, rest) = read_str(&key[1..]).unwrap();
            assert_eq!((back.as_str(), rest), (w, &7u64.to_be_bytes()[..]));
        }
        assert!(read_str(b"abc").is_err());
    }

    #[test]
    fn prefix_end_bounds_the_prefix() {
        assert_eq!(prefix_end(&[1, 2]), Some(vec![1, 3]));
        assert_eq!(prefix_end(&[1, 0xFF]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xFF]), None);
    }
}
