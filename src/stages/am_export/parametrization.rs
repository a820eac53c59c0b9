//! Ties a `parametrization` row to the sections of its AM.
//!
//! Every section of the tree gets a fresh `parametrization` (a stored one is discarded) built
//! from the row's elements whose `section_id` is the section's `id`, in row order; alternative
//! texts are copied as stored. Elements pointing at a section id absent from the tree are
//! dropped, as in the original, and returned so the caller can report them.

use std::collections::{HashMap, HashSet};

use super::model::{
    Parametrization, PotentialInapplicability, PotentialModification, SectionParametrization,
    StructuredText,
};

fn collect_ids<'a>(sections: &'a [StructuredText], ids: &mut HashSet<&'a str>) {
    for section in sections {
        ids.insert(section.id.as_str());
        collect_ids(&section.sections, ids);
    }
}

fn assign(sections: &mut [StructuredText], by_id: &HashMap<String, SectionParametrization>) {
    for section in sections {
        section.parametrization = by_id.get(&section.id).cloned().unwrap_or_default();
        assign(&mut section.sections, by_id);
    }
}

/// Sets every section's parametrization; returns the distinct unknown section ids referenced by
/// the row, in first-appearance order.
pub fn add_parametrization(
    sections: &mut [StructuredText],
    parametrization: Parametrization,
) -> Vec<String> {
    let mut known = HashSet::new();
    collect_ids(sections, &mut known);
    let mut dropped: Vec<String> = Vec::new();
    let mut by_id: HashMap<String, SectionParametrization> = HashMap::new();
    let keep = |section_id: &str, dropped: &mut Vec<String>| {
        if known.contains(section_id) {
            true
        } else {
            if !dropped.iter().any(|d| d == section_id) {
                dropped.push(section_id.to_string());
            }
            false
        }
    };
    for element in parametrization.inapplicable_sections {
        if keep(&element.section_id, &mut dropped) {
            by_id
                .entry(element.section_id)
                .or_default()
                .potential_inapplicabilities
                .push(PotentialInapplicability {
                    alineas: element.alineas,
                    condition: element.condition,
                    subsections_are_inapplicable: element.subsections_are_inapplicable,
                });
        }
    }
    for element in parametrization.alternative_sections {
        if keep(&element.section_id, &mut dropped) {
            by_id
                .entry(element.section_id)
                .or_default()
                .potential_modifications
                .push(PotentialModification {
                    condition: element.condition,
                    new_version: Box::new(element.new_text),
                });
        }
    }
    for element in parametrization.warnings {
        if keep(&element.section_id, &mut dropped) {
            by_id
                .entry(element.section_id)
                .or_default()
                .warnings
                .push(element.text);
        }
    }
    assign(sections, &by_id);
    dropped
}
