//! Settings helpers every section shares, below every other module: the settings error
//! ([`ConfigError`]), the checks and serde helpers of section types ([`check_schema`],
//! `duration`), reading TOML files ([`read_toml`]) and the default HTTP policy
//! ([`HttpConfig`]). The aggregate configuration (`crate::config::Config`) is built from the
//! sections on top of this; a section type (`Gn2pgConfig`, `OcrConfig`, …) imports only this.

use std::path::{Path, PathBuf};

mod http;

pub use http::HttpConfig;

/// Prefix of the environment variables that override configuration keys. Scripts of this
/// repository use `DT_` for their own variables.
pub const ENV_PREFIX: &str = "DATA_TASKS_";

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
    if !is_plain_ident(schema) {
        return Err(ConfigError::Invalid {
            key: key.to_string(),
            reason: format!(
                "{schema:?} is not a plain lower-case identifier (letters, digits, _; at most 63 bytes)"
            ),
        });
    }
    if let Some(why) = reserved_schema(schema) {
        return Err(ConfigError::Invalid {
            key: key.to_string(),
            reason: format!("{schema:?} {why}: a sync's data needs a schema of its own"),
        });
    }
    Ok(())
}

/// Why `schema` cannot hold a sync's data: the bookkeeping schema (`data_tasks`, whose
/// `sync_run` every sync writes) and PostgreSQL's own schemas are refused.
pub fn reserved_schema(schema: &str) -> Option<&'static str> {
    if schema == "data_tasks" {
        Some("is data-tasks' bookkeeping schema (data_tasks.sync_run)")
    } else if schema.starts_with("pg_") || schema == "information_schema" {
        Some("is reserved by PostgreSQL")
    } else {
        None
    }
}

/// Whether `name` is a plain lower-case identifier (letters, digits, `_`; not starting with a
/// digit) — what configs may name as a schema.
pub fn is_plain_ident(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63
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
pub(crate) fn parse_table(text: &str, origin: &str) -> Result<toml::Table, ConfigError> {
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
pub(crate) fn from_table<T: serde::de::DeserializeOwned>(
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

/// Reads a TOML file into `T` (operators' configs of the tools we replace), naming the file.
pub fn read_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let origin = path.display().to_string();
    from_table(parse_table(&text, &origin)?, &origin)
}

/// `serde(with = "crate::settings::duration")`: durations written as humantime strings (`"10m"`,
/// `"600s"`, `"70d"`, `"250ms"`) or integer seconds.
// Only the syncs' sections have durations: without their features nothing uses it.
#[cfg_attr(
    not(any(feature = "gn2pg", feature = "visionature", feature = "ecospheres")),
    allow(dead_code)
)]
pub(crate) mod duration {
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

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[test]
    fn plain_identifiers() {
        assert!(is_plain_ident("src_vn_json"));
        assert!(!is_plain_ident("Src"));
        assert!(!is_plain_ident("1x"));
        assert!(!is_plain_ident("a;drop"));
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
