//! Configuration: an optional TOML file, overridden key by key from the environment
//! (`DATA_TASKS_<SECTION>_<KEY>`, upper-case; nested tables add their names:
//! `DATA_TASKS_VISIONATURE_PID_SETPOINT`), validated as a whole before any work starts.
//!
//! Each stage and sync owns its section (`stages/<x>/config.rs`, `syncs/<x>/config.rs`,
//! `storage/config.rs`, `fetch/config.rs`, `settings/http.rs`): a `serde` type with
//! `deny_unknown_fields` and defaults, so the binary runs with no file at all and a typo never
//! silently falls back to a default. The settings the environment can override are derived from those types
//! ([`env_settings`]), never listed by hand. Secrets are not configuration: each stage reads its
//! own from the environment ([`crate::secrets::Env`]).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::fetch::config::SourcesConfig;
use crate::secrets::Env;
pub use crate::settings::ENV_PREFIX;
use crate::settings::{from_table, parse_table, ConfigError, HttpConfig};
use crate::stages::ocr::config::OcrConfig;
use crate::storage::config::StorageConfig;
#[cfg(feature = "ecospheres")]
use crate::syncs::ecospheres::config::EcospheresConfig;
#[cfg(feature = "gn2pg")]
use crate::syncs::gn2pg::config::Gn2pgConfig;
#[cfg(any(feature = "gn2pg", feature = "visionature", feature = "ecospheres"))]
use crate::syncs::http::HttpBlock;
#[cfg(feature = "visionature")]
use crate::syncs::visionature::config::VisionatureConfig;

/// Variables of the binary under [`ENV_PREFIX`] that are not settings: the log filter.
pub const NON_SETTING_VARS: [&str; 1] = ["DATA_TASKS_LOG"];

/// The validated configuration of one run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub storage: StorageConfig,
    pub sources: SourcesConfig,
    pub ocr: OcrConfig,
    pub http: HttpConfig,
    #[cfg(feature = "gn2pg")]
    pub gn2pg: Gn2pgConfig,
    #[cfg(feature = "visionature")]
    pub visionature: VisionatureConfig,
    #[cfg(feature = "ecospheres")]
    pub ecospheres: EcospheresConfig,
}

/// One setting the environment can override.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvSetting {
    /// `DATA_TASKS_SECTION_KEY`.
    pub var: String,
    /// Table path, e.g. `["visionature", "pid", "setpoint"]`.
    pub path: Vec<String>,
    /// The default value (JSON `null` for an unset optional setting).
    pub default: serde_json::Value,
}

/// Every scalar setting of [`Config`] (and of the sections' nested tables), derived from the
/// types through their default values. Arrays of tables (`[[gn2pg.source]]`) and free maps are
/// not overridable from the environment.
pub fn env_settings() -> Vec<EnvSetting> {
    fn walk(prefix: &mut Vec<String>, value: &serde_json::Value, out: &mut Vec<EnvSetting>) {
        match value {
            serde_json::Value::Object(map) if !prefix.is_empty() && map.is_empty() => {}
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    prefix.push(k.clone());
                    walk(prefix, v, out);
                    prefix.pop();
                }
            }
            serde_json::Value::Array(items) if items.iter().any(|i| i.is_object()) => {}
            _ => out.push(EnvSetting {
                var: format!("{ENV_PREFIX}{}", prefix.join("_").to_ascii_uppercase()),
                path: prefix.clone(),
                default: value.clone(),
            }),
        }
    }
    let defaults = serde_json::to_value(Config::default()).unwrap_or_default();
    let mut out = Vec::new();
    walk(&mut Vec::new(), &defaults, &mut out);
    // The old flat keys' variables (`DATA_TASKS_GN2PG_MAX_RETRY`) set the block keys they stand
    // for; where both spell the same variable the block key has it already.
    for (sync, old) in old_http_keys() {
        for (old_key, key) in old {
            let var = format!(
                "{ENV_PREFIX}{}_{}",
                sync.to_ascii_uppercase(),
                old_key.to_ascii_uppercase()
            );
            let path: Vec<String> = [sync, "http", key].iter().map(|p| p.to_string()).collect();
            if out.iter().any(|s| s.var == var) {
                continue;
            }
            if let Some(default) = out
                .iter()
                .find(|s| s.path == path)
                .map(|s| s.default.clone())
            {
                out.push(EnvSetting { var, path, default });
            }
        }
    }
    out
}

/// Each sync's old flat HTTP keys (see `syncs::http::fold_old_keys`).
fn old_http_keys() -> Vec<(&'static str, &'static [(&'static str, &'static str)])> {
    vec![
        #[cfg(feature = "gn2pg")]
        ("gn2pg", Gn2pgConfig::OLD_HTTP_KEYS),
        #[cfg(feature = "visionature")]
        ("visionature", VisionatureConfig::OLD_HTTP_KEYS),
        #[cfg(feature = "ecospheres")]
        ("ecospheres", EcospheresConfig::OLD_HTTP_KEYS),
    ]
}

/// Moves each sync section's old flat HTTP keys into its `http` table (a file written for an
/// earlier version keeps working).
fn fold_old_keys(table: &mut toml::Table) -> Result<(), ConfigError> {
    #[cfg(any(feature = "gn2pg", feature = "visionature", feature = "ecospheres"))]
    for (sync, old) in old_http_keys() {
        if let Some(toml::Value::Table(section)) = table.get_mut(sync) {
            crate::syncs::http::fold_old_keys(section, sync, old)?;
        }
    }
    let _ = table;
    Ok(())
}

impl Config {
    /// Loads the file (if any), applies the `DATA_TASKS_*` variables of `env`, validates.
    pub fn load(path: Option<&Path>, env: &Env) -> Result<Config, ConfigError> {
        let (mut table, origin) = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    path: p.to_path_buf(),
                    source,
                })?;
                (
                    parse_table(&text, &p.display().to_string())?,
                    p.display().to_string(),
                )
            }
            None => (toml::Table::new(), "<defaults>".to_string()),
        };
        fold_old_keys(&mut table)?;
        let settings = env_settings();
        for (var, value) in env.with_prefix(ENV_PREFIX) {
            if NON_SETTING_VARS.contains(&var.as_str()) {
                continue;
            }
            let setting = settings
                .iter()
                .find(|s| s.var == var)
                .ok_or_else(|| ConfigError::UnknownEnv { var: var.clone() })?;
            let mut t = &mut table;
            for part in &setting.path[..setting.path.len() - 1] {
                let entry = t
                    .entry(part.clone())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                t = entry.as_table_mut().ok_or_else(|| ConfigError::Invalid {
                    key: setting.path.join("."),
                    reason: format!("{part} must be a table"),
                })?;
            }
            let leaf = setting.path.last().cloned().unwrap_or_default();
            t.insert(leaf, env_value(&value, &setting.default));
        }
        let config: Config = from_table(table, &format!("{origin} + {ENV_PREFIX}* environment"))?;
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
        if self.sources.max_source_mib == 0 {
            return Err(ConfigError::Invalid {
                key: "sources.max_source_mib".into(),
                reason: "must be at least 1".into(),
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
        #[cfg(feature = "gn2pg")]
        self.gn2pg.validate()?;
        #[cfg(feature = "visionature")]
        self.visionature.validate()?;
        #[cfg(feature = "ecospheres")]
        self.ecospheres.validate()?;
        Ok(())
    }
}

/// An environment value typed like the setting's default: strings stay strings (`"007"`),
/// numbers and booleans are parsed, lists are comma-separated or a TOML array. Unset optional
/// settings take the TOML scalar the text reads as.
fn env_value(raw: &str, default: &serde_json::Value) -> toml::Value {
    use serde_json::Value as J;
    let guess = || {
        if let Ok(i) = raw.parse::<i64>() {
            return toml::Value::Integer(i);
        }
        if let Ok(f) = raw.parse::<f64>() {
            return toml::Value::Float(f);
        }
        if let Ok(b) = raw.parse::<bool>() {
            return toml::Value::Boolean(b);
        }
        toml::Value::String(raw.to_string())
    };
    match default {
        J::String(_) => toml::Value::String(raw.to_string()),
        J::Array(_) => {
            let trimmed = raw.trim();
            if trimmed.starts_with('[') {
                if let Ok(t) = format!("v = {trimmed}").parse::<toml::Table>() {
                    if let Some(v) = t.get("v") {
                        return v.clone();
                    }
                }
            }
            toml::Value::Array(
                trimmed
                    .split(',')
                    .map(|s| s.trim())
                    .filter(|s| !s.is_empty())
                    .map(|s| toml::Value::String(s.to_string()))
                    .collect(),
            )
        }
        J::Null => {
            // Optional settings are paths, URLs and names more often than numbers.
            match guess() {
                toml::Value::Integer(_) | toml::Value::Float(_) => {
                    toml::Value::String(raw.to_string())
                }
                other => other,
            }
        }
        _ => guess(),
    }
}

/// Settings by environment variable, for messages and the config example test.
pub fn env_setting_names() -> BTreeMap<String, String> {
    env_settings()
        .into_iter()
        .map(|s| (s.var, s.path.join(".")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::config::S3Credentials;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn defaults_run_without_a_file() {
        let c = Config::load(None, &env(&[])).unwrap();
        assert_eq!(c.storage.misc, "file://./data/misc");
        assert_eq!(c.ocr.dpi, 300);
        assert_eq!(c.sources.max_source_mib, 512);
        assert!(c.sources.georisques_dump().is_err());
        let e =
            Config::load(None, &env(&[("DATA_TASKS_SOURCES_MAX_SOURCE_MIB", "0")])).unwrap_err();
        assert!(e.to_string().contains("sources.max_source_mib"), "{e}");
    }

    #[test]
    fn env_overrides_file_and_is_typed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "[storage]\nmisc = \"memory://a\"\n[ocr]\ndpi = 200\n").unwrap();
        let c = Config::load(
            Some(&p),
            &env(&[
                ("DATA_TASKS_OCR_DPI", "150"),
                ("DATA_TASKS_SOURCES_GEORISQUES_DUMP", "http://x/d.tar.gz"),
            ]),
        )
        .unwrap();
        assert_eq!(c.storage.misc, "memory://a");
        assert_eq!(c.ocr.dpi, 150);
        assert_eq!(c.sources.georisques_dump().unwrap(), "http://x/d.tar.gz");
    }

    #[test]
    fn unknown_keys_are_rejected_in_file_and_env() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "[storage]\nmsic = \"memory://a\"\n").unwrap();
        let e = Config::load(Some(&p), &env(&[])).unwrap_err();
        assert!(e.to_string().contains("msic"), "{e}");
        let e = Config::load(None, &env(&[("DATA_TASKS_STORAGE_MSIC", "x")])).unwrap_err();
        assert!(e.to_string().contains("DATA_TASKS_STORAGE_MSIC"), "{e}");
        let e = Config::load(None, &env(&[("DATA_TASKS_NOPE_X", "x")])).unwrap_err();
        assert!(e.to_string().contains("DATA_TASKS_NOPE_X"), "{e}");
        // The log filter is the binary's, not a setting.
        Config::load(None, &env(&[("DATA_TASKS_LOG", "debug")])).unwrap();
    }

    #[test]
    fn invalid_values_are_named() {
        let e = Config::load(None, &env(&[("DATA_TASKS_OCR_DPI", "5")])).unwrap_err();
        assert!(e.to_string().contains("ocr.dpi"), "{e}");
        let e = Config::load(None, &env(&[("DATA_TASKS_STORAGE_AP", "ftp://x")])).unwrap_err();
        assert!(e.to_string().contains("storage.ap"), "{e}");
        let e = Config::load(
            None,
            &env(&[("DATA_TASKS_SOURCES_AP_PDF_BASE", "http://x/no-slash")]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("ap_pdf_base"), "{e}");
    }

    #[test]
    fn type_errors_never_echo_the_value() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "[sources]\ngeorisques_dump = 778899\n").unwrap();
        let e = Config::load(Some(&p), &env(&[])).unwrap_err().to_string();
        assert!(!e.contains("778899"), "{e}");
        assert!(e.contains("georisques_dump"), "{e}");
        // From the environment, an optional URL stays a string.
        let c = Config::load(
            None,
            &env(&[("DATA_TASKS_SOURCES_GEORISQUES_DUMP", "778899")]),
        )
        .unwrap();
        assert_eq!(c.sources.georisques_dump.as_deref(), Some("778899"));
    }

    #[test]
    #[cfg(feature = "ecospheres")]
    fn ecospheres_settings_from_env() {
        let env = env(&[
            ("DATA_TASKS_ECOSPHERES_ON_BAD_PAGE", "skip"),
            ("DATA_TASKS_ECOSPHERES_RETRY_DELAY", "10ms"),
            ("DATA_TASKS_ECOSPHERES_SOURCE", "file:///d"),
        ]);
        let config = Config::load(None, &env).unwrap();
        assert_eq!(
            config.ecospheres.on_bad_page,
            crate::syncs::ecospheres::config::OnBadPage::Skip
        );
        assert_eq!(config.ecospheres.http.retry_delay.as_millis(), 10);
        assert_eq!(config.ecospheres.source.as_deref(), Some("file:///d"));
    }

    #[test]
    fn every_scalar_setting_is_overridable_and_names_are_unique() {
        let settings = env_settings();
        let names = env_setting_names();
        assert_eq!(
            names.len(),
            settings.len(),
            "two settings share an env name"
        );
        for var in [
            "DATA_TASKS_STORAGE_MISC",
            "DATA_TASKS_STORAGE_S3_CREDENTIALS",
            "DATA_TASKS_SOURCES_GEORISQUES_DUMP",
            "DATA_TASKS_OCR_TESSDATA",
            "DATA_TASKS_HTTP_BACKOFF_MS",
        ] {
            assert!(names.contains_key(var), "{var} missing from {names:?}");
        }
        let c = Config::load(
            None,
            &env(&[("DATA_TASKS_STORAGE_S3_CREDENTIALS", "instance")]),
        )
        .unwrap();
        assert_eq!(c.storage.s3_credentials, S3Credentials::Instance);
    }
}
