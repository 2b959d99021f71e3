//! Streaming Householder QR for least squares.
//!
//! The design `[X | y]` (optionally whitened by `sqrt(w)`, with an implicit
//! intercept column) is never copied whole: rows are read in blocks into a
//! small column-major buffer and folded into an upper-triangular `R` by
//! Householder reflections on `[R; block]` (a flat-tree TSQR, the structured
//! update of LAPACK's `tpqrt`). Fixed-size chunks of rows are reduced in
//! parallel and their `R` factors stacked in chunk order, so the result does
//! not depend on the number of threads. Residual statistics, leverages and
//! the heteroskedasticity-consistent "meat" come from a second pass over the
//! rows using `R⁻¹` (`z_i = x_i R⁻¹` is row `i` of the thin `Q`).

use super::{KahanSum, NotComputable, Result, StatsError};

/// Rows per block inside a chunk.
const BLOCK: usize = 256;
/// Rows per parallel chunk (fixed, so results do not depend on threads).
const CHUNK: usize = 1 << 16;

/// A least-squares problem over borrowed columns.
pub(crate) struct LsProblem<'a> {
    /// Regressor columns (without the implicit intercept).
    pub cols: &'a [&'a [f64]],
    /// Prepend a column of ones.
    pub intercept: bool,
    /// Response.
    pub y: &'a [f64],
    /// Optional non-negative precision weights.
    pub w: Option<&'a [f64]>,
}

impl LsProblem<'_> {
    pub(crate) fn n(&self) -> usize {
        self.y.len()
    }
    /// Number of regression columns (intercept included).
    pub(crate) fn p(&self) -> usize {
        self.cols.len() + usize::from(self.intercept)
    }
    /// Fill `buf` (column-major, stride `end - start`) with whitened rows
    /// `[x | y]` for rows `start..end`.
    fn fill(&self, start: usize, end: usize, buf: &mut [f64], with_y: bool) {
        let b = end - start;
        let mut c = 0;
        if self.intercept {
            let dst = &mut buf[..b];
            match self.w {
                Some(w) => {
                    for (d, &wi) in dst.iter_mut().zip(&w[start..end]) {
                        *d = wi.sqrt();
                    }
                }
                None => dst.fill(1.0),
            }
            c = 1;
        }
        let fill_col = |c: usize, src: &[f64], buf: &mut [f64]| {
            let dst = &mut buf[c * b..(c + 1) * b];
            match self.w {
                Some(w) => {
                    for ((d, &x), &wi) in dst.iter_mut().zip(&src[start..end]).zip(&w[start..end]) {
                        *d = x * wi.sqrt();
                    }
                }
                None => dst.copy_from_slice(&src[start..end]),
            }
        };
        for col in self.cols {
            fill_col(c, col, buf);
            c += 1;
        }
        if with_y {
            fill_col(c, self.y, buf);
        }
    }
}

/// Dot product over the common length, in four lanes (the order of the
/// additions is part of the results' bytes).
#[inline]
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut s = [0.0f64; 4];
    let chunks = n / 4;
    for i in 0..chunks {
        let j = 4 * i;
        s[0] += a[j] * b[j];
        s[1] += a[j + 1] * b[j + 1];
        s[2] += a[j + 2] * b[j + 2];
        s[3] += a[j + 3] * b[j + 3];
    }
    let mut tail = 0.0;
    for j in 4 * chunks..n {
        tail += a[j] * b[j];
    }
    (s[0] + s[1]) + (s[2] + s[3]) + tail
}

#[inline]
fn axpy(alpha: f64, x: &[f64], y: &mut [f64]) {
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi -= alpha * xi;
    }
}

/// Fold a column-major `b x q` block into the `q x q` upper-triangular
/// row-major `r` by Householder reflections on `[r; block]`. The block is
/// overwritten.
pub(crate) fn tri_update(r: &mut [f64], q: usize, block: &mut [f64], b: usize) {
    if b == 0 {
        return;
    }
    for k in 0..q {
        let (head, tail) = block.split_at_mut((k + 1) * b);
        let vk = &mut head[k * b..];
        let mut sigma = dot(vk, vk);
        if sigma == 0.0 {
            continue;
        }
        let mut alpha = r[k * q + k];
        // Guard against overflow / underflow of the squared norm.
        let mut scale = 1.0;
        if !sigma.is_finite() || sigma < 1e-280 {
            let m = vk.iter().fold(alpha.abs(), |m, v| m.max(v.abs()));
            scale = m;
            sigma = vk.iter().map(|v| (v / m) * (v / m)).sum();
            alpha /= m;
        }
        let norm = (alpha * alpha + sigma).sqrt() * scale;
        alpha *= scale;
        let beta = if alpha >= 0.0 { -norm } else { norm };
        let tau = (beta - alpha) / beta;
        let inv = 1.0 / (alpha - beta);
        for v in vk.iter_mut() {
            *v *= inv;
        }
        r[k * q + k] = beta;
        for j in (k + 1)..q {
            let cj = &mut tail[(j - k - 1) * b..(j - k) * b];
            let w = tau * (r[k * q + j] + dot(vk, cj));
            r[k * q + j] -= w;
            axpy(w, vk, cj);
        }
    }
}

/// Stack `other` (upper-triangular `q x q`) under `r` and re-triangularize.
pub(crate) fn tri_merge(r: &mut [f64], q: usize, other: &[f64]) {
    // column-major copy of `other`
    let mut block = vec![0.0; q * q];
    for i in 0..q {
        for j in i..q {
            block[j * q + i] = other[i * q + j];
        }
    }
    tri_update(r, q, &mut block, q);
}

/// Apply `f` to fixed chunks of `0..n` in parallel; results in chunk order.
pub(crate) fn par_chunks<T: Send, F: Fn(usize, usize) -> T + Sync>(n: usize, f: F) -> Vec<T> {
    let nchunks = n.div_ceil(CHUNK).max(1);
    if nchunks == 1 {
        return vec![f(0, n)];
    }
    let threads = std::thread::available_parallelism()
        .map(|t| t.get())
        .unwrap_or(1)
        .min(nchunks);
    let mut out: Vec<Option<T>> = (0..nchunks).map(|_| None).collect();
    std::thread::scope(|s| {
        let f = &f;
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut res = Vec::new();
                    let mut c = t;
                    while c < nchunks {
                        let start = c * CHUNK;
                        let end = ((c + 1) * CHUNK).min(n);
                        res.push((c, f(start, end)));
                        c += threads;
                    }
                    res
                })
            })
            .collect();
        for h in handles {
            for (c, v) in h.join().expect("worker thread panicked") {
                out[c] = Some(v);
            }
        }
    });
    out.into_iter()
        .map(|v| v.expect("chunk computed"))
        .collect()
}

/// Result of the first pass.
pub(crate) struct PassOne {
    /// `(p+1) x (p+1)` upper-triangular factor of `[X | y]` (row-major).
    pub r: Vec<f64>,
    /// Rows with positive weight.
    pub n_used: usize,
    /// Sum of weights (n_used without weights).
    pub sum_w: f64,
    /// Sum of w * y.
    pub sum_wy: f64,
}

pub(crate) fn pass_one(pb: &LsProblem<'_>) -> Result<PassOne> {
    let n = pb.n();
    for (j, c) in pb.cols.iter().enumerate() {
        if c.len() != n {
            return Err(StatsError::InvalidInput(format!(
                "column {j} has {} rows, response has {n}",
                c.len()
            )));
        }
    }
    if let Some(w) = pb.w
        && w.len() != n
    {
        return Err(StatsError::InvalidInput(format!(
            "weights have {} rows, response has {n}",
            w.len()
        )));
    }
    let q = pb.p() + 1;
    let parts = par_chunks(
        n,
        |start, end| -> Result<(Vec<f64>, usize, KahanSum, KahanSum)> {
            let mut r = vec![0.0; q * q];
            let mut buf = vec![0.0; q * BLOCK];
            let mut n_used = 0usize;
            let mut sw = KahanSum::default();
            let mut swy = KahanSum::default();
            let mut s = start;
            while s < end {
                let e = (s + BLOCK).min(end);
                let b = e - s;
                for i in s..e {
                    let wi = pb.w.map_or(1.0, |w| w[i]);
                    if !(wi >= 0.0) || !wi.is_finite() {
                        return Err(StatsError::InvalidInput(format!(
                            "weight at row {i} is {wi}; weights must be finite and >= 0"
                        )));
                    }
                    if wi > 0.0 {
                        n_used += 1;
                        sw.add(wi);
                        swy.add(wi * pb.y[i]);
                    }
                }
                let blk = &mut buf[..q * b];
                pb.fill(s, e, blk, true);
                if blk.iter().any(|v| !v.is_finite()) {
                    return Err(StatsError::InvalidInput(format!(
                        "non-finite value (NaN or infinity) in rows {s}..{e}; drop missing values first"
                    )));
                }
                tri_update(&mut r, q, blk, b);
                s = e;
            }
            Ok((r, n_used, sw, swy))
        },
    );
    let mut r = vec![0.0; q * q];
    let mut n_used = 0;
    let mut sw = KahanSum::default();
    let mut swy = KahanSum::default();
    for (i, part) in parts.into_iter().enumerate() {
        let (rp, nu, s1, s2) = part?;
        if i == 0 {
            r = rp;
        } else {
            tri_merge(&mut r, q, &rp);
        }
        n_used += nu;
        sw.add(s1.total());
        swy.add(s2.total());
    }
    Ok(PassOne {
        r,
        n_used,
        sum_w: sw.total(),
        sum_wy: swy.total(),
    })
}

/// Rank-revealing re-triangularization of the `q x q` factor with "limited
/// pivoting" as R's `dqrdc2`: column `j` is aliased when its norm after
/// projecting out the kept columns before it is at most `tol` times its
/// original norm. Returns the indices (among the first `p` columns) that are
/// aliased; an empty list means full rank.
pub(crate) fn aliased_columns(r: &[f64], q: usize, p: usize, tol: f64) -> Vec<usize> {
    // dense column-major copy of the first p columns
    let mut m: Vec<Vec<f64>> = (0..p)
        .map(|j| {
            (0..q)
                .map(|i| if i <= j { r[i * q + j] } else { 0.0 })
                .collect()
        })
        .collect();
    let norms: Vec<f64> = m
        .iter()
        .map(|c| c.iter().map(|v| v * v).sum::<f64>().sqrt())
        .collect();
    let mut aliased = Vec::new();
    let mut row = 0; // next pivot row
    for j in 0..p {
        // remaining norm of column j below `row`
        let rest: f64 = m[j][row..].iter().map(|v| v * v).sum::<f64>().sqrt();
        if !(rest > tol * norms[j]) || norms[j] == 0.0 {
            aliased.push(j);
            continue;
        }
        // Householder on rows row..q of column j, applied to later columns
        let alpha = m[j][row];
        let beta = if alpha >= 0.0 { -rest } else { rest };
        let mut v: Vec<f64> = m[j][row..].to_vec();
        v[0] = alpha - beta;
        let vnorm2: f64 = v.iter().map(|x| x * x).sum();
        if vnorm2 > 0.0 {
            for col in m.iter_mut().skip(j + 1) {
                let d: f64 = v.iter().zip(&col[row..]).map(|(a, b)| a * b).sum();
                let f = 2.0 * d / vnorm2;
                for (c, vi) in col[row..].iter_mut().zip(&v) {
                    *c -= f * vi;
                }
            }
        }
        m[j][row] = beta;
        for x in m[j][row + 1..].iter_mut() {
            *x = 0.0;
        }
        row += 1;
    }
    aliased
}

/// Inverse of the leading `p x p` block of a row-major upper-triangular
/// `q x q` matrix, returned row-major `p x p`.
pub(crate) fn tri_inverse(r: &[f64], q: usize, p: usize) -> Vec<f64> {
    let mut inv = vec![0.0; p * p];
    for j in 0..p {
        // solve R x = e_j, x stored in column j of inv
        for i in (0..=j).rev() {
            let mut s = if i == j { 1.0 } else { 0.0 };
            for k in (i + 1)..=j {
                s -= r[i * q + k] * inv[k * p + j];
            }
            inv[i * p + j] = s / r[i * q + i];
        }
    }
    inv
}

/// Back-substitution `R b = c` with the leading `p x p` block of `r` and
/// `c` = the first `p` entries of column `col` of `r`.
pub(crate) fn back_substitute(r: &[f64], q: usize, p: usize, col: usize) -> Vec<f64> {
    let mut b = vec![0.0; p];
    for i in (0..p).rev() {
        let mut s = r[i * q + col];
        for k in (i + 1)..p {
            s -= r[i * q + k] * b[k];
        }
        b[i] = s / r[i * q + i];
    }
    b
}

/// Double-double accumulator (error-free transformations).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Dd {
    hi: f64,
    lo: f64,
}

#[inline]
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

#[inline]
fn two_prod(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    (p, a.mul_add(b, -p))
}

impl From<f64> for Dd {
    fn from(v: f64) -> Self {
        Dd { hi: v, lo: 0.0 }
    }
}

impl Dd {
    #[inline]
    fn add(&mut self, v: f64) {
        let (s, e) = two_sum(self.hi, v);
        let lo = self.lo + e;
        let (h, l) = two_sum(s, lo);
        self.hi = h;
        self.lo = l;
    }
    #[inline]
    fn add_dd(&mut self, o: Dd) {
        self.add(o.hi);
        self.add(o.lo);
    }
    /// self -= a * b (exactly, up to the final renormalisation)
    #[inline]
    fn sub_prod(&mut self, a: f64, b: f64) {
        let (p, e) = two_prod(a, b);
        self.add(-p);
        self.add(-e);
    }
    /// self += a * v for a double-double v
    #[inline]
    fn add_prod_dd(&mut self, a: f64, v: Dd) {
        let (p, e) = two_prod(a, v.hi);
        self.add(p);
        self.add(e + a * v.lo);
    }
    #[inline]
    pub(crate) fn value(self) -> f64 {
        self.hi + self.lo
    }
}

/// Which heteroskedasticity weights the second pass accumulates.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Meat {
    None,
    Hc0,
    Hc2,
    Hc3,
}

/// Result of the residual pass.
pub(crate) struct PassTwo {
    pub rss: f64,
    /// Weighted centered total sum of squares around `ybar`.
    pub tss_centered: f64,
    /// Weighted uncentered total sum of squares.
    pub tss_uncentered: f64,
    /// `X*' e*` (for refinement).
    pub xte: Vec<f64>,
    /// `sum omega_i z_i z_i'` (row-major p x p), when requested.
    pub meat: Vec<f64>,
    /// Largest leverage seen (when the meat needs leverages).
    pub max_leverage: f64,
}

pub(crate) fn pass_two(
    pb: &LsProblem<'_>,
    beta: &[f64],
    rinv: &[f64],
    ybar: f64,
    meat_kind: Meat,
    precise: bool,
) -> PassTwo {
    let p = pb.p();
    let q = p + 1;
    let n = pb.n();
    let parts = par_chunks(n, |start, end| {
        let mut buf = vec![0.0; q * BLOCK];
        let mut z = vec![0.0; p * BLOCK];
        let mut e = vec![0.0; BLOCK];
        let mut omega = vec![0.0; BLOCK];
        let mut h = vec![0.0; BLOCK];
        let mut wzb = vec![0.0; BLOCK];
        let mut rss = KahanSum::default();
        let mut tssc = KahanSum::default();
        let mut tssu = KahanSum::default();
        let mut xte: Vec<Dd> = vec![Dd::default(); p];
        let mut meat = vec![0.0; p * p];
        let mut max_h = 0.0f64;
        let mut s = start;
        while s < end {
            let en = (s + BLOCK).min(end);
            let b = en - s;
            let blk = &mut buf[..q * b];
            pb.fill(s, en, blk, true);
            // residuals e* = y* - X* beta
            let eb = &mut e[..b];
            if precise {
                // double-double residuals and X'e: exact enough for refinement
                for (i, ei) in eb.iter_mut().enumerate() {
                    let mut acc = Dd::from(blk[p * b + i]);
                    for (j, &bj) in beta.iter().enumerate() {
                        acc.sub_prod(blk[j * b + i], bj);
                    }
                    for (j, x) in xte.iter_mut().enumerate() {
                        x.add_prod_dd(blk[j * b + i], acc);
                    }
                    *ei = acc.value();
                }
            } else {
                eb.copy_from_slice(&blk[p * b..(p + 1) * b]);
                for (j, &bj) in beta.iter().enumerate() {
                    axpy(bj, &blk[j * b..(j + 1) * b], eb);
                }
            }
            for (i, &ei) in eb.iter().enumerate() {
                rss.add(ei * ei);
                let wi = pb.w.map_or(1.0, |w| w[s + i]);
                let yi = pb.y[s + i];
                let d = yi - ybar;
                tssc.add(wi * d * d);
                tssu.add(wi * yi * yi);
            }
            if meat_kind != Meat::None {
                // z = X* R^{-1}: column j of z = sum_k x_k rinv[k, j]
                let zb = &mut z[..p * b];
                for j in 0..p {
                    let zj = &mut zb[j * b..(j + 1) * b];
                    zj.fill(0.0);
                    for k in 0..=j {
                        let c = rinv[k * p + j];
                        if c != 0.0 {
                            let xk = &blk[k * b..(k + 1) * b];
                            for (zi, &xi) in zj.iter_mut().zip(xk) {
                                *zi += c * xi;
                            }
                        }
                    }
                }
                let om = &mut omega[..b];
                // om = e² first; for HC2/HC3 divide by (1 - h) or (1 - h)²,
                // with leverages h accumulated column by column (vectorizes)
                for (o, &ei) in om.iter_mut().zip(eb.iter()) {
                    *o = ei * ei;
                }
                if matches!(meat_kind, Meat::Hc2 | Meat::Hc3) {
                    let hb = &mut h[..b];
                    hb.fill(0.0);
                    for j in 0..p {
                        for (hi, &v) in hb.iter_mut().zip(&zb[j * b..(j + 1) * b]) {
                            *hi += v * v;
                        }
                    }
                    for (o, &hi) in om.iter_mut().zip(hb.iter()) {
                        max_h = max_h.max(hi);
                        let one_minus = 1.0 - hi;
                        *o /= if meat_kind == Meat::Hc2 {
                            one_minus
                        } else {
                            one_minus * one_minus
                        };
                    }
                }
                // meat += Z' diag(omega) Z (upper triangle)
                let wz = &mut wzb[..b];
                for j in 0..p {
                    let zj = &zb[j * b..(j + 1) * b];
                    for ((w, &zi), &oi) in wz.iter_mut().zip(zj).zip(om.iter()) {
                        *w = zi * oi;
                    }
                    for k in j..p {
                        meat[j * p + k] += dot(wz, &zb[k * b..(k + 1) * b]);
                    }
                }
            }
            s = en;
        }
        (rss, tssc, tssu, xte, meat, max_h)
    });
    let mut rss = KahanSum::default();
    let mut tssc = KahanSum::default();
    let mut tssu = KahanSum::default();
    let mut xte = vec![Dd::default(); p];
    let mut meat = vec![0.0; p * p];
    let mut max_leverage = 0.0f64;
    for (r, c, u, x, m, h) in parts {
        rss.add(r.total());
        tssc.add(c.total());
        tssu.add(u.total());
        for (a, b) in xte.iter_mut().zip(x) {
            a.add_dd(b);
        }
        for (a, b) in meat.iter_mut().zip(m) {
            *a += b;
        }
        max_leverage = max_leverage.max(h);
    }
    for j in 0..p {
        for k in 0..j {
            meat[j * p + k] = meat[k * p + j];
        }
    }
    PassTwo {
        rss: rss.total(),
        tss_centered: tssc.total(),
        tss_uncentered: tssu.total(),
        xte: xte.iter().map(|k| k.value()).collect(),
        meat,
        max_leverage,
    }
}

/// `A B A'` for row-major square `a` (p x p) and symmetric `b`.
pub(crate) fn sandwich(a: &[f64], b: &[f64], p: usize) -> Vec<f64> {
    let mut ab = vec![0.0; p * p];
    for i in 0..p {
        for k in 0..p {
            let aik = a[i * p + k];
            if aik != 0.0 {
                for j in 0..p {
                    ab[i * p + j] += aik * b[k * p + j];
                }
            }
        }
    }
    let mut out = vec![0.0; p * p];
    for i in 0..p {
        for j in 0..p {
            let mut s = 0.0;
            for k in 0..p {
                s += ab[i * p + k] * a[j * p + k];
            }
            out[i * p + j] = s;
        }
    }
    out
}

/// `A A'` for row-major `a` (p x p).
pub(crate) fn outer_self(a: &[f64], p: usize) -> Vec<f64> {
    let mut out = vec![0.0; p * p];
    for i in 0..p {
        for j in i..p {
            let s: f64 = (0..p).map(|k| a[i * p + k] * a[j * p + k]).sum();
            out[i * p + j] = s;
            out[j * p + i] = s;
        }
    }
    out
}

/// Solve the symmetric positive definite system `A x = b` by Cholesky.
pub(crate) fn spd_solve(
    a: &[f64],
    b: &[f64],
    p: usize,
) -> std::result::Result<Vec<f64>, NotComputable> {
    let mut l = vec![0.0; p * p];
    for i in 0..p {
        for j in 0..=i {
            let mut s = a[i * p + j];
            for k in 0..j {
                s -= l[i * p + k] * l[j * p + k];
            }
            if i == j {
                if !(s > 0.0) {
                    return Err(NotComputable::Degenerate(
                        "covariance matrix is not positive definite".into(),
                    ));
                }
                l[i * p + i] = s.sqrt();
            } else {
                l[i * p + j] = s / l[j * p + j];
            }
        }
    }
    let mut y = vec![0.0; p];
    for i in 0..p {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i * p + k] * y[k];
        }
        y[i] = s / l[i * p + i];
    }
    let mut x = vec![0.0; p];
    for i in (0..p).rev() {
        let mut s = y[i];
        for k in (i + 1)..p {
            s -= l[k * p + i] * x[k];
        }
        x[i] = s / l[i * p + i];
    }
    Ok(x)
}
