//! One test per rule of docs/formats.md §5–7 and §10.1, on small in-memory inputs, plus the
//! unsafe-archive checks of [`super::dump`].

use std::collections::{HashMap, HashSet};
use std::io::Write;

use super::documents::{self, Document, DumpTables};
use super::selection::{self as aps, Ap, ApIndex, OcrStatus};
use super::*;

const AP: &str = "Arrêté préfectoral";

fn gid(n: usize) -> String {
    format!("Q/7/{n:032x}")
}

fn s3ic(n: usize) -> String {
    format!("0999.{n:05}")
}

/// A dump of `n` APs of installation `s3ic(i % k)`.
fn dump_docs(n: usize, k: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{i};{};1;AP {i};{}.pdf;2021-01-{:02}\n",
                s3ic(i % k),
                gid(i),
                1 + i % 28
            )
        })
        .collect()
}

fn installations(ids: impl IntoIterator<Item = String>) -> String {
    let mut s = String::from("s3ic_id,name\n");
    for id in ids {
        s.push_str(&format!("{id},x\n"));
    }
    s
}

fn doc<'a>(s3ic: Option<&'a str>, date: Option<&'a str>, url: Option<&'a str>) -> Document<'a> {
    Document {
        date,
        doc_type: Some(AP),
        description: Some("d"),
        url,
        s3ic_id: s3ic,
    }
}

fn ap<'a>(s3ic: &'a str, id: &'a str, status: OcrStatus) -> Ap<'a> {
    Ap {
        s3ic_id: s3ic,
        description: "d",
        date: None,
        georisques_id: id,
        status,
        size: (status == OcrStatus::Success).then_some(10),
        line: 2,
    }
}

#[test]
fn join_is_a_left_join_keeping_dump_order() {
    let docs = "1;0999.00001;2;a;A/1/x.pdf;2021-01-01\n2;0999.00002;42;b;A/2/x.pdf;\n3;0999.00003;1;c;A/3/x.pdf;\n4;0999.00004;;d;A/4/x.pdf;\n";
    let types = "1;Arrêté préfectoral\n2;Rapport\n1;Autre\n";
    let t = DumpTables::parse(docs.as_bytes(), types.as_bytes()).unwrap();
    let j = t.join();
    let got: Vec<_> = j.iter().map(|d| (d.s3ic_id.unwrap(), d.doc_type)).collect();
    assert_eq!(
        got,
        [
            ("0999.00001", Some("Rapport")),
            ("0999.00002", None), // unknown type id → missing
            ("0999.00003", Some(AP)),
            ("0999.00003", Some("Autre")), // duplicated type id duplicates the document
            ("0999.00004", None),
        ]
    );
    assert_eq!(j[0].date, Some("2021-01-01"));
    assert_eq!(j[1].date, None);
}

#[test]
fn sort_is_s3ic_asc_date_desc_url_asc_missing_last_stable() {
    let mut d = vec![
        doc(None, Some("2020-01-01"), Some("a")),
        doc(Some("2"), Some("2020-01-01"), Some("b")),
        doc(Some("1"), None, Some("a")),
        doc(Some("1"), Some("2019-01-01"), Some("a")),
        doc(Some("1"), Some("2021-01-01"), None),
        doc(Some("1"), Some("2021-01-01"), Some("z")),
        doc(Some("1"), Some("2021-01-01"), Some("c")),
    ];
    d[6].description = Some("first");
    let mut tie = d[6];
    tie.description = Some("second");
    d.push(tie);
    documents::sort(&mut d);
    let got: Vec<_> = d
        .iter()
        .map(|x| (x.s3ic_id, x.date, x.url, x.description.unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            (Some("1"), Some("2021-01-01"), Some("c"), "first"),
            (Some("1"), Some("2021-01-01"), Some("c"), "second"),
            (Some("1"), Some("2021-01-01"), Some("z"), "d"),
            (Some("1"), Some("2021-01-01"), None, "d"),
            (Some("1"), Some("2019-01-01"), Some("a"), "d"),
            (Some("1"), None, Some("a"), "d"),
            (Some("2"), Some("2020-01-01"), Some("b"), "d"),
            (None, Some("2020-01-01"), Some("a"), "d"),
        ]
    );
}

#[test]
fn documents_csv_quotes_and_keeps_text() {
    let d = [Document {
        date: None,
        doc_type: Some("Rapport"),
        description: Some(" a, \"b\" "),
        url: Some("u.pdf"),
        s3ic_id: Some("0999.00001"),
    }];
    assert_eq!(
        String::from_utf8(documents::to_csv(&d)).unwrap(),
        "date,type,description,url,s3ic_id\n,Rapport,\" a, \"\"b\"\" \",u.pdf,0999.00001\n"
    );
}

#[test]
fn ap_selection_keeps_aps_in_order_and_strips_pdf() {
    let docs = [
        doc(Some("1"), Some("20210318"), Some("Q/7/aa.pdf")),
        Document {
            doc_type: Some("Rapport"),
            ..doc(Some("1"), None, Some("R.pdf"))
        },
        doc(Some("2"), None, Some("é.pdf")),
    ];
    let aps = aps::select("documents_all.csv", &docs, &ApIndex::default()).unwrap();
    assert_eq!(aps.len(), 2);
    assert_eq!(aps[0].georisques_id, "Q/7/aa");
    assert_eq!(aps[0].date.unwrap().to_string(), "2021-03-18");
    assert_eq!(aps[1].georisques_id, "é");
    assert_eq!(aps::georisques_id("abc"), "");
}

#[test]
fn ap_selection_rejects_unknown_type_and_bad_date_in_any_row() {
    let bad_type = [
        doc(Some("1"), None, Some("a.pdf")),
        Document {
            doc_type: None,
            ..doc(Some("1"), None, Some("b.pdf"))
        },
    ];
    let e = aps::select("documents_idf.csv", &bad_type, &ApIndex::default()).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("documents_idf.csv line 3") && msg.contains("b.pdf"),
        "{msg}"
    );
    let bad_date = [Document {
        doc_type: Some("Rapport"),
        ..doc(Some("1"), Some("2021-02-30"), Some("c.pdf"))
    }];
    let e = aps::select("documents_all.csv", &bad_date, &ApIndex::default()).unwrap_err();
    assert!(matches!(e, ApsError::InvalidDate { line: 2, .. }), "{e}");
}

#[test]
fn status_precedence_pdf_then_error_then_not_attempted() {
    let (a, b, c) = (gid(1), gid(2), gid(3));
    let mut idx = ApIndex::default();
    idx.add(&format!("{a}.error.txt"), 5);
    idx.add(&format!("{a}.pdf"), 1234);
    idx.add(&format!("{b}.error.txt"), 5);
    idx.add(&format!("{c}.txt"), 5); // other suffix: ignored
    idx.add("tmp/test.pdf", 5); // other shape: ignored
    idx.add(&format!("x{c}.pdf"), 5);
    assert_eq!(idx.status(&a), (OcrStatus::Success, Some(1234)));
    assert_eq!(idx.status(&b), (OcrStatus::Error, None));
    assert_eq!(idx.status(&c), (OcrStatus::NotAttempted, None));
    assert_eq!(idx.len(), 2);
}

#[test]
fn size_is_float_when_one_row_of_the_file_has_none() {
    let (a, b) = (gid(1), gid(2));
    let mut rows = vec![ap("0999.00001", &a, OcrStatus::Success)];
    rows[0].size = Some(328016);
    let ints = String::from_utf8(aps::to_csv(&rows)).unwrap();
    assert_eq!(
        ints,
        format!("installation_s3ic_id,description,date,georisques_id,ocr_status,size\n0999.00001,d,,{a},SUCCESS,328016\n")
    );
    rows.push(ap("0999.00001", &b, OcrStatus::NotAttempted));
    let floats = String::from_utf8(aps::to_csv(&rows)).unwrap();
    assert!(
        floats.contains(&format!("{a},SUCCESS,328016.0\n")),
        "{floats}"
    );
    assert!(
        floats.ends_with(&format!("{b},NOT_ATTEMPTED,\n")),
        "{floats}"
    );
    assert_eq!(aps::float_size(0), "0.0");
    assert_eq!(aps::float_size(10_000_000_000_000_000), "1e+16");
}

#[test]
fn georisques_ids_json_format() {
    assert_eq!(
        ids::to_json(["A/1/x", "A/1/x", "B/2/y"]),
        br#"["A/1/x", "A/1/x", "B/2/y"]"#
    );
    assert_eq!(ids::to_json([]), b"[]");
    assert_eq!(
        ids::to_json(["é\"\\\n😀"]),
        br#"["\u00e9\"\\\n\ud83d\ude00"]"#
    );
}

#[test]
fn validation_rules_in_order() {
    let inst: HashSet<&str> = ["0999.00001"].into();
    let ok = gid(1);
    let many = |a: Ap<'static>| vec![a; 10];
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let ok: &'static str = leak(ok);
    validate::check(
        "aps_all.csv",
        &many(ap("0999.00001", ok, OcrStatus::Success)),
        &inst,
    )
    .unwrap();
    for (s3ic, id, want) in [
        ("0999-00001", ok, "invalid installation_s3ic_id"),
        ("0999.0001", ok, "invalid installation_s3ic_id"),
        ("0999.00001", "Q/7/0A", "invalid georisques_id"),
        ("0999.00002", ok, "not in installations_all.csv"),
    ] {
        let mut rows = many(ap("0999.00001", ok, OcrStatus::Success));
        rows[3] = ap(s3ic, id, OcrStatus::Success);
        let e = validate::check("aps_all.csv", &rows, &inst).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains(want) && msg.contains("aps_all.csv line 5"),
            "{msg}"
        );
    }
    // The original's s3ic rule: non-digits are exactly {'.'}, wherever the dot is.
    assert!(validate::is_valid_s3ic("09.9901234"));
    assert!(!validate::is_valid_s3ic("0999901234"));
}

#[test]
fn validation_requires_more_than_90_percent_ocr() {
    let inst: HashSet<&str> = ["0999.00001"].into();
    let id = gid(1);
    let mut rows = vec![ap("0999.00001", &id, OcrStatus::Success); 9];
    rows.push(ap("0999.00001", &id, OcrStatus::Error));
    let e = validate::check("aps_all.csv", &rows, &inst).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Only 0.9% of APs have been successfully OCR'ed. (nothing published)"
    );
    rows.push(ap("0999.00001", &id, OcrStatus::Success));
    validate::check("aps_all.csv", &rows, &inst).unwrap();
    assert_eq!(validate::py_float(0.0), "0.0");
    assert_eq!(validate::py_float(1.0), "1.0");
    assert_eq!(validate::py_float(0.8731343283582089), "0.8731343283582089");
    assert_eq!(validate::py_float(5e-05), "5e-05");
}

#[test]
fn slack_counts_distinct_ids_and_transitions() {
    let prev_csv = format!(
        "installation_s3ic_id,description,date,georisques_id,ocr_status,size\n\
         x,d,,{a},NOT_ATTEMPTED,\nx,d,,{b},NOT_ATTEMPTED,\nx,d,,{c},SUCCESS,1.0\n\
         x,d,,{d},NOT_ATTEMPTED,\nx,d,,{gone},ERROR,\n",
        a = gid(1),
        b = gid(2),
        c = gid(3),
        d = gid(4),
        gone = gid(9)
    );
    let prev: HashMap<String, String> = slack::previous_statuses(prev_csv.as_bytes()).unwrap();
    let ids: Vec<String> = (1..=5).map(gid).collect();
    let rows = vec![
        ap("x", &ids[0], OcrStatus::Success),
        ap("x", &ids[0], OcrStatus::Success), // duplicate: counted once
        ap("x", &ids[1], OcrStatus::Error),
        ap("x", &ids[2], OcrStatus::Success),
        ap("x", &ids[3], OcrStatus::NotAttempted),
        ap("x", &ids[4], OcrStatus::NotAttempted), // new
    ];
    let r = slack::compare(&prev, &rows);
    assert_eq!(
        (r.deleted, r.new, r.ocr_success, r.ocr_errors),
        (1, 1, 1, 1)
    );
    assert_eq!(
        r.slack_text(),
        "*Depuis la dernière mise à jour du fichier aps_all.csv*\n1 AP supprimés.\n1 nouveaux AP.\n\
         1 AP OCRisés avec succès.\n1 erreurs d'OCR.\nStatuts actuels de l'OCR:\n\
         \tERROR: 1\n\tNOT_ATTEMPTED: 2\n\tSUCCESS: 2\n"
    );
    let first = slack::compare(&HashMap::new(), &rows);
    assert_eq!((first.deleted, first.new), (0, 5));
    assert!(slack::previous_statuses(b"a,b\n1,2\n").is_err());
}

/// Inputs with `n` APs over `k` installations, all OCRed.
fn small_inputs(n: usize, k: usize) -> (String, String, ApIndex) {
    let docs = dump_docs(n, k);
    let inst = installations((0..k).map(s3ic));
    let mut idx = ApIndex::default();
    for i in 0..n {
        idx.add(&format!("{}.pdf", gid(i)), 100 + i as u64);
    }
    (docs, inst, idx)
}

#[test]
fn build_publishes_seven_files_in_order() {
    let (docs, inst, idx) = small_inputs(120, 7);
    let out = build(&Inputs {
        documents: docs.as_bytes(),
        types: "1;Arrêté préfectoral\n".as_bytes(),
        installations: [inst.as_bytes(); 3],
        ap_index: &idx,
        previous_aps_all: None,
    })
    .unwrap();
    let names: Vec<_> = out.files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "documents_all.csv",
            "documents_sample.csv",
            "documents_idf.csv",
            "aps_all.csv",
            "aps_idf.csv",
            "aps_sample.csv",
            "georisques_ids.json"
        ]
    );
    assert_eq!(out.report.new, 120);
    assert_eq!(out.report.statuses["SUCCESS"], 120);
    assert_eq!(out.report.rows("aps_all.csv"), 120);
    let aps_all = std::str::from_utf8(&out.files[3].1).unwrap();
    // all sizes present → integers
    assert!(
        aps_all.contains(",SUCCESS,100\n") && !aps_all.contains(".0\n"),
        "{aps_all}"
    );
}

#[test]
fn build_requires_100_documents_and_100_aps_per_dataset() {
    let (docs, inst, idx) = small_inputs(99, 7);
    let e = build(&Inputs {
        documents: docs.as_bytes(),
        types: "1;Arrêté préfectoral\n".as_bytes(),
        installations: [inst.as_bytes(); 3],
        ap_index: &idx,
        previous_aps_all: None,
    })
    .err()
    .unwrap();
    assert!(
        matches!(
            e,
            ApsError::TooFew {
                what: "documents",
                rows: 99,
                ..
            }
        ),
        "{e}"
    );
    // 120 documents but only 60 APs.
    let (docs, inst, idx) = small_inputs(120, 7);
    let half: String = docs
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i % 2 == 0 {
                format!("{l}\n")
            } else {
                format!("{}\n", l.replacen(";1;", ";2;", 1))
            }
        })
        .collect();
    let e = build(&Inputs {
        documents: half.as_bytes(),
        types: "1;Arrêté préfectoral\n2;Rapport\n".as_bytes(),
        installations: [inst.as_bytes(); 3],
        ap_index: &idx,
        previous_aps_all: None,
    })
    .map(|_| ())
    .unwrap_err();
    assert!(
        matches!(
            e,
            ApsError::TooFew {
                what: "APs",
                rows: 60,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn build_filters_documents_by_dataset() {
    let (docs, all, idx) = small_inputs(300, 3);
    let idf = installations([s3ic(1)]);
    let sample = installations([s3ic(2)]);
    let out = build(&Inputs {
        documents: docs.as_bytes(),
        types: "1;Arrêté préfectoral\n".as_bytes(),
        installations: [all.as_bytes(), sample.as_bytes(), idf.as_bytes()],
        ap_index: &idx,
        previous_aps_all: None,
    })
    .unwrap();
    let idf_csv = std::str::from_utf8(&out.files[2].1).unwrap();
    assert_eq!(idf_csv.lines().count(), 101);
    assert!(idf_csv.lines().skip(1).all(|l| l.ends_with(&s3ic(1))));
}

// --- the dump archive ---------------------------------------------------------------------

enum Member<'a> {
    File(&'a str, &'a [u8]),
    Symlink(&'a str, &'a str),
}

/// A tar.gz with raw header names (so `..` and absolute paths can be written).
fn tar_gz(members: &[Member<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for m in members {
        let mut h = tar::Header::new_gnu();
        let (name, data): (&str, &[u8]) = match m {
            Member::File(n, d) => {
                h.set_entry_type(tar::EntryType::Regular);
                (n, d)
            }
            Member::Symlink(n, target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_link_name(target).unwrap();
                (n, b"")
            }
        };
        let raw = &mut h.as_old_mut().name;
        raw[..name.len()].copy_from_slice(name.as_bytes());
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append(&h, data).unwrap();
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&b.into_inner().unwrap()).unwrap();
    gz.finish().unwrap()
}

/// The default cap (`sources.max_source_mib`).
const MAX: u64 = 1 << 30;

const DOCS: Member = Member::File("IC_documents.csv", b"1;0999.00001;1;a;A/1/x.pdf;\n");
const TYPES: Member = Member::File("./IC_types_document.csv", b"1;Rapport\n");

#[test]
fn dump_reads_the_two_members() {
    let d = dump::read_members(
        &tar_gz(&[Member::File("README", b"x"), DOCS, TYPES])[..],
        MAX,
    )
    .unwrap();
    assert_eq!(d.types, b"1;Rapport\n");
    assert!(d.documents.starts_with(b"1;0999"));
    let e = dump::read_members(&tar_gz(&[DOCS])[..], MAX).unwrap_err();
    assert!(
        e.to_string().contains("IC_types_document.csv is missing"),
        "{e}"
    );
    let e = dump::read_members(&b"not gzip"[..], MAX).unwrap_err();
    assert!(matches!(e, ApsError::Archive(_)), "{e}");
}

#[test]
fn dump_rejects_unsafe_members() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("evil");
    for (members, want) in [
        (vec![DOCS, Member::File("../evil", b"x"), TYPES], "`..`"),
        (
            vec![Member::File("/tmp/evil", b"x"), DOCS, TYPES],
            "absolute",
        ),
        (
            vec![
                DOCS,
                Member::Symlink("IC_types_document.csv", "/etc/passwd"),
            ],
            "Symlink",
        ),
    ] {
        let e = dump::read_members(&tar_gz(&members)[..], MAX).unwrap_err();
        assert!(matches!(e, ApsError::UnsafeMember { .. }), "{e}");
        assert!(e.to_string().contains(want), "{e}");
    }
    let big = vec![b'x'; 2000];
    let e = dump::read_members_with_limits(
        &tar_gz(&[DOCS, TYPES, Member::File("big.bin", &big)])[..],
        1000,
        10,
        MAX,
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("big.bin") && e.to_string().contains("limit"),
        "{e}"
    );
    let many: Vec<Member> = (0..12).map(|_| Member::File("x", b"")).collect();
    let e = dump::read_members_with_limits(&tar_gz(&many)[..], 1000, 10, MAX).unwrap_err();
    assert!(e.to_string().contains("more than 10 members"), "{e}");
    // The decompressed archive as a whole is capped too: a bomb stops at the cap.
    let filler = vec![0u8; 64 << 10];
    let e = dump::read_members_with_limits(
        &tar_gz(&[Member::File("filler", &filler), DOCS, TYPES])[..],
        1 << 20,
        10,
        16 << 10,
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            ApsError::TooLarge {
                decompressed: true,
                ..
            }
        ),
        "{e}"
    );
    // Nothing is ever extracted.
    assert!(!outside.exists());
    assert!(!std::path::Path::new("/tmp/evil").exists() || cfg!(not(unix)));
}
