//! `[visionature]`: the settings of the visionature sync (docs/syncs/visionature.md §2), with its
//! defaults. Secrets (API credentials, database URL, SMTP URL) come from the environment only. What
//! can fail: [`VisionatureConfig::validate`] names the first invalid key (schema names, time zone,
//! projection, dates, site names and URLs, PID limits).

use std::time::Duration;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::settings::ConfigError;
use crate::syncs::http::{HttpBlock, HttpSettings};

/// Which date a search window applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TypeDate {
    /// The date of the sighting.
    #[default]
    Sighting,
    /// The date it was entered (catches late-entered old sightings).
    Entry,
}

/// The `[visionature]` section.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct VisionatureConfig {
    /// Production schema.
    pub schema_import: String,
    /// Schema of the check copy (fix-sync's source).
    pub check_schema: String,
    /// IANA zone of the sites: watermarks, diff dates, forms' dates.
    pub site_timezone: String,
    /// EPSG code of the local projected coordinates (`coord_x_local`/`coord_y_local`).
    pub out_proj: u16,
    /// Sightings per `id_sightings_list` request.
    pub max_list_length: usize,
    /// Most `pagination_key` chunks of one request.
    pub max_chunks: usize,
    /// `[visionature.http]`: timeouts, size cap and retries of every request ([`HttpSettings`]).
    #[serde(deserialize_with = "crate::syncs::http::block::<_, VisionatureConfig>")]
    pub http: HttpSettings,
    /// Longest a site's run (or a fix-sync) may last before it stops itself.
    #[serde(with = "crate::settings::duration")]
    pub max_run: Duration,
    /// Watermarks are `now − diff_overlap`.
    #[serde(with = "crate::settings::duration")]
    pub diff_overlap: Duration,
    /// Older watermarks use a windowed search instead of the diff endpoint (≤ 10 weeks back).
    #[serde(with = "crate::settings::duration")]
    pub diff_max_age: Duration,
    /// How long fix-sync waits for the production lock.
    #[serde(with = "crate::settings::duration")]
    pub lock_wait: Duration,
    /// `count`: a taxo group differs when its stored and remote counts differ by more than this
    /// fraction of the remote count (0.01 = 1 %).
    pub count_tolerance: f64,
    pub filter: FilterConfig,
    pub pid: PidConfig,
    pub refresh: RefreshConfig,
    pub fix_sync: FixSyncConfig,
    /// The sites (`[[visionature.site]]`).
    pub site: Vec<SiteConfig>,
}

/// `filter = {…}`: what to download.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct FilterConfig {
    /// `name_constant`s of taxo groups not to download.
    pub taxo_exclude: Vec<String>,
    /// Territorial units (`short_name`, also the `id_canton` of local admin units); empty = all.
    pub territorial_unit_ids: Vec<String>,
    pub type_date: TypeDate,
    /// Oldest date a full transfer reads (`YYYY-MM-DD`).
    pub start_date: String,
}

/// `pid = {…}`: the adaptive search window.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PidConfig {
    /// Target sightings per search request.
    pub setpoint: f64,
    pub ki: f64,
    /// Window bounds, days.
    pub limit_min: f64,
    pub limit_max: f64,
    /// First window, days.
    pub delta_days: u32,
}

/// `refresh = {…}`: how old a reference list may get before `--update` downloads it again.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RefreshConfig {
    #[serde(with = "crate::settings::duration")]
    pub observers: Duration,
    #[serde(with = "crate::settings::duration")]
    pub fields: Duration,
    /// Every other reference controller.
    #[serde(with = "crate::settings::duration")]
    pub other: Duration,
}

/// `fix_sync = {…}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct FixSyncConfig {
    pub window_days: u32,
    pub type_date: TypeDate,
    /// Recipients of the summary mail (none: no mail).
    pub notify_email: Vec<String>,
    /// Sender of the summary mail.
    pub mail_from: String,
}

/// The controllers a site may download (Client-API-VN's names): `observations` (the sightings
/// and forms) and the reference lists.
pub const CONTROLLERS: &[&str] = &[
    "entities",
    "families",
    "fields",
    "local_admin_units",
    "observations",
    "observers",
    "places",
    "species",
    "taxo_groups",
    "territorial_units",
    "validations",
];

/// `[[visionature.site]]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    /// Value of every `site` column; also names the `VN_<NAME>_…` secrets.
    pub name: String,
    /// Base URL, ending with `/` (the API is `{url}api/`).
    pub url: String,
    /// The controllers downloaded ([`CONTROLLERS`]; default all, as Client-API-VN's template).
    /// A controller left out is never requested and its table is left as it is (`taxo_groups`
    /// is still read, as the healthcheck and the list of groups, but not stored).
    #[serde(default = "all_controllers")]
    pub controllers: Vec<String>,
    /// Which setting chose `controllers` (not a key: `--vn-config` sets it), for messages.
    #[serde(skip)]
    pub controllers_from: ControllersFrom,
}

fn all_controllers() -> Vec<String> {
    CONTROLLERS.iter().map(|c| c.to_string()).collect()
}

/// Where a site's controllers were chosen: what an operator edits to stop downloading one.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ControllersFrom {
    /// `controllers` of `[[visionature.site]]`.
    #[default]
    Settings,
    /// `controler.<name>.enabled` of a Client-API-VN 2.x YAML.
    Yaml(std::path::PathBuf),
    /// `[controler.<name>] enabled` of a Client-API-VN 3.x TOML.
    Toml(std::path::PathBuf),
}

impl SiteConfig {
    /// A site downloading every controller (chosen by `[visionature]`).
    pub fn new(name: &str, url: &str) -> SiteConfig {
        SiteConfig {
            name: name.into(),
            url: url.into(),
            controllers: all_controllers(),
            controllers_from: ControllersFrom::Settings,
        }
    }

    /// Whether `controller` is downloaded.
    pub fn downloads(&self, controller: &str) -> bool {
        self.controllers.iter().any(|c| c == controller)
    }

    /// The setting that stops downloading `controller`, in the words of the file that chose it.
    pub fn how_to_disable(&self, controller: &str) -> String {
        match &self.controllers_from {
            ControllersFrom::Settings => format!(
                "leave \"{controller}\" out of visionature.site.controllers of site {} (the default lists every controller)",
                self.name
            ),
            ControllersFrom::Yaml(p) => format!(
                "set controler.{controller}.enabled: false in {}",
                p.display()
            ),
            ControllersFrom::Toml(p) => format!(
                "set enabled = false in [controler.{controller}] of {}",
                p.display()
            ),
        }
    }
}

/// `[visionature.http]`: its defaults, and the old flat keys of `[visionature]` it takes over (read as
/// aliases, docs/syncs/README.md §5).
impl HttpBlock for VisionatureConfig {
    const OLD_HTTP_KEYS: &'static [(&'static str, &'static str)] = &[
        ("http_timeout", "timeout"),
        ("max_retry", "retries"),
        ("retry_delay", "retry_delay"),
        ("unavailable_delay", "unavailable_delay"),
    ];

    /// The defaults of `[visionature.http]` (a 503 announces maintenance: wait 10 minutes).
    fn http_defaults() -> HttpSettings {
        HttpSettings {
            connect_timeout: Duration::from_secs(30),
            unavailable_delay: Duration::from_secs(600),
            ..HttpSettings::default()
        }
    }
}

impl Default for VisionatureConfig {
    fn default() -> Self {
        VisionatureConfig {
            schema_import: "src_vn_json".into(),
            check_schema: "src_vn_json_check".into(),
            site_timezone: "Europe/Paris".into(),
            out_proj: 2154,
            max_list_length: 100,
            max_chunks: 1000,
            http: Self::http_defaults(),
            max_run: Duration::from_secs(48 * 3600),
            diff_overlap: Duration::from_secs(15 * 60),
            diff_max_age: Duration::from_secs(70 * 86400),
            lock_wait: Duration::from_secs(30 * 60),
            count_tolerance: 0.01,
            filter: FilterConfig::default(),
            pid: PidConfig::default(),
            refresh: RefreshConfig::default(),
            fix_sync: FixSyncConfig::default(),
            site: Vec::new(),
        }
    }
}

impl Default for FilterConfig {
    fn default() -> Self {
        FilterConfig {
            taxo_exclude: Vec::new(),
            territorial_unit_ids: Vec::new(),
            type_date: TypeDate::Sighting,
            start_date: "1900-01-01".into(),
        }
    }
}

impl Default for PidConfig {
    fn default() -> Self {
        PidConfig {
            setpoint: 10000.0,
            ki: 0.003,
            limit_min: 5.0,
            limit_max: 2000.0,
            delta_days: 15,
        }
    }
}

impl Default for RefreshConfig {
    fn default() -> Self {
        RefreshConfig {
            observers: Duration::from_secs(86400),
            fields: Duration::from_secs(30 * 86400),
            other: Duration::from_secs(7 * 86400),
        }
    }
}

impl Default for FixSyncConfig {
    fn default() -> Self {
        FixSyncConfig {
            window_days: 14,
            type_date: TypeDate::Entry,
            notify_email: Vec::new(),
            mail_from: "data-tasks@localhost".into(),
        }
    }
}

fn invalid(key: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: format!("visionature.{key}"),
        reason: reason.into(),
    }
}

impl RefreshConfig {
    /// The refresh age of `controller`.
    pub fn of(&self, controller: &str) -> Duration {
        match controller {
            "observers" => self.observers,
            "fields" => self.fields,
            _ => self.other,
        }
    }
}

impl VisionatureConfig {
    /// `[visionature.http]`, validated (its old flat keys were folded in when the file was read).
    pub fn http_settings(&self) -> Result<HttpSettings, ConfigError> {
        self.http.validate("visionature.http")?;
        Ok(self.http.clone())
    }

    /// Checks what can be checked without the network.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.http_settings()?;
        if self.max_run.is_zero() {
            return Err(invalid("max_run", "must be positive"));
        }
        crate::settings::check_schema("visionature.schema_import", &self.schema_import)?;
        crate::settings::check_schema("visionature.check_schema", &self.check_schema)?;
        if self.schema_import == self.check_schema {
            return Err(invalid(
                "check_schema",
                "must differ from schema_import (fix-sync repairs one from the other)",
            ));
        }
        self.timezone()?;
        crate::syncs::visionature::proj::Projector::new(self.out_proj)
            .map_err(|e| invalid("out_proj", e.to_string()))?;
        self.start_date()?;
        if self.max_list_length == 0 || self.max_list_length > 1000 {
            return Err(invalid("max_list_length", "must be within 1..=1000"));
        }
        if !(self.count_tolerance >= 0.0 && self.count_tolerance.is_finite()) {
            return Err(invalid(
                "count_tolerance",
                "must be a fraction >= 0 (0.01 = 1 %)",
            ));
        }
        if self.max_chunks == 0 {
            return Err(invalid("max_chunks", "must be at least 1"));
        }
        let p = &self.pid;
        if !(p.limit_min >= 1.0 && p.limit_min <= p.limit_max) || p.delta_days == 0 {
            return Err(invalid(
                "pid",
                "needs 1 <= limit_min <= limit_max and delta_days >= 1",
            ));
        }
        if self.fix_sync.window_days == 0 {
            return Err(invalid("fix_sync.window_days", "must be at least 1"));
        }
        for mail in &self.fix_sync.notify_email {
            if mail.parse::<lettre::Address>().is_err() {
                return Err(invalid(
                    "fix_sync.notify_email",
                    format!("{mail:?} is not a mail address"),
                ));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, s) in self.site.iter().enumerate() {
            if s.name.is_empty()
                || !s
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(invalid(
                    &format!("site[{i}].name"),
                    format!("{:?} must be letters, digits, '-' or '_'", s.name),
                ));
            }
            if !seen.insert(s.name.clone()) {
                return Err(invalid(
                    &format!("site[{i}].name"),
                    format!("{:?} appears twice", s.name),
                ));
            }
            if let Some(c) = s
                .controllers
                .iter()
                .find(|c| !CONTROLLERS.contains(&c.as_str()))
            {
                return Err(invalid(
                    &format!("site[{i}].controllers"),
                    format!(
                        "{:?} is not a controller (known: {})",
                        c.chars().take(40).collect::<String>(),
                        CONTROLLERS.join(", ")
                    ),
                ));
            }
            if !(s.url.starts_with("http://") || s.url.starts_with("https://"))
                || !s.url.ends_with('/')
                || url::Url::parse(&s.url).is_err()
            {
                return Err(invalid(
                    &format!("site[{i}].url"),
                    format!("{:?} must be an http(s) URL ending with '/'", s.url),
                ));
            }
        }
        Ok(())
    }

    /// The sites' time zone.
    pub fn timezone(&self) -> Result<chrono_tz::Tz, ConfigError> {
        self.site_timezone.parse::<chrono_tz::Tz>().map_err(|_| {
            invalid(
                "site_timezone",
                format!("{:?} is not an IANA time zone", self.site_timezone),
            )
        })
    }

    /// `filter.start_date`.
    pub fn start_date(&self) -> Result<NaiveDate, ConfigError> {
        NaiveDate::parse_from_str(self.filter.start_date.trim(), "%Y-%m-%d").map_err(|_| {
            invalid(
                "filter.start_date",
                format!("{:?} is not a YYYY-MM-DD date", self.filter.start_date),
            )
        })
    }
}

/// The environment variables holding a site's secrets: `VN_<SITE>_USER_EMAIL`, `…_USER_PW`,
/// `…_CLIENT_KEY`, `…_CLIENT_SECRET` (`<SITE>` upper-cased, `-` → `_`).
pub fn secret_vars(site: &str) -> [String; 4] {
    let s = site.to_ascii_uppercase().replace('-', "_");
    [
        format!("VN_{s}_USER_EMAIL"),
        format!("VN_{s}_USER_PW"),
        format!("VN_{s}_CLIENT_KEY"),
        format!("VN_{s}_CLIENT_SECRET"),
    ]
}
