//! Reading sqlx's PostgreSQL rows through the shared mappers of `store/rows.rs`. Ids and
//! flags decode PostgreSQL's native `uuid` and `boolean`; everything else is stored as on
//! SQLite (`bigint` milliseconds, `bytea` hashes, JSON `text`).

use keyward_core::store::StoreResult;
use sqlx::postgres::PgRow;
use sqlx::Row;
use uuid::Uuid;

use super::error::map_err;
use crate::store::rows::Columns;

impl Columns for PgRow {
    fn text(&self, column: &str) -> StoreResult<Option<String>> {
        self.try_get(column).map_err(map_err)
    }
    fn int(&self, column: &str) -> StoreResult<Option<i64>> {
        self.try_get(column).map_err(map_err)
    }
    fn blob(&self, column: &str) -> StoreResult<Option<Vec<u8>>> {
        self.try_get(column).map_err(map_err)
    }
    fn id(&self, column: &str) -> StoreResult<Option<Uuid>> {
        self.try_get(column).map_err(map_err)
    }
    fn flag(&self, column: &str) -> StoreResult<bool> {
        let flag: Option<bool> = self.try_get(column).map_err(map_err)?;
        Ok(flag.unwrap_or(false))
    }
}
