//! `[sources]`: where inputs come from (the default HTTP policy, `[http]`, is
//! `crate::settings::HttpConfig`).

use serde::{Deserialize, Serialize};

use crate::settings::ConfigError;

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

impl SourcesConfig {
    /// The Géorisques dump URL, or the error that tells the operator which variable to set.
    pub fn georisques_dump(&self) -> Result<&str, ConfigError> {
        self.georisques_dump
            .as_deref()
            .ok_or_else(|| ConfigError::Missing {
                key: "sources.georisques_dump".into(),
                hint: "set DATA_TASKS_SOURCES_GEORISQUES_DUMP (the dump's URL is not public)"
                    .into(),
            })
    }
}
