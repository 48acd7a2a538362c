//! Acknowledgements (leave, heartbeat, channel-group changes): `{"status":200,"message":"OK",…}`.

use super::body::service_object;
use crate::error::Error;
use crate::request::Response;

/// Decodes an answer that only acknowledges.
pub(super) fn decode(response: &Response) -> Result<(), Error> {
    service_object(response).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acknowledgements() {
        for body in [
            r#"{"status": 200, "action": "leave", "message": "OK", "service": "Presence"}"#,
            r#"{"message":"OK","service":"Presence","status":200}"#,
            r#"{"error":false,"message":"OK","service":"channel-registry","status":200}"#,
            "{}",
        ] {
            assert_eq!(decode(&Response::new(200, body)), Ok(()), "{body}");
        }
        let denied = decode(&Response::new(
            403,
            r#"{"message":"Forbidden","payload":{"channel-groups":[":test-channel-group1"]},"error":true,"service":"Access Manager","status":403}"#,
        ));
        assert!(
            matches!(denied, Err(Error::Api { status: 403, ref groups, .. }) if groups.len() == 1)
        );
        let in_200 = decode(&Response::new(
            200,
            r#"{"status":200,"error":true,"message":"nope"}"#,
        ));
        assert!(
            matches!(in_200, Err(Error::Api { status: 400, ref message, .. }) if message == "nope")
        );
        let status_in_200 = decode(&Response::new(200, r#"{"status":500,"message":"oops"}"#));
        assert!(matches!(status_in_200, Err(Error::Api { status: 500, .. })));
        for body in ["", "[1]", "\"OK\"", "{\"status\":200", "null"] {
            assert!(
                matches!(
                    decode(&Response::new(200, body)),
                    Err(Error::Malformed { .. })
                ),
                "{body}"
            );
        }
    }
}
