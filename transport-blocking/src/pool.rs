//! The I/O threads: a small pool for regular requests and one thread for the long-poll.
//!
//! ureq calls block, so cancellation works through [`ureq::Agent::shutdown`], which closes
//! every connection of an agent, the ones in use included: a blocked call returns at once.
//! The long-poll therefore gets an agent of its own, replaced after each cancel; regular
//! requests share one agent, shut down only when the client stops (a cancelled regular
//! request just runs to its own timeout and its answer is ignored by the core).

use std::io;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use pn_core::{Request, RequestId};
use ureq::Agent;

use crate::driver::Msg;
use crate::http::HttpSettings;
use crate::threads::ThreadGauge;

/// Waits for every thread of `threads` to end.
pub(crate) fn join(threads: Vec<JoinHandle<()>>) {
    for t in threads {
        let _ = t.join();
    }
}

/// Runs one request and reports its answer to the driver.
fn run(settings: &HttpSettings, agent: &Agent, request: &Request, done: &Sender<Msg>) {
    let result = settings.execute(agent, request);
    // The driver is gone only once the client stopped; nobody wants the answer then.
    let _ = done.send(Msg::Completion(request.id, result));
}

/// Threads sending regular (short) requests through one shared agent.
pub(crate) struct WorkerPool {
    jobs: Option<Sender<Request>>,
    agent: Agent,
    handles: Vec<JoinHandle<()>>,
}

impl WorkerPool {
    /// Starts `threads` workers.
    pub fn start(
        threads: usize,
        settings: Arc<HttpSettings>,
        done: Sender<Msg>,
        gauge: &ThreadGauge,
    ) -> io::Result<WorkerPool> {
        let (tx, rx) = mpsc::channel::<Request>();
        let rx = Arc::new(Mutex::new(rx));
        let agent = settings.agent();
        let mut pool = WorkerPool {
            jobs: Some(tx),
            agent: agent.clone(),
            handles: Vec::new(),
        };
        for i in 0..threads.max(1) {
            let (rx, agent, settings, done) =
                (rx.clone(), agent.clone(), settings.clone(), done.clone());
            let spawned = gauge.spawn(&format!("pn-blocking-worker-{i}"), move || {
                loop {
                    let job = rx.lock().unwrap_or_else(PoisonError::into_inner).recv();
                    let Ok(request) = job else { break };
                    run(&settings, &agent, &request, &done);
                }
            });
            match spawned {
                Ok(h) => pool.handles.push(h),
                Err(e) => {
                    pool.shutdown();
                    return Err(e);
                }
            }
        }
        Ok(pool)
    }

    /// The agent the workers share (a shutdown aborts its requests too).
    pub fn agent(&self) -> Agent {
        self.agent.clone()
    }

    /// Queues a request for the next free worker.
    pub fn send(&self, request: Request) {
        if let Some(jobs) = &self.jobs {
            // Fails only if every worker is gone, which happens only at shutdown.
            let _ = jobs.send(request);
        }
    }

    /// Aborts every request in flight, lets the queue drain (each queued request fails at
    /// once on the shut-down agent) and joins the workers.
    pub fn shutdown(&mut self) {
        join(self.stop());
    }

    /// Like [`WorkerPool::shutdown`], but returns the threads to join instead of joining them.
    pub fn stop(&mut self) -> Vec<JoinHandle<()>> {
        self.jobs = None;
        self.agent.clone().shutdown();
        self.handles.drain(..).collect()
    }
}

/// The thread sending subscribe long-polls, one at a time, each on the agent current when it
/// was queued.
pub(crate) struct LongPoller {
    jobs: Option<Sender<(Request, Agent)>>,
    settings: Arc<HttpSettings>,
    agent: Agent,
    current: Option<RequestId>,
    handle: Option<JoinHandle<()>>,
}

impl LongPoller {
    /// Starts the long-poll thread.
    pub fn start(
        settings: Arc<HttpSettings>,
        done: Sender<Msg>,
        gauge: &ThreadGauge,
    ) -> io::Result<LongPoller> {
        let (tx, rx): (_, Receiver<(Request, Agent)>) = mpsc::channel();
        let thread_settings = settings.clone();
        let handle = gauge.spawn("pn-blocking-long-poll", move || {
            while let Ok((request, agent)) = rx.recv() {
                run(&thread_settings, &agent, &request, &done);
            }
        })?;
        Ok(LongPoller {
            jobs: Some(tx),
            agent: settings.agent(),
            settings,
            current: None,
            handle: Some(handle),
        })
    }

    /// Queues a long-poll.
    pub fn send(&mut self, request: Request) {
        self.current = Some(request.id);
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send((request, self.agent.clone()));
        }
    }

    /// Aborts long-poll `id` if it is the one in flight: its connection is closed, so the
    /// thread is free for the next one at once. Other ids are not long-polls: nothing to do.
    pub fn cancel(&mut self, id: RequestId) {
        if self.current == Some(id) {
            self.current = None;
            let fresh = self.settings.agent();
            std::mem::replace(&mut self.agent, fresh).shutdown();
        }
    }

    /// Notes that request `id` got its answer.
    pub fn finished(&mut self, id: RequestId) {
        if self.current == Some(id) {
            self.current = None;
        }
    }

    /// Aborts the long-poll in flight and joins the thread.
    pub fn shutdown(&mut self) {
        join(self.stop());
    }

    /// Like [`LongPoller::shutdown`], but returns the thread to join instead of joining it.
    pub fn stop(&mut self) -> Vec<JoinHandle<()>> {
        self.jobs = None;
        self.agent.clone().shutdown();
        self.handle.take().into_iter().collect()
    }
}
