//! Bulk writes: binary `COPY` into a `TEMP` staging table, then one set-based statement.
//!
//! [`upsert`] stages a batch, keeps the newest staged row per conflict key (`DISTINCT ON`, the
//! last one written wins — PostgreSQL refuses an upsert that hits one row twice), then runs
//! `INSERT … SELECT … ON CONFLICT … DO UPDATE SET … [WHERE …]` into the target. Everything happens
//! in the caller's transaction, so a batch commits together with whatever else the caller writes
//! (a checkpoint, a watermark, counters). Row triggers of the target fire as for plain inserts.
//! [`copy_in`] is the plain binary `COPY` into a table (a fresh table being filled).
//! [`prepare_shared_stage`] + [`copy_in`] on one connection and [`upsert_staged`] on another
//! split the two halves, so a batch's COPY (where the server parses it) overlaps the previous
//! batch's upsert.
//!
//! The staging table mirrors the target's column types (`CREATE TEMP TABLE … AS SELECT … WITH NO
//! DATA`), is created once per connection and emptied at commit. [`JsonbText`] sends JSON text the
//! caller already holds as `jsonb` without re-serialising it.

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{IsNull, ToSql, Type};
use postgres::Transaction;

use super::{ident, PgError};

/// One upsert target.
#[derive(Debug, Clone)]
pub struct Upsert<'a> {
    /// Qualified, quoted table name (`"schema"."table"`, see [`ident`]).
    pub table: &'a str,
    /// Columns sent by the caller, in the order of the values.
    pub columns: &'a [&'a str],
    /// Columns the batch is de-duplicated on (usually those of the conflict target).
    pub key: &'a [&'a str],
    /// Conflict target: `ON CONSTRAINT name` or `(col, …)`.
    pub conflict: &'a str,
    /// The `DO UPDATE SET` list (`item = EXCLUDED.item, …`); empty → `DO NOTHING`.
    pub set: &'a str,
    /// Optional `WHERE` of the update (e.g. only when strictly newer).
    pub only_if: Option<&'a str>,
    /// Columns computed on insert rather than sent: `(column, SQL expression)`.
    pub computed: &'a [(&'a str, &'a str)],
}

impl<'a> Upsert<'a> {
    /// The common case: `columns` into `table`, de-duplicated on `key`, `conflict` updating
    /// `set` unconditionally, nothing computed on insert.
    pub fn new(
        table: &'a str,
        columns: &'a [&'a str],
        key: &'a [&'a str],
        conflict: &'a str,
        set: &'a str,
    ) -> Upsert<'a> {
        Upsert {
            table,
            columns,
            key,
            conflict,
            set,
            only_if: None,
            computed: &[],
        }
    }
}

fn stage_name(table: &str) -> String {
    let clean: String = table
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    ident(&format!("stage_{}", clean.trim_matches('_')))
}

fn column_list(columns: &[&str]) -> String {
    columns
        .iter()
        .map(|c| ident(c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Receives one row's values, in column order: `|row, emit| emit(&[&row.id, &JsonbText(&row.item)])`.
pub type Emit<'e> = dyn FnMut(&[&(dyn ToSql + Sync)]) -> Result<(), postgres::Error> + 'e;

/// Stages `rows` with `COPY` (`fields` emits each row's values) and upserts them; returns the
/// number of rows inserted or updated.
pub fn upsert<T>(
    tx: &mut Transaction<'_>,
    spec: &Upsert<'_>,
    rows: &[T],
    fields: impl Fn(&T, &mut Emit<'_>) -> Result<(), postgres::Error>,
) -> Result<u64, PgError> {
    if rows.is_empty() {
        return Ok(0);
    }
    let stage = stage_name(spec.table);
    let cols = column_list(spec.columns);
    tx.batch_execute(&format!(
        "CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS SELECT {cols} FROM {table} WITH NO DATA;
         ALTER TABLE {stage} ADD COLUMN IF NOT EXISTS _seq bigserial;
         TRUNCATE {stage};",
        table = spec.table
    ))
    .map_err(|e| PgError::query(format!("staging table for {}", spec.table), e))?;
    copy_rows(tx, &stage, spec.columns, rows, &fields)?;
    insert_from(tx, spec, &stage)
}

/// `INSERT … SELECT` from `stage` (newest staged row per key) `ON CONFLICT …` into the target.
fn insert_from(tx: &mut Transaction<'_>, spec: &Upsert<'_>, stage: &str) -> Result<u64, PgError> {
    let cols = column_list(spec.columns);
    let key = column_list(spec.key);
    let mut insert_cols = cols.clone();
    let mut select_cols = cols.clone();
    for (col, expr) in spec.computed {
        insert_cols.push_str(&format!(", {}", ident(col)));
        select_cols.push_str(&format!(", {expr}"));
    }
    let action = if spec.set.is_empty() {
        "DO NOTHING".to_string()
    } else {
        let mut a = format!("DO UPDATE SET {}", spec.set);
        if let Some(w) = spec.only_if {
            a.push_str(&format!(" WHERE {w}"));
        }
        a
    };
    let sql = format!(
        "INSERT INTO {table} ({insert_cols})
         SELECT {select_cols} FROM (SELECT DISTINCT ON ({key}) * FROM {stage} ORDER BY {key}, _seq DESC) s
         ON CONFLICT {conflict} {action}",
        table = spec.table,
        conflict = spec.conflict,
    );
    tx.execute(&sql, &[])
        .map_err(|e| PgError::query(format!("upsert into {}", spec.table), e))
}

/// Creates (if missing) and empties `name` (qualified, quoted): an `UNLOGGED` staging table with
/// `spec`'s columns that *another* connection fills with [`copy_in`] and commits, so that the
/// parsing of a batch (COPY) overlaps the upsert of the previous one ([`upsert_staged`]).
pub fn prepare_shared_stage(
    client: &mut impl postgres::GenericClient,
    spec: &Upsert<'_>,
    name: &str,
) -> Result<(), PgError> {
    let cols = column_list(spec.columns);
    client
        .batch_execute(&format!(
            "CREATE UNLOGGED TABLE IF NOT EXISTS {name} AS SELECT {cols} FROM {table} WITH NO DATA;
             ALTER TABLE {name} ADD COLUMN IF NOT EXISTS _seq bigserial;
             TRUNCATE {name};",
            table = spec.table
        ))
        .map_err(|e| PgError::query(format!("shared staging table for {}", spec.table), e))
}

/// Upserts the rows a shared stage holds (see [`upsert`]) and empties it, in the caller's
/// transaction.
pub fn upsert_staged(
    tx: &mut Transaction<'_>,
    spec: &Upsert<'_>,
    stage: &str,
) -> Result<u64, PgError> {
    let n = insert_from(tx, spec, stage)?;
    tx.batch_execute(&format!("TRUNCATE {stage}"))
        .map_err(|e| PgError::query(format!("empty {stage}"), e))?;
    Ok(n)
}

/// Binary `COPY` of `rows` into `table` (quoted, qualified) `columns`; returns the row count.
pub fn copy_in<T>(
    tx: &mut Transaction<'_>,
    table: &str,
    columns: &[&str],
    rows: &[T],
    fields: impl Fn(&T, &mut Emit<'_>) -> Result<(), postgres::Error>,
) -> Result<u64, PgError> {
    copy_rows(tx, table, columns, rows, &fields)
}

/// Binary `COPY` of rows produced one at a time (read back from a spill file, say: memory
/// holds one row); returns the row count.
pub fn copy_in_iter<T>(
    tx: &mut Transaction<'_>,
    table: &str,
    columns: &[&str],
    rows: impl IntoIterator<Item = T>,
    fields: impl Fn(&T, &mut Emit<'_>) -> Result<(), postgres::Error>,
) -> Result<u64, PgError> {
    copy_rows(tx, table, columns, rows, &fields)
}

fn copy_rows<T, R: std::borrow::Borrow<T>>(
    tx: &mut Transaction<'_>,
    table: &str,
    columns: &[&str],
    rows: impl IntoIterator<Item = R>,
    fields: &impl Fn(&T, &mut Emit<'_>) -> Result<(), postgres::Error>,
) -> Result<u64, PgError> {
    let cols = column_list(columns);
    let types: Vec<Type> = tx
        .prepare(&format!("SELECT {cols} FROM {table} LIMIT 0"))
        .map_err(|e| PgError::query(format!("columns of {table}"), e))?
        .columns()
        .iter()
        .map(|c| c.type_().clone())
        .collect();
    let sink = tx
        .copy_in(&format!("COPY {table} ({cols}) FROM STDIN (FORMAT binary)"))
        .map_err(|e| PgError::query(format!("COPY into {table}"), e))?;
    let mut writer = BinaryCopyInWriter::new(sink, &types);
    {
        let mut emit = |values: &[&(dyn ToSql + Sync)]| writer.write(values);
        for row in rows {
            fields(std::borrow::Borrow::<T>::borrow(&row), &mut emit)
                .map_err(|e| PgError::query(format!("COPY into {table}"), e))?;
        }
    }
    writer
        .finish()
        .map_err(|e| PgError::query(format!("COPY into {table}"), e))
}

/// JSON text sent as `jsonb` (or `json`) as is: the server parses and validates it.
#[derive(Debug, Clone, Copy)]
pub struct JsonbText<'a>(pub &'a str);

impl ToSql for JsonbText<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        if *ty == Type::JSONB {
            out.extend_from_slice(&[1]); // jsonb binary format version
        }
        out.extend_from_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSONB || *ty == Type::JSON
    }

    postgres::types::to_sql_checked!();
}

/// A UUID given as its 16 bytes, sent as `uuid` (no text round trip).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UuidBytes(pub [u8; 16]);

impl ToSql for UuidBytes {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(&self.0);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::UUID
    }

    postgres::types::to_sql_checked!();
}
