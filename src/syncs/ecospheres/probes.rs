//! What `data-tasks check` touches for ecospheres, once it is configured (`ecospheres.source`,
//! `ECOSPHERES_DATABASE_URL`, or the original's `POSTGRES_URL` or `BUCKET_NAME` is set): the
//! catalogue (a store prefix listed and its `.json` pages counted, or one HEAD of the first
//! page's URL) and the database the table is published to (connected; whether
//! `<schema>.datasets` exists yet is reported — the first run creates it).

use crate::probe::{self, Needed, Probe, ProbeError};
use crate::secrets::Env;
use crate::settings::HttpConfig;
use crate::storage::config::S3Credentials;

use super::config::EcospheresConfig;
use super::remote::{SourceUrl, StorePages};

/// Whether the operator configured this sync (it has a default source, so a set source is not
/// the only sign).
fn configured(config: &EcospheresConfig, env: &Env) -> bool {
    config.source.is_some()
        || ["ECOSPHERES_DATABASE_URL", "POSTGRES_URL", "BUCKET_NAME"]
            .iter()
            .any(|v| env.get(v).is_some())
}

/// The probes of the ecospheres sync (none when it is not configured).
pub fn probes(
    config: &EcospheresConfig,
    http: &HttpConfig,
    s3_credentials: S3Credentials,
    env: &Env,
) -> Vec<Box<dyn Probe>> {
    if !configured(config, env) {
        return Vec::new();
    }
    let mut probes = Vec::new();
    match super::compat::resolve_source(None, config, env) {
        Err(e) => {
            let e = ProbeError::of(&e);
            probes.push(probe::probe("ecospheres.source", move |_| Err(e.clone())));
        }
        Ok(source) => {
            let name = format!("ecospheres.source ({})", source.shown());
            let s3 = super::compat::s3_settings(config, http, s3_credentials, env);
            probes.push(probe::probe(name, move |ctx| match &source {
                SourceUrl::Store(url) => {
                    // An empty folder is already an error of `open`.
                    let pages =
                        StorePages::open(url, &s3, u64::MAX).map_err(|e| ProbeError::of(&e))?;
                    Ok(format!("{} catalogue page(s)", pages.keys.len()))
                }
                SourceUrl::Http(url) => ctx
                    .http
                    .head(url, "ecospheres.source")
                    .map(|status| format!("HTTP {status}"))
                    .map_err(|e| ProbeError::of(&e)),
            }));
        }
    }
    let schema = config.schema.clone();
    probes.extend(probe::database(
        "ecospheres database",
        super::compat::database_url(env),
        Needed::Always,
        move |db| {
            let pe = |e: crate::pg::PgError| ProbeError::of(&e);
            let mut client = db.connect().map_err(pe)?;
            let present =
                crate::pg::schema::table_exists(&mut client, &schema, "datasets").map_err(pe)?;
            Ok(if present {
                format!("connected, {schema}.datasets present")
            } else {
                format!("connected, {schema}.datasets not created yet (the first run creates it)")
            })
        },
    ));
    probes
}
