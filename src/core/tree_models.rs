//! Estimators built on [`TreeEnsemble`]: averaged forests (and single trees) and gradient
//! boosting, with the post-processing each scikit-learn version applies.

use serde::{Deserialize, Serialize};

use super::input::Rows;
use super::linear::{expit, softmax_in_place};
use super::model::ClassLabels;
use super::trees::TreeEnsemble;
use crate::error::{Error, Result};

/// Rows cast to f32, as scikit-learn's tree models do before traversal.
pub fn rows_f32(x: &Rows) -> Vec<f32> {
    x.iter().flatten().map(|&v| v as f32).collect()
}

fn sums(trees: &TreeEnsemble, x: &Rows, base: &[f64]) -> Vec<f64> {
    let mut out: Vec<f64> = (0..x.n_rows()).flat_map(|_| base.iter().copied()).collect();
    trees.accumulate(&rows_f32(x), &mut out);
    out
}

/// Index of the first maximum (numpy `argmax`).
pub fn argmax(row: &[f64]) -> usize {
    let mut best = 0;
    for (i, v) in row.iter().enumerate() {
        if row.get(best).is_some_and(|b| v > b) {
            best = i;
        }
    }
    best
}

/// Random forests, extra trees and single decision trees: per-tree outputs (class
/// probabilities, or values) summed in tree order and divided by the tree count.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AveragedTrees {
    pub trees: TreeEnsemble,
    /// `None` for regressors.
    pub classes: Option<ClassLabels>,
    /// The number of trees (scikit-learn divides; it does not multiply by a reciprocal).
    pub divisor: f64,
}

impl AveragedTrees {
    pub fn validate(&self) -> Result<()> {
        self.trees.validate()?;
        let width = match &self.classes {
            Some(c) if c.len() >= 2 => c.len(),
            Some(c) => {
                return Err(Error::invalid_model(format!(
                    "{} classes; a classifier needs at least 2",
                    c.len()
                )))
            }
            None => 1,
        };
        if self.trees.n_outputs() != width || self.divisor.is_nan() || self.divisor < 1.0 {
            return Err(Error::invalid_model(
                "forest outputs disagree with its classes",
            ));
        }
        Ok(())
    }

    /// Averaged outputs, `n_rows × n_outputs`.
    pub fn outputs(&self, x: &Rows) -> Vec<f64> {
        let mut out = sums(&self.trees, x, &vec![0.0; self.trees.n_outputs()]);
        out.iter_mut().for_each(|v| *v /= self.divisor);
        out
    }
}

/// How boosted raw scores become probabilities and labels, per loss and scikit-learn version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BoostLink {
    /// Binary: `p = expit(raw)` (`expit(2·raw)` when `half`, the exponential loss).
    /// `argmax_proba`: ≤ 1.3 binomial deviance predicts `argmax([1-p, p])` (ties → class 0);
    /// otherwise the label is `raw >= 0`.
    Logit { half: bool, argmax_proba: bool },
    /// Multiclass ≥ 1.4: softmax; label = argmax of raw scores.
    Softmax,
    /// Multiclass ≤ 1.3: `exp(raw - logsumexp(raw))`; label = argmax of those probabilities.
    ExpMinusLogSumExp,
}

/// Gradient boosting: `raw = init + Σ learning_rate · leaf` in stage order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoostedTrees {
    pub trees: TreeEnsemble,
    /// Initial raw score per output column.
    pub init: Vec<f64>,
    /// `None` for regressors (identity link).
    pub classes: Option<ClassLabels>,
    pub link: Option<BoostLink>,
}

impl BoostedTrees {
    pub fn validate(&self) -> Result<()> {
        self.trees.validate()?;
        let n = self.trees.n_outputs();
        if self.init.len() != n || self.init.iter().any(|v| !v.is_finite()) {
            return Err(Error::invalid_model(
                "boosting init scores disagree with its outputs or are not finite",
            ));
        }
        match (&self.classes, self.link) {
            (None, None) if n == 1 => Ok(()),
            (Some(c), Some(BoostLink::Logit { .. })) if c.len() == 2 && n == 1 => Ok(()),
            (Some(c), Some(BoostLink::Softmax | BoostLink::ExpMinusLogSumExp))
                if c.len() > 2 && c.len() == n =>
            {
                Ok(())
            }
            _ => Err(Error::invalid_model(
                "boosting classes, link and output columns disagree",
            )),
        }
    }

    pub fn raw(&self, x: &Rows) -> Vec<f64> {
        sums(&self.trees, x, &self.init)
    }

    /// Probabilities from raw scores, `n_rows × n_classes`.
    pub fn proba_from_raw(&self, raw: &[f64]) -> Vec<f64> {
        match self.link {
            Some(BoostLink::Logit { half, .. }) => raw
                .iter()
                .flat_map(|&r| {
                    let p = expit(if half { 2.0 * r } else { r });
                    [1.0 - p, p]
                })
                .collect(),
            Some(BoostLink::Softmax) => {
                let mut out = raw.to_vec();
                let k = self.trees.n_outputs().max(1);
                out.chunks_exact_mut(k).for_each(softmax_in_place);
                out
            }
            Some(BoostLink::ExpMinusLogSumExp) => {
                let k = self.trees.n_outputs().max(1);
                let mut out = raw.to_vec();
                for row in out.chunks_exact_mut(k) {
                    let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let sum: f64 = row.iter().map(|v| (v - max).exp()).sum();
                    let lse = sum.ln() + max;
                    for v in row.iter_mut() {
                        let p = (*v - lse).exp();
                        *v = if p.is_nan() { 0.0 } else { p };
                    }
                }
                out
            }
            None => raw.to_vec(),
        }
    }

    /// Predicted class index per row.
    pub fn labels(&self, raw: &[f64]) -> Vec<usize> {
        let k = self.trees.n_outputs().max(1);
        match self.link {
            Some(BoostLink::Logit {
                argmax_proba: true,
                half,
            }) => raw
                .iter()
                .map(|&r| {
                    let p = expit(if half { 2.0 * r } else { r });
                    usize::from(p > 1.0 - p)
                })
                .collect(),
            Some(BoostLink::Logit {
                argmax_proba: false,
                ..
            }) => raw.iter().map(|&r| usize::from(r >= 0.0)).collect(),
            Some(BoostLink::Softmax) | None => raw.chunks_exact(k).map(argmax).collect(),
            Some(BoostLink::ExpMinusLogSumExp) => self
                .proba_from_raw(raw)
                .chunks_exact(k)
                .map(argmax)
                .collect(),
        }
    }
}
