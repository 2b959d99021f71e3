//! What the benchmarks share: run a whole command as a process (the time a
//! user waits, start-up included), its wall time and the child's peak
//! memory (the kernel's own accounting, `wait4`); interleave commands so
//! that a drifting machine moves all of them alike; write the results as
//! CSV under `benches/results/`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// One run: wall seconds and peak resident memory in MiB.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub secs: f64,
    pub peak_mib: f64,
}

/// Runs `cmd` to its end (outputs discarded); panics with its stderr if it fails.
// the child is reaped by wait4 (which also gives its peak memory), not Child::wait
#[allow(clippy::zombie_processes)]
pub fn run(cmd: &mut Command) -> Run {
    use std::os::unix::process::ExitStatusExt;
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let start = Instant::now();
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let pid = child.id() as libc::pid_t;
    // stderr is read to its end before the child is reaped (no pipe stall)
    let mut stderr = child.stderr.unwrap();
    let mut err = String::new();
    let _ = std::io::Read::read_to_string(&mut stderr, &mut err);
    let mut status: libc::c_int = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our child; status and usage are valid for writes
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(r, pid, "wait4 failed for {cmd:?}");
    let status = std::process::ExitStatus::from_raw(status);
    assert!(status.success(), "{cmd:?} failed ({status}):\n{err}");
    Run {
        secs,
        peak_mib: usage.ru_maxrss as f64 / 1024.0,
    }
}

/// Median of the values.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The coweave binary cargo built for this benchmark.
pub fn coweave() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_coweave"));
    c.env("SOURCE_DATE_EPOCH", "1700000000");
    c
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// An environment variable as a number, else `default`.
pub fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Whether a program answers `--version` (peers are skipped when absent).
pub fn have(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The machine, for the results: cores, memory, kernel, and the date (UTC).
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<f64>().ok())
        })
        .map_or(0.0, |k| k / 1024.0 / 1024.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!(
        "{date}, {cores} cores, {mem:.0} GiB, Linux {}",
        kernel.trim()
    )
}

/// Writes `rows` (the first is the header) to `benches/results/NAME.csv`.
pub fn write_results(name: &str, rows: &[Vec<String>]) -> PathBuf {
    let dir = root().join("benches/results");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.csv"));
    let mut w = csv::Writer::from_path(&path).unwrap();
    for r in rows {
        w.write_record(r).unwrap();
    }
    w.flush().unwrap();
    path
}

/// A fresh temporary directory.
pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// `path` as a string argument.
pub fn s(path: &Path) -> String {
    path.display().to_string()
}
