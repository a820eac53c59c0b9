//! `[ecospheres]`: the settings of the ecospheres sync (docs/syncs/ecospheres.md §4). Secrets (the
//! database URL, S3 keys) come from the environment only; what can be checked without the network
//! is checked by [`EcospheresConfig::validate`] (schema name, shrink ratio, source scheme, delays).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::settings::ConfigError;
use crate::syncs::http::{HttpBlock, HttpSettings};

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
    /// `[ecospheres.http]`: timeouts, size cap (also of a page read from a store) and retries
    /// ([`HttpSettings`]).
    #[serde(deserialize_with = "crate::syncs::http::block::<_, EcospheresConfig>")]
    pub http: HttpSettings,
    /// Longest a run may last before it stops itself (`failed`, nothing published).
    #[serde(with = "crate::settings::duration")]
    pub max_run: Duration,
    /// Longest the swap waits for readers of the current table (`lock_timeout`) before failing.
    #[serde(with = "crate::settings::duration")]
    pub lock_timeout: Duration,
    /// Pages read at once from an object store.
    pub parallel_pages: usize,
    /// Safety stop when following `hydra:nextPage` links.
    pub max_pages: u32,
}

/// `[ecospheres.http]`: its defaults, and the old flat keys of `[ecospheres]` it takes over (read as
/// aliases, docs/syncs/README.md §5).
impl HttpBlock for EcospheresConfig {
    const OLD_HTTP_KEYS: &'static [(&'static str, &'static str)] = &[
        ("http_timeout", "timeout"),
        ("max_retry", "retries"),
        ("retry_delay", "retry_delay"),
    ];

    /// The defaults of `[ecospheres.http]` (CKAN needs 30–40 s a page: 3 minutes each).
    fn http_defaults() -> HttpSettings {
        HttpSettings {
            timeout: Duration::from_secs(180),
            ..HttpSettings::default()
        }
    }
}

impl Default for EcospheresConfig {
    fn default() -> Self {
        Self {
            source: None,
            schema: "public".into(),
            on_bad_page: OnBadPage::Fail,
            max_shrink: 0.5,
            http: Self::http_defaults(),
            max_run: Duration::from_secs(2 * 3600),
            lock_timeout: Duration::from_secs(300),
            parallel_pages: 4,
            max_pages: 100_000,
        }
    }
}

impl EcospheresConfig {
    /// `[ecospheres.http]`, validated (its old flat keys were folded in when the file was read).
    pub fn http_settings(&self) -> Result<HttpSettings, ConfigError> {
        self.http.validate("ecospheres.http")?;
        Ok(self.http.clone())
    }

    /// Checks what can be checked without the network.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.http_settings()?;
        if self.max_run.is_zero() {
            return Err(ConfigError::Invalid {
                key: "ecospheres.max_run".into(),
                reason: "must be positive".into(),
            });
        }
        let invalid = |key: &str, reason: String| ConfigError::Invalid {
            key: format!("ecospheres.{key}"),
            reason,
        };
        crate::settings::check_schema("ecospheres.schema", &self.schema)?;
        if !(0.0..=1.0).contains(&self.max_shrink) {
            return Err(invalid(
                "max_shrink",
                format!("{} is outside 0..=1", self.max_shrink),
            ));
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
