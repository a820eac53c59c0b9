//! Health probes: each stage and sync says what it needs — a store, a source, a database with its
//! schema, one authenticated API call, an engine — as a list of [`Probe`]s (its `probes`
//! function); `data-tasks check` gathers them, touches each dependency once and reports each as
//! ok or failed (any failure: exit 2). Probes are built from the configuration and the
//! environment snapshot, never from the process environment, and run with the [`ProbeContext`]
//! the binary built once (the HTTP client, the S3 settings).
//!
//! Ready-made probes: [`StoreProbe`] (a probe object written, read back and deleted; a `file://`
//! folder that does not exist yet is not created, only checked to be creatable),
//! [`SourceProbe`] (a file present, an object present or a URL answering a HEAD), and [`probe`]
//! for anything else — a database connection followed by a schema check, one API call, loading
//! the OCR engine. Names are shown to operators and never hold a secret (redact URLs with
//! [`crate::secrets::redact_url`]). A probe's failure is a [`ProbeError`]: the rendered cause
//! chain of whatever failed.

use bytes::Bytes;

use crate::fetch::http::HttpClient;
use crate::outcome::error_chain;
use crate::storage::local::{writable_folder, FolderState};
use crate::storage::{S3Settings, Store, StoreUrl};

/// What probes run with.
#[derive(Clone, Copy)]
pub struct ProbeContext<'a> {
    pub http: &'a HttpClient,
    pub s3: &'a S3Settings,
}

/// Why a probe failed: the cause chain of the failure, already rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProbeError(pub String);

impl ProbeError {
    /// The probe error of `e` (its whole chain, each cause once).
    pub fn of(e: &(dyn std::error::Error + 'static)) -> ProbeError {
        ProbeError(error_chain(e))
    }
}

/// One dependency and how to touch it once.
pub trait Probe: Send + Sync {
    /// What is probed, as shown to operators (`storage.misc (s3://misc)`); never a secret. Two
    /// probes of the same name are the same dependency: `check` runs it once.
    fn name(&self) -> String;

    /// Touches the dependency once: what was seen (`write, read and delete ok`), or why it failed.
    fn run(&self, ctx: &ProbeContext<'_>) -> Result<String, ProbeError>;
}

/// A store, probed by writing, reading back and deleting one small object under `_check/`. A
/// `file://` store whose folder does not exist yet is only checked to be creatable: `check`
/// creates nothing.
pub struct StoreProbe {
    /// The setting naming the store (`storage.misc`).
    pub setting: &'static str,
    pub url: String,
}

impl StoreProbe {
    /// The probe of the store at `url`, named by its setting.
    pub fn boxed(setting: &'static str, url: &str) -> Box<dyn Probe> {
        Box::new(StoreProbe {
            setting,
            url: url.to_string(),
        })
    }
}

impl Probe for StoreProbe {
    fn name(&self) -> String {
        format!("{} ({})", self.setting, self.url)
    }

    fn run(&self, ctx: &ProbeContext<'_>) -> Result<String, ProbeError> {
        let e = |e: crate::storage::StorageError| ProbeError::of(&e);
        if let StoreUrl::File(path) = StoreUrl::parse(&self.url).map_err(e)? {
            if !path.exists() {
                return match writable_folder(&path, true) {
                    Ok(FolderState::Creatable { ancestor }) => Ok(format!(
                        "folder does not exist yet: the first run that writes creates it ({} is writable)",
                        std::fs::canonicalize(&ancestor).unwrap_or(ancestor).display()
                    )),
                    Ok(FolderState::Writable) => Ok("folder writable".into()),
                    Err(err) => Err(ProbeError(format!(
                        "folder {} cannot be created: {}",
                        path.display(),
                        error_chain(&err)
                    ))),
                };
            }
        }
        let store = Store::open_with(&self.url, ctx.s3).map_err(e)?;
        let key = format!("_check/probe-{}", std::process::id());
        store
            .put(&key, Bytes::from_static(b"data-tasks check"))
            .map_err(e)?;
        let back = store.get(&key).map_err(e)?;
        store.delete(&key).map_err(e)?;
        if &back[..] != b"data-tasks check" {
            return Err(ProbeError("probe object read back differs".into()));
        }
        Ok("write, read and delete ok".into())
    }
}

/// A source (`SRC`: path, http(s) URL or storage URL), probed without reading it: file
/// metadata, object existence, or one HEAD request (no retry).
pub struct SourceProbe {
    /// The setting naming the source (`sources.s3ic`).
    pub setting: &'static str,
    pub src: String,
    /// The URL is a secret: shown as its scheme and host only.
    pub secret: bool,
}

impl SourceProbe {
    /// The probe of the source `src` (when configured), named by its setting.
    pub fn boxed(setting: &'static str, src: Option<&str>, secret: bool) -> Option<Box<dyn Probe>> {
        src.map(|src| {
            Box::new(SourceProbe {
                setting,
                src: src.to_string(),
                secret,
            }) as Box<dyn Probe>
        })
    }
}

impl Probe for SourceProbe {
    fn name(&self) -> String {
        let shown = if self.secret {
            crate::secrets::redact_url(&self.src)
        } else {
            crate::text::clip(&self.src)
        };
        format!("{} ({shown})", self.setting)
    }

    fn run(&self, ctx: &ProbeContext<'_>) -> Result<String, ProbeError> {
        let src = self.src.as_str();
        if src.starts_with("http://") || src.starts_with("https://") {
            return ctx
                .http
                .head(src, self.setting)
                .map(|status| format!("HTTP {status}"))
                .map_err(|e| ProbeError::of(&e));
        }
        if let Some((scheme, rest)) = src.split_once("://").filter(|(s, _)| *s != "file") {
            let (bucket, key) = rest
                .split_once('/')
                .ok_or_else(|| ProbeError("no object key in the storage URL".into()))?;
            let store = Store::open_with(&format!("{scheme}://{bucket}"), ctx.s3)
                .map_err(|e| ProbeError::of(&e))?;
            return match store.size(key) {
                Ok(size) => Ok(format!("object present, {size} bytes")),
                Err(e) => Err(ProbeError::of(&e)),
            };
        }
        let path = src.strip_prefix("file://").unwrap_or(src);
        std::fs::metadata(path)
            .map(|m| format!("{} bytes", m.len()))
            .map_err(|e| ProbeError(format!("{path}: {e}")))
    }
}

type ProbeFn = Box<dyn Fn(&ProbeContext<'_>) -> Result<String, ProbeError> + Send + Sync>;

/// A probe made of a name and a function (a database and its schema, an API call, an engine).
pub struct FnProbe {
    name: String,
    run: ProbeFn,
}

impl Probe for FnProbe {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn run(&self, ctx: &ProbeContext<'_>) -> Result<String, ProbeError> {
        (self.run)(ctx)
    }
}

/// A probe named `name` that runs `f`.
pub fn probe(
    name: impl Into<String>,
    f: impl Fn(&ProbeContext<'_>) -> Result<String, ProbeError> + Send + Sync + 'static,
) -> Box<dyn Probe> {
    Box::new(FnProbe {
        name: name.into(),
        run: Box::new(f),
    })
}

/// Whether a database probe's URL must be set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needed {
    /// Unset: no probe (a stage that only uses the database when it is configured).
    IfSet,
    /// Unset: a failing probe naming the variables (a configured sync cannot run without it).
    Always,
}

/// The probe of the database at `url` as the stage or sync resolved it (`what` names it:
/// `gn2pg database`), touched by `check` — whatever `check` does with it (connect, then look at
/// the schema a sync needs). An invalid or missing URL fails the probe without connecting
/// (missing and [`Needed::IfSet`]: no probe).
pub fn database(
    what: &str,
    url: Result<crate::pg::DbUrl, crate::pg::PgError>,
    needed: Needed,
    check: impl Fn(&crate::pg::DbUrl) -> Result<String, ProbeError> + Send + Sync + 'static,
) -> Option<Box<dyn Probe>> {
    match url {
        Ok(db) => Some(probe(
            format!("{what} ({} from {})", db.server(), db.var()),
            move |_| check(&db),
        )),
        Err(crate::pg::PgError::NotConfigured { .. }) if needed == Needed::IfSet => None,
        Err(e) => {
            let e = ProbeError::of(&e);
            Some(probe(what.to_string(), move |_| Err(e.clone())))
        }
    }
}

/// `policy` with a single attempt: `check` says at once whether an API answers, instead of
/// waiting through a sync's retries.
pub fn single_attempt(policy: crate::fetch::http::HttpPolicy) -> crate::fetch::http::HttpPolicy {
    crate::fetch::http::HttpPolicy {
        retries: 0,
        ..policy
    }
}
