//! The driver thread: owns the [`Core`], feeds it commands and answers, carries out its
//! transport actions and routes its events, then sleeps until its next deadline.

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, SyncSender};
use std::time::Instant;

use pn_core::{
    Channel, ChannelGroup, ClientError, CommandError, Core, Error, Event, HereNowQuery,
    OperationId, Outcome, Publish, Request, RequestId, RequestKind, Response, Subscribe, Timetoken,
    TransportAction, TransportError,
};

use crate::listener::Registry;
use crate::pool::{LongPoller, WorkerPool};

/// Where a command's outcome goes.
pub(crate) type Reply = SyncSender<Result<Outcome, ClientError>>;

/// One input for the driver.
pub(crate) enum Msg {
    /// A user command and where its outcome goes.
    Command(Command, Reply),
    /// The answer to a request, from an I/O thread.
    Completion(RequestId, Result<Response, TransportError>),
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

/// The state of the driver thread.
pub(crate) struct Driver {
    pub core: Core,
    pub rx: Receiver<Msg>,
    pub workers: WorkerPool,
    pub long_poll: LongPoller,
    pub registry: Registry,
    pub waiters: HashMap<OperationId, Reply>,
    /// Set once closing: the latest time to stop waiting for the leave answers.
    pub closing: Option<Instant>,
    pub close_replies: Vec<Sender<()>>,
}

impl Driver {
    /// Runs until closed, then stops the I/O threads it owns.
    pub fn run(mut self) {
        loop {
            self.drain();
            if let Some(deadline) = self.closing
                && (self.core.in_flight() == 0 || Instant::now() >= deadline)
            {
                break;
            }
            let now = Instant::now();
            let deadline = [self.core.poll_timeout(), self.closing]
                .into_iter()
                .flatten()
                .min();
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
            match msg {
                None => self.core.handle_timeout(now),
                Some(m) => self.handle(m, now),
            }
        }
        self.stop();
    }

    fn handle(&mut self, msg: Msg, now: Instant) {
        match msg {
            Msg::Command(cmd, reply) => {
                if self.closing.is_some() {
                    let _ = reply.send(Err(ClientError::Closed));
                } else {
                    self.command(cmd, reply, now);
                }
            }
            Msg::Completion(id, result) => {
                self.long_poll.finished(id);
                self.core.handle_response(id, result, now);
            }
            Msg::Close(reply) => {
                if self.closing.is_none() {
                    self.closing = Some(now + self.core.config().request_timeout);
                    self.core.close(now);
                }
                self.close_replies.extend(reply);
            }
        }
    }

    fn command(&mut self, cmd: Command, reply: Reply, now: Instant) {
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
        match started {
            Ok(Some(op)) => {
                self.waiters.insert(op, reply);
            }
            Ok(None) => {
                let _ = reply.send(Ok(Outcome::Done));
            }
            Err(e) => {
                let _ = reply.send(Err(ClientError::Command(e)));
            }
        }
    }

    /// Carries out every transport action and routes every event, in order.
    fn drain(&mut self) {
        loop {
            let mut progressed = false;
            while let Some(action) = self.core.poll_transmit() {
                progressed = true;
                match action {
                    TransportAction::Send(r) => self.send(r),
                    TransportAction::Cancel(id) => self.long_poll.cancel(id),
                }
            }
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
            if !progressed {
                break;
            }
        }
    }

    fn send(&mut self, request: Request) {
        match request.kind {
            RequestKind::LongPoll => self.long_poll.send(request),
            RequestKind::Regular => self.workers.send(request),
        }
    }

    /// Stops the I/O threads (aborting what they still send), fails the operations still
    /// waiting, ends the listeners and tells `close` callers.
    fn stop(&mut self) {
        self.workers.shutdown();
        self.long_poll.shutdown();
        for (_, w) in self.waiters.drain() {
            let _ = w.send(Err(ClientError::Closed));
        }
        self.registry.close();
        for r in self.close_replies.drain(..) {
            let _ = r.send(());
        }
    }
}
