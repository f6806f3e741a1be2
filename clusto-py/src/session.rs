//! `Session`: one open database, with the per-thread transaction state of the classic
//! API (autocommit unless `begin` was called; nesting by counting; an inner rollback
//! rolls back the whole transaction and leaves the outer levels dead).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyList;

use clusto_core::{
    Clusto, EntityId, EntityQuery, Error, NewAttr, OpenOptions, Related, Transaction, TxMeta,
    Value, VersionQuery, View, drivers,
};

use crate::convert::{
    AttrRow, EntityRow, Filter, VersionRow, attr_out, attrs_out, entity_out, number_spec, value_in,
    value_out, version_out,
};
use crate::errors::{to_py, transaction_error};
use crate::wrap::{driver_out, drivers_out};

/// A failure inside a call: a core error or misuse of the transaction calls.
enum Fail {
    Core(Error),
    Tx(String),
}

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        Fail::Core(e)
    }
}

impl From<Fail> for PyErr {
    fn from(f: Fail) -> Self {
        match f {
            Fail::Core(e) => to_py(e),
            Fail::Tx(m) => transaction_error(&m),
        }
    }
}

/// The explicit transaction of one thread on one session.
#[derive(Default)]
struct TxState {
    tx: Option<Transaction>,
    depth: u32,
    /// An inner level rolled back: the outer levels may only end.
    dead: bool,
}

thread_local! {
    /// Per thread, per session id: a transaction belongs to the thread that began it.
    static TXS: RefCell<HashMap<u64, TxState>> = RefCell::new(HashMap::new());
}

static NEXT_SESSION: AtomicU64 = AtomicU64::new(1);

/// An open clusto database.
#[pyclass(frozen, module = "clusto._clusto")]
pub struct Session {
    id: u64,
    db: Clusto,
    meta: Mutex<TxMeta>,
}

/// Driver objects (see `wrap::drivers_out`).
type Entities = Py<PyList>;
type Attrs = Vec<Py<AttrRow>>;

/// `(entities, attributes, counters, versions, skipped rows, check problems)`.
type MigrationReport = (usize, usize, usize, usize, Vec<String>, Vec<String>);

impl Session {
    fn meta(&self) -> TxMeta {
        self.meta.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Runs a read against this thread's transaction, or the committed state (as of
    /// `at` when given), with the GIL released.
    fn read<T: Send>(
        &self,
        py: Python<'_>,
        at: Option<u64>,
        f: impl for<'v> FnOnce(&View<'v>) -> clusto_core::Result<T> + Send,
    ) -> PyResult<T> {
        py.detach(|| {
            let mut f = Some(f);
            let in_tx = TXS.with(|t| {
                let t = t.borrow();
                match (t.get(&self.id).and_then(|s| s.tx.as_ref()), at) {
                    (Some(tx), None) => Some((f.take().expect("unused"))(&tx.view())),
                    _ => None,
                }
            });
            match (in_tx, f) {
                (Some(result), _) => result,
                (None, Some(f)) => match at {
                    None => self.db.read(f),
                    Some(v) => self.db.read_at(v, f),
                },
                (None, None) => unreachable!("the read ran"),
            }
        })
        .map_err(to_py)
    }

    /// Runs a write in this thread's transaction, or in its own (autocommit).
    fn write<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut Transaction) -> clusto_core::Result<T> + Send,
    ) -> PyResult<T> {
        py.detach(|| {
            let mut f = Some(f);
            let in_tx = TXS.with(|t| {
                let mut t = t.borrow_mut();
                match t.get_mut(&self.id) {
                    Some(state) if state.depth > 0 => {
                        if state.dead {
                            return Some(Err(Fail::Tx(
                                "this transaction was rolled back; end it before writing".into(),
                            )));
                        }
                        let tx = state.tx.as_mut().expect("a live level has a transaction");
                        Some((f.take().expect("unused"))(tx).map_err(Fail::from))
                    }
                    _ => None,
                }
            });
            match in_tx {
                Some(result) => result,
                None => self
                    .db
                    .write(self.meta(), f.take().expect("unused"))
                    .map_err(Fail::from),
            }
        })
        .map_err(PyErr::from)
    }

    fn related(types: Vec<String>, drivers: Vec<String>, recursive: bool) -> Related {
        Related {
            types,
            drivers,
            recursive,
        }
    }
}

fn id(e: u64) -> EntityId {
    EntityId(e)
}

#[pymethods]
impl Session {
    /// Opens (creating if needed) the database a DSN names — a directory path,
    /// `lmdb:///path`, `sled:///path` or `memory:` — with the open settings of a
    /// clusto.conf (`wait` in seconds, `durability`), which the core reads. SQL URLs of
    /// the original clusto are refused with a pointer to `clusto migrate`.
    #[new]
    #[pyo3(signature = (dsn, settings=Vec::new()))]
    fn new(py: Python<'_>, dsn: String, settings: Vec<(String, String)>) -> PyResult<Self> {
        let mut options = OpenOptions::default();
        for (key, value) in &settings {
            if !options.set(key, value).map_err(to_py)? {
                return Err(to_py(clusto_core::Error::InvalidValue(format!(
                    "'{key}' is not an open setting (wait, durability)"
                ))));
            }
        }
        let db = py
            .detach(|| Clusto::open_with(&dsn, &options))
            .map_err(to_py)?;
        Ok(Session {
            id: NEXT_SESSION.fetch_add(1, Ordering::Relaxed),
            db,
            meta: Mutex::new(TxMeta::default()),
        })
    }

    /// The database directory.
    fn path(&self) -> Option<String> {
        self.db.path().map(|p| p.display().to_string())
    }

    /// Sets the user and description recorded with the following versions.
    #[pyo3(signature = (user=None, description=None))]
    fn set_meta(&self, user: Option<String>, description: Option<String>) {
        *self.meta.lock().unwrap_or_else(|e| e.into_inner()) = TxMeta { user, description };
    }

    /// Begins a transaction, or one more nesting level. `user` and `description`
    /// override the session's for this transaction.
    #[pyo3(signature = (user=None, description=None))]
    fn begin(
        &self,
        py: Python<'_>,
        user: Option<String>,
        description: Option<String>,
    ) -> PyResult<()> {
        let mut meta = self.meta();
        meta.user = user.or(meta.user);
        meta.description = description.or(meta.description);
        py.detach(|| {
            TXS.with(|t| {
                let mut t = t.borrow_mut();
                let state = t.entry(self.id).or_default();
                if state.depth == 0 {
                    state.tx = Some(self.db.begin(meta)?);
                    state.dead = false;
                }
                state.depth += 1;
                Ok(())
            })
        })
        .map_err(to_py)
    }

    /// Ends one nesting level; the outermost commits. Returns the new version, or None.
    fn commit(&self, py: Python<'_>) -> PyResult<Option<u64>> {
        py.detach(|| {
            TXS.with(|t| {
                let mut t = t.borrow_mut();
                let state = t.entry(self.id).or_default();
                if state.depth == 0 {
                    return Err(Fail::Tx("Can't commit, no transaction started.".into()));
                }
                state.depth -= 1;
                if state.dead {
                    if state.depth == 0 {
                        state.dead = false;
                    }
                    return Err(Fail::Tx(
                        "Can't commit: the transaction was rolled back.".into(),
                    ));
                }
                if state.depth > 0 {
                    return Ok(None);
                }
                let tx = state.tx.take().expect("a live level has a transaction");
                Ok(tx.commit()?)
            })
        })
        .map_err(PyErr::from)
    }

    /// Rolls back the whole transaction; outer levels stay open but dead.
    fn rollback(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| {
            TXS.with(|t| {
                let mut t = t.borrow_mut();
                let state = t.entry(self.id).or_default();
                if state.depth == 0 {
                    return Err(Fail::Tx("Can't rollback, no transaction started.".into()));
                }
                state.tx = None;
                state.depth -= 1;
                state.dead = state.depth > 0;
                Ok(())
            })
        })
        .map_err(PyErr::from)
    }

    /// The nesting depth of this thread's transaction (0: autocommit).
    fn depth(&self) -> u32 {
        TXS.with(|t| t.borrow().get(&self.id).map_or(0, |s| s.depth))
    }

    /// Drops this thread's transaction, whatever its depth (the original's `clear`).
    fn clear(&self) {
        TXS.with(|t| t.borrow_mut().remove(&self.id));
    }

    /// The newest committed version (this thread's pending one is not counted).
    fn latest_version(&self, py: Python<'_>) -> PyResult<u64> {
        py.detach(|| self.db.latest_version()).map_err(to_py)
    }

    /// The commits made through this database in this process and the seconds the
    /// storage spent making them durable (`Clusto::commit_stats`).
    fn commit_stats(&self) -> (u64, f64) {
        let stats = self.db.commit_stats();
        (stats.commits, stats.time.as_secs_f64())
    }

    /// The change feed after `since` (at most `limit` versions) as JSON text: a list of
    /// `clusto_core::json::version_changes_json` entries, filtered by entity name,
    /// attribute key, entity type and user.
    #[pyo3(signature = (since, limit=None, entity=None, key=None, type_name=None, user=None))]
    #[allow(clippy::too_many_arguments)]
    fn changes_json(
        &self,
        py: Python<'_>,
        since: u64,
        limit: Option<usize>,
        entity: Option<String>,
        key: Option<String>,
        type_name: Option<String>,
        user: Option<String>,
    ) -> PyResult<String> {
        let filter = clusto_core::FeedFilter {
            entity,
            key,
            type_name,
            user,
        };
        self.read(py, None, |v| {
            let entries = v
                .changes_since(since, limit)?
                .iter()
                .filter_map(|c| filter.apply(c))
                .map(|c| v.version_changes_json(&c))
                .collect::<clusto_core::Result<Vec<_>>>()?;
            Ok(serde_json::Value::Array(entries).to_string())
        })
    }

    /// Waits (without the GIL) until a version newer than `after` exists or `timeout`
    /// seconds pass; returns the latest version then.
    fn wait_for_version(&self, py: Python<'_>, after: u64, timeout: f64) -> PyResult<u64> {
        let timeout = Duration::from_secs_f64(timeout.max(0.0));
        py.detach(|| self.db.wait_for_version(after, Some(timeout)))
            .map_err(to_py)
    }

    /// The diff between versions `first` and `last` (None: the latest), of the named
    /// entities or all, as JSON text (`clusto_core::json::diff_json`).
    #[pyo3(signature = (first, last=None, names=Vec::new()))]
    fn diff_json(
        &self,
        py: Python<'_>,
        first: u64,
        last: Option<u64>,
        names: Vec<String>,
    ) -> PyResult<String> {
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        self.read(py, None, |v| {
            Ok(v.diff_json(&v.diff(first, last, &names)?)?.to_string())
        })
    }

    /// Undoes version `version` (see `Transaction::revert`).
    #[pyo3(signature = (version, force=false))]
    fn revert(&self, py: Python<'_>, version: u64, force: bool) -> PyResult<()> {
        self.write(py, |tx| tx.revert(version, force))
    }

    /// Makes the named entities as they were at version `to`.
    fn restore(&self, py: Python<'_>, names: Vec<String>, to: u64) -> PyResult<()> {
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        self.write(py, |tx| tx.restore(&names, to))
    }

    /// Problems found by the integrity check (empty when clean).
    fn check(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        py.detach(|| self.db.check())
            .map(|r| r.problems)
            .map_err(to_py)
    }

    /// Versions as `(version, timestamp_micros, user, description)` tuples.
    #[pyo3(signature = (first=None, last=None, user=None, since=None, until=None))]
    fn versions(
        &self,
        py: Python<'_>,
        first: Option<u64>,
        last: Option<u64>,
        user: Option<String>,
        since: Option<i64>,
        until: Option<i64>,
    ) -> PyResult<Vec<Py<VersionRow>>> {
        let query = VersionQuery {
            from: first,
            to: last,
            user,
            since: since.map(clusto_core::Timestamp),
            until: until.map(clusto_core::Timestamp),
            entity: None,
        };
        let list = self.read(py, None, |v| v.versions(&query))?;
        list.iter()
            .map(|i| Ok(version_out(py, i)?.unbind()))
            .collect()
    }

    /// The changes of a version: `(kind, entity tuple, attr tuple or None, detail)`.
    fn changes(&self, py: Python<'_>, version: u64) -> PyResult<Vec<Py<PyAny>>> {
        let details = self.read(py, None, |v| v.change_details(version))?;
        details
            .iter()
            .map(|d| {
                let detail = match &d.change {
                    clusto_core::Change::DriverChanged { old_driver, .. } => {
                        Some(old_driver.clone())
                    }
                    clusto_core::Change::CounterSet {
                        key,
                        value: Some(value),
                        ..
                    } => Some(format!("{key}={value}")),
                    clusto_core::Change::CounterSet {
                        key, value: None, ..
                    } => Some(format!("{key} deleted")),
                    _ => None,
                };
                let kind = d.change.kind();
                let attr = d.attr.as_ref().map(|a| attr_out(py, a)).transpose()?;
                Ok((kind, entity_out(py, &d.entity)?, attr, detail)
                    .into_pyobject(py)?
                    .into_any()
                    .unbind())
            })
            .collect()
    }

    /// Versions that touched any entity that had this name.
    fn entity_versions(&self, py: Python<'_>, name: String) -> PyResult<Vec<u64>> {
        self.read(py, None, |v| v.entity_versions(&name))
    }

    /// Creates the clustometa singleton if missing: in the open transaction, else in the
    /// core's own versions (the entity, then its schema version, as the original).
    fn init_clusto(&self, py: Python<'_>) -> PyResult<Py<EntityRow>> {
        let in_transaction = TXS.with(|t| {
            t.borrow()
                .get(&self.id)
                .is_some_and(|state| state.depth > 0)
        });
        let e = if in_transaction {
            self.write(py, |tx| tx.init_clusto())?
        } else {
            let meta = self.meta();
            py.detach(|| self.db.init_clusto(meta)).map_err(to_py)?
        };
        Ok(entity_out(py, &e)?.unbind())
    }

    /// Creates an entity of a registered driver with properties `(name, value)`.
    fn create(
        &self,
        py: Python<'_>,
        driver: String,
        name: String,
        props: Vec<(String, Bound<'_, PyAny>)>,
    ) -> PyResult<Py<EntityRow>> {
        let props: Vec<(String, Value)> = props
            .iter()
            .map(|(k, v)| Ok((k.clone(), value_in(v)?)))
            .collect::<PyResult<_>>()?;
        let e = self.write(py, |tx| {
            let refs: Vec<(&str, Value)> =
                props.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
            tx.create(&driver, &name, &refs)
        })?;
        Ok(entity_out(py, &e)?.unbind())
    }

    /// The entity visible under `name` (as of `at`), or None.
    #[pyo3(signature = (name, at=None))]
    fn find(
        &self,
        py: Python<'_>,
        name: String,
        at: Option<u64>,
    ) -> PyResult<Option<Py<EntityRow>>> {
        let e = self.read(py, at, |v| v.find(&name))?;
        e.map(|e| Ok(entity_out(py, &e)?.unbind())).transpose()
    }

    /// The driver object of the entity visible under `name` (as of `at`), or None: what
    /// `wrap_entity(find(name, at))` makes, in one call (the hottest lookup of legacy
    /// scripts).
    #[pyo3(signature = (name, at=None))]
    fn find_driver<'py>(
        &self,
        py: Python<'py>,
        name: String,
        at: Option<u64>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.read(py, at, |v| v.find(&name))?
            .map(|e| driver_out(py, &e))
            .transpose()
    }

    /// Entities by names, aligned, None where missing.
    #[pyo3(signature = (names, at=None))]
    fn find_many(
        &self,
        py: Python<'_>,
        names: Vec<String>,
        at: Option<u64>,
    ) -> PyResult<Vec<Option<Py<EntityRow>>>> {
        let found = self.read(py, at, |v| {
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            v.entities_by_names(&refs)
        })?;
        found
            .iter()
            .map(|e| {
                e.as_ref()
                    .map(|e| Ok(entity_out(py, e)?.unbind()))
                    .transpose()
            })
            .collect()
    }

    /// The entity row with this id (live or deleted).
    fn entity(&self, py: Python<'_>, entity: u64) -> PyResult<Py<EntityRow>> {
        let e = self.read(py, None, |v| v.entity_by_id(id(entity)))?;
        Ok(entity_out(py, &e)?.unbind())
    }

    /// The original's get_entities: lists ANDed, attribute filters ORed.
    #[pyo3(signature = (names, types, drivers, attrs, at=None))]
    fn entities(
        &self,
        py: Python<'_>,
        names: Vec<String>,
        types: Vec<String>,
        drivers: Vec<String>,
        attrs: Vec<PyRef<'_, Filter>>,
        at: Option<u64>,
    ) -> PyResult<Entities> {
        let query = EntityQuery {
            names,
            types,
            drivers,
            attrs: attrs.iter().map(|f| f.inner.clone()).collect(),
            ..Default::default()
        };
        let list = self.read(py, at, |v| v.entities(&query))?;
        Ok(drivers_out(py, &list)?.unbind())
    }

    /// Deletes the live entity `name` (references to it and its attributes go too).
    fn delete_entity(&self, py: Python<'_>, name: String) -> PyResult<()> {
        self.write(py, |tx| tx.delete_entity(&name))
    }

    /// Renames an entity (a new row takes the name, attributes and references).
    fn rename(&self, py: Python<'_>, old: String, new: String) -> PyResult<Py<EntityRow>> {
        let e = self.write(py, |tx| tx.rename(&old, &new))?;
        Ok(entity_out(py, &e)?.unbind())
    }

    /// Changes an entity's driver and type in place.
    fn change_driver(
        &self,
        py: Python<'_>,
        name: String,
        type_name: String,
        driver: String,
    ) -> PyResult<Py<EntityRow>> {
        let e = self.write(py, |tx| tx.change_driver(&name, &type_name, &driver))?;
        Ok(entity_out(py, &e)?.unbind())
    }

    /// Attributes of an entity passing `filter` (with `merged`, then its ancestors').
    #[pyo3(signature = (entity, filter, merged=false, at=None))]
    fn attrs(
        &self,
        py: Python<'_>,
        entity: u64,
        filter: PyRef<'_, Filter>,
        merged: bool,
        at: Option<u64>,
    ) -> PyResult<Attrs> {
        let f = filter.inner.clone();
        let list = self.read(py, at, |v| {
            if merged {
                v.attrs_merged(id(entity), &f)
            } else {
                v.attrs(id(entity), &f)
            }
        })?;
        attrs_out(py, &list)
    }

    /// Attributes of every entity passing `filter`.
    #[pyo3(signature = (filter, at=None))]
    fn attr_query(
        &self,
        py: Python<'_>,
        filter: PyRef<'_, Filter>,
        at: Option<u64>,
    ) -> PyResult<Attrs> {
        let f = filter.inner.clone();
        let list = self.read(py, at, |v| v.attr_query(&f))?;
        attrs_out(py, &list)
    }

    /// Attributes of other entities that refer to `entity` and pass `filter`.
    #[pyo3(signature = (entity, filter, at=None))]
    fn references(
        &self,
        py: Python<'_>,
        entity: u64,
        filter: PyRef<'_, Filter>,
        at: Option<u64>,
    ) -> PyResult<Attrs> {
        let f = filter.inner.clone();
        let list = self.read(py, at, |v| v.references(id(entity), &f))?;
        attrs_out(py, &list)
    }

    /// Adds an attribute; `number_mode` 0 none, 1 next, 2 exactly `number`.
    #[pyo3(signature = (entity, key, value, subkey=None, number_mode=0, number=0))]
    #[allow(clippy::too_many_arguments)]
    fn add_attr(
        &self,
        py: Python<'_>,
        entity: u64,
        key: String,
        value: &Bound<'_, PyAny>,
        subkey: Option<String>,
        number_mode: u8,
        number: i64,
    ) -> PyResult<Py<AttrRow>> {
        let attr = NewAttr {
            key,
            subkey,
            number: number_spec(number_mode, number)?,
            value: value_in(value)?,
        };
        let a = self.write(py, |tx| tx.add_attr(id(entity), attr))?;
        Ok(attr_out(py, &a)?.unbind())
    }

    /// Replaces the one attribute in the same slot (see the core's set_attr).
    #[pyo3(signature = (entity, key, value, subkey=None, number_mode=0, number=0))]
    #[allow(clippy::too_many_arguments)]
    fn set_attr(
        &self,
        py: Python<'_>,
        entity: u64,
        key: String,
        value: &Bound<'_, PyAny>,
        subkey: Option<String>,
        number_mode: u8,
        number: i64,
    ) -> PyResult<Py<AttrRow>> {
        let attr = NewAttr {
            key,
            subkey,
            number: number_spec(number_mode, number)?,
            value: value_in(value)?,
        };
        let a = self.write(py, |tx| tx.set_attr(id(entity), attr))?;
        Ok(attr_out(py, &a)?.unbind())
    }

    /// Deletes the entity's attributes passing `filter`; returns how many.
    fn del_attrs(&self, py: Python<'_>, entity: u64, filter: PyRef<'_, Filter>) -> PyResult<usize> {
        let f = filter.inner.clone();
        self.write(py, |tx| tx.delete_attrs(id(entity), &f))
    }

    /// The entity's counters as `(key, value)`.
    fn counters(&self, py: Python<'_>, entity: u64) -> PyResult<Vec<(String, i64)>> {
        self.read(py, None, |v| v.counters(id(entity)))
    }

    /// Counter (entity, key), if it exists.
    fn counter(&self, py: Python<'_>, entity: u64, key: String) -> PyResult<Option<i64>> {
        self.read(py, None, |v| v.counter(id(entity), &key))
    }

    /// Increments counter (entity, key), created at `default`; returns the new value.
    fn counter_next(
        &self,
        py: Python<'_>,
        entity: u64,
        key: String,
        default: i64,
    ) -> PyResult<i64> {
        self.write(py, |tx| tx.counter_next(id(entity), &key, default))
    }

    /// Sets counter (entity, key).
    fn counter_set(&self, py: Python<'_>, entity: u64, key: String, value: i64) -> PyResult<()> {
        self.write(py, |tx| tx.counter_set(id(entity), &key, value))
    }

    /// Deletes counter (entity, key); returns whether it existed.
    fn counter_delete(&self, py: Python<'_>, entity: u64, key: String) -> PyResult<bool> {
        self.write(py, |tx| tx.counter_delete(id(entity), &key))
    }

    /// Property `name` of an entity (stored value or default).
    #[pyo3(signature = (entity, name, at=None))]
    fn property(
        &self,
        py: Python<'_>,
        entity: u64,
        name: String,
        at: Option<u64>,
    ) -> PyResult<Py<PyAny>> {
        let v = self.read(py, at, |v| v.property(id(entity), &name))?;
        match v {
            Some(v) => value_out(py, &v),
            None => Ok(py.None()),
        }
    }

    /// Sets property `name` of an entity.
    fn set_property(
        &self,
        py: Python<'_>,
        entity: u64,
        name: String,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let value = value_in(value)?;
        self.write(py, |tx| tx.set_property(id(entity), &name, value))
            .map(drop)
    }

    /// Puts `thing` into `container` under the container's rules.
    fn insert(&self, py: Python<'_>, container: u64, thing: u64) -> PyResult<Py<AttrRow>> {
        let a = self.write(py, |tx| tx.insert(id(container), id(thing)))?;
        Ok(attr_out(py, &a)?.unbind())
    }

    /// Takes `thing` out of `container`; returns how many attributes went.
    fn remove(&self, py: Python<'_>, container: u64, thing: u64) -> PyResult<usize> {
        self.write(py, |tx| tx.remove(id(container), id(thing)))
    }

    /// Members of a container (filter on the `_contains` attributes).
    #[pyo3(signature = (container, filter, types, drivers, recursive, at=None))]
    #[allow(clippy::too_many_arguments)]
    fn contents(
        &self,
        py: Python<'_>,
        container: u64,
        filter: PyRef<'_, Filter>,
        types: Vec<String>,
        drivers: Vec<String>,
        recursive: bool,
        at: Option<u64>,
    ) -> PyResult<Entities> {
        let (f, rel) = (
            filter.inner.clone(),
            Self::related(types, drivers, recursive),
        );
        let list = self.read(py, at, |v| v.contents(id(container), &f, &rel))?;
        Ok(drivers_out(py, &list)?.unbind())
    }

    /// Containers of a thing.
    #[pyo3(signature = (thing, types, drivers, recursive, at=None))]
    fn parents(
        &self,
        py: Python<'_>,
        thing: u64,
        types: Vec<String>,
        drivers: Vec<String>,
        recursive: bool,
        at: Option<u64>,
    ) -> PyResult<Entities> {
        let rel = Self::related(types, drivers, recursive);
        let list = self.read(py, at, |v| v.parents(id(thing), &rel))?;
        Ok(drivers_out(py, &list)?.unbind())
    }

    /// Pools of a thing (not de-duplicated when recursive).
    fn pools_of(&self, py: Python<'_>, thing: u64, recursive: bool) -> PyResult<Entities> {
        let list = self.read(py, None, |v| v.pools_of(id(thing), recursive))?;
        Ok(drivers_out(py, &list)?.unbind())
    }

    /// Members shared by every pool of `thing`, without it.
    fn siblings(&self, py: Python<'_>, thing: u64) -> PyResult<Entities> {
        let list = self.read(py, None, |v| v.siblings(id(thing)))?;
        Ok(drivers_out(py, &list)?.unbind())
    }

    /// Entities in every one of the pools.
    fn pool_intersection(
        &self,
        py: Python<'_>,
        pools: Vec<u64>,
        types: Vec<String>,
        drivers: Vec<String>,
        recursive: bool,
    ) -> PyResult<Entities> {
        let rel = Self::related(types, drivers, recursive);
        let ids: Vec<EntityId> = pools.into_iter().map(EntityId).collect();
        let list = self.read(py, None, |v| v.from_pools(&ids, &rel))?;
        Ok(drivers_out(py, &list)?.unbind())
    }

    /// Every containment edge as `(parent tuple, child tuple)`.
    fn adjacency(&self, py: Python<'_>) -> PyResult<Vec<(Py<EntityRow>, Py<EntityRow>)>> {
        let edges = self.read(py, None, |v| v.adjacency())?;
        edges
            .iter()
            .map(|e| {
                Ok((
                    entity_out(py, &e.parent)?.unbind(),
                    entity_out(py, &e.child)?.unbind(),
                ))
            })
            .collect()
    }

    /// Racks `device` at `units`.
    fn rack_insert(&self, py: Python<'_>, rack: u64, device: u64, units: Vec<i64>) -> PyResult<()> {
        self.write(py, |tx| tx.rack_insert(id(rack), id(device), &units))
    }

    /// The device in a rack unit, or None.
    fn device_in(&self, py: Python<'_>, rack: u64, unit: i64) -> PyResult<Option<Py<EntityRow>>> {
        let e = self.read(py, None, |v| v.device_in(id(rack), unit))?;
        e.map(|e| Ok(entity_out(py, &e)?.unbind())).transpose()
    }

    /// `(rack tuple, units)` of a racked device, or None.
    fn rack_slot(
        &self,
        py: Python<'_>,
        device: u64,
    ) -> PyResult<Option<(Py<EntityRow>, Vec<i64>)>> {
        let slot = self.read(py, None, |v| v.rack_slot(id(device)))?;
        slot.map(|s| Ok((entity_out(py, &s.rack)?.unbind(), s.units)))
            .transpose()
    }

    /// Whether the port exists.
    fn port_exists(
        &self,
        py: Python<'_>,
        device: u64,
        port_type: String,
        number: i64,
    ) -> PyResult<bool> {
        self.read(py, None, |v| v.port_exists(id(device), &port_type, number))
    }

    /// Whether the port has no connection.
    fn port_free(
        &self,
        py: Python<'_>,
        device: u64,
        port_type: String,
        number: i64,
    ) -> PyResult<bool> {
        self.read(py, None, |v| v.port_free(id(device), &port_type, number))
    }

    /// Whether both ports exist and are free.
    fn ports_connectable(
        &self,
        py: Python<'_>,
        device: u64,
        port_type: String,
        number: i64,
        other: u64,
        other_number: i64,
    ) -> PyResult<bool> {
        self.read(py, None, |v| {
            v.ports_connectable(id(device), &port_type, number, id(other), other_number)
        })
    }

    /// A port attribute's value, or None.
    fn port_attr(
        &self,
        py: Python<'_>,
        device: u64,
        port_type: String,
        number: i64,
        attr: String,
    ) -> PyResult<Py<PyAny>> {
        let v = self.read(py, None, |v| {
            v.port_attr(id(device), &port_type, number, &attr)
        })?;
        match v {
            Some(v) => value_out(py, &v),
            None => Ok(py.None()),
        }
    }

    /// Sets (`add=False`) or adds a port attribute.
    #[pyo3(signature = (device, port_type, number, attr, value, add=false))]
    #[allow(clippy::too_many_arguments)]
    fn set_port_attr(
        &self,
        py: Python<'_>,
        device: u64,
        port_type: String,
        number: i64,
        attr: String,
        value: &Bound<'_, PyAny>,
        add: bool,
    ) -> PyResult<()> {
        let value = value_in(value)?;
        self.write(py, |tx| {
            if add {
                tx.add_port_attr(id(device), &port_type, number, &attr, value)
            } else {
                tx.set_port_attr(id(device), &port_type, number, &attr, value)
            }
        })
        .map(drop)
    }

    /// Deletes a port attribute; returns how many values went.
    fn del_port_attr(
        &self,
        py: Python<'_>,
        device: u64,
        port_type: String,
        number: i64,
        attr: String,
    ) -> PyResult<usize> {
        self.write(py, |tx| {
            tx.del_port_attr(id(device), &port_type, number, &attr)
        })
    }

    /// Connects two ports of one type.
    fn connect_ports(
        &self,
        py: Python<'_>,
        device: u64,
        port_type: String,
        number: i64,
        other: u64,
        other_number: i64,
    ) -> PyResult<()> {
        self.write(py, |tx| {
            tx.connect_ports(id(device), &port_type, number, id(other), other_number)
        })
    }

    /// Disconnects a port; returns whether it was connected.
    fn disconnect_port(
        &self,
        py: Python<'_>,
        device: u64,
        port_type: String,
        number: i64,
    ) -> PyResult<bool> {
        self.write(py, |tx| tx.disconnect_port(id(device), &port_type, number))
    }

    /// Every port as `(type, number, connected entity tuple or None, other port or None)`.
    fn port_info(&self, py: Python<'_>, device: u64) -> PyResult<Vec<Py<PyAny>>> {
        let ports = self.read(py, None, |v| v.port_info(id(device)))?;
        ports
            .iter()
            .map(|p| {
                let peer = p
                    .connection
                    .as_ref()
                    .map(|e| entity_out(py, e))
                    .transpose()?;
                Ok((&p.port_type, p.number, peer, p.other_port)
                    .into_pyobject(py)?
                    .into_any()
                    .unbind())
            })
            .collect()
    }

    /// Allocates from a manager; `resource` None lets the manager choose.
    #[pyo3(signature = (manager, thing, resource=None, number_mode=1, number=0, force=false))]
    #[allow(clippy::too_many_arguments)]
    fn allocate(
        &self,
        py: Python<'_>,
        manager: u64,
        thing: u64,
        resource: Option<&Bound<'_, PyAny>>,
        number_mode: u8,
        number: i64,
        force: bool,
    ) -> PyResult<Py<AttrRow>> {
        let resource = resource.map(value_in).transpose()?;
        let spec = number_spec(number_mode, number)?;
        let a = self.write(py, |tx| {
            tx.allocate(id(manager), id(thing), resource, spec, force)
        })?;
        Ok(attr_out(py, &a)?.unbind())
    }

    /// Frees a resource (or all of this manager's) held by `thing`.
    #[pyo3(signature = (manager, thing, resource=None))]
    fn deallocate(
        &self,
        py: Python<'_>,
        manager: u64,
        thing: u64,
        resource: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<usize> {
        let resource = resource.map(value_in).transpose()?;
        self.write(py, |tx| tx.deallocate(id(manager), id(thing), resource))
    }

    /// Creates an entity named by a simple entity-name manager.
    #[pyo3(signature = (manager, driver, name=None))]
    fn allocate_entity(
        &self,
        py: Python<'_>,
        manager: u64,
        driver: String,
        name: Option<String>,
    ) -> PyResult<Py<EntityRow>> {
        let e = self.write(py, |tx| {
            tx.allocate_entity(id(manager), &driver, name.as_deref())
        })?;
        Ok(entity_out(py, &e)?.unbind())
    }

    /// Whether nobody holds `resource`.
    fn available(
        &self,
        py: Python<'_>,
        manager: u64,
        resource: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let r = value_in(resource)?;
        self.read(py, None, |v| v.resource_available(id(manager), &r))
    }

    /// Entities holding `resource`.
    fn owners(
        &self,
        py: Python<'_>,
        manager: u64,
        resource: &Bound<'_, PyAny>,
    ) -> PyResult<Entities> {
        let r = value_in(resource)?;
        let list = self.read(py, None, |v| v.resource_owners(id(manager), &r))?;
        Ok(drivers_out(py, &list)?.unbind())
    }

    /// Allocations recorded by a manager.
    fn allocation_count(&self, py: Python<'_>, manager: u64) -> PyResult<usize> {
        self.read(py, None, |v| v.allocation_count(id(manager)))
    }

    /// Resource attributes of `thing` from managers of `driver` (or any).
    #[pyo3(signature = (thing, driver=None))]
    fn resources_of(&self, py: Python<'_>, thing: u64, driver: Option<String>) -> PyResult<Attrs> {
        let list = self.read(py, None, |v| v.resources_of(id(thing), driver.as_deref()))?;
        attrs_out(py, &list)
    }

    /// IP managers whose range holds `ip`.
    fn ip_managers_for(&self, py: Python<'_>, ip: String) -> PyResult<Entities> {
        let list = self.read(py, None, |v| v.ip_managers_for(&ip))?;
        Ok(drivers_out(py, &list)?.unbind())
    }

    /// The addresses of a device.
    fn ips_of(&self, py: Python<'_>, device: u64) -> PyResult<Vec<String>> {
        self.read(py, None, |v| v.ips_of(id(device)))
    }

    /// Entities holding address `ip`.
    fn devices_with_ip(&self, py: Python<'_>, ip: String) -> PyResult<Entities> {
        let list = self.read(py, None, |v| v.devices_with_ip(&ip))?;
        Ok(drivers_out(py, &list)?.unbind())
    }

    /// Gives a device an address (see the core's add_ip).
    #[pyo3(signature = (device, ip=None, manager=None))]
    fn add_ip(
        &self,
        py: Python<'_>,
        device: u64,
        ip: Option<String>,
        manager: Option<u64>,
    ) -> PyResult<Py<AttrRow>> {
        let a = self.write(py, |tx| {
            tx.add_ip(id(device), ip.as_deref(), manager.map(EntityId))
        })?;
        Ok(attr_out(py, &a)?.unbind())
    }

    /// Binds an address to an OS port name (allocating it if needed).
    #[pyo3(signature = (device, ip, osport, manager=None, port=None))]
    fn bind_ip_to_osport(
        &self,
        py: Python<'_>,
        device: u64,
        ip: String,
        osport: String,
        manager: Option<u64>,
        port: Option<(String, i64)>,
    ) -> PyResult<()> {
        self.write(py, |tx| {
            let port = port.as_ref().map(|(t, n)| (t.as_str(), *n));
            tx.bind_ip_to_osport(id(device), &ip, &osport, manager.map(EntityId), port)
        })
    }

    /// Imports an original clusto database into this empty database. `source` is any
    /// DSN `clusto_migrate::migrate` reads (a SQLite path or `sqlite:///…`,
    /// `postgresql://…`, `mysql://…`); the name is kept from when only SQLite was read.
    /// Returns `(entities, attributes, counters, versions, skipped rows, check problems)`.
    fn migrate_sqlite(&self, py: Python<'_>, source: String) -> PyResult<MigrationReport> {
        let r = py
            .detach(|| clusto_migrate::migrate(&source, &self.db, |_, _| {}))
            .map_err(to_py)?;
        Ok((
            r.entities,
            r.attributes,
            r.counters,
            r.versions,
            r.skipped,
            r.problems,
        ))
    }

    /// The device's hostname (attribute, else name).
    fn hostname(&self, py: Python<'_>, device: u64) -> PyResult<String> {
        self.read(py, None, |v| v.hostname(id(device)))
    }

    /// Sets the device's hostname attribute.
    fn set_hostname(&self, py: Python<'_>, device: u64, hostname: String) -> PyResult<()> {
        self.write(py, |tx| tx.set_hostname(id(device), &hostname))
    }

    /// The device's fully qualified names, in order.
    fn fqdns(&self, py: Python<'_>, device: u64) -> PyResult<Vec<String>> {
        self.read(py, None, |v| v.fqdns(id(device)))
    }

    /// Adds a fully qualified name unless present (one check and write, atomically);
    /// returns whether it was added.
    fn add_fqdn(&self, py: Python<'_>, device: u64, fqdn: String) -> PyResult<bool> {
        self.write(py, |tx| tx.add_fqdn(id(device), &fqdn))
    }

    /// Removes a fully qualified name; returns whether it was there.
    fn remove_fqdn(&self, py: Python<'_>, device: u64, fqdn: String) -> PyResult<bool> {
        self.write(py, |tx| tx.remove_fqdn(id(device), &fqdn))
    }
}

/// Copies the database `source` names, with its full history, into the empty database
/// `target` names, on any engines (a sled database to LMDB).
#[pyfunction]
pub fn copy(py: Python<'_>, source: String, target: String) -> PyResult<()> {
    py.detach(|| clusto_core::copy(&source, &target))
        .map_err(to_py)
}

/// Registers a driver derived from `parent` (a registered driver name).
#[pyfunction]
#[pyo3(signature = (name, type_name, parent, properties, ports=None, resource_key=None))]
pub fn register_driver(
    name: String,
    type_name: String,
    parent: String,
    properties: Vec<(String, Bound<'_, PyAny>)>,
    ports: Option<Vec<(String, u32)>>,
    resource_key: Option<String>,
) -> PyResult<()> {
    let parent = drivers::require(&parent).map_err(to_py)?;
    let mut spec = drivers::DriverSpec::derive(&parent, &name, &type_name);
    for (prop, default) in &properties {
        let default = value_in(default)?;
        spec = spec.property(prop, (default != Value::Null).then_some(default));
    }
    if let Some(ports) = ports {
        let refs: Vec<(&str, u32)> = ports.iter().map(|(t, n)| (t.as_str(), *n)).collect();
        spec = spec.ports(&refs);
    }
    if let Some(key) = resource_key.filter(|_| spec.behaviour.is_resource_manager()) {
        spec = spec.resource_key(&key);
    }
    drivers::register(spec).map(drop).map_err(to_py)
}

/// Whether a driver name is registered in the core.
#[pyfunction]
pub fn driver_registered(name: &str) -> bool {
    drivers::lookup(name).is_some()
}

/// A registered driver's specification as a dict: `type`, `behaviour` (the core's name,
/// e.g. `ip_manager`), `properties` (`(name, default)` pairs), `ports` (`(type, count)`
/// pairs) and `resource_key`.
#[pyfunction]
pub fn driver_spec(py: Python<'_>, name: &str) -> PyResult<Py<PyAny>> {
    let spec = drivers::require(name).map_err(to_py)?;
    let props: Vec<(String, Py<PyAny>)> = spec
        .properties
        .iter()
        .map(|(n, d)| {
            Ok((
                n.clone(),
                d.as_ref()
                    .map(|d| value_out(py, d))
                    .transpose()?
                    .unwrap_or_else(|| py.None()),
            ))
        })
        .collect::<PyResult<_>>()?;
    let ports: Vec<(String, u32)> = spec
        .ports
        .iter()
        .map(|p| (p.port_type.clone(), p.count))
        .collect();
    let behaviour = serde_json::to_value(spec.behaviour)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let out = pyo3::types::PyDict::new(py);
    out.set_item("type", &spec.type_name)?;
    out.set_item("behaviour", behaviour)?;
    out.set_item("properties", props)?;
    out.set_item("ports", ports)?;
    out.set_item("resource_key", &spec.resource_key)?;
    Ok(out.into_any().unbind())
}
