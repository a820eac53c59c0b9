//! What `data-tasks check` touches for visionature, once `[[visionature.site]]` is configured:
//! the database (`VISIONATURE_DATABASE_URL`, else `DATABASE_URL`) with the production schema
//! `init-db` makes, and per site the transfer's own healthcheck — one signed `taxo_groups` call
//! with the site's `VN_<SITE>_…` credentials, in a single attempt (check answers at once; the
//! transfers retry). `--vn-config` files are not read by `check`.

use crate::probe::{self, Needed, Probe, ProbeError};
use crate::secrets::Env;

use super::config::VisionatureConfig;
use super::remote::{Api, Credentials};

/// The probes of the configured visionature sync (none when no site is configured).
pub fn probes(cfg: &VisionatureConfig, env: &Env) -> Vec<Box<dyn Probe>> {
    if cfg.site.is_empty() {
        return Vec::new();
    }
    let schema = cfg.schema_import.clone();
    let mut probes: Vec<Box<dyn Probe>> = probe::database(
        "visionature database",
        super::database(env),
        Needed::Always,
        move |db| {
            let pe = |e: crate::pg::PgError| ProbeError::of(&e);
            let mut client = db.connect().map_err(pe)?;
            let tables = crate::pg::schema::table_exists(&mut client, &schema, "observations_json")
                .map_err(pe)?
                && crate::pg::run_log::exists(&mut client).map_err(pe)?;
            if !tables {
                return Err(ProbeError(format!(
                    "schema {schema} is not initialised: run `data-tasks visionature init-db`"
                )));
            }
            Ok(format!("schema {schema} initialised"))
        },
    )
    .into_iter()
    .collect();
    // The configuration was validated when it was loaded: its block resolves.
    let settings = cfg.http_settings().unwrap_or_else(|_| cfg.http.clone());
    let policy = probe::single_attempt(settings.policy("visionature.http"));
    for site in &cfg.site {
        let site = site.clone();
        let env = env.clone();
        let policy = policy.clone();
        let max_chunks = cfg.max_chunks;
        probes.push(probe::probe(
            format!(
                "visionature site {} ({})",
                site.name,
                crate::text::clip(&site.url)
            ),
            move |_| {
                let creds =
                    Credentials::from_env(&env, &site.name).map_err(|e| ProbeError::of(&e))?;
                let api = Api::new(&site.url, creds, &policy, max_chunks)
                    .map_err(|e| ProbeError::of(&e))?;
                let taxo = api
                    .list("taxo_groups", &[])
                    .map_err(|e| ProbeError::of(&e))?;
                Ok(format!(
                    "signed call ok, {} taxo groups listed",
                    taxo.data.len()
                ))
            },
        ));
    }
    probes
}
