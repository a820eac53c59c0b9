//! How complete and current visionature's copies are ([`copies`], shown by `status` and the
//! dashboard's `/copies`): per schema, site and taxo group, the watermark (`increment_log.last_ts`,
//! the site's local time) and its age against the session's local time, and the last count — the
//! group's latest `count_log` row when that table exists (`local`, `remote`, `checked_at`), judged
//! with the site's latest `count` run (`data_tasks.sync_run`, mode `count`, scope the site or
//! `schema/site`), which counts as missing only the groups beyond its tolerance; without
//! `count_log`, one line for the whole site from that run. Per reference list
//! (`controller_state`), the age of its last download. Tables are found by their columns; what
//! can fail is a query.

use std::collections::{BTreeMap, BTreeSet};

use crate::pg::{ident, PgError, Transaction};
use crate::syncs::ops::{check_outcome, latest_checks, table_columns, CheckRun, CopyState, TS};

/// The latest `count` run of each scope (`site` or `schema/site`).
type CountRun = CheckRun;

/// A per-group count: (local, remote, checked at, run id).
type GroupCount = (Option<i64>, Option<i64>, String, Option<i64>);

/// The groups a count run found missing beyond its tolerance: its `missing` groups with the
/// largest relative gaps among its `count_log` rows (`rows`: group, local, remote) below the
/// remote count — the tolerance is a fraction of the remote count, so those are exactly the ones
/// past it.
fn beyond_tolerance(rows: &[(i64, Option<i64>, Option<i64>)], run: &CountRun) -> BTreeSet<i64> {
    let n = run
        .counts
        .get("missing")
        .and_then(serde_json::Value::as_i64)
        .unwrap_or(0);
    let mut below: Vec<(f64, i64)> = rows
        .iter()
        .filter_map(|(g, local, remote)| match (local, remote) {
            (Some(l), Some(r)) if l < r && *r > 0 => Some(((r - l) as f64 / *r as f64, *g)),
            _ => None,
        })
        .collect();
    below.sort_by(|a, b| b.0.total_cmp(&a.0));
    below
        .into_iter()
        .take(usize::try_from(n).unwrap_or(0))
        .map(|(_, g)| g)
        .collect()
}

/// Per visionature schema, site and taxo group: the watermark and its age, the last count; per
/// reference list, the age of its last download (see the module doc).
pub(crate) fn copies(tx: &mut Transaction<'_>) -> Result<Vec<CopyState>, PgError> {
    let tables = table_columns(tx, &["increment_log", "controller_state", "count_log"])?;
    let runs = latest_checks(tx, "visionature", "count")?;
    let mut out = Vec::new();
    let mut schemas: BTreeSet<String> = tables
        .schemas_with("increment_log", &["site", "taxo_group", "last_ts"])
        .into_iter()
        .collect();
    schemas
        .extend(tables.schemas_with("controller_state", &["site", "controller", "last_success"]));
    for schema in schemas {
        let q = ident(&schema);
        let mut groups: BTreeMap<(String, i64), (Option<String>, Option<f64>)> = BTreeMap::new();
        if tables.has(&schema, "increment_log", &["site", "taxo_group", "last_ts"]) {
            for r in tx
                .query(
                    format!(
                        "SELECT site::text, taxo_group::bigint, to_char(last_ts, {TS}),
                                extract(epoch FROM localtimestamp - last_ts)::float8
                           FROM {q}.increment_log"
                    )
                    .as_str(),
                    &[],
                )
                .map_err(|e| PgError::query(format!("read {schema}.increment_log"), e))?
            {
                groups.insert((r.get(0), r.get(1)), (r.get(2), r.get(3)));
            }
        }
        let mut counts: BTreeMap<(String, i64), GroupCount> = BTreeMap::new();
        let count_cols = ["site", "id_taxo_group", "local", "remote", "checked_at"];
        if tables.has(&schema, "count_log", &count_cols) {
            let run_id = if tables.has(&schema, "count_log", &["run_id"]) {
                "run_id::bigint"
            } else {
                "NULL::bigint"
            };
            for r in tx
                .query(
                    format!(
                        "SELECT DISTINCT ON (site, id_taxo_group) site::text, id_taxo_group::bigint,
                                local::bigint, remote::bigint, to_char(checked_at, {TS}), {run_id}
                           FROM {q}.count_log
                          ORDER BY site, id_taxo_group, checked_at DESC"
                    )
                    .as_str(),
                    &[],
                )
                .map_err(|e| PgError::query(format!("read {schema}.count_log"), e))?
            {
                counts.insert(
                    (r.get(0), r.get(1)),
                    (
                        r.get(2),
                        r.get(3),
                        r.get::<_, Option<String>>(4).unwrap_or_default(),
                        r.get(5),
                    ),
                );
            }
        }
        // The rows of each site's latest count run, to tell the groups past its tolerance.
        let mut beyond: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
        if tables.has(
            &schema,
            "count_log",
            &["id_taxo_group", "local", "remote", "run_id"],
        ) {
            for run in &runs {
                let rows: Vec<(i64, Option<i64>, Option<i64>)> = tx
                    .query(
                        format!(
                            "SELECT id_taxo_group::bigint, local::bigint, remote::bigint
                               FROM {q}.count_log WHERE run_id = $1"
                        )
                        .as_str(),
                        &[&run.id],
                    )
                    .map_err(|e| PgError::query(format!("read {schema}.count_log"), e))?
                    .iter()
                    .map(|r| (r.get(0), r.get(1), r.get(2)))
                    .collect();
                beyond.insert(run.id, beyond_tolerance(&rows, run));
            }
        }
        let keys: BTreeSet<(String, i64)> = groups.keys().chain(counts.keys()).cloned().collect();
        for (site, group) in keys {
            let run = runs
                .iter()
                .find(|r| r.scope == site || r.scope == format!("{schema}/{site}"));
            let (watermark, age_s) = groups
                .get(&(site.clone(), group))
                .cloned()
                .unwrap_or_default();
            let (stored, remote, check, checked_at, missing) =
                match (counts.get(&(site.clone(), group)), run) {
                    (Some((local, remote, at, row_run)), run) => {
                        let below = match (local, remote) {
                            (Some(l), Some(r)) => (r - l).max(0),
                            _ => 0,
                        };
                        // The site's run counts only groups beyond its tolerance as missing.
                        let beyond = match run {
                            None => true,
                            Some(r) if *row_run == Some(r.id) => {
                                beyond.get(&r.id).is_some_and(|b| b.contains(&group))
                            }
                            Some(r) => {
                                r.counts
                                    .get("missing")
                                    .and_then(serde_json::Value::as_i64)
                                    .unwrap_or(0)
                                    > 0
                            }
                        };
                        let (text, missing) = match (below, beyond) {
                            (0, _) => ("ok".to_string(), 0),
                            (n, true) => (format!("{n} below the remote count"), n),
                            (n, false) => (
                                format!("{n} below the remote count, within the tolerance"),
                                0,
                            ),
                        };
                        (*local, *remote, Some(text), Some(at.clone()), missing)
                    }
                    (None, Some(r)) => {
                        let (text, _) =
                            check_outcome(&r.status, &r.counts, r.error.as_deref(), "taxo groups");
                        (
                            None,
                            None,
                            Some(format!("site: {text}")),
                            Some(r.at.clone()),
                            0,
                        )
                    }
                    (None, None) => (None, None, None, None, 0),
                };
            let remote_from = match counts.get(&(site.clone(), group)) {
                Some((_, _, _, Some(id))) => Some(format!("count run #{id}")),
                Some(_) => Some("count_log".into()),
                None => run.map(|r| format!("count run #{}", r.id)),
            };
            out.push(CopyState {
                sync: "visionature",
                schema: schema.clone(),
                scope: site,
                kind: "taxo group",
                part: group.to_string(),
                stored,
                remote,
                remote_from,
                check,
                checked_at,
                missing,
                watermark,
                age_s,
            });
        }
        // A site's count run without per-group counts: one line for the whole site.
        for run in &runs {
            let site = run
                .scope
                .strip_prefix(&format!("{schema}/"))
                .unwrap_or(&run.scope);
            if counts.keys().any(|(s, _)| s == site) || !groups.keys().any(|(s, _)| s == site) {
                continue;
            }
            let (text, missing) = check_outcome(
                &run.status,
                &run.counts,
                run.error.as_deref(),
                "taxo groups",
            );
            let n = |k: &str| run.counts.get(k).and_then(serde_json::Value::as_i64);
            out.push(CopyState {
                sync: "visionature",
                schema: schema.clone(),
                scope: site.to_string(),
                kind: "site count",
                part: "all taxo groups".into(),
                stored: n("local_total"),
                remote: n("remote_total"),
                remote_from: Some(format!("count run #{}", run.id)),
                check: Some(text),
                checked_at: Some(run.at.clone()),
                missing,
                watermark: None,
                age_s: None,
            });
        }
        if tables.has(
            &schema,
            "controller_state",
            &["site", "controller", "last_success"],
        ) {
            for r in tx
                .query(
                    format!(
                        "SELECT site::text, controller::text, to_char(last_success, {TS}),
                                extract(epoch FROM now() - last_success)::float8
                           FROM {q}.controller_state ORDER BY 1, 2"
                    )
                    .as_str(),
                    &[],
                )
                .map_err(|e| PgError::query(format!("read {schema}.controller_state"), e))?
            {
                out.push(CopyState {
                    sync: "visionature",
                    schema: schema.clone(),
                    scope: r.get(0),
                    kind: "reference list",
                    part: r.get(1),
                    stored: None,
                    remote: None,
                    remote_from: None,
                    check: None,
                    checked_at: None,
                    missing: 0,
                    watermark: r.get(2),
                    age_s: r.get(3),
                });
            }
        }
    }
    Ok(out)
}
