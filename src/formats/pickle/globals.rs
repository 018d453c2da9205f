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
    /// A scikit-learn estimator class.
    Estimator(EstimatorClass),
}

/// The scikit-learn classes this build can rebuild into a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EstimatorClass {
    LinearRegression,
    LogisticRegression,
}

impl EstimatorClass {
    /// The class name as scikit-learn spells it.
    pub fn name(self) -> &'static str {
        match self {
            EstimatorClass::LinearRegression => "LinearRegression",
            EstimatorClass::LogisticRegression => "LogisticRegression",
        }
    }
}

/// numpy moved `numpy.core` to `numpy._core` in 2.0; pickles use either spelling.
const NUMPY_CORE: [&str; 2] = ["numpy.core", "numpy._core"];

/// `(module, name, meaning)`; modules are exact, so `evil.LogisticRegression` is refused.
const ESTIMATORS: &[(&str, &str, EstimatorClass)] = &[
    (
        "sklearn.linear_model._base",
        "LinearRegression",
        EstimatorClass::LinearRegression,
    ),
    (
        "sklearn.linear_model._logistic",
        "LogisticRegression",
        EstimatorClass::LogisticRegression,
    ),
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
        _ => ESTIMATORS
            .iter()
            .find(|(m, n, _)| *m == module && *n == name)
            .map(|(_, _, class)| Global::Estimator(*class)),
    };
    found.ok_or_else(|| {
        let hint = if ESTIMATORS.iter().any(|(_, n, _)| *n == name) {
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
    ESTIMATORS
        .iter()
        .map(|(_, n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}
