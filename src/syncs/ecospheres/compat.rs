//! What ecospheres reads of the original ETL's configuration: its environment variables
//! (docs/syncs/ecospheres.md, "Configuration"). The original read everything from the
//! environment: `BUCKET_NAME` (the dump's bucket), `S3_ENDPOINT_URL`, `ACCESS_KEY`, `SECRET_KEY`,
//! and `POSTGRES_USER`, `POSTGRES_PASSWORD`, `POSTGRES_URL` (the host), `POSTGRES_PORT`,
//! `POSTGRES_DB`. Each fills in only where data-tasks' own setting or variable is absent.

use crate::pg::{DbUrl, PgError};
use crate::secrets::{Env, Secret};
use crate::settings::HttpConfig;
use crate::storage::config::S3Credentials;
use crate::storage::{S3Settings, S3Timeouts};

use super::config;
use super::remote::{SourceError, SourceUrl};

/// `--source`, else `ecospheres.source`, else the legacy `BUCKET_NAME`'s dump folder, else the
/// default dump.
pub(super) fn resolve_source(
    arg: Option<&str>,
    cfg: &config::EcospheresConfig,
    env: &Env,
) -> Result<SourceUrl, SourceError> {
    let raw = match (arg, &cfg.source, env.get("BUCKET_NAME")) {
        (Some(a), _, _) => a.to_string(),
        (None, Some(s), _) => s.clone(),
        (None, None, Some(bucket)) => format!("s3://{bucket}/DUMP_INTEGRATION_JSON/"),
        (None, None, None) => config::DEFAULT_SOURCE.to_string(),
    };
    SourceUrl::parse(&raw)
}

/// S3 settings from the `AWS_*` variables, the original's `S3_ENDPOINT_URL`, `ACCESS_KEY` and
/// `SECRET_KEY` filling in for missing ones.
pub(super) fn s3_settings(
    cfg: &config::EcospheresConfig,
    http_defaults: &HttpConfig,
    s3_credentials: S3Credentials,
    env: &Env,
) -> S3Settings {
    let mut env = env.clone();
    if env.get("AWS_ENDPOINT").is_none() && env.get("AWS_ENDPOINT_URL").is_none() {
        if let Some(endpoint) = env.get("S3_ENDPOINT_URL").map(str::to_string) {
            env = env.with("AWS_ENDPOINT", &endpoint);
        }
    }
    if env.get("AWS_ACCESS_KEY_ID").is_none() && env.get("AWS_SECRET_ACCESS_KEY").is_none() {
        if let (Some(id), Some(secret)) = (env.secret("ACCESS_KEY"), env.secret("SECRET_KEY")) {
            env = env
                .with("AWS_ACCESS_KEY_ID", id.expose())
                .with("AWS_SECRET_ACCESS_KEY", secret.expose());
        }
    }
    let mut s3 = S3Settings::from_env(&env, s3_credentials, http_defaults);
    // The catalogue's requests have the bounds of `[ecospheres.http]`, as over HTTP.
    if let Ok(http) = cfg.http_settings() {
        s3.timeouts = Some(S3Timeouts {
            connect: http.connect_timeout,
            request: http.timeout,
            read: http.idle_timeout,
        });
        s3.retries = http.retries;
        s3.backoff = http.retry_delay;
    }
    s3
}

/// `ECOSPHERES_DATABASE_URL`, else `DATABASE_URL`, else the original's `POSTGRES_*` variables.
pub(super) fn database_url(env: &Env) -> Result<DbUrl, PgError> {
    crate::syncs::protocol::database_url(
        env,
        &["ECOSPHERES_DATABASE_URL", "DATABASE_URL"],
        || postgres_vars(env),
        " (or the original's POSTGRES_URL, POSTGRES_PORT, POSTGRES_DB, POSTGRES_USER, \
         POSTGRES_PASSWORD)",
    )
}

/// The original ETL's `POSTGRES_*` variables as a URL, when `POSTGRES_URL` (the host) is set.
fn postgres_vars(env: &Env) -> Result<Option<DbUrl>, PgError> {
    let Some(host) = env.get("POSTGRES_URL") else {
        return Ok(None);
    };
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    let enc = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
    let user = env.get("POSTGRES_USER").unwrap_or("postgres");
    let password = env
        .secret("POSTGRES_PASSWORD")
        .map(|p| format!(":{}", enc(p.expose())))
        .unwrap_or_default();
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    let port = env.get("POSTGRES_PORT").unwrap_or("5432");
    let db = env.get("POSTGRES_DB").unwrap_or("postgres");
    let url = format!(
        "postgresql://{}{password}@{host}:{port}/{}",
        enc(user),
        enc(db)
    );
    DbUrl::parse("POSTGRES_URL", Secret::new(url)).map(Some)
}
