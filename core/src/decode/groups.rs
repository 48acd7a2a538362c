//! Channel-group listings: `payload.channels` of a group, `payload.groups` of a namespace.

use super::body::{payload_names, service_object};
use crate::channel::{Channel, ChannelGroup};
use crate::error::Error;
use crate::request::Response;

/// Decodes a list-channels-of-group answer.
pub(super) fn channels(response: &Response) -> Result<Vec<Channel>, Error> {
    let object = service_object(response)?;
    let names = payload_names(response.status, &object, "channels")?;
    Ok(names.iter().map(|n| Channel::from_wire(n)).collect())
}

/// Decodes a list-groups answer.
pub(super) fn groups(response: &Response) -> Result<Vec<ChannelGroup>, Error> {
    let object = service_object(response)?;
    let names = payload_names(response.status, &object, "groups")?;
    Ok(names.iter().map(|n| ChannelGroup::from_wire(n)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_listings() {
        let list = channels(&Response::new(
            200,
            r#"{"status": 200, "payload": {"channels": ["channel-groups-tornado-ch1", "channel-groups-tornado-ch2"], "group": "channel-groups-tornado-cg"}, "service": "channel-registry", "error": false}"#,
        ))
        .unwrap();
        let names: Vec<&str> = list.iter().map(Channel::as_str).collect();
        assert_eq!(
            names,
            ["channel-groups-tornado-ch1", "channel-groups-tornado-ch2"]
        );
        let none = groups(&Response::new(
            200,
            r#"{"status": 200, "payload": {"namespace": "", "groups": []}, "service": "channel-registry", "error": false}"#,
        ));
        assert_eq!(none, Ok(vec![]));
        let some = groups(&Response::new(
            200,
            r#"{"status":200,"payload":{"groups":["a",":b"]}}"#,
        ))
        .unwrap();
        assert_eq!(some[1].as_str(), ":b");
        assert!(matches!(
            channels(&Response::new(
                200,
                r#"{"status":200,"payload":{"group":"g"}}"#
            )),
            Err(Error::Malformed { .. })
        ));
        assert!(matches!(
            channels(&Response::new(
                200,
                r#"{"status":200,"payload":{"channels":"a"}}"#
            )),
            Err(Error::Malformed { .. })
        ));
    }
}
