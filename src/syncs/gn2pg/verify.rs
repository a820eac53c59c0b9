//! `gn2pg verify [--source NAME]… [--repair]` (docs/syncs/gn2pg.md §13): is the local copy of a
//! source complete? The export's `total_filtered` (with the source's own filters) is compared
//! with the rows `data_json` holds for the source; when they differ, the id range is bisected
//! with `filter_n_up_id_synthese`/`filter_n_lo_id_synthese` (both inclusive in GeoNature's
//! `GenericQuery`) and `limit=1`, each half's remote count read from `total_filtered` and set
//! against the local count of the same range, so the requests grow with the number of
//! differences (about `d · log2(n / (d · page_size))` plus one per difference), not with the
//! table. A range whose remote count fits in one page (`page_size`) is listed instead of split
//! further: one request gives its exact ids, so a missing and an extra row *inside such a range*
//! are both seen. A range whose counts are equal (the whole export too) gets one *rank probe*:
//! the id at its middle position (`orderby`, `limit=1`, `offset=k` — `offset` is a page index)
//! against the local one; a missing and an extra row on either side of the middle shift it, and
//! the range is split further. A pair on the same side of every probe still cancels out — the
//! export API offers no sum, hash or id-only listing to do better without downloading the rows
//! (see the doc's §13 for the choice).
//!
//! `--repair` stores the missing rows (those listed in a page, or whole ranges the copy lacks,
//! fetched again page by page) through the normal upsert path ([`Writer::write_page`]) and
//! removes the extra ones through the normal deletion path ([`Writer::delete`]), so the
//! operators' triggers see ordinary inserts and deletes; its `import_log` row is `xfer_type =
//! 'repair'` and ends `repaired` (never `success`: a repair must not move the next update's
//! `since`). The outcome is one `data_tasks.sync_run` row per source, mode `verify`, with
//! `remote_total`, `local_total`, `missing`, `extra`, `repaired`; differences left unrepaired
//! make it `partial` (exit 1). The source's lock is held throughout, so no sync of the source
//! writes meanwhile; rows the source adds or deletes during the verify may show up as
//! differences (run it again).

use std::collections::{BTreeSet, HashMap};

use super::config::{Gn2pgConfig, SourceConfig};
use super::page::{self, ParsedPage};
use super::remote::{Api, ApiError, ExportPage};
use super::run::Outcome;
use super::store::{PageCounts, Writer};
use super::{Gn2pgError, SourceError};
use crate::outcome::{error_chain, ExitStatus, Summary};
use crate::pg::run_log::{LockPolicy, RunCounts, RunStatus};
use crate::pg::{ident, DbUrl, PgError, Pool};
use crate::secrets::{scrub, Env, Secret};
use crate::syncs::protocol::{self, Scope, Scoped, Work};

/// The export's id column (the one the sync pages on), and its range filters (GeoNature:
/// `>=` and `<=`).
const ID: &str = "id_synthese";
const UP: &str = "filter_n_up_id_synthese";
const LO: &str = "filter_n_lo_id_synthese";
/// Ids named per kind of difference in the summary; the counts are always whole.
const SHOWN_IDS: usize = 50;

/// What a verify found for one source (beside the counts of its `sync_run` row).
#[derive(Debug, Clone, Default)]
pub struct Findings {
    /// Missing ids seen one by one, ascending.
    pub missing_ids: Vec<i64>,
    /// Ranges (inclusive) the copy lacks entirely, with the source's count of rows in each.
    pub missing_ranges: Vec<(i64, i64, u64)>,
    /// Ids the copy holds and the source does not, ascending.
    pub extra_ids: Vec<i64>,
    /// Export requests made (logins and retries aside).
    pub requests: u64,
    /// Bytes of the export pages received.
    pub bytes: u64,
}

impl Findings {
    fn missing(&self) -> u64 {
        self.missing_ids.len() as u64 + self.missing_ranges.iter().map(|r| r.2).sum::<u64>()
    }
}

/// A source's verify: the usual outcome and what was found.
#[derive(Debug, Clone)]
pub struct Verified {
    pub outcome: Outcome,
    pub findings: Findings,
}

/// A range of ids still to look at, with the source's count of rows in it.
struct Node {
    lo: i64,
    hi: i64,
    remote: u64,
    /// Known to differ although the counts are equal (a rank probe said so).
    differs: bool,
}

/// The export requests of a verify, counted.
struct Probe<'a> {
    api: &'a Api,
    base: Vec<(String, String)>,
    leaf: u64,
    requests: u64,
    bytes: u64,
}

impl Probe<'_> {
    fn get(&mut self, extra: &[(&str, String)], what: &str) -> Result<ExportPage, ApiError> {
        // A parameter of `extra` replaces the base's of the same name (`offset`).
        let mut params: Vec<(String, String)> = self
            .base
            .iter()
            .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
            .cloned()
            .collect();
        params.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
        let page = self.api.export_page(&params, what)?;
        self.requests += 1;
        self.bytes += page.body.len() as u64;
        Ok(page)
    }

    /// `total_filtered` of a page; a page without it cannot be verified against.
    fn filtered(page: &ExportPage, what: &str) -> Result<u64, SourceError> {
        page.total_filtered.ok_or_else(|| SourceError::Protocol {
            what: what.into(),
            reason: "the export page has no total_filtered: rows cannot be counted".into(),
        })
    }

    /// The source's rows with `lo ≤ id ≤ hi`.
    fn count(&mut self, lo: i64, hi: i64) -> Result<u64, SourceError> {
        let what = format!("count of ids {lo}–{hi}");
        let page = self.get(
            &[
                ("limit", "1".into()),
                (UP, lo.to_string()),
                (LO, hi.to_string()),
            ],
            &what,
        )?;
        Probe::filtered(&page, &what)
    }

    /// The id at 0-based position `k` among the source's rows (within `lo ≤ id ≤ hi` when a
    /// range is given), in id order: GeoNature's `offset` is a page index, so `limit=1` makes it
    /// a row index. `None` when the page is empty.
    fn nth(&mut self, range: Option<(i64, i64)>, k: u64) -> Result<Option<i64>, SourceError> {
        let what = match range {
            Some((lo, hi)) => format!("id at position {k} of ids {lo}–{hi}"),
            None => format!("id at position {k}"),
        };
        let mut params = vec![
            ("limit", "1".to_string()),
            ("offset", k.to_string()),
            ("orderby", ID.to_string()),
        ];
        if let Some((lo, hi)) = range {
            params.push((UP, lo.to_string()));
            params.push((LO, hi.to_string()));
        }
        let page = self.get(&params, &what)?;
        Ok(page::parse(&page).first_id)
    }

    /// Every page of the rows with `lo ≤ id ≤ hi` (keyset on the id, `page_size` rows a page),
    /// handed to `each` in order; returns the source's count for the range.
    fn list(
        &mut self,
        lo: i64,
        hi: i64,
        mut each: impl FnMut(ParsedPage) -> Result<(), SourceError>,
    ) -> Result<u64, SourceError> {
        let mut from = lo;
        let mut count = None;
        loop {
            let what = format!("ids {from}–{hi}");
            let limit = self.leaf.to_string();
            let p = self.get(
                &[
                    ("orderby", ID.into()),
                    ("limit", limit),
                    (UP, from.to_string()),
                    (LO, hi.to_string()),
                ],
                &what,
            )?;
            let n = Probe::filtered(&p, &what)?;
            count.get_or_insert(n);
            let parsed = page::parse(&p);
            let last = parsed.last_id;
            let served = parsed.items as u64;
            each(parsed)?;
            match last {
                // A short page with rows left (GeoNature's GeoJSON drops rows without geometry)
                // goes on after its last id; an empty page or the end of the range stops.
                Some(last) if served > 0 && served < n && last < hi && last >= from => {
                    from = last + 1
                }
                _ => break,
            }
        }
        Ok(count.unwrap_or(0))
    }
}

/// The local ids of a source, ascending (4 bytes a row, read in one array).
fn local_ids(pool: &Pool, schema: &str, std: &str) -> Result<Vec<i32>, PgError> {
    let mut client = pool.get()?;
    let row = client
        .query_one(
            &format!(
                "SELECT coalesce(array_agg(id_data ORDER BY id_data), '{{}}')
                   FROM {}.data_json WHERE source = $1 AND controler = 'data'",
                ident(schema)
            ),
            &[&std],
        )
        .map_err(|e| PgError::query("read the source's ids in data_json", e))?;
    Ok(row.get(0))
}

/// The part of `ids` (ascending) within `lo..=hi`.
fn within(ids: &[i32], lo: i64, hi: i64) -> &[i32] {
    let a = ids.partition_point(|i| i64::from(*i) < lo);
    let b = ids.partition_point(|i| i64::from(*i) <= hi);
    &ids[a..b.max(a)]
}

/// Compares the source with its copy; `held` receives the rows of missing ids that were listed
/// (for a repair), `problems` what could not be judged.
fn compare(
    probe: &mut Probe<'_>,
    ids: &[i32],
    w: &mut Work<'_>,
    held: &mut Vec<ParsedPage>,
    problems: &mut Vec<String>,
) -> Result<Findings, SourceError> {
    let mut f = Findings::default();
    let first = probe.get(
        &[("limit", "1".into()), ("orderby", ID.into())],
        "export total",
    )?;
    let total = Probe::filtered(&first, "export total")?;
    w.counts.remote_total = total;
    w.counts.local_total = ids.len() as u64;
    // Equal totals may still hide a missing row and an extra one: the rank probe compares the
    // middle row's id (one request) before the copy is called complete.
    let middle = ids.len() / 2;
    if total == ids.len() as u64
        && (total == 0 || probe.nth(None, middle as u64)? == Some(i64::from(ids[middle])))
    {
        return Ok(f);
    }
    let root_differs = total == ids.len() as u64;
    let mut lo = page::parse(&first).first_id;
    let mut hi = if total > 0 {
        let last = probe.get(
            &[("limit", "1".into()), ("orderby", format!("{ID}:desc"))],
            "export's last id",
        )?;
        page::parse(&last).first_id
    } else {
        None
    };
    if let (Some(a), Some(b)) = (ids.first(), ids.last()) {
        lo = Some(lo.map_or(i64::from(*a), |l| l.min(i64::from(*a))));
        hi = Some(hi.map_or(i64::from(*b), |h| h.max(i64::from(*b))));
    }
    let (Some(lo), Some(hi)) = (lo, hi) else {
        return Err(SourceError::Protocol {
            what: "export total".into(),
            reason: format!("the export counts {total} rows but served none with an id_synthese"),
        });
    };
    let mut missing: BTreeSet<i64> = BTreeSet::new();
    let mut extra: BTreeSet<i64> = BTreeSet::new();
    let mut stack = vec![Node {
        lo,
        hi,
        remote: total,
        differs: root_differs,
    }];
    while let Some(n) = stack.pop() {
        w.deadline.check()?;
        let local = within(ids, n.lo, n.hi);
        let l = local.len() as u64;
        if n.remote == l && !n.differs {
            // Equal counts: one rank probe at the middle; a missing and an extra row on either
            // side of it shift the ids there, so the range is split further.
            let middle = local.len() / 2;
            if l == 0
                || probe.nth(Some((n.lo, n.hi)), middle as u64)? == Some(i64::from(local[middle]))
            {
                continue;
            }
        }
        if n.remote == 0 {
            extra.extend(local.iter().map(|i| i64::from(*i)));
            continue;
        }
        if n.remote <= probe.leaf || n.lo == n.hi {
            let mut remote_ids: BTreeSet<i64> = BTreeSet::new();
            let mut pages = Vec::new();
            let counted = probe.list(n.lo, n.hi, |p| {
                remote_ids.extend(p.rows.iter().map(|r| i64::from(r.id)));
                remote_ids.extend(p.bad.iter().filter_map(|b| b.id));
                w.counts.fetched += p.items as u64;
                pages.push(p);
                Ok(())
            })?;
            let local: BTreeSet<i64> = local.iter().map(|i| i64::from(*i)).collect();
            let gone: Vec<i64> = remote_ids.difference(&local).copied().collect();
            let unserved = counted.saturating_sub(remote_ids.len() as u64);
            if unserved > 0 {
                problems.push(format!(
                    "ids {}–{}: the export counts {counted} rows but served {}; rows of the copy \
                     missing from the pages there are not counted as extra",
                    n.lo,
                    n.hi,
                    remote_ids.len()
                ));
            } else {
                extra.extend(local.difference(&remote_ids));
            }
            let wanted: BTreeSet<i64> = gone.iter().copied().collect();
            missing.extend(gone);
            for p in pages {
                let rows: Vec<_> = p
                    .rows
                    .into_iter()
                    .filter(|r| wanted.contains(&i64::from(r.id)))
                    .collect();
                let bad: Vec<_> = p
                    .bad
                    .into_iter()
                    .filter(|b| b.id.is_some_and(|i| wanted.contains(&i)))
                    .collect();
                if rows.is_empty() && bad.is_empty() {
                    continue;
                }
                held.push(ParsedPage {
                    items: rows.len() + bad.len(),
                    first_id: rows.first().map(|r| i64::from(r.id)),
                    last_id: rows.last().map(|r| i64::from(r.id)),
                    rows,
                    bad,
                    metas: p.metas,
                    ..ParsedPage::default()
                });
            }
            continue;
        }
        if l == 0 {
            f.missing_ranges.push((n.lo, n.hi, n.remote));
            continue;
        }
        let mid = n.lo + (n.hi - n.lo) / 2;
        let left = probe.count(n.lo, mid)?;
        stack.push(Node {
            lo: mid + 1,
            hi: n.hi,
            remote: n.remote.saturating_sub(left),
            differs: false,
        });
        stack.push(Node {
            lo: n.lo,
            hi: mid,
            remote: left,
            differs: false,
        });
        w.counts.http_retries = probe.api.retries();
    }
    f.missing_ids = missing.into_iter().collect();
    f.extra_ids = extra.into_iter().collect();
    f.missing_ranges.sort_unstable();
    Ok(f)
}

/// Stores the missing rows and deletes the extra ones (see the module doc); returns how many
/// were put right.
#[allow(clippy::too_many_arguments)]
fn repair(
    ctx: &VerifyCtx<'_>,
    src: &SourceConfig,
    std: &str,
    probe: &mut Probe<'_>,
    found: &Findings,
    held: Vec<ParsedPage>,
    w: &mut Work<'_>,
    import_id_out: &mut Option<i32>,
) -> Result<u64, SourceError> {
    let schema = ident(&ctx.cfg.schema);
    let mut conn = ctx.pool.get()?;
    conn.batch_execute("SET client_min_messages TO warning")
        .map_err(|e| PgError::query("configure the session", e))?;
    let mut writer = Writer::new(conn, &ctx.cfg.schema, std, &src.kind());
    let import_id: i32 = writer
        .client()
        .query_one(
            &format!(
                "INSERT INTO {schema}.import_log (source, controler, xfer_type, xfer_status, xfer_start_ts)
                 VALUES ($1::varchar, 'data', 'repair', 'importing data', localtimestamp) RETURNING id"
            ),
            &[&std],
        )
        .map_err(|e| PgError::query("open the import_log row", e))?
        .get(0);
    writer.import_id = import_id;
    *import_id_out = Some(import_id);
    let mut totals = PageCounts::default();
    let mut fixed = || -> Result<u64, SourceError> {
        for p in &held {
            w.deadline.check()?;
            totals.add(&writer.write_page(p, None, None)?);
        }
        for &(lo, hi, _) in &found.missing_ranges {
            probe.list(lo, hi, |p| {
                w.deadline.check()?;
                w.counts.fetched += p.items as u64;
                totals.add(&writer.write_page(&p, None, None)?);
                Ok(())
            })?;
        }
        let (mut deleted, mut refused) = (0, 0);
        for chunk in found.extra_ids.chunks(1000) {
            w.deadline.check()?;
            let (d, r) = writer.delete(chunk)?;
            deleted += d;
            refused += r;
        }
        w.counts.upserted = totals.upserts;
        w.counts.deleted = deleted;
        w.counts.errors = totals.errors + totals.meta_errors + refused;
        Ok(totals.upserts + deleted)
    };
    let result = fixed();
    let (status, comment) = match &result {
        Ok(n) => (
            "repaired",
            format!("gn2pg verify --repair: {n} row(s) put right"),
        ),
        Err(e) => (
            "failed",
            scrub(&error_chain(e)).chars().take(2000).collect(),
        ),
    };
    writer
        .client()
        .execute(
            &format!(
                "UPDATE {schema}.import_log SET xfer_status = $2, xfer_end_ts = localtimestamp, comment = $3
                 WHERE id = $1"
            ),
            &[&import_id, &status, &comment],
        )
        .map_err(|e| PgError::query("close the import_log row", e))?;
    result
}

/// What a source's verify needs.
struct VerifyCtx<'a> {
    cfg: &'a Gn2pgConfig,
    db: &'a DbUrl,
    pool: &'a Pool,
    passwords: &'a HashMap<String, Secret>,
    policy: crate::fetch::http::HttpPolicy,
    repair: bool,
}

fn execute(
    ctx: &VerifyCtx<'_>,
    src: &SourceConfig,
    std: &str,
    w: &mut Work<'_>,
    found_out: &mut Findings,
    import_id: &mut Option<i32>,
) -> Result<(), SourceError> {
    let pw = ctx
        .passwords
        .get(std)
        .ok_or_else(|| SourceError::NoPassword {
            var: src.password_var(),
        })?;
    let api = Api::connect(src, pw, &ctx.policy)?;
    let mut probe = Probe {
        api: &api,
        base: {
            let mut base = src.filters();
            base.push(("offset".into(), "0".into()));
            base
        },
        leaf: u64::from(ctx.cfg.page_size).max(1),
        requests: 0,
        bytes: 0,
    };
    let ids = local_ids(ctx.pool, &ctx.cfg.schema, std)?;
    let mut held = Vec::new();
    let mut problems = Vec::new();
    let found = compare(&mut probe, &ids, w, &mut held, &mut problems);
    drop(ids);
    let found = match found {
        Ok(f) => f,
        Err(e) => {
            found_out.requests = probe.requests;
            found_out.bytes = probe.bytes;
            return Err(e);
        }
    };
    w.counts.missing = found.missing();
    w.counts.extra = found.extra_ids.len() as u64;
    let differences = w.counts.missing + w.counts.extra;
    let result = if ctx.repair && differences > 0 {
        repair(ctx, src, std, &mut probe, &found, held, w, import_id).map(|n| {
            w.counts.repaired = n;
        })
    } else {
        Ok(())
    };
    w.counts.http_retries = api.retries();
    *found_out = Findings {
        requests: probe.requests,
        bytes: probe.bytes,
        ..found
    };
    result?;
    w.problems.extend(problems);
    if differences > w.counts.repaired {
        w.problems.push(format!(
            "{} missing, {} extra{}",
            w.counts.missing,
            w.counts.extra,
            if ctx.repair {
                format!(", {} put right", w.counts.repaired)
            } else {
                " (run with --repair to put them right)".into()
            }
        ));
    }
    Ok(())
}

/// Verifies one source under the run protocol (mode `verify`).
fn verify_source(ctx: &VerifyCtx<'_>, src: &SourceConfig) -> Verified {
    let std = src.std_name();
    let mut out = Outcome {
        name: src.name.clone(),
        std_name: std.clone(),
        mode: if ctx.repair {
            "verify --repair"
        } else {
            "verify"
        }
        .into(),
        status: RunStatus::Failed,
        counts: RunCounts::default(),
        import_id: None,
        sync_run_id: None,
        error: None,
        close_error: None,
    };
    let scope = Scope {
        sync: "gn2pg",
        scope: &std,
        mode: "verify",
        lock: LockPolicy::Try,
        max_run: ctx.cfg.max_run,
        max_run_setting: "gn2pg.max_run",
    };
    let mut findings = Findings::default();
    let mut import_id = None;
    let ran = protocol::run_scope(ctx.db, &scope, |w| {
        execute(ctx, src, &std, w, &mut findings, &mut import_id)
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
    Verified {
        outcome: out,
        findings,
    }
}

/// At most [`SHOWN_IDS`] ids, then how many more.
fn shown(ids: &[i64]) -> String {
    let mut s = ids
        .iter()
        .take(SHOWN_IDS)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > SHOWN_IDS {
        s.push_str(&format!(" … and {} more", ids.len() - SHOWN_IDS));
    }
    s
}

/// One source's line of the summary.
fn line(v: &Verified) -> String {
    let (o, f) = (&v.outcome, &v.findings);
    let c = &o.counts;
    let mut s = format!(
        "{} {} {}: remote {}, local {}, {} missing, {} extra",
        o.name,
        o.mode,
        o.status.as_str(),
        c.remote_total,
        c.local_total,
        c.missing,
        c.extra
    );
    if c.repaired > 0 || o.mode.ends_with("--repair") {
        s.push_str(&format!(", {} repaired", c.repaired));
    }
    s.push_str(&format!(
        "; {} export requests, {} bytes",
        f.requests, f.bytes
    ));
    if !f.missing_ids.is_empty() {
        s.push_str(&format!("; missing ids: {}", shown(&f.missing_ids)));
    }
    if !f.missing_ranges.is_empty() {
        let ranges: Vec<String> = f
            .missing_ranges
            .iter()
            .take(SHOWN_IDS)
            .map(|(a, b, n)| format!("{a}–{b} ({n} rows)"))
            .collect();
        s.push_str(&format!("; missing ranges: {}", ranges.join(", ")));
    }
    if !f.extra_ids.is_empty() {
        s.push_str(&format!("; extra ids: {}", shown(&f.extra_ids)));
    }
    if let Some(r) = o.sync_run_id {
        s.push_str(&format!(" [sync_run {r}"));
        if let Some(i) = o.import_id {
            s.push_str(&format!(", import_log {i}"));
        }
        s.push(']');
    }
    s
}

/// Runs `gn2pg verify` for the selected sources, one after the other.
pub(crate) fn run(
    cfg: &Gn2pgConfig,
    db: &DbUrl,
    env: &Env,
    file_passwords: &HashMap<String, Secret>,
    names: &[String],
    repair: bool,
    warnings: Vec<String>,
) -> Result<Summary, Gn2pgError> {
    let command = if repair {
        "gn2pg verify --repair"
    } else {
        "gn2pg verify"
    };
    let selected = cfg.selected(names)?;
    let policy = super::policy(cfg)?;
    let passwords = super::passwords(&selected, env, file_passwords)?;
    let pool = db.pool(2)?;
    {
        let mut client = pool.get()?;
        super::schema::check(&mut *client, &cfg.schema)?;
    }
    let ctx = VerifyCtx {
        cfg,
        db,
        pool: &pool,
        passwords: &passwords,
        policy,
        repair,
    };
    let results: Vec<Verified> = selected
        .iter()
        .map(|src| {
            tracing::info!(source = %src.name, "verifying");
            let v = verify_source(&ctx, src);
            let c = &v.outcome.counts;
            tracing::info!(source = %v.outcome.name, status = v.outcome.status.as_str(),
                remote = c.remote_total, local = c.local_total, missing = c.missing,
                extra = c.extra, repaired = c.repaired, requests = v.findings.requests, "verified");
            v
        })
        .collect();
    let mut summary = Summary::new(command);
    summary.warnings = warnings;
    let mut total = RunCounts::default();
    let mut parts = Vec::new();
    for v in &results {
        let o = &v.outcome;
        total.add(&o.counts);
        let detail = line(v);
        if let Some(e) = &o.close_error {
            summary.problem(e.clone());
        }
        match o.status {
            RunStatus::Failed => summary.problem(format!(
                "{detail} — {}",
                o.error.as_deref().unwrap_or("failed")
            )),
            RunStatus::Partial => summary.problem(format!(
                "{} — {}",
                o.name,
                o.error.as_deref().unwrap_or("differences")
            )),
            RunStatus::Skipped => summary.warnings.push(format!(
                "{}: skipped ({})",
                o.name,
                o.error.as_deref().unwrap_or("locked")
            )),
            _ => {}
        }
        parts.push(detail);
    }
    let failed = results
        .iter()
        .filter(|v| v.outcome.status == RunStatus::Failed)
        .count();
    if !results.is_empty() && failed == results.len() {
        summary.status = ExitStatus::Fatal;
    }
    summary.count("sources", results.len());
    summary.count("sources_failed", failed);
    protocol::summary_counts(&mut summary, &total);
    for (k, n) in [
        ("remote_total", total.remote_total),
        ("local_total", total.local_total),
        ("missing", total.missing),
        ("extra", total.extra),
        ("repaired", total.repaired),
        (
            "requests",
            results.iter().map(|v| v.findings.requests).sum(),
        ),
        ("bytes", results.iter().map(|v| v.findings.bytes).sum()),
    ] {
        summary.counts.insert(k.into(), n);
    }
    summary.headline = if parts.is_empty() {
        format!("{command}: no enabled source")
    } else {
        format!("{command}: {}", parts.join("; "))
    };
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_is_inclusive() {
        let ids = [1, 3, 5, 7, 9];
        assert_eq!(within(&ids, 3, 7), &[3, 5, 7]);
        assert_eq!(within(&ids, 4, 4), &[] as &[i32]);
        assert_eq!(within(&ids, 0, 100), &ids);
        assert_eq!(within(&ids, 8, 2), &[] as &[i32]);
    }

    #[test]
    fn shown_caps_the_list() {
        let ids: Vec<i64> = (1..=55).collect();
        let s = shown(&ids);
        assert!(s.starts_with("1, 2, 3"), "{s}");
        assert!(s.ends_with("50 … and 5 more"), "{s}");
        assert_eq!(shown(&[4, 2]), "4, 2");
    }
}
