//! `[sources]` (where inputs come from) and `[http]` (the default HTTP policy every stage's
//! client starts from).

use serde::{Deserialize, Serialize};

/// Where the inputs come from. `SRC` values are local paths, http(s) URLs or storage URLs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SourcesConfig {
    /// The Géorisques documents dump (tar.gz). Not public: no default.
    pub georisques_dump: Option<String>,
    /// Base URL of the AP PDFs; `<id>.pdf` is appended.
    pub ap_pdf_base: String,
    /// S3IC installations extraction (`s3ic-liste-etablissements.csv`).
    pub s3ic: Option<String>,
    /// S3IC rubriques extraction (`sic-liste-rubriques.csv`).
    pub rubriques: Option<String>,
    /// Largest content accepted from any source once decompressed, in MiB (the Géorisques dump
    /// and both S3IC extractions). The default is four times the largest real input (the
    /// rubriques extraction: ≈ 120 MB for a million rows); `installations` reads its two sources
    /// at once, so a run holds at most twice this.
    pub max_source_mib: u64,
}

impl Default for SourcesConfig {
    fn default() -> Self {
        Self {
            georisques_dump: None,
            ap_pdf_base:
                "http://documents.installationsclassees.developpement-durable.gouv.fr/commun/"
                    .into(),
            s3ic: None,
            rubriques: None,
            max_source_mib: 512,
        }
    }
}

/// The default HTTP policy (stages with their own section override it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    pub connect_timeout_s: u64,
    /// Whole-request timeout for small requests (PDFs, Slack).
    pub timeout_s: u64,
    /// Whole-request timeout for the Géorisques dump.
    pub dump_timeout_s: u64,
    /// Attempts after the first one on timeouts, resets, 5xx and 429.
    pub retries: u32,
    /// First backoff delay in milliseconds (doubled at each retry, with jitter).
    pub backoff_ms: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            connect_timeout_s: 10,
            timeout_s: 120,
            dump_timeout_s: 1800,
            retries: 4,
            backoff_ms: 500,
        }
    }
}
