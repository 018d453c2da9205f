//! A loaded model: descriptive metadata plus one estimator, and the three prediction calls.

use serde::{Deserialize, Serialize};

use super::bayes::{proba_from_jll, NaiveBayes};
use super::composite::{Combine, Composite, Member};
use super::frame::{Cell, Frame, Table};
use super::input::{InputRule, Rows};
use super::labels::LabelCoder;
use super::linear::{probabilities, LinearScores, ProbabilityRule};
use super::neighbors::Neighbors;
use super::simple::{Centroids, Dummy};
use super::svm::{Svm, SvmTask};
use super::transform::Stage;
use super::tree_models::{
    argmax, AdaBoost, AveragedTrees, BoostedTrees, HistBoosted, IsolationForest,
};
use crate::error::{Error, ErrorCode, Result};
use std::borrow::Cow;

/// Descriptive facts about a model that its numbers do not imply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// A name for people; defaults to the estimator class name.
    pub name: String,
    /// The user's version string for this model; defaults to "1".
    pub version: String,
    /// Library that trained the model, e.g. "scikit-learn".
    pub source_library: String,
    /// Its version as recorded in the file (`_sklearn_version`), or "unknown".
    pub source_library_version: String,
    /// Fully qualified class, e.g. "sklearn.linear_model._logistic.LogisticRegression".
    pub estimator_class: String,
    /// What the model was first read from, e.g. "pickle protocol 4".
    pub source_format: String,
    /// Input column names; `x0, x1, …` when the model was fitted without names.
    pub feature_names: Vec<String>,
    /// Whether `feature_names` came from the file (`feature_names_in_`).
    pub feature_names_from_source: bool,
    /// When the model was first imported, in milliseconds since the Unix epoch.
    pub created_unix_ms: u64,
}

/// Class labels in the type the training library used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ClassLabels {
    Int(Vec<i64>),
    Float(Vec<f64>),
    Str(Vec<String>),
    Bool(Vec<bool>),
}

impl ClassLabels {
    pub fn len(&self) -> usize {
        match self {
            ClassLabels::Int(v) => v.len(),
            ClassLabels::Float(v) => v.len(),
            ClassLabels::Str(v) => v.len(),
            ClassLabels::Bool(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Whether a model regresses, classifies or detects outliers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputKind {
    Regression,
    Classification,
    /// `predict` gives +1 (inlier) / −1 (outlier); `scoreSamples` and `decisionFunction` the
    /// scores.
    OutlierDetection,
    /// `predict` gives the cluster index; `transform` the distances to the centres.
    Clustering,
    /// A fitted transformer or a pipeline ending in one: only `transform`.
    Transform,
}

impl OutputKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OutputKind::Regression => "regression",
            OutputKind::Classification => "classification",
            OutputKind::OutlierDetection => "outlier_detection",
            OutputKind::Clustering => "clustering",
            OutputKind::Transform => "transform",
        }
    }
}

/// scikit-learn `LinearRegression` and every regressor of the same form (`X @ coef_.T +
/// intercept_`: Ridge, Lasso, ElasticNet, Lars, SGDRegressor, LinearSVR, …), and the
/// generalised linear models, which put a link's inverse on top.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinearRegressor {
    pub scores: LinearScores,
    /// `coef_` was 1-D: `predict` returns one value per row rather than a 1-column matrix.
    pub single_output: bool,
    /// `Exp` for the log link of PoissonRegressor, GammaRegressor and TweedieRegressor.
    pub inverse_link: InverseLink,
}

/// The inverse link a linear regressor applies to `X @ coef_ + intercept_`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum InverseLink {
    Identity,
    Exp,
}

/// scikit-learn `LogisticRegression` (and any linear classifier with a probability link).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinearClassifier {
    /// One score for binary problems, one per class otherwise.
    pub scores: LinearScores,
    pub classes: ClassLabels,
    pub probability: ProbabilityRule,
}

impl LinearClassifier {
    pub fn new(
        scores: LinearScores,
        classes: ClassLabels,
        probability: ProbabilityRule,
    ) -> Result<Self> {
        let model = LinearClassifier {
            scores,
            classes,
            probability,
        };
        model.validate()?;
        Ok(model)
    }

    fn validate(&self) -> Result<()> {
        self.scores.validate()?;
        let n_classes = self.classes.len();
        let expected_scores = if n_classes == 2 { 1 } else { n_classes };
        if n_classes < 2 || self.scores.n_scores() != expected_scores {
            return Err(Error::invalid_model(format!(
                "classifier has {n_classes} classes but {} score rows in coef_ (expected {expected_scores})",
                self.scores.n_scores()
            )));
        }
        Ok(())
    }
}

/// Every estimator the core can evaluate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Estimator {
    LinearRegressor(LinearRegressor),
    LinearClassifier(LinearClassifier),
    /// Decision trees, random forests, extra trees.
    AveragedTrees(AveragedTrees),
    /// Gradient boosting.
    BoostedTrees(BoostedTrees),
    /// Histogram gradient boosting (f64 splits, learned missing-value directions).
    HistBoosted(HistBoosted),
    IsolationForest(IsolationForest),
    AdaBoost(AdaBoost),
    NaiveBayes(NaiveBayes),
    /// Kernel support vector machines (libsvm).
    Svm(Svm),
    /// Nearest-neighbour classifiers and regressors.
    Neighbors(Neighbors),
    /// Voting, stacking, calibration and target-transform wrappers over the model's members.
    Composite(Composite),
    /// DummyClassifier / DummyRegressor.
    Dummy(Dummy),
    /// KMeans, MiniBatchKMeans, NearestCentroid.
    Centroids(Centroids),
    /// No estimator: the model is its preprocessing (a transformer saved on its own, or a
    /// Pipeline ending in a transformer); `transform` returns the preprocessed columns.
    Transformer {
        n_features: usize,
    },
    /// LabelEncoder / LabelBinarizer saved on their own: `transform` labels, and back.
    Labels(LabelCoder),
}

impl Estimator {
    /// Columns the estimator takes.
    pub fn n_features(&self) -> usize {
        match self {
            Estimator::LinearRegressor(m) => m.scores.n_features(),
            Estimator::LinearClassifier(m) => m.scores.n_features(),
            Estimator::AveragedTrees(m) => m.trees.n_features(),
            Estimator::BoostedTrees(m) => m.trees.n_features(),
            Estimator::HistBoosted(m) => m.n_features,
            Estimator::IsolationForest(m) => m.trees.n_features(),
            Estimator::AdaBoost(m) => m.trees.n_features(),
            Estimator::NaiveBayes(m) => m.n_features,
            Estimator::Svm(m) => m.n_features,
            Estimator::Neighbors(m) => m.n_features,
            Estimator::Composite(c) => c.n_features,
            Estimator::Dummy(m) => m.n_features,
            Estimator::Centroids(m) => m.n_features,
            Estimator::Transformer { n_features } => *n_features,
            Estimator::Labels(_) => 1,
        }
    }

    /// The values this estimator takes, as its library's input validation decides.
    pub fn input_rule(&self) -> InputRule {
        match self {
            Estimator::LinearRegressor(_) | Estimator::LinearClassifier(_) => InputRule::Finite,
            Estimator::AveragedTrees(m) => m.input,
            Estimator::BoostedTrees(_) => InputRule::FiniteF32,
            Estimator::HistBoosted(m) if m.xgboost_f32 => InputRule::FiniteF32OrNan,
            Estimator::HistBoosted(_) => InputRule::Anything,
            Estimator::IsolationForest(m) => m.input,
            Estimator::AdaBoost(_) => InputRule::FiniteF32,
            Estimator::NaiveBayes(_) | Estimator::Svm(_) | Estimator::Neighbors(_) => {
                InputRule::Finite
            }
            Estimator::Centroids(_) => InputRule::Finite,
            // Each member checks its own input; the dummies never look at it; a transformer's
            // steps checked theirs.
            Estimator::Composite(_)
            | Estimator::Dummy(_)
            | Estimator::Transformer { .. }
            | Estimator::Labels(_) => InputRule::Anything,
        }
    }
}

/// Result of `predict`.
#[derive(Clone, Debug, PartialEq)]
pub enum Predictions {
    /// Regression values, `n_rows × n_cols` row-major.
    Values { data: Vec<f64>, n_cols: usize },
    /// Index into the model's class labels, one per row.
    ClassIndices(Vec<usize>),
    /// Several classification outputs: per row, one index into each output's labels
    /// (`Model::output_classes`), `n_rows × n_outputs` row-major.
    MultiClassIndices {
        indices: Vec<usize>,
        n_outputs: usize,
    },
}

/// What the prediction calls take: numeric rows, or mixed cells (strings for encoders).
#[derive(Clone, Copy, Debug)]
pub enum Input<'a> {
    Rows(Rows<'a>),
    Table(&'a Table),
}

impl Input<'_> {
    /// Index of the first row in the caller's whole batch.
    pub fn first_row(&self) -> usize {
        match self {
            Input::Rows(r) => r.first_row(),
            Input::Table(t) => t.first_row(),
        }
    }
}

impl<'a> From<&Rows<'a>> for Input<'a> {
    fn from(rows: &Rows<'a>) -> Self {
        Input::Rows(*rows)
    }
}

impl<'a> From<&'a Table> for Input<'a> {
    fn from(table: &'a Table) -> Self {
        Input::Table(table)
    }
}

/// A model ready to predict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub metadata: Metadata,
    /// Preprocessing applied to the input first (a Pipeline's transformers), in order.
    pub preprocess: Vec<Stage>,
    pub estimator: Estimator,
    /// The parts of a composite estimator (voting, stacking, calibration), by index.
    pub members: Vec<Member>,
}

impl Model {
    /// Check every invariant the evaluator relies on. Importers and the bundle decoder call it.
    pub fn new(metadata: Metadata, estimator: Estimator) -> Result<Self> {
        Self::with_preprocess(metadata, Vec::new(), estimator)
    }

    /// A model whose rows go through `preprocess` before the estimator.
    pub fn with_preprocess(
        metadata: Metadata,
        preprocess: Vec<Stage>,
        estimator: Estimator,
    ) -> Result<Self> {
        Self::with_members(metadata, preprocess, estimator, Vec::new())
    }

    /// A model whose estimator combines `members` (voting, stacking, calibration).
    pub fn with_members(
        metadata: Metadata,
        preprocess: Vec<Stage>,
        estimator: Estimator,
        members: Vec<Member>,
    ) -> Result<Self> {
        let model = Model {
            metadata,
            preprocess,
            estimator,
            members,
        };
        model.validate()?;
        Ok(model)
    }

    /// Rebuild derived evaluation tables and validate: what a decoded bundle needs.
    pub(crate) fn prepare(&mut self) -> Result<()> {
        self.estimator.prepare()?;
        for m in &mut self.members {
            m.estimator.prepare()?;
        }
        self.validate()
    }

    pub(crate) fn validate(&self) -> Result<()> {
        self.estimator.validate(&self.members)?;
        for m in &self.members {
            if matches!(m.estimator, Estimator::Composite(_)) {
                return Err(Error::unsupported_class(format!(
                    "member {:?} is itself a composite estimator; nest them one level only",
                    m.name
                )));
            }
            m.estimator.validate(&[])?;
            super::transform::chain_widths_stages(&m.preprocess, m.estimator.n_features())
                .map_err(|e| e.context(format!("member {:?}", m.name)))?;
        }
        for (i, step) in self.preprocess.iter().enumerate() {
            step.validate()?;
            let next = self
                .preprocess
                .get(i + 1)
                .map_or(self.estimator_n_features(), Stage::n_features);
            let open_end = i + 1 == self.preprocess.len()
                && matches!(&self.estimator, Estimator::Dummy(d) if d.any_width);
            if step.n_outputs() != next && !open_end {
                return Err(Error::invalid_model(format!(
                    "pipeline step {i} ({}) outputs {} columns but the next step takes {next}",
                    step.name(),
                    step.n_outputs()
                )));
            }
        }
        if self.metadata.feature_names.len() != self.n_features() {
            return Err(Error::invalid_model(format!(
                "{} feature names for {} features",
                self.metadata.feature_names.len(),
                self.n_features()
            )));
        }
        Ok(())
    }

    /// Input columns the caller provides.
    pub fn n_features(&self) -> usize {
        self.preprocess
            .first()
            .map_or(self.estimator_n_features(), Stage::n_features)
    }

    /// Columns the final estimator sees (after preprocessing).
    fn estimator_n_features(&self) -> usize {
        self.estimator.n_features()
    }

    pub fn output_kind(&self) -> OutputKind {
        match (self.classes(), &self.estimator) {
            (_, Estimator::IsolationForest(_)) => OutputKind::OutlierDetection,
            (None, Estimator::Centroids(_)) => OutputKind::Clustering,
            (_, Estimator::Transformer { .. } | Estimator::Labels(_)) => OutputKind::Transform,
            (None, Estimator::Composite(c)) if c.output_classes(&self.members).is_some() => {
                OutputKind::Classification
            }
            (_, Estimator::Svm(m)) if matches!(m.task, SvmTask::OneClass { .. }) => {
                OutputKind::OutlierDetection
            }
            (None, _) => OutputKind::Regression,
            (Some(_), _) => OutputKind::Classification,
        }
    }

    /// Regression outputs per row (1 for classifiers: the label).
    pub fn n_outputs(&self) -> usize {
        match &self.estimator {
            Estimator::LinearRegressor(m) => m.scores.n_scores(),
            Estimator::AveragedTrees(m) if m.classes.is_none() => m.trees.n_outputs(),
            Estimator::Neighbors(m) => m.n_outputs(),
            Estimator::HistBoosted(m) if m.classes.is_none() => m.baseline.len().max(1),
            Estimator::Dummy(m) if m.classes.is_none() => m.width(),
            Estimator::Transformer { n_features } => *n_features,
            Estimator::Labels(l) => l.width(),
            Estimator::Composite(c) if matches!(c.combine, Combine::MultiOutput { .. }) => {
                c.members.len()
            }
            _ => 1,
        }
    }

    pub fn classes(&self) -> Option<&ClassLabels> {
        self.estimator.classes()
    }

    /// Whether `predict_proba` exists.
    pub fn has_proba(&self) -> bool {
        self.estimator.has_proba(&self.members)
    }

    /// Multi-output classifiers: each output's class labels (`predict` then gives
    /// [`Predictions::MultiClassIndices`] and `predict_proba` one matrix per output, one
    /// after the other).
    pub fn output_classes(&self) -> Option<Vec<&ClassLabels>> {
        match &self.estimator {
            Estimator::Composite(c) => c.output_classes(&self.members),
            _ => None,
        }
    }
}

impl Estimator {
    /// Class labels of classifiers.
    pub fn classes(&self) -> Option<&ClassLabels> {
        match self {
            Estimator::LinearRegressor(_) => None,
            Estimator::LinearClassifier(m) => Some(&m.classes),
            Estimator::AveragedTrees(m) => m.classes.as_ref(),
            Estimator::BoostedTrees(m) => m.classes.as_ref(),
            Estimator::HistBoosted(m) => m.classes.as_ref(),
            Estimator::IsolationForest(_) => None,
            Estimator::AdaBoost(m) => m.classes.as_ref(),
            Estimator::NaiveBayes(m) => Some(&m.classes),
            Estimator::Svm(m) => m.classes(),
            Estimator::Neighbors(m) => m.classes(),
            Estimator::Composite(c) => c.classes.as_ref(),
            Estimator::Dummy(m) => m.classes.as_ref(),
            Estimator::Centroids(m) => m.classes.as_ref(),
            Estimator::Transformer { .. } => None,
            Estimator::Labels(l) => Some(&l.classes),
        }
    }

    /// Rebuild derived evaluation tables (after a bundle is decoded).
    pub(crate) fn prepare(&mut self) -> Result<()> {
        match self {
            Estimator::AveragedTrees(m) => m.trees.prepare(),
            Estimator::BoostedTrees(m) => m.trees.prepare(),
            Estimator::IsolationForest(m) => m.trees.prepare(),
            Estimator::AdaBoost(m) => m.trees.prepare(),
            Estimator::HistBoosted(m) => m.build_eval(),
            _ => Ok(()),
        }
    }

    /// Check the estimator's invariants (`members`: the model's, for composites).
    pub(crate) fn validate(&self, members: &[Member]) -> Result<()> {
        match self {
            Estimator::LinearRegressor(m) => {
                m.scores.validate()?;
                if m.single_output && m.scores.n_scores() != 1 {
                    return Err(Error::invalid_model(
                        "single-output regressor with several outputs",
                    ));
                }
                Ok(())
            }
            Estimator::LinearClassifier(m) => m.validate(),
            Estimator::AveragedTrees(m) => m.validate(),
            Estimator::BoostedTrees(m) => m.validate(),
            Estimator::HistBoosted(m) => m.validate(),
            Estimator::IsolationForest(m) => m.validate(),
            Estimator::AdaBoost(m) => m.validate(),
            Estimator::NaiveBayes(m) => m.validate(),
            Estimator::Svm(m) => m.validate(),
            Estimator::Neighbors(m) => m.validate(),
            Estimator::Composite(c) => c.validate(members),
            Estimator::Dummy(m) => m.validate(),
            Estimator::Centroids(m) => m.validate(),
            Estimator::Transformer { .. } => Ok(()),
            Estimator::Labels(l) => l.validate(),
        }
    }
}

impl Model {
    /// Short class name for messages, e.g. "LogisticRegression".
    pub fn short_class_name(&self) -> &str {
        let class = &self.metadata.estimator_class;
        class.rsplit('.').next().unwrap_or(class)
    }

    /// The checks `predict` applies, for one row of a larger batch (`predictRows`).
    pub fn check_row(&self, row_index: usize, row: &[f64]) -> Result<()> {
        self.checked(Input::Rows(
            Rows::new(row, row.len())?.numbered_from(row_index),
        ))
        .map(|_| ())
    }

    /// [`Self::check_row`] for a row of mixed cells.
    pub fn check_cells(&self, row_index: usize, row: &[Cell]) -> Result<()> {
        let table = Table::new(row.to_vec(), row.len())?.numbered_from(row_index);
        self.checked(Input::Table(&table)).map(|_| ())
    }

    /// Whether the model's first stage can take strings (an encoder or imputer reads some
    /// input column directly), so callers know to pass mixed cells.
    pub fn takes_mixed_input(&self) -> bool {
        !self.preprocess.is_empty()
    }

    /// Check the column count, run the preprocessing, then reject NaN/infinity where the final
    /// estimator cannot take them. Returns the rows the estimator sees.
    fn checked<'a>(&self, x: Input<'a>) -> Result<(Cow<'a, [f64]>, usize)> {
        let (n_cols, first_row) = match x {
            Input::Rows(r) => (r.n_cols(), r.first_row()),
            Input::Table(t) => (t.n_cols(), t.first_row()),
        };
        if self.any_width() {
            // A dummy that never recorded its input width reads no values at all.
            let rows = match x {
                Input::Rows(r) => r.n_rows(),
                Input::Table(t) => t.n_rows(),
            };
            return Ok((Cow::Owned(vec![0.0; rows]), 1));
        }
        if n_cols != self.n_features() {
            return Err(Error::shape(format!(
                "input has {n_cols} columns but the model was fitted on {} features",
                self.n_features()
            )));
        }
        let names = &self.metadata.feature_names;
        let (data, out_names): (Cow<'a, [f64]>, Cow<'_, [String]>) = match x {
            Input::Rows(r) if self.preprocess.is_empty() => {
                (Cow::Borrowed(r.data()), Cow::Borrowed(names))
            }
            _ => {
                let mut frame = match x {
                    Input::Rows(r) => Frame::from_rows(&r, names),
                    Input::Table(t) => Frame::from_table(t, names),
                };
                for (i, stage) in self.preprocess.iter().enumerate() {
                    frame = stage
                        .apply(frame)
                        .map_err(|e| e.context(format!("pipeline step {i} ({})", stage.name())))?;
                }
                let out_names = frame.names.clone();
                (
                    Cow::Owned(frame.into_row_major(self.short_class_name())?),
                    Cow::Owned(out_names),
                )
            }
        };
        // A pipeline ending in a dummy of unknown width: whatever its steps output.
        let width = match &self.estimator {
            Estimator::Dummy(d) if d.any_width => out_names.len(),
            _ => self.estimator_n_features(),
        };
        let rows = Rows::new(&data, width)?.numbered_from(first_row);
        rows.expect(self.estimator.input_rule(), &out_names, &|| {
            self.short_class_name()
        })?;
        Ok((data, width))
    }

    /// A model that takes any number of columns: a DummyClassifier/Regressor fitted before
    /// scikit-learn 1.5, which records no input width (it never reads the values).
    pub fn any_width(&self) -> bool {
        matches!(&self.estimator, Estimator::Dummy(d) if d.any_width) && self.preprocess.is_empty()
    }

    /// `predict`: regression values, or the index of the predicted class per row.
    pub fn predict<'a>(&self, x: impl Into<Input<'a>>) -> Result<Predictions> {
        self.predict_input(x.into())
    }

    fn predict_input(&self, x: Input) -> Result<Predictions> {
        if matches!(
            self.estimator,
            Estimator::Transformer { .. } | Estimator::Labels(_)
        ) {
            return Err(self.unsupported("predict"));
        }
        let first_row = x.first_row();
        let (data, width) = self.checked(x)?;
        let x = &Rows::new(&data, width)?.numbered_from(first_row);
        self.estimator.predict_rows(x, &self.members)
    }

    /// `score_samples` of outlier detectors (IsolationForest): one score per row.
    pub fn score_samples<'a>(&self, x: impl Into<Input<'a>>) -> Result<Vec<f64>> {
        self.score_samples_input(x.into())
    }

    fn score_samples_input(&self, x: Input) -> Result<Vec<f64>> {
        match &self.estimator {
            Estimator::IsolationForest(m) => {
                let (data, width) = self.checked(x)?;
                Ok(m.score_samples(&Rows::new(&data, width)?))
            }
            Estimator::Svm(m) if matches!(m.task, SvmTask::OneClass { .. }) => {
                Ok(m.score_samples(&self.checked(x)?.0))
            }
            _ => Err(self.unsupported("scoreSamples")),
        }
    }

    /// `predict_proba`: `n_rows × n_classes`, classes in the order of the labels.
    pub fn predict_proba<'a>(&self, x: impl Into<Input<'a>>) -> Result<Vec<f64>> {
        self.predict_proba_input(x.into())
    }

    fn predict_proba_input(&self, x: Input) -> Result<Vec<f64>> {
        if !self.estimator.has_proba(&self.members) {
            return Err(self.unsupported("predictProba"));
        }
        let first_row = x.first_row();
        let (data, width) = self.checked(x)?;
        let x = &Rows::new(&data, width)?.numbered_from(first_row);
        self.estimator.proba_rows(x, &self.members)
    }

    /// `decision_function`: the raw class scores, `n_rows × n_scores` (1 column for binary).
    pub fn decision_function<'a>(&self, x: impl Into<Input<'a>>) -> Result<(Vec<f64>, usize)> {
        self.decision_function_input(x.into())
    }

    fn decision_function_input(&self, x: Input) -> Result<(Vec<f64>, usize)> {
        let has_scores = self.estimator.has_decision(&self.members);
        if !has_scores {
            return Err(self.unsupported("decisionFunction"));
        }
        let first_row = x.first_row();
        let (data, width) = self.checked(x)?;
        let x = &Rows::new(&data, width)?.numbered_from(first_row);
        self.estimator.decision_rows(x, &self.members)
    }

    /// `transform`: a transformer's (or a pipeline ending in one) output columns, or KMeans'
    /// distances to its centres. Returns the column count.
    pub fn transform<'a>(&self, x: impl Into<Input<'a>>) -> Result<(Vec<f64>, usize)> {
        self.transform_input(x.into())
    }

    fn transform_input(&self, x: Input) -> Result<(Vec<f64>, usize)> {
        match &self.estimator {
            Estimator::Transformer { n_features } => {
                Ok((self.checked(x)?.0.into_owned(), *n_features))
            }
            Estimator::Centroids(m) if m.classes.is_none() => {
                Ok((m.distances(&self.checked(x)?.0), m.n_centers))
            }
            Estimator::Labels(l) => {
                let cells: Vec<Cell> = match x {
                    Input::Rows(r) if r.n_cols() == 1 => {
                        r.data().iter().map(|v| Cell::Num(*v)).collect()
                    }
                    Input::Table(t) if t.n_cols() == 1 => t.cells().to_vec(),
                    _ => return Err(Error::shape("a label encoder takes one column of labels")),
                };
                Ok((l.transform(&cells, x.first_row())?, l.width()))
            }
            _ => Err(self.unsupported("transform")),
        }
    }

    /// `inverse_transform` of LabelEncoder/LabelBinarizer: the class index of each row of
    /// codes (`n_cols` per row).
    pub fn inverse_transform(&self, values: &[f64], n_cols: usize) -> Result<Vec<usize>> {
        match &self.estimator {
            Estimator::Labels(l) => l.inverse(values, n_cols, 0),
            _ => Err(self.unsupported("inverseTransform")),
        }
    }

    /// scikit-learn's `apply`: the leaf index each tree sends each row to, `n_rows × n_trees`
    /// (gradient boosting: trees in stage order, `K` per stage). Returns the column count.
    pub fn apply<'a>(&self, x: impl Into<Input<'a>>) -> Result<(Vec<f64>, usize)> {
        self.apply_input(x.into())
    }

    fn apply_input(&self, x: Input) -> Result<(Vec<f64>, usize)> {
        // A multi-output forest's members share their trees: the first one's leaves.
        let first_member = match &self.estimator {
            Estimator::Composite(c)
                if matches!(c.combine, Combine::MultiOutput { shared_trees: true }) =>
            {
                c.members
                    .first()
                    .and_then(|&i| self.members.get(i))
                    .map(|m| &m.estimator)
            }
            _ => None,
        };
        let trees = match first_member.unwrap_or(&self.estimator) {
            Estimator::AveragedTrees(m) if m.has_apply => &m.trees,
            Estimator::BoostedTrees(m) => &m.trees,
            _ => return Err(self.unsupported("apply")),
        };
        let (data, width) = self.checked(x)?;
        let rows = Rows::new(&data, width)?;
        Ok((
            trees.leaf_indices(&super::tree_models::rows_f32(&rows)),
            trees.n_trees(),
        ))
    }

    fn unsupported(&self, method: &str) -> Error {
        let what = match &self.estimator {
            Estimator::LinearClassifier(m) if m.probability == ProbabilityRule::Unavailable => {
                "classifier without probabilities (scikit-learn has no predict_proba for it)"
                    .to_owned()
            }
            Estimator::Svm(m) if m.classes().is_some() && !m.has_probability() => {
                "support vector classifier fitted with probability=False".to_owned()
            }
            _ => format!("{} model", self.output_kind().as_str()),
        };
        let instead = match self.output_kind() {
            OutputKind::Transform => "transform",
            _ => "predict",
        };
        Error::new(
            ErrorCode::UnsupportedOperation,
            format!(
                "{} is a {what} and has no {method}; use {instead}",
                self.short_class_name(),
            ),
        )
    }
}

/// Evaluation of one estimator on rows it accepts (already preprocessed and validated).
/// `members` are the model's member estimators, for composites.
impl Estimator {
    pub(crate) fn predict_rows(&self, x: &Rows, members: &[Member]) -> Result<Predictions> {
        match self {
            Estimator::LinearRegressor(m) => {
                let mut data = all_scores(&m.scores, x);
                if m.inverse_link == InverseLink::Exp {
                    data.iter_mut().for_each(|v| *v = v.exp());
                }
                Ok(Predictions::Values {
                    data,
                    n_cols: m.scores.n_scores(),
                })
            }
            Estimator::LinearClassifier(m) => {
                let width = m.scores.n_scores();
                let scores = all_scores(&m.scores, x);
                let indices = scores
                    .chunks_exact(width.max(1))
                    .map(|row| match row {
                        // Binary: classes_[score > 0], so a score of exactly 0 is class 0.
                        [s] => usize::from(*s > 0.0),
                        _ => argmax(row),
                    })
                    .collect();
                Ok(Predictions::ClassIndices(indices))
            }
            Estimator::AveragedTrees(m) => {
                let out = m.outputs(x);
                Ok(match &m.classes {
                    Some(c) => Predictions::ClassIndices(
                        out.chunks_exact(c.len().max(1)).map(argmax).collect(),
                    ),
                    None => Predictions::Values {
                        data: out,
                        n_cols: m.trees.n_outputs(),
                    },
                })
            }
            Estimator::AdaBoost(m) if m.classes.is_some() => {
                Ok(Predictions::ClassIndices(m.labels(&m.decision_function(x))))
            }
            Estimator::AdaBoost(m) => Ok(Predictions::Values {
                data: m.weighted_median(x),
                n_cols: 1,
            }),
            Estimator::BoostedTrees(m) => {
                let raw = m.raw(x);
                Ok(match &m.classes {
                    Some(_) => Predictions::ClassIndices(m.labels(&raw)),
                    None => Predictions::Values {
                        data: raw,
                        n_cols: 1,
                    },
                })
            }
            Estimator::HistBoosted(m) => {
                let raw = m.raw(x);
                Ok(match &m.classes {
                    Some(_) => Predictions::ClassIndices(m.labels(&raw)),
                    None => Predictions::Values {
                        data: m.values(raw),
                        n_cols: m.baseline.len().max(1),
                    },
                })
            }
            Estimator::IsolationForest(m) => Ok(Predictions::Values {
                data: m.predict(x),
                n_cols: 1,
            }),
            Estimator::Neighbors(m) => {
                let out = m.predict(x.data(), x.first_row())?;
                Ok(match m.classes() {
                    Some(_) => Predictions::ClassIndices(out.iter().map(|i| *i as usize).collect()),
                    None => Predictions::Values {
                        data: out,
                        n_cols: m.n_outputs(),
                    },
                })
            }
            Estimator::Svm(m) => {
                let out = m.predict(x.data());
                Ok(match m.classes() {
                    Some(_) => Predictions::ClassIndices(out.iter().map(|i| *i as usize).collect()),
                    None => Predictions::Values {
                        data: out,
                        n_cols: 1,
                    },
                })
            }
            Estimator::Composite(c) => c.predict(x, members),
            Estimator::NaiveBayes(m) => Ok(Predictions::ClassIndices(
                m.joint_log_likelihood(x.data(), x.first_row())?
                    .chunks_exact(m.n_classes().max(1))
                    .map(argmax)
                    .collect(),
            )),
            Estimator::Dummy(m) => Ok(match &m.classes {
                Some(_) => Predictions::ClassIndices(vec![m.predicted; x.n_rows()]),
                None => Predictions::Values {
                    data: m.tiled(x.n_rows()),
                    n_cols: m.width(),
                },
            }),
            Estimator::Centroids(m) => {
                let nearest = m.predict(x.data());
                Ok(match &m.classes {
                    Some(_) => Predictions::ClassIndices(nearest),
                    None => Predictions::Values {
                        data: nearest.into_iter().map(|i| i as f64).collect(),
                        n_cols: 1,
                    },
                })
            }
            Estimator::Transformer { .. } | Estimator::Labels(_) => Err(Error::new(
                ErrorCode::Internal,
                "predict on a transformer without an estimator",
            )),
        }
    }

    /// Whether `predict_proba` exists for this estimator.
    pub(crate) fn has_proba(&self, members: &[Member]) -> bool {
        match self {
            Estimator::LinearClassifier(m) => m.probability != ProbabilityRule::Unavailable,
            Estimator::Svm(m) => m.has_probability(),
            Estimator::Composite(c) => c.has_proba(members),
            Estimator::Centroids(m) => m.has_scores(),
            Estimator::Labels(_) => false,
            other => other.classes().is_some(),
        }
    }

    pub(crate) fn proba_rows(&self, x: &Rows, members: &[Member]) -> Result<Vec<f64>> {
        match self {
            Estimator::LinearClassifier(m) => {
                let width = m.scores.n_scores();
                let n_classes = m.classes.len();
                let scores = all_scores(&m.scores, x);
                let mut out = vec![0.0; x.n_rows() * n_classes];
                for (row_scores, row_out) in scores
                    .chunks_exact(width.max(1))
                    .zip(out.chunks_exact_mut(n_classes.max(1)))
                {
                    probabilities(m.probability, row_scores, row_out);
                }
                Ok(out)
            }
            Estimator::AveragedTrees(m) if m.classes.is_some() => Ok(m.outputs(x)),
            Estimator::BoostedTrees(m) if m.classes.is_some() => Ok(m.proba_from_raw(&m.raw(x))),
            Estimator::HistBoosted(m) if m.classes.is_some() => Ok(m.proba_from_raw(&m.raw(x))),
            Estimator::AdaBoost(m) if m.classes.is_some() => {
                Ok(m.predict_proba(&m.decision_function(x)))
            }
            Estimator::Svm(m) => Ok(m.predict_proba(x.data())),
            Estimator::Composite(c) => c.predict_proba(x, members),
            Estimator::Neighbors(m) => m.predict_proba(x.data(), x.first_row()),
            Estimator::NaiveBayes(m) => {
                let mut jll = m.joint_log_likelihood(x.data(), x.first_row())?;
                proba_from_jll(&mut jll, m.n_classes());
                Ok(jll)
            }
            Estimator::Dummy(m) if m.classes.is_some() => Ok(m.tiled(x.n_rows())),
            Estimator::Centroids(m) if m.classes.is_some() => m
                .proba(x.data())
                .ok_or_else(|| Error::new(ErrorCode::Internal, "NearestCentroid without scores")),
            _ => Err(Error::new(
                ErrorCode::Internal,
                "predict_proba on an estimator without it",
            )),
        }
    }

    /// Whether `decision_function` exists for this estimator.
    pub(crate) fn has_decision(&self, members: &[Member]) -> bool {
        match self {
            Estimator::LinearClassifier(_) | Estimator::IsolationForest(_) => true,
            Estimator::BoostedTrees(m) => m.classes.is_some(),
            Estimator::HistBoosted(m) => m.classes.is_some(),
            Estimator::AdaBoost(m) => m.classes.is_some(),
            Estimator::Svm(m) => !matches!(m.task, SvmTask::Regressor),
            Estimator::Composite(c) => c.has_decision(members),
            Estimator::Centroids(m) => m.has_scores(),
            _ => false,
        }
    }

    pub(crate) fn decision_rows(&self, x: &Rows, members: &[Member]) -> Result<(Vec<f64>, usize)> {
        match self {
            Estimator::LinearClassifier(m) => Ok((all_scores(&m.scores, x), m.scores.n_scores())),
            Estimator::BoostedTrees(m) => Ok((m.raw(x), m.trees.n_outputs())),
            Estimator::HistBoosted(m) => Ok((m.raw(x), m.baseline.len())),
            Estimator::IsolationForest(m) => Ok((m.decision_function(x), 1)),
            Estimator::AdaBoost(m) => {
                let k = m.classes.as_ref().map_or(1, ClassLabels::len);
                Ok((m.decision_function(x), if k == 2 { 1 } else { k }))
            }
            Estimator::Svm(m) => Ok(m.decision_function(x.data())),
            Estimator::Composite(c) => c.decision_function(x, members),
            Estimator::Centroids(m) => m
                .decision(x.data())
                .ok_or_else(|| Error::new(ErrorCode::Internal, "NearestCentroid without scores")),
            _ => Err(Error::new(
                ErrorCode::Internal,
                "decision_function on an estimator without it",
            )),
        }
    }
}

/// Compute every linear score of every row: `n_rows × scores.n_scores()`.
fn all_scores(scores: &LinearScores, x: &Rows) -> Vec<f64> {
    let width = scores.n_scores();
    let mut out = vec![0.0; x.n_rows() * width];
    for (row, slot) in x.iter().zip(out.chunks_exact_mut(width.max(1))) {
        scores.score_row(row, slot);
    }
    out
}
