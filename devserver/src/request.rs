//! A request reduced to what the handlers need: method, raw path, decoded query, body.

use bytes::Bytes;

use crate::encoding::decode_query;

/// A request ready for routing.
#[derive(Debug)]
pub(crate) struct Req {
    /// HTTP method, upper case.
    pub method: String,
    /// The path as sent (still percent-encoded).
    pub path: String,
    /// Decoded query parameters in the order sent.
    pub query: Vec<(String, String)>,
    /// The body (empty for GET).
    pub body: Bytes,
}

impl Req {
    /// The first value of query parameter `key`.
    pub(crate) fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The first non-empty value of `key`.
    pub(crate) fn non_empty(&self, key: &str) -> Option<&str> {
        self.param(key).filter(|v| !v.is_empty())
    }

    /// Whether `key` is `1` or `true`.
    pub(crate) fn flag(&self, key: &str) -> bool {
        matches!(self.param(key), Some("1" | "true"))
    }
}

/// Decodes a raw query string; `None` if a key or value is not UTF-8 once decoded.
pub(crate) fn parse_query(raw: &str) -> Option<Vec<(String, String)>> {
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Some((decode_query(k)?, decode_query(v)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decoding() {
        let q = parse_query("a=1&b=x%20y+z&flag&c=%2C").unwrap();
        assert_eq!(
            q,
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x y z".into()),
                ("flag".into(), "".into()),
                ("c".into(), ",".into())
            ]
        );
        assert!(parse_query("a=%FF").is_none());
    }
}
