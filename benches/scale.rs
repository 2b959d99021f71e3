//! The scale analysis (levels and Pearson correlates by area x theme,
//! `benches/peers/scale/scale.md`) on `coweave simulate --scale K` data, as
//! whole commands with time and peak memory, interleaved round by round
//! with the same analysis in pandas, polars (Python) and DuckDB
//! (`benches/peers/scale/`, checked equal to coweave's results there by
//! `compare_outputs.py`).
//!
//!     cargo bench --bench scale
//!
//! Environment: COWEAVE_BENCH_SCALES (comma-separated K, default 1,32,320:
//! about 3k, 100k and 1M respondents; 3200 is 10M), COWEAVE_BENCH_REPS
//! (default 3), COWEAVE_BENCH_PEERS=0 skips the peers. Writes
//! `benches/results/scale.csv`.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::*;

fn main() {
    let reps = env_or("COWEAVE_BENCH_REPS", 3).max(1);
    let scales: Vec<usize> = std::env::var("COWEAVE_BENCH_SCALES")
        .unwrap_or_else(|_| "1,32,320".into())
        .split(',')
        .filter_map(|k| k.trim().parse().ok())
        .collect();
    let peers_on = env_or("COWEAVE_BENCH_PEERS", 1) != 0;
    let root = root();
    let peers = root.join("benches/peers/scale");
    let codebook = peers.join("codebook.toml");
    let mut available: Vec<&str> = Vec::new();
    if peers_on {
        for (name, module) in [
            ("pandas", "pandas, scipy"),
            ("polars", "polars, scipy"),
            ("duckdb", "duckdb, scipy"),
        ] {
            if have("python3", &["-c", &format!("import {module}")]) {
                available.push(name);
            }
        }
    }
    let machine = machine();
    println!("{machine}; {reps} interleaved rounds per size; medians");
    let mut rows = vec![
        [
            "tool",
            "scale",
            "respondents",
            "rounds",
            "median_s",
            "min_s",
            "max_s",
            "peak_mib",
            "ratio_vs_coweave",
            "machine",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for k in scales {
        let work = tmp();
        let w = work.path();
        let data = w.join("data.csv");
        run(coweave().args(["simulate", "--scale", &k.to_string(), "--out", &s(&data)]));
        let respondents = std::fs::read(&data)
            .map(|b| b.iter().filter(|&&c| c == b'\n').count().saturating_sub(1))
            .unwrap_or(0);
        let make = |tool: &str, i: usize| -> Command {
            let out = w.join(format!("{tool}{i}"));
            if tool == "coweave" {
                let mut c = coweave();
                c.args([
                    "render",
                    &s(&peers.join("scale.md")),
                    "--data",
                    &s(&data),
                    "--codebook",
                    &s(&codebook),
                    "--to",
                    "json",
                    "--no-cache",
                    "--out",
                    &s(&out),
                ]);
                c
            } else {
                let mut c = Command::new("python3");
                c.args([
                    s(&peers.join(format!("scale_{tool}.py"))),
                    s(&data),
                    s(&codebook),
                    s(&out),
                ]);
                c
            }
        };
        let tools: Vec<&str> = std::iter::once("coweave")
            .chain(available.iter().copied())
            .collect();
        let mut runs: BTreeMap<&str, Vec<Run>> = BTreeMap::new();
        for i in 0..reps {
            for tool in &tools {
                runs.entry(tool).or_default().push(run(&mut make(tool, i)));
            }
        }
        for tool in &tools {
            let r = &runs[tool];
            let secs: Vec<f64> = r.iter().map(|r| r.secs).collect();
            let ratio = median(
                r.iter()
                    .zip(&runs["coweave"])
                    .map(|(p, c)| p.secs / c.secs)
                    .collect(),
            );
            let (med, min, max) = (
                median(secs.clone()),
                secs.iter().copied().fold(f64::INFINITY, f64::min),
                secs.iter().copied().fold(0.0, f64::max),
            );
            let peak = median(r.iter().map(|r| r.peak_mib).collect());
            println!(
                "scale {k:>5} ({respondents:>9} respondents) {tool:<8} {med:>8.2} s (min {min:.2}, max {max:.2})  peak {peak:>7.0} MiB  {ratio:.2}x coweave's time",
            );
            rows.push(vec![
                tool.to_string(),
                k.to_string(),
                respondents.to_string(),
                reps.to_string(),
                format!("{med:.3}"),
                format!("{min:.3}"),
                format!("{max:.3}"),
                format!("{peak:.0}"),
                format!("{ratio:.3}"),
                machine.clone(),
            ]);
        }
    }
    let path = write_results("scale", &rows);
    println!("written: {}", path.display());
}
