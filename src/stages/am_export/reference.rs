//! Section references (`{"nb", "name"}`) computed from the chain of titles.
//!
//! Rules of the original `enriching/title_reference.py` (checked on every section of the golden
//! set): titles are NFKD-normalised and stripped. `nb` comes from the chain cut before its first
//! `Article`/`Annexe` title (none → `""`): each title yields a numbering prefix (`Article 3`,
//! `Annexe I`, `II.`, `a)`, …, longest pattern wins), consecutive verbose numberings (`1.` then
//! `1.2.`) and consecutive annexes are merged, the first prefix is followed by ` > ` and the
//! others are joined with spaces (`Article 3 > II. a)`). `name` is the last non-empty suffix of
//! the whole chain: a title without its heading words (`Article 3`, `Chapitre IV`, `Section 1`,
//! `Titre Ier`) or numbering, cleaned of `-`/`:`. String operations count characters (code
//! points) as Python does.

use std::sync::OnceLock;

use regex::Regex;
use unicode_normalization::UnicodeNormalization;

use super::model::{Reference, StructuredText};

/// Python `str.isspace()`.
pub fn py_is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python `str.strip()`.
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(py_is_space)
}

/// A numbering pattern: an anchored regex, optionally preceded by Python's `(?=[XVI])`
/// look-ahead (the Rust engine has no look-around, so it is checked by hand).
struct Pattern {
    roman_lookahead: bool,
    regex: Regex,
}

const ROMAN: &str = "(X{0,3})(I[XV]|V?I{0,3})";

fn build(patterns: &[&str]) -> Vec<Pattern> {
    patterns
        .iter()
        .map(|p| {
            let roman_lookahead = p.contains("{R}");
            let source = format!("^{}", p.replace("{R}", ROMAN));
            Pattern {
                roman_lookahead,
                regex: Regex::new(&source).expect("static pattern"),
            }
        })
        .collect()
}

/// Patterns of a "verbose" numbering (`1.`, `1-2.`, `II-3.`…).
fn verbose_patterns() -> &'static [Pattern] {
    static CELL: OnceLock<Vec<Pattern>> = OnceLock::new();
    CELL.get_or_init(|| build(&VERBOSE))
}

const VERBOSE: [&str; 10] = [
    r"[0-9]+\.",
    r"[0-9]+\.[0-9]+",
    r"([0-9]+\.){2}",
    r"([0-9]+\.){3}",
    r"([0-9]+\. ){3}",
    r"([0-9]+\. ){4}",
    r"[0-9]+-[0-9]+\.",
    r"[0-9]+-[0-9]+-[0-9]+\.",
    r"{R}-[0-9]+\.",
    r"{R}-[0-9]+\.[0-9]+\.",
];

/// All numbering patterns, in the original's order (the first longest match wins).
fn numbering_patterns() -> &'static [Pattern] {
    static CELL: OnceLock<Vec<Pattern>> = OnceLock::new();
    CELL.get_or_init(|| {
        let mut all: Vec<&str> = VERBOSE.to_vec();
        all.extend([
            r"{R}",
            r"{R}\.",
            r"{R}-",
            r"{R}-[0-9]+\.",
            r"{R}-[0-9]+\.[0-9]+\.",
            r"[0-9]+\)",
            r"([0-9]+\. ){2}",
            r"[0-9]+-[0-9]+\.",
            r"([0-9]+\. ){3}",
            r"[0-9]+-[0-9]+-[0-9]+\.",
            r"([0-9]+\.){4}",
            r"[0-9]+°",
            r"[a-z]\)",
            r"[A-Z]\.",
        ]);
        build(&all)
    })
}

/// Length in bytes of the match of `pattern` at the start of `s`, if any.
fn match_at_start(pattern: &Pattern, s: &str) -> Option<usize> {
    if pattern.roman_lookahead && !matches!(s.chars().next(), Some('X' | 'V' | 'I')) {
        return None;
    }
    pattern.regex.find(s).map(|m| m.end())
}

/// Whether any numbering pattern can match: each starts with a digit, a Roman numeral letter,
/// a lowercase letter followed by `)` or an uppercase letter followed by `.`.
fn may_be_numbered(s: &str) -> bool {
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(c), _) if c.is_ascii_digit() || matches!(c, 'X' | 'V' | 'I') => true,
        (Some(c), Some(')')) if c.is_ascii_lowercase() => true,
        (Some(c), Some('.')) if c.is_ascii_uppercase() => true,
        _ => false,
    }
}

/// The longest match among `patterns` at the start of `s` (first pattern wins ties).
fn longest_match<'a>(s: &'a str, patterns: &[Pattern]) -> Option<&'a str> {
    if !may_be_numbered(s) {
        return None;
    }
    let mut best: Option<(usize, usize)> = None; // (chars, bytes)
    for pattern in patterns {
        if let Some(end) = match_at_start(pattern, s) {
            let chars = s[..end].chars().count();
            if best.is_none_or(|(best_chars, _)| chars > best_chars) {
                best = Some((chars, end));
            }
        }
    }
    best.map(|(_, end)| &s[..end])
}

fn any_alphanumeric(s: &str) -> bool {
    s.chars().any(char::is_alphanumeric)
}

fn is_probably_section_number(candidate: &str) -> bool {
    if !any_alphanumeric(candidate) {
        return false;
    }
    if !candidate.chars().all(char::is_alphabetic) {
        return true;
    }
    if candidate.chars().count() <= 2 {
        return true;
    }
    matches!(candidate.chars().next(), Some('X' | 'V' | 'I'))
}

/// `word` plus the second word when it looks like a number; with the number of words used.
fn word_prefix(title: &str, word: &str) -> (String, usize) {
    let split: Vec<&str> = title.split(' ').collect();
    match split.get(1) {
        Some(number) if is_probably_section_number(number) => (format!("{word} {number}"), 2),
        _ => (word.to_string(), 1),
    }
}

/// `Article …`/`Annexe …` prefix (`Article Annexe I` → `Annexe I`), with the number of words
/// it spans.
fn extract_special_prefix(title: &str) -> Option<(String, usize)> {
    let lower = title.to_lowercase();
    if lower.starts_with("article") {
        let split: Vec<&str> = title.split(' ').collect();
        if split.len() > 1 && split[1].to_lowercase() == "annexe" {
            let (prefix, words) = word_prefix(&split[1..].join(" "), "Annexe");
            return Some((prefix, words + 1));
        }
        Some(word_prefix(title, "Article"))
    } else if lower.starts_with("annexe") {
        Some(word_prefix(title, "Annexe"))
    } else {
        None
    }
}

/// Words spanned by a heading prefix (`Article 3`, `Chapitre IV`, `Section 1`, `Titre Ier`).
fn heading_words(title: &str) -> Option<usize> {
    if let Some((_, words)) = extract_special_prefix(title) {
        return Some(words);
    }
    let lower = title.to_lowercase();
    ["chapitre", "section", "titre"]
        .iter()
        .find(|w| lower.starts_with(*w))
        .map(|w| word_prefix(title, w).1)
}

/// `(is_special, raw prefix)`.
fn extract_raw_number_prefix(title: &str) -> (bool, Option<String>) {
    if let Some((prefix, _)) = extract_special_prefix(title) {
        return (true, Some(prefix));
    }
    (
        false,
        longest_match(title, numbering_patterns()).map(str::to_string),
    )
}

fn extract_prefix(title: &str) -> Option<String> {
    match extract_raw_number_prefix(title) {
        (false, Some(raw)) => Some(raw.replace(' ', "")),
        (_, raw) => raw,
    }
}

fn clean_suffix(suffix: &str) -> String {
    let mut stripped = py_strip(suffix);
    for c in ['-', ':'] {
        if let Some(rest) = stripped.strip_prefix(c) {
            stripped = py_strip(rest);
        }
        if let Some(rest) = stripped.strip_suffix(c) {
            stripped = py_strip(rest);
        }
    }
    stripped.to_string()
}

/// The title without its heading or numbering prefix.
fn extract_suffix(title: &str) -> String {
    if let Some(words) = heading_words(title) {
        let rest: Vec<&str> = title.split(' ').skip(words).collect();
        return clean_suffix(&rest.join(" "));
    }
    match extract_raw_number_prefix(title).1 {
        Some(raw) if !raw.is_empty() => {
            let skip = raw.chars().count();
            let rest: String = title.chars().skip(skip).collect();
            clean_suffix(&rest)
        }
        _ => title.to_string(),
    }
}

fn is_verbose_numbering(s: &str) -> bool {
    verbose_patterns()
        .iter()
        .any(|p| match_at_start(p, s).is_some())
}

fn is_prefix(candidate: Option<&str>, long_word: Option<&str>) -> bool {
    let (Some(candidate), Some(long_word)) = (candidate, long_word) else {
        return false;
    };
    if candidate.is_empty() || long_word.is_empty() {
        return false;
    }
    if candidate.to_lowercase().starts_with("annexe")
        && long_word.to_lowercase().starts_with("annexe")
    {
        return true;
    }
    let candidate = candidate.replace(' ', "");
    let long_word = long_word.replace(' ', "");
    let head: String = long_word.chars().take(candidate.chars().count()).collect();
    is_verbose_numbering(&candidate) && head == candidate
}

/// Top level: the `Article`/`Annexe` prefix, then ` > `, then the inner numberings.
fn merge_top(prefixes: &[Option<String>]) -> String {
    merge(prefixes, " > ")
}

/// Drops every prefix that the next one repeats, then joins the first remaining prefix to the
/// merged inner ones with `separator` (inner ones are always joined with spaces).
fn merge(prefixes: &[Option<String>], separator: &str) -> String {
    if prefixes.len() == 1 {
        return prefixes[0].clone().unwrap_or_default();
    }
    if is_prefix(prefixes[0].as_deref(), prefixes[1].as_deref()) {
        return merge(&prefixes[1..], separator);
    }
    let first = prefixes[0].clone().unwrap_or_default();
    let rest = merge(&prefixes[1..], " ");
    [first, rest]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(separator)
}

fn post_merge_cleanup(prefix: String) -> String {
    if prefix.to_lowercase().starts_with("annexe article annexe") {
        return prefix.chars().skip("annexe article ".len()).collect();
    }
    prefix
}

fn is_annexe_or_article(title: &str) -> bool {
    let lower = title.to_lowercase();
    lower.starts_with("annexe") || lower.starts_with("article")
}

/// What one title contributes to the references of its section and descendants.
#[derive(Debug, Clone)]
struct TitlePart {
    prefix: Option<String>,
    suffix: String,
    starts_chain: bool,
}

impl TitlePart {
    fn new(title: &str) -> Self {
        let normalized: String = title.nfkd().collect();
        let clean = py_strip(&normalized);
        TitlePart {
            prefix: extract_prefix(clean),
            suffix: extract_suffix(clean),
            starts_chain: is_annexe_or_article(clean),
        }
    }
}

fn reference_of(parts: &[TitlePart]) -> Reference {
    let nb = match parts.iter().position(|p| p.starts_chain) {
        Some(start) => {
            let prefixes: Vec<Option<String>> =
                parts[start..].iter().map(|p| p.prefix.clone()).collect();
            post_merge_cleanup(merge_top(&prefixes))
        }
        None => String::new(),
    };
    let name = parts
        .iter()
        .rev()
        .map(|p| p.suffix.as_str())
        .find(|s| !s.is_empty())
        .unwrap_or_default();
    Reference {
        nb,
        name: name.to_string(),
    }
}

/// Reference of the last title of `titles` (the chain from the top-level section down); the unit
/// tests' entry point ([`add_references`] is the export's).
#[cfg(test)]
pub fn extract_reference(titles: &[String]) -> Reference {
    let parts: Vec<TitlePart> = titles.iter().map(|t| TitlePart::new(t)).collect();
    reference_of(&parts)
}

/// Sets `reference` on every section of the tree (not inside alternative versions).
pub fn add_references(sections: &mut [StructuredText]) {
    let mut parts = Vec::new();
    for section in sections {
        add_in_section(section, &mut parts);
    }
}

fn add_in_section(section: &mut StructuredText, parts: &mut Vec<TitlePart>) {
    parts.push(TitlePart::new(&section.title.text));
    section.reference = Some(reference_of(parts));
    for child in &mut section.sections {
        add_in_section(child, parts);
    }
    parts.pop();
}
