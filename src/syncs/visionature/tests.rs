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
    cfg.site.push(super::config::SiteConfig {
        name: "ff".into(),
        url: "https://x.org".into(),
    });
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
