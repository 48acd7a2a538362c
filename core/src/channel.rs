//! Channel and channel-group names, validated once at the API boundary.

use std::fmt;

use crate::error::CommandError;

/// Longest channel, group or user id the service accepts, in characters.
pub const MAX_NAME_CHARS: usize = 92;

/// Suffix the service reserves for presence channels.
pub const PRESENCE_SUFFIX: &str = "-pnpres";

/// A validated channel name (may be a wildcard pattern such as `a.*` when used to subscribe).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Channel(Box<str>);

/// A validated channel-group name.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelGroup(Box<str>);

/// What a name is used for, which decides the characters it may hold.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum NameUse {
    /// A concrete channel to publish or signal to: no wildcard.
    Publish,
    /// A channel to subscribe to: a trailing `.*` wildcard is allowed.
    Subscribe,
}

fn check_name(name: &str, allow_wildcard: bool) -> Result<(), CommandError> {
    if name.is_empty() {
        return Err(CommandError::EmptyName);
    }
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(CommandError::NameTooLong {
            chars,
            max: MAX_NAME_CHARS,
        });
    }
    let body = if allow_wildcard {
        name.strip_suffix(".*").unwrap_or(name)
    } else {
        name
    };
    if let Some(c) = body
        .chars()
        .find(|c| c.is_control() || matches!(c, ',' | '*' | ':'))
    {
        return Err(CommandError::InvalidCharacter {
            name: name.into(),
            character: c,
        });
    }
    if body.is_empty() {
        return Err(CommandError::EmptyName);
    }
    Ok(())
}

impl Channel {
    /// Validates `name` for the given use: non-empty, at most 92 characters, no `,` `:` `*` or
    /// control characters (a trailing `.*` wildcard is allowed for subscribing).
    pub fn parse(name: &str, usage: NameUse) -> Result<Channel, CommandError> {
        check_name(name, usage == NameUse::Subscribe)?;
        if usage == NameUse::Publish && name.ends_with(PRESENCE_SUFFIX) {
            return Err(CommandError::ReservedName { name: name.into() });
        }
        Ok(Channel(name.into()))
    }

    /// Validates a channel name for subscribing (wildcards allowed).
    pub fn new(name: &str) -> Result<Channel, CommandError> {
        Self::parse(name, NameUse::Subscribe)
    }

    /// Wraps a name received from the service without validating it.
    pub(crate) fn from_wire(name: &str) -> Channel {
        Channel(name.into())
    }

    /// The name as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is a wildcard pattern (`a.*`).
    pub fn is_wildcard(&self) -> bool {
        self.0.ends_with(".*")
    }

    /// The presence channel that carries this channel's join/leave events.
    pub fn presence(&self) -> Channel {
        Channel(format!("{}{PRESENCE_SUFFIX}", self.0).into())
    }
}

impl ChannelGroup {
    /// Validates a channel-group name: non-empty, at most 92 characters, no `,` `:` `*` or controls.
    pub fn new(name: &str) -> Result<ChannelGroup, CommandError> {
        check_name(name, false)?;
        Ok(ChannelGroup(name.into()))
    }

    /// Wraps a name received from the service without validating it.
    pub(crate) fn from_wire(name: &str) -> ChannelGroup {
        ChannelGroup(name.into())
    }

    /// The name as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The presence group name that carries this group's presence events.
    pub fn presence(&self) -> ChannelGroup {
        ChannelGroup(format!("{}{PRESENCE_SUFFIX}", self.0).into())
    }
}

macro_rules! name_impls {
    ($t:ty) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&*self.0, f)
            }
        }
        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<&str> for $t {
            type Error = CommandError;
            fn try_from(s: &str) -> Result<Self, CommandError> {
                <$t>::new(s)
            }
        }
        impl TryFrom<String> for $t {
            type Error = CommandError;
            fn try_from(s: String) -> Result<Self, CommandError> {
                <$t>::new(&s)
            }
        }
    };
}
name_impls!(Channel);
name_impls!(ChannelGroup);

/// Parses a list of names, failing on the first invalid one.
pub fn parse_all<T, S>(names: impl IntoIterator<Item = S>) -> Result<Vec<T>, CommandError>
where
    T: TryFrom<String, Error = CommandError>,
    S: Into<String>,
{
    names.into_iter().map(|n| T::try_from(n.into())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_unicode_and_wildcard() {
        assert_eq!(Channel::new("ümlaut ch").unwrap().as_str(), "ümlaut ch");
        assert!(Channel::new("a.*").unwrap().is_wildcard());
        assert_eq!(
            Channel::parse("a.*", NameUse::Publish),
            Err(CommandError::InvalidCharacter {
                name: "a.*".into(),
                character: '*'
            })
        );
    }

    #[test]
    fn rejects_bad_names() {
        assert_eq!(Channel::new(""), Err(CommandError::EmptyName));
        assert_eq!(Channel::new(".*"), Err(CommandError::EmptyName));
        assert!(matches!(
            Channel::new(&"x".repeat(93)),
            Err(CommandError::NameTooLong { chars: 93, .. })
        ));
        assert!(Channel::new(&"ü".repeat(92)).is_ok());
        for bad in ["a,b", "a:b", "a*b", "a\u{0}b", "a\nb"] {
            assert!(
                matches!(
                    Channel::new(bad),
                    Err(CommandError::InvalidCharacter { .. })
                ),
                "{bad:?}"
            );
            assert!(ChannelGroup::new(bad).is_err());
        }
        assert_eq!(
            Channel::parse("x-pnpres", NameUse::Publish),
            Err(CommandError::ReservedName {
                name: "x-pnpres".into()
            })
        );
        assert!(ChannelGroup::new("g.*").is_err());
    }

    #[test]
    fn presence_names() {
        assert_eq!(Channel::new("c").unwrap().presence().as_str(), "c-pnpres");
        assert_eq!(
            ChannelGroup::new("g").unwrap().presence().as_str(),
            "g-pnpres"
        );
    }
}
