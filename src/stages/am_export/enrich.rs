//! Enrichment of a stored AM with its metadata (the original `enrich`).
//!
//! Standardises a spelled-out title date (`Arrêté du 1er juin 2015 …` → `Arrêté du 01/06/15 …`),
//! derives or checks `date_of_signature` against the title's `dd/mm/yy` date, sets the URLs,
//! classements (metadata order), `classements_with_alineas`, `is_transverse` and `nickname`,
//! recomputes every section's reference and fills null `annotations`/`applicability` with their
//! defaults.

use chrono::NaiveDate;

use super::model::{
    Annotations, Applicability, ArreteMinisteriel, Classement, ClassementWithAlineas,
    StructuredText,
};
use super::reference::{add_references, py_is_space};

const LEGIFRANCE_LODA_BASE_URL: &str = "https://www.legifrance.gouv.fr/loda/id/";
const AIDA_URL: &str = "https://aida.ineris.fr/consultation_document/";

const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

fn py_split_whitespace(s: &str) -> Vec<&str> {
    s.split(py_is_space).filter(|w| !w.is_empty()).collect()
}

/// Whether `title` starts like `Arrêté du (1er|[0-9]*) <month> [0-9]{4}`.
fn contains_human_date(title: &str) -> bool {
    let Some(rest) = title.strip_prefix("Arrêté du ") else {
        return false;
    };
    let rest = rest.strip_prefix("1er ").unwrap_or_else(|| {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        rest[digits..].strip_prefix(' ').unwrap_or("\u{0}")
    });
    MONTHS.iter().any(|m| {
        rest.strip_prefix(m)
            .and_then(|r| r.strip_prefix(' '))
            .is_some_and(|r| r.len() >= 4 && r.as_bytes()[..4].iter().all(u8::is_ascii_digit))
    })
}

fn parse_ascii_int(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Rewrites the spelled-out date of a title as `dd/mm/yy` (the title's whitespace is
/// normalised to single spaces, as the original's `split()`/`join`).
pub(crate) fn standardize_title(title: &str) -> Result<String, String> {
    if title == "Faux arrêté" {
        return Ok("Faux arrêté du 10/10/10".into());
    }
    if !contains_human_date(title) {
        return Ok(title.to_string());
    }
    let words = py_split_whitespace(title);
    if words.len() <= 5 {
        return Err(format!(
            "title has too few words to standardize its date: {title:?}"
        ));
    }
    let day = if words[2] == "1er" {
        Some(1)
    } else {
        parse_ascii_int(words[2])
    };
    let month = MONTHS
        .iter()
        .position(|m| *m == words[3])
        .map(|i| i as u32 + 1);
    let year = parse_ascii_int(words[4]);
    let date = match (day, month, year) {
        (Some(d), Some(m), Some(y)) => NaiveDate::from_ymd_opt(y as i32, m, d),
        _ => None,
    }
    .ok_or_else(|| format!("invalid spelled-out date in title {title:?}"))?;
    let mut new_words: Vec<String> = words[..2].iter().map(|w| w.to_string()).collect();
    new_words.push(date.format("%d/%m/%y").to_string());
    new_words.extend(words[5..].iter().map(|w| w.to_string()));
    Ok(new_words.join(" "))
}

/// The `dd/mm/yy` date ending the short title (before `relatif`/`fixant`).
pub(crate) fn extract_date_of_signature(title: &str) -> Result<NaiveDate, String> {
    let short = title.split("relatif").next().unwrap_or("");
    let short = short.split("fixant").next().unwrap_or("");
    let candidate = py_split_whitespace(short).last().copied().unwrap_or("");
    let b = candidate.as_bytes();
    let shape_ok = b.len() == 8
        && b[2] == b'/'
        && b[5] == b'/'
        && [0, 1, 3, 4, 6, 7].iter().all(|&i| b[i].is_ascii_digit());
    if !shape_ok {
        return Err(format!("no dd/mm/yy date of signature in title {title:?}"));
    }
    let num = |i: usize| u32::from(b[i] - b'0') * 10 + u32::from(b[i + 1] - b'0');
    let yy = num(6) as i32;
    let year = if yy >= 69 { 1900 + yy } else { 2000 + yy };
    NaiveDate::from_ymd_opt(year, num(3), num(0))
        .ok_or_else(|| format!("invalid date {candidate:?} in title {title:?}"))
}

/// One entry per distinct (rubrique, regime), first-appearance order, with its non-empty
/// alineas.
pub fn group_classements(classements: &[Classement]) -> Vec<ClassementWithAlineas> {
    let mut groups: Vec<ClassementWithAlineas> = Vec::new();
    for classement in classements {
        let index = match groups
            .iter()
            .position(|g| g.rubrique == classement.rubrique && g.regime == classement.regime)
        {
            Some(index) => index,
            None => {
                groups.push(ClassementWithAlineas {
                    alineas: Vec::new(),
                    regime: classement.regime.clone(),
                    rubrique: classement.rubrique.clone(),
                });
                groups.len() - 1
            }
        };
        if let Some(alinea) = classement.alinea.as_ref().filter(|a| !a.is_empty()) {
            groups[index].alineas.push(alinea.clone());
        }
    }
    groups
}

fn fill_defaults(section: &mut StructuredText) {
    if section.annotations.is_none() {
        section.annotations = Some(Annotations::default());
    }
    if section.applicability.is_none() {
        section.applicability = Some(Applicability::default());
    }
    for child in &mut section.sections {
        fill_defaults(child);
    }
}

/// Title, date of signature, URLs, classements, references and defaults.
pub(crate) fn enrich(
    am: &mut ArreteMinisteriel,
    metadata: &super::model::AmMetadata,
) -> Result<(), String> {
    am.title.text = standardize_title(&am.title.text)?;
    let title_date = extract_date_of_signature(&am.title.text);
    match &am.date_of_signature {
        None => am.date_of_signature = Some(title_date?.format("%Y-%m-%d").to_string()),
        Some(stored) => {
            let date = NaiveDate::parse_from_str(stored, "%Y-%m-%d")
                .map_err(|_| format!("invalid date_of_signature {stored:?}"))?;
            if let Ok(from_title) = title_date {
                if from_title != date {
                    return Err(format!(
                        "date_of_signature {stored} and title {:?} are inconsistent",
                        am.title.text
                    ));
                }
            }
            am.date_of_signature = Some(date.format("%Y-%m-%d").to_string());
        }
    }
    am.legifrance_url = Some(format!("{LEGIFRANCE_LODA_BASE_URL}{}", metadata.cid));
    am.aida_url = Some(format!("{AIDA_URL}{}", metadata.aida_page));
    am.classements = metadata.classements.clone();
    am.classements_with_alineas = group_classements(&am.classements);
    am.is_transverse = metadata.is_transverse;
    am.nickname = metadata.nickname.clone();
    add_references(&mut am.sections);
    for section in &mut am.sections {
        fill_defaults(section);
    }
    Ok(())
}
