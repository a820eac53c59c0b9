//! `data-tasks dashboard` against a real PostgreSQL holding seeded runs (tests/ops/seed.rs), read
//! through a read-only role: the running binary's pages (overview, a scope's paged history with
//! its SVG charts, gn2pg's imports and error log, visionature's failed downloads, fix-sync's
//! counts, 404s, health), basic auth and the loopback rule, a failing query answering 503
//! without the database's message, no secret in any page — and a real browser (headless Debian
//! Chromium) rendering the overview and a history page, with screenshots under target/.

mod common;
#[path = "ops/seed.rs"]
mod seed;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{pg::TestDb, require, text};
use seed::data_tasks;

const DASH_USER: &str = "ops-viewer";
const DASH_PASSWORD: &str = "Dash-pw-4b9e71-never-shown";

/// A running dashboard; killed on drop.
struct Dashboard {
    child: Child,
    /// `http://127.0.0.1:PORT`
    origin: String,
    log: Arc<Mutex<String>>,
    client: reqwest::blocking::Client,
}

impl Dashboard {
    fn start(extra: &[&str], env: &[(String, String)]) -> Dashboard {
        let mut args = vec!["dashboard", "--listen", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        let mut child = seed::command(&args, env)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start the dashboard");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.find("listening on http://") {
                    let url = line[at + "listening on ".len()..]
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    let _ = tx.send(url);
                }
                let mut l = sink.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| {
                let _ = child.kill();
                panic!("the dashboard did not start:\n{}", log.lock().unwrap())
            });
        let origin = url
            .trim_end_matches('/')
            .splitn(4, '/')
            .take(3)
            .collect::<Vec<_>>()
            .join("/");
        Dashboard {
            child,
            origin,
            log,
            client: reqwest::blocking::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    fn get_as(&self, path: &str, auth: Option<(&str, &str)>) -> reqwest::blocking::Response {
        let mut req = self.client.get(self.url(path));
        if let Some((u, p)) = auth {
            req = req.basic_auth(u, Some(p));
        }
        req.send()
            .unwrap_or_else(|e| panic!("GET {path}: {e}\n{}", self.log()))
    }

    /// Status and body of `path`.
    fn get(&self, path: &str) -> (u16, String) {
        let resp = self.get_as(path, None);
        (resp.status().as_u16(), resp.text().unwrap())
    }

    /// The body of `path`, which must answer 200.
    fn page(&self, path: &str) -> String {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "GET {path}: {body}\n{}", self.log());
        body
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Sends SIGTERM (what Kubernetes sends) and waits for the exit.
    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "no exit after SIGTERM:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn env(url: &str) -> Vec<(String, String)> {
    vec![("OPS_DATABASE_URL".to_string(), url.to_string())]
}

/// A database with seeded runs and sync tables, and its read-only role.
fn seeded(prefix: &str) -> Option<(TestDb, seed::Role)> {
    let db = TestDb::create(prefix)?;
    let mut c = db.client();
    seed::runs(&mut c);
    seed::sync_tables(&mut c);
    let ro = seed::read_only_role(&mut c, &db.url());
    Some((db, ro))
}

/// The number of `<tr` rows carrying `attr` in `html`.
fn rows(html: &str, attr: &str) -> usize {
    html.matches(&format!("<tr {attr}=")).count()
        + html
            .matches(&format!("<tr class=\"stale\" {attr}="))
            .count()
}

/// The `<tr …>…</tr>` whose attribute `attr` equals `value`.
fn row<'a>(html: &'a str, attr: &str, value: &str) -> &'a str {
    let needle = format!("{attr}=\"{value}\"");
    let at = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no row {needle} in:\n{html}"));
    let start = html[..at].rfind("<tr").unwrap();
    let end = at + html[at..].find("</tr>").unwrap();
    &html[start..end]
}

fn assert_no_secret(html: &str, secrets: &[&str], page: &str) {
    for s in secrets {
        assert!(!html.contains(s), "{page} shows a secret ({s})");
    }
}

#[test]
fn pages_show_the_seeded_runs_to_a_read_only_role() {
    let Some((db, role)) = seeded("ops_dash_pages") else {
        return;
    };
    let ro = role.url.clone();
    // The role is really read-only.
    let mut ro_client = postgres::Client::connect(&ro, postgres::NoTls).unwrap();
    let denied = ro_client
        .execute("UPDATE data_tasks.sync_run SET error = 'x'", &[])
        .unwrap_err();
    assert!(denied.to_string().contains("permission denied") || denied.as_db_error().is_some());

    let d = Dashboard::start(&["--base-path", "/ops/"], &env(&ro));
    let secrets = [seed::RO_PASSWORD, ro.as_str(), &db.url()].map(|s| s.to_string());
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let mut pages = Vec::new();

    // Overview.
    let resp = d.get_as("/ops/", None);
    let csp = resp
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let home = resp.text().unwrap();
    assert!(
        d.page("/ops").contains("id=\"overall\""),
        "/ops is the overview too"
    );
    assert!(
        home.contains("id=\"overall\" class=\"badge big failed\">STALE: 1<"),
        "{home}"
    );
    assert_eq!(rows(&home, "data-scope"), 5, "{home}");
    let flavia = row(&home, "data-scope", "gn2pg/flavia");
    assert!(flavia.starts_with("<tr class=\"stale\""), "{flavia}");
    let error = row(&home, "data-error-of", "gn2pg/flavia");
    assert!(error.contains("error: login refused (HTTP 490)"), "{error}");
    assert!(flavia.contains(">4 / 3<"), "{flavia}");
    let ff = row(&home, "data-scope", "visionature/ff");
    assert!(ff.contains("badge failed\">failed<"), "{ff}");
    assert!(row(&home, "data-error-of", "visionature/ff").contains("error: abandoned"));
    assert!(ff.contains("badge ok\">fresh<"), "{ff}");
    let fix = row(&home, "data-scope", "visionature/ff (fix-sync)");
    assert!(fix.contains("kind=fix-sync"), "{fix}");
    assert!(fix.contains(">8d<"), "{fix}");
    assert!(
        home.contains("href=\"/ops/gn2pg/gn2pg_lpo?source=flavia\""),
        "{home}"
    );
    assert!(
        home.contains("href=\"/ops/visionature/src_vn_json\""),
        "{home}"
    );
    assert!(home.contains("4 inserted, 6 updated, 0 deleted"), "{home}");
    let vn = row(&home, "href", "/ops/visionature/src_vn_json");
    assert!(vn.contains(">3<"), "3 failed requests in 7 days: {vn}");
    pages.push(("overview", home));

    // A scope's history: 60 runs, 50 a page, newest first, two charts.
    let p1 = d.page("/ops/runs?sync=gn2pg&scope=lpo");
    assert_eq!(rows(&p1, "data-run"), 50, "{p1}");
    assert!(p1.contains("page 1 of 2 · 60 rows"), "{p1}");
    assert!(
        p1.contains("href=\"/ops/runs?sync=gn2pg&amp;scope=lpo&amp;page=2\""),
        "{p1}"
    );
    assert_eq!(p1.matches("<svg").count(), 2, "{p1}");
    assert_eq!(p1.matches("<polyline").count(), 5, "{p1}");
    assert_eq!(p1.matches("<circle").count(), 250, "{p1}");
    let first = p1.find("data-run=\"60\"").expect("newest run first");
    assert!(first < p1.find("data-run=\"59\"").unwrap());
    assert!(row(&p1, "data-run", "56").contains("HTTP 502 Bad Gateway"));
    assert!(row(&p1, "data-run", "53").contains("badge skipped\">skipped<"));
    assert!(p1.contains("id=\"scope-state\""), "{p1}");
    let p2 = d.page("/ops/runs?sync=gn2pg&scope=lpo&page=2");
    assert_eq!(rows(&p2, "data-run"), 10, "{p2}");
    assert!(row(&p2, "data-run", "1").contains("<td>full</td>"), "{p2}");
    let fix_runs = d.page("/ops/runs?sync=visionature&scope=ff&kind=fix-sync");
    assert_eq!(rows(&fix_runs, "data-run"), 3, "{fix_runs}");
    pages.push(("history", p1));
    pages.push(("history 2", p2));
    pages.push(("fix-sync runs", fix_runs));
    let (status, missing) = d.get("/ops/runs?sync=nope&scope=x");
    assert_eq!(status, 404, "{missing}");
    let (status, _) = d.get("/ops/runs?scope=x");
    assert_eq!(status, 400);

    // gn2pg: sources, imports, filters, error log.
    let gn = d.page("/ops/gn2pg/gn2pg_lpo");
    assert_eq!(rows(&gn, "data-source"), 2, "{gn}");
    assert!(row(&gn, "data-source", "flavia").contains("badge failed\">failed<"));
    assert!(
        row(&gn, "data-source", "lpo").contains(">13<"),
        "13 imports"
    );
    assert_eq!(rows(&gn, "data-import"), 15, "{gn}");
    assert!(
        gn.contains("{&quot;orderby&quot;: &quot;id_synthese&quot;"),
        "{gn}"
    );
    assert!(gn.contains("unique_uuid"), "{gn}");
    assert!(gn.contains("6f1c1d2e-0000-4000-8000-000000000001"), "{gn}");
    let only = d.page("/ops/gn2pg/gn2pg_lpo?source=flavia");
    assert_eq!(rows(&only, "data-import"), 2, "{only}");
    assert!(only.contains("login refused (HTTP 490)"), "{only}");
    pages.push(("gn2pg", gn));
    pages.push(("gn2pg flavia", only));
    for wrong in [
        "/ops/gn2pg/public",
        "/ops/gn2pg/src_vn_json",
        "/ops/visionature/gn2pg_lpo",
    ] {
        let (status, body) = d.get(wrong);
        assert_eq!(status, 404, "{wrong}: {body}");
    }

    // visionature: only the failed requests.
    let vn = d.page("/ops/visionature/src_vn_json");
    assert_eq!(rows(&vn, "data-download"), 3, "{vn}");
    for text in [
        "id_sightings_list chunk 4: HTTP 500",
        ">401<",
        ">503<",
        "10m 00s",
    ] {
        assert!(vn.contains(text), "{text}: {vn}");
    }
    pages.push(("visionature", vn));

    // fix-sync monitoring counts.
    let fx = d.page("/ops/fix-sync");
    assert!(
        fx.contains("<td class=\"num\">12</td><td class=\"num\">30</td>"),
        "{fx}"
    );
    assert_eq!(fx.matches("<svg").count(), 1, "{fx}");
    assert!(fx.contains("href=\"/ops/runs?sync=visionature&amp;scope=ff&amp;kind=fix-sync\""));
    pages.push(("fix-sync", fx));

    // Health, the root redirect, an unknown path.
    assert_eq!(d.page("/ops/healthz"), "ok\n");
    assert_eq!(d.page("/ops/readyz"), "ready\n");
    let resp = d.get_as("/", None);
    assert!(resp.status().is_redirection());
    assert_eq!(resp.headers()["location"], "/ops/");
    let (status, _) = d.get("/ops/nothing-here");
    assert_eq!(status, 404);

    for (name, html) in &pages {
        assert_no_secret(html, &secrets, name);
    }
    // The dashboard wrote nothing: the dead run is still `running` in the table.
    assert_eq!(seed::newest_vn_update(&mut db.client()).0, "running");
    assert_no_secret(&d.log(), &[seed::RO_PASSWORD], "the log");
}

#[test]
fn basic_auth_guards_the_pages_not_the_probes() {
    let Some((_db, role)) = seeded("ops_dash_auth") else {
        return;
    };
    let ro = role.url.clone();
    let mut vars = env(&ro);
    vars.push(("DASHBOARD_USER".into(), DASH_USER.into()));
    vars.push(("DASHBOARD_PASSWORD".into(), DASH_PASSWORD.into()));
    let d = Dashboard::start(&[], &vars);
    for path in [
        "/ops/",
        "/ops/runs?sync=gn2pg&scope=lpo",
        "/ops/gn2pg/gn2pg_lpo",
        "/ops/fix-sync",
    ] {
        let resp = d.get_as(path, None);
        assert_eq!(resp.status().as_u16(), 401, "{path}");
        let challenge = resp.headers()["www-authenticate"].to_str().unwrap();
        assert!(challenge.starts_with("Basic realm="), "{challenge}");
        let body = resp.text().unwrap();
        assert!(
            !body.contains("gn2pg/lpo") && !body.contains("flavia"),
            "{body}"
        );
        let resp = d.get_as(path, Some((DASH_USER, "wrong")));
        assert_eq!(resp.status().as_u16(), 401, "{path}");
        let resp = d.get_as(path, Some(("someone", DASH_PASSWORD)));
        assert_eq!(resp.status().as_u16(), 401, "{path}");
        let resp = d.get_as(path, Some((DASH_USER, DASH_PASSWORD)));
        assert_eq!(resp.status().as_u16(), 200, "{path}");
        let body = resp.text().unwrap();
        assert_no_secret(&body, &[DASH_PASSWORD, seed::RO_PASSWORD], path);
    }
    for probe in ["/ops/healthz", "/ops/readyz"] {
        assert_eq!(d.get_as(probe, None).status().as_u16(), 200, "{probe}");
    }
    assert!(d.log().contains("(basic auth)"), "{}", d.log());
    assert_no_secret(&d.log(), &[DASH_PASSWORD, seed::RO_PASSWORD], "the log");
    let status = d.terminate();
    assert_eq!(status.code(), Some(0), "SIGTERM: a clean stop");
}

#[test]
fn refuses_to_start_when_unsafe_or_misconfigured() {
    let Some((_db, role)) = seeded("ops_dash_refuse") else {
        return;
    };
    let ro = role.url.clone();
    type Case<'a> = (Vec<&'a str>, Vec<(String, String)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec!["--listen", "0.0.0.0:0"],
            env(&ro),
            "refusing to listen on 0.0.0.0:0 without credentials",
        ),
        (
            vec!["--listen", "[::]:0"],
            env(&ro),
            "refusing to listen on [::]:0 without credentials",
        ),
        (
            vec![],
            [env(&ro), vec![("DASHBOARD_USER".into(), DASH_USER.into())]].concat(),
            "DASHBOARD_USER is set but DASHBOARD_PASSWORD is not",
        ),
        (vec!["--base-path", "ops"], env(&ro), "must start with /"),
        (
            vec![],
            env("postgresql://ops:Pw-unreachable-91@127.0.0.1:1/x"),
            "cannot connect to PostgreSQL 127.0.0.1:1/x",
        ),
    ];
    for (args, vars, expected) in cases {
        let mut all = vec!["dashboard"];
        all.extend(args.iter());
        let out = data_tasks(&all, &vars);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(text(&out).contains(expected), "{args:?}: {}", text(&out));
        assert!(!text(&out).contains("Pw-unreachable-91"), "{}", text(&out));
    }
}

#[test]
fn a_failing_query_answers_503_without_the_database_message() {
    let Some((db, role)) = seeded("ops_dash_503") else {
        return;
    };
    let ro = role.url.clone();
    // The role sees the table (some column privilege) but may not read every column.
    db.client()
        .batch_execute(&format!(
            "REVOKE SELECT ON data_tasks.sync_run FROM {r};
             GRANT SELECT (id, sync, scope) ON data_tasks.sync_run TO {r};",
            r = role.name
        ))
        .unwrap();
    let d = Dashboard::start(&[], &env(&ro));
    let (status, body) = d.get("/ops/");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("Database unavailable"), "{body}");
    assert!(
        !body.contains("permission denied") && !body.contains("sync_run"),
        "{body}"
    );
    assert_no_secret(&body, &[seed::RO_PASSWORD], "the 503 page");
    // The reason is in the server's log.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !d.log().contains("permission denied") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(d.log().contains("permission denied"), "{}", d.log());
}

// ---- a real browser ------------------------------------------------------------------------------

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|n| dir.join(n)))
        .find(|p| p.is_file())
}

/// Runs headless Chromium on `url` with `args`; returns its stdout. Fails after 120 s.
fn headless(chromium: &Path, profile: &Path, args: &[String], url: &str) -> String {
    let mut child = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start chromium");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).ok();
        s
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = reader.join().unwrap();
            assert!(status.success(), "chromium {args:?} {url}: {status}");
            return out;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium {args:?} {url}: no answer in 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn assert_png(path: &Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is not a PNG",
        path.display()
    );
    assert!(
        bytes.len() > 10_000,
        "{}: only {} bytes",
        path.display(),
        bytes.len()
    );
}

#[test]
fn headless_chromium_renders_the_overview_and_a_history_page() {
    let Some(chromium) = chromium() else {
        require(
            "chromium (Debian package, installed by scripts/install-deps.sh)",
            false,
        );
        return;
    };
    let Some((_db, role)) = seeded("ops_dash_browser") else {
        return;
    };
    let ro = role.url.clone();
    let d = Dashboard::start(&[], &env(&ro));
    let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ops-dashboard");
    std::fs::create_dir_all(&out_dir).unwrap();
    let profile = tempfile::tempdir().unwrap();

    let overview = d.url("/ops/");
    let dom = headless(&chromium, profile.path(), &["--dump-dom".into()], &overview);
    assert!(dom.contains("<table id=\"scopes\">"), "{dom}");
    assert_eq!(rows(&dom, "data-scope"), 5, "{dom}");
    for scope in [
        "gn2pg/lpo",
        "gn2pg/flavia",
        "visionature/ff",
        "visionature/ff (fix-sync)",
        "ecospheres/public",
    ] {
        row(&dom, "data-scope", scope);
    }
    assert!(row(&dom, "data-scope", "gn2pg/flavia").contains("STALE"));
    assert!(dom.contains("STALE: 1"), "{dom}");

    let history = d.url("/ops/runs?sync=gn2pg&scope=lpo");
    let dom = headless(&chromium, profile.path(), &["--dump-dom".into()], &history);
    assert_eq!(rows(&dom, "data-run"), 50, "{dom}");
    assert!(dom.contains("HTTP 502 Bad Gateway"), "{dom}");
    assert_eq!(dom.matches("<polyline").count(), 5, "{dom}");

    let others = [
        ("gn2pg", d.url("/ops/gn2pg/gn2pg_lpo")),
        ("visionature", d.url("/ops/visionature/src_vn_json")),
        ("fix-sync", d.url("/ops/fix-sync")),
    ];
    let all = [("overview", overview), ("history", history)]
        .into_iter()
        .chain(others);
    for (name, url) in all {
        let png = out_dir.join(format!("{name}.png"));
        let _ = std::fs::remove_file(&png);
        headless(
            &chromium,
            profile.path(),
            &[
                format!("--screenshot={}", png.display()),
                "--window-size=1400,1000".into(),
            ],
            &url,
        );
        assert_png(&png);
        eprintln!("screenshot: {}", png.display());
    }
}

/// The `href` of the first `<a …>` of `html` whose attributes contain `attr` (an `id=…`, a
/// `rel=…`, a `class=…`), `&amp;` decoded.
fn link_href(html: &str, attr: &str) -> String {
    let at = html
        .find(attr)
        .unwrap_or_else(|| panic!("no link with {attr} in:\n{html}"));
    let start = html[..at].rfind("<a ").unwrap();
    let tag = &html[start..start + html[start..].find('>').unwrap()];
    let h = tag.split("href=\"").nth(1).unwrap();
    h[..h.find('"').unwrap()].replace("&amp;", "&")
}

#[test]
fn headless_chromium_follows_an_import_to_its_errors_and_shows_completeness() {
    let Some(chromium) = chromium() else {
        require(
            "chromium (Debian package, installed by scripts/install-deps.sh)",
            false,
        );
        return;
    };
    let Some((db, role)) = seeded("ops_dash_errors") else {
        return;
    };
    seed::copies_and_errors(&mut db.client(), Some(&role.name));
    let ro = role.url.clone();
    let d = Dashboard::start(&[], &env(&ro));
    let secrets = [seed::RO_PASSWORD, ro.as_str()];
    let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ops-dashboard");
    std::fs::create_dir_all(&out_dir).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let browse = |url: &str| -> String {
        let url = if url.starts_with("http") {
            url.to_string()
        } else {
            d.url(url)
        };
        let dom = headless(&chromium, profile.path(), &["--dump-dom".into()], &url);
        assert_no_secret(&dom, &secrets, &url);
        assert!(
            !dom.contains("<script"),
            "{url}: a <script> element:\n{dom}"
        );
        dom
    };
    let mut shots = Vec::new();

    // The import history, filtered by transfer type the way its form sends it: the one full
    // import of lpo, whose errors are a link away.
    let imports = browse("/ops/gn2pg/gn2pg_lpo");
    assert!(
        imports.contains("<form class=\"filters\" id=\"import-filters\""),
        "{imports}"
    );
    for field in ["name=\"source\"", "name=\"type\"", "name=\"status\""] {
        assert!(imports.contains(field), "no {field} in the filters");
    }
    let full = browse("/ops/gn2pg/gn2pg_lpo?source=&type=full&status=");
    assert_eq!(rows(&full, "data-import"), 1, "{full}");
    let import = row(&full, "data-import", "13");
    assert!(import.contains("60 errors"), "{import}");
    let failed = browse("/ops/gn2pg/gn2pg_lpo?status=failed");
    assert_eq!(rows(&failed, "data-import"), 1, "{failed}");
    assert!(row(&failed, "data-import", "15").contains("flavia"));
    shots.push((
        "gn2pg-imports-filtered",
        d.url("/ops/gn2pg/gn2pg_lpo?type=full"),
    ));

    // Follow the link: every error of import 13, paged 50 + 10, newest first.
    let errors_url = link_href(import, "class=\"errors\"");
    assert_eq!(errors_url, "/ops/gn2pg/gn2pg_lpo/errors?import_id=13");
    let page1 = browse(&errors_url);
    assert_eq!(
        page1.matches("<section class=\"error-row\"").count(),
        50,
        "{page1}"
    );
    assert!(page1.contains("page 1 of 2 · 60 rows"), "{page1}");
    // The whole error text, on its two lines; the item pretty-printed.
    assert!(
        page1.contains("invalid input syntax for type integer: \"x2\" at line 2\nCONTEXT: row 2"),
        "{page1}"
    );
    assert!(
        page1.contains("\"nested\": {\n    \"n\": 2\n  }"),
        "{page1}"
    );
    let page2 = browse(&link_href(&page1, "rel=\"next\""));
    assert_eq!(
        page2.matches("<section class=\"error-row\"").count(),
        10,
        "{page2}"
    );
    assert!(page2.contains("page 2 of 2 · 60 rows"), "{page2}");
    shots.push(("gn2pg-errors-of-import", d.url(&errors_url)));

    // Filters: uuid (as typed, upper case), source, controler.
    let one = browse("/ops/gn2pg/gn2pg_lpo/errors?uuid=00000000-0000-4000-8000-000000000001");
    assert_eq!(
        one.matches("<section class=\"error-row\"").count(),
        1,
        "{one}"
    );
    // The item's script is text, escaped; the error quoting the password is masked.
    assert!(
        one.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{one}"
    );
    assert!(one.contains("postgresql://ro:***@db/x refused"), "{one}");
    let upper = browse("/ops/gn2pg/gn2pg_lpo/errors?uuid=+6F1C1D2E-0000-4000-8000-000000000001+");
    assert_eq!(
        upper.matches("<section class=\"error-row\"").count(),
        1,
        "{upper}"
    );
    let none = browse("/ops/gn2pg/gn2pg_lpo/errors?uuid=not-a-uuid");
    assert!(none.contains("No error_log row matches."), "{none}");
    let flavia = browse("/ops/gn2pg/gn2pg_lpo/errors?source=flavia&controler=data");
    assert_eq!(
        flavia.matches("<section class=\"error-row\"").count(),
        1,
        "{flavia}"
    );
    assert!(flavia.contains("unique_uuid"), "{flavia}");
    shots.push((
        "gn2pg-error-item",
        d.url("/ops/gn2pg/gn2pg_lpo/errors?uuid=00000000-0000-4000-8000-000000000001"),
    ));
    let (status, _) = d.get("/ops/gn2pg/gn2pg_lpo/errors?import_id=x");
    assert_eq!(status, 400);
    // The raw HTML, too: no unescaped script, no secret.
    let raw = d.page("/ops/gn2pg/gn2pg_lpo/errors?uuid=00000000-0000-4000-8000-000000000001");
    assert!(
        !raw.contains(seed::XSS) && !raw.contains("<script"),
        "{raw}"
    );
    assert_no_secret(&raw, &secrets, "errors");

    // visionature: failed requests by site and controller.
    let vn = browse("/ops/visionature/src_vn_json?site=ff&controler=places");
    assert_eq!(rows(&vn, "data-download"), 1, "{vn}");
    assert!(vn.contains("unavailable"), "{vn}");
    let vn_all = browse("/ops/visionature/src_vn_json");
    assert_eq!(rows(&vn_all, "data-download"), 3, "{vn_all}");
    shots.push((
        "visionature-failed-filtered",
        d.url("/ops/visionature/src_vn_json?site=ff&controler=places"),
    ));

    // Completeness and lag.
    let copies = browse("/ops/copies");
    let lpo = row(&copies, "data-copy", "gn2pg/lpo/synthese_with_metadata");
    assert!(
        lpo.contains(">118<") && lpo.contains("verify run #"),
        "{lpo}"
    );
    assert!(lpo.contains(">fresh<"), "{lpo}");
    let fl = row(&copies, "data-copy", "gn2pg/flavia/synthese_with_label");
    assert!(fl.contains(">49<") && fl.contains(">52<"), "{fl}");
    assert!(fl.contains("incomplete: 3 rows missing"), "{fl}");
    assert!(row(&copies, "data-copy", "visionature/ff/1").contains(">fresh<"));
    let g2 = row(&copies, "data-copy", "visionature/ff/2");
    assert!(g2.contains("7 below the remote count"), "{g2}");
    let g3 = row(&copies, "data-copy", "visionature/ff/3");
    assert!(g3.contains("watermark 5h"), "{g3}");
    assert!(row(&copies, "data-copy", "visionature/ff/observers").contains("STALE"));
    assert!(row(&copies, "data-copy", "visionature/ff/places").contains(">fresh<"));
    let stale_only = browse("/ops/copies?sync=visionature&state=stale");
    assert_eq!(rows(&stale_only, "data-copy"), 3, "{stale_only}");
    shots.push(("copies", d.url("/ops/copies")));
    let overview = browse("/ops/");
    assert_eq!(link_href(&overview, "Completeness and lag"), "/ops/copies");

    let shots_dir = out_dir.join("ops");
    std::fs::create_dir_all(&shots_dir).unwrap();
    for (name, url) in shots {
        let png = shots_dir.join(format!("{name}.png"));
        let _ = std::fs::remove_file(&png);
        headless(
            &chromium,
            profile.path(),
            &[
                format!("--screenshot={}", png.display()),
                "--window-size=1400,1100".into(),
            ],
            &url,
        );
        assert_png(&png);
        eprintln!("screenshot: {}", png.display());
    }
}
