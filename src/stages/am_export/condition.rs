//! Parametrization conditions: typed model, loading, Python-compatible ordering.
//!
//! The original keeps `AND`/`OR` sub-conditions in a `frozenset` and writes them sorted by their
//! Python `repr` string; this module reproduces that: sub-conditions are de-duplicated (Python
//! equality, where `20 == 20.0`) and sorted by a faithful rendering of the dataclass `repr`
//! (class name, then parameter, then target as text). Targets keep their JSON type: dates are
//! written `YYYY-MM-DD` (legacy Unix timestamps are read as UTC dates), regimes as their letter,
//! numbers as int or float exactly as read.

use std::cmp::Ordering;

use chrono::NaiveDate;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

use super::json::format_py_float;

/// Type of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ParameterType {
    Date,
    Regime,
    Boolean,
    Rubrique,
    RealNumber,
    String,
}

impl ParameterType {
    fn as_str(self) -> &'static str {
        match self {
            ParameterType::Date => "DATE",
            ParameterType::Regime => "REGIME",
            ParameterType::Boolean => "BOOLEAN",
            ParameterType::Rubrique => "RUBRIQUE",
            ParameterType::RealNumber => "REAL_NUMBER",
            ParameterType::String => "STRING",
        }
    }
}

/// A parameter (`{"id", "type"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: ParameterType,
}

/// A condition target, typed by its parameter.
#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Date(NaiveDate),
    Regime(String),
}

impl Value {
    fn as_number(&self) -> Option<f64> {
        match self {
            Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            Value::Int(i) => Some(*i as f64),
            Value::UInt(u) => Some(*u as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    fn load(json: serde_json::Value, kind: ParameterType) -> Result<Value, String> {
        match kind {
            ParameterType::Date => match json {
                serde_json::Value::String(s) => NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                    .map(Value::Date)
                    .map_err(|_| format!("invalid date target {s:?}")),
                serde_json::Value::Number(n) => {
                    let secs = n
                        .as_i64()
                        .ok_or_else(|| format!("invalid timestamp target {n}"))?;
                    chrono::DateTime::from_timestamp(secs, 0)
                        .map(|dt| Value::Date(dt.date_naive()))
                        .ok_or_else(|| format!("invalid timestamp target {n}"))
                }
                other => Err(format!("invalid date target {other}")),
            },
            ParameterType::Regime => match json {
                serde_json::Value::String(s)
                    if ["A", "E", "D", "DC", "NC"].contains(&s.as_str()) =>
                {
                    Ok(Value::Regime(s))
                }
                other => Err(format!("invalid regime target {other}")),
            },
            _ => Ok(match json {
                serde_json::Value::Null => Value::Null,
                serde_json::Value::Bool(b) => Value::Bool(b),
                serde_json::Value::Number(n) => {
                    if let Some(i) = n.as_i64() {
                        Value::Int(i)
                    } else if let Some(u) = n.as_u64() {
                        Value::UInt(u)
                    } else {
                        Value::Float(n.as_f64().unwrap_or(f64::NAN))
                    }
                }
                serde_json::Value::String(s) => Value::Str(s),
                other => return Err(format!("unsupported target {other}")),
            }),
        }
    }

    /// Python `repr` of the loaded value.
    fn repr(&self) -> String {
        match self {
            Value::Null => "None".into(),
            Value::Bool(true) => "True".into(),
            Value::Bool(false) => "False".into(),
            Value::Int(i) => i.to_string(),
            Value::UInt(u) => u.to_string(),
            Value::Float(f) => format_py_float(*f),
            Value::Str(s) => py_str_repr(s),
            Value::Date(d) => {
                use chrono::Datelike;
                format!("datetime.date({}, {}, {})", d.year(), d.month(), d.day())
            }
            Value::Regime(r) => format!("<Regime.{r}: '{r}'>"),
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Date(a), Value::Date(b)) => a == b,
            (Value::Regime(a), Value::Regime(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::UInt(a), Value::UInt(b)) => a == b,
            _ => match (self.as_number(), other.as_number()) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            },
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_none(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Int(i) => serializer.serialize_i64(*i),
            Value::UInt(u) => serializer.serialize_u64(*u),
            Value::Float(f) => serializer.serialize_f64(*f),
            Value::Str(s) | Value::Regime(s) => serializer.serialize_str(s),
            Value::Date(d) => serializer.serialize_str(&d.format("%Y-%m-%d").to_string()),
        }
    }
}

/// A condition of the parametrization.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Equal {
        parameter: Parameter,
        target: Value,
    },
    Greater {
        parameter: Parameter,
        target: Value,
        strict: bool,
    },
    Littler {
        parameter: Parameter,
        target: Value,
        strict: bool,
    },
    Range {
        parameter: Parameter,
        left: Value,
        right: Value,
        left_strict: bool,
        right_strict: bool,
    },
}

/// Raw JSON shape of a condition, before typing.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCondition {
    #[serde(rename = "type")]
    kind: String,
    conditions: Option<Vec<Condition>>,
    parameter: Option<Parameter>,
    target: Option<serde_json::Value>,
    strict: Option<bool>,
    left: Option<serde_json::Value>,
    right: Option<serde_json::Value>,
    left_strict: Option<bool>,
    right_strict: Option<bool>,
}

fn required<T>(value: Option<T>, name: &str, kind: &str) -> Result<T, String> {
    value.ok_or_else(|| format!("{kind} condition without `{name}`"))
}

impl TryFrom<RawCondition> for Condition {
    type Error = String;

    fn try_from(raw: RawCondition) -> Result<Self, String> {
        let kind = raw.kind.as_str();
        match kind {
            "AND" | "OR" => {
                let conditions =
                    normalize_conditions(required(raw.conditions, "conditions", kind)?);
                Ok(if kind == "AND" {
                    Condition::And(conditions)
                } else {
                    Condition::Or(conditions)
                })
            }
            "EQUAL" | "GREATER" | "LITTLER" => {
                let parameter = required(raw.parameter, "parameter", kind)?;
                let target = Value::load(required(raw.target, "target", kind)?, parameter.kind)?;
                Ok(match kind {
                    "EQUAL" => Condition::Equal { parameter, target },
                    "GREATER" => Condition::Greater {
                        parameter,
                        target,
                        strict: raw.strict.unwrap_or(false),
                    },
                    _ => Condition::Littler {
                        parameter,
                        target,
                        strict: raw.strict.unwrap_or(true),
                    },
                })
            }
            "RANGE" => {
                let parameter = required(raw.parameter, "parameter", kind)?;
                let left = Value::load(required(raw.left, "left", kind)?, parameter.kind)?;
                let right = Value::load(required(raw.right, "right", kind)?, parameter.kind)?;
                Ok(Condition::Range {
                    parameter,
                    left,
                    right,
                    left_strict: raw.left_strict.unwrap_or(false),
                    right_strict: raw.right_strict.unwrap_or(true),
                })
            }
            other => Err(format!("unknown condition type {other:?}")),
        }
    }
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawCondition::deserialize(deserializer)?;
        Condition::try_from(raw).map_err(serde::de::Error::custom)
    }
}

impl Serialize for Condition {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Condition::And(conditions) | Condition::Or(conditions) => {
                let mut s = serializer.serialize_struct("Condition", 2)?;
                s.serialize_field("conditions", conditions)?;
                s.serialize_field("type", self.type_name())?;
                s.end()
            }
            Condition::Equal { parameter, target } => {
                let mut s = serializer.serialize_struct("Condition", 3)?;
                s.serialize_field("parameter", parameter)?;
                s.serialize_field("target", target)?;
                s.serialize_field("type", self.type_name())?;
                s.end()
            }
            Condition::Greater {
                parameter,
                target,
                strict,
            }
            | Condition::Littler {
                parameter,
                target,
                strict,
            } => {
                let mut s = serializer.serialize_struct("Condition", 4)?;
                s.serialize_field("parameter", parameter)?;
                s.serialize_field("strict", strict)?;
                s.serialize_field("target", target)?;
                s.serialize_field("type", self.type_name())?;
                s.end()
            }
            Condition::Range {
                parameter,
                left,
                right,
                left_strict,
                right_strict,
            } => {
                let mut s = serializer.serialize_struct("Condition", 6)?;
                s.serialize_field("left", left)?;
                s.serialize_field("left_strict", left_strict)?;
                s.serialize_field("parameter", parameter)?;
                s.serialize_field("right", right)?;
                s.serialize_field("right_strict", right_strict)?;
                s.serialize_field("type", self.type_name())?;
                s.end()
            }
        }
    }
}

impl Condition {
    fn type_name(&self) -> &'static str {
        match self {
            Condition::And(_) => "AND",
            Condition::Or(_) => "OR",
            Condition::Equal { .. } => "EQUAL",
            Condition::Greater { .. } => "GREATER",
            Condition::Littler { .. } => "LITTLER",
            Condition::Range { .. } => "RANGE",
        }
    }

    /// Python `repr` of the original dataclass (a nested `frozenset` is rendered in sorted
    /// order, where the original's order depends on string hashing).
    pub fn py_repr(&self) -> String {
        let type_repr = format!("<ConditionType.{0}: '{0}'>", self.type_name());
        match self {
            Condition::And(conditions) | Condition::Or(conditions) => {
                let class = if matches!(self, Condition::And(_)) { "AndCondition" } else { "OrCondition" };
                let set = if conditions.is_empty() {
                    "frozenset()".to_string()
                } else {
                    let items: Vec<String> = conditions.iter().map(Condition::py_repr).collect();
                    format!("frozenset({{{}}})", items.join(", "))
                };
                format!("{class}(conditions={set}, type={type_repr})")
            }
            Condition::Equal { parameter, target } => format!(
                "Equal(parameter={}, target={}, type={type_repr})",
                parameter_repr(parameter),
                target.repr()
            ),
            Condition::Greater { parameter, target, strict } => format!(
                "Greater(parameter={}, target={}, strict={}, type={type_repr})",
                parameter_repr(parameter),
                target.repr(),
                py_bool(*strict)
            ),
            Condition::Littler { parameter, target, strict } => format!(
                "Littler(parameter={}, target={}, strict={}, type={type_repr})",
                parameter_repr(parameter),
                target.repr(),
                py_bool(*strict)
            ),
            Condition::Range { parameter, left, right, left_strict, right_strict } => format!(
                "Range(parameter={}, left={}, right={}, left_strict={}, right_strict={}, type={type_repr})",
                parameter_repr(parameter),
                left.repr(),
                right.repr(),
                py_bool(*left_strict),
                py_bool(*right_strict)
            ),
        }
    }
}

fn py_bool(value: bool) -> &'static str {
    if value {
        "True"
    } else {
        "False"
    }
}

fn parameter_repr(parameter: &Parameter) -> String {
    format!(
        "Parameter(id={}, type=ParameterType(\"{}\"))",
        py_str_repr(&parameter.id),
        parameter.kind.as_str()
    )
}

/// De-duplicates (first occurrence kept) and sorts sub-conditions by Python `repr`.
pub fn normalize_conditions(conditions: Vec<Condition>) -> Vec<Condition> {
    let mut unique: Vec<Condition> = Vec::with_capacity(conditions.len());
    for condition in conditions {
        if !unique.contains(&condition) {
            unique.push(condition);
        }
    }
    let mut keyed: Vec<(String, Condition)> =
        unique.into_iter().map(|c| (c.py_repr(), c)).collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0).then(Ordering::Equal));
    keyed.into_iter().map(|(_, c)| c).collect()
}

/// Python `repr` of a `str`.
pub fn py_str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if (0x80..0xa0).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}
