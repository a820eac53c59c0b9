//! `--vn-config FILE`: an operator's existing Client-API-VN 2.x YAML configuration, mapped onto
//! `[visionature]` (what the file does not set keeps its `[visionature]` value).
//!
//! A `.toml` file (or one that parses as TOML) is a 3.x configuration, read by
//! [`super::compat_toml`] with the same rules.
//!
//! Mapped: `site.<name>.site` → `[[site]]` (disabled sites left out), `controler.<name>.enabled:
//! false` → the controller left out of every site's `controllers`, `filter.*` (taxo_exclude,
//! territorial_unit_ids, type_date, start_date), `database.db_schema_import` → `schema_import`,
//! `database.db_out_proj` → `out_proj`, `tuning.*` (list length, chunks, retries, delays, PID),
//! `main.admin_mail` → `fix_sync.notify_email` when that is empty. Accepted and not used (with a
//! warning): credentials (`user_email`, `user_pw`, `client_key`, `client_secret`: secrets come from
//! `VN_<SITE>_…` only), database connection keys (the URL comes from `VISIONATURE_DATABASE_URL`),
//! controller schedules (cron replaces the scheduler), `db_schema_vn`, `db_group`,
//! `db_secret_key`, and tuning keys without an equivalent. An unknown key or controller,
//! `filter.end_date` (use `--to`), `json_format: long` and an enabled `file` store are errors
//! naming the key.
//!
//! The file is read into typed structs, one per section ([`File`], [`Site`], [`Tuning`], …), all
//! `deny_unknown_fields`; the sections with names the operator chose (`site`, `controler`) are
//! [`Named`] lists in file order. A key may be left out (`Option`), but a written one counts even
//! when empty (`key:`): an empty section or list is an error, an empty value is an empty
//! [`Scalar`] (false for `enabled`, invalid for a number). Values Client-API-VN takes as numbers
//! or strings alike (`07` and `7`, `'2154'`) are [`Scalar`]s, parsed when mapped so that a bad one
//! names its key; `enabled` is a [`Flag`], `type_date` and `json_format` a [`Choice`] of their
//! closed set. YAML syntax errors and duplicate keys are [`ConfigError::Parse`]; every other error
//! is [`ConfigError::Invalid`] with the file and the key path (`site.ff.colour`), never a value
//! (credentials may be in the file). The shape is checked first: an unknown key anywhere is
//! reported before a refused value.

use std::fmt;
use std::marker::PhantomData;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use serde::de::value::{
    Error as ValueError, MapAccessDeserializer, SeqAccessDeserializer, StrDeserializer,
};
use serde::de::{
    DeserializeOwned, DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess,
    Unexpected, Visitor,
};
use serde::Deserialize;
use serde_yaml_ng::Value;

use super::config::{ControllersFrom, SiteConfig, TypeDate, VisionatureConfig, CONTROLLERS};
use crate::settings::ConfigError;

/// The file: Client-API-VN 2.x's sections.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default, deserialize_with = "mapping")]
    main: Option<Main>,
    #[serde(default, deserialize_with = "mapping")]
    controler: Option<Named<Controller>>,
    #[serde(default, deserialize_with = "mapping")]
    filter: Option<Filter>,
    #[serde(default, deserialize_with = "mapping")]
    site: Option<Named<Site>>,
    #[serde(default, deserialize_with = "mapping")]
    file: Option<FileStore>,
    #[serde(default, deserialize_with = "mapping")]
    database: Option<Database>,
    #[serde(default, deserialize_with = "mapping")]
    tuning: Option<Tuning>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Main {
    admin_mail: Option<Scalar>,
}

/// `controler.<name>`: `enabled: false` leaves the controller out; the schedule is cron's.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code, reason = "accepted and ignored keys are never read")]
struct Controller {
    #[serde(default, deserialize_with = "present")]
    enabled: Option<Flag>,
    schedule: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Filter {
    #[serde(default, deserialize_with = "list")]
    taxo_exclude: Option<Vec<Scalar>>,
    #[serde(default, deserialize_with = "list")]
    territorial_unit_ids: Option<Vec<Scalar>>,
    #[serde(default, deserialize_with = "present")]
    json_format: Option<Choice<JsonFormat>>,
    #[serde(default, deserialize_with = "present")]
    start_date: Option<Scalar>,
    #[serde(default, deserialize_with = "present")]
    end_date: Option<IgnoredAny>,
    #[serde(default, deserialize_with = "present")]
    type_date: Option<Choice<TypeDate>>,
}

/// `filter.json_format`: only `short` is what the client stores in PostgreSQL.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum JsonFormat {
    Short,
    Long,
}

/// `site.<name>`: the credentials are accepted and not used (they come from `VN_<SITE>_…`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code, reason = "accepted and ignored keys are never read")]
struct Site {
    #[serde(default, deserialize_with = "present")]
    enabled: Option<Flag>,
    site: Option<Scalar>,
    user_email: Option<IgnoredAny>,
    user_pw: Option<IgnoredAny>,
    client_key: Option<IgnoredAny>,
    client_secret: Option<IgnoredAny>,
}

/// `file`: the JSON file store, refused when enabled.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code, reason = "accepted and ignored keys are never read")]
struct FileStore {
    enabled: Option<Flag>,
    file_store: Option<IgnoredAny>,
}

/// `database`: the connection comes from `VISIONATURE_DATABASE_URL`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code, reason = "accepted and ignored keys are never read")]
struct Database {
    enabled: Option<IgnoredAny>,
    db_host: Option<IgnoredAny>,
    db_port: Option<IgnoredAny>,
    db_name: Option<IgnoredAny>,
    #[serde(default, deserialize_with = "present")]
    db_schema_import: Option<Scalar>,
    db_schema_vn: Option<IgnoredAny>,
    db_group: Option<IgnoredAny>,
    db_user: Option<IgnoredAny>,
    db_pw: Option<IgnoredAny>,
    db_secret_key: Option<IgnoredAny>,
    #[serde(default, deserialize_with = "present")]
    db_out_proj: Option<Scalar>,
}

/// `tuning`: the keys after `pid_delta_days` have no equivalent (a warning each).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Tuning {
    #[serde(default, deserialize_with = "present")]
    max_list_length: Option<Scalar>,
    #[serde(default, deserialize_with = "present")]
    max_chunks: Option<Scalar>,
    #[serde(default, deserialize_with = "present")]
    max_retry: Option<Scalar>,
    #[serde(default, deserialize_with = "present")]
    retry_delay: Option<Scalar>,
    #[serde(default, deserialize_with = "present")]
    unavailable_delay: Option<Scalar>,
    #[serde(default, deserialize_with = "present")]
    pid_ki: Option<Scalar>,
    #[serde(default, deserialize_with = "present")]
    pid_setpoint: Option<Scalar>,
    #[serde(default, deserialize_with = "present")]
    pid_limit_min: Option<Scalar>,
    #[serde(default, deserialize_with = "present")]
    pid_limit_max: Option<Scalar>,
    #[serde(default, deserialize_with = "present")]
    pid_delta_days: Option<Scalar>,
    #[serde(default, deserialize_with = "present")]
    max_requests: Option<IgnoredAny>,
    #[serde(default, deserialize_with = "present")]
    lru_maxsize: Option<IgnoredAny>,
    #[serde(default, deserialize_with = "present")]
    pid_kp: Option<IgnoredAny>,
    #[serde(default, deserialize_with = "present")]
    pid_kd: Option<IgnoredAny>,
    #[serde(default, deserialize_with = "present")]
    sched_executors: Option<IgnoredAny>,
}

/// A string, number or boolean as text (strings trimmed); `None` for anything else (an empty
/// value, a list, a mapping).
#[derive(Deserialize)]
#[serde(from = "Value")]
struct Scalar(Option<String>);

impl From<Value> for Scalar {
    fn from(v: Value) -> Self {
        Scalar(match v {
            Value::String(s) => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        })
    }
}

/// `enabled`: `true`, `yes`, `on` or `1` (any case); anything else is false.
#[derive(Deserialize, PartialEq)]
#[serde(from = "Scalar")]
struct Flag(bool);

impl From<Scalar> for Flag {
    fn from(s: Scalar) -> Self {
        let s = s.0.map(|s| s.to_ascii_lowercase());
        Flag(matches!(s.as_deref(), Some("true" | "yes" | "on" | "1")))
    }
}

/// A value of a closed set (`T`'s names), read as a [`Scalar`]: anything else is `Other`, which
/// the caller refuses with the key's own message.
enum Choice<T> {
    Is(T),
    Other,
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Choice<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let known = Scalar::deserialize(d)?
            .0
            .and_then(|s| T::deserialize(StrDeserializer::<ValueError>::new(&s)).ok());
        Ok(known.map_or(Choice::Other, Choice::Is))
    }
}

/// A mapping whose keys are names the operator chose (sites, controllers), in file order; each
/// value must be a mapping.
struct Named<T>(Vec<(String, T)>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Named<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entries<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Entries<T> {
            type Value = Named<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Named<T>, A::Error> {
                let mut out = Vec::new();
                while let Some(Scalar(name)) = m.next_key()? {
                    out.push((name.unwrap_or_default(), m.next_value_seed(NonNull::MAP)?));
                }
                Ok(Named(out))
            }
        }
        d.deserialize_map(Entries(PhantomData))
    }
}

/// Reads a `T` that must be a mapping (a struct, [`Named`]) or a list, and not empty:
/// serde_yaml_ng would read YAML null as an empty one. Going through `deserialize_any` keeps the
/// key path in errors.
struct NonNull<T> {
    map: bool,
    of: PhantomData<T>,
}

impl<T> NonNull<T> {
    const MAP: Self = NonNull {
        map: true,
        of: PhantomData,
    };
    const SEQUENCE: Self = NonNull {
        map: false,
        of: PhantomData,
    };
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for NonNull<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(if self.map { "a map" } else { "a sequence" })
    }
    fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<T, A::Error> {
        if !self.map {
            return Err(A::Error::invalid_type(Unexpected::Map, &self));
        }
        T::deserialize(MapAccessDeserializer::new(m))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, s: A) -> Result<T, A::Error> {
        if self.map {
            return Err(A::Error::invalid_type(Unexpected::Seq, &self));
        }
        T::deserialize(SeqAccessDeserializer::new(s))
    }
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for NonNull<T> {
    type Value = T;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        d.deserialize_any(self)
    }
}

/// `deserialize_with` of a section: present means a mapping.
fn mapping<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    NonNull::MAP.deserialize(d).map(Some)
}

/// `deserialize_with` of a list: present means a sequence (of [`Scalar`]s; other items are
/// dropped when mapped).
fn list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<Scalar>>, D::Error> {
    NonNull::SEQUENCE.deserialize(d).map(Some)
}

/// `deserialize_with` of a key whose empty value (`key:`) still counts as written.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

pub(crate) fn err(path: &Path, key: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: format!("{} ({key})", path.display()),
        reason: reason.into(),
    }
}

/// A serde error of the typed read (`{key.path}: {message} at line L column C`, no path at the
/// top level) as the key it names and a reason of our own: serde's message may quote a value.
fn shape_error(path: &Path, e: &serde_yaml_ng::Error) -> ConfigError {
    let text = e.to_string();
    let (at, message) = ["unknown field `", "invalid type: "]
        .iter()
        .find_map(|m| {
            if text.starts_with(m) {
                Some(("", text.as_str()))
            } else {
                let i = text.find(&format!(": {m}"))?;
                Some((&text[..i], &text[i + 2..]))
            }
        })
        .unwrap_or(("", text.as_str()));
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let field = rest.split('`').next().unwrap_or_default();
        let key = if at.is_empty() {
            field.to_string()
        } else {
            format!("{at}.{field}")
        };
        return err(path, &key, "is not a Client-API-VN 2.x key");
    }
    let expected = message.rsplit_once(", expected ").map(|(_, x)| x);
    let reason = match expected {
        Some(x) if x.starts_with("a map") || x.starts_with("struct ") => "must be a mapping",
        Some(x) if x.starts_with("a sequence") => "must be a list",
        _ => "has an invalid value",
    };
    err(path, at, reason)
}

/// The number (or other parsed value) of a written key, or an error naming it.
fn parse<T: FromStr>(path: &Path, key: &str, v: Option<Scalar>) -> Result<Option<T>, ConfigError> {
    v.map(|s| {
        s.0.and_then(|s| s.parse().ok())
            .ok_or_else(|| err(path, key, "has an invalid value"))
    })
    .transpose()
}

/// Sets `slot` from a written key.
fn set<T: FromStr>(
    slot: &mut T,
    path: &Path,
    key: &str,
    v: Option<Scalar>,
) -> Result<(), ConfigError> {
    if let Some(x) = parse(path, key, v)? {
        *slot = x;
    }
    Ok(())
}

fn strings(list: Vec<Scalar>) -> Vec<String> {
    list.into_iter().filter_map(|s| s.0).collect()
}

/// Leaves the controllers `off` out of every site of `cfg`, `from` naming the file that chose
/// them.
pub(crate) fn disable(cfg: &mut VisionatureConfig, off: &[String], from: &ControllersFrom) {
    for site in &mut cfg.site {
        site.controllers.retain(|c| !off.contains(c));
        site.controllers_from = from.clone();
    }
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
    if super::compat_toml::is_toml(path, &text) {
        return super::compat_toml::load(path, &text, base);
    }
    // Syntax errors and duplicate keys first, as serde_yaml_ng words them.
    let root: Value = serde_yaml_ng::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.display().to_string(),
        message: e.to_string().chars().take(200).collect(),
    })?;
    if !root.is_mapping() {
        return Err(err(path, "", "must be a mapping"));
    }
    let file: File = serde_yaml_ng::from_str(&text).map_err(|e| shape_error(path, &e))?;
    let mut cfg = base.clone();
    let mut warnings = Vec::new();
    if let Some(main) = file.main {
        if let Some(mail) = main.admin_mail.and_then(|m| m.0) {
            if cfg.fix_sync.notify_email.is_empty() {
                cfg.fix_sync.notify_email = vec![mail];
            }
        }
    }
    // `controler.<name>.enabled: false`: never requested, for every site of the file.
    let mut disabled = None;
    if let Some(controllers) = file.controler {
        let mut off = Vec::new();
        for (name, c) in controllers.0 {
            if !CONTROLLERS.contains(&name.as_str()) {
                return Err(err(
                    path,
                    &format!("controler.{}", crate::text::clip(&name)),
                    "is not a Client-API-VN controller",
                ));
            }
            if c.enabled == Some(Flag(false)) {
                off.push(name);
            }
        }
        disabled = Some(off);
        warnings.push(
            "controler.*.schedule ignored: use the cron lines of docs/syncs/visionature.md".into(),
        );
    }
    if let Some(f) = file.filter {
        if let Some(list) = f.taxo_exclude {
            cfg.filter.taxo_exclude = strings(list);
        }
        if let Some(list) = f.territorial_unit_ids {
            cfg.filter.territorial_unit_ids = strings(list);
        }
        if let Some(Choice::Is(JsonFormat::Long) | Choice::Other) = f.json_format {
            return Err(err(
                path,
                "filter.json_format",
                "only \"short\" is supported (as the client required for PostgreSQL)",
            ));
        }
        if let Some(Scalar(s)) = f.start_date {
            let s = s.unwrap_or_default();
            cfg.filter.start_date = s.get(..10).unwrap_or(&s).to_string();
        }
        if f.end_date.is_some() {
            return Err(err(
                path,
                "filter.end_date",
                "is not supported: use transfer --full --to DATE",
            ));
        }
        match f.type_date {
            Some(Choice::Is(t)) => cfg.filter.type_date = t,
            Some(Choice::Other) => {
                return Err(err(path, "filter.type_date", "must be sighting or entry"))
            }
            None => {}
        }
    }
    let mut sites = Vec::new();
    for (name, s) in file.site.map(|n| n.0).unwrap_or_default() {
        let vars = super::config::secret_vars(&name).join(", ");
        warnings.push(format!(
            "site.{name}: credentials in the file are not used: set {vars} in the environment"
        ));
        if s.enabled == Some(Flag(false)) {
            continue;
        }
        let mut url = s
            .site
            .and_then(|u| u.0)
            .ok_or_else(|| err(path, &format!("site.{name}.site"), "is missing"))?;
        if !url.ends_with('/') {
            url.push('/');
        }
        sites.push(SiteConfig::new(&name, &url));
    }
    if file.file.is_some_and(|f| f.enabled == Some(Flag(true))) {
        return Err(err(
            path,
            "file.enabled",
            "the JSON file store is not supported",
        ));
    }
    if let Some(db) = file.database {
        if let Some(Scalar(s)) = db.db_schema_import {
            cfg.schema_import = s.unwrap_or_default();
        }
        set(
            &mut cfg.out_proj,
            path,
            "database.db_out_proj",
            db.db_out_proj,
        )?;
        warnings.push("database connection keys ignored: set VISIONATURE_DATABASE_URL".into());
    }
    if let Some(t) = file.tuning {
        let key = |k: &str| format!("tuning.{k}");
        set(
            &mut cfg.max_list_length,
            path,
            &key("max_list_length"),
            t.max_list_length,
        )?;
        set(&mut cfg.max_chunks, path, &key("max_chunks"), t.max_chunks)?;
        set(&mut cfg.http.retries, path, &key("max_retry"), t.max_retry)?;
        if let Some(s) = parse(path, &key("retry_delay"), t.retry_delay)? {
            cfg.http.retry_delay = Duration::from_secs(s);
        }
        if let Some(s) = parse(path, &key("unavailable_delay"), t.unavailable_delay)? {
            cfg.http.unavailable_delay = Duration::from_secs(s);
        }
        set(&mut cfg.pid.ki, path, &key("pid_ki"), t.pid_ki)?;
        set(
            &mut cfg.pid.setpoint,
            path,
            &key("pid_setpoint"),
            t.pid_setpoint,
        )?;
        set(
            &mut cfg.pid.limit_min,
            path,
            &key("pid_limit_min"),
            t.pid_limit_min,
        )?;
        set(
            &mut cfg.pid.limit_max,
            path,
            &key("pid_limit_max"),
            t.pid_limit_max,
        )?;
        set(
            &mut cfg.pid.delta_days,
            path,
            &key("pid_delta_days"),
            t.pid_delta_days,
        )?;
        let ignored = [
            ("max_requests", t.max_requests),
            ("lru_maxsize", t.lru_maxsize),
            ("pid_kp", t.pid_kp),
            ("pid_kd", t.pid_kd),
            ("sched_executors", t.sched_executors),
        ];
        for (k, _) in ignored.iter().filter(|(_, v)| v.is_some()) {
            warnings.push(format!("tuning.{k} has no equivalent: ignored"));
        }
    }
    if !sites.is_empty() {
        cfg.site = sites;
    }
    if let Some(off) = disabled {
        disable(&mut cfg, &off, &ControllersFrom::Yaml(path.to_path_buf()));
    }
    cfg.validate()?;
    Ok((cfg, warnings))
}
