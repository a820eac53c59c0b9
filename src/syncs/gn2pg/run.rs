//! One source's run (docs/syncs/gn2pg.md §8): lock, `import_log` row, login, pages, deletions,
//! `success` — or `failed` with the reason, so the next run knows where to go on.
//!
//! - full: each page's rows, counters and the checkpoint (`import_checkpoint.last_id_data`)
//!   commit together; the end (`success`, `xfer_end_ts`, checkpoint removed) is one transaction.
//!   A leftover checkpoint (a full that failed or was killed) makes the next run — `full` or
//!   `update` — go on after `last_id_data`, and the `success` row then carries the original
//!   start as `xfer_start_ts`, so rows changed during the gap are caught by the next update.
//! - update: `since` = the `xfer_start_ts` of the latest `success` (ours or gn2pg-client's)
//!   minus `since_overlap`; pages filtered on `derniere_action` between `since` and the run start
//!   (both in `source_timezone`), then the deletion feed. `success` only after both; on failure
//!   the next update reuses the same `since` (at-least-once, idempotent). No success yet: full.
//! - update `--since`: the same window from the operator's instant (a replay); it runs only
//!   when it reaches back to the last success, so the success it records never moves the
//!   watermark past rows it did not read (§1).
//! - separated metadata (`synthese_with_metadata_separated`, `metadata_only`): the whole
//!   metadata export is read into `metadata_json` first ([`super::metadata`]); `metadata_only`
//!   stops there (no data, no deletions, no checkpoint).
//! - unfinished `import_log` rows of the source (a killed run) are marked `failed`/abandoned
//!   first; the `sync_run` row follows the same rule ([`crate::pg::run_log::begin`]).

use std::collections::HashMap;

use serde_json::Value;

use super::config::{Gn2pgConfig, SourceConfig};
use super::metadata;
use super::page::ParsedPage;
use super::pipeline::{self, Plan};
use super::remote::Api;
use super::store::{self, PageCounts, Stager, Writer};
use super::SourceError;
use crate::fetch::http::HttpPolicy;
use crate::outcome::error_chain;
use crate::pg::run_log::{LockPolicy, RunCounts, RunStatus};
use crate::pg::{ident, DbUrl, GenericClient, PgError, Pool};
use crate::progress::{Progress, Unit};
use crate::secrets::{scrub, Secret};
use crate::syncs::protocol::{self, Scope, Scoped, Work};

/// What the operator asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requested {
    Full {
        restart: bool,
    },
    Update,
    /// `update --since`: the window starts at this instant (`YYYY-MM-DD HH:MM:SS`, in the
    /// source's time zone) instead of the last success.
    Replay {
        since: String,
    },
}

/// Everything a source's run needs.
pub struct Ctx<'a> {
    pub cfg: &'a Gn2pgConfig,
    pub db: &'a DbUrl,
    pub pool: &'a Pool,
    /// Each selected source's password, by std_name (read before anything is written).
    pub passwords: &'a HashMap<String, Secret>,
    pub policy: HttpPolicy,
}

/// How a source's run ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub name: String,
    pub std_name: String,
    /// `full`, `update`, or `full (resumed)`.
    pub mode: String,
    pub status: RunStatus,
    pub counts: RunCounts,
    pub import_id: Option<i32>,
    pub sync_run_id: Option<i64>,
    pub error: Option<String>,
    /// Why the `sync_run` row could not be closed (the run itself ended as `status` says).
    pub close_error: Option<String>,
}

/// A leftover checkpoint.
struct Checkpoint {
    last_id: Option<i64>,
}

enum Mode {
    Full {
        resume: Option<Checkpoint>,
    },
    Update {
        since: String,
        replay: bool,
    },
    /// `metadata_only`: the metadata export alone, `xfer_type` `update` or `full` as asked (as
    /// gn2pg-client: an update needs no earlier success).
    MetadataOnly {
        update: bool,
    },
}

impl Mode {
    fn name(&self) -> &'static str {
        match self {
            Mode::Full { resume: None } => "full",
            Mode::Full { resume: Some(_) } => "full (resumed)",
            Mode::Update { replay: false, .. } => "update",
            Mode::Update { replay: true, .. } => "update (since)",
            Mode::MetadataOnly { update: false } => "full (metadata only)",
            Mode::MetadataOnly { update: true } => "update (metadata only)",
        }
    }

    fn is_update(&self) -> bool {
        matches!(
            self,
            Mode::Update { .. } | Mode::MetadataOnly { update: true }
        )
    }
}

/// Why an `update --since` does not run (nothing is written).
#[derive(Debug, thiserror::Error)]
pub enum ReplayRefused {
    #[error(
        "update --since {since}: an interrupted full is pending (checkpoint after id_synthese \
         {last}); finish it first with `gn2pg full` or a plain `gn2pg update`"
    )]
    FullPending { since: String, last: String },
    #[error(
        "update --since {since}: no successful import yet, so rows before {since} were never \
         read; run `gn2pg full` first"
    )]
    NoSuccess { since: String },
    #[error(
        "update --since {since}: the last success started at {watermark} ({tz}); a window from \
         {since} would leave the changes in between unread and move the watermark past them; \
         give --since {watermark} or earlier"
    )]
    Gap {
        since: String,
        watermark: String,
        tz: String,
    },
}

/// Why the run's plan could not be made.
#[derive(Debug, thiserror::Error)]
enum DecideError {
    #[error(transparent)]
    Pg(#[from] PgError),
    #[error(transparent)]
    Replay(#[from] ReplayRefused),
}

fn s(schema: &str) -> String {
    ident(schema)
}

/// The run's plan, read before taking the lock (nothing is written).
fn decide(
    client: &mut impl GenericClient,
    cfg: &Gn2pgConfig,
    std: &str,
    src: &SourceConfig,
    req: &Requested,
) -> Result<Mode, DecideError> {
    if src.metadata_only() {
        return Ok(Mode::MetadataOnly {
            update: !matches!(req, Requested::Full { .. }),
        });
    }
    if let Requested::Full { restart: true } = req {
        return Ok(Mode::Full { resume: None });
    }
    let cp = client
        .query_opt(
            &format!(
                "SELECT last_id_data FROM {}.import_checkpoint WHERE source = $1 AND mode = 'full'",
                s(&cfg.schema)
            ),
            &[&std],
        )
        .map_err(|e| PgError::query("read import_checkpoint", e))?;
    if let Some(row) = cp {
        let last_id: Option<i64> = row.get(0);
        if let Requested::Replay { since } = req {
            return Err(ReplayRefused::FullPending {
                since: since.clone(),
                last: last_id.map_or("none (from its start)".into(), |i| i.to_string()),
            }
            .into());
        }
        return Ok(Mode::Full {
            resume: Some(Checkpoint { last_id }),
        });
    }
    if let Requested::Replay { since } = req {
        return replay(client, cfg, std, since);
    }
    if *req == Requested::Update {
        let since = client
            .query_opt(
                &format!(
                    "SELECT to_char(((xfer_start_ts - make_interval(secs => $2))
                                      AT TIME ZONE current_setting('TimeZone')) AT TIME ZONE $3,
                                    'YYYY-MM-DD HH24:MI:SS')
                     FROM {}.import_log
                     WHERE source = $1 AND controler = 'data' AND xfer_status = 'success'
                     ORDER BY xfer_start_ts DESC LIMIT 1",
                    s(&cfg.schema)
                ),
                &[&std, &cfg.since_overlap.as_secs_f64(), &cfg.source_timezone],
            )
            .map_err(|e| PgError::query("read the last successful import_log row", e))?;
        if let Some(row) = since {
            return Ok(Mode::Update {
                since: row.get(0),
                replay: false,
            });
        }
        tracing::info!(
            source = std,
            "no successful import yet: running a full download"
        );
    }
    Ok(Mode::Full { resume: None })
}

/// `update --since`: runs only when `since` is not later than the start of the last success
/// (both in the source's time zone), so that the success it records (its own start becomes the
/// watermark) covers everything since the previous watermark.
fn replay(
    client: &mut impl GenericClient,
    cfg: &Gn2pgConfig,
    std: &str,
    since: &str,
) -> Result<Mode, DecideError> {
    let row = client
        .query_opt(
            &format!(
                "SELECT to_char(w, 'YYYY-MM-DD HH24:MI:SS'), $2::text::timestamp <= w
                 FROM (SELECT (xfer_start_ts AT TIME ZONE current_setting('TimeZone')) AT TIME ZONE $3 AS w
                       FROM {}.import_log
                       WHERE source = $1 AND controler = 'data' AND xfer_status = 'success'
                       ORDER BY xfer_start_ts DESC LIMIT 1) last",
                s(&cfg.schema)
            ),
            &[&std, &since, &cfg.source_timezone],
        )
        .map_err(|e| PgError::query("read the last successful import_log row", e))?;
    let Some(row) = row else {
        return Err(ReplayRefused::NoSuccess {
            since: since.into(),
        }
        .into());
    };
    let (watermark, covered): (String, bool) = (row.get(0), row.get(1));
    if !covered {
        return Err(ReplayRefused::Gap {
            since: since.into(),
            watermark,
            tz: cfg.source_timezone.clone(),
        }
        .into());
    }
    Ok(Mode::Update {
        since: since.into(),
        replay: true,
    })
}

/// `--since` as the operator wrote it → `YYYY-MM-DD HH:MM:SS`: a date (`2024-06-01`, midnight,
/// gn2pg-client's only form) or a date and time (`2024-06-01 14:30[:00]`, `T` accepted).
pub fn parse_since(text: &str) -> Option<String> {
    let t = text.trim();
    let formats = [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ];
    formats
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(t, f).ok())
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
        .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
}

/// JSON text the way Python's `json.dumps` writes it (`", "`, `": "`, non-ASCII escaped):
/// `import_log.xfer_filters` holds `[that text]`, the shape the GN2PG dashboard reads.
pub fn python_dumps(pairs: &[(String, Value)]) -> String {
    fn ascii(json: &str) -> String {
        let mut out = String::with_capacity(json.len());
        for c in json.chars() {
            if c.is_ascii() {
                out.push(c);
            } else {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
        }
        out
    }
    let body = pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}: {}",
                ascii(&Value::String(k.clone()).to_string()),
                ascii(&v.to_string())
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!("{{{body}}}")
}

/// Runs one source under the sync protocol ([`protocol::run_scope`]); never fails as a whole
/// (the failure is in the outcome).
pub fn run_source(ctx: &Ctx<'_>, src: &SourceConfig, req: Requested) -> Outcome {
    let std = src.std_name();
    let mut out = Outcome {
        name: src.name.clone(),
        std_name: std.clone(),
        mode: match req {
            Requested::Full { .. } => "full".into(),
            Requested::Update | Requested::Replay { .. } => "update".into(),
        },
        status: RunStatus::Failed,
        counts: RunCounts::default(),
        import_id: None,
        sync_run_id: None,
        error: None,
        close_error: None,
    };
    let mode = match ctx
        .pool
        .get()
        .map_err(DecideError::from)
        .and_then(|mut c| decide(&mut *c, ctx.cfg, &std, src, &req))
    {
        Ok(m) => m,
        Err(e) => {
            out.error = Some(scrub(&error_chain(&e)));
            return out;
        }
    };
    out.mode = mode.name().into();
    let mode_col = if mode.is_update() { "update" } else { "full" };
    let scope = Scope {
        sync: "gn2pg",
        scope: &std,
        mode: mode_col,
        lock: LockPolicy::Try,
        max_run: ctx.cfg.max_run,
        max_run_setting: "gn2pg.max_run",
    };
    let mut import_id = None;
    let ran = protocol::run_scope(ctx.db, &scope, |w| {
        execute(ctx, src, &std, mode, w, &mut import_id)
    });
    out.import_id = import_id;
    match ran {
        Ok(Scoped::Ran(ran)) => {
            out.status = ran.status;
            out.counts = ran.counts;
            out.error = ran.error;
            out.sync_run_id = Some(ran.run_id);
            out.close_error = ran.close_error;
        }
        Ok(Scoped::Skipped) => {
            out.status = RunStatus::Skipped;
            out.error = Some("another run of this source holds its lock".into());
        }
        Err(e) => out.error = Some(scrub(&error_chain(&e))),
    }
    out
}

fn password(ctx: &Ctx<'_>, std: &str) -> Result<Secret, SourceError> {
    ctx.passwords
        .get(std)
        .cloned()
        .ok_or_else(|| SourceError::NoPassword {
            var: format!("the password of {std}"),
        })
}

fn execute(
    ctx: &Ctx<'_>,
    src: &SourceConfig,
    std: &str,
    mode: Mode,
    w: &mut Work<'_>,
    import_id_out: &mut Option<i32>,
) -> Result<(), SourceError> {
    let cfg = ctx.cfg;
    let schema = s(&cfg.schema);
    let mut conn = ctx.pool.get()?;
    // The staging table's `IF NOT EXISTS` notices would be logged at every page.
    conn.batch_execute("SET client_min_messages TO warning")
        .map_err(|e| PgError::query("configure the session", e))?;
    let mut writer = Writer::new(conn, &cfg.schema, std, &src.kind());
    let abandoned = store::mark_abandoned(&mut **writer.client(), &cfg.schema, std)?;
    if abandoned > 0 {
        tracing::warn!(
            source = std,
            abandoned,
            "import_log rows of a run that died marked failed"
        );
    }
    let (resume, since) = match &mode {
        Mode::Full { resume } => (resume.as_ref().map(|c| c.last_id), None),
        Mode::Update { since, .. } => (None, Some(since.clone())),
        Mode::MetadataOnly { .. } => (None, None),
    };
    let xfer_type = if mode.is_update() { "update" } else { "full" };
    // The run's import_log row; a resumed full keeps its original start.
    let row = writer
        .client()
        .query_one(
            &format!(
                "INSERT INTO {schema}.import_log (source, controler, xfer_type, xfer_status, xfer_start_ts)
                 VALUES ($1::varchar, 'data', $2::varchar, 'init',
                         coalesce((SELECT since::timestamp FROM {schema}.import_checkpoint
                                   WHERE source = $1::varchar AND $3), localtimestamp))
                 RETURNING id, to_char(now() AT TIME ZONE $4, 'YYYY-MM-DD HH24:MI:SS')"
            ),
            &[&std, &xfer_type, &resume.is_some(), &cfg.source_timezone],
        )
        .map_err(|e| PgError::query("open the import_log row", e))?;
    let import_id: i32 = row.get(0);
    let until: String = row.get(1);
    writer.import_id = import_id;
    *import_id_out = Some(import_id);
    let result = transfer(ctx, src, std, resume, since, &until, &mut writer, w);
    let client = writer.client();
    match &result {
        Ok(()) => {
            let comment = resume.map(|r| match r {
                Some(id) => format!("resumed an interrupted full after id_synthese {id}"),
                None => "resumed an interrupted full from its start".to_string(),
            });
            let mut tx = client
                .transaction()
                .map_err(|e| PgError::query("begin the end of the run", e))?;
            tx.execute(
                &format!(
                    "UPDATE {schema}.import_log SET xfer_status = 'success', xfer_end_ts = localtimestamp,
                       comment = $2 WHERE id = $1"
                ),
                &[&import_id, &comment],
            )
            .map_err(|e| PgError::query("close the import_log row", e))?;
            tx.execute(
                &format!("DELETE FROM {schema}.import_checkpoint WHERE source = $1"),
                &[&std],
            )
            .map_err(|e| PgError::query("remove the checkpoint", e))?;
            tx.commit()
                .map_err(|e| PgError::query("commit the end of the run", e))?;
        }
        Err(e) => {
            let comment: String = scrub(&error_chain(e)).chars().take(2000).collect();
            client
                .execute(
                    &format!(
                        "UPDATE {schema}.import_log SET xfer_status = 'failed', xfer_end_ts = localtimestamp,
                           api_count_errors = api_count_errors + 1, comment = $2 WHERE id = $1"
                    ),
                    &[&import_id, &comment],
                )
                .map_err(|e| PgError::query("mark the import_log row failed", e))?;
        }
    }
    result
}

#[allow(clippy::too_many_arguments)]
fn transfer(
    ctx: &Ctx<'_>,
    src: &SourceConfig,
    std: &str,
    resume: Option<Option<i64>>,
    since: Option<String>,
    until: &str,
    writer: &mut Writer,
    w: &mut Work<'_>,
) -> Result<(), SourceError> {
    let cfg = ctx.cfg;
    let schema = s(&cfg.schema);
    let pw = password(ctx, std)?;
    let api = Api::connect(src, &pw, &ctx.policy)?;
    if src.separated_metadata() {
        // The metadata export first, whole, so that the data rows' triggers find the datasets.
        let import_id = writer.import_id;
        let shown = vec![("limit".to_string(), Value::from(cfg.page_size))];
        let filters = Value::Array(vec![Value::String(python_dumps(&shown))]);
        writer
            .client()
            .execute(
                &format!(
                    "UPDATE {schema}.import_log SET xfer_status = 'importing data', xfer_filters = $2
                     WHERE id = $1"
                ),
                &[&import_id, &filters],
            )
            .map_err(|e| PgError::query("update the import_log row", e))?;
        let meta = metadata::refresh(&api, writer, cfg.page_size, w)?;
        w.counts.fetched += meta.items;
        w.counts.errors += meta.meta_errors;
        w.counts.http_retries = api.retries();
        if src.metadata_only() {
            return Ok(());
        }
    }
    let (base_fetched, base_errors) = (w.counts.fetched, w.counts.errors);
    let mut params: Vec<(String, String)> = src.filters();
    params.push(("orderby".into(), "id_synthese".into()));
    params.push(("limit".into(), cfg.page_size.to_string()));
    if let Some(since) = &since {
        params.push(("filter_d_up_derniere_action".into(), since.clone()));
        params.push(("filter_d_lo_derniere_action".into(), until.to_string()));
    }
    let start_at = resume.flatten().map(|id| id + 1);
    let mut shown: Vec<(String, Value)> = params
        .iter()
        .map(|(k, v)| {
            let v = if k == "limit" {
                Value::from(cfg.page_size)
            } else {
                src.query_strings
                    .get(k)
                    .map(|q| q.as_json())
                    .unwrap_or_else(|| Value::String(v.clone()))
            };
            (k.clone(), v)
        })
        .collect();
    if let Some(id) = start_at {
        shown.push(("filter_n_up_id_synthese".into(), Value::from(id)));
    }
    let filters = Value::Array(vec![Value::String(python_dumps(&shown))]);
    {
        let import_id = writer.import_id;
        let mut tx = writer
            .client()
            .transaction()
            .map_err(|e| PgError::query("begin the download", e))?;
        tx.execute(
            &format!(
                "UPDATE {schema}.import_log SET xfer_status = 'importing data', xfer_filters = $2 WHERE id = $1"
            ),
            &[&import_id, &filters],
        )
        .map_err(|e| PgError::query("update the import_log row", e))?;
        if since.is_none() {
            tx.execute(
                &format!(
                    "INSERT INTO {schema}.import_checkpoint (source, import_id, mode, since)
                     SELECT $1, id, 'full', xfer_start_ts::timestamptz FROM {schema}.import_log WHERE id = $2
                     ON CONFLICT (source) DO UPDATE SET import_id = EXCLUDED.import_id, updated_at = now(),
                       since = CASE WHEN $3 THEN import_checkpoint.since ELSE EXCLUDED.since END,
                       last_id_data = CASE WHEN $3 THEN import_checkpoint.last_id_data END,
                       mode = 'full'"
                ),
                &[&std, &import_id, &resume.is_some()],
            )
            .map_err(|e| PgError::query("write the checkpoint", e))?;
        }
        tx.commit()
            .map_err(|e| PgError::query("commit the start of the download", e))?;
    }
    let progress = Progress::new(&format!("gn2pg {}", src.name), None, Unit::Items("rows"));
    let plan = Plan {
        api: &api,
        paging: cfg.paging,
        params,
        start_at,
        jobs: cfg.jobs as usize,
        prefetch: cfg.prefetch as usize,
    };
    let full = since.is_none();
    let mut totals = PageCounts::default();
    let mut stager = if cfg.writer_connections >= 2 {
        let mut conn = ctx.pool.get()?;
        conn.batch_execute("SET client_min_messages TO warning")
            .map_err(|e| PgError::query("configure the session", e))?;
        let mut st = Stager::new(conn, &cfg.schema, std, &src.kind())?;
        st.import_id = writer.import_id;
        writer.stages = Some(st.tables());
        Some(st)
    } else {
        None
    };
    let mut stage_fn = stager.as_mut().map(|st| {
        move |seq: u64, page: &ParsedPage| -> Result<bool, SourceError> {
            Ok(st.stage(page, (seq % 2) as usize)?)
        }
    });
    let streamed = pipeline::stream(
        &plan,
        |first| {
            if let Some(n) = first.count() {
                progress.set_total(n);
            }
        },
        stage_fn.as_mut().map(|f| f as &mut pipeline::StageFn<'_>),
        |seq, page| {
            w.deadline.check()?;
            let slot = page.staged.then_some((seq % 2) as usize);
            let counts = writer.write_page(page, if full { page.last_id } else { None }, slot)?;
            totals.add(&counts);
            progress.inc(counts.items);
            w.counts.fetched = base_fetched + totals.items;
            w.counts.upserted = totals.upserts;
            w.counts.errors = base_errors + totals.errors + totals.meta_errors;
            w.counts.http_retries = api.retries();
            if seq % 10 == 9 {
                w.progress();
            }
            Ok(())
        },
    );
    if let Some(st) = stager {
        st.drop_tables();
    }
    writer.stages = None;
    w.counts.http_retries = api.retries();
    progress.finish();
    streamed?;
    if let Some(since) = since {
        let import_id = writer.import_id;
        writer
            .client()
            .execute(
                &format!("UPDATE {schema}.import_log SET xfer_status = 'delete' WHERE id = $1"),
                &[&import_id],
            )
            .map_err(|e| PgError::query("update the import_log row", e))?;
        let mut page = 1u64;
        let mut limit = u64::from(cfg.page_size);
        loop {
            w.deadline.check()?;
            let log = api.deletion_page(&since, limit, page)?;
            if log.items == 0 {
                break;
            }
            w.counts.deleted += writer.delete(&log.ids)?;
            limit = log.limit;
            if page >= log.total.div_ceil(log.limit) {
                break;
            }
            page += 1;
        }
        w.counts.http_retries = api.retries();
    }
    Ok(())
}
