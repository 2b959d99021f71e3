//! Timing of the statistics core on ten million rows:
//! an 8 x 8 Pearson correlation matrix and an 8-regressor OLS with HC3
//! standard errors. The design (8 regressors + response, column-major) is
//! materialised once; both statistics stream over it.
//!
//!     cargo bench --bench stats
//!
//! Environment: COWEAVE_BENCH_ROWS (default 10_000_000), COWEAVE_BENCH_REPS
//! (default 3; the median is reported).

use std::hint::black_box;
use std::time::{Duration, Instant};

use coweave::stats::{CorrelationMethod, CovType, OlsOptions, correlation_matrix, ols};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// xorshift64* uniform in [0, 1)
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
    /// approximately normal (sum of 4 uniforms, centred and scaled)
    fn normal(&mut self) -> f64 {
        (self.next() + self.next() + self.next() + self.next() - 2.0) * 1.732_050_807_568_877_2
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time<T>(reps: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut times = Vec::with_capacity(reps);
    let mut last = None;
    for _ in 0..reps {
        let t = Instant::now();
        let out = black_box(f());
        times.push(t.elapsed());
        last = Some(out);
    }
    (median(times), last.expect("at least one repetition"))
}

fn main() {
    let n = env_usize("COWEAVE_BENCH_ROWS", 10_000_000);
    let reps = env_usize("COWEAVE_BENCH_REPS", 3).max(1);
    let k = 8;
    let t0 = Instant::now();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut x: Vec<Vec<f64>> = (0..k).map(|_| Vec::with_capacity(n)).collect();
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let common = rng.normal();
        let mut yi = 1.0;
        for (j, col) in x.iter_mut().enumerate() {
            let v = 0.5 * common + rng.normal() * (1.0 + j as f64 * 0.1);
            yi += (j as f64 - 3.5) * 0.1 * v;
            col.push(v);
        }
        // heteroskedastic noise
        y.push(yi + rng.normal() * (1.0 + 0.5 * x[0].last().copied().unwrap_or(0.0).abs()));
    }
    eprintln!(
        "generated {n} rows x {} columns in {:.2?} ({} MB)",
        k + 1,
        t0.elapsed(),
        n * (k + 1) * 8 / 1_000_000
    );
    let cols: Vec<&[f64]> = x.iter().map(|c| c.as_slice()).collect();
    let names: Vec<String> = (1..=k).map(|j| format!("x{j}")).collect();
    let name_refs: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get());

    let (t_corr, m) = time(reps, || {
        correlation_matrix(&cols, &name_refs, CorrelationMethod::Pearson, 0.95)
            .expect("correlation matrix")
    });
    let r12 = m.cells[0][1].as_ref().map(|c| c.r).unwrap_or(f64::NAN);

    let opts = OlsOptions::with_cov(CovType::HC3);
    let (t_ols, fit) = time(reps, || {
        ols(&cols, &name_refs, &y, None, &opts).expect("ols")
    });

    println!("rows: {n}, threads: {threads}, repetitions: {reps} (median reported)");
    println!(
        "correlation matrix (Pearson, {k} columns, pairwise-complete): {:>8.1} ms   r(x1,x2) = {r12:.6}",
        t_corr.as_secs_f64() * 1e3
    );
    println!(
        "OLS, {k} regressors + intercept, HC3 SEs (QR + leverage pass): {:>8.1} ms   R2 = {:.6}, se(x1) = {:.3e}",
        t_ols.as_secs_f64() * 1e3,
        fit.r2,
        fit.se[1]
    );
}
