//! Unit tests of the gn2pg sync: names, configuration, item parsing. The protocol, the database
//! and the differential tests live in `tests/gn2pg*.rs` (a fake GeoNature and a real PostgreSQL).

use super::config::{std_name, Gn2pgConfig, QueryValue, SourceConfig};
use super::page::{parse, parse_uuid, Level};
use super::remote::ExportPage;
use super::run::python_dumps;

#[test]
fn std_names_match_gn2pg_client_byte_for_byte() {
    // Produced by gn2pg.utils.simplify of gn2pg-client 1.10.1.
    let cases = [
        ("LPO Auvergne-Rhône-Alpes", "lpo_auvergnerhonealpes"),
        ("  Flavia   ADE ", "flavia_ade"),
        ("Source1", "source1"),
        ("A~B", "a_b"),
        ("Ça & Là (test) [x] {y} |z|", "ca__la_test_x_y_z"),
        ("Ŷ ÿ É È Ê Ë Î Ï Ô Ö Ù Û Ü", "y_y_e_e_e_e_i_i_o_o_u_u_u"),
        ("£100% §3.5? !;:<>", "100_35_"),
        ("a\u{1c}b\tc\u{a0}d\u{2003}e", "a_b_c_d_e"),
        ("Straße", "straße"),
        ("ΣΑΣ ΟΔΟΣ", "σας_οδος"),
        ("İstanbul", "i\u{307}stanbul"),
        ("back\\slash/fwd+eq=st*ar°$", "backslashfwdeqstar"),
        ("x`^y", "xy"),
        ("mixed-CASE_name 42", "mixedcase_name_42"),
    ];
    for (name, want) in cases {
        assert_eq!(std_name(name), want, "{name:?}");
    }
}

fn source(name: &str) -> SourceConfig {
    SourceConfig {
        name: name.into(),
        url: "https://geonature.example.org/".into(),
        data_export_id: Some(12),
        export_id: None,
        metadata_export_id: None,
        user_name: "gn2pg".into(),
        data_type: "synthese_with_cd_nomenclature".into(),
        enable: true,
        query_strings: Default::default(),
    }
}

#[test]
fn password_variables_use_the_upper_cased_std_name() {
    assert_eq!(
        source("LPO Auvergne-Rhône-Alpes").password_var(),
        "GN2PG_LPO_AUVERGNERHONEALPES_PASSWORD"
    );
    assert_eq!(source("x").api_url(), "https://geonature.example.org/api/");
    let mut s = source("x");
    s.url = "https://gn.example.org/geonature".into();
    assert_eq!(s.api_url(), "https://gn.example.org/geonature/api/");
}

fn cfg(sources: Vec<SourceConfig>) -> Gn2pgConfig {
    Gn2pgConfig {
        sources,
        ..Gn2pgConfig::default()
    }
}

#[test]
fn configuration_errors_name_the_key() {
    assert!(cfg(vec![source("a"), source("b")]).validate().is_ok());
    // "LPO-AuRA" → "lpoaura" and "lpo aura" → "lpo_aura" are distinct; "lpoaura" is not.
    assert!(cfg(vec![source("LPO-AuRA"), source("lpo aura")])
        .validate()
        .is_ok());
    let e = cfg(vec![source("LPO-AuRA"), source("lpoaura")])
        .validate()
        .unwrap_err()
        .to_string();
    assert!(e.contains("source[1].name") && e.contains("lpoaura"), "{e}");

    let mut s = source("a");
    s.query_strings
        .insert("filter_n_up_id_synthese".into(), QueryValue::Integer(5));
    let e = cfg(vec![s]).validate().unwrap_err().to_string();
    assert!(e.contains("query_strings.filter_n_up_id_synthese"), "{e}");

    let mut s = source("a");
    s.query_strings
        .insert("orderby".into(), QueryValue::Text("id_synthese".into()));
    s.query_strings.insert(
        "ilike_observateurs".into(),
        QueryValue::Text("%lpo%".into()),
    );
    let warnings = cfg(vec![s.clone()]).check().unwrap();
    assert!(
        warnings.iter().any(|w| w.contains("orderby")),
        "{warnings:?}"
    );
    assert_eq!(
        s.filters(),
        vec![("ilike_observateurs".to_string(), "%lpo%".to_string())]
    );

    let mut s = source("a");
    s.query_strings
        .insert("orderby".into(), QueryValue::Text("date_min".into()));
    assert!(cfg(vec![s]).validate().is_err());

    let mut s = source("a");
    s.export_id = Some(13);
    let e = cfg(vec![s]).validate().unwrap_err().to_string();
    assert!(e.contains("must be equal"), "{e}");

    for kind in ["metadata_only", "synthese_with_metadata_separated"] {
        let mut s = source("a");
        s.data_type = kind.into();
        let e = cfg(vec![s.clone()]).validate().unwrap_err().to_string();
        assert!(e.contains("metadata_export_id is required"), "{e}");
        s.metadata_export_id = Some(13);
        assert!(cfg(vec![s.clone()]).validate().is_ok(), "{kind}");
        assert!(s.separated_metadata());
        assert_eq!(s.metadata_only(), kind == "metadata_only");
    }
    let mut s = source("a");
    s.data_type = "metadata_only".into();
    s.metadata_export_id = Some(13);
    s.data_export_id = None;
    assert!(
        cfg(vec![s]).validate().is_ok(),
        "metadata_only needs no data export"
    );
    let mut s = source("a");
    s.data_export_id = None;
    let e = cfg(vec![s]).validate().unwrap_err().to_string();
    assert!(e.contains("data_export_id is required"), "{e}");

    let mut s = source("a");
    s.data_type = "Synthese_With_Label".into();
    assert!(cfg(vec![s.clone()]).validate().is_ok());
    assert_eq!(s.kind(), "synthese_with_label");

    let bad = Gn2pgConfig {
        schema: "Bad;Schema".into(),
        ..Gn2pgConfig::default()
    };
    assert!(bad
        .validate()
        .unwrap_err()
        .to_string()
        .contains("gn2pg.schema"));
}

#[test]
fn the_section_parses_with_defaults_and_durations() {
    let text = r#"
        schema = "gn2pg_lpo"
        since_overlap = "5m"
        paging = "offset"
        [http]
        retry_delay = "250ms"
        [[source]]
        name = "LPO AuRA"
        url = "https://geonature.example.org/"
        export_id = 12
        user_name = "gn2pg"
        [source.query_strings]
        ilike_observateurs = "%lpo%"
        cd_nom = 3764
    "#;
    let c: Gn2pgConfig = toml::from_str(text).unwrap();
    assert_eq!(c.since_overlap.as_secs(), 300);
    assert_eq!(c.http.retry_delay.as_millis(), 250);
    assert_eq!(c.paging, super::config::Paging::Offset);
    assert_eq!(c.sources[0].export(), Some(12));
    assert_eq!(c.page_size, 1000);
    assert_eq!(c.sources[0].filters().len(), 2);
    assert!(toml::from_str::<Gn2pgConfig>("pagesize = 3").is_err());
}

#[test]
fn uuids_parse_as_postgresql_does() {
    let want = parse_uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").unwrap();
    for ok in [
        "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
        "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
        "a0eebc999c0b4ef8bb6d6bb9bd380a11",
        "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11",
        "{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}",
    ] {
        assert_eq!(parse_uuid(ok), Some(want), "{ok}");
    }
    assert_eq!(want[0], 0xa0);
    assert_eq!(want[15], 0x11);
    for bad in [
        "",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111",
        "a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11",
        "-a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-",
        "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
    ] {
        assert_eq!(parse_uuid(bad), None, "{bad}");
    }
}

fn page_of(items: &[&str]) -> ExportPage {
    let body = format!(
        "{{\"total\":{n},\"limit\":1000,\"items\":[{}]}}",
        items.join(","),
        n = items.len()
    );
    let mut ranges = Vec::new();
    let mut pos = body.find('[').unwrap() + 1;
    for it in items {
        ranges.push(pos..pos + it.len());
        pos += it.len() + 1;
    }
    ExportPage {
        body: bytes::Bytes::from(body),
        items: ranges,
        limit: 1000,
        total: Some(items.len() as u64),
        total_filtered: None,
        last_id: None,
    }
}

const U1: &str = "6f1d2c3b-0000-4000-8000-000000000001";
const CA: &str = "ca000000-0000-4000-8000-000000000001";
const JDD: &str = "dd000000-0000-4000-8000-000000000001";

#[test]
fn plain_items_pass_through_and_metadata_moves_out() {
    let plain = format!(r#"{{"id_synthese":812,"id_perm_sinp":"{U1}","cd_nom":3764}}"#);
    let nulls = r#"{"id_synthese":813,"id_perm_sinp":null,"ca_data":null,"jdd_data":null}"#;
    let meta = format!(
        r#"{{"id_synthese":814,"id_perm_sinp":null,"ca_data":{{"uuid":"{CA}","name":"CA"}},"jdd_data":{{"uuid":"{JDD}","name":"JDD"}}}}"#
    );
    let jdd_only = format!(
        r#"{{"id_synthese":815,"ca_data":null,"jdd_data":{{"uuid":"{JDD}","name":"JDD"}}}}"#
    );
    let p = parse(&page_of(&[&plain, nulls, &meta, &jdd_only]));
    assert!(p.bad.is_empty(), "{:?}", p.bad);
    assert_eq!(p.rows.len(), 4);
    assert_eq!(p.rows[0].item, plain);
    assert_eq!(p.rows[0].uuid, parse_uuid(U1));
    assert_eq!(p.rows[1].item, nulls);
    assert_eq!(p.rows[1].uuid, None);
    let v: serde_json::Value = serde_json::from_str(&p.rows[2].item).unwrap();
    assert_eq!(v["ca_uuid"], CA);
    assert_eq!(v["jdd_uuid"], JDD);
    assert!(v.get("ca_data").is_none() && v.get("jdd_data").is_none());
    let v: serde_json::Value = serde_json::from_str(&p.rows[3].item).unwrap();
    assert_eq!(v["jdd_uuid"], JDD);
    assert!(v.get("ca_uuid").is_none());
    assert_eq!(v["ca_data"], serde_json::Value::Null);
    assert_eq!(p.metas.len(), 3);
    assert_eq!(p.metas[0].level, Level::Framework);
    let jdd: serde_json::Value = serde_json::from_str(&p.metas[1].item).unwrap();
    assert_eq!(jdd["ca_uuid"], CA);
    assert_eq!(jdd["name"], "JDD");
    let jdd_alone: serde_json::Value = serde_json::from_str(&p.metas[2].item).unwrap();
    assert!(jdd_alone.get("ca_uuid").is_none());
    assert_eq!((p.first_id, p.last_id), (Some(812), Some(815)));
    assert!(p.disorder.is_none());
}

#[test]
fn unstorable_items_become_bad_rows_and_disorder_is_seen() {
    let items = [
        r#"{"id_synthese":"x","id_perm_sinp":null}"#,
        r#"{"id_synthese":10,"id_perm_sinp":"not-a-uuid"}"#,
        r#"{"id_synthese":9999999999,"id_perm_sinp":null}"#,
        r#"{"id_synthese":5}"#,
        r#"[1,2]"#,
    ];
    let p = parse(&page_of(&items));
    assert_eq!(p.rows.len(), 1);
    assert_eq!(p.bad.len(), 4);
    assert!(p.bad[0].error.contains("not an integer"), "{:?}", p.bad[0]);
    assert!(p.bad[1].error.contains("not a UUID"), "{:?}", p.bad[1]);
    assert!(p.bad[2].error.contains("does not fit"), "{:?}", p.bad[2]);
    assert!(p.disorder.as_deref().unwrap().contains("follows"));
}

#[test]
fn xfer_filters_text_is_pythons_json_dumps() {
    let pairs = vec![
        (
            "ilike_observateurs".to_string(),
            serde_json::json!("%Éric%"),
        ),
        ("orderby".to_string(), serde_json::json!("id_synthese")),
        ("limit".to_string(), serde_json::json!(1000)),
    ];
    assert_eq!(
        python_dumps(&pairs),
        r#"{"ilike_observateurs": "%\u00c9ric%", "orderby": "id_synthese", "limit": 1000}"#
    );
}

#[test]
fn a_gn2pg_client_file_maps_onto_the_section() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lpo.toml");
    std::fs::write(
        &path,
        r#"
[db]
db_host = "localhost"
db_port = 5432
db_user = "gn"
db_password = "s3cret-db-pw"
db_name = "sinp"
db_schema_import = "gn2pg_lpo"
    [db.db_querystring]
    sslmode = "prefer"

[[source]]
name = "LPO Auvergne-Rhône-Alpes"
user_name = "u"
user_password = "s3cret-src-pw"
url = "https://gn.example.org/"
data_export_id = 1
data_type = "synthese_with_metadata"
id_application = 3
[source.query_strings]
orderby = 'id_synthese'

[tuning]
max_page_length = 500
max_retry = 3
max_requests = 0
retry_delay = 1
http_connect_timeout = 7
http_read_timeout = 60
unavailable_delay = 600
lru_maxsize = 32
nb_threads = 2
"#,
    )
    .unwrap();
    let mut c = Gn2pgConfig::default();
    let l = super::compat::apply(&path, &mut c).unwrap();
    assert_eq!(c.schema, "gn2pg_lpo");
    assert_eq!(c.page_size, 500);
    assert_eq!(c.http.retries, 3);
    assert_eq!(c.http.timeout.as_secs(), 60);
    assert_eq!(c.http.connect_timeout.as_secs(), 7);
    assert_eq!(c.sources[0].std_name(), "lpo_auvergnerhonealpes");
    assert!(c.check().is_ok());
    assert!(l.passwords.contains_key("lpo_auvergnerhonealpes"));
    let url = l.database.unwrap();
    assert!(url
        .expose()
        .starts_with("postgresql://gn:s3cret-db-pw@localhost:5432/sinp?sslmode=prefer"));
    assert!(l.warnings.iter().any(|w| w.contains("db_password")));
    assert!(l.warnings.iter().any(|w| w.contains("lru_maxsize")));
    assert!(!format!("{:?}", l.warnings).contains("s3cret"));

    std::fs::write(
        &path,
        "[[source]]\nname='a'\nuser_name='u'\nurl='https://x.org/'\ndata_export_id=1\nlast_action_date='2024-01-01'\n",
    )
    .unwrap();
    let e = super::compat::apply(&path, &mut Gn2pgConfig::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("last_action_date") && e.contains("not supported"),
        "{e}"
    );
    std::fs::write(&path, "[tuning]\nmax_requests = 10\n").unwrap();
    assert!(super::compat::apply(&path, &mut Gn2pgConfig::default()).is_err());
    std::fs::write(&path, "[tuning]\nmystery = 10\n").unwrap();
    let e = super::compat::apply(&path, &mut Gn2pgConfig::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("mystery"), "{e}");
}

#[test]
fn metadata_export_items_split_into_frameworks_and_datasets() {
    let ca = "11111111-1111-1111-1111-111111111111";
    let ds = "22222222-2222-2222-2222-222222222222";
    let page = page_of(&[
        &format!(
            r#"{{"uuid":"{ca}","acquisition_framework_name":"CA","n":1.10,"datasets":[{{"uuid":"{ds}","dataset_name":"JDD","ca_uuid":"stale"}},{{"dataset_name":"no uuid"}}]}}"#
        ),
        r#"{"uuid":"33333333-3333-3333-3333-333333333333","datasets":null}"#,
        r#"{"acquisition_framework_name":"no uuid","datasets":[]}"#,
    ]);
    let p = super::metadata::parse(&page);
    assert_eq!(p.items, 3);
    assert!(p.rows.is_empty());
    let levels: Vec<Level> = p.metas.iter().map(|m| m.level).collect();
    assert_eq!(levels, [Level::Framework, Level::Dataset, Level::Framework]);
    let framework: serde_json::Value = serde_json::from_str(&p.metas[0].item).unwrap();
    assert_eq!(
        framework,
        serde_json::json!({"uuid": ca, "acquisition_framework_name": "CA", "n": 1.10})
    );
    let dataset: serde_json::Value = serde_json::from_str(&p.metas[1].item).unwrap();
    assert_eq!(
        dataset,
        serde_json::json!({"uuid": ds, "dataset_name": "JDD", "ca_uuid": ca})
    );
    assert_eq!(p.bad.len(), 2);
    assert!(p.bad.iter().all(|b| b.controler == "metadata"));
}

#[test]
fn since_accepts_a_date_or_a_date_and_time() {
    use super::run::parse_since;
    assert_eq!(
        parse_since("2024-06-01").as_deref(),
        Some("2024-06-01 00:00:00")
    );
    assert_eq!(
        parse_since(" 2024-06-01 14:30 ").as_deref(),
        Some("2024-06-01 14:30:00")
    );
    assert_eq!(
        parse_since("2024-06-01T14:30:05").as_deref(),
        Some("2024-06-01 14:30:05")
    );
    for bad in [
        "01/06/2024",
        "2024-13-01",
        "2024-06-01 25:00",
        "yesterday",
        "",
    ] {
        assert_eq!(parse_since(bad), None, "{bad}");
    }
}

#[test]
fn the_to_gnsynthese_keyword_resolves_in_the_scripts_folder() {
    use super::schema::{resolve_script, SchemaError};
    let dir = tempfile::tempdir().unwrap();
    let path = std::path::Path::new("/some/where/triggers.sql");
    assert_eq!(resolve_script(path, Some(dir.path())).unwrap(), path);
    let kw = std::path::Path::new("to_gnsynthese");
    match resolve_script(kw, Some(dir.path())) {
        Err(e @ SchemaError::ScriptNotInstalled { .. }) => {
            let text = e.to_string();
            assert!(text.contains(&dir.path().join("to_gnsynthese.sql").display().to_string()));
            assert!(text.contains("scripts/install-deps.sh"), "{text}");
        }
        other => panic!("{other:?}"),
    }
    std::fs::write(dir.path().join("to_gnsynthese.sql"), "SELECT 1;").unwrap();
    assert_eq!(
        resolve_script(kw, Some(dir.path())).unwrap(),
        dir.path().join("to_gnsynthese.sql")
    );
}
