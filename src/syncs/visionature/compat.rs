//! `--vn-config FILE`: an operator's existing Client-API-VN 2.x YAML configuration, mapped onto
//! `[visionature]` (what the file does not set keeps its `[visionature]` value).
//!
//! Mapped: `site.<name>.site` → `[[site]]` (disabled sites left out), `filter.*` (taxo_exclude,
//! territorial_unit_ids, type_date, start_date), `database.db_schema_import` → `schema_import`,
//! `database.db_out_proj` → `out_proj`, `tuning.*` (list length, chunks, retries, delays, PID),
//! `main.admin_mail` → `fix_sync.notify_email` when that is empty. Accepted and not used (with a
//! warning): credentials (`user_email`, `user_pw`, `client_key`, `client_secret`: secrets come from
//! `VN_<SITE>_…` only), database connection keys (the URL comes from `VISIONATURE_DATABASE_URL`),
//! controller schedules (cron replaces the scheduler), `db_schema_vn`, `db_group`,
//! `db_secret_key`, and tuning keys without an equivalent. An unknown key, `filter.end_date`
//! (use `--to`), `json_format: long` and an enabled `file` store are errors naming the key.

use std::path::Path;
use std::time::Duration;

use serde_yaml_ng::{Mapping, Value};

use super::config::{SiteConfig, TypeDate, VisionatureConfig};
use crate::settings::ConfigError;

fn err(path: &Path, key: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: format!("{} ({key})", path.display()),
        reason: reason.into(),
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn map<'a>(path: &Path, key: &str, v: &'a Value) -> Result<&'a Mapping, ConfigError> {
    v.as_mapping()
        .ok_or_else(|| err(path, key, "must be a mapping"))
}

fn entries<'a>(
    path: &Path,
    key: &str,
    v: &'a Value,
    allowed: &[&str],
) -> Result<Vec<(String, &'a Value)>, ConfigError> {
    let mut out = Vec::new();
    for (k, val) in map(path, key, v)? {
        let name = scalar(k).unwrap_or_default();
        if !allowed.is_empty() && !allowed.contains(&name.as_str()) {
            return Err(err(
                path,
                &format!("{key}.{name}"),
                "is not a Client-API-VN 2.x key",
            ));
        }
        out.push((name, val));
    }
    Ok(out)
}

fn parse<T: std::str::FromStr>(path: &Path, key: &str, v: &Value) -> Result<T, ConfigError> {
    scalar(v)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| err(path, key, "has an invalid value"))
}

fn truthy(v: &Value) -> bool {
    matches!(
        scalar(v).as_deref().map(str::to_ascii_lowercase).as_deref(),
        Some("true" | "yes" | "on" | "1")
    )
}

/// Reads `path` onto `base`; returns the configuration and the warnings about ignored keys.
pub fn load(
    path: &Path,
    base: &VisionatureConfig,
) -> Result<(VisionatureConfig, Vec<String>), ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let root: Value = serde_yaml_ng::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.display().to_string(),
        message: e.to_string().chars().take(200).collect(),
    })?;
    let mut cfg = base.clone();
    let mut warnings = Vec::new();
    let top = entries(
        path,
        "",
        &root,
        &[
            "main",
            "controler",
            "filter",
            "site",
            "file",
            "database",
            "tuning",
        ],
    )?;
    let mut sites = Vec::new();
    for (key, v) in top {
        match key.as_str() {
            "main" => {
                for (k, v) in entries(path, "main", v, &["admin_mail"])? {
                    if k == "admin_mail" && cfg.fix_sync.notify_email.is_empty() {
                        if let Some(m) = scalar(v) {
                            cfg.fix_sync.notify_email = vec![m];
                        }
                    }
                }
            }
            "controler" => {
                for (name, c) in entries(path, "controler", v, &[])? {
                    for (k, val) in entries(
                        path,
                        &format!("controler.{name}"),
                        c,
                        &["enabled", "schedule"],
                    )? {
                        if k == "enabled" && !truthy(val) {
                            warnings.push(format!(
                                "controler.{name}.enabled = false is not supported: every controller is downloaded"
                            ));
                        }
                    }
                }
                warnings.push(
                    "controler.*.schedule ignored: use the cron lines of docs/syncs/visionature.md"
                        .into(),
                );
            }
            "filter" => {
                for (k, val) in entries(
                    path,
                    "filter",
                    v,
                    &[
                        "taxo_exclude",
                        "territorial_unit_ids",
                        "json_format",
                        "start_date",
                        "end_date",
                        "type_date",
                    ],
                )? {
                    let key = format!("filter.{k}");
                    match k.as_str() {
                        "taxo_exclude" | "territorial_unit_ids" => {
                            let list: Vec<String> = val
                                .as_sequence()
                                .ok_or_else(|| err(path, &key, "must be a list"))?
                                .iter()
                                .filter_map(scalar)
                                .collect();
                            if k == "taxo_exclude" {
                                cfg.filter.taxo_exclude = list;
                            } else {
                                cfg.filter.territorial_unit_ids = list;
                            }
                        }
                        "json_format" => {
                            if scalar(val).as_deref() != Some("short") {
                                return Err(err(path, &key, "only \"short\" is supported (as the client required for PostgreSQL)"));
                            }
                        }
                        "start_date" => {
                            let s = scalar(val).unwrap_or_default();
                            let date = s.get(..10).unwrap_or(&s).to_string();
                            cfg.filter.start_date = date;
                        }
                        "end_date" => {
                            return Err(err(
                                path,
                                &key,
                                "is not supported: use transfer --full --to DATE",
                            ));
                        }
                        _ => {
                            cfg.filter.type_date = match scalar(val).as_deref() {
                                Some("entry") => TypeDate::Entry,
                                Some("sighting") => TypeDate::Sighting,
                                _ => return Err(err(path, &key, "must be sighting or entry")),
                            }
                        }
                    }
                }
            }
            "site" => {
                for (name, s) in entries(path, "site", v, &[])? {
                    let mut url = None;
                    let mut enabled = true;
                    for (k, val) in entries(
                        path,
                        &format!("site.{name}"),
                        s,
                        &[
                            "enabled",
                            "site",
                            "user_email",
                            "user_pw",
                            "client_key",
                            "client_secret",
                        ],
                    )? {
                        match k.as_str() {
                            "enabled" => enabled = truthy(val),
                            "site" => url = scalar(val),
                            _ => {}
                        }
                    }
                    let vars = super::config::secret_vars(&name).join(", ");
                    warnings.push(format!(
                        "site.{name}: credentials in the file are not used: set {vars} in the environment"
                    ));
                    if !enabled {
                        continue;
                    }
                    let mut url =
                        url.ok_or_else(|| err(path, &format!("site.{name}.site"), "is missing"))?;
                    if !url.ends_with('/') {
                        url.push('/');
                    }
                    sites.push(SiteConfig { name, url });
                }
            }
            "file" => {
                for (k, val) in entries(path, "file", v, &["enabled", "file_store"])? {
                    if k == "enabled" && truthy(val) {
                        return Err(err(
                            path,
                            "file.enabled",
                            "the JSON file store is not supported",
                        ));
                    }
                }
            }
            "database" => {
                for (k, val) in entries(
                    path,
                    "database",
                    v,
                    &[
                        "enabled",
                        "db_host",
                        "db_port",
                        "db_name",
                        "db_schema_import",
                        "db_schema_vn",
                        "db_group",
                        "db_user",
                        "db_pw",
                        "db_secret_key",
                        "db_out_proj",
                    ],
                )? {
                    match k.as_str() {
                        "db_schema_import" => cfg.schema_import = scalar(val).unwrap_or_default(),
                        "db_out_proj" => cfg.out_proj = parse(path, "database.db_out_proj", val)?,
                        "db_host" | "db_port" | "db_name" | "db_user" | "db_pw" => {}
                        _ => {}
                    }
                }
                warnings
                    .push("database connection keys ignored: set VISIONATURE_DATABASE_URL".into());
            }
            _ => {
                for (k, val) in entries(
                    path,
                    "tuning",
                    v,
                    &[
                        "max_list_length",
                        "max_chunks",
                        "max_retry",
                        "max_requests",
                        "retry_delay",
                        "unavailable_delay",
                        "lru_maxsize",
                        "pid_kp",
                        "pid_ki",
                        "pid_kd",
                        "pid_setpoint",
                        "pid_limit_min",
                        "pid_limit_max",
                        "pid_delta_days",
                        "sched_executors",
                    ],
                )? {
                    let key = format!("tuning.{k}");
                    match k.as_str() {
                        "max_list_length" => cfg.max_list_length = parse(path, &key, val)?,
                        "max_chunks" => cfg.max_chunks = parse(path, &key, val)?,
                        "max_retry" => cfg.max_retry = parse(path, &key, val)?,
                        "retry_delay" => {
                            cfg.retry_delay = Duration::from_secs(parse(path, &key, val)?)
                        }
                        "unavailable_delay" => {
                            cfg.unavailable_delay = Duration::from_secs(parse(path, &key, val)?)
                        }
                        "pid_ki" => cfg.pid.ki = parse(path, &key, val)?,
                        "pid_setpoint" => cfg.pid.setpoint = parse(path, &key, val)?,
                        "pid_limit_min" => cfg.pid.limit_min = parse(path, &key, val)?,
                        "pid_limit_max" => cfg.pid.limit_max = parse(path, &key, val)?,
                        "pid_delta_days" => cfg.pid.delta_days = parse(path, &key, val)?,
                        other => {
                            warnings.push(format!("tuning.{other} has no equivalent: ignored"))
                        }
                    }
                }
            }
        }
    }
    if !sites.is_empty() {
        cfg.site = sites;
    }
    cfg.validate()?;
    Ok((cfg, warnings))
}
