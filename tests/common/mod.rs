//! Shared by the native and wasm test suites: the fixture corpus and tolerant comparison.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::type_complexity
)]

use serde_json::Value;

include!("../fixtures/index.rs");

/// A case's input kept alive for [`OwnedInput::input`].
pub struct OwnedInput {
    table: wasm_predict::core::Table,
    x: Vec<f64>,
    n_cols: usize,
    mixed: bool,
}

impl OwnedInput {
    pub fn input(&self) -> wasm_predict::core::Input<'_> {
        if self.mixed {
            wasm_predict::core::Input::Table(&self.table)
        } else {
            wasm_predict::core::Input::Rows(
                wasm_predict::core::Rows::new(&self.x, self.n_cols).unwrap(),
            )
        }
    }
}

/// The cargo feature a fixture file's joblib codec needs, when this build leaves it out.
pub fn disabled_codec(kind: &str) -> Option<&'static str> {
    let (codec, feature, enabled) = match kind.rsplit('.').next()? {
        "bz2" => ("bz2", "bz2", cfg!(feature = "bz2")),
        "lzma" => ("lzma", "lzma", cfg!(feature = "lzma")),
        "xz" => ("xz", "lzma", cfg!(feature = "lzma")),
        "lz4" => ("lz4", "lz4", cfg!(feature = "lz4")),
        _ => return None,
    };
    let _ = codec;
    (!enabled).then_some(feature)
}

/// Relative tolerance for linear models (BLAS may sum in another order than we do).
pub const REL_TOL: f64 = 1e-12;
/// Absolute floor for values that cancel to ~0 (e.g. `1 - p` with p ≈ 1), where relative error
/// is meaningless.
pub const ABS_FLOOR: f64 = 1e-15;

pub struct Case {
    pub id: &'static str,
    pub expected: Value,
    /// (file kind such as "p4.pkl" or "joblib.z", bytes)
    pub pickles: &'static [(&'static str, &'static [u8])],
}

pub fn cases() -> Vec<Case> {
    FIXTURES
        .iter()
        .map(|(id, json, pickles)| Case {
            id,
            expected: serde_json::from_str(json).expect("fixture json"),
            pickles,
        })
        .collect()
}

impl Case {
    pub fn x(&self) -> (Vec<f64>, usize) {
        let rows = self.expected["X"].as_array().unwrap();
        let n_cols = rows[0].as_array().unwrap().len();
        let flat = rows
            .iter()
            // null is a missing value (JSON has no NaN); infinities are "inf" / "-inf".
            .flat_map(|r| {
                r.as_array().unwrap().iter().map(|v| match v.as_str() {
                    Some("inf") => f64::INFINITY,
                    Some("-inf") => f64::NEG_INFINITY,
                    Some(other) => panic!("string cell {other:?} in a numeric fixture"),
                    None => v.as_f64().unwrap_or(f64::NAN),
                })
            })
            .collect();
        (flat, n_cols)
    }

    /// A fixture fitted on mixed-type columns (strings, booleans): its X holds cells.
    pub fn is_mixed(&self) -> bool {
        self.expected["mixed"].as_bool() == Some(true)
    }

    /// X as mixed cells: numbers, strings, booleans, null for missing.
    pub fn table(&self) -> wasm_predict::core::Table {
        use wasm_predict::core::Cell;
        let rows = self.expected["X"].as_array().unwrap();
        let n_cols = rows.first().map_or(0, |r| r.as_array().unwrap().len());
        let cells = rows
            .iter()
            .flat_map(|r| r.as_array().unwrap().iter())
            .map(|v| match v {
                Value::Null => Cell::Missing,
                Value::Bool(b) => Cell::Bool(*b),
                Value::String(s) => Cell::Str(s.clone()),
                other => Cell::Num(other.as_f64().unwrap()),
            })
            .collect();
        wasm_predict::core::Table::new(cells, n_cols).unwrap()
    }

    /// The case's input, owned: mixed cells for mixed fixtures, numeric rows otherwise.
    pub fn owned_input(&self) -> OwnedInput {
        let mixed = self.is_mixed();
        let (x, n_cols) = if mixed { (Vec::new(), 0) } else { self.x() };
        OwnedInput {
            table: self.table(),
            x,
            n_cols,
            mixed,
        }
    }

    /// A numeric output flattened row-major (1-D or 2-D JSON arrays).
    pub fn numbers(&self, key: &str) -> Option<Vec<f64>> {
        let value = self.expected.get(key)?;
        Some(flatten(value))
    }

    pub fn is_classifier(&self) -> bool {
        self.expected.get("classes").is_some()
    }

    /// scikit-learn has `predict_proba` for it (not RidgeClassifier, LinearSVC, …).
    pub fn has_proba(&self) -> bool {
        self.expected.get("predict_proba").is_some()
    }
}

pub fn flatten(value: &Value) -> Vec<f64> {
    match value {
        Value::Array(items) => items.iter().flat_map(flatten).collect(),
        Value::Number(n) => vec![n.as_f64().unwrap()],
        // JSON has no NaN: a NaN output (a transformer passing a missing value through) is null.
        Value::Null => vec![f64::NAN],
        other => panic!("not a number: {other}"),
    }
}

/// XGBoost in wasm: it computes in float32, and there its `logf`/`expf` come from Rust's libm,
/// which can differ from glibc's by an ulp (natively they are identical and outputs are exact).
/// One float32 ulp of a margin of magnitude ≤ 32 is ≤ 3.8e-6, and the sigmoid carries it into
/// the probability with a factor ≤ 1 — so 4e-6 relative.
pub const F32_WASM_TOL: f64 = 4e-6;

/// Kernel SVMs in wasm: a decision value is a sum of O(1) kernel terms (exp/tanh from Rust's
/// libm, an ulp from glibc's) minus `rho`, and near the boundary it cancels to ~1e-4; the
/// absolute error stays at a few ulps of the terms, so it is bounded absolutely (natively the
/// outputs are identical to scikit-learn's).
pub const SVM_WASM_ABS: f64 = 1e-13;

/// Worst relative and absolute differences seen, and the tolerances enforced.
#[derive(Debug, Clone, Copy)]
pub struct Diff {
    pub max_rel: f64,
    pub max_abs: f64,
    pub rel_tol: f64,
    /// Differences up to this are accepted whatever the relative error (values that cancel).
    pub abs_floor: f64,
}

impl Default for Diff {
    fn default() -> Self {
        Diff {
            max_rel: 0.0,
            max_abs: 0.0,
            rel_tol: REL_TOL,
            abs_floor: ABS_FLOOR,
        }
    }
}

impl Diff {
    /// Compare element-wise; panics with the first out-of-tolerance element.
    pub fn check(&mut self, what: &str, got: &[f64], want: &[f64]) {
        assert_eq!(
            got.len(),
            want.len(),
            "{what}: length {} vs expected {}",
            got.len(),
            want.len()
        );
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert_eq!(
                g.is_nan(),
                w.is_nan(),
                "{what}[{i}]: got {g:e}, scikit-learn {w:e}"
            );
            if g.is_nan() {
                continue;
            }
            let abs = (g - w).abs();
            let scale = g.abs().max(w.abs());
            let rel = if scale > 0.0 { abs / scale } else { 0.0 };
            assert!(
                abs <= self.abs_floor || rel <= self.rel_tol,
                "{what}[{i}]: got {g:e}, scikit-learn {w:e} (rel {rel:e}, abs {abs:e})"
            );
            if abs > self.abs_floor {
                self.max_rel = self.max_rel.max(rel);
            }
            self.max_abs = self.max_abs.max(abs);
        }
    }

    pub fn merge(&mut self, other: Diff) {
        self.max_rel = self.max_rel.max(other.max_rel);
        self.max_abs = self.max_abs.max(other.max_abs);
    }
}
