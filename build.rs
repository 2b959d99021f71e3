//! The identity of this coweave build, for the block cache: a hash of every
//! source file, the bundled data and fonts, and Cargo.lock. A fix to the
//! code invalidates cached results even when the version number stays.

use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn main() {
    let mut all = Vec::new();
    for dir in ["src", "data", "fonts"] {
        println!("cargo:rerun-if-changed={dir}");
        files(Path::new(dir), &mut all);
    }
    for f in ["Cargo.lock", "Cargo.toml", "build.rs"] {
        println!("cargo:rerun-if-changed={f}");
        all.push(PathBuf::from(f));
    }
    all.sort();
    // FNV-1a, 2 x 64 bits with different offsets: an identity, not a defence
    let (mut a, mut b): (u64, u64) = (0xcbf2_9ce4_8422_2325, 0x6c62_272e_07bb_0142);
    let mut feed = |bytes: &[u8]| {
        for x in bytes {
            a = (a ^ u64::from(*x)).wrapping_mul(0x0000_0100_0000_01b3);
            b = (b ^ u64::from(*x)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for p in &all {
        feed(p.to_string_lossy().as_bytes());
        feed(&[0]);
        feed(&std::fs::read(p).unwrap_or_default());
        feed(&[0xff]);
    }
    println!("cargo:rustc-env=COWEAVE_BUILD_ID={a:016x}{b:016x}");
}
