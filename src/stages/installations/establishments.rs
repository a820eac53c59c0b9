//! `installations_all.csv` from the S3IC establishments extraction
//! (`s3ic-liste-etablissements.csv`, docs/formats.md §3.2):
//! exact-duplicate removal, regime filter and mapping, per-`code_s3ic` grouping keeping the last
//! non-missing value of each column, renames, derived `num_dep`, date parsing, family/Seveso
//! mappings, enum validation of every row, then the activity filter.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use rustc_hash::FxHashSet;

use crate::model::installation as vocab;
use crate::tabular::dedup::WholeRow;
use crate::tabular::{parse_date, CsvWriter, Table};
use crate::text::clip;

use super::InstallationsError;

/// Output columns, in order.
pub const COLUMNS: [&str; 16] = [
    "s3ic_id",
    "num_dep",
    "region",
    "department",
    "city",
    "name",
    "lat",
    "lon",
    "last_inspection",
    "regime",
    "seveso",
    "family",
    "active",
    "code_postal",
    "code_insee",
    "code_naf",
];

/// Source columns, in the order of [`COLUMNS`] after `s3ic_id` and `num_dep` (the latter is
/// derived from `code_postal`).
const SOURCE: [&str; 15] = [
    "code_s3ic",
    "region",
    "département",
    "commune_principale",
    "raison_sociale",
    "coordonnées_géographiques_x",
    "coordonnées_géographiques_y",
    "date_inspection",
    "régime_etab_en_vigueur",
    "statut_seveso",
    "famille",
    "état_de_l_activité",
    "code_postal",
    "code_insee_commune",
    "code_naf",
];
const S_ID: usize = 0;
const S_DATE: usize = 7;
const S_REGIME: usize = 8;
const S_SEVESO: usize = 9;
const S_FAMILY: usize = 10;
const S_ACTIVE: usize = 11;
const S_POSTAL: usize = 12;

/// One published installation: its 16 output cells.
pub struct Installation<'a> {
    pub cells: [Option<Cow<'a, str>>; 16],
}

impl Installation<'_> {
    pub fn s3ic_id(&self) -> &str {
        self.cells[0].as_deref().unwrap_or("")
    }
    pub fn region(&self) -> Option<&str> {
        self.cells[2].as_deref()
    }
}

/// The active installations, sorted by `s3ic_id`.
pub struct Installations<'a> {
    pub rows: Vec<Installation<'a>>,
}

impl<'a> Installations<'a> {
    pub fn ids(&self) -> HashSet<&str> {
        self.rows.iter().map(|i| i.s3ic_id()).collect()
    }

    /// Serialises the rows selected by `keep`; returns the bytes and the row count.
    pub fn to_csv(&self, keep: impl Fn(&Installation<'a>) -> bool) -> (Vec<u8>, usize) {
        let mut w = CsvWriter::with_header(&COLUMNS);
        for row in self.rows.iter().filter(|r| keep(r)) {
            w.write_row(row.cells.iter().map(|c| c.as_deref()));
        }
        let n = w.rows();
        (w.into_bytes(), n)
    }
}

/// Value of one column of a group: the last non-missing one, with its line for messages.
type Cell<'a> = Option<(&'a str, u64)>;

pub fn build(table: &Table) -> Result<Installations<'_>, InstallationsError> {
    let idx = table.columns(SOURCE)?;
    let width = table.headers.len();

    // Formats §3.2 steps 1–3. Duplicates share their regime: filtering first is equivalent.
    let mut seen = FxHashSet::default();
    seen.reserve(table.rows.len());
    let mut groups: HashMap<&str, [Cell<'_>; 15]> = HashMap::with_capacity(table.rows.len());
    for rec in &table.rows {
        let Some(regime) = rec.get(idx[S_REGIME]).and_then(vocab::installation_regime) else {
            continue;
        };
        if !seen.insert(WholeRow(rec, width)) {
            continue;
        }
        let Some(id) = rec.get(idx[S_ID]) else {
            continue;
        };
        let acc = groups.entry(id).or_insert([None; 15]);
        for (c, &col) in idx.iter().enumerate() {
            let value = if c == S_REGIME {
                Some(regime)
            } else {
                rec.get(col)
            };
            if let Some(v) = value {
                acc[c] = Some((v, rec.line()));
            }
        }
    }
    let mut ids: Vec<&str> = groups.keys().copied().collect();
    ids.sort_unstable();

    let file = &table.file;
    let mut rows = Vec::with_capacity(ids.len());
    for id in ids {
        let g = &groups[id];
        let text = |c: usize| g[c].map(|(v, _)| v);
        let line_of = |c: usize| g[c].map(|(_, l)| l).unwrap_or(0);
        let last_inspection = match g[S_DATE] {
            None => None,
            Some((v, line)) => Some(Cow::Owned(
                parse_date(v)
                    .map_err(|_| InstallationsError::InvalidDate {
                        file: file.clone(),
                        line,
                        column: "date_inspection",
                        value: clip(v),
                        s3ic_id: clip(id),
                    })?
                    .to_string(),
            )),
        };
        let regime = text(S_REGIME).unwrap_or("");
        let seveso = vocab::seveso(text(S_SEVESO).unwrap_or(""));
        let family = text(S_FAMILY).map(vocab::family);
        let active = text(S_ACTIVE).unwrap_or("");
        let check = |column: &'static str, c: usize, value: &str, allowed: &[&str]| {
            if allowed.contains(&value) {
                Ok(())
            } else {
                Err(InstallationsError::InvalidValue {
                    file: file.clone(),
                    line: line_of(c),
                    column,
                    value: clip(value),
                    s3ic_id: clip(id),
                    expected: format!("{allowed:?}"),
                })
            }
        };
        check(
            "régime_etab_en_vigueur",
            S_REGIME,
            regime,
            &vocab::INSTALLATION_REGIMES,
        )?;
        check("statut_seveso", S_SEVESO, seveso, &vocab::SEVESO)?;
        check(
            "famille",
            S_FAMILY,
            family.unwrap_or("<missing>"),
            &vocab::FAMILIES,
        )?;
        check(
            "état_de_l_activité",
            S_ACTIVE,
            active,
            &vocab::ACTIVITY_STATES,
        )?;
        if !vocab::ACTIVE_STATES.contains(&active) {
            continue;
        }
        // Deviation (formats §11 #3): a missing code_postal gives an empty num_dep, not a crash.
        let postal = text(S_POSTAL);
        let num_dep = postal
            .map(|p| match p.char_indices().nth(2) {
                Some((end, _)) => &p[..end],
                None => p,
            })
            .unwrap_or("");
        let b = |c: usize| text(c).map(Cow::Borrowed);
        rows.push(Installation {
            cells: [
                Some(Cow::Borrowed(id)),
                Some(Cow::Borrowed(num_dep)),
                b(1),
                b(2),
                b(3),
                b(4),
                b(5),
                b(6),
                last_inspection,
                Some(Cow::Borrowed(regime)),
                Some(Cow::Borrowed(seveso)),
                family.map(Cow::Borrowed),
                Some(Cow::Borrowed(active)),
                b(12),
                b(13),
                b(14),
            ],
        });
    }
    Ok(Installations { rows })
}
