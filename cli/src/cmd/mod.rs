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

use pn_devserver::{DevServer, Options};

use crate::error::{Failure, Result};

/// A dev server with `options` on a free loopback port, for the commands that embed one.
pub fn local_server(options: Options) -> Result<DevServer> {
    DevServer::start(([127, 0, 0, 1], 0).into(), options)
        .map_err(|e| Failure::failed(format!("cannot start the dev server: {e}")))
}
