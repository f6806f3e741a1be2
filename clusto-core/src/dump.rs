//! Every row of a database, for dumps and backups: versions, entity rows, attribute rows
//! (live and deleted) and counters, read in one consistent view and written back with
//! the [`Importer`](crate::Importer).

use std::path::Path;

use crate::codec::decode;
use crate::db::Clusto;
use crate::error::{Error, Result};
use crate::keys::{read_str, space, u64_from_tail};
use crate::records::{Attribute, Entity, EntityId, VersionInfo};
use crate::storage::KvRead;
use crate::view::View;

/// One row of a dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DumpRecord {
    /// A version record.
    Version(VersionInfo),
    /// An entity row.
    Entity(Entity),
    /// An attribute row.
    Attr(Attribute),
    /// A counter.
    Counter {
        /// Its entity.
        entity: EntityId,
        /// Its key.
        key: String,
        /// Its value.
        value: i64,
    },
}

impl View<'_> {
    /// Calls `emit` with every row: versions, then entities, then attributes, then
    /// counters (the order an import needs). Reads the live store whatever the view's
    /// version.
    pub fn dump(&self, mut emit: impl FnMut(DumpRecord) -> Result<()>) -> Result<()> {
        for entry in self.kv.scan_prefix(&[space::VERSION]) {
            let (key, bytes) = entry?;
            if !crate::keys::is_version_record(&key) {
                continue;
            }
            emit(DumpRecord::Version(decode(&bytes, &|| {
                format!("version record {key:?}")
            })?))?;
        }
        for entry in self.kv.scan_prefix(&[space::ENTITY]) {
            let (key, bytes) = entry?;
            emit(DumpRecord::Entity(decode(&bytes, &|| {
                format!("entity record {key:?}")
            })?))?;
        }
        for s in [space::ATTR, space::ATTR_OLD] {
            for entry in self.kv.scan_prefix(&[s]) {
                let (key, bytes) = entry?;
                emit(DumpRecord::Attr(decode(&bytes, &|| {
                    format!("attribute record {key:?}")
                })?))?;
            }
        }
        for entry in self.kv.scan_prefix(&[space::COUNTER]) {
            let (key, bytes) = entry?;
            if key.len() < 9 {
                return Err(Error::Corrupt(format!("counter key {key:?} is malformed")));
            }
            let entity = EntityId(u64_from_tail(&key[..9], 0)?);
            let (name, _) = read_str(&key[9..])?;
            let value = decode(&bytes, &|| format!("counter {key:?}"))?;
            emit(DumpRecord::Counter {
                entity,
                key: name,
                value,
            })?;
        }
        Ok(())
    }
}

impl crate::import::Importer {
    /// Adds one row of a dump.
    pub fn record(&mut self, record: DumpRecord) -> Result<()> {
        match record {
            DumpRecord::Version(v) => {
                self.version(v);
                Ok(())
            }
            DumpRecord::Entity(e) => self.entity(e),
            DumpRecord::Attr(a) => self.attr(a),
            DumpRecord::Counter { entity, key, value } => self.counter(entity, &key, value),
        }
    }
}

/// Copies the database `source` names, with its full history, into the empty database
/// `target` names, on any engines (see [`crate::dsn`]): how a sled database moves to
/// LMDB. The source is read in one snapshot and may stay in use meanwhile; the copy's
/// export equals the source's. A copy that fails part way leaves `target` to remove.
pub fn copy(source: impl AsRef<Path>, target: impl AsRef<Path>) -> Result<()> {
    Clusto::open(source)?.backup(target)
}

impl Clusto {
    /// Copies the whole database, history included, into a new database `path` names (a
    /// directory or a DSN; it must not hold a database), consistently while this one
    /// stays open and in use: the copy is read in one view, so it holds exactly the
    /// commits made before it began.
    pub fn backup(&self, path: impl AsRef<Path>) -> Result<()> {
        let target = Clusto::open(path)?;
        if target.same_store(self) {
            return Err(Error::InvalidValue(
                "a backup needs another path than the database's".into(),
            ));
        }
        let mut importer = target.importer()?;
        self.read(|v| v.dump(|r| importer.record(r)))?;
        importer.finish()?;
        target.flush()
    }
}
