//! The deployment files — `Dockerfile`, `.dockerignore` and everything under `docker/` — parsed
//! and checked for the fields that matter: the 07:00 UTC schedule, the image, the secret, the
//! shard count of the backlog Job, the non-root user… No Docker engine or cluster is needed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_yaml_ng::Value;

const IMAGE: &str = "ghcr.io/envinorma/data-tasks:latest";
const SECRET: &str = "data-tasks-secrets";
const INDEX_ANNOTATION: &str = "metadata.annotations['batch.kubernetes.io/job-completion-index']";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    let path = root().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn yaml(rel: &str) -> Value {
    serde_yaml_ng::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel}: invalid YAML: {e}"))
}

/// The value at a dotted path (`spec.containers.0.image`); numbers index sequences.
fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    let mut cur = v;
    for seg in path.split('.') {
        let next = match (cur, seg.parse::<usize>()) {
            (Value::Sequence(items), Ok(i)) => items.get(i),
            (Value::Mapping(map), _) => map.get(seg),
            _ => None,
        };
        cur = next.unwrap_or_else(|| panic!("missing `{path}` (at `{seg}`)"));
    }
    cur
}

/// A scalar as text: YAML `2` and `"2"` both read as "2".
fn text(v: &Value, path: &str) -> String {
    match at(v, path) {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => panic!("`{path}` is not a scalar: {other:?}"),
    }
}

fn int(v: &Value, path: &str) -> u64 {
    at(v, path)
        .as_u64()
        .unwrap_or_else(|| panic!("`{path}` is not a non-negative integer"))
}

fn strings(v: &Value, path: &str) -> Vec<String> {
    at(v, path)
        .as_sequence()
        .unwrap_or_else(|| panic!("`{path}` is not a list"))
        .iter()
        .map(|x| match x {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            other => panic!("`{path}` holds a non-scalar: {other:?}"),
        })
        .collect()
}

fn has(v: &Value, path: &str) -> bool {
    let mut cur = v;
    for seg in path.split('.') {
        match cur.get(seg) {
            Some(next) => cur = next,
            None => return false,
        }
    }
    true
}

/// Every `*.yaml` / `*.yml` under `dir`, recursively, relative to the repository root.
fn yaml_files(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            let rel = path.strip_prefix(root()).unwrap();
            out.push(rel.to_string_lossy().into_owned());
        }
    }
}

#[test]
fn every_yaml_manifest_parses_as_a_non_empty_mapping() {
    let mut files = Vec::new();
    yaml_files(&root().join("docker"), &mut files);
    files.sort();
    for expected in [
        "docker/compose.yaml",
        "docker/k8s/cronjob-daily.yaml",
        "docker/k8s/job-backlog.yaml",
        "docker/k8s/secret.example.yaml",
    ] {
        assert!(
            files.iter().any(|f| f == expected),
            "{expected} missing: {files:?}"
        );
    }
    for f in &files {
        let v = yaml(f);
        let map = v
            .as_mapping()
            .unwrap_or_else(|| panic!("{f}: not a mapping"));
        assert!(!map.is_empty(), "{f}: empty");
        if f.contains("/k8s/") {
            assert!(
                has(&v, "apiVersion") && has(&v, "kind"),
                "{f}: not a Kubernetes object"
            );
            assert!(
                !text(&v, "metadata.name").is_empty(),
                "{f}: no metadata.name"
            );
        }
    }
}

/// The checks shared by the CronJob's and the Job's pod: image, secret, restart policy, requests.
fn check_pod(pod: &Value, file: &str) {
    assert_eq!(text(pod, "restartPolicy"), "Never", "{file}");
    let containers = at(pod, "containers").as_sequence().unwrap();
    assert_eq!(containers.len(), 1, "{file}: one container");
    let c = &containers[0];
    assert_eq!(text(c, "image"), IMAGE, "{file}");
    let secret_refs: Vec<String> = at(c, "envFrom")
        .as_sequence()
        .unwrap()
        .iter()
        .filter(|e| has(e, "secretRef"))
        .map(|e| text(e, "secretRef.name"))
        .collect();
    assert_eq!(secret_refs, [SECRET], "{file}: envFrom secretRef");
    assert_eq!(text(c, "resources.requests.cpu"), "2", "{file}");
    assert_eq!(text(c, "resources.requests.memory"), "1Gi", "{file}");
    if has(pod, "securityContext.runAsUser") {
        assert_ne!(
            int(pod, "securityContext.runAsUser"),
            0,
            "{file}: runs as root"
        );
    }
}

#[test]
fn cronjob_runs_daily_at_seven_utc_one_at_a_time() {
    let file = "docker/k8s/cronjob-daily.yaml";
    let v = yaml(file);
    assert_eq!(text(&v, "apiVersion"), "batch/v1");
    assert_eq!(text(&v, "kind"), "CronJob");
    assert_eq!(text(&v, "spec.schedule"), "0 7 * * *");
    assert_eq!(text(&v, "spec.timeZone"), "Etc/UTC");
    assert_eq!(text(&v, "spec.concurrencyPolicy"), "Forbid");
    assert_eq!(int(&v, "spec.jobTemplate.spec.backoffLimit"), 0);
    let pod = at(&v, "spec.jobTemplate.spec.template.spec");
    check_pod(pod, file);
    let c = at(pod, "containers.0");
    assert_eq!(strings(c, "args"), ["daily"]);
    assert_eq!(text(c, "resources.limits.memory"), "2Gi");
}

#[test]
fn backlog_job_has_as_many_completions_as_shards() {
    let file = "docker/k8s/job-backlog.yaml";
    let v = yaml(file);
    assert_eq!(text(&v, "apiVersion"), "batch/v1");
    assert_eq!(text(&v, "kind"), "Job");
    assert_eq!(text(&v, "spec.completionMode"), "Indexed");
    let completions = int(&v, "spec.completions");
    let parallelism = int(&v, "spec.parallelism");
    assert!(
        (1..=completions).contains(&parallelism),
        "parallelism {parallelism} not in 1..={completions}"
    );
    assert_eq!(int(&v, "spec.backoffLimitPerIndex"), 2);
    let pod = at(&v, "spec.template.spec");
    check_pod(pod, file);
    let c = at(pod, "containers.0");

    let args = strings(c, "args");
    assert_eq!(args[0], "ocr", "{args:?}");
    let pos = args
        .iter()
        .position(|a| a == "--shard")
        .expect("no --shard");
    let shard = &args[pos + 1];
    let n: u64 = shard
        .strip_prefix("$(JOB_COMPLETION_INDEX)/")
        .unwrap_or_else(|| panic!("shard argument {shard:?} is not $(JOB_COMPLETION_INDEX)/N"))
        .parse()
        .unwrap_or_else(|e| panic!("shard argument {shard:?}: N: {e}"));
    assert_eq!(
        n, completions,
        "completions must equal the N of --shard I/N"
    );
    let jobs = args.iter().position(|a| a == "--jobs").expect("no --jobs");
    assert_eq!(args[jobs + 1], "0", "--jobs 0: every core");
    // Every index the Job hands out expands to a shard the binary accepts.
    for i in 0..completions {
        let expanded = shard.replace("$(JOB_COMPLETION_INDEX)", &i.to_string());
        expanded
            .parse::<data_tasks::stages::ocr::Shard>()
            .unwrap_or_else(|_| panic!("{expanded:?} is not a valid --shard"));
    }

    let env = at(c, "env").as_sequence().unwrap();
    let index = env
        .iter()
        .find(|e| text(e, "name") == "JOB_COMPLETION_INDEX")
        .expect("no JOB_COMPLETION_INDEX env");
    assert_eq!(
        text(index, "valueFrom.fieldRef.fieldPath"),
        INDEX_ANNOTATION
    );
}

#[test]
fn secret_example_holds_only_placeholders() {
    let v = yaml("docker/k8s/secret.example.yaml");
    assert_eq!(text(&v, "apiVersion"), "v1");
    assert_eq!(text(&v, "kind"), "Secret");
    assert_eq!(text(&v, "metadata.name"), SECRET);
    assert!(
        !has(&v, "data"),
        "base64 `data:` could hide a real value: use stringData"
    );
    let data = at(&v, "stringData").as_mapping().unwrap();
    let keys: BTreeSet<&str> = data.keys().map(|k| k.as_str().unwrap()).collect();
    for key in [
        "SLACK_WEBHOOK_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_ENDPOINT",
        "AWS_REGION",
        "AM_DATABASE_URL",
        "DATA_TASKS_SOURCES_GEORISQUES_DUMP",
    ] {
        assert!(keys.contains(key), "secret example lacks {key}");
    }
    for (k, val) in data {
        let k = k.as_str().unwrap();
        let val = val.as_str().unwrap_or_else(|| panic!("{k}: not a string"));
        assert!(
            val.len() > 2 && val.starts_with('<') && val.ends_with('>'),
            "{k}: {val:?} is not a <placeholder>"
        );
        for real in ["hooks.slack.com/services/", "AKIA", "ASIA"] {
            assert!(!val.contains(real), "{k}: looks like a real value");
        }
    }
}

/// `environment:` as a mapping or as a list of `KEY=value`.
fn compose_env(service: &Value) -> Vec<(String, String)> {
    match at(service, "environment") {
        Value::Mapping(map) => map
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    other => panic!("environment value {other:?}"),
                };
                (k.as_str().unwrap().to_string(), v)
            })
            .collect(),
        Value::Sequence(items) => items
            .iter()
            .map(|i| {
                let (k, v) = i.as_str().unwrap().split_once('=').unwrap();
                (k.to_string(), v.to_string())
            })
            .collect(),
        other => panic!("environment: {other:?}"),
    }
}

#[test]
fn compose_runs_check_against_a_local_seaweedfs() {
    let v = yaml("docker/compose.yaml");
    let weed = at(&v, "services.seaweedfs");
    assert!(text(weed, "image").starts_with("chrislusf/seaweedfs"));
    let command = strings(weed, "command");
    assert_eq!(command[0], "mini", "{command:?}");
    assert!(command.iter().any(|a| a == "-dir=/data"), "{command:?}");
    let buckets: BTreeSet<String> = command
        .iter()
        .find_map(|a| a.strip_prefix("-bucket="))
        .expect("no -bucket=")
        .split(',')
        .map(str::to_string)
        .collect();
    assert!(strings(weed, "ports").iter().any(|p| p.ends_with("8333")));
    // docker/README.md names the same buckets as the compose file.
    let readme = std::fs::read_to_string(root().join("docker/README.md")).unwrap();
    let fragment = readme
        .split_once("runs `weed mini` with the buckets")
        .and_then(|(_, rest)| rest.split_once('('))
        .map(|(names, _)| names.to_string())
        .expect("docker/README.md: the sentence naming the compose buckets");
    let named: BTreeSet<String> = fragment
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    assert_eq!(
        named, buckets,
        "docker/README.md names other buckets than compose.yaml: {fragment}"
    );

    let dt = at(&v, "services.data-tasks");
    let context = root().join("docker").join(text(dt, "build.context"));
    let dockerfile = context.join(text(dt, "build.dockerfile"));
    assert_eq!(
        dockerfile.canonicalize().unwrap(),
        root().join("Dockerfile").canonicalize().unwrap(),
        "data-tasks must be built from the repository's Dockerfile"
    );
    let depends: Vec<String> = match at(dt, "depends_on") {
        Value::Sequence(_) => strings(dt, "depends_on"),
        Value::Mapping(m) => m.keys().map(|k| k.as_str().unwrap().to_string()).collect(),
        other => panic!("depends_on: {other:?}"),
    };
    assert!(depends.iter().any(|d| d == "seaweedfs"), "{depends:?}");
    assert_eq!(strings(dt, "command"), ["check"]);

    let env = compose_env(dt);
    let get = |k: &str| {
        env.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("data-tasks environment lacks {k}"))
    };
    assert_eq!(get("AWS_ENDPOINT"), "http://seaweedfs:8333");
    assert_eq!(get("AWS_ALLOW_HTTP"), "true");
    assert_eq!(get("AWS_REGION"), "us-east-1");
    assert!(!get("AWS_ACCESS_KEY_ID").is_empty());
    assert!(!get("AWS_SECRET_ACCESS_KEY").is_empty());
    for (var, bucket) in [
        ("DATA_TASKS_STORAGE_MISC", "misc"),
        // S3 bucket names need at least 3 characters: SeaweedFS refuses `ap` and `am`.
        ("DATA_TASKS_STORAGE_AP", "envinorma-ap"),
        ("DATA_TASKS_STORAGE_AM", "envinorma-am"),
    ] {
        assert!(bucket.len() >= 3, "{bucket}: invalid S3 bucket name");
        assert_eq!(get(var), format!("s3://{bucket}"));
        assert!(
            buckets.contains(bucket),
            "SeaweedFS does not create {bucket}"
        );
    }
}

/// `(section, key, value)` of a systemd unit; comments and blank lines skipped.
fn ini(rel: &str) -> Vec<(String, String, String)> {
    let mut section = String::new();
    let mut out = Vec::new();
    for line in read(rel).lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
        } else {
            let (k, v) = line
                .split_once('=')
                .unwrap_or_else(|| panic!("{rel}: not KEY=value: {line}"));
            out.push((section.clone(), k.trim().to_string(), v.trim().to_string()));
        }
    }
    out
}

fn unit_values(unit: &[(String, String, String)], section: &str, key: &str) -> Vec<String> {
    unit.iter()
        .filter(|(s, k, _)| s == section && k == key)
        .map(|(_, _, v)| v.clone())
        .collect()
}

#[test]
fn systemd_timer_starts_the_daily_service_at_seven_utc() {
    let timer = ini("docker/data-tasks.timer");
    let cal = unit_values(&timer, "Timer", "OnCalendar");
    assert_eq!(cal.len(), 1, "{cal:?}");
    assert!(
        cal[0].contains("07:00") && cal[0].contains("UTC"),
        "{cal:?}"
    );
    assert_eq!(unit_values(&timer, "Timer", "Persistent"), ["true"]);
    for u in unit_values(&timer, "Timer", "Unit") {
        assert_eq!(u, "data-tasks.service");
    }
    assert_eq!(
        unit_values(&timer, "Install", "WantedBy"),
        ["timers.target"]
    );

    let service = ini("docker/data-tasks.service");
    assert_eq!(unit_values(&service, "Service", "Type"), ["oneshot"]);
    let exec = unit_values(&service, "Service", "ExecStart");
    assert_eq!(exec.len(), 1, "{exec:?}");
    let words: Vec<&str> = exec[0]
        .trim_start_matches(['-', '@', ':', '+', '!'])
        .split_whitespace()
        .collect();
    assert!(words[0].ends_with("docker"), "{words:?}");
    assert_eq!(words[1], "run", "{words:?}");
    assert!(words.contains(&"--rm"), "{words:?}");
    let env_file = words
        .iter()
        .position(|w| *w == "--env-file")
        .expect("--env-file");
    assert_eq!(words[env_file + 1], "/etc/data-tasks.env");
    let image = words.iter().position(|w| *w == IMAGE).expect("image");
    assert_eq!(&words[image + 1..], ["daily"], "{words:?}");
}

/// Dockerfile instructions, continuation lines joined, comments and blank lines skipped.
fn dockerfile() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut pending = String::new();
    for line in read("Dockerfile").lines() {
        let t = line.trim();
        if pending.is_empty() && (t.is_empty() || t.starts_with('#')) {
            continue;
        }
        if t.starts_with('#') {
            continue; // a comment inside a continued instruction
        }
        match t.strip_suffix('\\') {
            Some(part) => {
                pending.push_str(part);
                pending.push(' ');
            }
            None => {
                pending.push_str(t);
                let (ins, rest) = pending.split_once(char::is_whitespace).unwrap();
                out.push((ins.to_uppercase(), rest.trim().to_string()));
                pending.clear();
            }
        }
    }
    assert!(
        pending.is_empty(),
        "Dockerfile ends inside a continued line"
    );
    out
}

#[test]
fn dockerfile_builds_with_install_deps_and_runs_as_non_root() {
    let all = dockerfile();
    let froms: Vec<usize> = (0..all.len()).filter(|&i| all[i].0 == "FROM").collect();
    assert!(froms.len() >= 2, "not multi-stage");
    let build_from = &all[froms[0]].1;
    assert!(build_from.starts_with("rust:"), "{build_from}");
    let build_stage = build_from
        .split_whitespace()
        .last()
        .filter(|_| build_from.to_lowercase().contains(" as "))
        .expect("the build stage has no name");
    let (build, runtime) = all.split_at(*froms.last().unwrap());
    assert!(
        runtime[0].1.starts_with("debian:bookworm-slim"),
        "{:?}",
        runtime[0]
    );

    let build_runs: Vec<&str> = build
        .iter()
        .filter(|(i, _)| i == "RUN")
        .map(|(_, a)| a.as_str())
        .collect();
    assert!(
        build_runs
            .iter()
            .any(|r| r.contains("SKIP_SEAWEEDFS=1 bash scripts/install-deps.sh")),
        "{build_runs:?}"
    );
    assert!(read("scripts/install-deps.sh").contains("SKIP_SEAWEEDFS"));
    assert!(
        build_runs
            .iter()
            .any(|r| r.contains("cargo build --release --locked --bin data-tasks")),
        "{build_runs:?}"
    );

    let args = |ins: &str| -> Vec<&str> {
        runtime
            .iter()
            .filter(|(i, _)| i == ins)
            .map(|(_, a)| a.as_str())
            .collect()
    };
    let install = args("RUN").join(" ");
    for pkg in ["tesseract-ocr", "tesseract-ocr-fra", "ca-certificates"] {
        assert!(
            install.split_whitespace().any(|w| w == pkg),
            "runtime lacks {pkg}"
        );
    }
    assert!(!install.contains("-dev"), "no -dev packages at runtime");
    let copies = args("COPY");
    let from_build = format!("--from={build_stage} ");
    for dest in ["/usr/local/bin/data-tasks", "/usr/local/bin/libpdfium.so"] {
        assert!(
            copies
                .iter()
                .any(|c| c.starts_with(&from_build) && c.ends_with(dest)),
            "no COPY {from_build}… {dest}: {copies:?}"
        );
    }
    let env = args("ENV").join(" ");
    let env: Vec<&str> = env.split_whitespace().collect();
    assert!(env.contains(&"OMP_THREAD_LIMIT=1"), "{env:?}");
    assert!(
        env.contains(&"PDFIUM_LIB=/usr/local/bin/libpdfium.so"),
        "{env:?}"
    );
    assert_eq!(args("WORKDIR").last(), Some(&"/data"));

    let user = *args("USER")
        .last()
        .expect("no USER: the image would run as root");
    let name = user.split(':').next().unwrap();
    assert!(!["root", "0"].contains(&name), "USER {user} is root");

    let json = |ins: &str| -> Vec<String> {
        let a = *args(ins).last().unwrap_or_else(|| panic!("no {ins}"));
        serde_json::from_str(a).unwrap_or_else(|e| panic!("{ins} {a}: not exec form: {e}"))
    };
    assert_eq!(json("ENTRYPOINT"), ["data-tasks"]);
    assert_eq!(json("CMD"), ["daily"]);
}

#[test]
fn dockerignore_keeps_build_outputs_and_secrets_out_of_the_context() {
    let patterns: Vec<String> = read(".dockerignore")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.trim_start_matches('/').trim_end_matches('/').to_string())
        .collect();
    for p in ["target", ".deps", "data", ".git", "bench/runs/*/work"] {
        assert!(patterns.iter().any(|x| x == p), ".dockerignore lacks {p}");
    }
    for needed in ["Cargo.lock", "Cargo.toml", "src", "crates", "scripts"] {
        assert!(
            !patterns.iter().any(|x| x == needed || x == "*"),
            ".dockerignore drops {needed}, which the build needs"
        );
    }
}

// ---- the operations dashboard (issue 17) -----------------------------------------------------

const DASHBOARD_SECRET: &str = "data-tasks-dashboard";

/// The binary's command line (`src/cli.rs`), to parse a manifest's arguments as the binary does.
#[allow(dead_code)]
#[path = "../src/cli.rs"]
mod cli;

/// `port` of a probe or Service: a number, or the name of one of `ports`.
fn port_number(port: &Value, ports: &[Value]) -> u64 {
    match port {
        Value::Number(n) => n.as_u64().unwrap(),
        Value::String(name) => ports
            .iter()
            .find(|p| text(p, "name") == *name)
            .map(|p| int(p, "containerPort"))
            .unwrap_or_else(|| panic!("no container port named {name}")),
        other => panic!("port {other:?}"),
    }
}

#[test]
fn dashboard_deployment_probes_the_health_paths_the_binary_serves() {
    use clap::Parser;
    let file = "docker/k8s/dashboard-deployment.yaml";
    let v = yaml(file);
    assert_eq!(text(&v, "apiVersion"), "apps/v1");
    assert_eq!(text(&v, "kind"), "Deployment");
    let pod_labels = at(&v, "spec.template.metadata.labels");
    let selector = at(&v, "spec.selector.matchLabels").as_mapping().unwrap();
    for (k, val) in selector {
        assert_eq!(
            pod_labels.get(k),
            Some(val),
            "{file}: selector {k:?} not on the pod"
        );
    }
    let pod = at(&v, "spec.template.spec");
    assert_eq!(text(pod, "securityContext.runAsNonRoot"), "true");
    assert_ne!(
        int(pod, "securityContext.runAsUser"),
        0,
        "{file}: runs as root"
    );
    let containers = at(pod, "containers").as_sequence().unwrap();
    assert_eq!(containers.len(), 1, "{file}: one container");
    let c = &containers[0];
    assert_eq!(text(c, "image"), IMAGE, "{file}");

    // The arguments are the binary's, and the probes hit the paths it serves.
    let args = strings(c, "args");
    let parsed =
        cli::Cli::try_parse_from(std::iter::once("data-tasks".to_string()).chain(args.clone()))
            .unwrap_or_else(|e| panic!("{file}: args {args:?} rejected: {e}"));
    let cli::Command::Dashboard(dashboard) = &parsed.command else {
        panic!("{file}: args {args:?} are not the dashboard command");
    };
    let options = data_tasks::ops::dashboard::Options::from(dashboard);
    let base = data_tasks::ops::dashboard::base_path(&options.base_path).unwrap();
    let ports = at(c, "ports").as_sequence().unwrap().clone();
    assert_eq!(ports.len(), 1, "{file}: one port");
    assert_eq!(
        int(&ports[0], "containerPort"),
        u64::from(options.listen.port())
    );
    assert_eq!(
        text(c, "readinessProbe.httpGet.path"),
        format!("{base}/readyz")
    );
    assert_eq!(
        text(c, "livenessProbe.httpGet.path"),
        format!("{base}/healthz")
    );
    for probe in ["readinessProbe", "livenessProbe"] {
        let port = port_number(at(c, &format!("{probe}.httpGet.port")), &ports);
        assert_eq!(
            port,
            u64::from(options.listen.port()),
            "{file}: {probe} port"
        );
    }

    // Off loopback the binary wants credentials: they and the database come from the Secret,
    // mounted as files (`<NAME>_FILE`), never as environment values.
    assert!(!options.listen.ip().is_loopback());
    let env = at(c, "env").as_sequence().unwrap();
    let mounts = at(c, "volumeMounts").as_sequence().unwrap();
    let volumes = at(pod, "volumes").as_sequence().unwrap();
    for var in ["OPS_DATABASE_URL", "DASHBOARD_USER", "DASHBOARD_PASSWORD"] {
        assert!(
            !env.iter().any(|e| text(e, "name") == var),
            "{file}: {var} must come from a file of the Secret"
        );
        let name = format!("{var}_FILE");
        let e = env
            .iter()
            .find(|e| text(e, "name") == name)
            .unwrap_or_else(|| panic!("{file}: no {name}"));
        let path = text(e, "value");
        let (dir, key) = path.rsplit_once('/').unwrap();
        assert_eq!(key, var, "{file}: {name} names the key {var}");
        let mount = mounts
            .iter()
            .find(|m| text(m, "mountPath") == dir)
            .unwrap_or_else(|| panic!("{file}: nothing mounted at {dir}"));
        assert_eq!(text(mount, "readOnly"), "true");
        let volume = volumes
            .iter()
            .find(|v| text(v, "name") == text(mount, "name"))
            .unwrap_or_else(|| panic!("{file}: no volume for {dir}"));
        assert_eq!(text(volume, "secret.secretName"), DASHBOARD_SECRET);
        // The non-root user reads the files through its group.
        assert_eq!(
            int(pod, "securityContext.fsGroup"),
            int(pod, "securityContext.runAsGroup")
        );
        assert_eq!(
            int(volume, "secret.defaultMode"),
            0o440,
            "read-only, group-readable"
        );
        assert!(data_tasks::secrets::is_secret_var(var), "{var}");
    }
    assert!(
        !has(c, "envFrom"),
        "{file}: the dashboard gets only its own secrets"
    );
    assert_eq!(text(c, "securityContext.readOnlyRootFilesystem"), "true");
    assert_eq!(text(c, "securityContext.allowPrivilegeEscalation"), "false");
    assert!(has(c, "resources.limits.memory"));
}

#[test]
fn dashboard_service_targets_the_deployment() {
    let dep = yaml("docker/k8s/dashboard-deployment.yaml");
    let svc = yaml("docker/k8s/dashboard-service.yaml");
    assert_eq!(text(&svc, "apiVersion"), "v1");
    assert_eq!(text(&svc, "kind"), "Service");
    let pod_labels = at(&dep, "spec.template.metadata.labels");
    for (k, val) in at(&svc, "spec.selector").as_mapping().unwrap() {
        assert_eq!(
            pod_labels.get(k),
            Some(val),
            "Service selector {k:?} not on the pod"
        );
    }
    let c = at(&dep, "spec.template.spec.containers.0");
    let ports = at(c, "ports").as_sequence().unwrap().clone();
    let svc_ports = at(&svc, "spec.ports").as_sequence().unwrap();
    assert_eq!(svc_ports.len(), 1);
    assert_eq!(
        port_number(at(&svc_ports[0], "targetPort"), &ports),
        int(&ports[0], "containerPort")
    );
}

#[test]
fn dashboard_secret_example_holds_only_placeholders() {
    let v = yaml("docker/k8s/dashboard-secret.example.yaml");
    assert_eq!(text(&v, "kind"), "Secret");
    assert_eq!(text(&v, "metadata.name"), DASHBOARD_SECRET);
    assert!(!has(&v, "data"), "use stringData");
    let data = at(&v, "stringData").as_mapping().unwrap();
    let keys: BTreeSet<&str> = data.keys().map(|k| k.as_str().unwrap()).collect();
    assert_eq!(
        keys,
        BTreeSet::from(["OPS_DATABASE_URL", "DASHBOARD_USER", "DASHBOARD_PASSWORD"])
    );
    for (k, val) in data {
        let val = val.as_str().unwrap();
        assert!(
            val.len() > 2 && val.starts_with('<') && val.ends_with('>'),
            "{k:?}: {val:?} is not a <placeholder>"
        );
    }
}

#[test]
fn ecospheres_cronjob_runs_at_midnight_utc_restarts_on_failure_one_at_a_time() {
    let file = "docker/k8s/cronjob-ecospheres.yaml";
    let v = yaml(file);
    assert_eq!(text(&v, "apiVersion"), "batch/v1");
    assert_eq!(text(&v, "kind"), "CronJob");
    assert_eq!(text(&v, "spec.schedule"), "0 0 * * *");
    assert_eq!(text(&v, "spec.timeZone"), "Etc/UTC");
    assert_eq!(text(&v, "spec.concurrencyPolicy"), "Forbid");
    let pod = at(&v, "spec.jobTemplate.spec.template.spec");
    assert_eq!(text(pod, "restartPolicy"), "OnFailure");
    assert_ne!(
        int(pod, "securityContext.runAsUser"),
        0,
        "{file}: runs as root"
    );
    let containers = at(pod, "containers").as_sequence().unwrap();
    assert_eq!(containers.len(), 1, "{file}: one container");
    let c = &containers[0];
    assert_eq!(text(c, "image"), IMAGE);
    let args = strings(c, "args");
    assert_eq!(args[0], "ecospheres", "{args:?}");
    for a in &args[1..] {
        assert!(
            ["--keep-history", "--dry-run"].contains(&a.as_str()),
            "{file}: unexpected argument {a}"
        );
    }
    let secret_refs: Vec<String> = at(c, "envFrom")
        .as_sequence()
        .unwrap()
        .iter()
        .filter(|e| has(e, "secretRef"))
        .map(|e| text(e, "secretRef.name"))
        .collect();
    assert_eq!(
        secret_refs,
        ["data-tasks-ecospheres"],
        "{file}: envFrom secretRef"
    );
    // No secret value in the manifest itself.
    if has(c, "env") {
        for e in at(c, "env").as_sequence().unwrap() {
            let name = text(e, "name");
            assert!(
                !name.contains("PASSWORD") && !name.contains("SECRET") && !name.ends_with("_URL"),
                "{file}: {name} belongs in the Secret"
            );
        }
    }
    // The spill file's folder is writable (the image's root filesystem may not be).
    let mounts = at(c, "volumeMounts").as_sequence().unwrap();
    assert!(
        mounts.iter().any(|m| text(m, "mountPath") == "/tmp"),
        "{file}: /tmp"
    );

    let secret = yaml("docker/k8s/secret-ecospheres.example.yaml");
    assert_eq!(text(&secret, "kind"), "Secret");
    assert_eq!(text(&secret, "metadata.name"), "data-tasks-ecospheres");
    assert!(!has(&secret, "data"), "use stringData placeholders");
    let data = at(&secret, "stringData").as_mapping().unwrap();
    let keys: BTreeSet<&str> = data.keys().map(|k| k.as_str().unwrap()).collect();
    for key in [
        "ECOSPHERES_DATABASE_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_ENDPOINT",
    ] {
        assert!(keys.contains(key), "ecospheres secret example lacks {key}");
    }
    for (k, val) in data {
        let val = val.as_str().unwrap();
        assert!(
            val.len() > 2 && val.starts_with('<') && val.ends_with('>'),
            "{k:?}: {val:?} is not a <placeholder>"
        );
    }
}
