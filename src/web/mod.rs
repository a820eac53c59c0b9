//! The building blocks of the dashboard's pages, shared by `ops::dashboard` (the frame, the runs)
//! and the syncs' own panels (`syncs::<name>::ops`): status badges, links under the base path,
//! the pager, empty-table placeholders and inline SVG charts ([`chart`]). maud escapes every
//! interpolated value, so text from the database (errors, comments, filters) cannot inject
//! markup. Nothing here fails.

pub mod chart;

use maud::{html, Markup};

/// Rows per page of every paged table.
pub const PER_PAGE: i64 = 50;

/// The colours of chart series, in the order the pages use them.
pub const COLORS: [&str; 5] = ["#1f77b4", "#2ca02c", "#ff7f0e", "#d62728", "#6f42c1"];

/// A link under the base path, with query parameters.
pub fn href(base: &str, path: &str, params: &[(&str, &str)]) -> String {
    let mut out = format!("{base}{path}");
    if !params.is_empty() {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in params {
            q.append_pair(k, v);
        }
        out.push('?');
        out.push_str(&q.finish());
    }
    out
}

/// The CSS class of a run status (sync_run's, or gn2pg's `xfer_status`).
pub fn status_class(status: &str) -> &'static str {
    match status {
        "ok" | "success" | "fresh" => "ok",
        "partial" => "partial",
        "failed" | "STALE" | "stale" => "failed",
        "running" | "init" | "importing data" | "delete" => "running",
        _ => "skipped",
    }
}

pub fn badge(status: &str) -> Markup {
    html! { span class=(format!("badge {}", status_class(status))) { (status) } }
}

/// The 1-based page of a `?page=` parameter and its SQL offset.
pub fn page_offset(page: Option<u32>) -> (i64, i64) {
    let page = i64::from(page.unwrap_or(1).max(1));
    (page, (page - 1) * PER_PAGE)
}

/// "page N of M" with previous/next links; `link(n)` builds page n's URL.
pub fn pager(page: i64, total: i64, link: impl Fn(i64) -> String) -> Markup {
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    html! {
        nav.pager {
            @if page > 1 { a href=(link(page - 1)) rel="prev" { "← newer" } }
            span.muted { "page " (page) " of " (pages) " · " (total) " rows" }
            @if page < pages { a href=(link(page + 1)) rel="next" { "older →" } }
        }
    }
}

/// A placeholder for an empty table.
pub fn empty(text: &str) -> Markup {
    html! { p.empty { (text) } }
}
