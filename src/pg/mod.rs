//! PostgreSQL: the only module that imports `postgres`.
//!
//! - [`DbUrl`]: a connection URL read from a named environment variable, with TLS chosen by its
//!   `sslmode` (`disable`, `prefer` — the default, as in libpq —, `require`, `verify-ca`,
//!   `verify-full`; rustls with the system's roots or `sslrootcert`). Errors name the variable
//!   and the server (`host:port/db`), never the password.
//! - [`DbUrl::connect`] (one connection) and [`DbUrl::pool`] (a small r2d2 pool: one connection
//!   per worker, each used by one thread at a time).
//! - [`lock`]: session advisory locks (try → `skipped`; wait with a timeout → fatal).
//! - [`schema`]: idempotent schema setup in one transaction.
//! - [`bulk`]: binary `COPY` into a `TEMP` staging table, de-duplication on the conflict key
//!   (newest wins), then `INSERT … SELECT … ON CONFLICT … DO UPDATE`, in the caller's transaction.
//! - [`run_log`]: the `data_tasks.sync_run` summaries every sync writes, and the "abandoned" rule.
//!
//! What can fail is a [`PgError`]; database messages are passed through [`crate::secrets::scrub`].

pub mod bulk;
pub mod lock;
pub mod run_log;
pub mod schema;
mod tls;

use std::time::Duration;

pub use postgres::types::{ToSql, Type};
pub use postgres::{Client, GenericClient, IsolationLevel, Row, Transaction};

/// The driver's error type (for `From` conversions in stage error enums).
pub type DbError = postgres::Error;

use crate::secrets::{scrub, Env, Secret};

pub use self::tls::SslMode;

/// A PostgreSQL failure. No variant carries a password.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("no database configured: set {vars}")]
    NotConfigured { vars: String },
    #[error("{var} is not a valid PostgreSQL URL: {reason}")]
    InvalidUrl { var: String, reason: String },
    #[error("cannot connect to PostgreSQL {server} ({var}): {reason}")]
    Connect {
        var: String,
        server: String,
        reason: String,
    },
    #[error("{context}: {reason}")]
    Query { context: String, reason: String },
    #[error("{key}: still held by another run after {waited:?}")]
    LockTimeout { key: String, waited: Duration },
}

impl PgError {
    /// A query error with what was being done; the message keeps the server's detail and hint.
    pub fn query(context: impl Into<String>, e: &postgres::Error) -> PgError {
        PgError::Query {
            context: context.into(),
            reason: describe(e),
        }
    }

    /// The SQLSTATE code, when the server reported one.
    pub fn code(&self) -> Option<&str> {
        match self {
            PgError::Query { reason, .. } => reason
                .rsplit_once("[SQLSTATE ")
                .map(|(_, c)| c.trim_end_matches(']')),
            _ => None,
        }
    }
}

/// One line from a `postgres::Error`: the server's message, detail and hint, or the cause chain
/// of a client-side error, scrubbed of secrets.
pub fn describe(e: &postgres::Error) -> String {
    let text = if let Some(db) = e.as_db_error() {
        let mut t = db.message().to_string();
        if let Some(d) = db.detail() {
            t.push_str(&format!(" ({d})"));
        }
        if let Some(h) = db.hint() {
            t.push_str(&format!("; hint: {h}"));
        }
        t.push_str(&format!(" [SQLSTATE {}]", db.code().code()));
        t
    } else {
        let mut t = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            let s_text = s.to_string();
            if !t.contains(&s_text) {
                t.push_str(": ");
                t.push_str(&s_text);
            }
            source = s.source();
        }
        t
    };
    scrub(&text)
}

/// A database to connect to: where its URL came from, the parsed settings and the TLS policy.
#[derive(Clone)]
pub struct DbUrl {
    var: String,
    server: String,
    config: postgres::Config,
    tls: tls::TlsPolicy,
    _secret: Secret,
}

impl std::fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DbUrl({} from {})", self.server, self.var)
    }
}

impl DbUrl {
    /// The URL in the first of `vars` that is set.
    pub fn from_env(env: &Env, vars: &[&str]) -> Result<DbUrl, PgError> {
        let (var, url) = env
            .first_secret(vars)
            .ok_or_else(|| PgError::NotConfigured {
                vars: vars.join(" or "),
            })?;
        DbUrl::parse(var, url)
    }

    /// Parses `url` (a `postgresql://` URL or a `key=value` string); `var` names its origin in
    /// messages.
    pub fn parse(var: &str, url: Secret) -> Result<DbUrl, PgError> {
        let invalid = |reason: String| PgError::InvalidUrl {
            var: var.to_string(),
            reason: scrub(&reason),
        };
        let (rest, tls) = tls::split_ssl_params(url.expose()).map_err(invalid)?;
        let mut config: postgres::Config = rest
            .parse()
            .map_err(|e: postgres::Error| invalid(describe(&e)))?;
        config.ssl_mode(tls.mode.driver_mode());
        // Server notices (`… already exists, skipping` of idempotent DDL) are for -v only.
        config.notice_callback(|n| {
            tracing::debug!(severity = n.severity(), "server notice: {}", n.message())
        });
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        let host = config
            .get_hosts()
            .iter()
            .map(|h| match h {
                postgres::config::Host::Tcp(name) => name.clone(),
                postgres::config::Host::Unix(path) => path.display().to_string(),
            })
            .collect::<Vec<_>>()
            .join(",");
        let port = config
            .get_ports()
            .first()
            .map(|p| format!(":{p}"))
            .unwrap_or_default();
        let db = config.get_dbname().unwrap_or("");
        let host = if host.is_empty() {
            "localhost".into()
        } else {
            host
        };
        Ok(DbUrl {
            var: var.to_string(),
            server: format!("{host}{port}/{db}"),
            config,
            tls,
            _secret: url,
        })
    }

    /// `host:port/db`, for messages.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The variable the URL came from.
    pub fn var(&self) -> &str {
        &self.var
    }

    /// The database name, if the URL names one.
    pub fn database(&self) -> Option<&str> {
        self.config.get_dbname()
    }

    /// The TLS mode in force.
    pub fn ssl_mode(&self) -> SslMode {
        self.tls.mode
    }

    fn connect_error(&self, e: &postgres::Error) -> PgError {
        let mut reason = describe(e);
        if self.tls.mode == SslMode::Disable
            && (reason.contains("no encryption") || reason.contains("SSL off"))
        {
            reason.push_str(
                "; the server accepts only TLS connections: use sslmode=require (or verify-full) in the URL",
            );
        } else if self.tls.mode != SslMode::Disable && reason.to_lowercase().contains("tls") {
            reason.push_str(&format!(" (TLS with sslmode={})", self.tls.mode.as_str()));
        }
        PgError::Connect {
            var: self.var.clone(),
            server: self.server.clone(),
            reason,
        }
    }

    /// One connection.
    pub fn connect(&self) -> Result<Client, PgError> {
        let connector = self.tls.connector().map_err(|reason| PgError::Connect {
            var: self.var.clone(),
            server: self.server.clone(),
            reason,
        })?;
        self.config
            .connect(connector)
            .map_err(|e| self.connect_error(&e))
    }

    /// A pool of at most `size` connections, opened on demand. Connects once first, so a wrong
    /// URL or password fails here with a clear message.
    pub fn pool(&self, size: u32) -> Result<Pool, PgError> {
        drop(self.connect()?);
        let connector = self.tls.connector().map_err(|reason| PgError::Connect {
            var: self.var.clone(),
            server: self.server.clone(),
            reason,
        })?;
        let manager = r2d2_postgres::PostgresConnectionManager::new(self.config.clone(), connector);
        let pool = r2d2::Pool::builder()
            .max_size(size.max(1))
            .min_idle(Some(0))
            .connection_timeout(Duration::from_secs(60))
            .build_unchecked(manager);
        Ok(Pool {
            pool,
            var: self.var.clone(),
            server: self.server.clone(),
        })
    }
}

/// A small connection pool; each [`PooledClient`] is used by one thread at a time.
#[derive(Clone)]
pub struct Pool {
    pool: r2d2::Pool<r2d2_postgres::PostgresConnectionManager<tls::Connector>>,
    var: String,
    server: String,
}

/// A connection taken from a [`Pool`], returned to it on drop.
pub type PooledClient =
    r2d2::PooledConnection<r2d2_postgres::PostgresConnectionManager<tls::Connector>>;

impl Pool {
    /// A connection (waits up to 60 s for a free one).
    pub fn get(&self) -> Result<PooledClient, PgError> {
        self.pool.get().map_err(|e| PgError::Connect {
            var: self.var.clone(),
            server: self.server.clone(),
            reason: scrub(&e.to_string()),
        })
    }
}

/// Quotes an SQL identifier (`schema`, `table`) for interpolation in DDL.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_never_show_the_password() {
        let u = DbUrl::parse(
            "GN2PG_DATABASE_URL",
            Secret::new("postgresql://gn:s3cr3t-pw@db.example.org:6543/sinp?sslmode=require"),
        )
        .unwrap();
        assert_eq!(u.server(), "db.example.org:6543/sinp");
        assert_eq!(u.ssl_mode(), SslMode::Require);
        assert!(!format!("{u:?}").contains("s3cr3t"));
        let e = DbUrl::parse(
            "X_URL",
            Secret::new("postgresql://a:pw-xyz1@h/d?sslmode=sometimes"),
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(text.contains("X_URL") && text.contains("sslmode"), "{text}");
        assert!(!text.contains("pw-xyz1"), "{text}");
        let d = DbUrl::parse("Y", Secret::new("postgresql://localhost/x")).unwrap();
        assert_eq!(d.ssl_mode(), SslMode::Prefer);
    }

    #[test]
    fn missing_variables_are_named() {
        let e =
            DbUrl::from_env(&Env::default(), &["GN2PG_DATABASE_URL", "DATABASE_URL"]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no database configured: set GN2PG_DATABASE_URL or DATABASE_URL"
        );
    }

    #[test]
    fn identifiers() {
        assert_eq!(ident("gn2pg_lpo"), "\"gn2pg_lpo\"");
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
    }
}
