//! One module per command.

pub mod bench;
pub mod chaos;
pub mod demo;
pub mod presence;
pub mod publish;
pub mod replay;
pub mod serve;
pub mod subscribe;
pub mod time;
