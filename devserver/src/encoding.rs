//! Percent-decoding of requests and the canonical encodings the server counts and signs with.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// The signature rule's set: everything except `A-Z a-z 0-9 - _ .` is encoded (so `~` too).
pub(crate) const SIGNATURE_SET: &AsciiSet =
    &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// RFC 3986 unreserved characters stay as they are; used to count a message's escaped size.
pub(crate) const UNRESERVED_SET: &AsciiSet = &SIGNATURE_SET.remove(b'~');

/// Decodes one path segment; `+` stays a literal plus. `None` if the bytes are not UTF-8.
pub(crate) fn decode_path(segment: &str) -> Option<String> {
    percent_decode_str(segment)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// Decodes one query key or value; `+` means space as in form encoding.
pub(crate) fn decode_query(value: &str) -> Option<String> {
    if value.contains('+') {
        decode_path(&value.replace('+', " "))
    } else {
        decode_path(value)
    }
}

/// Encodes `s` with `set`.
pub(crate) fn encode(s: &str, set: &'static AsciiSet) -> String {
    utf8_percent_encode(s, set).to_string()
}

/// The length of `s` once escaped with the unreserved set.
pub(crate) fn escaped_len(s: &str) -> usize {
    utf8_percent_encode(s, UNRESERVED_SET).map(str::len).sum()
}

/// Splits a raw comma-joined path segment into decoded names, skipping empty ones.
pub(crate) fn split_path_list(raw: &str) -> Option<Vec<String>> {
    raw.split(',')
        .filter(|s| !s.is_empty())
        .map(decode_path)
        .collect()
}

/// Splits an already decoded comma-joined query value into names, skipping empty ones.
pub(crate) fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plus_is_literal_in_paths_and_space_in_queries() {
        assert_eq!(decode_path("a+b%20c").as_deref(), Some("a+b c"));
        assert_eq!(decode_query("a+b%2Bc").as_deref(), Some("a b+c"));
        assert_eq!(decode_path("%FF"), None);
    }

    #[test]
    fn signature_set_encodes_tilde_and_space() {
        assert_eq!(encode("a~b c*", SIGNATURE_SET), "a%7Eb%20c%2A");
        assert_eq!(escaped_len("a~b c"), 7);
    }

    #[test]
    fn lists() {
        assert_eq!(split_path_list(",").unwrap(), Vec::<String>::new());
        assert_eq!(split_path_list("a%2Cb,c").unwrap(), vec!["a,b", "c"]);
        assert_eq!(split_list("g1,,g2"), vec!["g1", "g2"]);
    }
}
