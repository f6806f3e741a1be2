//! # clusto-core
//!
//! An embeddable CMDB: entities (servers, racks, pools, resource managers…) with typed
//! attributes, containment and relations, counters, and a full history of every change,
//! stored crash-safely in [sled](https://docs.rs/sled). It keeps the data model of the
//! original Python Clusto, so its databases and scripts carry over.
//!
//! ```
//! use clusto_core::{AttrFilter, Clusto, NewAttr, TxMeta};
//!
//! let db = Clusto::temporary()?;
//! db.write(TxMeta::new("ops", "add a server"), |tx| {
//!     let s1 = tx.create_entity("s1", "server", "basicserver")?;
//!     tx.add_attr(s1.id, NewAttr::new("owner", "alice"))?;
//!     Ok(())
//! })?;
//! let owners = db.read(|v| v.owners(&AttrFilter::key("owner").value("alice")))?;
//! assert_eq!(owners[0].name, "s1");
//! # Ok::<(), clusto_core::Error>(())
//! ```
//!
//! Reads go through a [`View`] ([`Clusto::read`], [`Clusto::read_at`] for the past,
//! [`Transaction::view`] inside a transaction); writes through a [`Transaction`]
//! ([`Clusto::begin`] or [`Clusto::write`]). Each committed transaction that changed
//! something is one [`Version`] with a user, a time and a description.

mod check;
mod codec;
mod commit_mark;
mod db;
pub mod drivers;
pub mod dsn;
mod dump;
mod error;
mod feed;
mod filter;
mod import;
mod index;
pub mod json;
mod keys;
mod model;
pub mod protocol;
mod records;
pub mod render;
pub mod resources;
mod revert;
pub mod storage;
mod touched;
mod txn;
mod upgrade;
mod validate;
mod value;
mod version_index;
mod view;

pub use check::CheckReport;
pub use db::{
    Clusto, CommitStats, DEFAULT_CACHE_MIB, DEFAULT_GROUP_MS, DEFAULT_LOCK_WAIT, Durability,
    FORMAT_VERSION, OpenOptions,
};
pub use drivers::{Behaviour, DriverSpec, PortSpec};
pub use dump::{DumpRecord, copy};
pub use error::{Error, ErrorKind, Result, io_cause, os_kind};
pub use feed::{Diff, DiffKind, EntityDiff, FeedFilter, VersionChanges};
pub use filter::{AttrFilter, NumberMatch, SubkeyMatch, TextMatch};
pub use import::Importer;
pub use model::{CLUSTOMETA, DRIVER_KEY, Edge, PortInfo, RackSlot, Related, SCHEMA_VERSION};
pub use records::{AttrId, Attribute, Change, Entity, EntityId, Version, VersionInfo, visible};
pub use resources::ip_address;
pub use txn::{NewAttr, NumberSpec, Transaction, TxMeta};
pub use validate::{MAX_KEY_CHARS, MAX_NAME_CHARS, MAX_TYPE_CHARS};
pub use value::{Datatype, Timestamp, Value};
pub use view::{ChangeDetail, EntityQuery, VersionQuery, View};
