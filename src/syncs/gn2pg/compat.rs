//! `--gn2pg-config FILE`: an operator's gn2pg-client TOML file (`[db]`, `[[source]]`,
//! `[tuning]`), read unchanged and mapped onto `[gn2pg]`, so a cron line can switch tools before
//! the configuration is rewritten.
//!
//! Every key gn2pg-client 1.10.1 knows is either honoured or refused with a clear error (never
//! silently dropped): `max_requests > 0` (a debugging cap) and `last_action_date` have no
//! equivalent; `lru_maxsize` and `id_application` are unused by the client itself and are
//! accepted with a warning. Passwords may stay in the file during the migration (a warning
//! says so): `GN2PG_<STD_NAME>_PASSWORD` and `GN2PG_DATABASE_URL`/`DATABASE_URL`, when set, win.
//! Errors are [`ConfigError`]s naming the file and key; no value (password, URL) is echoed.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::config::{Gn2pgConfig, QueryValue, SourceConfig};
use crate::secrets::Secret;
use crate::settings::ConfigError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    db: Option<Db>,
    #[serde(default)]
    source: Vec<Source>,
    tuning: Option<Tuning>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Db {
    db_host: Option<String>,
    db_port: Option<u16>,
    db_user: Option<String>,
    db_password: Option<String>,
    db_name: Option<String>,
    db_schema_import: Option<String>,
    #[serde(default)]
    db_querystring: BTreeMap<String, QueryValue>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Source {
    name: String,
    user_name: String,
    user_password: Option<String>,
    url: String,
    data_export_id: Option<i64>,
    export_id: Option<i64>,
    metadata_export_id: Option<i64>,
    id_application: Option<i64>,
    enable: Option<bool>,
    data_type: Option<String>,
    last_action_date: Option<String>,
    #[serde(default)]
    query_strings: BTreeMap<String, QueryValue>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Tuning {
    max_page_length: Option<u32>,
    max_retry: Option<u32>,
    max_requests: Option<u32>,
    retry_delay: Option<u64>,
    http_connect_timeout: Option<u64>,
    http_read_timeout: Option<u64>,
    unavailable_delay: Option<u64>,
    lru_maxsize: Option<u64>,
    nb_threads: Option<u32>,
}

/// What the file brings besides the `[gn2pg]` settings it overrides.
#[derive(Debug, Default)]
pub struct Legacy {
    /// The `[db]` connection as a URL, when the file has one.
    pub database: Option<Secret>,
    /// Passwords by std_name (the file's `user_password`).
    pub passwords: HashMap<String, Secret>,
    /// Things the operator should know (passwords in the file, ignored keys).
    pub warnings: Vec<String>,
}

fn invalid(path: &Path, key: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: format!("{} {key}", path.display()),
        reason: reason.into(),
    }
}

/// Reads `path` and applies it to `config` (its sources replace ours: both is an error).
pub fn apply(path: &Path, config: &mut Gn2pgConfig) -> Result<Legacy, ConfigError> {
    let file: File = crate::settings::read_toml(path)?;
    if !config.sources.is_empty() {
        return Err(invalid(
            path,
            "[[source]]",
            "sources are configured both here and in [[gn2pg.source]]: keep one list",
        ));
    }
    let mut out = Legacy::default();
    if let Some(db) = &file.db {
        if let Some(schema) = &db.db_schema_import {
            config.schema = schema.clone();
        }
        out.database = database_url(path, db)?;
        if db.db_password.is_some() {
            out.warnings.push(format!(
                "{}: [db] db_password is read from the file; move the connection to \
                 GN2PG_DATABASE_URL",
                path.display()
            ));
        }
    }
    if let Some(t) = &file.tuning {
        if let Some(n) = t.max_page_length {
            config.page_size = n;
        }
        if let Some(n) = t.max_retry {
            config.http.retries = n;
        }
        if let Some(s) = t.retry_delay {
            config.http.retry_delay = Duration::from_secs(s);
        }
        if let Some(s) = t.http_connect_timeout {
            config.http.connect_timeout = Duration::from_secs(s);
        }
        if let Some(s) = t.http_read_timeout {
            config.http.timeout = Duration::from_secs(s);
        }
        if let Some(s) = t.unavailable_delay {
            config.http.unavailable_delay = Duration::from_secs(s);
        }
        if let Some(n) = t.nb_threads {
            config.jobs = n.clamp(1, 64);
        }
        if matches!(t.max_requests, Some(n) if n > 0) {
            return Err(invalid(
                path,
                "[tuning] max_requests",
                "a cap on API requests (a debugging aid of gn2pg-client) is not supported: set it to 0 or remove it",
            ));
        }
        if t.lru_maxsize.is_some() {
            out.warnings.push(format!(
                "{}: [tuning] lru_maxsize is unused (by gn2pg-client 1.10 too): ignored",
                path.display()
            ));
        }
    }
    for (i, s) in file.source.iter().enumerate() {
        let key = |k: &str| format!("source[{i}].{k}");
        if s.last_action_date.is_some() {
            return Err(invalid(
                path,
                &key("last_action_date"),
                "is not supported: updates start from the last successful import_log row",
            ));
        }
        if s.id_application.is_some() {
            out.warnings.push(format!(
                "{}: source {:?}: id_application is unused (gn2pg-client 1.10 logs in without it): ignored",
                path.display(),
                s.name
            ));
        }
        let source = SourceConfig {
            name: s.name.clone(),
            url: s.url.clone(),
            data_export_id: s.data_export_id,
            export_id: s.export_id,
            metadata_export_id: s.metadata_export_id,
            user_name: s.user_name.clone(),
            data_type: s
                .data_type
                .clone()
                .unwrap_or_else(|| "synthese_with_cd_nomenclature".into()),
            enable: s.enable.unwrap_or(true),
            query_strings: s.query_strings.clone(),
        };
        if let Some(pw) = &s.user_password {
            out.passwords
                .insert(source.std_name(), Secret::new(pw.clone()));
        }
        config.sources.push(source);
    }
    if !out.passwords.is_empty() {
        out.warnings.push(format!(
            "{}: source passwords are read from the file; move them to GN2PG_<SOURCE>_PASSWORD",
            path.display()
        ));
    }
    Ok(out)
}

/// `postgresql://user:password@host:port/name?querystring` from `[db]`.
fn database_url(path: &Path, db: &Db) -> Result<Option<Secret>, ConfigError> {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    let (Some(host), Some(name)) = (&db.db_host, &db.db_name) else {
        return Ok(None);
    };
    let enc = |s: &str| utf8_percent_encode(s, UNRESERVED).to_string();
    let mut url = String::from("postgresql://");
    if let Some(user) = &db.db_user {
        url.push_str(&enc(user));
        if let Some(pw) = &db.db_password {
            crate::secrets::register(pw);
            url.push(':');
            url.push_str(&enc(pw));
        }
        url.push('@');
    }
    if host.contains(':') && !host.starts_with('[') {
        url.push_str(&format!("[{host}]"));
    } else {
        url.push_str(host);
    }
    url.push_str(&format!(":{}/{}", db.db_port.unwrap_or(5432), enc(name)));
    let mut sep = '?';
    for (k, v) in &db.db_querystring {
        if !k
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(invalid(
                path,
                &format!("[db.db_querystring] {k}"),
                "not a connection parameter name",
            ));
        }
        url.push(sep);
        sep = '&';
        url.push_str(&format!("{k}={}", enc(&v.as_param())));
    }
    Ok(Some(Secret::new(url)))
}
