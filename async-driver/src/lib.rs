//! The runtime-agnostic async PubNub client, written once for every async adapter.
//!
//! An adapter (`pn-hyper` for tokio, `pn-async-std` for async-std and smol) implements
//! [`Runtime`]: send one HTTP request, sleep until an instant, spawn a task. This crate does the
//! rest: one driver task owns the [`pn_core::Core`] and follows its event-loop contract (after
//! every command, response and timeout, drain `poll_transmit` and `poll_event`, then wait for
//! `poll_timeout` or the next input). Each request runs in a task of its own, bounded by its
//! timeout and cancelled by dropping it when the core says `Cancel`. Operation results go back to
//! the future that started them; messages and statuses go to every [`Listener`].
//!
//! The protocol (URLs, retries, status categories, dedupe) lives in `pn-core`, not here.
#![forbid(unsafe_code)]

mod builder;
mod client;
mod driver;
mod io_error;
mod listener;
mod ops;
mod runtime;
#[cfg(feature = "test-support")]
pub mod scenarios;

pub use builder::ClientBuilder;
pub use client::Client;
pub use io_error::io_error_kind;
pub use listener::{DEFAULT_LISTENER_CAPACITY, Listener, WhenFull};
pub use ops::{HereNowBuilder, PublishBuilder};
pub use runtime::{BoxFuture, Runtime, TaskCounter, TaskGuard};

pub use pn_core;
