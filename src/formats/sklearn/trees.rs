//! scikit-learn decision trees, forests, extra trees and gradient boosting, 1.0 to 1.9.
//!
//! Version facts used here (formats.md §3): the node record gained `missing_go_to_left` in 1.3
//! (fields are read by name, so both layouts work); classifier leaves hold weighted counts up to
//! 1.3 (normalised per tree at predict time) and fractions from 1.4; gradient boosting's init
//! and link changed in 1.4.

use super::attrs::Attrs;
use super::ImportContext;
use crate::core::input::InputRule;
use crate::core::model::ClassLabels;
use crate::core::tree_models::{
    AdaBoost, AdaBoostRule, AveragedTrees, BoostLink, BoostedTrees, IsolationForest,
};
use crate::core::trees::{EnsembleBuilder, Node};
use crate::error::{Error, ErrorCode, Result};
use crate::formats::pickle::globals::{Class, LossKind};
use crate::formats::pickle::value::Value;

/// The arrays of one fitted `sklearn.tree._tree.Tree`.
struct SkTree {
    left: Vec<i64>,
    right: Vec<i64>,
    feature: Vec<i64>,
    threshold: Vec<f64>,
    /// `node_count × n_outputs × max_classes`, C order.
    values: Vec<f64>,
    /// `max_classes` (1 for regression).
    value_width: usize,
    n_outputs: usize,
    /// `missing_go_to_left` per node (scikit-learn ≥ 1.3), empty before.
    missing_left: Vec<i64>,
    n_node_samples: Vec<i64>,
}

fn read_tree(owner: &Attrs, n_features: usize) -> Result<SkTree> {
    let (_, tree) = owner.object("tree_")?;
    let ctx = |e: Error| e.context(format!("{}.tree_", owner.class_name()));
    let (_, attrs) = owner.nested(tree, &[Class::Tree], "tree_")?;
    let nodes = attrs.array("nodes").map_err(ctx)?;
    let node_count = nodes.len();
    let left = nodes.field_i64("left_child").map_err(ctx)?;
    let right = nodes.field_i64("right_child").map_err(ctx)?;
    let feature = nodes.field_i64("feature").map_err(ctx)?;
    let threshold = nodes.field_f64("threshold").map_err(ctx)?;
    let n_node_samples = nodes.field_i64("n_node_samples").map_err(ctx)?;
    let missing_left = if nodes.has_field("missing_go_to_left") {
        nodes.field_i64("missing_go_to_left").map_err(ctx)?
    } else {
        Vec::new()
    };
    let values_array = attrs.array("values").map_err(ctx)?;
    let (n_outputs, width) = match values_array.shape.as_slice() {
        [n, o, w] if *n == node_count => (*o, *w),
        other => {
            return Err(ctx(Error::invalid_model(format!(
                "values has shape {other:?} for {node_count} nodes"
            ))))
        }
    };
    if let Value::Object { args, .. } = tree {
        if let Some(Value::Int(declared)) = args.first().map(|id| attrs.arena().get(*id)) {
            if usize::try_from(*declared).ok() != Some(n_features) {
                return Err(ctx(Error::invalid_model(format!(
                    "tree was built for {declared} features, the estimator says {n_features}"
                ))));
            }
        }
    }
    let values = values_array.to_f64(attrs.arena()).map_err(ctx)?;
    Ok(SkTree {
        left,
        right,
        feature,
        threshold,
        values,
        value_width: width,
        n_outputs,
        missing_left,
        n_node_samples,
    })
}

fn index(v: i64, what: &str, node: usize) -> Result<u32> {
    u32::try_from(v)
        .map_err(|_| Error::invalid_model(format!("node {node}: {what} {v} is out of range")))
}

/// Append one scikit-learn tree; `payload(leaf_values)` turns a leaf's value row into its payload.
fn push_tree(
    builder: &mut EnsembleBuilder,
    tree: &SkTree,
    column: u32,
    ctx: &ImportContext,
    payload: impl Fn(usize, &[f64]) -> Vec<f64>,
) -> Result<()> {
    push_tree_nan(builder, tree, column, ctx, false, &payload)
}

/// [`push_tree`] that also keeps the learned missing-value directions when the model takes NaN.
fn push_tree_nan(
    builder: &mut EnsembleBuilder,
    tree: &SkTree,
    column: u32,
    ctx: &ImportContext,
    takes_nan: bool,
    // `dyn`: one copy of the node loop for every importer's leaf payload.
    payload: &dyn Fn(usize, &[f64]) -> Vec<f64>,
) -> Result<()> {
    let limits = ctx.limits;
    limits.check("number of trees", limits.max_trees, builder.n_trees() + 1)?;
    limits.check(
        "number of tree nodes",
        limits.max_nodes,
        builder.n_nodes().saturating_add(tree.left.len()),
    )?;
    let mut nodes = Vec::with_capacity(tree.left.len());
    let mut nan_left = Vec::new();
    for (i, (&l, &r)) in tree.left.iter().zip(&tree.right).enumerate() {
        if l == -1 {
            let row_len = tree.n_outputs * tree.value_width;
            let row = tree
                .values
                .get(i * row_len..(i + 1) * row_len)
                .ok_or_else(|| Error::invalid_model(format!("node {i}: no value row")))?;
            nodes.push(Node::leaf(builder.push_leaf_values(&payload(i, row))?));
        } else {
            let feature = tree.feature.get(i).copied().unwrap_or(-1);
            let threshold = tree.threshold.get(i).copied().unwrap_or(f64::NAN);
            nodes.push(Node::split(
                index(feature, "feature", i)?,
                threshold,
                index(l, "left child", i)?,
                index(r, "right child", i)?,
            ));
            if takes_nan && tree.missing_left.get(i).is_some_and(|&m| m != 0) {
                nan_left.push(index(i as i64, "node", i)?);
            }
        }
    }
    builder.push_tree_with_missing(nodes, column, &nan_left)
}

/// Whether scikit-learn accepts NaN in `predict` for this tree model — checked against the
/// real library in `tests/fixtures/gen/gen.py` (`nan_row`): single trees from 1.3 with the
/// best splitter (1.6: also random), forests from 1.4 (extra trees 1.6); never the
/// absolute-error criterion before 1.6; never before 1.3 (no stored directions).
fn accepts_nan(attrs: &Attrs, forest: bool, record_has_directions: bool) -> Result<bool> {
    if !record_has_directions || !attrs.at_least(1, 3) {
        return Ok(false);
    }
    if attrs.at_least(1, 6) {
        return Ok(true);
    }
    let criterion = attrs.opt_str("criterion")?.unwrap_or("");
    if criterion == "absolute_error" {
        return Ok(false);
    }
    let class = attrs.class_name();
    let random = class.contains("ExtraTree") || attrs.opt_str("splitter")? == Some("random");
    Ok(!random && (!forest || attrs.at_least(1, 4)))
}

fn n_features(attrs: &Attrs, ctx: &ImportContext) -> Result<usize> {
    let n = usize::try_from(attrs.int("n_features_in_")?)
        .map_err(|_| Error::invalid_model("n_features_in_ is negative"))?;
    ctx.limits
        .check("number of features", ctx.limits.max_features, n)?;
    Ok(n)
}

const TREE_CLASSIFIERS: &[Class] = &[Class::DecisionTreeClassifier, Class::ExtraTreeClassifier];
const TREE_REGRESSORS: &[Class] = &[Class::DecisionTreeRegressor, Class::ExtraTreeRegressor];

/// The tree classes an ensemble of this kind holds.
fn tree_classes(is_classifier: bool) -> &'static [Class] {
    if is_classifier {
        TREE_CLASSIFIERS
    } else {
        TREE_REGRESSORS
    }
}

/// What every tree-ensemble importer starts from: the feature count (checked against the
/// limits) and, for classifiers, the labels.
fn features_and_classes(
    attrs: &Attrs,
    is_classifier: bool,
    ctx: &ImportContext,
) -> Result<(usize, Option<ClassLabels>)> {
    let nf = n_features(attrs, ctx)?;
    let classes = if is_classifier {
        Some(attrs.classes(ctx.limits.max_classes)?)
    } else {
        None
    };
    Ok((nf, classes))
}

/// Base estimator `t` of a meta-ensemble (Bagging, AdaBoost), which must be a decision or
/// extra tree of the ensemble's kind.
fn base_tree<'a>(
    attrs: &Attrs<'a>,
    id: crate::formats::pickle::value::Id,
    is_classifier: bool,
) -> Result<Attrs<'a>> {
    attrs
        .nested(
            attrs.arena().get(id),
            tree_classes(is_classifier),
            "estimators_",
        )
        .map(|(_, tree_attrs)| tree_attrs)
        .map_err(|e| {
            Error::new(
                ErrorCode::UnsupportedClass,
                format!("only decision and extra trees are supported as the base estimator: {e}"),
            )
        })
}

/// A single tree or a forest: the estimators to average, and whether it classifies.
pub fn averaged(attrs: &Attrs, class: Class, ctx: &ImportContext) -> Result<AveragedTrees> {
    averaged_output(attrs, class, ctx, None)
}

/// Whether a tree or forest classifier was fitted on several targets.
pub fn is_multi_output_classifier(attrs: &Attrs, class: Class) -> bool {
    is_tree_classifier(class) && matches!(attrs.get("n_outputs_"), Some(Value::Int(n)) if *n > 1)
}

fn is_tree_classifier(class: Class) -> bool {
    matches!(
        class,
        Class::DecisionTreeClassifier
            | Class::ExtraTreeClassifier
            | Class::RandomForestClassifier
            | Class::ExtraTreesClassifier
    )
}

/// One output of a multi-output tree or forest classifier: the same trees with that
/// output's leaf values and classes (scikit-learn's per-output `predict_proba`, and `predict`
/// as its argmax).
pub fn output_classifier(
    attrs: &Attrs,
    class: Class,
    ctx: &ImportContext,
    output: usize,
    classes: ClassLabels,
) -> Result<crate::core::Estimator> {
    averaged_output(attrs, class, ctx, Some((output, classes)))
        .map(crate::core::Estimator::AveragedTrees)
}

/// [`averaged`], or for `output = (o, classes)` the classifier of output `o` alone.
fn averaged_output(
    attrs: &Attrs,
    class: Class,
    ctx: &ImportContext,
    output: Option<(usize, ClassLabels)>,
) -> Result<AveragedTrees> {
    let is_classifier = is_tree_classifier(class);
    let per_output = output.is_some();
    let (output_index, output_classes) = match output {
        Some((o, c)) => (o, Some(c)),
        None => (0, None),
    };
    let (nf, classes) = match output_classes {
        Some(c) => (n_features(attrs, ctx)?, Some(c)),
        None => features_and_classes(attrs, is_classifier, ctx)?,
    };
    let n_outputs = if is_classifier {
        1
    } else {
        usize::try_from(attrs.int("n_outputs_")?)
            .ok()
            .filter(|&n| n >= 1 && n <= ctx.limits.max_classes)
            .ok_or_else(|| Error::invalid_model("n_outputs_ is out of range"))?
    };
    let width = classes.as_ref().map_or(n_outputs, ClassLabels::len);
    let normalise = is_classifier && !attrs.at_least(1, 4);
    let mut builder = EnsembleBuilder::new(nf, width, width);
    let single = class.is_single_tree();
    let mut count = 0usize;
    let takes_nan = accepts_nan(attrs, !single, true)?;
    let mut every_tree_has_directions = true;
    let expected = tree_classes(is_classifier);
    let mut add = |tree_attrs: &Attrs| -> Result<()> {
        let tree = read_tree(tree_attrs, nf)?;
        if per_output {
            // One output of a multi-output classifier: its row of each leaf's values.
            if !(tree.n_outputs > output_index && tree.value_width >= width) {
                return Err(Error::invalid_model(format!(
                    "{}: a tree has {} outputs × {} class columns, output {output_index} has \
                     {width} classes",
                    attrs.class_name(),
                    tree.n_outputs,
                    tree.value_width
                )));
            }
        } else {
            check_tree_shape(&tree, attrs, is_classifier, width)?;
        }
        every_tree_has_directions &= !tree.missing_left.is_empty();
        let skip = output_index * tree.value_width;
        push_tree_nan(&mut builder, &tree, 0, ctx, takes_nan, &|_, row| {
            leaf_output(row.get(skip..).unwrap_or(&[]), width, normalise)
        })
    };
    if single {
        add(attrs)?;
        count = 1;
    } else {
        for (i, id) in attrs.items("estimators_")?.into_iter().enumerate() {
            let (_, tree_attrs) = attrs.nested(attrs.arena().get(id), expected, "estimators_")?;
            add(&tree_attrs).map_err(|e| e.context(format!("estimators_[{i}]")))?;
            count += 1;
        }
    }
    let trees = builder
        .finish()
        .map_err(|e| e.context(attrs.class_name()))?;
    let model = AveragedTrees {
        trees,
        classes,
        divisor: count as f64,
        input: if takes_nan && every_tree_has_directions {
            InputRule::FiniteF32OrNan
        } else {
            InputRule::FiniteF32
        },
        has_apply: true,
    };
    model.validate()?;
    Ok(model)
}

/// A classifier tree has one output and at least `width` class columns; a regression tree
/// has `width` outputs of one value each.
fn check_tree_shape(tree: &SkTree, owner: &Attrs, is_classifier: bool, width: usize) -> Result<()> {
    let fits = if is_classifier {
        tree.n_outputs == 1 && tree.value_width >= width
    } else {
        tree.n_outputs == width && tree.value_width == 1
    };
    if fits {
        return Ok(());
    }
    if is_classifier && tree.n_outputs > 1 {
        return Err(Error::new(
            ErrorCode::UnsupportedVersion,
            format!(
                "{}: multi-output classification ({} outputs) is not supported; \
                 multi-output regression is",
                owner.class_name(),
                tree.n_outputs
            ),
        ));
    }
    Err(Error::invalid_model(if is_classifier {
        format!(
            "{}: a tree has {} class columns, the model has {width} classes",
            owner.class_name(),
            tree.value_width
        )
    } else {
        format!(
            "{}: a tree has {} outputs × {} values per leaf, the model needs {width} outputs",
            owner.class_name(),
            tree.n_outputs,
            tree.value_width
        )
    }))
}

/// A leaf's output: its first `width` values — class probabilities for classifiers (up to
/// 1.3 leaves hold weighted counts, which `predict_proba` divides by their sum), values for
/// regressors.
fn leaf_output(row: &[f64], width: usize, normalise: bool) -> Vec<f64> {
    let mut p: Vec<f64> = row.iter().take(width).copied().collect();
    if normalise {
        let sum: f64 = p.iter().sum();
        let normalizer = if sum == 0.0 { 1.0 } else { sum };
        p.iter_mut().for_each(|v| *v /= normalizer);
    }
    p
}

/// Map a tree's feature indices (into the subset `used` it was fitted on) back to columns of X.
fn remap_features(tree: &mut SkTree, used: &[i64]) -> Result<()> {
    for f in tree.feature.iter_mut().filter(|f| **f >= 0) {
        *f = usize::try_from(*f)
            .ok()
            .and_then(|i| used.get(i).copied())
            .ok_or_else(|| {
                Error::invalid_model(format!("feature {f} is not in the tree's subset"))
            })?;
    }
    Ok(())
}

/// The integer array `id` points to (e.g. one entry of `estimators_features_`).
fn int_array(attrs: &Attrs, id: crate::formats::pickle::value::Id, what: &str) -> Result<Vec<i64>> {
    match attrs.arena().get(id) {
        Value::Array(a) => a.to_i64(attrs.arena()),
        other => Err(Error::invalid_model(format!(
            "{}.{what} holds a {}, expected an array",
            attrs.class_name(),
            other.kind()
        ))),
    }
}

/// `BaggingClassifier` / `BaggingRegressor` over decision or extra trees: an average like a
/// forest's, but each tree sees its own feature subset (`estimators_features_`), a
/// classifier's tree may have seen only some classes (its `classes_` index the ensemble's), and
/// scikit-learn divides by `n_estimators`.
pub fn bagging(attrs: &Attrs, class: Class, ctx: &ImportContext) -> Result<AveragedTrees> {
    let is_classifier = class == Class::BaggingClassifier;
    let (nf, classes) = features_and_classes(attrs, is_classifier, ctx)?;
    let width = classes.as_ref().map_or(1, ClassLabels::len);
    let estimators = attrs.items("estimators_")?;
    let features = attrs.items("estimators_features_")?;
    if features.len() != estimators.len() || estimators.is_empty() {
        return Err(Error::invalid_model(
            "Bagging: estimators_ and estimators_features_ disagree in length, or are empty",
        ));
    }
    let mut builder = EnsembleBuilder::new(nf, width, width);
    let mut input = InputRule::FiniteF32OrNan;
    for (t, (&tree_id, &features_id)) in estimators.iter().zip(&features).enumerate() {
        let at = |e: Error| e.context(format!("{}.estimators_[{t}]", attrs.class_name()));
        let tree_attrs = base_tree(attrs, tree_id, is_classifier).map_err(at)?;
        let used = int_array(attrs, features_id, "estimators_features_").map_err(at)?;
        let mut tree = read_tree(&tree_attrs, used.len()).map_err(at)?;
        remap_features(&mut tree, &used).map_err(at)?;
        let takes_nan = accepts_nan(&tree_attrs, false, !tree.missing_left.is_empty())?;
        if !takes_nan {
            input = InputRule::FiniteF32;
        }
        let normalise = is_classifier && !tree_attrs.at_least(1, 4);
        // The tree's classes_ are indices into the ensemble's classes (bagging fits on the
        // encoded target); a bootstrap sample may have missed some.
        let slots: Vec<usize> = if is_classifier {
            let own = tree_attrs.f64_array("classes_").map_err(at)?.values;
            own.iter()
                .map(|&c| {
                    Some(c)
                        .filter(|c| c.fract() == 0.0 && *c >= 0.0 && (*c as usize) < width)
                        .map(|c| c as usize)
                        .ok_or_else(|| {
                            at(Error::invalid_model(format!(
                                "tree class {c} is not a class index"
                            )))
                        })
                })
                .collect::<Result<_>>()?
        } else {
            vec![0]
        };
        check_tree_shape(&tree, &tree_attrs, is_classifier, slots.len()).map_err(at)?;
        push_tree_nan(&mut builder, &tree, 0, ctx, takes_nan, &|_, row| {
            let own = leaf_output(row, slots.len(), normalise);
            let mut full = vec![0.0; width];
            for (&slot, v) in slots.iter().zip(own) {
                if let Some(f) = full.get_mut(slot) {
                    *f = v;
                }
            }
            full
        })
        .map_err(at)?;
    }
    let divisor = attrs.int("n_estimators")? as f64;
    let model = AveragedTrees {
        trees: builder
            .finish()
            .map_err(|e| e.context(attrs.class_name()))?,
        classes,
        divisor,
        input,
        has_apply: false,
    };
    model.validate()?;
    Ok(model)
}

/// `AdaBoostClassifier` (SAMME, and SAMME.R up to 1.5) / `AdaBoostRegressor` over decision or
/// extra trees.
/// How an AdaBoost ensemble combines its estimators.
pub(super) fn adaboost_rule(attrs: &Attrs, is_classifier: bool) -> Result<AdaBoostRule> {
    Ok(match (is_classifier, attrs.opt_str("algorithm")?) {
        (false, _) => AdaBoostRule::WeightedMedian,
        (true, Some("SAMME.R")) => AdaBoostRule::SammeR,
        // scikit-learn 1.3 made each estimator's SAMME vote symmetric (sum zero).
        (true, _) => AdaBoostRule::Samme {
            symmetric: attrs.at_least(1, 3),
        },
    })
}

pub fn adaboost(attrs: &Attrs, class: Class, ctx: &ImportContext) -> Result<AdaBoost> {
    let is_classifier = class == Class::AdaBoostClassifier;
    let (nf, classes) = features_and_classes(attrs, is_classifier, ctx)?;
    let width = classes.as_ref().map_or(1, ClassLabels::len);
    let rule = adaboost_rule(attrs, is_classifier)?;
    let weights = attrs.f64_array("estimator_weights_")?.values;
    let estimators = attrs.items("estimators_")?;
    let n_outputs = estimators
        .len()
        .checked_mul(width)
        .ok_or_else(|| Error::limit("too many AdaBoost outputs"))?;
    let mut builder = EnsembleBuilder::new(nf, width, n_outputs);
    for (t, &tree_id) in estimators.iter().enumerate() {
        let at = |e: Error| e.context(format!("{}.estimators_[{t}]", attrs.class_name()));
        let tree_attrs = base_tree(attrs, tree_id, is_classifier).map_err(at)?;
        let tree = read_tree(&tree_attrs, nf).map_err(at)?;
        check_tree_shape(&tree, &tree_attrs, is_classifier, width).map_err(at)?;
        // SAMME votes with the tree's predict (argmax of its raw leaf values); SAMME.R uses its
        // predict_proba.
        let normalise = rule == AdaBoostRule::SammeR && !tree_attrs.at_least(1, 4);
        let column = u32::try_from(t * width).map_err(|_| Error::limit("too many trees"))?;
        push_tree(&mut builder, &tree, column, ctx, |_, row| {
            leaf_output(row, width, normalise)
        })
        .map_err(at)?;
    }
    let model = AdaBoost {
        trees: builder
            .finish()
            .map_err(|e| e.context(attrs.class_name()))?,
        rule,
        weights,
        classes,
    };
    model.validate()?;
    Ok(model)
}

/// The loss class of a gradient-boosting model (`_loss` from 1.1, `loss_` in 1.0).
fn loss_kind(attrs: &Attrs) -> Result<LossKind> {
    let name = if attrs.get("_loss").is_some() {
        "_loss"
    } else {
        "loss_"
    };
    match attrs.object(name)? {
        (Class::Loss(kind), _) => Ok(kind),
        (other, _) => Err(Error::new(
            ErrorCode::UnsupportedClass,
            format!(
                "{}.{name} is a {}, not a known loss",
                attrs.class_name(),
                other.name()
            ),
        )),
    }
}

pub fn boosted(attrs: &Attrs, class: Class, ctx: &ImportContext) -> Result<BoostedTrees> {
    let is_classifier = class == Class::GradientBoostingClassifier;
    let (nf, classes) = features_and_classes(attrs, is_classifier, ctx)?;
    let n_classes = classes.as_ref().map_or(0, ClassLabels::len);
    let k = if n_classes > 2 { n_classes } else { 1 };
    let kind = loss_kind(attrs)?;
    let new_rules = attrs.at_least(1, 4);
    let link = match (is_classifier, kind) {
        (
            false,
            LossKind::SquaredError | LossKind::AbsoluteError | LossKind::Huber | LossKind::Quantile,
        ) => None,
        (true, LossKind::Binomial) if k == 1 => Some(BoostLink::Logit {
            half: false,
            argmax_proba: !new_rules,
        }),
        (true, LossKind::Exponential) if k == 1 => Some(BoostLink::Logit {
            half: true,
            argmax_proba: false,
        }),
        (true, LossKind::Multinomial) if k > 1 => Some(if new_rules {
            BoostLink::Softmax
        } else {
            BoostLink::ExpMinusLogSumExp
        }),
        (_, other) => {
            return Err(Error::invalid_model(format!(
                "{}: loss {other:?} does not fit a model with {n_classes} classes",
                attrs.class_name()
            )))
        }
    };
    let learning_rate = attrs.float("learning_rate")?;
    let init = init_raw(attrs, kind, k, new_rules)?;

    let stages = attrs.array("estimators_")?;
    let (n_stages, width) = match stages.shape.as_slice() {
        [m, w] => (*m, *w),
        other => {
            return Err(Error::invalid_model(format!(
                "estimators_ has shape {other:?}, expected (n_stages, K)"
            )))
        }
    };
    if width != k {
        return Err(Error::invalid_model(format!(
            "estimators_ has {width} trees per stage, expected {k}"
        )));
    }
    let mut builder = EnsembleBuilder::new(nf, 1, k);
    for (i, id) in attrs.items("estimators_")?.into_iter().enumerate() {
        let (_, tree_attrs) =
            attrs.nested(attrs.arena().get(id), TREE_REGRESSORS, "estimators_")?;
        let tree = read_tree(&tree_attrs, nf)
            .map_err(|e| e.context(format!("estimators_[{}, {}]", i / k, i % k)))?;
        // scikit-learn adds `learning_rate * value`: the same product, computed once here.
        let column = u32::try_from(i % k).map_err(|_| Error::limit("too many classes"))?;
        push_tree(&mut builder, &tree, column, ctx, |_, row: &[f64]| {
            vec![learning_rate * row.first().copied().unwrap_or(f64::NAN)]
        })?;
    }
    if n_stages == 0 {
        return Err(Error::invalid_model(format!(
            "{} has no fitted stages",
            attrs.class_name()
        )));
    }
    let model = BoostedTrees {
        trees: builder.finish()?,
        init,
        classes,
        link,
    };
    model.validate()?;
    Ok(model)
}

/// The constant raw score the boosting starts from, as scikit-learn computes it from `init_`.
fn init_raw(attrs: &Attrs, kind: LossKind, k: usize, new_rules: bool) -> Result<Vec<f64>> {
    if let Some(Value::Str(s)) = attrs.get("init_") {
        return if s == "zero" {
            Ok(vec![0.0; k])
        } else {
            Err(Error::invalid_model(format!(
                "{}.init_ is the string {s:?}",
                attrs.class_name()
            )))
        };
    }
    let (class, init) = attrs.object("init_")?;
    let (_, dummy) = attrs.nested(
        init,
        &[Class::DummyClassifier, Class::DummyRegressor],
        "init_",
    )?;
    match class {
        Class::DummyRegressor => {
            let constant = dummy.f64_array("constant_")?;
            match constant.values.as_slice() {
                [c] => Ok(vec![*c]),
                other => Err(Error::invalid_model(format!(
                    "init_.constant_ has {} values",
                    other.len()
                ))),
            }
        }
        Class::DummyClassifier => {
            let strategy = dummy
                .opt_str("_strategy")?
                .or(dummy.opt_str("strategy")?)
                .unwrap_or("prior");
            if strategy != "prior" {
                return Err(Error::new(
                    ErrorCode::UnsupportedVersion,
                    format!("init_ DummyClassifier strategy {strategy:?} is not supported"),
                ));
            }
            let prior = dummy.f64_array("class_prior_")?.values;
            // ≥ 1.4 clips with float64 eps; ≤ 1.3 with float32 eps (and 1 - eps computed in float32).
            let (lo, hi) = if new_rules {
                (f64::EPSILON, 1.0 - f64::EPSILON)
            } else {
                (f64::from(f32::EPSILON), f64::from(1.0f32 - f32::EPSILON))
            };
            let logit = |p: f64| (p / (1.0 - p)).ln();
            match kind {
                LossKind::Binomial | LossKind::Exponential => {
                    let p = prior
                        .get(1)
                        .copied()
                        .ok_or_else(|| Error::invalid_model("init_ prior has no positive class"))?
                        .clamp(lo, hi);
                    let raw = logit(p);
                    Ok(vec![if kind == LossKind::Exponential {
                        0.5 * raw
                    } else {
                        raw
                    }])
                }
                LossKind::Multinomial => {
                    if prior.len() != k {
                        return Err(Error::invalid_model(format!(
                            "init_ has {} class priors for {k} classes",
                            prior.len()
                        )));
                    }
                    let p: Vec<f64> = prior.iter().map(|v| v.clamp(lo, hi)).collect();
                    if new_rules {
                        // Symmetric multinomial logit: log(p / gmean(p)), gmean = exp(mean(log p)).
                        let gmean = (p.iter().map(|v| v.ln()).sum::<f64>() / k as f64).exp();
                        Ok(p.iter().map(|v| (v / gmean).ln()).collect())
                    } else {
                        Ok(p.iter().map(|v| v.ln()).collect())
                    }
                }
                other => Err(Error::invalid_model(format!(
                    "classifier with regression loss {other:?}"
                ))),
            }
        }
        _ => Err(Error::new(
            ErrorCode::UnsupportedClass,
            "init_ estimator is not supported",
        )),
    }
}

/// scikit-learn's `_average_path_length` for one sample count: the expected depth of an
/// unsuccessful search in a binary search tree of `n` nodes.
fn average_path_length(n: f64) -> f64 {
    const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;
    if n <= 1.0 {
        0.0
    } else if n == 2.0 {
        1.0
    } else {
        2.0 * ((n - 1.0).ln() + EULER_GAMMA) - 2.0 * (n - 1.0) / n
    }
}

/// A tree's node depths counted from 1 at the root (`compute_node_depths`, the length of the
/// decision path to the node) and `_average_path_length(n_node_samples)` per node. Children
/// come after their parents in scikit-learn's node order (the ensemble builder rejects any
/// tree where they do not), so one forward pass sets every depth.
fn path_tables(tree: &SkTree) -> (Vec<f64>, Vec<f64>) {
    let n = tree.left.len();
    let mut depth = vec![0.0f64; n];
    if let Some(root) = depth.first_mut() {
        *root = 1.0;
    }
    for i in 0..n {
        let d = depth.get(i).copied().unwrap_or(0.0);
        for child in [tree.left.get(i), tree.right.get(i)].into_iter().flatten() {
            if let Some(slot) = usize::try_from(*child)
                .ok()
                .filter(|&c| c > i)
                .and_then(|c| depth.get_mut(c))
            {
                *slot = d + 1.0;
            }
        }
    }
    let average = tree
        .n_node_samples
        .iter()
        .map(|&s| average_path_length(s as f64))
        .collect();
    (depth, average)
}

/// `IsolationForest`: a leaf's payload is `decision_path_length + average_path_length − 1`,
/// computed exactly as scikit-learn adds them at predict time (tables stored from 1.3,
/// derived from the tree before).
pub fn isolation(attrs: &Attrs, ctx: &ImportContext) -> Result<IsolationForest> {
    let nf = n_features(attrs, ctx)?;
    let arena = attrs.arena();
    let max_samples = attrs.int("_max_samples")?;
    let subsample = usize::try_from(attrs.int("_max_features")?).ok() != Some(nf);
    let estimators = attrs.items("estimators_")?;
    let features = attrs.items("estimators_features_")?;
    // ≥ 1.3 stores each tree's node depths (root = 1) and average path lengths; before, they
    // are computed from the tree at predict time — the same numbers, derived here.
    let tables = match (
        attrs.get("_decision_path_lengths"),
        attrs.get("_average_path_length_per_tree"),
    ) {
        (Some(_), Some(_)) => Some((
            attrs.items("_decision_path_lengths")?,
            attrs.items("_average_path_length_per_tree")?,
        )),
        _ => None,
    };
    let table_lengths = tables
        .as_ref()
        .map_or([estimators.len(); 2], |(p, a)| [p.len(), a.len()]);
    if [features.len(), table_lengths[0], table_lengths[1]]
        .iter()
        .any(|&n| n != estimators.len())
    {
        return Err(Error::invalid_model(
            "IsolationForest: estimators_, estimators_features_ and the path tables disagree in length",
        ));
    }
    let numbers = |id, what: &str| -> Result<Vec<f64>> {
        match arena.get(id) {
            Value::Array(a) => a.to_f64(arena),
            other => Err(Error::invalid_model(format!(
                "IsolationForest.{what} holds a {}, expected an array",
                other.kind()
            ))),
        }
    };
    // scikit-learn ≥ 1.6 validates IsolationForest input with ensure_all_finite=False: NaN
    // follows the learned directions and ±infinity compares as it is.
    let takes_anything = attrs.at_least(1, 6);
    let mut builder = EnsembleBuilder::new(nf, 1, 1);
    for (t, &tree_id) in estimators.iter().enumerate() {
        let at = |e: Error| e.context(format!("IsolationForest.estimators_[{t}]"));
        let (_, tree_attrs) = attrs
            .nested(arena.get(tree_id), TREE_REGRESSORS, "estimators_")
            .map_err(at)?;
        let used = int_array(
            attrs,
            *features.get(t).unwrap_or(&tree_id),
            "estimators_features_",
        )
        .map_err(at)?;
        let n_sub = if subsample { used.len() } else { nf };
        let mut tree = read_tree(&tree_attrs, n_sub).map_err(at)?;
        if subsample {
            // The tree was fitted on X[:, used]: map its feature indices back to columns of X.
            remap_features(&mut tree, &used).map_err(at)?;
        }
        let (path, average) = match &tables {
            Some((paths, averages)) => (
                numbers(*paths.get(t).unwrap_or(&tree_id), "_decision_path_lengths").map_err(at)?,
                numbers(
                    *averages.get(t).unwrap_or(&tree_id),
                    "_average_path_length_per_tree",
                )
                .map_err(at)?,
            ),
            None => path_tables(&tree),
        };
        if path.len() != tree.left.len() || average.len() != tree.left.len() {
            return Err(at(Error::invalid_model(format!(
                "path tables have {} and {} entries for {} nodes",
                path.len(),
                average.len(),
                tree.left.len()
            ))));
        }
        push_tree_nan(&mut builder, &tree, 0, ctx, takes_anything, &|node, _| {
            let p = path.get(node).copied().unwrap_or(f64::NAN);
            let a = average.get(node).copied().unwrap_or(f64::NAN);
            vec![p + a - 1.0]
        })
        .map_err(at)?;
    }
    let trees = builder.finish().map_err(|e| e.context("IsolationForest"))?;
    let model = IsolationForest {
        trees,
        denominator: estimators.len() as f64 * average_path_length(max_samples as f64),
        offset: attrs.float("offset_")?,
        input: if takes_anything {
            InputRule::Anything
        } else {
            InputRule::FiniteF32
        },
    };
    model.validate()?;
    Ok(model)
}

/// `feature_importances_` of a decision/extra tree or a forest of them, computed from the
/// node impurities as `Tree.compute_feature_importances` does (the same operation order),
/// for SelectFromModel.
pub fn feature_importances(attrs: &Attrs, class: Class) -> Result<Vec<f64>> {
    let n_features = usize::try_from(attrs.int("n_features_in_")?)
        .map_err(|_| Error::invalid_model("n_features_in_ is negative"))?;
    let one = |tree_owner: &Attrs| -> Result<Option<Vec<f64>>> {
        let (_, tree) = tree_owner.object("tree_")?;
        let (_, t) = tree_owner.nested(tree, &[Class::Tree], "tree_")?;
        let nodes = t.array("nodes")?;
        let left = nodes.field_i64("left_child")?;
        let right = nodes.field_i64("right_child")?;
        let feature = nodes.field_i64("feature")?;
        let impurity = nodes.field_f64("impurity")?;
        let weight = nodes.field_f64("weighted_n_node_samples")?;
        if left.len() <= 1 {
            return Ok(None);
        }
        let mut imp = vec![0.0f64; n_features];
        let at = |v: &[f64], i: i64| usize::try_from(i).ok().and_then(|i| v.get(i).copied());
        for (i, &l) in left.iter().enumerate() {
            if l == -1 {
                continue;
            }
            let r = right.get(i).copied().unwrap_or(-1);
            let (Some(wn), Some(im), Some(lw), Some(li), Some(rw), Some(ri)) = (
                weight.get(i).copied(),
                impurity.get(i).copied(),
                at(&weight, l),
                at(&impurity, l),
                at(&weight, r),
                at(&impurity, r),
            ) else {
                return Err(Error::invalid_model("tree node child out of range"));
            };
            let f = feature
                .get(i)
                .and_then(|&f| usize::try_from(f).ok())
                .filter(|&f| f < n_features)
                .ok_or_else(|| Error::invalid_model("tree node feature out of range"))?;
            if let Some(slot) = imp.get_mut(f) {
                *slot += (wn * im - lw * li) - rw * ri;
            }
        }
        let root = weight.first().copied().unwrap_or(1.0);
        imp.iter_mut().for_each(|v| *v /= root);
        let total = crate::core::numeric_transforms::pairwise_sum(&imp);
        if total > 0.0 {
            imp.iter_mut().for_each(|v| *v /= total);
        }
        Ok(Some(imp))
    };
    let single = class.is_single_tree();
    if single {
        return Ok(one(attrs)?.unwrap_or_else(|| vec![0.0; n_features]));
    }
    let mut per_tree = Vec::new();
    for id in attrs.items("estimators_")? {
        let (_, tree_attrs) = attrs.nested_any(attrs.arena().get(id), "estimators_")?;
        if let Some(imp) = one(&tree_attrs)? {
            per_tree.push(imp);
        }
    }
    if per_tree.is_empty() {
        return Ok(vec![0.0; n_features]);
    }
    let mut mean = vec![0.0f64; n_features];
    for imp in &per_tree {
        mean.iter_mut().zip(imp).for_each(|(m, v)| *m += v);
    }
    let count = per_tree.len() as f64;
    mean.iter_mut().for_each(|m| *m /= count);
    let total = crate::core::numeric_transforms::pairwise_sum(&mean);
    mean.iter_mut().for_each(|m| *m /= total);
    Ok(mean)
}
