//! `HistGradientBoostingClassifier/Regressor` (scikit-learn 1.0 to 1.9).
//!
//! Trees are `TreePredictor` objects whose `nodes` is a packed record array (fields read by
//! name). Leaf values already include the learning rate. Input stays float64 and NaN follows
//! each split's `missing_go_to_left`. Categorical splits (features given by index or mask,
//! integer codes up to 1.3; from 1.4 codes made by an internal OrdinalEncoder, `_preprocessor`,
//! lowered as a preprocessing stage) combine the node's left-category bitset with the bin
//! mapper's known categories.

use super::attrs::Attrs;
use super::ImportContext;
use crate::core::model::ClassLabels;
use crate::core::tree_models::{BoostLink, HistBoosted, HistNode, RegressionOutput, SplitRule};
use crate::error::{Error, Result};
use crate::formats::pickle::globals::{Class, LossKind};
use crate::formats::pickle::value::Value;

pub fn lower(attrs: &Attrs, class: Class, ctx: &ImportContext) -> Result<HistBoosted> {
    let n_features = usize::try_from(attrs.int("n_features_in_")?)
        .map_err(|_| Error::invalid_model("n_features_in_ is negative"))?;
    ctx.limits
        .check("number of features", ctx.limits.max_features, n_features)?;
    let is_classifier = class == Class::HistGradientBoostingClassifier;
    let classes = if is_classifier {
        Some(attrs.classes(ctx.limits.max_classes)?)
    } else {
        None
    };
    let n_classes = classes.as_ref().map_or(0, ClassLabels::len);
    let baseline = attrs.f64_array("_baseline_prediction")?.values;
    let k = baseline.len();
    let kind = match attrs.object("_loss")? {
        (Class::Loss(kind), _) => kind,
        (other, _) => {
            return Err(Error::unsupported_class(format!(
                "HistGradientBoosting loss {} is not supported",
                other.name()
            )))
        }
    };
    let new_rules = attrs.at_least(1, 4);
    let (link, output) = match (is_classifier, kind) {
        (false, LossKind::SquaredError | LossKind::AbsoluteError | LossKind::Quantile) => {
            (None, RegressionOutput::Identity)
        }
        (false, LossKind::LogLink) => (None, RegressionOutput::Exp),
        (true, LossKind::Binomial) if k == 1 && n_classes == 2 => (
            Some(if new_rules {
                BoostLink::LogitRawPositive
            } else {
                BoostLink::Logit {
                    half: false,
                    argmax_proba: true,
                }
            }),
            RegressionOutput::Identity,
        ),
        // 1.0's CategoricalCrossEntropy computes exp(raw − logsumexp(raw)); 1.1's
        // HalfMultinomialLoss a softmax.
        (true, LossKind::Multinomial) if k == n_classes && k > 2 => (
            Some(if attrs.at_least(1, 1) {
                BoostLink::Softmax
            } else {
                BoostLink::ExpMinusLogSumExp
            }),
            RegressionOutput::Identity,
        ),
        (_, other) => {
            return Err(Error::invalid_model(format!(
                "{}: loss {other:?} does not fit {k} baseline values and {n_classes} classes",
                attrs.class_name()
            )))
        }
    };

    let arena = attrs.arena();
    let known = known_categories(attrs, n_features)?;
    let mut category_sets: Vec<Vec<u32>> = Vec::new();
    let mut nodes: Vec<HistNode> = Vec::new();
    let mut roots = Vec::new();
    let mut columns = Vec::new();
    for (iteration, id) in attrs.items("_predictors")?.into_iter().enumerate() {
        let per_class = match arena.get(id) {
            Value::List(items) | Value::Tuple(items) => items.clone(),
            other => {
                return Err(Error::invalid_model(format!(
                    "_predictors[{iteration}] is a {}",
                    other.kind()
                )))
            }
        };
        if per_class.len() != k {
            return Err(Error::invalid_model(format!(
                "_predictors[{iteration}] has {} trees, expected {k}",
                per_class.len()
            )));
        }
        for (column, tree_id) in per_class.into_iter().enumerate() {
            let (_, tree) =
                attrs.nested(arena.get(tree_id), &[Class::TreePredictor], "_predictors")?;
            let where_ = format!("_predictors[{iteration}][{column}]");
            let array = tree.array("nodes").map_err(|e| e.context(&where_))?;
            let value = array.field_f64("value")?;
            let feature = array.field_i64("feature_idx")?;
            let threshold = array.field_f64("num_threshold")?;
            let missing = array.field_i64("missing_go_to_left")?;
            let left = array.field_i64("left")?;
            let right = array.field_i64("right")?;
            let is_leaf = array.field_i64("is_leaf")?;
            let categorical = array
                .field_i64("is_categorical")
                .unwrap_or_else(|_| vec![0; value.len()]);
            let bitset_idx = array
                .field_i64("bitset_idx")
                .unwrap_or_else(|_| vec![0; value.len()]);
            let left_sets: Vec<u32> = if categorical.contains(&1) {
                let a = tree
                    .array("raw_left_cat_bitsets")
                    .map_err(|e| e.context(&where_))?;
                a.to_i64(arena)?
                    .into_iter()
                    .map(|w| u32::try_from(w).unwrap_or(0))
                    .collect()
            } else {
                Vec::new()
            };
            ctx.limits
                .check("number of trees", ctx.limits.max_trees, roots.len() + 1)?;
            ctx.limits.check(
                "number of tree nodes",
                ctx.limits.max_nodes,
                nodes.len().saturating_add(value.len()),
            )?;
            let base =
                u32::try_from(nodes.len()).map_err(|_| Error::limit("too many tree nodes"))?;
            roots.push(base);
            columns.push(u32::try_from(column).map_err(|_| Error::limit("too many classes"))?);
            for i in 0..value.len() {
                let get = |v: &[i64]| v.get(i).copied().unwrap_or(-1);
                let leaf = get(&is_leaf) != 0;
                let category_set = if !leaf && get(&categorical) == 1 {
                    let f = usize::try_from(get(&feature)).unwrap_or(usize::MAX);
                    let row = usize::try_from(get(&bitset_idx)).unwrap_or(usize::MAX);
                    let (left_words, known_words) = match (
                        row.checked_mul(8)
                            .and_then(|start| left_sets.get(start..start + 8)),
                        known.get(f).and_then(Option::as_ref),
                    ) {
                        (Some(l), Some(k)) => (l, k),
                        _ => {
                            return Err(Error::invalid_model(format!(
                                "{where_}, node {i}: categorical split on feature {f} with bitset \
                                 {row}, which the model does not have"
                            )))
                        }
                    };
                    let missing_left = get(&missing) != 0;
                    let set: Vec<u32> = left_words
                        .iter()
                        .zip(known_words)
                        .map(|(l, k)| l | if missing_left { !k } else { 0 })
                        .collect();
                    category_sets.push(set);
                    Some((category_sets.len() - 1) as f64)
                } else {
                    None
                };
                let index = |v: i64, what: &str| -> Result<u32> {
                    u32::try_from(v)
                        .ok()
                        .and_then(|v| v.checked_add(base))
                        .ok_or_else(|| {
                            Error::invalid_model(format!(
                                "{where_}, node {i}: {what} {v} is out of range"
                            ))
                        })
                };
                // Leaves keep only their value and splits none (scikit-learn stores one on
                // every node; prediction reads a leaf's): the one form every importer and a
                // bundle give.
                if leaf {
                    nodes.push(HistNode::leaf(value.get(i).copied().unwrap_or(f64::NAN)));
                    continue;
                }
                nodes.push(HistNode {
                    feature: u32::try_from(get(&feature)).map_err(|_| {
                        Error::invalid_model(format!(
                            "{where_}, node {i}: feature {} is out of range",
                            get(&feature)
                        ))
                    })?,
                    threshold: category_set
                        .unwrap_or_else(|| threshold.get(i).copied().unwrap_or(f64::NAN)),
                    left: index(get(&left), "left child")?,
                    right: index(get(&right), "right child")?,
                    missing_left: get(&missing) != 0,
                    leaf: false,
                    rule: if category_set.is_some() {
                        // 1.2 started treating negative categories as missing at predict time.
                        if attrs.at_least(1, 2) {
                            SplitRule::HgbCategorical
                        } else {
                            SplitRule::HgbCategoricalTruncating
                        }
                    } else {
                        SplitRule::NanMissing
                    },
                    value: 0.0,
                });
            }
        }
    }
    let model = HistBoosted {
        n_features,
        nodes,
        roots,
        columns,
        baseline,
        classes,
        link,
        output,
        category_sets,
        raw_divisor: 1.0,
        xgboost_f32: false,
        linear_weights: Vec::new(),
        leaf_models: Vec::new(),
        eval: Default::default(),
    };
    let mut model = model;
    model
        .build_eval()
        .map_err(|e| e.context(attrs.class_name()))?;
    Ok(model)
}

/// Per feature, the 256-bit set of categories seen in training (`None` for numeric features):
/// what `_BinMapper.make_known_categories_bitsets` builds from `bin_thresholds_`.
fn known_categories(attrs: &Attrs, n_features: usize) -> Result<Vec<Option<[u32; 8]>>> {
    // From 1.4 the internal encoder moves categorical features first; the trees and the bin
    // mapper see that order, recorded in `_is_categorical_remapped`.
    let name = match attrs.get("_is_categorical_remapped") {
        Some(Value::Array(_)) => "_is_categorical_remapped",
        _ => "is_categorical_",
    };
    let mask: Vec<bool> = match attrs.get(name) {
        None | Some(Value::None) => return Ok(vec![None; n_features]),
        Some(_) => attrs
            .array(name)?
            .to_i64(attrs.arena())?
            .into_iter()
            .map(|v| v != 0)
            .collect(),
    };
    if mask.len() != n_features {
        return Err(Error::invalid_model(format!(
            "is_categorical_ has {} entries for {n_features} features",
            mask.len()
        )));
    }
    let (_, mapper) = attrs.object("_bin_mapper")?;
    let (_, mapper) = attrs.nested(mapper, &[Class::BinMapper], "_bin_mapper")?;
    let thresholds = mapper.items("bin_thresholds_")?;
    let mut known = vec![None; n_features];
    for (f, slot) in known.iter_mut().enumerate() {
        if !mask.get(f).copied().unwrap_or(false) {
            continue;
        }
        let values = match thresholds.get(f).map(|&id| attrs.arena().get(id)) {
            Some(Value::Array(a)) => a.to_f64(attrs.arena())?,
            _ => {
                return Err(Error::invalid_model(format!(
                    "_bin_mapper.bin_thresholds_ has no categories for feature {f}"
                )))
            }
        };
        let mut set = [0u32; 8];
        for v in values {
            if !(0.0..256.0).contains(&v) || v.fract() != 0.0 {
                return Err(Error::invalid_model(format!(
                    "feature {f}: known category {v} is not an integer in [0, 256)"
                )));
            }
            let c = v as usize;
            if let Some(word) = set.get_mut(c / 32) {
                *word |= 1 << (c % 32);
            }
        }
        *slot = Some(set);
    }
    Ok(known)
}
