//! The pages' frame: the layout with its inline CSS and the header's links (the overview, then
//! the pages each sync lists in its `nav`). The pieces inside pages are in [`crate::web`].
//! Nothing here fails.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::web::href;

const CSS: &str = r#"
:root { --fg:#1d2329; --muted:#5b6670; --line:#d8dde2; --bg:#f6f7f9; --ok:#1e7b34; --partial:#a66300;
        --failed:#b3261e; --running:#1f5fbf; --skipped:#6b7280; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color:var(--fg); background:var(--bg); }
header { background:#23303b; color:#fff; padding:.6rem 1.2rem; display:flex; gap:1.2rem; align-items:baseline; }
header a { color:#fff; text-decoration:none; font-weight:600; }
header nav a { font-weight:400; opacity:.85; margin-right:1rem; }
main { padding:1rem 1.2rem 2rem; max-width:1500px; }
h1 { font-size:1.35rem; margin:.2rem 0 .8rem; }
h2 { font-size:1.1rem; margin:1.6rem 0 .5rem; }
p.meta, .muted { color:var(--muted); }
table { border-collapse:collapse; background:#fff; border:1px solid var(--line); width:100%; }
th, td { padding:.3rem .55rem; border-bottom:1px solid var(--line); text-align:left; vertical-align:top; }
th { background:#eef1f4; font-weight:600; white-space:nowrap; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
td.time { white-space:nowrap; font-variant-numeric:tabular-nums; }
td.text { min-width:14rem; max-width:32rem; overflow-wrap:anywhere; font-size:.9em; }
td.nowrap { white-space:nowrap; }
.wide { overflow-x:auto; }
.wide table { width:auto; min-width:100%; }
tr.stale td:first-child { box-shadow: inset 4px 0 var(--failed); }
tr.error td { color:var(--failed); font-size:.9em; padding-top:0; overflow-wrap:anywhere; }
tr:has(+ tr.error) td { border-bottom:none; }
.badge { display:inline-block; padding:.05rem .45rem; border-radius:.6rem; font-size:.8em; font-weight:600;
         color:#fff; background:var(--skipped); white-space:nowrap; }
.badge.ok, .badge.fresh, .badge.success { background:var(--ok); }
.badge.partial { background:var(--partial); }
.badge.failed, .badge.stale { background:var(--failed); }
.badge.running { background:var(--running); }
.badge.big { font-size:1rem; padding:.15rem .7rem; }
.pager { margin:.6rem 0; display:flex; gap:1rem; align-items:center; }
.charts { display:grid; grid-template-columns:repeat(auto-fill, minmax(560px, 1fr)); gap:1rem; margin:.5rem 0 1rem; }
figure { margin:0; background:#fff; border:1px solid var(--line); padding:.4rem; }
figcaption { font-weight:600; font-size:.9em; margin:0 0 .2rem .3rem; }
svg { display:block; width:100%; height:auto; }
svg text { font:13px system-ui, "DejaVu Sans", sans-serif; fill:var(--muted); }
.empty { padding:1rem; background:#fff; border:1px dashed var(--line); color:var(--muted); }
form.filters { display:flex; flex-wrap:wrap; gap:.8rem; align-items:center; margin:.4rem 0 .6rem; }
form.filters input, form.filters select { font:inherit; padding:.15rem .3rem; }
section.error-row { background:#fff; border:1px solid var(--line); padding:.4rem .8rem; margin:.4rem 0; }
section.error-row p.row-head { margin:0 0 .3rem; color:var(--muted); }
section.error-row p.row-head b { color:var(--fg); font-weight:600; }
section.error-row details { margin-top:.3rem; }
pre { white-space:pre-wrap; overflow-wrap:anywhere; margin:0; font-size:.85em; }
pre.error { color:var(--failed); }
td.state { min-width:11rem; max-width:18rem; }
.reason { color:var(--failed); font-size:.85em; white-space:normal; }
pre.item { background:#f3f5f7; padding:.4rem; max-height:30rem; overflow:auto; }
footer { color:var(--muted); padding:0 1.2rem 1.5rem; font-size:.85em; }
"#;

/// A whole page.
pub fn layout(base: &str, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · data-tasks operations" }
                style { (PreEscaped(CSS)) }
            }
            body {
                header {
                    a href=(href(base, "/", &[])) { "data-tasks operations" }
                    nav {
                        a href=(href(base, "/", &[])) { "Overview" }
                        a href=(href(base, "/copies", &[])) { "Copies" }
                        @for (label, path) in crate::syncs::ops_panels().iter().flat_map(|s| s.nav) {
                            a href=(href(base, path, &[])) { (label) }
                        }
                    }
                }
                main { (body) }
                footer { "data-tasks " (env!("CARGO_PKG_VERSION")) " · read-only view · times from the database" }
            }
        }
    }
}
