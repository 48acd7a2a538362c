//! `pn time`.

use crate::args::Global;
use crate::error::Result;
use crate::transport::{self, Client};

/// Prints the service's time as a timetoken.
pub fn run(g: &Global) -> Result<()> {
    let client = Client::connect(g.transport, transport::config(g)?)?;
    let result = client.time();
    client.close();
    println!("{}", result?);
    Ok(())
}
