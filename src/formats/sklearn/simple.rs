//! DummyClassifier/DummyRegressor, KMeans/MiniBatchKMeans and NearestCentroid.

use super::attrs::Attrs;
use super::ImportContext;
use crate::core::labels::LabelCoder;
use crate::core::model::ClassLabels;
use crate::core::simple::{CentroidMetric, Centroids, Discriminant, Dummy};
use crate::core::{Estimator, Model};
use crate::error::{Error, Result};
use crate::formats::pickle::globals::Class;
use crate::formats::pickle::value::Value;

#[cfg_attr(wasm_size_build, optimize(size))]
pub fn lower(attrs: &Attrs, class: Class, ctx: &ImportContext) -> Result<Estimator> {
    Ok(match class {
        Class::DummyClassifier => Estimator::Dummy(dummy_classifier(attrs, ctx)?),
        Class::DummyRegressor => Estimator::Dummy(dummy_regressor(attrs)?),
        Class::KMeans | Class::MiniBatchKMeans => {
            let (centers, n_centers, n_features) = matrix(attrs, "cluster_centers_", ctx)?;
            Estimator::Centroids(Centroids {
                centers,
                n_centers,
                n_features,
                metric: CentroidMetric::Euclidean,
                classes: None,
                discriminant: None,
            })
        }
        Class::NearestCentroid => Estimator::Centroids(nearest_centroid(attrs, ctx)?),
        other => {
            return Err(Error::unsupported_class(format!(
                "{} is not a simple estimator",
                other.name()
            )))
        }
    })
}

/// A 2-D float attribute as (values, rows, columns).
#[cfg_attr(wasm_size_build, optimize(size))]
fn matrix(attrs: &Attrs, name: &str, ctx: &ImportContext) -> Result<(Vec<f64>, usize, usize)> {
    let array = attrs.f64_array(name)?;
    match array.shape.as_slice() {
        [k, f] => {
            ctx.limits
                .check("number of features", ctx.limits.max_features, *f)?;
            attrs.check_n_features(*f)?;
            Ok((array.values, *k, *f))
        }
        other => Err(Error::invalid_model(format!(
            "{}.{name} has shape {other:?}, expected 2-D",
            attrs.class_name()
        ))),
    }
}

/// `n_features_in_`, which the dummies record from 1.5 (they never read `X`'s values); before,
/// nothing — `None`: any width.
#[cfg_attr(wasm_size_build, optimize(size))]
fn declared_features(attrs: &Attrs) -> Result<Option<usize>> {
    match attrs.get("n_features_in_") {
        Some(Value::Int(n)) => usize::try_from(*n).map(Some).map_err(|_| {
            Error::invalid_model(format!("{}.n_features_in_ is {n}", attrs.class_name()))
        }),
        _ => Ok(None),
    }
}

#[cfg_attr(wasm_size_build, optimize(size))]
fn one_output(attrs: &Attrs) -> Result<()> {
    match attrs.get("n_outputs_") {
        None | Some(Value::Int(1)) => Ok(()),
        Some(_) => Err(Error::unsupported_class(format!(
            "{} fitted on several targets (n_outputs_ > 1) is not supported",
            attrs.class_name()
        ))),
    }
}

#[cfg_attr(wasm_size_build, optimize(size))]
fn dummy_classifier(attrs: &Attrs, ctx: &ImportContext) -> Result<Dummy> {
    one_output(attrs)?;
    let strategy = attrs
        .opt_str("_strategy")?
        .or(attrs.opt_str("strategy")?)
        .unwrap_or("prior");
    let classes = attrs.classes(ctx.limits.max_classes)?;
    let prior = attrs.f64_array("class_prior_")?.values;
    let n = classes.len();
    let most_frequent = crate::core::tree_models::argmax(&prior);
    let one_hot = |k: usize| (0..n).map(|i| f64::from(u8::from(i == k))).collect();
    let (values, predicted) = match strategy {
        "prior" => (prior, most_frequent),
        "most_frequent" => (one_hot(most_frequent), most_frequent),
        "constant" => {
            let k = constant_index(attrs, &classes)?;
            (one_hot(k), k)
        }
        other => {
            return Err(Error::unsupported_class(format!(
                "DummyClassifier(strategy={other:?}) draws random labels from numpy's generator; \
                 only 'prior', 'most_frequent' and 'constant' are reproducible"
            )))
        }
    };
    let width = declared_features(attrs)?;
    let model = Dummy {
        n_features: width.unwrap_or(0),
        classes: Some(classes),
        values,
        predicted,
        any_width: width.is_none(),
    };
    model.validate()?;
    Ok(model)
}

/// Position of the `constant` parameter among the classes.
#[cfg_attr(wasm_size_build, optimize(size))]
fn constant_index(attrs: &Attrs, classes: &ClassLabels) -> Result<usize> {
    let arena = attrs.arena();
    let value = attrs.require("constant")?;
    let value = match value {
        // A 1-element array (`constant=[…]`) or a numpy scalar.
        Value::List(items) | Value::Tuple(items) if items.len() == 1 => {
            items.first().map_or(value, |&i| arena.get(i))
        }
        other => other,
    };
    let found = match (classes, value) {
        (ClassLabels::Str(c), Value::Str(s)) => c.iter().position(|x| x == s),
        (ClassLabels::Int(c), Value::Int(v)) => c.iter().position(|x| x == v),
        (ClassLabels::Float(c), Value::Float(v)) => c.iter().position(|x| x == v),
        (ClassLabels::Float(c), Value::Int(v)) => c.iter().position(|x| *x == *v as f64),
        (ClassLabels::Bool(c), Value::Bool(v)) => c.iter().position(|x| x == v),
        _ => None,
    };
    found.ok_or_else(|| {
        Error::invalid_model(format!(
            "DummyClassifier.constant ({}) is not one of classes_",
            value.kind()
        ))
    })
}

#[cfg_attr(wasm_size_build, optimize(size))]
fn dummy_regressor(attrs: &Attrs) -> Result<Dummy> {
    let constant = attrs.f64_array("constant_")?.values;
    let width = declared_features(attrs)?;
    let model = Dummy {
        n_features: width.unwrap_or(0),
        classes: None,
        values: constant,
        predicted: 0,
        any_width: width.is_none(),
    };
    model.validate()?;
    Ok(model)
}

#[cfg_attr(wasm_size_build, optimize(size))]
fn nearest_centroid(attrs: &Attrs, ctx: &ImportContext) -> Result<Centroids> {
    let (centers, n_centers, n_features) = matrix(attrs, "centroids_", ctx)?;
    let classes = attrs.classes(ctx.limits.max_classes)?;
    let metric = match attrs.opt_str("metric")?.unwrap_or("euclidean") {
        "euclidean" => CentroidMetric::Euclidean,
        "manhattan" => CentroidMetric::Manhattan,
        other => {
            return Err(Error::unsupported_class(format!(
                "NearestCentroid(metric={other:?}) is not supported (euclidean and manhattan are)"
            )))
        }
    };
    // scikit-learn ≥ 1.6 scores classes with the within-class deviation and the priors.
    let discriminant = match (
        attrs.get("within_class_std_dev_"),
        attrs.get("class_prior_"),
    ) {
        (Some(_), Some(_)) => {
            let prior = attrs.f64_array("class_prior_")?.values;
            let n = prior.len() as f64;
            Some(Discriminant {
                std_dev: attrs.f64_array("within_class_std_dev_")?.values,
                uniform_prior: prior.iter().all(|p| is_close(*p, 1.0 / n)),
                log_prior: prior.iter().map(|p| p.ln()).collect(),
            })
        }
        _ => None,
    };
    let model = Centroids {
        centers,
        n_centers,
        n_features,
        metric,
        classes: Some(classes),
        discriminant,
    };
    model.validate()?;
    Ok(model)
}

/// `numpy.isclose` with its default tolerances.
#[cfg_attr(wasm_size_build, optimize(size))]
fn is_close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-8 + 1e-5 * b.abs()
}

/// A LabelEncoder or LabelBinarizer saved on its own: one input column, the labels.
#[cfg_attr(wasm_size_build, optimize(size))]
pub fn label_coder(attrs: &Attrs, class: Class, ctx: &ImportContext) -> Result<Model> {
    let classes = attrs.classes(ctx.limits.max_classes)?;
    let binarizer = match class {
        Class::LabelBinarizer => {
            if attrs.opt_str("y_type_")? == Some("multilabel-indicator") {
                return Err(Error::unsupported_class(
                    "LabelBinarizer fitted on multilabel targets is not supported",
                ));
            }
            let label = |name: &str| -> Result<f64> {
                match attrs.get(name) {
                    Some(Value::Int(v)) => Ok(*v as f64),
                    Some(Value::Float(v)) => Ok(*v),
                    Some(Value::Bool(b)) => Ok(f64::from(u8::from(*b))),
                    _ => Err(Error::invalid_model(format!(
                        "LabelBinarizer.{name} is not a number"
                    ))),
                }
            };
            Some((label("neg_label")?, label("pos_label")?))
        }
        _ => None,
    };
    let coder = LabelCoder {
        classes,
        binarizer,
        cast_to_class_type: attrs.at_least(1, 2),
    };
    coder.validate()?;
    let mut meta = super::root_metadata(attrs, class, 1, ctx)?;
    meta.feature_names = vec!["y".to_owned()];
    Model::new(meta, Estimator::Labels(coder))
}
