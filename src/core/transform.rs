//! Preprocessing that runs before an estimator: a scikit-learn `Pipeline`'s transformers, and a
//! `ColumnTransformer`/`FeatureUnion`'s branches.
//!
//! Steps keep scikit-learn's arithmetic: StandardScaler subtracts then divides (it does not
//! multiply by a reciprocal), MinMaxScaler multiplies then adds, then clips. Each step also
//! refuses what scikit-learn's input validation for that step refuses.
//!
//! A branch holds plain steps only, never another split, so a bundle cannot encode unbounded
//! nesting.

use serde::{Deserialize, Serialize};

use super::frame::{Cell, Column, Frame};
use super::numeric_transforms::{
    Discretizer, KnnImputer, PowerMap, PowerMethod, QuantileMap, SplineMap,
};
use crate::error::{Error, Result};

/// What a step reads for a column it was not given (validation keeps widths consistent, so
/// this is never read in practice); borrowed instead of cloning the input column.
static EMPTY_COLUMN: Column = Column::Num(Vec::new());

/// One preprocessing stage of a model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Stage {
    Step(Transform),
    /// `ColumnTransformer` / `FeatureUnion`: branches over column subsets, outputs side by side.
    Split(ColumnSplit),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnSplit {
    /// "ColumnTransformer" or "FeatureUnion".
    pub kind: String,
    pub n_features: usize,
    pub branches: Vec<Branch>,
}

/// One transformer of a split, over some input columns (a `'passthrough'` branch has no steps).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Branch {
    pub name: String,
    pub columns: Vec<usize>,
    pub steps: Vec<Transform>,
    /// `transformer_weights`: the branch output is multiplied by it.
    pub weight: Option<f64>,
}

impl Stage {
    pub fn n_features(&self) -> usize {
        match self {
            Stage::Step(t) => t.n_features(),
            Stage::Split(s) => s.n_features,
        }
    }

    pub fn n_outputs(&self) -> usize {
        match self {
            Stage::Step(t) => t.n_outputs(),
            Stage::Split(s) => s
                .branches
                .iter()
                .map(|b| b.steps.last().map_or(b.columns.len(), Transform::n_outputs))
                .sum(),
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Stage::Step(t) => t.name(),
            Stage::Split(s) => &s.kind,
        }
    }

    pub fn validate(&self) -> Result<()> {
        match self {
            Stage::Step(t) => t.validate(),
            Stage::Split(split) => {
                for b in &split.branches {
                    if let Some(c) = b.columns.iter().find(|&&c| c >= split.n_features) {
                        return Err(Error::invalid_model(format!(
                            "{} branch {:?} selects column {c} of {}",
                            split.kind, b.name, split.n_features
                        )));
                    }
                    chain_widths(&b.steps, b.columns.len(), &format!("branch {:?}", b.name))?;
                    if b.weight.is_some_and(|w| !w.is_finite()) {
                        return Err(Error::invalid_model(format!(
                            "{} branch {:?} has a non-finite weight",
                            split.kind, b.name
                        )));
                    }
                }
                Ok(())
            }
        }
    }

    pub(crate) fn apply(&self, frame: Frame) -> Result<Frame> {
        match self {
            Stage::Step(t) => t.apply(frame),
            Stage::Split(split) => {
                let mut cols = Vec::new();
                let mut names = Vec::new();
                for b in &split.branches {
                    let picked = b
                        .columns
                        .iter()
                        .map(|&c| {
                            frame
                                .cols
                                .get(c)
                                .cloned()
                                .unwrap_or(Column::Num(Vec::new()))
                        })
                        .collect();
                    let picked_names = b
                        .columns
                        .iter()
                        .map(|&c| frame.names.get(c).cloned().unwrap_or_default())
                        .collect();
                    let mut part = frame.with_cols(picked, picked_names);
                    for step in &b.steps {
                        part = step.apply(part).map_err(|e| {
                            e.context(format!("{} transformer {:?}", split.kind, b.name))
                        })?;
                    }
                    if let Some(w) = b.weight {
                        part.numeric(&split.kind)?;
                        part.numbers_mut().flatten().for_each(|v| *v *= w);
                    }
                    cols.extend(part.cols);
                    names.extend(part.names);
                }
                Ok(frame.with_cols(cols, names))
            }
        }
    }
}

/// Check a list of stages ending in an estimator of `n_out` columns.
pub(crate) fn chain_widths_stages(stages: &[Stage], n_out: usize) -> Result<()> {
    for (i, stage) in stages.iter().enumerate() {
        stage.validate()?;
        let next = stages.get(i + 1).map_or(n_out, Stage::n_features);
        if stage.n_outputs() != next {
            return Err(Error::invalid_model(format!(
                "step {i} ({}) outputs {} columns but the next step takes {next}",
                stage.name(),
                stage.n_outputs()
            )));
        }
    }
    Ok(())
}

/// Check that each step's output width is the next one's input width.
pub(crate) fn chain_widths(steps: &[Transform], n_in: usize, what: &str) -> Result<usize> {
    let mut width = n_in;
    for (i, step) in steps.iter().enumerate() {
        step.validate()?;
        if step.n_features() != width {
            return Err(Error::invalid_model(format!(
                "{what}: step {i} ({}) takes {} columns but receives {width}",
                step.name(),
                step.n_features()
            )));
        }
        width = step.n_outputs();
    }
    Ok(width)
}

/// `Normalizer`'s norm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Norm {
    L1,
    L2,
    Max,
}

/// Element-wise numpy functions a `FunctionTransformer` may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Ufunc {
    Log1p,
    Expm1,
    Log,
    Log2,
    Log10,
    Exp,
    Sqrt,
    Square,
    Abs,
    Negative,
    Reciprocal,
    Sign,
    Floor,
    Ceil,
    Rint,
}

impl Ufunc {
    pub const ALL: [(&'static str, Ufunc); 16] = [
        ("log1p", Ufunc::Log1p),
        ("expm1", Ufunc::Expm1),
        ("log", Ufunc::Log),
        ("log2", Ufunc::Log2),
        ("log10", Ufunc::Log10),
        ("exp", Ufunc::Exp),
        ("sqrt", Ufunc::Sqrt),
        ("square", Ufunc::Square),
        ("absolute", Ufunc::Abs),
        ("fabs", Ufunc::Abs),
        ("negative", Ufunc::Negative),
        ("reciprocal", Ufunc::Reciprocal),
        ("sign", Ufunc::Sign),
        ("floor", Ufunc::Floor),
        ("ceil", Ufunc::Ceil),
        ("rint", Ufunc::Rint),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, u)| *u == self)
            .map_or("?", |(n, _)| n)
    }

    pub(crate) fn eval(self, x: f64) -> f64 {
        match self {
            Ufunc::Log1p => x.ln_1p(),
            Ufunc::Expm1 => x.exp_m1(),
            Ufunc::Log => x.ln(),
            Ufunc::Log2 => x.log2(),
            Ufunc::Log10 => x.log10(),
            Ufunc::Exp => x.exp(),
            Ufunc::Sqrt => x.sqrt(),
            Ufunc::Square => x * x,
            Ufunc::Abs => x.abs(),
            Ufunc::Negative => -x,
            Ufunc::Reciprocal => 1.0 / x,
            // numpy: sign(0) = 0, sign(NaN) = NaN.
            Ufunc::Sign if x == 0.0 || x.is_nan() => x,
            Ufunc::Sign => x.signum(),
            Ufunc::Floor => x.floor(),
            Ufunc::Ceil => x.ceil(),
            // numpy rounds half to even.
            Ufunc::Rint => x.round_ties_even(),
        }
    }
}

/// The fitted categories of one encoded column, in `categories_` order.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Categories {
    /// Numeric (or boolean, as 0/1) categories; NaN is the missing category.
    Num(Vec<f64>),
    /// String categories; `None` is the missing category (NaN or None in the pickle).
    Text(Vec<Option<String>>),
}

impl Categories {
    pub fn len(&self) -> usize {
        match self {
            Categories::Num(v) => v.len(),
            Categories::Text(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The index of `cell`'s category, if it has one.
    pub fn find(&self, cell: &Cell) -> Option<usize> {
        match self {
            Categories::Num(cats) => {
                let x = cell.as_number()?;
                cats.iter()
                    .position(|c| *c == x || (c.is_nan() && x.is_nan()))
            }
            Categories::Text(cats) => {
                if cell.is_missing() {
                    return cats.iter().position(Option::is_none);
                }
                let Cell::Str(s) = cell else { return None };
                cats.iter().position(|c| c.as_deref() == Some(s.as_str()))
            }
        }
    }

    /// The category's text for output column names.
    fn label(&self, i: usize) -> String {
        match self {
            Categories::Num(v) => v.get(i).map_or_else(String::new, |x| format!("{x}")),
            Categories::Text(v) => v.get(i).map_or_else(String::new, |x| {
                x.clone().unwrap_or_else(|| "nan".to_owned())
            }),
        }
    }
}

/// One column of a `OneHotEncoder`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OneHotColumn {
    pub categories: Categories,
    /// Output column (within this feature's block) of each category; `None` for a dropped one.
    pub output_of: Vec<Option<u32>>,
    pub n_outputs: usize,
    /// Where unknown values go under `handle_unknown='infrequent_if_exist'` (the infrequent
    /// column), `None` for all zeros.
    pub unknown_output: Option<u32>,
}

/// Bitwise equality, so NaN categories and codes compare equal to themselves (a bundle must
/// reproduce the model exactly).
fn same_bits(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

impl PartialEq for Categories {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Categories::Num(a), Categories::Num(b)) => same_bits(a, b),
            (Categories::Text(a), Categories::Text(b)) => a == b,
            _ => false,
        }
    }
}

impl PartialEq for OrdinalColumn {
    fn eq(&self, other: &Self) -> bool {
        self.categories == other.categories
            && same_bits(&self.code_of, &other.code_of)
            && self.unknown_code.map(f64::to_bits) == other.unknown_code.map(f64::to_bits)
    }
}

/// One column of an `OrdinalEncoder`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OrdinalColumn {
    pub categories: Categories,
    /// The code of each category (its index, its infrequent group's, or the missing code).
    pub code_of: Vec<f64>,
    /// The code for unknown values (`use_encoded_value`, or the infrequent group); `None`
    /// means an unknown value is an error.
    pub unknown_code: Option<f64>,
}

/// How a value is recognised as missing by an imputer / indicator (`missing_values`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum MissingMarker {
    /// NaN (and None, and JS null/undefined).
    Nan,
    Value(Cell),
}

impl MissingMarker {
    fn matches(&self, cell: &Cell) -> bool {
        match self {
            MissingMarker::Nan => cell.is_missing(),
            MissingMarker::Value(Cell::Num(v)) => cell.as_number() == Some(*v),
            MissingMarker::Value(v) => cell == v,
        }
    }
}

/// Every preprocessing step the core can run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Transform {
    /// `StandardScaler`: `(x - mean) / scale`; either part may be off (`with_mean=False`, …).
    Standardize {
        mean: Option<Vec<f64>>,
        scale: Option<Vec<f64>>,
        n_features: usize,
    },
    /// `MinMaxScaler`: `x * scale + min`, then clipped to `clip` when set.
    MinMax {
        scale: Vec<f64>,
        min: Vec<f64>,
        clip: Option<(f64, f64)>,
    },
    /// `MaxAbsScaler`: `x / scale`.
    MaxAbs { scale: Vec<f64> },
    /// `RobustScaler`: `(x - center) / scale`.
    Robust {
        center: Option<Vec<f64>>,
        scale: Option<Vec<f64>>,
        n_features: usize,
    },
    /// `Normalizer`: each row divided by its norm (rows of norm 0 unchanged).
    Normalize { norm: Norm, n_features: usize },
    /// `Binarizer`: `x > threshold` as 1/0.
    Binarize { threshold: f64, n_features: usize },
    /// `FunctionTransformer` with no function (identity) or an allow-listed numpy ufunc.
    Function {
        func: Option<Ufunc>,
        n_features: usize,
        /// `validate=True`: NaN and infinity are refused first.
        validate: bool,
    },
    /// `SimpleImputer`: missing cells replaced by `fill[column]`; columns without a
    /// statistic are dropped; `indicator` columns (input indices) append a missing flag.
    Impute {
        missing: MissingMarker,
        fill: Vec<Cell>,
        keep: Vec<usize>,
        indicator: Vec<usize>,
        n_features: usize,
    },
    /// `MissingIndicator`: 1/0 flags for `features`; `error_on_new` refuses missing values in
    /// other columns.
    MissingIndicator {
        missing: MissingMarker,
        features: Vec<usize>,
        error_on_new: bool,
        n_features: usize,
    },
    /// `OneHotEncoder`; `error_on_unknown` is `handle_unknown='error'`.
    OneHot {
        columns: Vec<OneHotColumn>,
        error_on_unknown: bool,
    },
    /// `OrdinalEncoder`.
    Ordinal { columns: Vec<OrdinalColumn> },
    /// A fitted feature selector (VarianceThreshold, SelectKBest, RFE, …): the kept columns.
    Select {
        class: String,
        keep: Vec<usize>,
        n_features: usize,
        /// Whether the selector's validation lets NaN through.
        nan_ok: bool,
    },
    /// PCA, IncrementalPCA, TruncatedSVD, FastICA: `(x − mean) · componentsᵀ`, or from
    /// scikit-learn 1.5 `x · componentsᵀ − mean · componentsᵀ` (`center_after`), then divided
    /// by `scale` (whitening).
    Project {
        class: String,
        mean: Option<Vec<f64>>,
        /// `n_components × n_features`, row-major.
        components: Vec<f64>,
        n_components: usize,
        n_features: usize,
        scale: Option<Vec<f64>>,
        center_after: bool,
    },
    /// `PolynomialFeatures`: one output per combination of input columns (empty = bias).
    Polynomial {
        combinations: Vec<Vec<u32>>,
        n_features: usize,
    },
    /// `KBinsDiscretizer`.
    Discretize(Discretizer),
    /// `QuantileTransformer`.
    Quantile(QuantileMap),
    /// `PowerTransformer` (its standardisation follows as a StandardScaler step).
    Power(PowerMap),
    /// `KNNImputer`.
    KnnImpute(KnnImputer),
    /// `TargetEncoder`: each category's fitted encoding (one per class for multiclass
    /// targets), the target mean for categories it did not see.
    TargetEncode { columns: Vec<TargetColumn> },
    /// `SplineTransformer`.
    Spline(SplineMap),
}

/// One column of a fitted `TargetEncoder`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetColumn {
    pub categories: Categories,
    /// `n_categories × width`, row-major.
    pub encodings: Vec<f64>,
    /// `target_mean_` (per class for multiclass): the output for unseen categories.
    pub unknown: Vec<f64>,
}

impl TargetColumn {
    fn width(&self) -> usize {
        self.unknown.len()
    }
}

impl Transform {
    /// Columns in.
    pub fn n_features(&self) -> usize {
        match self {
            Transform::Standardize { n_features, .. }
            | Transform::Robust { n_features, .. }
            | Transform::Normalize { n_features, .. }
            | Transform::Binarize { n_features, .. }
            | Transform::Function { n_features, .. }
            | Transform::Impute { n_features, .. }
            | Transform::MissingIndicator { n_features, .. }
            | Transform::Select { n_features, .. }
            | Transform::Polynomial { n_features, .. }
            | Transform::Project { n_features, .. } => *n_features,
            Transform::MinMax { scale, .. } | Transform::MaxAbs { scale } => scale.len(),
            Transform::OneHot { columns, .. } => columns.len(),
            Transform::Ordinal { columns } => columns.len(),
            Transform::Discretize(d) => d.inner_edges.len(),
            Transform::Quantile(q) => q.quantiles.len(),
            Transform::Power(p) => p.lambdas.len(),
            Transform::KnnImpute(k) => k.n_features,
            Transform::TargetEncode { columns } => columns.len(),
            Transform::Spline(s) => s.splines.len(),
        }
    }

    /// Columns out.
    pub fn n_outputs(&self) -> usize {
        match self {
            Transform::Impute {
                keep, indicator, ..
            } => keep.len() + indicator.len(),
            Transform::MissingIndicator { features, .. } => features.len(),
            Transform::OneHot { columns, .. } => columns.iter().map(|c| c.n_outputs).sum(),
            Transform::Select { keep, .. } => keep.len(),
            Transform::Polynomial { combinations, .. } => combinations.len(),
            Transform::Project { n_components, .. } => *n_components,
            Transform::Discretize(d) => d.n_outputs(),
            Transform::KnnImpute(k) => k.n_outputs(),
            Transform::TargetEncode { columns } => columns.iter().map(TargetColumn::width).sum(),
            Transform::Spline(s) => s.n_outputs(),
            _ => self.n_features(),
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Transform::Standardize { .. } => "StandardScaler",
            Transform::MinMax { .. } => "MinMaxScaler",
            Transform::MaxAbs { .. } => "MaxAbsScaler",
            Transform::Robust { .. } => "RobustScaler",
            Transform::Normalize { .. } => "Normalizer",
            Transform::Binarize { .. } => "Binarizer",
            Transform::Function { .. } => "FunctionTransformer",
            Transform::Impute { .. } => "SimpleImputer",
            Transform::MissingIndicator { .. } => "MissingIndicator",
            Transform::OneHot { .. } => "OneHotEncoder",
            Transform::Ordinal { .. } => "OrdinalEncoder",
            Transform::Select { class, .. } => class,
            Transform::Polynomial { .. } => "PolynomialFeatures",
            Transform::Project { class, .. } => class,
            Transform::Discretize(_) => "KBinsDiscretizer",
            Transform::Quantile(_) => "QuantileTransformer",
            Transform::Power(_) => "PowerTransformer",
            Transform::KnnImpute(_) => "KNNImputer",
            Transform::TargetEncode { .. } => "TargetEncoder",
            Transform::Spline(_) => "SplineTransformer",
        }
    }

    pub fn validate(&self) -> Result<()> {
        let n = self.n_features();
        let name = self.name();
        let sized = |v: &[f64], what: &str| -> Result<()> {
            if v.len() != n {
                return Err(Error::invalid_model(format!(
                    "{name}: {what} has {} values for {n} features",
                    v.len()
                )));
            }
            if let Some(i) = v.iter().position(|x| !x.is_finite()) {
                return Err(Error::invalid_model(format!(
                    "{name}: {what}[{i}] is not finite"
                )));
            }
            Ok(())
        };
        let in_range = |v: &[usize], what: &str| -> Result<()> {
            match v.iter().find(|&&i| i >= n) {
                Some(i) => Err(Error::invalid_model(format!(
                    "{name}: {what} names column {i} of {n}"
                ))),
                None => Ok(()),
            }
        };
        match self {
            Transform::Standardize { mean, scale, .. }
            | Transform::Robust {
                center: mean,
                scale,
                ..
            } => {
                if let Some(m) = mean {
                    sized(m, "mean_/center_")?;
                }
                if let Some(s) = scale {
                    sized(s, "scale_")?;
                }
            }
            Transform::MinMax { scale, min, clip } => {
                sized(scale, "scale_")?;
                sized(min, "min_")?;
                if let Some((lo, hi)) = clip {
                    if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
                        return Err(Error::invalid_model(
                            "MinMaxScaler: feature_range is not an ordered pair of numbers",
                        ));
                    }
                }
            }
            Transform::MaxAbs { scale } => sized(scale, "scale_")?,
            Transform::Binarize { threshold, .. } if threshold.is_nan() => {
                return Err(Error::invalid_model("Binarizer: threshold is NaN"))
            }
            Transform::Impute {
                fill,
                keep,
                indicator,
                ..
            } => {
                if fill.len() != n {
                    return Err(Error::invalid_model(format!(
                        "SimpleImputer: statistics_ has {} values for {n} features",
                        fill.len()
                    )));
                }
                in_range(keep, "a kept column")?;
                in_range(indicator, "indicator_.features_")?;
            }
            Transform::MissingIndicator { features, .. } => in_range(features, "features_")?,
            Transform::Select { keep, .. } => in_range(keep, "the support mask")?,
            Transform::Polynomial { combinations, .. } => {
                let flat: Vec<usize> = combinations.iter().flatten().map(|&i| i as usize).collect();
                in_range(&flat, "a combination")?;
            }
            Transform::OneHot { columns, .. } => {
                for (i, c) in columns.iter().enumerate() {
                    let bad = c.output_of.len() != c.categories.len()
                        || c.output_of
                            .iter()
                            .chain(std::iter::once(&c.unknown_output))
                            .flatten()
                            .any(|&o| o as usize >= c.n_outputs);
                    if bad {
                        return Err(Error::invalid_model(format!(
                            "OneHotEncoder: column {i}'s categories and output columns disagree"
                        )));
                    }
                }
            }
            Transform::Ordinal { columns } => {
                if let Some(i) = columns
                    .iter()
                    .position(|c| c.code_of.len() != c.categories.len())
                {
                    return Err(Error::invalid_model(format!(
                        "OrdinalEncoder: column {i}'s categories and codes disagree"
                    )));
                }
            }
            Transform::Project {
                mean,
                components,
                n_components,
                scale,
                ..
            } => {
                let all_finite = |v: &[f64]| v.iter().all(|x| x.is_finite());
                let bad = components.len() != n_components.saturating_mul(n)
                    || mean
                        .as_ref()
                        .is_some_and(|m| m.len() != n || !all_finite(m))
                    || scale
                        .as_ref()
                        .is_some_and(|s| s.len() != *n_components || !all_finite(s))
                    || !all_finite(components);
                if bad {
                    return Err(Error::invalid_model(format!(
                        "{name}: components_, mean_ and explained_variance_ disagree in shape \
                         or are not finite"
                    )));
                }
            }
            Transform::Discretize(d) => d.validate()?,
            Transform::Quantile(q) => q.validate()?,
            Transform::Power(p) => {
                if p.lambdas.iter().any(|l| !l.is_finite()) {
                    return Err(Error::invalid_model(
                        "PowerTransformer: lambdas_ are not finite",
                    ));
                }
            }
            Transform::KnnImpute(k) => k.validate()?,
            Transform::Spline(s) => s.validate()?,
            Transform::TargetEncode { columns } => {
                for (i, c) in columns.iter().enumerate() {
                    let w = c.width();
                    if w == 0
                        || c.encodings.len() != c.categories.len().saturating_mul(w)
                        || c.encodings.iter().chain(&c.unknown).any(|v| !v.is_finite())
                    {
                        return Err(Error::invalid_model(format!(
                            "TargetEncoder: column {i}'s categories_ and encodings_ disagree \
                             or are not finite"
                        )));
                    }
                }
            }
            Transform::Normalize { .. }
            | Transform::Binarize { .. }
            | Transform::Function { .. } => {}
        }
        Ok(())
    }

    /// Transform a frame of `n_features()` columns into one of `n_outputs()` columns.
    pub(crate) fn apply(&self, mut frame: Frame) -> Result<Frame> {
        let name = self.name();
        match self {
            Transform::Impute { .. } | Transform::MissingIndicator { .. } => {
                return self.impute(frame)
            }
            Transform::OneHot { .. }
            | Transform::Ordinal { .. }
            | Transform::TargetEncode { .. } => return self.encode(frame),
            _ => {}
        }
        frame.numeric(name)?;
        match self {
            Transform::Discretize(_) | Transform::Quantile(_) | Transform::Power(_) => {
                return numeric_step(self, frame)
            }
            Transform::Spline(s) => return spline(s, frame),
            Transform::KnnImpute(k) => return knn_impute(k, frame),
            _ => {}
        }
        // Which values each step's validation lets through, as scikit-learn checks them.
        match self {
            Transform::Function {
                validate: false, ..
            } => {}
            Transform::Normalize { .. }
            | Transform::Binarize { .. }
            | Transform::Polynomial { .. }
            | Transform::Project { .. }
            | Transform::Function { .. } => frame.expect_finite(name, false)?,
            Transform::Select { nan_ok, .. } => frame.expect_finite(name, *nan_ok)?,
            _ => frame.expect_finite(name, true)?,
        }
        let each = |frame: &mut Frame, f: &dyn Fn(usize, &mut f64)| {
            for (c, col) in frame.numbers_mut().enumerate() {
                col.iter_mut().for_each(|x| f(c, x));
            }
        };
        let at = |v: &Option<Vec<f64>>, c: usize| v.as_ref().and_then(|v| v.get(c).copied());
        match self {
            Transform::Standardize { mean, scale, .. }
            | Transform::Robust {
                center: mean,
                scale,
                ..
            } => each(&mut frame, &|c, x| {
                if let Some(m) = at(mean, c) {
                    *x -= m;
                }
                if let Some(s) = at(scale, c) {
                    *x /= s;
                }
            }),
            Transform::MinMax { scale, min, clip } => each(&mut frame, &|c, x| {
                *x = *x * scale.get(c).copied().unwrap_or(1.0) + min.get(c).copied().unwrap_or(0.0);
                if let Some((lo, hi)) = clip {
                    // numpy.clip: NaN stays NaN.
                    if *x < *lo {
                        *x = *lo;
                    } else if *x > *hi {
                        *x = *hi;
                    }
                }
            }),
            Transform::MaxAbs { scale } => each(&mut frame, &|c, x| {
                *x /= scale.get(c).copied().unwrap_or(1.0);
            }),
            Transform::Binarize { threshold, .. } => each(&mut frame, &|_, x| {
                *x = f64::from(u8::from(*x > *threshold));
            }),
            Transform::Function { func: Some(f), .. } => {
                each(&mut frame, &|_, x| *x = f.eval(*x));
            }
            Transform::Normalize { norm, .. } => {
                let mut norms = vec![0.0f64; frame.n_rows];
                for col in frame.numbers() {
                    for (n, x) in norms.iter_mut().zip(col) {
                        *n = match norm {
                            Norm::L1 => *n + x.abs(),
                            Norm::L2 => *n + x * x,
                            Norm::Max => n.max(x.abs()),
                        };
                    }
                }
                for n in &mut norms {
                    if *norm == Norm::L2 {
                        *n = n.sqrt();
                    }
                    if *n == 0.0 {
                        *n = 1.0;
                    }
                }
                for col in frame.numbers_mut() {
                    col.iter_mut().zip(&norms).for_each(|(x, n)| *x /= n);
                }
            }
            Transform::Select { keep, .. } => {
                let cols = keep
                    .iter()
                    .filter_map(|&c| frame.cols.get(c).cloned())
                    .collect();
                let names = keep
                    .iter()
                    .filter_map(|&c| frame.names.get(c).cloned())
                    .collect();
                return Ok(frame.with_cols(cols, names));
            }
            Transform::Project {
                mean,
                components,
                n_components,
                scale,
                center_after,
                ..
            } => {
                let inputs: Vec<&[f64]> = frame.numbers().collect();
                let n = inputs.len();
                let projected_mean: Vec<f64> = match (mean, center_after) {
                    (Some(m), true) => components
                        .chunks_exact(n.max(1))
                        .map(|c| c.iter().zip(m).map(|(a, b)| a * b).sum())
                        .collect(),
                    _ => vec![0.0; *n_components],
                };
                let mut cols = Vec::with_capacity(*n_components);
                let mut row = vec![0.0; n];
                let mut outs = vec![vec![0.0; frame.n_rows]; *n_components];
                for r in 0..frame.n_rows {
                    for (slot, (c, input)) in row.iter_mut().zip(inputs.iter().enumerate()) {
                        let x = input.get(r).copied().unwrap_or(0.0);
                        *slot = match (mean, center_after) {
                            (Some(m), false) => x - m.get(c).copied().unwrap_or(0.0),
                            _ => x,
                        };
                    }
                    for (k, comp) in components.chunks_exact(n.max(1)).enumerate() {
                        let mut y: f64 = row.iter().zip(comp).map(|(a, b)| a * b).sum();
                        y -= projected_mean.get(k).copied().unwrap_or(0.0);
                        if let Some(s) = scale.as_ref().and_then(|s| s.get(k)) {
                            y /= s;
                        }
                        if let Some(v) = outs.get_mut(k).and_then(|o| o.get_mut(r)) {
                            *v = y;
                        }
                    }
                }
                let names = (0..*n_components)
                    .map(|k| format!("{}{k}", name.to_lowercase()))
                    .collect();
                cols.extend(outs.into_iter().map(Column::Num));
                return Ok(frame.with_cols(cols, names));
            }
            Transform::Polynomial { combinations, .. } => {
                let inputs: Vec<&[f64]> = frame.numbers().collect();
                let mut cols = Vec::with_capacity(combinations.len());
                let mut names = Vec::with_capacity(combinations.len());
                for combo in combinations {
                    // scikit-learn builds degree d from degree d-1 columns times the combination's
                    // first feature, so the product runs from the last factor to the first.
                    let mut out = vec![1.0; frame.n_rows];
                    for (k, &f) in combo.iter().rev().enumerate() {
                        let x = inputs.get(f as usize).copied().unwrap_or(&[]);
                        for (o, v) in out.iter_mut().zip(x) {
                            *o = if k == 0 { *v } else { *o * v };
                        }
                    }
                    cols.push(Column::Num(out));
                    let parts: Vec<&str> = combo
                        .iter()
                        .filter_map(|&f| frame.names.get(f as usize).map(String::as_str))
                        .collect();
                    names.push(if parts.is_empty() {
                        "1".to_owned()
                    } else {
                        parts.join(" ")
                    });
                }
                return Ok(frame.with_cols(cols, names));
            }
            _ => {}
        }
        Ok(frame)
    }

    /// SimpleImputer and MissingIndicator.
    fn impute(&self, frame: Frame) -> Result<Frame> {
        let (missing, flagged, error_on_new) = match self {
            Transform::Impute {
                missing, indicator, ..
            } => (missing, indicator, false),
            Transform::MissingIndicator {
                missing,
                features,
                error_on_new,
                ..
            } => (missing, features, *error_on_new),
            _ => return Ok(frame),
        };
        // Numeric columns refuse infinity (scikit-learn validates with allow-nan).
        for (c, col) in frame.cols.iter().enumerate() {
            if let Column::Num(v) = col {
                if let Some(r) = v.iter().position(|x| x.is_infinite()) {
                    return Err(frame.cell_error(
                        r,
                        c,
                        format!("infinity is not accepted by {}", self.name()),
                    ));
                }
            }
        }
        let is_missing = |col: &Column, r: usize| missing.matches(&col.cell(r));
        if error_on_new {
            for (c, col) in frame.cols.iter().enumerate() {
                if flagged.contains(&c) {
                    continue;
                }
                if let Some(r) = (0..frame.n_rows).find(|&r| is_missing(col, r)) {
                    return Err(frame.cell_error(
                        r,
                        c,
                        "MissingIndicator saw no missing values in this column when fitted \
                         (error_on_new=True), so it refuses them now",
                    ));
                }
            }
        }
        let mut cols = Vec::new();
        let mut names = Vec::new();
        if let Transform::Impute { fill, keep, .. } = self {
            for &c in keep {
                let (Some(col), Some(value)) = (frame.cols.get(c), fill.get(c)) else {
                    continue;
                };
                let filled = match (col, value.as_number()) {
                    (Column::Num(v), Some(f)) => Column::Num(
                        v.iter()
                            .map(|x| {
                                if missing.matches(&Cell::Num(*x)) {
                                    f
                                } else {
                                    *x
                                }
                            })
                            .collect(),
                    ),
                    _ => Column::Obj(
                        (0..frame.n_rows)
                            .map(|r| {
                                if is_missing(col, r) {
                                    value.clone()
                                } else {
                                    col.cell(r)
                                }
                            })
                            .collect(),
                    ),
                };
                cols.push(filled);
                names.push(frame.names.get(c).cloned().unwrap_or_default());
            }
        }
        for &c in flagged {
            let col = frame.cols.get(c).unwrap_or(&EMPTY_COLUMN);
            cols.push(Column::Num(
                (0..frame.n_rows)
                    .map(|r| f64::from(u8::from(is_missing(col, r))))
                    .collect(),
            ));
            let name = frame.names.get(c).cloned().unwrap_or_default();
            names.push(format!("missingindicator_{name}"));
        }
        Ok(frame.with_cols(cols, names))
    }

    /// OneHotEncoder and OrdinalEncoder.
    fn encode(&self, frame: Frame) -> Result<Frame> {
        let mut cols = Vec::new();
        let mut names = Vec::new();
        let unknown = |frame: &Frame, r: usize, c: usize, cell: &Cell| {
            frame.cell_error(
                r,
                c,
                format!(
                    "{} is a category {} did not see when fitted (handle_unknown='error')",
                    cell.describe(),
                    self.name()
                ),
            )
        };
        match self {
            Transform::OneHot {
                columns,
                error_on_unknown,
            } => {
                for (c, enc) in columns.iter().enumerate() {
                    let input = frame.cols.get(c).unwrap_or(&EMPTY_COLUMN);
                    let mut block = vec![vec![0.0; frame.n_rows]; enc.n_outputs];
                    for r in 0..frame.n_rows {
                        let cell = input.cell(r);
                        let out = match enc.categories.find(&cell) {
                            Some(k) => enc.output_of.get(k).copied().flatten(),
                            None if *error_on_unknown => return Err(unknown(&frame, r, c, &cell)),
                            None => enc.unknown_output,
                        };
                        if let Some(slot) = out.and_then(|o| block.get_mut(o as usize)) {
                            if let Some(v) = slot.get_mut(r) {
                                *v = 1.0;
                            }
                        }
                    }
                    let base = frame.names.get(c).cloned().unwrap_or_default();
                    let mut labels = vec![String::new(); enc.n_outputs];
                    for (k, o) in enc.output_of.iter().enumerate() {
                        if let Some(slot) = o.and_then(|o| labels.get_mut(o as usize)) {
                            if slot.is_empty() {
                                *slot = enc.categories.label(k);
                            } else {
                                *slot = "infrequent_sklearn".to_owned();
                            }
                        }
                    }
                    names.extend(labels.into_iter().map(|l| format!("{base}_{l}")));
                    cols.extend(block.into_iter().map(Column::Num));
                }
            }
            Transform::TargetEncode { columns } => {
                for (c, enc) in columns.iter().enumerate() {
                    let input = frame.cols.get(c).unwrap_or(&EMPTY_COLUMN);
                    let width = enc.width();
                    let mut block = vec![Vec::with_capacity(frame.n_rows); width];
                    for r in 0..frame.n_rows {
                        let values = match enc.categories.find(&input.cell(r)) {
                            Some(k) => enc.encodings.get(k * width..(k + 1) * width),
                            None => Some(enc.unknown.as_slice()),
                        }
                        .unwrap_or(&[]);
                        for (out, v) in block.iter_mut().zip(values) {
                            out.push(*v);
                        }
                    }
                    let base = frame.names.get(c).cloned().unwrap_or_default();
                    for k in 0..width {
                        names.push(if width == 1 {
                            base.clone()
                        } else {
                            format!("{base}_{k}")
                        });
                    }
                    cols.extend(block.into_iter().map(Column::Num));
                }
            }
            Transform::Ordinal { columns } => {
                for (c, enc) in columns.iter().enumerate() {
                    let input = frame.cols.get(c).unwrap_or(&EMPTY_COLUMN);
                    let mut out = Vec::with_capacity(frame.n_rows);
                    for r in 0..frame.n_rows {
                        let cell = input.cell(r);
                        out.push(match enc.categories.find(&cell) {
                            Some(k) => enc.code_of.get(k).copied().unwrap_or(f64::NAN),
                            None => match enc.unknown_code {
                                Some(code) => code,
                                None => return Err(unknown(&frame, r, c, &cell)),
                            },
                        });
                    }
                    cols.push(Column::Num(out));
                    names.push(frame.names.get(c).cloned().unwrap_or_default());
                }
            }
            _ => return Ok(frame),
        }
        Ok(frame.with_cols(cols, names))
    }
}

/// KBinsDiscretizer, QuantileTransformer and PowerTransformer: per-value maps with their
/// own validation.
fn numeric_step(t: &Transform, frame: Frame) -> Result<Frame> {
    let name = t.name();
    match t {
        // check_array with the default force_all_finite: no NaN.
        Transform::Discretize(_) => frame.expect_finite(name, false)?,
        _ => frame.expect_finite(name, true)?,
    }
    if let Transform::Power(p) = t {
        if p.method == PowerMethod::BoxCox {
            for (c, col) in frame.numbers().enumerate() {
                if let Some(r) = col.iter().position(|v| *v <= 0.0) {
                    return Err(frame.cell_error(
                        r,
                        c,
                        "the Box-Cox transformation can only be applied to strictly positive data",
                    ));
                }
            }
        }
    }
    let mut cols = Vec::new();
    let mut names = Vec::new();
    for (c, col) in frame.numbers().enumerate() {
        let base = frame.names.get(c).cloned().unwrap_or_default();
        match t {
            Transform::Discretize(d) if d.one_hot => {
                let n_bins = d.inner_edges.get(c).map_or(1, |e| e.len() + 1);
                let mut block = vec![vec![0.0; frame.n_rows]; n_bins];
                for (r, x) in col.iter().enumerate() {
                    if let Some(v) = block.get_mut(d.bin(c, *x)).and_then(|b| b.get_mut(r)) {
                        *v = 1.0;
                    }
                }
                cols.extend(block.into_iter().map(Column::Num));
                names.extend((0..n_bins).map(|b| format!("{base}_{b}.0")));
            }
            Transform::Discretize(d) => {
                cols.push(Column::Num(
                    col.iter().map(|x| d.bin(c, *x) as f64).collect(),
                ));
                names.push(base);
            }
            Transform::Quantile(q) => {
                cols.push(Column::Num(col.iter().map(|x| q.apply(c, *x)).collect()));
                names.push(base);
            }
            Transform::Power(p) => {
                cols.push(Column::Num(col.iter().map(|x| p.apply(c, *x)).collect()));
                names.push(base);
            }
            _ => {}
        }
    }
    Ok(frame.with_cols(cols, names))
}

/// KNNImputer: impute row by row, then drop (or zero) the columns empty at fit and append the
/// missing flags.
fn knn_impute(k: &KnnImputer, frame: Frame) -> Result<Frame> {
    let name = "KNNImputer";
    frame.expect_finite(name, k.marker.is_none())?;
    let n = k.n_features;
    let inputs: Vec<&[f64]> = frame.numbers().collect();
    let mut rows = vec![0.0; frame.n_rows * n];
    for (c, col) in inputs.iter().enumerate() {
        for (r, v) in col.iter().enumerate() {
            if let Some(slot) = rows.get_mut(r * n + c) {
                *slot = *v;
            }
        }
    }
    let flags: Vec<Vec<f64>> = k
        .indicator
        .iter()
        .map(|&c| {
            inputs.get(c).map_or_else(Vec::new, |col| {
                col.iter()
                    .map(|v| f64::from(u8::from(k.is_missing(*v))))
                    .collect()
            })
        })
        .collect();
    for row in rows.chunks_exact_mut(n.max(1)) {
        k.impute_row(row);
    }
    let mut cols = Vec::new();
    let mut names = Vec::new();
    for c in 0..n {
        let valid = k.valid.get(c).copied().unwrap_or(false);
        if !valid && !k.keep_empty {
            continue;
        }
        cols.push(Column::Num(
            (0..frame.n_rows)
                .map(|r| {
                    if valid {
                        rows.get(r * n + c).copied().unwrap_or(f64::NAN)
                    } else {
                        0.0
                    }
                })
                .collect(),
        ));
        names.push(frame.names.get(c).cloned().unwrap_or_default());
    }
    for (&c, flag) in k.indicator.iter().zip(flags) {
        cols.push(Column::Num(flag));
        let base = frame.names.get(c).cloned().unwrap_or_default();
        names.push(format!("missingindicator_{base}"));
    }
    Ok(frame.with_cols(cols, names))
}

/// SplineTransformer: each column's basis values side by side (the last one per column dropped
/// without `include_bias`).
fn spline(s: &SplineMap, frame: Frame) -> Result<Frame> {
    if !s.nan_to_zero {
        frame.expect_finite("SplineTransformer", false)?;
    }
    let m = s.n_splines;
    let mut cols = Vec::with_capacity(s.n_outputs());
    let mut names = Vec::with_capacity(s.n_outputs());
    for (f, col) in frame.numbers().enumerate() {
        let basis = s
            .column(f, col)
            .map_err(|(r, message)| frame.cell_error(r, f, message))?;
        let base = frame.names.get(f).cloned().unwrap_or_default();
        let kept = if s.include_bias {
            m
        } else {
            m.saturating_sub(1)
        };
        for j in 0..kept {
            cols.push(Column::Num(
                (0..frame.n_rows)
                    .map(|r| basis.get(r * m + j).copied().unwrap_or(0.0))
                    .collect(),
            ));
            names.push(format!("{base}_sp_{j}"));
        }
    }
    Ok(frame.with_cols(cols, names))
}
