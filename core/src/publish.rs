//! The publish, fire and signal commands, validated before anything is queued.

use serde::Serialize;

use crate::channel::{Channel, NameUse};
use crate::encoding::encoded_len;
use crate::error::CommandError;
use crate::event::RawValue;
use crate::request::Method;

/// A message to publish. Build with [`Publish::new`] or [`Publish::raw`], then adjust.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publish {
    pub(crate) channel: Channel,
    pub(crate) message: String,
    pub(crate) store: Option<bool>,
    pub(crate) ttl: Option<u32>,
    pub(crate) meta: Option<String>,
    pub(crate) replicate: bool,
    pub(crate) custom_message_type: Option<String>,
    pub(crate) method: Method,
    pub(crate) signal: bool,
}

/// Serializes `value` to compact JSON.
pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, CommandError> {
    serde_json::to_string(value).map_err(|e| CommandError::InvalidJson {
        reason: e.to_string(),
    })
}

/// Checks that `json` is one valid JSON value; returns it trimmed.
pub(crate) fn check_json(json: &str) -> Result<String, CommandError> {
    let raw: &RawValue = serde_json::from_str(json).map_err(|e| CommandError::InvalidJson {
        reason: e.to_string(),
    })?;
    Ok(raw.get().to_owned())
}

/// Checks that `json` is a JSON object.
pub(crate) fn check_object(json: &str, what: &'static str) -> Result<String, CommandError> {
    let json = check_json(json)?;
    if json.starts_with('{') {
        Ok(json)
    } else {
        Err(CommandError::NotAnObject { what })
    }
}

impl Publish {
    /// A publish of `message` (any `Serialize` value) to `channel`.
    pub fn new<T: Serialize + ?Sized>(channel: &str, message: &T) -> Result<Publish, CommandError> {
        Self::from_json(channel, to_json(message)?)
    }

    /// A publish of already-serialized JSON, checked to be valid.
    pub fn raw(channel: &str, json: &str) -> Result<Publish, CommandError> {
        Self::from_json(channel, check_json(json)?)
    }

    fn from_json(channel: &str, message: String) -> Result<Publish, CommandError> {
        Ok(Publish {
            channel: Channel::parse(channel, NameUse::Publish)?,
            message,
            store: None,
            ttl: None,
            meta: None,
            replicate: true,
            custom_message_type: None,
            method: Method::Get,
            signal: false,
        })
    }

    /// A signal: a small message that is never stored, delivered with `e` = 1.
    pub fn signal<T: Serialize + ?Sized>(
        channel: &str,
        message: &T,
    ) -> Result<Publish, CommandError> {
        let mut p = Self::new(channel, message)?;
        p.signal = true;
        Ok(p)
    }

    /// A fire: a publish that is neither stored nor replicated (reaches Functions only).
    pub fn fire<T: Serialize + ?Sized>(
        channel: &str,
        message: &T,
    ) -> Result<Publish, CommandError> {
        Ok(Self::new(channel, message)?.store(false).replicate(false))
    }

    /// Whether the service stores the message in history (`store`); default: the keyset's.
    pub fn store(mut self, store: bool) -> Publish {
        self.store = Some(store);
        self
    }

    /// How many hours history keeps it (`ttl`).
    pub fn ttl(mut self, hours: u32) -> Publish {
        self.ttl = Some(hours);
        self
    }

    /// Metadata delivered as `u` and readable by filter expressions; must be a JSON object.
    pub fn meta<T: Serialize + ?Sized>(mut self, meta: &T) -> Result<Publish, CommandError> {
        self.meta = Some(check_object(&to_json(meta)?, "meta")?);
        Ok(self)
    }

    /// Metadata as already-serialized JSON (an object).
    pub fn meta_raw(mut self, json: &str) -> Result<Publish, CommandError> {
        self.meta = Some(check_object(json, "meta")?);
        Ok(self)
    }

    /// Whether the message is replicated to other points of presence (`norep` when false).
    pub fn replicate(mut self, replicate: bool) -> Publish {
        self.replicate = replicate;
        self
    }

    /// The user's message type (3–50 characters: letters, digits, `-`, `_`).
    pub fn custom_message_type(mut self, kind: &str) -> Result<Publish, CommandError> {
        let valid_len = (3..=50).contains(&kind.len());
        let bad = kind
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'));
        if let Some(character) = bad {
            return Err(CommandError::InvalidCharacter {
                name: kind.into(),
                character,
            });
        }
        if !valid_len || kind.starts_with(['-', '_']) {
            return Err(CommandError::InvalidMessageType { value: kind.into() });
        }
        self.custom_message_type = Some(kind.into());
        Ok(self)
    }

    /// Send with POST (message in the body) instead of GET (message in the path).
    pub fn use_post(mut self, post: bool) -> Publish {
        self.method = if post { Method::Post } else { Method::Get };
        self
    }

    /// The channel.
    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    /// The serialized message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether this is a signal.
    pub fn is_signal(&self) -> bool {
        self.signal
    }

    /// The size the service counts: channel plus message, URL-escaped.
    pub fn escaped_size(&self) -> usize {
        encoded_len(self.channel.as_str()) + encoded_len(&self.message)
    }

    /// Fails if the message is over `limit` bytes as the service counts it.
    pub(crate) fn check_size(&self, limit: usize) -> Result<(), CommandError> {
        let size = self.escaped_size();
        if size > limit {
            return Err(CommandError::MessageTooLarge { size, limit });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_validates() {
        let p = Publish::new("ch", &serde_json::json!({"a": 1}))
            .unwrap()
            .store(false)
            .ttl(3)
            .custom_message_type("chat-msg")
            .unwrap();
        assert_eq!(p.message(), r#"{"a":1}"#);
        assert_eq!(p.escaped_size(), 2 + encoded_len(r#"{"a":1}"#));
        assert_eq!(Publish::raw("ch", " [1, 2] ").unwrap().message(), "[1, 2]");
        assert!(matches!(
            Publish::raw("ch", "{nope"),
            Err(CommandError::InvalidJson { .. })
        ));
        assert_eq!(
            Publish::new("ch", &1).unwrap().meta(&[1]).unwrap_err(),
            CommandError::NotAnObject { what: "meta" }
        );
        assert!(matches!(
            Publish::new("ch", &1).unwrap().custom_message_type("a"),
            Err(CommandError::InvalidMessageType { .. })
        ));
        assert!(matches!(
            Publish::new("ch", &1).unwrap().custom_message_type("a b c"),
            Err(CommandError::InvalidCharacter { character: ' ', .. })
        ));
        assert!(matches!(Publish::new("", &1), Err(CommandError::EmptyName)));
        assert!(matches!(
            Publish::new("a.*", &1),
            Err(CommandError::InvalidCharacter { .. })
        ));
        let f = Publish::fire("ch", "x").unwrap();
        assert_eq!((f.store, f.replicate), (Some(false), false));
        assert!(Publish::signal("ch", "x").unwrap().is_signal());
        let big = Publish::new("ch", &"x".repeat(40_000)).unwrap();
        assert_eq!(
            big.check_size(32 * 1024),
            Err(CommandError::MessageTooLarge {
                size: 2 + 40_000 + 6,
                limit: 32 * 1024
            })
        );
    }
}
