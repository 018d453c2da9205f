//! LightGBM text models: the file `Booster.save_model` writes, `model_to_string`, and the same
//! text inside a pickled `Booster` / `LGBMClassifier` (see `sklearn::lightgbm`).
//!
//! Facts (LightGBM `gbdt_model_text.cpp`, `tree.cpp`, `tree.h`; verified against 3.3.5 and
//! 4.7.0 fixtures): a header of `key=value` lines, then `Tree=N` blocks whose internal nodes are
//! `0..num_leaves-1` and whose children `< 0` are leaves `~child`; `decision_type` bit 0 is
//! categorical, bit 1 default-left, bits 2–3 the missing type (None, Zero, NaN); thresholds,
//! leaf values and the sum of trees are f64; there is no separate base score (it is folded into
//! the first tree). Parsing is line by line with every count checked against the limits.

use std::collections::VecDeque;

use super::BoosterImport;
use crate::core::model::ClassLabels;
use crate::core::tree_models::{
    BoostLink, HistBoosted, HistNode, LinearLeaf, RegressionOutput, SplitRule,
};
use crate::error::{Error, ErrorCode, Result};
use crate::limits::LoadLimits;

/// A model text starts with this line (`model_to_string` and `save_model` alike).
pub fn is_text_model(bytes: &[u8]) -> bool {
    bytes.starts_with(b"tree\n") || bytes.starts_with(b"tree\r\n")
}

fn bad(message: impl Into<String>) -> Error {
    Error::bad_format(format!("LightGBM model: {}", message.into()))
}

/// One `Tree=` block, as written.
#[derive(Default)]
struct TextTree {
    num_leaves: usize,
    split_feature: Vec<i64>,
    threshold: Vec<f64>,
    decision_type: Vec<u8>,
    left_child: Vec<i64>,
    right_child: Vec<i64>,
    leaf_value: Vec<f64>,
    cat_boundaries: Vec<usize>,
    cat_threshold: Vec<u32>,
    is_linear: bool,
    /// Linear trees: per leaf a constant, a feature count, then all leaves' features and
    /// coefficients back to back.
    leaf_const: Vec<f64>,
    leaf_num_features: Vec<usize>,
    leaf_features: Vec<i64>,
    leaf_coeff: Vec<f64>,
}

fn numbers<T: std::str::FromStr>(key: &str, value: &str, line: usize) -> Result<Vec<T>> {
    value
        .split_ascii_whitespace()
        .map(|v| {
            v.parse::<T>().map_err(|_| {
                bad(format!(
                    "line {line}: `{key}` has a value {v:?} that is not a number"
                ))
            })
        })
        .collect()
}

fn number<T: std::str::FromStr>(key: &str, value: &str, line: usize) -> Result<T> {
    value
        .trim()
        .parse::<T>()
        .map_err(|_| bad(format!("line {line}: `{key}={value}` is not a number")))
}

/// How the objective line maps to outputs.
struct Objective {
    link: Option<BoostLink>,
    output: RegressionOutput,
    n_classes: usize,
}

fn objective(line: &str, num_class: usize) -> Result<Objective> {
    let mut tokens = line.split_ascii_whitespace();
    let name = tokens.next().unwrap_or("");
    let mut sigmoid = 1.0f64;
    let mut sqrt = false;
    for token in tokens {
        match token.split_once(':') {
            Some(("sigmoid", v)) => {
                sigmoid = v
                    .parse()
                    .map_err(|_| bad(format!("objective parameter {token:?} is not a number")))?;
            }
            Some(_) => {} // alpha:, num_class:, tweedie_variance_power:, … do not affect prediction
            None if token == "sqrt" => sqrt = true,
            None => {
                return Err(Error::new(
                    ErrorCode::UnsupportedVersion,
                    format!("LightGBM objective `{line}` has an option `{token}` wasm-predict does not know"),
                ))
            }
        }
    }
    let identity = if sqrt {
        RegressionOutput::SignedSquare
    } else {
        RegressionOutput::Identity
    };
    let regression = |output| Objective {
        link: None,
        output,
        n_classes: 0,
    };
    Ok(match name {
        "regression" | "regression_l2" | "regression_l1" | "huber" | "fair" | "quantile"
        | "mape" => regression(identity),
        "poisson" | "gamma" | "tweedie" => regression(RegressionOutput::Exp),
        "cross_entropy" | "xentropy" => regression(RegressionOutput::Sigmoid),
        "cross_entropy_lambda" | "xentlambda" => regression(RegressionOutput::Log1pExp),
        // Ranking and custom objectives predict raw scores.
        "lambdarank" | "rank_xendcg" | "custom" | "none" | "" => {
            regression(RegressionOutput::Identity)
        }
        "binary" => Objective {
            link: Some(BoostLink::ScaledSigmoid { scale: sigmoid }),
            output: RegressionOutput::Identity,
            n_classes: 2,
        },
        "multiclass" | "softmax" => Objective {
            link: Some(BoostLink::SoftmaxProbaArgmax),
            output: RegressionOutput::Identity,
            n_classes: num_class,
        },
        "multiclassova" | "multiclass_ova" | "ova" | "ovr" => Objective {
            link: Some(BoostLink::OneVsAllSigmoid { scale: sigmoid }),
            output: RegressionOutput::Identity,
            n_classes: num_class,
        },
        other => {
            return Err(Error::new(
                ErrorCode::UnsupportedVersion,
                format!("LightGBM objective `{other}` is not supported"),
            ))
        }
    })
}

/// Parse a LightGBM model text. `best_iteration` (from a pickled Booster; 0 = none) limits the
/// iterations used, as `Booster.predict` does. `classes` replaces the 0..K-1 labels a bare text
/// model implies (the scikit-learn wrapper's `classes_`).
pub fn parse(
    text: &[u8],
    best_iteration: usize,
    classes: Option<ClassLabels>,
    limits: &LoadLimits,
) -> Result<BoosterImport> {
    let text = std::str::from_utf8(text).map_err(|e| {
        bad(format!(
            "not UTF-8 text (byte {} is invalid)",
            e.valid_up_to()
        ))
    })?;
    let mut header: Vec<(&str, &str)> = Vec::new();
    let mut average_output = false;
    let mut trees: Vec<TextTree> = Vec::new();
    let mut in_tree = false;
    let mut ended = false;
    for (index, raw_line) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = raw_line.trim_end_matches('\r');
        if line == "end of trees" {
            ended = true;
            break;
        }
        if line.is_empty() {
            continue;
        }
        if let Some(n) = line.strip_prefix("Tree=") {
            if n.parse::<usize>().ok() != Some(trees.len()) {
                return Err(bad(format!(
                    "line {line_no}: `{line}` where Tree={} was expected",
                    trees.len()
                )));
            }
            limits.check("number of trees", limits.max_trees, trees.len() + 1)?;
            trees.push(TextTree::default());
            in_tree = true;
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            match line {
                "average_output" if !in_tree => average_output = true,
                "tree" if index == 0 => {}
                _ if !in_tree => {} // other bare header flags carry no prediction semantics
                _ => {
                    return Err(bad(format!(
                        "line {line_no}: unexpected `{line}` inside a tree"
                    )))
                }
            }
            continue;
        };
        let Some(tree) = trees.last_mut().filter(|_| in_tree) else {
            header.push((key, value));
            continue;
        };
        match key {
            "num_leaves" => {
                tree.num_leaves = number(key, value, line_no)?;
                limits.check(
                    "number of tree nodes",
                    limits.max_nodes,
                    tree.num_leaves.saturating_mul(2),
                )?;
            }
            "split_feature" => tree.split_feature = numbers(key, value, line_no)?,
            "threshold" => tree.threshold = numbers(key, value, line_no)?,
            "decision_type" => tree.decision_type = numbers(key, value, line_no)?,
            "left_child" => tree.left_child = numbers(key, value, line_no)?,
            "right_child" => tree.right_child = numbers(key, value, line_no)?,
            "leaf_value" => tree.leaf_value = numbers(key, value, line_no)?,
            "cat_boundaries" => tree.cat_boundaries = numbers(key, value, line_no)?,
            "cat_threshold" => tree.cat_threshold = numbers(key, value, line_no)?,
            "is_linear" => tree.is_linear = value.trim() != "0",
            "leaf_const" => tree.leaf_const = numbers(key, value, line_no)?,
            "num_features" => tree.leaf_num_features = numbers(key, value, line_no)?,
            "leaf_features" => tree.leaf_features = numbers(key, value, line_no)?,
            "leaf_coeff" => tree.leaf_coeff = numbers(key, value, line_no)?,
            _ => {} // gains, counts, weights, shrinkage: not needed to predict
        }
    }
    if !ended {
        return Err(bad("no `end of trees` line: the model text is truncated"));
    }
    let get = |key: &str| header.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    let required =
        |key: &str| get(key).ok_or_else(|| bad(format!("the header has no `{key}=` line")));
    let format_version = required("version")?.to_owned();
    if !matches!(format_version.as_str(), "v2" | "v3" | "v4") {
        return Err(Error::new(
            ErrorCode::UnsupportedVersion,
            format!("LightGBM model format {format_version} is not supported (v2 to v4 are)"),
        ));
    }
    let num_class: usize = number("num_class", required("num_class")?, 0)?;
    let per_iteration: usize = number(
        "num_tree_per_iteration",
        required("num_tree_per_iteration")?,
        0,
    )?;
    let max_feature_idx: i64 = number("max_feature_idx", required("max_feature_idx")?, 0)?;
    let n_features = usize::try_from(max_feature_idx.saturating_add(1))
        .map_err(|_| bad(format!("max_feature_idx={max_feature_idx}")))?;
    limits.check("number of features", limits.max_features, n_features)?;
    limits.check("number of classes", limits.max_classes, num_class)?;
    let objective_line = get("objective").unwrap_or("custom").to_owned();
    let objective = objective(&objective_line, num_class)?;
    if per_iteration == 0 || per_iteration != num_class.max(1) && objective.link.is_some() {
        return Err(Error::invalid_model(format!(
            "LightGBM model: {per_iteration} trees per iteration for {num_class} classes"
        )));
    }
    if trees.is_empty() || trees.len() % per_iteration != 0 {
        return Err(Error::invalid_model(format!(
            "LightGBM model: {} trees is not a whole number of iterations of {per_iteration}",
            trees.len()
        )));
    }
    let iterations_total = trees.len() / per_iteration;
    let iterations = if best_iteration > 0 {
        best_iteration.min(iterations_total)
    } else {
        iterations_total
    };
    trees.truncate(iterations * per_iteration);

    let mut names: Vec<String> = get("feature_names")
        .map(|v| v.split(' ').map(str::to_owned).collect())
        .unwrap_or_default();
    if names.len() != n_features {
        names = (0..n_features).map(|i| format!("Column_{i}")).collect();
    }
    let named_features = names
        .iter()
        .enumerate()
        .any(|(i, n)| *n != format!("Column_{i}"));

    let mut nodes: Vec<HistNode> = Vec::new();
    let mut roots = Vec::with_capacity(trees.len());
    let mut columns = Vec::with_capacity(trees.len());
    let mut category_sets: Vec<Vec<u32>> = Vec::new();
    let mut leaf_models: Vec<Option<LinearLeaf>> = Vec::new();
    for (t, tree) in trees.iter().enumerate() {
        let at = |what: &str| format!("tree {t}: {what}");
        let n_internal = tree
            .num_leaves
            .checked_sub(1)
            .ok_or_else(|| bad(at("num_leaves=0")))?;
        for (name, len) in [
            ("split_feature", tree.split_feature.len()),
            ("threshold", tree.threshold.len()),
            ("decision_type", tree.decision_type.len()),
            ("left_child", tree.left_child.len()),
            ("right_child", tree.right_child.len()),
        ] {
            if len != n_internal {
                return Err(Error::invalid_model(at(&format!(
                    "{name} has {len} entries for {n_internal} internal nodes"
                ))));
            }
        }
        if tree.leaf_value.len() != tree.num_leaves {
            return Err(Error::invalid_model(at(&format!(
                "leaf_value has {} entries for {} leaves",
                tree.leaf_value.len(),
                tree.num_leaves
            ))));
        }
        limits.check(
            "number of tree nodes",
            limits.max_nodes,
            nodes.len().saturating_add(2 * tree.num_leaves),
        )?;
        // This tree's category sets, appended to the model's.
        let set_base = category_sets.len();
        for pair in tree.cat_boundaries.windows(2) {
            let [start, end] = *pair else { continue };
            let words = tree
                .cat_threshold
                .get(start..end)
                .ok_or_else(|| Error::invalid_model(at("cat_boundaries run past cat_threshold")))?;
            category_sets.push(words.to_vec());
        }
        let n_sets = category_sets.len() - set_base;
        let linear = if tree.is_linear {
            linear_leaves(tree).map_err(|e| Error::invalid_model(at(&e)))?
        } else {
            Vec::new()
        };

        // Lay the tree out breadth-first so every child comes after its parent (what the
        // evaluator requires); each node may be reached once, so a cycle is an error.
        let start = nodes.len();
        roots.push(u32::try_from(start).map_err(|_| bad("too many nodes"))?);
        columns.push(u32::try_from(t % per_iteration).unwrap_or(0));
        let mut seen_internal = vec![false; n_internal];
        let mut seen_leaf = vec![false; tree.num_leaves];
        // Entries: a LightGBM child reference (>= 0 internal node, < 0 leaf ~child).
        let mut queue: VecDeque<i64> = VecDeque::new();
        queue.push_back(if n_internal == 0 { -1 } else { 0 });
        let mut next_position = start + 1;
        while let Some(child) = queue.pop_front() {
            if child < 0 {
                let leaf = usize::try_from(!child).unwrap_or(usize::MAX);
                let slot = seen_leaf.get_mut(leaf).ok_or_else(|| {
                    Error::invalid_model(at(&format!("leaf {leaf} is out of range")))
                })?;
                if std::mem::replace(slot, true) {
                    return Err(Error::invalid_model(at(&format!(
                        "leaf {leaf} is reached twice"
                    ))));
                }
                if let Some(model) = linear.get(leaf) {
                    leaf_models.resize(nodes.len(), None);
                    leaf_models.push(Some(model.clone()));
                }
                nodes.push(HistNode::leaf(
                    tree.leaf_value.get(leaf).copied().unwrap_or(f64::NAN),
                ));
                continue;
            }
            let i = usize::try_from(child).unwrap_or(usize::MAX);
            let slot = seen_internal
                .get_mut(i)
                .ok_or_else(|| Error::invalid_model(at(&format!("child {i} is out of range"))))?;
            if std::mem::replace(slot, true) {
                return Err(Error::invalid_model(at(&format!(
                    "node {i} is reached twice (the tree has a cycle or shared node)"
                ))));
            }
            let field = |v: Option<i64>| v.unwrap_or(-1);
            let (left, right) = (
                field(tree.left_child.get(i).copied()),
                field(tree.right_child.get(i).copied()),
            );
            let decision = tree.decision_type.get(i).copied().unwrap_or(0);
            let feature = tree.split_feature.get(i).copied().unwrap_or(-1);
            let mut threshold = tree.threshold.get(i).copied().unwrap_or(f64::NAN);
            let rule = if decision & 1 != 0 {
                // The threshold holds the index of this node's set within the tree.
                let local = threshold;
                if !(local >= 0.0 && local.fract() == 0.0 && (local as usize) < n_sets) {
                    return Err(Error::invalid_model(at(&format!(
                        "node {i}: categorical split refers to category set {local} of {n_sets}"
                    ))));
                }
                threshold = (set_base + local as usize) as f64;
                SplitRule::Categorical
            } else {
                match (decision >> 2) & 3 {
                    0 => SplitRule::NanAsZero,
                    1 => SplitRule::ZeroMissing,
                    2 => SplitRule::NanMissing,
                    other => {
                        return Err(Error::invalid_model(at(&format!(
                            "node {i}: missing type {other} does not exist"
                        ))))
                    }
                }
            };
            let position = |p: usize| u32::try_from(p).map_err(|_| bad("too many nodes"));
            nodes.push(HistNode {
                feature: u32::try_from(feature).map_err(|_| {
                    Error::invalid_model(at(&format!(
                        "node {i}: feature {feature} is out of range"
                    )))
                })?,
                threshold,
                left: position(next_position)?,
                right: position(next_position + 1)?,
                missing_left: decision & 2 != 0,
                leaf: false,
                rule,
                value: 0.0,
            });
            next_position += 2;
            queue.push_back(left);
            queue.push_back(right);
        }
    }

    if !leaf_models.is_empty() {
        leaf_models.resize(nodes.len(), None);
    }
    let n_classes = objective.n_classes;
    let classes = match (objective.link, classes) {
        (None, _) => None,
        (Some(_), Some(c)) => Some(c),
        (Some(_), None) => Some(ClassLabels::Int((0..n_classes as i64).collect())),
    };
    let model = HistBoosted {
        n_features,
        nodes,
        roots,
        columns,
        baseline: vec![0.0; per_iteration],
        classes,
        link: objective.link,
        output: objective.output,
        category_sets,
        raw_divisor: if average_output {
            iterations as f64
        } else {
            1.0
        },
        xgboost_f32: false,
        linear_weights: Vec::new(),
        leaf_models,
        eval: Default::default(),
    };
    let mut model = model;
    model
        .build_eval()
        .map_err(|e| e.context("LightGBM model"))?;
    Ok(BoosterImport {
        model,
        feature_names: names,
        named_features,
        library: "lightgbm",
        library_version: format!("model format {format_version}"),
        objective: objective_line,
    })
}

/// A linear tree's leaf models, from `leaf_const`, `num_features`, `leaf_features` and
/// `leaf_coeff` (the last two concatenated over the leaves in leaf order).
fn linear_leaves(tree: &TextTree) -> std::result::Result<Vec<LinearLeaf>, String> {
    let n = tree.num_leaves;
    if tree.leaf_const.len() != n || tree.leaf_num_features.len() != n {
        return Err(format!(
            "linear tree has {} leaf_const and {} num_features entries for {n} leaves",
            tree.leaf_const.len(),
            tree.leaf_num_features.len()
        ));
    }
    let total = tree
        .leaf_num_features
        .iter()
        .try_fold(0usize, |a, &b| a.checked_add(b));
    if total != Some(tree.leaf_features.len()) || tree.leaf_coeff.len() != tree.leaf_features.len()
    {
        return Err(format!(
            "linear tree's num_features add up to {total:?}, but it has {} leaf_features and {} leaf_coeff",
            tree.leaf_features.len(),
            tree.leaf_coeff.len()
        ));
    }
    let mut offset = 0;
    let mut leaves = Vec::with_capacity(n);
    for (&constant, &count) in tree.leaf_const.iter().zip(&tree.leaf_num_features) {
        let range = offset..offset + count;
        offset += count;
        let features = tree
            .leaf_features
            .get(range.clone())
            .unwrap_or(&[])
            .iter()
            .map(|&f| {
                u32::try_from(f).map_err(|_| format!("linear leaf feature {f} is out of range"))
            })
            .collect::<std::result::Result<Vec<u32>, String>>()?;
        let coeffs = tree.leaf_coeff.get(range).unwrap_or(&[]).to_vec();
        leaves.push(LinearLeaf {
            constant,
            features,
            coeffs,
        });
    }
    Ok(leaves)
}
