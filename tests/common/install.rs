//! Programs a few tests need besides cargo (Chromium, LibreOffice): taken
//! from an environment variable or the PATH; on a Debian or Ubuntu machine
//! where the tests run as root, installed with apt-get when missing;
//! elsewhere the test fails saying what to install.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let apt = Path::new("/usr/bin/apt-get").exists();
    if root && apt {
        eprintln!("{purpose}: installing `{package}` with apt-get");
        let quiet = |args: &[&str]| {
            Command::new("apt-get")
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
