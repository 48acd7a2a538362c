//! [`Core`]: the whole client as one deterministic object.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::channel::{Channel, ChannelGroup, MAX_NAME_CHARS, parse_all};
use crate::config::{Config, Origin};
use crate::decode;
use crate::dedupe::{Dedupe, fingerprint};
use crate::endpoints::{self, Endpoint, QueryValue};
use crate::error::{CommandError, ConfigError, Error};
use crate::event::{Event, Message, OperationId, OperationResult, Outcome};
use crate::presence;
use crate::publish::{Publish, check_object};
use crate::reliable::{Reliable, Verdict};
use crate::request::{Request, RequestId, RequestKind, Response, TransportAction, TransportError};
use crate::rng::Rng;
use crate::signing;
use crate::status::{Category, Operation, Recovery, Status};
use crate::subscribe::{Input, Invocation, Machine, Removed, State, SubscriptionSet};
use crate::timetoken::{Cursor, Timetoken};
use crate::transcript::Transcript;

/// How long after a request's own timeout the core stops waiting for the transport's answer.
pub const WATCHDOG_GRACE: Duration = Duration::from_secs(5);

/// What a subscribe command asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Subscribe {
    /// Channels (wildcards like `a.*` allowed).
    pub channels: Vec<Channel>,
    /// Channel groups.
    pub groups: Vec<ChannelGroup>,
    /// Also receive presence events (`-pnpres`) for these names.
    pub with_presence: bool,
    /// Catch up from this timetoken instead of now.
    pub timetoken: Option<Timetoken>,
}

impl Subscribe {
    /// Subscribes to these channels, validating each name.
    pub fn channels<S: Into<String>>(
        names: impl IntoIterator<Item = S>,
    ) -> Result<Subscribe, CommandError> {
        Ok(Subscribe {
            channels: parse_all(names)?,
            ..Default::default()
        })
    }

    /// Adds channel groups, validating each name.
    pub fn groups<S: Into<String>>(
        mut self,
        names: impl IntoIterator<Item = S>,
    ) -> Result<Subscribe, CommandError> {
        self.groups.extend(parse_all::<ChannelGroup, S>(names)?);
        Ok(self)
    }

    /// Also receive presence events.
    pub fn with_presence(mut self, on: bool) -> Subscribe {
        self.with_presence = on;
        self
    }

    /// Catch up from `timetoken`.
    pub fn from_timetoken(mut self, timetoken: Timetoken) -> Subscribe {
        self.timetoken = Some(timetoken);
        self
    }
}

/// What here_now asks for; by default user ids are included, states are not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HereNowQuery {
    /// Channels; none and no groups means every channel of the keyset.
    pub channels: Vec<Channel>,
    /// Channel groups.
    pub groups: Vec<ChannelGroup>,
    /// Include user ids (`disable_uuids=1` when false).
    pub include_uuids: bool,
    /// Include each user's state (`state=1`).
    pub include_state: bool,
}

impl HereNowQuery {
    /// Asks about these channels, validating each name.
    pub fn channels<S: Into<String>>(
        names: impl IntoIterator<Item = S>,
    ) -> Result<HereNowQuery, CommandError> {
        Ok(HereNowQuery {
            channels: parse_all(names)?,
            ..Default::default()
        })
    }

    /// Also asks about these channel groups, validating each name.
    pub fn groups<S: Into<String>>(
        mut self,
        names: impl IntoIterator<Item = S>,
    ) -> Result<HereNowQuery, CommandError> {
        self.groups.extend(parse_all::<ChannelGroup, S>(names)?);
        Ok(self)
    }

    /// Whether to list the users (default: yes) or only count them.
    pub fn include_uuids(mut self, on: bool) -> HereNowQuery {
        self.include_uuids = on;
        self
    }

    /// Whether to include each user's state (default: no).
    pub fn include_state(mut self, on: bool) -> HereNowQuery {
        self.include_state = on;
        self
    }
}

impl Default for HereNowQuery {
    fn default() -> Self {
        HereNowQuery {
            channels: Vec::new(),
            groups: Vec::new(),
            include_uuids: true,
            include_state: false,
        }
    }
}

#[derive(Debug, Clone)]
enum Purpose {
    Subscribe,
    Heartbeat,
    Leave,
    Reliable(Channel),
    Operation(OperationId, Pending),
}

#[derive(Debug, Clone)]
enum Pending {
    Publish(Operation),
    Time,
    HereNow(Vec<Channel>),
    WhereNow,
    GetState(Vec<Channel>),
    SetState,
    GroupChannels,
    Ack(Operation),
}

impl Pending {
    fn operation(&self) -> Operation {
        match self {
            Pending::Publish(op) | Pending::Ack(op) => *op,
            Pending::Time => Operation::Time,
            Pending::HereNow(_) => Operation::HereNow,
            Pending::WhereNow => Operation::WhereNow,
            Pending::GetState(_) => Operation::GetState,
            Pending::SetState => Operation::SetState,
            Pending::GroupChannels => Operation::ListGroupChannels,
        }
    }

    fn decode(&self, r: &Response) -> Result<Outcome, Error> {
        Ok(match self {
            Pending::Publish(_) => Outcome::Published(decode::publish(r)?),
            Pending::Time => Outcome::Time(decode::time(r)?),
            Pending::HereNow(chs) => Outcome::HereNow(decode::here_now(r, chs)?),
            Pending::WhereNow => Outcome::WhereNow(decode::where_now(r)?),
            Pending::GetState(chs) => Outcome::State(decode::get_state(r, chs)?),
            Pending::SetState => Outcome::StateSet(decode::set_state(r)?),
            Pending::GroupChannels => Outcome::GroupChannels(decode::group_channels(r)?),
            Pending::Ack(_) => {
                decode::ack(r)?;
                Outcome::Done
            }
        })
    }
}

#[derive(Debug)]
struct InFlight {
    purpose: Purpose,
    /// When the watchdog gives up on it; `None` while the adapter holds it back.
    deadline: Option<Instant>,
    /// The request's own timeout, to restart the watchdog from.
    timeout: Duration,
}

#[derive(Debug, Default)]
struct Heartbeats {
    machine: presence::Machine,
    timer: Option<Instant>,
    in_flight: Option<RequestId>,
    /// The names the next LEAVE invocation leaves.
    leaving: Removed,
}

/// The PubNub client as a sans-IO state machine.
///
/// Feed it commands and `handle_*` inputs, then drain [`Core::poll_transmit`] and
/// [`Core::poll_event`] until both return `None`, then sleep until [`Core::poll_timeout`]
/// (or until a response or a command arrives) and call [`Core::handle_timeout`].
#[derive(Debug)]
pub struct Core {
    config: Config,
    origin: Origin,
    rng: Rng,
    epoch: (Instant, Duration),
    next_id: u64,
    seqn: u16,
    actions: VecDeque<TransportAction>,
    events: VecDeque<Event>,
    in_flight: HashMap<RequestId, InFlight>,
    set: SubscriptionSet,
    machine: Machine,
    subscribe_request: Option<RequestId>,
    retry_at: Option<Instant>,
    dedupe: Dedupe,
    heartbeats: Heartbeats,
    states: BTreeMap<String, String>,
    reliable: Option<Reliable>,
    transcript: Transcript,
}

fn validate_uuid(uuid: &str) -> Result<(), CommandError> {
    if uuid.is_empty() {
        return Err(CommandError::EmptyName);
    }
    let chars = uuid.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(CommandError::NameTooLong {
            chars,
            max: MAX_NAME_CHARS,
        });
    }
    if let Some(character) = uuid.chars().find(|c| c.is_control()) {
        return Err(CommandError::InvalidCharacter {
            name: uuid.into(),
            character,
        });
    }
    Ok(())
}

fn require_names(channels: &[Channel], groups: &[ChannelGroup]) -> Result<(), CommandError> {
    if channels.is_empty() && groups.is_empty() {
        return Err(CommandError::NoChannels);
    }
    Ok(())
}

impl Core {
    /// A core for `config` (validated), with randomness from `seed`. `now` and `unix_time`
    /// (time since the Unix epoch at `now`) anchor the clock used to timestamp signed requests.
    pub fn new(
        config: Config,
        seed: u64,
        now: Instant,
        unix_time: Duration,
    ) -> Result<Core, ConfigError> {
        let origin = config.validate()?;
        Ok(Core {
            dedupe: Dedupe::new(config.dedupe_cache_size),
            reliable: config.reliable_publish.map(Reliable::new),
            origin,
            rng: Rng::new(seed),
            epoch: (now, unix_time),
            next_id: 1,
            seqn: 0,
            actions: VecDeque::new(),
            events: VecDeque::new(),
            in_flight: HashMap::new(),
            set: SubscriptionSet::default(),
            machine: Machine::default(),
            subscribe_request: None,
            retry_at: None,
            heartbeats: Heartbeats::default(),
            states: BTreeMap::new(),
            transcript: Transcript::default(),
            config,
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Where requests go.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The cursor the subscription resumes from.
    pub fn cursor(&self) -> Cursor {
        self.machine.cursor()
    }

    /// The subscribed channels, presence channels included.
    pub fn subscribed_channels(&self) -> Vec<Channel> {
        self.set.channels().cloned().collect()
    }

    /// The subscribed groups, presence groups included.
    pub fn subscribed_groups(&self) -> Vec<ChannelGroup> {
        self.set.groups().cloned().collect()
    }

    /// The subscribe engine's state.
    pub fn subscription_state(&self) -> &State {
        self.machine.state()
    }

    /// Number of requests sent and not yet answered or cancelled.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Tells the core that the adapter holds request `id` back instead of sending it (its
    /// listeners are full, say): the watchdog leaves it alone until [`Core::release`].
    pub fn hold(&mut self, id: RequestId) {
        if let Some(flight) = self.in_flight.get_mut(&id) {
            flight.deadline = None;
        }
    }

    /// Tells the core that request `id`, held back, may go at `now`. Returns whether to send
    /// the request held: then its watchdog starts over from `now`. `false`: the core dropped it
    /// (a signed subscribe request carries the time it was built, so a fresh one replaces it)
    /// and its transport actions say what to send instead.
    pub fn release(&mut self, id: RequestId, now: Instant) -> bool {
        let Some(flight) = self.in_flight.get_mut(&id) else {
            return false;
        };
        let signed = self.config.secret_key.is_some();
        if signed && self.subscribe_request == Some(id) {
            self.cancel(id);
            let handshake = matches!(
                self.machine.state(),
                State::Handshaking | State::HandshakeReconnecting(_)
            );
            self.send_subscribe(handshake, now);
            return false;
        }
        flight.deadline = Some(now + flight.timeout + WATCHDOG_GRACE);
        true
    }

    /// The operation whose outcome request `id` decides, if it is in flight and serves one
    /// (a subscribe, heartbeat, leave or queued publish serves none).
    pub fn operation_of(&self, id: RequestId) -> Option<OperationId> {
        match self.in_flight.get(&id)?.purpose {
            Purpose::Operation(op, _) => Some(op),
            _ => None,
        }
    }

    /// Records (or stops recording) the subscribe engine's transcript of events and invocations.
    pub fn record_transcript(&mut self, on: bool) {
        self.transcript.record(on);
    }

    /// The transcript recorded since the last call (`ev NAME` and `inv NAME` lines).
    pub fn take_transcript(&mut self) -> Vec<String> {
        self.transcript.take()
    }

    fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn new_operation(&mut self) -> OperationId {
        OperationId(self.next_id())
    }

    // ----- outputs -----

    /// The next transport action, in order. Call until `None` after every input.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<TransportAction> {
        self.actions.pop_front()
    }

    /// The next event for the user. Call until `None` after every input.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`Core::handle_timeout`] must be called next (a retry, a heartbeat, a rate-limited
    /// publish, or a request whose transport never answered).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.retry_at,
            self.heartbeats.timer,
            self.reliable.as_ref().and_then(Reliable::next_deadline),
            self.in_flight.values().filter_map(|f| f.deadline).min(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    // ----- request building -----

    fn unix_seconds(&self, now: Instant) -> u64 {
        let elapsed = now.saturating_duration_since(self.epoch.0);
        self.epoch.1.saturating_add(elapsed).as_secs()
    }

    /// Turns an endpoint into a complete request: common parameters, signature, encoding.
    fn build(&mut self, endpoint: Endpoint, now: Instant) -> Request {
        let id = RequestId(self.next_id());
        let timeout = match endpoint.kind {
            RequestKind::LongPoll => self.config.subscribe_timeout,
            RequestKind::Regular => self.config.request_timeout,
        };
        let mut query = endpoint.query;
        if !query.iter().any(|(k, _)| *k == "uuid") {
            query.push(("uuid", QueryValue::Text(self.config.user_id.clone())));
        }
        query.push(("pnsdk", QueryValue::Text(self.config.sdk_name.clone())));
        if let Some(auth) = &self.config.auth_token {
            query.push(("auth", QueryValue::Text(auth.clone())));
        }
        if let Some(secret) = &self.config.secret_key {
            query.push((
                "timestamp",
                QueryValue::Text(self.unix_seconds(now).to_string()),
            ));
            let decoded: Vec<(&str, String)> =
                query.iter().map(|(k, v)| (*k, v.decoded())).collect();
            let pairs: Vec<(&str, &str)> = decoded.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let signature = signing::sign(
                secret,
                self.config.publish_key.as_deref().unwrap_or(""),
                endpoint.method,
                &endpoint.path,
                &pairs,
                endpoint.body.as_deref().unwrap_or(b""),
            );
            query.push(("signature", QueryValue::Text(signature)));
        }
        let mut path_and_query = endpoint.path;
        for (i, (k, v)) in query.iter().enumerate() {
            path_and_query.push(if i == 0 { '?' } else { '&' });
            path_and_query.push_str(k);
            path_and_query.push('=');
            v.push_encoded(&mut path_and_query);
        }
        let mut headers = Vec::new();
        if endpoint.body.is_some() {
            headers.push(("Content-Type", "application/json".to_owned()));
        }
        Request {
            id,
            method: endpoint.method,
            path_and_query,
            headers,
            body: endpoint.body,
            timeout,
            kind: endpoint.kind,
        }
    }

    fn send(&mut self, endpoint: Endpoint, purpose: Purpose, now: Instant) -> RequestId {
        let request = self.build(endpoint, now);
        let id = request.id;
        let flight = InFlight {
            purpose,
            deadline: Some(now + request.timeout + WATCHDOG_GRACE),
            timeout: request.timeout,
        };
        self.in_flight.insert(id, flight);
        self.actions.push_back(TransportAction::Send(request));
        id
    }

    fn cancel(&mut self, id: RequestId) {
        if self.in_flight.remove(&id).is_some() {
            self.actions.push_back(TransportAction::Cancel(id));
        }
    }

    fn operation(&mut self, endpoint: Endpoint, pending: Pending, now: Instant) -> OperationId {
        let op = self.new_operation();
        self.send(endpoint, Purpose::Operation(op, pending), now);
        op
    }

    fn status(
        &mut self,
        category: Category,
        operation: Operation,
        error: Option<Error>,
        recovery: Recovery,
    ) {
        let names = self.set.presence_free();
        self.events.push_back(Event::Status(Status {
            category,
            operation,
            error,
            channels: names.channels,
            groups: names.groups,
            recovery,
        }));
    }

    // ----- publish -----

    /// Publishes (or signals, or fires) a message; its result arrives as an [`Event::Result`]
    /// with [`Outcome::Published`]. With reliable publishing configured, publishes are queued
    /// per channel.
    pub fn publish(&mut self, publish: Publish, now: Instant) -> Result<OperationId, CommandError> {
        if self.config.publish_key.is_none() {
            return Err(CommandError::MissingPublishKey);
        }
        publish.check_size(self.config.max_message_size)?;
        if let Some(reliable) = &mut self.reliable {
            let op = OperationId(self.next_id);
            reliable.enqueue(op, publish)?;
            self.next_id += 1; // only a queued publish takes an id
            self.pump_reliable(now);
            return Ok(op);
        }
        let operation = if publish.signal {
            Operation::Signal
        } else {
            Operation::Publish
        };
        let endpoint = self.publish_endpoint(&publish);
        Ok(self.operation(endpoint, Pending::Publish(operation), now))
    }

    /// The request a publish would send, without sending it (for dry runs).
    pub fn publish_request(
        &mut self,
        publish: Publish,
        now: Instant,
    ) -> Result<Request, CommandError> {
        if self.config.publish_key.is_none() {
            return Err(CommandError::MissingPublishKey);
        }
        publish.check_size(self.config.max_message_size)?;
        let endpoint = self.publish_endpoint(&publish);
        Ok(self.build(endpoint, now))
    }

    fn publish_endpoint(&mut self, p: &Publish) -> Endpoint {
        let kind = if p.signal { "signal" } else { "publish" };
        let pub_key = self.config.publish_key.as_deref().unwrap_or("");
        let mut e = endpoints::publish(
            kind,
            pub_key,
            &self.config.subscribe_key,
            &p.channel,
            &p.message,
            p.method,
        );
        if !p.signal {
            self.seqn = if self.seqn == u16::MAX {
                1
            } else {
                self.seqn + 1
            };
            e = e
                .param_opt("store", p.store.map(|s| if s { "1" } else { "0" }))
                .param_opt("ttl", p.ttl.map(|t| t.to_string()))
                .param_opt("meta", p.meta.clone())
                .param_opt("norep", (!p.replicate).then_some("true"))
                .param("seqn", self.seqn.to_string());
        }
        e.param_opt("custom_message_type", p.custom_message_type.clone())
    }

    fn pump_reliable(&mut self, now: Instant) {
        let Some(reliable) = &mut self.reliable else {
            return;
        };
        for (_, publish) in reliable.due(now) {
            let endpoint = self.publish_endpoint(&publish);
            self.send(endpoint, Purpose::Reliable(publish.channel.clone()), now);
        }
    }

    // ----- subscribe -----

    /// Subscribes to channels and groups. Subscribing to what is already subscribed changes
    /// nothing; otherwise the running long-poll is cancelled and a new one starts, keeping the
    /// cursor (or catching up from the given timetoken).
    pub fn subscribe(&mut self, sub: Subscribe, now: Instant) -> Result<(), CommandError> {
        require_names(&sub.channels, &sub.groups)?;
        let count = self
            .set
            .len_after_add(&sub.channels, &sub.groups, sub.with_presence);
        if count > self.config.max_subscribed_names {
            return Err(CommandError::TooManyChannels {
                count,
                max: self.config.max_subscribed_names,
            });
        }
        let before = self.set.presence_free();
        let changed = self.set.add(&sub.channels, &sub.groups, sub.with_presence);
        let input = match sub.timetoken {
            Some(tt) => Input::SubscriptionRestored(tt),
            None if changed => Input::SubscriptionChanged,
            None => return Ok(()),
        };
        self.feed(input, now);
        if self.set.presence_free() != before {
            self.feed_presence(presence::Input::Joined, now);
        }
        Ok(())
    }

    /// Unsubscribes from channels and groups, sending `leave` for them unless suppressed.
    /// Removing the last name is the same as [`Core::unsubscribe_all`].
    pub fn unsubscribe(
        &mut self,
        channels: &[Channel],
        groups: &[ChannelGroup],
        now: Instant,
    ) -> Result<(), CommandError> {
        require_names(channels, groups)?;
        let before = self.set.len();
        let removed = self.set.remove(channels, groups);
        if self.set.len() == before {
            return Ok(());
        }
        for name in removed
            .channels
            .iter()
            .map(Channel::as_str)
            .chain(removed.groups.iter().map(ChannelGroup::as_str))
        {
            self.states.remove(name);
        }
        self.left(removed, now);
        if self.set.is_empty() {
            self.feed(Input::UnsubscribeAll, now);
        } else {
            self.feed(Input::SubscriptionChanged, now);
        }
        Ok(())
    }

    /// Leaves everything, stops the subscription and resets the cursor to `tt=0`.
    pub fn unsubscribe_all(&mut self, now: Instant) {
        let removed = self.set.clear();
        self.states.clear();
        self.left(removed, now);
        self.feed(Input::UnsubscribeAll, now);
    }

    /// Stops receiving without leaving; [`Core::reconnect`] resumes from the same cursor.
    pub fn disconnect(&mut self, now: Instant) {
        self.feed_presence(presence::Input::Disconnect, now);
        self.feed(Input::Disconnect, now);
    }

    /// Resumes a stopped or failed subscription from its cursor (or from `timetoken`), so
    /// nothing published meanwhile is missed.
    pub fn reconnect(&mut self, timetoken: Option<Timetoken>, now: Instant) {
        self.feed(Input::Reconnect(timetoken), now);
        self.feed_presence(presence::Input::Reconnect, now);
    }

    /// Leaves everything and cancels every request and queued publish: the end of a session.
    pub fn close(&mut self, now: Instant) {
        self.unsubscribe_all(now);
        let pending: Vec<(RequestId, OperationId, Operation)> = self
            .in_flight
            .iter()
            .filter_map(|(id, f)| match &f.purpose {
                Purpose::Operation(op, p) => Some((*id, *op, p.operation())),
                _ => None,
            })
            .collect();
        for (id, op, operation) in pending {
            self.cancel(id);
            self.finish(op, operation, Err(Error::Cancelled));
        }
        let queued = self
            .reliable
            .as_mut()
            .map(Reliable::drain)
            .unwrap_or_default();
        for op in queued {
            self.finish(op, Operation::Publish, Err(Error::Cancelled));
        }
        let rest: Vec<(RequestId, bool)> = self
            .in_flight
            .iter()
            .map(|(id, f)| (*id, matches!(f.purpose, Purpose::Leave)))
            .collect();
        for (id, is_leave) in rest {
            if !is_leave {
                self.cancel(id);
            }
        }
    }

    fn leave(&mut self, channels: &[Channel], groups: &[ChannelGroup], now: Instant) {
        if self.config.suppress_leave_events || (channels.is_empty() && groups.is_empty()) {
            return;
        }
        let e = endpoints::presence_action(&self.config.subscribe_key, channels, groups, "leave");
        self.send(e, Purpose::Leave, now);
    }

    /// Names left the subscription: through the heartbeat engine when heartbeats are on (it
    /// sends the leave), directly otherwise.
    fn left(&mut self, removed: Removed, now: Instant) {
        let send_leave = !self.config.suppress_leave_events && !removed.is_empty();
        if self.config.heartbeat_every().is_some() {
            let remaining = !self.set.presence_free().is_empty();
            self.heartbeats.leaving = removed;
            self.feed_presence(
                presence::Input::Left {
                    remaining,
                    send_leave,
                },
                now,
            );
        } else if send_leave {
            self.leave(&removed.channels, &removed.groups, now);
        }
    }

    fn feed(&mut self, input: Input, now: Instant) {
        let invocations = self.machine.handle(
            input,
            &self.config.retry_policy,
            &mut self.rng,
            &mut self.transcript,
        );
        for inv in invocations {
            self.invoke(inv, now);
        }
    }

    fn invoke(&mut self, inv: Invocation, now: Instant) {
        match inv {
            Invocation::Handshake => self.send_subscribe(true, now),
            Invocation::ReceiveMessages => self.send_subscribe(false, now),
            Invocation::CancelHandshake
            | Invocation::CancelReceiveMessages
            | Invocation::CancelHandshakeReconnect
            | Invocation::CancelReceiveReconnect => {
                self.retry_at = None;
                if let Some(id) = self.subscribe_request.take() {
                    self.cancel(id);
                }
            }
            Invocation::HandshakeReconnect | Invocation::ReceiveReconnect => {
                let delay = match self.machine.state() {
                    State::HandshakeReconnecting(r) | State::ReceiveReconnecting(r) => r.delay,
                    _ => None,
                };
                match delay {
                    Some(d) => self.retry_at = Some(now + d),
                    None => self.feed(Input::GiveUp, now),
                }
            }
            Invocation::EmitStatus(category, error, recovery) => {
                self.status(category, Operation::Subscribe, error, recovery)
            }
            Invocation::EmitMessages(messages) => self.emit_messages(messages),
        }
    }

    fn send_subscribe(&mut self, handshake: bool, now: Instant) {
        let groups: Vec<ChannelGroup> = self.set.groups().cloned().collect();
        let mut e = endpoints::subscribe(&self.config.subscribe_key, self.set.channels(), &groups);
        let cursor = self.machine.cursor();
        if handshake || cursor.is_start() {
            e = e.param("tt", "0");
            if !self.states.is_empty() {
                e = e.param("state", self.state_json());
            }
        } else {
            e = e.param("tt", cursor.timetoken.to_string());
            e = e.param_opt("tr", cursor.region.map(|r| r.0.to_string()));
        }
        e = e
            .param_opt("filter-expr", self.config.filter_expression.clone())
            .param_opt(
                "heartbeat",
                self.config.presence_timeout.map(|t| t.to_string()),
            );
        self.subscribe_request = Some(self.send(e, Purpose::Subscribe, now));
    }

    fn state_json(&self) -> String {
        let mut s = String::from("{");
        for (i, (name, state)) in self.states.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push_str(&serde_json::to_string(name).unwrap_or_default());
            s.push(':');
            s.push_str(state);
        }
        s.push('}');
        s
    }

    fn emit_messages(&mut self, messages: Vec<Message>) {
        for m in messages {
            let tt = m.timetoken.0.to_le_bytes();
            let key = fingerprint(&[
                &tt,
                m.channel.as_str().as_bytes(),
                m.payload.get().as_bytes(),
            ]);
            if self.dedupe.insert(key) {
                self.events.push_back(Event::Message(m));
            }
        }
    }

    // ----- presence -----

    fn feed_presence(&mut self, input: presence::Input, now: Instant) {
        let Some(interval) = self.config.heartbeat_every() else {
            return;
        };
        let invocations = self.heartbeats.machine.handle(
            input,
            &self.config.retry_policy,
            &mut self.rng,
            &mut self.transcript,
        );
        for inv in invocations {
            match inv {
                presence::Invocation::Heartbeat => self.send_heartbeat(now),
                presence::Invocation::Wait => self.heartbeats.timer = Some(now + interval),
                presence::Invocation::CancelWait | presence::Invocation::CancelDelayedHeartbeat => {
                    self.heartbeats.timer = None
                }
                presence::Invocation::DelayedHeartbeat => {
                    match self.heartbeats.machine.retry_delay() {
                        Some(delay) => self.heartbeats.timer = Some(now + delay),
                        None => self.feed_presence(presence::Input::GiveUp, now),
                    }
                }
                presence::Invocation::Leave => {
                    let leaving = std::mem::take(&mut self.heartbeats.leaving);
                    self.leave(&leaving.channels, &leaving.groups, now);
                }
            }
        }
    }

    fn send_heartbeat(&mut self, now: Instant) {
        if let Some(id) = self.heartbeats.in_flight.take() {
            self.cancel(id);
        }
        let names = self.set.presence_free();
        let mut e = endpoints::presence_action(
            &self.config.subscribe_key,
            &names.channels,
            &names.groups,
            "heartbeat",
        )
        .param(
            "heartbeat",
            self.config.effective_presence_timeout().to_string(),
        );
        if !self.states.is_empty() {
            e = e.param("state", self.state_json());
        }
        self.heartbeats.in_flight = Some(self.send(e, Purpose::Heartbeat, now));
    }

    fn heartbeat_done(&mut self, result: Result<(), Error>, now: Instant) {
        self.heartbeats.in_flight = None;
        match result {
            Ok(()) => self.feed_presence(presence::Input::HeartbeatSuccess, now),
            Err(e) => {
                let first = *self.heartbeats.machine.state() == presence::State::Heartbeating;
                self.feed_presence(presence::Input::HeartbeatFailure(e.clone()), now);
                let recovery = match self.heartbeats.machine.state() {
                    presence::State::Reconnecting {
                        attempt,
                        delay: Some(delay),
                    } => Recovery::Retrying {
                        attempt: *attempt,
                        delay: *delay,
                    },
                    _ => Recovery::GaveUp,
                };
                if first || recovery == Recovery::GaveUp {
                    self.status(e.category(), Operation::Heartbeat, Some(e), recovery);
                }
            }
        }
    }

    /// Sets this user's presence state on channels and groups; kept and re-sent with
    /// handshakes and heartbeats while subscribed.
    pub fn set_state(
        &mut self,
        channels: &[Channel],
        groups: &[ChannelGroup],
        state_json: &str,
        now: Instant,
    ) -> Result<OperationId, CommandError> {
        require_names(channels, groups)?;
        let state = check_object(state_json, "state")?;
        for name in channels
            .iter()
            .map(Channel::as_str)
            .chain(groups.iter().map(ChannelGroup::as_str))
        {
            self.states.insert(name.to_owned(), state.clone());
        }
        let uuid = self.config.user_id.clone();
        let e = endpoints::state(&self.config.subscribe_key, channels, groups, &uuid, true)
            .param("state", state);
        Ok(self.operation(e, Pending::SetState, now))
    }

    /// Reads a user's (default: this user's) presence state on channels and groups.
    pub fn get_state(
        &mut self,
        channels: &[Channel],
        groups: &[ChannelGroup],
        uuid: Option<&str>,
        now: Instant,
    ) -> Result<OperationId, CommandError> {
        require_names(channels, groups)?;
        let uuid = uuid.unwrap_or(&self.config.user_id).to_owned();
        validate_uuid(&uuid)?;
        let e = endpoints::state(&self.config.subscribe_key, channels, groups, &uuid, false)
            .param("uuid", uuid);
        Ok(self.operation(e, Pending::GetState(channels.to_vec()), now))
    }

    /// Asks who is on channels and groups (all of the keyset when none are given).
    pub fn here_now(&mut self, q: HereNowQuery, now: Instant) -> Result<OperationId, CommandError> {
        let e = endpoints::here_now(&self.config.subscribe_key, &q.channels, &q.groups)
            .param_opt("disable_uuids", (!q.include_uuids).then_some("1"))
            .param_opt("state", q.include_state.then_some("1"));
        Ok(self.operation(e, Pending::HereNow(q.channels), now))
    }

    /// Asks which channels a user (default: this user) is on.
    pub fn where_now(
        &mut self,
        uuid: Option<&str>,
        now: Instant,
    ) -> Result<OperationId, CommandError> {
        let uuid = uuid.unwrap_or(&self.config.user_id).to_owned();
        validate_uuid(&uuid)?;
        let e = endpoints::where_now(&self.config.subscribe_key, &uuid);
        Ok(self.operation(e, Pending::WhereNow, now))
    }

    /// Asks the service for its time.
    pub fn time(&mut self, now: Instant) -> OperationId {
        self.operation(endpoints::time(), Pending::Time, now)
    }

    /// Adds channels to a channel group.
    pub fn add_channels_to_group(
        &mut self,
        group: &ChannelGroup,
        channels: &[Channel],
        now: Instant,
    ) -> Result<OperationId, CommandError> {
        self.change_group(group, channels, "add", Operation::AddChannelsToGroup, now)
    }

    /// Removes channels from a channel group.
    pub fn remove_channels_from_group(
        &mut self,
        group: &ChannelGroup,
        channels: &[Channel],
        now: Instant,
    ) -> Result<OperationId, CommandError> {
        self.change_group(
            group,
            channels,
            "remove",
            Operation::RemoveChannelsFromGroup,
            now,
        )
    }

    fn change_group(
        &mut self,
        group: &ChannelGroup,
        channels: &[Channel],
        change: &'static str,
        operation: Operation,
        now: Instant,
    ) -> Result<OperationId, CommandError> {
        require_names(channels, &[])?;
        let e = endpoints::channel_group(&self.config.subscribe_key, group, false);
        let e = endpoints::with_channel_list(e, change, channels);
        Ok(self.operation(e, Pending::Ack(operation), now))
    }

    /// Lists a channel group's channels.
    pub fn list_group_channels(&mut self, group: &ChannelGroup, now: Instant) -> OperationId {
        let e = endpoints::channel_group(&self.config.subscribe_key, group, false);
        self.operation(e, Pending::GroupChannels, now)
    }

    /// Deletes a channel group.
    pub fn delete_group(&mut self, group: &ChannelGroup, now: Instant) -> OperationId {
        let e = endpoints::channel_group(&self.config.subscribe_key, group, true);
        self.operation(e, Pending::Ack(Operation::DeleteGroup), now)
    }

    // ----- inputs -----

    /// Hands the core the answer (or transport failure) of request `id`. Answers to requests
    /// that were cancelled, or that the core no longer waits for, are ignored.
    pub fn handle_response(
        &mut self,
        id: RequestId,
        result: Result<Response, TransportError>,
        now: Instant,
    ) {
        let Some(flight) = self.in_flight.remove(&id) else {
            return;
        };
        self.complete(id, flight.purpose, result.map_err(Error::Transport), now);
    }

    fn complete(
        &mut self,
        id: RequestId,
        purpose: Purpose,
        result: Result<Response, Error>,
        now: Instant,
    ) {
        match purpose {
            Purpose::Subscribe => {
                if self.subscribe_request != Some(id) {
                    return;
                }
                self.subscribe_request = None;
                let handshake = matches!(
                    self.machine.state(),
                    State::Handshaking | State::HandshakeReconnecting(_)
                );
                let decoded = result.and_then(|r| decode::subscribe(&r));
                if let Ok(body) = &decoded
                    && let Some(first) = body.skipped.first()
                {
                    let error = first.clone();
                    self.status(
                        error.category(),
                        Operation::Subscribe,
                        Some(error),
                        Recovery::None,
                    );
                }
                let input = match (decoded, handshake) {
                    (Ok(body), true) => Input::HandshakeSuccess(body.cursor, body.messages),
                    (Ok(body), false) => Input::ReceiveSuccess(body.cursor, body.messages),
                    (Err(e), true) => Input::HandshakeFailure(e),
                    (Err(e), false) => Input::ReceiveFailure(e),
                };
                self.feed(input, now);
            }
            Purpose::Heartbeat => {
                if self.heartbeats.in_flight == Some(id) {
                    let r = result.and_then(|r| decode::ack(&r));
                    self.heartbeat_done(r, now);
                }
            }
            Purpose::Leave => {
                if let Err(e) = result.and_then(|r| decode::ack(&r)) {
                    self.status(
                        e.category(),
                        Operation::Unsubscribe,
                        Some(e),
                        Recovery::None,
                    );
                }
            }
            Purpose::Reliable(channel) => {
                let outcome = result.and_then(|r| decode::publish(&r));
                let Some(reliable) = &mut self.reliable else {
                    return;
                };
                if let Some(Verdict::Done(op)) =
                    reliable.finish(&channel, outcome.as_ref().map(|_| ()), now, &mut self.rng)
                {
                    self.finish(op, Operation::Publish, outcome.map(Outcome::Published));
                }
                self.pump_reliable(now);
            }
            Purpose::Operation(op, pending) => {
                let outcome = result.and_then(|r| pending.decode(&r));
                self.finish(op, pending.operation(), outcome);
            }
        }
    }

    fn finish(&mut self, id: OperationId, operation: Operation, outcome: Result<Outcome, Error>) {
        self.events.push_back(Event::Result(OperationResult {
            id,
            operation,
            outcome,
        }));
    }

    /// Advances timers to `now`: retries, heartbeats, rate-limited publishes, and requests whose
    /// transport never answered (reported as timeouts).
    pub fn handle_timeout(&mut self, now: Instant) {
        let overdue: Vec<RequestId> = self
            .in_flight
            .iter()
            .filter(|(_, f)| f.deadline.is_some_and(|d| d <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in overdue {
            if let Some(flight) = self.in_flight.remove(&id) {
                self.actions.push_back(TransportAction::Cancel(id));
                let err = Error::Transport(TransportError::new(
                    crate::request::TransportErrorKind::Timeout,
                    "the transport never answered",
                ));
                self.complete(id, flight.purpose, Err(err), now);
            }
        }
        if self.retry_at.is_some_and(|t| t <= now) {
            self.retry_at = None;
            match self.machine.state() {
                State::HandshakeReconnecting(_) => self.send_subscribe(true, now),
                State::ReceiveReconnecting(_) => self.send_subscribe(false, now),
                _ => {}
            }
        }
        if self.heartbeats.timer.is_some_and(|t| t <= now) {
            self.heartbeats.timer = None;
            match self.heartbeats.machine.state() {
                presence::State::Cooldown => self.feed_presence(presence::Input::TimesUp, now),
                presence::State::Reconnecting { .. } => self.send_heartbeat(now),
                _ => {}
            }
        }
        self.pump_reliable(now);
    }
}
