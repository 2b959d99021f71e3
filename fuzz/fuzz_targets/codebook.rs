//! The codebook parser: any TOML text gives a codebook or located
//! problems, never a panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match coweave::survey::codebook::Codebook::parse(Path::new("codebook.toml"), text) {
        Ok(c) => {
            for w in &c.warnings {
                let _ = w.to_string();
            }
        }
        Err(d) => {
            let _ = d.to_string();
        }
    }
});
