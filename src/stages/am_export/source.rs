//! Reading the back-office PostgreSQL tables.
//!
//! Uses the blocking `postgres` client. Metadata rows are read at once (small); `structured_am`
//! rows are streamed through a portal in batches so that only a few texts are in memory at a
//! time; the `parametrization` rows of the selected AMs are read at once (raw text, small). Connection errors never carry the
//! connection string or its password.

use std::collections::HashMap;

use postgres::{Client, GenericClient, NoTls, Transaction};

use super::AmExportError;

/// Tables the export reads.
pub const REQUIRED_TABLES: [&str; 3] = ["am_metadata", "structured_am", "parametrization"];

/// Rows fetched per round trip when streaming texts.
const BATCH_ROWS: i32 = 32;

/// Removes the password (and the whole URL) from an error message.
fn redact(message: &str, database_url: &str) -> String {
    let mut out = message.replace(database_url, "<database url>");
    if let Ok(config) = database_url.parse::<postgres::Config>() {
        if let Some(password) = config.get_password() {
            let password = String::from_utf8_lossy(password).to_string();
            if !password.is_empty() {
                out = out.replace(&password, "<password>");
            }
        }
    }
    out
}

/// Connects; the error says why without echoing the URL.
pub fn connect(database_url: &str) -> Result<Client, AmExportError> {
    let config: postgres::Config =
        database_url
            .parse()
            .map_err(|e: postgres::Error| AmExportError::Connect {
                message: format!(
                    "invalid connection string: {}",
                    redact(&e.to_string(), database_url)
                ),
            })?;
    let hosts = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            postgres::config::Host::Tcp(name) => name.clone(),
            postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect::<Vec<_>>()
        .join(",");
    config.connect(NoTls).map_err(|e| {
        let mut detail = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(inner) = source {
            detail.push_str(": ");
            detail.push_str(&inner.to_string());
            source = inner.source();
        }
        AmExportError::Connect {
            message: format!(
                "cannot connect to PostgreSQL on {hosts}: {}",
                redact(&detail, database_url)
            ),
        }
    })
}

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
