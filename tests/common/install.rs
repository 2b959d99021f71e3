//! Programs a few tests need besides cargo (Chromium, LibreOffice): taken
//! from an environment variable or the PATH; on a Debian or Ubuntu machine
//! where the tests run as root, installed with apt-get when missing;
//! elsewhere the test fails saying what to install.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

/// Tests run in parallel threads of one process; two of them installing at
/// once made the second apt-get fail on dpkg's lock (CI, 2026-12-06). One
/// install at a time here, and apt-get waits for a lock another process holds.
static INSTALLING: Mutex<()> = Mutex::new(());

/// The program: `env`, else the first of `names` on the PATH, else Debian's
/// `package`, installed now when this machine allows it. Panics naming
/// `purpose`, the package and `env` (which should point at `what`).
pub fn program(env: &str, names: &[&str], package: &str, purpose: &str, what: &str) -> PathBuf {
    if let Ok(p) = std::env::var(env) {
        return PathBuf::from(p);
    }
    let find = || {
        std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
                .find(|p| p.is_file())
        })
    };
    if let Some(p) = find() {
        return p;
    }
    // the lock is only an ordering: a test that panicked holding it leaves
    // nothing half-done that the next one cannot redo
    let _installing = INSTALLING.lock().unwrap_or_else(|e| e.into_inner());
    // the thread before this one may have installed it
    if let Some(p) = find() {
        return p;
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let apt = Path::new("/usr/bin/apt-get").exists();
    if root && apt {
        eprintln!("{purpose}: installing `{package}` with apt-get");
        let quiet = |args: &[&str]| {
            Command::new("apt-get")
                .args(["-o", "DPkg::Lock::Timeout=600"])
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive")
                .stdin(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        // Chromium is installed as before, with what Debian recommends (its
        // fonts); LibreOffice without (the recommendations bring Java)
        let mut install = vec!["install", "-y", "-q"];
        if package != "chromium" {
            install.push("--no-install-recommends");
        }
        install.push(package);
        if !quiet(&install) {
            quiet(&["update", "-q"]);
            quiet(&install);
        }
        if let Some(p) = find() {
            return p;
        }
    }
    panic!(
        "{purpose} and found none: install it (Debian/Ubuntu: `apt-get install {package}`) \
         or set {env} to {what}"
    );
}
