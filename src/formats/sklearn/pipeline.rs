//! `sklearn.pipeline.Pipeline`: transformers (StandardScaler, MinMaxScaler, 'passthrough')
//! followed by one supported estimator. Lowered to the model's preprocessing chain plus the
//! estimator, so nothing nests (a bundle can never encode unbounded recursion).

use super::attrs::Attrs;
use super::{lower_estimator, metadata, ImportContext};
use crate::core::transform::Transform;
use crate::core::Model;
use crate::error::{Error, ErrorCode, Result};
use crate::formats::pickle::globals::Class;
use crate::formats::pickle::value::Value;

const TRANSFORMERS: &[Class] = &[Class::StandardScaler, Class::MinMaxScaler];
const ESTIMATORS: &[Class] = &[
    Class::LinearRegression,
    Class::LogisticRegression,
    Class::DecisionTreeClassifier,
    Class::DecisionTreeRegressor,
    Class::ExtraTreeClassifier,
    Class::ExtraTreeRegressor,
    Class::RandomForestClassifier,
    Class::RandomForestRegressor,
    Class::ExtraTreesClassifier,
    Class::ExtraTreesRegressor,
    Class::GradientBoostingClassifier,
    Class::GradientBoostingRegressor,
    Class::HistGradientBoostingClassifier,
    Class::HistGradientBoostingRegressor,
];

pub fn lower(attrs: &Attrs, ctx: &ImportContext) -> Result<Model> {
    let arena = attrs.arena();
    let steps = attrs.items("steps")?;
    let (last, transformers) = steps
        .split_last()
        .ok_or_else(|| Error::invalid_model("Pipeline has no steps"))?;
    let step = |id: &_| -> Result<(String, &Value)> {
        match arena.get(*id) {
            Value::Tuple(parts) | Value::List(parts) if parts.len() == 2 => {
                let (name, step) = parts.split_at(1);
                let name = name.first().and_then(|&n| arena.as_str(n)).unwrap_or("?");
                let step = step.first().map(|&s| arena.get(s)).unwrap_or(&Value::None);
                Ok((name.to_owned(), step))
            }
            other => Err(Error::invalid_model(format!(
                "Pipeline step is a {}, not (name, estimator)",
                other.kind()
            ))),
        }
    };
    let mut preprocess = Vec::new();
    let mut names = Vec::new();
    let mut first_attrs = None;
    for id in transformers {
        let (name, value) = step(id)?;
        if matches!(value, Value::None) || matches!(value, Value::Str(s) if s == "passthrough") {
            continue;
        }
        let (class, t) = attrs
            .nested(value, TRANSFORMERS, &format!("steps[{name:?}]"))
            .map_err(|e| unsupported_step(e, &name))?;
        preprocess
            .push(transform(&t, class).map_err(|e| e.context(format!("Pipeline step {name:?}")))?);
        names.push(class.name());
        if first_attrs.is_none() {
            first_attrs = Some(t);
        }
    }
    let (name, value) = step(last)?;
    let (class, final_attrs) = attrs
        .nested(value, ESTIMATORS, &format!("steps[{name:?}]"))
        .map_err(|e| unsupported_step(e, &name))?;
    let estimator = lower_estimator(&final_attrs, class, ctx)
        .map_err(|e| e.context(format!("Pipeline step {name:?}")))?;
    names.push(class.name());
    let n_features = preprocess
        .first()
        .map_or(estimator.n_features(), Transform::n_features);
    // Pipeline.feature_names_in_ is the first step's.
    let (feature_names, from_source) = first_attrs
        .as_ref()
        .unwrap_or(&final_attrs)
        .feature_names(n_features)?;
    let mut meta = metadata(
        &final_attrs,
        class,
        format!("Pipeline({})", names.join(" → ")),
        feature_names,
        from_source,
        ctx,
    );
    if let Some(version) = attrs.sklearn_version_string() {
        meta.source_library_version = version.to_owned();
    }
    Model::with_preprocess(meta, preprocess, estimator)
}

fn unsupported_step(e: Error, name: &str) -> Error {
    if e.code() == ErrorCode::UnsupportedClass {
        Error::new(ErrorCode::UnsupportedClass, format!("Pipeline step {name:?}: {} (pipelines support StandardScaler, MinMaxScaler and 'passthrough' before one supported estimator)", e.message()))
    } else {
        e
    }
}

fn optional_array(attrs: &Attrs, name: &str) -> Result<Option<Vec<f64>>> {
    match attrs.get(name) {
        None | Some(Value::None) => Ok(None),
        Some(_) => Ok(Some(attrs.f64_array(name)?.values)),
    }
}

/// A boolean hyper-parameter (scikit-learn's default for these is True).
fn flag(attrs: &Attrs, name: &str) -> bool {
    !matches!(attrs.get(name), Some(Value::Bool(false)))
}

fn transform(attrs: &Attrs, class: Class) -> Result<Transform> {
    let n = usize::try_from(attrs.int("n_features_in_")?)
        .map_err(|_| Error::invalid_model("n_features_in_ is negative"))?;
    let t = match class {
        // mean_ is stored even with with_mean=False; the flags decide what transform applies.
        Class::StandardScaler => Transform::Standardize {
            mean: if flag(attrs, "with_mean") {
                optional_array(attrs, "mean_")?
            } else {
                None
            },
            scale: if flag(attrs, "with_std") {
                optional_array(attrs, "scale_")?
            } else {
                None
            },
            n_features: n,
        },
        Class::MinMaxScaler => {
            let clip = match attrs.get("clip") {
                Some(Value::Bool(true)) => {
                    let range = attrs.items("feature_range")?;
                    let bound = |i: usize| match range.get(i).map(|id| attrs.arena().get(*id)) {
                        Some(Value::Float(f)) => Ok(*f),
                        Some(Value::Int(v)) => Ok(*v as f64),
                        _ => Err(Error::invalid_model(
                            "MinMaxScaler.feature_range is not two numbers",
                        )),
                    };
                    Some((bound(0)?, bound(1)?))
                }
                _ => None,
            };
            Transform::MinMax {
                scale: attrs.f64_array("scale_")?.values,
                min: attrs.f64_array("min_")?.values,
                clip,
            }
        }
        other => {
            return Err(Error::unsupported_class(format!(
                "{} is not a supported transformer",
                other.name()
            )))
        }
    };
    if t.n_features() != n {
        return Err(Error::invalid_model(format!(
            "{} has {} statistics for {n} features",
            class.name(),
            t.n_features()
        )));
    }
    t.validate()?;
    Ok(t)
}
