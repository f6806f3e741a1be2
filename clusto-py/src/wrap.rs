//! Python objects for native rows, made natively: what the Python layer's
//! `Driver(Entity(row))` and `Attribute(row)` make, without running Python code for each
//! row. A pool's contents of 1000 members spent two thirds of its time there.

use std::cell::RefCell;

use pyo3::ffi;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyType};

use crate::convert::{AttrRow, EntityRow};

/// The Python classes a driver object is made of, and `object.__new__`.
struct Classes<'py> {
    entity: Bound<'py, PyType>,
    drivers: Bound<'py, PyDict>,
    fallback: Bound<'py, PyType>,
    new: Bound<'py, PyAny>,
    /// The fallback's `__init__`, which does nothing.
    base_init: Bound<'py, PyAny>,
    /// Classes seen, and whether they have an `__init__` of their own.
    own_init: RefCell<Vec<(usize, bool)>>,
}

impl<'py> Classes<'py> {
    fn new(
        entity: Bound<'py, PyType>,
        drivers: Bound<'py, PyDict>,
        fallback: Bound<'py, PyType>,
    ) -> PyResult<Self> {
        let py = entity.py();
        let new = object_new(py)?;
        let base_init = fallback.getattr(intern!(py, "__init__"))?;
        Ok(Classes {
            entity,
            drivers,
            fallback,
            new,
            base_init,
            own_init: RefCell::new(Vec::new()),
        })
    }

    /// `Driver(Entity(row))`: an `Entity` with the row's fields in its slots, in the
    /// class registered for the row's driver (the fallback when none is).
    fn driver(&self, row: &EntityRow) -> PyResult<Bound<'py, PyAny>> {
        let py = self.entity.py();
        let entity = instance(
            &self.new,
            &self.entity,
            [
                (
                    intern!(py, "entity_id"),
                    row.id.into_pyobject(py)?.into_any(),
                ),
                (intern!(py, "name"), row.name.bind(py).clone().into_any()),
                (
                    intern!(py, "type"),
                    row.type_name.bind(py).clone().into_any(),
                ),
                (
                    intern!(py, "driver"),
                    row.driver.bind(py).clone().into_any(),
                ),
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
        let class = match self.drivers.get_item(row.driver.bind(py))? {
            Some(class) => class,
            None => self.fallback.clone().into_any(),
        };
        let driver = self.new.call1((&class,))?;
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

/// `object.__new__`, which makes an instance without running a class's own `__new__`.
fn object_new(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    py.get_type::<PyAny>().getattr(intern!(py, "__new__"))
}

/// An instance of `class` made by `new` (`object.__new__`), with `fields` set as
/// `object.__setattr__` sets them.
fn instance<'py, const N: usize>(
    new: &Bound<'py, PyAny>,
    class: &Bound<'py, PyType>,
    fields: [(&Bound<'py, PyString>, Bound<'py, PyAny>); N],
) -> PyResult<Bound<'py, PyAny>> {
    let made = new.call1((class,))?;
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

/// The driver objects of `rows`, in order: `Driver(Entity(row))` for each. `entity` is
/// the `Entity` class, `drivers` the registry of driver classes by driver name,
/// `fallback` the class of a driver not in it.
#[pyfunction]
pub fn wrap_entities<'py>(
    rows: Vec<PyRef<'py, EntityRow>>,
    entity: Bound<'py, PyType>,
    drivers: Bound<'py, PyDict>,
    fallback: Bound<'py, PyType>,
) -> PyResult<Bound<'py, PyList>> {
    let py = entity.py();
    let classes = Classes::new(entity, drivers, fallback)?;
    let out = PyList::empty(py);
    for row in &rows {
        out.append(classes.driver(row)?)?;
    }
    Ok(out)
}

/// The driver object of one row: `Driver(Entity(row))`, as [`wrap_entities`] makes it.
#[pyfunction]
pub fn wrap_entity<'py>(
    row: PyRef<'py, EntityRow>,
    entity: Bound<'py, PyType>,
    drivers: Bound<'py, PyDict>,
    fallback: Bound<'py, PyType>,
) -> PyResult<Bound<'py, PyAny>> {
    Classes::new(entity, drivers, fallback)?.driver(&row)
}

/// `Attribute(row)`: an instance of `class` (the `Attribute` class) with the row's
/// fields in its slots.
fn attribute<'py>(
    new: &Bound<'py, PyAny>,
    class: &Bound<'py, PyType>,
    row: &AttrRow,
) -> PyResult<Bound<'py, PyAny>> {
    let py = class.py();
    instance(
        new,
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
    let new = object_new(py)?;
    let out = PyList::empty(py);
    for row in &rows {
        out.append(attribute(&new, &cls, row)?)?;
    }
    Ok(out)
}

/// `Attribute(row)` for one row, as [`wrap_attrs`] makes it.
#[pyfunction]
pub fn wrap_attr<'py>(
    row: PyRef<'py, AttrRow>,
    cls: Bound<'py, PyType>,
) -> PyResult<Bound<'py, PyAny>> {
    attribute(&object_new(cls.py())?, &cls, &row)
}
