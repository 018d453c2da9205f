//! `LinearRegression`, `LogisticRegression` and the other linear models (Ridge, Lasso,
//! ElasticNet, Lars, SGD, Perceptron, LinearSVC/SVR, GLMs, …), scikit-learn 1.0 to 1.9.

use super::attrs::Attrs;
use super::ImportContext;
use crate::core::linear::{LinearScores, ProbabilityRule};
use crate::core::model::{Estimator, InverseLink, LinearClassifier, LinearRegressor};
use crate::error::{Error, Result};
use crate::formats::pickle::globals::{Class, LinearKind};

/// `coef_` as `(weights, n_scores, n_features, was_1d)`.
#[cfg_attr(wasm_size_build, optimize(size))]
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
#[cfg_attr(wasm_size_build, optimize(size))]
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

#[cfg_attr(wasm_size_build, optimize(size))]
pub fn linear_regression(attrs: &Attrs, ctx: &ImportContext) -> Result<LinearRegressor> {
    regressor(attrs, ctx, InverseLink::Identity)
}

#[cfg_attr(wasm_size_build, optimize(size))]
fn regressor(
    attrs: &Attrs,
    ctx: &ImportContext,
    inverse_link: InverseLink,
) -> Result<LinearRegressor> {
    let (weights, n_scores, n_features, was_1d) = coefficients(attrs, ctx)?;
    // Some estimators (HuberRegressor, OMP without intercept, …) store a plain 0.0.
    let intercepts = intercepts(attrs, n_scores)?;
    Ok(LinearRegressor {
        scores: LinearScores::new(weights, intercepts, n_features)?,
        single_output: was_1d,
        inverse_link,
    })
}

/// Every other linear model: the shared scores, then what the kind does with them.
#[cfg_attr(wasm_size_build, optimize(size))]
pub fn linear_model(attrs: &Attrs, kind: LinearKind, ctx: &ImportContext) -> Result<Estimator> {
    use LinearKind as K;
    let name = Class::Linear(kind).name();
    let with_name = |e: Error| e.context(name);
    Ok(match kind {
        K::PoissonRegressor | K::GammaRegressor => {
            Estimator::LinearRegressor(regressor(attrs, ctx, InverseLink::Exp).map_err(with_name)?)
        }
        K::TweedieRegressor => {
            // link='auto' is the identity for power <= 0 and the log link otherwise.
            let power = attrs.float("power")?;
            let link = match attrs.opt_str("link")?.unwrap_or("auto") {
                "identity" => InverseLink::Identity,
                "log" => InverseLink::Exp,
                "auto" if power <= 0.0 => InverseLink::Identity,
                "auto" => InverseLink::Exp,
                other => {
                    return Err(Error::invalid_model(format!(
                        "TweedieRegressor.link is {other:?}"
                    )))
                }
            };
            Estimator::LinearRegressor(regressor(attrs, ctx, link).map_err(with_name)?)
        }
        K::RidgeClassifier
        | K::RidgeClassifierCV
        | K::SGDClassifier
        | K::Perceptron
        | K::PassiveAggressiveClassifier
        | K::LinearSVC
        | K::LogisticRegressionCV => {
            let (weights, n_scores, n_features, _) = coefficients(attrs, ctx)?;
            let intercepts = intercepts(attrs, n_scores)?;
            let classes = match kind {
                // `classes_` is a property reading the fitted LabelBinarizer.
                K::RidgeClassifier | K::RidgeClassifierCV => {
                    let (_, binarizer) = attrs.object("_label_binarizer")?;
                    let (_, binarizer) =
                        attrs.nested(binarizer, &[Class::LabelBinarizer], "_label_binarizer")?;
                    binarizer.classes(ctx.limits.max_classes)?
                }
                _ => attrs.classes(ctx.limits.max_classes)?,
            };
            let rule = match kind {
                K::LogisticRegressionCV => probability_rule(attrs, classes.len())?,
                K::SGDClassifier => match attrs.opt_str("loss")? {
                    // `_predict_proba_lr`: expit per class, normalised (binary [1-p, p]).
                    Some("log_loss" | "log") => ProbabilityRule::OneVsRest,
                    Some("modified_huber") => ProbabilityRule::ModifiedHuber,
                    _ => ProbabilityRule::Unavailable,
                },
                _ => ProbabilityRule::Unavailable,
            };
            Estimator::LinearClassifier(
                LinearClassifier::new(
                    LinearScores::new(weights, intercepts, n_features)?,
                    classes,
                    rule,
                )
                .map_err(with_name)?,
            )
        }
        _ => Estimator::LinearRegressor(
            regressor(attrs, ctx, InverseLink::Identity).map_err(with_name)?,
        ),
    })
}

#[cfg_attr(wasm_size_build, optimize(size))]
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
#[cfg_attr(wasm_size_build, optimize(size))]
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
