//! Error answers → [`Error::Api`]: every error body shape of protocol.md §4.1, a 2xx body that
//! reports failure, and bodies of unknown shape (the HTTP status alone makes those API errors).

use serde_json::Value;

use crate::channel::{Channel, ChannelGroup};
use crate::error::Error;
use crate::request::Response;

/// Longest piece of an unrecognised body quoted in the error message, in characters.
const SNIPPET_CHARS: usize = 200;

/// What an error body says.
#[derive(Default)]
struct Details {
    /// The status the body names, if any.
    status: Option<u64>,
    /// The service's message.
    message: Option<String>,
    /// Channels named (access denied).
    channels: Vec<Channel>,
    /// Groups named (access denied).
    groups: Vec<ChannelGroup>,
}

/// The API error for a non-2xx answer. The HTTP status decides; the body only adds the message
/// and the channels and groups it names.
pub(super) fn from_response(response: &Response) -> Error {
    let text = String::from_utf8_lossy(&response.body);
    let details = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| details(&v))
        .unwrap_or_default();
    build(response, response.status, details, &text)
}

/// The API error for a 2xx answer whose body `text` reports failure: the status the body names
/// when it is an error status, else 400.
pub(super) fn api_error(response: &Response, text: &str) -> Error {
    let details = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| details(&v))
        .unwrap_or_default();
    let status = details
        .status
        .and_then(|s| u16::try_from(s).ok())
        .filter(|s| (400..600).contains(s))
        .unwrap_or(400);
    build(response, status, details, text)
}

/// The API error a 2xx body holds, if it is an error object (`"error"` set or an error status)
/// or an error array (`[0, "message", …]`).
pub(super) fn in_body_error(response: &Response, text: &str) -> Option<Error> {
    let value = serde_json::from_str::<Value>(text).ok()?;
    if reports_failure(&value) {
        Some(api_error(response, text))
    } else {
        None
    }
}

/// Whether a parsed 2xx body is an error object or an error array.
fn reports_failure(value: &Value) -> bool {
    match value {
        Value::Array(items) => {
            items.first().and_then(Value::as_u64) == Some(0)
                && items.get(1).is_some_and(Value::is_string)
        }
        Value::Object(map) => object_reports_failure(
            map.get("error")
                .is_some_and(|e| !matches!(e, Value::Bool(false) | Value::Null)),
            map.get("status").and_then(Value::as_u64),
        ),
        _ => false,
    }
}

/// The rule for a 2xx object body: failure when its `error` member is set (anything but
/// `false`/`null`) or its `status` is not 2xx.
pub(super) fn object_reports_failure(error_set: bool, status: Option<u64>) -> bool {
    error_set || status.is_some_and(|s| !(200..300).contains(&s))
}

fn build(response: &Response, status: u16, details: Details, text: &str) -> Error {
    let message = details.message.unwrap_or_else(|| snippet(status, text));
    Error::Api {
        status,
        message,
        channels: details.channels,
        groups: details.groups,
        retry_after: retry_after(response),
    }
}

/// `Retry-After` in seconds; the HTTP-date form is not used by the service and is ignored.
fn retry_after(response: &Response) -> Option<u64> {
    response.retry_after.as_deref()?.trim().parse().ok()
}

/// The start of an unrecognised body, or a generic message for an empty one.
fn snippet(status: u16, text: &str) -> String {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return format!("HTTP {status} with an empty body");
    }
    let mut out: String = trimmed.chars().take(SNIPPET_CHARS).collect();
    if trimmed.chars().nth(SNIPPET_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// Reads any of the error shapes: `[0,"msg"]`, `[0,"msg","tt"]`, `{status,error,service,message,
/// payload:{channels,channel-groups}}`, `{status,error,error_message,channels}`,
/// `{status,error:{message,source,details:[{message,location}]}}`. `None` for other shapes.
fn details(value: &Value) -> Option<Details> {
    match value {
        Value::Array(items) => Some(Details {
            message: items.get(1).and_then(Value::as_str).map(str::to_owned),
            ..Details::default()
        }),
        Value::Object(map) => {
            let payload = map.get("payload");
            let channels = names(payload.and_then(|p| p.get("channels")))
                .chain(names(map.get("channels")))
                .map(Channel::from_wire)
                .collect();
            let groups = names(payload.and_then(|p| p.get("channel-groups")))
                .chain(names(map.get("channel-groups")))
                .map(ChannelGroup::from_wire)
                .collect();
            let message = text_of(map.get("message"))
                .or_else(|| text_of(map.get("error_message")))
                .or_else(|| map.get("error").and_then(error_member_message))
                .map(str::to_owned);
            Some(Details {
                status: map.get("status").and_then(Value::as_u64),
                message,
                channels,
                groups,
            })
        }
        _ => None,
    }
}

/// The message of an `error` member: a string, or an object's `message`.
fn error_member_message(error: &Value) -> Option<&str> {
    match error {
        Value::String(s) if !s.is_empty() => Some(s),
        Value::Object(inner) => text_of(inner.get("message")),
        _ => None,
    }
}

/// A non-empty string member.
fn text_of(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// The strings of an array member (other elements skipped).
fn names(value: Option<&Value>) -> impl Iterator<Item = &str> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, body: &[u8]) -> Error {
        from_response(&Response::new(status, body))
    }

    fn message_of(e: &Error) -> &str {
        match e {
            Error::Api { message, .. } => message,
            other => panic!("not an API error: {other:?}"),
        }
    }

    #[test]
    fn array_shapes() {
        let e = api(400, br#"[0,"Invalid Key","14820999375199241"]"#);
        assert_eq!(message_of(&e), "Invalid Key");
        assert_eq!(e.http_status(), Some(400));
        assert_eq!(
            message_of(&api(400, br#"[0,"Signal size too large"]"#)),
            "Signal size too large"
        );
    }

    #[test]
    fn access_manager_objects() {
        let e = api(
            403,
            br#"{"message":"Forbidden","payload":{"channels":["test-channel1"]},"error":true,"service":"Access Manager","status":403}
"#,
        );
        match &e {
            Error::Api {
                status,
                message,
                channels,
                groups,
                retry_after,
            } => {
                assert_eq!(*status, 403);
                assert_eq!(message, "Forbidden");
                assert_eq!(channels, &[Channel::from_wire("test-channel1")]);
                assert!(groups.is_empty());
                assert_eq!(*retry_after, None);
            }
            other => panic!("{other:?}"),
        }
        let g = api(
            403,
            br#"{"message":"Forbidden","payload":{"channel-groups":[":test-channel-group1"]},"error":true,"service":"Access Manager","status":403}"#,
        );
        assert!(
            matches!(&g, Error::Api { groups, .. } if groups[0].as_str() == ":test-channel-group1")
        );
        assert_eq!(
            message_of(&api(403, br#"{"error":true,"status":403,"service":"Access Manager","message":"Token is revoked"}"#)),
            "Token is revoked"
        );
    }

    #[test]
    fn other_object_shapes() {
        let nested = api(
            400,
            br#"{"error":{"message":"Invalid ttl","source":"grant","details":[{"message":"Valid range is 1 minute to 30 days.","location":"ttl","locationType":"body"}]},"service":"Access Manager","status":400}"#,
        );
        assert_eq!(message_of(&nested), "Invalid ttl");
        let objects = api(412, br#"{"status":412,"error":{"message":"Channel to update has been modified after it was read.","source":"objects"}}"#);
        assert_eq!(
            message_of(&objects),
            "Channel to update has been modified after it was read."
        );
        assert_eq!(objects.http_status(), Some(412));
        let legacy = api(
            403,
            br#"{"status":403,"error":true,"error_message":"Forbidden","channels":["a","b"]}"#,
        );
        assert_eq!(message_of(&legacy), "Forbidden");
        assert!(matches!(&legacy, Error::Api { channels, .. } if channels.len() == 2));
        let balancer = api(414, b"{\"status\":414,\"service\":\"Balancer\",\"error\":true,\"message\":\"Request URI Too Long\"}\n");
        assert_eq!(message_of(&balancer), "Request URI Too Long");
        assert_eq!(balancer.category(), crate::status::Category::Unknown);
    }

    #[test]
    fn http_status_wins_over_body_status() {
        let e = api(503, br#"{"message":"Forbidden","payload":{"channels":["c"]},"error":true,"service":"Access Manager","status":403}"#);
        assert!(matches!(e, Error::Api { status: 503, .. }));
        assert!(e.is_retriable());
    }

    #[test]
    fn unknown_bodies_still_api_errors() {
        assert_eq!(
            message_of(&api(502, b"<html>Bad Gateway</html>")),
            "<html>Bad Gateway</html>"
        );
        assert_eq!(message_of(&api(500, b"")), "HTTP 500 with an empty body");
        assert!(message_of(&api(500, &[0xff, 0xfe, b'x'])).ends_with('x'));
        assert_eq!(
            message_of(&api(404, b"{\"unexpected\":1}")),
            "{\"unexpected\":1}"
        );
        let long = api(500, "é".repeat(500).as_bytes());
        assert_eq!(message_of(&long).chars().count(), SNIPPET_CHARS + 1);
    }

    #[test]
    fn retry_after_seconds() {
        let mut r = Response::new(429, "{}");
        r.retry_after = Some(" 7 ".into());
        assert!(matches!(
            from_response(&r),
            Error::Api {
                status: 429,
                retry_after: Some(7),
                ..
            }
        ));
        r.retry_after = Some("Wed, 21 Oct 2015 07:28:00 GMT".into());
        assert!(matches!(
            from_response(&r),
            Error::Api {
                retry_after: None,
                ..
            }
        ));
    }

    #[test]
    fn failure_inside_2xx() {
        let r = Response::new(200, "");
        let e = api_error(&r, r#"[0,"Message Too Large","13524237335750949"]"#);
        assert!(
            matches!(&e, Error::Api { status: 400, message, .. } if message == "Message Too Large")
        );
        assert!(in_body_error(&r, r#"[1,"Sent","1"]"#).is_none());
        assert!(in_body_error(&r, r#"{"status":200,"error":false}"#).is_none());
        assert!(in_body_error(&r, r#"{"status":403,"message":"x"}"#).is_some());
        assert!(in_body_error(&r, "not json").is_none());
    }
}
