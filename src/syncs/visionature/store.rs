//! Writes to one schema: the rows prepared from API answers ([`Prepared`]), reference lists,
//! deletions with tombstones and orphan forms, watermarks, controller refresh times and the
//! per-request `download_log`. Every function works inside the caller's transaction, so a batch
//! and the watermark it covers commit together. Observations are upserted only when strictly
//! newer (`update_ts`); forms unconditionally, before their sightings, keeping the widest
//! `date_start`/`date_stop` of what is stored and what arrives. What can fail: database errors
//! ([`PgError`], naming the table).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use chrono_tz::Tz;
use serde_json::{Map, Value};

use super::proj::{number, Projector};
use crate::pg::bulk::{self, JsonbText, Upsert};
use crate::pg::{ident, GenericClient, PgError, Transaction};

/// An `observations_json` row.
#[derive(Debug, Clone)]
pub struct ObsRow {
    pub id: i32,
    pub item: String,
    pub update_ts: i32,
    pub form: Option<String>,
}

/// A `forms_json` row.
#[derive(Debug, Clone)]
pub struct FormRow {
    pub id: i32,
    pub item: String,
}

/// The rows of one observations answer, ready to write.
#[derive(Debug, Default)]
pub struct Prepared {
    pub obs: Vec<ObsRow>,
    pub forms: Vec<FormRow>,
    /// Items that could not be read (position and reason), reported as problems.
    pub rejected: Vec<String>,
}

fn int(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Object(m) => int(m.get("@timestamp")),
        _ => None,
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn add_local(obj: &mut Map<String, Value>, lon: &str, lat: &str, proj: &Projector) {
    let (Some(x), Some(y)) = (obj.get(lon).and_then(number), obj.get(lat).and_then(number)) else {
        return;
    };
    if let Some((px, py)) = proj.project(x, y) {
        obj.insert("coord_x_local".into(), Value::from(px));
        obj.insert("coord_y_local".into(), Value::from(py));
    }
}

/// Adds `coord_x_local`/`coord_y_local` to reference items with `coord_lon`/`coord_lat`.
pub fn add_local_coords(item: &mut Value, proj: &Projector) {
    if let Value::Object(obj) = item {
        add_local(obj, "coord_lon", "coord_lat", proj);
    }
}

fn sighting(mut v: Value, form: Option<&str>, proj: &Projector) -> Result<ObsRow, String> {
    let obs = v
        .get_mut("observers")
        .and_then(|o| o.get_mut(0))
        .and_then(Value::as_object_mut)
        .ok_or("no observers[0]")?;
    let id = int(obs.get("id_sighting"))
        .and_then(|i| i32::try_from(i).ok())
        .ok_or("no integer observers[0].id_sighting")?;
    let ts = int(obs.get("update_date"))
        .or_else(|| int(obs.get("insert_date")))
        .and_then(|i| i32::try_from(i).ok())
        .ok_or_else(|| format!("sighting {id}: no update_date/insert_date"))?;
    add_local(obs, "coord_lon", "coord_lat", proj);
    Ok(ObsRow {
        id,
        item: v.to_string(),
        update_ts: ts,
        form: form.map(str::to_string),
    })
}

fn local_date(ts: i64, tz: &Tz) -> Option<String> {
    let utc = chrono::DateTime::from_timestamp(ts, 0)?;
    Some(utc.with_timezone(tz).date_naive().to_string())
}

/// Turns an answer's sightings and forms into rows (forms before their sightings).
pub fn prepare(sightings: Vec<Value>, forms: Vec<Value>, proj: &Projector, tz: &Tz) -> Prepared {
    let mut out = Prepared::default();
    let push = |out: &mut Prepared, v: Value, form: Option<&str>, pos: String| match sighting(
        v, form, proj,
    ) {
        Ok(r) => out.obs.push(r),
        Err(e) => out.rejected.push(format!("{pos}: {e}")),
    };
    for (i, s) in sightings.into_iter().enumerate() {
        push(&mut out, s, None, format!("sighting #{i}"));
    }
    for (i, f) in forms.into_iter().enumerate() {
        let Value::Object(mut form) = f else {
            out.rejected.push(format!("form #{i}: not an object"));
            continue;
        };
        let Some(form_id) = int(form.get("@id")).and_then(|i| i32::try_from(i).ok()) else {
            // Not a real form: a sighting.
            push(&mut out, Value::Object(form), None, format!("form #{i}"));
            continue;
        };
        let universal = text(form.get("id_form_universal"));
        let sightings = match form.remove("sightings") {
            Some(Value::Array(s)) => s,
            _ => Vec::new(),
        };
        let dates: Vec<String> = sightings
            .iter()
            .filter_map(|s| int(s.get("date").and_then(|d| d.get("@timestamp"))))
            .filter_map(|ts| local_date(ts, tz))
            .collect();
        if let (Some(min), Some(max)) = (dates.iter().min(), dates.iter().max()) {
            form.insert("date_start".into(), Value::from(min.clone()));
            form.insert("date_stop".into(), Value::from(max.clone()));
        }
        if let Some(uid) = sightings
            .first()
            .and_then(|s| s.get("observers"))
            .and_then(|o| o.get(0))
            .and_then(|o| o.get("@uid"))
        {
            form.insert("@uid".into(), uid.clone());
        }
        add_local(&mut form, "lon", "lat", proj);
        out.forms.push(FormRow {
            id: form_id,
            item: Value::Object(form).to_string(),
        });
        for (j, s) in sightings.into_iter().enumerate() {
            push(
                &mut out,
                s,
                universal.as_deref(),
                format!("form {form_id} sighting #{j}"),
            );
        }
    }
    out
}

fn table(schema: &str, t: &str) -> String {
    format!("{}.{}", ident(schema), ident(t))
}

/// A form's update: the new item, keeping the widest dates of what is stored and what arrives.
const FORMS_SET: &str = "item = EXCLUDED.item || jsonb_strip_nulls(jsonb_build_object(
     'date_start', LEAST(forms_json.item->>'date_start', EXCLUDED.item->>'date_start'),
     'date_stop', GREATEST(forms_json.item->>'date_stop', EXCLUDED.item->>'date_stop')))";

/// Writes prepared rows (forms first); returns the observations inserted or updated.
pub fn write_prepared(
    tx: &mut Transaction<'_>,
    schema: &str,
    site: &str,
    p: &Prepared,
) -> Result<u64, PgError> {
    let forms_t = table(schema, "forms_json");
    bulk::upsert(
        tx,
        &Upsert::new(
            &forms_t,
            &["id", "site", "item"],
            &["id", "site"],
            "(id, site)",
            FORMS_SET,
        ),
        &p.forms,
        |r, emit| emit(&[&r.id, &site, &JsonbText(&r.item)]),
    )?;
    // Newest wins inside the batch too (the same sighting may come twice).
    let mut newest: HashMap<i32, usize> = HashMap::with_capacity(p.obs.len());
    for (i, r) in p.obs.iter().enumerate() {
        match newest.get(&r.id) {
            Some(&j) if p.obs[j].update_ts >= r.update_ts => {}
            _ => {
                newest.insert(r.id, i);
            }
        }
    }
    let mut keep: Vec<usize> = newest.into_values().collect();
    keep.sort_unstable();
    let rows: Vec<&ObsRow> = keep.iter().map(|&i| &p.obs[i]).collect();
    let obs_t = table(schema, "observations_json");
    let n = bulk::upsert(
        tx,
        &Upsert {
            table: &obs_t,
            columns: &["id", "site", "item", "update_ts", "id_form_universal"],
            key: &["id", "site"],
            conflict: "(id, site)",
            set: "item = EXCLUDED.item, update_ts = EXCLUDED.update_ts, id_form_universal = EXCLUDED.id_form_universal",
            only_if: Some("observations_json.update_ts < EXCLUDED.update_ts"),
            computed: &[],
        },
        &rows,
        |r, emit| emit(&[&r.id, &site, &JsonbText(&r.item), &r.update_ts, &r.form]),
    )?;
    if !rows.is_empty() {
        let ids: Vec<i32> = rows.iter().map(|r| r.id).collect();
        tx.execute(
            &format!(
                "DELETE FROM {} WHERE site = $1 AND id = ANY($2)",
                table(schema, "deleted_observations")
            ),
            &[&site, &ids],
        )
        .map_err(|e| PgError::query("clear tombstones of stored sightings", e))?;
    }
    Ok(n)
}

/// Upserts a reference list into `<controller>_json` (observers with `id_universal`, fields into
/// `field_groups_json`/`field_details_json`); returns the rows written.
pub fn write_reference(
    tx: &mut Transaction<'_>,
    schema: &str,
    site: &str,
    target: &str,
    items: &[Value],
) -> Result<(u64, Vec<String>), PgError> {
    let mut rejected = Vec::new();
    let t = table(schema, target);
    let n = match target {
        "field_details_json" => {
            let rows: Vec<(String, String)> = items
                .iter()
                .filter_map(|v| match text(v.get("id")) {
                    Some(id) => Some((id, v.to_string())),
                    None => {
                        rejected.push(format!("{target}: an item without id"));
                        None
                    }
                })
                .collect();
            bulk::upsert(
                tx,
                &Upsert::new(&t, &["id", "item"], &["id"], "(id)", "item = EXCLUDED.item"),
                &rows,
                |r, emit| emit(&[&r.0, &JsonbText(&r.1)]),
            )?
        }
        _ => {
            let rows: Vec<(i32, i32, String)> = items
                .iter()
                .filter_map(|v| {
                    let id = int(v.get("id")).and_then(|i| i32::try_from(i).ok());
                    let uni = int(v.get("id_universal"))
                        .and_then(|i| i32::try_from(i).ok())
                        .unwrap_or(0);
                    match id {
                        Some(id) => Some((id, uni, v.to_string())),
                        None => {
                            rejected.push(format!("{target}: an item without integer id"));
                            None
                        }
                    }
                })
                .collect();
            match target {
                "observers_json" => bulk::upsert(
                    tx,
                    &Upsert::new(
                        &t,
                        &["id", "site", "id_universal", "item"],
                        &["id", "site"],
                        "(id, site)",
                        "id_universal = EXCLUDED.id_universal, item = EXCLUDED.item",
                    ),
                    &rows,
                    |r, emit| emit(&[&r.0, &site, &r.1, &JsonbText(&r.2)]),
                )?,
                "field_groups_json" => bulk::upsert(
                    tx,
                    &Upsert::new(&t, &["id", "item"], &["id"], "(id)", "item = EXCLUDED.item"),
                    &rows,
                    |r, emit| emit(&[&r.0, &JsonbText(&r.2)]),
                )?,
                _ => bulk::upsert(
                    tx,
                    &Upsert::new(
                        &t,
                        &["id", "site", "item"],
                        &["id", "site"],
                        "(id, site)",
                        "item = EXCLUDED.item",
                    ),
                    &rows,
                    |r, emit| emit(&[&r.0, &site, &JsonbText(&r.2)]),
                )?,
            }
        }
    };
    Ok((n, rejected))
}

/// Deletes sightings, writes their tombstones and removes the forms left without sightings;
/// returns `(sightings deleted, forms deleted)`.
pub fn delete_sightings(
    tx: &mut Transaction<'_>,
    schema: &str,
    site: &str,
    ids: &[i32],
) -> Result<(u64, u64), PgError> {
    if ids.is_empty() {
        return Ok((0, 0));
    }
    let obs = table(schema, "observations_json");
    let forms = table(schema, "forms_json");
    let rows = tx
        .query(
            &format!(
                "DELETE FROM {obs} WHERE site = $1 AND id = ANY($2) RETURNING id_form_universal"
            ),
            &[&site, &ids],
        )
        .map_err(|e| PgError::query(format!("delete sightings from {obs}"), e))?;
    let deleted = rows.len() as u64;
    let mut touched: Vec<String> = rows
        .iter()
        .filter_map(|r| r.get::<_, Option<String>>(0))
        .collect();
    touched.sort();
    touched.dedup();
    tx.execute(
        &format!(
            "INSERT INTO {} (site, id) SELECT $1, unnest($2::int[]) ON CONFLICT (site, id) DO UPDATE SET deleted_at = now()",
            table(schema, "deleted_observations")
        ),
        &[&site, &ids],
    )
    .map_err(|e| PgError::query("write tombstones", e))?;
    let forms_deleted = if touched.is_empty() {
        0
    } else {
        tx.execute(
            &format!(
                "DELETE FROM {forms} f WHERE f.site = $1 AND f.item->>'id_form_universal' = ANY($2)
                 AND NOT EXISTS (SELECT 1 FROM {obs} o WHERE o.site = f.site
                                 AND o.id_form_universal = f.item->>'id_form_universal')"
            ),
            &[&site, &touched],
        )
        .map_err(|e| PgError::query(format!("delete orphan forms from {forms}"), e))?
    };
    Ok((deleted, forms_deleted))
}

/// The watermark of `(site, taxo_group)`.
pub fn watermark(
    client: &mut impl GenericClient,
    schema: &str,
    site: &str,
    group: i32,
) -> Result<Option<NaiveDateTime>, PgError> {
    let row = client
        .query_opt(
            &format!(
                "SELECT last_ts FROM {} WHERE site = $1 AND taxo_group = $2",
                table(schema, "increment_log")
            ),
            &[&site, &group],
        )
        .map_err(|e| PgError::query("read increment_log", e))?;
    Ok(row.map(|r| r.get(0)))
}

/// Writes a watermark: `replace` moves an existing one, otherwise only a missing row is inserted.
pub fn set_watermark(
    tx: &mut Transaction<'_>,
    schema: &str,
    site: &str,
    group: i32,
    ts: NaiveDateTime,
    replace: bool,
) -> Result<(), PgError> {
    let action = if replace {
        "DO UPDATE SET last_ts = EXCLUDED.last_ts"
    } else {
        "DO NOTHING"
    };
    tx.execute(
        &format!(
            "INSERT INTO {} (site, taxo_group, last_ts) VALUES ($1, $2, $3)
             ON CONFLICT (site, taxo_group) {action}",
            table(schema, "increment_log")
        ),
        &[&site, &group, &ts],
    )
    .map_err(|e| PgError::query("write increment_log", e))?;
    Ok(())
}

/// The site-local time now, from the server clock.
pub fn local_now(client: &mut impl GenericClient, tz: &Tz) -> Result<NaiveDateTime, PgError> {
    let row = client
        .query_one(
            "SELECT date_trunc('second', now() AT TIME ZONE $1)",
            &[&tz.name()],
        )
        .map_err(|e| PgError::query("read the server clock", e))?;
    Ok(row.get(0))
}

/// Records a successful download of `controller`.
pub fn controller_done(
    tx: &mut Transaction<'_>,
    schema: &str,
    site: &str,
    controller: &str,
) -> Result<(), PgError> {
    tx.execute(
        &format!(
            "INSERT INTO {} (site, controller, last_success) VALUES ($1, $2, now())
             ON CONFLICT (site, controller) DO UPDATE SET last_success = now()",
            table(schema, "controller_state")
        ),
        &[&site, &controller],
    )
    .map_err(|e| PgError::query("write controller_state", e))?;
    Ok(())
}

/// Controllers of `site` downloaded successfully less than their refresh age ago.
pub fn fresh_controllers(
    client: &mut impl GenericClient,
    schema: &str,
    site: &str,
    max_age: &dyn Fn(&str) -> std::time::Duration,
) -> Result<Vec<String>, PgError> {
    let rows = client
        .query(
            &format!(
                "SELECT controller, extract(epoch FROM now() - last_success)::float8 FROM {} WHERE site = $1",
                table(schema, "controller_state")
            ),
            &[&site],
        )
        .map_err(|e| PgError::query("read controller_state", e))?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let c: String = r.get(0);
            let age: f64 = r.get(1);
            (age >= 0.0 && age < max_age(&c).as_secs_f64()).then_some(c)
        })
        .collect())
}

/// One `download_log` row.
#[derive(Debug, Clone)]
pub struct LogRow {
    pub controler: String,
    pub error_count: i32,
    pub http_status: i32,
    pub comment: String,
    pub length: i64,
    pub duration_us: i64,
}

/// Writes `download_log` rows.
pub fn log_requests(
    client: &mut impl GenericClient,
    schema: &str,
    site: &str,
    rows: &[LogRow],
) -> Result<(), PgError> {
    let sql = format!(
        "INSERT INTO {} (site, controler, error_count, http_status, comment, length, duration)
         VALUES ($1, $2, $3, $4, $5, $6::bigint, $7::bigint)",
        table(schema, "download_log")
    );
    for r in rows {
        client
            .execute(
                &sql,
                &[
                    &site,
                    &r.controler,
                    &r.error_count,
                    &r.http_status,
                    &r.comment,
                    &r.length,
                    &r.duration_us,
                ],
            )
            .map_err(|e| PgError::query("write download_log", e))?;
    }
    Ok(())
}

/// The territorial units stored for `site`: `(id_country || short_name, short_name)`.
pub fn territorial_units(
    client: &mut impl GenericClient,
    schema: &str,
    site: &str,
) -> Result<Vec<(String, String)>, PgError> {
    let rows = client
        .query(
            &format!(
                "SELECT coalesce(item->>'id_country', '') || coalesce(item->>'short_name', ''),
                        coalesce(item->>'short_name', '')
                 FROM {} WHERE site = $1 ORDER BY id",
                table(schema, "territorial_units_json")
            ),
            &[&site],
        )
        .map_err(|e| PgError::query("read territorial_units_json", e))?;
    Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Ids of the local admin units of `site` whose `id_canton` is one of `cantons`.
pub fn local_admin_units(
    client: &mut impl GenericClient,
    schema: &str,
    site: &str,
    cantons: &[String],
) -> Result<Vec<i32>, PgError> {
    let rows = client
        .query(
            &format!(
                "SELECT id FROM {} WHERE site = $1 AND item->>'id_canton' = ANY($2) ORDER BY id",
                table(schema, "local_admin_units_json")
            ),
            &[&site, &cantons],
        )
        .map_err(|e| PgError::query("read local_admin_units_json", e))?;
    Ok(rows.into_iter().map(|r| r.get(0)).collect())
}

/// Sightings stored for `site` per taxo group (`item.species.taxonomy`).
pub fn local_counts(
    client: &mut impl GenericClient,
    schema: &str,
    site: &str,
) -> Result<HashMap<i32, u64>, PgError> {
    let rows = client
        .query(
            &format!(
                "SELECT item->'species'->>'taxonomy', count(*) FROM {} WHERE site = $1 GROUP BY 1",
                table(schema, "observations_json")
            ),
            &[&site],
        )
        .map_err(|e| PgError::query("count observations_json by taxo group", e))?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let group: Option<String> = r.get(0);
            let n: i64 = r.get(1);
            Some((group?.trim().parse().ok()?, u64::try_from(n).ok()?))
        })
        .collect())
}

/// Appends one `count_log` row per group of a `count` run.
pub fn write_count_log(
    tx: &mut Transaction<'_>,
    schema: &str,
    site: &str,
    run_id: i64,
    rows: &[super::count::GroupCount],
) -> Result<(), PgError> {
    let sql = format!(
        "INSERT INTO {} (site, id_taxo_group, local, remote, checked_at, run_id)
         VALUES ($1, $2, $3, $4, now(), $5)",
        table(schema, "count_log")
    );
    for r in rows {
        let local = i64::try_from(r.local).unwrap_or(i64::MAX);
        let remote = r.remote.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
        tx.execute(&sql, &[&site, &r.id, &local, &remote, &run_id])
            .map_err(|e| PgError::query("write count_log", e))?;
    }
    Ok(())
}
