//! `--vn-config FILE.toml`: an operator's Client-API-VN 3.x configuration (one TOML file per
//! site), mapped onto `[visionature]` like the 2.x YAML of [`super::compat`] and with the same
//! rules: what the file does not set keeps its `[visionature]` value; an unknown key anywhere is
//! an error naming it (checked before any value); credentials and database connection keys are
//! accepted with a warning and not used (secrets come from `VN_<SITE>_…` and
//! `VISIONATURE_DATABASE_URL`); errors name the file and the key, never a value.
//!
//! Mapped: `[site]` (`name`, `site_url`; a disabled site is left out), `[controler.<name>]
//! enabled = false` → the controller is left out of the site's `controllers`, `[filter]`
//! (`territorial_unit_ids`, `type_date`, `start_date` as a TOML date or a string,
//! `[filter.taxo_download]` → `taxo_exclude` = the groups set to `false`),
//! `database.db_schema_import`, `database.db_out_proj`, `[tuning]` (list length, chunks, retries,
//! delays, PID), `main.admin_mail` → `fix_sync.notify_email` when that is empty. Refused as in
//! 2.x: `filter.end_date` (use `--to`), `json_format = "long"`, an enabled `[file]` store.
//! Ignored with a warning: controller schedules (cron), tuning keys without an equivalent
//! (`max_requests`, `lru_maxsize`, `pid_kp`, `pid_kd`, `sched_executors`, `sched_sqllite_file`).

use std::path::Path;
use std::time::Duration;

use toml::{Table, Value};

use super::compat::{disable, err};
use super::config::{
    secret_vars, ControllersFrom, SiteConfig, TypeDate, VisionatureConfig, CONTROLLERS,
};
use crate::settings::ConfigError;

/// The keys of each section (`controler.<name>` and `filter.taxo_download` have names the operator
/// chose, checked apart).
const MAIN: &[&str] = &["admin_mail"];
const CONTROLLER: &[&str] = &["enabled", "schedule"];
const SCHEDULE: &[&str] = &[
    "year",
    "month",
    "day",
    "week",
    "day_of_week",
    "hour",
    "minute",
    "second",
];
const FILTER: &[&str] = &[
    "territorial_unit_ids",
    "start_date",
    "end_date",
    "type_date",
    "json_format",
    "taxo_download",
];
const SITE: &[&str] = &[
    "name",
    "enabled",
    "site_url",
    "user_email",
    "user_pw",
    "client_key",
    "client_secret",
];
const FILE: &[&str] = &["enabled", "file_store"];
const DATABASE: &[&str] = &[
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
];
const TUNING_IGNORED: &[&str] = &[
    "max_requests",
    "lru_maxsize",
    "pid_kp",
    "pid_kd",
    "sched_executors",
    "sched_sqllite_file",
];
const TUNING: &[&str] = &[
    "max_list_length",
    "max_chunks",
    "max_retry",
    "retry_delay",
    "unavailable_delay",
    "pid_ki",
    "pid_setpoint",
    "pid_limit_min",
    "pid_limit_max",
    "pid_delta_days",
];

/// Whether `text` is to be read as TOML: a `.toml` file, or (another name) a text that parses as
/// TOML; anything else is read as the 2.x YAML.
pub(crate) fn is_toml(path: &Path, text: &str) -> bool {
    match path.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("toml") => true,
        Some(e) if e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml") => false,
        _ => text.parse::<Table>().is_ok_and(|t| !t.is_empty()),
    }
}

/// One file being read: its path, for errors.
struct File<'a> {
    path: &'a Path,
}

impl File<'_> {
    fn invalid(&self, key: &str, reason: &str) -> ConfigError {
        err(self.path, key, reason)
    }

    /// `v` as a table, or an error naming `key`.
    fn table<'v>(&self, key: &str, v: &'v Value) -> Result<&'v Table, ConfigError> {
        v.as_table()
            .ok_or_else(|| self.invalid(key, "must be a table"))
    }

    /// Every key of `t` (at `at`) is one of `known`.
    fn keys(&self, at: &str, t: &Table, known: &[&str]) -> Result<(), ConfigError> {
        match t.keys().find(|k| !known.contains(&k.as_str())) {
            Some(k) => Err(self.invalid(
                &format!("{at}.{}", crate::text::clip(k)),
                "is not a Client-API-VN 3.x key",
            )),
            None => Ok(()),
        }
    }

    /// The whole file's keys and tables, before any value is read.
    fn shape(&self, root: &Table) -> Result<(), ConfigError> {
        let sections: &[(&str, &[&str])] = &[
            ("main", MAIN),
            ("controler", &[]),
            ("filter", FILTER),
            ("site", SITE),
            ("file", FILE),
            ("database", DATABASE),
            ("tuning", &[]),
        ];
        for (name, v) in root {
            let Some((_, known)) = sections.iter().find(|(s, _)| *s == name.as_str()) else {
                return Err(
                    self.invalid(&crate::text::clip(name), "is not a Client-API-VN 3.x key")
                );
            };
            let t = self.table(name, v)?;
            match name.as_str() {
                "controler" => {
                    for (c, v) in t {
                        let at = format!("controler.{}", crate::text::clip(c));
                        if !CONTROLLERS.contains(&c.as_str()) {
                            return Err(self.invalid(&at, "is not a Client-API-VN controller"));
                        }
                        let ct = self.table(&at, v)?;
                        self.keys(&at, ct, CONTROLLER)?;
                        if let Some(s) = ct.get("schedule") {
                            let at = format!("{at}.schedule");
                            self.keys(&at, self.table(&at, s)?, SCHEDULE)?;
                        }
                    }
                }
                "tuning" => {
                    let known: Vec<&str> = TUNING.iter().chain(TUNING_IGNORED).copied().collect();
                    self.keys(name, t, &known)?;
                }
                _ => self.keys(name, t, known)?,
            }
            if let Some(td) = t.get("taxo_download").filter(|_| name == "filter") {
                self.table("filter.taxo_download", td)?;
            }
        }
        Ok(())
    }

    /// A string, number, boolean or date as text (strings trimmed); `None` for a table or array.
    fn scalar(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.trim().to_string()),
            Value::Integer(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Boolean(b) => Some(b.to_string()),
            Value::Datetime(d) => Some(d.to_string()),
            Value::Array(_) | Value::Table(_) => None,
        }
    }

    /// `enabled`-like flags: a boolean, or `true`/`yes`/`on`/`1` as text; anything else false.
    fn flag(v: &Value) -> bool {
        let s = Self::scalar(v).map(|s| s.to_ascii_lowercase());
        matches!(s.as_deref(), Some("true" | "yes" | "on" | "1"))
    }

    /// The parsed value of `t[key]` (at `at`), if written.
    fn parse<T: std::str::FromStr>(
        &self,
        at: &str,
        t: &Table,
        key: &str,
    ) -> Result<Option<T>, ConfigError> {
        t.get(key)
            .map(|v| {
                Self::scalar(v)
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| self.invalid(&format!("{at}.{key}"), "has an invalid value"))
            })
            .transpose()
    }

    fn set<T: std::str::FromStr>(
        &self,
        slot: &mut T,
        at: &str,
        t: &Table,
        key: &str,
    ) -> Result<(), ConfigError> {
        if let Some(x) = self.parse(at, t, key)? {
            *slot = x;
        }
        Ok(())
    }

    /// A list of scalars (other items dropped).
    fn strings(&self, key: &str, v: &Value) -> Result<Vec<String>, ConfigError> {
        let list = v
            .as_array()
            .ok_or_else(|| self.invalid(key, "must be a list"))?;
        Ok(list.iter().filter_map(Self::scalar).collect())
    }
}

/// Reads the TOML `text` of `path` onto `base`; returns the configuration and the warnings about
/// ignored keys.
pub(crate) fn load(
    path: &Path,
    text: &str,
    base: &VisionatureConfig,
) -> Result<(VisionatureConfig, Vec<String>), ConfigError> {
    // The parser's own message quotes the line; only its reason and position are kept (a
    // credential may be on that line).
    let root: Table = text.parse().map_err(|e: toml::de::Error| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
        ConfigError::Parse {
            path: path.display().to_string(),
            message: format!(
                "{}{}",
                line.map(|l| format!("line {l}: ")).unwrap_or_default(),
                e.message().chars().take(200).collect::<String>()
            ),
        }
    })?;
    let f = File { path };
    f.shape(&root)?;
    let mut cfg = base.clone();
    let mut warnings = Vec::new();
    let section = |name: &str| root.get(name).and_then(Value::as_table);
    if let Some(mail) = section("main")
        .and_then(|m| m.get("admin_mail"))
        .and_then(File::scalar)
    {
        if cfg.fix_sync.notify_email.is_empty() && !mail.is_empty() {
            cfg.fix_sync.notify_email = vec![mail];
        }
    }
    let mut disabled = None;
    if let Some(ctl) = section("controler") {
        let off: Vec<String> = ctl
            .iter()
            .filter(|(_, v)| v.get("enabled").is_some_and(|e| !File::flag(e)))
            .map(|(c, _)| c.clone())
            .collect();
        disabled = Some(off);
        if ctl.values().any(|v| v.get("schedule").is_some()) {
            warnings.push(
                "controler.*.schedule ignored: use the cron lines of docs/syncs/visionature.md"
                    .into(),
            );
        }
    }
    if let Some(flt) = section("filter") {
        if let Some(v) = flt.get("territorial_unit_ids") {
            cfg.filter.territorial_unit_ids = f.strings("filter.territorial_unit_ids", v)?;
        }
        if let Some(td) = flt.get("taxo_download").and_then(Value::as_table) {
            cfg.filter.taxo_exclude = td
                .iter()
                .filter(|(_, v)| !File::flag(v))
                .map(|(k, _)| k.clone())
                .collect();
        }
        if let Some(v) = flt.get("json_format") {
            if File::scalar(v).as_deref() != Some("short") {
                return Err(f.invalid(
                    "filter.json_format",
                    "only \"short\" is supported (as the client requires for PostgreSQL)",
                ));
            }
        }
        if let Some(v) = flt.get("start_date") {
            let s = File::scalar(v).unwrap_or_default();
            cfg.filter.start_date = s.get(..10).unwrap_or(&s).to_string();
        }
        if flt.contains_key("end_date") {
            return Err(f.invalid(
                "filter.end_date",
                "is not supported: use transfer --full --to DATE",
            ));
        }
        if let Some(v) = flt.get("type_date") {
            cfg.filter.type_date = match File::scalar(v).as_deref() {
                Some("sighting") => TypeDate::Sighting,
                Some("entry") => TypeDate::Entry,
                _ => return Err(f.invalid("filter.type_date", "must be sighting or entry")),
            };
        }
    }
    if let Some(site) = section("site") {
        let name = site
            .get("name")
            .and_then(File::scalar)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| f.invalid("site.name", "is missing"))?;
        if ["user_email", "user_pw", "client_key", "client_secret"]
            .iter()
            .any(|k| site.contains_key(*k))
        {
            warnings.push(format!(
                "site: credentials in the file are not used: set {} in the environment",
                secret_vars(&name).join(", ")
            ));
        }
        if site.get("enabled").is_none_or(File::flag) {
            let mut url = site
                .get("site_url")
                .and_then(File::scalar)
                .filter(|u| !u.is_empty())
                .ok_or_else(|| f.invalid("site.site_url", "is missing"))?;
            if !url.ends_with('/') {
                url.push('/');
            }
            cfg.site = vec![SiteConfig::new(&name, &url)];
        }
    }
    if section("file")
        .and_then(|t| t.get("enabled"))
        .is_some_and(File::flag)
    {
        return Err(f.invalid(
            "file.enabled",
            "the JSON file store is not supported: set it to false",
        ));
    }
    if let Some(db) = section("database") {
        if let Some(s) = db.get("db_schema_import") {
            cfg.schema_import = File::scalar(s).unwrap_or_default();
        }
        f.set(&mut cfg.out_proj, "database", db, "db_out_proj")?;
        warnings.push("database connection keys ignored: set VISIONATURE_DATABASE_URL".into());
    }
    if let Some(t) = section("tuning") {
        let at = "tuning";
        f.set(&mut cfg.max_list_length, at, t, "max_list_length")?;
        f.set(&mut cfg.max_chunks, at, t, "max_chunks")?;
        f.set(&mut cfg.http.retries, at, t, "max_retry")?;
        if let Some(s) = f.parse(at, t, "retry_delay")? {
            cfg.http.retry_delay = Duration::from_secs(s);
        }
        if let Some(s) = f.parse(at, t, "unavailable_delay")? {
            cfg.http.unavailable_delay = Duration::from_secs(s);
        }
        f.set(&mut cfg.pid.ki, at, t, "pid_ki")?;
        f.set(&mut cfg.pid.setpoint, at, t, "pid_setpoint")?;
        f.set(&mut cfg.pid.limit_min, at, t, "pid_limit_min")?;
        f.set(&mut cfg.pid.limit_max, at, t, "pid_limit_max")?;
        f.set(&mut cfg.pid.delta_days, at, t, "pid_delta_days")?;
        for k in TUNING_IGNORED.iter().filter(|k| t.contains_key(**k)) {
            warnings.push(format!("tuning.{k} has no equivalent: ignored"));
        }
    }
    if let Some(off) = disabled {
        disable(&mut cfg, &off, &ControllersFrom::Toml(path.to_path_buf()));
    }
    cfg.validate()?;
    Ok((cfg, warnings))
}
