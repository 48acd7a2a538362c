//! Builders of the request/response operations: publish, signal, fire, presence, groups.

use pn_core::{
    Channel, ChannelGroup, ClientError, CommandError, Error, HereNow, HereNowQuery, Outcome,
    Publish, RawJson, Timetoken,
};
use serde::Serialize;

use crate::client::Client;
use crate::driver::Command;

/// Parses channel names.
pub(crate) fn channels<S: AsRef<str>>(names: &[S]) -> Result<Vec<Channel>, CommandError> {
    names.iter().map(|n| Channel::new(n.as_ref())).collect()
}

/// Parses channel group names.
pub(crate) fn groups<S: AsRef<str>>(names: &[S]) -> Result<Vec<ChannelGroup>, CommandError> {
    names
        .iter()
        .map(|n| ChannelGroup::new(n.as_ref()))
        .collect()
}

/// The error for an outcome of the wrong kind (a core bug; never a panic).
pub(crate) fn unexpected(outcome: Outcome) -> ClientError {
    ClientError::Failed(Error::Malformed {
        status: 0,
        reason: format!("unexpected outcome {outcome:?}"),
    })
}

fn json<T: Serialize + ?Sized>(value: &T) -> Result<String, CommandError> {
    serde_json::to_string(value).map_err(|e| CommandError::InvalidJson {
        reason: e.to_string(),
    })
}

/// A publish, signal or fire being built; [`PublishBuilder::send`] sends it.
/// Argument errors are kept and reported by `send`.
#[must_use = "nothing is sent until .send()"]
pub struct PublishBuilder<'a> {
    client: &'a Client,
    publish: Result<Publish, CommandError>,
}

impl<'a> PublishBuilder<'a> {
    fn map(mut self, f: impl FnOnce(Publish) -> Result<Publish, CommandError>) -> Self {
        self.publish = self.publish.and_then(f);
        self
    }

    pn_core::publish_options!();

    /// Publishes and waits for the service's answer: the message's timetoken.
    pub fn send(self) -> Result<Timetoken, ClientError> {
        match self.client.request(Command::Publish(self.publish?))? {
            Outcome::Published(t) => Ok(t),
            other => Err(unexpected(other)),
        }
    }
}

/// A here_now query being built.
#[must_use = "nothing is sent until .send()"]
pub struct HereNowBuilder<'a> {
    client: &'a Client,
    query: Result<HereNowQuery, CommandError>,
}

impl HereNowBuilder<'_> {
    fn map(mut self, f: impl FnOnce(HereNowQuery) -> Result<HereNowQuery, CommandError>) -> Self {
        self.query = self.query.and_then(f);
        self
    }

    /// Also asks about these channel groups.
    pub fn groups<S: AsRef<str>>(self, names: &[S]) -> Self {
        self.map(|q| q.groups(names.iter().map(AsRef::as_ref)))
    }

    /// Whether to list the users (default true) or only count them.
    pub fn include_uuids(self, on: bool) -> Self {
        self.map(|q| Ok(q.include_uuids(on)))
    }

    /// Whether to include each user's state.
    pub fn include_state(self, on: bool) -> Self {
        self.map(|q| Ok(q.include_state(on)))
    }

    /// Asks and waits for the answer.
    pub fn send(self) -> Result<HereNow, ClientError> {
        match self.client.request(Command::HereNow(self.query?))? {
            Outcome::HereNow(h) => Ok(h),
            other => Err(unexpected(other)),
        }
    }
}

/// A where_now query being built.
#[must_use = "nothing is sent until .send()"]
pub struct WhereNowBuilder<'a> {
    client: &'a Client,
    uuid: Option<String>,
}

impl WhereNowBuilder<'_> {
    /// Asks about this user instead of the client's own.
    pub fn uuid(mut self, uuid: impl Into<String>) -> Self {
        self.uuid = Some(uuid.into());
        self
    }

    /// Asks and waits for the channels the user is on.
    pub fn send(self) -> Result<Vec<Channel>, ClientError> {
        match self.client.request(Command::WhereNow(self.uuid))? {
            Outcome::WhereNow(c) => Ok(c),
            other => Err(unexpected(other)),
        }
    }
}

/// A set_state call being built.
#[must_use = "nothing is sent until .send()"]
pub struct SetStateBuilder<'a> {
    client: &'a Client,
    command: Result<(Vec<Channel>, Vec<ChannelGroup>, String), CommandError>,
}

impl SetStateBuilder<'_> {
    /// Also sets it on these channel groups.
    pub fn groups<S: AsRef<str>>(mut self, names: &[S]) -> Self {
        self.command = self.command.and_then(|(c, mut g, s)| {
            g.extend(groups(names)?);
            Ok((c, g, s))
        });
        self
    }

    /// Sets the state and waits for the state as the service stored it.
    pub fn send(self) -> Result<RawJson, ClientError> {
        let (channels, groups, state) = self.command?;
        let cmd = Command::SetState {
            channels,
            groups,
            state,
        };
        match self.client.request(cmd)? {
            Outcome::StateSet(s) => Ok(s),
            other => Err(unexpected(other)),
        }
    }
}

/// A get_state call being built.
#[must_use = "nothing is sent until .send()"]
pub struct GetStateBuilder<'a> {
    client: &'a Client,
    names: Result<(Vec<Channel>, Vec<ChannelGroup>), CommandError>,
    uuid: Option<String>,
}

impl GetStateBuilder<'_> {
    /// Also reads it on these channel groups.
    pub fn groups<S: AsRef<str>>(mut self, names: &[S]) -> Self {
        self.names = self.names.and_then(|(c, mut g)| {
            g.extend(groups(names)?);
            Ok((c, g))
        });
        self
    }

    /// Reads this user's state instead of the client's own.
    pub fn uuid(mut self, uuid: impl Into<String>) -> Self {
        self.uuid = Some(uuid.into());
        self
    }

    /// Reads and waits for the state per channel.
    pub fn send(self) -> Result<Vec<(Channel, RawJson)>, ClientError> {
        let (channels, groups) = self.names?;
        let cmd = Command::GetState {
            channels,
            groups,
            uuid: self.uuid,
        };
        match self.client.request(cmd)? {
            Outcome::State(s) => Ok(s),
            other => Err(unexpected(other)),
        }
    }
}

impl Client {
    /// A publish of `message` (any `Serialize` value) to `channel`; call `.send()`.
    pub fn publish<T: Serialize + ?Sized>(&self, channel: &str, message: &T) -> PublishBuilder<'_> {
        PublishBuilder {
            client: self,
            publish: Publish::new(channel, message),
        }
    }

    /// A publish of already-serialized JSON to `channel`; call `.send()`.
    pub fn publish_raw(&self, channel: &str, json: &str) -> PublishBuilder<'_> {
        PublishBuilder {
            client: self,
            publish: Publish::raw(channel, json),
        }
    }

    /// A signal (small, never stored, delivered with `e` = 1); call `.send()`.
    pub fn signal<T: Serialize + ?Sized>(&self, channel: &str, message: &T) -> PublishBuilder<'_> {
        PublishBuilder {
            client: self,
            publish: Publish::signal(channel, message),
        }
    }

    /// A fire (neither stored nor replicated); call `.send()`.
    pub fn fire<T: Serialize + ?Sized>(&self, channel: &str, message: &T) -> PublishBuilder<'_> {
        PublishBuilder {
            client: self,
            publish: Publish::fire(channel, message),
        }
    }

    /// Who is on these channels (none: the whole keyset); call `.send()`.
    pub fn here_now<S: AsRef<str>>(&self, channels: &[S]) -> HereNowBuilder<'_> {
        HereNowBuilder {
            client: self,
            query: HereNowQuery::channels(channels.iter().map(AsRef::as_ref)),
        }
    }

    /// Which channels a user (default: this client's) is on; call `.send()`.
    pub fn where_now(&self) -> WhereNowBuilder<'_> {
        WhereNowBuilder {
            client: self,
            uuid: None,
        }
    }

    /// Sets this user's presence `state` (a JSON object) on channels; call `.send()`.
    pub fn set_state<S: AsRef<str>, T: Serialize + ?Sized>(
        &self,
        channels: &[S],
        state: &T,
    ) -> SetStateBuilder<'_> {
        SetStateBuilder {
            client: self,
            command: self::channels(channels).and_then(|c| Ok((c, Vec::new(), json(state)?))),
        }
    }

    /// Reads a user's presence state on channels; call `.send()`.
    pub fn get_state<S: AsRef<str>>(&self, channels: &[S]) -> GetStateBuilder<'_> {
        GetStateBuilder {
            client: self,
            names: self::channels(channels).map(|c| (c, Vec::new())),
            uuid: None,
        }
    }

    /// Adds channels to a channel group.
    pub fn add_channels_to_group<S: AsRef<str>>(
        &self,
        group: &str,
        channels: &[S],
    ) -> Result<(), ClientError> {
        let cmd = Command::AddChannelsToGroup(ChannelGroup::new(group)?, self::channels(channels)?);
        self.request(cmd).map(|_| ())
    }

    /// Removes channels from a channel group.
    pub fn remove_channels_from_group<S: AsRef<str>>(
        &self,
        group: &str,
        channels: &[S],
    ) -> Result<(), ClientError> {
        let cmd =
            Command::RemoveChannelsFromGroup(ChannelGroup::new(group)?, self::channels(channels)?);
        self.request(cmd).map(|_| ())
    }

    /// The channels of a channel group.
    pub fn list_group_channels(&self, group: &str) -> Result<Vec<Channel>, ClientError> {
        match self.request(Command::ListGroupChannels(ChannelGroup::new(group)?))? {
            Outcome::GroupChannels(c) => Ok(c),
            other => Err(unexpected(other)),
        }
    }

    /// Deletes a channel group.
    pub fn delete_group(&self, group: &str) -> Result<(), ClientError> {
        self.request(Command::DeleteGroup(ChannelGroup::new(group)?))
            .map(|_| ())
    }
}
