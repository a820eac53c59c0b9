//! `data-tasks status [--format text|json] [--stale-after TRACK[:SCOPE]=DURATION]…`: per sync and
//! scope, the last run (status, start, duration, counts, error) and the last success with its
//! age; then every copy the syncs keep ([`crate::syncs::ops::CopyState`]: per gn2pg source × data
//! type the rows stored, the export's last known total and the verify outcome; per VisioNature
//! site × taxo group the watermark's age and the last count; per reference list its age). Exit 0
//! when every checked scope's last success is younger than its threshold ([`super::stale`]),
//! every copy is complete by its last check and no watermark or reference list is older than its
//! threshold (tracks `watermark` and `reference`); 1 otherwise (or when no run was ever recorded)
//! — a monitoring probe for cron or a Kubernetes probe.
//!
//! First it applies the abandoned rule ([`crate::pg::run_log::sweep_abandoned`]); a role that may
//! not update `sync_run` skips that step with a warning and still shows dead runs as abandoned.
//! Fatal (exit 2): the database is unreachable, `data_tasks.sync_run` does not exist.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::runs::{self, Run, ScopeKey, ScopeRuns};
use super::stale::{self, StaleAfter, Thresholds, Verdict};
use super::OpsError;
use crate::outcome::{ExitStatus, Summary};
use crate::pg::{run_log, GenericClient};
use crate::secrets::Env;
use crate::text::{cap, duration, limit};

/// Output format of `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// What `data-tasks status` was asked to do (the binary parses it from the command line).
#[derive(Debug, Clone)]
pub struct Options {
    /// `text` (a table and a last line) or `json` (one object).
    pub format: Format,
    /// Threshold of a track (a sync's name, fix-sync, verify, count; or the copies' watermark
    /// and reference, whose scope is SITE/PART), optionally for matching scopes only (`*`
    /// wildcards), or `off`; repeatable, last match wins. Defaults: gn2pg=90m,
    /// visionature=3h, fix-sync=8d, ecospheres=26h, watermark=3h, reference=8d
    /// (reference:*/observers=2d, reference:*/field*=31d); verify and count unchecked.
    pub stale_after: Vec<StaleAfter>,
}

/// One scope in the report.
#[derive(Debug, Clone, Serialize)]
pub struct ScopeStatus {
    #[serde(flatten)]
    pub key: ScopeKey,
    /// Which threshold applies (`gn2pg`, `visionature`, `fix-sync`, `ecospheres`, …).
    pub track: String,
    /// The threshold in seconds; `None` = not checked.
    pub stale_after_s: Option<u64>,
    #[serde(flatten)]
    pub verdict: Verdict,
    pub last_run: Run,
    pub last_success: Option<Run>,
    pub runs_24h: i64,
    pub failed_24h: i64,
}

/// Every scope, judged.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// PostgreSQL's `now()`.
    pub checked_at: DateTime<Utc>,
    /// `checked_at` in the database session's time zone.
    #[serde(skip)]
    pub checked_at_local: String,
    /// Whether the probe passes (exit 0).
    pub ok: bool,
    pub scopes: Vec<ScopeStatus>,
    /// Every copy, judged (empty without the dashboard feature, which compiles the syncs' views).
    pub copies: Vec<CopyStatus>,
}

/// One copy a sync keeps, judged: incomplete by its last check, or lagging past its threshold.
#[derive(Debug, Clone, Serialize)]
pub struct CopyStatus {
    #[cfg(feature = "dashboard")]
    #[serde(flatten)]
    pub copy: crate::syncs::ops::CopyState,
    /// Which threshold applies to its age (`watermark`, `reference`), if it has one.
    pub track: Option<String>,
    /// The threshold in seconds; `None` = not checked.
    pub stale_after_s: Option<u64>,
    /// `fresh` (complete and current), `stale` (incomplete or lagging: the reason says which) or
    /// `unchecked` (neither a check nor an age to judge).
    #[serde(flatten)]
    pub verdict: Verdict,
}

impl Report {
    pub fn stale(&self) -> impl Iterator<Item = &ScopeStatus> {
        self.scopes.iter().filter(|s| s.verdict.is_stale())
    }

    /// The copies incomplete or lagging.
    pub fn stale_copies(&self) -> impl Iterator<Item = &CopyStatus> {
        self.copies.iter().filter(|c| c.verdict.is_stale())
    }

    /// Adds the copies, judged by `thresholds`; the report fails if one is stale.
    #[cfg(feature = "dashboard")]
    pub fn with_copies(
        mut self,
        copies: Vec<crate::syncs::ops::CopyState>,
        thresholds: &Thresholds,
    ) -> Report {
        self.copies = copies
            .into_iter()
            .map(|c| judge_copy(c, thresholds))
            .collect();
        self.ok = self.ok && self.stale_copies().next().is_none();
        self
    }

    /// The one-line outcome.
    pub fn headline(&self) -> String {
        let stale: Vec<&ScopeStatus> = self.stale().collect();
        if self.scopes.is_empty() {
            return "status: no run recorded in data_tasks.sync_run yet".into();
        }
        let n = self.scopes.len();
        let lagging: Vec<String> = self
            .stale_copies()
            .map(|c| match &c.verdict {
                Verdict::Stale(reason) => format!("{} ({reason})", c.label()),
                _ => c.label(),
            })
            .collect();
        let copies = match (self.copies.len(), lagging.len()) {
            (0, _) => String::new(),
            (m, 0) => format!(
                "; {m} cop{} complete and current or unchecked",
                if m == 1 { "y" } else { "ies" }
            ),
            (m, k) => format!(
                "; {k} of {m} cop{} incomplete or lagging: {}",
                if m == 1 { "y" } else { "ies" },
                lagging.join("; ")
            ),
        };
        if stale.is_empty() {
            return format!(
                "status: {}, {n} scope{} fresh or unchecked{copies}",
                if lagging.is_empty() { "ok" } else { "failing" },
                plural(n)
            );
        }
        let names: Vec<String> = stale
            .iter()
            .map(|s| match &s.verdict {
                Verdict::Stale(reason) => format!("{} ({reason})", s.key.label()),
                _ => s.key.label(),
            })
            .collect();
        format!(
            "status: {} of {n} scope{} stale: {}{copies}",
            stale.len(),
            plural(n),
            names.join("; ")
        )
    }
}

impl CopyStatus {
    /// `sync/scope/part`.
    #[cfg(feature = "dashboard")]
    pub fn label(&self) -> String {
        self.copy.label()
    }

    /// `sync/scope/part` (no copy without the dashboard feature).
    #[cfg(not(feature = "dashboard"))]
    pub fn label(&self) -> String {
        String::new()
    }
}

/// Judges one copy: incomplete when its last check left rows (or groups) missing; else stale
/// when its age passes the threshold of its track; else fresh (unchecked with neither).
#[cfg(feature = "dashboard")]
fn judge_copy(c: crate::syncs::ops::CopyState, thresholds: &Thresholds) -> CopyStatus {
    let track = match c.kind {
        "taxo group" => Some(stale::WATERMARK),
        "reference list" => Some(stale::REFERENCE),
        _ => None,
    };
    let threshold = track.and_then(|t| thresholds.limit(t, &format!("{}/{}", c.scope, c.part)));
    let verdict = if c.missing > 0 {
        Verdict::Stale(format!(
            "incomplete: {}",
            c.check.as_deref().unwrap_or("rows missing")
        ))
    } else {
        match (threshold, c.age_s) {
            (Some(limit), Some(age)) if age > limit.as_secs_f64() => Verdict::Stale(format!(
                "{} {} old, limit {}",
                if c.kind == "taxo group" {
                    "watermark"
                } else {
                    "last download"
                },
                duration(age),
                limit_text(limit)
            )),
            (Some(_), Some(_)) => Verdict::Fresh,
            _ if c.check.is_some() => Verdict::Fresh,
            _ => Verdict::Unchecked,
        }
    };
    CopyStatus {
        track: track.map(str::to_string),
        stale_after_s: threshold.map(|d| d.as_secs()),
        verdict,
        copy: c,
    }
}

#[cfg(feature = "dashboard")]
fn limit_text(d: std::time::Duration) -> String {
    limit(d)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Judges every scope of `data_tasks.sync_run` (reads only).
pub fn report(
    client: &mut impl GenericClient,
    thresholds: &Thresholds,
) -> Result<Report, crate::pg::PgError> {
    let (checked_at_local, checked_at) = runs::now(client)?;
    let scopes: Vec<ScopeStatus> = runs::overview(client)?
        .into_iter()
        .map(|s| judge(s, thresholds))
        .collect();
    let ok = !scopes.is_empty() && !scopes.iter().any(|s| s.verdict.is_stale());
    Ok(Report {
        checked_at,
        checked_at_local,
        ok,
        scopes,
        copies: Vec::new(),
    })
}

fn judge(s: ScopeRuns, thresholds: &Thresholds) -> ScopeStatus {
    let track = stale::track(&s.key.sync, &s.key.scope, &s.key.kind).to_string();
    let threshold = thresholds.limit(&track, &s.key.scope);
    let verdict = match (&s.last.hung, s.last.max_run_s) {
        (true, Some(max)) => Verdict::Stale(format!(
            "hung: run {} running for {}, past its limit of {} (max_run) while still holding its lock",
            s.last.id,
            crate::text::duration(s.last.duration_s),
            crate::text::limit(std::time::Duration::from_secs(max))
        )),
        _ => Verdict::of(threshold, s.last_success.as_ref().map(|r| r.age_s)),
    };
    ScopeStatus {
        key: s.key,
        track,
        stale_after_s: threshold.map(|d| d.as_secs()),
        verdict,
        last_run: s.last,
        last_success: s.last_success,
        runs_24h: s.runs_24h,
        failed_24h: s.failed_24h,
    }
}

/// Runs the command: the report as text or JSON in the summary's headline.
pub fn run(env: &Env, args: &Options) -> Result<Summary, OpsError> {
    let db = super::database(env)?;
    let mut client = db.connect()?;
    if !run_log::exists(&mut client)? {
        return Err(OpsError::NoRunTable {
            server: db.server().to_string(),
        });
    }
    let mut warnings = Vec::new();
    match run_log::sweep_abandoned(&mut client) {
        Ok(0) => {}
        Ok(n) => tracing::warn!("{n} abandoned run(s) marked failed/abandoned"),
        Err(e) if e.code() == Some("42501") => {
            let w = "this role may not update data_tasks.sync_run: abandoned runs are shown, not marked".to_string();
            tracing::warn!("{w}");
            warnings.push(w);
        }
        Err(e) => return Err(e.into()),
    }
    let thresholds = Thresholds::new(&args.stale_after);
    let report = report(&mut client, &thresholds)?;
    #[cfg(feature = "dashboard")]
    let report = {
        let mut tx = client
            .build_transaction()
            .read_only(true)
            .start()
            .map_err(|e| crate::pg::PgError::query("start a read-only transaction", e))?;
        let copies = crate::syncs::ops::copies(&mut tx)?;
        tx.commit()
            .map_err(|e| crate::pg::PgError::query("end the read-only transaction", e))?;
        report.with_copies(copies, &thresholds)
    };
    let mut summary = Summary::new("status");
    summary.warnings = warnings;
    summary.count("scopes", report.scopes.len());
    summary.count("stale", report.stale().count());
    summary.count("copies", report.copies.len());
    summary.count("copies_failing", report.stale_copies().count());
    if !report.ok {
        summary.status = ExitStatus::Partial;
    }
    summary.headline = match args.format {
        Format::Text => text(&report),
        Format::Json => serde_json::to_string_pretty(&report).unwrap_or_default(),
    };
    Ok(summary)
}

fn counts(r: &Run) -> String {
    let c = &r.counts;
    let mut s = format!(
        "fetched {} upserted {} deleted {} errors {}",
        c.fetched, c.upserted, c.deleted, c.errors
    );
    if c.http_retries > 0 {
        let _ = write!(s, " retries {}", c.http_retries);
    }
    // Completeness checks (verify, count): what they compared and found.
    if c.remote_total + c.local_total + c.missing + c.extra + c.repaired > 0 {
        let _ = write!(
            s,
            "; remote {} local {} missing {} extra {} repaired {}",
            c.remote_total, c.local_total, c.missing, c.extra, c.repaired
        );
    }
    s
}

/// The text report: one block per scope, then the headline.
pub fn text(report: &Report) -> String {
    let mut out = format!("data-tasks status at {}\n", report.checked_at_local);
    let width = report
        .scopes
        .iter()
        .map(|s| s.key.label().chars().count())
        .max()
        .unwrap_or(0);
    for s in &report.scopes {
        let r = &s.last_run;
        let state = match (&s.verdict, s.stale_after_s) {
            (Verdict::Unchecked, _) => "unchecked (no threshold)".to_string(),
            (v, Some(secs)) => format!(
                "{} (limit {})",
                v.label(),
                limit(std::time::Duration::from_secs(secs))
            ),
            (v, None) => v.label().to_string(),
        };
        let _ = writeln!(out, "\n{:<width$}  {state}", s.key.label());
        let took = if r.is_running() {
            format!("running for {}", duration(r.duration_s))
        } else {
            format!("took {}", duration(r.duration_s))
        };
        let _ = writeln!(
            out,
            "  last run      #{} {} {} — started {}, {took}; {}",
            r.id,
            r.mode,
            r.status,
            r.started,
            counts(r)
        );
        if let Some(e) = &r.error {
            let _ = writeln!(out, "  error         {}", cap(e));
        }
        match &s.last_success {
            Some(ok) if ok.id == r.id => {
                let _ = writeln!(out, "  last success  this run, {} ago", duration(ok.age_s));
            }
            Some(ok) => {
                let _ = writeln!(
                    out,
                    "  last success  #{} {} started {}, ended {} ago",
                    ok.id,
                    ok.mode,
                    ok.started,
                    duration(ok.age_s)
                );
            }
            None => {
                let _ = writeln!(out, "  last success  never");
            }
        }
        let _ = writeln!(
            out,
            "  last 24 h     {} run{}, {} failed or partial",
            s.runs_24h,
            plural(s.runs_24h as usize),
            s.failed_24h
        );
    }
    if !report.copies.is_empty() {
        let _ = writeln!(out, "\ncopies");
        copies_text(&mut out, report);
    }
    let _ = write!(out, "\n{}", report.headline());
    out
}

/// One line per copy: state, stored / remote, last check, watermark and age.
#[cfg(feature = "dashboard")]
fn copies_text(out: &mut String, report: &Report) {
    let width = report
        .copies
        .iter()
        .map(|c| c.label().chars().count())
        .max()
        .unwrap_or(0);
    for c in &report.copies {
        let x = &c.copy;
        let state = match &c.verdict {
            Verdict::Stale(reason) => format!("STALE ({reason})"),
            v => v.label().to_string(),
        };
        let mut parts = vec![format!("{:<width$}  {state}", c.label())];
        if x.stored.is_some() || x.remote.is_some() {
            let n = |v: Option<i64>| v.map_or("?".to_string(), |v| v.to_string());
            let from = x
                .remote_from
                .as_deref()
                .map(|f| format!(" ({f})"))
                .unwrap_or_default();
            parts.push(format!("stored {} of {}{from}", n(x.stored), n(x.remote)));
        }
        if let Some(check) = &x.check {
            parts.push(format!(
                "check {check}{}",
                x.checked_at
                    .as_deref()
                    .map(|a| format!(" at {a}"))
                    .unwrap_or_default()
            ));
        }
        if let (Some(w), Some(age)) = (&x.watermark, x.age_s) {
            parts.push(format!(
                "{} {w}, {} ago",
                if x.kind == "taxo group" {
                    "watermark"
                } else {
                    "downloaded"
                },
                duration(age)
            ));
        }
        let _ = writeln!(out, "  {}", parts.join("; "));
    }
}

#[cfg(not(feature = "dashboard"))]
fn copies_text(_: &mut String, _: &Report) {}
