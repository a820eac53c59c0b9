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

/// A PostgreSQL failure. No variant carries a password. Each variant says its context; the
/// driver's words are its source ([`DriverError`], [`Cause`]), printed by
/// [`crate::outcome::error_chain`].
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("no database configured: set {vars}")]
    NotConfigured { vars: String },
    #[error("{var} is not a valid PostgreSQL URL")]
    InvalidUrl {
        var: String,
        #[source]
        cause: Cause,
    },
    #[error("cannot connect to PostgreSQL {server} ({var})")]
    Connect {
        var: String,
        server: String,
        #[source]
        cause: Cause,
    },
    #[error("{context}")]
    Query {
        context: String,
        #[source]
        source: DriverError,
    },
    #[error("{key}: still held by another run after {waited:?}")]
    LockTimeout { key: String, waited: Duration },
}

impl PgError {
    /// A query error with what was being done; the message keeps the server's detail and hint.
    pub fn query(context: impl Into<String>, e: postgres::Error) -> PgError {
        PgError::Query {
            context: context.into(),
            source: DriverError(e),
        }
    }

    /// The SQLSTATE code, when the server reported one.
    pub fn code(&self) -> Option<&str> {
        match self {
            PgError::Query { source, .. } => source.code(),
            _ => None,
        }
    }
}

/// A `postgres::Error`, shown on one line and scrubbed of secrets: the server's message, detail,
/// hint and `[SQLSTATE …]`, or a client-side error with its causes. It has no `source()`: its
/// text already holds everything worth showing.
#[derive(Debug)]
pub struct DriverError(postgres::Error);

impl DriverError {
    /// The SQLSTATE code the server reported, if any.
    pub fn code(&self) -> Option<&str> {
        self.0.as_db_error().map(|db| db.code().code())
    }
}

impl From<postgres::Error> for DriverError {
    fn from(e: postgres::Error) -> Self {
        DriverError(e)
    }
}

impl std::fmt::Display for DriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = match self.0.as_db_error() {
            Some(db) => {
                let mut t = db.message().to_string();
                if let Some(d) = db.detail() {
                    t.push_str(&format!(" ({d})"));
                }
                if let Some(h) = db.hint() {
                    t.push_str(&format!("; hint: {h}"));
                }
                t.push_str(&format!(" [SQLSTATE {}]", db.code().code()));
                t
            }
            None => crate::outcome::error_chain(&self.0),
        };
        f.write_str(&scrub(&text))
    }
}

impl std::error::Error for DriverError {}

/// Why a URL was refused or a connection failed: the driver's error (followed by advice on the
/// TLS mode when it applies), or a message of our own (the TLS setup, the pool).
#[derive(Debug, thiserror::Error)]
pub enum Cause {
    #[error("{error}{advice}")]
    Driver { error: DriverError, advice: String },
    #[error("{0}")]
    Other(String),
}

impl From<postgres::Error> for Cause {
    fn from(e: postgres::Error) -> Self {
        Cause::Driver {
            error: DriverError(e),
            advice: String::new(),
        }
    }
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
        let invalid = |cause: Cause| PgError::InvalidUrl {
            var: var.to_string(),
            cause,
        };
        let (rest, tls) = tls::split_ssl_params(url.expose())
            .map_err(|reason| invalid(Cause::Other(scrub(&reason))))?;
        let mut config: postgres::Config = rest
            .parse()
            .map_err(|e: postgres::Error| invalid(e.into()))?;
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

    fn connect_error(&self, cause: Cause) -> PgError {
        PgError::Connect {
            var: self.var.clone(),
            server: self.server.clone(),
            cause,
        }
    }

    /// The driver's connection error, with advice when the TLS mode is the likely reason.
    fn driver_connect_error(&self, e: postgres::Error) -> PgError {
        let error = DriverError(e);
        let reason = error.to_string();
        let advice = if self.tls.mode == SslMode::Disable
            && (reason.contains("no encryption") || reason.contains("SSL off"))
        {
            "; the server accepts only TLS connections: use sslmode=require (or verify-full) in the URL".to_string()
        } else if self.tls.mode != SslMode::Disable && reason.to_lowercase().contains("tls") {
            format!(" (TLS with sslmode={})", self.tls.mode.as_str())
        } else {
            String::new()
        };
        self.connect_error(Cause::Driver { error, advice })
    }

    /// One connection.
    pub fn connect(&self) -> Result<Client, PgError> {
        let connector = self
            .tls
            .connector()
            .map_err(|reason| self.connect_error(Cause::Other(reason)))?;
        self.config
            .connect(connector)
            .map_err(|e| self.driver_connect_error(e))
    }

    /// A pool of at most `size` connections, opened on demand. Connects once first, so a wrong
    /// URL or password fails here with a clear message.
    pub fn pool(&self, size: u32) -> Result<Pool, PgError> {
        drop(self.connect()?);
        let connector = self
            .tls
            .connector()
            .map_err(|reason| self.connect_error(Cause::Other(reason)))?;
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
            cause: Cause::Other(scrub(&crate::outcome::error_chain(&e))),
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
        let text = crate::outcome::error_chain(&e);
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
