//! `[ecospheres]`: the settings of the ecospheres sync (docs/syncs/ecospheres.md §4). Secrets (the
//! database URL, S3 keys) come from the environment only; what can be checked without the network
//! is checked by [`EcospheresConfig::validate`] (schema name, shrink ratio, source scheme, delays).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::ConfigError;

/// Where the catalogue is read when neither `--source`, `ecospheres.source` nor the legacy
/// `BUCKET_NAME` says otherwise (the original's hand-uploaded dump).
pub const DEFAULT_SOURCE: &str = "s3://projet-ecolab-action-qualite/DUMP_INTEGRATION_JSON/";

/// What to do with a page that cannot be read (truncated, not JSON, an HTML error page…).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum OnBadPage {
    /// The run stops, nothing is published (exit 2).
    #[default]
    Fail,
    /// The page is named in the summary, the rest is published (exit 1).
    Skip,
}

/// The `[ecospheres]` section.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EcospheresConfig {
    /// `s3://bucket/prefix/` or `file://folder/` (every object whose name contains `.json`), or
    /// the CKAN export's first page `https://…/dcat/catalog/jsonld?page=1` (follows
    /// `hydra:nextPage`). Unset: `s3://$BUCKET_NAME/DUMP_INTEGRATION_JSON/` when the legacy
    /// `BUCKET_NAME` is set, else [`DEFAULT_SOURCE`].
    pub source: Option<String>,
    /// Schema of the `datasets` (and `datasets_history`) tables.
    pub schema: String,
    pub on_bad_page: OnBadPage,
    /// Refuse the swap when the new table would hold fewer than `max_shrink` × the current rows.
    pub max_shrink: f64,
    /// Whole-request timeout of one catalogue page (CKAN needs 30–40 s a page).
    #[serde(with = "crate::config::duration")]
    pub http_timeout: Duration,
    /// First retry delay of a page (doubled at each retry, with jitter, capped at 300 s).
    #[serde(with = "crate::config::duration")]
    pub retry_delay: Duration,
    /// Retries of a page after the first attempt (timeouts, resets, 429, 5xx, non-JSON bodies).
    pub max_retry: u32,
    /// Longest the swap waits for readers of the current table (`lock_timeout`) before failing.
    #[serde(with = "crate::config::duration")]
    pub lock_timeout: Duration,
    /// Pages read at once from an object store.
    pub parallel_pages: usize,
    /// Safety stop when following `hydra:nextPage` links.
    pub max_pages: u32,
}

impl Default for EcospheresConfig {
    fn default() -> Self {
        Self {
            source: None,
            schema: "public".into(),
            on_bad_page: OnBadPage::Fail,
            max_shrink: 0.5,
            http_timeout: Duration::from_secs(180),
            retry_delay: Duration::from_secs(5),
            max_retry: 5,
            lock_timeout: Duration::from_secs(300),
            parallel_pages: 4,
            max_pages: 100_000,
        }
    }
}

impl EcospheresConfig {
    /// Checks what can be checked without the network.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, reason: String| ConfigError::Invalid {
            key: format!("ecospheres.{key}"),
            reason,
        };
        crate::config::check_schema("ecospheres.schema", &self.schema)?;
        if !(0.0..=1.0).contains(&self.max_shrink) {
            return Err(invalid(
                "max_shrink",
                format!("{} is outside 0..=1", self.max_shrink),
            ));
        }
        if self.http_timeout.is_zero() {
            return Err(invalid("http_timeout", "must be positive".into()));
        }
        if self.parallel_pages == 0 || self.parallel_pages > 64 {
            return Err(invalid(
                "parallel_pages",
                format!("{} is outside 1..=64", self.parallel_pages),
            ));
        }
        if self.max_pages == 0 {
            return Err(invalid("max_pages", "must be at least 1".into()));
        }
        if let Some(source) = &self.source {
            super::remote::SourceUrl::parse(source)
                .map_err(|e| invalid("source", e.to_string()))?;
        }
        Ok(())
    }
}
