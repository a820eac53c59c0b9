//! `data-tasks check`: touches every configured dependency once — each store (a probe object is
//! written, read back and deleted), each configured source (file present, object present, or URL
//! answering) — and reports each as ok or failed. Any failure makes the run fatal (exit 2), so a
//! scheduler can run it before the real job. Other stages add their own probes through
//! [`Probe`] (the OCR engine, the AM database).

use bytes::Bytes;

use crate::config::Config;
use crate::fetch::http::HttpClient;
use crate::outcome::{ExitStatus, Summary};
use crate::secrets::redact_url as redact;
use crate::storage::Store;

/// One dependency and the result of touching it.
pub struct Probe {
    pub name: String,
    pub result: Result<String, String>,
}

/// Probes the stores and sources of `config`.
pub fn probe_config(config: &Config, client: &HttpClient) -> Vec<Probe> {
    let mut probes = Vec::new();
    for (name, url) in [
        ("storage.misc", &config.storage.misc),
        ("storage.ap", &config.storage.ap),
        ("storage.am", &config.storage.am),
    ] {
        probes.push(Probe {
            name: format!("{name} ({url})"),
            result: probe_store(url),
        });
    }
    let sources = [
        (
            "sources.georisques_dump",
            config.sources.georisques_dump.as_deref(),
            true,
        ),
        ("sources.s3ic", config.sources.s3ic.as_deref(), false),
        (
            "sources.rubriques",
            config.sources.rubriques.as_deref(),
            false,
        ),
    ];
    for (name, src, secret) in sources {
        if let Some(src) = src {
            let shown = if secret { redact(src) } else { src.to_string() };
            probes.push(Probe {
                name: format!("{name} ({shown})"),
                result: probe_source(src, client),
            });
        }
    }
    probes
}

fn probe_store(url: &str) -> Result<String, String> {
    let store = Store::open(url).map_err(|e| e.to_string())?;
    let key = format!("_check/probe-{}", std::process::id());
    store
        .put(&key, Bytes::from_static(b"data-tasks check"))
        .map_err(|e| e.to_string())?;
    let back = store.get(&key).map_err(|e| e.to_string())?;
    store.delete(&key).map_err(|e| e.to_string())?;
    if &back[..] != b"data-tasks check" {
        return Err("probe object read back differs".into());
    }
    Ok("write, read and delete ok".into())
}

fn probe_source(src: &str, client: &HttpClient) -> Result<String, String> {
    if src.starts_with("http://") || src.starts_with("https://") {
        return client
            .head(src, "source")
            .map(|status| format!("HTTP {status}"))
            .map_err(|e| e.to_string());
    }
    if let Some((scheme, rest)) = src.split_once("://") {
        if scheme != "file" {
            let (bucket, key) = rest.split_once('/').ok_or("no object key in URL")?;
            let store = Store::open(&format!("{scheme}://{bucket}")).map_err(|e| e.to_string())?;
            return match store.exists(key) {
                Ok(true) => Ok("object present".into()),
                Ok(false) => Err(format!("{key} not found")),
                Err(e) => Err(e.to_string()),
            };
        }
    }
    let path = src.strip_prefix("file://").unwrap_or(src);
    std::fs::metadata(path)
        .map(|m| format!("{} bytes", m.len()))
        .map_err(|e| format!("{path}: {e}"))
}

/// Turns probes into the command's summary: exit 2 if any failed.
pub fn summarize(probes: &[Probe]) -> Summary {
    let mut summary = Summary::new("check");
    let mut failed = 0;
    for p in probes {
        match &p.result {
            Ok(detail) => tracing::info!(dependency = %p.name, %detail, "ok"),
            Err(reason) => {
                failed += 1;
                tracing::error!(dependency = %p.name, %reason, "failed");
                summary.problems.push(format!("{}: {reason}", p.name));
            }
        }
    }
    summary.count("dependencies", probes.len());
    summary.count("failed", failed);
    if failed > 0 {
        summary.status = ExitStatus::Fatal;
    }
    summary.headline = format!(
        "check: {} of {} dependencies ok{}",
        probes.len() - failed,
        probes.len(),
        if failed > 0 {
            "; see failures above"
        } else {
            ""
        }
    );
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_each_dependency_and_fails_on_any() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::default();
        config.storage.misc = "memory://check-misc".into();
        config.storage.ap = format!("file://{}", dir.path().join("ap").display());
        config.storage.am = "memory://check-am".into();
        config.sources.s3ic = Some("/nonexistent/s3ic.csv".into());
        let client = HttpClient::new(&config.http).unwrap();
        let probes = probe_config(&config, &client);
        assert_eq!(probes.len(), 4);
        assert!(probes[..3].iter().all(|p| p.result.is_ok()));
        let s = summarize(&probes);
        assert_eq!(s.status, ExitStatus::Fatal);
        assert!(s.problems[0].contains("sources.s3ic"), "{:?}", s.problems);
        // No probe left behind.
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
