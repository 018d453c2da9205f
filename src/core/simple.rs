//! Estimators whose fitted state is a handful of vectors: the dummy baselines, and the
//! centroid models (KMeans / MiniBatchKMeans clusters, NearestCentroid classes).

use serde::{Deserialize, Serialize};

use super::model::ClassLabels;
use super::tree_models::argmax;
use crate::error::{Error, Result};

/// `DummyClassifier` (prior, most_frequent, constant) and `DummyRegressor`: the same answer
/// for every row, whatever it holds (scikit-learn does not look at `X`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dummy {
    pub n_features: usize,
    /// Classifiers only.
    pub classes: Option<ClassLabels>,
    /// Classifier: the `predict_proba` row; regressor: `constant_` (one value per output).
    pub values: Vec<f64>,
    /// Classifier: index of the class `predict` returns.
    pub predicted: usize,
    /// Fitted before scikit-learn 1.5, which recorded no input width: any column count is
    /// accepted (`n_features` is 0).
    pub any_width: bool,
}

impl Dummy {
    pub fn validate(&self) -> Result<()> {
        let ok = match &self.classes {
            Some(c) => c.len() == self.values.len() && self.predicted < c.len(),
            None => !self.values.is_empty(),
        };
        if !ok || self.values.iter().any(|v| !v.is_finite()) {
            return Err(Error::invalid_model(
                "Dummy estimator: classes_, class_prior_/constant_ disagree or are not finite",
            ));
        }
        Ok(())
    }

    /// Outputs per row: the class probabilities, or the regression constants.
    pub fn width(&self) -> usize {
        self.values.len()
    }

    /// `values` repeated once per row.
    pub fn tiled(&self, n_rows: usize) -> Vec<f64> {
        let mut out = Vec::with_capacity(n_rows * self.values.len());
        for _ in 0..n_rows {
            out.extend_from_slice(&self.values);
        }
        out
    }
}

/// How centroid models measure the distance to a centre.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CentroidMetric {
    /// Squared euclidean, computed as scikit-learn's BLAS path does:
    /// `‖c‖² − 2 x·c` (plus `‖x‖²` where the value itself is returned).
    Euclidean,
    /// `Σ |x − c|`.
    Manhattan,
}

/// NearestCentroid's discriminant scores (scikit-learn ≥ 1.6): `−d² + 2 log prior`, with `d`
/// the distance between `x / s` and `c / s` (`s` the within-class deviation, 1 where it is 0).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Discriminant {
    pub std_dev: Vec<f64>,
    pub log_prior: Vec<f64>,
    /// Priors all equal: `predict` is the nearest centroid (scikit-learn's shortcut), not the
    /// score argmax.
    pub uniform_prior: bool,
}

/// KMeans / MiniBatchKMeans (`classes` absent: `predict` gives the cluster index) and
/// NearestCentroid (`classes` present).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Centroids {
    /// `n_centers × n_features`, row-major.
    pub centers: Vec<f64>,
    pub n_centers: usize,
    pub n_features: usize,
    pub metric: CentroidMetric,
    pub classes: Option<ClassLabels>,
    pub discriminant: Option<Discriminant>,
}

impl Centroids {
    pub fn validate(&self) -> Result<()> {
        let shape_ok = self.centers.len() == self.n_centers.saturating_mul(self.n_features)
            && self.n_centers > 0
            && self
                .classes
                .as_ref()
                .is_none_or(|c| c.len() == self.n_centers);
        let disc_ok = self.discriminant.as_ref().is_none_or(|d| {
            d.std_dev.len() == self.n_features
                && d.log_prior.len() == self.n_centers
                && d.std_dev.iter().all(|s| s.is_finite() && *s >= 0.0)
                && d.log_prior.iter().all(|p| !p.is_nan())
        });
        if !shape_ok || !disc_ok || self.centers.iter().any(|v| !v.is_finite()) {
            return Err(Error::invalid_model(
                "centroid model: centres, classes and priors disagree in shape or are not finite",
            ));
        }
        Ok(())
    }

    fn centers(&self) -> std::slice::ChunksExact<'_, f64> {
        self.centers.chunks_exact(self.n_features.max(1))
    }

    /// Index of the nearest centre per row (the first on ties, as numpy's argmin).
    pub fn nearest(&self, x: &[f64]) -> Vec<usize> {
        let norms: Vec<f64> = self.centers().map(|c| dot(c, c)).collect();
        x.chunks_exact(self.n_features.max(1))
            .map(|row| {
                let mut best = (0, f64::INFINITY);
                for (j, c) in self.centers().enumerate() {
                    let d = match self.metric {
                        CentroidMetric::Euclidean => {
                            norms.get(j).copied().unwrap_or(0.0) - 2.0 * dot(row, c)
                        }
                        CentroidMetric::Manhattan => manhattan(row, c),
                    };
                    if j == 0 || d < best.1 {
                        best = (j, d);
                    }
                }
                best.0
            })
            .collect()
    }

    /// KMeans `transform`: the euclidean distance to every centre, `n_rows × n_centers`,
    /// as `euclidean_distances` computes it (`‖x‖² − 2 x·c + ‖c‖²`, clipped at 0).
    pub fn distances(&self, x: &[f64]) -> Vec<f64> {
        let norms: Vec<f64> = self.centers().map(|c| dot(c, c)).collect();
        let mut out = Vec::with_capacity(x.len() / self.n_features.max(1) * self.n_centers);
        for row in x.chunks_exact(self.n_features.max(1)) {
            let xx = dot(row, row);
            for (c, cc) in self.centers().zip(&norms) {
                let d = -2.0 * dot(row, c) + xx + cc;
                out.push(d.max(0.0).sqrt());
            }
        }
        out
    }

    /// NearestCentroid's discriminant scores, `n_rows × n_classes`.
    pub fn scores(&self, x: &[f64]) -> Option<Vec<f64>> {
        let d = self.discriminant.as_ref()?;
        let scale = |v: &[f64]| -> Vec<f64> {
            v.iter()
                .zip(&d.std_dev)
                .map(|(a, s)| if *s != 0.0 { a / s } else { *a })
                .collect()
        };
        let centers: Vec<Vec<f64>> = self.centers().map(scale).collect();
        let norms: Vec<f64> = centers.iter().map(|c| dot(c, c)).collect();
        let mut out = Vec::with_capacity(x.len() / self.n_features.max(1) * self.n_centers);
        for row in x.chunks_exact(self.n_features.max(1)) {
            let row = scale(row);
            let xx = dot(&row, &row);
            for ((c, cc), lp) in centers.iter().zip(&norms).zip(&d.log_prior) {
                // scikit-learn takes the distance (a square root) and squares it again.
                let dist = match self.metric {
                    CentroidMetric::Euclidean => (-2.0 * dot(&row, c) + xx + cc).max(0.0).sqrt(),
                    CentroidMetric::Manhattan => manhattan(&row, c),
                };
                out.push(-(dist * dist) + 2.0 * lp);
            }
        }
        Some(out)
    }

    /// Predicted centre (cluster or class index) per row.
    pub fn predict(&self, x: &[f64]) -> Vec<usize> {
        match (&self.discriminant, self.scores(x)) {
            (Some(d), Some(scores)) if !d.uniform_prior => scores
                .chunks_exact(self.n_centers.max(1))
                .map(argmax)
                .collect(),
            _ => self.nearest(x),
        }
    }

    /// Whether `predict_proba` and `decision_function` exist (scikit-learn ≥ 1.6, euclidean).
    pub fn has_scores(&self) -> bool {
        self.classes.is_some()
            && self.discriminant.is_some()
            && self.metric == CentroidMetric::Euclidean
    }

    /// `predict_proba` from the discriminant scores (a softmax, as scikit-learn's
    /// `exp(predict_log_proba)`).
    pub fn proba(&self, x: &[f64]) -> Option<Vec<f64>> {
        let mut scores = self.scores(x)?;
        for row in scores.chunks_exact_mut(self.n_centers.max(1)) {
            let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            row.iter_mut().for_each(|v| *v -= max);
            let log_sum = row.iter().map(|v| v.exp()).sum::<f64>().ln();
            row.iter_mut().for_each(|v| *v = (*v - log_sum).exp());
        }
        Some(scores)
    }

    /// `decision_function`: the scores, or for two classes `score₁ − score₀`.
    pub fn decision(&self, x: &[f64]) -> Option<(Vec<f64>, usize)> {
        let scores = self.scores(x)?;
        if self.n_centers == 2 {
            let out = scores
                .chunks_exact(2)
                .map(|r| match r {
                    [a, b] => b - a,
                    _ => f64::NAN,
                })
                .collect();
            return Some((out, 1));
        }
        Some((scores, self.n_centers))
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn manhattan(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum()
}
