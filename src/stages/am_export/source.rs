//! Reading the back-office PostgreSQL tables.
//!
//! Uses the blocking client of [`crate::pg`] (which opens the connection, with TLS by `sslmode`).
//! Metadata rows are read at once (small); `structured_am` rows are streamed through a portal in
//! batches so that only a few texts are in memory at a time; the `parametrization` rows of the
//! selected AMs are read at once (raw text, small).

use std::collections::HashMap;

use crate::pg::{Client, GenericClient, Transaction};

use super::AmExportError;

/// Tables the export reads.
pub const REQUIRED_TABLES: [&str; 3] = ["am_metadata", "structured_am", "parametrization"];

/// Rows fetched per round trip when streaming texts.
const BATCH_ROWS: i32 = 32;

/// Fails with `MissingTable` for the first required table that does not exist.
pub fn check_tables(client: &mut Client) -> Result<(), AmExportError> {
    for table in REQUIRED_TABLES {
        let row = client.query_one("SELECT to_regclass($1)::text", &[&table])?;
        let found: Option<String> = row.get(0);
        if found.is_none() {
            return Err(AmExportError::MissingTable {
                table: table.to_string(),
            });
        }
    }
    Ok(())
}

/// `(am_id, data)` of every `am_metadata` row, ordered by id.
pub fn load_metadata_rows(
    client: &mut impl GenericClient,
) -> Result<Vec<(String, Option<String>)>, AmExportError> {
    let rows = client.query("SELECT am_id, data FROM am_metadata ORDER BY am_id", &[])?;
    Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// The raw `parametrization` rows of the given AMs (`None` data for a NULL column).
pub fn load_parametrizations(
    client: &mut impl GenericClient,
    ids: &[String],
) -> Result<HashMap<String, Option<String>>, AmExportError> {
    let rows = client.query(
        "SELECT am_id, data FROM parametrization WHERE am_id = ANY($1)",
        &[&ids],
    )?;
    Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Streams the `structured_am` rows whose `am_id` is in `ids`, ordered by id, calling `each`
/// with `(am_id, data)` until it returns `false`.
pub fn stream_structured<F>(
    tx: &mut Transaction<'_>,
    ids: &[String],
    mut each: F,
) -> Result<(), AmExportError>
where
    F: FnMut(String, Option<String>) -> Result<bool, AmExportError>,
{
    let portal = tx.bind(
        "SELECT am_id, data FROM structured_am WHERE am_id = ANY($1) ORDER BY am_id",
        &[&ids],
    )?;
    loop {
        let rows = tx.query_portal(&portal, BATCH_ROWS)?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            if !each(row.get(0), row.get(1))? {
                return Ok(());
            }
        }
    }
    Ok(())
}
