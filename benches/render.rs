//! Whole-command render times, as a user waits for them (process start-up
//! included), interleaved run by run with the same briefing in the tools
//! people use today (`benches/peers/briefing/`: pandas + statsmodels +
//! matplotlib, the notebook through papermill and `jupyter nbconvert
//! --execute`, R Markdown), each present peer run in the same rounds.
//!
//!     cargo bench --bench render
//!
//! Scenarios (release build, `--no-cache` unless said):
//! - `briefing-html`, `briefing-html-pdf`: the Bristol council briefing;
//! - `appendix-html-json-pdf`: the replication appendix (which quotes it);
//! - `all`: every report in `reports/`, every area, HTML+PDF+JSON (the
//!   README's first command without the cache), and `all-cached`: the same
//!   again with nothing changed (cache primed before the rounds);
//! - `briefing-100x-html` and the peers on `simulate --scale 100` data.
//!
//! Prints medians, and each peer's time over coweave's for the same work,
//! pair by pair within a round (the median of those ratios); writes
//! `benches/results/render.csv`. Environment: COWEAVE_BENCH_REPS (default
//! 5), COWEAVE_BENCH_BIG (the scale of the big survey, default 100; 0 skips
//! it), COWEAVE_BENCH_PEERS=0 skips the peers.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::*;

/// `coweave render ARGS… --out OUT`, run from the repository root.
fn render_cmd(root: &std::path::Path, args: &[&str], out: &std::path::Path) -> Command {
    let mut c = coweave();
    c.current_dir(root)
        .arg("render")
        .args(args)
        .args(["--out", &s(out)]);
    c
}

fn main() {
    let reps = env_or("COWEAVE_BENCH_REPS", 5).max(1);
    let big_scale = env_or("COWEAVE_BENCH_BIG", 100);
    let peers_on = env_or("COWEAVE_BENCH_PEERS", 1) != 0;
    let root = root();
    let work = tmp();
    let w = work.path();
    let data = root.join("data/survey.csv");
    let codebook = root.join("data/codebook.toml");
    let peers = root.join("benches/peers/briefing");

    let big = w.join("big.csv");
    if big_scale > 0 {
        run(coweave().args([
            "simulate",
            "--scale",
            &big_scale.to_string(),
            "--out",
            &s(&big),
        ]));
    }

    // (name, command maker, what it is compared with)
    type Make = Box<dyn Fn(usize) -> Command>;
    let mut scenarios: Vec<(&str, Make, Option<&str>)> = Vec::new();
    let briefing = |to: &'static str, data: Option<std::path::PathBuf>| -> Make {
        let (root, w) = (root.clone(), w.to_path_buf());
        Box::new(move |i| {
            let mut c = render_cmd(
                &root,
                &[
                    "reports/council-briefing.md",
                    "-p",
                    "area=Bristol",
                    "--to",
                    to,
                    "--no-cache",
                ],
                &w.join(format!("b{i}")),
            );
            if let Some(d) = &data {
                c.args(["--data", &s(d)]);
            }
            c
        })
    };
    scenarios.push(("briefing-html", briefing("html", None), None));
    {
        // the replication appendix quotes this one as its expected run time
        let (root, w) = (root.clone(), w.to_path_buf());
        scenarios.push((
            "appendix-html-json-pdf",
            Box::new(move |i| {
                render_cmd(
                    &root,
                    &[
                        "reports/replication-appendix.md",
                        "--to",
                        "html,json,pdf",
                        "--no-cache",
                    ],
                    &w.join(format!("app{i}")),
                )
            }),
            None,
        ));
    }
    scenarios.push(("briefing-html-pdf", briefing("html,pdf", None), None));
    {
        let (root, w) = (root.clone(), w.to_path_buf());
        scenarios.push((
            "all",
            Box::new(move |i| {
                render_cmd(
                    &root,
                    &["--each", "area", "--to", "html,pdf,json", "--no-cache"],
                    &w.join(format!("all{i}")),
                )
            }),
            None,
        ));
    }
    let cached_out = w.join("cached");
    let all_cached = {
        let (root, out) = (root.clone(), cached_out.clone());
        move |_: usize| render_cmd(&root, &["--each", "area", "--to", "html,pdf,json"], &out)
    };
    run(&mut all_cached(0)); // prime the cache
    scenarios.push(("all-cached", Box::new(all_cached), None));
    if big_scale > 0 {
        scenarios.push((
            "briefing-100x-html",
            briefing("html", Some(big.clone())),
            None,
        ));
    }

    let python_peers = peers_on
        && have(
            "python3",
            &["-c", "import pandas, scipy, statsmodels, matplotlib"],
        );
    let pandas = |data: std::path::PathBuf| -> Make {
        let (peers, w, codebook) = (peers.clone(), w.to_path_buf(), codebook.clone());
        Box::new(move |i| {
            let mut c = Command::new("python3");
            c.args([
                s(&peers.join("briefing_pandas.py")),
                "Bristol".into(),
                s(&data),
                s(&codebook),
                s(&w.join(format!("pandas{i}"))),
            ]);
            c
        })
    };
    let rmarkdown = |data: std::path::PathBuf| -> Make {
        let (peers, w, codebook) = (peers.clone(), w.to_path_buf(), codebook.clone());
        Box::new(move |i| {
            let out = s(&w.join(format!("rmd{i}")));
            let mut c = Command::new("Rscript");
            c.current_dir(&peers).args([
                "-e".to_string(),
                format!(
                    "rmarkdown::render('briefing.Rmd', params = list(area = 'Bristol', data = '{}', codebook = '{}', outdir = '{out}'), output_dir = '{out}', intermediates_dir = tempdir(), quiet = TRUE)",
                    s(&data),
                    s(&codebook)
                ),
            ]);
            c
        })
    };
    if python_peers {
        scenarios.push(("peer-pandas", pandas(data.clone()), Some("briefing-html")));
        if have("papermill", &["--version"]) {
            let (peers, w, data, codebook) = (
                peers.clone(),
                w.to_path_buf(),
                data.clone(),
                codebook.clone(),
            );
            scenarios.push((
                "peer-papermill",
                Box::new(move |i| {
                    let out = w.join(format!("pm{i}"));
                    let mut c = Command::new("papermill");
                    c.current_dir(&peers).args([
                        "briefing.ipynb".into(),
                        s(&out.join("out.ipynb")),
                        "-p".into(),
                        "area".into(),
                        "Bristol".into(),
                        "-p".into(),
                        "data".into(),
                        s(&data),
                        "-p".into(),
                        "codebook".into(),
                        s(&codebook),
                        "-p".into(),
                        "outdir".into(),
                        s(&out),
                    ]);
                    let _ = std::fs::create_dir_all(&out);
                    c
                }),
                Some("briefing-html"),
            ));
        }
        if have("jupyter", &["nbconvert", "--version"]) {
            let (peers, w, data, codebook) = (
                peers.clone(),
                w.to_path_buf(),
                data.clone(),
                codebook.clone(),
            );
            scenarios.push((
                "peer-nbconvert",
                Box::new(move |i| {
                    let out = w.join(format!("nb{i}"));
                    let mut c = Command::new("jupyter");
                    c.current_dir(&peers)
                        .env("BRIEFING_AREA", "Bristol")
                        .env("BRIEFING_DATA", s(&data))
                        .env("BRIEFING_CODEBOOK", s(&codebook))
                        .env("BRIEFING_OUTDIR", s(&out))
                        .args([
                            "nbconvert".into(),
                            "--to".into(),
                            "html".into(),
                            "--execute".into(),
                            "briefing.ipynb".into(),
                            "--output-dir".into(),
                            s(&out),
                            "--output".into(),
                            "notebook".into(),
                        ]);
                    c
                }),
                Some("briefing-html"),
            ));
        }
        if big_scale > 0 {
            scenarios.push((
                "peer-pandas-100x",
                pandas(big.clone()),
                Some("briefing-100x-html"),
            ));
        }
    }
    if peers_on && have("Rscript", &["-e", "library(rmarkdown); library(RcppTOML)"]) {
        scenarios.push((
            "peer-rmarkdown",
            rmarkdown(data.clone()),
            Some("briefing-html"),
        ));
        if big_scale > 0 {
            scenarios.push((
                "peer-rmarkdown-100x",
                rmarkdown(big.clone()),
                Some("briefing-100x-html"),
            ));
        }
    }

    // one warm-up round, then interleaved rounds
    for (_, make, _) in &scenarios {
        run(&mut make(usize::MAX));
    }
    let mut runs: BTreeMap<&str, Vec<Run>> = BTreeMap::new();
    for i in 0..reps {
        for (name, make, _) in &scenarios {
            runs.entry(name).or_default().push(run(&mut make(i)));
        }
    }

    let machine = machine();
    println!("{machine}; {reps} interleaved rounds after one warm-up; medians");
    let mut rows = vec![
        [
            "scenario",
            "rounds",
            "median_s",
            "min_s",
            "max_s",
            "peak_mib",
            "vs",
            "ratio_vs_median",
            "machine",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for (name, _, vs) in &scenarios {
        let r = &runs[name];
        let secs: Vec<f64> = r.iter().map(|r| r.secs).collect();
        let peak = median(r.iter().map(|r| r.peak_mib).collect());
        let ratio = vs.map(|v| {
            median(
                r.iter()
                    .zip(&runs[v])
                    .map(|(p, c)| p.secs / c.secs)
                    .collect(),
            )
        });
        let (med, min, max) = (
            median(secs.clone()),
            secs.iter().copied().fold(f64::INFINITY, f64::min),
            secs.iter().copied().fold(0.0, f64::max),
        );
        println!(
            "{name:<22} {:>8.3} s (min {min:.3}, max {max:.3})  peak {peak:>6.0} MiB{}",
            med,
            ratio.map_or(String::new(), |x| format!(
                "  {x:.1}x coweave's {}",
                vs.unwrap_or_default()
            ))
        );
        rows.push(vec![
            name.to_string(),
            reps.to_string(),
            format!("{med:.4}"),
            format!("{min:.4}"),
            format!("{max:.4}"),
            format!("{peak:.0}"),
            vs.unwrap_or_default().to_string(),
            ratio.map_or(String::new(), |x| format!("{x:.2}")),
            machine.clone(),
        ]);
    }
    let path = write_results("render", &rows);
    println!("written: {}", path.display());
}
