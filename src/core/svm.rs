//! Kernel support vector machines as scikit-learn's libsvm evaluates them: SVC and NuSVC
//! (one-vs-one decision values, votes, `decision_function_shape`, pairwise-coupled
//! probabilities), SVR and NuSVR, OneClassSVM.
//!
//! The arithmetic follows libsvm's dense code: kernels summed feature by feature in order,
//! `powi` by repeated squaring, decision values summed over class i's then class j's support
//! vectors, Platt sigmoids clipped to [1e-7, 1 − 1e-7], and Wu–Lin–Weng coupling iterated
//! exactly as `multiclass_probability` does.

use serde::{Deserialize, Serialize};

use super::model::ClassLabels;
use crate::error::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Kernel {
    Linear,
    Poly { gamma: f64, coef0: f64, degree: i32 },
    Rbf { gamma: f64 },
    Sigmoid { gamma: f64, coef0: f64 },
}

impl Kernel {
    fn eval(&self, x: &[f64], y: &[f64]) -> f64 {
        let dot = || x.iter().zip(y).fold(0.0, |s, (a, b)| s + a * b);
        match *self {
            Kernel::Linear => dot(),
            Kernel::Poly {
                gamma,
                coef0,
                degree,
            } => powi(gamma * dot() + coef0, degree),
            Kernel::Rbf { gamma } => {
                let sum = x.iter().zip(y).fold(0.0, |s, (a, b)| {
                    let d = a - b;
                    s + d * d
                });
                (-gamma * sum).exp()
            }
            Kernel::Sigmoid { gamma, coef0 } => (gamma * dot() + coef0).tanh(),
        }
    }
}

/// libsvm's `powi`: repeated squaring.
fn powi(base: f64, times: i32) -> f64 {
    let (mut tmp, mut ret) = (base, 1.0);
    let mut t = times;
    while t > 0 {
        if t % 2 == 1 {
            ret *= tmp;
        }
        tmp *= tmp;
        t /= 2;
    }
    ret
}

/// What the machine predicts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SvmTask {
    Classifier {
        classes: ClassLabels,
        /// Support vectors per class, in class order.
        n_support: Vec<usize>,
        /// Platt parameters per class pair (`probability=True`).
        probability: Option<(Vec<f64>, Vec<f64>)>,
        /// `decision_function_shape='ovr'` (the default).
        ovr: bool,
        break_ties: bool,
    },
    Regressor,
    /// OneClassSVM; `offset` is `offset_` (score_samples = decision + offset).
    OneClass {
        offset: f64,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Svm {
    pub task: SvmTask,
    pub kernel: Kernel,
    /// `n_sv × n_features`, row-major.
    pub support_vectors: Vec<f64>,
    /// libsvm's `sv_coef`: `(n_classes − 1) × n_sv` (one row for regression / one-class).
    pub dual_coef: Vec<f64>,
    /// libsvm's `rho` per class pair (−`_intercept_`).
    pub rho: Vec<f64>,
    pub n_features: usize,
}

impl Svm {
    pub fn n_sv(&self) -> usize {
        self.support_vectors.len() / self.n_features.max(1)
    }

    fn n_classes(&self) -> usize {
        match &self.task {
            SvmTask::Classifier { classes, .. } => classes.len(),
            _ => 2,
        }
    }

    pub fn classes(&self) -> Option<&ClassLabels> {
        match &self.task {
            SvmTask::Classifier { classes, .. } => Some(classes),
            _ => None,
        }
    }

    pub fn validate(&self) -> Result<()> {
        let n_sv = self.n_sv();
        let bad = |m: String| Err(Error::invalid_model(format!("support vector machine: {m}")));
        if self.support_vectors.len() != n_sv.saturating_mul(self.n_features) || n_sv == 0 {
            return bad("support_vectors_ does not match n_features".into());
        }
        let k = self.n_classes();
        let (rows, pairs) = match &self.task {
            SvmTask::Classifier {
                n_support,
                probability,
                ..
            } => {
                if n_support.len() != k || n_support.iter().sum::<usize>() != n_sv || k < 2 {
                    return bad("n_support_ does not add up to the support vectors".into());
                }
                if let Some((a, b)) = probability {
                    if a.len() != k.saturating_mul(k - 1) / 2 || b.len() != a.len() {
                        return bad("probA_/probB_ do not have one entry per class pair".into());
                    }
                }
                (k - 1, k.saturating_mul(k - 1) / 2)
            }
            _ => (1, 1),
        };
        if self.dual_coef.len() != rows.saturating_mul(n_sv) {
            return bad(format!(
                "dual_coef_ has {} values for {rows} × {n_sv}",
                self.dual_coef.len()
            ));
        }
        if self.rho.len() != pairs {
            return bad(format!(
                "intercept_ has {} values for {pairs} decisions",
                self.rho.len()
            ));
        }
        let finite = |v: &[f64]| v.iter().all(|x| x.is_finite());
        if !finite(&self.support_vectors) || !finite(&self.dual_coef) || !finite(&self.rho) {
            return bad("non-finite support vectors or coefficients".into());
        }
        Ok(())
    }

    /// libsvm's decision values for one row: one per class pair (i < j), or one.
    fn decision_values(&self, row: &[f64], kvalue: &mut Vec<f64>, out: &mut Vec<f64>) {
        let f = self.n_features.max(1);
        kvalue.clear();
        kvalue.extend(
            self.support_vectors
                .chunks_exact(f)
                .map(|sv| self.kernel.eval(row, sv)),
        );
        out.clear();
        let n_sv = kvalue.len();
        match &self.task {
            SvmTask::Classifier { n_support, .. } => {
                // Class c's support vectors are kvalue[start[c] .. start[c] + n_support[c]].
                let start: Vec<usize> = n_support
                    .iter()
                    .scan(0, |acc, n| {
                        let s = *acc;
                        *acc += n;
                        Some(s)
                    })
                    .collect();
                let k = n_support.len();
                let mut p = 0;
                for i in 0..k {
                    for j in i + 1..k {
                        // libsvm sums class i's part, then class j's, into one accumulator.
                        let (si, ni) = (
                            start.get(i).copied().unwrap_or(0),
                            n_support.get(i).copied().unwrap_or(0),
                        );
                        let mut sum = self
                            .dual_coef
                            .iter()
                            .skip((j - 1) * n_sv + si)
                            .take(ni)
                            .zip(kvalue.iter().skip(si).take(ni))
                            .fold(0.0, |sum, (c, k)| sum + c * k);
                        let (sj, nj) = (
                            start.get(j).copied().unwrap_or(0),
                            n_support.get(j).copied().unwrap_or(0),
                        );
                        sum = self
                            .dual_coef
                            .iter()
                            .skip(i * n_sv + sj)
                            .take(nj)
                            .zip(kvalue.iter().skip(sj).take(nj))
                            .fold(sum, |sum, (c, k)| sum + c * k);
                        out.push(sum - self.rho.get(p).copied().unwrap_or(0.0));
                        p += 1;
                    }
                }
            }
            _ => {
                let sum = self
                    .dual_coef
                    .iter()
                    .zip(kvalue.iter())
                    .fold(0.0, |s, (c, k)| s + c * k);
                out.push(sum - self.rho.first().copied().unwrap_or(0.0));
            }
        }
    }

    /// Decision values of every row (`n_rows × n_decisions`), libsvm's sign convention.
    fn all_decisions(&self, rows: &[f64]) -> (Vec<f64>, usize) {
        let mut kvalue = Vec::with_capacity(self.n_sv());
        let mut dec = Vec::new();
        let mut out = Vec::new();
        for row in rows.chunks_exact(self.n_features.max(1)) {
            self.decision_values(row, &mut kvalue, &mut dec);
            out.extend_from_slice(&dec);
        }
        let width = self.rho.len().max(1);
        (out, width)
    }

    /// scikit-learn's `decision_function`: binary SVC flips the sign; more than two classes
    /// with `decision_function_shape='ovr'` get `_ovr_decision_function`.
    pub fn decision_function(&self, rows: &[f64]) -> (Vec<f64>, usize) {
        let (mut dec, width) = self.all_decisions(rows);
        match &self.task {
            SvmTask::Classifier { classes, ovr, .. } => {
                let k = classes.len();
                if k == 2 {
                    dec.iter_mut().for_each(|v| *v = -*v);
                    (dec, 1)
                } else if *ovr {
                    (ovr_decision(&dec, k), k)
                } else {
                    (dec, width)
                }
            }
            _ => (dec, 1),
        }
    }

    /// Class index per row (classifiers), or the regression / ±1 outputs.
    pub fn predict(&self, rows: &[f64]) -> Vec<f64> {
        let (dec, width) = self.all_decisions(rows);
        match &self.task {
            SvmTask::Classifier {
                classes,
                ovr,
                break_ties,
                ..
            } => {
                let k = classes.len();
                if *break_ties && *ovr && k > 2 {
                    return ovr_decision(&dec, k)
                        .chunks_exact(k)
                        .map(|r| super::tree_models::argmax(r) as f64)
                        .collect();
                }
                dec.chunks_exact(width)
                    .map(|d| {
                        let mut votes = vec![0u32; k];
                        let mut p = 0;
                        for i in 0..k {
                            for j in i + 1..k {
                                let winner = if d.get(p).is_some_and(|v| *v > 0.0) {
                                    i
                                } else {
                                    j
                                };
                                if let Some(v) = votes.get_mut(winner) {
                                    *v += 1;
                                }
                                p += 1;
                            }
                        }
                        // The first class with the most votes.
                        let most = votes.iter().copied().max().unwrap_or(0);
                        votes.iter().position(|v| *v == most).unwrap_or(0) as f64
                    })
                    .collect()
            }
            SvmTask::Regressor => dec,
            SvmTask::OneClass { .. } => dec
                .iter()
                .map(|v| if *v > 0.0 { 1.0 } else { -1.0 })
                .collect(),
        }
    }

    /// OneClassSVM's `score_samples`: decision + `offset_`.
    pub fn score_samples(&self, rows: &[f64]) -> Vec<f64> {
        let offset = match &self.task {
            SvmTask::OneClass { offset } => *offset,
            _ => 0.0,
        };
        let (dec, _) = self.all_decisions(rows);
        dec.into_iter().map(|d| d + offset).collect()
    }

    pub fn has_probability(&self) -> bool {
        matches!(
            &self.task,
            SvmTask::Classifier {
                probability: Some(_),
                ..
            }
        )
    }

    /// libsvm's `svm_predict_probability`.
    pub fn predict_proba(&self, rows: &[f64]) -> Vec<f64> {
        let SvmTask::Classifier {
            classes,
            probability: Some((prob_a, prob_b)),
            ..
        } = &self.task
        else {
            return Vec::new();
        };
        let k = classes.len();
        let (dec, width) = self.all_decisions(rows);
        let min_prob = 1e-7;
        let mut out = Vec::with_capacity(dec.len() / width * k);
        let mut r = Square::new(k);
        for d in dec.chunks_exact(width) {
            let mut p = 0;
            for i in 0..k {
                for j in i + 1..k {
                    let a = prob_a.get(p).copied().unwrap_or(0.0);
                    let b = prob_b.get(p).copied().unwrap_or(0.0);
                    let v = sigmoid_predict(d.get(p).copied().unwrap_or(0.0), a, b)
                        .max(min_prob)
                        .min(1.0 - min_prob);
                    r.set(i, j, v);
                    r.set(j, i, 1.0 - v);
                    p += 1;
                }
            }
            // scikit-learn's libsvm couples two classes iteratively too (no closed form).
            out.extend(multiclass_probability(&r));
        }
        out
    }
}

fn sigmoid_predict(decision: f64, a: f64, b: f64) -> f64 {
    let f = decision * a + b;
    if f >= 0.0 {
        (-f).exp() / (1.0 + (-f).exp())
    } else {
        1.0 / (1.0 + f.exp())
    }
}

/// A small k × k matrix read with bounds-checked accessors.
struct Square {
    n: usize,
    v: Vec<f64>,
}

impl Square {
    fn new(n: usize) -> Self {
        Square {
            n,
            v: vec![0.0; n * n],
        }
    }

    fn at(&self, i: usize, j: usize) -> f64 {
        self.v.get(i * self.n + j).copied().unwrap_or(0.0)
    }

    fn set(&mut self, i: usize, j: usize, value: f64) {
        if let Some(slot) = self.v.get_mut(i * self.n + j) {
            *slot = value;
        }
    }
}

/// libsvm's `multiclass_probability` (Wu, Lin and Weng's second method), step for step.
fn multiclass_probability(r: &Square) -> Vec<f64> {
    let k = r.n;
    let max_iter = k.max(100);
    let eps = 0.005 / k as f64;
    let mut p = vec![1.0 / k as f64; k];
    let mut q = Square::new(k);
    for t in 0..k {
        for j in 0..t {
            q.set(t, t, q.at(t, t) + r.at(j, t) * r.at(j, t));
            q.set(t, j, q.at(j, t));
        }
        for j in t + 1..k {
            q.set(t, t, q.at(t, t) + r.at(j, t) * r.at(j, t));
            q.set(t, j, -r.at(j, t) * r.at(t, j));
        }
    }
    let mut qp = vec![0.0; k];
    for _ in 0..max_iter {
        let mut pqp = 0.0;
        for (t, qp_t) in qp.iter_mut().enumerate() {
            *qp_t = 0.0;
            for (j, p_j) in p.iter().enumerate() {
                *qp_t += q.at(t, j) * p_j;
            }
            pqp += p.get(t).copied().unwrap_or(0.0) * *qp_t;
        }
        let max_error = qp.iter().map(|v| (v - pqp).abs()).fold(0.0, f64::max);
        if max_error < eps {
            break;
        }
        for t in 0..k {
            let qp_t = qp.get(t).copied().unwrap_or(0.0);
            let diff = (-qp_t + pqp) / q.at(t, t);
            if let Some(p_t) = p.get_mut(t) {
                *p_t += diff;
            }
            pqp = (pqp + diff * (diff * q.at(t, t) + 2.0 * qp_t)) / (1.0 + diff) / (1.0 + diff);
            for (j, (qp_j, p_j)) in qp.iter_mut().zip(p.iter_mut()).enumerate() {
                *qp_j = (*qp_j + diff * q.at(t, j)) / (1.0 + diff);
                *p_j /= 1.0 + diff;
            }
        }
    }
    p
}

/// scikit-learn's `_ovr_decision_function(dec < 0, -dec, k)`: votes plus confidences squashed
/// into (−1/3, 1/3).
fn ovr_decision(dec: &[f64], k: usize) -> Vec<f64> {
    let width = k * (k - 1) / 2;
    let mut out = Vec::with_capacity(dec.len() / width.max(1) * k);
    for d in dec.chunks_exact(width.max(1)) {
        let mut votes = vec![0.0; k];
        let mut conf = vec![0.0; k];
        let mut p = 0;
        for i in 0..k {
            for j in i + 1..k {
                let v = d.get(p).copied().unwrap_or(0.0);
                // predictions = dec < 0 (1 means class j), confidences = −dec.
                if let Some(c) = conf.get_mut(i) {
                    *c -= -v;
                }
                if let Some(c) = conf.get_mut(j) {
                    *c += -v;
                }
                if let Some(vote) = votes.get_mut(if v < 0.0 { j } else { i }) {
                    *vote += 1.0;
                }
                p += 1;
            }
        }
        for (v, c) in votes.iter().zip(&conf) {
            out.push(v + c / (3.0 * (c.abs() + 1.0)));
        }
    }
    out
}
