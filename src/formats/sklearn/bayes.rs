//! scikit-learn naive Bayes classifiers (GaussianNB, MultinomialNB, ComplementNB, BernoulliNB,
//! CategoricalNB): their fitted log-probability tables, read as stored.

use super::attrs::Attrs;
use super::ImportContext;
use crate::core::bayes::{BayesKind, NaiveBayes};
use crate::core::linear::numpy_sum;
use crate::error::{Error, Result};
use crate::formats::pickle::globals::Class;
use crate::formats::pickle::value::Value;

#[cfg_attr(wasm_size_build, optimize(size))]
pub fn lower(attrs: &Attrs, class: Class, ctx: &ImportContext) -> Result<NaiveBayes> {
    let classes = attrs.classes(ctx.limits.max_classes)?;
    let k = classes.len();
    let matrix = |name: &str| -> Result<(Vec<f64>, usize)> {
        let a = attrs.f64_array(name)?;
        match a.shape.as_slice() {
            [rows, cols] if *rows == k => Ok((a.values, *cols)),
            other => Err(Error::invalid_model(format!(
                "{}.{name} has shape {other:?}, expected ({k}, n_features)",
                class.name()
            ))),
        }
    };
    let (kind, n_features) = match class {
        Class::GaussianNb => {
            let (theta, f) = matrix("theta_")?;
            // `sigma_` before scikit-learn 1.0 renamed it.
            let var = if attrs.get("var_").is_some() {
                matrix("var_")?.0
            } else {
                matrix("sigma_")?.0
            };
            let log_prior = attrs
                .f64_array("class_prior_")?
                .values
                .iter()
                .map(|p| p.ln())
                .collect();
            (
                BayesKind::Gaussian {
                    log_prior,
                    theta,
                    var,
                },
                f,
            )
        }
        Class::MultinomialNb | Class::ComplementNb => {
            let (weights, f) = matrix("feature_log_prob_")?;
            let prior = attrs.f64_array("class_log_prior_")?.values;
            // ComplementNB adds the prior only when there is a single class.
            let bias = if class == Class::ComplementNb {
                vec![0.0; k]
            } else {
                prior
            };
            (
                BayesKind::Linear {
                    weights,
                    bias,
                    binarize: None,
                },
                f,
            )
        }
        Class::BernoulliNb => {
            let (log_p, f) = matrix("feature_log_prob_")?;
            let prior = attrs.f64_array("class_log_prior_")?.values;
            // jll = X · (log p − log(1 − p)) + prior + Σ log(1 − p), as scikit-learn rewrites it.
            let neg: Vec<f64> = log_p.iter().map(|l| (1.0 - l.exp()).ln()).collect();
            let weights = log_p.iter().zip(&neg).map(|(l, n)| l - n).collect();
            let bias = prior
                .iter()
                .zip(neg.chunks_exact(f.max(1)))
                .map(|(p, n)| p + numpy_sum(n))
                .collect();
            let binarize = match attrs.get("binarize") {
                None | Some(Value::None) => None,
                Some(_) => Some(attrs.float("binarize")?),
            };
            (
                BayesKind::Linear {
                    weights,
                    bias,
                    binarize,
                },
                f,
            )
        }
        Class::CategoricalNb => {
            let arena = attrs.arena();
            let mut tables = Vec::new();
            let mut n_categories = Vec::new();
            for (i, id) in attrs.items("feature_log_prob_")?.into_iter().enumerate() {
                let Value::Array(a) = arena.get(id) else {
                    return Err(Error::invalid_model(format!(
                        "CategoricalNB.feature_log_prob_[{i}] is not an array"
                    )));
                };
                match a.shape.as_slice() {
                    [rows, cols] if *rows == k => n_categories.push(*cols),
                    other => {
                        return Err(Error::invalid_model(format!(
                            "CategoricalNB.feature_log_prob_[{i}] has shape {other:?}"
                        )))
                    }
                }
                tables.push(a.to_f64(arena)?);
            }
            let f = tables.len();
            (
                BayesKind::Categorical {
                    log_prior: attrs.f64_array("class_log_prior_")?.values,
                    tables,
                    n_categories,
                },
                f,
            )
        }
        other => {
            return Err(Error::unsupported_class(format!(
                "{} is not a naive Bayes classifier",
                other.name()
            )))
        }
    };
    attrs.check_n_features(n_features)?;
    let model = NaiveBayes {
        kind,
        classes,
        n_features,
    };
    model.validate()?;
    Ok(model)
}
