//! Errors of the `installations` task. Each names the file and, where there is one, the line,
//! the installation and the offending value. All are fatal: nothing is published.

use crate::fetch::FetchError;
use crate::storage::StorageError;
use crate::tabular::TabularError;

#[derive(Debug, thiserror::Error)]
pub enum InstallationsError {
    #[error("cannot read source")]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Tabular(#[from] TabularError),
    #[error("{file} line {line}: invalid date {value:?} in column {column} (installation {s3ic_id}); expected YYYY-MM-DD")]
    InvalidDate {
        file: String,
        line: u64,
        column: &'static str,
        value: String,
        s3ic_id: String,
    },
    #[error("{file} line {line}: invalid {column} {value:?} (installation {s3ic_id}); expected one of {expected}")]
    InvalidValue {
        file: String,
        line: u64,
        column: &'static str,
        value: String,
        s3ic_id: String,
        expected: String,
    },
    #[error("classements: row of installation {s3ic_id} (line {line}) has rubrique {rubrique:?} / rubrique_acte {rubrique_acte:?} starting with 47 but is not masked as 47xx")]
    Unmasked47 {
        line: u64,
        s3ic_id: String,
        rubrique: String,
        rubrique_acte: String,
    },
    #[error("{dataset} has {rows} rows, fewer than the required {min}: inputs too small or truncated, nothing published")]
    TooFew {
        dataset: &'static str,
        rows: usize,
        min: usize,
    },
    #[error("cannot publish")]
    Storage(#[from] StorageError),
}
