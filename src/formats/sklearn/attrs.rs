//! Typed access to an estimator's `__dict__` as rebuilt from the pickle, with errors that name
//! the class and attribute.

use crate::core::ClassLabels;
use crate::error::{Error, Result};
use crate::formats::pickle::globals::{Class, Global};
use crate::formats::pickle::numpy::{Kind, NdArray};
use crate::formats::pickle::value::{Arena, Id, Value};

#[derive(Clone)]
pub struct Attrs<'a> {
    arena: &'a Arena,
    dict: Id,
    class: &'static str,
}

/// A numeric array attribute converted to f64, C order.
pub struct F64Array {
    pub values: Vec<f64>,
    pub shape: Vec<usize>,
}

impl<'a> Attrs<'a> {
    /// `state` is the BUILD argument: a dict, or `(dict, slots)`.
    #[cfg_attr(wasm_size_build, optimize(size))]
    pub fn new(arena: &'a Arena, state: Option<Id>, class: &'static str) -> Result<Self> {
        let state = state.ok_or_else(|| {
            Error::invalid_model(format!("{class} has no state (was it pickled unfitted?)"))
        })?;
        let dict = match arena.get(state) {
            Value::Dict(_) => state,
            Value::Tuple(parts) => match parts.first().map(|id| (id, arena.get(*id))) {
                Some((id, Value::Dict(_))) => *id,
                _ => {
                    return Err(Error::invalid_model(format!(
                        "{class} state tuple has no attribute dict"
                    )))
                }
            },
            other => {
                return Err(Error::invalid_model(format!(
                    "{class} state is a {}, expected an attribute dict",
                    other.kind()
                )))
            }
        };
        Ok(Attrs { arena, dict, class })
    }

    #[cfg_attr(wasm_size_build, optimize(size))]
    pub fn arena(&self) -> &'a Arena {
        self.arena
    }

    #[cfg_attr(wasm_size_build, optimize(size))]
    pub fn class_name(&self) -> &'static str {
        self.class
    }

    #[cfg_attr(wasm_size_build, optimize(size))]
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        self.arena
            .dict_get(self.dict, name)
            .map(|id| self.arena.get(id))
    }

    #[cfg_attr(wasm_size_build, optimize(size))]
    fn error(&self, name: &str, message: impl std::fmt::Display) -> Error {
        Error::invalid_model(format!("{}.{name}: {message}", self.class))
    }

    #[cfg_attr(wasm_size_build, optimize(size))]
    pub fn require(&self, name: &str) -> Result<&'a Value> {
        self.get(name).ok_or_else(|| {
            self.error(
                name,
                "missing (is the model fitted, and from scikit-learn 1.0 or newer?)",
            )
        })
    }

    #[cfg_attr(wasm_size_build, optimize(size))]
    pub fn array(&self, name: &str) -> Result<&'a NdArray> {
        match self.require(name)? {
            Value::Array(a) => Ok(a),
            other => Err(self.error(
                name,
                format!("expected a numpy array, found {}", other.kind()),
            )),
        }
    }

    /// A numeric array; a plain float or int is read as a 0-d array.
    #[cfg_attr(wasm_size_build, optimize(size))]
    pub fn f64_array(&self, name: &str) -> Result<F64Array> {
        match self.require(name)? {
            Value::Float(f) => Ok(F64Array {
                values: vec![*f],
                shape: vec![],
            }),
            Value::Int(i) => Ok(F64Array {
                values: vec![*i as f64],
                shape: vec![],
            }),
            Value::Array(a) => Ok(F64Array {
                values: a
                    .to_f64(self.arena)
                    .map_err(|e| e.context(format!("{}.{name}", self.class)))?,
                shape: a.shape.clone(),
            }),
            other => Err(self.error(
                name,
                format!("expected a number or numeric array, found {}", other.kind()),
            )),
        }
    }

    #[cfg_attr(wasm_size_build, optimize(size))]
    pub fn int(&self, name: &str) -> Result<i64> {
        match self.require(name)? {
            Value::Int(i) => Ok(*i),
            other => Err(self.error(name, format!("expected an int, found {}", other.kind()))),
        }
    }

    /// A string attribute, `None` when absent (attributes come and go across versions).
    #[cfg_attr(wasm_size_build, optimize(size))]
    pub fn opt_str(&self, name: &str) -> Result<Option<&'a str>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s)),
            Some(other) => {
                Err(self.error(name, format!("expected a string, found {}", other.kind())))
            }
        }
    }

    #[cfg_attr(wasm_size_build, optimize(size))]
    pub fn sklearn_version_string(&self) -> Option<&'a str> {
        match self.get("_sklearn_version") {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// A float (or int) attribute such as `learning_rate`.
    #[cfg_attr(wasm_size_build, optimize(size))]
    pub fn float(&self, name: &str) -> Result<f64> {
        match self.require(name)? {
            Value::Float(f) => Ok(*f),
            Value::Int(i) => Ok(*i as f64),
            other => Err(self.error(name, format!("expected a number, found {}", other.kind()))),
        }
    }

    /// `(major, minor)` of `_sklearn_version`, for the rules that changed between versions.
    #[cfg_attr(wasm_size_build, optimize(size))]
    pub fn sklearn_version(&self) -> Option<(u32, u32)> {
        let text = self.sklearn_version_string()?;
        let mut parts = text.split('.');
        let major = parts.next()?.parse().ok()?;
        let digits: String = parts
            .next()?
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        Some((major, digits.parse().ok()?))
    }

    /// Whether the file was written by scikit-learn at least `major.minor` (unknown: no).
    #[cfg_attr(wasm_size_build, optimize(size))]
    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        self.sklearn_version().is_some_and(|v| v >= (major, minor))
    }

    /// A nested object of a known class, e.g. `init_` or `tree_`, with its attribute view.
    #[cfg_attr(wasm_size_build, optimize(size))]
    pub fn object(&self, name: &str) -> Result<(Class, &'a Value)> {
        match self.require(name)? {
            value @ Value::Object {
                class: Global::Class(class),
                ..
            } => Ok((*class, value)),
            other => Err(self.error(name, format!("expected an object, found {}", other.kind()))),
        }
    }

    /// The items of a list or object ndarray attribute, in C order.
    #[cfg_attr(wasm_size_build, optimize(size))]
    pub fn items(&self, name: &str) -> Result<Vec<Id>> {
        let value = self.require(name)?;
        match (value, value.object_array_items()) {
            (Value::List(items) | Value::Tuple(items), _) => Ok(items.clone()),
            (_, Some(items)) => Ok(items.to_vec()),
            (other, None) => Err(self.error(
                name,
                format!("expected a list of estimators, found {}", other.kind()),
            )),
        }
    }

    /// View a nested object value (from [`Self::object`] or [`Self::items`]) as attributes.
    #[cfg_attr(wasm_size_build, optimize(size))]
    pub fn nested(
        &self,
        value: &'a Value,
        expected: &[Class],
        what: &str,
    ) -> Result<(Class, Attrs<'a>)> {
        match value {
            Value::Object {
                class: Global::Class(class),
                state,
                ..
            } if expected.contains(class) => {
                Ok((*class, Attrs::new(self.arena, *state, class.name())?))
            }
            Value::Object {
                class: Global::Class(class),
                ..
            } => Err(Error::new(
                crate::error::ErrorCode::UnsupportedClass,
                format!(
                    "{}.{what} is a {}, which is not supported there",
                    self.class,
                    class.name()
                ),
            )),
            other => Err(self.error(
                what,
                format!("expected an estimator, found {}", other.kind()),
            )),
        }
    }

    /// A nested estimator of any known class.
    #[cfg_attr(wasm_size_build, optimize(size))]
    pub fn nested_any(&self, value: &'a Value, what: &str) -> Result<(Class, Attrs<'a>)> {
        match value {
            Value::Object {
                class: Global::Class(class),
                state,
                ..
            } => Ok((*class, Attrs::new(self.arena, *state, class.name())?)),
            other => Err(self.error(
                what,
                format!("expected an estimator, found {}", other.kind()),
            )),
        }
    }

    /// `classes_` in its own type: ints, floats, strings or bools.
    #[cfg_attr(wasm_size_build, optimize(size))]
    pub fn classes(&self, max_classes: usize) -> Result<ClassLabels> {
        self.classes_in("classes_", max_classes)
    }

    /// Class labels stored under another name (LightGBM's wrapper keeps them in `_classes`).
    #[cfg_attr(wasm_size_build, optimize(size))]
    pub fn classes_in(&self, name: &str, max_classes: usize) -> Result<ClassLabels> {
        self.labels_of(self.array(name)?, name, max_classes)
    }

    /// Multi-output classifiers' `classes_`: a list of label arrays, one per output.
    #[cfg_attr(wasm_size_build, optimize(size))]
    pub fn classes_per_output(&self, max_classes: usize) -> Result<Vec<ClassLabels>> {
        self.items("classes_")?
            .into_iter()
            .enumerate()
            .map(|(i, id)| match self.arena.get(id) {
                Value::Array(a) => self.labels_of(a, &format!("classes_[{i}]"), max_classes),
                other => Err(self.error("classes_", format!("entry {i} is a {}", other.kind()))),
            })
            .collect()
    }

    #[cfg_attr(wasm_size_build, optimize(size))]
    fn labels_of(&self, array: &NdArray, name: &str, max_classes: usize) -> Result<ClassLabels> {
        if array.shape.len() != 1 {
            return Err(self.error(
                name,
                format!("expected a 1-D array, found shape {:?}", array.shape),
            ));
        }
        if array.len() > max_classes {
            return Err(Error::limit(format!(
                "{}.{name} has {} classes, over the max_classes limit of {max_classes}",
                self.class,
                array.len()
            )));
        }
        let ctx = |e: Error| e.context(format!("{}.{name}", self.class));
        let labels = match array.dtype.kind {
            Kind::Int | Kind::UInt => ClassLabels::Int(array.to_i64(self.arena).map_err(ctx)?),
            Kind::Float => ClassLabels::Float(array.to_f64(self.arena).map_err(ctx)?),
            Kind::Bool => ClassLabels::Bool(
                array
                    .to_i64(self.arena)
                    .map_err(ctx)?
                    .into_iter()
                    .map(|v| v != 0)
                    .collect(),
            ),
            Kind::Unicode => ClassLabels::Str(array.to_strings(self.arena).map_err(ctx)?),
            Kind::Object => match array.to_strings(self.arena) {
                Ok(strings) => ClassLabels::Str(strings),
                Err(_) => ClassLabels::Int(array.to_i64(self.arena).map_err(ctx)?),
            },
            _ => {
                return Err(self.error(
                    name,
                    format!("unsupported label dtype {}", array.dtype.describe()),
                ))
            }
        };
        Ok(labels)
    }

    /// `feature_names_in_` when the model was fitted on a DataFrame, else `x0 … x{n-1}`
    /// (scikit-learn's own default names). Returns the names and whether they came from the file.
    #[cfg_attr(wasm_size_build, optimize(size))]
    pub fn feature_names(&self, n_features: usize) -> Result<(Vec<String>, bool)> {
        if self.get("feature_names_in_").is_some() {
            let names = self
                .array("feature_names_in_")?
                .to_strings(self.arena)
                .map_err(|e| e.context(format!("{}.feature_names_in_", self.class)))?;
            if names.len() != n_features {
                return Err(self.error(
                    "feature_names_in_",
                    format!("has {} names for {n_features} features", names.len()),
                ));
            }
            return Ok((names, true));
        }
        Ok(((0..n_features).map(|i| format!("x{i}")).collect(), false))
    }

    /// Check `n_features_in_` (when present) against the width of the coefficients.
    #[cfg_attr(wasm_size_build, optimize(size))]
    pub fn check_n_features(&self, n_features: usize) -> Result<()> {
        if self.get("n_features_in_").is_some() {
            let declared = self.int("n_features_in_")?;
            if usize::try_from(declared).ok() != Some(n_features) {
                return Err(self.error(
                    "n_features_in_",
                    format!("says {declared} but the coefficients have {n_features} columns"),
                ));
            }
        }
        Ok(())
    }
}
