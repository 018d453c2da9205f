//! Estimators made of other estimators: VotingClassifier/Regressor, StackingClassifier/
//! Regressor, CalibratedClassifierCV and TransformedTargetRegressor.
//!
//! Their parts live in the model's flat `members` list and are referred to by index; a member
//! is never itself composite (checked at load), so neither the types nor a bundle can nest
//! without bound.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::frame::Frame;
use super::input::Rows;
use super::model::{ClassLabels, Estimator, Predictions};
use super::transform::Stage;
use super::tree_models::argmax;
use crate::error::{Error, Result};

/// One part of a composite: its own preprocessing (a Pipeline member) and estimator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub name: String,
    pub preprocess: Vec<Stage>,
    pub estimator: Estimator,
}

impl Member {
    pub fn n_features(&self) -> usize {
        self.preprocess
            .first()
            .map_or(self.estimator.n_features(), Stage::n_features)
    }

    /// The member's view of the rows: its preprocessing applied, its input rule checked.
    pub(crate) fn rows<'a>(&self, x: &Rows<'a>) -> Result<Cow<'a, [f64]>> {
        let names: Vec<String> = (0..x.n_cols()).map(|i| format!("x{i}")).collect();
        let data: Cow<'a, [f64]> = if self.preprocess.is_empty() {
            Cow::Borrowed(x.data())
        } else {
            let mut frame = Frame::from_rows(x, &names);
            for stage in &self.preprocess {
                frame = stage.apply(frame)?;
            }
            Cow::Owned(frame.into_row_major(&self.name)?)
        };
        let rows = Rows::new(&data, self.estimator.n_features())?.numbered_from(x.first_row());
        rows.expect(self.estimator.input_rule(), &names, &|| &self.name)
            .map_err(|e| e.context(format!("member {:?}", self.name)))?;
        Ok(data)
    }

    fn run<T>(&self, x: &Rows, f: impl FnOnce(&Estimator, &Rows) -> Result<T>) -> Result<T> {
        let data = self.rows(x)?;
        let rows = Rows::new(&data, self.estimator.n_features())?.numbered_from(x.first_row());
        f(&self.estimator, &rows).map_err(|e| e.context(format!("member {:?}", self.name)))
    }

    /// Class indices (classifiers) or values, as f64 per row.
    fn predict(&self, x: &Rows) -> Result<Vec<f64>> {
        self.run(x, |e, r| {
            Ok(match e.predict_rows(r, &[])? {
                Predictions::Values { data, .. } => data,
                Predictions::ClassIndices(i)
                | Predictions::MultiClassIndices { indices: i, .. } => {
                    i.into_iter().map(|v| v as f64).collect()
                }
            })
        })
    }

    fn proba(&self, x: &Rows) -> Result<Vec<f64>> {
        self.run(x, |e, r| e.proba_rows(r, &[]))
    }

    fn decision(&self, x: &Rows) -> Result<(Vec<f64>, usize)> {
        self.run(x, |e, r| e.decision_rows(r, &[]))
    }
}

/// The inverse of a TransformedTargetRegressor's target transform.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum TargetInverse {
    /// StandardScaler: `y * scale + mean`.
    Standard {
        mean: Option<f64>,
        scale: Option<f64>,
    },
    /// MinMaxScaler: `(y − min) / scale`.
    MinMax { min: f64, scale: f64 },
    /// A FunctionTransformer's `inverse_func` (none: identity).
    Function(Option<super::transform::Ufunc>),
}

/// One fold of a CalibratedClassifierCV: a member and one calibrator per class column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibratedFold {
    pub member: usize,
    /// Use the member's decision_function (else its predict_proba).
    pub decision: bool,
    /// Which of the calibrated classes each calibrator fills (the member's classes mapped).
    pub class_index: Vec<usize>,
    pub calibrators: Vec<Calibrator>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Calibrator {
    /// `expit(−(a·t + b))`.
    Sigmoid { a: f64, b: f64 },
    /// IsotonicRegression with `out_of_bounds='clip'`: `np.interp` over the thresholds.
    Isotonic { x: Vec<f64>, y: Vec<f64> },
}

impl Calibrator {
    fn apply(&self, t: f64) -> f64 {
        match self {
            Calibrator::Sigmoid { a, b } => 1.0 / (1.0 + (a * t + b).exp()),
            Calibrator::Isotonic { x, y } => interp(t, x, y),
        }
    }
}

/// numpy's `interp` after clipping to the thresholds' range.
fn interp(t: f64, xs: &[f64], ys: &[f64]) -> f64 {
    let (Some(first), Some(last)) = (xs.first(), xs.last()) else {
        return f64::NAN;
    };
    let t = t.clamp(*first, *last);
    if t.is_nan() {
        return f64::NAN;
    }
    // Largest j with xs[j] <= t.
    let j = xs.partition_point(|v| *v <= t).saturating_sub(1);
    let (x0, y0) = (
        xs.get(j).copied().unwrap_or(0.0),
        ys.get(j).copied().unwrap_or(0.0),
    );
    match (xs.get(j + 1), ys.get(j + 1)) {
        (Some(&x1), Some(&y1)) if t != x0 => {
            let slope = (y1 - y0) / (x1 - x0);
            let v = slope * (t - x0) + y0;
            if v.is_nan() {
                slope * (t - x1) + y1
            } else {
                v
            }
        }
        _ => y0,
    }
}

/// How the members' outputs combine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Combine {
    /// VotingClassifier(voting='hard'): weighted count of predicted classes, first maximum.
    VoteHard { weights: Option<Vec<f64>> },
    /// VotingClassifier(voting='soft'): weighted average of probabilities.
    VoteSoft { weights: Option<Vec<f64>> },
    /// VotingRegressor: weighted average of predictions.
    VoteRegress { weights: Option<Vec<f64>> },
    /// Stacking: members' outputs (`methods`: 0 predict, 1 predict_proba, 2
    /// decision_function), side by side, then `final_member`; `passthrough` appends the input.
    Stack {
        methods: Vec<u8>,
        final_member: usize,
        passthrough: bool,
    },
    /// CalibratedClassifierCV: the mean of the folds' calibrated probabilities.
    Calibrated { folds: Vec<CalibratedFold> },
    /// TransformedTargetRegressor: member 0's prediction through the inverse transform.
    Target { inverse: TargetInverse },
    /// BaggingClassifier/Regressor over any estimator: each member (its feature subset is its
    /// first preprocessing step) adds its probabilities — or a vote for its predicted class —
    /// into the ensemble class each of its classes maps to (`class_slots`); sums are divided
    /// by `n_estimators`.
    Bagging {
        class_slots: Vec<Vec<usize>>,
        soft: bool,
        n_estimators: f64,
    },
    /// Several targets (MultiOutputClassifier/Regressor, multi-output trees, forests and
    /// neighbours): member `j` predicts output `j`. `shared_trees`: the members are one
    /// multi-output forest split per output (same trees), so `apply` is the first one's.
    MultiOutput { shared_trees: bool },
    /// AdaBoostClassifier/Regressor over any estimator: the tree ensemble's rules
    /// (`AdaBoostRule`) applied to the members' votes, probabilities or predictions.
    AdaBoost {
        rule: super::tree_models::AdaBoostRule,
        weights: Vec<f64>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Composite {
    /// Indices into the model's members (for Stack, the base estimators).
    pub members: Vec<usize>,
    pub combine: Combine,
    pub classes: Option<ClassLabels>,
    pub n_features: usize,
}

fn member(members: &[Member], i: usize) -> Result<&Member> {
    members.get(i).ok_or_else(|| {
        Error::invalid_model(format!(
            "composite refers to member {i}, which does not exist"
        ))
    })
}

/// numpy's `average` over members: `Σ w·v / Σ w` (or the mean), summed in member order.
fn average(parts: &[Vec<f64>], weights: &Option<Vec<f64>>) -> Vec<f64> {
    let len = parts.first().map_or(0, Vec::len);
    let mut out = vec![0.0; len];
    for (i, part) in parts.iter().enumerate() {
        let w = weights
            .as_ref()
            .and_then(|w| w.get(i))
            .copied()
            .unwrap_or(1.0);
        for (o, v) in out.iter_mut().zip(part) {
            *o += if weights.is_some() { v * w } else { *v };
        }
    }
    let total: f64 = match weights {
        Some(w) => w.iter().sum(),
        None => parts.len() as f64,
    };
    out.iter_mut().for_each(|v| *v /= total);
    out
}

impl Composite {
    pub fn n_classes(&self) -> usize {
        self.classes.as_ref().map_or(0, ClassLabels::len)
    }

    pub fn validate(&self, members: &[Member]) -> Result<()> {
        let mut all = self.members.clone();
        match &self.combine {
            Combine::Stack {
                final_member,
                methods,
                ..
            } => {
                all.push(*final_member);
                if methods.len() != self.members.len() {
                    return Err(Error::invalid_model(
                        "stacking: one stack method per estimator",
                    ));
                }
            }
            Combine::Calibrated { folds } => {
                all.extend(folds.iter().map(|f| f.member));
                for f in folds {
                    let k = self.n_classes();
                    if f.calibrators.len() != f.class_index.len()
                        || f.class_index.iter().any(|c| *c >= k)
                    {
                        return Err(Error::invalid_model(
                            "CalibratedClassifierCV: calibrators and classes disagree",
                        ));
                    }
                    for c in &f.calibrators {
                        if let Calibrator::Isotonic { x, y } = c {
                            if x.is_empty()
                                || x.len() != y.len()
                                || x.windows(2).any(|w| !matches!(w, [a, b] if a <= b))
                            {
                                return Err(Error::invalid_model("CalibratedClassifierCV: isotonic thresholds are not increasing"));
                            }
                        }
                    }
                }
            }
            Combine::VoteHard { weights }
            | Combine::VoteSoft { weights }
            | Combine::VoteRegress { weights } => {
                if weights
                    .as_ref()
                    .is_some_and(|w| w.len() != self.members.len())
                {
                    return Err(Error::invalid_model("voting: one weight per estimator"));
                }
            }
            Combine::Target { .. } | Combine::MultiOutput { .. } => {}
            Combine::AdaBoost { weights, .. } => {
                if weights.len() < self.members.len() || weights.iter().any(|w| !w.is_finite()) {
                    return Err(Error::invalid_model(
                        "AdaBoost: estimator_weights_ and estimators_ disagree",
                    ));
                }
            }
            Combine::Bagging {
                class_slots,
                n_estimators,
                ..
            } => {
                let k = self.n_classes();
                let bad_slot = class_slots.iter().flatten().any(|c| *c >= k.max(1));
                if (self.classes.is_some() && (class_slots.len() != self.members.len() || bad_slot))
                    || n_estimators.partial_cmp(&1.0) == Some(std::cmp::Ordering::Less)
                    || n_estimators.is_nan()
                {
                    return Err(Error::invalid_model(
                        "Bagging: member classes or n_estimators disagree",
                    ));
                }
            }
        }
        if all.is_empty() {
            return Err(Error::invalid_model(
                "composite estimator without estimators",
            ));
        }
        for &i in &all {
            let m = member(members, i)?;
            if matches!(m.estimator, Estimator::Composite(_)) {
                return Err(Error::unsupported_class(format!(
                    "member {:?} is itself a composite estimator; nest them one level only",
                    m.name
                )));
            }
        }
        // Members read the composite's input, except a stack's final estimator.
        let final_member = match &self.combine {
            Combine::Stack { final_member, .. } => Some(*final_member),
            _ => None,
        };
        for &i in all.iter().filter(|i| Some(**i) != final_member) {
            let m = member(members, i)?;
            if m.n_features() != self.n_features {
                return Err(Error::invalid_model(format!(
                    "member {:?} takes {} columns but the composite receives {}",
                    m.name,
                    m.n_features(),
                    self.n_features
                )));
            }
        }
        Ok(())
    }

    pub(crate) fn has_proba(&self, members: &[Member]) -> bool {
        match &self.combine {
            Combine::VoteSoft { .. } | Combine::Calibrated { .. } => true,
            Combine::AdaBoost { .. } => self.classes.is_some(),
            Combine::Bagging { .. } => self.classes.is_some(),
            Combine::Stack { final_member, .. } if self.classes.is_some() => {
                member(members, *final_member).is_ok_and(|m| m.estimator.has_proba(&[]))
            }
            Combine::MultiOutput { .. } => {
                !self.members.is_empty()
                    && self.members.iter().all(|&i| {
                        member(members, i).is_ok_and(|m| {
                            m.estimator.classes().is_some() && m.estimator.has_proba(&[])
                        })
                    })
            }
            _ => false,
        }
    }

    /// Each output's class labels, when every output is a classification.
    pub fn output_classes<'a>(&self, members: &'a [Member]) -> Option<Vec<&'a ClassLabels>> {
        if !matches!(self.combine, Combine::MultiOutput { .. }) {
            return None;
        }
        self.members
            .iter()
            .map(|&i| members.get(i).and_then(|m| m.estimator.classes()))
            .collect()
    }

    /// Member predictions side by side: `n_rows × n_members` (one value per member per row).
    fn side_by_side(&self, x: &Rows, members: &[Member]) -> Result<Vec<f64>> {
        let n = x.n_rows();
        let k = self.members.len();
        let mut out = vec![0.0; n * k];
        for (j, &i) in self.members.iter().enumerate() {
            let m = member(members, i)?;
            let values = m.predict(x)?;
            if values.len() != n {
                return Err(Error::invalid_model(format!(
                    "member {:?} predicts {} values for {n} rows; each output takes one",
                    m.name,
                    values.len()
                )));
            }
            for (r, v) in values.into_iter().enumerate() {
                if let Some(slot) = out.get_mut(r * k + j) {
                    *slot = v;
                }
            }
        }
        Ok(out)
    }

    pub(crate) fn has_decision(&self, members: &[Member]) -> bool {
        match &self.combine {
            Combine::Bagging { .. } if self.classes.is_some() => self
                .members
                .iter()
                .all(|&i| member(members, i).is_ok_and(|m| m.estimator.has_decision(&[]))),
            Combine::Stack { final_member, .. } if self.classes.is_some() => {
                member(members, *final_member).is_ok_and(|m| m.estimator.has_decision(&[]))
            }
            Combine::AdaBoost { .. } => self.classes.is_some(),
            _ => false,
        }
    }

    /// Every AdaBoost estimator's output per row, `n_rows × (n_members × width)`: a one-hot
    /// vote (SAMME), class probabilities (SAMME.R) or the prediction (regressors).
    fn boosted_outputs(
        &self,
        x: &Rows,
        members: &[Member],
        rule: super::tree_models::AdaBoostRule,
    ) -> Result<(Vec<f64>, usize)> {
        use super::tree_models::AdaBoostRule;
        let n = x.n_rows();
        let k = self.n_classes().max(1);
        let width = if rule == AdaBoostRule::WeightedMedian {
            1
        } else {
            k
        };
        let stride = self.members.len() * width;
        let mut out = vec![0.0; n * stride];
        for (j, &i) in self.members.iter().enumerate() {
            let m = member(members, i)?;
            let block: Vec<f64> = match rule {
                AdaBoostRule::SammeR => m.proba(x)?,
                AdaBoostRule::Samme { .. } => m
                    .predict(x)?
                    .iter()
                    .flat_map(|c| (0..k).map(move |col| f64::from(u8::from(col == *c as usize))))
                    .collect(),
                AdaBoostRule::WeightedMedian => m.predict(x)?,
            };
            if block.len() != n * width {
                return Err(Error::invalid_model(format!(
                    "AdaBoost member {:?} gives {} values for {n} rows × {width}",
                    m.name,
                    block.len()
                )));
            }
            for (r, values) in block.chunks_exact(width).enumerate() {
                if let Some(slot) =
                    out.get_mut(r * stride + j * width..r * stride + (j + 1) * width)
                {
                    slot.copy_from_slice(values);
                }
            }
        }
        Ok((out, stride))
    }

    fn boosted_decision(&self, x: &Rows, members: &[Member]) -> Result<Vec<f64>> {
        let Combine::AdaBoost { rule, weights } = &self.combine else {
            return Err(Error::invalid_model("not an AdaBoost ensemble"));
        };
        let (outputs, stride) = self.boosted_outputs(x, members, *rule)?;
        let mut out = Vec::with_capacity(x.n_rows() * self.n_classes());
        for row in outputs.chunks_exact(stride.max(1)) {
            super::tree_models::adaboost_decision_row(
                *rule,
                row,
                weights,
                self.n_classes(),
                &mut out,
            );
        }
        Ok(out)
    }

    /// The stacked features: each member's output (binary probabilities keep column 1 only),
    /// then the input when `passthrough`.
    fn stacked(
        &self,
        x: &Rows,
        members: &[Member],
        methods: &[u8],
        passthrough: bool,
    ) -> Result<(Vec<f64>, usize)> {
        let n = x.n_rows();
        let mut blocks: Vec<(Vec<f64>, usize)> = Vec::new();
        for (&i, &method) in self.members.iter().zip(methods) {
            let m = member(members, i)?;
            let block = match method {
                1 => {
                    let p = m.proba(x)?;
                    let k = p.len().checked_div(n).unwrap_or(0);
                    if self.n_classes() == 2 && k == 2 {
                        (
                            p.chunks_exact(2)
                                .map(|r| r.get(1).copied().unwrap_or(0.0))
                                .collect(),
                            1,
                        )
                    } else {
                        (p, k)
                    }
                }
                2 => m.decision(x)?,
                _ => (m.predict(x)?, 1),
            };
            blocks.push(block);
        }
        if passthrough {
            blocks.push((x.data().to_vec(), x.n_cols()));
        }
        let width: usize = blocks.iter().map(|b| b.1).sum();
        let mut out = Vec::with_capacity(n * width);
        for r in 0..n {
            for (data, w) in &blocks {
                out.extend(data.iter().skip(r * w).take(*w));
            }
        }
        Ok((out, width))
    }

    /// Run the stack's final estimator on the stacked features.
    fn on_stack<T>(
        &self,
        x: &Rows,
        members: &[Member],
        f: impl FnOnce(&Member, &Rows) -> Result<T>,
    ) -> Result<T> {
        let Combine::Stack {
            methods,
            final_member,
            passthrough,
        } = &self.combine
        else {
            return Err(Error::invalid_model("not a stacking ensemble"));
        };
        let (data, width) = self.stacked(x, members, methods, *passthrough)?;
        let rows = Rows::new(&data, width)?.numbered_from(x.first_row());
        f(member(members, *final_member)?, &rows)
    }

    fn calibrated(
        &self,
        x: &Rows,
        members: &[Member],
        folds: &[CalibratedFold],
    ) -> Result<Vec<f64>> {
        let n = x.n_rows();
        let k = self.n_classes();
        let mut sum = vec![0.0; n * k];
        for fold in folds {
            let m = member(members, fold.member)?;
            let (pred, width) = if fold.decision {
                m.decision(x)?
            } else {
                let p = m.proba(x)?;
                let w = p.len().checked_div(n).unwrap_or(0);
                if k == 2 {
                    (
                        p.chunks_exact(w.max(1))
                            .map(|r| r.get(1).copied().unwrap_or(0.0))
                            .collect(),
                        1,
                    )
                } else {
                    (p, w)
                }
            };
            let mut proba = vec![0.0; n * k];
            for (r, out) in proba.chunks_exact_mut(k.max(1)).enumerate() {
                for (col, (&class, cal)) in
                    fold.class_index.iter().zip(&fold.calibrators).enumerate()
                {
                    let t = pred.get(r * width + col).copied().unwrap_or(f64::NAN);
                    let slot = if k == 2 { class + 1 } else { class };
                    if let Some(o) = out.get_mut(slot.min(k - 1)) {
                        *o = cal.apply(t);
                    }
                }
                if k == 2 {
                    let p1 = out.get(1).copied().unwrap_or(0.0);
                    if let Some(o) = out.get_mut(0) {
                        *o = 1.0 - p1;
                    }
                } else {
                    let total: f64 = out.iter().sum();
                    if total != 0.0 {
                        out.iter_mut().for_each(|v| *v /= total);
                    } else {
                        out.iter_mut().for_each(|v| *v = 1.0 / k as f64);
                    }
                }
                for v in out.iter_mut() {
                    if *v > 1.0 && *v <= 1.0 + 1e-5 {
                        *v = 1.0;
                    }
                }
            }
            for (s, p) in sum.iter_mut().zip(&proba) {
                *s += p;
            }
        }
        let folds_n = folds.len() as f64;
        sum.iter_mut().for_each(|v| *v /= folds_n);
        Ok(sum)
    }

    pub(crate) fn predict_proba(&self, x: &Rows, members: &[Member]) -> Result<Vec<f64>> {
        match &self.combine {
            Combine::VoteSoft { weights } => {
                let parts = self
                    .members
                    .iter()
                    .map(|&i| member(members, i)?.proba(x))
                    .collect::<Result<Vec<_>>>()?;
                Ok(average(&parts, weights))
            }
            Combine::Calibrated { folds } => self.calibrated(x, members, folds),
            Combine::Bagging {
                class_slots,
                soft,
                n_estimators,
            } => {
                let (n, k) = (x.n_rows(), self.n_classes());
                let mut proba = vec![0.0; n * k];
                for (&i, slots) in self.members.iter().zip(class_slots) {
                    let m = member(members, i)?;
                    if *soft {
                        let p = m.proba(x)?;
                        for (r, row) in p.chunks_exact(slots.len().max(1)).enumerate() {
                            for (v, &slot) in row.iter().zip(slots) {
                                if let Some(o) = proba.get_mut(r * k + slot) {
                                    *o += v;
                                }
                            }
                        }
                    } else {
                        for (r, c) in m.predict(x)?.iter().enumerate() {
                            let slot = slots.get(*c as usize).copied().unwrap_or(usize::MAX);
                            if let Some(o) = proba.get_mut(r * k + slot) {
                                *o += 1.0;
                            }
                        }
                    }
                }
                proba.iter_mut().for_each(|v| *v /= n_estimators);
                Ok(proba)
            }
            Combine::Stack { .. } => self.on_stack(x, members, |m, rows| m.proba(rows)),
            Combine::AdaBoost { .. } => Ok(super::tree_models::adaboost_proba(
                &self.boosted_decision(x, members)?,
                self.n_classes(),
            )),
            // One probability matrix per output, one after the other.
            Combine::MultiOutput { .. } => {
                let mut out = Vec::new();
                for &i in &self.members {
                    out.extend(member(members, i)?.proba(x)?);
                }
                Ok(out)
            }
            _ => Err(Error::invalid_model("this composite has no predict_proba")),
        }
    }

    pub(crate) fn decision_function(
        &self,
        x: &Rows,
        members: &[Member],
    ) -> Result<(Vec<f64>, usize)> {
        match &self.combine {
            Combine::Bagging { n_estimators, .. } => {
                let mut sum: Vec<f64> = Vec::new();
                let mut width = 1;
                for &i in &self.members {
                    let (d, w) = member(members, i)?.decision(x)?;
                    width = w;
                    if sum.is_empty() {
                        sum = d;
                    } else {
                        sum.iter_mut().zip(&d).for_each(|(s, v)| *s += v);
                    }
                }
                sum.iter_mut().for_each(|v| *v /= n_estimators);
                Ok((sum, width))
            }
            Combine::Stack { .. } => self.on_stack(x, members, |m, rows| m.decision(rows)),
            Combine::AdaBoost { .. } => {
                let k = self.n_classes();
                Ok((
                    self.boosted_decision(x, members)?,
                    if k == 2 { 1 } else { k },
                ))
            }
            _ => Err(Error::invalid_model(
                "this composite has no decision_function",
            )),
        }
    }

    pub(crate) fn predict(&self, x: &Rows, members: &[Member]) -> Result<Predictions> {
        let n = x.n_rows();
        match &self.combine {
            Combine::AdaBoost { rule, weights } if self.classes.is_none() => {
                let (outputs, stride) = self.boosted_outputs(x, members, *rule)?;
                let mut order = Vec::new();
                let data = outputs
                    .chunks_exact(stride.max(1))
                    .map(|row| super::tree_models::weighted_median_row(row, weights, &mut order))
                    .collect();
                Ok(Predictions::Values { data, n_cols: 1 })
            }
            Combine::AdaBoost { .. } => Ok(Predictions::ClassIndices(
                super::tree_models::adaboost_labels(
                    &self.boosted_decision(x, members)?,
                    self.n_classes(),
                ),
            )),
            Combine::MultiOutput { .. } => {
                let data = self.side_by_side(x, members)?;
                let n_outputs = self.members.len();
                Ok(match self.output_classes(members) {
                    Some(_) => Predictions::MultiClassIndices {
                        indices: data.into_iter().map(|v| v as usize).collect(),
                        n_outputs,
                    },
                    None => Predictions::Values {
                        data,
                        n_cols: n_outputs,
                    },
                })
            }
            Combine::VoteHard { weights } => {
                let k = self.n_classes();
                let mut votes = vec![0.0; n * k];
                for (j, &i) in self.members.iter().enumerate() {
                    let w = weights
                        .as_ref()
                        .and_then(|w| w.get(j))
                        .copied()
                        .unwrap_or(1.0);
                    for (r, c) in member(members, i)?.predict(x)?.iter().enumerate() {
                        if let Some(v) = votes.get_mut(r * k + *c as usize) {
                            *v += w;
                        }
                    }
                }
                Ok(Predictions::ClassIndices(
                    votes.chunks_exact(k.max(1)).map(argmax).collect(),
                ))
            }
            Combine::Bagging { n_estimators, .. } if self.classes.is_none() => {
                let mut sum = vec![0.0; n];
                for &i in &self.members {
                    sum.iter_mut()
                        .zip(member(members, i)?.predict(x)?)
                        .for_each(|(s, v)| *s += v);
                }
                sum.iter_mut().for_each(|v| *v /= n_estimators);
                Ok(Predictions::Values {
                    data: sum,
                    n_cols: 1,
                })
            }
            Combine::VoteSoft { .. } | Combine::Calibrated { .. } | Combine::Bagging { .. } => {
                let p = self.predict_proba(x, members)?;
                Ok(Predictions::ClassIndices(
                    p.chunks_exact(self.n_classes().max(1))
                        .map(argmax)
                        .collect(),
                ))
            }
            Combine::VoteRegress { weights } => {
                let parts = self
                    .members
                    .iter()
                    .map(|&i| member(members, i)?.predict(x))
                    .collect::<Result<Vec<_>>>()?;
                Ok(Predictions::Values {
                    data: average(&parts, weights),
                    n_cols: 1,
                })
            }
            Combine::Stack { .. } => {
                let out = self.on_stack(x, members, |m, rows| m.predict(rows))?;
                Ok(match self.classes {
                    Some(_) => Predictions::ClassIndices(out.iter().map(|v| *v as usize).collect()),
                    None => Predictions::Values {
                        n_cols: 1,
                        data: out,
                    },
                })
            }
            Combine::Target { inverse } => {
                let m = member(members, self.members.first().copied().unwrap_or(usize::MAX))?;
                let mut out = m.predict(x)?;
                for v in &mut out {
                    *v = match inverse {
                        TargetInverse::Standard { mean, scale } => {
                            let mut y = *v;
                            if let Some(s) = scale {
                                y *= s;
                            }
                            if let Some(m) = mean {
                                y += m;
                            }
                            y
                        }
                        TargetInverse::MinMax { min, scale } => (*v - min) / scale,
                        TargetInverse::Function(Some(f)) => f.eval(*v),
                        TargetInverse::Function(None) => *v,
                    };
                }
                let n_cols = out.len().checked_div(n).unwrap_or(1).max(1);
                Ok(Predictions::Values { data: out, n_cols })
            }
        }
    }
}
