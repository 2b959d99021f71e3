//! Scalar root finding (Brent's method) for power and sample-size solving.

/// Find a root of `f` in `[a, b]` where `f(a)` and `f(b)` have opposite
/// signs. Returns `None` if the bracket does not straddle a root.
pub(crate) fn brent<F: FnMut(f64) -> f64>(mut f: F, mut a: f64, mut b: f64) -> Option<f64> {
    let mut fa = f(a);
    let mut fb = f(b);
    if fa == 0.0 {
        return Some(a);
    }
    if fb == 0.0 {
        return Some(b);
    }
    if fa.signum() == fb.signum() || fa.is_nan() || fb.is_nan() {
        return None;
    }
    let mut c = a;
    let mut fc = fa;
    let mut d = b - a;
    let mut e = d;
    for _ in 0..500 {
        if fb.signum() == fc.signum() {
            c = a;
            fc = fa;
            d = b - a;
            e = d;
        }
        if fc.abs() < fb.abs() {
            a = b;
            b = c;
            c = a;
            fa = fb;
            fb = fc;
            fc = fa;
        }
        let tol = 2.0 * f64::EPSILON * b.abs() + 1e-300;
        let m = 0.5 * (c - b);
        if m.abs() <= tol || fb == 0.0 {
            return Some(b);
        }
        if e.abs() >= tol && fa.abs() > fb.abs() {
            let s = fb / fa;
            let (mut p, mut q);
            if a == c {
                p = 2.0 * m * s;
                q = 1.0 - s;
            } else {
                let qq = fa / fc;
                let r = fb / fc;
                p = s * (2.0 * m * qq * (qq - r) - (b - a) * (r - 1.0));
                q = (qq - 1.0) * (r - 1.0) * (s - 1.0);
            }
            if p > 0.0 {
                q = -q;
            } else {
                p = -p;
            }
            if 2.0 * p < (3.0 * m * q - (tol * q).abs()).min((e * q).abs()) {
                e = d;
                d = p / q;
            } else {
                d = m;
                e = m;
            }
        } else {
            d = m;
            e = m;
        }
        a = b;
        fa = fb;
        b += if d.abs() > tol { d } else { tol * m.signum() };
        fb = f(b);
    }
    Some(b)
}

/// Expand `[lo, hi]` upwards (doubling `hi`) until `f` changes sign, then
/// solve. `f(lo)` must be finite.
pub(crate) fn brent_expanding<F: FnMut(f64) -> f64>(mut f: F, lo: f64, mut hi: f64) -> Option<f64> {
    let flo = f(lo);
    let mut fhi = f(hi);
    let mut tries = 0;
    while flo.signum() == fhi.signum() && tries < 200 {
        hi *= 2.0;
        fhi = f(hi);
        tries += 1;
    }
    brent(f, lo, hi)
}
