//! The native module `clusto._clusto`: the Rust core as seen from Python. It converts
//! values and errors; every rule is the core's. The classic API (drivers, module
//! functions) is the pure-Python package around it.

mod convert;
mod errors;
mod session;
mod wrap;

use pyo3::prelude::*;

/// The Rust side's allocator: sled's write path allocates and frees many small nodes,
/// and the build benchmark ran ~16% faster with mimalloc than with glibc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The native part of the `clusto` package.
#[pymodule]
fn _clusto(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<session::Session>()?;
    m.add_class::<convert::Filter>()?;
    m.add_class::<convert::Relation>()?;
    m.add_class::<convert::Json>()?;
    m.add_class::<convert::Datetime>()?;
    m.add_class::<convert::EntityRow>()?;
    m.add_class::<convert::AttrRow>()?;
    m.add_class::<convert::VersionRow>()?;
    m.add_function(wrap_pyfunction!(session::copy, m)?)?;
    m.add_function(wrap_pyfunction!(session::register_driver, m)?)?;
    m.add_function(wrap_pyfunction!(session::driver_registered, m)?)?;
    m.add_function(wrap_pyfunction!(session::driver_spec, m)?)?;
    m.add_function(wrap_pyfunction!(wrap::use_driver_classes, m)?)?;
    m.add_function(wrap_pyfunction!(wrap::wrap_entity, m)?)?;
    m.add_function(wrap_pyfunction!(wrap::wrap_attrs, m)?)?;
    m.add_function(wrap_pyfunction!(wrap::wrap_attr, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
