//! The CSV + codebook loader: any bytes, read as an export of the bundled
//! survey (data/codebook.toml), give a survey with its measures or located
//! problems, never a panic.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use coweave::survey::Survey;
use coweave::survey::codebook::Codebook;
use libfuzzer_sys::fuzz_target;

fn codebook() -> &'static Codebook {
    static CODEBOOK: OnceLock<Codebook> = OnceLock::new();
    CODEBOOK.get_or_init(|| {
        let text = include_str!("../../data/codebook.toml");
        Codebook::parse(Path::new("codebook.toml"), text).expect("the bundled codebook")
    })
}

fuzz_target!(|data: &[u8]| {
    match Survey::from_csv_bytes(Path::new("survey.csv"), data, codebook().clone()) {
        Ok(s) => {
            for w in &s.warnings {
                let _ = w.to_string();
            }
        }
        Err(d) => {
            let _ = d.to_string();
        }
    }
});
