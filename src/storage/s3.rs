//! How `s3://` stores are reached: endpoint, region and credentials, read once from the
//! environment by the binary ([`S3Settings::from_env`]) and passed to [`super::Store::open_with`].
//!
//! Credentials come from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`)
//! only, unless `storage.s3_credentials = "instance"` asks for the cloud's instance-metadata
//! service: missing keys are an error naming both variables, raised before any request is sent —
//! the S3 client never probes 169.254.169.254 on its own. An `http://` endpoint needs
//! `AWS_ALLOW_HTTP=true`. Retries follow the `[http]` policy.

use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::{BackoffConfig, RetryConfig};

use super::config::S3Credentials;
use super::StorageError;
use crate::secrets::{Env, Secret};

/// Everything an `s3://` store needs besides its bucket.
#[derive(Debug, Clone, Default)]
pub struct S3Settings {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<Secret>,
    pub secret_access_key: Option<Secret>,
    pub session_token: Option<Secret>,
    pub allow_http: bool,
    pub credentials: S3Credentials,
    /// The instance-metadata service asked for credentials in `instance` mode
    /// (`AWS_METADATA_ENDPOINT`; default: the cloud's, `http://169.254.169.254`).
    pub metadata_endpoint: Option<String>,
    /// Retries after the first attempt, and the first backoff delay.
    pub retries: u32,
    pub backoff: Duration,
    /// Bounds of every request, when a caller sets them (the object store's defaults
    /// otherwise: 5 s to connect, 30 s a request).
    pub timeouts: Option<S3Timeouts>,
}

/// Time bounds of the S3 client's requests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct S3Timeouts {
    pub connect: Duration,
    /// The whole request, body included.
    pub request: Duration,
    /// Longest wait for the next bytes of a body.
    pub read: Duration,
}

impl S3Settings {
    /// Reads the `AWS_*` variables of `env`; `credentials` and the retry policy come from the
    /// configuration.
    pub fn from_env(
        env: &Env,
        credentials: S3Credentials,
        http: &crate::settings::HttpConfig,
    ) -> S3Settings {
        S3Settings {
            endpoint: env
                .get("AWS_ENDPOINT")
                .or(env.get("AWS_ENDPOINT_URL"))
                .map(str::to_string),
            region: env
                .get("AWS_REGION")
                .or(env.get("AWS_DEFAULT_REGION"))
                .map(str::to_string),
            access_key_id: env.secret("AWS_ACCESS_KEY_ID"),
            secret_access_key: env.secret("AWS_SECRET_ACCESS_KEY"),
            session_token: env.secret("AWS_SESSION_TOKEN"),
            allow_http: env
                .get("AWS_ALLOW_HTTP")
                .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes")),
            credentials,
            metadata_endpoint: env.get("AWS_METADATA_ENDPOINT").map(str::to_string),
            retries: http.retries,
            backoff: Duration::from_millis(http.backoff_ms),
            timeouts: None,
        }
    }

    pub(super) fn builder(&self, store: &str) -> Result<AmazonS3Builder, StorageError> {
        let open_err = |reason: String| StorageError::Open {
            store: store.to_string(),
            reason,
        };
        let mut b = AmazonS3Builder::new()
            .with_virtual_hosted_style_request(false)
            .with_region(self.region.as_deref().unwrap_or("us-east-1"))
            .with_allow_http(self.allow_http)
            .with_retry(RetryConfig {
                max_retries: self.retries as usize,
                retry_timeout: Duration::from_secs(300),
                backoff: BackoffConfig {
                    init_backoff: self.backoff,
                    max_backoff: self.backoff * 16,
                    base: 2.0,
                },
            });
        if let Some(t) = self.timeouts {
            b = b.with_client_options(
                object_store::ClientOptions::new()
                    .with_allow_http(self.allow_http)
                    .with_connect_timeout(t.connect)
                    .with_timeout(t.request)
                    .with_read_timeout(t.read),
            );
        }
        if let Some(endpoint) = &self.endpoint {
            if endpoint.starts_with("http://") && !self.allow_http {
                return Err(open_err(format!(
                    "AWS_ENDPOINT {endpoint} is plain http: set AWS_ALLOW_HTTP=true to allow it"
                )));
            }
            b = b.with_endpoint(endpoint);
        }
        match (
            &self.access_key_id,
            &self.secret_access_key,
            self.credentials,
        ) {
            (Some(id), Some(secret), _) => {
                b = b
                    .with_access_key_id(id.expose())
                    .with_secret_access_key(secret.expose());
                if let Some(token) = &self.session_token {
                    b = b.with_token(token.expose());
                }
            }
            (_, _, S3Credentials::Instance) => {
                if let Some(endpoint) = &self.metadata_endpoint {
                    b = b.with_metadata_endpoint(endpoint);
                }
            }
            (id, secret, S3Credentials::Env) => {
                let missing: Vec<&str> = [
                    ("AWS_ACCESS_KEY_ID", id.is_none()),
                    ("AWS_SECRET_ACCESS_KEY", secret.is_none()),
                ]
                .iter()
                .filter(|(_, m)| *m)
                .map(|(n, _)| *n)
                .collect();
                return Err(open_err(format!(
                    "no S3 credentials: set {} (or storage.s3_credentials = \"instance\" to use the instance-metadata service)",
                    missing.join(" and ")
                )));
            }
        }
        Ok(b)
    }
}
