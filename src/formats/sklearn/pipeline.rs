//! `sklearn.pipeline.Pipeline` and the preprocessing it holds: scalers, imputers, encoders,
//! selectors, `ColumnTransformer` and `FeatureUnion`, followed by one supported estimator.
//!
//! Lowered to the model's flat list of stages plus the estimator. Nested pipelines are
//! flattened; a split's branches hold plain steps only (a ColumnTransformer inside a
//! ColumnTransformer is refused), so a bundle can never encode unbounded recursion.

use super::attrs::Attrs;
use super::ImportContext;
use crate::core::frame::Cell;
use crate::core::numeric_transforms::sort_by_value;
use crate::core::transform::{
    Branch, Categories, ColumnSplit, MissingMarker, Norm, OneHotColumn, OrdinalColumn, Stage,
    Transform,
};
use crate::core::{Estimator, Model};
use crate::error::{Error, ErrorCode, Result};
use crate::formats::pickle::globals::{Class, Global};
use crate::formats::pickle::numpy::{ArrayData, Kind, NdArray};
use crate::formats::pickle::value::{Arena, Id, Value};

/// Classes a pipeline's steps may hold.
const TRANSFORMERS: &[Class] = &[
    Class::StandardScaler,
    Class::MinMaxScaler,
    Class::MaxAbsScaler,
    Class::RobustScaler,
    Class::Normalizer,
    Class::Binarizer,
    Class::PolynomialFeatures,
    Class::FunctionTransformer,
    Class::SimpleImputer,
    Class::MissingIndicator,
    Class::OneHotEncoder,
    Class::OrdinalEncoder,
    Class::VarianceThreshold,
    Class::SelectKBest,
    Class::SelectPercentile,
    Class::Rfe,
    Class::Rfecv,
    Class::Pca,
    Class::IncrementalPca,
    Class::TruncatedSvd,
    Class::FastIca,
    Class::KBinsDiscretizer,
    Class::QuantileTransformer,
    Class::PowerTransformer,
    Class::KnnImputer,
    Class::TargetEncoder,
    Class::SelectFromModel,
    Class::SplineTransformer,
    Class::ColumnTransformer,
    Class::FeatureUnion,
    Class::Pipeline,
];

#[cfg_attr(wasm_size_build, optimize(size))]
pub fn lower(attrs: &Attrs, ctx: &ImportContext) -> Result<Model> {
    let steps = pipeline_steps(attrs)?;
    let ((name, last), head) = steps
        .split_last()
        .ok_or_else(|| Error::invalid_model("Pipeline has no steps"))?;
    // A pipeline that ends in a transformer (or 'passthrough') is all preprocessing: its model
    // offers `transform`.
    let ends_in_transformer = is_passthrough(last)
        || matches!(last, Value::Object { class: Global::Class(c), .. } if c.is_transformer());
    let transformers = if ends_in_transformer {
        steps.as_slice()
    } else {
        head
    };
    let mut stages: Vec<Stage> = Vec::new();
    let mut first_attrs = None;
    let mut names = Vec::new();
    for (step_name, value) in transformers {
        if is_passthrough(value) {
            continue;
        }
        let (class, t) = attrs
            .nested(value, TRANSFORMERS, &format!("steps[{step_name:?}]"))
            .map_err(|e| unsupported_step(e, step_name))?;
        let width = stages.last().map(Stage::n_outputs);
        let lowered = lower_transformer(&t, class, width)
            .map_err(|e| e.context(format!("Pipeline step {step_name:?}")))?;
        stages.extend(lowered);
        names.push(class.name());
        if first_attrs.is_none() {
            first_attrs = Some(t);
        }
    }
    if ends_in_transformer {
        let n_out = stages.last().map(Stage::n_outputs).ok_or_else(|| {
            Error::invalid_model("Pipeline has only 'passthrough' steps: nothing to transform")
        })?;
        let first = first_attrs
            .as_ref()
            .ok_or_else(|| Error::invalid_model("Pipeline has no transformer"))?;
        let n_features = stages.first().map_or(n_out, Stage::n_features);
        let mut meta = super::root_metadata(first, Class::Pipeline, n_features, ctx)?;
        meta.name = format!("Pipeline({})", names.join(" → "));
        if let Some(version) = attrs.sklearn_version_string() {
            meta.source_library_version = version.to_owned();
        }
        return Model::with_preprocess(meta, stages, Estimator::Transformer { n_features: n_out });
    }
    let (class, final_attrs) = match last {
        Value::Object {
            class: Global::Class(class),
            state,
            ..
        } if class.is_estimator() && !class.is_transformer() => {
            (*class, Attrs::new(attrs.arena(), *state, class.name())?)
        }
        other => {
            return Err(Error::unsupported_class(format!(
                "Pipeline step {name:?} is a {}, not a supported estimator",
                match other {
                    Value::Object {
                        class: Global::Class(c),
                        ..
                    } => c.name(),
                    v => v.kind(),
                }
            )))
        }
    };
    let inner = super::lower_root(&final_attrs, class, ctx)
        .map_err(|e| e.context(format!("Pipeline step {name:?}")))?;
    // The final estimator's own preprocessing (a nested Pipeline's steps, HistGradientBoosting's
    // internal encoder) runs after this pipeline's steps.
    stages.extend(inner.preprocess);
    let estimator = inner.estimator;
    let members = inner.members;
    names.push(class.name());
    let n_features = stages
        .first()
        .map_or(estimator.n_features(), Stage::n_features);
    // Pipeline.feature_names_in_ is the first step's.
    let (feature_names, from_source) = match &first_attrs {
        Some(first) => first.feature_names(n_features)?,
        None => (
            inner.metadata.feature_names.clone(),
            inner.metadata.feature_names_from_source,
        ),
    };
    let mut meta = inner.metadata;
    meta.name = format!("Pipeline({})", names.join(" → "));
    meta.feature_names = feature_names;
    meta.feature_names_from_source = from_source;
    if let Some(version) = attrs.sklearn_version_string() {
        meta.source_library_version = version.to_owned();
    }
    Model::with_members(meta, stages, estimator, members)
}

/// A transformer saved on its own (a fitted ColumnTransformer, scaler, encoder, …): a model
/// whose `transform` runs it.
#[cfg_attr(wasm_size_build, optimize(size))]
pub(super) fn transformer_model(attrs: &Attrs, class: Class, ctx: &ImportContext) -> Result<Model> {
    let stages = lower_transformer(attrs, class, None)?;
    let n_out = stages.last().map_or(0, Stage::n_outputs);
    let n_features = stages.first().map_or(0, Stage::n_features);
    let meta = super::root_metadata(attrs, class, n_features, ctx)?;
    Model::with_preprocess(meta, stages, Estimator::Transformer { n_features: n_out })
}

/// HistGradientBoosting's `_preprocessor` (scikit-learn ≥ 1.4 with categorical features): a
/// ColumnTransformer of one OrdinalEncoder and a passthrough remainder.
#[cfg_attr(wasm_size_build, optimize(size))]
pub(super) fn internal_preprocessor(attrs: &Attrs, value: &Value) -> Result<Vec<Stage>> {
    let (_, pre) = attrs.nested(value, &[Class::ColumnTransformer], "_preprocessor")?;
    Ok(vec![Stage::Split(
        column_transformer(&pre).map_err(|e| e.context("_preprocessor"))?,
    )])
}

/// `steps` as (name, step value) pairs.
#[cfg_attr(wasm_size_build, optimize(size))]
fn pipeline_steps<'a>(attrs: &Attrs<'a>) -> Result<Vec<(String, &'a Value)>> {
    let arena = attrs.arena();
    attrs
        .items("steps")?
        .iter()
        .map(|id| match arena.get(*id) {
            Value::Tuple(parts) | Value::List(parts) if parts.len() == 2 => {
                let name = parts.first().and_then(|&n| arena.as_str(n)).unwrap_or("?");
                let step = parts.get(1).map_or(&Value::None, |&s| arena.get(s));
                Ok((name.to_owned(), step))
            }
            other => Err(Error::invalid_model(format!(
                "Pipeline step is a {}, not (name, estimator)",
                other.kind()
            ))),
        })
        .collect()
}

#[cfg_attr(wasm_size_build, optimize(size))]
fn is_passthrough(value: &Value) -> bool {
    matches!(value, Value::None) || matches!(value, Value::Str(s) if s == "passthrough")
}

#[cfg_attr(wasm_size_build, optimize(size))]
fn unsupported_step(e: Error, name: &str) -> Error {
    if e.code() == ErrorCode::UnsupportedClass {
        Error::new(
            ErrorCode::UnsupportedClass,
            format!(
                "Pipeline step {name:?}: {} (supported transformers: {})",
                e.message(),
                TRANSFORMERS
                    .iter()
                    .map(|c| c.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    } else {
        e
    }
}

/// Lower one transformer (a nested Pipeline becomes several stages). `width` is the number of
/// columns it receives, when known from the step before.
#[cfg_attr(wasm_size_build, optimize(size))]
fn lower_transformer(attrs: &Attrs, class: Class, width: Option<usize>) -> Result<Vec<Stage>> {
    let stages = match class {
        Class::Pipeline => {
            let mut stages: Vec<Stage> = Vec::new();
            for (name, value) in pipeline_steps(attrs)? {
                if is_passthrough(value) {
                    continue;
                }
                let (class, t) = attrs
                    .nested(value, TRANSFORMERS, &format!("steps[{name:?}]"))
                    .map_err(|e| unsupported_step(e, &name))?;
                let width = stages.last().map(Stage::n_outputs).or(width);
                stages.extend(
                    lower_transformer(&t, class, width)
                        .map_err(|e| e.context(format!("Pipeline step {name:?}")))?,
                );
            }
            stages
        }
        Class::ColumnTransformer => vec![Stage::Split(column_transformer(attrs)?)],
        Class::FeatureUnion => vec![Stage::Split(feature_union(attrs, width)?)],
        Class::PowerTransformer => {
            let steps = super::transformers::power(attrs)?;
            for t in &steps {
                t.validate()?;
            }
            declared_width(attrs, class, steps.first())?;
            steps.into_iter().map(Stage::Step).collect()
        }
        other => vec![Stage::Step(transform(attrs, other, width)?)],
    };
    if let (Some(w), Some(first)) = (width, stages.first()) {
        if first.n_features() != w {
            return Err(Error::invalid_model(format!(
                "{} takes {} columns but receives {w}",
                class.name(),
                first.n_features()
            )));
        }
    }
    Ok(stages)
}

/// A split branch's steps: plain transforms only.
#[cfg_attr(wasm_size_build, optimize(size))]
fn branch_steps(attrs: &Attrs, value: &Value, name: &str, width: usize) -> Result<Vec<Transform>> {
    if is_passthrough(value) {
        return Ok(Vec::new());
    }
    let (class, t) = attrs
        .nested(value, TRANSFORMERS, &format!("transformer {name:?}"))
        .map_err(|e| unsupported_step(e, name))?;
    lower_transformer(&t, class, Some(width))?
        .into_iter()
        .map(|stage| match stage {
            Stage::Step(t) => Ok(t),
            Stage::Split(s) => Err(Error::unsupported_class(format!(
                "transformer {name:?} holds a {} inside another one; nest them one level only",
                s.kind
            ))),
        })
        .collect()
}

#[cfg_attr(wasm_size_build, optimize(size))]
fn column_transformer(attrs: &Attrs) -> Result<ColumnSplit> {
    let arena = attrs.arena();
    let n_features = count(attrs.int("n_features_in_")?, "n_features_in_")?;
    let indices_id = match attrs.get("_transformer_to_input_indices") {
        Some(Value::Dict(_)) => attrs.require("_transformer_to_input_indices")?,
        _ => {
            return Err(Error::unsupported_version(
                "ColumnTransformer without `_transformer_to_input_indices` (fitted before \
                 scikit-learn 1.0); re-fit and save it with 1.0 or newer",
            ))
        }
    };
    let weights = match attrs.get("transformer_weights") {
        Some(Value::Dict(pairs)) => pairs.clone(),
        _ => Vec::new(),
    };
    let mut branches = Vec::new();
    for id in attrs.items("transformers_")? {
        let parts = match arena.get(id) {
            Value::Tuple(p) | Value::List(p) if p.len() == 3 => p.clone(),
            other => {
                return Err(Error::invalid_model(format!(
                "ColumnTransformer.transformers_ entry is a {}, not (name, transformer, columns)",
                other.kind()
            )))
            }
        };
        let name = parts
            .first()
            .and_then(|&n| arena.as_str(n))
            .unwrap_or("?")
            .to_owned();
        let value = parts.get(1).map_or(&Value::None, |&v| arena.get(v));
        if matches!(value, Value::Str(s) if s == "drop") {
            continue;
        }
        let columns = match indices_of(arena, indices_id, &name) {
            Some(Value::List(items)) | Some(Value::Tuple(items)) => items
                .iter()
                .map(|&i| match arena.get(i) {
                    Value::Int(v) => usize::try_from(*v).map_err(|_| ()),
                    _ => Err(()),
                })
                .collect::<std::result::Result<Vec<usize>, ()>>()
                .map_err(|()| {
                    Error::invalid_model(format!(
                        "ColumnTransformer: the input columns of {name:?} are not column indices"
                    ))
                })?,
            Some(Value::Array(a)) => a
                .to_i64(arena)?
                .into_iter()
                .map(|v| {
                    usize::try_from(v).map_err(|_| Error::invalid_model("negative column index"))
                })
                .collect::<Result<_>>()?,
            _ => {
                return Err(Error::invalid_model(format!(
                    "ColumnTransformer: no input columns recorded for {name:?}"
                )))
            }
        };
        // scikit-learn skips transformers that select no column (they are never fitted).
        if columns.is_empty() {
            continue;
        }
        let steps = branch_steps(attrs, value, &name, columns.len())?;
        let weight = weights
            .iter()
            .find(|(k, _)| arena.as_str(*k) == Some(name.as_str()))
            .and_then(|(_, v)| match arena.get(*v) {
                Value::Float(f) => Some(*f),
                Value::Int(i) => Some(*i as f64),
                _ => None,
            });
        branches.push(Branch {
            name,
            columns,
            steps,
            weight,
        });
    }
    Ok(ColumnSplit {
        kind: "ColumnTransformer".to_owned(),
        n_features,
        branches,
    })
}

#[cfg_attr(wasm_size_build, optimize(size))]
fn indices_of<'a>(arena: &'a Arena, dict: &Value, name: &str) -> Option<&'a Value> {
    let Value::Dict(pairs) = dict else {
        return None;
    };
    pairs
        .iter()
        .rev()
        .find(|(k, _)| arena.as_str(*k) == Some(name))
        .map(|(_, v)| arena.get(*v))
}

#[cfg_attr(wasm_size_build, optimize(size))]
fn feature_union(attrs: &Attrs, width: Option<usize>) -> Result<ColumnSplit> {
    let arena = attrs.arena();
    let list = attrs.items("transformer_list")?;
    // FeatureUnion records no n_features_in_ before 1.2: take the width from the step before,
    // or from a branch that records one.
    let from_branch = || {
        list.iter().find_map(|&id| {
            let parts = arena.get(id).as_tuple()?;
            let Value::Object { state, .. } = arena.get(*parts.get(1)?) else {
                return None;
            };
            let dict = Attrs::new(arena, *state, "FeatureUnion branch").ok()?;
            match dict.get("n_features_in_") {
                Some(Value::Int(n)) => usize::try_from(*n).ok(),
                _ => None,
            }
        })
    };
    let n_features = match attrs.get("n_features_in_") {
        Some(Value::Int(n)) => count(*n, "n_features_in_")?,
        _ => width.or_else(from_branch).ok_or_else(|| {
            Error::invalid_model("FeatureUnion as a first step without n_features_in_")
        })?,
    };
    let weights = match attrs.get("transformer_weights") {
        Some(Value::Dict(pairs)) => pairs.clone(),
        _ => Vec::new(),
    };
    let mut branches = Vec::new();
    for id in list {
        let (name, value) = match arena.get(id) {
            Value::Tuple(p) | Value::List(p) if p.len() == 2 => (
                p.first()
                    .and_then(|&n| arena.as_str(n))
                    .unwrap_or("?")
                    .to_owned(),
                p.get(1).map_or(&Value::None, |&v| arena.get(v)),
            ),
            other => {
                return Err(Error::invalid_model(format!(
                    "FeatureUnion.transformer_list entry is a {}, not (name, transformer)",
                    other.kind()
                )))
            }
        };
        if matches!(value, Value::Str(s) if s == "drop") {
            continue;
        }
        let weight = weights
            .iter()
            .find(|(k, _)| arena.as_str(*k) == Some(name.as_str()))
            .and_then(|(_, v)| match arena.get(*v) {
                Value::Float(f) => Some(*f),
                Value::Int(i) => Some(*i as f64),
                _ => None,
            });
        branches.push(Branch {
            steps: branch_steps(attrs, value, &name, n_features)?,
            name,
            columns: (0..n_features).collect(),
            weight,
        });
    }
    Ok(ColumnSplit {
        kind: "FeatureUnion".to_owned(),
        n_features,
        branches,
    })
}

#[cfg_attr(wasm_size_build, optimize(size))]
fn count(v: i64, what: &str) -> Result<usize> {
    usize::try_from(v).map_err(|_| Error::invalid_model(format!("{what} is negative")))
}

#[cfg_attr(wasm_size_build, optimize(size))]
fn optional_array(attrs: &Attrs, name: &str) -> Result<Option<Vec<f64>>> {
    match attrs.get(name) {
        None | Some(Value::None) => Ok(None),
        Some(_) => Ok(Some(attrs.f64_array(name)?.values)),
    }
}

/// A fitted array that applies only when its hyper-parameter is on: scalers store `mean_` /
/// `center_` even with `with_mean=False` / `with_centering=False`, and the flag decides.
#[cfg_attr(wasm_size_build, optimize(size))]
fn gated_array(attrs: &Attrs, flag_name: &str, name: &str) -> Result<Option<Vec<f64>>> {
    if flag(attrs, flag_name) {
        optional_array(attrs, name)
    } else {
        Ok(None)
    }
}

/// A boolean hyper-parameter (scikit-learn's default for these is True).
#[cfg_attr(wasm_size_build, optimize(size))]
fn flag(attrs: &Attrs, name: &str) -> bool {
    !matches!(attrs.get(name), Some(Value::Bool(false)))
}

#[cfg_attr(wasm_size_build, optimize(size))]
pub(super) fn is_true(attrs: &Attrs, name: &str) -> bool {
    matches!(attrs.get(name), Some(Value::Bool(true)))
}

/// `n_features_in_`, or the width the previous step outputs (FunctionTransformer before 1.2
/// records none when it does not validate).
#[cfg_attr(wasm_size_build, optimize(size))]
fn width_of(attrs: &Attrs, width: Option<usize>) -> Result<usize> {
    match attrs.get("n_features_in_") {
        Some(Value::Int(n)) => count(*n, "n_features_in_"),
        _ => width.ok_or_else(|| {
            Error::invalid_model(format!(
                "{} records no n_features_in_ and is the first step, so its width is unknown",
                attrs.class_name()
            ))
        }),
    }
}

/// A pickled cell value (`statistics_` of an object column, `missing_values`, …).
#[cfg_attr(wasm_size_build, optimize(size))]
fn cell_of(value: &Value) -> Option<Cell> {
    Some(match value {
        Value::None => Cell::Missing,
        Value::Float(f) if f.is_nan() => Cell::Missing,
        Value::Float(f) => Cell::Num(*f),
        Value::Int(i) => Cell::Num(*i as f64),
        Value::Bool(b) => Cell::Bool(*b),
        Value::Str(s) => Cell::Str(s.clone()),
        Value::Array(a) if a.shape.is_empty() => {
            return None;
        }
        _ => return None,
    })
}

/// The items of an object array / list as cells, or a numeric array's values.
#[cfg_attr(wasm_size_build, optimize(size))]
fn cells_of(arena: &Arena, array: &NdArray, what: &str) -> Result<Vec<Cell>> {
    match (&array.data, array.dtype.kind) {
        (ArrayData::Objects(items), _) => items
            .iter()
            .map(|&id| {
                cell_of(arena.get(id)).ok_or_else(|| {
                    Error::invalid_model(format!(
                        "{what} holds a {}, not a number or string",
                        arena.get(id).kind()
                    ))
                })
            })
            .collect(),
        (_, Kind::Unicode) => Ok(array
            .to_strings(arena)?
            .into_iter()
            .map(Cell::Str)
            .collect()),
        (_, Kind::Bool) => Ok(array
            .to_i64(arena)?
            .into_iter()
            .map(|v| Cell::Bool(v != 0))
            .collect()),
        _ => Ok(array
            .to_f64(arena)
            .map_err(|e| e.context(what))?
            .into_iter()
            .map(|v| {
                if v.is_nan() {
                    Cell::Missing
                } else {
                    Cell::Num(v)
                }
            })
            .collect()),
    }
}

/// One entry of `categories_`.
#[cfg_attr(wasm_size_build, optimize(size))]
fn categories(arena: &Arena, id: Id, what: &str) -> Result<Categories> {
    let Value::Array(array) = arena.get(id) else {
        return Err(Error::invalid_model(format!("{what} is not an array")));
    };
    let cells = cells_of(arena, array, what)?;
    if cells.iter().any(|c| matches!(c, Cell::Str(_))) {
        cells
            .into_iter()
            .map(|c| match c {
                Cell::Str(s) => Ok(Some(s)),
                Cell::Missing => Ok(None),
                other => Err(Error::unsupported_version(format!(
                    "{what} mixes strings with {}",
                    other.describe()
                ))),
            })
            .collect::<Result<_>>()
            .map(Categories::Text)
    } else {
        Ok(Categories::Num(
            cells
                .iter()
                .map(|c| c.as_number().unwrap_or(f64::NAN))
                .collect(),
        ))
    }
}

#[cfg_attr(wasm_size_build, optimize(size))]
fn missing_marker(attrs: &Attrs) -> Result<MissingMarker> {
    match attrs.get("missing_values") {
        None => Ok(MissingMarker::Nan),
        Some(v) => match cell_of(v) {
            Some(Cell::Missing) => Ok(MissingMarker::Nan),
            Some(cell) => Ok(MissingMarker::Value(cell)),
            None => Err(Error::invalid_model(format!(
                "{}.missing_values is a {}",
                attrs.class_name(),
                v.kind()
            ))),
        },
    }
}

/// An index array attribute (`features_`, …).
#[cfg_attr(wasm_size_build, optimize(size))]
pub(super) fn indices(attrs: &Attrs, name: &str) -> Result<Vec<usize>> {
    attrs
        .array(name)?
        .to_i64(attrs.arena())?
        .into_iter()
        .map(|v| {
            usize::try_from(v).map_err(|_| {
                Error::invalid_model(format!(
                    "{}.{name} has a negative index",
                    attrs.class_name()
                ))
            })
        })
        .collect()
}

/// A boolean mask attribute (`support_`) as the kept indices.
#[cfg_attr(wasm_size_build, optimize(size))]
fn mask(attrs: &Attrs, name: &str) -> Result<Vec<usize>> {
    Ok(attrs
        .array(name)?
        .to_i64(attrs.arena())?
        .iter()
        .enumerate()
        .filter(|(_, v)| **v != 0)
        .map(|(i, _)| i)
        .collect())
}

/// Per-column optional indices: `drop_idx_` (None, an int array, or an object array with None).
#[cfg_attr(wasm_size_build, optimize(size))]
fn optional_indices(attrs: &Attrs, name: &str, n: usize) -> Result<Vec<Option<usize>>> {
    let arena = attrs.arena();
    let value = attrs.get(name);
    match (value, value.and_then(Value::object_array_items)) {
        (None | Some(Value::None), _) => Ok(vec![None; n]),
        (_, Some(items)) => Ok(items
            .iter()
            .map(|&id| match arena.get(id) {
                Value::Int(v) => usize::try_from(*v).ok(),
                _ => None,
            })
            .collect()),
        (Some(_), None) => Ok(indices(attrs, name)?.into_iter().map(Some).collect()),
    }
}

/// `_default_to_infrequent_mappings` (scikit-learn ≥ 1.1 with infrequent categories): per
/// column, the grouped index of each category, or `None` when the column has none.
#[cfg_attr(wasm_size_build, optimize(size))]
fn infrequent_mappings(attrs: &Attrs, n: usize) -> Result<Vec<Option<Vec<usize>>>> {
    let arena = attrs.arena();
    if !is_true(attrs, "_infrequent_enabled") {
        return Ok(vec![None; n]);
    }
    let items = attrs.items("_default_to_infrequent_mappings")?;
    items
        .iter()
        .map(|&id| match arena.get(id) {
            Value::None => Ok(None),
            Value::Array(a) => a
                .to_i64(arena)?
                .into_iter()
                .map(|v| {
                    usize::try_from(v)
                        .map_err(|_| Error::invalid_model("negative category mapping"))
                })
                .collect::<Result<Vec<_>>>()
                .map(Some),
            other => Err(Error::invalid_model(format!(
                "_default_to_infrequent_mappings holds a {}",
                other.kind()
            ))),
        })
        .collect()
}

#[cfg_attr(wasm_size_build, optimize(size))]
pub(super) fn all_categories(attrs: &Attrs) -> Result<Vec<Categories>> {
    attrs
        .items("categories_")?
        .iter()
        .enumerate()
        .map(|(i, &id)| {
            categories(
                attrs.arena(),
                id,
                &format!("{}.categories_[{i}]", attrs.class_name()),
            )
        })
        .collect()
}

#[cfg_attr(wasm_size_build, optimize(size))]
fn one_hot(attrs: &Attrs) -> Result<Transform> {
    let cats = all_categories(attrs)?;
    let n = cats.len();
    let handle_unknown = attrs.opt_str("handle_unknown")?.unwrap_or("error");
    let to_infrequent = matches!(handle_unknown, "infrequent_if_exist" | "warn");
    let mappings = infrequent_mappings(attrs, n)?;
    let drops = if attrs.get("_drop_idx_after_grouping").is_some() {
        optional_indices(attrs, "_drop_idx_after_grouping", n)?
    } else {
        optional_indices(attrs, "drop_idx_", n)?
    };
    let mut columns = Vec::with_capacity(n);
    for (i, categories) in cats.into_iter().enumerate() {
        let mapping = mappings.get(i).cloned().flatten();
        let grouped: Vec<usize> = mapping
            .clone()
            .unwrap_or_else(|| (0..categories.len()).collect());
        if grouped.len() != categories.len() {
            return Err(Error::invalid_model(format!(
                "OneHotEncoder: column {i} has {} categories but {} infrequent mappings",
                categories.len(),
                grouped.len()
            )));
        }
        let n_grouped = grouped.iter().max().map_or(0, |m| m + 1);
        let drop = drops.get(i).copied().flatten();
        if let Some(d) = drop.filter(|&d| d >= n_grouped) {
            return Err(Error::invalid_model(format!(
                "OneHotEncoder: column {i} drops category {d} but has {n_grouped} (outputs would not match)"
            )));
        }
        let place = |g: usize| -> Option<u32> {
            match drop {
                Some(d) if g == d => None,
                Some(d) if g > d => u32::try_from(g - 1).ok(),
                _ => u32::try_from(g).ok(),
            }
        };
        let n_outputs = n_grouped - usize::from(drop.is_some_and(|d| d < n_grouped));
        // Infrequent categories share the last group.
        let unknown_output = match (&mapping, to_infrequent) {
            (Some(_), true) if n_grouped > 0 => place(n_grouped - 1),
            _ => None,
        };
        columns.push(OneHotColumn {
            output_of: grouped.iter().map(|&g| place(g)).collect(),
            categories,
            n_outputs,
            unknown_output,
        });
    }
    let t = Transform::OneHot {
        columns,
        error_on_unknown: handle_unknown == "error",
    };
    if let Some(Value::List(outs)) = attrs.get("_n_features_outs") {
        if outs.len() != n {
            return Err(Error::invalid_model(
                "OneHotEncoder._n_features_outs has the wrong length",
            ));
        }
    }
    Ok(t)
}

#[cfg_attr(wasm_size_build, optimize(size))]
fn ordinal(attrs: &Attrs) -> Result<Transform> {
    let cats = all_categories(attrs)?;
    let n = cats.len();
    let mappings = infrequent_mappings(attrs, n)?;
    let unknown = match attrs.opt_str("handle_unknown")? {
        Some("use_encoded_value") => Some(match attrs.get("unknown_value") {
            Some(Value::Int(v)) => *v as f64,
            Some(Value::Float(f)) => *f,
            _ => f64::NAN,
        }),
        _ => None,
    };
    // From 1.0 a NaN category is encoded as `encoded_missing_value` (NaN before 1.1).
    let missing_code = if attrs.get("_missing_indices").is_some() {
        Some(match attrs.get("encoded_missing_value") {
            Some(Value::Int(v)) => *v as f64,
            Some(Value::Float(f)) => *f,
            _ => f64::NAN,
        })
    } else {
        None
    };
    let columns = cats
        .into_iter()
        .enumerate()
        .map(|(i, categories)| {
            let grouped: Vec<usize> = mappings
                .get(i)
                .cloned()
                .flatten()
                .unwrap_or_else(|| (0..categories.len()).collect());
            let code_of = grouped
                .iter()
                .enumerate()
                .map(|(k, &g)| {
                    let is_missing = match &categories {
                        Categories::Num(v) => v.get(k).is_some_and(|x| x.is_nan()),
                        Categories::Text(v) => v.get(k).is_some_and(Option::is_none),
                    };
                    match missing_code {
                        Some(code) if is_missing => code,
                        _ => g as f64,
                    }
                })
                .collect();
            OrdinalColumn {
                unknown_code: unknown,
                code_of,
                categories,
            }
        })
        .collect();
    Ok(Transform::Ordinal { columns })
}

#[cfg_attr(wasm_size_build, optimize(size))]
fn simple_imputer(attrs: &Attrs) -> Result<Transform> {
    let arena = attrs.arena();
    let n_features = count(attrs.int("n_features_in_")?, "n_features_in_")?;
    let fill = cells_of(
        arena,
        attrs.array("statistics_")?,
        "SimpleImputer.statistics_",
    )?;
    let keep_all =
        attrs.opt_str("strategy")? == Some("constant") || is_true(attrs, "keep_empty_features");
    let keep = (0..fill.len())
        .filter(|&i| keep_all || !fill.get(i).is_some_and(Cell::is_missing))
        .collect();
    let indicator = match attrs.get("indicator_") {
        None | Some(Value::None) => Vec::new(),
        Some(value) => {
            let (_, ind) = attrs.nested(value, &[Class::MissingIndicator], "indicator_")?;
            indices(&ind, "features_")?
        }
    };
    Ok(Transform::Impute {
        missing: missing_marker(attrs)?,
        fill,
        keep,
        indicator,
        n_features,
    })
}

/// scikit-learn's `_clean_nans`: NaN scores count as the lowest.
#[cfg_attr(wasm_size_build, optimize(size))]
fn clean_scores(attrs: &Attrs) -> Result<Vec<f64>> {
    Ok(attrs
        .f64_array("scores_")?
        .values
        .into_iter()
        .map(|s| if s.is_nan() { f64::MIN } else { s })
        .collect())
}

/// SelectKBest: the `k` highest scores, ties broken as numpy's stable argsort does.
#[cfg_attr(wasm_size_build, optimize(size))]
fn k_best(attrs: &Attrs) -> Result<Vec<usize>> {
    let scores = clean_scores(attrs)?;
    let k = match attrs.get("k") {
        Some(Value::Str(s)) if s == "all" => return Ok((0..scores.len()).collect()),
        Some(Value::Int(k)) => count(*k, "k")?.min(scores.len()),
        _ => {
            return Err(Error::invalid_model(
                "SelectKBest.k is neither an int nor 'all'",
            ))
        }
    };
    let mut order: Vec<(f64, usize)> = scores.iter().copied().zip(0..).collect();
    sort_by_value(&mut order);
    let mut keep: Vec<usize> = order
        .split_off(scores.len() - k)
        .into_iter()
        .map(|(_, i)| i)
        .collect();
    keep.sort_unstable();
    Ok(keep)
}

/// numpy's default (linear) percentile of `v` at `q` percent.
#[cfg_attr(wasm_size_build, optimize(size))]
fn percentile(v: &[f64], q: f64) -> f64 {
    let mut pairs: Vec<(f64, usize)> = v.iter().copied().zip(0..).collect();
    sort_by_value(&mut pairs);
    let sorted: Vec<f64> = pairs.into_iter().map(|p| p.0).collect();
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let index = (n - 1) as f64 * q / 100.0;
    let lo = index.floor();
    let t = index - lo;
    let a = sorted.get(lo as usize).copied().unwrap_or(f64::NAN);
    let b = sorted
        .get((lo as usize + 1).min(n - 1))
        .copied()
        .unwrap_or(a);
    // numpy's _lerp: a + (b - a) * t, computed from the nearer end.
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

#[cfg_attr(wasm_size_build, optimize(size))]
fn select_percentile(attrs: &Attrs) -> Result<Vec<usize>> {
    let scores = clean_scores(attrs)?;
    let p = attrs.float("percentile")?;
    if p >= 100.0 {
        return Ok((0..scores.len()).collect());
    }
    if p <= 0.0 {
        return Ok(Vec::new());
    }
    let threshold = percentile(&scores, 100.0 - p);
    let max_feats = (scores.len() as f64 * p / 100.0) as usize;
    let above = scores.iter().filter(|s| **s > threshold).count();
    // Ties at the threshold fill the remaining places, first ones first.
    let mut ties_left = max_feats.saturating_sub(above);
    Ok(scores
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            if **s > threshold {
                true
            } else if **s == threshold && ties_left > 0 {
                ties_left -= 1;
                true
            } else {
                false
            }
        })
        .map(|(i, _)| i)
        .collect())
}

#[cfg_attr(wasm_size_build, optimize(size))]
fn polynomial(attrs: &Attrs, n: usize) -> Result<Transform> {
    let arena = attrs.arena();
    let (min_degree, max_degree) = match (attrs.get("_min_degree"), attrs.get("_max_degree")) {
        (Some(Value::Int(a)), Some(Value::Int(b))) => {
            (count(*a, "_min_degree")?, count(*b, "_max_degree")?)
        }
        _ => match attrs.require("degree")? {
            Value::Int(d) => (0, count(*d, "degree")?),
            Value::Tuple(p) if p.len() == 2 => {
                let get = |i: usize| match p.get(i).map(|&id| arena.get(id)) {
                    Some(Value::Int(v)) => count(*v, "degree"),
                    _ => Err(Error::invalid_model(
                        "PolynomialFeatures.degree is not two ints",
                    )),
                };
                (get(0)?, get(1)?)
            }
            other => {
                return Err(Error::invalid_model(format!(
                    "PolynomialFeatures.degree is a {}",
                    other.kind()
                )))
            }
        },
    };
    let interaction_only = is_true(attrs, "interaction_only");
    let include_bias = flag(attrs, "include_bias");
    let mut combinations: Vec<Vec<u32>> = Vec::new();
    if include_bias {
        combinations.push(Vec::new());
    }
    let limit = 100_000usize;
    for degree in min_degree.max(1)..=max_degree {
        if interaction_only && degree > n {
            continue;
        }
        // itertools.combinations(_with_replacement)(range(n), degree), in lexicographic order.
        let mut combo: Vec<usize> = if interaction_only {
            (0..degree).collect()
        } else {
            vec![0; degree]
        };
        loop {
            combinations.push(combo.iter().map(|&i| i as u32).collect());
            if combinations.len() > limit {
                return Err(Error::limit(format!(
                    "PolynomialFeatures makes more than {limit} output columns"
                )));
            }
            // Advance the rightmost position that can still grow; reset the ones after it.
            let grow = (0..degree).rev().find(|&i| {
                let max_here = if interaction_only {
                    n - degree + i
                } else {
                    n - 1
                };
                combo.get(i).is_some_and(|&c| c < max_here)
            });
            let Some(i) = grow else { break };
            let base = combo.get(i).map_or(0, |c| c + 1);
            for (j, slot) in combo.iter_mut().enumerate().skip(i) {
                *slot = if interaction_only {
                    base + (j - i)
                } else {
                    base
                };
            }
        }
    }
    Ok(Transform::Polynomial {
        combinations,
        n_features: n,
    })
}

#[cfg_attr(wasm_size_build, optimize(size))]
pub(super) fn transform(attrs: &Attrs, class: Class, width: Option<usize>) -> Result<Transform> {
    let arena = attrs.arena();
    let n = || width_of(attrs, width);
    let t = match class {
        // mean_ is stored even with with_mean=False; the flags decide what transform applies.
        Class::StandardScaler => Transform::Standardize {
            mean: gated_array(attrs, "with_mean", "mean_")?,
            scale: gated_array(attrs, "with_std", "scale_")?,
            n_features: n()?,
        },
        Class::MinMaxScaler => {
            let clip = match attrs.get("clip") {
                Some(Value::Bool(true)) => {
                    let range = attrs.items("feature_range")?;
                    let bound = |i: usize| match range.get(i).map(|id| arena.get(*id)) {
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
        Class::MaxAbsScaler => Transform::MaxAbs {
            scale: attrs.f64_array("scale_")?.values,
        },
        Class::RobustScaler => Transform::Robust {
            center: gated_array(attrs, "with_centering", "center_")?,
            scale: gated_array(attrs, "with_scaling", "scale_")?,
            n_features: n()?,
        },
        Class::Normalizer => Transform::Normalize {
            norm: match attrs.opt_str("norm")?.unwrap_or("l2") {
                "l1" => Norm::L1,
                "l2" => Norm::L2,
                "max" => Norm::Max,
                other => {
                    return Err(Error::invalid_model(format!(
                        "Normalizer.norm {other:?} is unknown"
                    )))
                }
            },
            n_features: n()?,
        },
        Class::Binarizer => Transform::Binarize {
            threshold: attrs.float("threshold")?,
            n_features: n()?,
        },
        Class::FunctionTransformer => {
            let func = match attrs.get("func") {
                None | Some(Value::None) => None,
                Some(Value::Global(Global::Ufunc(u))) => Some(*u),
                // `partial(check_array, …)` (HistGradientBoosting's internal passthrough)
                // only validates and returns its input.
                Some(Value::Object {
                    class: Global::InertConstructor,
                    args,
                    ..
                }) if args.first().is_some_and(|&a| {
                    matches!(
                        arena.get(a),
                        Value::Global(Global::Class(Class::CheckArray))
                    )
                }) =>
                {
                    None
                }
                Some(other) => {
                    return Err(Error::unsupported_class(format!(
                        "FunctionTransformer.func is a {}; only numpy functions are allowed ({})",
                        other.kind(),
                        crate::core::transform::Ufunc::ALL
                            .iter()
                            .map(|(n, _)| format!("numpy.{n}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )))
                }
            };
            if !matches!(attrs.get("kw_args"), None | Some(Value::None))
                && !matches!(attrs.get("kw_args"), Some(Value::Dict(d)) if d.is_empty())
            {
                return Err(Error::unsupported_class(
                    "FunctionTransformer with kw_args is not supported",
                ));
            }
            Transform::Function {
                func,
                n_features: n()?,
                validate: is_true(attrs, "validate"),
            }
        }
        Class::SimpleImputer => simple_imputer(attrs)?,
        Class::MissingIndicator => Transform::MissingIndicator {
            missing: missing_marker(attrs)?,
            features: indices(attrs, "features_")?,
            error_on_new: flag(attrs, "error_on_new") && attrs.opt_str("features")? != Some("all"),
            n_features: n()?,
        },
        Class::OneHotEncoder => one_hot(attrs)?,
        Class::OrdinalEncoder => ordinal(attrs)?,
        Class::VarianceThreshold => {
            let threshold = attrs.float("threshold")?;
            let variances = attrs.f64_array("variances_")?.values;
            Transform::Select {
                class: "VarianceThreshold".to_owned(),
                n_features: variances.len(),
                keep: variances
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| **v > threshold)
                    .map(|(i, _)| i)
                    .collect(),
                nan_ok: true,
            }
        }
        Class::SelectKBest | Class::SelectPercentile => Transform::Select {
            class: class.name().to_owned(),
            keep: if class == Class::SelectKBest {
                k_best(attrs)?
            } else {
                select_percentile(attrs)?
            },
            n_features: attrs.f64_array("scores_")?.values.len(),
            nan_ok: false,
        },
        Class::Rfe | Class::Rfecv => Transform::Select {
            class: class.name().to_owned(),
            keep: mask(attrs, "support_")?,
            n_features: attrs.array("support_")?.len(),
            nan_ok: false,
        },
        Class::PolynomialFeatures => polynomial(attrs, n()?)?,
        Class::Pca | Class::IncrementalPca | Class::TruncatedSvd | Class::FastIca => {
            let components = attrs.f64_array("components_")?;
            let (n_components, n_features) = match components.shape.as_slice() {
                [k, f] => (*k, *f),
                other => {
                    return Err(Error::invalid_model(format!(
                        "{}.components_ has shape {other:?}",
                        class.name()
                    )))
                }
            };
            let mean = match class {
                Class::TruncatedSvd => None,
                _ => optional_array(attrs, "mean_")?,
            };
            // From 1.5 PCA projects first and subtracts the projected mean (no copy of X).
            let center_after =
                matches!(class, Class::Pca | Class::IncrementalPca) && attrs.at_least(1, 5);
            let scale = match class {
                Class::Pca | Class::IncrementalPca if is_true(attrs, "whiten") => Some(
                    attrs
                        .f64_array("explained_variance_")?
                        .values
                        .iter()
                        .map(|v| {
                            let s = v.sqrt();
                            if center_after && s < f64::EPSILON {
                                f64::EPSILON
                            } else {
                                s
                            }
                        })
                        .collect(),
                ),
                _ => None,
            };
            Transform::Project {
                class: class.name().to_owned(),
                mean,
                components: components.values,
                n_components,
                n_features,
                scale,
                center_after,
            }
        }
        Class::KBinsDiscretizer => super::transformers::kbins(attrs)?,
        Class::QuantileTransformer => super::transformers::quantile(attrs)?,
        Class::KnnImputer => super::transformers::knn_imputer(attrs)?,
        Class::TargetEncoder => super::transformers::target_encoder(attrs)?,
        Class::SplineTransformer => super::transformers::spline(attrs)?,
        Class::SelectFromModel => {
            let (keep, n_features) = super::transformers::select_from_model(attrs)?;
            Transform::Select {
                class: "SelectFromModel".to_owned(),
                keep,
                n_features,
                nan_ok: false,
            }
        }
        other => {
            return Err(Error::unsupported_class(format!(
                "{} is not a supported transformer",
                other.name()
            )))
        }
    };
    declared_width(attrs, class, Some(&t))?;
    t.validate()?;
    Ok(t)
}

/// `n_features_in_`, when recorded, must be the width the fitted statistics imply.
#[cfg_attr(wasm_size_build, optimize(size))]
fn declared_width(attrs: &Attrs, class: Class, t: Option<&Transform>) -> Result<()> {
    if let (Some(Value::Int(declared)), Some(t)) = (attrs.get("n_features_in_"), t) {
        if usize::try_from(*declared).ok() != Some(t.n_features()) {
            return Err(Error::invalid_model(format!(
                "{} has statistics for {} features but n_features_in_ is {declared}",
                class.name(),
                t.n_features()
            )));
        }
    }
    Ok(())
}
