//! Transformers with per-column fitted tables (KBinsDiscretizer, QuantileTransformer,
//! PowerTransformer, KNNImputer, TargetEncoder) and SelectFromModel, whose mask is recomputed
//! from the fitted estimator's importances exactly as scikit-learn does at transform time.

use super::attrs::Attrs;
use crate::core::numeric_transforms::{
    pairwise_sum, sort_by_value, BSpline, Discretizer, Extrapolation, KnnImputer, PowerMap,
    PowerMethod, QuantileMap, SplineMap,
};
use crate::core::transform::{TargetColumn, Transform};
use crate::error::{Error, Result};
use crate::formats::pickle::globals::Class;
use crate::formats::pickle::value::Value;

/// A list attribute of float arrays (`bin_edges_`, `encodings_`), as vectors.
#[cfg_attr(wasm_size_build, optimize(size))]
fn array_list(attrs: &Attrs, name: &str) -> Result<Vec<Vec<f64>>> {
    let arena = attrs.arena();
    attrs
        .items(name)?
        .into_iter()
        .enumerate()
        .map(|(i, id)| match arena.get(id) {
            Value::Array(a) => a
                .to_f64(arena)
                .map_err(|e| e.context(format!("{}.{name}[{i}]", attrs.class_name()))),
            other => Err(Error::invalid_model(format!(
                "{}.{name}[{i}] is a {}, not an array",
                attrs.class_name(),
                other.kind()
            ))),
        })
        .collect()
}

#[cfg_attr(wasm_size_build, optimize(size))]
pub fn kbins(attrs: &Attrs) -> Result<Transform> {
    let one_hot = match attrs.opt_str("encode")?.unwrap_or("onehot") {
        "ordinal" => false,
        "onehot" | "onehot-dense" => true,
        other => {
            return Err(Error::invalid_model(format!(
                "KBinsDiscretizer.encode {other:?} is unknown"
            )))
        }
    };
    let edges = array_list(attrs, "bin_edges_")?;
    let inner_edges = edges
        .iter()
        .map(|e| e.get(1..e.len().saturating_sub(1)).unwrap_or(&[]).to_vec())
        .collect();
    Ok(Transform::Discretize(Discretizer {
        inner_edges,
        legacy_tolerance: !attrs.at_least(1, 2),
        one_hot,
    }))
}

#[cfg_attr(wasm_size_build, optimize(size))]
pub fn quantile(attrs: &Attrs) -> Result<Transform> {
    let q = attrs.f64_array("quantiles_")?;
    let (n_q, n_f) = match q.shape.as_slice() {
        [a, b] => (*a, *b),
        other => {
            return Err(Error::invalid_model(format!(
                "QuantileTransformer.quantiles_ has shape {other:?}"
            )))
        }
    };
    let quantiles = (0..n_f)
        .map(|f| {
            (0..n_q)
                .map(|i| q.values.get(i * n_f + f).copied().unwrap_or(f64::NAN))
                .collect()
        })
        .collect();
    let normal = match attrs.opt_str("output_distribution")?.unwrap_or("uniform") {
        "uniform" => false,
        "normal" => true,
        other => {
            return Err(Error::invalid_model(format!(
                "QuantileTransformer.output_distribution {other:?} is unknown"
            )))
        }
    };
    Ok(Transform::Quantile(QuantileMap {
        quantiles,
        references: attrs.f64_array("references_")?.values,
        normal,
    }))
}

/// PowerTransformer, followed by its internal StandardScaler when `standardize=True`.
#[cfg_attr(wasm_size_build, optimize(size))]
pub fn power(attrs: &Attrs) -> Result<Vec<Transform>> {
    let method = match attrs.opt_str("method")?.unwrap_or("yeo-johnson") {
        "box-cox" => PowerMethod::BoxCox,
        // scikit-learn 1.9 calls scipy.stats.yeojohnson; before, its own power formula.
        "yeo-johnson" if attrs.at_least(1, 9) => PowerMethod::YeoJohnsonExpm1,
        "yeo-johnson" => PowerMethod::YeoJohnsonPow,
        other => {
            return Err(Error::invalid_model(format!(
                "PowerTransformer.method {other:?} is unknown"
            )))
        }
    };
    let lambdas = attrs.f64_array("lambdas_")?.values;
    let n = lambdas.len();
    let mut steps = vec![Transform::Power(PowerMap { lambdas, method })];
    if !matches!(attrs.get("standardize"), Some(Value::Bool(false))) {
        let (_, scaler) = attrs.object("_scaler")?;
        let (_, scaler) = attrs.nested(scaler, &[Class::StandardScaler], "_scaler")?;
        // Lowered like any pipeline StandardScaler (its flags, its validation).
        steps.push(super::pipeline::transform(
            &scaler,
            Class::StandardScaler,
            Some(n),
        )?);
    }
    Ok(steps)
}

#[cfg_attr(wasm_size_build, optimize(size))]
pub fn knn_imputer(attrs: &Attrs) -> Result<Transform> {
    let fit = attrs.f64_array("_fit_X")?;
    let n_features = match fit.shape.as_slice() {
        [_, f] => *f,
        other => {
            return Err(Error::invalid_model(format!(
                "KNNImputer._fit_X has shape {other:?}"
            )))
        }
    };
    let marker = match attrs.get("missing_values") {
        None | Some(Value::None) => None,
        Some(Value::Float(f)) if f.is_nan() => None,
        Some(Value::Float(f)) => Some(*f),
        Some(Value::Int(i)) => Some(*i as f64),
        Some(other) => {
            return Err(Error::unsupported_class(format!(
                "KNNImputer.missing_values is a {}; only numbers and NaN are supported",
                other.kind()
            )))
        }
    };
    let distance_weights =
        match attrs.opt_str("weights") {
            Ok(Some("distance")) => true,
            Ok(Some("uniform")) | Ok(None) => false,
            _ => return Err(Error::unsupported_class(
                "KNNImputer with a callable `weights` is not supported (uniform and distance are)",
            )),
        };
    match attrs.opt_str("metric") {
        Ok(Some("nan_euclidean")) | Ok(None) => {}
        _ => {
            return Err(Error::unsupported_class(
                "KNNImputer with a metric other than 'nan_euclidean' is not supported",
            ))
        }
    }
    let is_missing = |v: f64| match marker {
        None => v.is_nan(),
        Some(m) => v == m,
    };
    // `_valid_mask` (1.2+) is recomputed the same way by 1.0 at transform time.
    let valid: Vec<bool> = (0..n_features)
        .map(|c| {
            fit.values
                .iter()
                .skip(c)
                .step_by(n_features.max(1))
                .any(|v| !is_missing(*v))
        })
        .collect();
    let indicator = match attrs.get("indicator_") {
        Some(value @ Value::Object { .. }) if super::pipeline::is_true(attrs, "add_indicator") => {
            let (_, ind) = attrs.nested(value, &[Class::MissingIndicator], "indicator_")?;
            super::pipeline::indices(&ind, "features_")?
        }
        _ => Vec::new(),
    };
    let n_neighbors = usize::try_from(attrs.int("n_neighbors")?)
        .map_err(|_| Error::invalid_model("KNNImputer.n_neighbors is negative"))?;
    Ok(Transform::KnnImpute(KnnImputer {
        fit_x: fit
            .values
            .iter()
            .map(|v| if is_missing(*v) { f64::NAN } else { *v })
            .collect(),
        n_features,
        marker,
        n_neighbors,
        distance_weights,
        valid,
        keep_empty: super::pipeline::is_true(attrs, "keep_empty_features"),
        uniform_skips_nan: attrs.at_least(1, 6),
        indicator,
    }))
}

#[cfg_attr(wasm_size_build, optimize(size))]
pub fn target_encoder(attrs: &Attrs) -> Result<Transform> {
    let categories = super::pipeline::all_categories(attrs)?;
    let encodings = array_list(attrs, "encodings_")?;
    let n = categories.len();
    let means: Vec<f64> = match attrs.get("target_mean_") {
        Some(Value::Float(f)) => vec![*f],
        Some(Value::Int(i)) => vec![*i as f64],
        _ => attrs.f64_array("target_mean_")?.values,
    };
    let width = match attrs.opt_str("target_type_")? {
        Some("multiclass") => means.len(),
        _ => 1,
    };
    if width == 0 || encodings.len() != n * width || means.len() != width {
        return Err(Error::invalid_model(format!(
            "TargetEncoder has {} encodings for {n} features × {width} outputs",
            encodings.len()
        )));
    }
    let mut columns = Vec::with_capacity(n);
    for (f, cats) in categories.into_iter().enumerate() {
        let k = cats.len();
        let mut table = vec![0.0; k * width];
        for c in 0..width {
            let enc = encodings.get(f * width + c).map_or(&[][..], Vec::as_slice);
            if enc.len() != k {
                return Err(Error::invalid_model(format!(
                    "TargetEncoder.encodings_[{}] has {} values for {k} categories",
                    f * width + c,
                    enc.len()
                )));
            }
            for (i, v) in enc.iter().enumerate() {
                if let Some(slot) = table.get_mut(i * width + c) {
                    *slot = *v;
                }
            }
        }
        columns.push(TargetColumn {
            categories: cats,
            encodings: table,
            unknown: means.clone(),
        });
    }
    Ok(Transform::TargetEncode { columns })
}

/// SelectFromModel's mask: the fitted estimator's importances against the threshold, the top
/// `max_features` first (scikit-learn's `_get_support_mask`).
#[cfg_attr(wasm_size_build, optimize(size))]
pub fn select_from_model(attrs: &Attrs) -> Result<(Vec<usize>, usize)> {
    let (class, est) = match attrs.get("estimator_") {
        Some(v @ Value::Object { .. }) => attrs.nested_any(v, "estimator_")?,
        _ => attrs.nested_any(attrs.require("estimator")?, "estimator")?,
    };
    match attrs.get("importance_getter") {
        None | Some(Value::None) => {}
        Some(Value::Str(s)) if s == "auto" => {}
        Some(_) => {
            return Err(Error::unsupported_class(
                "SelectFromModel with an importance_getter other than 'auto' is not supported",
            ))
        }
    }
    let scores = importances(&est, class, attrs)?;
    if let Some(Value::Int(n)) = est.get("n_features_in_") {
        if usize::try_from(*n).ok() != Some(scores.len()) {
            return Err(Error::invalid_model(format!(
                "SelectFromModel: the estimator's importances cover {} features but it was \
                 fitted on {n}",
                scores.len()
            )));
        }
    }
    let l1 = is_l1(&est, class);
    let threshold = match attrs.get("threshold") {
        None | Some(Value::None) if l1 => 1e-5,
        None | Some(Value::None) => mean(&scores),
        Some(Value::Float(f)) => *f,
        Some(Value::Int(i)) => *i as f64,
        Some(Value::Str(s)) => {
            let reference = |r: &str| match r {
                "mean" => Ok(mean(&scores)),
                "median" => Ok(median(&scores)),
                other => Err(Error::invalid_model(format!(
                    "SelectFromModel.threshold reference {other:?} is unknown"
                ))),
            };
            match s.split_once('*') {
                Some((scale, r)) => {
                    let scale: f64 = scale.trim().parse().map_err(|_| {
                        Error::invalid_model(format!("SelectFromModel.threshold {s:?}"))
                    })?;
                    scale * reference(r.trim())?
                }
                None => reference(s)?,
            }
        }
        Some(other) => {
            return Err(Error::invalid_model(format!(
                "SelectFromModel.threshold is a {}",
                other.kind()
            )))
        }
    };
    let max_features = match (attrs.get("max_features"), attrs.get("max_features_")) {
        (None | Some(Value::None), _) => None,
        (_, Some(Value::Int(m))) | (Some(Value::Int(m)), None) => Some(
            usize::try_from(*m)
                .map_err(|_| Error::invalid_model("SelectFromModel.max_features is negative"))?,
        ),
        _ => {
            return Err(Error::unsupported_class(
                "SelectFromModel with a callable max_features is not supported",
            ))
        }
    };
    let mut keep = vec![max_features.is_none(); scores.len()];
    if let Some(m) = max_features {
        // argsort(-scores, kind='mergesort'): stable, so ties keep the lower index; NaN last.
        let mut order: Vec<(f64, usize)> = scores
            .iter()
            .map(|s| if s.is_nan() { f64::NAN } else { -s })
            .zip(0..)
            .collect();
        sort_by_value(&mut order);
        for &(_, i) in order.iter().take(m) {
            if let Some(k) = keep.get_mut(i) {
                *k = true;
            }
        }
    }
    let kept = keep
        .iter()
        .zip(&scores)
        .enumerate()
        // `mask[scores < threshold] = False`: a NaN score is kept.
        .filter(|(_, (k, s))| **k && (s.is_nan() || **s >= threshold))
        .map(|(i, _)| i)
        .collect();
    Ok((kept, scores.len()))
}

#[cfg_attr(wasm_size_build, optimize(size))]
fn mean(v: &[f64]) -> f64 {
    pairwise_sum(v) / v.len() as f64
}

/// numpy.median: the middle order statistic, or the mean of the two middle ones.
#[cfg_attr(wasm_size_build, optimize(size))]
fn median(v: &[f64]) -> f64 {
    let mut s: Vec<(f64, usize)> = v.iter().copied().zip(0..).collect();
    sort_by_value(&mut s);
    let n = s.len();
    if n == 0 {
        return f64::NAN;
    }
    let hi = s.get(n / 2).map_or(f64::NAN, |p| p.0);
    if n % 2 == 1 {
        hi
    } else {
        let lo = s.get(n / 2 - 1).map_or(f64::NAN, |p| p.0);
        (0.0 + lo + hi) / 2.0
    }
}

/// `threshold=None` means 1e-5 for models with an L1 penalty (scikit-learn's list).
#[cfg_attr(wasm_size_build, optimize(size))]
fn is_l1(est: &Attrs, class: Class) -> bool {
    let name = class.name();
    let close_to_one = |key: &str| match est.get(key) {
        Some(Value::Float(f)) => (f - 1.0).abs() <= 1e-8 + 1e-5,
        Some(Value::Int(i)) => *i == 1,
        _ => false,
    };
    matches!(est.get("penalty"), Some(Value::Str(p)) if p == "l1")
        || name.contains("Lasso")
        || (name.contains("ElasticNet") && (close_to_one("l1_ratio_") || close_to_one("l1_ratio")))
        || (name == "LogisticRegression" && est.at_least(1, 8) && close_to_one("l1_ratio"))
}

/// `coef_` (absolute values, or the column norms of a 2-D `coef_` with `norm_order`), or the
/// impurity importances of a tree or forest.
#[cfg_attr(wasm_size_build, optimize(size))]
fn importances(est: &Attrs, class: Class, owner: &Attrs) -> Result<Vec<f64>> {
    if est.get("coef_").is_some() {
        let coef = est.f64_array("coef_")?;
        let order = match owner.get("norm_order") {
            None | Some(Value::None) => 2.0,
            Some(Value::Int(i)) => *i as f64,
            Some(Value::Float(f)) => *f,
            Some(_) => 1.0,
        };
        return Ok(match coef.shape.as_slice() {
            [_] => coef.values.iter().map(|v| v.abs()).collect(),
            [rows, cols] => (0..*cols)
                .map(|c| {
                    let column =
                        (0..*rows).map(|r| coef.values.get(r * cols + c).copied().unwrap_or(0.0));
                    column_norm(column, order)
                })
                .collect(),
            other => {
                return Err(Error::invalid_model(format!(
                    "SelectFromModel: coef_ has shape {other:?}"
                )))
            }
        });
    }
    match class {
        c if c.is_tree_or_forest() => super::trees::feature_importances(est, class),
        other => Err(Error::unsupported_class(format!(
            "SelectFromModel over a {} is not supported (linear models with coef_, decision \
             trees and forests are)",
            other.name()
        ))),
    }
}

/// `numpy.linalg.norm(coef, axis=0, ord=order)` for one column (summed top to bottom).
#[cfg_attr(wasm_size_build, optimize(size))]
fn column_norm(column: impl Iterator<Item = f64>, order: f64) -> f64 {
    if order == 1.0 {
        column.fold(0.0, |s, v| s + v.abs())
    } else if order == 2.0 {
        column.fold(0.0, |s, v| s + v * v).sqrt()
    } else if order == f64::INFINITY {
        column.fold(0.0, |s, v| s.max(v.abs()))
    } else if order == f64::NEG_INFINITY {
        column.fold(f64::INFINITY, |s, v| s.min(v.abs()))
    } else if order == 0.0 {
        column.filter(|v| *v != 0.0).count() as f64
    } else {
        column
            .fold(0.0, |s, v| s + v.abs().powf(order))
            .powf(1.0 / order)
    }
}

#[cfg_attr(wasm_size_build, optimize(size))]
pub fn spline(attrs: &Attrs) -> Result<Transform> {
    let extrapolation = match attrs.opt_str("extrapolation")?.unwrap_or("constant") {
        "error" => Extrapolation::Error,
        "constant" => Extrapolation::Constant,
        "linear" => Extrapolation::Linear,
        "continue" => Extrapolation::Continue,
        "periodic" => Extrapolation::Periodic,
        other => {
            return Err(Error::invalid_model(format!(
                "SplineTransformer.extrapolation {other:?} is unknown"
            )))
        }
    };
    let degree = usize::try_from(attrs.int("degree")?)
        .map_err(|_| Error::invalid_model("SplineTransformer.degree is negative"))?;
    let arena = attrs.arena();
    let mut splines = Vec::new();
    let mut n_splines = None;
    for (i, id) in attrs.items("bsplines_")?.into_iter().enumerate() {
        let what = format!("bsplines_[{i}]");
        let (_, b) = attrs.nested(arena.get(id), &[Class::BSpline], &what)?;
        // scipy ≤ 1.16 stores `t`/`c`, 1.17 `_t`/`_c`.
        let either = |a: &str, b_name: &str| {
            if b.get(a).is_some() {
                a.to_owned()
            } else {
                b_name.to_owned()
            }
        };
        let t = b.f64_array(&either("t", "_t"))?.values;
        let c = b.f64_array(&either("c", "_c"))?;
        let k = usize::try_from(b.int("k")?)
            .map_err(|_| Error::invalid_model(format!("{what}.k is negative")))?;
        let width = match c.shape.as_slice() {
            [_, w] => *w,
            other => {
                return Err(Error::invalid_model(format!(
                    "{what}.c has shape {other:?}, expected 2-D"
                )))
            }
        };
        if *n_splines.get_or_insert(width) != width {
            return Err(Error::invalid_model(format!(
                "{what} has {width} basis functions, bsplines_[0] has {}",
                n_splines.unwrap_or(0)
            )));
        }
        splines.push(BSpline {
            t,
            c: c.values,
            k,
            extrapolate: matches!(b.get("extrapolate"), Some(Value::Bool(true))),
        });
    }
    Ok(Transform::Spline(SplineMap {
        splines,
        n_splines: n_splines.unwrap_or(0),
        degree,
        extrapolation,
        include_bias: !matches!(attrs.get("include_bias"), Some(Value::Bool(false))),
        nan_to_zero: attrs.opt_str("handle_missing")? == Some("zeros"),
        zero_period_guard: attrs.at_least(1, 8),
    }))
}
