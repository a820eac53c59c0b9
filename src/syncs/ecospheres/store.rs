//! The load (docs/syncs/ecospheres.md §1): the rows computed during the read wait in an anonymous
//! temporary file ([`Spill`], so memory stays flat and the database transaction lasts seconds, not
//! the hours a CKAN walk can take), then [`publish`] replaces `<schema>.datasets` in **one
//! transaction**: `CREATE TABLE datasets_new` (the fixed DDL), binary `COPY`, its primary key, the
//! `max_shrink` check against the current row count, `DROP TABLE datasets`, rename, `SELECT`
//! granted again to every role that had it, and with `--keep-history` today's snapshot in
//! `datasets_history`.
//!
//! What can fail: the spill file (disk full), any statement (a view depending on `datasets`
//! blocks the drop, a reader holding the table past `lock_timeout`, a dropped connection) — the
//! transaction is then rolled back and the current table is untouched; a shrink past
//! `max_shrink` is refused the same way ([`LoadError::Shrink`]).

use std::io::{BufReader, BufWriter, Read, Seek, Write};
use std::time::Duration;

use rustc_hash::FxHashSet;

use super::columns::{self, Row, COLUMNS};
use crate::pg::{bulk, ident, Client, PgError};

/// What can stop the load.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("temporary row file")]
    Spill(#[from] std::io::Error),
    #[error(transparent)]
    Db(#[from] PgError),
    #[error("refused to replace {table}: the catalogue gives {new} rows, fewer than max_shrink {max_shrink} × its {current} rows (table kept as it was)")]
    Shrink {
        table: String,
        new: u64,
        current: i64,
        max_shrink: f64,
    },
}

/// Rows written aside, in the order they were computed.
pub struct Spill {
    out: BufWriter<std::fs::File>,
    rows: u32,
}

fn put_str(out: &mut impl Write, s: &str) -> std::io::Result<()> {
    out.write_all(&(s.len() as u32).to_le_bytes())?;
    out.write_all(s.as_bytes())
}

fn put_opt(out: &mut impl Write, s: &Option<String>) -> std::io::Result<()> {
    match s {
        Some(s) => put_str(out, s),
        None => out.write_all(&u32::MAX.to_le_bytes()),
    }
}

fn get_u32(input: &mut impl Read) -> std::io::Result<u32> {
    let mut b = [0u8; 4];
    input.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
}

fn get_opt(input: &mut impl Read) -> std::io::Result<Option<String>> {
    let len = get_u32(input)?;
    if len == u32::MAX {
        return Ok(None);
    }
    let mut buf = vec![0u8; len as usize];
    input.read_exact(&mut buf)?;
    String::from_utf8(buf)
        .map(Some)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

impl Spill {
    /// An anonymous temporary file (removed by the system when closed).
    pub fn new() -> std::io::Result<Spill> {
        Ok(Spill {
            out: BufWriter::with_capacity(1 << 20, tempfile::tempfile()?),
            rows: 0,
        })
    }

    /// Appends a row; returns its position.
    pub fn push(&mut self, row: &Row) -> std::io::Result<u32> {
        let o = &mut self.out;
        put_str(o, &row.dataset)?;
        for s in [
            &row.title,
            &row.description,
            &row.modification,
            &row.right_statement,
            &row.themes,
            &row.key_words,
            &row.creator,
            &row.rights_holder,
            &row.contact_point,
            &row.status,
            &row.catalog,
            &row.licenses,
        ] {
            put_opt(o, s)?;
        }
        o.write_all(&row.percantage_filling.to_le_bytes())?;
        for s in [
            &row.univers,
            &row.commune,
            &row.departement,
            &row.geo_coverage,
        ] {
            put_opt(o, s)?;
        }
        o.write_all(&[row.right_statement_processed as u8])?;
        self.rows += 1;
        Ok(self.rows - 1)
    }

    pub fn len(&self) -> u32 {
        self.rows
    }

    /// Reads the rows back, leaving out the positions in `skip`.
    pub fn reader(self, skip: FxHashSet<u32>) -> std::io::Result<SpillReader> {
        let mut file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.rewind()?;
        Ok(SpillReader {
            input: BufReader::with_capacity(1 << 20, file),
            left: self.rows,
            at: 0,
            skip,
            error: None,
        })
    }
}

/// The rows of a [`Spill`], in order; a read error ends the iteration and is kept in `error`.
pub struct SpillReader {
    input: BufReader<std::fs::File>,
    left: u32,
    at: u32,
    skip: FxHashSet<u32>,
    pub error: Option<std::io::Error>,
}

impl SpillReader {
    fn read_row(&mut self) -> std::io::Result<Row> {
        let i = &mut self.input;
        let dataset = get_opt(i)?.unwrap_or_default();
        let mut t = Vec::with_capacity(12);
        for _ in 0..12 {
            t.push(get_opt(i)?);
        }
        let mut f = [0u8; 8];
        i.read_exact(&mut f)?;
        let mut g = Vec::with_capacity(4);
        for _ in 0..4 {
            g.push(get_opt(i)?);
        }
        let mut b = [0u8; 1];
        i.read_exact(&mut b)?;
        let mut t = t.into_iter();
        let mut g = g.into_iter();
        let mut n = || t.next().flatten();
        Ok(Row {
            dataset,
            title: n(),
            description: n(),
            modification: n(),
            right_statement: n(),
            themes: n(),
            key_words: n(),
            creator: n(),
            rights_holder: n(),
            contact_point: n(),
            status: n(),
            catalog: n(),
            licenses: n(),
            percantage_filling: f64::from_le_bytes(f),
            univers: g.next().flatten(),
            commune: g.next().flatten(),
            departement: g.next().flatten(),
            geo_coverage: g.next().flatten(),
            right_statement_processed: b[0] != 0,
        })
    }
}

impl Iterator for SpillReader {
    type Item = Row;

    fn next(&mut self) -> Option<Row> {
        while self.left > 0 && self.error.is_none() {
            self.left -= 1;
            let at = self.at;
            self.at += 1;
            match self.read_row() {
                Ok(row) if !self.skip.contains(&at) => return Some(row),
                Ok(_) => {}
                Err(e) => self.error = Some(e),
            }
        }
        None
    }
}

/// The tables' DDL: `datasets_history` (created by the schema setup when `--keep-history`).
pub fn history_ddl(schema: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {s}.datasets_history (\n  snapshot_date date NOT NULL,\n  {cols},\n  PRIMARY KEY (snapshot_date, dataset)\n)",
        s = ident(schema),
        cols = columns::ddl()
    )
}

/// How to publish.
#[derive(Debug, Clone)]
pub struct Publish<'a> {
    pub schema: &'a str,
    pub max_shrink: f64,
    pub keep_history: bool,
    pub lock_timeout: Duration,
}

/// What the swap did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Published {
    pub rows: u64,
    /// Rows of the table replaced (`None`: there was none).
    pub previous: Option<i64>,
    /// Datasets of the replaced table that are gone (`None` when it could not be compared).
    pub gone: Option<i64>,
    /// Roles `SELECT` was granted to again.
    pub grantees: Vec<String>,
    pub history_rows: Option<u64>,
}

/// Replaces `<schema>.datasets` with the rows of `rows` (see the module doc).
pub fn publish(
    client: &mut Client,
    opts: &Publish<'_>,
    mut rows: SpillReader,
) -> Result<Published, LoadError> {
    let s = ident(opts.schema);
    let table = format!("{}.datasets", opts.schema);
    let q = |what: &str, e: crate::pg::DbError| PgError::query(format!("{table}: {what}"), e);
    let mut tx = client.transaction().map_err(|e| q("begin", e))?;
    tx.batch_execute(&format!(
        "SET LOCAL lock_timeout = '{}ms';
         DROP TABLE IF EXISTS {s}.datasets_new;
         CREATE TABLE {s}.datasets_new (\n  {cols}\n)",
        opts.lock_timeout.as_millis().max(1),
        cols = columns::ddl()
    ))
    .map_err(|e| q("create datasets_new", e))?;
    let copied = bulk::copy_in_iter(
        &mut tx,
        &format!("{s}.datasets_new"),
        &COLUMNS,
        &mut rows,
        |r: &Row, emit| {
            emit(&[
                &r.dataset,
                &r.title,
                &r.description,
                &r.modification,
                &r.right_statement,
                &r.themes,
                &r.key_words,
                &r.creator,
                &r.rights_holder,
                &r.contact_point,
                &r.status,
                &r.catalog,
                &r.licenses,
                &r.percantage_filling,
                &r.univers,
                &r.commune,
                &r.departement,
                &r.geo_coverage,
                &r.right_statement_processed,
            ])
        },
    )?;
    if let Some(e) = rows.error.take() {
        return Err(LoadError::Spill(e));
    }
    // Built once over the loaded rows (a sort), not row by row during the COPY.
    tx.batch_execute(&format!(
        "ALTER TABLE {s}.datasets_new ADD CONSTRAINT datasets_new_pkey PRIMARY KEY (dataset)"
    ))
    .map_err(|e| q("primary key of datasets_new", e))?;
    let regclass = format!("{s}.datasets");
    let exists: bool = tx
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&regclass])
        .map_err(|e| q("look up", e))?
        .get(0);
    let mut out = Published {
        rows: copied,
        ..Published::default()
    };
    if exists {
        let current: i64 = tx
            .query_one(&format!("SELECT count(*) FROM {s}.datasets"), &[])
            .map_err(|e| q("count", e))?
            .get(0);
        out.previous = Some(current);
        if (copied as f64) < opts.max_shrink * current as f64 {
            return Err(LoadError::Shrink {
                table,
                new: copied,
                current,
                max_shrink: opts.max_shrink,
            });
        }
        out.grantees = tx
            .query(
                "SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END
                 FROM pg_class c
                 CROSS JOIN LATERAL aclexplode(c.relacl) a
                 LEFT JOIN pg_roles r ON r.oid = a.grantee
                 WHERE c.oid = to_regclass($1) AND a.privilege_type = 'SELECT' AND a.grantee <> c.relowner
                 ORDER BY 1",
                &[&regclass],
            )
            .map_err(|e| q("read grants", e))?
            .iter()
            .map(|r| r.get(0))
            .collect();
        // The old table may come from the original ETL (inferred column types): compare in a
        // savepoint so that an unexpected shape only loses the count.
        let mut sp = tx.savepoint("gone").map_err(|e| q("savepoint", e))?;
        out.gone = match sp.query_one(
            &format!(
                "SELECT count(*) FROM {s}.datasets o WHERE NOT EXISTS
                 (SELECT 1 FROM {s}.datasets_new n WHERE n.dataset = o.dataset::text)"
            ),
            &[],
        ) {
            Ok(r) => {
                sp.commit().map_err(|e| q("release savepoint", e))?;
                Some(r.get(0))
            }
            Err(e) => {
                tracing::warn!(
                    "cannot compare with the current {table}: {}",
                    crate::outcome::error_chain(&crate::pg::DriverError::from(e))
                );
                sp.rollback().map_err(|e| q("rollback savepoint", e))?;
                None
            }
        };
        tx.batch_execute(&format!("DROP TABLE {s}.datasets"))
            .map_err(|e| q("drop the current table", e))?;
    }
    tx.batch_execute(&format!(
        "ALTER TABLE {s}.datasets_new RENAME TO datasets;
         ALTER INDEX {s}.datasets_new_pkey RENAME TO datasets_pkey"
    ))
    .map_err(|e| q("rename datasets_new", e))?;
    for role in &out.grantees {
        // `role` is `PUBLIC` or quoted by the server (quote_ident).
        tx.batch_execute(&format!("GRANT SELECT ON {s}.datasets TO {role}"))
            .map_err(|e| q(&format!("grant SELECT to {role}"), e))?;
    }
    if opts.keep_history {
        let cols = COLUMNS.map(ident).join(", ");
        tx.execute(
            &format!("DELETE FROM {s}.datasets_history WHERE snapshot_date = current_date"),
            &[],
        )
        .map_err(|e| q("clear today's history", e))?;
        let n = tx
            .execute(
                &format!(
                    "INSERT INTO {s}.datasets_history (snapshot_date, {cols})
                     SELECT current_date, {cols} FROM {s}.datasets"
                ),
                &[],
            )
            .map_err(|e| q("append to datasets_history", e))?;
        out.history_rows = Some(n);
    }
    tx.commit().map_err(|e| q("commit", e))?;
    Ok(out)
}
