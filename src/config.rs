//! Configuration: an optional TOML file, overridden key by key from the environment
//! (`DATA_TASKS_<SECTION>_<KEY>`), validated as a whole before any work starts.
//!
//! Unknown sections or keys — in the file or in `DATA_TASKS_*` variables — are errors, so a typo
//! never silently falls back to a default. Secrets (Slack webhook, S3 keys, database URLs) are not
//! configuration: they are read from their own environment variables by [`Secrets`] and are never
//! printed (its `Debug` redacts them).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Prefix of the environment variables that override configuration keys.
pub const ENV_PREFIX: &str = "DATA_TASKS_";

/// What can go wrong while loading the configuration. Every variant names the file, key or variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {message}")]
    Parse { path: String, message: String },
    #[error("environment variable {var} does not name a known setting (expected {ENV_PREFIX}<SECTION>_<KEY>, see the README's configuration table)")]
    UnknownEnv { var: String },
    #[error("invalid value for {key}: {reason}")]
    Invalid { key: String, reason: String },
    #[error("{key} is not set: {hint}")]
    Missing { key: String, hint: String },
}

/// The validated configuration of one run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub storage: StorageConfig,
    pub sources: SourcesConfig,
    pub ocr: OcrConfig,
    pub http: HttpConfig,
}

/// Object-store URLs of the three buckets.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    pub misc: String,
    pub ap: String,
    pub am: String,
}

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
}

/// OCR engine settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct OcrConfig {
    pub language: String,
    pub dpi: u32,
    /// Folder holding `<language>.traineddata`; default: the system's.
    pub tessdata: Option<PathBuf>,
    /// Path of `libpdfium.so`; default: next to the binary, `$PDFIUM_LIB`, or `.deps/pdfium/`.
    pub pdfium: Option<PathBuf>,
    /// Largest PDF accepted from the origin, in MiB.
    pub max_pdf_mib: u64,
}

/// HTTP client policy shared by every download.
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

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            misc: "file://./data/misc".into(),
            ap: "file://./data/ap".into(),
            am: "file://./data/am".into(),
        }
    }
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
        }
    }
}

impl Default for OcrConfig {
    fn default() -> Self {
        Self {
            language: "fra".into(),
            dpi: 300,
            tessdata: None,
            pdfium: None,
            max_pdf_mib: 200,
        }
    }
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

/// Every key of every section, so an environment variable naming no setting is caught and named.
const KEYS: [(&str, &[&str]); 4] = [
    ("storage", &["misc", "ap", "am"]),
    (
        "sources",
        &["georisques_dump", "ap_pdf_base", "s3ic", "rubriques"],
    ),
    (
        "ocr",
        &["language", "dpi", "tessdata", "pdfium", "max_pdf_mib"],
    ),
    (
        "http",
        &[
            "connect_timeout_s",
            "timeout_s",
            "dump_timeout_s",
            "retries",
            "backoff_ms",
        ],
    ),
];

impl Config {
    /// Loads the file (if any), applies the process environment, validates.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let vars: BTreeMap<String, String> = std::env::vars()
            .filter(|(k, _)| k.starts_with(ENV_PREFIX))
            .collect();
        Self::load_with_env(path, &vars)
    }

    /// Same as [`Config::load`] with an explicit set of `DATA_TASKS_*` variables (for tests).
    pub fn load_with_env(
        path: Option<&Path>,
        vars: &BTreeMap<String, String>,
    ) -> Result<Config, ConfigError> {
        let (mut table, origin) = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    path: p.to_path_buf(),
                    source,
                })?;
                let table: toml::Table =
                    text.parse()
                        .map_err(|e: toml::de::Error| ConfigError::Parse {
                            path: p.display().to_string(),
                            message: e.to_string(),
                        })?;
                (table, p.display().to_string())
            }
            None => (toml::Table::new(), "<defaults>".to_string()),
        };
        for (var, value) in vars {
            let Some(rest) = var.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let lower = rest.to_ascii_lowercase();
            let (section, key) = lower
                .split_once('_')
                .filter(|(s, k)| KEYS.iter().any(|(sec, keys)| sec == s && keys.contains(k)))
                .ok_or_else(|| ConfigError::UnknownEnv { var: var.clone() })?;
            let entry = table
                .entry(section.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            let Some(section_table) = entry.as_table_mut() else {
                return Err(ConfigError::Invalid {
                    key: section.to_string(),
                    reason: "must be a table".into(),
                });
            };
            section_table.insert(key.to_string(), env_value(value));
        }
        let config: Config =
            toml::Value::Table(table)
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Parse {
                    path: format!("{origin} + {ENV_PREFIX}* environment"),
                    message: e.to_string().trim().to_string(),
                })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every value that can be checked without touching the network.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (key, url) in [
            ("storage.misc", &self.storage.misc),
            ("storage.ap", &self.storage.ap),
            ("storage.am", &self.storage.am),
        ] {
            crate::storage::StoreUrl::parse(url).map_err(|e| ConfigError::Invalid {
                key: key.into(),
                reason: e.to_string(),
            })?;
        }
        let base = &self.sources.ap_pdf_base;
        if !(base.starts_with("http://") || base.starts_with("https://")) || !base.ends_with('/') {
            return Err(ConfigError::Invalid {
                key: "sources.ap_pdf_base".into(),
                reason: format!("{base:?} must be an http(s) URL ending with '/'"),
            });
        }
        if let Some(dump) = &self.sources.georisques_dump {
            if dump.trim().is_empty() {
                return Err(ConfigError::Invalid {
                    key: "sources.georisques_dump".into(),
                    reason: "is empty".into(),
                });
            }
        }
        let lang = &self.ocr.language;
        if lang.is_empty()
            || !lang
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '+')
        {
            return Err(ConfigError::Invalid {
                key: "ocr.language".into(),
                reason: format!("{lang:?} is not a tesseract language code"),
            });
        }
        if !(72..=1200).contains(&self.ocr.dpi) {
            return Err(ConfigError::Invalid {
                key: "ocr.dpi".into(),
                reason: format!("{} is outside 72..=1200", self.ocr.dpi),
            });
        }
        if self.ocr.max_pdf_mib == 0 {
            return Err(ConfigError::Invalid {
                key: "ocr.max_pdf_mib".into(),
                reason: "must be at least 1".into(),
            });
        }
        if self.http.timeout_s == 0 || self.http.connect_timeout_s == 0 {
            return Err(ConfigError::Invalid {
                key: "http.timeout_s".into(),
                reason: "timeouts must be at least 1 second".into(),
            });
        }
        Ok(())
    }

    /// The Géorisques dump URL, or the error that tells the operator which variable to set.
    pub fn georisques_dump(&self) -> Result<&str, ConfigError> {
        self.sources
            .georisques_dump
            .as_deref()
            .ok_or_else(|| ConfigError::Missing {
                key: "sources.georisques_dump".into(),
                hint: "set DATA_TASKS_SOURCES_GEORISQUES_DUMP (the dump's URL is not public)"
                    .into(),
            })
    }
}

/// Environment values are typed like TOML scalars when they parse as one (`300`, `true`),
/// and are plain strings otherwise.
fn env_value(raw: &str) -> toml::Value {
    if let Ok(i) = raw.parse::<i64>() {
        return toml::Value::Integer(i);
    }
    if let Ok(b) = raw.parse::<bool>() {
        return toml::Value::Boolean(b);
    }
    toml::Value::String(raw.to_string())
}

/// Secrets, read only from their own environment variables. `Debug` never shows them.
#[derive(Clone, Default)]
pub struct Secrets {
    pub slack_webhook_url: Option<String>,
    pub am_database_url: Option<String>,
}

impl Secrets {
    pub fn from_env() -> Secrets {
        let get = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        Secrets {
            slack_webhook_url: get("SLACK_WEBHOOK_URL"),
            am_database_url: get("AM_DATABASE_URL"),
        }
    }
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |v: &Option<String>| if v.is_some() { "<set>" } else { "<unset>" };
        f.debug_struct("Secrets")
            .field("slack_webhook_url", &shown(&self.slack_webhook_url))
            .field("am_database_url", &shown(&self.am_database_url))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_run_without_a_file() {
        let c = Config::load_with_env(None, &env(&[])).unwrap();
        assert_eq!(c.storage.misc, "file://./data/misc");
        assert_eq!(c.ocr.dpi, 300);
        assert!(c.georisques_dump().is_err());
    }

    #[test]
    fn env_overrides_file_and_is_typed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "[storage]\nmisc = \"memory://a\"\n[ocr]\ndpi = 200\n").unwrap();
        let c = Config::load_with_env(
            Some(&p),
            &env(&[
                ("DATA_TASKS_OCR_DPI", "150"),
                ("DATA_TASKS_SOURCES_GEORISQUES_DUMP", "http://x/d.tar.gz"),
            ]),
        )
        .unwrap();
        assert_eq!(c.storage.misc, "memory://a");
        assert_eq!(c.ocr.dpi, 150);
        assert_eq!(c.georisques_dump().unwrap(), "http://x/d.tar.gz");
    }

    #[test]
    fn unknown_keys_are_rejected_in_file_and_env() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "[storage]\nmsic = \"memory://a\"\n").unwrap();
        let e = Config::load_with_env(Some(&p), &env(&[])).unwrap_err();
        assert!(e.to_string().contains("msic"), "{e}");
        let e = Config::load_with_env(None, &env(&[("DATA_TASKS_STORAGE_MSIC", "x")])).unwrap_err();
        assert!(e.to_string().contains("DATA_TASKS_STORAGE_MSIC"), "{e}");
        let e = Config::load_with_env(None, &env(&[("DATA_TASKS_NOPE_X", "x")])).unwrap_err();
        assert!(e.to_string().contains("DATA_TASKS_NOPE_X"), "{e}");
    }

    #[test]
    fn invalid_values_are_named() {
        let e = Config::load_with_env(None, &env(&[("DATA_TASKS_OCR_DPI", "5")])).unwrap_err();
        assert!(e.to_string().contains("ocr.dpi"), "{e}");
        let e =
            Config::load_with_env(None, &env(&[("DATA_TASKS_STORAGE_AP", "ftp://x")])).unwrap_err();
        assert!(e.to_string().contains("storage.ap"), "{e}");
        let e = Config::load_with_env(
            None,
            &env(&[("DATA_TASKS_SOURCES_AP_PDF_BASE", "http://x/no-slash")]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("ap_pdf_base"), "{e}");
    }

    #[test]
    fn every_setting_can_be_overridden_from_the_environment() {
        let mut all = Config::default();
        all.sources.georisques_dump = Some("x".into());
        all.sources.s3ic = Some("x".into());
        all.sources.rubriques = Some("x".into());
        all.ocr.tessdata = Some("x".into());
        all.ocr.pdfium = Some("x".into());
        let table = toml::Table::try_from(&all).unwrap();
        for (section, keys) in &table {
            for key in keys.as_table().unwrap().keys() {
                let known = KEYS
                    .iter()
                    .any(|(s, k)| s == section && k.contains(&key.as_str()));
                assert!(known, "{section}.{key} missing from KEYS");
            }
        }
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let s = Secrets {
            slack_webhook_url: Some("https://hooks.slack.com/services/SECRET".into()),
            am_database_url: None,
        };
        let shown = format!("{s:?}");
        assert!(!shown.contains("SECRET"));
        assert!(shown.contains("<set>"));
    }
}
