//! CPU time and memory of this process and thread, read from `/proc` (Linux; zero elsewhere),
//! and the lines every benchmark prints. Shared with the comparison harness in `bench/`.

use std::time::Duration;

/// Clock ticks per second of `/proc/*/stat` times (`sysconf(_SC_CLK_TCK)`, 100 on Linux).
const TICKS_PER_SECOND: u64 = 100;

/// User + system CPU time from a `/proc/…/stat` file.
fn stat_cpu(path: &str) -> Duration {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Duration::ZERO;
    };
    // Fields after the command name (which may contain spaces) start at field 3 (`state`);
    // utime and stime are fields 14 and 15.
    let after_name = text.rsplit_once(')').map_or("", |(_, rest)| rest);
    let ticks: u64 = after_name
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND)
}

/// CPU time of the whole process so far (every thread, live or ended).
pub fn process_cpu() -> Duration {
    stat_cpu("/proc/self/stat")
}

/// CPU time of the calling thread so far.
pub fn thread_cpu() -> Duration {
    stat_cpu("/proc/thread-self/stat")
}

/// A `Vm…:` line of `/proc/self/status`, in KiB.
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Resident memory now, KiB.
#[allow(dead_code)] // used by the harness in `bench/` (soak mode)
pub fn rss_kib() -> u64 {
    status_kib("VmRSS:")
}

/// Peak resident memory of the process, KiB.
pub fn peak_rss_kib() -> u64 {
    status_kib("VmHWM:")
}

/// What one benchmark measured.
#[derive(Clone, Copy, Debug)]
pub struct Measured {
    /// Messages published or received.
    pub count: u64,
    /// Wall time of the measured loop.
    pub wall: Duration,
    /// CPU time of the client during the loop (the feeder's own time excluded).
    pub cpu: Duration,
}

impl Measured {
    /// Runs `work`, which handles `count` messages, and measures its wall time and the CPU
    /// time of the whole process meanwhile.
    pub fn of<E>(count: u64, work: impl FnOnce() -> Result<(), E>) -> Result<Measured, E> {
        let cpu = process_cpu();
        let start = std::time::Instant::now();
        work()?;
        Ok(Measured {
            count,
            wall: start.elapsed(),
            cpu: process_cpu().saturating_sub(cpu),
        })
    }

    /// The report: a `cpu:` line, a `peak memory:` line, then `{what}: N in S s = R/s` last.
    pub fn lines(&self, what: &str) -> String {
        let secs = self.wall.as_secs_f64();
        let per_message = self.cpu.as_secs_f64() * 1e6 / self.count.max(1) as f64;
        format!(
            "cpu: {:.3} s = {per_message:.1} us/message\npeak memory: {} KiB\n{what}: {} in {secs:.3} s = {:.0}/s",
            self.cpu.as_secs_f64(),
            peak_rss_kib(),
            self.count,
            self.count as f64 / secs.max(1e-9),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_readings_are_plausible() {
        if !std::path::Path::new("/proc/self/stat").exists() {
            return;
        }
        let rss = rss_kib();
        assert!(rss > 0);
        // The peak only grows, so read after the current value it is at least as large (other
        // tests run in this process and may grow the RSS between two reads).
        assert!(peak_rss_kib() >= rss);
        let spin = std::time::Instant::now();
        while spin.elapsed() < Duration::from_millis(30) {}
        let thread = thread_cpu();
        assert!(process_cpu() >= thread);
    }

    #[test]
    fn the_last_line_is_the_summary() {
        let m = Measured {
            count: 20,
            wall: Duration::from_millis(500),
            cpu: Duration::from_millis(10),
        };
        let text = m.lines("publish");
        assert_eq!(text.lines().last(), Some("publish: 20 in 0.500 s = 40/s"));
        assert!(
            text.starts_with("cpu: 0.010 s = 500.0 us/message\n"),
            "{text}"
        );
    }
}
