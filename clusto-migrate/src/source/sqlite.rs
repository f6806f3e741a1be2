//! SQLite sources: the file is opened read-only.

use std::path::Path;

use clusto_core::{Error, Result};
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags};

use super::{Cell, Dialect, Reader};

/// A SQLite file of the original, open read-only.
pub(crate) struct Sqlite {
    conn: Connection,
    name: String,
}

fn sql(e: rusqlite::Error) -> Error {
    Error::InvalidValue(format!("reading the source database: {e}"))
}

impl Sqlite {
    /// Opens `path` read-only; a missing file is [`Error::NotFound`].
    pub(crate) fn open(path: &Path) -> Result<Self> {
        if !path.exists() {
            return Err(Error::NotFound(format!(
                "source database {} does not exist",
                path.display()
            )));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sql)?;
        Ok(Sqlite {
            conn,
            name: path.display().to_string(),
        })
    }
}

impl Reader for Sqlite {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn query(
        &mut self,
        sql_text: &str,
        each: &mut dyn FnMut(Vec<Cell>) -> Result<()>,
    ) -> Result<()> {
        let mut stmt = self.conn.prepare(sql_text).map_err(sql)?;
        let width = stmt.column_count();
        let mut rows = stmt.query([]).map_err(sql)?;
        while let Some(row) = rows.next().map_err(sql)? {
            let mut cells = Vec::with_capacity(width);
            for i in 0..width {
                cells.push(match row.get::<_, Value>(i).map_err(sql)? {
                    Value::Null => Cell::Null,
                    Value::Integer(i) => Cell::Int(i),
                    Value::Text(t) => Cell::Text(t),
                    Value::Real(r) => Cell::Other(format!("the real number {r}")),
                    Value::Blob(b) => Cell::Other(format!("a blob of {} bytes", b.len())),
                });
            }
            each(cells)?;
        }
        Ok(())
    }
}
