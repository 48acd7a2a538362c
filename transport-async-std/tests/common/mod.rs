//! Harnesses running the shared scenarios on async-std, on smol, and on the built-in executor.
// Each test binary uses some of the harnesses.
#![allow(dead_code)]

use std::time::Duration;

use pn_async_driver::scenarios::Harness;
use pn_async_driver::{BoxFuture, ClientBuilder};
use pn_async_std::{AsyncStdRuntime, Client, SpawnerExt};

/// Tasks spawned with `async_std::task::spawn`.
pub struct AsyncStd;

impl Harness for AsyncStd {
    type Runtime = AsyncStdRuntime;

    fn builder(&self) -> ClientBuilder<AsyncStdRuntime> {
        Client::builder().spawner(|task| {
            async_std::task::spawn(task);
        })
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(async_std::task::sleep(duration))
    }
}

/// Tasks spawned with `smol::spawn`.
pub struct Smol;

impl Harness for Smol {
    type Runtime = AsyncStdRuntime;

    fn builder(&self) -> ClientBuilder<AsyncStdRuntime> {
        Client::builder().spawner(|task| smol::spawn(task).detach())
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            smol::Timer::after(duration).await;
        })
    }
}

/// No spawner: the crate's built-in executor thread.
pub struct Builtin;

impl Harness for Builtin {
    type Runtime = AsyncStdRuntime;

    fn builder(&self) -> ClientBuilder<AsyncStdRuntime> {
        Client::builder()
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            async_io::Timer::after(duration).await;
        })
    }
}
