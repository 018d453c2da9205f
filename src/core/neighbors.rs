//! Nearest-neighbour models by brute force over the stored training set: KNeighbors and
//! RadiusNeighbors classifiers and regressors, with uniform or distance weights.
//!
//! Neighbours are ordered by (distance, training index), so ties resolve the same way on every
//! run; scikit-learn's trees and partial sorts may pick another of several equidistant points
//! (only exact distance ties at the k-th place can differ).

use serde::{Deserialize, Serialize};

use super::model::ClassLabels;
use crate::error::{Error, Result};

/// The distance between rows.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Metric {
    /// `(Σ|x − y|^p)^(1/p)`; p = 1 and 2 use the manhattan/euclidean forms.
    Minkowski(f64),
    Chebyshev,
    /// `1 − x·y / (|x| |y|)`, clipped to [0, 2].
    Cosine,
}

impl Metric {
    fn distance(&self, x: &[f64], y: &[f64]) -> f64 {
        match *self {
            Metric::Minkowski(2.0) => x
                .iter()
                .zip(y)
                .fold(0.0, |s, (a, b)| {
                    let d = a - b;
                    s + d * d
                })
                .sqrt(),
            Metric::Minkowski(1.0) => x.iter().zip(y).fold(0.0, |s, (a, b)| s + (a - b).abs()),
            Metric::Minkowski(p) => x
                .iter()
                .zip(y)
                .fold(0.0, |s, (a, b)| s + (a - b).abs().powf(p))
                .powf(1.0 / p),
            Metric::Chebyshev => x.iter().zip(y).fold(0.0, |s, (a, b)| s.max((a - b).abs())),
            Metric::Cosine => {
                let norm = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>().sqrt();
                let (nx, ny) = (norm(x), norm(y));
                // scikit-learn normalises rows first (a zero row stays zero).
                let (nx, ny) = (
                    if nx == 0.0 { 1.0 } else { nx },
                    if ny == 0.0 { 1.0 } else { ny },
                );
                let sim: f64 = x.iter().zip(y).map(|(a, b)| (a / nx) * (b / ny)).sum();
                (1.0 - sim).clamp(0.0, 2.0)
            }
        }
    }
}

/// Which neighbours count.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Query {
    Nearest(usize),
    Radius(f64),
}

/// What is predicted from the neighbours' targets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum NeighborTask {
    Classifier {
        classes: ClassLabels,
        /// Class index of each training row.
        y: Vec<usize>,
        /// RadiusNeighborsClassifier's `outlier_label_` (a class index, or `None` for "no
        /// class": all-zero probabilities), used when a row has no neighbour; absent means
        /// such a row is an error.
        outlier: Option<Option<usize>>,
    },
    Regressor {
        /// `n_train × n_outputs`.
        y: Vec<f64>,
        n_outputs: usize,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Neighbors {
    /// `n_train × n_features`.
    pub fit_x: Vec<f64>,
    pub n_features: usize,
    pub metric: Metric,
    pub query: Query,
    pub distance_weights: bool,
    pub task: NeighborTask,
}

impl Neighbors {
    pub fn n_train(&self) -> usize {
        self.fit_x.len() / self.n_features.max(1)
    }

    pub fn classes(&self) -> Option<&ClassLabels> {
        match &self.task {
            NeighborTask::Classifier { classes, .. } => Some(classes),
            NeighborTask::Regressor { .. } => None,
        }
    }

    pub fn n_outputs(&self) -> usize {
        match &self.task {
            NeighborTask::Classifier { .. } => 1,
            NeighborTask::Regressor { n_outputs, .. } => *n_outputs,
        }
    }

    pub fn validate(&self) -> Result<()> {
        let n = self.n_train();
        let bad = |m: String| Err(Error::invalid_model(format!("nearest neighbours: {m}")));
        if n == 0 || self.fit_x.len() != n.saturating_mul(self.n_features) {
            return bad("_fit_X does not match n_features".into());
        }
        if !self.fit_x.iter().all(|v| v.is_finite()) {
            return bad("_fit_X is not finite".into());
        }
        match self.query {
            Query::Nearest(k) if k == 0 || k > n => {
                return bad(format!("n_neighbors is {k} for {n} training rows"))
            }
            Query::Radius(r) if !(r >= 0.0 && r.is_finite()) => {
                return bad(format!("radius {r} is not a finite non-negative number"))
            }
            _ => {}
        }
        if let Metric::Minkowski(p) = self.metric {
            if !(p >= 1.0 && p.is_finite()) {
                return bad(format!("minkowski p = {p}"));
            }
        }
        match &self.task {
            NeighborTask::Classifier {
                classes,
                y,
                outlier,
            } => {
                let k = classes.len();
                if y.len() != n || y.iter().any(|c| *c >= k) {
                    return bad("_y does not index classes_ for every training row".into());
                }
                if outlier.flatten().is_some_and(|c| c >= k) {
                    return bad("outlier_label_ is not a class".into());
                }
            }
            NeighborTask::Regressor { y, n_outputs } => {
                if y.len() != n.saturating_mul(*n_outputs) || *n_outputs == 0 {
                    return bad("_y does not have one target row per training row".into());
                }
            }
        }
        Ok(())
    }

    /// The neighbours of a row: (training index, distance), nearest first.
    fn neighbors(&self, row: &[f64]) -> Vec<(usize, f64)> {
        let mut all: Vec<(f64, usize)> = self
            .fit_x
            .chunks_exact(self.n_features.max(1))
            .map(|t| self.metric.distance(row, t))
            .zip(0..)
            .collect();
        if let Query::Radius(r) = self.query {
            all.retain(|(d, _)| *d <= r);
        }
        // One sort for both queries, shared with the selectors (one copy in the wasm).
        super::numeric_transforms::sort_by_value(&mut all);
        if let Query::Nearest(k) = self.query {
            all.truncate(k);
        }
        all.into_iter().map(|(d, i)| (i, d)).collect()
    }

    /// scikit-learn's `_get_weights`: 1/d, and where a distance is 0 those neighbours only.
    fn weights(&self, found: &[(usize, f64)]) -> Vec<f64> {
        if !self.distance_weights {
            return vec![1.0; found.len()];
        }
        let inverse: Vec<f64> = found.iter().map(|(_, d)| 1.0 / d).collect();
        if inverse.iter().any(|w| w.is_infinite()) {
            inverse
                .iter()
                .map(|w| f64::from(u8::from(w.is_infinite())))
                .collect()
        } else {
            inverse
        }
    }

    /// Per row, the class weights (classifiers, `n_classes` each) or the predicted targets
    /// (regressors, `n_outputs` each). A classifier row without neighbours and without an
    /// outlier label is an error naming the row.
    fn per_row(&self, rows: &[f64], first_row: usize, proba: bool) -> Result<Vec<f64>> {
        let mut out = Vec::new();
        for (r, row) in rows.chunks_exact(self.n_features.max(1)).enumerate() {
            let found = self.neighbors(row);
            let w = self.weights(&found);
            match &self.task {
                NeighborTask::Classifier {
                    classes,
                    y,
                    outlier,
                } => {
                    let k = classes.len();
                    let mut votes = vec![0.0; k];
                    for ((i, _), wi) in found.iter().zip(&w) {
                        if let Some(v) = y.get(*i).and_then(|c| votes.get_mut(*c)) {
                            *v += wi;
                        }
                    }
                    if found.is_empty() {
                        match outlier {
                            Some(label) => {
                                votes = vec![0.0; k];
                                if let Some(v) = label.and_then(|c| votes.get_mut(c)) {
                                    *v = 1.0;
                                }
                            }
                            None => {
                                return Err(Error::bad_input(format!(
                                    "row {}: no training row lies within the radius and the \
                                     model has no outlier_label",
                                    first_row + r
                                )))
                            }
                        }
                    }
                    if proba {
                        let total: f64 = votes.iter().sum();
                        if total > 0.0 {
                            votes.iter_mut().for_each(|v| *v /= total);
                        }
                    }
                    out.extend(votes);
                }
                NeighborTask::Regressor { y, n_outputs } => {
                    for o in 0..*n_outputs {
                        let target =
                            |i: usize| y.get(i * n_outputs + o).copied().unwrap_or(f64::NAN);
                        if found.is_empty() {
                            out.push(f64::NAN);
                        } else if self.distance_weights {
                            let num: f64 = found
                                .iter()
                                .zip(&w)
                                .map(|((i, _), wi)| target(*i) * wi)
                                .sum();
                            let den: f64 = w.iter().sum();
                            out.push(num / den);
                        } else {
                            let sum: f64 = found.iter().map(|(i, _)| target(*i)).sum();
                            out.push(sum / found.len() as f64);
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// Class index per row, or the regression targets.
    pub fn predict(&self, rows: &[f64], first_row: usize) -> Result<Vec<f64>> {
        let out = self.per_row(rows, first_row, false)?;
        Ok(match &self.task {
            NeighborTask::Classifier { classes, .. } => out
                .chunks_exact(classes.len().max(1))
                .map(|v| super::tree_models::argmax(v) as f64)
                .collect(),
            NeighborTask::Regressor { .. } => out,
        })
    }

    pub fn predict_proba(&self, rows: &[f64], first_row: usize) -> Result<Vec<f64>> {
        self.per_row(rows, first_row, true)
    }
}
