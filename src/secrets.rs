//! Secrets and the environment they come from.
//!
//! The binary takes one snapshot of the process environment ([`Env::from_process`]) and hands it
//! down; every stage reads its own variables from it (its database URL, API passwords, the Slack
//! webhook), so tests pass an [`Env`] of their own instead of touching the process's. A value read
//! with [`Env::secret`] becomes a [`Secret`]: its `Debug`/`Display` never show it, and it is
//! registered with the one redactor, [`scrub`], which the binary applies to every message it
//! prints (errors, problems, the JSON summary) — so a secret that slipped into a server's error
//! text is still masked. [`redact_url`] and [`redact_query`] show URLs without their secret parts.

use std::collections::BTreeMap;
use std::sync::RwLock;

/// What [`scrub`] puts in place of a secret.
pub const MASK: &str = "***";

static REGISTRY: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// A secret value: shown as `<redacted>`, readable only through [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value` and registers it (and, for URLs, their password) with [`scrub`].
    pub fn new(value: impl Into<String>) -> Secret {
        let value = value.into();
        register(&value);
        if let Ok(url) = url::Url::parse(&value) {
            if let Some(password) = url.password() {
                register(password);
                if let Ok(decoded) = percent_encoding::percent_decode_str(password).decode_utf8() {
                    register(&decoded);
                }
            }
        }
        Secret(value)
    }

    /// The value itself, for the one place that needs it (a connection, a signature).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Registers `value` with [`scrub`] (values shorter than 4 characters are not: they would mask
/// ordinary words).
pub fn register(value: &str) {
    if value.len() < 4 {
        return;
    }
    let mut reg = REGISTRY.write().unwrap_or_else(|p| p.into_inner());
    if !reg.iter().any(|v| v == value) {
        reg.push(value.to_string());
        // Longest first, so a URL is masked whole before its password.
        reg.sort_by_key(|v| std::cmp::Reverse(v.len()));
    }
}

/// `text` with every registered secret replaced by [`MASK`].
pub fn scrub(text: &str) -> String {
    let reg = REGISTRY.read().unwrap_or_else(|p| p.into_inner());
    let mut out = text.to_string();
    for secret in reg.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), MASK);
        }
    }
    out
}

/// A URL safe to print: scheme and host only (paths and query strings can hold tokens).
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!("{}://{}/…", u.scheme(), u.host_str().unwrap_or("?")),
        Err(_) => "<url>".to_string(),
    }
}

/// `url` with the values of the query parameters named in `keys` replaced by [`MASK`] (APIs
/// that take credentials as query parameters); user info is masked too.
pub fn redact_query(url: &str, keys: &[&str]) -> String {
    let Ok(mut u) = url::Url::parse(url) else {
        return "<url>".to_string();
    };
    if u.password().is_some() {
        let _ = u.set_password(Some(MASK));
    }
    if u.query().is_some() {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let masked = keys.iter().any(|s| k.eq_ignore_ascii_case(s));
                (
                    k.into_owned(),
                    if masked {
                        MASK.to_string()
                    } else {
                        v.into_owned()
                    },
                )
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    u.to_string()
}

/// A snapshot of environment variables. Library code reads the environment only through it.
#[derive(Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env")
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Env {
    /// The process environment, now.
    pub fn from_process() -> Env {
        Env {
            vars: std::env::vars().collect(),
        }
    }

    /// An explicit environment (tests).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Env {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The same environment with `key` set to `value`.
    pub fn with(mut self, key: &str, value: &str) -> Env {
        self.vars.insert(key.to_string(), value.to_string());
        self
    }

    /// A non-secret variable; empty values count as unset.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// A secret variable; empty values count as unset.
    pub fn secret(&self, key: &str) -> Option<Secret> {
        self.get(key).map(Secret::new)
    }

    /// The first of `keys` that is set, with its name.
    pub fn first_secret<'k>(&self, keys: &[&'k str]) -> Option<(&'k str, Secret)> {
        keys.iter().find_map(|k| self.secret(k).map(|s| (*k, s)))
    }

    /// Every variable whose name starts with `prefix`.
    pub fn with_prefix(&self, prefix: &str) -> BTreeMap<String, String> {
        self.vars
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_never_shown_and_are_scrubbed() {
        let s = Secret::new("postgresql://u:hunter2-pw@db.example/x");
        assert_eq!(format!("{s:?} {s}"), "<redacted> <redacted>");
        let msg = "connect to postgresql://u:hunter2-pw@db.example/x failed; password hunter2-pw";
        let clean = scrub(msg);
        assert!(!clean.contains("hunter2"), "{clean}");
        assert!(clean.contains("connect to *** failed"), "{clean}");
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("https://hooks.slack.com/services/T0/B0/secret?x=1"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(redact_url("not a url"), "<url>");
        assert_eq!(
            redact_query(
                "https://x.org/api/obs?user_pw=abc&id=3&USER_EMAIL=a%40b",
                &["user_pw", "user_email"]
            ),
            "https://x.org/api/obs?user_pw=***&id=3&USER_EMAIL=***"
        );
    }

    #[test]
    fn env_reads_only_its_snapshot() {
        let env = Env::from_pairs([("A_URL", "x"), ("EMPTY", " ")]);
        assert_eq!(env.get("A_URL"), Some("x"));
        assert_eq!(env.get("EMPTY"), None);
        assert_eq!(env.get("PATH"), None);
        let (name, _) = env.first_secret(&["NOPE", "A_URL"]).unwrap();
        assert_eq!(name, "A_URL");
    }
}
