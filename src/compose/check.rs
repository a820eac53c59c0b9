//! `data-tasks check`: touches every configured dependency once and reports each as ok or
//! failed. The dependencies are not listed here: each stage contributes the [`Probe`]s of what it
//! needs (`installations::probes`, `aps::probes`, `ocr::probes`, `daily::probes`,
//! `am_export::probes` — stores, sources, the OCR engine, the Slack webhook, the back-office
//! database), and a dependency several stages share is probed once. Any failure makes the run
//! fatal (exit 2), so a scheduler can run `check` before the real job. Syncs add theirs the same
//! way, once configured (`syncs::<name>::probes`: their database and schema, and one
//! authenticated call per source or site, in a single attempt), gathered in [`probes`].

use crate::compose::daily;
use crate::config::Config;
use crate::outcome::{ExitStatus, Summary};
use crate::probe::{Probe, ProbeContext, ProbeError};
use crate::secrets::Env;
use crate::stages::{am_export, aps, installations, ocr};
#[cfg(any(feature = "gn2pg", feature = "visionature", feature = "ecospheres"))]
use crate::syncs;

/// Every stage's probes, each dependency once, in the order the stages name them.
pub fn probes(config: &Config, env: &Env) -> Vec<Box<dyn Probe>> {
    let all = [
        installations::probes(&config.storage, &config.sources),
        aps::probes(&config.storage, &config.sources),
        ocr::probes(&config.storage, &config.ocr),
        daily::probes(config, env),
        am_export::probes(&config.storage, env),
        #[cfg(feature = "gn2pg")]
        syncs::gn2pg::probes::probes(&config.gn2pg, env),
        #[cfg(feature = "visionature")]
        syncs::visionature::probes::probes(&config.visionature, env),
        #[cfg(feature = "ecospheres")]
        syncs::ecospheres::probes::probes(
            &config.ecospheres,
            &config.http,
            config.storage.s3_credentials,
            env,
        ),
    ];
    let mut seen = std::collections::HashSet::new();
    all.into_iter()
        .flatten()
        .filter(|p| seen.insert(p.name()))
        .collect()
}

/// One probed dependency.
pub struct Checked {
    pub name: String,
    pub result: Result<String, ProbeError>,
}

/// Runs `probes` one after the other.
pub fn run_probes(probes: &[Box<dyn Probe>], ctx: &ProbeContext<'_>) -> Vec<Checked> {
    probes
        .iter()
        .map(|p| Checked {
            name: p.name(),
            result: p.run(ctx),
        })
        .collect()
}

/// The command: every probe of [`probes`], then the summary.
pub fn run(config: &Config, env: &Env, ctx: &ProbeContext<'_>) -> Summary {
    let mut summary = summarize(&run_probes(&probes(config, env), ctx));
    from_files(&mut summary, env);
    summary
}

/// Says which secrets were read from files (`<NAME>_FILE`): each logged with its path, their
/// names at the end of the headline.
pub fn from_files(summary: &mut Summary, env: &Env) {
    let files = env.from_files();
    for (name, path) in files {
        tracing::info!(secret = %name, file = %path.display(), "secret read from a file");
    }
    summary.count("secrets_from_files", files.len());
    if !files.is_empty() {
        let names: Vec<&str> = files.keys().map(String::as_str).collect();
        summary.headline = format!(
            "{}; secrets from files: {}",
            summary.headline,
            names.join(", ")
        );
    }
}

/// Turns results into the command's summary: exit 2 if any failed. Each dependency that is ok
/// is logged here; each failure only becomes a problem of the summary, which the binary logs
/// once (as an error, the summary being fatal).
pub fn summarize(checked: &[Checked]) -> Summary {
    let mut summary = Summary::new("check");
    let mut failed = 0;
    for p in checked {
        match &p.result {
            Ok(detail) => tracing::info!(dependency = %p.name, %detail, "ok"),
            Err(reason) => {
                failed += 1;
                summary.problems.push(format!("{}: {reason}", p.name));
            }
        }
    }
    summary.count("dependencies", checked.len());
    summary.count("failed", failed);
    if failed > 0 {
        summary.status = ExitStatus::Fatal;
    }
    summary.headline = format!(
        "check: {} of {} dependencies ok{}",
        checked.len() - failed,
        checked.len(),
        if failed > 0 { "; failures above" } else { "" }
    );
    summary
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::http::HttpClient;
    use crate::storage::{S3Settings, Store};

    #[test]
    fn reports_each_dependency_once_and_fails_on_any() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::default();
        config.storage.misc = "memory://check-misc".into();
        config.storage.ap = format!("file://{}", dir.path().join("ap").display());
        config.storage.am = "memory://check-am".into();
        config.sources.s3ic = Some("/nonexistent/s3ic.csv".into());
        config.ocr.pdfium = Some("/nonexistent/libpdfium.so".into());
        let client = HttpClient::new(&config.http).unwrap();
        let s3 = S3Settings::default();
        let ctx = ProbeContext {
            http: &client,
            s3: &s3,
        };
        let probes = probes(&config, &Env::default());
        let names: Vec<String> = probes.iter().map(|p| p.name()).collect();
        assert_eq!(names.len(), 5, "{names:?}");
        assert_eq!(
            names
                .iter()
                .filter(|n| n.starts_with("storage.misc"))
                .count(),
            1
        );
        let checked = run_probes(&probes, &ctx);
        let s = summarize(&checked);
        assert_eq!(s.status, ExitStatus::Fatal);
        assert_eq!(s.counts["failed"], 2, "{:?}", s.problems);
        assert!(
            s.problems.iter().any(|p| p.contains("sources.s3ic")),
            "{:?}",
            s.problems
        );
        assert!(
            s.problems.iter().any(|p| p.contains("OCR engine")),
            "{:?}",
            s.problems
        );
        // No probe object left behind.
        assert_eq!(
            Store::open("memory://check-misc")
                .unwrap()
                .list(None)
                .unwrap()
                .count(),
            0
        );
    }
}
