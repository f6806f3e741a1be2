//! Driver specifications kept in the database, so that a driver registered by one
//! consumer (a Python class) behaves the same in every other (the CLI, the C ABI, other
//! processes, the HTTP server).
//!
//! Each custom driver is a hidden attribute of the `clustometa` entity: key `_driver`,
//! subkey the driver's name, value its specification as JSON. Being an attribute, it is
//! versioned, exported, copied and reverted like everything else. It is written with the
//! first entity created with (or changed to) the driver, in the same version; opening a
//! database registers the drivers it stores that this process does not know yet.

use crate::db::Clusto;
use crate::drivers::{self, DriverSpec};
use crate::error::{Error, Result};
use crate::filter::{AttrFilter, SubkeyMatch, TextMatch};
#[cfg(test)]
use crate::txn::TxMeta;
use crate::txn::{NewAttr, Transaction};
use crate::value::Value;
use crate::view::View;

/// The attribute key of a stored driver specification (hidden: it starts with `_`).
pub const DRIVER_KEY: &str = "_driver";

fn spec_filter(name: Option<&str>) -> AttrFilter {
    AttrFilter {
        key: Some(TextMatch::Exact(DRIVER_KEY.into())),
        subkey: name.map_or(SubkeyMatch::Any, |n| {
            SubkeyMatch::Is(TextMatch::Exact(n.into()))
        }),
        include_hidden: true,
        ..AttrFilter::any()
    }
}

impl View<'_> {
    /// The driver specifications this database stores, by name; one that cannot be read
    /// is left out (its entities then behave as generic ones, as before it was stored).
    pub fn stored_drivers(&self) -> Result<Vec<DriverSpec>> {
        let Some(meta) = self.clustometa()? else {
            return Ok(Vec::new());
        };
        Ok(self
            .attrs(meta.id, &spec_filter(None))?
            .iter()
            .filter_map(|a| match &a.value {
                Value::Json(text) => serde_json::from_str::<DriverSpec>(text).ok(),
                _ => None,
            })
            .collect())
    }
}

impl Transaction {
    /// Stores the specification of `driver` when it is a custom driver of this process
    /// not yet stored as it is: an entity created with it (or changed to it) behaves by
    /// it in every consumer. Checked once per transaction.
    pub(crate) fn store_driver(&mut self, driver: &str) -> Result<()> {
        if drivers::is_builtin(driver) || self.drivers_stored.contains(driver) {
            return Ok(());
        }
        match drivers::lookup(driver) {
            Some(spec) => self.store_spec(&spec).map(drop),
            None => Ok(()),
        }
    }

    /// Writes `spec` unless it is stored as it is; whether it wrote.
    fn store_spec(&mut self, spec: &DriverSpec) -> Result<bool> {
        let Some(clustometa) = self.view().clustometa()? else {
            return Ok(false);
        };
        let text = serde_json::to_string(spec).map_err(|e| {
            Error::InvalidValue(format!("driver '{}' cannot be stored: {e}", spec.name))
        })?;
        let slot = spec_filter(Some(&spec.name));
        let stored = self.view().attrs(clustometa.id, &slot)?;
        if stored.len() == 1 && stored[0].value == Value::Json(text.clone()) {
            return Ok(false);
        }
        self.delete_attrs(clustometa.id, &slot)?;
        self.add_attr(
            clustometa.id,
            NewAttr::new(DRIVER_KEY, Value::json(text)?).subkey(spec.name.as_str()),
        )?;
        Ok(true)
    }
}

impl Clusto {
    /// Registers the drivers the database stores that this process does not know yet
    /// (a parent before its children); gives how many. A stored driver whose parent is
    /// unknown, or whose name this process already uses, is left as it is.
    pub(crate) fn load_stored_drivers(&self) -> Result<usize> {
        let mut pending = self.read(|v| v.stored_drivers())?;
        let mut loaded = 0;
        loop {
            let before = pending.len();
            pending.retain(|spec| {
                if drivers::lookup(&spec.name).is_some() {
                    return false;
                }
                let parent_known = spec
                    .parent
                    .as_deref()
                    .is_none_or(|p| drivers::lookup(p).is_some());
                if parent_known && drivers::register(spec.clone()).is_ok() {
                    loaded += 1;
                    return false;
                }
                true
            });
            if pending.len() == before {
                return Ok(loaded);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_driver_is_registered_when_the_database_opens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let db = Clusto::open(&path).unwrap();
        db.init_clusto(TxMeta::default()).unwrap();
        let server = drivers::require("basicserver").unwrap();
        let spec = DriverSpec::derive(&server, "stored_test_server", "server")
            .ports(&[("nic-eth", 4), ("pwr-nema-5", 2)]);
        let text = serde_json::to_string(&spec).unwrap();
        // As another process stored it: the attribute is written, the driver is not
        // registered here.
        db.write(TxMeta::default(), |tx| {
            let meta = tx.view().clustometa()?.expect("initialised").id;
            tx.add_attr(
                meta,
                NewAttr::new(DRIVER_KEY, Value::json(text)?).subkey("stored_test_server"),
            )
            .map(drop)
        })
        .unwrap();
        assert!(drivers::lookup("stored_test_server").is_none());
        assert_eq!(db.load_stored_drivers().unwrap(), 1);
        let loaded = drivers::require("stored_test_server").unwrap();
        assert_eq!(loaded.port_count("nic-eth"), Some(4));
        assert_eq!(loaded.behaviour, drivers::Behaviour::Device);
        assert_eq!(db.load_stored_drivers().unwrap(), 0, "once only");
        // An entity of the driver, registered here now: its specification is stored as
        // it is, so its version holds the creation alone.
        let version = db
            .write(TxMeta::default(), |tx| {
                tx.create_entity("s9", "server", "stored_test_server")?;
                tx.version()
            })
            .unwrap();
        assert_eq!(db.read(|v| v.changes(version)).unwrap().len(), 1);
        assert_eq!(
            db.read(|v| v.stored_drivers())
                .unwrap()
                .iter()
                .filter(|s| s.name == "stored_test_server")
                .count(),
            1
        );
    }
}
