//! The one percent-encoding set used for every path segment and query value, and the stricter
//! one used only to build the string to sign.
//!
//! [`URL`] leaves exactly the RFC 3986 unreserved characters `A–Z a–z 0–9 - . _ ~` as they are and
//! encodes every other byte (every byte of a non-ASCII character included) as `%XX` with
//! uppercase hex, so space is `%20`, `+` is `%2B`, `&` and `=` can never split a query, and `,`
//! inside a name is `%2C` while the separators between names stay raw. Each value is encoded
//! exactly once, when the request is built.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// Encodes everything except the RFC 3986 unreserved characters.
pub const URL: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The signature rule's set: like [`URL`] but `~` is encoded too.
pub const SIGNATURE: &AsciiSet = &URL.add(b'~');

/// Percent-encodes `s` with [`URL`], appending to `out`.
pub fn push_encoded(out: &mut String, s: &str) {
    out.extend(utf8_percent_encode(s, URL));
}

/// Percent-encodes `s` with [`URL`].
pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, URL).to_string()
}

/// Length of `s` once percent-encoded with [`URL`], without building it.
pub fn encoded_len(s: &str) -> usize {
    s.bytes()
        .map(|b| if is_unreserved(b) { 1 } else { 3 })
        .sum()
}

/// Whether `b` stays as it is under [`URL`].
pub fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Encodes each name and joins them with raw commas; `,` alone when there are none.
pub fn push_name_list<S: AsRef<str>>(out: &mut String, names: &[S]) {
    if names.is_empty() {
        out.push(',');
        return;
    }
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_encoded(out, n.as_ref());
    }
}

/// Decodes a percent-encoded string; `None` if the bytes are not UTF-8.
pub fn decode(s: &str) -> Option<String> {
    percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn protocol_vectors() {
        assert_eq!(encode("ch 1"), "ch%201");
        assert_eq!(encode("a,b"), "a%2Cb");
        assert_eq!(encode("x~y*z!"), "x~y%2Az%21");
        assert_eq!(encode("a+b&c=d"), "a%2Bb%26c%3Dd");
        assert_eq!(encode("(q)'s"), "%28q%29%27s");
        assert_eq!(encode("ümlaut"), "%C3%BCmlaut");
        assert_eq!(
            encode(r#"{"text":"hi there!"}"#),
            "%7B%22text%22%3A%22hi%20there%21%22%7D"
        );
        let mut s = String::new();
        push_name_list(&mut s, &["a b", "c"]);
        assert_eq!(s, "a%20b,c");
        s.clear();
        push_name_list::<&str>(&mut s, &[]);
        assert_eq!(s, ",");
    }

    proptest! {
        #[test]
        fn round_trips_any_unicode(s in "\\PC*") {
            let e = encode(&s);
            prop_assert_eq!(encoded_len(&s), e.len());
            prop_assert!(e.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)));
            let back = decode(&e);
            prop_assert_eq!(back.as_deref(), Some(s.as_str()));
        }
    }
}
