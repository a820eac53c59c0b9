//! `[storage]`: the object-store URLs of the three buckets, and how S3 credentials are found.

use serde::{Deserialize, Serialize};

/// Object-store URLs (`file://…`, `s3://bucket[/prefix]`, `memory://name`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// CSVs and ids published for the web app.
    pub misc: String,
    /// Searchable AP PDFs and error records.
    pub ap: String,
    /// AM archives.
    pub am: String,
    /// Where S3 credentials come from: `env` (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, the
    /// default) or `instance` (the cloud's instance-metadata service).
    pub s3_credentials: S3Credentials,
}

/// See [`StorageConfig::s3_credentials`].
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum S3Credentials {
    #[default]
    Env,
    Instance,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            misc: "file://./data/misc".into(),
            ap: "file://./data/ap".into(),
            am: "file://./data/am".into(),
            s3_credentials: S3Credentials::Env,
        }
    }
}
