//! Unit tests of id selection and download classification; the end-to-end runs (real origin
//! server, SeaweedFS, kill and rerun, shards) are in `tests/ocr.rs`.

use super::download::{looks_like_pdf, not_a_pdf};
use super::*;

#[test]
fn shards_partition_the_ids_stably() {
    let ids: Vec<String> = (0..3000)
        .map(|i| format!("Q/{:x}/{:032x}", i % 16, i * 7919))
        .collect();
    let shards: Vec<Shard> = (0..3).map(|i| format!("{i}/3").parse().unwrap()).collect();
    let mut count = [0usize; 3];
    for id in &ids {
        let owners: Vec<usize> = (0..3).filter(|&s| shards[s].contains(id)).collect();
        assert_eq!(owners.len(), 1, "{id} owned by {owners:?}");
        count[owners[0]] += 1;
    }
    assert!(count.iter().all(|&c| c > 800), "{count:?}");
    // Stable across machines and releases: the hash is FNV-1a 64 (reference value of "a").
    assert_eq!(super::ids::fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(
        super::ids::Shard { index: 1, count: 2 },
        "1/2".parse().unwrap()
    );
    for bad in ["3/3", "1", "a/2", "0/0"] {
        assert!(bad.parse::<Shard>().is_err(), "{bad}");
    }
}

#[test]
fn id_lists_reject_bad_shapes_before_any_use() {
    let l = parse_ids(
        "ids.json",
        r#"["Q/7/0a1b2c3d4e5f60718293a4b5c6d7e8f9", "../../etc/passwd", "Q/7/0a1b2c3d4e5f60718293a4b5c6d7e8f9", "B/0/0068d40fc3072bea15e413fa79a0b6c8"]"#,
    )
    .unwrap();
    assert_eq!(l.ids.len(), 2);
    assert_eq!(l.rejected.len(), 1);
    assert!(l.rejected[0].contains("entry 2"), "{:?}", l.rejected);
    let lines = parse_ids("ids.txt", "Q/7/0a1b2c3d4e5f60718293a4b5c6d7e8f9\n\nnope\n").unwrap();
    assert_eq!((lines.ids.len(), lines.rejected.len()), (1, 1));
    assert!(parse_ids("x.json", "[1, 2]").is_err());
}

#[test]
fn pdf_magic_check() {
    assert!(looks_like_pdf(b"%PDF-1.7\n..."));
    assert!(looks_like_pdf(b"\n\n%PDF-1.4"));
    assert!(!looks_like_pdf(b"<!DOCTYPE html><html>Erreur</html>"));
    assert!(!looks_like_pdf(b""));
}

#[test]
fn error_records_name_kind_and_message() {
    let t = pipeline::error_record(
        "Q/7/0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        "encrypted",
        "needs a password",
    );
    assert_eq!(
        t,
        "id: Q/7/0a1b2c3d4e5f60718293a4b5c6d7e8f9\nkind: encrypted\nmessage: needs a password\n"
    );
}

#[test]
fn id_lists_larger_than_the_cap_are_refused_before_reading() {
    let misc = Store::open("memory://ocr-ids-cap").unwrap();
    misc.put("georisques_ids.json", vec![b' '; 2000]).unwrap();
    let e = ids::load(None, &misc, 1000).err().unwrap();
    assert!(matches!(e, IdsError::TooLarge { .. }), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("ids.txt");
    std::fs::write(&p, vec![b'\n'; 2000]).unwrap();
    let e = ids::load(Some(&p), &misc, 1000).err().unwrap();
    assert!(e.to_string().contains("sources.max_source_mib"), "{e}");
    assert!(ids::load(Some(&p), &misc, 4000).is_ok());
}

#[test]
fn error_records_of_html_answers_are_short() {
    let page = format!(
        "<!DOCTYPE html><html><head><style>body {{ color: red }}</style></head><body><h1>Erreur 500</h1><p>{}</p></body></html>",
        "Le service est momentanément indisponible. ".repeat(200)
    );
    let m = not_a_pdf(200, Some("text/html; charset=utf-8"), page.as_bytes());
    assert!(
        m.starts_with(&format!(
            "HTTP 200, text/html; charset=utf-8, {} bytes, not a PDF: ",
            page.len()
        )),
        "{m}"
    );
    assert!(m.contains("Erreur 500 Le service"), "{m}");
    assert!(!m.contains('<') && m.chars().count() < 300, "{m}");
    assert_eq!(
        not_a_pdf(200, None, b""),
        "HTTP 200, no content type, 0 bytes, not a PDF"
    );
}
