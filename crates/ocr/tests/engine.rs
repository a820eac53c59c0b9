//! End-to-end tests of the OCR engine on the generated fixtures (testdata/ocr/fixtures).

mod common;

use common::*;
use ocr::{OcrOptions, OcrOutput};

fn run(name: &str) -> Option<(Vec<u8>, OcrOutput)> {
    let engine = engine()?;
    let input = fixture(name);
    let out = engine
        .process(&input)
        .unwrap_or_else(|e| panic!("{name}: {e} ({})", e.kind()));
    Some((input, out))
}

/// OCRed output: valid, originals untouched, text close to the truth, idempotent.
fn check_ocred(name: &str, max_cer: f64, pdftotext_cer: Option<f64>) -> Option<OcrOutput> {
    let (input, out) = run(name)?;
    assert!(!out.already_searchable, "{name}: nothing OCRed");
    assert!(out.pages_ocred > 0);
    let c = cer(&out.text, &truth(name));
    eprintln!(
        "{name}: sidecar CER {c:.4}, confidence {:?}",
        out.mean_confidence
    );
    assert!(
        c < max_cer,
        "{name}: sidecar CER {c:.4} ≥ {max_cer}\n{}",
        out.text
    );
    assert_qpdf_clean(&out.pdf);
    assert_page_streams_unchanged(&input, &out.pdf);
    if let (Some(limit), Some(text)) = (pdftotext_cer, pdftotext(&out.pdf, false)) {
        let c = cer(&text, &truth(name));
        eprintln!("{name}: pdftotext CER {c:.4}");
        assert!(c < limit, "{name}: pdftotext CER {c:.4} ≥ {limit}\n{text}");
    }
    // Second run on our own output: nothing to do, bytes unchanged.
    let again = engine()?.process(&out.pdf).expect("second run");
    assert!(
        again.already_searchable,
        "{name}: second run OCRed {} pages",
        again.pages_ocred
    );
    assert_eq!(again.pdf, out.pdf, "{name}: second run changed the bytes");
    Some(out)
}

#[test]
fn scanned_arrete_is_searchable_with_accents() {
    let Some(out) = check_ocred("scan_arrete", 0.03, Some(0.05)) else {
        return;
    };
    assert_eq!((out.pages, out.pages_ocred, out.pages_kept), (2, 2, 0));
    assert_eq!(
        out.text.matches('\u{c}').count(),
        1,
        "pages separated by a form feed"
    );
    let text = pdftotext(&out.pdf, false).unwrap_or_else(|| out.text.clone());
    for word in ["Arrêté", "préfectoral", "complémentaires", "PRÉFET"] {
        assert!(text.contains(word), "{word:?} not extractable:\n{text}");
    }
    assert!(out.mean_confidence.is_some_and(|c| c > 80.0));
}

#[test]
fn two_columns_are_read_column_by_column() {
    check_ocred("two_columns", 0.05, None);
}

#[test]
fn sideways_scan_is_detected_and_placed() {
    let Some(out) = check_ocred("sideways_scan", 0.05, None) else {
        return;
    };
    let text = pdftotext(&out.pdf, true).unwrap_or_default();
    assert!(
        text.contains("Arrêté préfectoral") || text.is_empty(),
        "{text}"
    );
}

#[test]
fn upside_down_scan_is_detected_and_placed() {
    check_ocred("upside_down_scan", 0.05, Some(0.05));
}

#[test]
fn page_rotate_attribute_is_honoured() {
    check_ocred("rotate_attr", 0.05, Some(0.05));
}

#[test]
fn garbage_text_layer_is_ocred() {
    check_ocred("garbage_layer", 0.05, None);
}

#[test]
fn text_drawn_as_curves_is_ocred() {
    check_ocred("vector_text", 0.05, Some(0.05));
}

#[test]
fn huge_page_is_rendered_under_the_pixel_cap() {
    check_ocred("huge_page", 0.10, None);
}

#[test]
fn mixed_document_ocrs_only_the_scanned_page() {
    let Some(out) = check_ocred("mixed", 0.05, Some(0.05)) else {
        return;
    };
    assert_eq!((out.pages, out.pages_ocred, out.pages_kept), (2, 1, 1));
}

#[test]
fn born_digital_is_returned_unchanged() {
    let Some((input, out)) = run("born_digital") else {
        return;
    };
    assert!(out.already_searchable);
    assert_eq!(out.pdf, input);
    assert_eq!((out.pages_ocred, out.pages_kept), (0, 1));
    assert!(
        cer(&out.text, &truth("born_digital")) < 0.01,
        "{}",
        out.text
    );
    assert_eq!(out.mean_confidence, None);
}

#[test]
fn force_ocr_adds_a_layer_over_existing_text() {
    let Some(engine) = engine_with(OcrOptions {
        jobs: 1,
        force_ocr: true,
        ..OcrOptions::default()
    }) else {
        return;
    };
    let input = fixture("born_digital");
    let out = engine.process(&input).expect("force_ocr");
    assert_eq!(out.pages_ocred, 1);
    assert!(!out.already_searchable);
    assert_qpdf_clean(&out.pdf);
    assert_page_streams_unchanged(&input, &out.pdf);
}

#[test]
fn owner_password_only_file_is_processed() {
    let Some(out) = check_ocred("encrypted_owner", 0.05, Some(0.05)) else {
        return;
    };
    assert!(!String::from_utf8_lossy(&out.pdf).contains("/Encrypt"));
}

#[test]
fn error_kinds() {
    let Some(engine) = engine() else { return };
    for (name, kind) in [
        ("encrypted_user", "encrypted"),
        ("truncated", "invalid_pdf"),
        ("not_a_pdf", "invalid_pdf"),
        ("zero_pages", "no_pages"),
    ] {
        let err = engine.process(&fixture(name)).expect_err(name);
        assert_eq!(err.kind(), kind, "{name}: {err}");
    }
    assert_eq!(engine.process(b"").unwrap_err().kind(), "invalid_pdf");
    assert_eq!(
        engine.process(b"%PDF-1.4\n").unwrap_err().kind(),
        "invalid_pdf"
    );
}

#[test]
fn stream_reports_every_document_once() {
    let Some(engine) = engine() else { return };
    let names = [
        "scan_arrete",
        "truncated",
        "born_digital",
        "mixed",
        "zero_pages",
        "rotate_attr",
    ];
    let docs = names.iter().map(|n| (n.to_string(), fixture(n)));
    let mut seen = Vec::new();
    engine.process_stream(docs, |name, result| {
        let ok = match (&name[..], &result) {
            ("truncated", Err(e)) => e.kind() == "invalid_pdf",
            ("zero_pages", Err(e)) => e.kind() == "no_pages",
            ("born_digital", Ok(o)) => o.already_searchable,
            (_, Ok(o)) => o.pages_ocred > 0,
            _ => false,
        };
        assert!(ok, "{name}: unexpected {:?}", result.map(|o| o.pages_ocred));
        seen.push(name);
    });
    seen.sort();
    let mut expected: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(seen, expected);
}

#[test]
fn missing_language_is_a_setup_error() {
    let err = ocr::OcrEngine::new(OcrOptions {
        language: "zzz".into(),
        ..OcrOptions::default()
    })
    .err()
    .expect("unknown language must fail");
    assert!(err.to_string().contains("zzz"), "{err}");
}

#[test]
fn engine_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ocr::OcrEngine>();
}

#[test]
fn a_scan_without_text_is_ocred_once() {
    let Some(engine) = engine() else { return };
    let input = blank_pdf(true);
    let out = engine.process(&input).expect("blank scan");
    assert_eq!((out.pages_ocred, out.pages_without_text), (1, 1));
    assert!(!out.already_searchable);
    assert_qpdf_clean(&out.pdf);
    assert_page_streams_unchanged(&input, &out.pdf);
    // The empty OCR layer marks the page as done: a second run keeps it, bytes unchanged.
    let again = engine.process(&out.pdf).expect("second run");
    assert!(
        again.already_searchable,
        "{} pages OCRed again",
        again.pages_ocred
    );
    assert_eq!((again.kept.ocr_layer, again.kept.ocr_layer_empty), (0, 1));
    assert_eq!(again.pdf, out.pdf);
}

#[test]
fn kept_pages_say_why() {
    let Some(engine) = engine() else { return };
    let blank = engine.process(&blank_pdf(false)).expect("blank page");
    assert!(blank.already_searchable);
    assert_eq!(
        blank.kept,
        ocr::KeptPages {
            blank: 1,
            ..ocr::KeptPages::default()
        }
    );
    let Some((_, born)) = run("born_digital") else {
        return;
    };
    assert_eq!((born.kept.text, born.kept.blank), (1, 0));
}

#[test]
fn observer_sees_every_page_once() {
    let Some(engine) = engine() else { return };
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    let out = engine
        .process_observed(
            &fixture("mixed"),
            std::sync::Arc::new(move |p: &ocr::PageDone| sink.lock().unwrap().push(p.clone())),
        )
        .expect("mixed");
    let mut pages: Vec<(usize, usize, bool)> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|p| (p.page, p.pages, matches!(p.action, ocr::PageAction::Ocr(_))))
        .collect();
    pages.sort();
    assert_eq!(pages.len(), out.pages);
    assert_eq!(pages.iter().filter(|p| p.2).count(), out.pages_ocred);
    assert!(pages
        .iter()
        .enumerate()
        .all(|(i, p)| p.0 == i + 1 && p.1 == out.pages));
}
