//! Small text helpers shared by the `status` text and the dashboard's pages: human durations
//! ("2h 05m"), capped echoes of free text (errors, comments, filters). Nothing here fails.

use std::time::Duration;

/// At most this many characters of free text (an error, a comment) are echoed.
pub const ECHO_CAP: usize = 200;

/// `secs` as a short human duration: `850ms`, `42s`, `7m 05s`, `2h 05m`, `3d 4h`.
pub fn duration(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return "–".into();
    }
    if secs < 1.0 {
        return format!("{}ms", (secs * 1000.0).round() as u64);
    }
    if secs < 10.0 {
        return format!("{secs:.1}s");
    }
    let s = secs.round() as u64;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {:02}s", s / 60, s % 60),
        3600..=86_399 => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// A threshold as written on the command line (`1h 30m`, `8d`).
pub fn limit(d: Duration) -> String {
    let s = d.as_secs();
    let (days, hours, mins) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(format!("{days}d"));
    }
    if hours > 0 {
        parts.push(format!("{hours}h"));
    }
    if mins > 0 || parts.is_empty() {
        parts.push(format!("{mins}m"));
    }
    parts.join(" ")
}

/// `text` on one line, cut to [`ECHO_CAP`] characters (with `…`).
pub fn cap(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let one_line = one_line.trim();
    if one_line.chars().count() <= ECHO_CAP {
        return one_line.to_string();
    }
    let mut out: String = one_line.chars().take(ECHO_CAP - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(duration(0.25), "250ms");
        assert_eq!(duration(4.26), "4.3s");
        assert_eq!(duration(42.0), "42s");
        assert_eq!(duration(425.0), "7m 05s");
        assert_eq!(duration(7500.0), "2h 05m");
        assert_eq!(duration(3.0 * 86_400.0 + 4.0 * 3600.0 + 59.0), "3d 4h");
        assert_eq!(duration(-1.0), "–");
        assert_eq!(limit(Duration::from_secs(5400)), "1h 30m");
        assert_eq!(limit(Duration::from_secs(8 * 86_400)), "8d");
        assert_eq!(limit(Duration::from_secs(26 * 3600)), "1d 2h");
        assert_eq!(limit(Duration::from_secs(0)), "0m");
    }

    #[test]
    fn free_text_is_capped_on_one_line() {
        assert_eq!(cap(" a\nb\t"), "a b");
        let long = "é".repeat(500);
        let c = cap(&long);
        assert_eq!(c.chars().count(), ECHO_CAP);
        assert!(c.ends_with('…'));
    }
}
