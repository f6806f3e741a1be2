//! Python objects for native rows, made natively: what the Python layer's
//! `Driver(Entity(row))` and `Attribute(row)` make, without running Python code for each
//! row. A pool's contents of 1000 members spent two thirds of its time there.
//!
//! The classes come from `clusto.drivers.base`, which registers them once
//! ([`use_driver_classes`]); the session's queries return driver objects made here.

use std::cell::RefCell;
use std::sync::{PoisonError, RwLock};

use pyo3::exceptions::PyRuntimeError;
use pyo3::ffi;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyType};

use clusto_core::Entity;

use crate::convert::{AttrRow, EntityRow, Fields, TypeNames};

/// The classes of driver objects, as [`use_driver_classes`] registered them.
struct Registered {
    entity: Py<PyType>,
    drivers: Py<PyDict>,
    fallback: Py<PyType>,
}

static REGISTERED: RwLock<Option<Registered>> = RwLock::new(None);

/// Registers the classes driver objects are made of: `entity` (the `Entity` class),
/// `drivers` (the registry of driver classes by driver name, read at each use, so
/// classes defined later count) and `fallback` (the class of a driver not in it).
#[pyfunction]
pub fn use_driver_classes(
    entity: Bound<'_, PyType>,
    drivers: Bound<'_, PyDict>,
    fallback: Bound<'_, PyType>,
) {
    *REGISTERED.write().unwrap_or_else(PoisonError::into_inner) = Some(Registered {
        entity: entity.unbind(),
        drivers: drivers.unbind(),
        fallback: fallback.unbind(),
    });
}

/// The Python classes a driver object is made of.
struct Classes<'py> {
    entity: Bound<'py, PyType>,
    drivers: Bound<'py, PyDict>,
    fallback: Bound<'py, PyType>,
    /// The fallback's `__init__`, which does nothing.
    base_init: Bound<'py, PyAny>,
    /// Classes seen, and whether they have an `__init__` of their own.
    own_init: RefCell<Vec<(usize, bool)>>,
}

impl<'py> Classes<'py> {
    /// The registered classes.
    fn registered(py: Python<'py>) -> PyResult<Self> {
        let registered = REGISTERED.read().unwrap_or_else(PoisonError::into_inner);
        let Some(r) = registered.as_ref() else {
            return Err(PyRuntimeError::new_err(
                "no driver classes are registered: import clusto.drivers first",
            ));
        };
        let entity = r.entity.bind(py).clone();
        let drivers = r.drivers.bind(py).clone();
        let fallback = r.fallback.bind(py).clone();
        let base_init = fallback.getattr(intern!(py, "__init__"))?;
        Ok(Classes {
            entity,
            drivers,
            fallback,
            base_init,
            own_init: RefCell::new(Vec::new()),
        })
    }

    /// `Driver(Entity(row))`: an `Entity` with the row's fields in its slots, in the
    /// class registered for the row's driver (the fallback when none is).
    fn driver(&self, row: Fields<'py>) -> PyResult<Bound<'py, PyAny>> {
        let py = self.entity.py();
        let entity = instance(
            &self.entity,
            [
                (
                    intern!(py, "entity_id"),
                    row.id.into_pyobject(py)?.into_any(),
                ),
                (intern!(py, "name"), row.name.into_any()),
                (intern!(py, "type"), row.type_name.into_any()),
                (intern!(py, "driver"), row.driver.clone().into_any()),
                (
                    intern!(py, "version"),
                    row.version.into_pyobject(py)?.into_any(),
                ),
                (
                    intern!(py, "deleted_at_version"),
                    row.deleted_at.into_pyobject(py)?,
                ),
            ],
        )?;
        untrack(&entity);
        let class = match self.drivers.get_item(&row.driver)? {
            Some(class) => class,
            None => self.fallback.clone().into_any(),
        };
        let driver = allocate(class.cast::<PyType>()?)?;
        set(&driver, intern!(py, "_entity"), &entity)?;
        // `Driver(entity)` runs the class's `__init__` after `__new__`: a custom driver's
        // own one still runs.
        if self.has_own_init(&class)? {
            driver.call_method1(intern!(py, "__init__"), (&entity,))?;
        }
        Ok(driver)
    }

    /// Whether `class` has an `__init__` other than the fallback's.
    fn has_own_init(&self, class: &Bound<'py, PyAny>) -> PyResult<bool> {
        let key = class.as_ptr() as usize;
        if let Some(&(_, own)) = self.own_init.borrow().iter().find(|(k, _)| *k == key) {
            return Ok(own);
        }
        let own = !class
            .getattr(intern!(class.py(), "__init__"))?
            .is(&self.base_init);
        self.own_init.borrow_mut().push((key, own));
        Ok(own)
    }
}

/// Takes an `Entity` off the cyclic garbage collector's list: it refuses attribute writes
/// and holds only strings and integers, so it can never be part of a cycle, and the
/// collector's passes over a query's thousands of new entities cost a sixth of the call.
fn untrack(entity: &Bound<'_, PyAny>) {
    // SAFETY: the GIL is held (a `Bound` proves it) and the object is live; only an
    // object of a type with the collector's header is untracked, and untracking one that
    // is not tracked does nothing.
    unsafe {
        if ffi::PyType_IS_GC(ffi::Py_TYPE(entity.as_ptr())) != 0 {
            ffi::PyObject_GC_UnTrack(entity.as_ptr().cast());
        }
    }
}

/// A new, empty instance of `class`, as `object.__new__(class)` makes it: allocated by
/// the class, without running its own `__new__` or `__init__`. Called directly rather
/// than through `object.__new__`, which built an argument tuple and checked it for each
/// of a query's thousands of objects.
fn allocate<'py>(class: &Bound<'py, PyType>) -> PyResult<Bound<'py, PyAny>> {
    // SAFETY: the GIL is held (a `Bound` proves it) and `class` is a live type object;
    // `PyType_GenericNew` ignores its argument pointers and calls the type's `tp_alloc`.
    unsafe {
        let made = ffi::PyType_GenericNew(
            class.as_type_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        );
        Bound::from_owned_ptr_or_err(class.py(), made)
    }
}

/// An instance of `class` (see [`allocate`]), with `fields` set as `object.__setattr__`
/// sets them.
fn instance<'py, const N: usize>(
    class: &Bound<'py, PyType>,
    fields: [(&Bound<'py, PyString>, Bound<'py, PyAny>); N],
) -> PyResult<Bound<'py, PyAny>> {
    let made = allocate(class)?;
    for (name, value) in &fields {
        set(&made, name, value)?;
    }
    Ok(made)
}

/// `object.__setattr__(obj, name, value)`: past a class's own `__setattr__` (`Entity`
/// and `Driver` refuse attribute writes), into the slot or the instance dict.
fn set(
    obj: &Bound<'_, PyAny>,
    name: &Bound<'_, PyString>,
    value: &Bound<'_, PyAny>,
) -> PyResult<()> {
    // SAFETY: the three pointers are live objects held by the bound references, and the
    // GIL is held (a `Bound` proves it).
    let status =
        unsafe { ffi::PyObject_GenericSetAttr(obj.as_ptr(), name.as_ptr(), value.as_ptr()) };
    if status < 0 {
        Err(PyErr::fetch(obj.py()))
    } else {
        Ok(())
    }
}

/// The driver objects of `rows`, in order: `Driver(Entity(row))` for each, of the
/// registered classes.
#[pyfunction]
pub fn wrap_entities<'py>(
    py: Python<'py>,
    rows: Vec<PyRef<'py, EntityRow>>,
) -> PyResult<Bound<'py, PyList>> {
    let classes = Classes::registered(py)?;
    let out = PyList::empty(py);
    for row in &rows {
        out.append(classes.driver(row.fields(py))?)?;
    }
    Ok(out)
}

/// The driver object of one row: `Driver(Entity(row))`, as [`wrap_entities`] makes it.
#[pyfunction]
pub fn wrap_entity<'py>(row: PyRef<'py, EntityRow>) -> PyResult<Bound<'py, PyAny>> {
    let py = row.py();
    Classes::registered(py)?.driver(row.fields(py))
}

/// The driver objects of core entities, in order, as [`wrap_entities`] makes them,
/// without a row object for each.
pub fn drivers_out<'py>(py: Python<'py>, list: &[Entity]) -> PyResult<Bound<'py, PyList>> {
    let classes = Classes::registered(py)?;
    let mut names = TypeNames::default();
    let out = PyList::empty(py);
    for e in list {
        out.append(classes.driver(names.fields(py, e))?)?;
    }
    Ok(out)
}

/// The driver object of one core entity, as [`drivers_out`] makes it.
pub fn driver_out<'py>(py: Python<'py>, e: &Entity) -> PyResult<Bound<'py, PyAny>> {
    Classes::registered(py)?.driver(TypeNames::default().fields(py, e))
}

/// `Attribute(row)`: an instance of `class` (the `Attribute` class) with the row's
/// fields in its slots.
fn attribute<'py>(class: &Bound<'py, PyType>, row: &AttrRow) -> PyResult<Bound<'py, PyAny>> {
    let py = class.py();
    instance(
        class,
        [
            (intern!(py, "attr_id"), row.id.into_pyobject(py)?.into_any()),
            (
                intern!(py, "entity_id"),
                row.entity_id.into_pyobject(py)?.into_any(),
            ),
            (intern!(py, "key"), row.key.bind(py).clone().into_any()),
            (intern!(py, "subkey"), (&row.subkey).into_pyobject(py)?),
            (intern!(py, "number"), row.number.into_pyobject(py)?),
            (intern!(py, "_raw"), row.value.bind(py).clone()),
            (
                intern!(py, "version"),
                row.version.into_pyobject(py)?.into_any(),
            ),
            (
                intern!(py, "deleted_at_version"),
                row.deleted_at.into_pyobject(py)?,
            ),
        ],
    )
}

/// `Attribute(row)` for each of `rows`, in order; `cls` is the `Attribute` class.
#[pyfunction]
pub fn wrap_attrs<'py>(
    rows: Vec<PyRef<'py, AttrRow>>,
    cls: Bound<'py, PyType>,
) -> PyResult<Bound<'py, PyList>> {
    let py = cls.py();
    let out = PyList::empty(py);
    for row in &rows {
        out.append(attribute(&cls, row)?)?;
    }
    Ok(out)
}

/// `Attribute(row)` for one row, as [`wrap_attrs`] makes it.
#[pyfunction]
pub fn wrap_attr<'py>(
    row: PyRef<'py, AttrRow>,
    cls: Bound<'py, PyType>,
) -> PyResult<Bound<'py, PyAny>> {
    attribute(&cls, &row)
}
