//! The `/time/0` answer: `[<17-digit number>]`.

use serde_json::value::RawValue;

use super::body::{malformed, parse_body, raw_u64, success_text};
use crate::error::Error;
use crate::request::Response;
use crate::timetoken::Timetoken;

/// Decodes a time answer.
pub(super) fn decode(response: &Response) -> Result<Timetoken, Error> {
    let text = success_text(response)?;
    let items: Vec<&RawValue> = parse_body(response, text, "expected a time answer array")?;
    match items.as_slice() {
        [only] => raw_u64(only)
            .map(Timetoken)
            .ok_or_else(|| malformed(response.status, format!("not a timetoken: {only}"))),
        _ => Err(malformed(
            response.status,
            format!("expected one timetoken, got {} items", items.len()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_answers() {
        let time = |s: u16, b: &str| decode(&Response::new(s, b));
        assert_eq!(
            time(200, "[15800730201890734]"),
            Ok(Timetoken(15800730201890734))
        );
        assert_eq!(
            time(200, " [ 14818963707386265 ]\n"),
            Ok(Timetoken(14818963707386265))
        );
        for bad in [
            "[]",
            "[1,2]",
            "[1.5e16]",
            "[-1]",
            "15800730201890734",
            "[\"x\"]",
            "{}",
        ] {
            assert!(
                matches!(time(200, bad), Err(Error::Malformed { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            time(503, "[1]"),
            Err(Error::Api { status: 503, .. })
        ));
    }
}
