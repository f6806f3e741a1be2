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
    /// How objects are made (see [`plain`]).
    new_slots: NewSlots,
}

/// The `tp_new` slot of a class made in Python, as an address: `object` is
/// `object.__new__`'s C function, which such a class inherits unless it or a base defines
/// `__new__`; `python` the one that runs a `__new__` written in Python.
#[derive(Clone, Copy)]
struct NewSlots {
    object: usize,
    python: usize,
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
) -> PyResult<()> {
    // Two classes made here show the two slots: one without `__new__`, one with its own.
    let probes = fallback.py().eval(
        c"(type('plain', (), {}), type('own_new', (), {'__new__': lambda cls: None}))",
        None,
        None,
    )?;
    let (plain, own_new): (Bound<'_, PyType>, Bound<'_, PyType>) = probes.extract()?;
    // SAFETY: the GIL is held, and both probes are live classes made by `type()`.
    let new_slots = unsafe {
        NewSlots {
            object: slot(plain.as_type_ptr(), ffi::Py_tp_new),
            python: slot(own_new.as_type_ptr(), ffi::Py_tp_new),
        }
    };
    *REGISTERED.write().unwrap_or_else(PoisonError::into_inner) = Some(Registered {
        new_slots,
        entity: entity.unbind(),
        drivers: drivers.unbind(),
        fallback: fallback.unbind(),
    });
    Ok(())
}

/// Whether the type at `class` was made by a `class` statement (or `type()`), not by C
/// code.
///
/// # Safety
/// The GIL is held and `class` points at a live type object.
unsafe fn made_in_python(class: *mut ffi::PyTypeObject) -> bool {
    // SAFETY: as the caller promises.
    unsafe { ffi::PyType_GetFlags(class) & ffi::Py_TPFLAGS_HEAPTYPE != 0 }
}

/// Slot `which` of the type at `class`, as an address.
///
/// # Safety
/// The GIL is held and `class` points at a live type made in Python (see
/// [`made_in_python`]): `PyType_GetSlot` reads the slots of those on every Python version.
unsafe fn slot(class: *mut ffi::PyTypeObject, which: std::ffi::c_int) -> usize {
    // SAFETY: as the caller promises.
    unsafe { ffi::PyType_GetSlot(class, which) as usize }
}

/// The Python classes a driver object is made of.
struct Classes<'py> {
    entity: Bound<'py, PyType>,
    /// Whether `entity` is [`plain`].
    entity_plain: bool,
    drivers: Bound<'py, PyDict>,
    fallback: Bound<'py, PyType>,
    /// The fallback's `__init__`, which does nothing.
    base_init: Bound<'py, PyAny>,
    /// How objects are made (see [`plain`]).
    new_slots: NewSlots,
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
        let (entity, drivers, fallback, new_slots) = {
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
                r.new_slots,
            )
        };
        let base_init = fallback.getattr(intern!(py, "__init__"))?;
        Ok(Classes {
            entity_plain: plain(&entity, new_slots),
            entity,
            drivers,
            fallback,
            base_init,
            new_slots,
            seen: RefCell::new(Vec::new()),
        })
    }

    /// What making an object of driver class `class` needs, worked out once per class
    /// and call.
    fn facts(&self, class: &Bound<'py, PyType>) -> PyResult<ClassFacts> {
        if let Some((_, facts)) = self.seen.borrow().iter().find(|(c, _)| c.is(class)) {
            return Ok(*facts);
        }
        let facts = ClassFacts {
            plain: plain(class, self.new_slots),
            own_init: !class
                .getattr(intern!(class.py(), "__init__"))?
                .is(&self.base_init),
        };
        self.seen.borrow_mut().push((class.clone(), facts));
        Ok(facts)
    }

    /// `Driver(Entity(row))`: an `Entity` with the row's fields in its slots, in the
    /// class registered for the row's driver (the fallback when none is).
    fn driver(&self, row: Fields<'py>) -> PyResult<Bound<'py, PyAny>> {
        let py = self.entity.py();
        let entity = fill(
            new_object(&self.entity, self.entity_plain)?,
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
        let facts = self.facts(&class)?;
        let driver = new_object(&class, facts.plain)?;
        set(&driver, intern!(py, "_entity"), &entity)?;
        // `Driver(entity)` runs the class's `__init__` after `__new__`: a custom driver's
        // own one still runs.
        if facts.own_init {
            driver.call_method1(intern!(py, "__init__"), (&entity,))?;
        }
        Ok(driver)
    }
}

/// Whether `object.__new__(class)` would do no more than call the class's allocator, as
/// CPython decides it: past the classes whose `__new__` is written in Python, the first
/// base must make its objects with `object.__new__`'s own function (not a builtin's or a
/// native class's), and the class must not be abstract. Only such a class is allocated
/// directly; `object.__new__` refuses the others, as it always did. C slots rather than
/// attribute lookups: this runs for every class of every call, `get_by_name`'s included.
fn plain(class: &Bound<'_, PyType>, slots: NewSlots) -> bool {
    let object = class.py().get_type::<PyAny>().as_type_ptr();
    // SAFETY: the GIL is held and `class` is a live type object.
    if unsafe { ffi::PyType_GetFlags(class.as_type_ptr()) } & ffi::Py_TPFLAGS_IS_ABSTRACT != 0 {
        return false;
    }
    // Each base is held by the class below it, so every pointer stays live.
    let mut at = class.as_type_ptr();
    loop {
        if at == object {
            return true;
        }
        // SAFETY: the GIL is held and `at` is `class` or one of its bases, all live; the
        // slots are read only once `made_in_python` has passed.
        unsafe {
            // A base made in C other than `object`: left to `object.__new__` to judge.
            if !made_in_python(at) {
                return false;
            }
            match slot(at, ffi::Py_tp_new) {
                new if new == slots.object => return true,
                new if new == slots.python => at = slot(at, ffi::Py_tp_base) as *mut _,
                _ => return false,
            }
        }
        if at.is_null() {
            return false;
        }
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
fn new_object<'py>(class: &Bound<'py, PyType>, plain: bool) -> PyResult<Bound<'py, PyAny>> {
    if plain {
        allocate(class)
    } else {
        let py = class.py();
        py.get_type::<PyAny>()
            .getattr(intern!(py, "__new__"))?
            .call1((class,))
    }
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
        new_object(&class.class, class.plain)?,
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
    let class = AttrClass::new(cls);
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
    attribute(&AttrClass::new(cls), &row)
}

/// The `Attribute` class, and how its objects are made.
struct AttrClass<'py> {
    class: Bound<'py, PyType>,
    plain: bool,
}

impl<'py> AttrClass<'py> {
    fn new(class: Bound<'py, PyType>) -> Self {
        let registered = REGISTERED.read().unwrap_or_else(PoisonError::into_inner);
        // Without registered classes (never, once the package is imported), every
        // attribute goes through `object.__new__`.
        let plain = registered
            .as_ref()
            .is_some_and(|r| plain(&class, r.new_slots));
        AttrClass { class, plain }
    }
}
