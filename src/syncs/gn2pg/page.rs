//! Export items → rows for `data_json` and `metadata_json` (docs/syncs/gn2pg.md §7), done by
//! the parser workers while the next page downloads.
//!
//! Fast path: an item without `ca_data`/`jdd_data` objects is stored as the text the server sent
//! (PostgreSQL parses it into `jsonb`; only `id_synthese` and `id_perm_sinp` are read). Metadata
//! path: `ca_data` then `jdd_data` are moved out of the item, which gets `ca_uuid`/`jdd_uuid`
//! (the dataset gets the item's `ca_uuid` when there is one); both are upserted into
//! `metadata_json`. Null `ca_data`/`jdd_data` stay as nulls. What cannot be stored — no integer
//! `id_synthese`, an `id_perm_sinp` that is not a UUID, a metadata object without a UUID — is a
//! [`BadRow`] for `error_log`, never a lost page. Ids must strictly increase within a page.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::remote::ExportPage;

/// A row for `data_json`.
#[derive(Debug, Clone, PartialEq)]
pub struct DataRow {
    pub id: i32,
    pub uuid: Option<[u8; 16]>,
    pub item: String,
}

/// `metadata_json.level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Framework,
    Dataset,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Framework => "acquisition framework",
            Level::Dataset => "dataset",
        }
    }
}

/// A row for `metadata_json`.
#[derive(Debug, Clone, PartialEq)]
pub struct MetaRow {
    pub uuid: [u8; 16],
    pub level: Level,
    pub item: String,
}

/// An item that cannot be stored, with why.
#[derive(Debug, Clone, PartialEq)]
pub struct BadRow {
    pub id: Option<i64>,
    pub uuid: Option<[u8; 16]>,
    pub item: String,
    pub error: String,
    /// `data` or `metadata`.
    pub controler: &'static str,
}

/// A parsed page.
#[derive(Debug, Default)]
pub struct ParsedPage {
    pub rows: Vec<DataRow>,
    pub metas: Vec<MetaRow>,
    pub bad: Vec<BadRow>,
    /// Items received.
    pub items: usize,
    pub first_id: Option<i64>,
    pub last_id: Option<i64>,
    /// Ids not strictly increasing inside the page.
    pub disorder: Option<String>,
    /// Its rows were COPYed into a shared staging table ([`super::store::Stager`]).
    pub staged: bool,
}

#[derive(Deserialize)]
struct Probe<'a> {
    #[serde(borrow, default)]
    id_synthese: Option<&'a RawValue>,
    #[serde(borrow, default)]
    id_perm_sinp: Option<&'a RawValue>,
    #[serde(borrow, default)]
    ca_data: Option<&'a RawValue>,
    #[serde(borrow, default)]
    jdd_data: Option<&'a RawValue>,
}

fn is_object(raw: Option<&RawValue>) -> bool {
    raw.is_some_and(|r| r.get().trim_start().starts_with('{'))
}

/// Parses a UUID the way PostgreSQL's `uuid_in` does: 32 hex digits, optionally in braces, with
/// an optional `-` after any group of four digits.
pub fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    let inner = match text.strip_prefix('{') {
        Some(rest) => rest.strip_suffix('}')?,
        None => text,
    };
    let mut out = [0u8; 16];
    let mut digits = 0usize;
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        let v = c.to_digit(16)? as u8;
        if digits >= 32 {
            return None;
        }
        out[digits / 2] |= if digits % 2 == 0 { v << 4 } else { v };
        digits += 1;
        if digits % 4 == 0 && digits < 32 && chars.peek() == Some(&'-') {
            chars.next();
        }
    }
    (digits == 32).then_some(out)
}

/// The UUID in a JSON value (a string), `Ok(None)` for null/absent.
pub(super) fn uuid_of(raw: Option<&RawValue>) -> Result<Option<[u8; 16]>, String> {
    let Some(raw) = raw else { return Ok(None) };
    match serde_json::from_str::<Option<String>>(raw.get()) {
        Ok(None) => Ok(None),
        Ok(Some(s)) => parse_uuid(&s)
            .map(Some)
            .ok_or_else(|| format!("{} is not a UUID", clip(raw.get()))),
        Err(_) => Err(format!("{} is not a UUID", clip(raw.get()))),
    }
}

fn clip(s: &str) -> String {
    let mut c: String = s.chars().take(80).collect();
    if c.len() < s.len() {
        c.push('…');
    }
    c
}

fn id_of(raw: Option<&RawValue>) -> Result<i64, String> {
    let raw = raw.ok_or("no id_synthese")?;
    serde_json::from_str::<i64>(raw.get())
        .map_err(|_| format!("id_synthese {} is not an integer", clip(raw.get())))
}

/// A JSON object kept as top-level keys → raw values (later duplicates win, as in Python).
pub(super) type RawObject<'a> = BTreeMap<String, &'a RawValue>;

pub(super) fn write_object(obj: &RawObject<'_>, extra: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(1024);
    out.push('{');
    let mut first = true;
    let mut push = |out: &mut String, k: &str, v: &str| {
        if !std::mem::take(&mut first) {
            out.push(',');
        }
        out.push_str(&serde_json::to_string(k).unwrap_or_else(|_| "\"\"".into()));
        out.push(':');
        out.push_str(v);
    };
    for (k, v) in obj {
        if extra.iter().any(|(e, _)| *e == k.as_str()) {
            continue;
        }
        push(&mut out, k, v.get());
    }
    for (k, v) in extra {
        push(&mut out, k, v);
    }
    out.push('}');
    out
}

/// The outcome of one item.
enum Item {
    Row(DataRow, Vec<MetaRow>, Vec<BadRow>),
    Bad(BadRow),
}

fn bad(id: Option<i64>, uuid: Option<[u8; 16]>, text: &str, error: String) -> Item {
    Item::Bad(BadRow {
        id,
        uuid,
        item: text.to_string(),
        error,
        controler: "data",
    })
}

fn parse_item(text: &str) -> Item {
    let probe: Option<Probe<'_>> = serde_json::from_str(text).ok();
    match probe {
        Some(p) if !is_object(p.ca_data) && !is_object(p.jdd_data) => {
            let id = match id_of(p.id_synthese) {
                Ok(id) => id,
                Err(e) => return bad(None, None, text, e),
            };
            row(
                id,
                p.id_perm_sinp,
                text.to_string(),
                Vec::new(),
                Vec::new(),
                text,
            )
        }
        _ => with_metadata(text),
    }
}

fn row(
    id: i64,
    uuid_raw: Option<&RawValue>,
    item: String,
    metas: Vec<MetaRow>,
    bads: Vec<BadRow>,
    text: &str,
) -> Item {
    let uuid = match uuid_of(uuid_raw) {
        Ok(u) => u,
        Err(e) => return bad(Some(id), None, text, format!("id_perm_sinp: {e}")),
    };
    let Ok(id32) = i32::try_from(id) else {
        return bad(
            Some(id),
            uuid,
            text,
            format!("id_synthese {id} does not fit data_json.id_data (integer)"),
        );
    };
    Item::Row(
        DataRow {
            id: id32,
            uuid,
            item,
        },
        metas,
        bads,
    )
}

/// The slow path: an item with `ca_data`/`jdd_data` objects (or one the probe could not read).
fn with_metadata(text: &str) -> Item {
    let mut obj: RawObject<'_> = match serde_json::from_str(text) {
        Ok(o) => o,
        Err(e) => return bad(None, None, text, format!("item is not a JSON object: {e}")),
    };
    let id = match id_of(obj.get("id_synthese").copied()) {
        Ok(id) => id,
        Err(e) => return bad(None, None, text, e),
    };
    let mut metas = Vec::new();
    let mut bads = Vec::new();
    let mut extra: Vec<(&str, String)> = Vec::new();
    for (key, uuid_key, level) in [
        ("ca_data", "ca_uuid", Level::Framework),
        ("jdd_data", "jdd_uuid", Level::Dataset),
    ] {
        let Some(raw) = obj.get(key).copied().filter(|r| is_object(Some(r))) else {
            continue;
        };
        let mut meta: RawObject<'_> = match serde_json::from_str(raw.get()) {
            Ok(m) => m,
            Err(_) => continue,
        };
        obj.remove(key);
        let uuid_raw = meta.get("uuid").copied();
        let uuid_text = uuid_raw
            .map(|r| r.get().to_string())
            .unwrap_or("null".into());
        let mut meta_extra: Vec<(&str, String)> = Vec::new();
        if level == Level::Dataset {
            let ca = extra
                .iter()
                .find(|(k, _)| *k == "ca_uuid")
                .map(|(_, v)| v.clone())
                .or_else(|| obj.get("ca_uuid").map(|r| r.get().to_string()));
            if let Some(ca) = ca {
                meta.remove("ca_uuid");
                meta_extra.push(("ca_uuid", ca));
            }
        }
        let pairs: Vec<(&str, &str)> = meta_extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let meta_text = write_object(&meta, &pairs);
        match uuid_of(uuid_raw) {
            Ok(Some(u)) => metas.push(MetaRow {
                uuid: u,
                level,
                item: meta_text,
            }),
            Ok(None) | Err(_) => bads.push(BadRow {
                id: Some(id),
                uuid: None,
                item: meta_text,
                error: format!("{key} of id_synthese {id} has no valid uuid"),
                controler: "metadata",
            }),
        }
        extra.push((uuid_key, uuid_text));
    }
    let pairs: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let item = write_object(&obj, &pairs);
    let uuid_raw = obj.get("id_perm_sinp").copied();
    row(id, uuid_raw, item, metas, bads, text)
}

/// Parses every item of `page`.
pub fn parse(page: &ExportPage) -> ParsedPage {
    let mut out = ParsedPage {
        items: page.items.len(),
        rows: Vec::with_capacity(page.items.len()),
        ..ParsedPage::default()
    };
    let mut prev: Option<i64> = None;
    for i in 0..page.items.len() {
        let text = page.item(i);
        let id = match parse_item(text) {
            Item::Row(r, metas, bads) => {
                let id = i64::from(r.id);
                out.rows.push(r);
                out.metas.extend(metas);
                out.bad.extend(bads);
                Some(id)
            }
            Item::Bad(b) => {
                let id = b.id;
                out.bad.push(b);
                id
            }
        };
        if let Some(id) = id {
            if let Some(p) = prev {
                if id <= p && out.disorder.is_none() {
                    out.disorder = Some(format!(
                        "id_synthese {id} follows {p}: ids must strictly increase"
                    ));
                }
            }
            prev = Some(id);
            out.first_id.get_or_insert(id);
            out.last_id = Some(id);
        }
    }
    out
}
