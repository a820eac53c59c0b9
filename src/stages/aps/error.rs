//! Errors of the `aps` task. Each names the file and, where there is one, the line, the
//! installation or document id and the offending value. All are fatal: nothing is published.

use crate::fetch::http::HttpError;
use crate::settings::ConfigError;
use crate::storage::StorageError;
use crate::tabular::TabularError;

#[derive(Debug, thiserror::Error)]
pub enum ApsError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot download the Géorisques dump")]
    Download(#[from] HttpError),
    #[error("Géorisques dump: {0}")]
    Archive(String),
    #[error("Géorisques dump: unsafe member {member:?}: {reason}; the archive is rejected")]
    UnsafeMember { member: String, reason: String },
    #[error("Géorisques dump: larger than {max_mib} MiB{} (raise sources.max_source_mib, DATA_TASKS_SOURCES_MAX_SOURCE_MIB, if the dump really is that big)", if *.decompressed { " once decompressed" } else { "" })]
    TooLarge { max_mib: u64, decompressed: bool },
    #[error("Géorisques dump: member {0} is missing from the archive")]
    MissingMember(&'static str),
    #[error(transparent)]
    Tabular(#[from] TabularError),
    #[error("{file} line {line}: invalid document type {value:?} (document {url}); expected one of the Géorisques document types")]
    InvalidType {
        file: String,
        line: u64,
        value: String,
        url: String,
    },
    #[error("{file} line {line}: invalid date {value:?} (document {url}); expected YYYY-MM-DD")]
    InvalidDate {
        file: String,
        line: u64,
        value: String,
        url: String,
    },
    #[error("{file} has {rows} {what}, fewer than the required {min}: inputs too small or truncated, nothing published")]
    TooFew {
        file: String,
        what: &'static str,
        rows: usize,
        min: usize,
    },
    #[error("{file} line {line}: {reason} (georisques_id {georisques_id:?}, installation {s3ic_id:?}); nothing published")]
    Invalid {
        file: String,
        line: u64,
        reason: String,
        georisques_id: String,
        s3ic_id: String,
    },
    /// Same message as the original's `ValueError`.
    #[error("Only {ratio}% of APs have been successfully OCR'ed. (nothing published)")]
    LowOcrRatio { ratio: String },
    #[error("cannot list the ap store")]
    Listing(#[source] StorageError),
    #[error("cannot read the previous {key} from misc")]
    Previous {
        key: &'static str,
        source: StorageError,
    },
    #[error("cannot read {key} from misc (run `data-tasks installations` first)")]
    Installations { key: String, source: StorageError },
    #[error("cannot publish")]
    Storage(#[from] StorageError),
}
