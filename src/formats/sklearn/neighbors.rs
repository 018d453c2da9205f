//! scikit-learn nearest-neighbour models: the stored training set (`_fit_X`, `_y`) and the
//! effective metric; the fitted KD/ball tree is only an index and is not read.

use super::attrs::Attrs;
use super::ImportContext;
use crate::core::model::ClassLabels;
use crate::core::neighbors::{Metric, NeighborTask, Neighbors, Query};
use crate::error::{Error, Result};
use crate::formats::pickle::globals::Class;
use crate::formats::pickle::value::Value;

#[cfg_attr(wasm_size_build, optimize(size))]
pub fn lower(attrs: &Attrs, class: Class, ctx: &ImportContext) -> Result<Neighbors> {
    lower_output(attrs, class, ctx, None)
}

#[cfg_attr(wasm_size_build, optimize(size))]
fn is_classifier(class: Class) -> bool {
    matches!(
        class,
        Class::KNeighborsClassifier | Class::RadiusNeighborsClassifier
    )
}

/// A neighbours classifier fitted on several targets (2-D `y`).
#[cfg_attr(wasm_size_build, optimize(size))]
pub fn is_multi_output_classifier(attrs: &Attrs, class: Class) -> bool {
    is_classifier(class) && matches!(attrs.get("outputs_2d_"), Some(Value::Bool(true)))
}

/// One output of a multi-output neighbours classifier: the same training rows, that
/// output's column of `_y` and its classes.
#[cfg_attr(wasm_size_build, optimize(size))]
pub fn output_classifier(
    attrs: &Attrs,
    class: Class,
    ctx: &ImportContext,
    output: usize,
    classes: ClassLabels,
) -> Result<crate::core::Estimator> {
    if !matches!(attrs.get("outlier_label_"), None | Some(Value::None)) {
        return Err(Error::unsupported_version(format!(
            "{} with several outputs and an outlier_label is not supported",
            class.name()
        )));
    }
    lower_output(attrs, class, ctx, Some((output, classes))).map(crate::core::Estimator::Neighbors)
}

#[cfg_attr(wasm_size_build, optimize(size))]
fn lower_output(
    attrs: &Attrs,
    class: Class,
    ctx: &ImportContext,
    output: Option<(usize, ClassLabels)>,
) -> Result<Neighbors> {
    let name = class.name();
    let fit_x = attrs.f64_array("_fit_X")?;
    let (n_train, n_features) = match fit_x.shape.as_slice() {
        [n, f] => (*n, *f),
        other => {
            return Err(Error::invalid_model(format!(
                "{name}._fit_X has shape {other:?}"
            )))
        }
    };
    ctx.limits
        .check("number of features", ctx.limits.max_features, n_features)?;
    attrs.check_n_features(n_features)?;
    let p = || -> Result<f64> {
        let params = match attrs.get("effective_metric_params_") {
            Some(Value::Dict(pairs)) => pairs.clone(),
            _ => Vec::new(),
        };
        let arena = attrs.arena();
        for (k, v) in params {
            match (arena.as_str(k), arena.get(v)) {
                (Some("p"), Value::Int(p)) => return Ok(*p as f64),
                (Some("p"), Value::Float(p)) => return Ok(*p),
                (Some("w"), Value::None) => {}
                (Some(other), _) => {
                    return Err(Error::unsupported_class(format!(
                        "{name} metric parameter {other:?} is not supported"
                    )))
                }
                _ => {}
            }
        }
        Ok(2.0)
    };
    let metric = match attrs.opt_str("effective_metric_")?.unwrap_or("euclidean") {
        "euclidean" | "l2" => Metric::Minkowski(2.0),
        "manhattan" | "cityblock" | "l1" => Metric::Minkowski(1.0),
        "chebyshev" | "infinity" => Metric::Chebyshev,
        "minkowski" => match p()? {
            p if p.is_infinite() => Metric::Chebyshev,
            p => Metric::Minkowski(p),
        },
        "cosine" => Metric::Cosine,
        other => {
            return Err(Error::unsupported_class(format!(
                "{name} with metric {other:?} is not supported (euclidean, manhattan, \
                 chebyshev, minkowski and cosine are)"
            )))
        }
    };
    let distance_weights = match attrs.opt_str("weights") {
        Ok(Some("distance")) => true,
        Ok(Some("uniform")) | Ok(None) => false,
        _ => {
            return Err(Error::unsupported_class(format!(
                "{name} with a weights function is not supported ('uniform' and 'distance' are)"
            )))
        }
    };
    let query = match class {
        Class::RadiusNeighborsClassifier | Class::RadiusNeighborsRegressor => {
            Query::Radius(attrs.float("radius")?)
        }
        _ => Query::Nearest(
            usize::try_from(attrs.int("n_neighbors")?)
                .map_err(|_| Error::invalid_model(format!("{name}.n_neighbors is negative")))?,
        ),
    };
    if output.is_none() && is_multi_output_classifier(attrs, class) {
        return Err(Error::invalid_model(format!(
            "{name} with several outputs is lowered per output"
        )));
    }
    let y = attrs.f64_array("_y")?;
    let task = match class {
        Class::KNeighborsClassifier | Class::RadiusNeighborsClassifier => {
            let (classes, column): (ClassLabels, Vec<f64>) = match output {
                Some((o, classes)) => {
                    let width = match y.shape.as_slice() {
                        [_, w] if *w > o => *w,
                        other => {
                            return Err(Error::invalid_model(format!(
                                "{name}._y has shape {other:?}, no output {o}"
                            )))
                        }
                    };
                    (
                        classes,
                        y.values.iter().skip(o).step_by(width).copied().collect(),
                    )
                }
                None => (attrs.classes(ctx.limits.max_classes)?, y.values.clone()),
            };
            let y = column
                .iter()
                .map(|v| {
                    if *v >= 0.0 && v.fract() == 0.0 {
                        Ok(*v as usize)
                    } else {
                        Err(Error::invalid_model(format!(
                            "{name}._y is not a class index"
                        )))
                    }
                })
                .collect::<Result<Vec<_>>>()?;
            let outlier = if class == Class::RadiusNeighborsClassifier {
                outlier_label(attrs, &classes)?
            } else {
                None
            };
            NeighborTask::Classifier {
                classes,
                y,
                outlier,
            }
        }
        _ => NeighborTask::Regressor {
            n_outputs: match y.shape.as_slice() {
                [_, o] => *o,
                _ => 1,
            },
            y: y.values,
        },
    };
    if matches!(task, NeighborTask::Regressor { ref y, n_outputs } if y.len() != n_train * n_outputs)
    {
        return Err(Error::invalid_model(format!(
            "{name}._y does not match _fit_X"
        )));
    }
    let model = Neighbors {
        fit_x: fit_x.values,
        n_features,
        metric,
        query,
        distance_weights,
        task,
    };
    model.validate()?;
    Ok(model)
}

/// `outlier_label_` of a RadiusNeighborsClassifier as a class index: absent (`None` → rows
/// without neighbours are an error), or a label that must be one of `classes_`.
#[cfg_attr(wasm_size_build, optimize(size))]
fn outlier_label(attrs: &Attrs, classes: &ClassLabels) -> Result<Option<Option<usize>>> {
    let arena = attrs.arena();
    let label = match attrs.get("outlier_label_") {
        None | Some(Value::None) => return Ok(None),
        Some(Value::List(items)) | Some(Value::Tuple(items)) => match items.as_slice() {
            [one] => arena.get(*one),
            _ => {
                return Err(Error::unsupported_version(
                    "outlier_label_ with several outputs",
                ))
            }
        },
        Some(other) => other,
    };
    let index = match (label, classes) {
        (Value::None, _) => return Ok(None),
        (Value::Int(v), ClassLabels::Int(c)) => c.iter().position(|x| x == v),
        (Value::Float(v), ClassLabels::Float(c)) => c.iter().position(|x| x == v),
        (Value::Int(v), ClassLabels::Float(c)) => c.iter().position(|x| *x == *v as f64),
        (Value::Str(v), ClassLabels::Str(c)) => c.iter().position(|x| x == v),
        (Value::Bool(v), ClassLabels::Bool(c)) => c.iter().position(|x| x == v),
        (Value::Array(a), _) if a.len() == 1 => {
            let v = a.to_f64(arena)?.first().copied().unwrap_or(f64::NAN);
            match classes {
                ClassLabels::Int(c) => c.iter().position(|x| *x as f64 == v),
                ClassLabels::Float(c) => c.iter().position(|x| *x == v),
                _ => None,
            }
        }
        _ => None,
    };
    match index {
        Some(i) => Ok(Some(Some(i))),
        None => Err(Error::unsupported_version(
            "RadiusNeighborsClassifier with an outlier_label that is not one of classes_ \
             (predict would return a label outside classes_)",
        )),
    }
}
