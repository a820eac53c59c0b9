//! Idempotent schema setup: a list of statements (`CREATE … IF NOT EXISTS`, `ALTER … ADD COLUMN IF
//! NOT EXISTS`, …) run in one transaction, serialised across processes by a transaction advisory
//! lock (two `init-db` at once would otherwise race on the catalog). Either every statement is
//! applied or none is.

use postgres::GenericClient;

use super::PgError;

/// Runs `statements` in one transaction; `what` names the schema in errors.
pub fn apply(
    client: &mut impl GenericClient,
    what: &str,
    statements: &[String],
) -> Result<(), PgError> {
    let mut tx = client
        .transaction()
        .map_err(|e| PgError::query(format!("{what}: begin"), e))?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext('data-tasks:schema'))",
        &[],
    )
    .map_err(|e| PgError::query(format!("{what}: schema lock"), e))?;
    for sql in statements {
        tx.batch_execute(sql).map_err(|e| {
            let first_line = sql
                .trim()
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(120)
                .collect::<String>();
            PgError::query(format!("{what}: {first_line}"), e)
        })?;
    }
    tx.commit()
        .map_err(|e| PgError::query(format!("{what}: commit"), e))
}

/// Whether `schema.table` exists.
pub fn table_exists(
    client: &mut impl GenericClient,
    schema: &str,
    table: &str,
) -> Result<bool, PgError> {
    let row = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2)",
            &[&schema, &table],
        )
        .map_err(|e| PgError::query(format!("look up {schema}.{table}"), e))?;
    Ok(row.get(0))
}
