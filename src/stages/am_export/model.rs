//! Typed serde model of the back-office tables and of the exported AM JSON.
//!
//! Every struct declares its fields in alphabetical order, so serialising it gives the
//! `sort_keys=True` order of the original without any post-processing. Unknown keys follow the
//! original loaders: the AM's top level drops them (`short_title` and the like), every nested
//! object rejects them (`deny_unknown_fields`), except the two legacy keys the original deletes
//! explicitly (`lf_id` in a section, `id` in an alinea). Metadata and parametrization rows ignore
//! keys they do not use.

use std::collections::BTreeMap;

use serde::de::{self, Deserializer, IgnoredAny};
use serde::{Deserialize, Serialize};

use super::condition::Condition;
use super::json::format_py_float;

fn is_false(value: &bool) -> bool {
    !*value
}

fn default_true() -> bool {
    true
}

/// `null` or absent → `T::default()`.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A string field that legacy rows sometimes store as a JSON number (`aida_page`, `rubrique`):
/// Python's `str()` of the number.
fn string_or_number<'de, D>(deserializer: D) -> Result<String, D::Error>
where
    D: Deserializer<'de>,
{
    match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(number_text(&n)),
        other => Err(de::Error::custom(format!(
            "expected a string or a number, got {other}"
        ))),
    }
}

fn opt_string_or_number<'de, D>(deserializer: D) -> Result<Option<String>, D::Error>
where
    D: Deserializer<'de>,
{
    match Option::<serde_json::Value>::deserialize(deserializer)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s)),
        Some(serde_json::Value::Number(n)) => Ok(Some(number_text(&n))),
        Some(other) => Err(de::Error::custom(format!(
            "expected a string or a number, got {other}"
        ))),
    }
}

/// Python `str()` of a JSON number as `json.loads` reads it.
pub(crate) fn number_text(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(u) = n.as_u64() {
        u.to_string()
    } else {
        format_py_float(n.as_f64().unwrap_or(f64::NAN))
    }
}

/// A link inside an alinea.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub content_size: i64,
    pub position: i64,
    pub target: String,
}

/// A table cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cell {
    pub colspan: i64,
    pub content: EnrichedString,
    pub rowspan: i64,
}

/// A table row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    pub cells: Vec<Cell>,
    pub is_header: bool,
}

/// A table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    pub rows: Vec<Row>,
}

/// An alinea or a title (`EnrichedString`): `links` omitted when empty, `table` when null,
/// `inactive` when false.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrichedString {
    #[serde(default, skip_serializing_if = "is_false")]
    pub inactive: bool,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<Table>,
    pub text: String,
    /// Legacy key, dropped (the original deletes it).
    #[serde(default, rename = "id", skip_serializing)]
    pub legacy_id: Option<IgnoredAny>,
}

impl EnrichedString {
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            inactive: false,
            links: Vec::new(),
            table: None,
            text: text.into(),
            legacy_id: None,
        }
    }
}

/// `{"nb", "name"}` reference of a section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    pub name: String,
    pub nb: String,
}

/// Section annotations.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Annotations {
    #[serde(default)]
    pub topic: Option<String>,
}

/// Section applicability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Applicability {
    #[serde(default = "default_true")]
    pub active: bool,
    #[serde(default)]
    pub modified: bool,
    #[serde(default)]
    pub previous_version: Option<Box<StructuredText>>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub warnings: Vec<String>,
}

impl Default for Applicability {
    fn default() -> Self {
        Self {
            active: true,
            modified: false,
            previous_version: None,
            warnings: Vec::new(),
        }
    }
}

/// A potential inapplicability tied to a section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PotentialInapplicability {
    pub alineas: Option<Vec<i64>>,
    pub condition: Condition,
    #[serde(default = "default_true")]
    pub subsections_are_inapplicable: bool,
}

/// A potential modification tied to a section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PotentialModification {
    pub condition: Condition,
    pub new_version: Box<StructuredText>,
}

/// Parametrization of one section.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionParametrization {
    #[serde(default)]
    pub potential_inapplicabilities: Vec<PotentialInapplicability>,
    #[serde(default)]
    pub potential_modifications: Vec<PotentialModification>,
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// A section (`StructuredText`), recursive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StructuredText {
    #[serde(default)]
    pub annotations: Option<Annotations>,
    #[serde(default)]
    pub applicability: Option<Applicability>,
    pub id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub outer_alineas: Vec<EnrichedString>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub parametrization: SectionParametrization,
    #[serde(default)]
    pub reference: Option<Reference>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub sections: Vec<StructuredText>,
    pub title: EnrichedString,
    /// Legacy key, dropped (the original deletes it).
    #[serde(default, skip_serializing)]
    pub lf_id: Option<IgnoredAny>,
}

/// A classement of an AM (`rubrique` always written as a string, `state` defaults to `ACTIVE`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Classement {
    #[serde(default, deserialize_with = "opt_string_or_number")]
    pub alinea: Option<String>,
    pub regime: String,
    #[serde(deserialize_with = "string_or_number")]
    pub rubrique: String,
    #[serde(
        default = "ClassementState::default_active",
        deserialize_with = "state_or_active"
    )]
    pub state: ClassementState,
}

/// State of a classement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClassementState {
    #[serde(rename = "ACTIVE")]
    Active,
    #[serde(rename = "SUPPRIMEE")]
    Supprimee,
}

impl ClassementState {
    fn default_active() -> Self {
        ClassementState::Active
    }
}

fn state_or_active<'de, D>(deserializer: D) -> Result<ClassementState, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(Option::<ClassementState>::deserialize(deserializer)?.unwrap_or(ClassementState::Active))
}

/// Classements grouped by (rubrique, regime).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassementWithAlineas {
    #[serde(default, deserialize_with = "null_as_default")]
    pub alineas: Vec<String>,
    pub regime: String,
    #[serde(deserialize_with = "string_or_number")]
    pub rubrique: String,
}

/// AM-level applicability.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmApplicability {
    #[serde(default)]
    pub condition_of_inapplicability: Option<Condition>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub warnings: Vec<String>,
}

/// An arrêté ministériel, as stored in `structured_am` and as exported. Unknown top-level keys
/// are dropped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArreteMinisteriel {
    #[serde(default)]
    pub aida_url: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub applicability: AmApplicability,
    #[serde(default, deserialize_with = "null_as_default")]
    pub classements: Vec<Classement>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub classements_with_alineas: Vec<ClassementWithAlineas>,
    #[serde(default)]
    pub date_of_signature: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub is_transverse: bool,
    #[serde(default)]
    pub legifrance_url: Option<String>,
    #[serde(default)]
    pub nickname: Option<String>,
    #[serde(default)]
    pub orphan_titles: Option<BTreeMap<String, Vec<String>>>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub sections: Vec<StructuredText>,
    pub title: EnrichedString,
    #[serde(default, deserialize_with = "null_as_default")]
    pub visa: Vec<EnrichedString>,
}

/// A row of `am_metadata` (only the keys the export uses are typed; others are ignored).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AmMetadata {
    pub cid: String,
    #[serde(deserialize_with = "string_or_number")]
    pub aida_page: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub classements: Vec<Classement>,
    pub state: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub is_transverse: bool,
    #[serde(default)]
    pub nickname: Option<String>,
}

/// An inapplicability element of a `parametrization` row.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct InapplicableSection {
    pub section_id: String,
    #[serde(default)]
    pub alineas: Option<Vec<i64>>,
    pub condition: Condition,
    #[serde(default = "default_true")]
    pub subsections_are_inapplicable: bool,
}

/// An alternative-section element of a `parametrization` row.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AlternativeSection {
    pub section_id: String,
    pub new_text: StructuredText,
    pub condition: Condition,
}

/// A warning element of a `parametrization` row.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AmWarning {
    pub section_id: String,
    pub text: String,
}

/// A `parametrization` row (`application_conditions` is the legacy name of
/// `inapplicable_sections`).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct Parametrization {
    #[serde(
        default,
        alias = "application_conditions",
        deserialize_with = "null_as_default"
    )]
    pub inapplicable_sections: Vec<InapplicableSection>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub alternative_sections: Vec<AlternativeSection>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub warnings: Vec<AmWarning>,
}
