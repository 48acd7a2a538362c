//! How the client's tasks are spawned: through the user's executor, or a built-in one.

use std::sync::{Arc, OnceLock};

use async_executor::Executor;
use pn_async_driver::BoxFuture;

/// Runs a task in the background: e.g. `|task| { async_std::task::spawn(task); }` or
/// `|task| smol::spawn(task).detach()`.
pub type Spawner = Arc<dyn Fn(BoxFuture<'static, ()>) + Send + Sync>;

/// The built-in executor: one background thread (`pn-async-std`) running an
/// [`async_executor::Executor`] under [`async_io::block_on`], started on first use and shared by
/// every client of the process that was given no spawner.
fn builtin() -> &'static Executor<'static> {
    static EXECUTOR: OnceLock<&'static Executor<'static>> = OnceLock::new();
    EXECUTOR.get_or_init(|| {
        let executor: &'static Executor<'static> = Box::leak(Box::new(Executor::new()));
        let started = std::thread::Builder::new()
            .name("pn-async-std".into())
            .spawn(move || async_io::block_on(executor.run(std::future::pending::<()>())));
        if let Err(e) = started {
            // Without the thread, tasks would never run; there is no caller to tell here.
            eprintln!("pn-async-std: could not start the executor thread: {e}");
        }
        executor
    })
}

/// Spawns on the built-in executor.
pub(crate) fn spawn_builtin(task: BoxFuture<'static, ()>) {
    builtin().spawn(task).detach();
}
