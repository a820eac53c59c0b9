//! Object storage by URL: the only module that talks to `object_store`.
//!
//! A [`Store`] is opened from a URL — `file://PATH` (relative paths allowed, the folder is
//! created), `s3://BUCKET[/PREFIX]` (any S3-compatible endpoint, reached with [`S3Settings`]), or `memory://NAME` (process-wide, shared by name; for tests) — and offers
//! a small blocking API: [`Store::put`], [`Store::get`], [`Store::list`] (streamed, any number of
//! keys), [`Store::exists`], [`Store::delete`], and [`Store::publish`], the atomic publication of a
//! set of outputs (see the `publish` module). Single puts are atomic per object on every backend (local
//! files are written aside and renamed). Errors name the store and the key.
//!
//! [`Store::open_read_only`] is for previews and probes (`--dry-run`, `check`): it never creates
//! anything — a `file://` folder that does not exist reads as an empty store — and every write
//! through it fails with [`StorageError::ReadOnly`]. [`local::writable_folder`] tells whether a
//! local folder could be created or written, without creating anything.

pub(crate) mod config;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
pub(crate) mod local;
mod publish;
mod runtime;
mod s3;
mod url;

use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use object_store::path::Path as ObjPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

pub use self::s3::{S3Settings, S3Timeouts};
pub use self::url::StoreUrl;

/// A failed storage operation; every variant names the store (its URL, never a credential).
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("invalid storage URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("cannot open store {store}: {reason}")]
    Open { store: String, reason: String },
    #[error("{key} not found in {store}")]
    NotFound { store: String, key: String },
    #[error("invalid object key {key:?}: {reason}")]
    InvalidKey { key: String, reason: String },
    #[error("{op} {key} in {store} failed")]
    Backend {
        store: String,
        op: &'static str,
        key: String,
        #[source]
        source: object_store::Error,
    },
    #[error("{store} is opened read-only (a dry run or a probe): {op} {key} refused")]
    ReadOnly {
        store: String,
        op: &'static str,
        key: String,
    },
    #[error("{key} in {store} is larger than the {limit}-byte limit (raise {setting} if such objects are real)")]
    TooLarge {
        store: String,
        key: String,
        limit: u64,
        setting: String,
    },
    #[error("publication to {store} failed at {key} and was rolled back: {reason}")]
    Publish {
        store: String,
        key: String,
        reason: String,
    },
}

/// One listed object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub key: String,
    pub size: u64,
}

/// A handle on one bucket (or prefix of a bucket). Cheap to clone; usable from any thread.
#[derive(Clone)]
pub struct Store {
    inner: Arc<dyn ObjectStore>,
    url: String,
    read_only: bool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.url)
    }
}

impl Store {
    /// Opens a `file://` or `memory://` store; never reads the environment. `s3://` stores need
    /// their [`S3Settings`] (built once by the binary from its environment): use
    /// [`Store::open_with`] — here they fail with [`StorageError::Open`].
    pub fn open(url: &str) -> Result<Store, StorageError> {
        let parsed = StoreUrl::parse(url)?;
        if let StoreUrl::S3 { .. } = parsed {
            return Err(StorageError::Open {
                store: parsed.display(),
                reason: "s3:// stores need S3 settings (Store::open_with)".into(),
            });
        }
        Self::open_with(url, &S3Settings::default())
    }

    /// Opens the store named by `url` (see the module doc for the accepted schemes); `s3://`
    /// stores are reached with `s3`.
    pub fn open_with(url: &str, s3: &S3Settings) -> Result<Store, StorageError> {
        let parsed = StoreUrl::parse(url)?;
        let inner = parsed.build(s3)?;
        Ok(Store {
            inner,
            url: parsed.display(),
            read_only: false,
        })
    }

    /// Opens the store named by `url` for reading only, creating nothing: a `file://` folder
    /// that does not exist reads as an empty store (listings are empty, reads are
    /// [`StorageError::NotFound`]), and every write (`put`, `delete`, `copy`, `publish`) fails
    /// with [`StorageError::ReadOnly`]. For previews (`--dry-run`) and probes.
    pub fn open_read_only(url: &str, s3: &S3Settings) -> Result<Store, StorageError> {
        let parsed = StoreUrl::parse(url)?;
        let inner: Arc<dyn ObjectStore> = match &parsed {
            StoreUrl::File(path) if !path.exists() => {
                Arc::new(object_store::memory::InMemory::new())
            }
            _ => parsed.build(s3)?,
        };
        Ok(Store {
            inner,
            url: parsed.display(),
            read_only: true,
        })
    }

    /// Whether writes through this handle are refused ([`Store::open_read_only`]).
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    fn writable(&self, op: &'static str, key: &str) -> Result<(), StorageError> {
        if self.read_only {
            return Err(StorageError::ReadOnly {
                store: self.url.clone(),
                op,
                key: key.to_string(),
            });
        }
        Ok(())
    }

    /// The store's URL as shown in messages.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn path(&self, key: &str) -> Result<ObjPath, StorageError> {
        if key.is_empty() || key.starts_with('/') || key.ends_with('/') {
            return Err(StorageError::InvalidKey {
                key: key.into(),
                reason: "keys are non-empty relative paths".into(),
            });
        }
        ObjPath::parse(key).map_err(|e| StorageError::InvalidKey {
            key: key.into(),
            reason: e.to_string(),
        })
    }

    fn backend(&self, op: &'static str, key: &str, source: object_store::Error) -> StorageError {
        match source {
            object_store::Error::NotFound { .. } => StorageError::NotFound {
                store: self.url.clone(),
                key: key.into(),
            },
            source => StorageError::Backend {
                store: self.url.clone(),
                op,
                key: key.into(),
                source,
            },
        }
    }

    /// Writes one object, replacing any previous one atomically.
    pub fn put(&self, key: &str, bytes: impl Into<Bytes>) -> Result<(), StorageError> {
        self.writable("put", key)?;
        let path = self.path(key)?;
        let payload = PutPayload::from_bytes(bytes.into());
        runtime::block_on(self.inner.put(&path, payload))
            .map(|_| ())
            .map_err(|e| self.backend("put", key, e))
    }

    /// Reads one object whole. A missing key is [`StorageError::NotFound`].
    pub fn get(&self, key: &str) -> Result<Bytes, StorageError> {
        let path = self.path(key)?;
        runtime::block_on(async {
            let r = self.inner.get(&path).await?;
            r.bytes().await
        })
        .map_err(|e| self.backend("get", key, e))
    }

    /// Reads one object of at most `limit` bytes, refused as soon as it is known to be larger
    /// (from its size, or while its bytes arrive): memory never holds more than the limit.
    /// `setting` names the limit in the error.
    pub fn get_capped(&self, key: &str, limit: u64, setting: &str) -> Result<Bytes, StorageError> {
        use futures::StreamExt;
        let path = self.path(key)?;
        let too_large = || StorageError::TooLarge {
            store: self.url.clone(),
            key: key.to_string(),
            limit,
            setting: setting.to_string(),
        };
        let got = runtime::block_on(async {
            let r = self.inner.get(&path).await?;
            if r.meta.size > limit {
                return Ok(None);
            }
            let mut body = Vec::with_capacity(r.meta.size as usize);
            let mut stream = r.into_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk?;
                if (body.len() + chunk.len()) as u64 > limit {
                    return Ok(None);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Some(Bytes::from(body)))
        })
        .map_err(|e| self.backend("get", key, e))?;
        got.ok_or_else(too_large)
    }

    /// Reads one object, `None` when it does not exist.
    pub fn get_opt(&self, key: &str) -> Result<Option<Bytes>, StorageError> {
        match self.get(key) {
            Ok(b) => Ok(Some(b)),
            Err(StorageError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether an object exists.
    pub fn exists(&self, key: &str) -> Result<bool, StorageError> {
        let path = self.path(key)?;
        match runtime::block_on(self.inner.head(&path)) {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(self.backend("head", key, e)),
        }
    }

    /// The size of one object in bytes. A missing key is [`StorageError::NotFound`].
    pub fn size(&self, key: &str) -> Result<u64, StorageError> {
        let path = self.path(key)?;
        runtime::block_on(self.inner.head(&path))
            .map(|meta| meta.size)
            .map_err(|e| self.backend("head", key, e))
    }

    /// Deletes one object; deleting a missing object is not an error.
    pub fn delete(&self, key: &str) -> Result<(), StorageError> {
        self.writable("delete", key)?;
        let path = self.path(key)?;
        match runtime::block_on(self.inner.delete(&path)) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.backend("delete", key, e)),
        }
    }

    /// Server-side copy of one object (replacing the destination).
    pub fn copy(&self, from: &str, to: &str) -> Result<(), StorageError> {
        self.writable("copy", to)?;
        let (f, t) = (self.path(from)?, self.path(to)?);
        runtime::block_on(self.inner.copy(&f, &t)).map_err(|e| self.backend("copy", from, e))
    }

    /// Streams every object whose key starts with the folder `prefix` (`None` = everything), in
    /// pages as the backend serves them: memory stays flat whatever the number of keys.
    pub fn list(&self, prefix: Option<&str>) -> Result<ListIter, StorageError> {
        let prefix_path = match prefix {
            Some(p) => Some(self.path(p.trim_end_matches('/'))?),
            None => None,
        };
        let stream = self.inner.list(prefix_path.as_ref());
        Ok(ListIter {
            stream,
            store: self.url.clone(),
        })
    }

    /// Publishes a set of objects atomically as a set: see the `publish` module.
    pub fn publish(&self, set: &[(String, Bytes)]) -> Result<(), StorageError> {
        if let Some((key, _)) = set.first() {
            self.writable("publish", key)?;
        }
        publish::publish(self, set)
    }
}

/// Blocking iterator over a listing; yields errors instead of panicking.
pub struct ListIter {
    stream: futures::stream::BoxStream<'static, object_store::Result<object_store::ObjectMeta>>,
    store: String,
}

impl Iterator for ListIter {
    type Item = Result<ObjectInfo, StorageError>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = runtime::block_on(self.stream.next())?;
        Some(
            item.map(|m| ObjectInfo {
                key: m.location.to_string(),
                size: m.size,
            })
            .map_err(|source| StorageError::Backend {
                store: self.store.clone(),
                op: "list",
                key: String::new(),
                source,
            }),
        )
    }
}

#[cfg(test)]
mod tests;
