//! The 19 columns of `datasets`, computed from one `dcat:Dataset` node of a page by the recipe
//! of docs/syncs/ecospheres.md §3 (see each field of [`Row`]), with [`COLUMNS`] and [`ddl`], the
//! fixed table definition (names, order and types are a contract with the dashboard).
//!
//! Nothing here fails: odd input gives NULLs and [`Note`]s (an unknown status code, a missing
//! title, a contact point without `catalog/`, a date that is not a valid xsd date) that the
//! caller counts and names in the run summary.

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

use super::dates;
use super::jsonld::{Graph, Node, Pred, Term};

/// Column names, in table order.
pub const COLUMNS: [&str; 19] = [
    "dataset",
    "title",
    "description",
    "modification",
    "right_statement",
    "themes",
    "key_words",
    "creator",
    "rights_holder",
    "contact_point",
    "status",
    "catalog",
    "licenses",
    "percantage_filling",
    "univers",
    "commune",
    "departement",
    "geo_coverage",
    "right_statement_processed",
];

/// The column list of `CREATE TABLE` (after any leading columns of the caller).
pub fn ddl() -> String {
    COLUMNS
        .iter()
        .map(|c| {
            let ty = match *c {
                "dataset" => "text NOT NULL",
                "percantage_filling" => "double precision NOT NULL",
                "right_statement_processed" => "boolean NOT NULL",
                _ => "text",
            };
            format!("{} {ty}", crate::pg::ident(c))
        })
        .collect::<Vec<_>>()
        .join(",\n  ")
}

/// One row of `datasets`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Row {
    /// The dataset's IRI.
    pub dataset: String,
    /// First `dct:title` literal: the `fr` one, else the first.
    pub title: Option<String>,
    pub description: Option<String>,
    /// First `dct:modified`, canonical (see [`dates`]).
    pub modification: Option<String>,
    /// `rdfs:label`s of the `dct:accessRights` nodes joined by `" | "`.
    pub right_statement: Option<String>,
    /// `{a, b}` of the `dcat:theme` values.
    pub themes: Option<String>,
    pub key_words: Option<String>,
    /// `foaf:name` of the `dct:creator` node.
    pub creator: Option<String>,
    pub rights_holder: Option<String>,
    /// The e-mail of the first `dcat:contactPoint`.
    pub contact_point: Option<String>,
    pub status: Option<String>,
    /// Title of the catalog of the dataset's catalog record.
    pub catalog: Option<String>,
    /// Sorted distinct licenses of the distributions.
    pub licenses: Option<String>,
    pub percantage_filling: f64,
    pub univers: Option<String>,
    pub commune: Option<String>,
    pub departement: Option<String>,
    pub geo_coverage: Option<String>,
    pub right_statement_processed: bool,
}

/// Something odd about a dataset, kept in the row as the recipe says and counted by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    UnknownStatus(String),
    MissingTitle,
    ContactWithoutCatalog(String),
    InvalidDate(String),
}

impl Note {
    /// A short name of the kind, for counts.
    pub fn kind(&self) -> &'static str {
        match self {
            Note::UnknownStatus(_) => "unknown adms:status code",
            Note::MissingTitle => "no dct:title",
            Note::ContactWithoutCatalog(_) => "contact e-mail without catalog/",
            Note::InvalidDate(_) => "dct:modified not a valid xsd date",
        }
    }

    /// The value that caused it, shortened.
    pub fn value(&self) -> Option<String> {
        match self {
            Note::UnknownStatus(v) | Note::ContactWithoutCatalog(v) | Note::InvalidDate(v) => {
                Some(v.chars().take(80).collect())
            }
            Note::MissingTitle => None,
        }
    }
}

/// A computed dataset: its row, the sort key of its `dct:modified` and what was odd about it.
#[derive(Debug, Clone)]
pub struct Computed {
    pub row: Row,
    pub modified_key: Option<i64>,
    pub notes: Vec<Note>,
}

const STATUS: [(&str, &str); 7] = [
    ("completed", "Completed"),
    ("ongoing", "On Going"),
    ("historicalarchive", "Historical Archive"),
    ("underdevelopment", "Under Development"),
    ("obsolete", "Obsolete"),
    ("required", "Required"),
    ("planned", "Planned"),
];

const OPEN_ACCESS: [&str; 3] = [
    "pas de restriction d'accès public selon inspire",
    "licence ouverte",
    "open licence",
];

fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

/// The first literal: the one tagged `fr` (or `fr-…`), else the first in document order.
fn first_literal<'a>(values: impl Iterator<Item = &'a Term<'a>>) -> Option<&'a str> {
    let mut first = None;
    for t in values {
        if let Term::Literal { value, lang, .. } = t {
            if value.is_empty() {
                continue;
            }
            let fr = lang.is_some_and(|l| {
                l.eq_ignore_ascii_case("fr")
                    || l.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("fr-"))
            });
            if fr {
                return Some(value);
            }
            first.get_or_insert(value.as_ref());
        }
    }
    first
}

/// `{a, b}` (the dashboard's array text), NULL when empty.
fn array_text<'a>(items: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut out = String::from("{");
    let mut any = false;
    for item in items {
        if any {
            out.push_str(", ");
        }
        out.push_str(item);
        any = true;
    }
    out.push('}');
    any.then_some(out)
}

/// Distinct values in order of first appearance.
fn distinct<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for i in items {
        if !i.is_empty() && !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

/// Computes the row of the dataset node `ds` (which has an IRI).
pub fn compute(g: &Graph<'_>, ds: &Node<'_>, iri: &str) -> Computed {
    let mut notes = Vec::new();
    let title = first_literal(g.values(ds, Pred::Title)).map(str::to_string);
    if title.is_none() {
        notes.push(Note::MissingTitle);
    }
    let description = first_literal(g.values(ds, Pred::Description)).map(str::to_string);

    let (modification, modified_key) = match g.values(ds, Pred::Modified).find_map(|t| match t {
        Term::Literal {
            value, datatype, ..
        } => non_empty(value).map(|v| (v, datatype.as_deref())),
        Term::Iri(v) => Some((v.as_ref(), None)),
        _ => None,
    }) {
        Some((raw, datatype)) => {
            let m = dates::modified(raw, datatype);
            if !m.valid {
                notes.push(Note::InvalidDate(raw.to_string()));
            }
            (Some(m.text), m.key)
        }
        None => (None, None),
    };

    let mut labels: Vec<&str> = Vec::new();
    for rights in g.linked(ds, Pred::AccessRights) {
        labels.extend(
            g.values(rights, Pred::Label)
                .filter_map(|t| match t {
                    Term::Literal { value, .. } => non_empty(value),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        );
    }
    let right_statement = (!labels.is_empty()).then(|| labels.join(" | "));
    let right_statement_processed = right_statement.as_deref().is_some_and(|r| {
        let r = r.to_lowercase().replace('\n', " ");
        OPEN_ACCESS.iter().any(|p| r.contains(p))
    });

    let themes = array_text(distinct(
        g.values(ds, Pred::Theme)
            .filter(|t| !t.is_blank())
            .filter_map(Term::text),
    ));
    let key_words = array_text(distinct(g.values(ds, Pred::Keyword).filter_map(
        |t| match t {
            Term::Literal { value, .. } => Some(value.as_ref()),
            _ => None,
        },
    )));

    let name_of = |pred: Pred| {
        g.linked(ds, pred)
            .next()
            .and_then(|org| first_literal(g.values(org, Pred::Name)))
            .map(str::to_string)
    };
    let creator = name_of(Pred::Creator);
    let rights_holder = name_of(Pred::RightsHolder);

    let raw_contact = g
        .linked(ds, Pred::ContactPoint)
        .next()
        .and_then(|c| g.values(c, Pred::HasEmail).find_map(Term::text))
        .and_then(non_empty);
    let contact_point = raw_contact.and_then(|email| {
        let cleaned = if let Some((_, after)) = email.split_once("catalog/") {
            after
        } else {
            notes.push(Note::ContactWithoutCatalog(email.to_string()));
            email.strip_prefix("mailto:").unwrap_or(email)
        };
        non_empty(cleaned).map(str::to_string)
    });

    let status = g
        .values(ds, Pred::Status)
        .find_map(Term::text)
        .and_then(|s| non_empty(s.rsplit('/').next().unwrap_or(s)))
        .map(|segment| {
            match STATUS
                .iter()
                .find(|(code, _)| segment.eq_ignore_ascii_case(code))
            {
                Some((_, label)) => label.to_string(),
                None => {
                    notes.push(Note::UnknownStatus(segment.to_string()));
                    segment.to_string()
                }
            }
        });

    let catalog = g
        .linked(ds, Pred::IsPrimaryTopicOf)
        .next()
        .and_then(|record| g.linked(record, Pred::InCatalog).next())
        .and_then(|cat| first_literal(g.values(cat, Pred::Title)))
        .map(str::to_string);

    let mut licenses: Vec<&str> = Vec::new();
    let mut blank_license = false;
    for dist in g.linked(ds, Pred::Distribution) {
        for lic in g.values(dist, Pred::License) {
            if lic.is_blank() {
                blank_license = true;
            } else if let Some(text) = lic.text().and_then(non_empty) {
                licenses.push(text);
            }
        }
    }
    licenses.sort_unstable();
    licenses.dedup();
    let licenses = if blank_license {
        None
    } else {
        array_text(licenses)
    };

    let insee: Vec<&str> = distinct(
        g.values(ds, Pred::Spatial)
            .filter(|t| !t.is_blank())
            .filter_map(Term::text)
            .filter(|s| s.contains("insee")),
    );
    let after = |level: &'static str| {
        insee
            .iter()
            .filter_map(move |s| s.split_once(level).map(|(_, code)| code))
            .collect::<Vec<&str>>()
    };
    let communes = after("commune/");
    let departements = after("departement/");
    let commune = array_text(communes.iter().copied());
    let departement = match (departements.is_empty(), communes.first()) {
        (false, _) => array_text(departements.iter().copied()),
        (true, Some(first)) => {
            let n = if first.starts_with("97") || first.starts_with("98") {
                3
            } else {
                2
            };
            let code: String = first.chars().take(n).collect();
            Some(format!("{{{code}}}"))
        }
        (true, None) => None,
    };
    let geo_coverage = if !communes.is_empty() {
        Some("Communale".to_string())
    } else if !departements.is_empty() {
        Some("Départementale".to_string())
    } else {
        None
    };

    let filled = [
        catalog.is_some(),
        raw_contact.is_some(),
        modification.is_some(),
        rights_holder.is_some(),
        status.is_some(),
        title.is_some(),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    // The original always counted licenses, right_statement and spatial as filled (list texts).
    let percantage_filling = (100 * (3 + filled)) as f64 / 9.0;

    let univers = [title.as_deref(), description.as_deref()]
        .into_iter()
        .flatten()
        .any(is_pprn)
        .then(|| "PPRN".to_string());

    Computed {
        row: Row {
            dataset: iri.to_string(),
            title,
            description,
            modification,
            right_statement,
            themes,
            key_words,
            creator,
            rights_holder,
            contact_point,
            status,
            catalog,
            licenses,
            percantage_filling,
            univers,
            commune,
            departement,
            geo_coverage,
            right_statement_processed,
        },
        modified_key,
        notes,
    }
}

/// Whether a title or description belongs to the PPRN universe: lower-cased, compatibility
/// decomposed, combining marks dropped, Unicode spaces as spaces, it contains `pprn` or
/// `prevention des risques naturels`.
pub fn is_pprn(text: &str) -> bool {
    thread_local! {
        static BUF: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    BUF.with(|buf| {
        let mut out = buf.borrow_mut();
        out.clear();
        fold(text, &mut out);
        out.contains("pprn") || out.contains("prevention des risques naturels")
    })
}

/// Lower case, NFKD without combining marks, spaces folded (see [`is_pprn`]). Decomposing
/// character by character is NFKD here: canonical reordering only moves combining marks, which
/// are dropped.
fn fold(text: &str, out: &mut String) {
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
            continue;
        }
        for l in c.to_lowercase() {
            decompose_compatible(l, |d| {
                if is_combining_mark(d) {
                } else if d.is_whitespace()
                    && !d.is_control()
                    && !matches!(d, '\u{2028}' | '\u{2029}')
                {
                    out.push(' ');
                } else {
                    out.push(d);
                }
            });
        }
    }
}
