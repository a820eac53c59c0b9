//! The documentation stays inside the repository and its references stay precise:
//! - every relative link of `README.md` and `docs/**/*.md` resolves to a file or folder of the
//!   repository and, for a `#anchor` into a Markdown page, to one of its headings (GitHub's
//!   anchors);
//! - every section cited as `docs/formats.md §6.4` / `formats §6.4` / `architecture.md §3` /
//!   `docs/syncs/gn2pg.md §6` / `docs/syncs/README.md §3` — in the code, the scripts, the test
//!   data and the pages themselves — is a numbered heading of that page (a bare `§N` inside a page
//!   cites the page itself; the scheme of `docs/syncs/` is stated in its README);
//! - every Markdown file a code comment (`//`, `///`, `//!` in `src/`, `crates/`, `tests/`,
//!   `examples/`; `#` in `scripts/`) names exists, from the repository root or from the citing
//!   file's folder;
//! - nothing cites the specifications that live outside the repository (`envinorma-formats.md`,
//!   `design.md`, `syncs.md`), which a clone does not contain.
//!
//! Markdown is parsed with pulldown-cmark, so text in code spans and code blocks is never taken for
//! a link, reference-style links are resolved, and heading text is what a renderer shows.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use regex::Regex;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rel(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// One link of a page: the 1-based line it starts on and its destination as written.
struct Link {
    line: usize,
    dest: String,
}

/// What a Markdown page offers to links and citations.
#[derive(Default)]
struct Page {
    links: Vec<Link>,
    /// Anchors of its headings (GitHub slugs, `-1`, `-2`… for repeats; explicit `{#id}`s) and of
    /// inline `<a id>`/`<a name>` tags.
    anchors: BTreeSet<String>,
    /// Section numbers of its numbered headings (`## 6. …` → `6`, `### 6.4 …` → `6.4`).
    sections: BTreeSet<String>,
}

/// GitHub's heading anchor: lower-case, spaces to `-`, everything but letters, digits, `-` and
/// `_` dropped.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .collect()
}

fn parse(text: &str) -> Page {
    let section = Regex::new(r"^(\d+(?:\.\d+)*)\.?\s").unwrap();
    let html_anchor = Regex::new(r#"<a\s[^>]*(?:id|name)\s*=\s*"([^"]+)""#).unwrap();
    let line_of = |offset: usize| text[..offset].matches('\n').count() + 1;
    let mut page = Page::default();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut heading: Option<(String, Option<String>)> = None;
    let options = Options::ENABLE_TABLES | Options::ENABLE_HEADING_ATTRIBUTES;
    for (event, range) in Parser::new_ext(text, options).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { id, .. }) => {
                heading = Some((String::new(), id.map(|s| s.to_string())));
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some((h, _)) = heading.as_mut() {
                    h.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                let Some((h, id)) = heading.take() else {
                    continue;
                };
                let base = slug(&h);
                let n = seen.entry(base.clone()).or_default();
                page.anchors.insert(match *n {
                    0 => base.clone(),
                    k => format!("{base}-{k}"),
                });
                *n += 1;
                page.anchors.extend(id);
                if let Some(c) = section.captures(h.trim()) {
                    page.sections.insert(c[1].to_string());
                }
            }
            Event::Start(Tag::Link { dest_url, .. })
            | Event::Start(Tag::Image { dest_url, .. }) => {
                page.links.push(Link {
                    line: line_of(range.start),
                    dest: dest_url.to_string(),
                });
            }
            Event::Html(h) | Event::InlineHtml(h) => {
                for c in html_anchor.captures_iter(&h) {
                    page.anchors.insert(c[1].to_string());
                }
            }
            _ => {}
        }
    }
    page
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", rel(path)))
}

/// Files under `dir` (recursively) whose name ends with one of `exts`, skipping build outputs and
/// the dependency folder.
fn files(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !matches!(name.as_str(), "target" | ".deps" | ".git" | "node_modules") {
                files(&path, exts, out);
            }
        } else if exts.iter().any(|e| name.ends_with(e)) {
            out.push(path);
        }
    }
}

/// `README.md` and every page under `docs/`.
fn pages() -> Vec<PathBuf> {
    let mut out = vec![root().join("README.md")];
    files(&root().join("docs"), &[".md"], &mut out);
    out.sort();
    out
}

/// `path` with `.` and `..` resolved lexically; `None` when it climbs out of the repository.
fn inside_repo(path: &Path) -> Option<PathBuf> {
    let root = root();
    let mut out = PathBuf::new();
    for c in path.strip_prefix(&root).ok()?.components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(root.join(out))
}

/// Why `link` of `page` does not resolve, if it does not.
fn broken(page: &Path, link: &Link, parsed: &mut BTreeMap<PathBuf, Page>) -> Option<String> {
    let scheme = Regex::new(r"^[A-Za-z][A-Za-z0-9+.-]*:").unwrap();
    if scheme.is_match(&link.dest) || link.dest.starts_with("//") {
        return None; // external: not checked here
    }
    let (path, anchor) = match link.dest.split_once('#') {
        Some((p, a)) => (p, Some(a)),
        None => (link.dest.as_str(), None),
    };
    let path = percent_encoding::percent_decode_str(path)
        .decode_utf8_lossy()
        .into_owned();
    let target = if path.is_empty() {
        page.to_path_buf()
    } else if let Some(from_root) = path.strip_prefix('/') {
        root().join(from_root)
    } else {
        page.parent().unwrap_or(&root()).join(&path)
    };
    let Some(target) = inside_repo(&target) else {
        return Some("points outside the repository".into());
    };
    if !target.exists() {
        return Some(format!("{} does not exist", rel(&target)));
    }
    let anchor = anchor.filter(|a| !a.is_empty())?;
    if target.extension().is_some_and(|e| e == "md") {
        let target_page = parsed
            .entry(target.clone())
            .or_insert_with(|| parse(&read(&target)));
        if target_page.anchors.contains(anchor) {
            return None;
        }
        return Some(format!(
            "{} has no heading with anchor #{anchor} (anchors: {})",
            rel(&target),
            target_page
                .anchors
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let line_anchor = Regex::new(r"^L\d+(-L\d+)?$").unwrap();
    if target.is_file() && line_anchor.is_match(anchor) {
        return None;
    }
    Some(format!(
        "#{anchor} cannot be checked on {} (only Markdown headings and #L<line> anchors)",
        rel(&target)
    ))
}

#[test]
fn every_relative_link_of_the_readme_and_docs_resolves() {
    let mut parsed: BTreeMap<PathBuf, Page> = BTreeMap::new();
    let mut errors = Vec::new();
    let mut checked = 0;
    for page in pages() {
        let links = std::mem::take(
            &mut parsed
                .entry(page.clone())
                .or_insert_with(|| parse(&read(&page)))
                .links,
        );
        for link in &links {
            checked += 1;
            if let Some(why) = broken(&page, link, &mut parsed) {
                errors.push(format!(
                    "{}:{}: ({}) {why}",
                    rel(&page),
                    link.line,
                    link.dest
                ));
            }
        }
    }
    assert!(
        checked > 10,
        "only {checked} links found: is the parser working?"
    );
    assert!(
        errors.is_empty(),
        "{} broken link(s):\n{}",
        errors.len(),
        errors.join("\n")
    );
}

/// The pages whose numbered sections are cited, as `docs/<page>.md`.
const CITED_PAGES: [&str; 6] = [
    "formats",
    "architecture",
    "syncs/README",
    "syncs/gn2pg",
    "syncs/visionature",
    "syncs/ecospheres",
];

/// Section citations of a text: `(byte offset, page, section)`. A citation starts with a page name
/// (`docs/formats.md`, `formats`, `architecture.md`, `docs/syncs/gn2pg.md`, `gn2pg.md`,
/// `syncs/README.md`…, possibly wrapped onto the next line, comment marker included) and covers
/// every `§` up to the next `)`, `]`, `;`, end of sentence or blank line (`formats §3.4, §4.6`;
/// ranges `§5–7`, `§3–§4` cite both ends). Outside a citation, a bare `§N` cites `own` when given
/// (inside a page). Pages are named as in [`CITED_PAGES`].
fn citations(text: &str, own: Option<&str>) -> Vec<(usize, String, String)> {
    let prefix = Regex::new(
        r"(?:docs/)?\b(?:((?i:formats|architecture))(?:\.md)?|(syncs/README|(?:syncs/)?(?:gn2pg|visionature|ecospheres))\.md)\s+(?:(?://[/!]?|#)\s*)?§",
    )
    .unwrap();
    let mark = Regex::new(r"§(\d+(?:\.\d+)?)(?:\s*[–-]\s*§?(\d+(?:\.\d+)?))?").unwrap();
    let stop = Regex::new(r"[)\];]|\.\s|\n\s*\n").unwrap();
    let mut out = Vec::new();
    let mut covered: Vec<(usize, usize)> = Vec::new();
    for m in prefix.captures_iter(text) {
        let start = m.get(0).unwrap().end() - '§'.len_utf8();
        let end = stop.find_at(text, start).map_or(text.len(), |s| s.start());
        covered.push((start, end));
        for c in mark.captures_iter(&text[start..end]) {
            for n in [c.get(1), c.get(2)].into_iter().flatten() {
                let page = match (m.get(1), m.get(2)) {
                    (Some(p), _) => p.as_str().to_lowercase(),
                    (None, Some(p)) => format!("syncs/{}", p.as_str().trim_start_matches("syncs/")),
                    (None, None) => unreachable!("the prefix names a page"),
                };
                out.push((start + n.start(), page, n.as_str().to_string()));
            }
        }
    }
    if let Some(own) = own {
        for c in mark.captures_iter(text) {
            let at = c.get(0).unwrap().start();
            if covered.iter().any(|&(s, e)| (s..e).contains(&at)) {
                continue;
            }
            for n in [c.get(1), c.get(2)].into_iter().flatten() {
                out.push((n.start(), own.to_string(), n.as_str().to_string()));
            }
        }
    }
    out
}

/// Text files where sections are cited: the code, scripts, test data, deployment files and docs.
fn citing_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let exts = [".rs", ".py", ".sh", ".md", ".toml", ".yaml", ".yml", ".sql"];
    for dir in [
        "src", "crates", "tests", "scripts", "testdata", "docker", "docs", "bench", "examples",
    ] {
        files(&root().join(dir), &exts, &mut out);
    }
    out.extend(
        ["README.md", "Dockerfile", "Cargo.toml", ".ci/run"]
            .iter()
            .map(|f| root().join(f)),
    );
    out.retain(|p| p.is_file());
    out.sort();
    out
}

#[test]
fn every_cited_section_exists() {
    let sections: BTreeMap<&str, BTreeSet<String>> = CITED_PAGES
        .into_iter()
        .map(|name| {
            let path = root().join(format!("docs/{name}.md"));
            (name, parse(&read(&path)).sections)
        })
        .collect();
    let mut errors = Vec::new();
    let mut checked = 0;
    for file in citing_files() {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue; // not text
        };
        let own = CITED_PAGES
            .into_iter()
            .find(|n| file == root().join(format!("docs/{n}.md")));
        for (at, page, section) in citations(&text, own) {
            checked += 1;
            if !sections[page.as_str()].contains(&section) {
                errors.push(format!(
                    "{}:{}: cites {page} §{section}, which docs/{page}.md does not have",
                    rel(&file),
                    text[..at].matches('\n').count() + 1
                ));
            }
        }
    }
    assert!(checked > 20, "only {checked} citations found");
    assert!(
        errors.is_empty(),
        "{} dangling citation(s):\n{}",
        errors.len(),
        errors.join("\n")
    );
}

#[test]
fn nothing_cites_the_specifications_outside_the_repository() {
    let outside =
        Regex::new(r"(?:^|[^/\w-])((?:envinorma-formats|design|syncs)\.md)\b|/work/shared/")
            .unwrap();
    let this = root().join("tests/docs_links.rs");
    let mut errors = Vec::new();
    for file in citing_files() {
        // bench/ holds recorded outputs, kept as they were printed.
        if file == this || file.starts_with(root().join("bench")) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for (i, line) in text.lines().enumerate() {
            if let Some(c) = outside.captures(line) {
                let m = c.get(1).or(c.get(0)).unwrap();
                errors.push(format!(
                    "{}:{}: cites {} (not in the repository: cite docs/ instead)",
                    rel(&file),
                    i + 1,
                    m.as_str()
                ));
            }
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

/// Names of files the benchmark scripts write, which their comments mention: not citations.
const WRITTEN_BY_SCRIPTS: [&str; 2] = ["summary.md", "results.md"];

/// The comment text of each line of a source file: after `//` in Rust, after `#` in scripts
/// (a `#!` line excepted). A marker inside a string on a code line (`"http://…"`) is not taken
/// for a comment: a trailing comment needs a space before its marker.
fn comments(path: &Path, text: &str) -> Vec<(usize, String)> {
    let rust = path.extension().is_some_and(|e| e == "rs");
    let (marker, trailing) = if rust { ("//", " //") } else { ("#", " #") };
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let comment = if trimmed.starts_with(marker) && !trimmed.starts_with("#!") {
            Some(trimmed)
        } else {
            line.find(trailing).map(|at| &line[at + 1..])
        };
        if let Some(c) = comment {
            out.push((i + 1, c.to_string()));
        }
    }
    out
}

/// The Markdown paths a comment names (`docs/ops.md`, `STYLE.md`, `../README.md`). A name inside a
/// placeholder or a URL (`bench/<date>/summary.md`, `https://host/x.md`) is not a citation.
fn md_paths(comment: &str) -> Vec<String> {
    let path = Regex::new(r"(?:[\w.-]+/)*[\w.-]*\w\.md\b").unwrap();
    path.find_iter(comment)
        .filter(|m| {
            let before = comment[..m.start()].chars().next_back();
            !matches!(
                before,
                Some('/' | '<' | '>' | '*' | '$' | '{' | '}' | ':' | '-' | '.')
            )
        })
        .map(|m| m.as_str().to_string())
        .filter(|p| !WRITTEN_BY_SCRIPTS.contains(&p.as_str()))
        .collect()
}

#[test]
fn every_markdown_file_named_in_a_comment_exists() {
    let mut sources = Vec::new();
    for dir in ["src", "crates", "tests", "examples"] {
        files(&root().join(dir), &[".rs"], &mut sources);
    }
    files(&root().join("scripts"), &[".sh", ".py"], &mut sources);
    sources.sort();
    let this = root().join("tests/docs_links.rs");
    let mut errors = Vec::new();
    let mut checked = 0;
    for file in sources.iter().filter(|f| **f != this) {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for (line, comment) in comments(file, &text) {
            for cited in md_paths(&comment) {
                checked += 1;
                let from_root = inside_repo(&root().join(&cited));
                let from_file = inside_repo(&file.parent().unwrap_or(&root()).join(&cited));
                if ![from_root, from_file]
                    .into_iter()
                    .flatten()
                    .any(|p| p.is_file())
                {
                    errors.push(format!(
                        "{}:{line}: names {cited}, which is not a file of the repository (from its root or from {})",
                        rel(file),
                        rel(file.parent().unwrap_or(&root()))
                    ));
                }
            }
        }
    }
    assert!(
        checked > 20,
        "only {checked} Markdown names found in comments"
    );
    assert!(
        errors.is_empty(),
        "{} comment(s) name missing Markdown files:\n{}",
        errors.len(),
        errors.join("\n")
    );
}

#[test]
fn the_helpers_follow_github_and_the_citation_rules() {
    assert_eq!(
        slug("11. Deliberate differences from the original pipeline"),
        "11-deliberate-differences-from-the-original-pipeline"
    );
    assert_eq!(
        slug("3. `installations_{all,sample,idf}.csv`"),
        "3-installations_allsampleidfcsv"
    );
    assert_eq!(slug("8.4 `<id>.error.txt`"), "84-iderrortxt");
    assert_eq!(slug("Génération, données"), "génération-données");
    let page =
        parse("# A\n\n## A\n\n```\n[not](a-link.md)\n```\n`[nor](this.md)` [yes](x.md#a-1)\n");
    assert_eq!(page.anchors, BTreeSet::from(["a".into(), "a-1".into()]));
    assert_eq!(page.links.len(), 1);
    assert_eq!(
        (page.links[0].line, page.links[0].dest.as_str()),
        (8, "x.md#a-1")
    );
    let pairs = |v: Vec<(usize, String, String)>| {
        v.into_iter()
            .map(|(_, p, s)| format!("{p} {s}"))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        pairs(citations("(docs/formats.md §3.4, §4.6) and §2", None)),
        ["formats 3.4", "formats 4.6"]
    );
    assert_eq!(
        pairs(citations(
            "the files of formats §3–§4; see §8 and [architecture.md §3](architecture.md#3-x)",
            Some("formats")
        )),
        ["formats 3", "formats 4", "architecture 3", "formats 8"]
    );
    assert_eq!(
        pairs(citations("docs/formats.md §5–7 and §10.1,", None)),
        ["formats 5", "formats 7", "formats 10.1"]
    );
    assert_eq!(
        pairs(citations(
            "(docs/syncs/gn2pg.md §6, §9) `syncs/README.md §3`; visionature.md\n//! §7. And §2",
            Some("syncs/ecospheres")
        )),
        [
            "syncs/gn2pg 6",
            "syncs/gn2pg 9",
            "syncs/README 3",
            "syncs/visionature 7",
            "syncs/ecospheres 2"
        ]
    );
    let names = |c: &str| md_paths(c);
    assert_eq!(
        names("// see docs/ops.md, STYLE.md and ../README.md; not https://h/x.md"),
        ["docs/ops.md", "STYLE.md", "../README.md"]
    );
    assert_eq!(
        names("# writes bench/<date>/summary.md and summary.md; syncs.md §2"),
        ["syncs.md"]
    );
    let c = comments(
        Path::new("a.rs"),
        "let u = \"http://x/y.md\"; // z.md\n//! w.md\n",
    );
    assert_eq!(c, [(1, "// z.md".to_string()), (2, "//! w.md".to_string())]);
    assert_eq!(
        pairs(citations(
            "failures (formats\n§8.5). Then §2.\n\nformats §1, §3. And §4",
            Some("architecture")
        )),
        [
            "formats 8.5",
            "formats 1",
            "formats 3",
            "architecture 2",
            "architecture 4"
        ]
    );
}
