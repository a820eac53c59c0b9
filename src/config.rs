//! Configuration: an optional TOML file, overridden key by key from the environment
//! (`DATA_TASKS_<SECTION>_<KEY>`, upper-case; nested tables add their names:
//! `DATA_TASKS_VISIONATURE_PID_SETPOINT`), validated as a whole before any work starts.
//!
//! Each stage and sync owns its section (`stages/<x>/config.rs`, `syncs/<x>/config.rs`,
//! `storage/config.rs`, `fetch/config.rs`): a `serde` type with `deny_unknown_fields` and
//! defaults, so the binary runs with no file at all and a typo never silently falls back to a
//! default. The settings the environment can override are derived from those types
//! ([`env_settings`]), never listed by hand. Secrets are not configuration: each stage reads its
//! own from the environment ([`crate::secrets::Env`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::fetch::config::{HttpConfig, SourcesConfig};
use crate::secrets::Env;
pub use crate::stages::ocr::config::OcrConfig;
pub use crate::storage::config::{S3Credentials, StorageConfig};
#[cfg(feature = "ecospheres")]
use crate::syncs::ecospheres::config::EcospheresConfig;
#[cfg(feature = "gn2pg")]
use crate::syncs::gn2pg::config::Gn2pgConfig;
#[cfg(feature = "visionature")]
use crate::syncs::visionature::config::VisionatureConfig;

/// Prefix of the environment variables that override configuration keys. Scripts of this
/// repository use `DT_` for their own variables.
pub const ENV_PREFIX: &str = "DATA_TASKS_";

/// Variables of the binary under [`ENV_PREFIX`] that are not settings: the log filter.
pub const NON_SETTING_VARS: [&str; 1] = ["DATA_TASKS_LOG"];

/// What can go wrong while loading the configuration. Every variant names the file, key or variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {message}")]
    Parse { path: String, message: String },
    #[error("environment variable {var} does not name a known setting (expected {ENV_PREFIX}<SECTION>_<KEY>, see config.example.toml)")]
    UnknownEnv { var: String },
    #[error("invalid value for {key}: {reason}")]
    Invalid { key: String, reason: String },
    #[error("{key} is not set: {hint}")]
    Missing { key: String, hint: String },
}

/// Checks that the schema named by the setting `key` (`gn2pg.schema`) is a plain lower-case
/// identifier, the only kind the syncs interpolate into SQL.
pub fn check_schema(key: &str, schema: &str) -> Result<(), ConfigError> {
    if crate::pg::is_plain_ident(schema) {
        return Ok(());
    }
    Err(ConfigError::Invalid {
        key: key.to_string(),
        reason: format!(
            "{schema:?} is not a plain lower-case identifier (letters, digits, _; at most 63 bytes)"
        ),
    })
}

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
    out
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

/// A type error's message without the value it quotes (`` invalid type: integer `778899` ``): any
/// value may be a secret (`sources.georisques_dump` is), and the key the message names (`in
/// sources.georisques_dump`) is enough to find it. Field names stay.
fn without_values(message: &str) -> String {
    message
        .lines()
        .map(|line| {
            let Some(at) = line
                .find("invalid type:")
                .or_else(|| line.find("invalid value:"))
            else {
                return line.to_string();
            };
            let (head, tail) = line.split_at(at);
            let mut parts = tail.splitn(3, '`');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(a), Some(_value), Some(rest)) => format!("{head}{a}`…`{rest}"),
                _ => line.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parses TOML text into a table; a syntax error names its line without echoing it.
fn parse_table(text: &str, origin: &str) -> Result<toml::Table, ConfigError> {
    text.parse().map_err(|e: toml::de::Error| {
        let line = e
            .span()
            .map(|s| {
                format!(
                    " at line {}",
                    text[..s.start.min(text.len())].lines().count().max(1)
                )
            })
            .unwrap_or_default();
        ConfigError::Parse {
            path: origin.to_string(),
            message: format!("{}{line}", e.message().trim()),
        }
    })
}

/// Deserialises a table, naming the key of a type error but not its value.
fn from_table<T: serde::de::DeserializeOwned>(
    table: toml::Table,
    origin: &str,
) -> Result<T, ConfigError> {
    toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| ConfigError::Parse {
            path: origin.to_string(),
            message: without_values(e.to_string().trim()),
        })
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

/// `serde(with = "crate::config::duration")`: durations written as humantime strings (`"10m"`,
/// `"600s"`, `"70d"`, `"250ms"`) or integer seconds.
pub mod duration {
    use std::time::Duration;

    use serde::{de, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a duration such as \"30s\", \"10m\", \"1d\" or a number of seconds")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
                humantime::parse_duration(v.trim())
                    .map_err(|e| E::custom(format!("{e} (e.g. \"30s\", \"10m\", \"1d\")")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
                u64::try_from(v)
                    .map(Duration::from_secs)
                    .map_err(|_| E::custom("a duration cannot be negative"))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
                Ok(Duration::from_secs(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// Reads a TOML file into `T` (operators' configs of the tools we replace), naming the file.
pub fn read_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let origin = path.display().to_string();
    from_table(parse_table(&text, &origin)?, &origin)
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

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn defaults_run_without_a_file() {
        let c = Config::load(None, &env(&[])).unwrap();
        assert_eq!(c.storage.misc, "file://./data/misc");
        assert_eq!(c.ocr.dpi, 300);
        assert_eq!(c.sources.max_source_mib, 512);
        assert!(c.georisques_dump().is_err());
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
        assert_eq!(c.georisques_dump().unwrap(), "http://x/d.tar.gz");
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

    #[test]
    fn durations_read_humantime_and_seconds() {
        #[derive(Deserialize)]
        struct T {
            #[serde(with = "duration")]
            d: std::time::Duration,
        }
        let t: T = toml::from_str("d = \"10m\"").unwrap();
        assert_eq!(t.d.as_secs(), 600);
        let t: T = toml::from_str("d = 90").unwrap();
        assert_eq!(t.d.as_secs(), 90);
        assert!(toml::from_str::<T>("d = \"soon\"").is_err());
    }
}
