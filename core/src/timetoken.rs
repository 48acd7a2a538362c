//! Timetokens and the subscribe cursor.

use std::fmt;
use std::str::FromStr;

use crate::error::CommandError;

/// A PubNub timetoken: 100-nanosecond units since the Unix epoch (17 decimal digits today).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timetoken(pub u64);

impl Timetoken {
    /// The zero timetoken, which asks the service for a handshake.
    pub const ZERO: Timetoken = Timetoken(0);

    /// The value as a number.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Timetoken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for Timetoken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timetoken({})", self.0)
    }
}

impl FromStr for Timetoken {
    type Err = CommandError;

    /// Parses a decimal timetoken of at most 19 digits.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CommandError::InvalidTimetoken { value: s.into() });
        }
        s.parse()
            .map(Timetoken)
            .map_err(|_| CommandError::InvalidTimetoken { value: s.into() })
    }
}

/// The region a timetoken was issued in; sent back as `tr`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Region(pub u32);

/// Where a subscription resumes: the last timetoken and region the service handed out.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Cursor {
    /// The timetoken to resume from (`tt`); zero means "handshake".
    pub timetoken: Timetoken,
    /// The region of that timetoken (`tr`), unknown before the first handshake.
    pub region: Option<Region>,
}

impl Cursor {
    /// The cursor of a fresh subscription: `tt=0`, no region.
    pub const START: Cursor = Cursor {
        timetoken: Timetoken::ZERO,
        region: None,
    };

    /// A cursor that resumes from `timetoken` with the region still to be learned.
    pub fn at(timetoken: Timetoken) -> Cursor {
        Cursor {
            timetoken,
            region: None,
        }
    }

    /// Whether this cursor asks for a handshake.
    pub fn is_start(&self) -> bool {
        self.timetoken == Timetoken::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        assert_eq!(
            "14818963588185526".parse::<Timetoken>().unwrap(),
            Timetoken(14818963588185526)
        );
        for bad in ["", "-1", "1.5", "abc", "99999999999999999999"] {
            assert!(bad.parse::<Timetoken>().is_err(), "{bad}");
        }
        assert_eq!(Timetoken(5).to_string(), "5");
        assert!(Cursor::START.is_start());
        assert!(!Cursor::at(Timetoken(3)).is_start());
    }
}
