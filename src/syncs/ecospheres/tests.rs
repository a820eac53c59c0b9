//! Unit tests of the ecospheres sync: JSON-LD handling, the column recipe of
//! docs/syncs/ecospheres.md §3, dates, paging helpers, de-duplication, the spill file and the
//! configuration.

use serde_json::json;

use super::collect::{CollectError, Collector};
use super::columns::{self, Note, Row};
use super::compat::{database_url, resolve_source, s3_settings};
use super::config::{EcospheresConfig, OnBadPage};
use super::dates;
use super::jsonld::{self, kind, Graph, PageError, Pred, Term};
use super::pipeline::{self, Page, PageFailure};
use super::remote::{self, SourceUrl};
use super::store::Spill;
use super::*;
use crate::secrets::Env;
use crate::settings::HttpConfig;
use crate::storage::config::S3Credentials;

const DS: &str = "http://example.org/ds/1";

fn context() -> serde_json::Value {
    json!({
        "dcat": "http://www.w3.org/ns/dcat#",
        "dcterms": "http://purl.org/dc/terms/",
        "foaf": "http://xmlns.com/foaf/0.1/",
        "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
        "xsd": "http://www.w3.org/2001/XMLSchema#"
    })
}

/// A page holding `nodes` (the first is expected to be the dataset).
fn page(nodes: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"@context": context(), "@graph": nodes})).unwrap()
}

/// The row of dataset `DS` on a page of `nodes`.
fn row_of(nodes: serde_json::Value) -> (Row, Vec<Note>) {
    let data = pipeline::process(&page(nodes)).unwrap();
    let c = data
        .datasets
        .into_iter()
        .find(|c| c.row.dataset == DS)
        .expect("the dataset");
    (c.row, c.notes)
}

fn dataset(extra: serde_json::Value) -> serde_json::Value {
    let mut d = json!({"@id": DS, "@type": "dcat:Dataset", "dcterms:title": {"@language": "fr", "@value": "Titre"}});
    for (k, v) in extra.as_object().unwrap() {
        d[k] = v.clone();
    }
    d
}

#[test]
fn keys_are_compact_full_iris_terms_or_well_known_prefixes() {
    let doc = serde_json::to_vec(&json!({
        "@context": {"dct": "http://purl.org/dc/terms/", "titre": "dct:title",
                     "themes": {"@id": "http://www.w3.org/ns/dcat#theme", "@type": "@id"},
                     "@vocab": "http://purl.org/dc/terms/"},
        "@graph": [
            {"@id": "http://example.org/ds/a", "@type": "http://www.w3.org/ns/dcat#Dataset", "titre": "A",
             "themes": ["http://t/1", "http://t/1", "http://t/2"]},
            {"@id": "http://example.org/ds/b", "rdf:type": {"@id": "dcat:Dataset"},
             "http://purl.org/dc/terms/title": "B", "description": "from @vocab"},
            {"@id": "http://example.org/ds/c", "@type": ["dcat:Dataset", "dcat:DatasetSeries"], "dcterms:title": "C"}
        ]
    }))
    .unwrap();
    let data = pipeline::process(&doc).unwrap();
    let rows: Vec<&Row> = data.datasets.iter().map(|c| &c.row).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].title.as_deref(), Some("A"));
    assert_eq!(rows[0].themes.as_deref(), Some("{http://t/1, http://t/2}"));
    assert_eq!(rows[1].title.as_deref(), Some("B"));
    assert_eq!(rows[1].description.as_deref(), Some("from @vocab"));
    // `dcterms:` is not in this context: the well-known namespace applies.
    assert_eq!(rows[2].title.as_deref(), Some("C"));
    assert_eq!(data.series, 1);
}

#[test]
fn nodes_with_one_id_are_merged_and_embedded_nodes_are_followed() {
    let (row, _) = row_of(json!([
        dataset(json!({"dcat:contactPoint": {"vcard:hasEmail": {"@id": "https://h/dcat/catalog/a@b.fr"}},
                       "foaf:isPrimaryTopicOf": {"@id": "_:rec"}})),
        {"@id": "_:rec", "dcat:inCatalog": {"@id": "_:cat"}},
        {"@id": "_:cat", "dcterms:title": "Cat"},
        {"@id": DS, "dcterms:description": "second fragment"}
    ]));
    assert_eq!(row.contact_point.as_deref(), Some("a@b.fr"));
    assert_eq!(row.catalog.as_deref(), Some("Cat"));
    assert_eq!(row.description.as_deref(), Some("second fragment"));
}

#[test]
fn pages_that_are_not_json_ld_are_refused_with_their_position() {
    assert!(matches!(
        jsonld::parse(b"  <html><body>502 Bad Gateway</body></html>"),
        Err(PageError::Html { snippet }) if snippet.contains("502 Bad Gateway")
    ));
    let cut = &page(json!([dataset(json!({}))]))[..40];
    assert!(matches!(
        jsonld::parse(cut),
        Err(PageError::Truncated { .. })
    ));
    assert!(matches!(
        jsonld::parse(b"{\"@graph\": [} "),
        Err(PageError::Invalid { line: 1, .. })
    ));
    assert_eq!(jsonld::parse(b" \n"), Err(PageError::Empty));
    assert!(matches!(jsonld::parse(b"42"), Err(PageError::NotJsonLd(_))));
    // A byte-order mark is fine.
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend(page(json!([dataset(json!({}))])));
    assert_eq!(pipeline::process(&bom).unwrap().datasets.len(), 1);
}

#[test]
fn value_forms_become_terms() {
    let doc = serde_json::to_vec(&json!({
        "@context": {"dct": "http://purl.org/dc/terms/", "@language": "fr"},
        "@id": DS, "@type": "http://www.w3.org/ns/dcat#Dataset",
        "dct:title": [{"@value": "en", "@language": "en"}, "défaut fr", {"@list": [{"@value": 3}]}],
        "dct:spatial": [{"@id": "_:b0"}, {"@id": "http://id.insee.fr/geo/commune/74079"}, null]
    }))
    .unwrap();
    let parsed = jsonld::parse(&doc).unwrap();
    let g = Graph::build(&parsed).unwrap();
    let node = g.nodes.iter().find(|n| n.is(kind::DATASET)).unwrap();
    let titles: Vec<&Term> = g.values(node, Pred::Title).collect();
    assert_eq!(titles.len(), 3);
    assert!(matches!(
        titles[1],
        Term::Literal {
            lang: Some("fr"),
            ..
        }
    ));
    assert_eq!(titles[2].text(), Some("3"));
    let spatial: Vec<&Term> = g.values(node, Pred::Spatial).collect();
    assert!(spatial[0].is_blank());
    assert_eq!(
        spatial[1].text(),
        Some("http://id.insee.fr/geo/commune/74079")
    );
    assert_eq!(spatial.len(), 2);
}

#[test]
fn remote_contexts_are_reported_not_fetched() {
    let doc = br#"{"@context": ["https://ctx.example/x.jsonld", {"dct": "http://purl.org/dc/terms/"}],
                   "@graph": [{"@id": "http://example.org/ds/1", "@type": "http://www.w3.org/ns/dcat#Dataset", "dct:title": "T"}]}"#;
    let data = pipeline::process(doc).unwrap();
    assert_eq!(data.remote_contexts, ["https://ctx.example/x.jsonld"]);
    assert_eq!(data.datasets[0].row.title.as_deref(), Some("T"));
}

#[test]
fn title_is_the_fr_literal_else_the_first_and_empty_is_null() {
    let (row, notes) = row_of(json!([dataset(json!({
        "dcterms:title": [{"@language": "en", "@value": "Noise"}, {"@language": "fr", "@value": "Bruit"}],
        "dcterms:description": [{"@language": "de", "@value": ""}, {"@language": "en", "@value": "first"}, "plain"]
    }))]));
    assert_eq!(row.title.as_deref(), Some("Bruit"));
    assert_eq!(row.description.as_deref(), Some("first"));
    assert!(notes.is_empty());
    let (row, notes) = row_of(json!([{"@id": DS, "@type": "dcat:Dataset", "dcterms:title": ""}]));
    assert_eq!(row.title, None);
    assert_eq!(notes, [Note::MissingTitle]);
}

#[test]
fn rights_statements_are_joined_and_matched_against_the_open_patterns() {
    let (row, _) = row_of(json!([
        dataset(json!({"dcterms:accessRights": [{"@id": "_:r1"}, {"@id": "_:r2"}, {"@id": "_:r1"}]})),
        {"@id": "_:r1", "rdfs:label": {"@language": "fr", "@value": "Aucune restriction"}},
        {"@id": "_:r2", "rdfs:label": [{"@language": "fr", "@value": "Conditions :\nLicence Ouverte"}, {"@language": "en", "@value": "Open"}]}
    ]));
    assert_eq!(
        row.right_statement.as_deref(),
        Some("Aucune restriction | Conditions :\nLicence Ouverte | Open")
    );
    assert!(row.right_statement_processed);
    for (label, open) in [
        ("Pas de restriction d'accès public selon INSPIRE", true),
        ("Open Licence 2.0", true),
        ("licence\nouverte", true),
        ("Licence fermée", false),
    ] {
        let (row, _) = row_of(json!([
            dataset(json!({"dcterms:accessRights": {"@id": "_:r"}})),
            {"@id": "_:r", "rdfs:label": label}
        ]));
        assert_eq!(row.right_statement_processed, open, "{label}");
    }
    let (row, _) = row_of(json!([dataset(json!({}))]));
    assert_eq!(row.right_statement, None);
    assert!(!row.right_statement_processed);
}

#[test]
fn themes_and_keywords_are_array_text_with_apostrophes_once_each() {
    let (row, _) = row_of(json!([dataset(json!({
        "dcat:theme": [{"@id": "http://t/eau"}, {"@id": "_:blank"}, {"@id": "http://t/air"}, {"@id": "http://t/eau"}],
        "dcat:keyword": [{"@language": "fr", "@value": "document d'urbanisme"}, "l'eau", {"@language": "fr", "@value": "document d'urbanisme"}, ""]
    }))]));
    assert_eq!(row.themes.as_deref(), Some("{http://t/eau, http://t/air}"));
    assert_eq!(
        row.key_words.as_deref(),
        Some("{document d'urbanisme, l'eau}")
    );
    let (row, _) = row_of(json!([dataset(json!({}))]));
    assert_eq!((row.themes, row.key_words), (None, None));
}

#[test]
fn organisations_contacts_status_and_catalog() {
    let (row, notes) = row_of(json!([
        dataset(json!({
            "dcterms:creator": {"@id": "_:o1"},
            "dcterms:rightsHolder": {"@id": "_:o2"},
            "dcat:contactPoint": [{"@id": "_:c1"}, {"@id": "_:c2"}],
            "http://www.w3.org/ns/adms#status": {"@id": "http://registre/ISO19139ProgressCode/underDevelopment"}
        })),
        {"@id": "_:o1", "foaf:mbox": "x"},
        {"@id": "_:o2", "foaf:name": {"@language": "fr", "@value": "DDT 74"}},
        {"@id": "_:c1", "http://www.w3.org/2006/vcard/ns#hasEmail": {"@id": "mailto:sig@ddt.fr"}},
        {"@id": "_:c2", "http://www.w3.org/2006/vcard/ns#hasEmail": {"@id": "https://h/dcat/catalog/other@x.fr"}}
    ]));
    assert_eq!(row.creator, None, "an organisation without foaf:name");
    assert_eq!(row.rights_holder.as_deref(), Some("DDT 74"));
    assert_eq!(row.contact_point.as_deref(), Some("sig@ddt.fr"));
    assert_eq!(row.status.as_deref(), Some("Under Development"));
    assert_eq!(
        notes,
        [Note::ContactWithoutCatalog("mailto:sig@ddt.fr".into())]
    );
    for (code, shown, unknown) in [
        ("COMPLETED", "Completed", false),
        ("onGoing", "On Going", false),
        ("historicalArchive", "Historical Archive", false),
        ("UnderDevelopment", "Under Development", false),
        ("obsolete", "Obsolete", false),
        ("required", "Required", false),
        ("planned", "Planned", false),
        ("tentative", "tentative", true),
    ] {
        let (row, notes) = row_of(json!([dataset(json!({
            "http://www.w3.org/ns/adms#status": {"@id": format!("http://x/status/{code}")}
        }))]));
        assert_eq!(row.status.as_deref(), Some(shown));
        assert_eq!(notes.contains(&Note::UnknownStatus(code.into())), unknown);
    }
    let (row, notes) = row_of(json!([
        dataset(json!({"dcat:contactPoint": {"@id": "_:c"}})),
        {"@id": "_:c", "http://www.w3.org/2006/vcard/ns#hasEmail": "plain@x.fr"}
    ]));
    assert_eq!(row.contact_point.as_deref(), Some("plain@x.fr"));
    assert_eq!(notes.len(), 1);
}

#[test]
fn licenses_are_sorted_distinct_and_null_with_a_blank_node() {
    let dist = |id: &str, lic: serde_json::Value| {
        let mut d = json!({"@id": id, "@type": "dcat:Distribution"});
        if !lic.is_null() {
            d["dcterms:license"] = lic;
        }
        d
    };
    let (row, _) = row_of(json!([
        dataset(json!({"dcat:distribution": [{"@id": "_:d1"}, {"@id": "_:d2"}, {"@id": "_:d3"}]})),
        dist(
            "_:d1",
            json!({"@id": "https://spdx.org/licenses/etalab-2.0"})
        ),
        dist("_:d2", json!(null)),
        dist(
            "_:d3",
            json!([{"@id": "https://spdx.org/licenses/CC-BY-4.0"}, {"@id": "https://spdx.org/licenses/etalab-2.0"}])
        )
    ]));
    assert_eq!(
        row.licenses.as_deref(),
        Some("{https://spdx.org/licenses/CC-BY-4.0, https://spdx.org/licenses/etalab-2.0}")
    );
    let (row, _) = row_of(json!([
        dataset(json!({"dcat:distribution": [{"@id": "_:d1"}, {"@id": "_:d2"}]})),
        dist(
            "_:d1",
            json!({"@id": "https://spdx.org/licenses/etalab-2.0"})
        ),
        dist("_:d2", json!({"@id": "_:lic"}))
    ]));
    assert_eq!(row.licenses, None);
    let (row, _) = row_of(json!([
        dataset(json!({"dcat:distribution": {"@id": "_:d1"}})),
        dist("_:d1", json!(null))
    ]));
    assert_eq!(row.licenses, None);
}

#[test]
fn spatial_codes_departements_and_coverage() {
    let spatial = |iris: &[&str]| {
        let mut v: Vec<serde_json::Value> = iris.iter().map(|i| json!({"@id": i})).collect();
        v.insert(0, json!({"@id": "_:bbox"}));
        row_of(json!([
            dataset(json!({"dcterms:spatial": v})),
            {"@id": "_:bbox", "dcat:bbox": "POLYGON((0 0,1 1,0 0))"}
        ]))
        .0
    };
    let geo = |r: Row| (r.commune, r.departement, r.geo_coverage);
    let some = |s: &str| Some(s.to_string());
    assert_eq!(
        geo(spatial(&["http://id.insee.fr/geo/commune/74079"])),
        (some("{74079}"), some("{74}"), some("Communale"))
    );
    assert_eq!(
        geo(spatial(&[
            "http://id.insee.fr/geo/departement/2A",
            "http://id.insee.fr/geo/commune/2A041",
            "http://id.insee.fr/geo/commune/2A004",
        ])),
        (some("{2A041, 2A004}"), some("{2A}"), some("Communale"))
    );
    let r = spatial(&[
        "http://id.insee.fr/geo/departement/74",
        "http://example.org/region/84",
    ]);
    assert_eq!(
        (
            r.commune,
            r.departement.as_deref(),
            r.geo_coverage.as_deref()
        ),
        (None, Some("{74}"), Some("Départementale"))
    );
    // Overseas: three digits (the original took two).
    let r = spatial(&["http://id.insee.fr/geo/commune/97105"]);
    assert_eq!(r.departement.as_deref(), Some("{971}"));
    let r = spatial(&[]);
    assert_eq!(
        (r.commune, r.departement, r.geo_coverage),
        (None, None, None)
    );
}

#[test]
fn filling_score_counts_six_fields_plus_the_three_the_original_always_counted() {
    let (row, _) = row_of(json!([{"@id": DS, "@type": "dcat:Dataset"}]));
    assert_eq!(row.percantage_filling, 100.0 * 3.0 / 9.0);
    let (row, _) = row_of(json!([dataset(json!({}))]));
    assert_eq!(row.percantage_filling, 400.0 / 9.0);
    let (row, _) = row_of(json!([
        dataset(json!({
            "dcterms:modified": {"@type": "xsd:date", "@value": "2020-01-02"},
            "dcterms:rights_holder": {"@id": "_:o"},
            "dcat:contactPoint": {"@id": "_:c"},
            "http://www.w3.org/ns/adms#status": {"@id": "http://x/COMPLETED"},
            "foaf:isPrimaryTopicOf": {"@id": "_:r"}
        })),
        {"@id": "_:o", "foaf:name": "Org"},
        // The raw contact counts, even when nothing is left after catalog/.
        {"@id": "_:c", "http://www.w3.org/2006/vcard/ns#hasEmail": {"@id": "https://h/dcat/catalog/"}},
        {"@id": "_:r", "dcat:inCatalog": {"@id": "_:k"}},
        {"@id": "_:k", "dcterms:title": "K"}
    ]));
    assert_eq!(row.percantage_filling, 100.0);
    assert_eq!(row.contact_point, None);
    assert_eq!(format!("{}", 600.0 / 9.0), "66.66666666666667");
}

#[test]
fn pprn_universe_folds_case_accents_and_spaces() {
    for (text, pprn) in [
        ("Zonage PPRN de Chamonix", true),
        ("pprn", true),
        ("Plan de Prévention des Risques Naturels", true),
        ("PRÉVENTION DES RISQUES NATURELS", true),
        ("prévention\u{a0}des risques naturels", true),
        ("pre\u{301}vention des risques naturels", true),
        ("\u{ff30}\u{ff30}\u{ff32}\u{ff2e}", true),
        ("prévention des risques technologiques", false),
        ("prévention\ndes risques naturels", false),
    ] {
        assert_eq!(columns::is_pprn(text), pprn, "{text:?}");
    }
    let (row, _) = row_of(json!([dataset(json!({"dcterms:description": "Un PPRN."}))]));
    assert_eq!(row.univers.as_deref(), Some("PPRN"));
    let (row, _) = row_of(json!([{"@id": DS, "@type": "dcat:Dataset"}]));
    assert_eq!(row.univers, None, "no title nor description: no crash");
}

#[test]
fn modified_dates_take_rdflibs_canonical_form() {
    let d = Some("http://www.w3.org/2001/XMLSchema#date");
    let dt = Some("http://www.w3.org/2001/XMLSchema#dateTime");
    for (raw, ty, text, valid) in [
        ("2018-08-02", d, "2018-08-02", true),
        ("2018-08-02Z", d, "2018-08-02", true),
        ("2018-08-02+02:00", d, "2018-08-02", true),
        ("2021-8-7", d, "2021-8-7", false),
        ("2021-02-30", d, "2021-02-30", false),
        ("2019-03-29T22:45:00", d, "2019-03-29T22:45:00", false),
        (
            "2019-03-29T22:45:00.000412",
            dt,
            "2019-03-29T22:45:00.000412",
            true,
        ),
        (
            "2019-03-29T22:45:00Z",
            dt,
            "2019-03-29T22:45:00+00:00",
            true,
        ),
        (
            "2019-03-29T22:45:00-00:00",
            dt,
            "2019-03-29T22:45:00+00:00",
            true,
        ),
        (
            "2019-03-29T22:45:00.5",
            dt,
            "2019-03-29T22:45:00.500000",
            true,
        ),
        ("2019-03-29T22:45:00.000", dt, "2019-03-29T22:45:00", true),
        (
            "2019-03-29T22:45:00.1234565",
            dt,
            "2019-03-29T22:45:00.123456",
            true,
        ),
        (
            "2019-03-29T22:45:00.1234575",
            dt,
            "2019-03-29T22:45:00.123458",
            true,
        ),
        (
            "2019-03-29T22:45:00.9999996",
            dt,
            "2019-03-29T22:45:01",
            true,
        ),
        (
            "2019-03-29T23:59:59.9999999",
            dt,
            "2019-03-29T23:59:59.9999999",
            false,
        ),
        (
            "2019-03-29T22:45:00.120Z",
            dt,
            "2019-03-29T22:45:00.120000+00:00",
            true,
        ),
        (
            "2019-03-29T22:45:00-05:30",
            dt,
            "2019-03-29T22:45:00-05:30",
            true,
        ),
        ("2019-03-29T24:00:00", dt, "2019-03-29T24:00:00", false),
        ("2018-08-02", dt, "2018-08-02", false),
        ("0000-01-01", d, "0000-01-01", false),
        ("2019-03-29T22:45:00Z", None, "2019-03-29T22:45:00Z", true),
        ("garbage", None, "garbage", false),
    ] {
        let m = dates::modified(raw, ty);
        assert_eq!((m.text.as_str(), m.valid), (text, valid), "{raw} {ty:?}");
        assert_eq!(m.key.is_some(), valid, "{raw}");
    }
    let later = dates::modified("2020-01-01T00:30:00+01:00", dt).key;
    let earlier = dates::modified("2019-12-31", d).key;
    assert!(later > earlier);
    let (row, notes) = row_of(json!([dataset(json!({
        "dcterms:modified": {"@type": "xsd:date", "@value": "2021-8-7"}
    }))]));
    assert_eq!(row.modification.as_deref(), Some("2021-8-7"));
    assert_eq!(notes, [Note::InvalidDate("2021-8-7".into())]);
}

#[test]
fn blank_dataset_ids_are_skipped_and_the_paging_node_is_read() {
    let doc = serde_json::to_vec(&json!({
        "@context": context(),
        "@graph": [
            {"@id": "_:x", "@type": "dcat:Dataset", "dcterms:title": "blank"},
            {"@type": "dcat:Dataset", "dcterms:title": "anonymous"},
            dataset(json!({})),
            {"@id": "https://h/dcat/catalog/jsonld?page=3", "@type": "http://www.w3.org/ns/hydra/core#PagedCollection",
             "http://www.w3.org/ns/hydra/core#nextPage": "https://h/dcat/catalog/jsonld?page=4",
             "http://www.w3.org/ns/hydra/core#lastPage": {"@id": "https://h/dcat/catalog/jsonld?page=9"},
             "http://www.w3.org/ns/hydra/core#totalItems": 812}
        ]
    }))
    .unwrap();
    let data = pipeline::process(&doc).unwrap();
    assert_eq!((data.datasets.len(), data.blank), (1, 2));
    assert_eq!(
        data.page_id.as_deref(),
        Some("https://h/dcat/catalog/jsonld?page=3")
    );
    assert_eq!(
        data.next.as_deref(),
        Some("https://h/dcat/catalog/jsonld?page=4")
    );
    assert_eq!(
        data.last.as_deref(),
        Some("https://h/dcat/catalog/jsonld?page=9")
    );
    assert_eq!(data.total, Some(812));
}

#[test]
fn acceptance_fixture_scores() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/ecospheres/acceptance");
    let mut scores = std::collections::BTreeMap::new();
    let (mut datasets, mut series) = (0, 0);
    for page in ["page-00001.json", "page-00002.json"] {
        let data = pipeline::process(&std::fs::read(dir.join(page)).unwrap()).unwrap();
        series += data.series;
        for c in &data.datasets {
            datasets += 1;
            assert!(c.notes.is_empty(), "{:?}", c.notes);
            *scores
                .entry(format!("{:.2}", c.row.percantage_filling))
                .or_insert(0) += 1;
        }
    }
    assert_eq!((datasets, series), (75, 30));
    let expected: std::collections::BTreeMap<String, i32> =
        [("66.67", 30), ("77.78", 23), ("88.89", 17), ("100.00", 5)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
    assert_eq!(scores, expected);
}

fn ok_page(index: usize, nodes: serde_json::Value) -> Page {
    Page {
        index,
        name: format!("page-{index}.json"),
        result: Ok(pipeline::process(&page(nodes)).unwrap()),
    }
}

#[test]
fn a_dataset_on_two_pages_keeps_the_later_modified_then_the_later_page() {
    let with = |title: &str, modified: Option<&str>| {
        let mut d = json!({"@id": DS, "@type": "dcat:Dataset", "dcterms:title": title});
        if let Some(m) = modified {
            d["dcterms:modified"] = json!({"@type": "xsd:date", "@value": m});
        }
        json!([d])
    };
    for (first, second, kept) in [
        (Some("2020-01-01"), Some("2021-01-01"), "second"),
        (Some("2021-01-01"), Some("2020-01-01"), "first"),
        (Some("2021-01-01"), Some("2021-01-01"), "second"),
        (Some("2021-01-01"), None, "first"),
        (None, None, "second"),
    ] {
        let mut c = Collector::new(OnBadPage::Fail).unwrap();
        c.page(ok_page(0, with("first", first))).unwrap();
        c.page(ok_page(1, with("second", second))).unwrap();
        assert_eq!((c.rows(), c.stats.duplicates), (1, 1));
        let rows: Vec<Row> = c.take_rows().unwrap().collect();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].title.as_deref(), Some(kept), "{first:?} {second:?}");
    }
}

#[test]
fn a_page_seen_twice_or_a_bad_page_stops_the_run_unless_skipped() {
    let hydra = json!({"@id": "https://h/jsonld?page=1", "@type": "http://www.w3.org/ns/hydra/core#PagedCollection"});
    let mut c = Collector::new(OnBadPage::Skip).unwrap();
    c.page(ok_page(0, json!([dataset(json!({})), hydra.clone()])))
        .unwrap();
    let bad = Page {
        index: 1,
        name: "page-2.json".into(),
        result: Err(PageFailure::Read(PageError::Truncated {
            line: 3,
            column: 9,
        })),
    };
    assert!(c.page(bad).unwrap().is_none());
    assert_eq!(c.stats.pages_skipped, 1);
    assert_eq!(
        c.bad_pages,
        ["page-2.json: truncated JSON (ends at line 3, column 9)"]
    );
    let e = c.page(ok_page(2, json!([hydra]))).unwrap_err();
    assert!(matches!(e, CollectError::PageTwice { .. }), "{e}");
    assert!(
        e.to_string().contains("page-0.json, then page-2.json"),
        "{e}"
    );

    let mut c = Collector::new(OnBadPage::Fail).unwrap();
    let bad = Page {
        index: 0,
        name: "page-1.json".into(),
        result: Err(PageFailure::Fetch("HTTP 503".into())),
    };
    let e = c.page(bad).unwrap_err().to_string();
    assert!(e.contains("page-1.json") && e.contains("HTTP 503"), "{e}");
}

#[test]
fn spill_round_trips_rows_and_leaves_out_replaced_ones() {
    let mut spill = Spill::new().unwrap();
    let mut a = Row {
        dataset: "http://a".into(),
        title: Some("Tître ✓".into()),
        description: Some(String::new()),
        percantage_filling: 600.0 / 9.0,
        univers: Some("PPRN".into()),
        right_statement_processed: true,
        ..Row::default()
    };
    spill.push(&a).unwrap();
    a.dataset = "http://b".into();
    spill.push(&a).unwrap();
    a.dataset = "http://c".into();
    a.geo_coverage = Some("Communale".into());
    spill.push(&a).unwrap();
    let rows: Vec<Row> = spill.reader([1].into_iter().collect()).unwrap().collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1], a);
    assert_eq!(rows[0].title.as_deref(), Some("Tître ✓"));
    assert_eq!(rows[0].description.as_deref(), Some(""));
    assert_eq!(rows[0].geo_coverage, None);
}

#[test]
fn ddl_has_the_nineteen_columns_in_order_with_their_types() {
    let ddl = columns::ddl();
    assert_eq!(ddl.lines().count(), 19);
    assert!(ddl.starts_with("\"dataset\" text NOT NULL,"));
    assert!(ddl.contains("\"percantage_filling\" double precision NOT NULL"));
    assert!(ddl.ends_with("\"right_statement_processed\" boolean NOT NULL"));
}

#[test]
fn sources_parse_and_show_no_secret() {
    assert_eq!(
        SourceUrl::parse("s3://b/DUMP/").unwrap(),
        SourceUrl::Store("s3://b/DUMP/".into())
    );
    assert_eq!(
        SourceUrl::parse("./dump").unwrap(),
        SourceUrl::Store("file://./dump".into())
    );
    assert!(matches!(
        SourceUrl::parse("https://ckan.example/dcat/catalog/jsonld?page=1").unwrap(),
        SourceUrl::Http(_)
    ));
    for bad in ["ftp://x/y", "", "https://"] {
        assert!(SourceUrl::parse(bad).is_err(), "{bad}");
    }
    assert_eq!(
        remote::shown_url("https://ckan.example/dcat/catalog/jsonld?page=3&token=s3cr3t"),
        "https://ckan.example/dcat/catalog/jsonld?page=3"
    );
    assert_eq!(
        remote::shown_url("http://127.0.0.1:8080/c?key=x"),
        "http://127.0.0.1:8080/c?…"
    );
    assert_eq!(remote::page_number("https://h/j?page=12"), Some(12));
    assert_eq!(
        remote::with_page("https://h/j?a=1&page=12", 13).as_deref(),
        Some("https://h/j?a=1&page=13")
    );
    assert_eq!(
        remote::resolve("https://h/dcat/j?page=1", "/dcat/j?page=2").as_deref(),
        Some("https://h/dcat/j?page=2")
    );
    let mut keys = [
        "p-10.json",
        "p-2.json",
        "p-1.json.gz",
        "p-02b.json",
        "a.json",
    ];
    keys.sort_by(|a, b| remote::natural_cmp(a, b));
    assert_eq!(
        keys,
        [
            "a.json",
            "p-1.json.gz",
            "p-2.json",
            "p-02b.json",
            "p-10.json"
        ]
    );
}

#[test]
fn source_comes_from_the_flag_the_config_the_legacy_bucket_or_the_default() {
    let cfg = EcospheresConfig::default();
    let env = Env::from_pairs([("BUCKET_NAME", "legacy-bucket")]);
    assert_eq!(
        resolve_source(None, &cfg, &env).unwrap(),
        SourceUrl::Store("s3://legacy-bucket/DUMP_INTEGRATION_JSON/".into())
    );
    assert_eq!(
        resolve_source(None, &cfg, &Env::default()).unwrap(),
        SourceUrl::Store(config::DEFAULT_SOURCE.into())
    );
    let cfg = EcospheresConfig {
        source: Some("file:///dump".into()),
        ..EcospheresConfig::default()
    };
    assert_eq!(
        resolve_source(None, &cfg, &env).unwrap(),
        SourceUrl::Store("file:///dump".into())
    );
    assert_eq!(
        resolve_source(Some("s3://x/y"), &cfg, &env).unwrap(),
        SourceUrl::Store("s3://x/y".into())
    );
}

#[test]
fn legacy_variables_reach_the_database_and_s3() {
    let env = Env::from_pairs([
        ("POSTGRES_USER", "projet-ecolab"),
        ("POSTGRES_PASSWORD", "p@ss:w/rd-legacy"),
        ("POSTGRES_URL", "db.internal"),
        ("POSTGRES_PORT", "6543"),
        ("POSTGRES_DB", "defaultdb"),
    ]);
    let url = database_url(&env).unwrap();
    assert_eq!(url.server(), "db.internal:6543/defaultdb");
    assert_eq!(url.var(), "POSTGRES_URL");
    assert!(!format!("{url:?}").contains("p@ss"));
    let url = database_url(
        &env.clone()
            .with("ECOSPHERES_DATABASE_URL", "postgresql://a@h/e"),
    )
    .unwrap();
    assert_eq!(url.server(), "h:5432/e");
    let e = crate::outcome::error_chain(&database_url(&Env::default()).unwrap_err());
    assert!(
        e.contains("ECOSPHERES_DATABASE_URL") && e.contains("POSTGRES_URL"),
        "{e}"
    );

    let http = HttpConfig::default();
    let s3 = s3_settings(
        &EcospheresConfig::default(),
        &http,
        S3Credentials::default(),
        &Env::from_pairs([
            ("S3_ENDPOINT_URL", "https://minio.example"),
            ("ACCESS_KEY", "legacy-id"),
            ("SECRET_KEY", "legacy-secret"),
        ]),
    );
    assert_eq!(s3.endpoint.as_deref(), Some("https://minio.example"));
    assert_eq!(s3.access_key_id.unwrap().expose(), "legacy-id");
    let s3 = s3_settings(
        &EcospheresConfig::default(),
        &http,
        S3Credentials::default(),
        &Env::from_pairs([
            ("AWS_ENDPOINT", "https://s3.new"),
            ("S3_ENDPOINT_URL", "https://minio.example"),
            ("AWS_ACCESS_KEY_ID", "new-id"),
            ("AWS_SECRET_ACCESS_KEY", "new-secret"),
            ("ACCESS_KEY", "legacy-id"),
            ("SECRET_KEY", "legacy-secret"),
        ]),
    );
    assert_eq!(s3.endpoint.as_deref(), Some("https://s3.new"));
    assert_eq!(s3.access_key_id.unwrap().expose(), "new-id");
}

#[test]
fn config_defaults_and_validation() {
    let c = EcospheresConfig::default();
    assert_eq!(c.schema, "public");
    assert_eq!(c.max_shrink, 0.5);
    assert_eq!(c.http.timeout.as_secs(), 180);
    assert_eq!(c.on_bad_page, OnBadPage::Fail);
    assert!(c.validate().is_ok());
    for bad in [
        EcospheresConfig {
            schema: "Public; drop".into(),
            ..c.clone()
        },
        EcospheresConfig {
            max_shrink: 1.5,
            ..c.clone()
        },
        EcospheresConfig {
            source: Some("ftp://x".into()),
            ..c.clone()
        },
        EcospheresConfig {
            parallel_pages: 0,
            ..c.clone()
        },
    ] {
        assert!(bad.validate().is_err(), "{bad:?}");
    }
}
