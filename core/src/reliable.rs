//! Reliable publishing: per channel, one publish in flight at a time, in order, each retried per
//! policy before the next goes out, at an optional maximum rate, from a bounded queue.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::channel::Channel;
use crate::config::{DuplicatePolicy, ReliablePublish};
use crate::error::{CommandError, Error};
use crate::event::OperationId;
use crate::publish::Publish;
use crate::rng::Rng;

#[derive(Debug)]
struct Current {
    op: OperationId,
    publish: Publish,
    attempt: u32,
    /// Waiting to be retried at this instant; `None` while in flight.
    retry_at: Option<Instant>,
}

#[derive(Debug, Default)]
struct ChannelQueue {
    waiting: VecDeque<(OperationId, Publish)>,
    current: Option<Current>,
    next_allowed: Option<Instant>,
}

/// The reliable-publish queues of every channel.
#[derive(Debug)]
pub struct Reliable {
    settings: ReliablePublish,
    queues: HashMap<Channel, ChannelQueue>,
}

/// What to do with a finished attempt.
#[derive(Debug)]
pub enum Verdict {
    /// The publish is done (success or final failure): report it.
    Done(OperationId),
    /// It will be retried after the returned delay.
    Retry(Duration),
}

impl Reliable {
    /// Queues with these settings.
    pub fn new(settings: ReliablePublish) -> Reliable {
        Reliable {
            settings,
            queues: HashMap::new(),
        }
    }

    /// Queues a publish; fails if the channel's queue is full.
    pub fn enqueue(&mut self, op: OperationId, publish: Publish) -> Result<(), CommandError> {
        let capacity = self.settings.queue_capacity;
        let q = self.queues.entry(publish.channel.clone()).or_default();
        let queued = q.waiting.len() + usize::from(q.current.is_some());
        if queued >= capacity {
            return Err(CommandError::QueueFull {
                channel: publish.channel,
                capacity,
            });
        }
        q.waiting.push_back((op, publish));
        Ok(())
    }

    /// The publishes to send now (first attempts and due retries), marked in flight.
    pub fn due(&mut self, now: Instant) -> Vec<(OperationId, Publish)> {
        let mut out = Vec::new();
        for q in self.queues.values_mut() {
            match &mut q.current {
                Some(c) => {
                    if c.retry_at.is_some_and(|t| t <= now) {
                        c.retry_at = None;
                        out.push((c.op, c.publish.clone()));
                    }
                }
                None => {
                    if q.next_allowed.is_some_and(|t| t > now) {
                        continue;
                    }
                    if let Some((op, publish)) = q.waiting.pop_front() {
                        out.push((op, publish.clone()));
                        q.current = Some(Current {
                            op,
                            publish,
                            attempt: 0,
                            retry_at: None,
                        });
                    }
                }
            }
        }
        self.queues.retain(|_, q| {
            q.current.is_some() || !q.waiting.is_empty() || q.next_allowed.is_some_and(|t| t > now)
        });
        out
    }

    /// Records the outcome of the in-flight publish on `channel`.
    pub fn finish(
        &mut self,
        channel: &Channel,
        outcome: Result<(), &Error>,
        now: Instant,
        rng: &mut Rng,
    ) -> Option<Verdict> {
        let q = self.queues.get_mut(channel)?;
        let c = q.current.as_mut()?;
        if let Err(e) = outcome {
            let may_duplicate = !e.request_not_processed();
            let allowed = e.is_retriable()
                && (!may_duplicate || self.settings.duplicates == DuplicatePolicy::Accept);
            let retry_after = match e {
                Error::Api { retry_after, .. } => *retry_after,
                _ => None,
            };
            if allowed
                && let Some(delay) = self.settings.retry.delay(c.attempt + 1, retry_after, rng)
            {
                c.attempt += 1;
                c.retry_at = Some(now + delay);
                return Some(Verdict::Retry(delay));
            }
        }
        let op = c.op;
        q.current = None;
        q.next_allowed = self
            .settings
            .max_per_second
            .map(|r| now + Duration::from_secs(1) / r);
        Some(Verdict::Done(op))
    }

    /// Cancels everything: the operations whose results must be reported as cancelled.
    pub fn drain(&mut self) -> Vec<OperationId> {
        let mut ops = Vec::new();
        for (_, q) in self.queues.drain() {
            ops.extend(q.current.map(|c| c.op));
            ops.extend(q.waiting.into_iter().map(|(op, _)| op));
        }
        ops
    }

    /// The next instant something becomes due.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.queues
            .values()
            .filter_map(|q| match &q.current {
                Some(c) => c.retry_at,
                None if !q.waiting.is_empty() => q.next_allowed,
                None => None,
            })
            .min()
    }
}
