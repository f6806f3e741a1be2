//! A write lease is told which ids the store had not given when it began
//! (`WriteLease::fresh_ids`), and a server backend copies the keys naming them in
//! without deleting them first. That is safe only if the store never holds such a key:
//! checked here against the store itself, for every kind of write a transaction makes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use clusto_core::storage::{
    Backend, EntryIter, FreshIds, KvRead, MemoryBackend, Snapshot, Write, WriteLease,
};
use clusto_core::{
    AttrFilter, Clusto, Durability, Entity, NewAttr, NumberSpec, Result, TxMeta, Value,
};

/// What the watched commits showed: keys taken for new, and those of them the store
/// held.
#[derive(Default)]
struct Seen {
    fresh_written: usize,
    held_already: Vec<Vec<u8>>,
}

/// A memory store whose leases check, at commit, every written key they were told is
/// new against what the store holds.
struct Watching {
    store: MemoryBackend,
    seen: Arc<Mutex<Seen>>,
}

struct WatchedLease {
    inner: Box<dyn WriteLease>,
    store: MemoryBackend,
    fresh: Option<FreshIds>,
    seen: Arc<Mutex<Seen>>,
}

impl KvRead for WatchedLease {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.inner.get(key)
    }

    fn scan(&self, start: &[u8], end: Option<&[u8]>, reverse: bool) -> EntryIter<'_> {
        self.inner.scan(start, end, reverse)
    }
}

impl WriteLease for WatchedLease {
    fn fresh_ids(&mut self, fresh: FreshIds) {
        self.fresh = Some(fresh);
    }

    fn commit(self: Box<Self>, writes: Vec<Write>, version: u64) -> Result<()> {
        if let Some(fresh) = self.fresh {
            let before = self.store.snapshot()?;
            let mut seen = self.seen.lock().unwrap();
            for (key, _) in &writes {
                if fresh.named_in(key) {
                    seen.fresh_written += 1;
                    if before.get(key)?.is_some() {
                        seen.held_already.push(key.clone());
                    }
                }
            }
        }
        self.inner.commit(writes, version)
    }
}

impl Backend for Watching {
    fn snapshot(&self) -> Result<Snapshot<'_>> {
        self.store.snapshot()
    }

    fn begin_write(&self, wait: Option<Duration>) -> Result<Box<dyn WriteLease>> {
        Ok(Box::new(WatchedLease {
            inner: self.store.begin_write(wait)?,
            store: self.store.clone(),
            fresh: None,
            seen: self.seen.clone(),
        }))
    }

    fn flush(&self) -> Result<()> {
        self.store.flush()
    }

    fn size_on_disk(&self) -> Result<u64> {
        self.store.size_on_disk()
    }

    fn engine(&self) -> &'static str {
        "memory"
    }
}

#[test]
fn keys_naming_ids_not_given_are_never_in_the_store() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let backend = Watching {
        store: MemoryBackend::new(),
        seen: seen.clone(),
    };
    let db = Clusto::with_backend(Box::new(backend), Durability::Immediate, None).unwrap();
    let server = |tx: &mut clusto_core::Transaction, name: &str| -> Result<Entity> {
        let s = tx.create("basicserver", name, &[])?;
        tx.add_attr(s.id, NewAttr::new("owner", "ops").subkey("team"))?;
        tx.add_attr(s.id, NewAttr::new("cpucount", Value::Int(8)))?;
        Ok(s)
    };
    let (pool, rack, net) = db
        .write(TxMeta::new("t", "first"), |tx| {
            let pool = tx.create("pool", "p1", &[])?;
            let rack = tx.create("basicrack", "r1", &[])?;
            let net = tx.create(
                "ipmanager",
                "net",
                &[
                    ("baseip", Value::from("10.0.0.0")),
                    ("netmask", Value::from("255.255.0.0")),
                ],
            )?;
            for i in 0..3 {
                let s = server(tx, &format!("old{i}"))?;
                tx.insert(pool.id, s.id)?;
                tx.rack_insert(rack.id, s.id, &[i + 1])?;
                tx.allocate(net.id, s.id, None, NumberSpec::Next, false)?;
            }
            Ok((pool.id, rack.id, net.id))
        })
        .unwrap();
    // Every kind of write, on new entities and on old ones, in one transaction and then
    // one each.
    db.write(TxMeta::new("t", "second"), |tx| {
        for i in 0..3 {
            let s = server(tx, &format!("new{i}"))?;
            tx.insert(pool, s.id)?;
            tx.rack_insert(rack, s.id, &[i + 10])?;
            tx.allocate(net, s.id, None, NumberSpec::Next, false)?;
        }
        let old = tx.view().find("old0")?.unwrap();
        tx.set_attr(old.id, NewAttr::new("owner", "dc").subkey("team"))?;
        tx.add_attr(old.id, NewAttr::new("note", "moved"))?;
        tx.delete_entity("old1")?;
        tx.rename("old2", "renamed")?;
        Ok(())
    })
    .unwrap();
    db.write(TxMeta::new("t", "third"), |tx| {
        let s = server(tx, "new9")?;
        tx.insert(pool, s.id)
    })
    .unwrap();
    let deleted = db
        .write(TxMeta::new("t", "fourth"), |tx| {
            tx.delete_entity("new0")?;
            let old = tx.view().entity("old0")?.id;
            tx.delete_attrs(old, &AttrFilter::key("note"))?;
            tx.remove(pool, tx.view().entity("new1")?.id)?;
            // Made and taken back in one transaction.
            let brief = server(tx, "brief")?;
            tx.insert(pool, brief.id)?;
            tx.delete_entity("brief")?;
            tx.version()
        })
        .unwrap();
    // A revert brings back rows with the ids they had.
    db.write(TxMeta::new("t", "fifth"), |tx| tx.revert(deleted, false))
        .unwrap();
    let seen = seen.lock().unwrap();
    assert!(
        seen.held_already.is_empty(),
        "keys taken for new were in the store: {:?}",
        seen.held_already
    );
    // The new servers' records, names' entries, attributes and their indexes.
    assert!(seen.fresh_written > 60, "{} keys", seen.fresh_written);
}
