//! Input echoed in messages: a value, header or line quoted in an error, a problem or a log is
//! cut to [`MAX_ECHO_CHARS`] characters with [`clip`], so a malformed input of any size never
//! turns into a message of the same size (a 1 GiB "header" printed on stdout and stderr).

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
}
