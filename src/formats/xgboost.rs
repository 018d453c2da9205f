//! XGBoost model files: `save_model` JSON and UBJSON, and the UBJSON buffer inside a pickled
//! `Booster` / `XGBClassifier` / `XGBRegressor` (see `sklearn::xgboost`).
//!
//! Facts (dmlc/xgboost `tree_model.cc`, `predict_fn.h`, `learner.cc`, `math.h`; checked against
//! 1.7.6 and 3.2.0 fixtures): node arrays per tree, a leaf's value in `split_conditions`, input
//! cast to float32, `x < split_condition` goes left, NaN takes `default_left`; margins start at
//! `ProbToMargin(base_score)` and add each tree's leaf in float32, in tree order, into column
//! `tree_info[t]`; `best_iteration` (early stopping) limits the trees the scikit-learn wrapper
//! uses.

use std::collections::VecDeque;

use super::jsondoc::Doc;
use super::BoosterImport;
use crate::core::model::ClassLabels;
use crate::core::tree_models::{BoostLink, HistBoosted, HistNode, RegressionOutput, SplitRule};
use crate::error::{Error, ErrorCode, Result};
use crate::limits::LoadLimits;

fn bad(message: impl Into<String>) -> Error {
    Error::bad_format(format!("XGBoost model: {}", message.into()))
}

fn invalid(message: impl Into<String>) -> Error {
    Error::invalid_model(format!("XGBoost model: {}", message.into()))
}

fn unsupported(message: impl Into<String>) -> Error {
    Error::new(
        ErrorCode::UnsupportedVersion,
        format!("XGBoost model: {}", message.into()),
    )
}

fn field<'d, 'a>(doc: &'d Doc<'a>, key: &str, path: &str) -> Result<&'d Doc<'a>> {
    doc.get(key)
        .ok_or_else(|| bad(format!("{path} has no `{key}`")))
}

/// XGBoost writes most parameters as strings ("0", "5E-1"); accept numbers too.
fn param_int(doc: &Doc, key: &str, path: &str) -> Result<i64> {
    let v = field(doc, key, path)?;
    v.as_str()
        .and_then(|s| s.trim().parse().ok())
        .or_else(|| v.as_i64())
        .ok_or_else(|| bad(format!("{path}.{key} is not an integer")))
}

/// `base_score`: "5E-1" (≤ 3.0) or "[6.274165E-1]" / "[a,b,c]" (≥ 3.1), float32 values.
fn base_scores(text: &str) -> Result<Vec<f32>> {
    let inner = text.trim().trim_start_matches('[').trim_end_matches(']');
    inner
        .split(',')
        .map(|v| {
            v.trim()
                .parse::<f32>()
                .map_err(|_| bad(format!("base_score {text:?} is not a number list")))
        })
        .collect()
}

/// How an objective turns margins into outputs.
struct Objective {
    link: Option<BoostLink>,
    output: RegressionOutput,
    /// `ProbToMargin` applied to base_score.
    margin: fn(f32) -> f32,
    classifier: bool,
}

fn logit_margin(b: f32) -> f32 {
    // LogisticRegression::ProbToMargin, float: -log(1/b - 1) with b clamped to (1e-6, 1-1e-6).
    let b = b.clamp(1e-6, 1.0 - 1e-6);
    -(1.0f32 / b - 1.0).ln()
}

fn log_margin(b: f32) -> f32 {
    b.ln()
}

fn identity_margin(b: f32) -> f32 {
    b
}

fn objective(name: &str) -> Result<Objective> {
    let regression = |output, margin| Objective {
        link: None,
        output,
        margin,
        classifier: false,
    };
    Ok(match name {
        "binary:logistic" => Objective {
            link: Some(BoostLink::XgbLogistic),
            output: RegressionOutput::Identity,
            margin: logit_margin,
            classifier: true,
        },
        "multi:softprob" | "multi:softmax" => Objective {
            link: Some(if name == "multi:softprob" {
                BoostLink::XgbSoftprob
            } else {
                BoostLink::XgbSoftmax
            }),
            output: RegressionOutput::Identity,
            margin: identity_margin,
            classifier: true,
        },
        "reg:logistic" => regression(RegressionOutput::XgbSigmoid, logit_margin),
        "binary:logitraw" => regression(RegressionOutput::Identity, identity_margin),
        "binary:hinge" => regression(RegressionOutput::Hinge, identity_margin),
        "count:poisson" | "reg:gamma" | "reg:tweedie" | "survival:cox" => {
            regression(RegressionOutput::ExpF32, log_margin)
        }
        "reg:squarederror"
        | "reg:linear"
        | "reg:squaredlogerror"
        | "reg:pseudohubererror"
        | "reg:absoluteerror"
        | "reg:quantileerror"
        | "rank:pairwise"
        | "rank:ndcg"
        | "rank:map" => regression(RegressionOutput::Identity, identity_margin),
        other => return Err(unsupported(format!("objective `{other}` is not supported"))),
    })
}

/// Lower a parsed model document (the `save_model` layout, or the `{"Config", "Model"}` layout
/// of a pickled booster).
pub fn lower(root: &Doc, limits: &LoadLimits) -> Result<BoosterImport> {
    let root = root.get("Model").unwrap_or(root);
    let version = match root.get("version") {
        Some(v) => v
            .ints("version")?
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join("."),
        None => "unknown".to_owned(),
    };
    let learner = field(root, "learner", "model")?;
    let params = field(learner, "learner_model_param", "learner")?;
    let n_features = usize::try_from(param_int(params, "num_feature", "learner_model_param")?)
        .map_err(|_| invalid("num_feature is negative"))?;
    limits.check("number of features", limits.max_features, n_features)?;
    let num_class = usize::try_from(param_int(params, "num_class", "learner_model_param")?)
        .map_err(|_| invalid("num_class is negative"))?;
    limits.check("number of classes", limits.max_classes, num_class)?;
    // Several regression targets (XGBoost ≥ 2.0): one output column each, from one scalar tree
    // per target and round or one vector-leaf tree per round. Absent before 2.0.
    let num_target = match params.get("num_target") {
        Some(_) => usize::try_from(param_int(params, "num_target", "learner_model_param")?)
            .map_err(|_| invalid("num_target is negative"))?,
        None => 1,
    };
    limits.check("number of targets", limits.max_classes, num_target)?;
    let objective_name = field(field(learner, "objective", "learner")?, "name", "objective")?
        .as_str()
        .ok_or_else(|| bad("objective.name is not a string"))?
        .to_owned();
    let objective = objective(&objective_name)?;
    if objective.classifier && num_target > 1 {
        return Err(Error::new(
            ErrorCode::UnsupportedClass,
            format!(
                "XGBoost model: {num_target} targets with {objective_name} (multi-label \
                 classification) is not supported yet; multi-target regression and multiclass \
                 models are"
            ),
        ));
    }
    let n_groups = if objective.classifier && num_class > 2 {
        num_class
    } else {
        num_target.max(1)
    };
    if objective.classifier && objective_name.starts_with("multi:") && num_class < 3 {
        return Err(invalid(format!(
            "{objective_name} with num_class={num_class}"
        )));
    }
    let base_text = field(params, "base_score", "learner_model_param")?
        .as_str()
        .ok_or_else(|| bad("base_score is not a string"))?;
    let mut base = base_scores(base_text)?;
    if let [single] = base[..] {
        // A scalar is broadcast to every output group (XGBoost's HandleOldFormat).
        base = vec![single; n_groups];
    }
    if base.len() != n_groups {
        return Err(invalid(format!(
            "{} base scores for {n_groups} output groups",
            base.len()
        )));
    }
    let baseline: Vec<f64> = base
        .iter()
        .map(|&b| f64::from((objective.margin)(b)))
        .collect();

    let booster = field(learner, "gradient_booster", "learner")?;
    // gbtree: trees; dart: the same trees inside `gbtree`, each scaled by its `weight_drop` at
    // prediction; gblinear: one weight per feature and group plus a bias, no trees.
    let read =
        |model, drop_weights| read_trees(model, learner, drop_weights, &baseline, n_groups, limits);
    let (trees, linear_weights) = match booster.get("name").and_then(Doc::as_str) {
        Some("gbtree") => (
            read(field(booster, "model", "gradient_booster")?, None)?,
            Vec::new(),
        ),
        Some("dart") => {
            let weights = field(booster, "weight_drop", "dart")?.f32s("weight_drop")?;
            let model = field(field(booster, "gbtree", "dart")?, "model", "gbtree")?;
            (read(model, Some(&weights))?, Vec::new())
        }
        Some("gblinear") => {
            let weights =
                field(field(booster, "model", "gblinear")?, "weights", "model")?.f32s("weights")?;
            (
                Trees::default(),
                weights.into_iter().map(f64::from).collect(),
            )
        }
        Some(other) => {
            return Err(unsupported(format!(
                "booster `{other}` is not supported (gbtree, dart and gblinear are)"
            )))
        }
        None => return Err(bad("gradient_booster has no name")),
    };
    let names: Vec<String> = match learner.get("feature_names") {
        Some(Doc::Arr(items)) if items.len() == n_features => items
            .iter()
            .map(|d| d.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let named_features = !names.is_empty();
    let feature_names = if named_features {
        names
    } else {
        (0..n_features).map(|i| format!("f{i}")).collect()
    };
    let classes = objective
        .classifier
        .then(|| ClassLabels::Int((0..n_groups.max(2) as i64).collect()));
    let model = HistBoosted {
        n_features,
        nodes: trees.nodes,
        roots: trees.roots,
        columns: trees.columns,
        baseline,
        classes,
        link: objective.link,
        output: objective.output,
        category_sets: trees.category_sets,
        raw_divisor: 1.0,
        xgboost_f32: true,
        linear_weights,
        leaf_models: Vec::new(),
        eval: Default::default(),
    };
    let mut model = model;
    model.build_eval().map_err(|e| e.context("XGBoost model"))?;
    Ok(BoosterImport {
        model,
        feature_names,
        named_features,
        library: "xgboost",
        library_version: version,
        objective: objective_name,
    })
}

/// The trees of a gbtree model (also dart's), relaid out breadth-first, with their output
/// columns and categorical sets.
#[derive(Default)]
struct Trees {
    nodes: Vec<HistNode>,
    roots: Vec<u32>,
    columns: Vec<u32>,
    category_sets: Vec<Vec<u32>>,
}

/// Read a gbtree `model` object: the trees the scikit-learn wrapper uses (`best_iteration`),
/// dart's per-tree weights folded into the leaves.
fn read_trees(
    model: &Doc,
    learner: &Doc,
    drop_weights: Option<&[f32]>,
    baseline: &[f64],
    n_groups: usize,
    limits: &LoadLimits,
) -> Result<Trees> {
    let trees = match field(model, "trees", "model")? {
        Doc::Arr(trees) => trees,
        other => return Err(bad(format!("trees is a {}", other.kind()))),
    };
    limits.check("number of trees", limits.max_trees, trees.len())?;
    let tree_info = field(model, "tree_info", "model")?.ints("tree_info")?;
    if tree_info.len() != trees.len() {
        return Err(invalid(format!(
            "{} tree_info entries for {} trees",
            tree_info.len(),
            trees.len()
        )));
    }
    // Trees per boosting round: from iteration_indptr (2.x+) or num_parallel_tree × groups.
    let parallel = param_int(
        field(model, "gbtree_model_param", "model")?,
        "num_parallel_tree",
        "gbtree_model_param",
    )
    .unwrap_or(1)
    .max(1) as usize;
    let indptr: Vec<usize> = match model.get("iteration_indptr") {
        Some(d) => d
            .ints("iteration_indptr")?
            .into_iter()
            .map(|v| usize::try_from(v).map_err(|_| invalid("negative iteration_indptr")))
            .collect::<Result<_>>()?,
        None => {
            let per = parallel.saturating_mul(n_groups).max(1);
            (0..=trees.len() / per).map(|i| i * per).collect()
        }
    };
    // The scikit-learn wrapper predicts with best_iteration + 1 rounds when it is recorded.
    let best = learner
        .get("attributes")
        .and_then(|a| a.get("best_iteration"))
        .and_then(|v| {
            v.as_str()
                .and_then(|s| s.parse::<usize>().ok())
                .or(v.as_i64().and_then(|i| usize::try_from(i).ok()))
        });
    let used = match best {
        Some(b) => indptr
            .get(b + 1)
            .copied()
            .ok_or_else(|| invalid(format!("best_iteration {b} is past the last round")))?,
        None => trees.len(),
    }
    .min(trees.len());
    if let Some(w) = &drop_weights {
        if w.len() < used {
            return Err(invalid(format!(
                "{} dart weights for {used} trees",
                w.len()
            )));
        }
    }

    let mut nodes: Vec<HistNode> = Vec::new();
    let mut roots = Vec::with_capacity(used);
    let mut columns = Vec::with_capacity(used);
    let mut category_sets: Vec<Vec<u32>> = Vec::new();
    for (t, tree) in trees.iter().take(used).enumerate() {
        let at = |what: String| invalid(format!("tree {t}: {what}"));
        let group = tree_info.get(t).copied().unwrap_or(-1);
        let column = usize::try_from(group)
            .ok()
            .filter(|&g| g < n_groups)
            .ok_or_else(|| at(format!("output group {group} of {n_groups}")))?;
        // A vector-leaf tree (multi_strategy="multi_output_tree") holds one value per output
        // group in each leaf, in `base_weights` (node × group). It is evaluated as one scalar
        // tree per group over the same splits: each column still sums its leaves in tree
        // order, in float32, as XGBoost's multi-target predictor does.
        let leaf_width = match tree.get("tree_param") {
            Some(param) => param_int(param, "size_leaf_vector", "tree_param")
                .unwrap_or(1)
                .max(1),
            None => 1,
        };
        let leaf_width = usize::try_from(leaf_width).unwrap_or(usize::MAX);
        if leaf_width > 1 && (leaf_width != n_groups || column != 0) {
            return Err(at(format!(
                "a leaf of {leaf_width} values in output group {column} of {n_groups}"
            )));
        }
        let left = field(tree, "left_children", "tree")?.ints("left_children")?;
        let right = field(tree, "right_children", "tree")?.ints("right_children")?;
        let feature = field(tree, "split_indices", "tree")?.ints("split_indices")?;
        let cond = field(tree, "split_conditions", "tree")?.f32s("split_conditions")?;
        let default_left = field(tree, "default_left", "tree")?.ints("default_left")?;
        let n = left.len();
        if [right.len(), feature.len(), cond.len(), default_left.len()]
            .iter()
            .any(|&len| len != n)
            || n == 0
        {
            return Err(at(format!(
                "node arrays have different lengths ({n} left children)"
            )));
        }
        let split_type = match tree.get("split_type") {
            Some(d) => d.ints("split_type")?,
            None => Vec::new(),
        };
        // Categorical node → index of its set in `category_sets`.
        let categorical = read_category_sets(tree, n, &mut category_sets, limits)
            .map_err(|e| e.context(format!("XGBoost tree {t}")))?;
        let drop_weight = drop_weights
            .as_ref()
            .and_then(|w| w.get(t).copied())
            .unwrap_or(1.0);
        limits.check(
            "number of tree nodes",
            limits.max_nodes,
            nodes.len().saturating_add(n.saturating_mul(leaf_width)),
        )?;
        // Vector leaves: `leaf_weights` (3.x: leaf × group, a leaf's slot in its
        // `right_children` entry), else `base_weights` (node × group).
        let (vector_leaves, by_leaf_slot) = if leaf_width > 1 {
            let by_leaf_slot = tree.get("leaf_weights").is_some();
            let (key, slots) = if by_leaf_slot {
                ("leaf_weights", left.iter().filter(|&&l| l == -1).count())
            } else {
                ("base_weights", n)
            };
            let weights = field(tree, key, "tree")?.f32s(key)?;
            if Some(weights.len()) != slots.checked_mul(leaf_width) {
                return Err(at(format!(
                    "{} leaf weights for {slots} leaves or nodes of {leaf_width} values",
                    weights.len()
                )));
            }
            (weights, by_leaf_slot)
        } else {
            (Vec::new(), false)
        };
        for group in 0..leaf_width {
            let column = column + group;
            // Breadth-first relayout from the root: children after parents, each node once.
            let start = nodes.len();
            roots.push(u32::try_from(start).map_err(|_| bad("too many nodes"))?);
            columns.push(column as u32);
            let mut seen = vec![false; n];
            let mut queue: VecDeque<usize> = VecDeque::from([0]);
            let mut next = start + 1;
            while let Some(i) = queue.pop_front() {
                let slot = seen
                    .get_mut(i)
                    .ok_or_else(|| at(format!("child {i} is out of range")))?;
                if std::mem::replace(slot, true) {
                    return Err(at(format!(
                        "node {i} is reached twice (the tree has a cycle)"
                    )));
                }
                let value = if leaf_width > 1 {
                    // A missing or out-of-range slot gives NaN, which validation refuses.
                    let slot = if by_leaf_slot {
                        usize::try_from(right.get(i).copied().unwrap_or(-1)).ok()
                    } else {
                        Some(i)
                    };
                    slot.and_then(|s| s.checked_mul(leaf_width))
                        .and_then(|s| vector_leaves.get(s + group).copied())
                } else {
                    cond.get(i).copied()
                };
                let value = f64::from(value.unwrap_or(f32::NAN));
                let split_condition = f64::from(cond.get(i).copied().unwrap_or(f32::NAN));
                let l = left.get(i).copied().unwrap_or(-1);
                if l == -1 {
                    // Dart scales each tree's output by its weight, in float32. The scikit-learn
                    // wrapper predicts in place, where a tree's output is recovered as
                    // `(base + leaf) - base` before the scaling (`Dart::InplacePredict`).
                    let value = if drop_weights.is_some() {
                        let base = baseline.get(column).copied().unwrap_or(0.0) as f32;
                        f64::from(((base + value as f32) - base) * drop_weight)
                    } else {
                        value
                    };
                    nodes.push(HistNode::leaf(value));
                    continue;
                }
                let is_categorical = split_type.get(i).copied().unwrap_or(0) != 0;
                let set =
                    if is_categorical {
                        Some(categorical.get(i).copied().flatten().ok_or_else(|| {
                            at(format!("categorical node {i} has no category set"))
                        })?)
                    } else {
                        None
                    };
                let r = right.get(i).copied().unwrap_or(-1);
                let child = |c: i64| {
                    usize::try_from(c)
                        .map_err(|_| at(format!("node {i}: child {c} is out of range")))
                };
                let f = feature.get(i).copied().unwrap_or(-1);
                let position = |p: usize| u32::try_from(p).map_err(|_| bad("too many nodes"));
                nodes.push(HistNode {
                    feature: u32::try_from(f)
                        .map_err(|_| at(format!("node {i}: feature {f} is out of range")))?,
                    threshold: set.map_or(split_condition, |s| s as f64),
                    left: position(next)?,
                    right: position(next + 1)?,
                    missing_left: default_left.get(i).copied().unwrap_or(0) != 0,
                    leaf: false,
                    rule: if set.is_some() {
                        SplitRule::XgbCategorical
                    } else {
                        SplitRule::F32Less
                    },
                    value: 0.0,
                });
                next += 2;
                queue.push_back(child(l)?);
                queue.push_back(child(r)?);
            }
        }
    }

    // Vector-leaf trees became one tree per output.
    limits.check("number of trees", limits.max_trees, roots.len())?;
    Ok(Trees {
        nodes,
        roots,
        columns,
        category_sets,
    })
}

/// A tree's categorical splits (`categories_nodes` with their `categories` segments) as
/// bitsets appended to `sets`; returns the set index per node. Category values must be below 2^24
/// (XGBoost's own limit), so a bitset is at most 2 MiB, and all count against `maxValues`.
fn read_category_sets(
    tree: &Doc,
    n_nodes: usize,
    sets: &mut Vec<Vec<u32>>,
    limits: &LoadLimits,
) -> Result<Vec<Option<usize>>> {
    let mut map = vec![None; n_nodes];
    let Some(nodes) = tree.get("categories_nodes") else {
        return Ok(map);
    };
    let nodes = nodes.ints("categories_nodes")?;
    if nodes.is_empty() {
        return Ok(map);
    }
    let categories = field(tree, "categories", "tree")?.ints("categories")?;
    let segments = field(tree, "categories_segments", "tree")?.ints("categories_segments")?;
    let sizes = field(tree, "categories_sizes", "tree")?.ints("categories_sizes")?;
    if segments.len() != nodes.len() || sizes.len() != nodes.len() {
        return Err(invalid("category node, segment and size arrays disagree"));
    }
    let mut words_total = 0usize;
    for ((&node, &start), &size) in nodes.iter().zip(&segments).zip(&sizes) {
        let node = usize::try_from(node)
            .ok()
            .filter(|&n| n < n_nodes)
            .ok_or_else(|| invalid(format!("category node {node} is out of range")))?;
        let (start, size) = (usize::try_from(start), usize::try_from(size));
        let values = match (start, size) {
            (Ok(s), Ok(z)) => s.checked_add(z).and_then(|end| categories.get(s..end)),
            _ => None,
        }
        .ok_or_else(|| invalid(format!("category segment of node {node} is out of range")))?;
        let mut set: Vec<u32> = Vec::new();
        for &c in values {
            let c = u32::try_from(c)
                .ok()
                .filter(|&c| c < 1 << 24)
                .ok_or_else(|| invalid(format!("category {c} of node {node} is out of range")))?;
            let word = (c / 32) as usize;
            if word >= set.len() {
                words_total = words_total.saturating_add(word + 1 - set.len());
                limits.check("category bitset words", limits.max_values, words_total)?;
                set.resize(word + 1, 0);
            }
            if let Some(w) = set.get_mut(word) {
                *w |= 1 << (c % 32);
            }
        }
        match map.get_mut(node) {
            Some(slot @ None) => *slot = Some(sets.len()),
            _ => return Err(invalid(format!("node {node} has two category sets"))),
        }
        sets.push(set);
    }
    Ok(map)
}
