//! Python objects for native rows, made natively: what the Python layer's
//! `Driver(Entity(row))` and `Attribute(row)` make, without running Python code for each
//! row. A pool's contents of 1000 members spent two thirds of its time there.
//!
//! The classes come from `clusto.drivers.base`, which registers them once
//! ([`use_driver_classes`]); the session's queries return driver objects made here.

use std::cell::RefCell;
use std::sync::{PoisonError, RwLock};

use pyo3::exceptions::{PyRuntimeError, PyTypeError};
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
    /// `object.__new__`.
    object_new: Bound<'py, PyAny>,
    /// Classes seen (held, so no other class can take their address), with what they
    /// need.
    seen: RefCell<Vec<(Bound<'py, PyType>, ClassFacts)>>,
}

/// What making an object of a class needs.
#[derive(Clone, Copy)]
struct ClassFacts {
    /// Whether `object.__new__` would only call the class's allocator (see [`plain`]).
    plain: bool,
    /// Whether it has an `__init__` other than the fallback's.
    own_init: bool,
}

impl<'py> Classes<'py> {
    /// The registered classes.
    fn registered(py: Python<'py>) -> PyResult<Self> {
        // The lock is let go before any Python code runs: that code may release the GIL.
        let (entity, drivers, fallback) = {
            let registered = REGISTERED.read().unwrap_or_else(PoisonError::into_inner);
            let Some(r) = registered.as_ref() else {
                return Err(PyRuntimeError::new_err(
                    "no driver classes are registered: import clusto.drivers first",
                ));
            };
            (
                r.entity.bind(py).clone(),
                r.drivers.bind(py).clone(),
                r.fallback.bind(py).clone(),
            )
        };
        let base_init = fallback.getattr(intern!(py, "__init__"))?;
        Ok(Classes {
            entity,
            drivers,
            fallback,
            base_init,
            object_new: object_new(py)?,
            seen: RefCell::new(Vec::new()),
        })
    }

    /// What making an object of `class` needs, worked out once per class and call.
    fn facts(&self, class: &Bound<'py, PyType>) -> PyResult<ClassFacts> {
        if let Some((_, facts)) = self.seen.borrow().iter().find(|(c, _)| c.is(class)) {
            return Ok(*facts);
        }
        let facts = ClassFacts {
            plain: plain(class, &self.object_new)?,
            own_init: !class
                .getattr(intern!(class.py(), "__init__"))?
                .is(&self.base_init),
        };
        self.seen.borrow_mut().push((class.clone(), facts));
        Ok(facts)
    }

    /// A new, empty object of `class`, as `object.__new__(class)` makes it.
    fn new_object(&self, class: &Bound<'py, PyType>) -> PyResult<Bound<'py, PyAny>> {
        new_object(class, self.facts(class)?.plain, &self.object_new)
    }

    /// `Driver(Entity(row))`: an `Entity` with the row's fields in its slots, in the
    /// class registered for the row's driver (the fallback when none is).
    fn driver(&self, row: Fields<'py>) -> PyResult<Bound<'py, PyAny>> {
        let py = self.entity.py();
        let entity = fill(
            self.new_object(&self.entity)?,
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
            Some(class) => class.cast_into::<PyType>().map_err(|e| {
                PyTypeError::new_err(format!(
                    "the driver registered for {:?} is not a class: {}",
                    row.driver.to_string(),
                    e.into_inner()
                        .repr()
                        .map_or_else(|_| "?".into(), |r| r.to_string())
                ))
            })?,
            None => self.fallback.clone(),
        };
        let driver = self.new_object(&class)?;
        set(&driver, intern!(py, "_entity"), &entity)?;
        // `Driver(entity)` runs the class's `__init__` after `__new__`: a custom driver's
        // own one still runs.
        if self.facts(&class)?.own_init {
            driver.call_method1(intern!(py, "__init__"), (&entity,))?;
        }
        Ok(driver)
    }
}

/// Whether `object.__new__(class)` would do no more than call the class's allocator: no
/// base class makes its objects in a `__new__` of its own (a builtin such as `dict`, or a
/// native class), and the class is not abstract. Only such a class is allocated
/// directly; `object.__new__` refuses the others, as it always did.
fn plain(class: &Bound<'_, PyType>, object_new: &Bound<'_, PyAny>) -> PyResult<bool> {
    let py = class.py();
    if !class.getattr(intern!(py, "__new__"))?.is(object_new) {
        return Ok(false);
    }
    match class.getattr_opt(intern!(py, "__abstractmethods__"))? {
        Some(methods) => Ok(!methods.is_truthy()?),
        None => Ok(true),
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

/// A new, empty object of `class`, as `object.__new__(class)` makes it: allocated
/// directly when the class is [`plain`], else by `object.__new__` itself.
fn new_object<'py>(
    class: &Bound<'py, PyType>,
    plain: bool,
    object_new: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    if plain {
        allocate(class)
    } else {
        object_new.call1((class,))
    }
}

/// `object.__new__`, for the classes [`plain`] does not pass.
fn object_new(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    py.get_type::<PyAny>().getattr(intern!(py, "__new__"))
}

/// A new, empty instance of a [`plain`] class, as `object.__new__(class)` makes it:
/// allocated by the class, without running its own `__new__` or `__init__`. Called
/// directly rather than through `object.__new__`, which built an argument tuple and
/// checked it for each of a query's thousands of objects.
fn allocate<'py>(class: &Bound<'py, PyType>) -> PyResult<Bound<'py, PyAny>> {
    // SAFETY: the GIL is held (a `Bound` proves it) and `class` is a live type object
    // whose objects need nothing but its allocator (`plain`, checked by every caller);
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

/// `made` with `fields` set as `object.__setattr__` sets them.
fn fill<'py, const N: usize>(
    made: Bound<'py, PyAny>,
    fields: [(&Bound<'py, PyString>, Bound<'py, PyAny>); N],
) -> PyResult<Bound<'py, PyAny>> {
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

/// The driver object of one row: `Driver(Entity(row))`, of the registered classes.
#[pyfunction]
pub fn wrap_entity<'py>(row: PyRef<'py, EntityRow>) -> PyResult<Bound<'py, PyAny>> {
    let py = row.py();
    Classes::registered(py)?.driver(row.fields(py))
}

/// The driver objects of core entities, in order, as [`wrap_entity`] makes them, without
/// a row object for each.
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
fn attribute<'py>(class: &AttrClass<'py>, row: &AttrRow) -> PyResult<Bound<'py, PyAny>> {
    let py = class.class.py();
    fill(
        new_object(&class.class, class.plain, &class.object_new)?,
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
    let class = AttrClass::new(cls)?;
    let out = PyList::empty(py);
    for row in &rows {
        out.append(attribute(&class, row)?)?;
    }
    Ok(out)
}

/// `Attribute(row)` for one row, as [`wrap_attrs`] makes it.
#[pyfunction]
pub fn wrap_attr<'py>(
    row: PyRef<'py, AttrRow>,
    cls: Bound<'py, PyType>,
) -> PyResult<Bound<'py, PyAny>> {
    attribute(&AttrClass::new(cls)?, &row)
}

/// The `Attribute` class, and how its objects are made.
struct AttrClass<'py> {
    class: Bound<'py, PyType>,
    plain: bool,
    object_new: Bound<'py, PyAny>,
}

impl<'py> AttrClass<'py> {
    fn new(class: Bound<'py, PyType>) -> PyResult<Self> {
        let object_new = object_new(class.py())?;
        Ok(AttrClass {
            plain: plain(&class, &object_new)?,
            class,
            object_new,
        })
    }
}
