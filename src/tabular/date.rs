//! Dates as the original parses them (`date.fromisoformat`, Python 3.11) and writes them.
//!
//! Accepted: `YYYY-MM-DD`, `YYYYMMDD` and the ISO week forms `YYYY-Www[-D]` / `YYYYWww[D]`.
//! Anything else (including impossible days such as `2021-02-30`) is an error carrying the text.

use chrono::{Datelike, NaiveDate, Weekday};

/// A calendar date; orders chronologically, prints `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(NaiveDate);

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let d = self.0;
        write!(f, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
    }
}

impl Date {
    /// `YYYY-MM-DD` without allocating.
    pub fn iso(&self) -> IsoDate {
        let d = self.0;
        let mut b = [0u8; 10];
        let (y, m, dd) = (d.year().clamp(0, 9999) as u32, d.month(), d.day());
        for (i, v) in [
            (0, y / 1000),
            (1, y / 100 % 10),
            (2, y / 10 % 10),
            (3, y % 10),
        ] {
            b[i] = b'0' + v as u8;
        }
        b[4] = b'-';
        b[5] = b'0' + (m / 10) as u8;
        b[6] = b'0' + (m % 10) as u8;
        b[7] = b'-';
        b[8] = b'0' + (dd / 10) as u8;
        b[9] = b'0' + (dd % 10) as u8;
        IsoDate(b)
    }
}

/// A date formatted `YYYY-MM-DD`, on the stack.
#[derive(Debug, Clone, Copy)]
pub struct IsoDate([u8; 10]);

impl IsoDate {
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and dashes are ever written.
        std::str::from_utf8(&self.0).unwrap_or("0000-00-00")
    }
}

/// Why a date cell was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid isoformat string: {0:?}")]
pub struct DateError(pub String);

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses one date cell.
pub fn parse_date(text: &str) -> Result<Date, DateError> {
    let err = || DateError(crate::text::clip(text));
    let ymd = |y: &str, m: &str, d: &str| -> Result<Date, DateError> {
        let (y, m, d) = (
            digits(y).ok_or_else(err)?,
            digits(m).ok_or_else(err)?,
            digits(d).ok_or_else(err)?,
        );
        if y == 0 {
            return Err(err());
        }
        NaiveDate::from_ymd_opt(y as i32, m, d)
            .map(Date)
            .ok_or_else(err)
    };
    let week = |y: &str, w: &str, d: Option<&str>| -> Result<Date, DateError> {
        let (y, w) = (digits(y).ok_or_else(err)?, digits(w).ok_or_else(err)?);
        let d = match d {
            Some(d) => digits(d).ok_or_else(err)?,
            None => 1,
        };
        let day = match d {
            1 => Weekday::Mon,
            2 => Weekday::Tue,
            3 => Weekday::Wed,
            4 => Weekday::Thu,
            5 => Weekday::Fri,
            6 => Weekday::Sat,
            7 => Weekday::Sun,
            _ => return Err(err()),
        };
        NaiveDate::from_isoywd_opt(y as i32, w, day)
            .map(Date)
            .ok_or_else(err)
    };
    if !text.is_ascii() {
        return Err(err());
    }
    let b = text.as_bytes();
    match b.len() {
        10 if b[4] == b'-' && b[7] == b'-' => ymd(&text[0..4], &text[5..7], &text[8..10]),
        8 if b[4] == b'-' && b[5] == b'W' => week(&text[0..4], &text[6..8], None),
        10 if b[4] == b'-' && b[5] == b'W' && b[8] == b'-' => {
            week(&text[0..4], &text[6..8], Some(&text[9..10]))
        }
        8 if b[4] == b'W' => week(&text[0..4], &text[5..7], Some(&text[7..8])),
        7 if b[4] == b'W' => week(&text[0..4], &text[5..7], None),
        8 => ymd(&text[0..4], &text[4..6], &text[6..8]),
        _ => Err(err()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_python_311_forms() {
        assert_eq!(parse_date("2021-03-18").unwrap().to_string(), "2021-03-18");
        assert_eq!(parse_date("20210318").unwrap().to_string(), "2021-03-18");
        assert_eq!(parse_date("2021-W11-4").unwrap().to_string(), "2021-03-18");
        assert_eq!(parse_date("2021W114").unwrap().to_string(), "2021-03-18");
        assert_eq!(parse_date("2021-W11").unwrap().to_string(), "2021-03-15");
        assert_eq!(parse_date("1814-11-23").unwrap().to_string(), "1814-11-23");
        assert_eq!(parse_date("0999-01-02").unwrap().to_string(), "0999-01-02");
        assert_eq!(
            parse_date("0999-01-02").unwrap().iso().as_str(),
            "0999-01-02"
        );
        assert_eq!(parse_date("20211231").unwrap().iso().as_str(), "2021-12-31");
    }

    #[test]
    fn rejects_the_rest() {
        for bad in [
            "2021-02-30",
            "2021-13-01",
            "18/03/2021",
            "2021-3-18",
            " 2021-03-18",
            "2021-03-18 ",
            "0000-01-01",
            "2021-W54-1",
            "2021-W11-8",
            "été",
            "",
            "2021-03-18T00:00",
        ] {
            assert!(parse_date(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn orders_chronologically() {
        assert!(parse_date("1999-12-31").unwrap() < parse_date("2000-01-01").unwrap());
    }
}
