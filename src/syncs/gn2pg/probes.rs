//! What `data-tasks check` touches for gn2pg, once `[[gn2pg.source]]` is configured: the
//! database (`GN2PG_DATABASE_URL`, else `DATABASE_URL`) with the schema `init-db` makes, and per
//! enabled source one login followed by the export-module discovery — the source's own
//! healthcheck, in a single attempt (check answers at once; the syncs retry). Passwords come from
//! `GN2PG_<SOURCE>_PASSWORD`, as for the syncs; `--gn2pg-config` files are not read by `check`.

use crate::pg::DbUrl;
use crate::probe::{self, Needed, Probe, ProbeError};
use crate::secrets::Env;

use super::config::Gn2pgConfig;
use super::remote::Api;
use super::schema;

/// The probes of the configured gn2pg sync (none when no source is configured).
pub fn probes(cfg: &Gn2pgConfig, env: &Env) -> Vec<Box<dyn Probe>> {
    if cfg.sources.is_empty() {
        return Vec::new();
    }
    let schema_name = cfg.schema.clone();
    let mut probes: Vec<Box<dyn Probe>> = probe::database(
        "gn2pg database",
        DbUrl::from_env(env, &super::DATABASE_VARS),
        Needed::Always,
        move |db| {
            let mut client = db.connect().map_err(|e| ProbeError::of(&e))?;
            schema::check(&mut client, &schema_name).map_err(|e| ProbeError::of(&e))?;
            Ok(format!("schema {schema_name} initialised"))
        },
    )
    .into_iter()
    .collect();
    // The configuration was validated when it was loaded: its block resolves.
    let settings = cfg.http_settings().unwrap_or_else(|_| cfg.http.clone());
    let policy = probe::single_attempt(settings.policy("gn2pg.http"));
    for src in cfg.sources.iter().filter(|s| s.enable) {
        let src = src.clone();
        let password = env.secret(&src.password_var());
        let policy = policy.clone();
        probes.push(probe::probe(
            format!(
                "gn2pg source {} ({})",
                src.name,
                crate::text::clip(&src.api_url())
            ),
            move |_| {
                let password = password.as_ref().ok_or_else(|| {
                    ProbeError(format!("no password: set {}", src.password_var()))
                })?;
                Api::connect(&src, password, &policy).map_err(|e| ProbeError::of(&e))?;
                Ok(format!(
                    "login as {} ok, export module found",
                    src.user_name
                ))
            },
        ));
    }
    probes
}
