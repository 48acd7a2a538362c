//! The session every thread shares (the [`Core`] behind a mutex) and the driver thread, which
//! owns none of the work but the clock: it fires the core's deadlines, takes the answers of the
//! I/O threads and closes the session.
//!
//! A caller's own request (a publish, a here_now…) never crosses a thread: the caller starts the
//! operation on the core, sends the request itself, hands the answer to the core and finds its
//! outcome waiting. Requests that serve no caller (long-polls, heartbeats, leaves, queued
//! publishes) go to the I/O threads.

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Instant;

use pn_core::{
    Channel, ChannelGroup, ClientError, CommandError, Core, Error, Event, HereNowQuery,
    OperationId, Outcome, Publish, Request, RequestId, RequestKind, Response, Subscribe, Timetoken,
    TransportAction, TransportError,
};

use crate::listener::Registry;
use crate::pool::{LongPoller, WorkerPool, join};

/// Where a command's outcome goes.
pub(crate) type Reply = SyncSender<Result<Outcome, ClientError>>;

/// One input for the driver thread.
pub(crate) enum Msg {
    /// The answer to a request, from an I/O thread.
    Completion(RequestId, Result<Response, TransportError>),
    /// A caller moved the next deadline earlier than the driver planned to look.
    Wake,
    /// Leave, wait for the leave answers (bounded by the request timeout), stop every thread,
    /// then signal on the sender if one is given.
    Close(Option<Sender<()>>),
}

/// A user command, as the core takes it.
pub(crate) enum Command {
    Publish(Publish),
    Subscribe(Subscribe),
    Unsubscribe(Vec<Channel>, Vec<ChannelGroup>),
    UnsubscribeAll,
    Disconnect,
    Reconnect(Option<Timetoken>),
    SetState {
        channels: Vec<Channel>,
        groups: Vec<ChannelGroup>,
        state: String,
    },
    GetState {
        channels: Vec<Channel>,
        groups: Vec<ChannelGroup>,
        uuid: Option<String>,
    },
    HereNow(HereNowQuery),
    WhereNow(Option<String>),
    Time,
    AddChannelsToGroup(ChannelGroup, Vec<Channel>),
    RemoveChannelsFromGroup(ChannelGroup, Vec<Channel>),
    ListGroupChannels(ChannelGroup),
    DeleteGroup(ChannelGroup),
}

/// What every thread of a client shares, behind [`Shared`]'s mutex.
pub(crate) struct Session {
    pub core: Core,
    pub workers: WorkerPool,
    pub long_poll: LongPoller,
    pub registry: Registry,
    pub waiters: HashMap<OperationId, Reply>,
    /// Set once closing: the latest time to stop waiting for the leave answers.
    pub closing: Option<Instant>,
    pub close_replies: Vec<Sender<()>>,
    /// When the driver thread looks at the core next on its own (`None`: only when told).
    pub driver_looks_at: Option<Instant>,
    /// A long-poll held back until every listener has caught up (see [`crate::Listener`]).
    pub parked: Option<Request>,
    /// Tells the driver thread things.
    pub driver: Sender<Msg>,
}

/// The session, shared by the driver thread, the I/O threads and every caller.
#[derive(Clone)]
pub(crate) struct Shared(Arc<Mutex<Session>>);

impl Shared {
    /// Shares `session`.
    pub fn new(session: Session) -> Shared {
        Shared(Arc::new(Mutex::new(session)))
    }

    /// The session, locked (a panic elsewhere leaves it usable: the core never panics halfway).
    pub fn lock(&self) -> MutexGuard<'_, Session> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Session {
    /// Starts `cmd` for a caller and routes what the core has to do. Returns the requests that
    /// serve the caller's operation, for the caller to send itself; the outcome goes to
    /// `reply` (right away if the command needs no answer from the service).
    pub fn command(&mut self, cmd: Command, reply: Reply, now: Instant) -> Vec<Request> {
        if self.closing.is_some() {
            let _ = reply.send(Err(ClientError::Closed));
            return Vec::new();
        }
        let core = &mut self.core;
        let started: Result<Option<OperationId>, CommandError> = match cmd {
            Command::Publish(p) => core.publish(p, now).map(Some),
            Command::Subscribe(s) => core.subscribe(s, now).map(|()| None),
            Command::Unsubscribe(c, g) => core.unsubscribe(&c, &g, now).map(|()| None),
            Command::UnsubscribeAll => {
                core.unsubscribe_all(now);
                Ok(None)
            }
            Command::Disconnect => {
                core.disconnect(now);
                Ok(None)
            }
            Command::Reconnect(tt) => {
                core.reconnect(tt, now);
                Ok(None)
            }
            Command::SetState {
                channels,
                groups,
                state,
            } => core.set_state(&channels, &groups, &state, now).map(Some),
            Command::GetState {
                channels,
                groups,
                uuid,
            } => core
                .get_state(&channels, &groups, uuid.as_deref(), now)
                .map(Some),
            Command::HereNow(q) => core.here_now(q, now).map(Some),
            Command::WhereNow(uuid) => core.where_now(uuid.as_deref(), now).map(Some),
            Command::Time => Ok(Some(core.time(now))),
            Command::AddChannelsToGroup(g, c) => core.add_channels_to_group(&g, &c, now).map(Some),
            Command::RemoveChannelsFromGroup(g, c) => {
                core.remove_channels_from_group(&g, &c, now).map(Some)
            }
            Command::ListGroupChannels(g) => Ok(Some(core.list_group_channels(&g, now))),
            Command::DeleteGroup(g) => Ok(Some(core.delete_group(&g, now))),
        };
        let own = match started {
            Ok(Some(op)) => {
                self.waiters.insert(op, reply);
                Some(op)
            }
            Ok(None) => {
                let _ = reply.send(Ok(Outcome::Done));
                None
            }
            Err(e) => {
                let _ = reply.send(Err(ClientError::Command(e)));
                None
            }
        };
        let mine = self.drain(own);
        self.wake_driver_if_late();
        mine
    }

    /// Hands the answer to request `id` to the core and routes what follows.
    pub fn complete(
        &mut self,
        id: RequestId,
        result: Result<Response, TransportError>,
        now: Instant,
    ) {
        self.long_poll.finished(id);
        self.core.handle_response(id, result, now);
        self.drain(None);
        if self.closing.is_some() {
            // The driver thread waits for the last answer of a closing session.
            let _ = self.driver.send(Msg::Wake);
        } else {
            self.wake_driver_if_late();
        }
    }

    /// Routes every event, then carries out every transport action, in order (events first, so
    /// that a long-poll is held back when the answer before it filled a listener). Regular
    /// requests serving operation `own` are returned instead of sent.
    fn drain(&mut self, own: Option<OperationId>) -> Vec<Request> {
        let mut mine = Vec::new();
        loop {
            let mut progressed = false;
            while let Some(event) = self.core.poll_event() {
                progressed = true;
                match event {
                    Event::Result(r) => {
                        if let Some(w) = self.waiters.remove(&r.id) {
                            let closing = self.closing.is_some();
                            let _ = w.send(r.outcome.map_err(|e| match e {
                                Error::Cancelled if closing => ClientError::Closed,
                                e => ClientError::Failed(e),
                            }));
                        }
                    }
                    other => self.registry.publish(&other),
                }
            }
            while let Some(action) = self.core.poll_transmit() {
                progressed = true;
                match action {
                    TransportAction::Send(r) => match r.kind {
                        RequestKind::Regular
                            if own.is_some() && self.core.operation_of(r.id) == own =>
                        {
                            mine.push(r);
                        }
                        RequestKind::Regular => self.workers.send(r),
                        RequestKind::LongPoll if self.registry.has_room() => self.long_poll.send(r),
                        RequestKind::LongPoll => {
                            // Held back as long as it takes: not the core's watchdog's business.
                            self.core.hold(r.id);
                            self.parked = Some(r);
                        }
                    },
                    TransportAction::Cancel(id)
                        if self.parked.as_ref().is_some_and(|r| r.id == id) =>
                    {
                        self.parked = None;
                    }
                    TransportAction::Cancel(id) => self.long_poll.cancel(id),
                }
            }
            if !progressed {
                return mine;
            }
        }
    }

    /// Sends the held-back long-poll once every listener has caught up.
    fn release(&mut self) {
        if self.parked.is_some()
            && self.registry.has_room()
            && let Some(request) = self.parked.take()
        {
            if self.core.release(request.id, Instant::now()) {
                self.long_poll.send(request);
            } else {
                // Replaced (re-signed) or dropped: the core says what to send.
                self.drain(None);
            }
        }
    }

    /// The earliest of the core's deadline and the closing deadline.
    fn next_deadline(&self) -> Option<Instant> {
        [self.core.poll_timeout(), self.closing]
            .into_iter()
            .flatten()
            .min()
    }

    /// Wakes the driver thread if the next deadline comes before it planned to look. It is
    /// not woken for a later one: looking early costs one spurious pass, waking it on every
    /// request a thread switch.
    fn wake_driver_if_late(&mut self) {
        let Some(next) = self.next_deadline() else {
            return;
        };
        if self.driver_looks_at.is_none_or(|at| next < at) {
            self.driver_looks_at = Some(next);
            let _ = self.driver.send(Msg::Wake);
        }
    }

    fn handle(&mut self, msg: Msg, now: Instant) {
        match msg {
            Msg::Completion(id, result) => self.complete(id, result, now),
            Msg::Wake => {}
            Msg::Close(reply) => {
                if self.closing.is_none() {
                    self.closing = Some(now + self.core.config().request_timeout);
                    self.core.close(now);
                    self.drain(None);
                }
                self.close_replies.extend(reply);
            }
        }
    }

    fn finished_closing(&self, now: Instant) -> bool {
        self.closing
            .is_some_and(|deadline| self.core.in_flight() == 0 || now >= deadline)
    }

    /// Tells the I/O threads to stop (aborting what they still send), fails the operations
    /// still waiting and ends the listeners. Returns the threads to join and the `close` callers
    /// to tell, for after the session's lock is let go: a thread stuck in a connect must not
    /// keep callers from getting `Closed`.
    fn stop(&mut self) -> (Vec<JoinHandle<()>>, Vec<Sender<()>>) {
        let mut threads = self.workers.stop();
        threads.extend(self.long_poll.stop());
        for (_, w) in self.waiters.drain() {
            let _ = w.send(Err(ClientError::Closed));
        }
        self.registry.close();
        (threads, std::mem::take(&mut self.close_replies))
    }
}

/// The driver thread: fires deadlines, takes the I/O threads' answers, closes the session.
pub(crate) struct Driver {
    pub shared: Shared,
    pub rx: Receiver<Msg>,
}

impl Driver {
    /// Runs until closed, then stops the I/O threads.
    pub fn run(self) {
        loop {
            let deadline = {
                let mut s = self.shared.lock();
                if s.finished_closing(Instant::now()) {
                    break;
                }
                let deadline = s.next_deadline();
                s.driver_looks_at = deadline;
                deadline
            };
            let now = Instant::now();
            let msg = match deadline {
                Some(d) if d <= now => None,
                Some(d) => match self.rx.recv_timeout(d - now) {
                    Ok(m) => Some(m),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => break,
                },
                None => match self.rx.recv() {
                    Ok(m) => Some(m),
                    Err(_) => break,
                },
            };
            let now = Instant::now();
            let mut s = self.shared.lock();
            match msg {
                None => {
                    s.core.handle_timeout(now);
                    s.drain(None);
                }
                Some(m) => s.handle(m, now),
            }
            s.release();
        }
        let (threads, closers) = self.shared.lock().stop();
        join(threads);
        for closer in closers {
            let _ = closer.send(());
        }
    }
}
