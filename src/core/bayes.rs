//! scikit-learn's naive Bayes classifiers: a joint log-likelihood per class, `predict` its
//! argmax, `predict_proba` `exp(jll − logsumexp(jll))` as `predict_log_proba` does.

use serde::{Deserialize, Serialize};

use super::linear::numpy_sum;
use super::model::ClassLabels;
use crate::error::{Error, Result};

/// How the joint log-likelihood of a row is formed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum BayesKind {
    /// GaussianNB: `log prior_c − ½ Σ log(2π var_c) − ½ Σ (x − θ_c)² / var_c`.
    Gaussian {
        log_prior: Vec<f64>,
        /// `n_classes × n_features`.
        theta: Vec<f64>,
        var: Vec<f64>,
    },
    /// MultinomialNB, ComplementNB and BernoulliNB: `x · w_c + b_c`, the input binarized at
    /// `binarize` first for BernoulliNB.
    Linear {
        /// `n_classes × n_features`.
        weights: Vec<f64>,
        bias: Vec<f64>,
        binarize: Option<f64>,
    },
    /// CategoricalNB: `log prior_c + Σ_f table_f[c, x_f]`, `x_f` a category index.
    Categorical {
        log_prior: Vec<f64>,
        /// Per feature, `n_classes × n_categories[f]`.
        tables: Vec<Vec<f64>>,
        n_categories: Vec<usize>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NaiveBayes {
    pub kind: BayesKind,
    pub classes: ClassLabels,
    pub n_features: usize,
}

impl NaiveBayes {
    pub fn n_classes(&self) -> usize {
        self.classes.len()
    }

    pub fn validate(&self) -> Result<()> {
        let (k, f) = (self.n_classes(), self.n_features);
        let sized = |v: &[f64], n: usize, what: &str| -> Result<()> {
            if v.len() != n {
                return Err(Error::invalid_model(format!(
                    "naive Bayes: {what} has {} values, expected {n}",
                    v.len()
                )));
            }
            Ok(())
        };
        match &self.kind {
            BayesKind::Gaussian {
                log_prior,
                theta,
                var,
            } => {
                sized(log_prior, k, "class_prior_")?;
                sized(theta, k.saturating_mul(f), "theta_")?;
                sized(var, k.saturating_mul(f), "var_")?;
            }
            BayesKind::Linear { weights, bias, .. } => {
                sized(weights, k.saturating_mul(f), "feature_log_prob_")?;
                sized(bias, k, "class_log_prior_")?;
            }
            BayesKind::Categorical {
                log_prior,
                tables,
                n_categories,
            } => {
                sized(log_prior, k, "class_log_prior_")?;
                if tables.len() != f || n_categories.len() != f {
                    return Err(Error::invalid_model(format!(
                        "CategoricalNB: {} category tables for {f} features",
                        tables.len()
                    )));
                }
                for (t, n) in tables.iter().zip(n_categories) {
                    let cells = k.checked_mul(*n).ok_or_else(|| {
                        Error::invalid_model("CategoricalNB: category table size overflows")
                    })?;
                    sized(t, cells, "feature_log_prob_[f]")?;
                }
            }
        }
        if k < 2 {
            return Err(Error::invalid_model(
                "naive Bayes with fewer than 2 classes",
            ));
        }
        Ok(())
    }

    /// The joint log-likelihood of every row: `n_rows × n_classes`. CategoricalNB's category
    /// indices are checked first (an index it never saw is an error naming the row).
    pub fn joint_log_likelihood(&self, rows: &[f64], first_row: usize) -> Result<Vec<f64>> {
        self.check_categories(rows, first_row, &[])?;
        let (k, f) = (self.n_classes(), self.n_features.max(1));
        let mut out = Vec::with_capacity(rows.len() / f * k);
        match &self.kind {
            BayesKind::Gaussian {
                log_prior,
                theta,
                var,
            } => {
                let constants: Vec<f64> = (0..k)
                    .map(|c| {
                        let logs: Vec<f64> = var
                            .iter()
                            .skip(c * f)
                            .take(f)
                            .map(|v| (2.0 * std::f64::consts::PI * v).ln())
                            .collect();
                        -0.5 * numpy_sum(&logs)
                    })
                    .collect();
                let mut terms = vec![0.0; f];
                for row in rows.chunks_exact(f) {
                    for c in 0..k {
                        let (t, v) = (theta.iter().skip(c * f), var.iter().skip(c * f));
                        for (((slot, x), t), v) in terms.iter_mut().zip(row).zip(t).zip(v) {
                            let d = x - t;
                            *slot = d * d / v;
                        }
                        let n_ij =
                            constants.get(c).copied().unwrap_or(0.0) - 0.5 * numpy_sum(&terms);
                        out.push(log_prior.get(c).copied().unwrap_or(0.0) + n_ij);
                    }
                }
            }
            BayesKind::Linear {
                weights,
                bias,
                binarize,
            } => {
                for row in rows.chunks_exact(f) {
                    for c in 0..k {
                        let mut s = 0.0;
                        for (x, w) in row.iter().zip(weights.iter().skip(c * f)) {
                            let x = match binarize {
                                Some(t) => f64::from(u8::from(*x > *t)),
                                None => *x,
                            };
                            s += x * w;
                        }
                        out.push(s + bias.get(c).copied().unwrap_or(0.0));
                    }
                }
            }
            BayesKind::Categorical {
                log_prior,
                tables,
                n_categories,
            } => {
                for row in rows.chunks_exact(f) {
                    let start = out.len();
                    out.extend(std::iter::repeat_n(0.0, k));
                    for ((x, table), &n) in row.iter().zip(tables).zip(n_categories) {
                        // check_array(dtype=int) truncates toward zero.
                        let index = *x as usize;
                        for (c, slot) in out.iter_mut().skip(start).take(k).enumerate() {
                            let at = c.checked_mul(n).and_then(|b| b.checked_add(index));
                            *slot += at.and_then(|i| table.get(i)).copied().unwrap_or(f64::NAN);
                        }
                    }
                    for (slot, p) in out.iter_mut().skip(start).zip(log_prior) {
                        *slot += p;
                    }
                }
            }
        }
        Ok(out)
    }

    /// CategoricalNB takes category indices: non-negative and below each feature's count.
    pub fn check_categories(&self, rows: &[f64], first_row: usize, names: &[String]) -> Result<()> {
        let BayesKind::Categorical { n_categories, .. } = &self.kind else {
            return Ok(());
        };
        for (r, row) in rows.chunks_exact(self.n_features.max(1)).enumerate() {
            for (c, (x, &n)) in row.iter().zip(n_categories).enumerate() {
                if !(*x >= 0.0 && (*x as usize) < n) {
                    let name = names
                        .get(c)
                        .map(|n| format!(" ({n:?})"))
                        .unwrap_or_default();
                    return Err(Error::bad_input(format!(
                        "row {}, column {c}{name}: {x} is not a category index CategoricalNB \
                         saw (0 to {})",
                        first_row + r,
                        n.saturating_sub(1)
                    )));
                }
            }
        }
        Ok(())
    }
}

/// `exp(jll − logsumexp(jll))` per row, in place.
pub fn proba_from_jll(jll: &mut [f64], n_classes: usize) {
    for row in jll.chunks_exact_mut(n_classes.max(1)) {
        let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let shift = if max.is_finite() { max } else { 0.0 };
        let sum: f64 = row.iter().map(|v| (v - shift).exp()).sum();
        let log_norm = sum.ln() + shift;
        row.iter_mut().for_each(|v| *v = (*v - log_norm).exp());
    }
}
