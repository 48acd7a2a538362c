//! `pn replay`: the decoder as a command (see `shared/conformance/README.md`).

use std::fs::File;
use std::io::{BufReader, BufWriter};

use crate::args::ReplayArgs;
use crate::error::{Failure, Result};

/// Reads conformance records from the file (or stdin for `-`) and prints one JSON line each.
pub fn run(a: ReplayArgs) -> Result<()> {
    let stdout = std::io::stdout().lock();
    let mut out = BufWriter::new(stdout);
    let result = if a.file.as_os_str() == "-" {
        pn_core::replay::replay(std::io::stdin().lock(), &mut out)
    } else {
        let file = File::open(&a.file)
            .map_err(|e| Failure::failed(format!("cannot open {}: {e}", a.file.display())))?;
        pn_core::replay::replay(BufReader::new(file), &mut out)
    };
    result.map_err(|e| Failure::failed(format!("replay: {e}")))?;
    std::io::Write::flush(&mut out)?;
    Ok(())
}
