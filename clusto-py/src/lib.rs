//! The native module `clusto._clusto`: the Rust core as seen from Python.

use pyo3::exceptions::{PyLookupError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use clusto_core::{Clusto, Error};

pyo3::create_exception!(_clusto, ClustoError, pyo3::exceptions::PyException);

fn to_py(e: Error) -> PyErr {
    match e {
        Error::NotFound(m) => PyLookupError::new_err(m),
        Error::InvalidName(m) | Error::InvalidValue(m) => PyValueError::new_err(m),
        Error::Io(m) => PyRuntimeError::new_err(m),
        other => ClustoError::new_err(other.to_string()),
    }
}

/// An open clusto database.
#[pyclass(frozen, module = "clusto._clusto")]
struct Database {
    db: Clusto,
}

#[pymethods]
impl Database {
    /// Opens (creating if needed) the database a DSN names: a path or sled:///path.
    #[new]
    fn new(py: Python<'_>, dsn: &str) -> PyResult<Self> {
        let path = clusto_core::dsn::database_path(dsn).map_err(to_py)?;
        let db = py.detach(|| Clusto::open(path)).map_err(to_py)?;
        Ok(Database { db })
    }

    /// The newest committed version.
    fn latest_version(&self, py: Python<'_>) -> PyResult<u64> {
        py.detach(|| self.db.latest_version()).map_err(to_py)
    }

    /// The problems the integrity check finds (an empty list when clean).
    fn check(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        py.detach(|| self.db.check())
            .map(|r| r.problems)
            .map_err(to_py)
    }
}

/// The native part of the `clusto` package.
#[pymodule]
fn _clusto(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Database>()?;
    m.add("ClustoError", m.py().get_type::<ClustoError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
