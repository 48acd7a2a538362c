//! Builders for operations with options, awaited through [`IntoFuture`].

use std::future::IntoFuture;

use pn_core::{ClientError, CommandError, HereNow, HereNowQuery, Outcome, Publish, Timetoken};
use serde::Serialize;

use crate::client::{Client, expect};
use crate::runtime::{BoxFuture, Runtime};

/// A publish, signal or fire being set up; `.await` it to send it and get its timetoken.
///
/// Invalid arguments are reported when awaited, as [`ClientError::Command`].
#[must_use = "a publish does nothing until awaited"]
pub struct PublishBuilder<'a, R: Runtime> {
    client: &'a Client<R>,
    publish: Result<Publish, CommandError>,
}

impl<'a, R: Runtime> PublishBuilder<'a, R> {
    pub(crate) fn new(client: &'a Client<R>, publish: Result<Publish, CommandError>) -> Self {
        PublishBuilder { client, publish }
    }

    fn map(self, f: impl FnOnce(Publish) -> Result<Publish, CommandError>) -> Self {
        PublishBuilder {
            client: self.client,
            publish: self.publish.and_then(f),
        }
    }

    /// Whether the service stores the message in history.
    pub fn store(self, store: bool) -> Self {
        self.map(|p| Ok(p.store(store)))
    }

    /// How many hours history keeps the message.
    pub fn ttl(self, hours: u32) -> Self {
        self.map(|p| Ok(p.ttl(hours)))
    }

    /// Metadata (a JSON object) delivered with the message and readable by filters.
    pub fn meta<T: Serialize + ?Sized>(self, meta: &T) -> Self {
        self.map(|p| p.meta(meta))
    }

    /// Whether the message is replicated to other points of presence.
    pub fn replicate(self, replicate: bool) -> Self {
        self.map(|p| Ok(p.replicate(replicate)))
    }

    /// Sends with POST (message in the body) instead of GET.
    pub fn use_post(self, post: bool) -> Self {
        self.map(|p| Ok(p.use_post(post)))
    }

    /// The user's message type (3–50 characters: letters, digits, `-`, `_`).
    pub fn custom_message_type(self, kind: &str) -> Self {
        self.map(|p| p.custom_message_type(kind))
    }
}

impl<'a, R: Runtime> IntoFuture for PublishBuilder<'a, R> {
    type Output = Result<Timetoken, ClientError>;
    type IntoFuture = BoxFuture<'a, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let publish = self.publish?;
            let outcome = self
                .client
                .operation(move |c, now| c.publish(publish, now))
                .await?;
            expect(outcome, |o| match o {
                Outcome::Published(tt) => Some(tt),
                _ => None,
            })
        })
    }
}

/// A here_now query being set up; `.await` it to run it.
#[must_use = "a query does nothing until awaited"]
pub struct HereNowBuilder<'a, R: Runtime> {
    client: &'a Client<R>,
    query: Result<HereNowQuery, CommandError>,
}

impl<'a, R: Runtime> HereNowBuilder<'a, R> {
    pub(crate) fn new(client: &'a Client<R>, query: Result<HereNowQuery, CommandError>) -> Self {
        HereNowBuilder { client, query }
    }

    fn map(self, f: impl FnOnce(HereNowQuery) -> Result<HereNowQuery, CommandError>) -> Self {
        HereNowBuilder {
            client: self.client,
            query: self.query.and_then(f),
        }
    }

    /// Also asks about these channel groups.
    pub fn groups(self, groups: &[&str]) -> Self {
        self.map(|q| q.groups(groups.iter().copied()))
    }

    /// Whether to list the users (default: yes).
    pub fn include_uuids(self, on: bool) -> Self {
        self.map(|q| Ok(q.include_uuids(on)))
    }

    /// Whether to include each user's state (default: no).
    pub fn include_state(self, on: bool) -> Self {
        self.map(|q| Ok(q.include_state(on)))
    }
}

impl<'a, R: Runtime> IntoFuture for HereNowBuilder<'a, R> {
    type Output = Result<HereNow, ClientError>;
    type IntoFuture = BoxFuture<'a, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { self.client.here_now_query(self.query?).await })
    }
}
