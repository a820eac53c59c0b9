//! Unit tests of the AM export modules (no database needed).

use super::condition::{py_str_repr, Condition};
use super::enrich::{extract_date_of_signature, group_classements, standardize_title};
use super::json::{format_py_float, to_py_json};
use super::model::{ArreteMinisteriel, Classement, ClassementState, EnrichedString};
use super::reference::extract_reference;
use super::validate::check_am;

#[test]
fn floats_are_written_like_python_repr() {
    let cases = [
        (7000.0, "7000.0"),
        (0.5, "0.5"),
        (20.0, "20.0"),
        (-1.25, "-1.25"),
        (1e-5, "1e-05"),
        (0.0001, "0.0001"),
        (1e16, "1e+16"),
        (1.5e16, "1.5e+16"),
        (123456789012345.6, "123456789012345.6"),
        (0.1 + 0.2, "0.30000000000000004"),
        (0.0, "0.0"),
    ];
    for (value, expected) in cases {
        assert_eq!(format_py_float(value), expected, "{value}");
    }
}

#[test]
fn json_matches_python_layout() {
    let value: serde_json::Value = serde_json::from_str(
        r#"{"b": [], "a": {"x": 7000.0, "y": 20, "z": "é\"\u0001\n"}, "c": {}}"#,
    )
    .expect("json");
    // serde_json::Value keeps keys sorted (BTreeMap) without `preserve_order`.
    let out = String::from_utf8(to_py_json(&value).expect("ser")).expect("utf8");
    assert_eq!(
        out,
        "{\n  \"a\": {\n    \"x\": 7000.0,\n    \"y\": 20,\n    \"z\": \"é\\\"\\u0001\\n\"\n  },\n  \"b\": [],\n  \"c\": {}\n}"
    );
}

#[test]
fn python_str_repr() {
    assert_eq!(py_str_repr("abc"), "'abc'");
    assert_eq!(py_str_repr("l'eau"), "\"l'eau\"");
    assert_eq!(py_str_repr("a'b\"c"), "'a\\'b\"c'");
    assert_eq!(py_str_repr("a\nb"), "'a\\nb'");
}

fn condition(json: &str) -> Condition {
    serde_json::from_str(json).expect("condition")
}

#[test]
fn sub_conditions_are_deduplicated_and_sorted_by_python_repr() {
    let c = condition(
        r#"{"type": "OR", "conditions": [
            {"type": "RANGE", "parameter": {"id": "quantite-rubrique", "type": "REAL_NUMBER"}, "left": 1, "right": 2, "left_strict": false, "right_strict": true},
            {"type": "GREATER", "parameter": {"id": "quantite-rubrique", "type": "REAL_NUMBER"}, "target": 20, "strict": false},
            {"type": "GREATER", "parameter": {"id": "quantite-rubrique", "type": "REAL_NUMBER"}, "target": 100, "strict": false},
            {"type": "EQUAL", "parameter": {"id": "date-d-autorisation", "type": "DATE"}, "target": "2014-02-01"},
            {"type": "EQUAL", "parameter": {"id": "date-d-autorisation", "type": "DATE"}, "target": "2014-10-01"},
            {"type": "GREATER", "parameter": {"id": "quantite-rubrique", "type": "REAL_NUMBER"}, "target": 20.0, "strict": false},
            {"type": "AND", "conditions": []}
        ]}"#,
    );
    let Condition::Or(subs) = &c else {
        panic!("not OR")
    };
    let kinds: Vec<String> = subs.iter().map(|s| s.py_repr()[..12].to_string()).collect();
    assert_eq!(
        subs.len(),
        6,
        "20 and 20.0 are the same condition: {kinds:?}"
    );
    let json = serde_json::to_value(&c).expect("ser");
    assert_eq!(json["conditions"][0]["type"], "AND");
    // datetime.date(2014, 10, 1) sorts before datetime.date(2014, 2, 1).
    assert_eq!(json["conditions"][1]["target"], "2014-10-01");
    assert_eq!(json["conditions"][2]["target"], "2014-02-01");
    // 100 sorts before 20 (text order); 20 keeps its int type.
    assert_eq!(json["conditions"][3]["target"], 100);
    assert_eq!(json["conditions"][4]["target"], 20);
    assert!(json["conditions"][4]["target"].is_i64());
    assert_eq!(json["conditions"][5]["type"], "RANGE");
}

#[test]
fn invalid_conditions_are_rejected() {
    assert!(serde_json::from_str::<Condition>(r#"{"type": "NOPE"}"#).is_err());
    assert!(serde_json::from_str::<Condition>(
        r#"{"type": "EQUAL", "parameter": {"id": "regime", "type": "REGIME"}, "target": "Z"}"#
    )
    .is_err());
    assert!(serde_json::from_str::<Condition>(
        r#"{"type": "EQUAL", "parameter": {"id": "d", "type": "DATE"}, "target": "2020-13-01"}"#
    )
    .is_err());
}

fn reference(titles: &[&str]) -> (String, String) {
    let titles: Vec<String> = titles.iter().map(|t| t.to_string()).collect();
    let r = extract_reference(&titles);
    (r.nb, r.name)
}

#[test]
fn references_follow_the_original_rules() {
    let s = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(reference(&["Article 1er"]), s("Article 1er", ""));
    assert_eq!(
        reference(&["Chapitre III : Emissions dans l'eau"]),
        s("", "Emissions dans l'eau")
    );
    assert_eq!(
        reference(&[
            "Titre II : Pollutions",
            "Chapitre Ier - Eau",
            "Article 3",
            "II. - Rejets",
            "a) Eaux pluviales"
        ]),
        s("Article 3 > II. a)", "Eaux pluviales")
    );
    assert_eq!(
        reference(&["Annexe I : Méthodes", "1. Définitions.", "1.1. Niveau"]),
        s("Annexe I > 1.1.", "Niveau")
    );
    assert_eq!(
        reference(&["Annexes", "Article Annexe I"]),
        s("Annexe I", "")
    );
    assert_eq!(reference(&["Article\u{a0}34"]), s("Article 34", ""));
    assert_eq!(
        reference(&["Section IV : Émergence"]),
        s("", "E\u{301}mergence")
    );
    assert_eq!(
        reference(&["Article 40 (abrogé)"]),
        s("Article 40", "(abroge\u{301})")
    );
}

#[test]
fn titles_with_spelled_out_dates_are_standardized() {
    assert_eq!(
        standardize_title("Arrêté du 1er juin 2015 relatif à x").unwrap(),
        "Arrêté du 01/06/15 relatif à x"
    );
    assert_eq!(
        standardize_title("Arrêté du 3 août 1998 fixant  y").unwrap(),
        "Arrêté du 03/08/98 fixant y"
    );
    assert_eq!(
        standardize_title("Arrêté du 08/02/16 relatif").unwrap(),
        "Arrêté du 08/02/16 relatif"
    );
    assert_eq!(
        standardize_title("Faux arrêté").unwrap(),
        "Faux arrêté du 10/10/10"
    );
    assert!(standardize_title("Arrêté du 31 février 2015 relatif à x").is_err());
}

#[test]
fn date_of_signature_from_title_uses_the_two_digit_year_pivot() {
    let d = |t: &str| extract_date_of_signature(t).map(|d| d.format("%Y-%m-%d").to_string());
    assert_eq!(d("Arrêté du 08/02/16 relatif à").unwrap(), "2016-02-08");
    assert_eq!(d("Arrêté du 08/02/69 fixant").unwrap(), "1969-02-08");
    assert_eq!(d("Arrêté du 08/02/68").unwrap(), "2068-02-08");
    assert!(d("Arrêté relatif à").is_err());
    assert!(d("Arrêté du 31/02/16").is_err());
}

#[test]
fn classements_are_grouped_in_first_appearance_order() {
    let c = |rubrique: &str, regime: &str, alinea: Option<&str>| Classement {
        alinea: alinea.map(str::to_string),
        regime: regime.into(),
        rubrique: rubrique.into(),
        state: ClassementState::Active,
    };
    let groups = group_classements(&[
        c("1185", "A", Some("A-2")),
        c("2780", "E", None),
        c("1185", "A", None),
        c("1185", "A", Some("B")),
        c("1185", "A", Some("")),
    ]);
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].alineas, vec!["A-2".to_string(), "B".to_string()]);
    assert!(groups[1].alineas.is_empty());
}

#[test]
fn enriched_string_omits_empty_optional_keys_and_drops_legacy_id() {
    let e: EnrichedString = serde_json::from_str(
        r#"{"text": "x", "links": [], "table": null, "inactive": false, "id": "old"}"#,
    )
    .expect("parse");
    assert_eq!(
        String::from_utf8(to_py_json(&e).unwrap()).unwrap(),
        "{\n  \"text\": \"x\"\n}"
    );
    assert!(serde_json::from_str::<EnrichedString>(r#"{"text": "x", "other": 1}"#).is_err());
}

#[test]
fn top_level_unknown_keys_are_dropped() {
    let am: ArreteMinisteriel = serde_json::from_str(
        r#"{"id": "JORFTEXT000000000001", "title": {"text": "t"}, "short_title": "s", "x": 1}"#,
    )
    .expect("parse");
    let out = String::from_utf8(to_py_json(&am).unwrap()).unwrap();
    assert!(!out.contains("short_title"));
    assert!(out.contains("\"orphan_titles\": null"));
}

#[test]
fn validation_rejects_mostly_empty_references() {
    let mut am: ArreteMinisteriel = serde_json::from_str(
        r#"{"id": "JORFTEXT000000000001", "title": {"text": "t"}, "date_of_signature": "2020-01-01",
            "aida_url": "a", "legifrance_url": "l",
            "sections": [{"id": "s", "title": {"text": "Chapitre I"}, "reference": {"nb": "", "name": ""}}]}"#,
    )
    .expect("parse");
    assert!(check_am(&am).unwrap_err().contains("95%"));
    am.sections[0].reference = Some(super::model::Reference {
        nb: "Article 1".into(),
        name: String::new(),
    });
    check_am(&am).expect("valid");
    am.id = Some("LEGITEXT00000000001".into());
    assert!(check_am(&am).unwrap_err().contains("id"));
}
