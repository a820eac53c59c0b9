//! One run of ecospheres: the catalogue opened (a store source listed, its credentials checked)
//! before anything is written, the bookkeeping schema and the scope's lock
//! ([`protocol::run_scope`]), one streaming read of every page ([`read`], bounded by the run's
//! [`Deadline`]), then one publication ([`super::store::publish`]) and the summary.

use std::time::{Duration, Instant};

use super::collect::{CollectError, Collector};
use super::config::{self, EcospheresConfig};
use super::pipeline::{self, Next, WalkError};
use super::remote::{self, SourceError, SourceUrl, StorePages};
use super::store::{self, LoadError, Published};
use super::{compat, EcospheresError, Options, SYNC};
use crate::fetch::http::HttpClient;
use crate::outcome::Summary;
use crate::pg::run_log::{self, LockPolicy, RunCounts};
use crate::pg::{schema, DbUrl};
use crate::progress::{Progress, Unit};
use crate::secrets::Env;
use crate::settings::HttpConfig;
use crate::storage::config::S3Credentials;
use crate::syncs::protocol::{self, Deadline, Scope, Scoped};

/// Runs the command under the sync protocol ([`protocol::run_scope`]): the source is opened
/// and the database reached before anything is written.
pub fn run(
    cfg: &EcospheresConfig,
    http_defaults: &HttpConfig,
    s3_credentials: S3Credentials,
    env: &Env,
    args: &Options,
) -> Result<Summary, EcospheresError> {
    let http = cfg.http_settings()?;
    let source = compat::resolve_source(args.source.as_deref(), cfg, env)?;
    let client = HttpClient::with_policy(&http.policy("ecospheres.http"))?;
    // A store source is opened and listed first: its credentials are checked before any write.
    let pages = match &source {
        SourceUrl::Store(url) => Some(StorePages::open(
            url,
            &compat::s3_settings(cfg, http_defaults, s3_credentials, env),
            http.max_response_bytes(),
        )?),
        SourceUrl::Http(_) => None,
    };
    let started = Instant::now();
    let mut c = Collector::new(cfg.on_bad_page).map_err(CollectError::from)?;
    if args.dry_run {
        let deadline = Deadline::new(cfg.max_run, "ecospheres.max_run");
        let problems = read(&source, pages.as_ref(), cfg, &client, &mut c, &deadline)?;
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

    let db = compat::database_url(env)?;
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
    let scope = Scope {
        sync: SYNC,
        scope: &cfg.schema,
        mode,
        lock: LockPolicy::Try,
        max_run: cfg.max_run,
        max_run_setting: "ecospheres.max_run",
    };
    let ran = protocol::run_scope(&db, &scope, |w| {
        let outcome = publish(
            &source,
            pages.as_ref(),
            cfg,
            args.keep_history,
            &db,
            &client,
            &mut c,
            &w.deadline,
        );
        w.counts = RunCounts {
            fetched: c.stats.datasets,
            errors: c.stats.pages_skipped,
            http_retries: client.retries(),
            ..RunCounts::default()
        };
        let (problems, p) = outcome?;
        w.counts.upserted = p.rows;
        w.counts.deleted = p.gone.unwrap_or(0).max(0) as u64;
        let s = summary(&Report {
            cfg,
            source: &source,
            collector: &c,
            problems,
            published: Some(&p),
            retries: client.retries(),
            elapsed: started.elapsed(),
        });
        w.problems = s.problems.clone();
        Ok::<Summary, EcospheresError>(s)
    })?;
    match ran {
        Scoped::Skipped => {
            let mut s = Summary::new(SYNC);
            s.headline = format!(
                "{SYNC}: skipped, another run is publishing {}.datasets",
                cfg.schema
            );
            Ok(s)
        }
        Scoped::Ran(ran) => {
            let mut s = ran.result?;
            if let Some(e) = ran.close_error {
                s.problem(format!("published, but {e}"));
            }
            Ok(s)
        }
    }
}

/// Reads the catalogue and publishes it; returns the problems that did not stop the run.
#[allow(clippy::too_many_arguments)]
fn publish(
    source: &SourceUrl,
    pages: Option<&StorePages>,
    cfg: &config::EcospheresConfig,
    keep_history: bool,
    db: &DbUrl,
    client: &HttpClient,
    c: &mut Collector,
    deadline: &Deadline,
) -> Result<(Vec<String>, Published), EcospheresError> {
    let started = Instant::now();
    let problems = read(source, pages, cfg, client, c, deadline)?;
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
    deadline.check()?;
    let load_started = Instant::now();
    let rows = c.take_rows().map_err(LoadError::Spill)?;
    let mut pg = db.connect()?;
    let published = store::publish(
        &mut pg,
        &store::Publish {
            schema: &cfg.schema,
            max_shrink: cfg.max_shrink,
            keep_history,
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
}

impl SourceUrl {
    /// The source as shown in messages.
    pub(super) fn shown(&self) -> String {
        match self {
            SourceUrl::Store(url) => url.clone(),
            SourceUrl::Http(url) => remote::shown_url(url),
        }
    }
}

/// Reads the whole catalogue into `c`; returns the problems that do not stop the run.
fn read(
    source: &SourceUrl,
    pages: Option<&StorePages>,
    cfg: &config::EcospheresConfig,
    client: &HttpClient,
    c: &mut Collector,
    deadline: &Deadline,
) -> Result<Vec<String>, EcospheresError> {
    tracing::info!(source = %source.shown(), "reading the catalogue");
    let mut problems = Vec::new();
    let progress = Progress::new(SYNC, None, Unit::Items("pages"));
    match source {
        SourceUrl::Store(url) => {
            let pages = pages.ok_or_else(|| SourceError::Invalid {
                url: url.clone(),
                reason: "the store was not opened".into(),
            })?;
            progress.set_total(pages.keys.len() as u64);
            pipeline::store_pages(pages, cfg.parallel_pages, |page| {
                deadline.check()?;
                c.page(page)?;
                progress.inc(1);
                progress.set_message(format!("{} datasets", c.stats.datasets));
                Ok::<(), EcospheresError>(())
            })?;
        }
        SourceUrl::Http(first) => {
            let mut last_number: Option<u64> = None;
            let mut stopped_after: Option<String> = None;
            let walk = pipeline::http_pages(client, first, cfg.max_pages, |page, url| {
                deadline.check()?;
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
                Ok::<Next, EcospheresError>(
                    match links.next.as_deref().and_then(|n| remote::resolve(url, n)) {
                        Some(next) => Next::Url(next),
                        None => Next::Stop,
                    },
                )
            });
            match walk {
                Ok(_) => {}
                Err(WalkError::Sink(e)) => return Err(e),
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
