//! The driver task: owns the [`Core`], carries out its transport actions and timers, and routes
//! its events to the waiting operations and the listeners.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_channel::{mpsc, oneshot};
use futures_core::Stream;
use pn_core::{
    ClientError, CommandError, Core, Error, Event, OperationId, Outcome, Request, RequestId,
    RequestKind, Response, TransportAction, TransportError, TransportErrorKind,
};

use crate::listener::Listeners;
use crate::runtime::{BoxFuture, Runtime, TaskCounter};

/// Starts an operation on the core; the result arrives later as an `Event::Result`.
pub(crate) type StartFn =
    Box<dyn FnOnce(&mut Core, Instant) -> Result<OperationId, CommandError> + Send>;

/// Runs something on the core right away (it replies through a channel it captured).
pub(crate) type CallFn = Box<dyn FnOnce(&mut Core, Instant) + Send>;

/// The reply to an operation.
pub(crate) type Reply = oneshot::Sender<Result<Outcome, ClientError>>;

/// What client handles ask the driver.
pub(crate) enum Command {
    /// Start an operation and reply with its outcome.
    Operation(StartFn, Reply),
    /// Run a closure on the core.
    Call(CallFn),
    /// Leave everything, wait (bounded) for the leaves, and stop; reply when stopped.
    Close(oneshot::Sender<()>),
}

type Completion = (RequestId, Result<Response, TransportError>);

/// The message of the error a request gets when its timeout passes.
pub(crate) const TIMED_OUT: &str = "no complete answer within the request timeout";

/// A request being sent by a task of its own.
struct InFlight {
    /// Dropping it cancels the task.
    _cancel: oneshot::Sender<()>,
    /// When the request times out.
    deadline: Instant,
}

struct Closing {
    deadline: Instant,
    waiters: Vec<oneshot::Sender<()>>,
}

/// The driver future; runs until closed or until every client handle is gone.
pub(crate) struct Driver<R: Runtime> {
    core: Core,
    runtime: R,
    tasks: TaskCounter,
    commands: mpsc::UnboundedReceiver<Command>,
    done_tx: mpsc::UnboundedSender<Completion>,
    done_rx: mpsc::UnboundedReceiver<Completion>,
    in_flight: HashMap<RequestId, InFlight>,
    /// A long-poll held back until every listener has room for its answer.
    parked: Option<Request>,
    waiting: HashMap<OperationId, Reply>,
    listeners: Arc<Listeners>,
    /// One timer for every deadline; it may fire early (see [`Driver::arm`]).
    timer: Option<(Instant, BoxFuture<'static, ()>)>,
    closing: Option<Closing>,
}

impl<R: Runtime> Driver<R> {
    pub(crate) fn new(
        core: Core,
        runtime: R,
        tasks: TaskCounter,
        commands: mpsc::UnboundedReceiver<Command>,
        listeners: Arc<Listeners>,
    ) -> Driver<R> {
        let (done_tx, done_rx) = mpsc::unbounded();
        Driver {
            core,
            runtime,
            tasks,
            commands,
            done_tx,
            done_rx,
            in_flight: HashMap::new(),
            parked: None,
            waiting: HashMap::new(),
            listeners,
            timer: None,
            closing: None,
        }
    }

    fn command(&mut self, command: Command) {
        let now = Instant::now();
        match command {
            Command::Operation(_, reply) if self.closing.is_some() => {
                let _ = reply.send(Err(ClientError::Closed));
            }
            // Dropping the closure drops its reply channel: the caller sees `Closed`.
            Command::Call(_) if self.closing.is_some() => {}
            Command::Operation(start, reply) => match start(&mut self.core, now) {
                Ok(id) => {
                    self.waiting.insert(id, reply);
                }
                Err(e) => {
                    let _ = reply.send(Err(ClientError::Command(e)));
                }
            },
            Command::Call(call) => call(&mut self.core, now),
            Command::Close(waiter) => match &mut self.closing {
                Some(closing) => closing.waiters.push(waiter),
                None => {
                    self.core.close(now);
                    let deadline = now + self.core.config().request_timeout;
                    self.closing = Some(Closing {
                        deadline,
                        waiters: vec![waiter],
                    });
                }
            },
        }
        self.flush();
    }

    /// Drains the core's events and transport actions. Events go first, so that a long-poll
    /// is sent only once the listeners hold the answer before it (see [`Driver::send`]).
    fn flush(&mut self) {
        loop {
            let mut any = false;
            while let Some(event) = self.core.poll_event() {
                any = true;
                self.deliver(event);
            }
            while let Some(action) = self.core.poll_transmit() {
                any = true;
                match action {
                    TransportAction::Send(request) => self.send(request),
                    TransportAction::Cancel(id) => {
                        if self.parked.as_ref().is_some_and(|r| r.id == id) {
                            self.parked = None;
                        }
                        self.in_flight.remove(&id);
                    }
                }
            }
            if !any {
                break;
            }
        }
    }

    fn deliver(&mut self, event: Event) {
        match event {
            Event::Result(result) => {
                if let Some(reply) = self.waiting.remove(&result.id) {
                    let outcome = result.outcome.map_err(|e| match e {
                        Error::Cancelled if self.closing.is_some() => ClientError::Closed,
                        e => ClientError::Failed(e),
                    });
                    let _ = reply.send(outcome);
                }
            }
            event => self.listeners.deliver(event),
        }
    }

    /// Sends `request`, unless it is a long-poll whose answer a listener has no room for yet.
    fn send(&mut self, request: Request) {
        if request.kind == RequestKind::LongPoll && !self.listeners.has_room() {
            // Held back as long as it takes: the core's watchdog must not count that time.
            self.core.hold(request.id);
            self.parked = Some(request);
        } else {
            self.start(request);
        }
    }

    /// Spawns the task that sends `request` and reports back; its timeout is the driver's.
    fn start(&mut self, request: Request) {
        let (cancel, cancelled) = oneshot::channel::<()>();
        let id = request.id;
        let deadline = Instant::now() + request.timeout;
        self.in_flight.insert(
            id,
            InFlight {
                _cancel: cancel,
                deadline,
            },
        );
        let send = self.runtime.send(self.core.origin(), request);
        let done = self.done_tx.clone();
        let task = self.tasks.track(async move {
            if let Some(result) = unless_cancelled(cancelled, send).await {
                let _ = done.unbounded_send((id, result));
            }
        });
        self.runtime.spawn(task);
    }

    /// Cancels the requests whose timeout passed and tells the core they timed out.
    fn expire(&mut self, now: Instant) {
        let overdue: Vec<RequestId> = self
            .in_flight
            .iter()
            .filter(|(_, f)| f.deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in overdue {
            self.in_flight.remove(&id);
            let timeout = TransportError::new(TransportErrorKind::Timeout, TIMED_OUT);
            self.core.handle_response(id, Err(timeout), now);
        }
    }

    fn finished_closing(&self, now: Instant) -> bool {
        self.closing
            .as_ref()
            .is_some_and(|c| self.core.in_flight() == 0 || now >= c.deadline)
    }

    /// The earliest of the core's deadline, the requests' timeouts and the closing deadline.
    fn next_deadline(&self) -> Option<Instant> {
        let closing = self.closing.as_ref().map(|c| c.deadline);
        let requests = self.in_flight.values().map(|f| f.deadline).min();
        [self.core.poll_timeout(), closing, requests]
            .into_iter()
            .flatten()
            .min()
    }

    /// Makes sure the timer fires no later than the next deadline.
    ///
    /// A timer set for an earlier deadline is kept even when that deadline is gone (the request
    /// answered, say): firing early costs one look at the clock, while re-arming on every
    /// request costs a timer registration and, on most runtimes, a wake-up of their reactor.
    fn arm(&mut self) {
        let Some(next) = self.next_deadline() else {
            return;
        };
        if self.timer.as_ref().is_none_or(|(at, _)| next < *at) {
            self.timer = Some((next, self.runtime.sleep_until(next)));
        }
    }
}

/// Waits for the answer, unless cancelled first (`None`).
async fn unless_cancelled(
    mut cancel: oneshot::Receiver<()>,
    mut send: BoxFuture<'static, Result<Response, TransportError>>,
) -> Option<Result<Response, TransportError>> {
    std::future::poll_fn(move |cx| {
        if Pin::new(&mut cancel).poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        send.as_mut().poll(cx).map(Some)
    })
    .await
}

impl<R: Runtime> Future for Driver<R> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            while let Poll::Ready(Some((id, result))) = Pin::new(&mut this.done_rx).poll_next(cx) {
                if this.in_flight.remove(&id).is_some() {
                    this.core.handle_response(id, result, Instant::now());
                    this.flush();
                }
            }
            loop {
                match Pin::new(&mut this.commands).poll_next(cx) {
                    Poll::Ready(Some(command)) => this.command(command),
                    // Every client handle is gone: stop without waiting.
                    Poll::Ready(None) => return Poll::Ready(()),
                    Poll::Pending => break,
                }
            }
            if this.finished_closing(Instant::now()) {
                return Poll::Ready(());
            }
            // Polled after everything that may park a long-poll, so its waker is registered.
            if this.parked.is_some()
                && this.listeners.poll_room(cx).is_ready()
                && let Some(request) = this.parked.take()
            {
                if this.core.release(request.id, Instant::now()) {
                    this.start(request);
                } else {
                    // Replaced (re-signed) or dropped: the core says what to send.
                    this.flush();
                }
            }
            this.arm();
            let Some((deadline, sleep)) = &mut this.timer else {
                return Poll::Pending;
            };
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            // Trust the timer even if the clock reads a hair earlier than the deadline.
            let now = Instant::now().max(*deadline);
            this.timer = None;
            this.expire(now);
            this.core.handle_timeout(now);
            this.flush();
            if this.finished_closing(now) {
                return Poll::Ready(());
            }
        }
    }
}

impl<R: Runtime> Drop for Driver<R> {
    fn drop(&mut self) {
        // In-flight request tasks end as their cancel senders drop; waiting operations see their
        // reply channels close (`Closed`); listeners end after their buffered events.
        self.listeners.close();
        if let Some(closing) = self.closing.take() {
            for waiter in closing.waiters {
                let _ = waiter.send(());
            }
        }
    }
}
