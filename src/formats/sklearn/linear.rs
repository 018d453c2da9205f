//! `LinearRegression` and `LogisticRegression`, scikit-learn 1.0 to 1.9.

use super::attrs::Attrs;
use super::ImportContext;
use crate::core::linear::{LinearScores, ProbabilityRule};
use crate::core::model::{LinearClassifier, LinearRegressor};
use crate::error::{Error, Result};

/// `coef_` as `(weights, n_scores, n_features, was_1d)`.
fn coefficients(attrs: &Attrs, ctx: &ImportContext) -> Result<(Vec<f64>, usize, usize, bool)> {
    let coef = attrs.f64_array("coef_")?;
    let (n_scores, n_features, was_1d) = match coef.shape.as_slice() {
        [f] => (1, *f, true),
        [s, f] => (*s, *f, false),
        other => {
            return Err(Error::invalid_model(format!(
                "coef_ must be 1-D or 2-D, found shape {other:?}"
            )))
        }
    };
    ctx.limits
        .check("number of features", ctx.limits.max_features, n_features)?;
    attrs.check_n_features(n_features)?;
    Ok((coef.values, n_scores, n_features, was_1d))
}

/// `intercept_`: a scalar (broadcast) or one value per score.
fn intercepts(attrs: &Attrs, n_scores: usize) -> Result<Vec<f64>> {
    let intercept = attrs.f64_array("intercept_")?;
    match (intercept.shape.as_slice(), intercept.values.as_slice()) {
        ([], [b]) => Ok(vec![*b; n_scores]),
        ([n], _) if *n == n_scores => Ok(intercept.values),
        (shape, _) => Err(Error::invalid_model(format!(
            "intercept_ has shape {shape:?} but coef_ has {n_scores} rows"
        ))),
    }
}

pub fn linear_regression(attrs: &Attrs, ctx: &ImportContext) -> Result<LinearRegressor> {
    let (weights, n_scores, n_features, was_1d) = coefficients(attrs, ctx)?;
    let intercepts = intercepts(attrs, n_scores)?;
    Ok(LinearRegressor {
        scores: LinearScores::new(weights, intercepts, n_features)?,
        single_output: was_1d,
    })
}

pub fn logistic_regression(attrs: &Attrs, ctx: &ImportContext) -> Result<LinearClassifier> {
    let (weights, n_scores, n_features, _) = coefficients(attrs, ctx)?;
    let intercepts = intercepts(attrs, n_scores)?;
    let classes = attrs.classes(ctx.limits.max_classes)?;
    let rule = probability_rule(attrs, classes.len())?;
    LinearClassifier::new(
        LinearScores::new(weights, intercepts, n_features)?,
        classes,
        rule,
    )
    .map_err(|e| e.context("LogisticRegression"))
}

/// Which `predict_proba` scikit-learn uses for this fitted `LogisticRegression`.
///
/// - Up to 1.7 `multi_class` is stored: 'ovr' means one-vs-rest, 'multinomial' softmax, and
///   'auto' (or 1.5–1.7's 'deprecated') means one-vs-rest when there are two classes or the
///   solver is liblinear or newton-cholesky, softmax otherwise.
/// - From 1.8 `multi_class` is gone: binary is one-vs-rest (`[1-p, p]`), multiclass softmax.
fn probability_rule(attrs: &Attrs, n_classes: usize) -> Result<ProbabilityRule> {
    let Some(multi_class) = attrs.opt_str("multi_class")? else {
        return Ok(if n_classes <= 2 {
            ProbabilityRule::OneVsRest
        } else {
            ProbabilityRule::Multinomial
        });
    };
    let solver = attrs.opt_str("solver")?.unwrap_or("lbfgs");
    match multi_class {
        "ovr" | "warn" => Ok(ProbabilityRule::OneVsRest),
        "multinomial" => Ok(ProbabilityRule::Multinomial),
        "auto" | "deprecated" => {
            // newton-cholesky appeared in 1.2; before that the name cannot occur.
            if n_classes <= 2 || matches!(solver, "liblinear" | "newton-cholesky") {
                Ok(ProbabilityRule::OneVsRest)
            } else {
                Ok(ProbabilityRule::Multinomial)
            }
        }
        other => Err(Error::invalid_model(format!(
            "LogisticRegression.multi_class is {other:?}, expected 'auto', 'ovr' or 'multinomial'"
        ))),
    }
}
