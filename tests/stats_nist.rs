//! NIST StRD linear regression data sets against their certified values
//! (fixtures in tests/fixtures/nist/, verified in exact arithmetic by
//! verify_exact.py).

use coweave::stats::{OlsOptions, ols};

struct Nist {
    degree: Option<usize>,
    beta: Vec<f64>,
    sd: Vec<f64>,
    residual_sd: f64,
    r2: f64,
    y: Vec<f64>,
    x: Vec<Vec<f64>>,
}

fn load(name: &str) -> Nist {
    let path = format!(
        "{}/tests/fixtures/nist/{name}.dat",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("fixture");
    let mut section = "";
    let mut n = Nist {
        degree: None,
        beta: vec![],
        sd: vec![],
        residual_sd: f64::NAN,
        r2: f64::NAN,
        y: vec![],
        x: vec![],
    };
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') {
            section = if line == "[certified]" { "c" } else { "d" };
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        if parts[0] == "model" {
            if parts[1] == "polynomial" {
                n.degree = Some(parts[2].parse().unwrap());
            }
            continue;
        }
        let num = |s: &str| s.parse::<f64>().unwrap();
        if section == "c" {
            match parts[0] {
                "residual_sd" => n.residual_sd = num(parts[1]),
                "r_squared" => n.r2 = num(parts[1]),
                _ => {
                    n.beta.push(num(parts[1]));
                    n.sd.push(num(parts[2]));
                }
            }
        } else {
            n.y.push(num(parts[0]));
            let xs: Vec<f64> = parts[1..].iter().map(|s| num(s)).collect();
            if n.x.is_empty() {
                n.x = vec![vec![]; xs.len()];
            }
            for (c, v) in n.x.iter_mut().zip(xs) {
                c.push(v);
            }
        }
    }
    if let Some(d) = n.degree {
        let base = n.x[0].clone();
        n.x = (1..=d)
            .map(|k| base.iter().map(|v| v.powi(k as i32)).collect())
            .collect();
    }
    n
}

/// Log relative error: number of correct significant digits (LRE, McCullough).
fn lre(got: f64, cert: f64) -> f64 {
    if cert == 0.0 {
        return -(got.abs().max(1e-300)).log10();
    }
    let r = ((got - cert) / cert).abs();
    if r == 0.0 { 15.0 } else { -r.log10() }
}

struct Digits {
    coef: f64,
    se: f64,
    rsd: f64,
    r2: f64,
}

fn fit(name: &str) -> Digits {
    let d = load(name);
    let cols: Vec<&[f64]> = d.x.iter().map(|c| c.as_slice()).collect();
    let names: Vec<String> = (1..=cols.len()).map(|i| format!("x{i}")).collect();
    let name_refs: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
    let f = ols(&cols, &name_refs, &d.y, None, &OlsOptions::default()).expect(name);
    let coef = f
        .coef
        .iter()
        .zip(&d.beta)
        .map(|(g, c)| lre(*g, *c))
        .fold(f64::INFINITY, f64::min);
    let se =
        f.se.iter()
            .zip(&d.sd)
            .map(|(g, c)| lre(*g, *c))
            .fold(f64::INFINITY, f64::min);
    let digits = Digits {
        coef,
        se,
        rsd: lre(f.sigma, d.residual_sd),
        r2: lre(f.r2, d.r2),
    };
    eprintln!(
        "{name:9} LRE coef {:5.1}  se {:5.1}  resid sd {:5.1}  R2 {:5.1}",
        digits.coef, digits.se, digits.rsd, digits.r2
    );
    digits
}

/// Measured (this code, x86-64): every data set has at least 13 correct
/// digits in coefficients and standard errors; the issue asks for 10 on
/// Longley, Norris and Wampler1-3. Assert 12 everywhere for a margin.
const DIGITS: f64 = 12.0;

fn check(name: &str) {
    let d = fit(name);
    assert!(
        d.coef >= DIGITS,
        "{name}: coefficients have {:.1} digits",
        d.coef
    );
    assert!(
        d.se >= DIGITS,
        "{name}: standard errors have {:.1} digits",
        d.se
    );
    assert!(
        d.rsd >= DIGITS,
        "{name}: residual SD has {:.1} digits",
        d.rsd
    );
    assert!(d.r2 >= DIGITS, "{name}: R² has {:.1} digits", d.r2);
}

#[test]
fn norris() {
    check("Norris");
}

#[test]
fn pontius_quadratic() {
    check("Pontius");
}

#[test]
fn longley() {
    check("Longley");
}

#[test]
fn wampler1_exact_fit() {
    // Certified SEs and residual SD are exactly 0; LRE then measures -log10 |se|.
    check("Wampler1");
}

#[test]
fn wampler2_exact_fit() {
    check("Wampler2");
}

#[test]
fn wampler3() {
    check("Wampler3");
}

#[test]
fn wampler4() {
    check("Wampler4");
}

#[test]
fn wampler5() {
    check("Wampler5");
}
