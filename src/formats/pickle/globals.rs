//! The allow-list: the only `module.name` pairs a pickle may reference.
//!
//! A pickle is a program; `GLOBAL os system` followed by `REDUCE` is how it runs a shell command.
//! We never import or call anything. Each allowed pair maps to a [`Global`] whose meaning is
//! implemented here in Rust (rebuild an ndarray, make an inert object of a known class). Anything
//! else stops the load with `UNSUPPORTED_CLASS` naming the module and class.

use crate::error::{Error, Result};

/// A known class or function a pickle may reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Global {
    /// `numpy.core.multiarray._reconstruct` (numpy 1.x) / `numpy._core.multiarray._reconstruct`.
    NumpyReconstruct,
    /// `numpy.core.numeric._frombuffer` (protocol 5 arrays).
    NumpyFromBuffer,
    /// `numpy.core.multiarray.scalar`: a numpy scalar such as `np.float64(0.5)`.
    NumpyScalar,
    /// `numpy.ndarray`, only ever used as an argument of `_reconstruct`.
    NumpyNdarray,
    /// `numpy.dtype`.
    NumpyDtype,
    /// `_codecs.encode`: protocol 2 writes `bytes` as `encode(str, 'latin1')`.
    CodecsEncode,
    /// `copyreg._reconstructor(cls, object, None)`: a new empty instance of `cls`.
    CopyregReconstructor,
    /// `builtins.object`, only ever used as an argument of `copyreg._reconstructor`.
    BuiltinsObject,
    /// `builtins.bytes`: protocol 2 writes an empty `bytes` (e.g. the data of an empty array)
    /// as `bytes()`.
    BuiltinsBytes,
    /// `builtins.bytearray(bytes)` (XGBoost's pickled booster buffer); protocol 2 spells it
    /// `bytearray(str, 'latin-1')`.
    BuiltinsBytearray,
    /// `collections.OrderedDict` and `collections.defaultdict` (LightGBM's evaluation
    /// results): calling one makes a plain dict.
    DictConstructor,
    /// A known class: instances become inert records (constructor arguments + BUILD state).
    Class(Class),
    /// A numpy ufunc (`numpy.log1p`, …): a `FunctionTransformer`'s function.
    Ufunc(crate::core::transform::Ufunc),
    /// Pickling helpers of Cython and numpy objects we never need the contents of (random
    /// number generators, loss helpers): calling one yields an inert object.
    InertConstructor,
}

/// Every class whose instances a supported model file may contain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    LinearRegression,
    LogisticRegression,
    /// The other linear models: `X @ coef_.T + intercept_`, then per kind.
    Linear(LinearKind),
    /// `LabelBinarizer` (RidgeClassifier keeps its classes in one).
    LabelBinarizer,
    DecisionTreeClassifier,
    DecisionTreeRegressor,
    ExtraTreeClassifier,
    ExtraTreeRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    /// `sklearn.tree._tree.Tree`, the fitted node arrays of one tree.
    Tree,
    DummyClassifier,
    DummyRegressor,
    Pipeline,
    StandardScaler,
    MinMaxScaler,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    /// `TreePredictor`: one histogram-gradient-boosting tree.
    TreePredictor,
    /// `_BinMapper`: its `bin_thresholds_` hold the known categories of categorical features.
    BinMapper,
    /// A gradient-boosting loss object (only its class matters).
    Loss(LossKind),
    /// State we keep but never read (RNGs, link objects, Cython loss kernels).
    Opaque,
    /// `joblib.numpy_pickle.NumpyArrayWrapper`: its array bytes follow it in the stream.
    JoblibArrayWrapper,
    LgbmClassifier,
    LgbmRegressor,
    LgbmRanker,
    /// `lightgbm.basic.Booster`: its state carries the LightGBM text model.
    LgbmBooster,
    XgbClassifier,
    XgbRegressor,
    XgbRanker,
    XgbRfClassifier,
    XgbRfRegressor,
    /// `xgboost.core.Booster`: its state carries the model as UBJSON bytes.
    XgbBooster,
    IsolationForest,
    AdaBoostClassifier,
    AdaBoostRegressor,
    BaggingClassifier,
    BaggingRegressor,
    ColumnTransformer,
    FeatureUnion,
    MaxAbsScaler,
    RobustScaler,
    Normalizer,
    Binarizer,
    PolynomialFeatures,
    FunctionTransformer,
    SimpleImputer,
    MissingIndicator,
    OneHotEncoder,
    OrdinalEncoder,
    VarianceThreshold,
    SelectKBest,
    SelectPercentile,
    Rfe,
    Rfecv,
    GaussianNb,
    MultinomialNb,
    ComplementNb,
    BernoulliNb,
    CategoricalNb,
    KNeighborsClassifier,
    KNeighborsRegressor,
    RadiusNeighborsClassifier,
    RadiusNeighborsRegressor,
    VotingClassifier,
    VotingRegressor,
    StackingClassifier,
    StackingRegressor,
    CalibratedClassifierCv,
    /// `_CalibratedClassifier`: one fold's estimator and calibrators.
    CalibratedFold,
    SigmoidCalibration,
    IsotonicRegression,
    TransformedTargetRegressor,
    LabelEncoder,
    Svc,
    NuSvc,
    Svr,
    NuSvr,
    OneClassSvm,
    Pca,
    IncrementalPca,
    TruncatedSvd,
    FastIca,
    /// `sklearn.utils.validation.check_array`, only ever wrapped in a `functools.partial` as
    /// a FunctionTransformer's validation-only function (it returns its input).
    CheckArray,
    KMeans,
    MiniBatchKMeans,
    NearestCentroid,
    RansacRegressor,
    KBinsDiscretizer,
    QuantileTransformer,
    PowerTransformer,
    KnnImputer,
    TargetEncoder,
    SelectFromModel,
    SplineTransformer,
    /// `scipy.interpolate.BSpline`: one of a SplineTransformer's fitted splines.
    BSpline,
    MultiOutputClassifier,
    MultiOutputRegressor,
}

/// Linear models that share `coef_`/`intercept_` and differ only in what follows the scores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinearKind {
    Ridge,
    RidgeCV,
    Lasso,
    LassoCV,
    ElasticNet,
    ElasticNetCV,
    Lars,
    LarsCV,
    LassoLars,
    LassoLarsCV,
    LassoLarsIC,
    OrthogonalMatchingPursuit,
    BayesianRidge,
    ARDRegression,
    HuberRegressor,
    QuantileRegressor,
    TheilSenRegressor,
    SGDRegressor,
    PassiveAggressiveRegressor,
    LinearSVR,
    PoissonRegressor,
    GammaRegressor,
    TweedieRegressor,
    RidgeClassifier,
    RidgeClassifierCV,
    SGDClassifier,
    Perceptron,
    PassiveAggressiveClassifier,
    LinearSVC,
    LogisticRegressionCV,
}

/// Gradient-boosting losses, under their old (`_gb_losses`, ≤ 1.3) and new (`_loss`) names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LossKind {
    SquaredError,
    AbsoluteError,
    Huber,
    Quantile,
    Binomial,
    Multinomial,
    Exponential,
    /// Poisson, gamma and Tweedie (log link): predictions are `exp(raw)`.
    LogLink,
}

impl Class {
    /// The class name as scikit-learn spells it.
    pub fn name(self) -> &'static str {
        CLASSES
            .iter()
            .find(|(_, _, c)| *c == self)
            .map_or("object", |(_, n, _)| n)
    }

    /// The module scikit-learn defines the class in.
    pub fn module(self) -> &'static str {
        CLASSES
            .iter()
            .find(|(_, _, c)| *c == self)
            .map_or("", |(m, _, _)| m)
    }

    /// Preprocessing classes (Pipeline steps before the estimator).
    pub fn is_transformer(self) -> bool {
        matches!(
            self,
            Class::StandardScaler
                | Class::MinMaxScaler
                | Class::ColumnTransformer
                | Class::FeatureUnion
                | Class::MaxAbsScaler
                | Class::RobustScaler
                | Class::Normalizer
                | Class::Binarizer
                | Class::PolynomialFeatures
                | Class::FunctionTransformer
                | Class::SimpleImputer
                | Class::MissingIndicator
                | Class::OneHotEncoder
                | Class::OrdinalEncoder
                | Class::VarianceThreshold
                | Class::SelectKBest
                | Class::SelectPercentile
                | Class::Rfe
                | Class::Rfecv
                | Class::Pca
                | Class::IncrementalPca
                | Class::TruncatedSvd
                | Class::FastIca
                | Class::KBinsDiscretizer
                | Class::QuantileTransformer
                | Class::PowerTransformer
                | Class::KnnImputer
                | Class::TargetEncoder
                | Class::SelectFromModel
                | Class::SplineTransformer
                | Class::Pipeline
        )
    }

    /// A single decision or extra tree.
    pub fn is_single_tree(self) -> bool {
        matches!(
            self,
            Class::DecisionTreeClassifier
                | Class::DecisionTreeRegressor
                | Class::ExtraTreeClassifier
                | Class::ExtraTreeRegressor
        )
    }

    /// A single tree or a random/extra-trees forest: what the averaged-trees engine runs.
    pub fn is_tree_or_forest(self) -> bool {
        self.is_single_tree()
            || matches!(
                self,
                Class::RandomForestClassifier
                    | Class::RandomForestRegressor
                    | Class::ExtraTreesClassifier
                    | Class::ExtraTreesRegressor
            )
    }

    /// Estimator classes that can be the root of a model file.
    pub fn is_estimator(self) -> bool {
        !matches!(
            self,
            Class::Tree
                | Class::Loss(_)
                | Class::Opaque
                | Class::JoblibArrayWrapper
                | Class::LabelBinarizer
                | Class::LabelEncoder
                | Class::CalibratedFold
                | Class::SigmoidCalibration
                | Class::IsotonicRegression
                | Class::CheckArray
                | Class::BSpline
        )
    }
}

/// numpy moved `numpy.core` to `numpy._core` in 2.0; pickles use either spelling.
const NUMPY_CORE: [&str; 2] = ["numpy.core", "numpy._core"];

/// `(module, name, class)`; modules are exact, so `evil.LogisticRegression` is refused.
const CLASSES: &[(&str, &str, Class)] = &[
    (
        "sklearn.linear_model._base",
        "LinearRegression",
        Class::LinearRegression,
    ),
    (
        "sklearn.linear_model._logistic",
        "LogisticRegression",
        Class::LogisticRegression,
    ),
    (
        "sklearn.tree._classes",
        "DecisionTreeClassifier",
        Class::DecisionTreeClassifier,
    ),
    (
        "sklearn.tree._classes",
        "DecisionTreeRegressor",
        Class::DecisionTreeRegressor,
    ),
    (
        "sklearn.tree._classes",
        "ExtraTreeClassifier",
        Class::ExtraTreeClassifier,
    ),
    (
        "sklearn.tree._classes",
        "ExtraTreeRegressor",
        Class::ExtraTreeRegressor,
    ),
    ("sklearn.tree._tree", "Tree", Class::Tree),
    (
        "sklearn.ensemble._forest",
        "RandomForestClassifier",
        Class::RandomForestClassifier,
    ),
    (
        "sklearn.ensemble._forest",
        "RandomForestRegressor",
        Class::RandomForestRegressor,
    ),
    (
        "sklearn.ensemble._forest",
        "ExtraTreesClassifier",
        Class::ExtraTreesClassifier,
    ),
    (
        "sklearn.ensemble._forest",
        "ExtraTreesRegressor",
        Class::ExtraTreesRegressor,
    ),
    (
        "sklearn.ensemble._gb",
        "GradientBoostingClassifier",
        Class::GradientBoostingClassifier,
    ),
    (
        "sklearn.ensemble._gb",
        "GradientBoostingRegressor",
        Class::GradientBoostingRegressor,
    ),
    (
        "sklearn.ensemble._iforest",
        "IsolationForest",
        Class::IsolationForest,
    ),
    (
        "sklearn.ensemble._weight_boosting",
        "AdaBoostClassifier",
        Class::AdaBoostClassifier,
    ),
    (
        "sklearn.ensemble._weight_boosting",
        "AdaBoostRegressor",
        Class::AdaBoostRegressor,
    ),
    (
        "sklearn.ensemble._bagging",
        "BaggingClassifier",
        Class::BaggingClassifier,
    ),
    (
        "sklearn.ensemble._bagging",
        "BaggingRegressor",
        Class::BaggingRegressor,
    ),
    (
        "sklearn.linear_model._ridge",
        "Ridge",
        Class::Linear(LinearKind::Ridge),
    ),
    (
        "sklearn.linear_model._ridge",
        "RidgeCV",
        Class::Linear(LinearKind::RidgeCV),
    ),
    (
        "sklearn.linear_model._ridge",
        "RidgeClassifier",
        Class::Linear(LinearKind::RidgeClassifier),
    ),
    (
        "sklearn.linear_model._ridge",
        "RidgeClassifierCV",
        Class::Linear(LinearKind::RidgeClassifierCV),
    ),
    (
        "sklearn.linear_model._coordinate_descent",
        "Lasso",
        Class::Linear(LinearKind::Lasso),
    ),
    (
        "sklearn.linear_model._coordinate_descent",
        "LassoCV",
        Class::Linear(LinearKind::LassoCV),
    ),
    (
        "sklearn.linear_model._coordinate_descent",
        "ElasticNet",
        Class::Linear(LinearKind::ElasticNet),
    ),
    (
        "sklearn.linear_model._coordinate_descent",
        "ElasticNetCV",
        Class::Linear(LinearKind::ElasticNetCV),
    ),
    (
        "sklearn.linear_model._least_angle",
        "Lars",
        Class::Linear(LinearKind::Lars),
    ),
    (
        "sklearn.linear_model._least_angle",
        "LarsCV",
        Class::Linear(LinearKind::LarsCV),
    ),
    (
        "sklearn.linear_model._least_angle",
        "LassoLars",
        Class::Linear(LinearKind::LassoLars),
    ),
    (
        "sklearn.linear_model._least_angle",
        "LassoLarsCV",
        Class::Linear(LinearKind::LassoLarsCV),
    ),
    (
        "sklearn.linear_model._least_angle",
        "LassoLarsIC",
        Class::Linear(LinearKind::LassoLarsIC),
    ),
    (
        "sklearn.linear_model._omp",
        "OrthogonalMatchingPursuit",
        Class::Linear(LinearKind::OrthogonalMatchingPursuit),
    ),
    (
        "sklearn.linear_model._bayes",
        "BayesianRidge",
        Class::Linear(LinearKind::BayesianRidge),
    ),
    (
        "sklearn.linear_model._bayes",
        "ARDRegression",
        Class::Linear(LinearKind::ARDRegression),
    ),
    (
        "sklearn.linear_model._huber",
        "HuberRegressor",
        Class::Linear(LinearKind::HuberRegressor),
    ),
    (
        "sklearn.linear_model._quantile",
        "QuantileRegressor",
        Class::Linear(LinearKind::QuantileRegressor),
    ),
    (
        "sklearn.linear_model._theil_sen",
        "TheilSenRegressor",
        Class::Linear(LinearKind::TheilSenRegressor),
    ),
    (
        "sklearn.linear_model._stochastic_gradient",
        "SGDRegressor",
        Class::Linear(LinearKind::SGDRegressor),
    ),
    (
        "sklearn.linear_model._stochastic_gradient",
        "SGDClassifier",
        Class::Linear(LinearKind::SGDClassifier),
    ),
    (
        "sklearn.linear_model._passive_aggressive",
        "PassiveAggressiveRegressor",
        Class::Linear(LinearKind::PassiveAggressiveRegressor),
    ),
    (
        "sklearn.linear_model._passive_aggressive",
        "PassiveAggressiveClassifier",
        Class::Linear(LinearKind::PassiveAggressiveClassifier),
    ),
    (
        "sklearn.linear_model._perceptron",
        "Perceptron",
        Class::Linear(LinearKind::Perceptron),
    ),
    (
        "sklearn.svm._classes",
        "LinearSVR",
        Class::Linear(LinearKind::LinearSVR),
    ),
    (
        "sklearn.svm._classes",
        "LinearSVC",
        Class::Linear(LinearKind::LinearSVC),
    ),
    (
        "sklearn.linear_model._glm.glm",
        "PoissonRegressor",
        Class::Linear(LinearKind::PoissonRegressor),
    ),
    (
        "sklearn.linear_model._glm.glm",
        "GammaRegressor",
        Class::Linear(LinearKind::GammaRegressor),
    ),
    (
        "sklearn.linear_model._glm.glm",
        "TweedieRegressor",
        Class::Linear(LinearKind::TweedieRegressor),
    ),
    (
        "sklearn.linear_model._logistic",
        "LogisticRegressionCV",
        Class::Linear(LinearKind::LogisticRegressionCV),
    ),
    (
        "sklearn.preprocessing._label",
        "LabelBinarizer",
        Class::LabelBinarizer,
    ),
    ("sklearn.dummy", "DummyClassifier", Class::DummyClassifier),
    ("sklearn.dummy", "DummyRegressor", Class::DummyRegressor),
    ("sklearn.pipeline", "Pipeline", Class::Pipeline),
    (
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting",
        "HistGradientBoostingClassifier",
        Class::HistGradientBoostingClassifier,
    ),
    (
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting",
        "HistGradientBoostingRegressor",
        Class::HistGradientBoostingRegressor,
    ),
    (
        "sklearn.ensemble._hist_gradient_boosting.predictor",
        "TreePredictor",
        Class::TreePredictor,
    ),
    (
        "sklearn.ensemble._hist_gradient_boosting.binning",
        "_BinMapper",
        Class::BinMapper,
    ),
    ("numpy.random.bit_generator", "SeedSequence", Class::Opaque),
    (
        "sklearn.preprocessing._data",
        "StandardScaler",
        Class::StandardScaler,
    ),
    (
        "sklearn.preprocessing._data",
        "MinMaxScaler",
        Class::MinMaxScaler,
    ),
    // Losses, scikit-learn >= 1.4.
    (
        "sklearn._loss.loss",
        "HalfSquaredError",
        Class::Loss(LossKind::SquaredError),
    ),
    (
        "sklearn._loss.loss",
        "AbsoluteError",
        Class::Loss(LossKind::AbsoluteError),
    ),
    (
        "sklearn._loss.loss",
        "HuberLoss",
        Class::Loss(LossKind::Huber),
    ),
    (
        "sklearn._loss.loss",
        "PinballLoss",
        Class::Loss(LossKind::Quantile),
    ),
    (
        "sklearn._loss.loss",
        "HalfBinomialLoss",
        Class::Loss(LossKind::Binomial),
    ),
    (
        "sklearn._loss.loss",
        "HalfMultinomialLoss",
        Class::Loss(LossKind::Multinomial),
    ),
    (
        "sklearn._loss.loss",
        "ExponentialLoss",
        Class::Loss(LossKind::Exponential),
    ),
    (
        "sklearn._loss.loss",
        "HalfPoissonLoss",
        Class::Loss(LossKind::LogLink),
    ),
    (
        "sklearn._loss.loss",
        "HalfGammaLoss",
        Class::Loss(LossKind::LogLink),
    ),
    (
        "sklearn._loss.loss",
        "HalfTweedieLoss",
        Class::Loss(LossKind::LogLink),
    ),
    // TweedieRegressor(link='identity'): only its class is stored, never read.
    (
        "sklearn._loss.loss",
        "HalfTweedieLossIdentity",
        Class::Opaque,
    ),
    // HistGradientBoosting losses, scikit-learn 1.0.
    (
        "sklearn.ensemble._hist_gradient_boosting.loss",
        "LeastSquares",
        Class::Loss(LossKind::SquaredError),
    ),
    (
        "sklearn.ensemble._hist_gradient_boosting.loss",
        "LeastAbsoluteDeviation",
        Class::Loss(LossKind::AbsoluteError),
    ),
    (
        "sklearn.ensemble._hist_gradient_boosting.loss",
        "Poisson",
        Class::Loss(LossKind::LogLink),
    ),
    (
        "sklearn.ensemble._hist_gradient_boosting.loss",
        "BinaryCrossEntropy",
        Class::Loss(LossKind::Binomial),
    ),
    (
        "sklearn.ensemble._hist_gradient_boosting.loss",
        "CategoricalCrossEntropy",
        Class::Loss(LossKind::Multinomial),
    ),
    // GLM family and link objects of scikit-learn 1.0 (only the estimator's `power`/`link`
    // parameters are read).
    (
        "sklearn._loss.glm_distribution",
        "TweedieDistribution",
        Class::Opaque,
    ),
    (
        "sklearn._loss.glm_distribution",
        "PoissonDistribution",
        Class::Opaque,
    ),
    (
        "sklearn._loss.glm_distribution",
        "GammaDistribution",
        Class::Opaque,
    ),
    (
        "sklearn._loss.glm_distribution",
        "NormalDistribution",
        Class::Opaque,
    ),
    (
        "sklearn._loss.glm_distribution",
        "InverseGaussianDistribution",
        Class::Opaque,
    ),
    (
        "sklearn._loss.glm_distribution",
        "DistributionBoundary",
        Class::Opaque,
    ),
    ("sklearn.linear_model._glm.link", "LogLink", Class::Opaque),
    (
        "sklearn.linear_model._glm.link",
        "IdentityLink",
        Class::Opaque,
    ),
    // Losses, scikit-learn <= 1.3.
    (
        "sklearn.ensemble._gb_losses",
        "LeastSquaresError",
        Class::Loss(LossKind::SquaredError),
    ),
    (
        "sklearn.ensemble._gb_losses",
        "LeastAbsoluteError",
        Class::Loss(LossKind::AbsoluteError),
    ),
    (
        "sklearn.ensemble._gb_losses",
        "HuberLossFunction",
        Class::Loss(LossKind::Huber),
    ),
    (
        "sklearn.ensemble._gb_losses",
        "QuantileLossFunction",
        Class::Loss(LossKind::Quantile),
    ),
    (
        "sklearn.ensemble._gb_losses",
        "BinomialDeviance",
        Class::Loss(LossKind::Binomial),
    ),
    (
        "sklearn.ensemble._gb_losses",
        "MultinomialDeviance",
        Class::Loss(LossKind::Multinomial),
    ),
    (
        "sklearn.ensemble._gb_losses",
        "ExponentialLoss",
        Class::Loss(LossKind::Exponential),
    ),
    (
        "joblib.numpy_pickle",
        "NumpyArrayWrapper",
        Class::JoblibArrayWrapper,
    ),
    ("lightgbm.sklearn", "LGBMClassifier", Class::LgbmClassifier),
    ("lightgbm.sklearn", "LGBMRegressor", Class::LgbmRegressor),
    ("lightgbm.sklearn", "LGBMRanker", Class::LgbmRanker),
    ("lightgbm.basic", "Booster", Class::LgbmBooster),
    ("xgboost.sklearn", "XGBClassifier", Class::XgbClassifier),
    ("xgboost.sklearn", "XGBRegressor", Class::XgbRegressor),
    ("xgboost.sklearn", "XGBRanker", Class::XgbRanker),
    ("xgboost.sklearn", "XGBRFClassifier", Class::XgbRfClassifier),
    ("xgboost.sklearn", "XGBRFRegressor", Class::XgbRfRegressor),
    ("xgboost.core", "Booster", Class::XgbBooster),
    (
        "sklearn.compose._column_transformer",
        "ColumnTransformer",
        Class::ColumnTransformer,
    ),
    ("sklearn.pipeline", "FeatureUnion", Class::FeatureUnion),
    (
        "sklearn.preprocessing._data",
        "MaxAbsScaler",
        Class::MaxAbsScaler,
    ),
    (
        "sklearn.preprocessing._data",
        "RobustScaler",
        Class::RobustScaler,
    ),
    (
        "sklearn.preprocessing._data",
        "Normalizer",
        Class::Normalizer,
    ),
    ("sklearn.preprocessing._data", "Binarizer", Class::Binarizer),
    (
        "sklearn.preprocessing._polynomial",
        "PolynomialFeatures",
        Class::PolynomialFeatures,
    ),
    (
        "sklearn.preprocessing._function_transformer",
        "FunctionTransformer",
        Class::FunctionTransformer,
    ),
    (
        "sklearn.impute._base",
        "SimpleImputer",
        Class::SimpleImputer,
    ),
    (
        "sklearn.impute._base",
        "MissingIndicator",
        Class::MissingIndicator,
    ),
    (
        "sklearn.preprocessing._encoders",
        "OneHotEncoder",
        Class::OneHotEncoder,
    ),
    (
        "sklearn.preprocessing._encoders",
        "OrdinalEncoder",
        Class::OrdinalEncoder,
    ),
    (
        "sklearn.feature_selection._variance_threshold",
        "VarianceThreshold",
        Class::VarianceThreshold,
    ),
    (
        "sklearn.feature_selection._univariate_selection",
        "SelectKBest",
        Class::SelectKBest,
    ),
    (
        "sklearn.feature_selection._univariate_selection",
        "SelectPercentile",
        Class::SelectPercentile,
    ),
    ("sklearn.feature_selection._rfe", "RFE", Class::Rfe),
    ("sklearn.feature_selection._rfe", "RFECV", Class::Rfecv),
    // Kept but never read: a column selector already resolved into column indices, and the
    // scoring functions of fitted selectors.
    (
        "sklearn.compose._column_transformer",
        "make_column_selector",
        Class::Opaque,
    ),
    // 1.5-1.6 wrap the remainder's columns in a list subclass (to warn about a future change);
    // the columns are read from `_transformer_to_input_indices` instead.
    (
        "sklearn.compose._column_transformer",
        "_RemainderColsList",
        Class::Opaque,
    ),
    (
        "sklearn.feature_selection._univariate_selection",
        "f_classif",
        Class::Opaque,
    ),
    (
        "sklearn.feature_selection._univariate_selection",
        "f_regression",
        Class::Opaque,
    ),
    (
        "sklearn.feature_selection._univariate_selection",
        "chi2",
        Class::Opaque,
    ),
    (
        "sklearn.feature_selection._univariate_selection",
        "r_regression",
        Class::Opaque,
    ),
    (
        "sklearn.feature_selection._mutual_info",
        "mutual_info_classif",
        Class::Opaque,
    ),
    (
        "sklearn.feature_selection._mutual_info",
        "mutual_info_regression",
        Class::Opaque,
    ),
    ("sklearn.utils.validation", "check_array", Class::CheckArray),
    ("sklearn.cluster._kmeans", "KMeans", Class::KMeans),
    (
        "sklearn.cluster._kmeans",
        "MiniBatchKMeans",
        Class::MiniBatchKMeans,
    ),
    (
        "sklearn.neighbors._nearest_centroid",
        "NearestCentroid",
        Class::NearestCentroid,
    ),
    (
        "sklearn.linear_model._ransac",
        "RANSACRegressor",
        Class::RansacRegressor,
    ),
    (
        "sklearn.preprocessing._discretization",
        "KBinsDiscretizer",
        Class::KBinsDiscretizer,
    ),
    (
        "sklearn.preprocessing._data",
        "QuantileTransformer",
        Class::QuantileTransformer,
    ),
    (
        "sklearn.preprocessing._data",
        "PowerTransformer",
        Class::PowerTransformer,
    ),
    ("sklearn.impute._knn", "KNNImputer", Class::KnnImputer),
    (
        "sklearn.preprocessing._target_encoder",
        "TargetEncoder",
        Class::TargetEncoder,
    ),
    (
        "sklearn.feature_selection._from_model",
        "SelectFromModel",
        Class::SelectFromModel,
    ),
    (
        "sklearn.preprocessing._polynomial",
        "SplineTransformer",
        Class::SplineTransformer,
    ),
    ("scipy.interpolate._bsplines", "BSpline", Class::BSpline),
    (
        "sklearn.multioutput",
        "MultiOutputClassifier",
        Class::MultiOutputClassifier,
    ),
    (
        "sklearn.multioutput",
        "MultiOutputRegressor",
        Class::MultiOutputRegressor,
    ),
    // scipy 1.17 pickles a reference to its array constructor inside each BSpline; never called.
    (
        "scipy._lib.array_api_compat.numpy._aliases",
        "asarray",
        Class::Opaque,
    ),
    ("sklearn.naive_bayes", "GaussianNB", Class::GaussianNb),
    ("sklearn.naive_bayes", "MultinomialNB", Class::MultinomialNb),
    ("sklearn.naive_bayes", "ComplementNB", Class::ComplementNb),
    ("sklearn.naive_bayes", "BernoulliNB", Class::BernoulliNb),
    ("sklearn.naive_bayes", "CategoricalNB", Class::CategoricalNb),
    (
        "sklearn.neighbors._classification",
        "KNeighborsClassifier",
        Class::KNeighborsClassifier,
    ),
    (
        "sklearn.neighbors._classification",
        "RadiusNeighborsClassifier",
        Class::RadiusNeighborsClassifier,
    ),
    (
        "sklearn.neighbors._regression",
        "KNeighborsRegressor",
        Class::KNeighborsRegressor,
    ),
    (
        "sklearn.neighbors._regression",
        "RadiusNeighborsRegressor",
        Class::RadiusNeighborsRegressor,
    ),
    // The fitted search trees of neighbour models: an index over `_fit_X`, never read.
    ("sklearn.neighbors._kd_tree", "KDTree", Class::Opaque),
    ("sklearn.neighbors._ball_tree", "BallTree", Class::Opaque),
    (
        "sklearn.ensemble._voting",
        "VotingClassifier",
        Class::VotingClassifier,
    ),
    (
        "sklearn.ensemble._voting",
        "VotingRegressor",
        Class::VotingRegressor,
    ),
    (
        "sklearn.ensemble._stacking",
        "StackingClassifier",
        Class::StackingClassifier,
    ),
    (
        "sklearn.ensemble._stacking",
        "StackingRegressor",
        Class::StackingRegressor,
    ),
    (
        "sklearn.calibration",
        "CalibratedClassifierCV",
        Class::CalibratedClassifierCv,
    ),
    (
        "sklearn.calibration",
        "_CalibratedClassifier",
        Class::CalibratedFold,
    ),
    (
        "sklearn.calibration",
        "_SigmoidCalibration",
        Class::SigmoidCalibration,
    ),
    (
        "sklearn.isotonic",
        "IsotonicRegression",
        Class::IsotonicRegression,
    ),
    (
        "sklearn.compose._target",
        "TransformedTargetRegressor",
        Class::TransformedTargetRegressor,
    ),
    (
        "sklearn.preprocessing._label",
        "LabelEncoder",
        Class::LabelEncoder,
    ),
    // Cross-validation splitters kept as parameters (`cv=KFold(…)`); never read.
    ("sklearn.model_selection._split", "KFold", Class::Opaque),
    (
        "sklearn.model_selection._split",
        "StratifiedKFold",
        Class::Opaque,
    ),
    ("sklearn.svm._classes", "SVC", Class::Svc),
    ("sklearn.svm._classes", "NuSVC", Class::NuSvc),
    ("sklearn.svm._classes", "SVR", Class::Svr),
    ("sklearn.svm._classes", "NuSVR", Class::NuSvr),
    ("sklearn.svm._classes", "OneClassSVM", Class::OneClassSvm),
    ("sklearn.decomposition._pca", "PCA", Class::Pca),
    (
        "sklearn.decomposition._incremental_pca",
        "IncrementalPCA",
        Class::IncrementalPca,
    ),
    (
        "sklearn.decomposition._truncated_svd",
        "TruncatedSVD",
        Class::TruncatedSvd,
    ),
    ("sklearn.decomposition._fastica", "FastICA", Class::FastIca),
    // numpy scalar types as parameters (OneHotEncoder's `dtype`).
    ("numpy", "float64", Class::Opaque),
    ("numpy", "float32", Class::Opaque),
    ("numpy", "int64", Class::Opaque),
    ("numpy", "int32", Class::Opaque),
    ("numpy", "uint8", Class::Opaque),
    ("numpy", "bool_", Class::Opaque),
    // Kept but never read.
    ("sklearn._loss.link", "IdentityLink", Class::Opaque),
    ("sklearn._loss.link", "LogitLink", Class::Opaque),
    ("sklearn._loss.link", "HalfLogitLink", Class::Opaque),
    ("sklearn._loss.link", "MultinomialLogit", Class::Opaque),
    ("sklearn._loss.link", "Interval", Class::Opaque),
    ("sklearn._loss.link", "LogLink", Class::Opaque),
    ("numpy.random._mt19937", "MT19937", Class::Opaque),
    ("numpy.random._pcg64", "PCG64", Class::Opaque),
    ("numpy.random.mtrand", "RandomState", Class::Opaque),
    ("numpy.random._generator", "Generator", Class::Opaque),
];

/// Cython kernels of the >= 1.4 losses, pickled as instances of these classes. Some builds
/// (scikit-learn 1.5's wheels) record the extension module's bare name, `_loss`.
const CYTHON_LOSS_MODULES: [&str; 2] = ["sklearn._loss._loss", "_loss"];

/// Pickling helpers that only ever rebuild inert state.
const INERT_CONSTRUCTORS: &[(&str, &str)] = &[
    ("numpy.random._pickle", "__randomstate_ctor"),
    ("numpy.random._pickle", "__bit_generator_ctor"),
    ("numpy.random._pickle", "__generator_ctor"),
    ("numpy.random.bit_generator", "__pyx_unpickle_SeedSequence"),
];

/// Resolve `module.name` against the allow-list. `offset` is the byte offset of the opcode that
/// named it, for the error message.
pub fn resolve(module: &str, name: &str, offset: usize) -> Result<Global> {
    let numpy_submodule = |sub: &str| {
        NUMPY_CORE
            .iter()
            .any(|core| module.strip_prefix(core) == Some(sub))
    };
    let found = match name {
        "_reconstruct" if numpy_submodule(".multiarray") => Some(Global::NumpyReconstruct),
        "_frombuffer" if numpy_submodule(".numeric") => Some(Global::NumpyFromBuffer),
        "scalar" if numpy_submodule(".multiarray") => Some(Global::NumpyScalar),
        "ndarray" if module == "numpy" => Some(Global::NumpyNdarray),
        "dtype" if module == "numpy" => Some(Global::NumpyDtype),
        "encode" if module == "_codecs" => Some(Global::CodecsEncode),
        "_reconstructor" if module == "copyreg" || module == "copy_reg" => {
            Some(Global::CopyregReconstructor)
        }
        "object" if module == "builtins" || module == "__builtin__" => Some(Global::BuiltinsObject),
        "bytes" if module == "builtins" || module == "__builtin__" => Some(Global::BuiltinsBytes),
        "bytearray" if module == "builtins" || module == "__builtin__" => {
            Some(Global::BuiltinsBytearray)
        }
        "OrderedDict" | "defaultdict" if module == "collections" => Some(Global::DictConstructor),
        // scikit-learn's dict subclass (`named_estimators_`).
        "Bunch" if module == "sklearn.utils" || module == "sklearn.utils._bunch" => {
            Some(Global::DictConstructor)
        }
        // `output_indices_` of a ColumnTransformer holds slices; never read.
        "slice" if module == "builtins" || module == "__builtin__" => {
            Some(Global::InertConstructor)
        }
        // Cython pickling helpers of the neighbour search trees and their distance metrics.
        "newObj"
            if matches!(
                module,
                "sklearn.neighbors._kd_tree"
                    | "sklearn.neighbors._ball_tree"
                    | "sklearn.metrics._dist_metrics"
            ) =>
        {
            Some(Global::InertConstructor)
        }
        _ if module == "sklearn.metrics._dist_metrics"
            && (name.ends_with("Distance")
                || name.ends_with("Distance64")
                || name.ends_with("Distance32")) =>
        {
            Some(Global::Class(Class::Opaque))
        }
        // `partial(check_array, …)`: kept inert, recognised by the FunctionTransformer importer.
        "partial" if module == "functools" => Some(Global::InertConstructor),
        _ if module == "numpy"
            || numpy_submodule("._multiarray_umath")
            || numpy_submodule(".umath") =>
        {
            crate::core::transform::Ufunc::ALL
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, u)| Global::Ufunc(*u))
                .or_else(|| {
                    CLASSES
                        .iter()
                        .find(|(m, n, _)| *m == module && *n == name)
                        .map(|(_, _, class)| Global::Class(*class))
                })
        }
        _ if CYTHON_LOSS_MODULES.contains(&module) && name.starts_with("Cy") => {
            Some(Global::Class(Class::Opaque))
        }
        // SGD's Cython loss objects (≤ 1.3 pickles keep `loss_function_`); never read.
        "Hinge"
        | "SquaredHinge"
        | "Log"
        | "ModifiedHuber"
        | "SquaredLoss"
        | "Huber"
        | "EpsilonInsensitive"
        | "SquaredEpsilonInsensitive"
            if module == "sklearn.linear_model._sgd_fast" =>
        {
            Some(Global::Class(Class::Opaque))
        }
        _ if CYTHON_LOSS_MODULES.contains(&module) && name.starts_with("__pyx_unpickle_Cy") => {
            Some(Global::InertConstructor)
        }
        _ if INERT_CONSTRUCTORS.contains(&(module, name)) => Some(Global::InertConstructor),
        _ => CLASSES
            .iter()
            .find(|(m, n, _)| *m == module && *n == name)
            .map(|(_, _, class)| Global::Class(*class)),
    };
    found.ok_or_else(|| {
        let hint = if CLASSES.iter().any(|(_, n, _)| *n == name) {
            " (a supported class name, but from an unexpected module)"
        } else {
            ""
        };
        Error::unsupported_class(format!(
            "pickle global `{module}.{name}` at byte {offset} is not on the allow-list{hint}; \
             wasm-predict never imports or calls anything from a pickle. Supported estimators: {}",
            supported_estimators()
        ))
    })
}

/// A comma-separated list of the supported estimator classes, for error messages and docs.
pub fn supported_estimators() -> String {
    CLASSES
        .iter()
        .filter(|(_, _, c)| {
            c.is_estimator()
                && (!c.is_transformer() || *c == Class::Pipeline)
                && !matches!(
                    c,
                    // Parts of other models, not models a file can hold on its own.
                    Class::TreePredictor | Class::BinMapper
                )
        })
        .map(|(module, name, _)| match *name {
            // Two libraries call theirs Booster.
            "Booster" => format!("{}.Booster", module.split('.').next().unwrap_or(module)),
            _ => (*name).to_owned(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
