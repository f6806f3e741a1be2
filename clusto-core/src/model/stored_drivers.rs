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
use crate::txn::{NewAttr, Transaction, TxMeta};
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
    /// Stores every custom driver this process has registered (see
    /// [`drivers::custom`]) whose stored specification is missing or different; gives
    /// how many were written. A database without its `clustometa` entity (not
    /// initialised yet) stores nothing.
    pub fn store_drivers(&mut self) -> Result<usize> {
        let mut written = 0;
        for spec in drivers::custom() {
            written += usize::from(self.store_spec(&spec)?);
        }
        Ok(written)
    }

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
    /// [`Transaction::store_drivers`] in a transaction of its own (one version, or none
    /// when every custom driver is stored as it is).
    pub fn store_drivers(&self, meta: TxMeta) -> Result<usize> {
        if drivers::custom().is_empty() {
            return Ok(0);
        }
        self.write(meta, |tx| tx.store_drivers())
    }

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
        // Storing what is registered: this one, now custom here too, is already stored
        // as it is, so no version is made.
        let before = db.latest_version().unwrap();
        let written = db.store_drivers(TxMeta::default()).unwrap();
        let versions = db.latest_version().unwrap() - before;
        assert!(
            written == 0 || versions == 1,
            "{written} written in {versions} versions"
        );
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
