//! Builders for operations with options, awaited through [`IntoFuture`].

use std::future::IntoFuture;

use pn_core::{ClientError, CommandError, HereNow, HereNowQuery, Outcome, Publish, Timetoken};

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

    pn_core::publish_options!();
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
