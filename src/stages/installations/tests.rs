//! Rule-by-rule tests of the installations task (docs/formats.md §3–4) on small inputs;
//! each would fail if its rule broke. The golden byte-for-byte test is in
//! `tests/installations.rs`.

use std::collections::HashSet;

use super::*;
use crate::tabular::{read_table, Header};

const INST_HEADER: &str = "code_s3ic;raison_sociale;numéro_siret;adresse_1;adresse_2;code_postal;commune_principale;code_insee_commune;département;region;coordonnées_géographiques_x;coordonnées_géographiques_y;système_coordonnées;code_naf;libellé_naf;régime_etab_en_vigueur;statut_seveso;famille;état_de_l_activité;date_inspection;service_inspection;priorité_nationale;ied";

/// One establishments row with sensible defaults, overridden by `(column, value)` pairs.
fn inst(overrides: &[(&str, &str)]) -> String {
    let cols: Vec<&str> = INST_HEADER.split(';').collect();
    let mut vals: Vec<String> = cols
        .iter()
        .map(|c| {
            match *c {
                "code_s3ic" => "0001.00001",
                "raison_sociale" => "SOC",
                "code_postal" => "91000",
                "commune_principale" => "EVRY",
                "région" => "",
                "region" => "ILE DE FRANCE",
                "régime_etab_en_vigueur" => "A",
                "statut_seveso" => "NS",
                "famille" => "industrie",
                "état_de_l_activité" => "En fonctionnement",
                "date_inspection" => "2020-06-30",
                _ => "",
            }
            .to_string()
        })
        .collect();
    for (k, v) in overrides {
        let i = cols.iter().position(|c| c == k).expect("column");
        vals[i] = v.to_string();
    }
    vals.join(";")
}

fn installations_csv(rows: &[String]) -> Result<String, InstallationsError> {
    let data = format!("{INST_HEADER}\n{}\n", rows.join("\n"));
    let table = read_table("s3ic.csv", data.as_bytes(), b';', Header::Present).unwrap();
    let built = establishments::build(&table)?;
    Ok(String::from_utf8(built.to_csv(|_| true).0).unwrap())
}

fn body(csv: &str) -> Vec<&str> {
    csv.lines().skip(1).collect()
}

#[test]
fn output_columns_and_value_mappings() {
    let out = installations_csv(&[inst(&[
        ("code_s3ic", "0999.01234"),
        ("raison_sociale", "DUPONT, FILS ET CIE"),
        ("coordonnées_géographiques_x", "651234"),
        ("coordonnées_géographiques_y", "6832109"),
        ("département", "ESSONNE"),
        ("code_insee_commune", "91228"),
        ("code_naf", "24.10Z"),
        ("statut_seveso", "SSB"),
        ("régime_etab_en_vigueur", "S"),
    ])])
    .unwrap();
    assert_eq!(
        out,
        "s3ic_id,num_dep,region,department,city,name,lat,lon,last_inspection,regime,seveso,family,active,code_postal,code_insee,code_naf\n\
         0999.01234,91,ILE DE FRANCE,ESSONNE,EVRY,\"DUPONT, FILS ET CIE\",651234,6832109,2020-06-30,A,SB,Industries,En fonctionnement,91000,91228,24.10Z\n"
    );
}

#[test]
fn regime_filter_is_exact_and_maps_s_and_2_to_a() {
    let rows: Vec<String> = [
        ("1", "A"),
        ("2", "E"),
        ("3", "S"),
        ("4", "2"),
        ("5", "A "),
        ("6", "D"),
        ("7", "NC"),
        ("8", ""),
    ]
    .iter()
    .map(|(n, r)| {
        inst(&[
            ("code_s3ic", &format!("0001.0000{n}")),
            ("régime_etab_en_vigueur", r),
        ])
    })
    .collect();
    let out = installations_csv(&rows).unwrap();
    let regimes: Vec<(&str, &str)> = body(&out)
        .iter()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0], f[9])
        })
        .collect();
    assert_eq!(
        regimes,
        [
            ("0001.00001", "A"),
            ("0001.00002", "E"),
            ("0001.00003", "A"),
            ("0001.00004", "A")
        ]
    );
}

#[test]
fn grouping_takes_the_last_non_missing_value_per_column_after_dedup() {
    let r1 = inst(&[("raison_sociale", "A"), ("code_naf", "")]);
    let r2 = inst(&[("raison_sociale", "B"), ("code_naf", "11.11Z")]);
    // r1 again: an exact duplicate is dropped before grouping, so the name stays "B".
    let out = installations_csv(&[
        r1.clone(),
        r2,
        r1,
        inst(&[("code_naf", "NA"), ("raison_sociale", "NULL")]),
    ])
    .unwrap();
    let rows = body(&out);
    assert_eq!(rows.len(), 1);
    let f: Vec<&str> = rows[0].split(',').collect();
    assert_eq!(f[5], "B");
    assert_eq!(f[15], "11.11Z");
}

#[test]
fn rows_without_code_are_dropped_and_ids_sorted_by_code_point() {
    let out = installations_csv(&[
        inst(&[("code_s3ic", "0002.00000")]),
        inst(&[("code_s3ic", "")]),
        inst(&[("code_s3ic", "0001.00000")]),
    ])
    .unwrap();
    let ids: Vec<&str> = body(&out).iter().map(|l| &l[..10]).collect();
    assert_eq!(ids, ["0001.00000", "0002.00000"]);
}

#[test]
fn num_dep_dates_and_missing_values() {
    let out = installations_csv(&[
        inst(&[
            ("code_s3ic", "0001.00001"),
            ("code_postal", "20100"),
            ("date_inspection", "20210318"),
        ]),
        inst(&[
            ("code_s3ic", "0001.00002"),
            ("code_postal", ""),
            ("date_inspection", ""),
            ("statut_seveso", ""),
        ]),
    ])
    .unwrap();
    let rows: Vec<Vec<&str>> = body(&out).iter().map(|l| l.split(',').collect()).collect();
    assert_eq!((rows[0][1], rows[0][8]), ("20", "2021-03-18"));
    assert_eq!((rows[1][1], rows[1][8], rows[1][10]), ("", "", ""));
}

#[test]
fn invalid_values_abort_with_file_line_and_id() {
    let e = installations_csv(&[inst(&[("date_inspection", "30/06/2020")])]).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("s3ic.csv line 2") && msg.contains("0001.00001") && msg.contains("30/06/2020"),
        "{msg}"
    );
    for (col, val) in [
        ("famille", "autre"),
        ("famille", ""),
        ("statut_seveso", "XX"),
        ("état_de_l_activité", "Inconnu"),
    ] {
        let e = installations_csv(&[inst(&[(col, val)])]).unwrap_err();
        assert!(
            matches!(e, InstallationsError::InvalidValue { .. }),
            "{col}={val}: {e}"
        );
    }
    // A bad date on a row dropped by the regime filter is harmless.
    assert!(installations_csv(&[
        inst(&[]),
        inst(&[
            ("code_s3ic", "0001.00002"),
            ("régime_etab_en_vigueur", "D"),
            ("date_inspection", "bad")
        ])
    ])
    .is_ok());
}

#[test]
fn only_active_states_are_published_but_all_are_checked() {
    let out = installations_csv(&[
        inst(&[
            ("code_s3ic", "0001.00001"),
            ("état_de_l_activité", "En construction"),
        ]),
        inst(&[
            ("code_s3ic", "0001.00002"),
            ("état_de_l_activité", "A l'arrêt"),
        ]),
        inst(&[("code_s3ic", "0001.00003"), ("état_de_l_activité", "")]),
    ])
    .unwrap();
    assert_eq!(body(&out).len(), 1);
    assert!(out.contains("En construction"));
}

#[test]
fn families_map_to_labels() {
    for (code, label) in [
        ("industrie", "Industries"),
        ("carriere", "Carrières"),
        ("volailles", "Volailles"),
        ("bovins", "Bovins"),
        ("porcs", "Porcs"),
    ] {
        let out = installations_csv(&[inst(&[("famille", code)])]).unwrap();
        assert!(out.contains(&format!(",{label},")), "{code}");
    }
}

const RUB_HEADER: &str = "code_s3ic;rubrique_envigueur;alinéa_envigueur;régime_envigueur;libellé_court_envigueur;date_acte_rub_en_vigueur;date_début_exploitation_rub;date_dernière_modification_notable_rub;état_technique;rubrique_autorisé;alinéa_autorisé;régime_autorisé;quantité;unité";

fn classements_csv(rows: &[&str], ids: &[&str]) -> Result<String, InstallationsError> {
    let data = format!("{RUB_HEADER}\n{}\n", rows.join("\n"));
    let table = read_table("rub.csv", data.as_bytes(), b';', Header::Present).unwrap();
    let ids: HashSet<&str> = ids.iter().copied().collect();
    let built = classements::build(&table, &ids)?;
    Ok(String::from_utf8(built.to_csv(|_| true).0).unwrap())
}

#[test]
fn classements_transformations_masking_and_sort() {
    let out = classements_csv(
        &[
            "0001.00001;2940;2-b;DC;Peinture;2015-04-02;20010917;;En fonctionnement;2940;2-b;D;95.000;kg/j",
            "0001.00001;47xx;1-a;A;Substances;2015-04-02;2001-09-17;2015-04-02;En fonctionnement;4510;2;A;134.000;t",
            "0001.00001;3110;;3;;;;;En fonctionnement;3110;;unknown;0.000;MW",
            "0001.00001;2940;2-b;DC;Peinture;2015-04-02;20010917;;En fonctionnement;2940;2-b;D;95.000;kg/j",
            "0001.00001;1510;;E;Stockage;;;;En projet;1510;;E;1;t",
            "0009.00009;1510;;E;Stockage;;;;En fonctionnement;1510;;E;1;t",
            "0000.00001;1510;;A;Stockage;2020-01-01;;;En fonctionnement;1510;;S;1;t",
        ],
        &["0001.00001", "0000.00001"],
    )
    .unwrap();
    assert_eq!(
        out,
        "s3ic_id,rubrique,alinea,regime,activite,date_autorisation,date_mise_en_service,last_substantial_modif_date,state,rubrique_acte,alinea_acte,regime_acte,volume,unit\n\
         0000.00001,1510,,A,Stockage,2020-01-01,,,En fonctionnement,1510,,unknown,1,t\n\
         0001.00001,2940,2-b,D,Peinture,2015-04-02,2001-09-17,,En fonctionnement,2940,2-b,D,95.000,kg/j\n\
         0001.00001,47xx,,NC,,,2001-09-17,2015-04-02,En fonctionnement,47xx,,NC,,\n\
         0001.00001,3110,,unknown,,,,,En fonctionnement,3110,,unknown,0.000,MW\n"
    );
}

#[test]
fn classements_sort_puts_missing_last_and_is_stable() {
    let out = classements_csv(
        &[
            "0001.00001;2000;b;A;x;;;;En fonctionnement;2000;;A;;",
            "0001.00001;1000;;A;first-tie;;;;En fonctionnement;1000;;A;;",
            "0001.00001;1000;;A;second-tie;;;;En fonctionnement;1000;;A;;",
            "0001.00001;1000;a;A;x;;;;En fonctionnement;1000;;A;;",
            "0001.00001;1000;a;E;x;;2000-01-01;;En fonctionnement;1000;;A;;",
            "0001.00001;1000;a;NC;x;1999-01-01;;;En fonctionnement;1000;;A;;",
        ],
        &["0001.00001"],
    )
    .unwrap();
    let keys: Vec<String> = body(&out)
        .iter()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            format!("{}|{}|{}|{}|{}|{}", f[5], f[6], f[3], f[1], f[2], f[4])
        })
        .collect();
    assert_eq!(
        keys,
        [
            "1999-01-01||NC|1000|a|x",
            "|2000-01-01|E|1000|a|x",
            "||A|1000|a|x",
            "||A|1000||first-tie",
            "||A|1000||second-tie",
            "||A|2000|b|x",
        ]
    );
}

#[test]
fn classements_bad_values_abort_even_on_inactive_rows() {
    let e = classements_csv(
        &["0001.00001;1510;;E;x;2020-13-01;;;A l'arrêt;1510;;E;;"],
        &["0001.00001"],
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("rub.csv line 2")
            && e.to_string().contains("date_acte_rub_en_vigueur"),
        "{e}"
    );
    let e = classements_csv(
        &["0001.00001;1510;;X;x;;;;En projet;1510;;E;;"],
        &["0001.00001"],
    )
    .unwrap_err();
    assert!(e.to_string().contains("régime_envigueur"), "{e}");
    let e = classements_csv(
        &["0001.00001;1510;;E;x;;;;En fonctionnement;1510;;;;"],
        &["0001.00001"],
    )
    .unwrap_err();
    assert!(e.to_string().contains("régime_autorisé"), "{e}");
    // Rows of unknown installations are not checked at all.
    assert!(classements_csv(
        &["0002.00001;1510;;X;x;bad;;;En projet;1510;;E;;"],
        &["0001.00001"]
    )
    .is_ok());
}

#[test]
fn classements_unmasked_47_rubrique_is_rejected() {
    let e = classements_csv(
        &["0001.00001;4718;1;A;x;;;;En fonctionnement;4718;1;A;2;t"],
        &["0001.00001"],
    )
    .unwrap_err();
    assert!(matches!(e, InstallationsError::Unmasked47 { .. }), "{e}");
    let e = classements_csv(
        &["0001.00001;1510;1;A;x;;;;En fonctionnement;4718;1;A;2;t"],
        &["0001.00001"],
    )
    .unwrap_err();
    assert!(matches!(e, InstallationsError::Unmasked47 { .. }), "{e}");
}

#[test]
fn subset_membership_rules() {
    assert!(subsets::in_sample("0001.00001"));
    assert!(!subsets::in_sample("0999.01234"));
    assert!(subsets::in_idf(Some("ILE DE FRANCE")));
    assert!(!subsets::in_idf(Some("ILE DE FRANCE ")));
    assert!(!subsets::in_idf(None));
}

/// The error of a whole build on these sources (`s3ic.csv`, `rub.csv`); panics if it succeeds.
fn build_error(s3ic: &str, rubriques: &str) -> InstallationsError {
    build(&Sources {
        s3ic_name: "s3ic.csv",
        s3ic: s3ic.as_bytes(),
        rubriques_name: "rub.csv",
        rubriques: rubriques.as_bytes(),
    })
    .err()
    .expect("the build should fail")
}

#[test]
fn too_small_subsets_abort_the_whole_build() {
    let data = format!("{INST_HEADER}\n{}\n", inst(&[]));
    let rub = format!("{RUB_HEADER}\n");
    let e = build_error(&data, &rub);
    assert!(
        matches!(
            e,
            InstallationsError::TooFew {
                rows: 1,
                min: 1000,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn missing_rubriques_column_is_named() {
    let data = format!("{INST_HEADER}\n{}\n", inst(&[]));
    let rub = RUB_HEADER.replace(";unité", "") + "\n";
    let e = build_error(&data, &rub);
    assert!(
        e.to_string().contains("rub.csv") && e.to_string().contains("unité"),
        "{e}"
    );
}
