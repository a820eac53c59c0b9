//! Unit tests of the report texts and of delivery against a local webhook.

use super::*;

fn aps(new: usize) -> ApsReport {
    ApsReport {
        new,
        statuses: [("SUCCESS".to_string(), 3)].into_iter().collect(),
        ..ApsReport::default()
    }
}

#[test]
fn daily_text_combines_steps_and_names_failures() {
    let run = DailyReport {
        aps_before: Ok(aps(2)),
        ocr: Ok(OcrStats {
            succeeded: 2,
            pages_ocred: 10,
            seconds: 4.0,
            transient_failures: 1,
            ..OcrStats::default()
        }),
        aps_after: Err(StepError("cannot publish: put x failed".into())),
        seconds: [1.0, 4.0, 2.0],
    };
    let text = run.slack_text();
    assert!(text.starts_with("*Depuis la dernière mise à jour du fichier aps_all.csv*\n0 AP supprimés.\n2 nouveaux AP.\n"), "{text}");
    assert!(
        text.contains("OCR 4 s (2 documents, 10 pages, 2,50 pages/s)"),
        "{text}"
    );
    assert!(text.contains("1 documents en échec temporaire"), "{text}");
    assert!(
        text.ends_with("Échec de l'étape aps (2) : cannot publish: put x failed\n"),
        "{text}"
    );
    let none = DailyReport {
        aps_before: Err(StepError("a".into())),
        ocr: Err(StepError("b".into())),
        aps_after: Err(StepError("c".into())),
        seconds: [0.0; 3],
    };
    assert!(none
        .slack_text()
        .starts_with("*Mise à jour quotidienne des AP"));
}

#[test]
fn delivery_attaches_the_text_and_a_failed_post_is_a_problem() {
    let server = testkit::http::Server::start();
    server.route(
        "/hook",
        vec![testkit::http::Response::status(403, "invalid_token")],
    );
    let client = HttpClient::new(&crate::settings::HttpConfig::default()).unwrap();
    let url = Secret::new(server.url("/hook"));
    let mut summary = Summary::new("aps");
    deliver(
        "texte\n".into(),
        &Delivery {
            slack: Some(&url),
            client: &client,
        },
        &mut summary,
    );
    assert_eq!(summary.report.as_deref(), Some("texte\n"));
    assert_eq!(summary.status.code(), 1);
    assert!(
        summary.problems[0].contains("Slack webhook: HTTP 403"),
        "{:?}",
        summary.problems
    );
    assert!(
        !summary.problems[0].contains("/hook"),
        "{:?}",
        summary.problems
    );
    let mut printed_only = Summary::new("aps");
    deliver(
        "t\n".into(),
        &Delivery {
            slack: None,
            client: &client,
        },
        &mut printed_only,
    );
    assert_eq!(printed_only.status.code(), 0);
}

#[test]
fn slack_probe_posts_nothing_and_tells_valid_from_revoked_hooks() {
    let server = testkit::http::Server::start();
    server.route(
        "/valid",
        vec![testkit::http::Response::status(400, "no_text")],
    );
    server.route(
        "/revoked",
        vec![testkit::http::Response::status(404, "no_service")],
    );
    let client = HttpClient::new(&crate::settings::HttpConfig::default()).unwrap();
    let ok = probe_slack(&client, &server.url("/valid")).unwrap();
    assert!(
        ok.contains("no_text") && ok.contains("nothing posted"),
        "{ok}"
    );
    let e = probe_slack(&client, &server.url("/revoked")).unwrap_err();
    assert!(e.to_string().contains("HTTP 404"), "{e}");
    for r in server.requests() {
        assert_eq!(r.body, b"{}", "the probe sends an empty payload only");
    }
}
