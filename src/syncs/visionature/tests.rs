//! Unit tests of the visionature sync: body quirks, row preparation, the search window, diff
//! parsing, the projection against PROJ reference points, the Client-API-VN YAML mapping.

use super::config::{TypeDate, VisionatureConfig};
use super::proj::Projector;
use super::remote::extract_json;
use super::run::{next_delta, window_start};
use super::store::prepare;
use chrono::NaiveDate;
use serde_json::json;

#[test]
fn bodies_with_text_around_json_empty_and_html() {
    assert_eq!(extract_json(b"").unwrap(), None);
    assert_eq!(extract_json(b"  \n").unwrap(), None);
    let v = extract_json(b"Notice: undefined index x {\"data\":[1]} trailing").unwrap();
    assert_eq!(v, Some(json!({"data": [1]})));
    assert!(extract_json(b"<html><body>502 Bad Gateway</body></html>").is_err());
    assert!(extract_json(b"<style>a{b}</style>").is_err());
    // Stray text after the body that holds brackets itself.
    let v =
        extract_json(b"<br />\n{\"data\":[{\"id\":\"1\"}]}\n<!-- page {x} in [0.1 s] -->").unwrap();
    assert_eq!(v, Some(json!({"data": [{"id": "1"}]})));
    assert_eq!(
        extract_json(b"[{\"id\":1}]").unwrap(),
        Some(json!([{"id": 1}]))
    );
}

#[test]
fn lambert93_matches_proj_to_the_centimetre() {
    let p = Projector::new(2154).unwrap();
    // Reference values computed with PROJ (pyproj 3.7, EPSG:4326 → EPSG:2154, always_xy).
    for (lon, lat, x, y) in REFERENCE {
        let (px, py) = p.project(*lon, *lat).unwrap();
        assert!(
            (px - x).abs() < 0.01 && (py - y).abs() < 0.01,
            "{lon},{lat}: {px},{py} vs {x},{y}"
        );
    }
    assert!(Projector::new(1).is_err());
}

const REFERENCE: &[(f64, f64, f64, f64)] = &[
    (3.0, 46.5, 700000.0, 6600000.0),
    (2.3522, 48.8566, 652469.0227091359, 6862035.259420079),
    (5.3698, 43.2965, 892390.2215663685, 6247035.256802095),
    (-4.4861, 48.3904, 146632.9785275159, 6836262.326655938),
    (7.75, 48.58, 1050163.943556587, 6841622.71548826),
    (9.45, 42.7, 1228546.0453160065, 6199420.64397506),
];

#[test]
fn sightings_and_forms_become_rows() {
    let p = Projector::new(2154).unwrap();
    let tz: chrono_tz::Tz = "Europe/Paris".parse().unwrap();
    let s = |id: i64, upd: Option<&str>, ts: i64| {
        let mut obs = json!({"@uid": "7", "id_sighting": id.to_string(), "insert_date": 100,
                             "coord_lat": 46.5, "coord_lon": "3.0"});
        if let Some(u) = upd {
            obs["update_date"] = json!(u);
        }
        json!({"date": {"@timestamp": ts.to_string()}, "observers": [obs]})
    };
    let forms = vec![
        json!({"@id": "9", "id_form_universal": "1_9", "lat": 46.5, "lon": 3.0,
        "sightings": [s(2, None, 1_700_000_000), s(3, Some("250"), 1_700_090_000)]}),
    ];
    let out = prepare(
        vec![s(1, Some("200"), 1_700_000_000), json!({"x": 1})],
        forms,
        &p,
        &tz,
    );
    assert_eq!(out.rejected.len(), 1, "{:?}", out.rejected);
    assert_eq!(out.obs.len(), 3);
    assert_eq!(
        (
            out.obs[0].id,
            out.obs[0].update_ts,
            out.obs[0].form.as_deref()
        ),
        (1, 200, None)
    );
    assert_eq!(
        (
            out.obs[1].id,
            out.obs[1].update_ts,
            out.obs[1].form.as_deref()
        ),
        (2, 100, Some("1_9"))
    );
    let item: serde_json::Value = serde_json::from_str(&out.obs[0].item).unwrap();
    assert_eq!(item["observers"][0]["coord_x_local"], json!(700000.0));
    let form: serde_json::Value = serde_json::from_str(&out.forms[0].item).unwrap();
    assert_eq!(out.forms[0].id, 9);
    assert!(form.get("sightings").is_none());
    // 1_700_000_000 = 2023-11-14 23:13 Paris; 1_700_090_000 = 2023-11-16 00:13 Paris.
    assert_eq!(form["date_start"], json!("2023-11-14"));
    assert_eq!(form["date_stop"], json!("2023-11-16"));
    assert_eq!(form["@uid"], json!("7"));
    assert_eq!(form["coord_y_local"], json!(6600000.0));
}

#[test]
fn the_window_is_steered_and_clamped() {
    let cfg = VisionatureConfig::default();
    assert_eq!(next_delta(&cfg, 15.0, 10000), 15.0);
    assert!(next_delta(&cfg, 15.0, 0) > 15.0);
    assert_eq!(next_delta(&cfg, 15.0, 1_000_000), 5.0);
    assert_eq!(next_delta(&cfg, 1990.0, 0), 2000.0);
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    assert_eq!(
        window_start(d("2024-03-01"), 15.0, d("1900-01-01")),
        d("2024-02-15")
    );
    assert_eq!(
        window_start(d("2024-03-01"), 2000.0, d("2024-01-01")),
        d("2024-01-01")
    );
}

#[test]
fn defaults_validate_and_bad_values_are_named() {
    let mut cfg = VisionatureConfig::default();
    cfg.validate().unwrap();
    assert_eq!(cfg.fix_sync.type_date, TypeDate::Entry);
    let refused = |cfg: &VisionatureConfig| cfg.validate().unwrap_err().to_string();
    cfg.site_timezone = "Mars/Olympus".into();
    assert!(refused(&cfg).contains("site_timezone"));
    let mut cfg = VisionatureConfig::default();
    cfg.check_schema = cfg.schema_import.clone();
    assert!(refused(&cfg).contains("check_schema"));
    let mut cfg = VisionatureConfig::default();
    cfg.site
        .push(super::config::SiteConfig::new("ff", "https://x.org"));
    assert!(cfg
        .validate()
        .unwrap_err()
        .to_string()
        .contains("site[0].url"));
}

#[test]
fn client_api_vn_yaml_is_mapped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evn.yaml");
    std::fs::write(
        &path,
        "main:\n  admin_mail: ops@example.org\ncontroler:\n  observations:\n    enabled: true\n    schedule:\n      minute: '*/5'\n\
filter:\n  taxo_exclude:\n    - TAXO_GROUP_BATS\n  territorial_unit_ids:\n    - '07'\n  type_date: entry\n  start_date: 2020-01-01 00:00:00\n\
site:\n  ff:\n    enabled: true\n    site: https://www.faune-france.org\n    user_email: a@b.org\n    user_pw: pw\n    client_key: k\n    client_secret: s\n\
database:\n  enabled: true\n  db_host: localhost\n  db_name: faune\n  db_schema_import: import_vn\n  db_schema_vn: src_vn\n  db_group: g\n  db_user: u\n  db_pw: secret\n  db_secret_key: k\n  db_out_proj: '2154'\n\
tuning:\n  max_list_length: 50\n  max_chunks: 10\n  unavailable_delay: 60\n  pid_setpoint: 5000\n  sched_executors: 2\n",
    )
    .unwrap();
    let (cfg, warnings) = super::compat::load(&path, &VisionatureConfig::default()).unwrap();
    assert_eq!(cfg.site.len(), 1);
    assert_eq!(cfg.site[0].name, "ff");
    assert_eq!(cfg.site[0].url, "https://www.faune-france.org/");
    assert_eq!(cfg.schema_import, "import_vn");
    assert_eq!(cfg.filter.taxo_exclude, vec!["TAXO_GROUP_BATS"]);
    assert_eq!(cfg.filter.start_date, "2020-01-01");
    assert_eq!(cfg.filter.type_date, TypeDate::Entry);
    assert_eq!(cfg.max_list_length, 50);
    assert_eq!(cfg.http.unavailable_delay.as_secs(), 60);
    assert_eq!(cfg.pid.setpoint, 5000.0);
    assert_eq!(cfg.fix_sync.notify_email, vec!["ops@example.org"]);
    assert!(
        warnings.iter().any(|w| w.contains("VN_FF_CLIENT_SECRET")),
        "{warnings:?}"
    );
    std::fs::write(
        &path,
        "site:\n  ff:\n    enabled: true\n    site: https://x.org/\n    colour: red\n",
    )
    .unwrap();
    let e = super::compat::load(&path, &VisionatureConfig::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("site.ff.colour"), "{e}");
}

#[test]
fn client_api_vn_yaml_errors_name_the_key_and_never_a_value() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evn.yaml");
    let load = |yaml: &str| {
        std::fs::write(&path, yaml).unwrap();
        super::compat::load(&path, &VisionatureConfig::default())
    };
    let (cfg, warnings) = load(
        "filter:\n  territorial_unit_ids: ['07', 7, 08]\ndatabase:\n  db_out_proj: '2154'\n\
tuning:\n  max_chunks: '10'\n  pid_ki: '0.5'\n  lru_maxsize: 3\n",
    )
    .unwrap();
    assert_eq!(cfg.filter.territorial_unit_ids, vec!["07", "7", "08"]);
    assert_eq!((cfg.max_chunks, cfg.pid.ki, cfg.out_proj), (10, 0.5, 2154));
    assert!(warnings.iter().any(|w| w.contains("tuning.lru_maxsize")));
    for (yaml, key) in [
        (
            "controler:\n  observations:\n    foo: hunter2\n",
            "(controler.observations.foo)",
        ),
        (
            "site:\n  ff:\n    site: https://x.org\n    pasword: hunter2\n",
            "(site.ff.pasword)",
        ),
        ("site:\n  ff: hunter2\n", "(site.ff)"),
        (
            "filter:\n  taxo_exclude: hunter2\n",
            "(filter.taxo_exclude)",
        ),
        ("tuning:\n", "(tuning)"),
        ("tuning:\n  max_retry: hunter2\n", "(tuning.max_retry)"),
        ("filter:\n  json_format: long\n", "(filter.json_format)"),
        ("filter:\n  end_date: 2024-01-01\n", "(filter.end_date)"),
        ("filter:\n  type_date: hunter2\n", "(filter.type_date)"),
        ("file:\n  enabled: true\n", "(file.enabled)"),
        ("hunter2: 1\n", "(hunter2)"),
    ] {
        let e = load(yaml).unwrap_err().to_string();
        assert!(e.contains(key), "{yaml}: {e}");
        assert!(
            !e.contains("hunter2") || key.contains("hunter2"),
            "{yaml}: {e}"
        );
    }
}

#[test]
fn client_api_vn_yaml_disabled_controllers_are_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evn.yaml");
    let load = |yaml: &str| {
        std::fs::write(&path, yaml).unwrap();
        super::compat::load(&path, &VisionatureConfig::default())
    };
    let (cfg, _) = load(
        "controler:\n  observers:\n    enabled: false\n  places:\n    enabled: no\n  species:\n    enabled: true\n\
site:\n  ff:\n    site: https://www.faune-france.org/\n  fi:\n    site: https://www.faune-isere.org/\n",
    )
    .unwrap();
    for site in &cfg.site {
        assert!(!site.downloads("observers") && !site.downloads("places"));
        assert!(site.downloads("species") && site.downloads("observations"));
        assert!(
            site.downloads("taxo_groups"),
            "absent from the file: enabled"
        );
        let hint = site.how_to_disable("validations");
        assert!(
            hint.contains("controler.validations.enabled: false") && hint.contains("evn.yaml"),
            "{hint}"
        );
    }
    // Another name: YAML by content (it does not parse as TOML).
    let conf = dir.path().join("evn.conf");
    std::fs::write(&conf, "controler:\n  observers:\n    enabled: false\n").unwrap();
    let mut base = VisionatureConfig::default();
    base.site
        .push(super::config::SiteConfig::new("ff", "https://x.org/"));
    let (cfg, _) = super::compat::load(&conf, &base).unwrap();
    assert!(
        !cfg.site[0].downloads("observers"),
        "applies to the sites of [visionature]"
    );
    let e = load("controler:\n  sightings:\n    enabled: false\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("(controler.sightings)"), "{e}");
}

#[test]
fn site_controllers_default_to_all_and_unknown_ones_are_refused() {
    let ff = super::config::SiteConfig::new("ff", "https://x.org/");
    assert_eq!(ff.controllers.len(), super::config::CONTROLLERS.len());
    let hint = ff.how_to_disable("observers");
    assert!(hint.contains("visionature.site.controllers"), "{hint}");
    let cfg: VisionatureConfig = toml::from_str(
        "[[site]]\nname = \"ff\"\nurl = \"https://x.org/\"\ncontrollers = [\"taxo_groups\", \"observations\"]\n",
    )
    .unwrap();
    cfg.validate().unwrap();
    assert!(!cfg.site[0].downloads("observers"));
    let mut bad = cfg.clone();
    bad.site[0].controllers.push("sightings".into());
    let e = bad.validate().unwrap_err().to_string();
    assert!(
        e.contains("site[0].controllers") && e.contains("sightings"),
        "{e}"
    );
}

/// A Client-API-VN 3.x file in the shape of upstream's template (one site, `[controler.*]`
/// tables with schedules, `[filter.taxo_download]`, native TOML dates, credentials in `[site]`).
const VN3: &str = r#"# transfer_vn 3.x, one site
[controler]
[controler.entities]
enabled = true
[controler.entities.schedule]
day_of_week = 4
hour = 22
[controler.observations]
enabled = true
[controler.observations.schedule]
hour = "*"
minute = 0
[controler.observers]
enabled = false
[controler.observers.schedule]
hour = 6
[controler.local_admin_units]
enabled = false

[filter]
territorial_unit_ids = ["07", "26"]
start_date = 2019-08-01
type_date = "entry"
json_format = "short"
[filter.taxo_download]
TAXO_GROUP_BIRD = true
TAXO_GROUP_BAT = false
TAXO_GROUP_FUNGI = false

[site]
name = "fa"
enabled = true
site_url = "https://www.faune-ardeche.org"
user_email = "someone@example.org"
user_pw = "pw-in-file"
client_key = "0123456789abcdef0123"
client_secret = "secret-in-file"

[file]
enabled = false
file_store = "VN_files"

[database]
enabled = true
db_host = "localhost"
db_port = 5432
db_name = "faune"
db_schema_import = "import_vn"
db_schema_vn = "src_vn"
db_group = "grp"
db_user = "xfer"
db_pw = "db-pw-in-file"
db_out_proj = 2154

[tuning]
max_list_length = 50
max_chunks = 500
max_retry = 3
max_requests = 0
retry_delay = 2
unavailable_delay = 60
lru_maxsize = 32
pid_kp = 0.0
pid_ki = 0.004
pid_kd = 0.0
pid_setpoint = 8000
pid_limit_min = 5
pid_limit_max = 1000
pid_delta_days = 10
sched_executors = 2
sched_sqllite_file = "jobstore.sqlite"
"#;

#[test]
fn client_api_vn_3_toml_is_mapped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evn_fa.toml");
    std::fs::write(&path, VN3).unwrap();
    let (cfg, warnings) = super::compat::load(&path, &VisionatureConfig::default()).unwrap();
    assert_eq!(cfg.site.len(), 1);
    let site = &cfg.site[0];
    assert_eq!(
        (site.name.as_str(), site.url.as_str()),
        ("fa", "https://www.faune-ardeche.org/")
    );
    assert!(!site.downloads("observers") && !site.downloads("local_admin_units"));
    assert!(site.downloads("observations") && site.downloads("places"));
    let hint = site.how_to_disable("places");
    assert!(
        hint.contains("[controler.places]") && hint.contains("evn_fa.toml"),
        "{hint}"
    );
    assert_eq!(cfg.filter.territorial_unit_ids, vec!["07", "26"]);
    assert_eq!(
        cfg.filter.taxo_exclude,
        vec!["TAXO_GROUP_BAT", "TAXO_GROUP_FUNGI"]
    );
    assert_eq!(cfg.filter.start_date, "2019-08-01");
    assert_eq!(cfg.filter.type_date, TypeDate::Entry);
    assert_eq!(cfg.schema_import, "import_vn");
    assert_eq!((cfg.max_list_length, cfg.max_chunks), (50, 500));
    assert_eq!(cfg.http.retries, 3);
    assert_eq!(cfg.http.retry_delay.as_secs(), 2);
    assert_eq!(cfg.http.unavailable_delay.as_secs(), 60);
    assert_eq!((cfg.pid.ki, cfg.pid.setpoint), (0.004, 8000.0));
    assert_eq!((cfg.pid.limit_max, cfg.pid.delta_days), (1000.0, 10));
    let all = warnings.join("\n");
    assert!(all.contains("VN_FA_USER_PW"), "{all}");
    assert!(all.contains("VISIONATURE_DATABASE_URL"), "{all}");
    assert!(all.contains("tuning.sched_sqllite_file"), "{all}");
    assert!(all.contains("schedule"), "{all}");
    assert!(!all.contains("in-file"), "{all}");
    // Detected by content too (no .toml extension); the YAML reader is not tried.
    let other = dir.path().join("evn_fa.conf");
    std::fs::write(&other, VN3).unwrap();
    let (again, _) = super::compat::load(&other, &VisionatureConfig::default()).unwrap();
    assert_eq!(again.site[0].name, "fa");
}

#[test]
fn client_api_vn_3_toml_errors_name_the_key_and_never_a_value() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evn.toml");
    let load = |text: &str| {
        std::fs::write(&path, text).unwrap();
        super::compat::load(&path, &VisionatureConfig::default())
    };
    for (text, key) in [
        (
            "[site]\nname = \"ff\"\nsite_url = \"https://x.org/\"\npasword = \"hunter2\"\n",
            "(site.pasword)",
        ),
        (
            "[controler.observers]\nenabled = false\nfoo = \"hunter2\"\n",
            "(controler.observers.foo)",
        ),
        (
            "[controler.sightings]\nenabled = false\n",
            "(controler.sightings)",
        ),
        (
            "[controler.observers.schedule]\nfortnight = 2\n",
            "(controler.observers.schedule.fortnight)",
        ),
        ("[tuning]\nmax_retry = \"hunter2\"\n", "(tuning.max_retry)"),
        ("[tuning]\nmax_ret = 3\n", "(tuning.max_ret)"),
        ("[filter]\njson_format = \"long\"\n", "(filter.json_format)"),
        ("[filter]\nend_date = 2024-01-01\n", "(filter.end_date)"),
        ("[filter]\ntype_date = \"hunter2\"\n", "(filter.type_date)"),
        (
            "[filter]\ntaxo_download = \"hunter2\"\n",
            "(filter.taxo_download)",
        ),
        ("[file]\nenabled = true\n", "(file.enabled)"),
        ("[site]\nsite_url = \"https://x.org/\"\n", "(site.name)"),
        ("site = \"hunter2\"\n", "(site)"),
        ("[hunter2]\nx = 1\n", "(hunter2)"),
    ] {
        let e = load(text).unwrap_err().to_string();
        assert!(e.contains(key), "{text}: {e}");
        assert!(
            !e.contains("hunter2") || key.contains("hunter2"),
            "{text}: {e}"
        );
    }
    // A syntax error names the line, never the text on it.
    let e = load("[site]\nname = \"ff\"\nuser_pw = \"hunter2\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 3") && !e.contains("hunter2"), "{e}");
    // The unknown key is reported before a refused value.
    let e = load("[filter]\njson_format = \"long\"\n[tuning]\nmax_ret = 3\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("(tuning.max_ret)"), "{e}");
}
