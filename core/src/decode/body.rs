//! What every decoder starts with: the HTTP status check, UTF-8 and JSON checks, the common
//! `{status, error, message, payload, …}` service object, and lenient readers for raw JSON fields.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::error::{api_error, from_response, in_body_error, object_reports_failure};
use crate::error::Error;
use crate::request::Response;

/// A `Malformed` error for an answer with HTTP status `status`.
pub(super) fn malformed(status: u16, reason: impl Into<String>) -> Error {
    Error::Malformed {
        status,
        reason: reason.into(),
    }
}

/// The body of a 2xx answer as text; a non-2xx answer becomes its API error, a body that is not
/// UTF-8 becomes `Malformed`.
pub(super) fn success_text(response: &Response) -> Result<&str, Error> {
    if !(200..300).contains(&response.status) {
        return Err(from_response(response));
    }
    std::str::from_utf8(&response.body)
        .map_err(|e| malformed(response.status, format!("body is not UTF-8: {e}")))
}

/// Parses a 2xx body `text` as `T`. When that fails the body is checked for an error object
/// (a 200 that says failure) before it is called malformed.
pub(super) fn parse_body<'a, T: Deserialize<'a>>(
    response: &Response,
    text: &'a str,
    what: &str,
) -> Result<T, Error> {
    serde_json::from_str(text).map_err(|e| {
        in_body_error(response, text)
            .unwrap_or_else(|| malformed(response.status, format!("{what}: {e}")))
    })
}

/// Parses one raw field as `T`, naming the field in the `Malformed` reason.
pub(super) fn parse_raw<'a, T: Deserialize<'a>>(
    status: u16,
    raw: &'a RawValue,
    what: &str,
) -> Result<T, Error> {
    serde_json::from_str(raw.get()).map_err(|e| malformed(status, format!("{what}: {e}")))
}

/// A required raw field, or `Malformed` naming it.
pub(super) fn required<'a>(
    status: u16,
    raw: Option<&'a RawValue>,
    what: &str,
) -> Result<&'a RawValue, Error> {
    raw.ok_or_else(|| malformed(status, format!("missing {what}")))
}

/// The text of a raw JSON string, borrowed when it holds no escapes; `None` if not a string.
pub(super) fn raw_str(raw: &RawValue) -> Option<Cow<'_, str>> {
    let text = raw.get();
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    if inner.contains('\\') {
        serde_json::from_str::<String>(text).ok().map(Cow::Owned)
    } else {
        Some(Cow::Borrowed(inner))
    }
}

/// A raw JSON non-negative integer (or a string of digits, as timetokens are sent); `None` for
/// anything else.
pub(super) fn raw_u64(raw: &RawValue) -> Option<u64> {
    let text = raw.get();
    let digits = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    if digits.is_empty() || digits.len() > 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// A raw JSON `true`/`false`; `None` for anything else.
pub(super) fn raw_bool(raw: &RawValue) -> Option<bool> {
    match raw.get() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// A raw JSON value parsed as `T`, or `None` when it has another shape.
pub(super) fn raw_as<T: DeserializeOwned>(raw: &RawValue) -> Option<T> {
    serde_json::from_str(raw.get()).ok()
}

/// The members of a JSON object in the order the service sent them, values left raw.
pub(super) struct Entries<'a>(pub Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for Entries<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<'a>(PhantomData<&'a ()>);

        impl<'de: 'a, 'a> Visitor<'de> for EntriesVisitor<'a> {
            type Value = Entries<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Entries<'a>, M::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(1024));
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    let value: &'de RawValue = map.next_value()?;
                    entries.push((key.0, value));
                }
                Ok(Entries(entries))
            }
        }

        deserializer.deserialize_map(EntriesVisitor(PhantomData))
    }
}

/// An object key, borrowed from the body when it holds no escapes.
pub(super) struct Key<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Key<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor<'a>(PhantomData<&'a ()>);

        impl<'de: 'a, 'a> Visitor<'de> for KeyVisitor<'a> {
            type Value = Key<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'a>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'a>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }

        deserializer.deserialize_str(KeyVisitor(PhantomData))
    }
}

/// Declares a struct read from a JSON *object* only (derived structs would also accept an
/// array, by position), every member optional, unknown members ignored, a repeated member
/// replacing the earlier one. A member that is present holds its value even when it is `null`
/// (see [`given`]).
macro_rules! wire_object {
    ($(#[$meta:meta])* $vis:vis struct $name:ident<'a> {
        $($(#[$fmeta:meta])* $field:ident: $ty:ty),* $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Default)]
        $vis struct $name<'a> {
            $($(#[$fmeta])* pub(super) $field: Option<$ty>,)*
            _body: ::std::marker::PhantomData<&'a ()>,
        }

        impl<'de: 'a, 'a> ::serde::Deserialize<'de> for $name<'a> {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct ObjectVisitor<'a>(::std::marker::PhantomData<&'a ()>);

                impl<'de: 'a, 'a> ::serde::de::Visitor<'de> for ObjectVisitor<'a> {
                    type Value = $name<'a>;

                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(concat!("a JSON object (", stringify!($name), ")"))
                    }

                    fn visit_map<M: ::serde::de::MapAccess<'de>>(
                        self,
                        mut map: M,
                    ) -> Result<$name<'a>, M::Error> {
                        let mut out = $name::default();
                        while let Some(key) = map.next_key::<$crate::decode::body::Key<'de>>()? {
                            match &*key.0 {
                                $(stringify!($field) => out.$field = Some(map.next_value::<$ty>()?),)*
                                _ => {
                                    map.next_value::<::serde::de::IgnoredAny>()?;
                                }
                            }
                        }
                        Ok(out)
                    }
                }

                deserializer.deserialize_map(ObjectVisitor(::std::marker::PhantomData))
            }
        }
    };
}
pub(super) use wire_object;

/// A member that is present and not `null`.
pub(super) fn given(raw: Option<&RawValue>) -> Option<&RawValue> {
    raw.filter(|r| r.get() != "null")
}

wire_object! {
    /// The object most non-publish endpoints answer with; members an endpoint does not use are
    /// ignored, the ones it may need are kept raw.
    pub(super) struct ServiceObject<'a> {
        /// The status the body claims (200 on success).
        status: &'a RawValue,
        /// `true`, an object or a string on failure.
        error: &'a RawValue,
        /// The answer proper, for most endpoints.
        payload: &'a RawValue,
        /// Single-channel here_now: the users.
        uuids: &'a RawValue,
        /// Single-channel here_now: how many users.
        occupancy: &'a RawValue,
        /// Single-channel get_state: the channel the state belongs to.
        channel: &'a RawValue,
    }
}

impl ServiceObject<'_> {
    /// Whether the body reports a failure although the HTTP status was 2xx.
    pub fn reports_failure(&self) -> bool {
        object_reports_failure(
            self.error
                .is_some_and(|e| !matches!(e.get(), "false" | "null")),
            self.status.and_then(raw_u64),
        )
    }
}

/// Checks a 2xx answer and reads its service object; a body that reports failure becomes an
/// API error.
pub(super) fn service_object(response: &Response) -> Result<ServiceObject<'_>, Error> {
    let text = success_text(response)?;
    let object: ServiceObject<'_> = parse_body(response, text, "expected a JSON object")?;
    if object.reports_failure() {
        return Err(api_error(response, text));
    }
    Ok(object)
}

/// The strings of the array `member` inside a service object's `payload`
/// (`payload.channels` of where_now and group listings).
pub(super) fn payload_names(
    status: u16,
    object: &ServiceObject<'_>,
    member: &str,
) -> Result<Vec<String>, Error> {
    let payload: Entries<'_> = parse_raw(
        status,
        required(status, given(object.payload), "payload")?,
        "payload",
    )?;
    let list = payload.0.iter().find(|(k, _)| k == member).map(|(_, v)| *v);
    parse_raw(
        status,
        required(status, list, &format!("payload.{member}"))?,
        &format!("payload.{member}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> &RawValue {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn raw_readers() {
        assert_eq!(raw_str(raw(r#""abc""#)).as_deref(), Some("abc"));
        assert!(matches!(raw_str(raw(r#""abc""#)), Some(Cow::Borrowed(_))));
        assert_eq!(raw_str(raw(r#""a\"b\u00fc""#)).as_deref(), Some("a\"bü"));
        assert_eq!(raw_str(raw("12")), None);
        assert_eq!(raw_u64(raw("12")), Some(12));
        assert_eq!(
            raw_u64(raw(r#""14818963588185526""#)),
            Some(14818963588185526)
        );
        for bad in [
            "-1",
            "1.5",
            "1e3",
            "\"\"",
            "\"x\"",
            "true",
            "99999999999999999999999",
        ] {
            assert_eq!(raw_u64(raw(bad)), None, "{bad}");
        }
        assert_eq!(raw_bool(raw("true")), Some(true));
        assert_eq!(raw_bool(raw("1")), None);
    }

    #[test]
    fn entries_keep_order_and_bytes() {
        let e: Entries<'_> =
            serde_json::from_str(r#"{"b": {"x": 1}, "a\u00e9": [ 1 ], "c":null}"#).unwrap();
        let keys: Vec<&str> = e.0.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(keys, ["b", "aé", "c"]);
        assert_eq!(e.0[1].1.get(), "[ 1 ]");
        assert!(serde_json::from_str::<Entries<'_>>("[1]").is_err());
    }

    #[test]
    fn service_object_failures() {
        let ok = Response::new(200, r#"{"status":200,"error":false,"message":"OK"}"#);
        assert!(service_object(&ok).is_ok());
        let bad = Response::new(200, r#"{"status":403,"error":true,"message":"Forbidden"}"#);
        assert!(matches!(
            service_object(&bad),
            Err(Error::Api { status: 403, .. })
        ));
        let flag = Response::new(200, r#"{"status":200,"error":true,"message":"nope"}"#);
        assert!(matches!(
            service_object(&flag),
            Err(Error::Api { status: 400, .. })
        ));
        let array = Response::new(200, "[1,2]");
        assert!(matches!(
            service_object(&array),
            Err(Error::Malformed { status: 200, .. })
        ));
        let bytes = Response::new(200, vec![b'{', 0xff, b'}']);
        assert!(matches!(
            service_object(&bytes),
            Err(Error::Malformed { .. })
        ));
    }
}
