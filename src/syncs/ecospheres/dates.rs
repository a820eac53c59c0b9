//! `dct:modified` as the `modification` column writes it (docs/syncs/ecospheres.md §3.1): the
//! canonical lexical form the original produced through rdflib for valid `xsd:date` /
//! `xsd:dateTime` literals, the raw text otherwise; and a sort key, so that the later of two copies
//! of a dataset wins.
//!
//! Canonical forms (measured with rdflib 7.0.0 / isodate 0.6.1):
//! - `xsd:date` `YYYY-MM-DD[tz]` → `YYYY-MM-DD` (the time zone is dropped);
//! - `xsd:dateTime` `YYYY-MM-DDThh:mm:ss[.f…][tz]` → `YYYY-MM-DDThh:mm:ss[.ffffff][±hh:mm]`:
//!   the fraction rounded half-to-even to microseconds and left out when zero (a rounding to a
//!   whole second carries into the seconds; to a 60th second the value is invalid), `Z` and
//!   `-00:00` written `+00:00`;
//! - untyped literals and other datatypes: as written.
//!
//! A value that is not a valid xsd date or dateTime (strict lexical grammar: four-digit year
//! 0001–9999, real calendar day, hours 0–23, time zone within ±14:00) is kept raw and reported
//! invalid — the caller counts it as a warning (rdflib turned `2021-8-7` into `2021-01-01`).

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};

use super::jsonld::ns;

/// A `modification` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Modified {
    pub text: String,
    /// Whether the raw value was a valid xsd date or dateTime.
    pub valid: bool,
    /// Microseconds since 1970-01-01 UTC (dates at midnight, values without a time zone read as
    /// UTC), for "the later `dct:modified` wins".
    pub key: Option<i64>,
}

/// The column value of a `dct:modified` literal with `datatype` (expanded IRI).
pub fn modified(raw: &str, datatype: Option<&str>) -> Modified {
    let kind = datatype.and_then(|t| t.strip_prefix(ns::XSD));
    let date = parse_date(raw);
    let datetime = parse_datetime(raw);
    let key = datetime
        .as_ref()
        .map(|d| d.key)
        .or(date.as_ref().map(|d| d.key));
    let valid = date.is_some() || datetime.is_some();
    let text = match (kind, &date, &datetime) {
        (Some("date"), Some(d), _) => d.canonical.clone(),
        (Some("dateTime"), _, Some(d)) => d.canonical.clone(),
        _ => raw.to_string(),
    };
    // A typed literal whose lexical form does not fit its own datatype is invalid.
    let valid = match kind {
        Some("date") => date.is_some(),
        Some("dateTime") => datetime.is_some(),
        _ => valid,
    };
    Modified {
        text,
        valid,
        key: if valid { key } else { None },
    }
}

struct Parsed {
    canonical: String,
    key: i64,
}

fn digits(s: &str, n: usize) -> Option<u32> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// `Z`, `+hh:mm`, `-hh:mm` → offset in minutes.
fn parse_tz(s: &str) -> Option<i32> {
    if s == "Z" {
        return Some(0);
    }
    let sign = match s.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (h, m) = s[1..].split_once(':')?;
    let (h, m) = (digits(h, 2)? as i32, digits(m, 2)? as i32);
    if m > 59 || h > 14 || (h == 14 && m > 0) {
        return None;
    }
    Some(sign * (h * 60 + m))
}

/// Splits `YYYY-MM-DD` off the front; returns the date and the rest.
fn split_date(s: &str) -> Option<(NaiveDate, &str)> {
    if s.len() < 10 || !s.is_char_boundary(10) {
        return None;
    }
    let (head, rest) = s.split_at(10);
    let b = head.as_bytes();
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = digits(&head[0..4], 4)?;
    let m = digits(&head[5..7], 2)?;
    let d = digits(&head[8..10], 2)?;
    if y == 0 {
        return None;
    }
    Some((NaiveDate::from_ymd_opt(y as i32, m, d)?, rest))
}

fn epoch_micros(dt: NaiveDateTime, offset_minutes: i32) -> i64 {
    let utc = dt - Duration::minutes(offset_minutes as i64);
    utc.and_utc().timestamp_micros()
}

fn parse_date(s: &str) -> Option<Parsed> {
    let (date, rest) = split_date(s)?;
    let offset = if rest.is_empty() { 0 } else { parse_tz(rest)? };
    Some(Parsed {
        canonical: date.format("%Y-%m-%d").to_string(),
        key: epoch_micros(date.and_time(NaiveTime::MIN), offset),
    })
}

fn parse_datetime(s: &str) -> Option<Parsed> {
    let (date, rest) = split_date(s)?;
    let rest = rest.strip_prefix('T')?;
    if rest.len() < 8 || !rest.is_char_boundary(8) {
        return None;
    }
    let (time, mut rest) = rest.split_at(8);
    let tb = time.as_bytes();
    if tb[2] != b':' || tb[5] != b':' {
        return None;
    }
    let (h, mi, sec) = (
        digits(&time[0..2], 2)?,
        digits(&time[3..5], 2)?,
        digits(&time[6..8], 2)?,
    );
    if h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let mut micros = 0u32;
    let mut carry = 0u32;
    if let Some(frac) = rest.strip_prefix('.') {
        let end = frac
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(frac.len());
        if end == 0 {
            return None;
        }
        (micros, carry) = round_micros(&frac[..end]);
        rest = &frac[end..];
    }
    let tz = if rest.is_empty() {
        None
    } else {
        Some(parse_tz(rest)?)
    };
    let sec = sec + carry;
    if sec > 59 {
        return None;
    }
    let t = NaiveTime::from_hms_micro_opt(h, mi, sec, micros)?;
    let dt = date.and_time(t);
    let mut canonical = dt.format("%Y-%m-%dT%H:%M:%S").to_string();
    if micros != 0 {
        canonical.push_str(&format!(".{micros:06}"));
    }
    if let Some(offset) = tz {
        let sign = if offset < 0 { '-' } else { '+' };
        let a = offset.abs();
        canonical.push_str(&format!("{sign}{:02}:{:02}", a / 60, a % 60));
    }
    Some(Parsed {
        canonical,
        key: epoch_micros(dt, tz.unwrap_or(0)),
    })
}

/// Fractional-second digits → (microseconds, carry into the seconds), rounded half to even.
fn round_micros(frac: &str) -> (u32, u32) {
    let b = frac.as_bytes();
    let mut micros: u32 = 0;
    for i in 0..6 {
        micros = micros * 10 + b.get(i).map(|d| (d - b'0') as u32).unwrap_or(0);
    }
    if b.len() > 6 {
        let first = b[6] - b'0';
        let rest_nonzero = b[7..].iter().any(|&d| d != b'0');
        let round_up = first > 5 || (first == 5 && (rest_nonzero || micros % 2 == 1));
        if round_up {
            micros += 1;
        }
    }
    if micros == 1_000_000 {
        (0, 1)
    } else {
        (micros, 0)
    }
}
