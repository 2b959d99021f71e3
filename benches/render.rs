//! Whole-report render time: each report in `reports/` on the bundled data
//! to HTML, JSON and PDF, without the block cache (the time a reader who
//! runs the documented command for the first time waits, after the build).
//! The replication appendix quotes this number as its expected run time.
//!
//!     cargo bench --bench render
//!
//! Environment: COWEAVE_BENCH_REPS (default 5; the median is reported).

use std::path::Path;
use std::time::Instant;

use coweave::pipeline::{Request, render};
use coweave::render::Format;

fn main() {
    let reps: usize = std::env::var("COWEAVE_BENCH_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
        .max(1);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (template, params) in [
        ("replication-appendix.md", vec![]),
        ("nudge-evaluation.md", vec![]),
        (
            "council-briefing.md",
            vec![("area".to_string(), "Bristol".to_string())],
        ),
    ] {
        let out = tempfile::tempdir().expect("a temporary directory");
        let req = Request {
            template: root.join("reports").join(template),
            params,
            formats: vec![Format::Html, Format::Json, Format::Pdf],
            out_dir: out.path().to_path_buf(),
            cache: false,
            data: Default::default(),
            exec: true,
        };
        let mut times: Vec<f64> = (0..reps)
            .map(|_| {
                let start = Instant::now();
                if let Err(e) = render(&req) {
                    panic!("{template} failed to render: {e:?}");
                }
                start.elapsed().as_secs_f64()
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!(
            "{template:<26} html+json+pdf, no cache: median {:.2} s (min {:.2}, max {:.2}, {reps} runs)",
            times[reps / 2],
            times[0],
            times[reps - 1]
        );
    }
}
