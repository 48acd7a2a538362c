//! Publish, signal and fire answers: `[1,"Sent","<timetoken>"]`; `[0,"<why>","<tt>"]` is a
//! failure even with HTTP 2xx (e.g. `Message Too Large`).

use serde_json::value::RawValue;

use super::body::{malformed, parse_body, raw_u64, success_text};
use super::error::api_error;
use crate::error::Error;
use crate::request::Response;
use crate::timetoken::Timetoken;

/// Decodes a publish, signal or fire answer.
pub(super) fn decode(response: &Response) -> Result<Timetoken, Error> {
    let text = success_text(response)?;
    let items: Vec<&RawValue> = parse_body(response, text, "expected a publish answer array")?;
    let Some(flag) = items.first().copied().and_then(raw_u64) else {
        return Err(malformed(
            response.status,
            "publish answer does not start with a number",
        ));
    };
    if flag != 1 {
        return Err(api_error(response, text));
    }
    items
        .get(2)
        .copied()
        .and_then(raw_u64)
        .map(Timetoken)
        .ok_or_else(|| malformed(response.status, "publish answer has no timetoken"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Category;

    fn publish(status: u16, body: &str) -> Result<Timetoken, Error> {
        decode(&Response::new(status, body))
    }

    #[test]
    fn sent() {
        assert_eq!(
            publish(200, r#"[1,"Sent","17334108326343660"]"#),
            Ok(Timetoken(17334108326343660))
        );
        assert_eq!(
            publish(200, r#"[1, "Sent", 15782703046700181]"#),
            Ok(Timetoken(15782703046700181))
        );
    }

    #[test]
    fn failure_in_a_200_is_a_400() {
        let e = publish(200, r#"[0,"Message Too Large","13524237335750949"]"#).unwrap_err();
        assert_eq!(
            e,
            Error::Api {
                status: 400,
                message: "Message Too Large".into(),
                channels: vec![],
                groups: vec![],
                retry_after: None
            }
        );
        assert_eq!(e.category(), Category::BadRequest);
    }

    #[test]
    fn recorded_errors() {
        let e = publish(400, r#"[0,"Invalid Key","14820999375199241"]"#).unwrap_err();
        assert!(matches!(&e, Error::Api { status: 400, message, .. } if message == "Invalid Key"));
        let e = publish(400, r#"[0,"Signal size too large","15782702375048763"]"#).unwrap_err();
        assert_eq!(e.category(), Category::BadRequest);
        let e = publish(
            403,
            r#"{"message":"Forbidden","payload":{"channels":["asyncio-int-publish"]},"error":true,"service":"Access Manager","status":403}"#,
        )
        .unwrap_err();
        assert_eq!(e.category(), Category::AccessDenied);
        let e = publish(
            414,
            r#"{"status":414,"service":"Balancer","error":true,"message":"Request URI Too Long"}"#,
        )
        .unwrap_err();
        assert!(matches!(&e, Error::Api { status: 414, .. }));
        assert_eq!(e.category(), Category::Unknown);
    }

    #[test]
    fn malformed_answers() {
        for body in [
            "",
            "[",
            "[]",
            r#"["Sent"]"#,
            r#"[1,"Sent"]"#,
            r#"[1,"Sent","abc"]"#,
            "{}",
            "null",
            r#"[1,"Sent","1"]x"#,
        ] {
            assert!(
                matches!(
                    publish(200, body),
                    Err(Error::Malformed { status: 200, .. })
                ),
                "{body}"
            );
        }
        assert!(matches!(
            decode(&Response::new(200, vec![b'[', b'1', 0xff, b']'])),
            Err(Error::Malformed { .. })
        ));
    }
}
