//! `visionature fix-sync`: repairs production (`schema_import`) from the check copy
//! (`check_schema`), as docs/syncs/visionature.md §8 specifies:
//! 1. the sites of both `observations_json` must overlap, else fatal, nothing written;
//! 2. unless `--skip-download`, a full transfer into the check schema over the last
//!    `window_days` (by entry date by default), reference lists included, check watermarks
//!    untouched; failed requests are counted (download incomplete → exit 1, still reconciled);
//! 3. deletions since the window start are read from the diff endpoint (before the transaction),
//!    then one transaction on production, holding the production site locks (waiting up to
//!    `lock_wait`): insert check rows missing from production and not tombstoned there, update
//!    rows whose check copy is strictly newer, replay deletions (production and check, tombstones,
//!    orphan forms) unless `--no-deletes`, and write the counts to
//!    `dbadmin.monitoring_vn_check_to_prod`; `--dry-run` rolls it back;
//! 4. the summary is mailed over SMTP unless `--no-notify` (a mail failure → exit 1).
//!
//! Parameterised SQL only (schema names are validated identifiers, quoted). What can fail: the
//! database and the lock (fatal), API requests and the mail (exit 1).

use std::collections::BTreeSet;

use chrono::NaiveDate;

use super::config::VisionatureConfig;
use super::run::{self, Ctx, FullOptions, Outcome};
use super::{mail, schema, store, VisionatureError};
use crate::pg::{ident, lock, Client, DbUrl, PgError};
use crate::secrets::Secret;

/// The flags of `fix-sync`.
#[derive(Debug, Clone)]
pub struct FixOptions {
    pub window_days: u32,
    pub skip_download: bool,
    pub no_deletes: bool,
    pub no_notify: bool,
    pub dry_run: bool,
}

/// What fix-sync did.
#[derive(Debug, Default)]
pub struct FixReport {
    pub inserted: u64,
    pub updated: u64,
    pub deleted: u64,
    pub failed_requests: u64,
    pub download: Outcome,
    pub problems: Vec<String>,
}

fn sites(client: &mut Client, schema: &str) -> Result<BTreeSet<String>, PgError> {
    if !crate::pg::schema::table_exists(client, schema, "observations_json")? {
        return Ok(BTreeSet::new());
    }
    let rows = client
        .query(
            &format!(
                "SELECT DISTINCT site FROM {}.observations_json",
                ident(schema)
            ),
            &[],
        )
        .map_err(|e| PgError::query(format!("sites of {schema}.observations_json"), e))?;
    Ok(rows.into_iter().map(|r| r.get(0)).collect())
}

/// Step 1: the sites both schemas hold.
pub fn overlap(
    client: &mut Client,
    cfg: &VisionatureConfig,
) -> Result<Vec<String>, VisionatureError> {
    let prod = sites(client, &cfg.schema_import)?;
    let check = sites(client, &cfg.check_schema)?;
    let both: Vec<String> = prod.intersection(&check).cloned().collect();
    if both.is_empty() {
        return Err(VisionatureError::SiteMismatch {
            prod: prod.into_iter().collect::<Vec<_>>().join(", "),
            check: check.into_iter().collect::<Vec<_>>().join(", "),
        });
    }
    Ok(both)
}

/// Steps 2–3 for the sites in `ctxs` (production contexts: the same API, `schema` = production).
pub fn run(
    db: &DbUrl,
    client: &mut Client,
    cfg: &VisionatureConfig,
    ctxs: &mut [Ctx<'_>],
    both: &[String],
    opts: &FixOptions,
) -> Result<FixReport, VisionatureError> {
    let mut report = FixReport::default();
    let today = store::local_now(client, &cfg.timezone()?)?.date();
    let window_start: NaiveDate = today - chrono::Duration::days(i64::from(opts.window_days));
    // 2. Re-download the window into the check schema.
    if !opts.skip_download {
        for ctx in ctxs.iter_mut().filter(|c| both.contains(&c.site.name)) {
            let key = lock::key(
                "visionature",
                &format!("{}/{}", cfg.check_schema, ctx.site.name),
            );
            let _guard = lock::lock_wait(db, &key, cfg.lock_wait)?;
            let prod_schema = std::mem::replace(&mut ctx.schema, cfg.check_schema.clone());
            let r = download(ctx, client, window_start, cfg, &mut report.download);
            ctx.schema = prod_schema;
            r?;
        }
        report.failed_requests += report.download.failed_requests;
        report
            .problems
            .extend(report.download.problems.iter().cloned());
    }
    // Deletions since the window start, read before the transaction.
    let mut deletions: Vec<(String, Vec<i32>)> = Vec::new();
    if !opts.no_deletes {
        let since = window_start.and_hms_opt(0, 0, 0).unwrap_or_default();
        for ctx in ctxs.iter().filter(|c| both.contains(&c.site.name)) {
            let mut ids = Vec::new();
            match run::healthcheck(ctx) {
                Ok(taxo) => {
                    for g in run::groups(ctx, &taxo) {
                        match run::diff(ctx, &g, since, "only_deleted") {
                            Ok((_, d, _, _)) => ids.extend(d),
                            Err(e) => {
                                report.failed_requests += 1;
                                report.problems.push(format!(
                                    "{}: deletions of taxo group {}: {e}",
                                    ctx.site.name, g.id
                                ));
                            }
                        }
                    }
                }
                Err(e) => {
                    report.failed_requests += 1;
                    report
                        .problems
                        .push(format!("{}: taxo_groups: {e}", ctx.site.name));
                }
            }
            ids.sort_unstable();
            ids.dedup();
            deletions.push((ctx.site.name.clone(), ids));
        }
    }
    // 3. One transaction on production, holding its site locks.
    let mut guards = Vec::new();
    for site in both {
        let key = lock::key("visionature", &format!("{}/{site}", cfg.schema_import));
        guards.push(lock::lock_wait(db, &key, cfg.lock_wait)?);
    }
    let prod = ident(&cfg.schema_import);
    let check = ident(&cfg.check_schema);
    let sites: Vec<String> = both.to_vec();
    let mut tx = client
        .transaction()
        .map_err(|e| PgError::query("begin fix-sync", e))?;
    for sql in schema::monitoring_sql() {
        tx.batch_execute(sql)
            .map_err(|e| PgError::query("create dbadmin.monitoring_vn_check_to_prod", e))?;
    }
    report.inserted = tx
        .execute(
            &format!(
                "INSERT INTO {prod}.observations_json (id, site, item, update_ts, id_form_universal)
                 SELECT c.id, c.site, c.item, c.update_ts, c.id_form_universal
                 FROM {check}.observations_json c
                 WHERE c.site = ANY($1)
                   AND NOT EXISTS (SELECT 1 FROM {prod}.observations_json p WHERE p.id = c.id AND p.site = c.site)
                   AND NOT EXISTS (SELECT 1 FROM {prod}.deleted_observations t WHERE t.id = c.id AND t.site = c.site)
                 ON CONFLICT (id, site) DO NOTHING"
            ),
            &[&sites],
        )
        .map_err(|e| PgError::query("fix-sync insert", e))?;
    report.updated = tx
        .execute(
            &format!(
                "UPDATE {prod}.observations_json p
                 SET item = c.item, update_ts = c.update_ts, id_form_universal = c.id_form_universal
                 FROM {check}.observations_json c
                 WHERE p.id = c.id AND p.site = c.site AND c.site = ANY($1) AND c.update_ts > p.update_ts"
            ),
            &[&sites],
        )
        .map_err(|e| PgError::query("fix-sync update", e))?;
    for (site, ids) in &deletions {
        let (d, _) = store::delete_sightings(&mut tx, &cfg.schema_import, site, ids)?;
        store::delete_sightings(&mut tx, &cfg.check_schema, site, ids)?;
        report.deleted += d;
    }
    for (action, n) in [
        ("insert", report.inserted),
        ("update", report.updated),
        ("delete", report.deleted),
    ] {
        let n = i32::try_from(n).unwrap_or(i32::MAX);
        tx.execute(
            "INSERT INTO dbadmin.monitoring_vn_check_to_prod (action, count) VALUES ($1, $2)",
            &[&action, &n],
        )
        .map_err(|e| PgError::query("write dbadmin.monitoring_vn_check_to_prod", e))?;
    }
    if opts.dry_run {
        tx.rollback()
            .map_err(|e| PgError::query("roll back (dry run)", e))?;
    } else {
        tx.commit()
            .map_err(|e| PgError::query("commit fix-sync", e))?;
    }
    drop(guards);
    Ok(report)
}

fn download(
    ctx: &Ctx<'_>,
    client: &mut Client,
    from: NaiveDate,
    cfg: &VisionatureConfig,
    out: &mut Outcome,
) -> Result<(), VisionatureError> {
    let taxo = match run::healthcheck(ctx) {
        Ok(t) => t,
        Err(e) => {
            out.failed_requests += 1;
            out.problems
                .push(format!("{}: taxo_groups: {e}", ctx.site.name));
            return Ok(());
        }
    };
    run::references(ctx, client, &taxo, false, out)?;
    let opts = FullOptions {
        from: Some(from),
        to: None,
        type_date: cfg.fix_sync.type_date,
        watermarks: false,
    };
    for g in run::groups(ctx, &taxo) {
        run::full_group(ctx, client, &g, &opts, out)?;
    }
    Ok(())
}

/// The mail: subject and body.
pub fn mail_text(dbname: &str, r: &FixReport, dry_run: bool) -> (String, String) {
    let subject = format!("[{dbname}] Upsert missing data from visionature");
    let mut body = format!(
        "fix-sync{}: {} inserted, {} updated, {} deleted\n",
        if dry_run {
            " (dry run, rolled back)"
        } else {
            ""
        },
        r.inserted,
        r.updated,
        r.deleted
    );
    if r.failed_requests > 0 {
        body.push_str(&format!(
            "download incomplete: {} failed requests\n",
            r.failed_requests
        ));
    } else {
        body.push_str("download complete\n");
    }
    for p in r.problems.iter().take(50) {
        body.push_str(&format!("- {p}\n"));
    }
    (subject, body)
}

/// Step 4: mails the summary.
pub fn notify(
    cfg: &VisionatureConfig,
    smtp: Option<&Secret>,
    subject: &str,
    body: &str,
) -> Result<(), mail::MailError> {
    mail::send(
        smtp,
        &cfg.fix_sync.mail_from,
        &cfg.fix_sync.notify_email,
        subject,
        body,
    )
}
