//! Input echoed in messages: a value, header or line quoted in an error, a problem or a log is
//! cut to [`MAX_ECHO_CHARS`] characters with [`clip`], so a malformed input of any size never
//! turns into a message of the same size (a 1 GiB "header" printed on stdout and stderr).
//!
//! Text for people in the operations view (`status`, the dashboard and the syncs' panels): free
//! text from the database on one line and capped ([`cap`]), human durations ([`duration`],
//! "2h 05m") and thresholds ([`limit`]). Nothing here fails.

use std::time::Duration;

/// Longest echo of an input value, in characters.
pub const MAX_ECHO_CHARS: usize = 200;

/// `text` cut to [`MAX_ECHO_CHARS`] characters; a cut text ends with `…` and says how long the
/// original was.
pub fn clip(text: &str) -> String {
    clip_to(text, MAX_ECHO_CHARS)
}

/// `text` cut to `max` characters (see [`clip`]).
pub fn clip_to(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((end, _)) => format!("{}… ({} bytes in all)", &text[..end], text.len()),
    }
}

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
    fn long_text_is_cut_on_a_char_boundary() {
        assert_eq!(clip("short"), "short");
        let long = "é".repeat(1000);
        let cut = clip(&long);
        assert!(cut.starts_with(&"é".repeat(200)), "{cut}");
        assert!(cut.ends_with("… (2000 bytes in all)"), "{cut}");
        assert_eq!(clip_to("abcdef", 3), "abc… (6 bytes in all)");
    }

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
