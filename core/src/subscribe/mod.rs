//! The subscription: which names are subscribed, and the engine that keeps receiving them.

pub mod machine;
pub mod set;

pub use machine::{Input, Invocation, Machine, State};
pub use set::{Removed, SubscriptionSet};
