//! Parsing of storage URLs and construction of the matching `object_store` backend.
//!
//! Accepted: `file://PATH` (absolute, or relative such as `file://./data/misc`), `s3://BUCKET` and
//! `s3://BUCKET/PREFIX` (configured by [`S3Settings`]: endpoint, region, keys, path-style requests,
//! no request checksums, so it works with OVH, SeaweedFS, MinIO…), and `memory://NAME` (an
//! in-process store shared by every handle opened with the same name). Fails on unknown schemes,
//! empty buckets or unusable folders.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::prefix::PrefixStore;
use object_store::ObjectStore;

use super::{S3Settings, StorageError};

/// A parsed storage URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    File(PathBuf),
    S3 {
        bucket: String,
        prefix: Option<String>,
    },
    Memory(String),
}

impl StoreUrl {
    pub fn parse(url: &str) -> Result<StoreUrl, StorageError> {
        let invalid = |reason: &str| StorageError::InvalidUrl {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        if let Some(rest) = url.strip_prefix("file://") {
            if rest.is_empty() {
                return Err(invalid("file:// needs a folder"));
            }
            return Ok(StoreUrl::File(PathBuf::from(rest)));
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = match rest.split_once('/') {
                Some((b, p)) => (b, Some(p.trim_matches('/')).filter(|p| !p.is_empty())),
                None => (rest, None),
            };
            if bucket.is_empty()
                || !bucket
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
            {
                return Err(invalid("s3:// needs a bucket name"));
            }
            return Ok(StoreUrl::S3 {
                bucket: bucket.to_string(),
                prefix: prefix.map(str::to_string),
            });
        }
        if let Some(rest) = url.strip_prefix("memory://") {
            return Ok(StoreUrl::Memory(rest.to_string()));
        }
        Err(invalid("expected file://, s3:// or memory://"))
    }

    /// The URL as shown in messages (never holds credentials: they live in the environment).
    pub fn display(&self) -> String {
        match self {
            StoreUrl::File(p) => format!("file://{}", p.display()),
            StoreUrl::S3 {
                bucket,
                prefix: Some(p),
            } => format!("s3://{bucket}/{p}"),
            StoreUrl::S3 {
                bucket,
                prefix: None,
            } => format!("s3://{bucket}"),
            StoreUrl::Memory(name) => format!("memory://{name}"),
        }
    }

    pub(super) fn build(&self, s3: &S3Settings) -> Result<Arc<dyn ObjectStore>, StorageError> {
        let open_err = |reason: String| StorageError::Open {
            store: self.display(),
            reason,
        };
        match self {
            StoreUrl::File(path) => {
                std::fs::create_dir_all(path)
                    .map_err(|e| open_err(format!("cannot create folder: {e}")))?;
                let fs = LocalFileSystem::new_with_prefix(path)
                    .map_err(|e| open_err(e.to_string()))?
                    .with_automatic_cleanup(true);
                Ok(Arc::new(fs))
            }
            StoreUrl::S3 { bucket, prefix } => {
                let s3 = s3
                    .builder(&self.display())?
                    .with_bucket_name(bucket)
                    .build()
                    .map_err(|e| open_err(e.to_string()))?;
                Ok(match prefix {
                    Some(p) => Arc::new(PrefixStore::new(s3, p.as_str())),
                    None => Arc::new(s3),
                })
            }
            StoreUrl::Memory(name) => {
                static STORES: OnceLock<Mutex<HashMap<String, Arc<InMemory>>>> = OnceLock::new();
                let mut map = STORES
                    .get_or_init(Default::default)
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                let store = map
                    .entry(name.clone())
                    .or_insert_with(|| Arc::new(InMemory::new()))
                    .clone();
                Ok(store)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_scheme() {
        assert_eq!(
            StoreUrl::parse("file://./data/misc").unwrap(),
            StoreUrl::File("./data/misc".into())
        );
        assert_eq!(
            StoreUrl::parse("s3://ap").unwrap(),
            StoreUrl::S3 {
                bucket: "ap".into(),
                prefix: None
            }
        );
        assert_eq!(
            StoreUrl::parse("s3://misc/prod/v2/").unwrap(),
            StoreUrl::S3 {
                bucket: "misc".into(),
                prefix: Some("prod/v2".into())
            }
        );
        assert_eq!(
            StoreUrl::parse("memory://t1").unwrap(),
            StoreUrl::Memory("t1".into())
        );
        for bad in ["ftp://x", "s3://", "file://", "/tmp/x", "swift://c"] {
            assert!(StoreUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
