//! Nothing lost: a render killed mid-way leaves the previous good outputs
//! byte for byte; a cache whose entries were truncated or overwritten with
//! garbage is recomputed, giving the same bytes; the input data is only
//! ever read.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn coweave() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_coweave"));
    c.env("SOURCE_DATE_EPOCH", "1700000000")
        .current_dir(root())
        .stdin(Stdio::null());
    c
}

fn render(out: &Path, extra: &[&str]) -> String {
    let o = coweave()
        .args(["render", "reports/first-look.md", "-p", "area=Bristol"])
        .args(["--to", "html,json,pdf", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{err}");
    err
}

/// Every visible file in `dir` with its bytes.
fn outputs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .filter(|(n, _)| !n.starts_with('.'))
        .collect();
    v.sort();
    v
}

#[test]
fn a_cache_with_broken_entries_is_recomputed_to_the_same_bytes() {
    let out = tempfile::tempdir().unwrap();
    render(out.path(), &[]);
    let good = outputs(out.path());
    assert_eq!(
        good.len(),
        3,
        "{:?}",
        good.iter().map(|g| &g.0).collect::<Vec<_>>()
    );
    // break every entry: halve some, fill the others with garbage
    let cache = out.path().join(".coweave-cache");
    let mut broken = 0;
    for (i, e) in std::fs::read_dir(&cache).unwrap().enumerate() {
        let p = e.unwrap().path();
        if !p.is_file() || p.file_name().is_some_and(|n| n == "index.json") {
            continue;
        }
        let bytes = std::fs::read(&p).unwrap();
        if i % 2 == 0 {
            std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
        } else {
            std::fs::write(&p, b"PAR1 not a parquet file or JSON {").unwrap();
        }
        broken += 1;
    }
    assert!(broken > 2, "only {broken} cache entries");
    let log = render(out.path(), &["-v"]);
    assert!(log.contains("ran ("), "nothing was recomputed: {log}");
    assert_eq!(outputs(out.path()), good);
    // and the index itself broken
    std::fs::write(cache.join("index.json"), b"{\"truncated").unwrap();
    render(out.path(), &[]);
    assert_eq!(outputs(out.path()), good);
}

#[cfg(target_os = "linux")]
#[test]
fn a_killed_render_leaves_the_previous_outputs_and_the_data_untouched() {
    let out = tempfile::tempdir().unwrap();
    render(out.path(), &[]);
    let good = outputs(out.path());

    // a render that takes a while: the same output from a bigger survey
    let big = out.path().join("big.csv");
    let o = coweave()
        .args(["simulate", "--scale", "20", "--out"])
        .arg(&big)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let data_before = std::fs::read(&big).unwrap();
    let codebook_before = std::fs::read(root().join("data/codebook.toml")).unwrap();

    let mut killed = 0;
    for stop_after_ticks in [20, 60] {
        let mut child = coweave()
            .args(["render", "reports/first-look.md", "-p", "area=Bristol"])
            .args(["--to", "html,json,pdf", "--no-cache", "--data"])
            .arg(&big)
            .arg("--out")
            .arg(out.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // wait until it has worked for a while (CPU time, from /proc), then
        // kill it without warning
        let stat = format!("/proc/{}/stat", child.id());
        loop {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            let ticks: u64 = std::fs::read_to_string(&stat)
                .ok()
                .and_then(|s| {
                    let after = s.rsplit(')').next()?.to_string();
                    let f: Vec<&str> = after.split_whitespace().collect();
                    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
                })
                .unwrap_or(0);
            if ticks >= stop_after_ticks {
                break;
            }
            std::thread::yield_now();
        }
        let finished = child.try_wait().unwrap().is_some();
        let _ = child.kill();
        let _ = child.wait();
        if !finished {
            killed += 1;
            assert_eq!(
                outputs(out.path())
                    .into_iter()
                    .filter(|(n, _)| n != "big.csv")
                    .collect::<Vec<_>>(),
                good,
                "killed after {stop_after_ticks} ticks: the previous outputs changed"
            );
        }
    }
    assert!(
        killed > 0,
        "every render finished before it could be killed"
    );
    assert_eq!(
        std::fs::read(&big).unwrap(),
        data_before,
        "the data was written to"
    );
    assert_eq!(
        std::fs::read(root().join("data/codebook.toml")).unwrap(),
        codebook_before
    );
}
