//! Identifiers: S3IC installation ids (`dddd.ddddd`) and Géorisques document ids
//! (`<capital>/<hex>/<32 hex>`, also the key prefix of the `ap` bucket). Every id is checked before
//! it is used to build a URL or an object key.

/// `0999.01234`: ten characters, digits and exactly one `.` at position 4.
#[cfg(test)]
pub fn is_s3ic_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, &c)| {
            if i == 4 {
                c == b'.'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// `Q/7/0a1b2c3d4e5f60718293a4b5c6d7e8f9`: exactly 36 characters matching
/// `[A-Z]/[a-f0-9]/[a-f0-9]{32}`.
pub fn is_georisques_id(s: &str) -> bool {
    let b = s.as_bytes();
    let hex = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
    b.len() == 36
        && b[0].is_ascii_uppercase()
        && b[1] == b'/'
        && hex(b[2])
        && b[3] == b'/'
        && b[4..].iter().all(|&c| hex(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3ic_ids() {
        assert!(is_s3ic_id("0999.01234"));
        for bad in [
            "0999-01234",
            "999.01234",
            "0999.012345",
            "A999.01234",
            "0999.0123 ",
        ] {
            assert!(!is_s3ic_id(bad), "{bad}");
        }
    }

    #[test]
    fn georisques_ids() {
        assert!(is_georisques_id("Q/7/0a1b2c3d4e5f60718293a4b5c6d7e8f9"));
        for bad in [
            "q/7/0a1b2c3d4e5f60718293a4b5c6d7e8f9",
            "Q/g/0a1b2c3d4e5f60718293a4b5c6d7e8f9",
            "Q/7/0A1b2c3d4e5f60718293a4b5c6d7e8f9",
            "Q/7/0a1b2c3d4e5f60718293a4b5c6d7e8f",
            "Q/7/../b2c3d4e5f60718293a4b5c6d7e8f9",
            "Q/7/0a1b2c3d4e5f60718293a4b5c6d7e8f9.pdf",
        ] {
            assert!(!is_georisques_id(bad), "{bad}");
        }
    }
}
