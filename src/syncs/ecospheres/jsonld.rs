//! The JSON-LD a catalogue page is written in (docs/syncs/ecospheres.md §2), read without a general
//! JSON-LD processor: the subset CKAN's DCAT export uses, fast enough for 250 000 datasets.
//!
//! [`parse`] reads a page into a borrowed JSON tree ([`Json`]: strings point into the page's
//! bytes unless they hold escapes). [`Graph::build`] then applies the page's `@context` (prefixes,
//! `@vocab`, `@language`, term definitions with `@id` and `@type` coercion) and indexes every node
//! object by its expanded `@id` — top-level `@graph` members and node objects embedded as values
//! alike; two objects with the same `@id` are one node (RDF semantics). Keys may be compact
//! (`dcterms:title`), terms, or full IRIs; a prefix the context does not define falls back to the
//! well-known namespace of the same name (`dct`, `dcterms`, `dcat`, `foaf`, `vcard`, `adms`,
//! `rdf`, `rdfs`, `xsd`, `hydra`). Values may be scalars, `{"@id"}`, `{"@value", "@language",
//! "@type"}`, `@list`/`@set` or arrays of those. Only the properties the `datasets` columns use
//! are kept ([`Pred`]), as resolved [`Term`]s in document order, one per distinct value.
//!
//! What can fail: [`parse`] refuses a body that is not JSON (an HTML page, a truncated file) with
//! the position and what was found there ([`PageError`]). Remote contexts (`"@context": "https://…"`)
//! are not fetched: they are reported by [`Graph::remote_contexts`] and their prefixes stay
//! unexpanded. Scoped contexts inside nodes, `@reverse` and language maps are ignored.

use std::borrow::Cow;
use std::fmt;

use rustc_hash::FxHashMap;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// A JSON value borrowing from the page's bytes.
#[derive(Debug, Clone, PartialEq)]
pub enum Json<'a> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

impl<'a> Json<'a> {
    /// The value of `key` in an object (the first one, should the key repeat).
    pub fn get(&self, key: &str) -> Option<&Json<'a>> {
        match self {
            Json::Object(pairs) => pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s.as_ref()),
            _ => None,
        }
    }

    /// A scalar as text (numbers and booleans as JSON writes them).
    fn scalar_text(&self) -> Option<Cow<'_, str>> {
        match self {
            Json::Str(s) => Some(Cow::Borrowed(s)),
            Json::Bool(b) => Some(Cow::Owned(b.to_string())),
            Json::Int(i) => Some(Cow::Owned(i.to_string())),
            Json::UInt(u) => Some(Cow::Owned(u.to_string())),
            Json::Float(f) => Some(Cow::Owned(f.to_string())),
            _ => None,
        }
    }
}

/// A string key or value: borrowed when it holds no escape.
struct Text<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> Deserialize<'de> for Json<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Json<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Json<'de>, E> {
                Ok(Json::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Json<'de>, E> {
                Ok(Json::Null)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Json<'de>, E> {
                Ok(Json::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Json<'de>, E> {
                Ok(Json::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Json<'de>, E> {
                Ok(Json::UInt(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json<'de>, E> {
                Ok(Json::Float(v))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Json<'de>, E> {
                Ok(Json::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Json<'de>, E> {
                Ok(Json::Str(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Json<'de>, E> {
                Ok(Json::Str(Cow::Owned(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(4).min(4096));
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Json::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(8).min(256));
                while let Some(Text(key)) = map.next_key()? {
                    pairs.push((key, map.next_value()?));
                }
                Ok(Json::Object(pairs))
            }
        }
        d.deserialize_any(V)
    }
}

/// Why a page is not a JSON document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("an HTML page instead of JSON: {snippet}")]
    Html { snippet: String },
    #[error("empty body")]
    Empty,
    #[error("truncated JSON (ends at line {line}, column {column})")]
    Truncated { line: usize, column: usize },
    #[error("invalid JSON at line {line}, column {column}: {reason}")]
    Invalid {
        line: usize,
        column: usize,
        reason: String,
    },
    #[error("not a JSON-LD document: {0}")]
    NotJsonLd(String),
}

/// Reads one page. A UTF-8 byte-order mark is skipped.
pub fn parse(bytes: &[u8]) -> Result<Json<'_>, PageError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start else {
        return Err(PageError::Empty);
    };
    if bytes[start] == b'<' {
        let head = String::from_utf8_lossy(&bytes[start..bytes.len().min(start + 4096)]);
        return Err(PageError::Html {
            snippet: crate::fetch::http::snippet(&head),
        });
    }
    // One UTF-8 check of the whole page, then a parser that does not check every string again.
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let upto = &bytes[..e.valid_up_to()];
        let line = upto.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = upto.len() - upto.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1) + 1;
        if e.error_len().is_none() {
            // Cut in the middle of a character: the body ends early.
            PageError::Truncated { line, column }
        } else {
            PageError::Invalid {
                line,
                column,
                reason: "invalid UTF-8".into(),
            }
        }
    })?;
    let doc: Json<'_> = serde_json::from_str(text).map_err(|e| {
        if e.is_eof() {
            PageError::Truncated {
                line: e.line(),
                column: e.column(),
            }
        } else {
            let reason = e.to_string();
            let reason = reason
                .split(" at line ")
                .next()
                .unwrap_or(&reason)
                .chars()
                .take(200)
                .collect();
            PageError::Invalid {
                line: e.line(),
                column: e.column(),
                reason,
            }
        }
    })?;
    match doc {
        Json::Object(_) | Json::Array(_) => Ok(doc),
        _ => Err(PageError::NotJsonLd(
            "the document is a JSON scalar, not an object or array".into(),
        )),
    }
}

/// The namespaces the sync needs.
pub(crate) mod ns {
    pub const RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
    pub const RDFS: &str = "http://www.w3.org/2000/01/rdf-schema#";
    pub const XSD: &str = "http://www.w3.org/2001/XMLSchema#";
    pub const DCT: &str = "http://purl.org/dc/terms/";
    pub const DCAT: &str = "http://www.w3.org/ns/dcat#";
    pub const FOAF: &str = "http://xmlns.com/foaf/0.1/";
    pub const VCARD: &str = "http://www.w3.org/2006/vcard/ns#";
    pub const ADMS: &str = "http://www.w3.org/ns/adms#";
    pub const HYDRA: &str = "http://www.w3.org/ns/hydra/core#";
}

/// Prefixes understood when a page's context does not define them.
const WELL_KNOWN: &[(&str, &str)] = &[
    ("dct", ns::DCT),
    ("dcterms", ns::DCT),
    ("dcat", ns::DCAT),
    ("foaf", ns::FOAF),
    ("vcard", ns::VCARD),
    ("adms", ns::ADMS),
    ("rdf", ns::RDF),
    ("rdfs", ns::RDFS),
    ("xsd", ns::XSD),
    ("hydra", ns::HYDRA),
];

/// The properties the sync reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pred {
    Title,
    Description,
    Modified,
    AccessRights,
    Label,
    Theme,
    Keyword,
    Creator,
    RightsHolder,
    ContactPoint,
    HasEmail,
    Status,
    IsPrimaryTopicOf,
    InCatalog,
    Distribution,
    License,
    Spatial,
    Name,
    NextPage,
    LastPage,
    TotalItems,
}

/// `rdf:type`, read like `@type`.
const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";

fn pred_of(iri: &str) -> Option<Pred> {
    let (base, local) = match iri.rfind(['#', '/']) {
        Some(i) => iri.split_at(i + 1),
        None => return None,
    };
    Some(match (base, local) {
        (ns::DCT, "title") => Pred::Title,
        (ns::DCT, "description") => Pred::Description,
        (ns::DCT, "modified") => Pred::Modified,
        (ns::DCT, "accessRights") => Pred::AccessRights,
        (ns::DCT, "creator") => Pred::Creator,
        // CKAN writes the non-standard `dct:rights_holder`; DCAT says `dct:rightsHolder`.
        (ns::DCT, "rights_holder" | "rightsHolder") => Pred::RightsHolder,
        (ns::DCT, "license") => Pred::License,
        (ns::DCT, "spatial") => Pred::Spatial,
        (ns::RDFS, "label") => Pred::Label,
        (ns::DCAT, "theme") => Pred::Theme,
        (ns::DCAT, "keyword") => Pred::Keyword,
        (ns::DCAT, "contactPoint") => Pred::ContactPoint,
        (ns::DCAT, "inCatalog") => Pred::InCatalog,
        (ns::DCAT, "distribution") => Pred::Distribution,
        (ns::FOAF, "name") => Pred::Name,
        (ns::FOAF, "isPrimaryTopicOf") => Pred::IsPrimaryTopicOf,
        (ns::VCARD, "hasEmail") => Pred::HasEmail,
        (ns::ADMS, "status") => Pred::Status,
        (ns::HYDRA, "nextPage") => Pred::NextPage,
        (ns::HYDRA, "lastPage") => Pred::LastPage,
        (ns::HYDRA, "totalItems") => Pred::TotalItems,
        _ => return None,
    })
}

/// Node types the sync recognises (bit set).
pub(crate) mod kind {
    pub const DATASET: u8 = 1;
    pub const SERIES: u8 = 2;
    pub const PAGE: u8 = 4;
}

fn kind_of(iri: &str) -> u8 {
    match iri {
        "http://www.w3.org/ns/dcat#Dataset" => kind::DATASET,
        "http://www.w3.org/ns/dcat#DatasetSeries" => kind::SERIES,
        "http://www.w3.org/ns/hydra/core#PagedCollection"
        | "http://www.w3.org/ns/hydra/core#Collection"
        | "http://www.w3.org/ns/hydra/core#PartialCollectionView" => kind::PAGE,
        _ => 0,
    }
}

/// An RDF term: the object of a kept property.
#[derive(Debug, Clone, PartialEq)]
pub enum Term<'d> {
    /// An IRI (expanded).
    Iri(Cow<'d, str>),
    /// A blank node label (`_:b0`).
    Blank(Cow<'d, str>),
    /// An anonymous node object embedded as a value (index in [`Graph::nodes`]).
    Node(usize),
    Literal {
        value: Cow<'d, str>,
        lang: Option<&'d str>,
        /// Expanded datatype IRI.
        datatype: Option<Cow<'d, str>>,
    },
}

impl Term<'_> {
    /// The text of a literal, or of an IRI (what CKAN writes some links as).
    pub fn text(&self) -> Option<&str> {
        match self {
            Term::Literal { value, .. } => Some(value),
            Term::Iri(iri) => Some(iri),
            _ => None,
        }
    }

    pub fn is_blank(&self) -> bool {
        matches!(self, Term::Blank(_) | Term::Node(_))
    }
}

/// One node of a page.
#[derive(Debug, Default)]
pub struct Node<'d> {
    /// Expanded `@id`; `None` for an anonymous embedded node.
    pub id: Option<Cow<'d, str>>,
    /// [`kind`] bits of its types.
    pub kinds: u8,
    /// The kept properties, in document order, each (predicate, value) once.
    pub props: Vec<(Pred, Term<'d>)>,
}

impl Node<'_> {
    pub fn is(&self, k: u8) -> bool {
        self.kinds & k != 0
    }
}

/// How a context term coerces string values.
#[derive(Debug, Clone, PartialEq)]
enum Coerce<'d> {
    None,
    Id,
    Datatype(Cow<'d, str>),
}

#[derive(Debug, Clone)]
struct TermDef<'d> {
    iri: Cow<'d, str>,
    coerce: Coerce<'d>,
}

#[derive(Debug, Default)]
struct Context<'d> {
    terms: FxHashMap<&'d str, TermDef<'d>>,
    vocab: Option<Cow<'d, str>>,
    language: Option<&'d str>,
}

impl<'d> Context<'d> {
    fn read(&mut self, value: &'d Json<'d>, remote: &mut Vec<String>) {
        match value {
            Json::Array(items) => items.iter().for_each(|v| self.read(v, remote)),
            Json::Str(url) => remote.push(url.chars().take(200).collect()),
            Json::Object(pairs) => {
                for (k, v) in pairs {
                    match (k.as_ref(), v) {
                        ("@vocab", Json::Str(s)) => self.vocab = Some(Cow::Borrowed(s.as_ref())),
                        ("@language", Json::Str(s)) => self.language = Some(s.as_ref()),
                        ("@language", Json::Null) => self.language = None,
                        (k, _) if k.starts_with('@') => {}
                        (k, Json::Str(iri)) => {
                            self.terms.insert(
                                k,
                                TermDef {
                                    iri: Cow::Borrowed(iri.as_ref()),
                                    coerce: Coerce::None,
                                },
                            );
                        }
                        (k, def @ Json::Object(_)) => {
                            let iri = def.get("@id").and_then(Json::as_str).unwrap_or(k);
                            let coerce = match def.get("@type").and_then(Json::as_str) {
                                Some("@id" | "@vocab") => Coerce::Id,
                                Some(t) => Coerce::Datatype(Cow::Borrowed(t)),
                                None => Coerce::None,
                            };
                            self.terms.insert(
                                k,
                                TermDef {
                                    iri: Cow::Borrowed(iri),
                                    coerce,
                                },
                            );
                        }
                        (k, Json::Null) => {
                            self.terms.remove(k);
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        // Term definitions may use prefixes of the same context (`"title": "dct:title"`).
        let unresolved: Vec<(&'d str, Cow<'d, str>)> = self
            .terms
            .iter()
            .filter(|(_, d)| !d.iri.contains("://") && d.iri.contains(':'))
            .map(|(k, d)| (*k, d.iri.clone()))
            .collect();
        for (k, iri) in unresolved {
            if let Some(expanded) = self.expand_prefixed(&iri) {
                if let Some(def) = self.terms.get_mut(k) {
                    def.iri = Cow::Owned(expanded);
                }
            }
        }
        let datatypes: Vec<(&'d str, String)> = self
            .terms
            .iter()
            .filter_map(|(k, d)| match &d.coerce {
                Coerce::Datatype(t) => self.expand_prefixed(t).map(|e| (*k, e)),
                _ => None,
            })
            .collect();
        for (k, t) in datatypes {
            if let Some(def) = self.terms.get_mut(k) {
                def.coerce = Coerce::Datatype(Cow::Owned(t));
            }
        }
    }

    /// `prefix:suffix` with a known prefix, expanded; `None` otherwise.
    fn expand_prefixed(&self, s: &str) -> Option<String> {
        let (prefix, suffix) = s.split_once(':')?;
        if suffix.starts_with("//") || prefix == "_" {
            return None;
        }
        if let Some(def) = self.terms.get(prefix) {
            return Some(format!("{}{suffix}", def.iri));
        }
        WELL_KNOWN
            .iter()
            .find(|(p, _)| *p == prefix)
            .map(|(_, ns)| format!("{ns}{suffix}"))
    }

    /// Expands an IRI written in the document: a compact IRI, an absolute IRI or a blank node
    /// label; with `vocab`, also a term or a `@vocab`-relative name (keys, `@type` values).
    fn expand(&self, s: &'d str, vocab: bool) -> Cow<'d, str> {
        if vocab {
            if let Some(def) = self.terms.get(s) {
                return def.iri.clone();
            }
        }
        if let Some(e) = self.expand_prefixed(s) {
            return Cow::Owned(e);
        }
        if vocab && !s.contains(':') {
            if let Some(v) = &self.vocab {
                return Cow::Owned(format!("{v}{s}"));
            }
        }
        Cow::Borrowed(s)
    }
}

/// What a key of a node object means.
#[derive(Debug, Clone)]
enum KeyInfo<'d> {
    Type,
    Kept(Pred, Coerce<'d>),
    Other,
}

/// The nodes of one page, indexed.
#[derive(Debug, Default)]
pub struct Graph<'d> {
    pub nodes: Vec<Node<'d>>,
    by_id: FxHashMap<Cow<'d, str>, usize>,
    ctx: Context<'d>,
    keys: FxHashMap<&'d str, KeyInfo<'d>>,
    types: FxHashMap<&'d str, u8>,
    remote: Vec<String>,
}

impl<'d> Graph<'d> {
    /// Indexes the nodes of a parsed page (see the module doc).
    pub fn build(doc: &'d Json<'d>) -> Result<Graph<'d>, PageError> {
        let mut g = Graph::default();
        let tops: Vec<&'d Json<'d>> = match doc {
            Json::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        for top in &tops {
            if let Some(ctx) = top.get("@context") {
                g.ctx.read(ctx, &mut g.remote);
            }
        }
        for top in tops {
            match top {
                Json::Object(pairs) => {
                    let is_node = pairs
                        .iter()
                        .any(|(k, _)| !matches!(k.as_ref(), "@context" | "@graph"));
                    if is_node {
                        g.add_node(pairs);
                    } else if let Some(graph) = top.get("@graph") {
                        g.add_graph(graph);
                    }
                }
                _ => {
                    return Err(PageError::NotJsonLd(
                        "a top-level array member is not an object".into(),
                    ))
                }
            }
        }
        Ok(g)
    }

    /// Remote contexts the page names (not fetched).
    pub fn remote_contexts(&self) -> &[String] {
        &self.remote
    }

    fn add_graph(&mut self, graph: &'d Json<'d>) {
        match graph {
            Json::Array(items) => {
                for item in items {
                    if let Json::Object(pairs) = item {
                        self.add_node(pairs);
                    }
                }
            }
            Json::Object(pairs) => {
                self.add_node(pairs);
            }
            _ => {}
        }
    }

    fn key_info(&mut self, key: &'d str) -> KeyInfo<'d> {
        if let Some(info) = self.keys.get(key) {
            return info.clone();
        }
        let iri = self.ctx.expand(key, true);
        let info = if iri == RDF_TYPE {
            KeyInfo::Type
        } else {
            match pred_of(&iri) {
                Some(p) => {
                    let coerce = self
                        .ctx
                        .terms
                        .get(key)
                        .map(|d| d.coerce.clone())
                        .unwrap_or(Coerce::None);
                    KeyInfo::Kept(p, coerce)
                }
                None => KeyInfo::Other,
            }
        };
        self.keys.insert(key, info.clone());
        info
    }

    /// The [`kind`] bits of a `@type` value (cached: pages repeat a handful of types).
    fn type_kind(&mut self, t: &'d str) -> u8 {
        if let Some(&k) = self.types.get(t) {
            return k;
        }
        let k = kind_of(&self.ctx.expand(t, true));
        self.types.insert(t, k);
        k
    }

    /// Adds (or merges) a node object; returns its index.
    fn add_node(&mut self, pairs: &'d [(Cow<'d, str>, Json<'d>)]) -> usize {
        let id = pairs
            .iter()
            .find(|(k, _)| k == "@id")
            .and_then(|(_, v)| v.as_str())
            .map(|s| self.ctx.expand(s, false));
        let idx = match id {
            Some(id) => match self.by_id.get(id.as_ref()) {
                Some(&i) => i,
                None => {
                    self.nodes.push(Node {
                        id: Some(id.clone()),
                        ..Node::default()
                    });
                    self.by_id.insert(id, self.nodes.len() - 1);
                    self.nodes.len() - 1
                }
            },
            None => {
                self.nodes.push(Node::default());
                self.nodes.len() - 1
            }
        };
        let mut kinds = 0u8;
        let mut props: Vec<(Pred, Term<'d>)> = Vec::new();
        for (key, value) in pairs {
            match key.as_ref() {
                "@type" => each_member(value, &mut |t| {
                    if let Some(s) = t.as_str() {
                        kinds |= self.type_kind(s);
                    }
                }),
                "@graph" | "@included" => self.add_graph(value),
                k if k.starts_with('@') => {}
                k => match self.key_info(k) {
                    KeyInfo::Type => each_member(value, &mut |v| {
                        if let Some(Term::Iri(t)) = self.term(v, &Coerce::Id) {
                            kinds |= kind_of(&t);
                        }
                    }),
                    KeyInfo::Kept(pred, coerce) => each_member(value, &mut |v| {
                        if let Some(term) = self.term(v, &coerce) {
                            props.push((pred, term));
                        }
                    }),
                    // Nodes embedded under other properties may be linked from elsewhere.
                    KeyInfo::Other => each_member(value, &mut |v| {
                        if let Json::Object(inner) = v {
                            if is_node_object(inner) {
                                self.add_node(inner);
                            }
                        }
                    }),
                },
            }
        }
        let node = &mut self.nodes[idx];
        node.kinds |= kinds;
        for (p, t) in props {
            if !node.props.iter().any(|(q, u)| *q == p && *u == t) {
                node.props.push((p, t));
            }
        }
        idx
    }

    /// The term a value denotes (`None` for `null`, an empty `@value`-less object…).
    fn term(&mut self, v: &'d Json<'d>, coerce: &Coerce<'d>) -> Option<Term<'d>> {
        match v {
            Json::Null | Json::Array(_) => None,
            Json::Str(s) => Some(match coerce {
                Coerce::Id => self.iri_term(s),
                Coerce::Datatype(t) => Term::Literal {
                    value: Cow::Borrowed(s.as_ref()),
                    lang: None,
                    datatype: Some(t.clone()),
                },
                Coerce::None => Term::Literal {
                    value: Cow::Borrowed(s.as_ref()),
                    lang: self.ctx.language,
                    datatype: None,
                },
            }),
            Json::Object(pairs) => {
                if let Some(value) = v.get("@value") {
                    let value = value.scalar_text()?;
                    let lang = v.get("@language").and_then(Json::as_str);
                    let datatype = v
                        .get("@type")
                        .and_then(Json::as_str)
                        .map(|t| self.ctx.expand(t, true));
                    return Some(Term::Literal {
                        value,
                        lang,
                        datatype,
                    });
                }
                if v.get("@list").is_some() || v.get("@set").is_some() {
                    // Reached only through `each_member`, which unwraps them; nothing else to say.
                    return None;
                }
                if is_node_object(pairs) {
                    let idx = self.add_node(pairs);
                    return Some(match v.get("@id").and_then(Json::as_str) {
                        Some(id) => self.iri_term(id),
                        None => Term::Node(idx),
                    });
                }
                let id = v.get("@id").and_then(Json::as_str)?;
                Some(self.iri_term(id))
            }
            scalar => Some(Term::Literal {
                value: scalar.scalar_text()?,
                lang: None,
                datatype: None,
            }),
        }
    }

    fn iri_term(&self, s: &'d str) -> Term<'d> {
        if s.starts_with("_:") {
            Term::Blank(Cow::Borrowed(s))
        } else {
            Term::Iri(self.ctx.expand(s, false))
        }
    }

    /// The node a term links to, when it is on this page.
    pub fn node(&self, term: &Term<'_>) -> Option<&Node<'d>> {
        match term {
            Term::Iri(id) | Term::Blank(id) => self.by_id.get(id.as_ref()).map(|&i| &self.nodes[i]),
            Term::Node(i) => self.nodes.get(*i),
            Term::Literal { .. } => None,
        }
    }

    /// The values of `pred` on `node`, in document order.
    pub fn values<'n>(
        &'n self,
        node: &'n Node<'d>,
        pred: Pred,
    ) -> impl Iterator<Item = &'n Term<'d>> + 'n {
        node.props
            .iter()
            .filter(move |(p, _)| *p == pred)
            .map(|(_, t)| t)
    }

    /// The nodes `pred` links `node` to, in document order (links to nodes not on this page are
    /// left out).
    pub fn linked<'n>(
        &'n self,
        node: &'n Node<'d>,
        pred: Pred,
    ) -> impl Iterator<Item = &'n Node<'d>> + 'n {
        self.values(node, pred).filter_map(|t| self.node(t))
    }
}

/// Whether an object is a node object (not a value, list or set object, and more than a bare
/// `{"@id"}` reference).
fn is_node_object(pairs: &[(Cow<'_, str>, Json<'_>)]) -> bool {
    !pairs
        .iter()
        .any(|(k, _)| matches!(k.as_ref(), "@value" | "@list" | "@set"))
        && pairs.iter().any(|(k, _)| k != "@id")
}

/// Calls `f` on each member of a value: arrays, `@list` and `@set` unwrapped (recursively).
fn each_member<'d>(v: &'d Json<'d>, f: &mut impl FnMut(&'d Json<'d>)) {
    match v {
        Json::Array(items) => items.iter().for_each(|i| each_member(i, f)),
        Json::Object(_) => match v.get("@list").or_else(|| v.get("@set")) {
            Some(inner) => each_member(inner, f),
            None => f(v),
        },
        other => f(other),
    }
}
