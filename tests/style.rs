//! Policies of STYLE.md that the compiler and clippy cannot check, checked on the sources of every
//! crate of the workspace:
//! - an error message never repeats its source: a `thiserror` variant that has a source
//!   (`#[from]`, `#[source]` or a field named `source`) does not print it (`{0}`, `{source}`), so
//!   the chain the binary prints shows each cause once;
//! - no public library function returns `Result<_, String>`.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Library sources of the workspace (`src/` of the root crate and of `crates/*` but the test
/// helpers of `crates/testkit`), with their text up to their unit tests.
fn library_sources() -> Vec<(PathBuf, String)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    for krate in std::fs::read_dir(root.join("crates")).unwrap().flatten() {
        let src = krate.path().join("src");
        if src.is_dir() && !krate.path().ends_with("testkit") {
            rust_files(&src, &mut files);
        }
    }
    files.sort();
    files
        .into_iter()
        .filter(|f| !f.ends_with("tests.rs"))
        .map(|f| {
            let mut text = std::fs::read_to_string(&f).unwrap();
            if let Some(at) = text.find("#[cfg(test)]") {
                text.truncate(at);
            }
            (f, text)
        })
        .collect()
}

/// `(line, message, variant text)` of every `#[error(...)]` attribute of `text`: the variant
/// runs to the next `#[error` or the end of the enum.
fn error_variants(text: &str) -> Vec<(usize, String, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut offset = 0;
    while let Some(at) = rest.find("#[error(") {
        let start = at + "#[error(".len();
        let Some(close) = rest[start..].find(")]\n") else {
            break;
        };
        let message = rest[start..start + close].to_string();
        let body_start = start + close + 3;
        let body = &rest[body_start..];
        let end = [body.find("#[error("), body.find("\n}"), body.find(";\n")]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(body.len());
        let line = text[..offset + at].lines().count() + 1;
        out.push((line, message, body[..end].to_string()));
        offset += body_start;
        rest = &rest[body_start..];
    }
    out
}

fn has_source(variant: &str) -> bool {
    variant.contains("#[from]")
        || variant.contains("#[source]")
        || variant
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .any(|w| w == "source:")
}

fn prints_source(message: &str) -> bool {
    ["{0}", "{0:", "{source}", "{source:"]
        .iter()
        .any(|p| message.contains(p))
}

#[test]
fn error_messages_never_repeat_their_source() {
    let mut bad = Vec::new();
    for (file, text) in library_sources() {
        for (line, message, variant) in error_variants(&text) {
            if message.contains("transparent") {
                continue;
            }
            if has_source(&variant) && prints_source(&message) {
                bad.push(format!("{}:{line}: #[error({message})]", file.display()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "these messages print their source, which the chain prints again (use context-only text or #[error(transparent)]):\n{}",
        bad.join("\n")
    );
}

#[test]
fn no_public_function_returns_a_string_error() {
    let mut bad = Vec::new();
    for (file, text) in library_sources() {
        // Signatures may span lines: join each `pub fn` up to its body.
        let mut rest = text.as_str();
        while let Some(at) = rest.find("pub fn ") {
            let sig_end = rest[at..].find('{').map_or(rest.len(), |e| at + e);
            let sig: String = rest[at..sig_end]
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            // The return type follows the parameters' closing parenthesis.
            let ret = sig.rsplit_once(") -> ").map_or("", |(_, r)| r).trim();
            if ret.starts_with("Result<") && ret.ends_with(", String>") {
                bad.push(format!("{}: {sig}", file.display()));
            }
            rest = &rest[sig_end.max(at + 1)..];
        }
    }
    assert!(
        bad.is_empty(),
        "library functions returning Result<_, String> (use a typed error):\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_scanner_sees_what_it_must() {
    let sample = "enum E {\n    #[error(\"cannot read {path}: {source}\")]\n    Read { path: String, source: std::io::Error },\n    #[error(\"cannot publish\")]\n    Storage(#[from] S),\n    #[error(\"x: {0}\")]\n    Plain(String),\n}\n";
    let v = error_variants(sample);
    assert_eq!(v.len(), 3);
    assert!(has_source(&v[0].2) && prints_source(&v[0].1));
    assert!(has_source(&v[1].2) && !prints_source(&v[1].1));
    assert!(!has_source(&v[2].2) && prints_source(&v[2].1));
}

#[test]
fn the_library_reads_the_environment_only_through_its_snapshot() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut bad = Vec::new();
    for (file, text) in library_sources() {
        let rel = file.strip_prefix(&root).unwrap_or(&file).to_path_buf();
        // The binary takes the snapshot (`Env::from_process`, in secrets.rs); crates/ocr resolves
        // its own defaults (PDFIUM_LIB, TESSDATA_PREFIX) like the tools it replaces.
        if !rel.starts_with("src")
            || rel == Path::new("src/main.rs")
            || rel == Path::new("src/secrets.rs")
        {
            continue;
        }
        for (i, line) in text.lines().enumerate() {
            if [
                "std::env::var",
                "env::vars(",
                "env::var_os",
                "env::var(",
                "Env::from_process",
            ]
            .iter()
            .any(|p| line.contains(p))
            {
                bad.push(format!("{}:{}: {}", rel.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "library code reading the process environment (take a secrets::Env instead):\n{}",
        bad.join("\n")
    );
}

// ---- layers (STYLE.md "Layers") -------------------------------------------------------------
//
// Every `crate::<top>[::<sub>]` path of `src/**/*.rs` (in `use` lines, grouped `crate::{a, b}`
// imports, inline paths, `super::` chains resolved, and `serde(with = "crate::…")` strings;
// comments and other string literals ignored) is mapped to the layer of its module, and must not
// name a higher layer than the file's own. Stage and sync folders (`src/stages/<x>/`,
// `src/syncs/<x>/`) share one layer and never import each other; the files at the root of
// `src/stages/` and `src/syncs/` (e.g. `syncs/run.rs`) are shared by their folders. Each module of
// the adapters and of the foundation has its own rank, so the rule is a total order: it implies
// that the top-level modules have no import cycle, which is checked anyway
// (`top_level_modules_have_no_cycle`), as a second line of defence if the table below changes.

/// The units of the layer order, top to bottom, with their rank (a higher rank may import a
/// lower or equal one). `stages`/`syncs` folders share a rank but are siblings.
const LAYERS: &[(&str, u32)] = &[
    // L0 binary: src/main.rs, src/cli.rs (rank 100, see `unit_of_file`).
    // L1 composers.
    ("compose", 61),
    ("config", 60),
    // L2 the operations view of the syncs.
    ("ops", 50),
    // L3 stages and syncs (folders: siblings).
    ("stages", 40),
    ("syncs", 40),
    // L4 adapters, in a total order.
    ("web", 39),
    ("report", 38),
    ("probe", 37),
    ("fetch", 36),
    ("storage", 35),
    ("pg", 34),
    ("progress", 33),
    ("model", 32),
    ("tabular", 31),
    // L5 foundation.
    ("settings", 24),
    ("secrets", 23),
    ("outcome", 22),
    ("text", 21),
];

/// Groups whose folders are siblings at one layer.
const SIBLING_GROUPS: [&str; 2] = ["stages", "syncs"];

/// A unit: a top-level module, or a stage/sync folder (`stages::aps`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Unit {
    top: String,
    /// The folder within `stages`/`syncs`; `None` for the group's root files.
    folder: Option<String>,
}

impl Unit {
    fn rank(&self) -> Option<u32> {
        if self.top == "<bin>" {
            return Some(100);
        }
        LAYERS
            .iter()
            .find(|(name, _)| *name == self.top)
            .map(|&(_, r)| r)
    }

    fn name(&self) -> String {
        match &self.folder {
            Some(f) => format!("{}::{f}", self.top),
            None => self.top.clone(),
        }
    }
}

/// The unit of a module path (`["syncs", "gn2pg", "store"]`); `is_folder` says whether
/// `<group>/<name>` is a folder (a stage or sync) rather than a root file of the group.
fn unit_of_path(path: &[String], is_folder: &dyn Fn(&str, &str) -> bool) -> Option<Unit> {
    let top = path.first()?.clone();
    let folder = match path.get(1) {
        Some(sub) if SIBLING_GROUPS.contains(&top.as_str()) && is_folder(&top, sub) => {
            Some(sub.clone())
        }
        _ => None,
    };
    Some(Unit { top, folder })
}

/// The module path of a file under `src/` (`stages/aps/mod.rs` → `["stages", "aps"]`), and
/// whether it is the binary (`main.rs`, `cli.rs`).
fn module_of_file(rel: &str) -> (Vec<String>, bool) {
    let rel = rel.strip_prefix("src/").unwrap_or(rel);
    if rel == "main.rs" || rel == "cli.rs" {
        return (Vec::new(), true);
    }
    let mut parts: Vec<String> = rel.split('/').map(str::to_string).collect();
    let last = parts.pop().unwrap_or_default();
    match last.as_str() {
        "mod.rs" | "lib.rs" => {}
        file => parts.push(file.trim_end_matches(".rs").to_string()),
    }
    (parts, false)
}

/// `text` with comments and string/char literals blanked (newlines kept, so line numbers hold).
/// A string literal that is exactly a `crate::…` path after `with =`
/// (`serde(with = "crate::settings::duration")`) is kept: it is a dependency too.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == '"' || (c == 'r' && matches!(next, Some('"') | Some('#'))) {
            // Plain or raw string: find its end.
            let start = i;
            let raw = c == 'r';
            let mut hashes = 0;
            if raw {
                i += 1;
                while chars.get(i) == Some(&'#') {
                    hashes += 1;
                    i += 1;
                }
                if chars.get(i) != Some(&'"') {
                    // An identifier starting with r (`r#type` or `return`): not a string.
                    out.extend(&chars[start..i]);
                    continue;
                }
            }
            i += 1;
            let body_start = i;
            loop {
                match chars.get(i) {
                    None => break,
                    Some('\\') if !raw => i += 2,
                    Some('"') if (0..hashes).all(|h| chars.get(i + 1 + h) == Some(&'#')) => break,
                    _ => i += 1,
                }
            }
            let body: String = chars[body_start..i.min(chars.len())].iter().collect();
            let end = (i + 1 + hashes).min(chars.len());
            let is_path = body.starts_with("crate::")
                && body
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
                && out
                    .trim_end()
                    .strip_suffix('=')
                    .is_some_and(|o| o.trim_end().ends_with("with"));
            if is_path {
                out.extend(&chars[start..end]);
            } else {
                out.extend(chars[start..end].iter().map(|&c| blank(c)));
            }
            i = end;
        } else if c == '\'' {
            // A char literal ('a', '\n', '\u{1F600}') or a lifetime ('a): blank only the former.
            let len = if next == Some('\\') {
                chars[i + 2..]
                    .iter()
                    .position(|&c| c == '\'')
                    .map(|p| p + 3)
            } else if chars.get(i + 2) == Some(&'\'') {
                Some(3)
            } else {
                None
            };
            match len {
                Some(n) => {
                    let end = (i + n).min(chars.len());
                    out.extend(chars[i..end].iter().map(|&c| blank(c)));
                    i = end;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every crate path of `code` as `(line, segments)`: `crate::a::b`, each branch of
/// `crate::{a, b::c}`, and `super::…` chains resolved against `module` (the file's module path).
fn crate_paths(code: &str, module: &[String]) -> Vec<(usize, Vec<String>)> {
    let mut found = Vec::new();
    let bytes: Vec<char> = code.chars().collect();
    let line_at = |pos: usize| bytes[..pos].iter().filter(|&&c| c == '\n').count() + 1;
    let word_at = |pos: usize, word: &str| {
        let w: Vec<char> = word.chars().collect();
        bytes.get(pos..pos + w.len()) == Some(&w[..])
            && (pos == 0 || !is_ident_char(bytes[pos - 1]) && bytes[pos - 1] != '$')
    };
    // Reads `a::b::c` (identifiers only) from `pos`; returns the segments and where it stopped.
    let read_segments = |mut pos: usize| {
        let mut segs = Vec::new();
        loop {
            let start = pos;
            while pos < bytes.len() && is_ident_char(bytes[pos]) {
                pos += 1;
            }
            if pos == start {
                break;
            }
            segs.push(bytes[start..pos].iter().collect::<String>());
            if bytes.get(pos..pos + 2) == Some(&[':', ':']) {
                pos += 2;
            } else {
                break;
            }
        }
        (segs, pos)
    };
    let mut pos = 0;
    while pos < bytes.len() {
        let (base, after) = if word_at(pos, "crate::") {
            (Vec::new(), pos + "crate::".len())
        } else if word_at(pos, "super::") {
            // Resolve the chain of `super::` against the file's module.
            let mut base = module.to_vec();
            let mut p = pos;
            while word_at(p, "super::") {
                base.pop();
                p += "super::".len();
            }
            (base, p)
        } else {
            pos += 1;
            continue;
        };
        let line = line_at(pos);
        let (segs, end) = read_segments(after);
        let mut prefix = base.clone();
        prefix.extend(segs);
        if bytes.get(end) == Some(&'{') {
            // A group: each top-level branch's first segments.
            let mut depth = 0;
            let mut p = end;
            let mut branch_start = end + 1;
            while p < bytes.len() {
                match bytes[p] {
                    '{' => depth += 1,
                    '}' | ',' if depth == 1 => {
                        let text: String = bytes[branch_start..p].iter().collect();
                        let t = text.trim();
                        let (branch, _) = read_segments_str(t);
                        if !branch.is_empty() && branch[0] != "self" {
                            let mut full = prefix.clone();
                            full.extend(branch);
                            found.push((line, full));
                        } else if !prefix.is_empty() {
                            found.push((line, prefix.clone()));
                        }
                        branch_start = p + 1;
                        if bytes[p] == '}' {
                            break;
                        }
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
                p += 1;
            }
            pos = p.max(pos + 1);
        } else {
            if !prefix.is_empty() {
                found.push((line, prefix));
            }
            pos = end.max(pos + 1);
        }
    }
    found
}

/// [`crate_paths`]'s segment reader for a branch of a group (`b::c as d`, `e::{f, g}`).
fn read_segments_str(text: &str) -> (Vec<String>, usize) {
    let mut segs = Vec::new();
    for part in text.split("::") {
        let ident: String = part.chars().take_while(|&c| is_ident_char(c)).collect();
        if ident.is_empty() {
            break;
        }
        let whole = ident.len() == part.len();
        segs.push(ident);
        if !whole {
            break;
        }
    }
    let n = segs.len();
    (segs, n)
}

/// One import that breaks the layer order.
fn layer_violations(rel: &str, text: &str, is_folder: &dyn Fn(&str, &str) -> bool) -> Vec<String> {
    let (module, is_bin) = module_of_file(rel);
    let from = if is_bin {
        Unit {
            top: "<bin>".into(),
            folder: None,
        }
    } else {
        match unit_of_path(&module, is_folder) {
            Some(u) => u,
            None => return Vec::new(), // lib.rs declares the modules
        }
    };
    let Some(from_rank) = from.rank() else {
        return vec![format!(
            "{rel}: module `{}` has no layer: add it to LAYERS (tests/style.rs) and STYLE.md",
            from.top
        )];
    };
    let mut bad = Vec::new();
    for (line, path) in crate_paths(&code_only(text), &module) {
        let Some(to) = unit_of_path(&path, is_folder) else {
            continue;
        };
        if to.top == from.top && (to.folder == from.folder || to.folder.is_none()) {
            continue;
        }
        let shown = format!("crate::{}", path.join("::"));
        match to.rank() {
            None => bad.push(format!(
                "{rel}:{line}: {shown}: module `{}` has no layer",
                to.top
            )),
            Some(r) if r > from_rank => bad.push(format!(
                "{rel}:{line}: {} imports {shown}, a higher layer ({} above {})",
                from.name(),
                to.name(),
                from.name()
            )),
            Some(r)
                if r == from_rank
                    && SIBLING_GROUPS.contains(&to.top.as_str())
                    && from.folder.is_some()
                    && to.folder.is_some()
                    && to != from =>
            {
                bad.push(format!(
                    "{rel}:{line}: {} imports {shown}: stage and sync folders never import each other",
                    from.name()
                ))
            }
            _ => {}
        }
    }
    bad
}

fn src_files() -> Vec<(String, String)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let rel = f
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (rel, std::fs::read_to_string(&f).unwrap())
        })
        .collect()
}

fn src_is_folder(group: &str, name: &str) -> bool {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(group)
        .join(name)
        .is_dir()
}

#[test]
fn lower_layers_never_import_higher_ones() {
    let mut bad = Vec::new();
    for (rel, text) in src_files() {
        bad.extend(layer_violations(&rel, &text, &src_is_folder));
    }
    assert!(
        bad.is_empty(),
        "imports against the layer order of STYLE.md (\"Layers\"):\n{}",
        bad.join("\n")
    );
}

#[test]
fn top_level_modules_have_no_cycle() {
    use std::collections::{BTreeMap, BTreeSet};
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (rel, text) in src_files() {
        let (module, is_bin) = module_of_file(&rel);
        let Some(from) = module.first().filter(|_| !is_bin) else {
            continue;
        };
        for (_, path) in crate_paths(&code_only(&text), &module) {
            if let Some(to) = path.first() {
                if to != from && LAYERS.iter().any(|(n, _)| n == to) {
                    edges.entry(from.clone()).or_default().insert(to.clone());
                }
            }
        }
    }
    // Depth-first search; a node met again while on the stack closes a cycle.
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, edges, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for node in edges.keys() {
        if let Some(cycle) = visit(node, &edges, &mut Vec::new(), &mut done) {
            panic!(
                "import cycle among top-level modules: {}",
                cycle.join(" → ")
            );
        }
    }
}

#[test]
fn the_layer_scanner_sees_what_it_must() {
    let folder = |group: &str, name: &str| {
        matches!(
            (group, name),
            ("stages", "aps" | "ocr") | ("syncs", "gn2pg" | "visionature")
        )
    };
    let source = "\
use crate::compose::daily; // a higher layer
use crate::stages::ocr::OcrArgs; // a sibling folder
use crate::{config::Config, fetch::Reader}; // a higher layer in a group, then a lower one
// use crate::ops::status; (a comment)
const S: &str = \"crate::ops::status\";
fn f<'a>(x: &'a str) -> char { let _ = crate::storage::Store::open(x); 'c' }
use super::super::syncs::gn2pg::Options; // a sibling, through super
use crate::stages::aps::select; // its own folder
#[serde(with = \"crate::settings::duration\")]
";
    let bad = layer_violations("src/stages/aps/mod.rs", source, &folder);
    let lines: Vec<&str> = bad.iter().map(|b| b.split(": ").next().unwrap()).collect();
    assert_eq!(
        lines,
        [
            "src/stages/aps/mod.rs:1",
            "src/stages/aps/mod.rs:2",
            "src/stages/aps/mod.rs:3",
            "src/stages/aps/mod.rs:7",
        ],
        "{bad:#?}"
    );
    assert!(bad[0].contains("crate::compose::daily"), "{bad:#?}");
    assert!(bad[2].contains("crate::config::Config"), "{bad:#?}");
    // Shared root files of a group are open to its folders; a serde path is seen.
    assert!(layer_violations(
        "src/syncs/gn2pg/run.rs",
        "use crate::syncs::run::Protocol;",
        &folder
    )
    .is_empty());
    let paths = crate_paths(&code_only(source), &["stages".into(), "aps".into()]);
    assert!(paths
        .iter()
        .any(|(l, p)| *l == 9 && p.join("::") == "settings::duration"));
    // A lower layer naming a higher one is caught anywhere, not only in stages.
    let bad = layer_violations(
        "src/storage/s3.rs",
        "fn f(h: &crate::fetch::http::HttpClient) {}",
        &folder,
    );
    assert_eq!(bad.len(), 1, "{bad:?}");
    // The binary may import anything.
    assert!(layer_violations("src/main.rs", "use crate::compose::check;", &folder).is_empty());
}

// ---- clap only in the binary's cli.rs --------------------------------------------------------

#[test]
fn clap_is_used_only_in_cli_rs() {
    let mut bad = Vec::new();
    for (rel, text) in src_files() {
        if rel == "src/cli.rs" {
            continue;
        }
        let code = code_only(&text);
        for (i, line) in code.lines().enumerate() {
            if ["clap::", "clap_complete::", "#[arg(", "#[command("]
                .iter()
                .any(|p| line.contains(p))
            {
                bad.push(format!("{rel}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "clap outside src/cli.rs (the library takes plain option structs; cli.rs converts):\n{}",
        bad.join("\n")
    );
}

// ---- the folder vocabulary of a sync (STYLE.md "Shape of a stage or sync") --------------------

/// The files every `src/syncs/<name>/` folder has.
const SYNC_FILES: [&str; 9] = [
    "mod.rs",
    "config.rs",
    "compat.rs",
    "remote.rs",
    "store.rs",
    "run.rs",
    "probes.rs",
    "ops.rs",
    "tests.rs",
];

/// Names from before the vocabulary, which no sync folder uses any more.
const OLD_SYNC_FILES: [&str; 7] = [
    "api.rs",
    "legacy.rs",
    "vnconfig.rs",
    "transfer.rs",
    "sync.rs",
    "source.rs",
    "load.rs",
];

/// Files of the vocabulary not written yet, `(sync, file)`: other branches add them (each sync's
/// `ops.rs`; ecospheres' `compat.rs` and `run.rs`). The lead empties this list as they merge.
const PENDING: &[(&str, &str)] = &[];

#[test]
fn every_sync_folder_speaks_the_vocabulary() {
    let syncs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/syncs");
    let mut bad = Vec::new();
    let mut pending_seen = Vec::new();
    for entry in std::fs::read_dir(&syncs).unwrap().flatten() {
        if !entry.path().is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        for file in SYNC_FILES {
            let exists = entry.path().join(file).is_file();
            let pending = PENDING.contains(&(name.as_str(), file));
            match (exists, pending) {
                (false, false) => bad.push(format!("src/syncs/{name}/{file} is missing")),
                (true, true) => pending_seen.push(format!(
                    "src/syncs/{name}/{file} exists: remove it from PENDING in tests/style.rs"
                )),
                _ => {}
            }
        }
        for file in OLD_SYNC_FILES {
            if entry.path().join(file).exists() {
                bad.push(format!(
                    "src/syncs/{name}/{file}: an old name (see STYLE.md \"Shape of a stage or sync\")"
                ));
            }
        }
    }
    bad.extend(pending_seen);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
