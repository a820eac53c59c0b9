//! `data-tasks ecospheres`: the Ecosphères DCAT catalogue → one metadata-quality row per dataset
//! in `<schema>.datasets`, rebuilt and swapped atomically each run (docs/syncs/ecospheres.md §1).
//!
//! The run: the database and its schema first (`data_tasks.sync_run`, the schema,
//! `datasets_history` with `--keep-history`), the scope's advisory lock (another run at work →
//! `skipped`, exit 0), then the catalogue is read page by page (`pipeline`: JSON-LD of
//! `jsonld`, the 19 columns of `columns`), de-duplicated into a temporary file
//! (`collect`), and published in one transaction (`store`). `--dry-run` reads and scores the
//! catalogue, prints the summary and touches no database.
//!
//! Sources (`remote`): `s3://` (the `AWS_*` variables, or the original's `S3_ENDPOINT_URL`,
//! `ACCESS_KEY`, `SECRET_KEY`, `BUCKET_NAME`), `file://` or a plain folder, or the CKAN export
//! over HTTP(S). Database: `ECOSPHERES_DATABASE_URL`, else `DATABASE_URL`, else the original's
//! `POSTGRES_USER`, `POSTGRES_PASSWORD`, `POSTGRES_URL` (host), `POSTGRES_PORT`, `POSTGRES_DB`.
//!
//! Outcomes: exit 0 when every page was read (dataset-level oddities are counted as warnings);
//! 1 when pages were skipped (`on_bad_page = "skip"`) or the catalogue announces more pages than
//! were read; 2 — nothing published — for a bad page with `on_bad_page = "fail"`, a page read
//! twice, a source or database failure, or a shrink past `max_shrink`.

mod collect;
mod columns;
pub mod config;
mod dates;
mod jsonld;
mod pipeline;
pub mod probes;
mod remote;
mod store;

use std::time::{Duration, Instant};

use crate::config::{Config, ConfigError};
use crate::fetch::http::{HttpClient, HttpError, HttpPolicy};
use crate::outcome::{error_chain, Summary};
use crate::pg::run_log::{self, Begin, LockPolicy, RunCounts, RunStatus};
use crate::pg::{schema, DbUrl, PgError};
use crate::progress::{Progress, Unit};
use crate::secrets::{Env, Secret};
use crate::storage::S3Settings;

use collect::{CollectError, Collector};
use pipeline::{Next, WalkError};
use remote::{SourceError, SourceUrl, StorePages};
use store::{LoadError, Published};

/// The command line of `data-tasks ecospheres`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Catalogue to read: s3://bucket/prefix/ or file://folder/ (every object whose name
    /// contains .json) or https://…/dcat/catalog/jsonld?page=1 (follows hydra:nextPage).
    /// Default: ecospheres.source.
    #[arg(long, value_name = "URL")]
    pub source: Option<String>,
    /// Read and score the catalogue, print the summary, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Also keep today's snapshot in datasets_history.
    #[arg(long)]
    pub keep_history: bool,
}

/// Fatal errors of the sync (exit 2, nothing published).
#[derive(Debug, thiserror::Error)]
pub enum EcospheresError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error(transparent)]
    Db(#[from] PgError),
    #[error(transparent)]
    Collect(#[from] CollectError),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("hydra:nextPage leads back to {url}, which was already read: the catalogue's paging is broken")]
    Loop { url: String },
    #[error("no dcat:Dataset in the {pages} page(s) of {src}")]
    NoDatasets { src: String, pages: u64 },
}

const SYNC: &str = "ecospheres";

/// Runs the command.
pub fn run(config: &Config, env: &Env, args: &Args) -> Result<Summary, EcospheresError> {
    let cfg = &config.ecospheres;
    let source = resolve_source(args.source.as_deref(), cfg, env)?;
    let client = http_client(config)?;
    let started = Instant::now();
    let mut c = Collector::new(cfg.on_bad_page).map_err(CollectError::from)?;
    if args.dry_run {
        let problems = read(&source, config, env, &client, &mut c)?;
        if c.rows() == 0 {
            return Err(EcospheresError::NoDatasets {
                src: source.shown(),
                pages: c.stats.pages,
            });
        }
        return Ok(summary(&Report {
            cfg,
            source: &source,
            collector: &c,
            problems,
            published: None,
            retries: client.retries(),
            elapsed: started.elapsed(),
        }));
    }

    let db = database_url(env)?;
    {
        let mut pg = db.connect()?;
        let mut statements = run_log::schema_sql();
        statements.push(format!(
            "CREATE SCHEMA IF NOT EXISTS {}",
            crate::pg::ident(&cfg.schema)
        ));
        if args.keep_history {
            statements.push(store::history_ddl(&cfg.schema));
        }
        schema::apply(&mut pg, "ecospheres schema", &statements)?;
    }
    let mode = if args.keep_history {
        "full+history"
    } else {
        "full"
    };
    let scope = match run_log::begin(&db, SYNC, &cfg.schema, mode, LockPolicy::Try)? {
        Begin::Run(scope) => scope,
        Begin::Skipped => {
            let mut s = Summary::new(SYNC);
            s.headline = format!(
                "{SYNC}: skipped, another run is publishing {}.datasets",
                cfg.schema
            );
            return Ok(s);
        }
    };

    let outcome = read(&source, config, env, &client, &mut c).and_then(|problems| {
        if c.rows() == 0 {
            return Err(EcospheresError::NoDatasets {
                src: source.shown(),
                pages: c.stats.pages,
            });
        }
        tracing::info!(
            pages = c.stats.pages,
            rows = c.rows(),
            seconds = started.elapsed().as_secs_f64(),
            "catalogue read; publishing"
        );
        let load_started = Instant::now();
        let rows = c.take_rows().map_err(LoadError::Spill)?;
        let mut pg = db.connect()?;
        let published = store::publish(
            &mut pg,
            &store::Publish {
                schema: &cfg.schema,
                max_shrink: cfg.max_shrink,
                keep_history: args.keep_history,
                lock_timeout: cfg.lock_timeout,
            },
            rows,
        )?;
        tracing::info!(
            rows = published.rows,
            seconds = load_started.elapsed().as_secs_f64(),
            "published"
        );
        Ok((problems, published))
    });
    let mut counts = RunCounts {
        fetched: c.stats.datasets,
        errors: c.stats.pages_skipped,
        http_retries: client.retries(),
        ..RunCounts::default()
    };
    match outcome {
        Ok((problems, published)) => {
            counts.upserted = published.rows;
            counts.deleted = published.gone.unwrap_or(0).max(0) as u64;
            let s = summary(&Report {
                cfg,
                source: &source,
                collector: &c,
                problems,
                published: Some(&published),
                retries: client.retries(),
                elapsed: started.elapsed(),
            });
            let status = if s.problems.is_empty() {
                RunStatus::Ok
            } else {
                RunStatus::Partial
            };
            let problems = (!s.problems.is_empty()).then(|| s.problems.join("; "));
            if let Err(e) = scope.finish(status, &counts, problems.as_deref()) {
                tracing::warn!(
                    "the run is published but its sync_run row could not be closed: {}",
                    error_chain(&e)
                );
            }
            Ok(s)
        }
        Err(e) => {
            if let Err(f) = scope.finish(RunStatus::Failed, &counts, Some(&error_chain(&e))) {
                tracing::warn!(
                    "cannot record the failure in data_tasks.sync_run: {}",
                    error_chain(&f)
                );
            }
            Err(e)
        }
    }
}

impl SourceUrl {
    /// The source as shown in messages.
    fn shown(&self) -> String {
        match self {
            SourceUrl::Store(url) => url.clone(),
            SourceUrl::Http(url) => remote::shown_url(url),
        }
    }
}

/// `--source`, else `ecospheres.source`, else the legacy `BUCKET_NAME`'s dump folder, else the
/// default dump.
fn resolve_source(
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

fn http_client(config: &Config) -> Result<HttpClient, HttpError> {
    let cfg = &config.ecospheres;
    HttpClient::with_policy(&HttpPolicy {
        connect_timeout: Duration::from_secs(config.http.connect_timeout_s),
        timeout: cfg.http_timeout,
        retries: cfg.max_retry,
        backoff: cfg.retry_delay,
        backoff_cap: Duration::from_secs(300),
        unavailable_delay: None,
    })
}

/// S3 settings from the `AWS_*` variables, the original's `S3_ENDPOINT_URL`, `ACCESS_KEY` and
/// `SECRET_KEY` filling in for missing ones.
fn s3_settings(config: &Config, env: &Env) -> S3Settings {
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
    S3Settings::from_env(&env, config.storage.s3_credentials, &config.http)
}

/// `ECOSPHERES_DATABASE_URL`, else `DATABASE_URL`, else the original's `POSTGRES_*` variables.
fn database_url(env: &Env) -> Result<DbUrl, PgError> {
    if let Some((var, url)) = env.first_secret(&["ECOSPHERES_DATABASE_URL", "DATABASE_URL"]) {
        return DbUrl::parse(var, url);
    }
    let Some(host) = env.get("POSTGRES_URL") else {
        return Err(PgError::NotConfigured {
            vars: "ECOSPHERES_DATABASE_URL or DATABASE_URL (or the original's POSTGRES_URL, \
                   POSTGRES_PORT, POSTGRES_DB, POSTGRES_USER, POSTGRES_PASSWORD)"
                .into(),
        });
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
    DbUrl::parse("POSTGRES_URL", Secret::new(url))
}

/// Reads the whole catalogue into `c`; returns the problems that do not stop the run.
fn read(
    source: &SourceUrl,
    config: &Config,
    env: &Env,
    client: &HttpClient,
    c: &mut Collector,
) -> Result<Vec<String>, EcospheresError> {
    let cfg = &config.ecospheres;
    tracing::info!(source = %source.shown(), "reading the catalogue");
    let mut problems = Vec::new();
    let progress = Progress::new(SYNC, None, Unit::Items("pages"));
    match source {
        SourceUrl::Store(url) => {
            let pages = StorePages::open(url, &s3_settings(config, env))?;
            progress.set_total(pages.keys.len() as u64);
            pipeline::store_pages(&pages, cfg.parallel_pages, |page| {
                c.page(page)?;
                progress.inc(1);
                progress.set_message(format!("{} datasets", c.stats.datasets));
                Ok::<(), CollectError>(())
            })?;
        }
        SourceUrl::Http(first) => {
            let mut last_number: Option<u64> = None;
            let mut stopped_after: Option<String> = None;
            let walk = pipeline::http_pages(client, first, cfg.max_pages, |page, url| {
                let links = c.page(page)?;
                progress.inc(1);
                progress.set_message(format!("{} datasets", c.stats.datasets));
                let Some(links) = links else {
                    // Skipped: its nextPage is unknown, but CKAN numbers its pages.
                    return Ok(match (remote::page_number(url), last_number) {
                        (Some(n), Some(last)) if n >= last => Next::Stop,
                        (Some(n), Some(_)) => remote::with_page(url, n + 1)
                            .map(Next::Url)
                            .unwrap_or(Next::Stop),
                        _ => {
                            stopped_after = Some(remote::shown_url(url));
                            Next::Stop
                        }
                    });
                };
                if let Some(n) = links.last.as_deref().and_then(remote::page_number) {
                    last_number = Some(n);
                    progress.set_total(n);
                }
                Ok::<Next, CollectError>(
                    match links.next.as_deref().and_then(|n| remote::resolve(url, n)) {
                        Some(next) => Next::Url(next),
                        None => Next::Stop,
                    },
                )
            });
            match walk {
                Ok(_) => {}
                Err(WalkError::Sink(e)) => return Err(e.into()),
                Err(WalkError::Loop { url }) => return Err(EcospheresError::Loop { url }),
            }
            if let Some(after) = stopped_after {
                problems.push(format!(
                    "pages after the skipped {after} could not be reached (no page number or lastPage to go on with)"
                ));
            }
        }
    }
    progress.finish();
    let read = c.stats.pages + c.stats.pages_skipped;
    if let Some(last) = c.stats.last_page.as_deref().and_then(remote::page_number) {
        if read < last {
            problems.push(format!(
                "the catalogue announces {last} pages (hydra:lastPage) but {read} were read"
            ));
        }
    }
    problems.extend(c.bad_pages.iter().map(|p| format!("skipped page {p}")));
    Ok(problems)
}

struct Report<'a> {
    cfg: &'a config::EcospheresConfig,
    source: &'a SourceUrl,
    collector: &'a Collector,
    problems: Vec<String>,
    published: Option<&'a Published>,
    retries: u64,
    elapsed: Duration,
}

fn summary(r: &Report<'_>) -> Summary {
    let c = r.collector;
    let st = &c.stats;
    let mut s = Summary::new(SYNC);
    s.count("pages", st.pages as usize);
    s.count("pages_skipped", st.pages_skipped as usize);
    s.count("datasets", st.datasets as usize);
    s.count("series", st.series as usize);
    s.count("duplicates", st.duplicates as usize);
    s.count("blank_ids", st.blank as usize);
    s.count("rows", c.rows() as usize);
    s.count("warnings", c.note_count() as usize);
    s.count("http_retries", r.retries as usize);
    if let Some(n) = st.announced {
        s.count("announced", n as usize);
    }
    for p in &r.problems {
        s.problem(p.clone());
    }
    for (kind, count, examples) in c.notes() {
        let line = format!("{kind}: {count} (e.g. {})", examples.join("; "));
        tracing::warn!("{line}");
        s.warnings.push(line);
    }
    let table = format!("{}.datasets", r.cfg.schema);
    let read = format!(
        "{} datasets ({} series) from {} page{} of {}",
        c.rows(),
        st.series,
        st.pages,
        if st.pages == 1 { "" } else { "s" },
        r.source.shown()
    );
    let tail = format!(
        "{} warning{}{}, {:.1} s",
        c.note_count(),
        if c.note_count() == 1 { "" } else { "s" },
        if st.pages_skipped > 0 {
            format!(", {} page(s) skipped", st.pages_skipped)
        } else {
            String::new()
        },
        r.elapsed.as_secs_f64()
    );
    s.headline = match r.published {
        None => format!("{SYNC} (dry run): {read}; nothing written to {table}; {tail}"),
        Some(p) => {
            s.count("previous_rows", p.previous.unwrap_or(0).max(0) as usize);
            s.count("gone", p.gone.unwrap_or(0).max(0) as usize);
            let was = match (p.previous, p.gone) {
                (Some(n), Some(g)) => format!("was {n} rows, {g} gone"),
                (Some(n), None) => format!("was {n} rows"),
                (None, _) => "new table".to_string(),
            };
            let history = p
                .history_rows
                .map(|n| format!(", {n} rows in datasets_history"))
                .unwrap_or_default();
            let grants = if p.grantees.is_empty() {
                String::new()
            } else {
                format!(", SELECT granted again to {}", p.grantees.join(", "))
            };
            format!(
                "{SYNC}: {read} → {table}: {} rows ({was}{grants}){history}; {tail}",
                p.rows
            )
        }
    };
    s
}

#[cfg(test)]
mod tests;
