//! How complete gn2pg's copies are ([`copies`], shown by `status` and the dashboard's `/copies`):
//! per gn2pg schema, source and data type, the rows stored in `data_json`, the export's last known
//! total — the latest `verify` run's `remote_total` (`data_tasks.sync_run`, mode `verify`, scope
//! the source's name), else the item count of the latest successful `full` import — and the
//! verify outcome. Tables are found by their columns, as everything the dashboard reads; what can
//! fail is a query.

use std::collections::{BTreeMap, BTreeSet};

use crate::pg::{ident, PgError, Transaction};
use crate::syncs::ops::{check_outcome, latest_checks, table_columns, CopyState};

use super::ops::{schemas, sources};

/// Whether a verify run's scope (the source's name as configured, or its std_name) names the
/// `import_log.source` `source` (a std_name).
fn same_source(scope: &str, source: &str) -> bool {
    scope == source || super::config::std_name(scope) == source
}

/// Per gn2pg schema, source and data type: rows stored, the last known remote total and the
/// latest verify (see the module doc).
pub(crate) fn copies(tx: &mut Transaction<'_>) -> Result<Vec<CopyState>, PgError> {
    let tables = table_columns(tx, &["data_json"])?;
    let verifies = latest_checks(tx, "gn2pg", "verify")?;
    let mut out = Vec::new();
    for schema in schemas(tx)?.keys() {
        let q = ident(schema);
        let mut stored: BTreeMap<String, Vec<(String, Option<i64>)>> = BTreeMap::new();
        if tables.has(schema, "data_json", &["source", "type"]) {
            for r in tx
                .query(
                    format!("SELECT source::text, type::text, count(*) FROM {q}.data_json GROUP BY 1, 2 ORDER BY 1, 2")
                        .as_str(),
                    &[],
                )
                .map_err(|e| PgError::query(format!("count {schema}.data_json"), e))?
            {
                stored
                    .entry(r.get(0))
                    .or_default()
                    .push((r.get(1), Some(r.get(2))));
            }
        }
        let fulls: BTreeMap<String, (i64, i64)> = tx
            .query(
                format!(
                    "SELECT DISTINCT ON (source) source::text, id::bigint, api_count_items::bigint
                       FROM {q}.import_log
                      WHERE xfer_type = 'full' AND xfer_status = 'success'
                      ORDER BY source, xfer_start_ts DESC, id DESC"
                )
                .as_str(),
                &[],
            )
            .map_err(|e| PgError::query(format!("read {schema}.import_log's full imports"), e))?
            .iter()
            .map(|r| {
                (
                    r.get(0),
                    (r.get(1), r.get::<_, Option<i64>>(2).unwrap_or(0)),
                )
            })
            .collect();
        let sources: Vec<String> = sources(tx, schema)?
            .iter()
            .map(|s| s.last.text("source"))
            .chain(stored.keys().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        for source in sources {
            let types = stored
                .get(&source)
                .cloned()
                .unwrap_or_else(|| vec![(String::new(), None)]);
            let single = types.len() == 1;
            let verify = verifies.iter().find(|v| same_source(&v.scope, &source));
            for (data_type, n) in types {
                let (remote, remote_from) = match (verify, fulls.get(&source)) {
                    (Some(v), _) if single && v.counts.get("remote_total").is_some() => (
                        v.counts
                            .get("remote_total")
                            .and_then(serde_json::Value::as_i64),
                        Some(format!("verify run #{}", v.id)),
                    ),
                    (_, Some((id, items))) if single => {
                        (Some(*items), Some(format!("full import #{id}")))
                    }
                    _ => (None, None),
                };
                let (check, missing) = match verify {
                    Some(v) => {
                        let (t, m) =
                            check_outcome(&v.status, &v.counts, v.error.as_deref(), "rows");
                        (Some(t), m)
                    }
                    None => (None, 0),
                };
                out.push(CopyState {
                    sync: "gn2pg",
                    schema: schema.clone(),
                    scope: source.clone(),
                    kind: "data type",
                    part: if data_type.is_empty() {
                        "–".into()
                    } else {
                        data_type
                    },
                    stored: n,
                    remote,
                    remote_from,
                    check,
                    checked_at: verify.map(|v| v.at.clone()),
                    missing,
                    watermark: None,
                    age_s: None,
                });
            }
        }
    }
    Ok(out)
}
