//! Where the workloads run: the `--origin` given, or a dev server started for the run.

use pn_devserver::{DevServer, Options};

use crate::Opts;

/// The `--origin` to run against, or, without one, a dev server's origin (with the firehose
/// on [`crate::FIREHOSE`]) together with that server (shut it down once the run is over).
pub fn origin(o: &Opts) -> Result<(String, Option<DevServer>), String> {
    let server = match o.text("origin") {
        Some(_) => None,
        None => Some(
            DevServer::start(
                ([127, 0, 0, 1], 0).into(),
                Options {
                    firehose: Some(crate::FIREHOSE.into()),
                    ..Options::default()
                },
            )
            .map_err(|e| format!("dev server: {e}"))?,
        ),
    };
    let origin = o
        .text("origin")
        .map(str::to_owned)
        .or_else(|| server.as_ref().map(DevServer::origin))
        .unwrap_or_default();
    Ok((origin, server))
}
