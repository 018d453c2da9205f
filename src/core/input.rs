//! Prediction input: a row-major batch of f64 features, validated before any arithmetic.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Which values an estimator takes, as the training library's input validation decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum InputRule {
    /// No NaN, no ±infinity (linear models).
    Finite,
    /// Finite once cast to float32: scikit-learn trees validate with `dtype=float32`, so
    /// 1e39 is refused as "too large for dtype('float32')".
    FiniteF32,
    /// NaN is missing; values infinite as float32 are refused (XGBoost; scikit-learn trees
    /// that learned missing-value directions).
    FiniteF32OrNan,
    /// Anything (HistGradientBoosting, LightGBM, IsolationForest ≥ 1.6).
    Anything,
}

/// A borrowed row-major matrix of `n_rows × n_cols` features.
#[derive(Clone, Copy, Debug)]
pub struct Rows<'a> {
    data: &'a [f64],
    n_cols: usize,
    /// Index of the first row in the caller's whole batch, so errors name the caller's row
    /// even when a large batch is processed in chunks.
    first_row: usize,
}

impl<'a> Rows<'a> {
    /// Wrap `data` as rows of `n_cols` values. Fails when the length is not a multiple of
    /// `n_cols`, so a batch can never be silently cut short.
    pub fn new(data: &'a [f64], n_cols: usize) -> Result<Self> {
        if n_cols == 0 && !data.is_empty() {
            return Err(Error::shape("column count is 0 but the input has values"));
        }
        if n_cols != 0 && data.len() % n_cols != 0 {
            return Err(Error::shape(format!(
                "input has {} values, which is not a whole number of rows of {n_cols} columns",
                data.len()
            )));
        }
        Ok(Rows {
            data,
            n_cols,
            first_row: 0,
        })
    }

    /// The same rows, numbered from `first_row` in error messages.
    pub fn numbered_from(self, first_row: usize) -> Self {
        Rows { first_row, ..self }
    }

    pub fn data(&self) -> &'a [f64] {
        self.data
    }

    pub fn first_row(&self) -> usize {
        self.first_row
    }

    pub fn n_rows(&self) -> usize {
        self.data.len().checked_div(self.n_cols).unwrap_or(0)
    }

    pub fn n_cols(&self) -> usize {
        self.n_cols
    }

    /// Iterate over the rows as slices.
    pub fn iter(&self) -> impl Iterator<Item = &'a [f64]> + 'a {
        // `chunks_exact(0)` would panic; an empty matrix has no rows anyway.
        self.data.chunks_exact(self.n_cols.max(1))
    }

    /// Check the column count against what the model was fitted on.
    pub fn expect_cols(&self, n_features: usize) -> Result<()> {
        if self.n_cols != n_features {
            return Err(Error::shape(format!(
                "input has {} columns but the model was fitted on {n_features} features",
                self.n_cols
            )));
        }
        Ok(())
    }

    /// Apply an [`InputRule`]; the error names the first bad row and column, and the estimator
    /// (`estimator` is only called to write that message).
    pub fn expect<'n>(
        &self,
        rule: InputRule,
        feature_names: &[String],
        estimator: &dyn Fn() -> &'n str,
    ) -> Result<()> {
        match rule {
            InputRule::Finite => self.expect_finite(feature_names, estimator),
            InputRule::FiniteF32 => self.reject(feature_names, estimator, |v| {
                v.is_nan() | (v as f32).is_infinite()
            }),
            InputRule::FiniteF32OrNan => self.expect_finite_f32_or_nan(feature_names, estimator),
            InputRule::Anything => Ok(()),
        }
    }

    /// Reject NaN and ±infinity, as scikit-learn's input validation does for estimators that
    /// cannot take missing values. The error names the first bad row and column.
    pub fn expect_finite<'n>(
        &self,
        feature_names: &[String],
        estimator: &dyn Fn() -> &'n str,
    ) -> Result<()> {
        self.reject(feature_names, estimator, |v| !v.is_finite())
    }

    /// XGBoost takes NaN (missing) but refuses values that are infinite as float32.
    pub fn expect_finite_f32_or_nan<'n>(
        &self,
        feature_names: &[String],
        estimator: &dyn Fn() -> &'n str,
    ) -> Result<()> {
        self.reject(feature_names, estimator, |v| (v as f32).is_infinite())
    }

    fn reject<'n>(
        &self,
        feature_names: &[String],
        estimator: &dyn Fn() -> &'n str,
        refused: impl Fn(f64) -> bool,
    ) -> Result<()> {
        // One branch-free pass over every value first, which vectorizes (row by row with an
        // early exit, this check was 4 % of a GradientBoosting batch in wasm); the row and
        // column are looked up only when some value is refused.
        if !self.data.iter().fold(false, |any, &v| any | refused(v)) {
            return Ok(());
        }
        for (row_index, row) in self.iter().enumerate() {
            if let Some(col) = row.iter().position(|&v| refused(v)) {
                let value = row.get(col).copied().unwrap_or(f64::NAN);
                let what = if value.is_nan() {
                    "NaN (missing)".to_owned()
                } else if value.is_infinite() {
                    "infinity".to_owned()
                } else {
                    format!("{value} (infinite as float32)")
                };
                let name = feature_names
                    .get(col)
                    .map(|n| format!(" ({n:?})"))
                    .unwrap_or_default();
                let estimator = estimator();
                return Err(Error::bad_input(format!(
                    "row {}, column {col}{name}: {what} is not accepted by {estimator}; \
                     impute or drop missing values first",
                    self.first_row + row_index
                )));
            }
        }
        Ok(())
    }
}
