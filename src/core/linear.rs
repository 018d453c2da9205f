//! Linear models: `scores = X · Wᵀ + b`, then a link (identity, logistic, softmax).
//!
//! Sums run in f64 in feature order, then the intercept is added, as scikit-learn's
//! `X @ coef_.T + intercept_` does; BLAS may sum in another order, so parity is to ~1e-15
//! relative, not bitwise.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Weights of `n_scores` linear functions of `n_features` inputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinearScores {
    /// Feature-major: `weights[j * n_scores + k]` is feature `j`'s weight in score `k`, so one
    /// pass over a row updates every score (vectorisable across scores, summation order per
    /// score unchanged).
    weights: Vec<f64>,
    /// One per score.
    intercepts: Vec<f64>,
    n_features: usize,
}

impl LinearScores {
    /// From score-major weights (`n_scores × n_features`, like scikit-learn's `coef_`).
    /// Validates shapes and values: every weight and intercept finite, sizes consistent.
    pub fn new(score_major: Vec<f64>, intercepts: Vec<f64>, n_features: usize) -> Result<Self> {
        let k = intercepts.len();
        let mut scores = LinearScores {
            weights: score_major,
            intercepts,
            n_features,
        };
        scores.validate()?;
        let mut feature_major = vec![0.0; scores.weights.len()];
        for (s, row) in scores.weights.chunks_exact(n_features.max(1)).enumerate() {
            for (j, w) in row.iter().enumerate() {
                if let Some(slot) = feature_major.get_mut(j * k + s) {
                    *slot = *w;
                }
            }
        }
        scores.weights = feature_major;
        Ok(scores)
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let expected = self.intercepts.len().checked_mul(self.n_features);
        if self.intercepts.is_empty() || expected != Some(self.weights.len()) {
            return Err(Error::invalid_model(format!(
                "linear model has {} weights for {} outputs of {} features",
                self.weights.len(),
                self.intercepts.len(),
                self.n_features
            )));
        }
        if let Some(i) = self.weights.iter().position(|w| !w.is_finite()) {
            return Err(Error::invalid_model(format!(
                "coefficient {i} is not finite"
            )));
        }
        if let Some(i) = self.intercepts.iter().position(|b| !b.is_finite()) {
            return Err(Error::invalid_model(format!("intercept {i} is not finite")));
        }
        Ok(())
    }

    pub fn n_features(&self) -> usize {
        self.n_features
    }

    pub fn n_scores(&self) -> usize {
        self.intercepts.len()
    }

    /// Write the scores of one row into `out` (length `n_scores`).
    #[inline]
    pub fn score_row(&self, row: &[f64], out: &mut [f64]) {
        let k = self.intercepts.len();
        if let ([slot], [intercept]) = (&mut *out, self.intercepts.as_slice()) {
            *slot = dot(row, &self.weights) + intercept;
            return;
        }
        out.iter_mut().for_each(|o| *o = 0.0);
        for (x, weights) in row.iter().zip(self.weights.chunks_exact(k.max(1))) {
            for (o, w) in out.iter_mut().zip(weights) {
                *o += x * w;
            }
        }
        for (o, b) in out.iter_mut().zip(&self.intercepts) {
            *o += b;
        }
    }
}

/// Dot product with four independent partial sums: breaks the add-latency chain (and lets the
/// compiler use SIMD) at the cost of a summation order that differs from a sequential loop by a
/// few ulp — BLAS, which scikit-learn uses, has its own order anyway.
#[inline]
fn dot(x: &[f64], w: &[f64]) -> f64 {
    let n = x.len().min(w.len());
    let (x, w) = (x.get(..n).unwrap_or(&[]), w.get(..n).unwrap_or(&[]));
    let mut acc = [0.0f64; 4];
    let mut xs = x.chunks_exact(4);
    let mut ws = w.chunks_exact(4);
    for (xc, wc) in (&mut xs).zip(&mut ws) {
        for ((a, xk), wk) in acc.iter_mut().zip(xc).zip(wc) {
            *a += xk * wk;
        }
    }
    let mut tail = 0.0;
    for (a, b) in xs.remainder().iter().zip(ws.remainder()) {
        tail += a * b;
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// The logistic function, as scipy's `expit`: `1 / (1 + exp(-x))`.
#[inline]
pub fn expit(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// scikit-learn's `softmax` (utils/extmath.py): subtract the row max, exponentiate, divide by
/// the row sum, in place.
pub fn softmax_in_place(row: &mut [f64]) {
    let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    for v in row.iter_mut() {
        *v = (*v - max).exp();
    }
    let sum = numpy_sum(row);
    for v in row.iter_mut() {
        *v /= sum;
    }
}

/// How a linear classifier turns scores into probabilities; scikit-learn picks one per model
/// from `multi_class`, the solver and its version (see the sklearn importer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProbabilityRule {
    /// One-vs-rest (`_predict_proba_lr`): `expit` per class, binary `[1-p, p]`, multiclass
    /// normalised by the row sum (an all-zero row becomes uniform).
    OneVsRest,
    /// Softmax over the class scores; binary uses `softmax([-s, s])`.
    Multinomial,
    /// SGDClassifier(loss='modified_huber'): `p = (clip(s, -1, 1) + 1) / 2` per class, binary
    /// `[1-p, p]`, multiclass normalised by the row sum (an all-zero row becomes uniform).
    ModifiedHuber,
    /// No `predict_proba` (RidgeClassifier, Perceptron, LinearSVC, SGDClassifier with a loss
    /// that has none, …).
    Unavailable,
}

/// Probabilities for one row from its scores (`scores.len()` is 1 for binary).
pub fn probabilities(rule: ProbabilityRule, scores: &[f64], out: &mut [f64]) {
    match (rule, scores) {
        (ProbabilityRule::OneVsRest, [s]) => {
            let p = expit(*s);
            if let [p0, p1] = out {
                *p0 = 1.0 - p;
                *p1 = p;
            }
        }
        (ProbabilityRule::Multinomial, [s]) => {
            if let [p0, p1] = out {
                *p0 = -*s;
                *p1 = *s;
                softmax_in_place(out);
            }
        }
        (ProbabilityRule::OneVsRest, _) => {
            for (p, s) in out.iter_mut().zip(scores) {
                *p = expit(*s);
            }
            let sum: f64 = out.iter().sum();
            if sum == 0.0 {
                let uniform = 1.0 / out.len() as f64;
                out.iter_mut().for_each(|p| *p = uniform);
            } else {
                out.iter_mut().for_each(|p| *p /= sum);
            }
        }
        (ProbabilityRule::Multinomial, _) => {
            for (p, s) in out.iter_mut().zip(scores) {
                *p = *s;
            }
            softmax_in_place(out);
        }
        (ProbabilityRule::ModifiedHuber, [s]) => {
            let p = (s.clamp(-1.0, 1.0) + 1.0) / 2.0;
            if let [p0, p1] = out {
                *p0 = 1.0 - p;
                *p1 = p;
            }
        }
        (ProbabilityRule::ModifiedHuber, _) => {
            for (p, s) in out.iter_mut().zip(scores) {
                *p = (s.clamp(-1.0, 1.0) + 1.0) / 2.0;
            }
            let mut sum: f64 = out.iter().sum();
            if sum == 0.0 {
                out.iter_mut().for_each(|p| *p = 1.0);
                sum = out.len() as f64;
            }
            out.iter_mut().for_each(|p| *p /= sum);
        }
        // Refused before any row is scored (Model::predict_proba).
        (ProbabilityRule::Unavailable, _) => out.iter_mut().for_each(|p| *p = f64::NAN),
    }
}

/// `np.sum` of a contiguous float64 vector, in numpy's order: sequential below 8 values,
/// otherwise 8 interleaved partial sums per block of ≤ 128 and halving above that
/// (`pairwise_sum` in numpy's `loops_utils.h`). Exactness of averaged ensembles and softmax
/// rows depends on summing in this order.
pub fn numpy_sum(values: &[f64]) -> f64 {
    const BLOCK: usize = 128;
    let n = values.len();
    if n < 8 {
        let mut sum = 0.0;
        for v in values {
            sum += v;
        }
        sum
    } else if n <= BLOCK {
        let (head, rest) = values.split_at(8);
        let mut r = [0.0f64; 8];
        r.copy_from_slice(head);
        let mut chunks = rest.chunks_exact(8);
        for chunk in &mut chunks {
            for (acc, v) in r.iter_mut().zip(chunk) {
                *acc += v;
            }
        }
        let [a, b, c, d, e, f, g, h] = r;
        let mut sum = ((a + b) + (c + d)) + ((e + f) + (g + h));
        for v in chunks.remainder() {
            sum += v;
        }
        sum
    } else {
        let half = n / 2;
        let half = half - half % 8;
        let (left, right) = values.split_at(half);
        numpy_sum(left) + numpy_sum(right)
    }
}

#[cfg(test)]
mod numpy_sum_tests {
    use super::numpy_sum;

    /// Bits of `np.sum` (numpy 2.x) of `((i*7919) % 1000 - 500) / 3 * 10^(i%5)`, i < n:
    /// values every step computes exactly alike, and sums where summation order shows.
    #[test]
    fn matches_numpy_pairwise_order() {
        let expected: [(usize, u64); 18] = [
            (1, 0xc064d55555555555),
            (5, 0x4124e63c00000000),
            (7, 0x4124e6d8aaaaaaaa),
            (8, 0x4124d56600000000),
            (9, 0x412353fb55555555),
            (15, 0x4132a4ec55555556),
            (16, 0x4132a54b55555556),
            (17, 0x4132a7f355555556),
            (100, 0xc13507a8aaaaaaaa),
            (127, 0xc1161d1eaaaaaaac),
            (128, 0xc115ae2eaaaaaaa8),
            (129, 0xc112feaeaaaaaaa8),
            (200, 0x4121b27800000004),
            (255, 0xc130a3f100000005),
            (256, 0xc130a424aaaaaaaa),
            (257, 0xc130a73755555554),
            (300, 0xc12755d400000008),
            (1000, 0xc12f685d55555552),
        ];
        for (n, bits) in expected {
            let values: Vec<f64> = (0..n)
                .map(|i| ((i * 7919) % 1000) as f64 - 500.0)
                .enumerate()
                .map(|(i, v)| v / 3.0 * 10f64.powi((i % 5) as i32))
                .collect();
            assert_eq!(numpy_sum(&values).to_bits(), bits, "n = {n}");
        }
    }
}
