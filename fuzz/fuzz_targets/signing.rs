//! `signing::sign` against the reference written from protocol.md §8 in
//! `pn_fuzz_checks::reference_signature`, on any secret, key, method, path, query and body.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use pn_core::Method;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    secret: &'a str,
    publish_key: &'a str,
    post: bool,
    path: &'a str,
    query: Vec<(&'a str, &'a str)>,
    /// Sent only with POST: a GET has no body (protocol.md §8).
    body: &'a [u8],
}

fuzz_target!(|input: Input<'_>| {
    let (method, body) = if input.post {
        (Method::Post, input.body)
    } else {
        (Method::Get, &b""[..])
    };
    pn_fuzz_checks::check_signing(
        input.secret,
        input.publish_key,
        method,
        input.path,
        &input.query,
        body,
    );
});
