//! Values and records between Python and the core. The Python layer hands over plain
//! values (int, str, None) and the marker classes below; it turns what comes back into
//! drivers, datetimes and decoded JSON.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyInt, PyString};

use clusto_core::{
    AttrFilter, Attribute, Entity, EntityId, NumberMatch, NumberSpec, SubkeyMatch, TextMatch,
    Timestamp, Value, VersionInfo,
};

/// A relation value: the id of the entity row it points at.
#[pyclass(frozen, eq, hash, module = "clusto._clusto")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Relation {
    /// The entity id.
    #[pyo3(get)]
    pub id: u64,
}

#[pymethods]
impl Relation {
    #[new]
    fn new(id: u64) -> Self {
        Relation { id }
    }
}

/// A JSON value as text.
#[pyclass(frozen, module = "clusto._clusto")]
#[derive(Clone)]
pub struct Json {
    /// The JSON text.
    #[pyo3(get)]
    pub text: String,
}

#[pymethods]
impl Json {
    #[new]
    fn new(text: String) -> Self {
        Json { text }
    }
}

/// A datetime as microseconds since 1970-01-01T00:00:00 (no time zone).
#[pyclass(frozen, module = "clusto._clusto")]
#[derive(Clone)]
pub struct Datetime {
    /// Microseconds since the epoch.
    #[pyo3(get)]
    pub micros: i64,
}

#[pymethods]
impl Datetime {
    #[new]
    fn new(micros: i64) -> Self {
        Datetime { micros }
    }
}

/// A Python value as a core value.
pub fn value_in(v: &Bound<'_, PyAny>) -> PyResult<Value> {
    if v.is_none() {
        Ok(Value::Null)
    } else if v.is_instance_of::<PyBool>() {
        Ok(Value::Int(v.extract::<bool>()? as i64))
    } else if v.is_instance_of::<PyInt>() {
        v.extract::<i64>()
            .map(Value::Int)
            .map_err(|_| PyValueError::new_err(format!("integer {v} does not fit 64 bits")))
    } else if v.is_instance_of::<PyString>() {
        Ok(Value::String(v.extract()?))
    } else if let Ok(r) = v.cast::<Relation>() {
        Ok(Value::Relation(EntityId(r.get().id)))
    } else if let Ok(j) = v.cast::<Json>() {
        Ok(Value::Json(j.get().text.clone()))
    } else if let Ok(d) = v.cast::<Datetime>() {
        Ok(Value::Datetime(Timestamp(d.get().micros)))
    } else {
        Err(PyTypeError::new_err(format!(
            "cannot store a {} value",
            v.get_type().name()?
        )))
    }
}

/// A core value as a Python value (relations, JSON and datetimes as marker objects).
pub fn value_out(py: Python<'_>, v: &Value) -> PyResult<Py<PyAny>> {
    Ok(match v {
        Value::Int(i) => i.into_pyobject(py)?.into_any().unbind(),
        Value::String(s) => s.into_pyobject(py)?.into_any().unbind(),
        Value::Null => py.None(),
        Value::Relation(id) => Py::new(py, Relation { id: id.0 })?.into_any(),
        Value::Json(text) => Py::new(py, Json { text: text.clone() })?.into_any(),
        Value::Datetime(t) => Py::new(py, Datetime { micros: t.0 })?.into_any(),
    })
}

/// An entity row: what the Python layer's `Entity` is made from.
#[pyclass(frozen, module = "clusto._clusto")]
pub struct EntityRow {
    /// The row id.
    #[pyo3(get)]
    pub id: u64,
    /// The name.
    #[pyo3(get)]
    pub name: Py<PyString>,
    /// The clusto type.
    #[pyo3(get, name = "type")]
    pub type_name: Py<PyString>,
    /// The driver name.
    #[pyo3(get)]
    pub driver: Py<PyString>,
    /// The version that made the row.
    #[pyo3(get)]
    pub version: u64,
    /// The version that deleted it, if one has.
    #[pyo3(get)]
    pub deleted_at: Option<u64>,
}

#[pymethods]
impl EntityRow {
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "EntityRow(id={}, name={:?}, type={:?}, driver={:?}, version={}, deleted_at={:?})",
            self.id,
            self.name.bind(py).to_string(),
            self.type_name.bind(py).to_string(),
            self.driver.bind(py).to_string(),
            self.version,
            self.deleted_at
        )
    }
}

/// An attribute row: what the Python layer's `Attribute` is made from.
#[pyclass(frozen, module = "clusto._clusto")]
pub struct AttrRow {
    /// The row id.
    #[pyo3(get)]
    pub id: u64,
    /// The id of the entity the attribute belongs to.
    #[pyo3(get)]
    pub entity_id: u64,
    /// The key.
    #[pyo3(get)]
    pub key: Py<PyString>,
    /// The subkey, if any.
    #[pyo3(get)]
    pub subkey: Option<Py<PyString>>,
    /// The number, if any.
    #[pyo3(get)]
    pub number: Option<i64>,
    /// The value: int, str, None, or a `Relation`, `Json` or `Datetime`.
    #[pyo3(get)]
    pub value: Py<PyAny>,
    /// The version that made the row.
    #[pyo3(get)]
    pub version: u64,
    /// The version that deleted it, if one has.
    #[pyo3(get)]
    pub deleted_at: Option<u64>,
}

#[pymethods]
impl AttrRow {
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "AttrRow(id={}, entity_id={}, key={:?}, subkey={:?}, number={:?}, value={}, \
             version={}, deleted_at={:?})",
            self.id,
            self.entity_id,
            self.key.bind(py).to_string(),
            self.subkey.as_ref().map(|s| s.bind(py).to_string()),
            self.number,
            self.value
                .bind(py)
                .repr()
                .map_or_else(|_| "?".into(), |r| r.to_string()),
            self.version,
            self.deleted_at
        )
    }
}

/// One version of the history.
#[pyclass(frozen, module = "clusto._clusto")]
pub struct VersionRow {
    /// The version number.
    #[pyo3(get)]
    pub version: u64,
    /// When it was committed, in microseconds since the epoch (UTC).
    #[pyo3(get)]
    pub timestamp: Option<i64>,
    /// Who committed it.
    #[pyo3(get)]
    pub user: Option<String>,
    /// Why.
    #[pyo3(get)]
    pub description: Option<String>,
}

/// An entity as an [`EntityRow`].
pub fn entity_out<'py>(py: Python<'py>, e: &Entity) -> PyResult<Bound<'py, EntityRow>> {
    TypeNames::default().row(py, e)
}

/// An entity's fields as Python objects: what an [`EntityRow`] holds, and what a driver
/// object's `Entity` is made of.
pub struct Fields<'py> {
    /// The row id.
    pub id: u64,
    /// The name.
    pub name: Bound<'py, PyString>,
    /// The clusto type.
    pub type_name: Bound<'py, PyString>,
    /// The driver name.
    pub driver: Bound<'py, PyString>,
    /// The version that made the row.
    pub version: u64,
    /// The version that deleted it, if one has.
    pub deleted_at: Option<u64>,
}

impl EntityRow {
    /// The row's fields.
    pub fn fields<'py>(&self, py: Python<'py>) -> Fields<'py> {
        Fields {
            id: self.id,
            name: self.name.bind(py).clone(),
            type_name: self.type_name.bind(py).clone(),
            driver: self.driver.bind(py).clone(),
            version: self.version,
            deleted_at: self.deleted_at,
        }
    }
}

/// The Python strings of the type and driver names seen so far: a list of entities
/// names few of them, and sharing one string each saves two allocations per row.
#[derive(Default)]
pub struct TypeNames(Vec<(String, Py<PyString>)>);

impl TypeNames {
    fn text<'py>(&mut self, py: Python<'py>, text: &str) -> Bound<'py, PyString> {
        if let Some((_, known)) = self.0.iter().find(|(t, _)| t == text) {
            return known.bind(py).clone();
        }
        let new = PyString::new(py, text);
        if self.0.len() < 16 {
            self.0.push((text.to_owned(), new.clone().unbind()));
        }
        new
    }

    /// The fields of `e`, its type and driver names shared with the entities before it.
    pub fn fields<'py>(&mut self, py: Python<'py>, e: &Entity) -> Fields<'py> {
        Fields {
            id: e.id.0,
            name: PyString::new(py, &e.name),
            type_name: self.text(py, &e.type_name),
            driver: self.text(py, &e.driver),
            version: e.version,
            deleted_at: e.deleted_at,
        }
    }

    fn row<'py>(&mut self, py: Python<'py>, e: &Entity) -> PyResult<Bound<'py, EntityRow>> {
        let f = self.fields(py, e);
        Bound::new(
            py,
            EntityRow {
                id: f.id,
                name: f.name.unbind(),
                type_name: f.type_name.unbind(),
                driver: f.driver.unbind(),
                version: f.version,
                deleted_at: f.deleted_at,
            },
        )
    }
}

/// An attribute as an [`AttrRow`].
pub fn attr_out<'py>(py: Python<'py>, a: &Attribute) -> PyResult<Bound<'py, AttrRow>> {
    Bound::new(
        py,
        AttrRow {
            id: a.id.0,
            entity_id: a.entity.0,
            key: PyString::new(py, &a.key).unbind(),
            subkey: a.subkey.as_deref().map(|s| PyString::new(py, s).unbind()),
            number: a.number,
            value: value_out(py, &a.value)?,
            version: a.version,
            deleted_at: a.deleted_at,
        },
    )
}

/// Attributes as a list of rows.
pub fn attrs_out(py: Python<'_>, list: &[Attribute]) -> PyResult<Vec<Py<AttrRow>>> {
    list.iter().map(|a| Ok(attr_out(py, a)?.unbind())).collect()
}

/// A version as a [`VersionRow`].
pub fn version_out<'py>(py: Python<'py>, v: &VersionInfo) -> PyResult<Bound<'py, VersionRow>> {
    Bound::new(
        py,
        VersionRow {
            version: v.version,
            timestamp: v.timestamp.map(|t| t.0),
            user: v.user.clone(),
            description: v.description.clone(),
        },
    )
}

/// How the number is matched, from `(mode, number)`: 0 any, 1 NULL, 2 not NULL,
/// 3 exactly `number`.
pub fn number_match(mode: u8, number: i64) -> PyResult<NumberMatch> {
    Ok(match mode {
        0 => NumberMatch::Any,
        1 => NumberMatch::Null,
        2 => NumberMatch::NotNull,
        3 => NumberMatch::Is(number),
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown number mode {other}"
            )));
        }
    })
}

/// How a new attribute is numbered, from `(mode, number)`: 0 none, 1 next, 2 exactly.
pub fn number_spec(mode: u8, number: i64) -> PyResult<NumberSpec> {
    Ok(match mode {
        0 => NumberSpec::None,
        1 => NumberSpec::Next,
        2 => NumberSpec::Exact(number),
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown number mode {other}"
            )));
        }
    })
}

/// An attribute filter, built once in Python and passed to the reads.
#[pyclass(frozen, module = "clusto._clusto")]
pub struct Filter {
    pub inner: AttrFilter,
}

#[pymethods]
impl Filter {
    /// `key` (`None`: any) matched exactly or as a glob; `subkey_mode` 0 any, 1 NULL,
    /// 2 exactly `subkey`, 3 glob; `number_mode` as `number_match`; `value` compared
    /// when `has_value`; hidden keys included when `include_hidden`.
    #[new]
    #[pyo3(signature = (key=None, key_glob=false, subkey_mode=0, subkey=None, number_mode=0, number=0, has_value=false, value=None, include_hidden=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        key: Option<String>,
        key_glob: bool,
        subkey_mode: u8,
        subkey: Option<String>,
        number_mode: u8,
        number: i64,
        has_value: bool,
        value: Option<&Bound<'_, PyAny>>,
        include_hidden: bool,
    ) -> PyResult<Self> {
        let text = |t: String, glob: bool| {
            if glob {
                TextMatch::Glob(t)
            } else {
                TextMatch::Exact(t)
            }
        };
        let subkey = match (subkey_mode, subkey) {
            (0, _) => SubkeyMatch::Any,
            (1, _) => SubkeyMatch::Null,
            (2, Some(s)) => SubkeyMatch::Is(TextMatch::Exact(s)),
            (3, Some(s)) => SubkeyMatch::Is(TextMatch::Glob(s)),
            (mode, _) => return Err(PyValueError::new_err(format!("bad subkey mode {mode}"))),
        };
        let value = match (has_value, value) {
            (false, _) => None,
            (true, None) => Some(Value::Null),
            (true, Some(v)) => Some(value_in(v)?),
        };
        Ok(Filter {
            inner: AttrFilter {
                key: key.map(|k| text(k, key_glob)),
                subkey,
                number: number_match(number_mode, number)?,
                value,
                include_hidden,
            },
        })
    }
}
