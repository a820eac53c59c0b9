//! `[gn2pg]`: the settings of the gn2pg sync (docs/syncs/gn2pg.md §2) and the source names.
//!
//! One `[[gn2pg.source]]` is one remote GeoNature export. Passwords are not configuration: they
//! come from `GN2PG_<STD_NAME upper-cased>_PASSWORD` ([`SourceConfig::password_var`]), or, while
//! migrating, from an operator's gn2pg-client file (see [`super::compat`]). [`std_name`] is the
//! client's normalisation of a source name, byte for byte: it is the `source` column every
//! operator trigger joins on. What can fail here is a [`ConfigError`] naming the key.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::settings::ConfigError;
use crate::syncs::http::{HttpBlock, HttpSettings};

/// Query parameters the sync sends itself; an export filter may not use them.
pub const RESERVED_PARAMS: &[&str] = &[
    "limit",
    "offset",
    "page",
    "orderby",
    "order",
    "filter",
    "filter_n_up_id_synthese",
    "filter_d_up_derniere_action",
    "filter_d_lo_derniere_action",
];

/// How export pages are walked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Paging {
    /// `filter_n_up_id_synthese=<last+1>` from page to page (resumable, stable under inserts).
    Keyset,
    /// `offset=0..pages-1` (gn2pg-client's way); pages are fetched in parallel.
    Offset,
}

/// The `[gn2pg]` section.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Gn2pgConfig {
    /// Target schema (operators: e.g. `gn2pg_lpo`).
    pub schema: String,
    /// Rows asked per page; the server may cap it, the returned `limit` is what counts.
    pub page_size: u32,
    pub paging: Paging,
    /// Subtracted from the last success's start to form an update's `since`.
    #[serde(with = "crate::settings::duration")]
    pub since_overlap: Duration,
    /// Time zone of the source's `derniere_action` (the text of date filters).
    pub source_timezone: String,
    /// Page parsers (and parallel fetchers in offset mode).
    pub jobs: u32,
    /// Pages fetched ahead of the writer.
    pub prefetch: u32,
    /// PostgreSQL connections writing a source: 2 = one COPYs page k + 1 into a staging table
    /// while the other upserts page k; 1 = one does both.
    pub writer_connections: u32,
    /// `[gn2pg.http]`: timeouts, size cap and retries of every request ([`HttpSettings`]).
    #[serde(deserialize_with = "crate::syncs::http::block::<_, Gn2pgConfig>")]
    pub http: HttpSettings,
    /// Longest a source's run may last before it stops itself (`failed`, lock released).
    #[serde(with = "crate::settings::duration")]
    pub max_run: Duration,
    /// The folder `init-db --custom-script to_gnsynthese` reads `to_gnsynthese.sql` from; unset:
    /// `.deps/gn2pg` (scripts/install-deps.sh), then `/usr/local/share/data-tasks/gn2pg` (the
    /// Docker image).
    pub scripts_dir: Option<std::path::PathBuf>,
    #[serde(rename = "source")]
    pub sources: Vec<SourceConfig>,
}

/// `[gn2pg.http]`: its defaults, and the old flat keys of `[gn2pg]` it takes over (read as
/// aliases, docs/syncs/README.md §5).
impl HttpBlock for Gn2pgConfig {
    const OLD_HTTP_KEYS: &'static [(&'static str, &'static str)] = &[
        ("http_timeout", "timeout"),
        ("http_connect_timeout", "connect_timeout"),
        ("max_retry", "retries"),
        ("retry_delay", "retry_delay"),
        ("retry_delay_cap", "retry_delay_cap"),
        ("unavailable_delay", "unavailable_delay"),
    ];

    /// The defaults of `[gn2pg.http]`.
    fn http_defaults() -> HttpSettings {
        HttpSettings::default()
    }
}

impl Default for Gn2pgConfig {
    fn default() -> Self {
        Gn2pgConfig {
            schema: "gn2pg_import".into(),
            page_size: 1000,
            paging: Paging::Keyset,
            since_overlap: Duration::from_secs(600),
            source_timezone: "Europe/Paris".into(),
            jobs: 2,
            prefetch: 4,
            writer_connections: 2,
            http: Self::http_defaults(),
            max_run: Duration::from_secs(12 * 3600),
            scripts_dir: None,
            sources: Vec::new(),
        }
    }
}

/// A query-string value as written in TOML (sent as text, the way gn2pg-client formats it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum QueryValue {
    Text(String),
    Integer(i64),
    Float(f64),
    Bool(bool),
}

impl QueryValue {
    /// The parameter's text (Python's `str()`, as gn2pg-client's `urlencode` sends it).
    pub fn as_param(&self) -> String {
        match self {
            QueryValue::Text(s) => s.clone(),
            QueryValue::Integer(i) => i.to_string(),
            QueryValue::Float(f) => {
                if f.fract() == 0.0 && f.abs() < 1e16 {
                    format!("{f:.1}")
                } else {
                    f.to_string()
                }
            }
            QueryValue::Bool(true) => "True".into(),
            QueryValue::Bool(false) => "False".into(),
        }
    }

    /// The value as JSON (for `import_log.xfer_filters`).
    pub fn as_json(&self) -> serde_json::Value {
        match self {
            QueryValue::Text(s) => s.clone().into(),
            QueryValue::Integer(i) => (*i).into(),
            QueryValue::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            QueryValue::Bool(b) => (*b).into(),
        }
    }
}

/// The kinds of export rows (`data_json.type`, `metadata_json.type`).
pub const DATA_TYPES: &[&str] = &[
    "synthese_with_cd_nomenclature",
    "synthese_with_label",
    "synthese_with_metadata",
    "synthese_with_metadata_separated",
    "metadata_only",
];

/// The gn2pg-client 1.10 kinds that read the separate metadata export (`metadata_export_id`):
/// frameworks and their datasets refreshed into `metadata_json` before the data (§7).
pub const SEPARATED_DATA_TYPES: &[&str] = &["synthese_with_metadata_separated", "metadata_only"];

/// The kind that reads only the metadata export (no `data_json` rows, no deletions).
pub const METADATA_ONLY: &str = "metadata_only";

/// One `[[gn2pg.source]]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// Display name; its [`std_name`] tags the rows.
    pub name: String,
    /// GeoNature's base URL (`api/` is appended).
    pub url: String,
    /// The export view's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_export_id: Option<i64>,
    /// Deprecated spelling of `data_export_id` (both: must be equal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export_id: Option<i64>,
    /// The metadata export's id (frameworks with their `datasets`), read by the kinds
    /// `synthese_with_metadata_separated` and `metadata_only`, which require it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_export_id: Option<i64>,
    pub user_name: String,
    #[serde(default = "default_data_type")]
    pub data_type: String,
    #[serde(default = "yes")]
    pub enable: bool,
    /// Verbatim export filters (`ilike_observateurs = "%lpo%"`).
    #[serde(default)]
    pub query_strings: BTreeMap<String, QueryValue>,
}

fn default_data_type() -> String {
    "synthese_with_cd_nomenclature".into()
}

fn yes() -> bool {
    true
}

impl SourceConfig {
    /// The `source` column value.
    pub fn std_name(&self) -> String {
        std_name(&self.name)
    }

    /// The environment variable holding the password.
    pub fn password_var(&self) -> String {
        format!("GN2PG_{}_PASSWORD", self.std_name().to_uppercase())
    }

    /// The export id (`data_export_id`, or the deprecated `export_id`).
    pub fn export(&self) -> Option<i64> {
        self.data_export_id.or(self.export_id)
    }

    /// The data type as stored (lower-cased, as the client does).
    pub fn kind(&self) -> String {
        self.data_type.to_lowercase()
    }

    /// Whether a run first refreshes `metadata_json` from the metadata export.
    pub fn separated_metadata(&self) -> bool {
        SEPARATED_DATA_TYPES.contains(&self.kind().as_str())
    }

    /// Whether a run reads only the metadata export.
    pub fn metadata_only(&self) -> bool {
        self.kind() == METADATA_ONLY
    }

    /// `api/` under the source URL.
    pub fn api_url(&self) -> String {
        let mut u = self.url.trim().to_string();
        if !u.ends_with('/') {
            u.push('/');
        }
        u.push_str("api/");
        u
    }

    /// The export filters to send: the operator's, minus gn2pg-client's template
    /// `orderby = 'id_synthese'` (we always send it).
    pub fn filters(&self) -> Vec<(String, String)> {
        self.query_strings
            .iter()
            .filter(|(k, v)| !is_template_orderby(k, v))
            .map(|(k, v)| (k.clone(), v.as_param()))
            .collect()
    }
}

fn is_template_orderby(key: &str, value: &QueryValue) -> bool {
    key == "orderby" && matches!(value, QueryValue::Text(t) if t == "id_synthese")
}

impl Gn2pgConfig {
    /// `[gn2pg.http]`, validated (its old flat keys were folded in when the file was read).
    pub fn http_settings(&self) -> Result<HttpSettings, ConfigError> {
        self.http.validate("gn2pg.http")?;
        Ok(self.http.clone())
    }

    /// Checks what can be checked without the network (warnings are returned, errors fail).
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.check().map(|_| ())
    }

    /// Like [`Gn2pgConfig::validate`], returning the warnings.
    pub fn check(&self) -> Result<Vec<String>, ConfigError> {
        let invalid = |key: &str, reason: String| ConfigError::Invalid {
            key: format!("gn2pg.{key}"),
            reason,
        };
        crate::settings::check_schema("gn2pg.schema", &self.schema)?;
        if self.page_size == 0 || self.page_size > 100_000 {
            return Err(invalid("page_size", "must be within 1..=100000".into()));
        }
        if self.jobs == 0 || self.jobs > 64 {
            return Err(invalid("jobs", "must be within 1..=64".into()));
        }
        if self.prefetch == 0 || self.prefetch > 64 {
            return Err(invalid("prefetch", "must be within 1..=64".into()));
        }
        if !(1..=2).contains(&self.writer_connections) {
            return Err(invalid("writer_connections", "must be 1 or 2".into()));
        }
        self.http_settings()?;
        if self.max_run.is_zero() {
            return Err(invalid("max_run", "must be positive".into()));
        }
        let tz = &self.source_timezone;
        if tz.is_empty()
            || !tz
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c))
        {
            return Err(invalid(
                "source_timezone",
                format!("{tz:?} is not a time zone name (e.g. \"Europe/Paris\", \"UTC\")"),
            ));
        }
        let mut warnings = Vec::new();
        let mut seen = HashSet::new();
        for (i, s) in self.sources.iter().enumerate() {
            let key = |k: &str| format!("source[{i}].{k}");
            let std = s.std_name();
            if std.is_empty() {
                return Err(invalid(
                    &key("name"),
                    format!("{:?} normalises to an empty source name", s.name),
                ));
            }
            if !seen.insert(std.clone()) {
                return Err(invalid(
                    &key("name"),
                    format!(
                        "{:?} and another source both normalise to {std:?}, the `source` column \
                         would mix them",
                        s.name
                    ),
                ));
            }
            let url = s.url.trim();
            if !(url.starts_with("http://") || url.starts_with("https://"))
                || url::Url::parse(url).is_err()
            {
                return Err(invalid(
                    &key("url"),
                    format!("source {:?}: not an http(s) URL", s.name),
                ));
            }
            match (s.data_export_id, s.export_id) {
                (Some(a), Some(b)) if a != b => {
                    return Err(invalid(
                        &key("data_export_id"),
                        format!(
                            "source {:?}: export_id ({b}) and data_export_id ({a}) must be equal",
                            s.name
                        ),
                    ))
                }
                (None, None) if s.kind() != METADATA_ONLY => {
                    return Err(invalid(
                        &key("data_export_id"),
                        format!(
                            "source {:?}: data_export_id is required unless data_type is \
                             metadata_only",
                            s.name
                        ),
                    ))
                }
                (_, Some(_)) => warnings.push(format!(
                    "source {:?}: export_id is deprecated, use data_export_id",
                    s.name
                )),
                _ => {}
            }
            for (k, id) in [
                ("data_export_id", s.data_export_id),
                ("export_id", s.export_id),
                ("metadata_export_id", s.metadata_export_id),
            ] {
                if let Some(id) = id.filter(|id| *id <= 0) {
                    return Err(invalid(
                        &key(k),
                        format!(
                            "source {:?}: {id} is not an export id (ids are positive)",
                            s.name
                        ),
                    ));
                }
            }
            let kind = s.kind();
            if !DATA_TYPES.contains(&kind.as_str()) {
                return Err(invalid(
                    &key("data_type"),
                    format!(
                        "source {:?}: data_type {kind:?} is not one of {}",
                        s.name,
                        DATA_TYPES.join(", ")
                    ),
                ));
            }
            let separated = SEPARATED_DATA_TYPES.contains(&kind.as_str());
            if separated && s.metadata_export_id.is_none() {
                return Err(invalid(
                    &key("metadata_export_id"),
                    format!(
                        "source {:?}: data_type {kind:?} reads the metadata export: \
                         metadata_export_id is required",
                        s.name
                    ),
                ));
            }
            if !separated && s.metadata_export_id.is_some() {
                warnings.push(format!(
                    "source {:?}: metadata_export_id is only used by the metadata_only and \
                     synthese_with_metadata_separated kinds: ignored",
                    s.name
                ));
            }
            if kind == METADATA_ONLY && s.export().is_some() {
                warnings.push(format!(
                    "source {:?}: data_type metadata_only reads only the metadata export: \
                     data_export_id ignored",
                    s.name
                ));
            }
            for (k, v) in &s.query_strings {
                if is_template_orderby(k, v) {
                    warnings.push(format!(
                        "source {:?}: query_strings.orderby = 'id_synthese' is what the sync \
                         always sends: ignored",
                        s.name
                    ));
                } else if RESERVED_PARAMS.contains(&k.as_str()) {
                    return Err(invalid(
                        &key(&format!("query_strings.{k}")),
                        format!(
                            "source {:?}: {k} is set by the sync itself (paging, resume and \
                             update windows); remove it from query_strings",
                            s.name
                        ),
                    ));
                }
            }
        }
        Ok(warnings)
    }

    /// The sources named on the command line (by name or std_name), or every enabled one.
    pub fn selected(&self, names: &[String]) -> Result<Vec<&SourceConfig>, ConfigError> {
        if self.sources.is_empty() {
            return Err(ConfigError::Missing {
                key: "gn2pg.source".into(),
                hint: "add a [[gn2pg.source]] table, or pass --gn2pg-config FILE \
                       (a gn2pg-client configuration)"
                    .into(),
            });
        }
        if names.is_empty() {
            return Ok(self.sources.iter().filter(|s| s.enable).collect());
        }
        names
            .iter()
            .map(|n| {
                self.sources
                    .iter()
                    .find(|s| s.name == *n || s.std_name() == *n || s.std_name() == std_name(n))
                    .ok_or_else(|| ConfigError::Invalid {
                        key: "--source".into(),
                        reason: format!(
                            "no source named {n:?} (configured: {})",
                            self.sources
                                .iter()
                                .map(|s| s.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    })
            })
            .collect()
    }
}

/// Python's `str.split()` whitespace: Unicode `White_Space` plus the four separators U+001C–U+001F.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// gn2pg-client's source-name normalisation (its `simplify`), as measured on 1.10.1: collapse
/// whitespace, lower-case, map `àâäéèêëîïôöùûüŷÿç~` and space to `aaaeeeeiioouuuyyc_` and `_`,
/// delete ``&'([{|}])`^\/+-=*°$£%§.?!;:<>`` (so `-` is deleted).
pub fn std_name(name: &str) -> String {
    let collapsed = name
        .split(is_py_space)
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    collapsed
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            'à' | 'â' | 'ä' => Some('a'),
            'é' | 'è' | 'ê' | 'ë' => Some('e'),
            'î' | 'ï' => Some('i'),
            'ô' | 'ö' => Some('o'),
            'ù' | 'û' | 'ü' => Some('u'),
            'ŷ' | 'ÿ' => Some('y'),
            'ç' => Some('c'),
            '~' | ' ' => Some('_'),
            '&' | '\'' | '(' | '[' | '{' | '|' | '}' | ']' | ')' | '`' | '^' | '\\' | '/' | '+'
            | '-' | '=' | '*' | '°' | '$' | '£' | '%' | '§' | '.' | '?' | '!' | ';' | ':' | '<'
            | '>' => None,
            c => Some(c),
        })
        .collect()
}
