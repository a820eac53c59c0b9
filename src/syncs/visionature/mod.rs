//! `data-tasks visionature`: VisioNature sites (Biolovision API) → PostgreSQL `*_json` tables, and
//! the check-schema → production `fix-sync` (docs/syncs/visionature.md). Replaces Client-API-VN's
//! `transfer_vn` and the `fix_synchro.sql` cron, on the same tables.
//!
//! - `init-db [--schema S]` ([`schema`]): the tables, idempotently, also on a schema the client
//!   created.
//! - `transfer --full|--update [--site N] [--schema S]` ([`run()`]): per site, healthcheck
//!   (one authenticated call; refused → fatal), reference lists, then each taxo group with its own
//!   watermark. Each site × schema holds an advisory lock (held → skipped, exit 0) and a
//!   `data_tasks.sync_run` row.
//! - `fix-sync` ([`fixsync`]): re-download the window into the check schema, reconcile production
//!   in one transaction, mail the summary ([`mail`]).
//! - `count [--site N] [--schema S]` ([`count`]): per site × taxo group, the sightings stored
//!   beside the number the site's statistics page shows; a `sync_run` row (mode `count`) per site
//!   and `count_log` rows per group; exit 1 past `count_tolerance`.
//! - `--vn-config FILE` ([`compat`], [`compat_toml`]): reads the client's 2.x YAML or 3.x TOML
//!   configuration instead of `[visionature]`.
//!
//! Secrets: `VN_<SITE>_USER_EMAIL`, `…_USER_PW`, `…_CLIENT_KEY`, `…_CLIENT_SECRET`,
//! `VISIONATURE_DATABASE_URL` (else `DATABASE_URL`), `SMTP_URL`. Exit codes: 0 ok, 1 something was
//! skipped or failed (named in the summary), 2 fatal ([`VisionatureError`]).

pub(crate) mod compat;
pub(crate) mod compat_toml;
pub(crate) mod config;
#[cfg(feature = "dashboard")]
pub(crate) mod copies;
pub(crate) mod count;
pub(crate) mod fixsync;
pub(crate) mod mail;
#[cfg(feature = "dashboard")]
pub(crate) mod ops;
pub(crate) mod probes;
pub(crate) mod proj;
pub(crate) mod remote;
pub(crate) mod run;
pub(crate) mod schema;
pub(crate) mod store;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

use chrono::NaiveDate;

use self::config::{SiteConfig, VisionatureConfig};
use self::remote::{Api, ApiError, Credentials};
use self::run::{Ctx, FullOptions, Outcome};
use crate::fetch::http::HttpPolicy;
use crate::outcome::{error_chain, Summary};
use crate::pg::run_log::{self, LockPolicy, RunCounts};
use crate::pg::{DbUrl, PgError};
use crate::secrets::Env;
use crate::settings::ConfigError;
use crate::syncs::protocol::{self, Ran, Scope, Scoped};

/// What `data-tasks visionature` was asked to do (the binary parses it from the command line).
#[derive(Debug)]
pub struct Options {
    /// Read sites and settings from a Client-API-VN configuration, 2.x YAML or 3.x TOML (see the
    /// docs).
    pub vn_config: Option<PathBuf>,
    pub command: VnCommand,
}

/// The subcommands.
#[derive(Debug)]
pub enum VnCommand {
    /// Create the tables (adds only what is missing on a Client-API-VN schema).
    InitDb {
        /// Schema (default: schema_import).
        schema: Option<String>,
    },
    /// Download sightings and reference lists: --full, or --update from the watermarks.
    Transfer(TransferOptions),
    /// Repair production from the check schema (re-download the window, reconcile, mail).
    FixSync(FixSyncOptions),
    /// Sightings stored per site × taxo group beside the number each site shows.
    Count(CountOptions),
}

/// `count` flags.
#[derive(Debug)]
pub struct CountOptions {
    /// Only this site.
    pub site: Option<String>,
    /// Schema counted (default schema_import).
    pub schema: Option<String>,
}

/// `transfer` flags.
#[derive(Debug)]
pub struct TransferOptions {
    /// Everything (windowed searches), inserting missing watermarks.
    pub full: bool,
    /// Changes since each taxo group's watermark (diff endpoint).
    pub update: bool,
    /// Oldest day read by --full (default filter.start_date).
    pub from: Option<NaiveDate>,
    /// Newest day read by --full (default today).
    pub to: Option<NaiveDate>,
    /// Only this site.
    pub site: Option<String>,
    /// Schema (default schema_import; the check sync uses check_schema).
    pub schema: Option<String>,
}

/// `fix-sync` flags.
#[derive(Debug)]
pub struct FixSyncOptions {
    /// Days re-downloaded into the check schema (default fix_sync.window_days).
    pub window_days: Option<u32>,
    /// Reconcile from the check schema as it is.
    pub skip_download: bool,
    /// Do not replay deletions.
    pub no_deletes: bool,
    /// Do not send the mail.
    pub no_notify: bool,
    /// Count, then roll back.
    pub dry_run: bool,
}

/// Fatal errors of the sync (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum VisionatureError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Db(#[from] PgError),
    #[error("no [[visionature.site]] configured (or --vn-config without sites)")]
    NoSite,
    #[error("site {name:?} is not configured (known: {known})")]
    UnknownSite { name: String, known: String },
    #[error("{site}: healthcheck failed")]
    Healthcheck { site: String, source: ApiError },
    #[error("{schema}.observations_json does not exist: run `data-tasks visionature init-db --schema {schema}` first")]
    NoSchema { schema: String },
    #[error("every site failed: {0}")]
    AllFailed(String),
    #[error("the check schema and production hold no common site (production: [{prod}], check: [{check}]): same site names in both configurations?")]
    SiteMismatch { prod: String, check: String },
    #[error("schema {0:?} is not a plain lower-case identifier")]
    BadSchema(String),
    #[error("--schema {schema}: {why}")]
    ReservedSchema { schema: String, why: &'static str },
    #[error("site {site}: cannot use its credentials; nothing was written")]
    Credentials { site: String, source: ApiError },
    #[error("visionature.out_proj: cannot project to EPSG:{epsg}: {reason}")]
    Projection { epsg: u16, reason: String },
    #[error("fix-sync mails its summary to visionature.fix_sync.notify_email: set SMTP_URL (or pass --no-notify); nothing was written")]
    NoSmtp,
}

/// The HTTP policy of every request (`[visionature.http]`, old keys folded in).
pub fn policy(cfg: &VisionatureConfig) -> Result<HttpPolicy, ConfigError> {
    Ok(cfg.http_settings()?.policy("visionature.http"))
}

/// `VISIONATURE_DATABASE_URL`, else `DATABASE_URL` (Client-API-VN's `database:` connection keys
/// are not read: see [`compat`]).
fn database(env: &Env) -> Result<DbUrl, PgError> {
    protocol::database_url(
        env,
        &["VISIONATURE_DATABASE_URL", "DATABASE_URL"],
        || Ok(None),
        "",
    )
}

/// Server notices (the staging tables' `IF NOT EXISTS`) are not worth a log line each.
fn quiet(mut client: crate::pg::Client) -> Result<crate::pg::Client, PgError> {
    client
        .batch_execute("SET client_min_messages = warning")
        .map_err(|e| PgError::query("SET client_min_messages", e))?;
    Ok(client)
}

fn chosen_schema(
    cfg: &VisionatureConfig,
    schema: &Option<String>,
) -> Result<String, VisionatureError> {
    let s = schema.clone().unwrap_or_else(|| cfg.schema_import.clone());
    if !crate::settings::is_plain_ident(&s) {
        return Err(VisionatureError::BadSchema(s));
    }
    if let Some(why) = crate::settings::reserved_schema(&s) {
        return Err(VisionatureError::ReservedSchema { schema: s, why });
    }
    Ok(s)
}

fn sites<'a>(
    cfg: &'a VisionatureConfig,
    only: &Option<String>,
) -> Result<Vec<&'a SiteConfig>, VisionatureError> {
    if cfg.site.is_empty() {
        return Err(VisionatureError::NoSite);
    }
    match only {
        None => Ok(cfg.site.iter().collect()),
        Some(name) => cfg
            .site
            .iter()
            .find(|s| &s.name == name)
            .map(|s| vec![s])
            .ok_or_else(|| VisionatureError::UnknownSite {
                name: name.clone(),
                known: cfg
                    .site
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
    }
}

/// Each site's client, built before anything is written: a missing credential or an unusable
/// setting fails the command (exit 2) with every table as it was.
fn contexts<'a>(
    cfg: &'a VisionatureConfig,
    env: &Env,
    sites: &[&'a SiteConfig],
    schema: &str,
) -> Result<Vec<Ctx<'a>>, VisionatureError> {
    let policy = policy(cfg)?;
    let mut out = Vec::new();
    for site in sites {
        let credentials = |e| VisionatureError::Credentials {
            site: site.name.clone(),
            source: e,
        };
        let creds = Credentials::from_env(env, &site.name).map_err(credentials)?;
        out.push(Ctx {
            cfg,
            site,
            api: Api::new(&site.url, creds, &policy, cfg.max_chunks).map_err(credentials)?,
            schema: schema.to_string(),
            tz: cfg.timezone().unwrap_or(chrono_tz::Europe::Paris),
            proj: proj::Projector::new(cfg.out_proj).map_err(|e| VisionatureError::Projection {
                epsg: cfg.out_proj,
                reason: e.to_string(),
            })?,
        });
    }
    Ok(out)
}

/// The `data_tasks.sync_run` scope of a site in a schema.
fn scope_name(schema: &str, site: &str) -> String {
    format!("{schema}/{site}")
}

/// Runs the command.
pub fn run(
    config: &VisionatureConfig,
    env: &Env,
    args: &Options,
) -> Result<Summary, VisionatureError> {
    let mut warnings = Vec::new();
    let cfg = match &args.vn_config {
        Some(path) => {
            let (cfg, w) = compat::load(path, config)?;
            warnings.extend(w);
            cfg
        }
        None => config.clone(),
    };
    cfg.validate()?;
    for w in &warnings {
        tracing::warn!("{w}");
    }
    let mut summary = match &args.command {
        VnCommand::InitDb { schema } => {
            let schema = chosen_schema(&cfg, schema)?;
            let db = database(env)?;
            let mut client = db.connect()?;
            schema::init(&mut client, &schema)?;
            let mut s = Summary::new("visionature init-db");
            s.headline = format!(
                "visionature init-db: schema {schema} ready on {}",
                db.server()
            );
            s
        }
        VnCommand::Transfer(t) => transfer_cmd(&cfg, env, t)?,
        VnCommand::FixSync(f) => fix_sync_cmd(&cfg, env, f)?,
        VnCommand::Count(c) => count_cmd(&cfg, env, c)?,
    };
    summary.warnings.extend(warnings);
    Ok(summary)
}

fn transfer_cmd(
    cfg: &VisionatureConfig,
    env: &Env,
    t: &TransferOptions,
) -> Result<Summary, VisionatureError> {
    let mode = if t.full { "full" } else { "update" };
    let schema = chosen_schema(cfg, &t.schema)?;
    let sites = sites(cfg, &t.site)?;
    let ctxs = contexts(cfg, env, &sites, &schema)?;
    let db = database(env)?;
    let mut client = quiet(db.connect()?)?;
    if !crate::pg::schema::table_exists(&mut client, &schema, "observations_json")?
        || !run_log::exists(&mut client)?
    {
        return Err(VisionatureError::NoSchema { schema });
    }
    let mut summary = Summary::new(&format!("visionature transfer --{mode}"));
    let mut total = RunCounts::default();
    let mut lines = Vec::new();
    let mut failed_sites = Vec::new();
    for ctx in &ctxs {
        let site = ctx.site;
        // Healthcheck before anything is written.
        let taxo = match run::healthcheck(ctx) {
            Ok(t) => t,
            Err(e) => {
                if sites.len() == 1 {
                    return Err(VisionatureError::Healthcheck {
                        site: site.name.clone(),
                        source: e,
                    });
                }
                failed_sites.push(format!("{}: healthcheck: {}", site.name, error_chain(&e)));
                continue;
            }
        };
        let scope = scope_name(&schema, &site.name);
        let spec = Scope {
            sync: "visionature",
            scope: &scope,
            mode,
            lock: LockPolicy::Try,
            max_run: cfg.max_run,
            max_run_setting: "visionature.max_run",
        };
        let mut out = Outcome::default();
        let ran = protocol::run_scope(&db, &spec, |w| {
            let r = site_transfer(ctx, &mut client, &taxo, t, &mut out, &w.deadline);
            out.counts.http_retries = ctx.api.retries();
            w.counts = out.counts;
            w.problems = out.problems.clone();
            r
        })?;
        let ran = match ran {
            Scoped::Skipped => {
                summary
                    .warnings
                    .push(format!("{scope}: another run holds the lock: skipped"));
                lines.push(format!("{}: skipped (locked)", site.name));
                continue;
            }
            Scoped::Ran(ran) => ran,
        };
        if let Some(e) = &ran.close_error {
            summary.problem(e.clone());
        }
        if let Err(e) = &ran.result {
            failed_sites.push(format!("{}: {}", site.name, error_chain(e)));
            continue;
        }
        total.add(&out.counts);
        lines.push(format!(
            "{}: {} fetched, {} upserted, {} deleted ({} orphan forms), {} errors",
            site.name,
            out.counts.fetched,
            out.counts.upserted,
            out.counts.deleted,
            out.forms_deleted,
            out.counts.errors
        ));
        for p in out.problems {
            summary.problem(p);
        }
        summary.warnings.extend(out.warnings);
    }
    if !failed_sites.is_empty() && failed_sites.len() == sites.len() {
        return Err(VisionatureError::AllFailed(failed_sites.join("; ")));
    }
    for f in failed_sites {
        summary.problem(f);
    }
    protocol::summary_counts(&mut summary, &total);
    summary.headline = format!(
        "visionature transfer --{mode} into {schema}: {}",
        lines.join("; ")
    );
    Ok(summary)
}

/// Errors that stop a site's count.
#[derive(Debug, thiserror::Error)]
pub enum CountSiteError {
    #[error(transparent)]
    Db(#[from] PgError),
    #[error("{what}")]
    Api {
        what: &'static str,
        #[source]
        source: ApiError,
    },
    #[error(transparent)]
    Layout(#[from] count::CountError),
}

/// One site's count: taxo groups from the API, the statistics page, the stored rows; the
/// per-group rows go to `count_log` with the run's id.
fn site_count(
    ctx: &Ctx<'_>,
    client: &mut crate::pg::Client,
    w: &mut protocol::Work<'_>,
) -> Result<Vec<count::GroupCount>, CountSiteError> {
    let site = ctx.site.name.as_str();
    let taxo = run::healthcheck(ctx).map_err(|e| CountSiteError::Api {
        what: "taxo_groups",
        source: e,
    })?;
    let groups = count::taxo_groups(&taxo.data, &ctx.cfg.filter.taxo_exclude);
    let page = ctx
        .api
        .page(count::STATS_PAGE, "statistics page")
        .map_err(|e| CountSiteError::Api {
            what: "statistics page",
            source: e,
        })?;
    let names: Vec<(i32, String)> = groups.iter().map(|g| (g.id, g.name.clone())).collect();
    let remote = count::parse_stats(&page, &names);
    if !groups
        .iter()
        .any(|g| g.downloaded && remote.contains_key(&g.id))
    {
        return Err(count::CountError::Layout {
            url: format!("{}{}", ctx.site.url, count::STATS_PAGE),
            names: crate::text::clip(
                &groups
                    .iter()
                    .filter(|g| g.downloaded)
                    .map(|g| g.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        }
        .into());
    }
    let local = store::local_counts(client, &ctx.schema, site)?;
    let rows = count::compare(&groups, &local, &remote, ctx.cfg.count_tolerance);
    let mut tx = client
        .transaction()
        .map_err(|e| PgError::query("begin", e))?;
    store::write_count_log(&mut tx, &ctx.schema, site, w.run_id(), &rows)?;
    tx.commit()
        .map_err(|e| PgError::query("commit count_log", e))?;
    for r in &rows {
        let remote = r.remote.unwrap_or(0);
        match r.verdict {
            count::Verdict::Below | count::Verdict::Above => {
                w.counts.remote_total += remote;
                w.counts.local_total += r.local;
                if r.verdict == count::Verdict::Below {
                    w.counts.missing += 1;
                } else {
                    w.counts.extra += 1;
                }
                w.problems.push(format!(
                    "{site}: taxo group {} ({}): {} stored, {remote} on the site ({}, beyond visionature.count_tolerance = {})",
                    r.id,
                    r.name,
                    r.local,
                    r.verdict.word(),
                    ctx.cfg.count_tolerance
                ));
            }
            count::Verdict::Ok => {
                w.counts.remote_total += remote;
                w.counts.local_total += r.local;
            }
            count::Verdict::NotDownloaded | count::Verdict::NotOnPage => {}
        }
    }
    Ok(rows)
}

fn count_cmd(
    cfg: &VisionatureConfig,
    env: &Env,
    c: &CountOptions,
) -> Result<Summary, VisionatureError> {
    let schema = chosen_schema(cfg, &c.schema)?;
    let sites = sites(cfg, &c.site)?;
    let ctxs = contexts(cfg, env, &sites, &schema)?;
    let db = database(env)?;
    let mut client = quiet(db.connect()?)?;
    if !crate::pg::schema::table_exists(&mut client, &schema, "observations_json")?
        || !run_log::exists(&mut client)?
    {
        return Err(VisionatureError::NoSchema { schema });
    }
    crate::pg::schema::apply(
        &mut client,
        &format!("visionature {schema}.count_log"),
        &schema::count_log_sql(&schema),
    )?;
    let mut summary = Summary::new("visionature count");
    let mut total = RunCounts::default();
    let mut tables = Vec::new();
    let mut lines = Vec::new();
    let mut failed_sites = Vec::new();
    for ctx in &ctxs {
        let site = ctx.site.name.as_str();
        let spec = Scope {
            sync: "visionature",
            scope: site,
            mode: "count",
            lock: LockPolicy::Try,
            max_run: cfg.max_run,
            max_run_setting: "visionature.max_run",
        };
        let ran = protocol::run_scope(&db, &spec, |w| site_count(ctx, &mut client, w))?;
        let ran = match ran {
            Scoped::Skipped => {
                summary
                    .warnings
                    .push(format!("{site}: another count holds the lock: skipped"));
                lines.push(format!("{site}: skipped (locked)"));
                continue;
            }
            Scoped::Ran(ran) => ran,
        };
        if let Some(e) = &ran.close_error {
            summary.problem(e.clone());
        }
        let rows = match &ran.result {
            Ok(rows) => rows,
            Err(e) => {
                failed_sites.push(format!("{site}: {}", error_chain(e)));
                continue;
            }
        };
        tables.push(count::table(site, rows));
        for r in rows
            .iter()
            .filter(|r| r.verdict == count::Verdict::NotOnPage && r.local > 0)
        {
            summary.warnings.push(format!(
                "{site}: taxo group {} ({}): {} stored, not on the statistics page: not judged",
                r.id, r.name, r.local
            ));
        }
        total.add(&ran.counts);
        lines.push(format!(
            "{site}: {} stored / {} on the site; groups below: {}, above: {}",
            ran.counts.local_total, ran.counts.remote_total, ran.counts.missing, ran.counts.extra
        ));
        for p in &ran.problems {
            summary.problem(p.clone());
        }
    }
    if !failed_sites.is_empty() && failed_sites.len() == sites.len() {
        return Err(VisionatureError::AllFailed(failed_sites.join("; ")));
    }
    for f in failed_sites {
        summary.problem(f);
    }
    summary.count("remote_total", total.remote_total as usize);
    summary.count("local_total", total.local_total as usize);
    summary.count("missing", total.missing as usize);
    summary.count("extra", total.extra as usize);
    summary.report = Some(tables.join("\n"));
    summary.headline = format!(
        "visionature count in {schema} (tolerance {} %): {}",
        cfg.count_tolerance * 100.0,
        lines.join("; ")
    );
    Ok(summary)
}

/// Errors that stop a site's transfer.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error(transparent)]
    Db(#[from] PgError),
    #[error(transparent)]
    Overrun(#[from] protocol::Overrun),
}

fn site_transfer(
    ctx: &Ctx<'_>,
    client: &mut crate::pg::Client,
    taxo: &remote::Fetched,
    t: &TransferOptions,
    out: &mut Outcome,
    deadline: &protocol::Deadline,
) -> Result<(), SiteError> {
    run::references(ctx, client, taxo, !t.full, out)?;
    let opts = FullOptions {
        from: t.from,
        to: t.to,
        type_date: ctx.cfg.filter.type_date,
        watermarks: true,
    };
    if !ctx.site.downloads("observations") {
        tracing::info!(
            site = ctx.site.name.as_str(),
            "controller observations disabled"
        );
        return Ok(());
    }
    for g in run::groups(ctx, taxo) {
        deadline.check()?;
        if t.full {
            run::full_group(ctx, client, &g, &opts, out)?;
        } else {
            run::update_group(ctx, client, &g, out)?;
        }
    }
    Ok(())
}

fn fix_sync_cmd(
    cfg: &VisionatureConfig,
    env: &Env,
    f: &FixSyncOptions,
) -> Result<Summary, VisionatureError> {
    let opts = fixsync::FixOptions {
        window_days: f.window_days.unwrap_or(cfg.fix_sync.window_days),
        skip_download: f.skip_download,
        no_deletes: f.no_deletes,
        no_notify: f.no_notify,
        dry_run: f.dry_run,
    };
    let smtp = env.secret("SMTP_URL");
    if !opts.no_notify && !cfg.fix_sync.notify_email.is_empty() && smtp.is_none() {
        return Err(VisionatureError::NoSmtp);
    }
    let needs_api = !opts.skip_download || !opts.no_deletes;
    let db = database(env)?;
    let mut client = quiet(db.connect()?)?;
    let both = fixsync::overlap(&mut client, cfg)?;
    // The clients of the sites both schemas hold, before anything is written.
    let repaired: Vec<&SiteConfig> = cfg.site.iter().filter(|s| both.contains(&s.name)).collect();
    let mut ctxs = if needs_api {
        contexts(cfg, env, &repaired, &cfg.schema_import)?
    } else {
        Vec::new()
    };
    for schema in [&cfg.schema_import, &cfg.check_schema] {
        schema::init(&mut client, schema)?;
    }
    let mut summary = Summary::new("visionature fix-sync");
    let scope = format!("fix-sync/{}", cfg.schema_import);
    let spec = Scope {
        sync: "visionature",
        scope: &scope,
        mode: "fix-sync",
        lock: LockPolicy::Try,
        max_run: cfg.max_run,
        max_run_setting: "visionature.max_run",
    };
    let mut report = None;
    let ran = protocol::run_scope(&db, &spec, |w| {
        let r = fixsync::run(&db, &mut client, cfg, &mut ctxs, &both, &opts)?;
        w.counts = RunCounts {
            fetched: r.download.counts.fetched,
            upserted: r.inserted + r.updated,
            deleted: r.deleted,
            errors: r.failed_requests,
            http_retries: ctxs.iter().map(|c| c.api.retries()).sum(),
            ..RunCounts::default()
        };
        w.problems = fix_sync_problems(&r, cfg, smtp.as_ref(), &opts, db.database());
        report = Some(r);
        Ok::<(), VisionatureError>(())
    })?;
    let ran = match ran {
        Scoped::Skipped => {
            summary.headline =
                "visionature fix-sync: another fix-sync holds the lock: skipped".into();
            return Ok(summary);
        }
        Scoped::Ran(ran) => ran,
    };
    if let Some(e) = &ran.close_error {
        summary.problem(e.clone());
    }
    let Ran {
        result, problems, ..
    } = *ran;
    result?;
    let Some(report) = report else {
        return Ok(summary);
    };
    for p in problems {
        summary.problem(p);
    }
    summary.count("inserted", report.inserted as usize);
    summary.count("updated", report.updated as usize);
    summary.count("deleted", report.deleted as usize);
    summary.count("failed_requests", report.failed_requests as usize);
    summary.headline = format!(
        "fix-sync{}: {} inserted, {} updated, {} deleted",
        if opts.dry_run {
            " (dry run, rolled back)"
        } else {
            ""
        },
        report.inserted,
        report.updated,
        report.deleted
    );
    tracing::info!("{}", summary.headline);
    Ok(summary)
}

/// The problems of a fix-sync (exit 1, run `partial`): the report's, an incomplete download, a
/// mail that could not be sent (it is sent here, after the reconciliation committed).
fn fix_sync_problems(
    report: &fixsync::FixReport,
    cfg: &VisionatureConfig,
    smtp: Option<&crate::secrets::Secret>,
    opts: &fixsync::FixOptions,
    database: Option<&str>,
) -> Vec<String> {
    let mut problems = report.problems.clone();
    if report.failed_requests > 0 {
        problems.push(format!(
            "download incomplete: {} failed requests",
            report.failed_requests
        ));
    }
    let (subject, body) = fixsync::mail_text(database.unwrap_or("?"), report, opts.dry_run);
    if !opts.no_notify && !cfg.fix_sync.notify_email.is_empty() {
        match fixsync::notify(cfg, smtp, &subject, &body) {
            Ok(()) => tracing::info!(to = ?cfg.fix_sync.notify_email, "summary mailed"),
            Err(e) => problems.push(format!("mail: {}", error_chain(&e))),
        }
    }
    problems
}
