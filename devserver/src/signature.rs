//! Request signature verification (protocol.md §8).
//!
//! The v2 string to sign is `METHOD\npub_key\npath\ncanonical_query\nbody`, where the canonical
//! query is every parameter but `signature`, sorted by key, values percent-encoded except
//! `[A-Za-z0-9-_.]`; the signature is `v2.` + base64url-no-pad(HMAC-SHA256). Because SDKs
//! disagree on publish, a request also passes with the v2 form without its body (JS) or the
//! legacy v1 form `sub_key\npub_key\npath\nquery` without prefix (Python, Rust, c-core; with or
//! without padding) when the path is a publish.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::encoding::{SIGNATURE_SET, encode};

/// What a signature is computed over.
pub(crate) struct Signed<'a> {
    /// HTTP method, upper case.
    pub method: &'a str,
    /// The publish key (see `Options::publish_key`).
    pub pub_key: &'a str,
    /// The subscribe key from the path (v1 form only).
    pub sub_key: &'a str,
    /// The path as sent (still percent-encoded).
    pub path: &'a str,
    /// Decoded query parameters, including `signature`.
    pub query: &'a [(String, String)],
    /// The request body.
    pub body: &'a [u8],
}

/// The canonical query string: sorted by key, `signature` excluded, values re-encoded.
pub(crate) fn canonical_query(query: &[(String, String)]) -> String {
    let mut pairs: Vec<&(String, String)> =
        query.iter().filter(|(k, _)| k != "signature").collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k, SIGNATURE_SET), encode(v, SIGNATURE_SET)))
        .collect::<Vec<_>>()
        .join("&")
}

fn hmac(secret: &str, message: &[u8]) -> Vec<u8> {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return Vec::new(),
    };
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// The v2 signature of a request.
pub(crate) fn sign_v2(secret: &str, req: &Signed<'_>, with_body: bool) -> String {
    let mut text = format!(
        "{}\n{}\n{}\n{}\n",
        req.method,
        req.pub_key,
        req.path,
        canonical_query(req.query)
    );
    let mut bytes = std::mem::take(&mut text).into_bytes();
    if with_body {
        bytes.extend_from_slice(req.body);
    }
    format!("v2.{}", URL_SAFE_NO_PAD.encode(hmac(secret, &bytes)))
}

/// Whether the request's `signature` parameter is valid for `secret`.
pub(crate) fn verify(secret: &str, req: &Signed<'_>) -> bool {
    let Some(given) = req
        .query
        .iter()
        .find(|(k, _)| k == "signature")
        .map(|(_, v)| v.as_str())
    else {
        return false;
    };
    if given == sign_v2(secret, req, true) || given == sign_v2(secret, req, false) {
        return true;
    }
    let is_publish = req.path.starts_with("/publish/") || req.path.starts_with("/signal/");
    if !is_publish {
        return false;
    }
    let v1 = format!(
        "{}\n{}\n{}\n{}",
        req.sub_key,
        req.pub_key,
        req.path,
        canonical_query(req.query)
    );
    let digest = hmac(secret, v1.as_bytes());
    [
        URL_SAFE.encode(&digest),
        URL_SAFE_NO_PAD.encode(&digest),
        STANDARD.encode(&digest),
    ]
    .iter()
    .any(|s| s == given)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn canonical_sorts_and_encodes() {
        let query = q(&[("uuid", "a b~"), ("auth", "x*"), ("signature", "zzz")]);
        assert_eq!(canonical_query(&query), "auth=x%2A&uuid=a%20b%7E");
    }

    #[test]
    fn roundtrip_and_tamper() {
        let base = q(&[("timestamp", "1700000000"), ("uuid", "me")]);
        let unsigned = Signed {
            method: "GET",
            pub_key: "pub",
            sub_key: "sub",
            path: "/time/0",
            query: &base,
            body: b"",
        };
        let sig = sign_v2("secret", &unsigned, true);
        assert!(sig.starts_with("v2.") && !sig.ends_with('='));
        let mut query = base.clone();
        query.push(("signature".into(), sig));
        let ok = Signed {
            method: "GET",
            pub_key: "pub",
            sub_key: "sub",
            path: "/time/0",
            query: &query,
            body: b"",
        };
        assert!(verify("secret", &ok));
        assert!(!verify("other", &ok));
        let moved = Signed {
            path: "/time/1",
            ..ok
        };
        assert!(!verify("secret", &moved));
    }
}
