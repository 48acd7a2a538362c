//! The firehose channel (see [`crate::Options::firehose`]): every receive gets a full page of
//! numbered messages at once, made up from its cursor, so no publisher is in the loop.

use std::sync::Arc;

use serde_json::value::RawValue;

use crate::message::{Content, Kind, Stored};
use crate::options::FIREHOSE_START;

/// The uuid the firehose's messages carry as their publisher.
const PUBLISHER: &str = "firehose";

/// The `page` messages after `cursor` on `channel`, and the cursor after them.
///
/// A cursor below [`FIREHOSE_START`] starts at message 0. Other cursors count from it, so one
/// from an ordinary subscription (a real timetoken, far above it) skips far ahead.
pub(crate) fn page(channel: &str, cursor: u64, page: usize) -> (Vec<Arc<Stored>>, u64) {
    let first = cursor.max(FIREHOSE_START);
    let messages = (1..=page as u64)
        .map_while(|i| first.checked_add(i))
        .filter_map(|timetoken| message(channel, timetoken).map(Arc::new))
        .collect::<Vec<_>>();
    let next = messages.last().map_or(first, |m| m.timetoken);
    (messages, next)
}

/// Message `timetoken - FIREHOSE_START - 1`.
fn message(channel: &str, timetoken: u64) -> Option<Stored> {
    let seq = timetoken.checked_sub(FIREHOSE_START + 1)?;
    let data = format!(r#"{{"seq":{seq},"text":"hello from the firehose"}}"#);
    Some(Stored {
        order: timetoken,
        timetoken,
        content: Content {
            channel: channel.to_owned(),
            kind: Kind::Message,
            publisher: Some(PUBLISHER.to_owned()),
            seqn: Some(seq % 65_535 + 1),
            meta: None,
            data: RawValue::from_string(data).ok()?,
            cmt: None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_each_other_from_the_start() {
        let (first, next) = page("fh", 0, 3);
        let seqs: Vec<&str> = first.iter().map(|m| m.content.data.get()).collect();
        assert!(seqs[0].starts_with(r#"{"seq":0,"#), "{seqs:?}");
        assert!(seqs[2].starts_with(r#"{"seq":2,"#), "{seqs:?}");
        assert_eq!(next, FIREHOSE_START + 3);
        let (second, _) = page("fh", next, 2);
        assert!(second[0].content.data.get().starts_with(r#"{"seq":3,"#));
        assert_eq!(second[0].timetoken, FIREHOSE_START + 4);
        let (end, at_end) = page("fh", u64::MAX - 1, 5);
        assert_eq!(
            (end.len(), at_end),
            (1, u64::MAX),
            "no overflow at the end of time"
        );
    }
}
