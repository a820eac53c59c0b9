//! `classements_all.csv` from the S3IC rubriques extraction (docs/formats.md §4.2–4.5):
//! duplicate removal, restriction to published installations, renames, date parsing, regime
//! simplification, the `En fonctionnement` filter, 47xx masking, the stable multi-key sort, and the
//! (corrected) post-check that every 47-rubrique row is fully masked.

use std::cmp::Ordering;

use rayon::slice::ParallelSliceMut;
use std::collections::HashSet;

use rustc_hash::FxHashSet;

use crate::model::installation as vocab;
use crate::tabular::date::IsoDate;
use crate::tabular::dedup::WholeRow;
use crate::tabular::{parse_date, CsvWriter, Date, Record, Table};
use crate::text::clip;

use super::InstallationsError;

/// Source columns, in input = output order; the output names are [`COLUMNS`].
pub const SOURCE: [&str; 14] = [
    "code_s3ic",
    "rubrique_envigueur",
    "alinéa_envigueur",
    "régime_envigueur",
    "libellé_court_envigueur",
    "date_acte_rub_en_vigueur",
    "date_début_exploitation_rub",
    "date_dernière_modification_notable_rub",
    "état_technique",
    "rubrique_autorisé",
    "alinéa_autorisé",
    "régime_autorisé",
    "quantité",
    "unité",
];

/// Output columns, in order.
pub const COLUMNS: [&str; 14] = [
    "s3ic_id",
    "rubrique",
    "alinea",
    "regime",
    "activite",
    "date_autorisation",
    "date_mise_en_service",
    "last_substantial_modif_date",
    "state",
    "rubrique_acte",
    "alinea_acte",
    "regime_acte",
    "volume",
    "unit",
];
const ID: usize = 0;
const RUBRIQUE: usize = 1;
const ALINEA: usize = 2;
const REGIME: usize = 3;
const ACTIVITE: usize = 4;
const DATES: [usize; 3] = [5, 6, 7];
const STATE: usize = 8;
const RUBRIQUE_ACTE: usize = 9;
const ALINEA_ACTE: usize = 10;
const REGIME_ACTE: usize = 11;
const VOLUME: usize = 12;
const UNIT: usize = 13;

/// One kept row: the source record plus what the transformations computed.
pub struct Classement<'a> {
    rec: &'a Record,
    dates: [Option<Date>; 3],
    regime: &'static str,
    regime_acte: &'static str,
    masked: bool,
}

/// One output cell.
enum Cell<'a> {
    Text(&'a str),
    Date(IsoDate),
}

impl Cell<'_> {
    fn as_str(&self) -> &str {
        match self {
            Cell::Text(t) => t,
            Cell::Date(d) => d.as_str(),
        }
    }
}

impl<'a> Classement<'a> {
    fn raw(&self, c: usize) -> Option<&'a str> {
        self.rec.get(c)
    }

    pub fn s3ic_id(&self) -> &'a str {
        self.raw(ID).unwrap_or("")
    }

    /// Output cell `c` (`None` = empty field). Dates are written `YYYY-MM-DD`.
    fn cell(&self, c: usize) -> Option<Cell<'a>> {
        if self.masked {
            match c {
                REGIME | REGIME_ACTE => return Some(Cell::Text("NC")),
                RUBRIQUE_ACTE => return Some(Cell::Text("47xx")),
                ALINEA | ALINEA_ACTE | ACTIVITE | VOLUME | UNIT => return None,
                5 => return None,
                _ => {}
            }
        }
        match c {
            REGIME => Some(Cell::Text(self.regime)),
            REGIME_ACTE => Some(Cell::Text(self.regime_acte)),
            5..=7 => self.dates[c - 5].map(|d| Cell::Date(d.iso())),
            _ => self.raw(c).map(Cell::Text),
        }
    }

    fn date_autorisation(&self) -> Option<Date> {
        if self.masked {
            None
        } else {
            self.dates[0]
        }
    }
    fn regime_key(&self) -> &'static str {
        if self.masked {
            "NC"
        } else {
            self.regime
        }
    }
    fn alinea_key(&self) -> Option<&'a str> {
        if self.masked {
            None
        } else {
            self.raw(ALINEA)
        }
    }
}

/// The published classements, in output order.
pub struct Classements<'a> {
    pub rows: Vec<Classement<'a>>,
}

impl Classements<'_> {
    /// Serialises the rows whose installation id passes `keep`; returns bytes and row count.
    pub fn to_csv(&self, keep: impl Fn(&str) -> bool) -> (Vec<u8>, usize) {
        let mut w = CsvWriter::with_header(&COLUMNS);
        for row in self.rows.iter().filter(|r| keep(r.s3ic_id())) {
            let cells: [Option<Cell<'_>>; 14] = std::array::from_fn(|c| row.cell(c));
            w.write_row(cells.iter().map(|c| c.as_ref().map(Cell::as_str)));
        }
        let n = w.rows();
        (w.into_bytes(), n)
    }
}

/// Missing values sort last; present ones by `Ord`.
fn missing_last<T: Ord>(a: Option<T>, b: Option<T>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.cmp(&b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

pub fn build<'a>(
    table: &'a Table,
    installations: &HashSet<&str>,
) -> Result<Classements<'a>, InstallationsError> {
    // Rows are addressed by output position: the caller projected the table on SOURCE.
    let idx: [usize; 14] = std::array::from_fn(|i| i);
    debug_assert_eq!(table.headers, SOURCE);
    let width = table.headers.len();
    let file = &table.file;
    let mut seen = FxHashSet::default();
    seen.reserve(table.rows.len() / 2);
    let mut rows = Vec::with_capacity(table.rows.len() / 2);
    for rec in &table.rows {
        // Steps 1–2: duplicates share their installation, so restricting first is equivalent.
        let Some(id) = rec.get(idx[ID]) else { continue };
        if !installations.contains(id) || !seen.insert(WholeRow(rec, width)) {
            continue;
        }
        // Step 4: dates, on every remaining row.
        let mut dates = [None; 3];
        for (k, &c) in DATES.iter().enumerate() {
            if let Some(v) = rec.get(idx[c]) {
                dates[k] = Some(parse_date(v).map_err(|_| InstallationsError::InvalidDate {
                    file: file.clone(),
                    line: rec.line(),
                    column: SOURCE[c],
                    value: clip(v),
                    s3ic_id: clip(id),
                })?);
            }
        }
        // Step 5: regimes.
        let simplify = |c: usize| {
            let v = rec.get(idx[c]);
            v.and_then(vocab::simplify_classement_regime)
                .ok_or_else(|| InstallationsError::InvalidValue {
                    file: file.clone(),
                    line: rec.line(),
                    column: SOURCE[c],
                    value: clip(v.unwrap_or("<missing>")),
                    s3ic_id: clip(id),
                    expected: "NC, D, DC, A, S, 1, 2, 3, E, unknown".into(),
                })
        };
        let regime = simplify(REGIME)?;
        let regime_acte = simplify(REGIME_ACTE)?;
        // Step 6.
        if rec.get(idx[STATE]) != Some("En fonctionnement") {
            continue;
        }
        // Step 7.
        let masked = rec.get(idx[RUBRIQUE]) == Some("47xx");
        let row = Classement {
            rec,
            dates,
            regime,
            regime_acte,
            masked,
        };
        check_row(&row)?;
        rows.push(row);
    }
    // Step 9: stable sort, missing last per key. Keys are extracted once; rayon's sort is stable.
    let mut keyed: Vec<(SortKey<'a>, Classement<'a>)> =
        rows.into_iter().map(|r| (SortKey::of(&r), r)).collect();
    keyed.par_sort_by(|(a, _), (b, _)| a.cmp(b));
    Ok(Classements {
        rows: keyed.into_iter().map(|(_, r)| r).collect(),
    })
}

/// The sort key of one row (formats §4.4), compared field by field with missing values last.
struct SortKey<'a> {
    s3ic_id: &'a str,
    date_autorisation: Option<Date>,
    date_mise_en_service: Option<Date>,
    regime: &'static str,
    rubrique: Option<&'a str>,
    alinea: Option<&'a str>,
}

impl<'a> SortKey<'a> {
    fn of(r: &Classement<'a>) -> SortKey<'a> {
        SortKey {
            s3ic_id: r.s3ic_id(),
            date_autorisation: r.date_autorisation(),
            date_mise_en_service: r.dates[1],
            regime: r.regime_key(),
            rubrique: r.raw(RUBRIQUE),
            alinea: r.alinea_key(),
        }
    }

    fn cmp(&self, b: &SortKey<'_>) -> Ordering {
        self.s3ic_id
            .cmp(b.s3ic_id)
            .then_with(|| missing_last(self.date_autorisation, b.date_autorisation))
            .then_with(|| missing_last(self.date_mise_en_service, b.date_mise_en_service))
            .then_with(|| self.regime.cmp(b.regime))
            .then_with(|| missing_last(self.rubrique, b.rubrique))
            .then_with(|| missing_last(self.alinea, b.alinea))
    }
}

/// docs/formats.md §4.5, with the original's false alarm on missing dates fixed (§11 #4):
/// regimes in the published set, and any row whose rubrique or rubrique_acte starts with `47`
/// fully masked.
fn check_row(row: &Classement<'_>) -> Result<(), InstallationsError> {
    let rubrique = row.raw(RUBRIQUE).unwrap_or("");
    let rubrique_acte = if row.masked {
        "47xx"
    } else {
        row.raw(RUBRIQUE_ACTE).unwrap_or("")
    };
    if (rubrique.starts_with("47") || rubrique_acte.starts_with("47")) && !row.masked {
        return Err(InstallationsError::Unmasked47 {
            line: row.rec.line(),
            s3ic_id: clip(row.s3ic_id()),
            rubrique: clip(rubrique),
            rubrique_acte: clip(rubrique_acte),
        });
    }
    debug_assert!(vocab::CLASSEMENT_REGIMES.contains(&row.regime_key()));
    Ok(())
}
