//! Géorisques documents (docs/formats.md §5.2): the dump's documents joined with their
//! type labels, sorted, and filtered per dataset by the installations of that dataset.
//!
//! The join is a left join on `type_id_document = id` in document order: an unknown (or missing)
//! type id gives a missing type, a duplicated type id duplicates the document, like pandas'
//! `merge`. The sort is by `s3ic_id` asc, `date` desc, `url` asc (text order, missing last for
//! every key) and stable with respect to the dump's order — the original's first, unstable sort
//! by `s3ic_id` only decided the order of rows equal on all three keys (Deviation, formats §11
//! #6: we use the dump's order). Nothing here fails except a dump file that cannot be read as CSV.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use super::ApsError;
use crate::tabular::{read_table, CsvWriter, Header, Table};

/// Columns of `documents_*.csv`.
pub const COLUMNS: [&str; 5] = ["date", "type", "description", "url", "s3ic_id"];

const DOC_COLUMNS: [&str; 6] = [
    "id_document",
    "code_s3ic",
    "type_id_document",
    "nom",
    "url_document",
    "date_document",
];
const TYPE_COLUMNS: [&str; 2] = ["id", "type"];

/// One joined document; every field borrows from the dump and is `None` when missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Document<'a> {
    pub date: Option<&'a str>,
    pub doc_type: Option<&'a str>,
    pub description: Option<&'a str>,
    pub url: Option<&'a str>,
    pub s3ic_id: Option<&'a str>,
}

/// The two dump files, parsed.
pub struct DumpTables {
    pub documents: Table,
    pub types: Table,
}

impl DumpTables {
    pub fn parse(documents: &[u8], types: &[u8]) -> Result<DumpTables, ApsError> {
        let documents = read_table(
            super::dump::DOCUMENTS,
            documents,
            b';',
            Header::Names(&DOC_COLUMNS),
        )?;
        let types = read_table(
            super::dump::TYPES,
            types,
            b';',
            Header::Names(&TYPE_COLUMNS),
        )?;
        Ok(DumpTables { documents, types })
    }

    /// The left join, in dump order (docs/formats.md §5.2).
    pub fn join(&self) -> Vec<Document<'_>> {
        let mut labels: HashMap<Option<&str>, Vec<Option<&str>>> = HashMap::new();
        for t in &self.types.rows {
            labels.entry(t.get(0)).or_default().push(t.get(1));
        }
        let mut out = Vec::with_capacity(self.documents.rows.len());
        for r in &self.documents.rows {
            let doc = |doc_type| Document {
                date: r.get(5),
                doc_type,
                description: r.get(3),
                url: r.get(4),
                s3ic_id: r.get(1),
            };
            match labels.get(&r.get(2)) {
                Some(types) => out.extend(types.iter().map(|t| doc(*t))),
                None => out.push(doc(None)),
            }
        }
        out
    }
}

/// Ascending text order, missing last.
fn asc(a: Option<&str>, b: Option<&str>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.cmp(b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Descending text order, missing still last.
fn desc(a: Option<&str>, b: Option<&str>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => b.cmp(a),
        _ => asc(a, b),
    }
}

/// Sorts by `s3ic_id` asc, `date` desc, `url` asc, missing last, stable (docs/formats.md §5.2).
pub fn sort(docs: &mut [Document<'_>]) {
    docs.sort_by(|a, b| {
        asc(a.s3ic_id, b.s3ic_id)
            .then_with(|| desc(a.date, b.date))
            .then_with(|| asc(a.url, b.url))
    });
}

/// The documents of one dataset: those whose installation is in `ids`, order kept.
pub fn filter<'a>(sorted: &[Document<'a>], ids: &HashSet<&str>) -> Vec<Document<'a>> {
    sorted
        .iter()
        .filter(|d| d.s3ic_id.is_some_and(|s| ids.contains(s)))
        .copied()
        .collect()
}

/// `documents_<ds>.csv`.
pub fn to_csv(docs: &[Document<'_>]) -> Vec<u8> {
    let mut w = CsvWriter::with_header(&COLUMNS);
    for d in docs {
        w.write_row([d.date, d.doc_type, d.description, d.url, d.s3ic_id]);
    }
    w.into_bytes()
}

/// The `s3ic_id` column of an `installations_<ds>.csv` file.
pub fn installation_ids(table: &Table) -> Result<HashSet<&str>, ApsError> {
    let col = table.column("s3ic_id")?;
    Ok(table.rows.iter().filter_map(|r| r.get(col)).collect())
}
