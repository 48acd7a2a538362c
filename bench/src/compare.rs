//! `pn-bench compare`: every client × workload in a process of its own, against one server,
//! repeated; medians and ratios as a Markdown table.

use std::collections::HashMap;
use std::process::Command;

use crate::Opts;
use crate::origin::origin;

/// The clients compared, as table rows: `pn` per transport, then the two references.
const CLIENTS: [&str; 5] = [
    "pn hyper",
    "pn async-std",
    "pn blocking",
    "official",
    "floor",
];
/// The workloads, as table row groups, with their default message counts.
const WORKLOADS: [(&str, u64); 3] = [("publish", 2000), ("subscribe", 20000), ("drain", 100_000)];

/// What one child process reported.
#[derive(Clone, Copy, Debug, Default)]
struct Sample {
    rate: f64,
    cpu_us: f64,
    peak_kib: f64,
}

/// Parses the `cpu:`, `peak memory:` and last lines that `pn bench` and the workers print.
fn parse(out: &str) -> Option<Sample> {
    let number_after = |line: &str, marker: &str| -> Option<f64> {
        let rest = &line[line.find(marker)? + marker.len()..];
        rest.split_whitespace()
            .next()?
            .trim_end_matches("/s")
            .parse()
            .ok()
    };
    let mut s = Sample::default();
    for line in out.lines() {
        if line.starts_with("cpu:") {
            s.cpu_us = number_after(line, " = ")?;
        } else if let Some(rest) = line.strip_prefix("peak memory:") {
            s.peak_kib = number_after(rest, "")?;
        }
    }
    s.rate = number_after(out.lines().last()?, " s = ")?;
    Some(s)
}

fn command(client: &str, workload: &str, count: u64, origin: &str, pn: &str) -> Command {
    let mut c;
    if let Some(transport) = client.strip_prefix("pn ") {
        c = Command::new(pn);
        c.args(["bench", workload, "--transport", transport]);
    } else {
        c = Command::new(std::env::current_exe().expect("own path"));
        c.args(["worker", client, workload]);
    }
    c.args(["--count", &count.to_string(), "--origin", origin]);
    c.env("NO_COLOR", "1");
    c
}

fn run_one(mut c: Command) -> Result<Sample, String> {
    let out = c.output().map_err(|e| format!("{c:?}: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "{c:?} failed: {}{}",
            stdout,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    parse(&stdout).ok_or_else(|| format!("{c:?}: unreadable output {stdout:?}"))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.retain(|x| x.is_finite());
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Runs the comparison.
pub fn run(o: &Opts) -> Result<(), String> {
    let runs = o.number("runs", 5)?;
    let chosen = o.text("workloads").unwrap_or("publish,subscribe,drain");
    if let Some(unknown) = chosen
        .split(',')
        .find(|c| !WORKLOADS.iter().any(|(w, _)| w == c))
    {
        return Err(format!(
            "--workloads: unknown {unknown:?} (publish, subscribe, drain)"
        ));
    }
    let mut workloads = Vec::new();
    for (workload, default) in WORKLOADS {
        if chosen.split(',').any(|w| w == workload) {
            workloads.push((workload, o.number(workload, default)?));
        }
    }
    let pn = o.text("pn").unwrap_or("target/release/pn");
    let (origin, server) = origin(o)?;
    eprintln!("load average before: {}", load());
    // Per client and workload, one sample per round, in round order.
    let mut samples: HashMap<(&str, &str), Vec<Sample>> = HashMap::new();
    for run in 1..=runs {
        for &(workload, count) in &workloads {
            for client in CLIENTS {
                let s = run_one(command(client, workload, count, &origin, pn))?;
                eprintln!(
                    "run {run}: {client:<12} {workload:<9} {:>9.0}/s {:>7.1} us/msg {:>7.0} KiB",
                    s.rate, s.cpu_us, s.peak_kib
                );
                samples.entry((client, workload)).or_default().push(s);
            }
        }
    }
    eprintln!("load average after: {}", load());
    let counts: Vec<String> = workloads.iter().map(|(w, n)| format!("{w} {n}")).collect();
    println!(
        "medians of {runs} rounds ({}); ratios are medians of each round's ratio\n",
        counts.join(", ")
    );
    println!(
        "| client | workload | msg/s | vs floor | vs official | CPU µs/msg | CPU vs floor | CPU vs official | peak RSS KiB |\n|---|---|---:|---:|---:|---:|---:|---:|---:|"
    );
    for &(workload, _) in &workloads {
        let of = |client: &'static str| -> &Vec<Sample> { &samples[&(client, workload)] };
        // The median over rounds of `f(this client's sample) / f(the reference's sample)`.
        let ratio = |client: &'static str, reference: &'static str, f: fn(&Sample) -> f64| {
            median(
                of(client)
                    .iter()
                    .zip(of(reference))
                    .map(|(s, r)| f(s) / f(r))
                    .collect(),
            )
        };
        let rate = |s: &Sample| s.rate;
        let cpu = |s: &Sample| s.cpu_us;
        for client in CLIENTS {
            let med = |f: fn(&Sample) -> f64| median(of(client).iter().map(f).collect());
            println!(
                "| {client} | {workload} | {:.0} | {:.2} | {:.2}× | {:.1} | {:.2}× | {:.2}× | {:.0} |",
                med(rate),
                ratio(client, "floor", rate),
                ratio(client, "official", rate),
                med(cpu),
                ratio(client, "floor", cpu),
                ratio(client, "official", cpu),
                med(|s| s.peak_kib),
            );
        }
    }
    if let Some(server) = server {
        server.shutdown();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_report_lines() {
        let s = parse(
            "cpu: 0.230 s = 115.0 us/message\npeak memory: 7912 KiB\npublish: 2000 in 0.326 s = 6141/s\n",
        )
        .unwrap();
        assert_eq!((s.rate, s.cpu_us, s.peak_kib), (6141.0, 115.0, 7912.0));
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
    }
}
