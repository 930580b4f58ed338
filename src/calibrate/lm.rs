//! Levenberg–Marquardt least squares on a handful of parameters, with the
//! delta-method interval of each: what both the queueing fit and the USL fit
//! use. Written out rather than taken from a crate: on two or three
//! parameters it is forty lines, and the Jacobian it ends with gives the
//! intervals.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// A finished fit.
#[derive(Clone, Debug)]
pub struct Fit {
    /// The parameters at the minimum.
    pub params: Vec<f64>,
    /// Sum of squared residuals there.
    pub rss: f64,
    /// Residuals used.
    pub n: usize,
    /// Half-width of each parameter's 95% interval (delta method: s²(JᵀJ)⁻¹
    /// with s² = RSS / (n − p), Student's t on n − p degrees of freedom);
    /// infinite when the data cannot fix the parameter (n ≤ p, or JᵀJ
    /// singular).
    pub half_width: Vec<f64>,
}

/// Minimise Σ rᵢ(p)² from `p0`; `clamp` keeps a step inside the parameters'
/// domain. Numerical Jacobian (forward differences, a step of 10⁻⁶ of each
/// parameter).
pub fn minimise(
    residuals: &dyn Fn(&[f64]) -> Vec<f64>,
    p0: &[f64],
    clamp: &dyn Fn(&mut [f64]),
) -> Fit {
    search(residuals, p0, clamp, &|x| 1e-6 * x.abs().max(1e-6), 1e-12)
}

/// [`minimise`] with the Jacobian's forward differences taken over `step`
/// (in the parameters' units), ending once a step gains less than
/// `rel_tol` of the sum of squares: residuals that come from a simulation
/// move in small jumps under tiny steps, and need a step that measures the
/// trend; and each evaluation is a simulation, so gains below its noise
/// are not worth one.
pub fn minimise_with_step(
    residuals: &dyn Fn(&[f64]) -> Vec<f64>,
    p0: &[f64],
    clamp: &dyn Fn(&mut [f64]),
    step: f64,
    rel_tol: f64,
) -> Fit {
    search(residuals, p0, clamp, &|_| step, rel_tol)
}

fn search(
    residuals: &dyn Fn(&[f64]) -> Vec<f64>,
    p0: &[f64],
    clamp: &dyn Fn(&mut [f64]),
    step: &dyn Fn(f64) -> f64,
    rel_tol: f64,
) -> Fit {
    let k = p0.len();
    let mut p = p0.to_vec();
    clamp(&mut p);
    let ss = |r: &[f64]| r.iter().map(|x| x * x).sum::<f64>();
    let mut r = residuals(&p);
    let mut cost = ss(&r);
    let mut mu = 1e-3;
    let mut jac = jacobian(residuals, &p, &r, step);
    for _ in 0..200 {
        let (jtj, jtr) = normal_equations(&jac, &r, k);
        let mut improved = false;
        for _ in 0..30 {
            let mut a = jtj.clone();
            for i in 0..k {
                a[i * k + i] += mu * jtj[i * k + i].max(1e-12);
            }
            let Some(step) = solve(&a, &jtr, k) else {
                mu *= 10.0;
                continue;
            };
            let mut q: Vec<f64> = p.iter().zip(&step).map(|(x, s)| x - s).collect();
            clamp(&mut q);
            let rq = residuals(&q);
            let cq = ss(&rq);
            if cq.is_finite() && cq < cost {
                let rel = (cost - cq) / cost.max(1e-300);
                p = q;
                r = rq;
                cost = cq;
                mu = (mu / 3.0).max(1e-12);
                improved = rel > rel_tol;
                break;
            }
            mu *= 4.0;
        }
        if !improved {
            break;
        }
        jac = jacobian(residuals, &p, &r, step);
    }
    let n = r.len();
    let (jtj, _) = normal_equations(&jac, &r, k);
    let half_width = match (n > k, invert(&jtj, k)) {
        (true, Some(inv)) => {
            let s2 = cost / (n - k) as f64;
            let t = StudentsT::new(0.0, 1.0, (n - k) as f64)
                .map(|d| d.inverse_cdf(0.975))
                .unwrap_or(f64::INFINITY);
            (0..k)
                .map(|i| t * (s2 * inv[i * k + i]).max(0.0).sqrt())
                .collect()
        }
        _ => vec![f64::INFINITY; k],
    };
    Fit {
        params: p,
        rss: cost,
        n,
        half_width,
    }
}

fn jacobian(
    f: &dyn Fn(&[f64]) -> Vec<f64>,
    p: &[f64],
    r: &[f64],
    step: &dyn Fn(f64) -> f64,
) -> Vec<Vec<f64>> {
    (0..p.len())
        .map(|j| {
            let h = step(p[j]);
            let mut q = p.to_vec();
            q[j] += h;
            f(&q).iter().zip(r).map(|(a, b)| (a - b) / h).collect()
        })
        .collect()
}

/// JᵀJ (row-major k×k) and Jᵀr, with `jac[j]` the column of parameter j.
fn normal_equations(jac: &[Vec<f64>], r: &[f64], k: usize) -> (Vec<f64>, Vec<f64>) {
    let mut jtj = vec![0.0; k * k];
    let mut jtr = vec![0.0; k];
    for a in 0..k {
        for b in 0..k {
            jtj[a * k + b] = jac[a].iter().zip(&jac[b]).map(|(x, y)| x * y).sum();
        }
        jtr[a] = jac[a].iter().zip(r).map(|(x, y)| x * y).sum();
    }
    (jtj, jtr)
}

/// Solve a·x = b (k×k, Gaussian elimination with partial pivoting).
fn solve(a: &[f64], b: &[f64], k: usize) -> Option<Vec<f64>> {
    let mut m: Vec<Vec<f64>> = (0..k)
        .map(|i| {
            let mut row = a[i * k..(i + 1) * k].to_vec();
            row.push(b[i]);
            row
        })
        .collect();
    for c in 0..k {
        let piv = (c..k).max_by(|&x, &y| m[x][c].abs().total_cmp(&m[y][c].abs()))?;
        if m[piv][c].abs() < 1e-300 || !m[piv][c].is_finite() {
            return None;
        }
        m.swap(c, piv);
        let pivot_row = m[c].clone();
        for (rr, row) in m.iter_mut().enumerate() {
            if rr != c {
                let f = row[c] / pivot_row[c];
                for (x, p) in row.iter_mut().zip(&pivot_row).skip(c) {
                    *x -= f * p;
                }
            }
        }
    }
    Some((0..k).map(|i| m[i][k] / m[i][i]).collect())
}

fn invert(a: &[f64], k: usize) -> Option<Vec<f64>> {
    let mut inv = vec![0.0; k * k];
    for j in 0..k {
        let mut e = vec![0.0; k];
        e[j] = 1.0;
        let col = solve(a, &e, k)?;
        for i in 0..k {
            inv[i * k + j] = col[i];
        }
    }
    Some(inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_line_and_its_textbook_interval() {
        // y = 2 + 3x with residuals ±0.1: the slope's interval is the
        // ordinary least-squares one, t · s / sqrt(Σ(x − x̄)²).
        let xs = [0.0, 1.0, 2.0, 3.0, 4.0];
        let noise = [0.1, -0.1, 0.1, -0.1, 0.0];
        let ys: Vec<f64> = xs
            .iter()
            .zip(noise)
            .map(|(x, e)| 2.0 + 3.0 * x + e)
            .collect();
        let f = minimise(
            &|p: &[f64]| {
                xs.iter()
                    .zip(&ys)
                    .map(|(x, y)| p[0] + p[1] * x - y)
                    .collect()
            },
            &[0.0, 0.0],
            &|_: &mut [f64]| {},
        );
        let n = xs.len() as f64;
        let xbar = xs.iter().sum::<f64>() / n;
        let sxx: f64 = xs.iter().map(|x| (x - xbar).powi(2)).sum();
        let slope = xs.iter().zip(&ys).map(|(x, y)| (x - xbar) * y).sum::<f64>() / sxx;
        let icept = ys.iter().sum::<f64>() / n - slope * xbar;
        let rss: f64 = xs
            .iter()
            .zip(&ys)
            .map(|(x, y)| (y - icept - slope * x).powi(2))
            .sum();
        let t = StudentsT::new(0.0, 1.0, n - 2.0)
            .unwrap()
            .inverse_cdf(0.975);
        let hw = t * (rss / (n - 2.0) / sxx).sqrt();
        assert!((f.params[1] - slope).abs() < 1e-6, "{:?}", f.params);
        assert!(
            (f.half_width[1] - hw).abs() < 1e-4 * hw,
            "{} vs {hw}",
            f.half_width[1]
        );
    }
}
