//! Preprocessing steps that run before an estimator (a scikit-learn `Pipeline`'s transformers).
//!
//! They keep scikit-learn's exact arithmetic: StandardScaler subtracts then divides (it does not
//! multiply by a reciprocal), MinMaxScaler multiplies then adds, then clips.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Transform {
    /// `StandardScaler`: `(x - mean) / scale`; either part may be off (`with_mean=False`, …).
    Standardize {
        mean: Option<Vec<f64>>,
        scale: Option<Vec<f64>>,
        n_features: usize,
    },
    /// `MinMaxScaler`: `x * scale + min`, then clipped to `clip` when set.
    MinMax {
        scale: Vec<f64>,
        min: Vec<f64>,
        clip: Option<(f64, f64)>,
    },
}

impl Transform {
    /// Columns in and out (these transforms keep the width).
    pub fn n_features(&self) -> usize {
        match self {
            Transform::Standardize { n_features, .. } => *n_features,
            Transform::MinMax { scale, .. } => scale.len(),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Transform::Standardize { .. } => "StandardScaler",
            Transform::MinMax { .. } => "MinMaxScaler",
        }
    }

    pub fn validate(&self) -> Result<()> {
        let n = self.n_features();
        let finite = |v: &[f64], what: &str| -> Result<()> {
            if v.len() != n {
                return Err(Error::invalid_model(format!(
                    "{}: {what} has {} values for {n} features",
                    self.name(),
                    v.len()
                )));
            }
            if let Some(i) = v.iter().position(|x| !x.is_finite()) {
                return Err(Error::invalid_model(format!(
                    "{}: {what}[{i}] is not finite",
                    self.name()
                )));
            }
            Ok(())
        };
        match self {
            Transform::Standardize { mean, scale, .. } => {
                if let Some(m) = mean {
                    finite(m, "mean_")?;
                }
                if let Some(s) = scale {
                    finite(s, "scale_")?;
                }
            }
            Transform::MinMax { scale, min, clip } => {
                finite(scale, "scale_")?;
                finite(min, "min_")?;
                if let Some((lo, hi)) = clip {
                    if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
                        return Err(Error::invalid_model(
                            "MinMaxScaler: feature_range is not an ordered pair of numbers",
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Transform one row in place (length checked by the caller).
    pub fn apply(&self, row: &mut [f64]) {
        match self {
            Transform::Standardize { mean, scale, .. } => {
                if let Some(mean) = mean {
                    row.iter_mut().zip(mean).for_each(|(x, m)| *x -= m);
                }
                if let Some(scale) = scale {
                    row.iter_mut().zip(scale).for_each(|(x, s)| *x /= s);
                }
            }
            Transform::MinMax { scale, min, clip } => {
                for ((x, s), m) in row.iter_mut().zip(scale).zip(min) {
                    *x = *x * s + m;
                    if let Some((lo, hi)) = clip {
                        // numpy.clip: NaN stays NaN.
                        *x = if *x < *lo {
                            *lo
                        } else if *x > *hi {
                            *hi
                        } else {
                            *x
                        };
                    }
                }
            }
        }
    }
}
