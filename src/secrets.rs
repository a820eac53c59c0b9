//! Secrets and the environment they come from.
//!
//! The binary takes one snapshot of the process environment ([`Env::from_process`]) and hands it
//! down; every stage reads its own variables from it (its database URL, API passwords, the Slack
//! webhook), so tests pass an [`Env`] of their own instead of touching the process's. A value read
//! with [`Env::secret`] becomes a [`Secret`]: its `Debug`/`Display` never show it, and it is
//! registered with the one redactor, [`scrub`], which the binary applies to every message it
//! prints (errors, problems, the JSON summary) — so a secret that slipped into a server's error
//! text is still masked. [`redact_url`] and [`redact_query`] show URLs without their secret parts.
//!
//! Every secret variable ([`is_secret_var`]: `*_PASSWORD`, the database URLs, the AWS and Slack
//! secrets, the VisioNature keys, the dashboard's credentials, …) can instead be given as
//! `<NAME>_FILE`, the path of a file holding it — Docker and Kubernetes secrets, Vault's agent
//! injector. [`Env::from_process`] reads those files once (one trailing newline stripped) and
//! remembers which secrets came from files ([`Env::from_files`], what `check` reports). Both
//! `NAME` and `NAME_FILE` set, or a file that cannot be read, is an [`EnvError`] naming the
//! variable and the path, never the content.

use std::collections::BTreeMap;
use std::path::PathBuf;
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

/// The suffix of a variable naming the file that holds a secret.
pub const FILE_SUFFIX: &str = "_FILE";

/// Whether `name` is a secret variable, one that may also be given as `<name>_FILE`: every
/// variable the code reads with [`Env::secret`] — passwords (`*_PASSWORD`, `*_PW`), database and
/// SMTP URLs (`*DATABASE_URL`, `SMTP_URL`, ecosphères' `POSTGRES_PASSWORD`), the Slack webhook
/// (`*_WEBHOOK_URL`), the AWS credentials (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`, and the older `ACCESS_KEY`/`SECRET_KEY`), the VisioNature keys
/// (`VN_<SITE>_USER_EMAIL`, `_USER_PW`, `_CLIENT_KEY`, `_CLIENT_SECRET`), the dashboard's
/// credentials (`DASHBOARD_USER`, `DASHBOARD_PASSWORD`) and the Géorisques dump URL
/// (`DATA_TASKS_SOURCES_GEORISQUES_DUMP`).
pub fn is_secret_var(name: &str) -> bool {
    const EXACT: [&str; 8] = [
        "AWS_ACCESS_KEY_ID",
        "AWS_SESSION_TOKEN",
        "ACCESS_KEY",
        "SECRET_KEY",
        "SMTP_URL",
        "DASHBOARD_USER",
        "DATA_TASKS_SOURCES_GEORISQUES_DUMP",
        "DATABASE_URL",
    ];
    const SUFFIXES: [&str; 7] = [
        "_PASSWORD",
        "_PW",
        "_DATABASE_URL",
        "_SECRET_ACCESS_KEY",
        "_WEBHOOK_URL",
        "_CLIENT_KEY",
        "_CLIENT_SECRET",
    ];
    EXACT.contains(&name)
        || SUFFIXES
            .iter()
            .any(|s| name.len() > s.len() && name.ends_with(s))
        || (name.starts_with("VN_") && name.ends_with("_USER_EMAIL"))
}

/// Why the environment cannot be read: a secret given twice, or its file unreadable.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error("{name} and {name}_FILE are both set: set only one of them")]
    Both { name: String },
    #[error("{name}_FILE: cannot read the secret file {}", path.display())]
    Unreadable {
        name: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{name}_FILE: the secret file {} is not UTF-8 text", path.display())]
    NotText { name: String, path: PathBuf },
}

/// A snapshot of environment variables. Library code reads the environment only through it.
#[derive(Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
    /// The secrets read from files: name → path.
    files: BTreeMap<String, PathBuf>,
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env")
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Env {
    /// The process environment, now, with the secrets given as `<NAME>_FILE` read from their
    /// files ([`Env::resolve_files`]).
    pub fn from_process() -> Result<Env, EnvError> {
        Env::resolve_files(std::env::vars())
    }

    /// `pairs` with each secret variable given as `<NAME>_FILE` replaced by `NAME` holding the
    /// file's content, one trailing newline (`\n` or `\r\n`) stripped. A `_FILE` variable of a
    /// name that is not a secret ([`is_secret_var`]) is left as it is; an empty one counts as
    /// unset.
    pub fn resolve_files<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Env, EnvError> {
        let mut vars: BTreeMap<String, String> = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let given: Vec<(String, String)> = vars
            .iter()
            .filter_map(|(k, v)| {
                let name = k.strip_suffix(FILE_SUFFIX)?;
                (is_secret_var(name) && !v.trim().is_empty()).then(|| (name.to_string(), v.clone()))
            })
            .collect();
        let mut files = BTreeMap::new();
        for (name, path) in given {
            if vars.get(&name).is_some_and(|v| !v.trim().is_empty()) {
                return Err(EnvError::Both { name });
            }
            let path = PathBuf::from(path);
            let bytes = std::fs::read(&path).map_err(|source| EnvError::Unreadable {
                name: name.clone(),
                path: path.clone(),
                source,
            })?;
            let mut value = String::from_utf8(bytes).map_err(|_| EnvError::NotText {
                name: name.clone(),
                path: path.clone(),
            })?;
            if value.ends_with('\n') {
                value.pop();
                if value.ends_with('\r') {
                    value.pop();
                }
            }
            register(&value);
            vars.remove(&format!("{name}{FILE_SUFFIX}"));
            vars.insert(name.clone(), value);
            files.insert(name, path);
        }
        Ok(Env { vars, files })
    }

    /// The secrets read from files, with their paths.
    pub fn from_files(&self) -> &BTreeMap<String, PathBuf> {
        &self.files
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
            files: BTreeMap::new(),
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

    #[test]
    fn every_secret_the_code_reads_is_a_secret_var() {
        for name in [
            "DATABASE_URL",
            "GN2PG_DATABASE_URL",
            "VISIONATURE_DATABASE_URL",
            "ECOSPHERES_DATABASE_URL",
            "OPS_DATABASE_URL",
            "AM_DATABASE_URL",
            "GN2PG_LPO_PASSWORD",
            "POSTGRES_PASSWORD",
            "DASHBOARD_USER",
            "DASHBOARD_PASSWORD",
            "SLACK_WEBHOOK_URL",
            "SMTP_URL",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "ACCESS_KEY",
            "SECRET_KEY",
            "VN_FF_USER_EMAIL",
            "VN_FF_USER_PW",
            "VN_FF_CLIENT_KEY",
            "VN_FF_CLIENT_SECRET",
            "DATA_TASKS_SOURCES_GEORISQUES_DUMP",
        ] {
            assert!(is_secret_var(name), "{name}");
        }
        for name in [
            "SSL_CERT",
            "PATH",
            "POSTGRES_USER",
            "_PASSWORD",
            "DATA_TASKS_LOG",
        ] {
            assert!(!is_secret_var(name), "{name}");
        }
    }

    #[test]
    fn secrets_come_from_files() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "s3cr3t-from-file\n").unwrap();
        let crlf = dir.path().join("key");
        std::fs::write(&crlf, "key-value\r\n").unwrap();
        let path = file.display().to_string();
        let env = Env::resolve_files([
            ("GN2PG_LPO_PASSWORD_FILE", path.as_str()),
            ("AWS_SECRET_ACCESS_KEY_FILE", &crlf.display().to_string()),
            ("SSL_CERT_FILE", "/nonexistent/cert.pem"),
            ("DATABASE_URL_FILE", " "),
        ])
        .unwrap();
        assert_eq!(
            env.secret("GN2PG_LPO_PASSWORD").unwrap().expose(),
            "s3cr3t-from-file"
        );
        assert_eq!(
            env.secret("AWS_SECRET_ACCESS_KEY").unwrap().expose(),
            "key-value"
        );
        assert_eq!(env.get("GN2PG_LPO_PASSWORD_FILE"), None);
        assert_eq!(env.get("SSL_CERT_FILE"), Some("/nonexistent/cert.pem"));
        assert_eq!(env.get("DATABASE_URL"), None);
        let names: Vec<&String> = env.from_files().keys().collect();
        assert_eq!(names, ["AWS_SECRET_ACCESS_KEY", "GN2PG_LPO_PASSWORD"]);
        assert!(!scrub("pw s3cr3t-from-file").contains("s3cr3t"));

        let both = Env::resolve_files([
            ("DASHBOARD_PASSWORD", "x"),
            ("DASHBOARD_PASSWORD_FILE", path.as_str()),
        ])
        .unwrap_err();
        assert_eq!(
            both.to_string(),
            "DASHBOARD_PASSWORD and DASHBOARD_PASSWORD_FILE are both set: set only one of them"
        );
        let missing = dir.path().join("absent");
        let e = Env::resolve_files([("SLACK_WEBHOOK_URL_FILE", missing.display().to_string())])
            .unwrap_err();
        let text = crate::outcome::error_chain(&e);
        assert!(
            text.starts_with("SLACK_WEBHOOK_URL_FILE: cannot read the secret file "),
            "{text}"
        );
        assert!(text.contains(&missing.display().to_string()), "{text}");
    }
}
