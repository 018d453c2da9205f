//! Estimators built on [`TreeEnsemble`]: averaged forests (and single trees) and gradient
//! boosting, with the post-processing each scikit-learn version applies.

use serde::{Deserialize, Serialize};

use super::input::{InputRule, Rows};
use super::linear::{expit, numpy_sum, softmax_in_place};
use super::model::ClassLabels;
use super::trees::TreeEnsemble;
use crate::error::{Error, Result};

/// Rows cast to f32, as scikit-learn's tree models do before traversal.
pub fn rows_f32(x: &Rows) -> Vec<f32> {
    // Over the flat values, not row by row: the loop then vectorizes (row by row it was 6–9 %
    // of a forest or GradientBoosting batch in wasm). `Rows` holds whole rows only.
    x.data().iter().map(|&v| v as f32).collect()
}

fn sums(trees: &TreeEnsemble, x: &Rows, base: &[f64]) -> Vec<f64> {
    let mut out: Vec<f64> = (0..x.n_rows()).flat_map(|_| base.iter().copied()).collect();
    trees.accumulate(&rows_f32(x), &mut out);
    out
}

/// Index of the first maximum (numpy `argmax`).
pub fn argmax(row: &[f64]) -> usize {
    let mut best = 0;
    for (i, v) in row.iter().enumerate() {
        if row.get(best).is_some_and(|b| v > b) {
            best = i;
        }
    }
    best
}

/// Random forests, extra trees and single decision trees: per-tree outputs (class
/// probabilities, or values) summed in tree order and divided by the tree count.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AveragedTrees {
    pub trees: TreeEnsemble,
    /// `None` for regressors.
    pub classes: Option<ClassLabels>,
    /// The number of trees (scikit-learn divides; it does not multiply by a reciprocal).
    pub divisor: f64,
    /// NaN is accepted where scikit-learn's version and settings learned missing directions.
    pub input: InputRule,
    /// scikit-learn has `apply` for it (trees and forests; not bagging).
    pub has_apply: bool,
}

impl AveragedTrees {
    pub fn validate(&self) -> Result<()> {
        self.trees.validate()?;
        let width = match &self.classes {
            Some(c) if c.len() >= 2 => c.len(),
            Some(c) => {
                return Err(Error::invalid_model(format!(
                    "{} classes; a classifier needs at least 2",
                    c.len()
                )))
            }
            None => self.trees.n_outputs().max(1),
        };
        if self.trees.n_outputs() != width || self.divisor.is_nan() || self.divisor < 1.0 {
            return Err(Error::invalid_model(
                "forest outputs disagree with its classes",
            ));
        }
        Ok(())
    }

    /// Averaged outputs, `n_rows × n_outputs`.
    pub fn outputs(&self, x: &Rows) -> Vec<f64> {
        let mut out = sums(&self.trees, x, &vec![0.0; self.trees.n_outputs()]);
        out.iter_mut().for_each(|v| *v /= self.divisor);
        out
    }
}

/// scikit-learn's IsolationForest: each leaf holds `path_length + c(leaf samples) − 1`, summed
/// over the trees in order into a depth; `score_samples = −2^(−depth / denominator)` with
/// `denominator = n_trees · c(max_samples)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IsolationForest {
    pub trees: TreeEnsemble,
    pub denominator: f64,
    /// `offset_`: `decision_function = score_samples − offset`.
    pub offset: f64,
    /// scikit-learn ≥ 1.6 validates IsolationForest input with `ensure_all_finite=False`.
    pub input: InputRule,
}

impl IsolationForest {
    pub fn validate(&self) -> Result<()> {
        self.trees.validate()?;
        if self.trees.n_outputs() != 1
            || !self.denominator.is_finite()
            || self.denominator < 0.0
            || !self.offset.is_finite()
        {
            return Err(Error::invalid_model(
                "IsolationForest has more than one output or a non-finite offset/denominator",
            ));
        }
        Ok(())
    }

    /// scikit-learn's `score_samples` (the opposite of the anomaly score).
    pub fn score_samples(&self, x: &Rows) -> Vec<f64> {
        let depths = sums(&self.trees, x, &[0.0]);
        depths
            .into_iter()
            .map(|depth| {
                // A single training sample makes the denominator 0: scikit-learn uses 1 then.
                let ratio = if self.denominator != 0.0 {
                    depth / self.denominator
                } else {
                    1.0
                };
                -(2f64.powf(-ratio))
            })
            .collect()
    }

    pub fn decision_function(&self, x: &Rows) -> Vec<f64> {
        self.score_samples(x)
            .into_iter()
            .map(|s| s - self.offset)
            .collect()
    }

    /// +1 for inliers, −1 for outliers (a negative decision value).
    pub fn predict(&self, x: &Rows) -> Vec<f64> {
        self.decision_function(x)
            .into_iter()
            .map(|d| if d < 0.0 { -1.0 } else { 1.0 })
            .collect()
    }
}

/// How boosted raw scores become probabilities and labels, per loss and scikit-learn version.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum BoostLink {
    /// Binary: `p = expit(raw)` (`expit(2·raw)` when `half`, the exponential loss).
    /// `argmax_proba`: ≤ 1.3 binomial deviance predicts `argmax([1-p, p])` (ties → class 0);
    /// otherwise the label is `raw >= 0`.
    Logit { half: bool, argmax_proba: bool },
    /// Binary HistGradientBoosting (newer versions): `p = expit(raw)`, label `raw > 0`.
    LogitRawPositive,
    /// Multiclass ≥ 1.4: softmax; label = argmax of raw scores.
    Softmax,
    /// Multiclass ≤ 1.3: `exp(raw - logsumexp(raw))`; label = argmax of those probabilities.
    ExpMinusLogSumExp,
    /// LightGBM binary: `p = 1 / (1 + exp(-scale·raw))`, label = argmax of `[1-p, p]`.
    ScaledSigmoid { scale: f64 },
    /// LightGBM multiclass: softmax; label = argmax of the probabilities.
    SoftmaxProbaArgmax,
    /// LightGBM multiclassova: an independent sigmoid per class (rows do not sum to 1); label =
    /// argmax of those.
    OneVsAllSigmoid { scale: f64 },
    /// XGBoost binary:logistic: float32 `p = 1 / (exp(min(-m, 88.7)) + 1 + 1e-16)`,
    /// probabilities `[1 - p, p]` in float32, label `p > 0.5` (the scikit-learn wrapper).
    XgbLogistic,
    /// XGBoost multi:softprob: float32 softmax (sum in double); label = argmax of those.
    XgbSoftprob,
    /// XGBoost multi:softmax: probabilities as softprob; label = argmax of the margins.
    XgbSoftmax,
}

/// XGBoost's `common::Sigmoid` (float32, exp argument clamped at 88.7).
fn xgb_sigmoid(margin: f64) -> f32 {
    let x = (-(margin as f32)).min(88.7);
    1.0f32 / (x.exp() + 1.0 + 1e-16)
}

/// XGBoost's `common::Softmax` on one row of float32 margins, in place.
fn xgb_softmax(row: &mut [f64]) {
    let wmax = row
        .iter()
        .map(|&v| v as f32)
        .fold(f32::NEG_INFINITY, f32::max);
    let mut wsum = 0.0f64;
    for v in row.iter_mut() {
        let e = (*v as f32 - wmax).exp();
        *v = f64::from(e);
        wsum += f64::from(e);
    }
    for v in row.iter_mut() {
        *v = f64::from(*v as f32 / wsum as f32);
    }
}

/// Gradient boosting: `raw = init + Σ learning_rate · leaf` in stage order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoostedTrees {
    pub trees: TreeEnsemble,
    /// Initial raw score per output column.
    pub init: Vec<f64>,
    /// `None` for regressors (identity link).
    pub classes: Option<ClassLabels>,
    pub link: Option<BoostLink>,
}

impl BoostedTrees {
    pub fn validate(&self) -> Result<()> {
        self.trees.validate()?;
        let n = self.trees.n_outputs();
        if self.init.len() != n || self.init.iter().any(|v| !v.is_finite()) {
            return Err(Error::invalid_model(
                "boosting init scores disagree with its outputs or are not finite",
            ));
        }
        check_link(self.classes.as_ref(), self.link, n, false)
    }

    pub fn raw(&self, x: &Rows) -> Vec<f64> {
        sums(&self.trees, x, &self.init)
    }

    /// Probabilities from raw scores, `n_rows × n_classes`.
    pub fn proba_from_raw(&self, raw: &[f64]) -> Vec<f64> {
        link_proba(self.link, self.trees.n_outputs(), raw)
    }

    /// Predicted class index per row.
    pub fn labels(&self, raw: &[f64]) -> Vec<usize> {
        link_labels(self.link, self.trees.n_outputs(), raw)
    }
}

/// The class count, link and number of raw-score columns of a boosted model must agree:
/// regressors have no link and one column (one per target when `multi_target`: XGBoost's
/// multi-target models), binary classifiers one column and a logistic link,
/// multiclass classifiers one column per class and a softmax-type link.
fn check_link(
    classes: Option<&ClassLabels>,
    link: Option<BoostLink>,
    k: usize,
    multi_target: bool,
) -> Result<()> {
    if let Some(BoostLink::ScaledSigmoid { scale } | BoostLink::OneVsAllSigmoid { scale }) = link {
        if !scale.is_finite() {
            return Err(Error::invalid_model("sigmoid scale is not finite"));
        }
    }
    let binary = matches!(
        link,
        Some(
            BoostLink::Logit { .. }
                | BoostLink::LogitRawPositive
                | BoostLink::ScaledSigmoid { .. }
                | BoostLink::XgbLogistic
        )
    );
    match (classes, link) {
        (None, None) if k == 1 || (k > 1 && multi_target) => Ok(()),
        (Some(c), Some(_)) if binary && c.len() == 2 && k == 1 => Ok(()),
        (Some(c), Some(_)) if !binary && c.len() > 2 && c.len() == k => Ok(()),
        _ => Err(Error::invalid_model(
            "boosting classes, link and output columns disagree",
        )),
    }
}

/// Probabilities from boosted raw scores (`k` columns), per the link.
pub fn link_proba(link: Option<BoostLink>, k: usize, raw: &[f64]) -> Vec<f64> {
    let k = k.max(1);
    match link {
        Some(BoostLink::LogitRawPositive) => raw
            .iter()
            .flat_map(|&r| {
                let p = expit(r);
                [1.0 - p, p]
            })
            .collect(),
        Some(BoostLink::Logit { half, .. }) => raw
            .iter()
            .flat_map(|&r| {
                let p = expit(if half { 2.0 * r } else { r });
                [1.0 - p, p]
            })
            .collect(),
        Some(BoostLink::Softmax | BoostLink::SoftmaxProbaArgmax) => {
            let mut out = raw.to_vec();
            out.chunks_exact_mut(k).for_each(softmax_in_place);
            out
        }
        // LightGBM's ConvertOutput: 1 / (1 + exp(-sigmoid · raw)).
        Some(BoostLink::ScaledSigmoid { scale }) => raw
            .iter()
            .flat_map(|&r| {
                let p = 1.0 / (1.0 + (-scale * r).exp());
                [1.0 - p, p]
            })
            .collect(),
        Some(BoostLink::OneVsAllSigmoid { scale }) => raw
            .iter()
            .map(|&r| 1.0 / (1.0 + (-scale * r).exp()))
            .collect(),
        Some(BoostLink::XgbLogistic) => raw
            .iter()
            .flat_map(|&r| {
                let p = xgb_sigmoid(r);
                [f64::from(1.0 - p), f64::from(p)]
            })
            .collect(),
        Some(BoostLink::XgbSoftprob | BoostLink::XgbSoftmax) => {
            let mut out = raw.to_vec();
            out.chunks_exact_mut(k).for_each(xgb_softmax);
            out
        }
        Some(BoostLink::ExpMinusLogSumExp) => {
            let mut out = raw.to_vec();
            for row in out.chunks_exact_mut(k) {
                let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let sum: f64 = row.iter().map(|v| (v - max).exp()).sum();
                let lse = sum.ln() + max;
                for v in row.iter_mut() {
                    let p = (*v - lse).exp();
                    *v = if p.is_nan() { 0.0 } else { p };
                }
            }
            out
        }
        None => raw.to_vec(),
    }
}

/// Predicted class index per row from boosted raw scores (`k` columns), per the link.
pub fn link_labels(link: Option<BoostLink>, k: usize, raw: &[f64]) -> Vec<usize> {
    let k = k.max(1);
    match link {
        Some(BoostLink::Logit {
            argmax_proba: true,
            half,
        }) => raw
            .iter()
            .map(|&r| {
                let p = expit(if half { 2.0 * r } else { r });
                usize::from(p > 1.0 - p)
            })
            .collect(),
        Some(BoostLink::Logit {
            argmax_proba: false,
            ..
        }) => raw.iter().map(|&r| usize::from(r >= 0.0)).collect(),
        Some(BoostLink::LogitRawPositive) => raw.iter().map(|&r| usize::from(r > 0.0)).collect(),
        Some(BoostLink::Softmax | BoostLink::XgbSoftmax) | None => {
            raw.chunks_exact(k).map(argmax).collect()
        }
        Some(BoostLink::XgbLogistic) => raw
            .iter()
            .map(|&r| usize::from(xgb_sigmoid(r) > 0.5))
            .collect(),
        Some(
            BoostLink::ExpMinusLogSumExp
            | BoostLink::SoftmaxProbaArgmax
            | BoostLink::OneVsAllSigmoid { .. }
            | BoostLink::XgbSoftprob,
        ) => link_proba(link, k, raw)
            .chunks_exact(k)
            .map(argmax)
            .collect(),
        Some(BoostLink::ScaledSigmoid { .. }) => link_proba(link, 1, raw)
            .chunks_exact(2)
            .map(argmax)
            .collect(),
    }
}

/// How a split of a [`HistBoosted`] tree treats its input value `v` (f64, never cast).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SplitRule {
    /// NaN goes the learned `missing_left` way, otherwise `v <= threshold` goes left
    /// (scikit-learn HistGradientBoosting; LightGBM missing type NaN).
    NanMissing,
    /// NaN counts as 0.0, then `v <= threshold` (LightGBM missing type None).
    NanAsZero,
    /// NaN counts as 0.0; |v| ≤ 1e-35 goes the `missing_left` way, otherwise `v <= threshold`
    /// (LightGBM missing type Zero, `zero_as_missing`).
    ZeroMissing,
    /// NaN goes the `missing_left` way, otherwise `f32(v) < f32(threshold)` goes left
    /// (XGBoost: float32 input, strict less-than).
    F32Less,
    /// Left when `v` is a non-negative integer category (truncated, as C++ `(int)v`) in the set
    /// `category_sets[threshold]`; NaN, negative and unknown categories go right (LightGBM).
    Categorical,
    /// XGBoost's categorical split: NaN goes the `missing_left` way; a float32 category in
    /// `[0, 2^24)` whose (truncated) code is in `category_sets[threshold]` goes right;
    /// everything else — not in the set, negative, too large — goes left
    /// (`common::Decision` in XGBoost's `categorical.h`).
    XgbCategorical,
    /// scikit-learn HistGradientBoosting's categorical split: NaN, negative values and codes
    /// beyond the 256-bit set go the `missing_left` way; otherwise the truncated code goes left
    /// when it is in `category_sets[threshold]` — the node's left categories, plus every
    /// category unknown at training when missing values go left (built at load from the
    /// predictor's `raw_left_cat_bitsets` and the bin mapper's known categories).
    HgbCategorical,
    /// [`SplitRule::HgbCategorical`] as scikit-learn < 1.2 predicts: no negative check, the
    /// value is cast straight to a category, so `-0.5` is category 0 (values ≤ −1, undefined
    /// behaviour there, go the missing way).
    HgbCategoricalTruncating,
}

/// LightGBM's `kZeroThreshold` (`1e-35f`, compared in double).
const ZERO_THRESHOLD: f64 = 1e-35f32 as f64;

/// A node of a histogram-gradient-boosting tree: f64 threshold compared with f64 input (no
/// float32 cast), and a learned direction for missing values.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistNode {
    pub feature: u32,
    /// The split value; for [`SplitRule::Categorical`] the index of the node's category set
    /// (LightGBM stores it the same way).
    pub threshold: f64,
    pub left: u32,
    pub right: u32,
    pub missing_left: bool,
    pub leaf: bool,
    pub rule: SplitRule,
    /// Leaf value (already scaled by the learning rate at training time).
    pub value: f64,
}

/// A LightGBM linear-tree leaf (`linear_tree=True`): `constant + Σ coeff·x[feature]` in
/// order, or the leaf's plain value when one of those features is NaN (`Tree::Predict`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinearLeaf {
    pub constant: f64,
    pub features: Vec<u32>,
    pub coeffs: Vec<f64>,
}

impl LinearLeaf {
    #[inline]
    fn output(&self, row: &[f64], plain_value: f64) -> f64 {
        let mut output = self.constant;
        for (&f, &c) in self.features.iter().zip(&self.coeffs) {
            let v = row.get(f as usize).copied().unwrap_or(f64::NAN);
            if v.is_nan() {
                return plain_value;
            }
            output += c * v;
        }
        output
    }
}

impl HistNode {
    /// A leaf holding `value` (split fields unused).
    pub fn leaf(value: f64) -> HistNode {
        HistNode {
            feature: 0,
            threshold: 0.0,
            left: 0,
            right: 0,
            missing_left: false,
            leaf: true,
            rule: SplitRule::NanMissing,
            value,
        }
    }
}

/// Whether input value `v` goes left at a split with this rule (shared by every layout).
#[inline]
fn rule_goes_left(
    rule: SplitRule,
    missing_left: bool,
    threshold: f64,
    v: f64,
    category_sets: &[Vec<u32>],
) -> bool {
    match rule {
        SplitRule::NanMissing => {
            if v.is_nan() {
                missing_left
            } else {
                v <= threshold
            }
        }
        SplitRule::NanAsZero => (if v.is_nan() { 0.0 } else { v }) <= threshold,
        SplitRule::F32Less => {
            if v.is_nan() {
                missing_left
            } else {
                (v as f32) < (threshold as f32)
            }
        }
        SplitRule::ZeroMissing => {
            let v = if v.is_nan() { 0.0 } else { v };
            if (-ZERO_THRESHOLD..=ZERO_THRESHOLD).contains(&v) {
                missing_left
            } else {
                v <= threshold
            }
        }
        SplitRule::XgbCategorical => {
            if v.is_nan() {
                return missing_left;
            }
            let category = v as f32;
            if !(0.0..16_777_216.0).contains(&category) {
                return true;
            }
            let category = category as u32;
            let set = category_sets
                .get(threshold as usize)
                .map_or(&[][..], Vec::as_slice);
            set.get((category / 32) as usize)
                .is_none_or(|word| (word >> (category % 32)) & 1 == 0)
        }
        SplitRule::HgbCategorical | SplitRule::HgbCategoricalTruncating => {
            let lowest = if rule == SplitRule::HgbCategorical {
                0.0
            } else {
                -1.0
            };
            if v.is_nan() || v < lowest || v == -1.0 || v >= 256.0 {
                return missing_left;
            }
            let category = v as u32;
            category_sets
                .get(threshold as usize)
                .and_then(|set| set.get((category / 32) as usize))
                .is_some_and(|word| (word >> (category % 32)) & 1 == 1)
        }
        SplitRule::Categorical => {
            // `as i32` saturates where C++'s cast is undefined; both out-of-range ends miss
            // every set (negative → right, huge → beyond the bitset → right).
            let category = v as i32;
            if v.is_nan() || category < 0 {
                return false;
            }
            let set = category_sets
                .get(threshold as usize)
                .map_or(&[][..], Vec::as_slice);
            let category = category as u32;
            set.get((category / 32) as usize)
                .is_some_and(|word| (word >> (category % 32)) & 1 == 1)
        }
    }
}

/// Low bits of [`FastNode::packed`]: the feature; then 3 bits of rule and the missing-left bit.
const FEATURE_MASK: u32 = (1 << 28) - 1;
const RULES: [SplitRule; 8] = [
    SplitRule::NanMissing,
    SplitRule::NanAsZero,
    SplitRule::ZeroMissing,
    SplitRule::Categorical,
    SplitRule::F32Less,
    SplitRule::XgbCategorical,
    SplitRule::HgbCategorical,
    SplitRule::HgbCategoricalTruncating,
];

/// A 16-byte evaluation node: children adjacent (`right = left + 1`); a leaf points at itself
/// and sends every value left (threshold +∞, NaN left), so it absorbs finished rows.
#[derive(Clone, Copy, Debug, PartialEq)]
struct FastNode {
    threshold: f64,
    /// feature | rule << 28 | missing_left << 31
    packed: u32,
    left: u32,
}

impl FastNode {
    #[inline(always)]
    fn goes_left(&self, v: f64, category_sets: &[Vec<u32>]) -> bool {
        let missing_left = self.packed >> 31 != 0;
        // The numeric rules (every split of most models) are tested inline; the general
        // dispatch, which grew with the categorical rules, stays out of line (measured: the
        // inlined dispatch cost 20-25 % of batch throughput).
        match (self.packed >> 28) & 7 {
            0 => {
                return if v.is_nan() {
                    missing_left
                } else {
                    v <= self.threshold
                }
            }
            1 => return (if v.is_nan() { 0.0 } else { v }) <= self.threshold,
            4 => {
                return if v.is_nan() {
                    missing_left
                } else {
                    (v as f32) < (self.threshold as f32)
                }
            }
            _ => {}
        }
        self.goes_left_other_rule(v, category_sets)
    }

    /// The remaining rules, kept out of line so the hot loop stays small.
    #[inline(never)]
    fn goes_left_other_rule(&self, v: f64, category_sets: &[Vec<u32>]) -> bool {
        let rule = RULES
            .get(((self.packed >> 28) & 7) as usize)
            .copied()
            .unwrap_or(SplitRule::NanMissing);
        rule_goes_left(
            rule,
            self.packed >> 31 != 0,
            self.threshold,
            v,
            category_sets,
        )
    }
}

/// The evaluation layout of a [`HistBoosted`], derived at load and never serialised: each tree
/// re-laid breadth-first from its root into [`FastNode`]s, with leaf values alongside and the
/// depth of every tree.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HistEval {
    nodes: Vec<FastNode>,
    values: Vec<f64>,
    roots: Vec<u32>,
    depths: Vec<u32>,
    /// Stored node index of each evaluation node, kept only for models with linear leaves.
    source: Vec<u32>,
    /// How `nodes` are read: the general rules, or single comparisons (see [`CompareLayout`]).
    compare: Option<CompareLayout>,
    /// Compare layout: per node, what rebuilds the stored split — bit 0 children swapped
    /// (negated column), bit 1 missing-left, bits 2–4 the rule's index in [`RULES`].
    split_flags: Vec<u8>,
}

/// The layout of a model whose every split is one numeric comparison with a fixed way for
/// missing values (scikit-learn HistGradientBoosting and LightGBM numeric splits, XGBoost
/// numeric splits): nearly every model. Each node then goes right exactly when
/// `x > threshold` (`NaN > t` is false, so NaN goes left, and a leaf — threshold +∞ — keeps
/// every row). A split whose rule sends NaN right is rewritten on the negated column
/// `-x` (index `feature + n_features`) with its children swapped: `x <= t` ⇔
/// `-x > next_down(-t)`. The hot loop is then a load, a compare and an add, like the
/// scikit-learn tree engine's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct CompareLayout {
    /// Some split reads the negated columns, so rows are widened to `x, -x`.
    mirrored: bool,
    /// XGBoost: input is cast to float32 before comparing (thresholds are float32 values).
    f32_input: bool,
}

impl CompareLayout {
    /// The layout for `model`, or `None` when a split needs the general rules (categorical
    /// sets, LightGBM's zero-as-missing, non-finite thresholds, linear leaves, or numeric
    /// rules of both float widths).
    fn of(model: &HistBoosted) -> Option<CompareLayout> {
        if !model.leaf_models.is_empty() {
            return None;
        }
        let splits = || model.nodes.iter().filter(|n| !n.leaf);
        let f32_input = splits().any(|n| n.rule == SplitRule::F32Less);
        let comparable = |n: &HistNode| match n.rule {
            SplitRule::F32Less => f32_input && (n.threshold as f32).is_finite(),
            SplitRule::NanMissing | SplitRule::NanAsZero => !f32_input && n.threshold.is_finite(),
            _ => false,
        };
        if !splits().all(comparable) {
            return None;
        }
        let mirrored = splits().any(|n| !Self::split_sends_nan_left(n));
        Some(CompareLayout {
            mirrored,
            f32_input,
        })
    }

    /// Where a split sends NaN under its rule (only the comparable rules reach here).
    fn split_sends_nan_left(n: &HistNode) -> bool {
        match n.rule {
            // NaN counts as 0.0.
            SplitRule::NanAsZero => 0.0 <= n.threshold,
            _ => n.missing_left,
        }
    }

    /// `(column, threshold, swapped)` of a split: `x <= t` goes to the stored left child;
    /// the node goes to its second evaluation child when the (possibly negated) column is
    /// above the threshold.
    fn split(n: &HistNode, n_features: u32) -> (u32, f64, bool) {
        // The largest value that still goes left: XGBoost's `x < t` on float32 values is
        // `x <= next_down(t)`.
        let last_left = match n.rule {
            SplitRule::F32Less => f64::from((n.threshold as f32).next_down()),
            _ => n.threshold,
        };
        if Self::split_sends_nan_left(n) {
            (n.feature, last_left, false)
        } else {
            (n.feature + n_features, (-last_left).next_down(), true)
        }
    }
}

impl HistEval {
    fn build(model: &HistBoosted) -> Result<HistEval> {
        if model.n_features > FEATURE_MASK as usize {
            return Err(Error::invalid_model(format!(
                "{} features is more than the histogram-boosting evaluator handles ({FEATURE_MASK})",
                model.n_features
            )));
        }
        let mut eval = HistEval {
            compare: CompareLayout::of(model),
            ..HistEval::default()
        };
        let n_features = model.n_features as u32;
        for t in 0..model.roots.len() {
            let (start, end) = model.tree_range(t);
            let base = eval.nodes.len();
            eval.roots
                .push(u32::try_from(base).map_err(|_| Error::invalid_model("too many nodes"))?);
            let mut seen = vec![false; end.saturating_sub(start)];
            let mut queue: std::collections::VecDeque<(usize, u32)> =
                std::collections::VecDeque::from([(start, 0)]);
            let mut next = base + 1;
            let mut deepest = 0u32;
            while let Some((old, depth)) = queue.pop_front() {
                let here = eval.nodes.len();
                let reached_twice = seen
                    .get_mut(old.wrapping_sub(start))
                    .map(|s| std::mem::replace(s, true));
                let Some(n) = model
                    .nodes
                    .get(old)
                    .filter(|_| reached_twice == Some(false))
                else {
                    return Err(Error::invalid_model(format!(
                        "tree {t}: node {} is reached twice or lies outside the tree",
                        old.wrapping_sub(start)
                    )));
                };
                let position =
                    |p: usize| u32::try_from(p).map_err(|_| Error::invalid_model("too many nodes"));
                if !model.leaf_models.is_empty() {
                    eval.source.push(position(old)?);
                }
                if n.leaf {
                    deepest = deepest.max(depth);
                    eval.nodes.push(FastNode {
                        threshold: f64::INFINITY,
                        packed: 1 << 31,
                        left: position(here)?,
                    });
                    eval.values.push(n.value);
                } else if eval.compare.is_some() {
                    let (column, threshold, swapped) = CompareLayout::split(n, n_features);
                    let rule = RULES.iter().position(|r| *r == n.rule).unwrap_or(0) as u8;
                    eval.split_flags.resize(here, 0);
                    eval.split_flags
                        .push(u8::from(swapped) | u8::from(n.missing_left) << 1 | rule << 2);
                    eval.nodes.push(FastNode {
                        threshold,
                        packed: column,
                        left: position(next)?,
                    });
                    eval.values.push(0.0);
                    next += 2;
                    let (first, second) = if swapped {
                        (n.right, n.left)
                    } else {
                        (n.left, n.right)
                    };
                    queue.push_back((first as usize, depth + 1));
                    queue.push_back((second as usize, depth + 1));
                } else {
                    let rule = RULES.iter().position(|r| *r == n.rule).unwrap_or(0) as u32;
                    eval.nodes.push(FastNode {
                        threshold: n.threshold,
                        packed: n.feature | rule << 28 | u32::from(n.missing_left) << 31,
                        left: position(next)?,
                    });
                    eval.values.push(0.0);
                    next += 2;
                    queue.push_back((n.left as usize, depth + 1));
                    queue.push_back((n.right as usize, depth + 1));
                }
            }
            eval.depths.push(deepest);
        }
        if eval.compare.is_some() {
            eval.split_flags.resize(eval.nodes.len(), 0);
        }
        eval.nodes.shrink_to_fit();
        eval.values.shrink_to_fit();
        eval.split_flags.shrink_to_fit();
        Ok(eval)
    }
}

/// Add a leaf's value to a raw score: in f64, or — XGBoost — in float32, as its predictor sums.
#[inline(always)]
fn add_leaf_value(score: &mut f64, value: f64, f32_sums: bool) {
    if f32_sums {
        *score = f64::from(*score as f32 + value as f32);
    } else {
        *score += value;
    }
}

/// How a histogram-boosting regressor turns its raw score into a prediction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RegressionOutput {
    Identity,
    /// Log link (scikit-learn poisson/gamma; LightGBM poisson, gamma, tweedie): `exp(raw)`.
    Exp,
    /// LightGBM cross_entropy: `1 / (1 + exp(-raw))`.
    Sigmoid,
    /// LightGBM cross_entropy_lambda: `log1p(exp(raw))`.
    Log1pExp,
    /// LightGBM `reg_sqrt`: `sign(raw)·raw·raw` (the model was fitted to sqrt of the target).
    SignedSquare,
    /// XGBoost reg:logistic: float32 sigmoid (as binary:logistic).
    XgbSigmoid,
    /// XGBoost log-link objectives (count:poisson, reg:gamma, reg:tweedie, survival:cox):
    /// float32 `expf(margin)`.
    ExpF32,
    /// XGBoost binary:hinge: 1 when the margin is positive, else 0.
    Hinge,
}

/// Histogram-style gradient boosting with f64 splits and learned missing-value directions:
/// scikit-learn's HistGradientBoosting and LightGBM. `raw = (baseline + Σ tree values) /
/// raw_divisor`, NaN routed by each split's rule.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct HistBoosted {
    pub n_features: usize,
    /// The trees as imported. [`Self::build_eval`] moves them into the evaluation layout when
    /// that layout can give them back ([`CompareLayout`] models), so a loaded model holds its
    /// nodes once; [`Self::stored_nodes`] rebuilds them to write a bundle.
    #[serde(deserialize_with = "packed_hist_nodes::deserialize")]
    pub nodes: Vec<HistNode>,
    /// First node of each tree, in iteration-major, class-minor order.
    pub roots: Vec<u32>,
    /// Output column of each tree.
    pub columns: Vec<u32>,
    pub baseline: Vec<f64>,
    pub classes: Option<ClassLabels>,
    pub link: Option<BoostLink>,
    /// Regressors: raw score → prediction.
    pub output: RegressionOutput,
    /// Bitsets of categorical splits (32 categories per word).
    pub category_sets: Vec<Vec<u32>>,
    /// LightGBM random forests average their trees: the iteration count; 1 otherwise.
    pub raw_divisor: f64,
    /// XGBoost semantics: margins start at the float32 baseline and add each leaf in float32
    /// (splits use [`SplitRule::F32Less`]); infinite input is refused, as XGBoost refuses it.
    pub xgboost_f32: bool,
    /// XGBoost `gblinear` (no trees): float32 weights `w[feature·K + group]`, then the K biases;
    /// the margin is `bias + baseline + Σ x·w` over the present (non-NaN) features, in float32.
    pub linear_weights: Vec<f64>,
    /// LightGBM linear trees: one entry per node (`Some` only on leaves with a linear model),
    /// or empty when the model has none.
    pub leaf_models: Vec<Option<LinearLeaf>>,
    /// Derived by [`HistBoosted::build_eval`]; not part of the bundle.
    #[serde(skip)]
    pub eval: HistEval,
}

/// The bundle form: the fields in declaration order (as the derived `Deserialize` reads
/// them), with the nodes given back by [`HistBoosted::stored_nodes`].
impl Serialize for HistBoosted {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Stored<'a> {
            n_features: usize,
            #[serde(serialize_with = "packed_hist_nodes::serialize")]
            nodes: &'a [HistNode],
            roots: &'a [u32],
            columns: &'a [u32],
            baseline: &'a [f64],
            classes: &'a Option<ClassLabels>,
            link: &'a Option<BoostLink>,
            output: RegressionOutput,
            category_sets: &'a [Vec<u32>],
            raw_divisor: f64,
            xgboost_f32: bool,
            linear_weights: &'a [f64],
            leaf_models: &'a [Option<LinearLeaf>],
        }
        let (nodes, roots) = self.stored_nodes();
        Stored {
            n_features: self.n_features,
            nodes: &nodes,
            roots: &roots,
            columns: &self.columns,
            baseline: &self.baseline,
            classes: &self.classes,
            link: &self.link,
            output: self.output,
            category_sets: &self.category_sets,
            raw_divisor: self.raw_divisor,
            xgboost_f32: self.xgboost_f32,
            linear_weights: &self.linear_weights,
            leaf_models: &self.leaf_models,
        }
        .serialize(serializer)
    }
}

/// The bundle form of [`HistBoosted::nodes`] from format 6: a field per array (see
/// [`super::packed`]); format 4–5 bundles hold the [`HistNode`] records. Splits keep no value
/// and leaves nothing but their value (what importers and [`HistBoosted::stored_nodes`] give).
mod packed_hist_nodes {
    use super::{HistNode, RULES};
    use crate::core::packed::{self, PackedNodes};
    use serde::{de, ser, Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(nodes: &&[HistNode], serializer: S) -> Result<S::Ok, S::Error> {
        encode(nodes)
            .map_err(<S::Error as ser::Error>::custom)?
            .serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<HistNode>, D::Error> {
        if packed::legacy() {
            // Older importers kept scikit-learn's value on splits, and its split fields on
            // leaves; neither is read.
            let nodes = Vec::<HistNode>::deserialize(deserializer)?;
            return Ok(nodes
                .into_iter()
                .map(|n| {
                    if n.leaf {
                        HistNode::leaf(n.value)
                    } else {
                        HistNode { value: 0.0, ..n }
                    }
                })
                .collect());
        }
        decode(PackedNodes::deserialize(deserializer)?).map_err(<D::Error as de::Error>::custom)
    }

    #[inline(never)]
    fn encode(nodes: &[HistNode]) -> Result<PackedNodes, &'static str> {
        let count = u32::try_from(nodes.len()).map_err(|_| "too many nodes")?;
        let mut p = PackedNodes {
            count,
            leaves: packed::to_bits(nodes.iter().map(|n| n.leaf)),
            ..Default::default()
        };
        let mut values = Vec::new();
        for (i, n) in (0..count).zip(nodes) {
            if n.leaf {
                values.push(n.value.to_le_bytes());
            } else {
                let rule = RULES.iter().position(|r| *r == n.rule).unwrap_or(0) as u8;
                p.features.push(n.feature);
                p.thresholds.0.extend_from_slice(&n.threshold.to_le_bytes());
                p.left.push(packed::offset(i, n.left));
                p.right.push(packed::offset(i, n.right));
                p.flags.0.push(rule << 1 | u8::from(n.missing_left));
            }
        }
        p.values = packed::to_planes(&values);
        Ok(p)
    }

    #[inline(never)]
    fn decode(p: PackedNodes) -> Result<Vec<HistNode>, &'static str> {
        p.check(8, true)?;
        let values = packed::from_planes::<8>(&p.values.0, "leaf values")?;
        let mut splits = p
            .features
            .iter()
            .zip(p.thresholds.0.chunks_exact(8))
            .zip(p.left.iter().zip(&p.right))
            .zip(&p.flags.0);
        let mut values = values.into_iter();
        let mut nodes = Vec::with_capacity(p.count as usize);
        for i in 0..p.count {
            let node = if packed::bit(&p.leaves.0, i as usize) {
                let Some(value) = values.next() else { break };
                HistNode::leaf(f64::from_le_bytes(value))
            } else {
                let Some((((&feature, threshold), (&left, &right)), &flags)) = splits.next() else {
                    break;
                };
                HistNode {
                    feature,
                    threshold: f64::from_le_bytes(threshold.try_into().unwrap_or_default()),
                    left: packed::child(i, left),
                    right: packed::child(i, right),
                    missing_left: flags & 1 != 0,
                    leaf: false,
                    rule: *RULES
                        .get(usize::from(flags >> 1))
                        .ok_or("packed tree nodes: unknown split rule")?,
                    value: 0.0,
                }
            };
            nodes.push(node);
        }
        Ok(nodes)
    }
}

impl HistBoosted {
    fn tree_range(&self, t: usize) -> (usize, usize) {
        super::trees::tree_range(&self.roots, self.nodes.len(), t)
    }

    pub fn validate(&self) -> Result<()> {
        let k = self.baseline.len();
        if self.nodes_moved() {
            // Validated before the move; the layout is only ever built from valid nodes.
            return check_link(self.classes.as_ref(), self.link, k, self.xgboost_f32);
        }
        if !self.linear_weights.is_empty() {
            let expected = (self.n_features + 1).checked_mul(k);
            if expected != Some(self.linear_weights.len())
                || !self.roots.is_empty()
                || !self.xgboost_f32
                || self.linear_weights.iter().any(|w| !w.is_finite())
            {
                return Err(Error::invalid_model(format!(
                    "linear booster has {} weights for {} features and {k} outputs",
                    self.linear_weights.len(),
                    self.n_features
                )));
            }
            return check_link(self.classes.as_ref(), self.link, k, self.xgboost_f32);
        }
        if k == 0 || self.roots.is_empty() || self.columns.len() != self.roots.len() {
            return Err(Error::invalid_model(
                "histogram boosting model has no trees or no baseline",
            ));
        }
        if self.baseline.iter().any(|v| !v.is_finite()) {
            return Err(Error::invalid_model("baseline prediction is not finite"));
        }
        if !(self.raw_divisor.is_finite() && self.raw_divisor >= 1.0) {
            return Err(Error::invalid_model("raw score divisor is not a count"));
        }
        if self.classes.is_some() && self.output != RegressionOutput::Identity {
            return Err(Error::invalid_model(
                "a classifier cannot have a regression output transform",
            ));
        }
        check_link(self.classes.as_ref(), self.link, k, self.xgboost_f32)?;
        if !self.leaf_models.is_empty() && self.leaf_models.len() != self.nodes.len() {
            return Err(Error::invalid_model(format!(
                "{} linear leaf entries for {} nodes",
                self.leaf_models.len(),
                self.nodes.len()
            )));
        }
        for t in 0..self.roots.len() {
            let (start, end) = self.tree_range(t);
            if start >= end
                || end > self.nodes.len()
                || self.columns.get(t).is_none_or(|&c| c as usize >= k)
            {
                return Err(Error::invalid_model(format!(
                    "tree {t} is empty, overlaps the next or writes past the outputs"
                )));
            }
            for i in start..end {
                let Some(n) = self.nodes.get(i) else { break };
                let bad = |what: String| {
                    Error::invalid_model(format!("tree {t}, node {}: {what}", i - start))
                };
                if n.leaf {
                    if !n.value.is_finite() {
                        return Err(bad("leaf value is not finite".into()));
                    }
                    if let Some(Some(m)) = self.leaf_models.get(i) {
                        if m.features.len() != m.coeffs.len()
                            || !m.constant.is_finite()
                            || m.coeffs.iter().any(|c| !c.is_finite())
                        {
                            return Err(bad(
                                "linear leaf has non-finite or mismatched coefficients".into(),
                            ));
                        }
                        if let Some(f) = m.features.iter().find(|&&f| f as usize >= self.n_features)
                        {
                            return Err(bad(format!(
                                "linear leaf uses feature {f} but the model has {} features",
                                self.n_features
                            )));
                        }
                    }
                    continue;
                }
                if matches!(self.leaf_models.get(i), Some(Some(_))) {
                    return Err(bad("a split node has a linear leaf model".into()));
                }
                if n.feature as usize >= self.n_features {
                    return Err(bad(format!(
                        "feature {} but the model has {} features",
                        n.feature, self.n_features
                    )));
                }
                if n.threshold.is_nan() {
                    return Err(bad("threshold is NaN".into()));
                }
                if matches!(
                    n.rule,
                    SplitRule::Categorical
                        | SplitRule::XgbCategorical
                        | SplitRule::HgbCategorical
                        | SplitRule::HgbCategoricalTruncating
                ) && !(n.threshold >= 0.0
                    && n.threshold.fract() == 0.0
                    && (n.threshold as usize) < self.category_sets.len())
                {
                    return Err(bad(format!(
                        "categorical split refers to category set {} of {}",
                        n.threshold,
                        self.category_sets.len()
                    )));
                }
                for child in [n.left as usize, n.right as usize] {
                    if child <= i || child >= end {
                        return Err(bad(format!(
                            "child {} points backwards, to itself or outside the tree",
                            child as i64 - start as i64
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// Build the evaluation layout (and validate). Importers and the bundle decoder call it.
    pub fn build_eval(&mut self) -> Result<()> {
        if self.nodes_moved() {
            return Ok(()); // built already (the importer, then the model's own validation)
        }
        self.validate()?;
        self.eval = HistEval::build(self)?;
        if self.eval.compare.is_some() {
            self.nodes = Vec::new();
            self.roots = Vec::new();
        }
        self.columns.shrink_to_fit();
        self.category_sets.shrink_to_fit();
        Ok(())
    }

    /// Whether [`Self::build_eval`] moved the nodes into the evaluation layout.
    fn nodes_moved(&self) -> bool {
        self.nodes.is_empty() && !self.eval.nodes.is_empty()
    }

    /// The stored nodes and roots: as imported, or rebuilt from the evaluation layout (trees
    /// breadth-first, children adjacent), which reads the same.
    pub fn stored_nodes(
        &self,
    ) -> (
        std::borrow::Cow<'_, [HistNode]>,
        std::borrow::Cow<'_, [u32]>,
    ) {
        use std::borrow::Cow;
        if !self.nodes_moved() {
            return (Cow::Borrowed(&self.nodes), Cow::Borrowed(&self.roots));
        }
        let nf = self.n_features as u32;
        let eval = &self.eval;
        let nodes = eval
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                if n.left as usize == i {
                    return HistNode::leaf(eval.values.get(i).copied().unwrap_or(0.0));
                }
                let flags = eval.split_flags.get(i).copied().unwrap_or(0);
                let rule = RULES
                    .get(usize::from(flags >> 2 & 7))
                    .copied()
                    .unwrap_or(SplitRule::NanMissing);
                let swapped = flags & 1 != 0;
                let (first, second) = (n.left, n.left + 1);
                // The inverse of `CompareLayout::split`.
                let last_left = if swapped {
                    -n.threshold.next_up()
                } else {
                    n.threshold
                };
                HistNode {
                    feature: if swapped { n.packed - nf } else { n.packed },
                    threshold: if rule == SplitRule::F32Less {
                        f64::from((last_left as f32).next_up())
                    } else {
                        last_left
                    },
                    left: if swapped { second } else { first },
                    right: if swapped { first } else { second },
                    missing_left: flags & 2 != 0,
                    leaf: false,
                    rule,
                    value: 0.0,
                }
            })
            .collect();
        (Cow::Owned(nodes), Cow::Borrowed(&eval.roots))
    }

    /// Raw scores, `n_rows × K`. Models of single-comparison splits (nearly all) take
    /// [`Self::add_trees_compare`]. Otherwise blocks of 8 rows walk in lockstep for `depth`
    /// steps per tree over the 16-byte breadth-first evaluation nodes under the general split
    /// rules (a leaf points at itself, so finished rows stay put and the eight chains of
    /// dependent loads overlap); leftover rows walk the stored depth-first nodes and stop at
    /// their leaf.
    pub fn raw(&self, x: &super::input::Rows) -> Vec<f64> {
        const LANES: usize = 8;
        let k = self.baseline.len().max(1);
        let nf = x.n_cols().max(1);
        let mut out: Vec<f64> = (0..x.n_rows())
            .flat_map(|_| self.baseline.iter().copied())
            .collect();
        let data = x.data();
        if !self.linear_weights.is_empty() {
            self.add_linear(data, nf, k, &mut out);
        }
        if let Some(layout) = self.eval.compare {
            self.add_trees_compare(layout, data, nf, k, &mut out);
            if self.raw_divisor != 1.0 {
                out.iter_mut().for_each(|v| *v /= self.raw_divisor);
            }
            return out;
        }
        let eval = &self.eval;
        let sets = &self.category_sets;
        let step = |i: usize, row: &[f64]| -> usize {
            match eval.nodes.get(i) {
                Some(n) => {
                    let v = row
                        .get((n.packed & FEATURE_MASK) as usize)
                        .copied()
                        .unwrap_or(f64::NAN);
                    n.left as usize + usize::from(!n.goes_left(v, sets))
                }
                None => i,
            }
        };
        let f32_sums = self.xgboost_f32;
        // A leaf's output: its value, or its linear model's (LightGBM linear trees).
        let leaf_output =
            |stored: usize, value: f64, row: &[f64]| match self.leaf_models.get(stored) {
                Some(Some(model)) => model.output(row, value),
                _ => value,
            };
        let linear_leaves = !self.leaf_models.is_empty();
        for (t, &root) in eval.roots.iter().enumerate() {
            let column = self.columns.get(t).copied().unwrap_or(0) as usize;
            let steps = eval.depths.get(t).copied().unwrap_or(0);
            let add = |value: Option<f64>, row_out: &mut [f64]| {
                if let (Some(v), Some(o)) = (value, row_out.get_mut(column)) {
                    add_leaf_value(o, v, f32_sums);
                }
            };
            let mut xs = data.chunks_exact(LANES * nf);
            let mut outs = out.chunks_exact_mut(LANES * k);
            for (block, block_out) in (&mut xs).zip(&mut outs) {
                let mut idx = [root as usize; LANES];
                for _ in 0..steps {
                    for (lane, i) in idx.iter_mut().enumerate() {
                        *i = step(*i, block.get(lane * nf..(lane + 1) * nf).unwrap_or(&[]));
                    }
                }
                // Two loops so plain leaves (nearly every model) keep the tight one.
                if linear_leaves {
                    for (lane, (i, row_out)) in idx
                        .into_iter()
                        .zip(block_out.chunks_exact_mut(k))
                        .enumerate()
                    {
                        let row = block.get(lane * nf..(lane + 1) * nf).unwrap_or(&[]);
                        let value = eval.values.get(i).map(|&v| match eval.source.get(i) {
                            Some(&stored) => leaf_output(stored as usize, v, row),
                            None => v,
                        });
                        add(value, row_out);
                    }
                } else {
                    for (i, row_out) in idx.into_iter().zip(block_out.chunks_exact_mut(k)) {
                        add(eval.values.get(i).copied(), row_out);
                    }
                }
            }
            let stored_root = self.roots.get(t).copied().unwrap_or(0) as usize;
            let stored_step = |i: usize, row: &[f64]| -> usize {
                match self.nodes.get(i) {
                    Some(n) if !n.leaf => {
                        let v = row.get(n.feature as usize).copied().unwrap_or(f64::NAN);
                        let left = rule_goes_left(n.rule, n.missing_left, n.threshold, v, sets);
                        (if left { n.left } else { n.right }) as usize
                    }
                    _ => i,
                }
            };
            for (row, row_out) in xs
                .remainder()
                .chunks_exact(nf)
                .zip(outs.into_remainder().chunks_exact_mut(k))
            {
                // Each step moves strictly forward (validated), so this ends at a leaf.
                let mut i = stored_root;
                loop {
                    let next = stored_step(i, row);
                    if next == i {
                        break;
                    }
                    i = next;
                }
                if let Some(n) = self.nodes.get(i) {
                    let value = if linear_leaves {
                        leaf_output(i, n.value, row)
                    } else {
                        n.value
                    };
                    add(Some(value), row_out);
                }
            }
        }
        if self.raw_divisor != 1.0 {
            out.iter_mut().for_each(|v| *v /= self.raw_divisor);
        }
        out
    }

    /// Add every tree's leaf into `out` (`n_rows × k`) for a [`CompareLayout`] model. Rows go
    /// in blocks: each block is copied once into the layout's form (float32-rounded for
    /// XGBoost, followed by its negation when mirrored), then every tree runs over it in tree
    /// order — eight rows in lockstep for the tree's depth (leaves absorb finished rows, and
    /// the eight chains of dependent loads overlap); the fewer than eight rows left over walk
    /// eight trees at once. The block and the model's nodes stay in cache across trees.
    fn add_trees_compare(
        &self,
        layout: CompareLayout,
        data: &[f64],
        nf: usize,
        k: usize,
        out: &mut [f64],
    ) {
        const LANES: usize = 8;
        const BLOCK_ROWS: usize = 64;
        let eval = &self.eval;
        let stride = if layout.mirrored { 2 * nf } else { nf };
        // Each row takes a power-of-two slot, so a lane's read is masked into range instead of
        // bounds-checked (the mask is the slice's length − 1, which the compiler sees).
        let row_stride = stride.next_power_of_two();
        let mut block = vec![0.0f64; BLOCK_ROWS.min(data.len() / nf) * row_stride];
        let f32_sums = self.xgboost_f32;
        // One lockstep step: lane `lane` reads its row at `lane * lane_stride` (rows in lanes;
        // 0 when the lanes are trees of one row); `x` is `mask + 1` values, a power of two.
        let step = |idx: &mut [usize; LANES], x: &[f64], lane_stride: usize, mask: usize| {
            let Some(x) = x.get(..=mask) else {
                return;
            };
            for (lane, i) in idx.iter_mut().enumerate() {
                if let Some(n) = eval.nodes.get(*i) {
                    // Validated features keep the offset below `mask`; the `&` only tells the
                    // compiler so.
                    let v = x
                        .get((lane * lane_stride + n.packed as usize) & mask)
                        .copied()
                        .unwrap_or(f64::NAN);
                    *i = n.left as usize + usize::from(v > n.threshold);
                }
            }
        };
        let add = |value: Option<f64>, t: usize, row_out: &mut [f64]| {
            let column = self.columns.get(t).copied().unwrap_or(0) as usize;
            if let (Some(v), Some(o)) = (value, row_out.get_mut(column)) {
                add_leaf_value(o, v, f32_sums);
            }
        };
        let n_trees = eval.roots.len();
        for (rows, block_out) in data
            .chunks(BLOCK_ROWS * nf)
            .zip(out.chunks_mut(BLOCK_ROWS * k))
        {
            let n_rows = rows.len() / nf;
            for (row, slot) in rows
                .chunks_exact(nf)
                .zip(block.chunks_exact_mut(row_stride))
            {
                let wide = slot.get_mut(..stride).unwrap_or(&mut []);
                let (plain, negated) = wide.split_at_mut(nf.min(wide.len()));
                for (w, &v) in plain.iter_mut().zip(row) {
                    *w = if layout.f32_input {
                        f64::from(v as f32)
                    } else {
                        v
                    };
                }
                for (n, &w) in negated.iter_mut().zip(plain.iter()) {
                    *n = -w;
                }
            }
            let block = block.get(..n_rows * row_stride).unwrap_or(&[]);
            // Eight rows at a time through each tree, in tree order.
            let full = n_rows / LANES * LANES;
            let (lanes_x, rest_x) = block.split_at(full * row_stride);
            let (lanes_out, rest_out) = block_out.split_at_mut((full * k).min(block_out.len()));
            for (x, o) in lanes_x
                .chunks_exact(LANES * row_stride)
                .zip(lanes_out.chunks_exact_mut(LANES * k))
            {
                for (t, &root) in eval.roots.iter().enumerate() {
                    let mut idx = [root as usize; LANES];
                    for _ in 0..eval.depths.get(t).copied().unwrap_or(0) {
                        step(&mut idx, x, row_stride, LANES * row_stride - 1);
                    }
                    for (i, row_out) in idx.into_iter().zip(o.chunks_exact_mut(k)) {
                        add(eval.values.get(i).copied(), t, row_out);
                    }
                }
            }
            // Fewer than eight rows left (a single-row call, say): eight trees at a time
            // through the one row, for the deepest of them; then added in tree order.
            for (row, row_out) in rest_x
                .chunks_exact(row_stride)
                .zip(rest_out.chunks_exact_mut(k))
            {
                // One raw score (regressors, binary classifiers): its sum stays in a register
                // instead of a store and reload per tree.
                let mut single = match row_out {
                    [score] => Some(*score),
                    _ => None,
                };
                for first in (0..n_trees).step_by(LANES) {
                    let mut idx = [0usize; LANES];
                    let mut steps = 0;
                    for (lane, i) in idx.iter_mut().enumerate() {
                        // Past the last tree a lane repeats it; its result is not added.
                        let t = (first + lane).min(n_trees - 1);
                        *i = eval.roots.get(t).copied().unwrap_or(0) as usize;
                        steps = steps.max(eval.depths.get(t).copied().unwrap_or(0));
                    }
                    for _ in 0..steps {
                        step(&mut idx, row, 0, row_stride - 1);
                    }
                    let reached = idx.into_iter().enumerate().take(n_trees - first);
                    if let Some(sum) = single.as_mut() {
                        for (_, i) in reached {
                            if let Some(&v) = eval.values.get(i) {
                                add_leaf_value(sum, v, f32_sums);
                            }
                        }
                    } else {
                        for (lane, i) in reached {
                            add(eval.values.get(i).copied(), first + lane, row_out);
                        }
                    }
                }
                if let (Some(sum), [score]) = (single, row_out) {
                    *score = sum;
                }
            }
        }
    }

    /// XGBoost gblinear's `Pred`: per group, `psum = bias + base`, then `psum += x·w` in float32
    /// for each present feature in order.
    fn add_linear(&self, data: &[f64], nf: usize, k: usize, out: &mut [f64]) {
        let w = &self.linear_weights;
        for (row, row_out) in data.chunks_exact(nf).zip(out.chunks_exact_mut(k)) {
            for (g, o) in row_out.iter_mut().enumerate() {
                let bias = w.get(nf * k + g).copied().unwrap_or(0.0) as f32;
                let mut psum = bias + *o as f32;
                for (f, &x) in row.iter().enumerate() {
                    if !x.is_nan() {
                        psum += x as f32 * w.get(f * k + g).copied().unwrap_or(0.0) as f32;
                    }
                }
                *o = f64::from(psum);
            }
        }
    }

    /// The boosting view used for probabilities and labels (same links as gradient boosting).
    pub fn proba_from_raw(&self, raw: &[f64]) -> Vec<f64> {
        link_proba(self.link, self.baseline.len(), raw)
    }

    pub fn labels(&self, raw: &[f64]) -> Vec<usize> {
        link_labels(self.link, self.baseline.len(), raw)
    }

    /// Regression values from raw scores.
    pub fn values(&self, mut raw: Vec<f64>) -> Vec<f64> {
        let f: fn(f64) -> f64 = match self.output {
            RegressionOutput::Identity => return raw,
            RegressionOutput::Exp => f64::exp,
            RegressionOutput::Sigmoid => |r| 1.0 / (1.0 + (-r).exp()),
            RegressionOutput::Log1pExp => |r| r.exp().ln_1p(),
            // C++ `Sign(x) * x * x` with an int sign: (sign · x) · x.
            RegressionOutput::SignedSquare => |r| {
                let sign = f64::from(i8::from(r > 0.0) - i8::from(r < 0.0));
                sign * r * r
            },
            RegressionOutput::XgbSigmoid => |r| f64::from(xgb_sigmoid(r)),
            RegressionOutput::ExpF32 => |r| f64::from((r as f32).exp()),
            RegressionOutput::Hinge => |r| if r > 0.0 { 1.0 } else { 0.0 },
        };
        raw.iter_mut().for_each(|v| *v = f(*v));
        raw
    }
}

/// How an AdaBoost ensemble combines its trees (scikit-learn's `_weight_boosting.py`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdaBoostRule {
    /// Classifier, discrete SAMME: each tree votes `w` for its class and `-w/(K-1)` for the
    /// others (`symmetric`, scikit-learn ≥ 1.3), or 0 for the others (before).
    Samme { symmetric: bool },
    /// Classifier, real SAMME.R (scikit-learn ≤ 1.5): `(K-1)·(log p − mean log p)` per tree.
    SammeR,
    /// Regressor: the weighted median of the trees' predictions.
    WeightedMedian,
}

/// AdaBoostClassifier / AdaBoostRegressor over decision trees. Tree `t` writes its leaf payload
/// (class values or the regression value, `width` wide) into columns `t·width…`, so one pass
/// gives every tree's output for a row; the combination follows scikit-learn step by step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdaBoost {
    pub trees: TreeEnsemble,
    pub rule: AdaBoostRule,
    /// `estimator_weights_` (as long as `n_estimators`; trees beyond an early stop have none).
    pub weights: Vec<f64>,
    pub classes: Option<ClassLabels>,
}

/// Rows per evaluation block: bounds the per-tree output buffer (`rows × trees × width`).
const ADABOOST_BLOCK_ROWS: usize = 256;

impl AdaBoost {
    fn n_trees(&self) -> usize {
        self.trees.n_trees()
    }

    fn width(&self) -> usize {
        self.classes.as_ref().map_or(1, ClassLabels::len)
    }

    pub fn validate(&self) -> Result<()> {
        self.trees.validate()?;
        let n = self.n_trees();
        let ok_classes = match (&self.classes, self.rule) {
            (Some(c), AdaBoostRule::Samme { .. } | AdaBoostRule::SammeR) => c.len() >= 2,
            (None, AdaBoostRule::WeightedMedian) => true,
            _ => false,
        };
        if !ok_classes
            || n == 0
            || self.weights.len() < n
            || self.trees.n_outputs() != n * self.width()
            || self.weights.iter().any(|w| !w.is_finite())
        {
            return Err(Error::invalid_model(
                "AdaBoost trees, weights and classes disagree",
            ));
        }
        Ok(())
    }

    /// Every tree's payload for each row: `n_rows × n_trees × width`, in blocks.
    fn per_tree(&self, x: &Rows, mut each_row: impl FnMut(&[f64])) {
        let nf = x.n_cols().max(1);
        let stride = self.n_trees() * self.width();
        for block in x.data().chunks(ADABOOST_BLOCK_ROWS * nf) {
            let rows: Vec<f32> = block.iter().map(|&v| v as f32).collect();
            let mut out = vec![0.0; block.len() / nf * stride];
            self.trees.accumulate(&rows, &mut out);
            out.chunks_exact(stride.max(1)).for_each(&mut each_row);
        }
    }

    /// `decision_function` (classifiers): `n_rows × K`, or one column for binary.
    pub fn decision_function(&self, x: &Rows) -> Vec<f64> {
        let mut out = Vec::with_capacity(x.n_rows() * self.width());
        self.per_tree(x, |trees| {
            adaboost_decision_row(self.rule, trees, &self.weights, self.width(), &mut out);
        });
        out
    }

    pub fn predict_proba(&self, decision: &[f64]) -> Vec<f64> {
        adaboost_proba(decision, self.width())
    }

    pub fn labels(&self, decision: &[f64]) -> Vec<usize> {
        adaboost_labels(decision, self.width())
    }

    /// Regressor `predict`: per row, the prediction of the tree where the weight of trees
    /// sorted by prediction first reaches half the total (`_get_median_predict`).
    pub fn weighted_median(&self, x: &Rows) -> Vec<f64> {
        let mut out = Vec::with_capacity(x.n_rows());
        let mut order: Vec<usize> = Vec::with_capacity(self.n_trees());
        self.per_tree(x, |predictions| {
            out.push(weighted_median_row(predictions, &self.weights, &mut order));
        });
        out
    }
}

/// One row of an AdaBoost classifier's `decision_function`, from each estimator's `k` outputs
/// (class probabilities, or a one-hot vote for SAMME): `k` values, or one for binary.
pub(crate) fn adaboost_decision_row(
    rule: AdaBoostRule,
    outputs: &[f64],
    weights: &[f64],
    k: usize,
    out: &mut Vec<f64>,
) {
    let total = numpy_sum(weights);
    let mut pred = vec![0.0; k];
    for (values, &w) in outputs.chunks_exact(k.max(1)).zip(weights) {
        match rule {
            AdaBoostRule::Samme { symmetric } => {
                let vote = argmax(values);
                let other = if symmetric {
                    -1.0 / (k as f64 - 1.0) * w
                } else {
                    0.0
                };
                for (c, p) in pred.iter_mut().enumerate() {
                    *p += if c == vote { w } else { other };
                }
            }
            _ => {
                // _samme_proba: clip at eps, log, centre, times K-1.
                let logs: Vec<f64> = values.iter().map(|v| v.max(f64::EPSILON).ln()).collect();
                let centre = (1.0 / k as f64) * numpy_sum(&logs);
                for (p, l) in pred.iter_mut().zip(&logs) {
                    *p += (k as f64 - 1.0) * (l - centre);
                }
            }
        }
    }
    pred.iter_mut().for_each(|p| *p /= total);
    match pred.as_slice() {
        [a, b] => out.push(-a + b),
        _ => out.extend_from_slice(&pred),
    }
}

/// AdaBoost classifier probabilities from its decision values (`k` classes).
pub(crate) fn adaboost_proba(decision: &[f64], k: usize) -> Vec<f64> {
    let mut out: Vec<f64> = if k == 2 {
        decision.iter().flat_map(|&d| [-d / 2.0, d / 2.0]).collect()
    } else {
        decision.iter().map(|d| d / (k as f64 - 1.0)).collect()
    };
    out.chunks_exact_mut(k.max(1)).for_each(softmax_in_place);
    out
}

/// AdaBoost classifier labels from its decision values.
pub(crate) fn adaboost_labels(decision: &[f64], k: usize) -> Vec<usize> {
    if k == 2 {
        decision.iter().map(|&d| usize::from(d > 0.0)).collect()
    } else {
        decision.chunks_exact(k.max(1)).map(argmax).collect()
    }
}

/// AdaBoostRegressor for one row: the prediction of the estimator where the weight of the
/// estimators sorted by prediction first reaches half the total.
pub(crate) fn weighted_median_row(
    predictions: &[f64],
    weights: &[f64],
    order: &mut Vec<usize>,
) -> f64 {
    order.clear();
    order.extend(0..predictions.len());
    order.sort_by(|&a, &b| {
        let (pa, pb) = (predictions.get(a), predictions.get(b));
        pa.partial_cmp(&pb).unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut cdf = Vec::with_capacity(order.len());
    let mut running = 0.0;
    for &t in order.iter() {
        running += weights.get(t).copied().unwrap_or(0.0);
        cdf.push(running);
    }
    let half = 0.5 * running;
    let at = cdf.iter().position(|&c| c >= half).unwrap_or(0);
    let tree = order.get(at).copied().unwrap_or(0);
    predictions.get(tree).copied().unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;

    /// One stump per (rule, missing direction, threshold): leaf 1 left, leaf 2 right.
    fn stumps(rule: SplitRule, thresholds: &[f64]) -> HistBoosted {
        let mut model = stumps_unbuilt(rule, thresholds);
        model.build_eval().unwrap();
        model
    }

    fn stumps_unbuilt(rule: SplitRule, thresholds: &[f64]) -> HistBoosted {
        let mut nodes = Vec::new();
        let mut roots = Vec::new();
        for (s, &threshold) in thresholds.iter().enumerate() {
            for missing_left in [false, true] {
                let base = nodes.len() as u32;
                roots.push(base);
                nodes.push(HistNode {
                    feature: (s % 2) as u32,
                    threshold,
                    left: base + 1,
                    right: base + 2,
                    missing_left,
                    leaf: false,
                    rule,
                    value: 0.0,
                });
                nodes.push(HistNode::leaf(1.0));
                nodes.push(HistNode::leaf(2.0));
            }
        }
        let n = roots.len();
        HistBoosted {
            n_features: 2,
            nodes,
            roots,
            columns: (0..n as u32).collect(),
            baseline: vec![0.0; n],
            classes: None,
            link: None,
            output: RegressionOutput::Identity,
            category_sets: Vec::new(),
            raw_divisor: 1.0,
            // One output column per stump, which only XGBoost's multi-target models have
            // (float32 sums of 1.0 and 2.0 are exact).
            xgboost_f32: true,
            linear_weights: Vec::new(),
            leaf_models: Vec::new(),
            eval: HistEval::default(),
        }
    }

    #[test]
    fn single_comparison_layout_routes_like_the_split_rules() {
        let thresholds: [f64; 9] = [0.0, -0.0, 0.5, -0.5, 1e-40, 0.1, -3.0, 7.25, 1e300];
        let mut values = vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0, 1e-45];
        for t in thresholds {
            values.extend([t, t.next_up(), t.next_down(), -t]);
            let t32 = t as f32;
            values.extend([t32, t32.next_up(), t32.next_down()].map(f64::from));
        }
        for rule in [
            SplitRule::NanMissing,
            SplitRule::NanAsZero,
            SplitRule::F32Less,
        ] {
            let thresholds: Vec<f64> = if rule == SplitRule::F32Less {
                thresholds[..8]
                    .iter()
                    .map(|&t| f64::from(t as f32))
                    .collect()
            } else {
                thresholds.to_vec()
            };
            let model = stumps(rule, &thresholds);
            let imported = stumps_unbuilt(rule, &thresholds).nodes;
            assert!(model.nodes.is_empty(), "the layout holds the nodes");
            // The nodes rebuilt for a bundle make the same layout again.
            let (nodes, roots) = model.stored_nodes();
            let mut rebuilt = HistBoosted {
                nodes: nodes.into_owned(),
                roots: roots.into_owned(),
                eval: HistEval::default(),
                ..model.clone()
            };
            rebuilt.build_eval().unwrap();
            assert_eq!(rebuilt, model);
            let layout = model.eval.compare.expect("single-comparison layout");
            assert_eq!(layout.f32_input, rule == SplitRule::F32Less);
            let values: Vec<f64> = values
                .iter()
                .copied()
                .filter(|v| rule != SplitRule::F32Less || !v.is_infinite())
                .collect();
            // Rows of (a, b): every value in both columns, 8 at a time and one by one.
            let data: Vec<f64> = values.iter().flat_map(|&v| [v, -v]).collect();
            let rows = Rows::new(&data, 2).unwrap();
            let k = model.baseline.len();
            let batch = model.raw(&rows);
            for (r, row) in data.chunks_exact(2).enumerate() {
                let single = model.raw(&Rows::new(row, 2).unwrap());
                for (t, node) in imported.chunks_exact(3).map(|c| c[0]).enumerate() {
                    let v = row[node.feature as usize];
                    let left = rule_goes_left(rule, node.missing_left, node.threshold, v, &[]);
                    let want = if left { 1.0 } else { 2.0 };
                    assert_eq!(
                        (batch[r * k + t], single[t]),
                        (want, want),
                        "{rule:?} missing_left={} t={:e} v={v:e}",
                        node.missing_left,
                        node.threshold
                    );
                }
            }
        }
    }
}
