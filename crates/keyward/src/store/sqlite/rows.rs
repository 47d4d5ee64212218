//! What only SQLite stores its own way: ids as hyphenated text, and reading sqlx's SQLite
//! rows through the shared mappers of `store/rows.rs`.

use keyward_core::store::StoreResult;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use uuid::fmt::Hyphenated;
use uuid::Uuid;

use super::error::map_err;
use crate::store::rows::Columns;

/// Ids are stored as hyphenated text so that they read well in the `sqlite3` shell; v7 ids
/// still sort by creation time as text, which the listing cursor relies on.
pub(crate) fn id(value: Uuid) -> Hyphenated {
    value.hyphenated()
}

pub(crate) fn opt_id(value: Option<Uuid>) -> Option<Hyphenated> {
    value.map(Uuid::hyphenated)
}

/// Ids and flags use the trait's defaults: SQLite has neither a uuid nor a boolean type.
impl Columns for SqliteRow {
    fn text(&self, column: &str) -> StoreResult<Option<String>> {
        self.try_get(column).map_err(map_err)
    }
    fn int(&self, column: &str) -> StoreResult<Option<i64>> {
        self.try_get(column).map_err(map_err)
    }
    fn blob(&self, column: &str) -> StoreResult<Option<Vec<u8>>> {
        self.try_get(column).map_err(map_err)
    }
}
