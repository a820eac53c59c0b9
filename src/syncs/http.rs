//! `[<sync>.http]`: the one HTTP settings block of the three syncs, with humantime durations,
//! turned into the shared client's [`HttpPolicy`] (docs/syncs/README.md §5).
//!
//! Every request a sync makes is bounded: `timeout` is the deadline of one attempt — connecting,
//! the headers and the whole body —, `idle_timeout` the longest wait for the next bytes of a
//! body, and `max_response_mib` the most bytes one answer may hold (checked while reading, so
//! memory stays bounded by it whatever the server sends). A request past either time limit is a
//! transient failure, retried `retries` times like a timeout; an answer past the size cap fails
//! its page at once, naming the setting.
//!
//! Each sync has its own defaults (a table that sets some keys keeps the sync's defaults for the
//! others) and its old flat keys (`gn2pg.http_timeout`, `visionature.max_retry`, …) keep working
//! as aliases: [`fold_old_keys`] moves them into the block when the file is read (refusing an
//! old key and its new name both set), and the configuration maps their environment variables
//! to the block's keys.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

use crate::fetch::http::{BodyCap, HttpPolicy, PolicyNames};
use crate::settings::ConfigError;

/// The `[<sync>.http]` block.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HttpSettings {
    /// Longest wait for a connection.
    #[serde(with = "crate::settings::duration")]
    pub connect_timeout: Duration,
    /// Deadline of one attempt: connect, headers and the whole body.
    #[serde(with = "crate::settings::duration")]
    pub timeout: Duration,
    /// Longest wait for the next bytes of a body.
    #[serde(with = "crate::settings::duration")]
    pub idle_timeout: Duration,
    /// Attempts after the first on transient failures (timeouts, resets, 408, 429, 5xx, a 2xx
    /// whose body is not what was expected).
    pub retries: u32,
    /// First backoff delay (doubled at each retry, ±25 % jitter).
    #[serde(with = "crate::settings::duration")]
    pub retry_delay: Duration,
    /// Longest backoff delay, and longest `Retry-After` honoured.
    #[serde(with = "crate::settings::duration")]
    pub retry_delay_cap: Duration,
    /// Wait after a 503 instead of the backoff (APIs that announce maintenance so); `0s`: the
    /// backoff.
    #[serde(with = "crate::settings::duration")]
    pub unavailable_delay: Duration,
    /// Largest answer accepted, in MiB.
    pub max_response_mib: u64,
}

impl Default for HttpSettings {
    /// The defaults every sync starts from (each may change some).
    fn default() -> Self {
        HttpSettings {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(120),
            idle_timeout: Duration::from_secs(60),
            retries: 5,
            retry_delay: Duration::from_secs(5),
            retry_delay_cap: Duration::from_secs(300),
            unavailable_delay: Duration::ZERO,
            max_response_mib: 64,
        }
    }
}

/// What a `[<sync>.http]` table may hold: every key optional, unknown keys refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Partial {
    #[serde(default, with = "opt_duration")]
    connect_timeout: Option<Duration>,
    #[serde(default, with = "opt_duration")]
    timeout: Option<Duration>,
    #[serde(default, with = "opt_duration")]
    idle_timeout: Option<Duration>,
    retries: Option<u32>,
    #[serde(default, with = "opt_duration")]
    retry_delay: Option<Duration>,
    #[serde(default, with = "opt_duration")]
    retry_delay_cap: Option<Duration>,
    #[serde(default, with = "opt_duration")]
    unavailable_delay: Option<Duration>,
    max_response_mib: Option<u64>,
}

mod opt_duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        #[derive(Deserialize)]
        struct W(#[serde(with = "crate::settings::duration")] Duration);
        Ok(Some(W::deserialize(d)?.0))
    }
}

/// A sync section with a `[<sync>.http]` block: the block's defaults for this sync and the old
/// flat keys of the section with the block keys they stand for.
pub trait HttpBlock {
    const OLD_HTTP_KEYS: &'static [(&'static str, &'static str)];

    fn http_defaults() -> HttpSettings;
}

/// `#[serde(deserialize_with = "crate::syncs::http::block::<_, Gn2pgConfig>")]`: a
/// `[<sync>.http]` table read over the sync's defaults.
pub fn block<'de, D: Deserializer<'de>, S: HttpBlock>(d: D) -> Result<HttpSettings, D::Error> {
    HttpSettings::deserialize_over(d, S::http_defaults())
}

/// Folds a sync section's old flat keys into its `http` table (`section` is `[gn2pg]` as
/// read, `sync` its name, `old` the pairs old key → block key): an old key alone sets the block
/// key; an old key and its new name both present is an error naming both. Runs on the file's
/// table before the section is read, so the old keys never reach the section types.
pub fn fold_old_keys(
    section: &mut toml::Table,
    sync: &str,
    old: &[(&str, &str)],
) -> Result<(), ConfigError> {
    for (old_key, key) in old {
        let Some(value) = section.remove(*old_key) else {
            continue;
        };
        let http = section
            .entry("http")
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .ok_or_else(|| ConfigError::Invalid {
                key: format!("{sync}.http"),
                reason: "must be a table".into(),
            })?;
        if http.contains_key(*key) {
            return Err(ConfigError::Invalid {
                key: format!("{sync}.{old_key}"),
                reason: format!("is the old name of {sync}.http.{key}: set only one of them"),
            });
        }
        http.insert(key.to_string(), value);
    }
    Ok(())
}

impl HttpSettings {
    /// Reads a `[<sync>.http]` table over the sync's `defaults`.
    pub fn deserialize_over<'de, D: Deserializer<'de>>(
        d: D,
        defaults: HttpSettings,
    ) -> Result<HttpSettings, D::Error> {
        let p = Partial::deserialize(d)?;
        Ok(HttpSettings {
            connect_timeout: p.connect_timeout.unwrap_or(defaults.connect_timeout),
            timeout: p.timeout.unwrap_or(defaults.timeout),
            idle_timeout: p.idle_timeout.unwrap_or(defaults.idle_timeout),
            retries: p.retries.unwrap_or(defaults.retries),
            retry_delay: p.retry_delay.unwrap_or(defaults.retry_delay),
            retry_delay_cap: p.retry_delay_cap.unwrap_or(defaults.retry_delay_cap),
            unavailable_delay: p.unavailable_delay.unwrap_or(defaults.unavailable_delay),
            max_response_mib: p.max_response_mib.unwrap_or(defaults.max_response_mib),
        })
    }

    /// Checks the values (`prefix`: `gn2pg.http`).
    pub fn validate(&self, prefix: &str) -> Result<(), ConfigError> {
        let invalid = |key: &str, reason: &str| ConfigError::Invalid {
            key: format!("{prefix}.{key}"),
            reason: reason.to_string(),
        };
        for (key, d) in [
            ("connect_timeout", self.connect_timeout),
            ("timeout", self.timeout),
            ("idle_timeout", self.idle_timeout),
        ] {
            if d.is_zero() {
                return Err(invalid(key, "must be positive"));
            }
        }
        if self.max_response_mib == 0 || self.max_response_mib > 16 << 10 {
            return Err(invalid("max_response_mib", "must be within 1..=16384"));
        }
        if self.retries > 100 {
            return Err(invalid("retries", "must be at most 100"));
        }
        Ok(())
    }

    /// The client policy of a block named `prefix` (`gn2pg.http`).
    pub fn policy(&self, prefix: &str) -> HttpPolicy {
        HttpPolicy {
            connect_timeout: self.connect_timeout.min(self.timeout),
            timeout: self.timeout,
            idle_timeout: self.idle_timeout.min(self.timeout),
            max_body: Some(BodyCap {
                bytes: self.max_response_mib.saturating_mul(1 << 20),
                setting: format!("{prefix}.max_response_mib"),
            }),
            names: PolicyNames::of_block(prefix),
            retries: self.retries,
            backoff: self.retry_delay,
            backoff_cap: self.retry_delay_cap,
            unavailable_delay: (!self.unavailable_delay.is_zero())
                .then_some(self.unavailable_delay),
        }
    }

    /// The most bytes one answer may hold.
    pub fn max_response_bytes(&self) -> u64 {
        self.max_response_mib.saturating_mul(1 << 20)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Holder {
        #[serde(deserialize_with = "eco")]
        http: HttpSettings,
    }

    fn eco<'de, D: Deserializer<'de>>(d: D) -> Result<HttpSettings, D::Error> {
        HttpSettings::deserialize_over(
            d,
            HttpSettings {
                timeout: Duration::from_secs(180),
                ..HttpSettings::default()
            },
        )
    }

    #[test]
    fn a_partial_table_keeps_the_syncs_defaults() {
        let h: Holder = toml::from_str("[http]\nretries = 2\nidle_timeout = \"5s\"\n").unwrap();
        assert_eq!(h.http.retries, 2);
        assert_eq!(h.http.idle_timeout, Duration::from_secs(5));
        assert_eq!(h.http.timeout, Duration::from_secs(180));
        let e = toml::from_str::<Holder>("[http]\ntimeot = \"5s\"\n").unwrap_err();
        assert!(e.to_string().contains("timeot"), "{e}");
    }

    #[test]
    fn old_keys_are_folded_and_conflicts_are_named() {
        const OLD: &[(&str, &str)] = &[("http_timeout", "timeout"), ("max_retry", "retries")];
        let mut t: toml::Table = toml::from_str("http_timeout = \"30s\"\nschema = \"x\"").unwrap();
        fold_old_keys(&mut t, "x", OLD).unwrap();
        assert!(!t.contains_key("http_timeout"));
        assert_eq!(t["http"]["timeout"].as_str(), Some("30s"));
        let mut both: toml::Table = toml::from_str("max_retry = 2\n[http]\nretries = 3").unwrap();
        let e = fold_old_keys(&mut both, "x", OLD).unwrap_err().to_string();
        assert!(
            e.contains("x.max_retry") && e.contains("x.http.retries"),
            "{e}"
        );
    }

    #[test]
    fn the_policy_bounds_every_request() {
        let p = HttpSettings::default().policy("gn2pg.http");
        assert_eq!(p.max_body.as_ref().map(|c| c.bytes), Some(64 << 20));
        assert_eq!(
            p.max_body.map(|c| c.setting).as_deref(),
            Some("gn2pg.http.max_response_mib")
        );
        assert_eq!(p.idle_timeout, Duration::from_secs(60));
        assert_eq!(p.unavailable_delay, None);
    }
}
