//! The server clock: 17-digit timetokens, strictly increasing.

use std::time::{SystemTime, UNIX_EPOCH};

/// Hands out timetokens (Unix time in 100 ns units), each larger than the last.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    last: u64,
}

impl Clock {
    /// The next timetoken: the current time, or one more than the previous one.
    pub(crate) fn next(&mut self) -> u64 {
        self.last = now_100ns().max(self.last + 1);
        self.last
    }

    /// The latest timetoken handed out (a fresh one if none was): every later event is newer.
    pub(crate) fn current(&mut self) -> u64 {
        if self.last == 0 {
            self.next()
        } else {
            self.last
        }
    }
}

/// The current Unix time in 100 ns units.
pub(crate) fn now_100ns() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(since.as_nanos() / 100).unwrap_or(u64::MAX)
}

/// The current Unix time in whole seconds and in milliseconds.
pub(crate) fn now_secs_millis() -> (u64, u64) {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (
        since.as_secs(),
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX),
    )
}

/// Parses a `tt` cursor: `None` for a handshake (`0`, empty or absent), an error for garbage.
pub(crate) fn parse_cursor(value: Option<&str>) -> Result<Option<u64>, ()> {
    match value {
        None | Some("") | Some("0") => Ok(None),
        Some(v) if v.len() <= 20 && v.bytes().all(|b| b.is_ascii_digit()) => {
            v.parse::<u64>().map(Some).map_err(|_| ())
        }
        Some(_) => Err(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strictly_increasing_and_17_digits() {
        let mut clock = Clock::default();
        let a = clock.next();
        let b = clock.next();
        assert!(b > a);
        assert_eq!(a.to_string().len(), 17);
    }

    #[test]
    fn cursor_parsing() {
        assert_eq!(parse_cursor(None), Ok(None));
        assert_eq!(parse_cursor(Some("0")), Ok(None));
        assert_eq!(
            parse_cursor(Some("17000000000000000")),
            Ok(Some(17000000000000000))
        );
        assert!(parse_cursor(Some("-1")).is_err());
        assert!(parse_cursor(Some("99999999999999999999999")).is_err());
    }
}
