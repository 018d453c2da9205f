//! The wasm-bindgen skin: converts JS arguments, makes one core call, converts the result.
//!
//! Every failure becomes a JS `Error` whose `code` property is the stable [`ErrorCode`] string,
//! so callers can branch on it. Numeric outputs are typed arrays, never JSON.

use std::borrow::Cow;

use js_sys::{Array, ArrayBuffer, Float32Array, Float64Array, Object, Reflect, Uint8Array};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::core::{Cell, ClassLabels, Input, Predictions, Rows, Table};
use crate::error::{Error, ErrorCode};
use crate::LoadOptions;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
/** Rows to predict: a flat typed array (row-major, with `nCols` columns), an array of row
 *  arrays, an array of objects keyed by feature name, or an object of columns
 *  (`{name: array}`, like a DataFrame's columns). */
export type ModelInput =
  | Float64Array
  | Float32Array
  | Array<ArrayLike<Cell> | Record<string, Cell>>
  | Record<string, ArrayLike<Cell>>;

/** One input value: numbers, strings and booleans (for encoders), null/undefined/NaN for missing. */
export type Cell = number | string | boolean | null | undefined;

/** A class label in the type the model was trained with. */
export type ClassLabel = number | string | boolean;

/** Options for `load`. */
export interface LoadOptions {
  /** Name recorded in the metadata (defaults to the estimator class). */
  name?: string;
  /** Version recorded in the metadata (defaults to "1"). */
  version?: string;
  /** Caps on what reading the file may cost; the defaults admit every real model we know. */
  limits?: LoadLimits;
}

/** Load limits; exceeding one throws LIMIT_EXCEEDED naming the limit, its value and what was found. */
export interface LoadLimits {
  /** Bytes of decoded values (default 1 GiB). */
  maxAllocBytes?: number;
  /** Nesting of MARK groups in a pickle (default 256). */
  maxDepth?: number;
  /** Longest string or byte string (default 256 MiB). */
  maxStringLength?: number;
  /** Values a pickle may create (default 50 million). */
  maxValues?: number;
  /** Input features (default 1 million). */
  maxFeatures?: number;
  /** Classes (default 100,000). */
  maxClasses?: number;
  /** Trees in one model (default 1 million). */
  maxTrees?: number;
  /** Tree nodes, all trees together (default 100 million). */
  maxNodes?: number;
}

/** What `model.metadata` returns. */
export interface ModelMetadata {
  name: string;
  version: string;
  sourceLibrary: string;
  sourceLibraryVersion: string;
  estimatorClass: string;
  sourceFormat: string;
  featureNames: string[];
  featureNamesFromSource: boolean;
  nFeatures: number;
  outputKind: "regression" | "classification" | "outlier_detection" | "clustering" | "transform";
  /** Values per row: regression targets, classification outputs, or `transform` columns. */
  nOutputs: number;
  /** Class labels in `predictProba` column order; null for regressors and multi-output
   *  classifiers. */
  classes: ClassLabel[] | null;
  /** Multi-output classifiers: each output's class labels (`predict` gives `nRows × nOutputs`
   *  labels, `predictProba` one block per output); null otherwise. */
  outputClasses: ClassLabel[][] | null;
  /** When the model was first imported, ms since the Unix epoch. */
  createdUnixMs: number;
  wasmPredictVersion: string;
  bundleFormatVersion: number;
}

/** Errors thrown by wasm-predict carry a stable `code`. */
export type ErrorCode =
  | "BAD_FORMAT" | "UNSUPPORTED_CLASS" | "UNSUPPORTED_VERSION" | "LIMIT_EXCEEDED"
  | "INVALID_MODEL" | "SHAPE_MISMATCH" | "BAD_INPUT" | "UNSUPPORTED_OPERATION" | "INTERNAL";
export interface WasmPredictError extends Error { code: ErrorCode; }

/** One entry of `predictRows`: the row's prediction, or why it could not be predicted. */
export type RowResult =
  | { ok: true; prediction: number | string | boolean | Float64Array | ClassLabel[]; probabilities?: Float64Array }
  | { ok: false; error: WasmPredictError };
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "ModelInput")]
    pub type ModelInput;
    #[wasm_bindgen(typescript_type = "LoadOptions")]
    pub type LoadOptionsArg;
    #[wasm_bindgen(typescript_type = "ModelMetadata")]
    pub type MetadataObject;
    #[wasm_bindgen(typescript_type = "Float64Array | ClassLabel[]")]
    pub type PredictOutput;
    #[wasm_bindgen(typescript_type = "Uint8Array | ArrayBuffer")]
    pub type BytesArg;
    #[wasm_bindgen(typescript_type = "RowResult[]")]
    pub type RowResults;
}

/// Turn a core error into a JS `Error` with a `code` property.
#[cfg_attr(wasm_size_build, optimize(size))]
fn js_error(error: Error) -> JsValue {
    let js = js_sys::Error::new(error.message());
    js.set_name("WasmPredictError");
    // Setting a property on a fresh Error object cannot fail.
    let _ = Reflect::set(&js, &"code".into(), &error.code().as_str().into());
    js.into()
}

thread_local! {
    /// Where the last panic happened, recorded by [`record_panic`] for [`guarded`]'s message.
    static LAST_PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(message: &str);
}

/// Panic hook: log the message and location to the console (a panic is a bug worth seeing) and
/// remember them, so the `INTERNAL` error carries them to the caller.
#[cfg_attr(wasm_size_build, optimize(size))]
fn record_panic(info: &std::panic::PanicHookInfo<'_>) {
    let text = info.to_string().replace('\n', " ");
    console_error(&format!("wasm-predict panicked: {text}"));
    LAST_PANIC.with(|last| {
        if let Ok(mut last) = last.try_borrow_mut() {
            *last = Some(text);
        }
    });
}

/// Run an export's body so that a residual panic (a bug in wasm-predict, never expected) ends as
/// a JS `Error` with code `INTERNAL` and the instance — this model and every other loaded one —
/// keeps working. The shipped wasm is built with `panic=unwind` (nightly `-Zbuild-std`, see
/// `scripts/build-pkg.sh`), so `catch_unwind` catches the panic after unwinding has run every
/// destructor; in a `panic=abort` build it is a plain call and a panic would trap.
///
/// `AssertUnwindSafe` is sound here: exports only read `&Model` (no interior mutability) and
/// everything the body mutates is local to the call and dropped by the unwinding.
fn guarded<T>(body: impl FnOnce() -> Result<T, JsValue>) -> Result<T, JsValue> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| std::panic::set_hook(Box::new(record_panic)));
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
        Ok(result) => result,
        Err(_) => {
            let detail = LAST_PANIC
                .with(|last| last.try_borrow_mut().ok().and_then(|mut l| l.take()))
                .unwrap_or_else(|| "no panic message".to_owned());
            Err(js_error(Error::new(
                ErrorCode::Internal,
                format!(
                    "internal error in wasm-predict ({detail}); please report it with the file \
                     that caused it. Loaded models keep working"
                ),
            )))
        }
    }
}

/// Deliberately panic inside an export (an out-of-bounds index picked by the caller), so tests
/// of the shipped package can check that a residual panic becomes an `INTERNAL` error and the
/// instance survives. Not part of the API.
#[doc(hidden)]
#[wasm_bindgen(js_name = "__panicProbe", skip_typescript)]
#[allow(clippy::indexing_slicing)] // the panic is the point
#[cfg_attr(wasm_size_build, optimize(size))]
pub fn panic_probe(index: u32) -> Result<u32, JsValue> {
    guarded(|| {
        let table = [1u32, 2, 3];
        Ok(table[index as usize])
    })
}

#[cfg_attr(wasm_size_build, optimize(size))]
fn bad_input(message: impl Into<String>) -> JsValue {
    js_error(Error::new(ErrorCode::BadInput, message))
}

fn now_unix_ms() -> u64 {
    let ms = js_sys::Date::now();
    if ms.is_finite() && ms > 0.0 {
        ms as u64
    } else {
        0
    }
}

#[cfg_attr(wasm_size_build, optimize(size))]
fn bytes_from(value: &JsValue) -> Result<Vec<u8>, JsValue> {
    if let Some(array) = value.dyn_ref::<Uint8Array>() {
        Ok(array.to_vec())
    } else if let Some(buffer) = value.dyn_ref::<ArrayBuffer>() {
        Ok(Uint8Array::new(buffer).to_vec())
    } else {
        Err(bad_input(
            "load() takes the model file's bytes as a Uint8Array or ArrayBuffer",
        ))
    }
}

#[cfg_attr(wasm_size_build, optimize(size))]
fn options_from(value: Option<LoadOptionsArg>) -> Result<LoadOptions, JsValue> {
    let mut options = LoadOptions {
        now_unix_ms: now_unix_ms(),
        ..LoadOptions::default()
    };
    let Some(value) = value else {
        return Ok(options);
    };
    let value: JsValue = value.into();
    if value.is_undefined() || value.is_null() {
        return Ok(options);
    }
    if !value.is_object() {
        return Err(bad_input("load() options must be an object"));
    }
    let object: &Object = value.unchecked_ref();
    for key in Object::keys(object).iter() {
        let key = key.as_string().unwrap_or_default();
        let field = Reflect::get(&value, &key.as_str().into())?;
        if field.is_undefined() {
            continue;
        }
        let text = || {
            field
                .as_string()
                .ok_or_else(|| bad_input(format!("load() option {key:?} must be a string")))
        };
        match key.as_str() {
            "name" => options.name = Some(text()?),
            "version" => options.version = Some(text()?),
            "limits" => read_limits(&field, &mut options.limits)?,
            other => {
                return Err(bad_input(format!(
                    "unknown load() option {other:?} (known: name, version, limits)"
                )))
            }
        }
    }
    Ok(options)
}

/// Read `options.limits`: positive whole numbers, by name.
#[cfg_attr(wasm_size_build, optimize(size))]
fn read_limits(value: &JsValue, limits: &mut crate::LoadLimits) -> Result<(), JsValue> {
    if !value.is_object() {
        return Err(bad_input("load() option \"limits\" must be an object"));
    }
    for key in Object::keys(value.unchecked_ref::<Object>()).iter() {
        let key = key.as_string().unwrap_or_default();
        let raw = Reflect::get(value, &key.as_str().into())?;
        let Some(number) = raw
            .as_f64()
            .filter(|n| n.fract() == 0.0 && *n >= 1.0 && *n <= 9.007_199_254_740_991e15)
        else {
            return Err(bad_input(format!(
                "limits.{key} must be a positive whole number"
            )));
        };
        let number = usize::try_from(number as u64).unwrap_or(usize::MAX);
        let slot = match key.as_str() {
            "maxAllocBytes" => &mut limits.max_alloc_bytes,
            "maxDepth" => &mut limits.max_depth,
            "maxStringLength" => &mut limits.max_string_len,
            "maxValues" => &mut limits.max_values,
            "maxFeatures" => &mut limits.max_features,
            "maxClasses" => &mut limits.max_classes,
            "maxTrees" => &mut limits.max_trees,
            "maxNodes" => &mut limits.max_nodes,
            other => {
                return Err(bad_input(format!(
                    "unknown limit {other:?} (known: maxAllocBytes, maxDepth, maxStringLength, maxValues, maxFeatures, maxClasses, maxTrees, maxNodes)"
                )))
            }
        };
        *slot = number;
    }
    Ok(())
}

/// Load a model from the bytes of a scikit-learn pickle or joblib file, a LightGBM text model,
/// an XGBoost JSON/UBJSON model, or a wasm-predict bundle.
/// Nothing in the file is executed; unknown classes are refused.
#[wasm_bindgen]
#[cfg_attr(wasm_size_build, optimize(size))]
pub fn load(bytes: BytesArg, options: Option<LoadOptionsArg>) -> Result<Model, JsValue> {
    guarded(|| {
        let bytes = bytes_from(&bytes.into())?;
        let options = options_from(options)?;
        let inner = crate::load(&bytes, &options).map_err(js_error)?;
        Ok(Model { inner })
    })
}

/// The wasm-predict version.
#[wasm_bindgen]
#[cfg_attr(wasm_size_build, optimize(size))]
pub fn version() -> String {
    crate::VERSION.to_owned()
}

/// A loaded model. Call `free()` when done to release its wasm memory.
#[wasm_bindgen]
pub struct Model {
    inner: crate::core::Model,
}

#[derive(Serialize)]
#[serde(untagged)]
enum LabelView<'a> {
    Int(i64),
    Float(f64),
    Str(&'a str),
    Bool(bool),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MetadataView<'a> {
    name: &'a str,
    version: &'a str,
    source_library: &'a str,
    source_library_version: &'a str,
    estimator_class: &'a str,
    source_format: &'a str,
    feature_names: &'a [String],
    feature_names_from_source: bool,
    n_features: usize,
    output_kind: &'static str,
    n_outputs: usize,
    classes: Option<Vec<LabelView<'a>>>,
    output_classes: Option<Vec<Vec<LabelView<'a>>>>,
    created_unix_ms: u64,
    wasm_predict_version: &'static str,
    bundle_format_version: u16,
}

#[cfg_attr(wasm_size_build, optimize(size))]
fn label_views(labels: &ClassLabels) -> Vec<LabelView<'_>> {
    match labels {
        ClassLabels::Int(v) => v.iter().map(|l| LabelView::Int(*l)).collect(),
        ClassLabels::Float(v) => v.iter().map(|l| LabelView::Float(*l)).collect(),
        ClassLabels::Str(v) => v.iter().map(|l| LabelView::Str(l)).collect(),
        ClassLabels::Bool(v) => v.iter().map(|l| LabelView::Bool(*l)).collect(),
    }
}

/// Rows copied from a typed array into wasm memory at a time: a batch of any size needs only
/// this much wasm memory for its input, and errors still name the row in the whole batch.
const CHUNK_ROWS: usize = 16_384;

/// Where a method's input comes from: the JS value the caller passed, or — for a small
/// `Float64Array`, which the JS glue routes to [`Model::typed_call`] — its numbers, already
/// copied into wasm memory by the glue.
enum Source<'a> {
    Js(JsValue),
    F64(&'a [f64]),
}

impl From<ModelInput> for Source<'_> {
    fn from(x: ModelInput) -> Self {
        Source::Js(x.into())
    }
}

/// The methods by number, as the typed-array glue sends them to [`Model::typed_call`]
/// (`methods` in `pkg-config/typed-fast-path.js`).
mod method {
    pub const PREDICT: u32 = 0;
    pub const PREDICT_PROBA: u32 = 1;
    pub const DECISION_FUNCTION: u32 = 2;
    pub const SCORE_SAMPLES: u32 = 3;
    pub const TRANSFORM: u32 = 4;
    pub const APPLY: u32 = 5;
}

/// The most values the JS glue sends through [`Model::typed_call`]
/// (`TYPED_CALL_MAX_VALUES` in `pkg-config/typed-fast-path.js`).
const TYPED_CALL_MAX_VALUES: usize = 4096;

/// Input as the skin sees it: a typed array (read in chunks), its numbers already in wasm
/// memory, or JS row values.
enum JsInput<'a> {
    Typed { array: Float64Array, n_cols: usize },
    Slice { data: &'a [f64], n_cols: usize },
    TypedF32 { array: Float32Array, n_cols: usize },
    Rows(Array),
}

impl Model {
    fn input<'a>(&self, x: &Source<'a>, n_cols: Option<u32>) -> Result<JsInput<'a>, JsValue> {
        let n_features = self.inner.n_features();
        let any_width = self.inner.any_width();
        // Checked only for the rare any-width model: each `instanceof` is a call into JS.
        if any_width
            && n_cols.is_none()
            && match x {
                Source::F64(_) => true,
                Source::Js(x) => {
                    x.is_instance_of::<Float64Array>() || x.is_instance_of::<Float32Array>()
                }
            }
        {
            return Err(bad_input(
                "this model takes any number of columns (a dummy fitted before scikit-learn 1.5 \
                 records none): pass nCols with a typed array",
            ));
        }
        let typed_cols = n_cols.map_or(n_features, |c| c as usize);
        let x = match x {
            Source::F64(data) => {
                return Ok(JsInput::Slice {
                    data,
                    n_cols: typed_cols,
                })
            }
            Source::Js(x) => x,
        };
        if let Some(array) = x.dyn_ref::<Float64Array>() {
            return Ok(JsInput::Typed {
                array: array.clone(),
                n_cols: typed_cols,
            });
        }
        if let Some(array) = x.dyn_ref::<Float32Array>() {
            return Ok(JsInput::TypedF32 {
                array: array.clone(),
                n_cols: typed_cols,
            });
        }
        if !Array::is_array(x) {
            if x.is_object() && !any_width {
                return Ok(JsInput::Rows(self.columns_to_rows(x)?));
            }
            return Err(bad_input(
                "input must be a Float64Array or Float32Array (with a column count), an array of row arrays, an array of row objects keyed by feature name, or an object of columns ({name: array})",
            ));
        }
        if let Some(cols) = n_cols.filter(|_| !any_width) {
            if cols as usize != n_features {
                return Err(js_error(Error::shape(format!(
                    "nCols is {cols} but the model takes {n_features} features"
                ))));
            }
        }
        Ok(JsInput::Rows(x.clone().unchecked_into()))
    }

    /// Column-major input, like a pandas DataFrame's columns: `{name: array-like}` with every
    /// feature present and all columns the same length. Returns the rows as row arrays.
    #[cfg_attr(wasm_size_build, optimize(size))]
    fn columns_to_rows(&self, x: &JsValue) -> Result<Array, JsValue> {
        let names = &self.inner.metadata.feature_names;
        let mut columns = Vec::with_capacity(names.len());
        let mut n_rows: Option<(usize, &str)> = None;
        for name in names {
            let column = Reflect::get(x, &name.into())?;
            if column.is_undefined() && !Reflect::has(x, &name.into())? {
                return Err(bad_input(format!(
                    "missing column {name:?} (the model's columns are {})",
                    names.join(", ")
                )));
            }
            let length = Reflect::get(&column, &"length".into())
                .ok()
                .and_then(|l| l.as_f64())
                .filter(|_| column.is_object() && column.as_string().is_none());
            let Some(length) = length else {
                return Err(bad_input(format!(
                    "column {name:?} must be an array or typed array of values"
                )));
            };
            let length = length as usize;
            match n_rows {
                Some((n, first)) if n != length => {
                    return Err(js_error(Error::shape(format!(
                        "column {name:?} has {length} values but column {first:?} has {n}"
                    ))))
                }
                None => n_rows = Some((length, name)),
                _ => {}
            }
            columns.push(column);
        }
        let keys = Object::keys(x.unchecked_ref::<Object>());
        if let Some(key) = keys
            .iter()
            .filter_map(|k| k.as_string())
            .find(|k| !names.contains(k))
        {
            return Err(bad_input(format!(
                "unknown column {key:?} (the model's columns are {})",
                names.join(", ")
            )));
        }
        let rows = Array::new();
        for r in 0..n_rows.map_or(0, |(n, _)| n) {
            let row = Array::new();
            for column in &columns {
                row.push(&Reflect::get_u32(column, r as u32)?);
            }
            rows.push(&row);
        }
        Ok(rows)
    }

    /// One JS row (array of cells, or object keyed by feature name) as cells.
    /// The column count of JS rows: the model's, or for a model of any width the first row's.
    #[cfg_attr(wasm_size_build, optimize(size))]
    fn rows_width(&self, rows: &Array) -> Result<usize, JsValue> {
        if !self.inner.any_width() {
            return Ok(self.inner.n_features());
        }
        let first = rows.get(0);
        if rows.length() > 0 && !Array::is_array(&first) {
            return Err(bad_input(
                "this model has no feature names (a dummy fitted before scikit-learn 1.5): pass \
                 rows as arrays",
            ));
        }
        Ok(first.dyn_ref::<Array>().map_or(0, |a| a.length() as usize))
    }

    #[cfg_attr(wasm_size_build, optimize(size))]
    fn parse_row(
        &self,
        row: &JsValue,
        row_index: usize,
        width: usize,
    ) -> Result<Vec<Cell>, JsValue> {
        let names = &self.inner.metadata.feature_names;
        let n_features = width;
        if Array::is_array(row) {
            let cells: &Array = row.unchecked_ref();
            if cells.length() as usize != n_features {
                return Err(js_error(Error::shape(format!(
                    "row {row_index} has {} values but the model takes {n_features} features",
                    cells.length()
                ))));
            }
            return cells
                .iter()
                .enumerate()
                .map(|(i, cell)| {
                    let name = names.get(i).cloned().unwrap_or_else(|| format!("x{i}"));
                    cell_value(&cell, row_index, &name)
                })
                .collect();
        }
        if n_features == 1 && !row.is_object() {
            // One column (a label encoder's labels): each entry may be the cell itself.
            return Ok(vec![cell_value(
                row,
                row_index,
                names.first().map_or("", String::as_str),
            )?]);
        }
        if !row.is_object() {
            return Err(bad_input(format!(
                "row {row_index} must be an array of numbers or an object keyed by feature name"
            )));
        }
        let mut values = Vec::with_capacity(n_features);
        for name in names {
            let cell = Reflect::get(row, &name.into())?;
            if cell.is_undefined() && !Reflect::has(row, &name.into())? {
                return Err(bad_input(format!(
                    "row {row_index}: missing column {name:?}"
                )));
            }
            values.push(cell_value(&cell, row_index, name)?);
        }
        let keys = Object::keys(row.unchecked_ref::<Object>());
        if keys.length() as usize != n_features {
            for key in keys.iter() {
                let key = key.as_string().unwrap_or_default();
                if !names.contains(&key) {
                    return Err(bad_input(format!(
                        "row {row_index}: unknown column {key:?} (the model's columns are {})",
                        names.join(", ")
                    )));
                }
            }
        }
        Ok(values)
    }

    /// Run a numeric method chunk by chunk and concatenate the results, in row order.
    fn numbers_per_chunk(
        &self,
        x: Source,
        n_cols: Option<u32>,
        // `dyn`: one copy of the chunking code for every numeric method (−9 KB of wasm).
        method: &dyn Fn(Input) -> Result<Vec<f64>, Error>,
    ) -> Result<Vec<f64>, JsValue> {
        guarded(|| {
            let mut out = Vec::new();
            self.for_each_chunk(&x, n_cols, |rows| {
                append(&mut out, method(rows)?);
                Ok(())
            })?;
            Ok(out)
        })
    }

    /// Run `f` over the input in row order: typed arrays chunk by chunk, JS rows all at once.
    fn for_each_chunk<'a>(
        &self,
        x: &Source<'a>,
        n_cols: Option<u32>,
        mut f: impl FnMut(Input) -> crate::Result<()>,
    ) -> Result<(), JsValue> {
        // Typed input in chunks of CHUNK_ROWS rows: `chunk(a, b)` gives values `a..b` as f64.
        let mut typed = |len: u32,
                         n_cols: usize,
                         chunk: &dyn Fn(u32, u32) -> Cow<'a, [f64]>|
         -> Result<(), JsValue> {
            // Whole-batch shape check first, so a bad length is never half-processed.
            Rows::new(&[], n_cols).map_err(js_error)?;
            if n_cols != 0 && len as usize % n_cols != 0 {
                return Err(js_error(Error::shape(format!(
                    "input has {len} values, which is not a whole number of rows of {n_cols} columns"
                ))));
            }
            let n_rows = (len as usize).checked_div(n_cols).unwrap_or(0);
            let mut first = 0;
            loop {
                let end = (first + CHUNK_ROWS).min(n_rows);
                let data = chunk((first * n_cols) as u32, (end * n_cols) as u32);
                let rows = Rows::new(&data, n_cols)
                    .map_err(js_error)?
                    .numbered_from(first);
                f(Input::Rows(rows)).map_err(js_error)?;
                if end >= n_rows {
                    return Ok(());
                }
                first = end;
            }
        };
        match self.input(x, n_cols)? {
            JsInput::Typed { array, n_cols } => {
                let len = array.length();
                typed(len, n_cols, &|a, b| {
                    // A one-chunk call (every small batch) copies the array without first
                    // making a subarray object in JS.
                    Cow::Owned(if a == 0 && b == len {
                        array.to_vec()
                    } else {
                        array.subarray(a, b).to_vec()
                    })
                })
            }
            JsInput::Slice { data, n_cols } => typed(data.len() as u32, n_cols, &|a, b| {
                Cow::Borrowed(data.get(a as usize..b as usize).unwrap_or(&[]))
            }),
            JsInput::TypedF32 { array, n_cols } => typed(array.length(), n_cols, &|a, b| {
                Cow::Owned(
                    array
                        .subarray(a, b)
                        .to_vec()
                        .into_iter()
                        .map(f64::from)
                        .collect(),
                )
            }),
            JsInput::Rows(rows) => {
                let n_features = self.rows_width(&rows)?;
                let mut cells =
                    Vec::with_capacity((rows.length() as usize).saturating_mul(n_features));
                for (i, row) in rows.iter().enumerate() {
                    cells.extend(self.parse_row(&row, i, n_features)?);
                }
                let table = Table::new(cells, n_features).map_err(js_error)?;
                f(Input::Table(&table)).map_err(js_error)
            }
        }
    }

    /// Whether `predict` returns numbers (values, or class labels that are all numbers) —
    /// a `Float64Array` — rather than an array of strings or booleans.
    fn predicts_numbers(&self) -> bool {
        match (self.inner.output_classes(), self.inner.classes()) {
            (Some(outputs), _) => outputs.iter().all(|c| is_numeric(c)),
            (None, Some(classes)) => is_numeric(classes),
            (None, None) => true,
        }
    }

    fn predict_from(&self, x: Source, n_cols: Option<u32>) -> Result<Predicted, JsValue> {
        guarded(|| {
            let mut values = Vec::new();
            let mut indices = Vec::new();
            self.for_each_chunk(&x, n_cols, |rows| {
                match self.inner.predict(rows)? {
                    Predictions::Values { data, .. } => append(&mut values, data),
                    Predictions::ClassIndices(i)
                    | Predictions::MultiClassIndices { indices: i, .. } => append(&mut indices, i),
                }
                Ok(())
            })?;
            let numeric = self.predicts_numbers();
            Ok(if let Some(outputs) = self.inner.output_classes() {
                // Row-major `nRows × nOutputs` labels, each in its output's type (like a
                // multi-output regressor's values): numbers when every output's labels are.
                let k = outputs.len().max(1);
                let labels = indices
                    .chunks_exact(k)
                    .flat_map(|row| outputs.iter().copied().zip(row.iter().copied()));
                labels_out(labels, numeric)
            } else if let Some(classes) = self.inner.classes() {
                labels_out(indices.iter().map(|&i| (classes, i)), numeric)
            } else {
                Predicted::Numbers(values)
            })
        })
    }

    /// A method whose result is numbers (see [`method`]), on input from either source.
    fn numbers(&self, method: u32, x: Source, n_cols: Option<u32>) -> Result<Vec<f64>, JsValue> {
        match method {
            method::PREDICT_PROBA => self.predict_proba_from(x, n_cols),
            method::DECISION_FUNCTION => {
                self.numbers_per_chunk(x, n_cols, &|rows| Ok(self.inner.decision_function(rows)?.0))
            }
            method::SCORE_SAMPLES => {
                self.numbers_per_chunk(x, n_cols, &|rows| self.inner.score_samples(rows))
            }
            method::TRANSFORM => {
                self.numbers_per_chunk(x, n_cols, &|rows| Ok(self.inner.transform(rows)?.0))
            }
            method::APPLY => {
                self.numbers_per_chunk(x, n_cols, &|rows| Ok(self.inner.apply(rows)?.0))
            }
            _ => Err(js_error(Error::new(
                ErrorCode::Internal,
                format!("no numeric method {method}"),
            ))),
        }
    }

    /// [`Self::numbers`] on the caller's JS value, as a `Float64Array`.
    fn numbers_js(
        &self,
        method: u32,
        x: ModelInput,
        n_cols: Option<u32>,
    ) -> Result<Float64Array, JsValue> {
        self.numbers(method, x.into(), n_cols)
            .map(|v| Float64Array::from(v.as_slice()))
    }

    fn predict_proba_from(&self, x: Source, n_cols: Option<u32>) -> Result<Vec<f64>, JsValue> {
        let Some(outputs) = self.inner.output_classes() else {
            return self.numbers_per_chunk(x, n_cols, &|rows| self.inner.predict_proba(rows));
        };
        guarded(|| {
            // Chunks of a typed array each return their own blocks: regroup them per output.
            let widths: Vec<usize> = outputs.iter().map(|c| c.len()).collect();
            let mut per_output: Vec<Vec<f64>> = vec![Vec::new(); widths.len()];
            self.for_each_chunk(&x, n_cols, |rows| {
                let n_rows = match rows {
                    Input::Rows(r) => r.n_rows(),
                    Input::Table(t) => t.n_rows(),
                };
                let all = self.inner.predict_proba(rows)?;
                let mut at = 0;
                for (out, w) in per_output.iter_mut().zip(&widths) {
                    let end = at + n_rows * w;
                    out.extend_from_slice(all.get(at..end).unwrap_or(&[]));
                    at = end;
                }
                Ok(())
            })?;
            Ok(per_output.concat())
        })
    }

    fn labels_to_js(&self, indices: &[usize]) -> Result<JsValue, JsValue> {
        let classes = self.inner.classes().ok_or_else(|| {
            js_error(Error::new(
                ErrorCode::Internal,
                "classifier without class labels",
            ))
        })?;
        Ok(labels_js(
            indices.iter().map(|i| (classes, *i)),
            is_numeric(classes),
        ))
    }
}

/// Append a chunk's results; the first (often the only) chunk is moved, not copied.
fn append<T>(all: &mut Vec<T>, chunk: Vec<T>) {
    if all.is_empty() {
        *all = chunk;
    } else {
        all.extend(chunk);
    }
}

/// Whether a classifier's labels are numbers (they then travel as a Float64Array).
fn is_numeric(classes: &ClassLabels) -> bool {
    matches!(classes, ClassLabels::Int(_) | ClassLabels::Float(_))
}

/// Labels (each an index into its classes) as JS: a Float64Array when they are all numbers,
/// else an array of strings/booleans/numbers in their own types.
fn labels_js<'c>(labels: impl Iterator<Item = (&'c ClassLabels, usize)>, numeric: bool) -> JsValue {
    labels_out(labels, numeric).into()
}

/// What `predict` returns: numbers (values, or class labels that are all numbers), or labels
/// of other types as a JS array.
enum Predicted {
    Numbers(Vec<f64>),
    Labels(JsValue),
}

impl From<Predicted> for JsValue {
    fn from(p: Predicted) -> JsValue {
        match p {
            Predicted::Numbers(v) => Float64Array::from(v.as_slice()).into(),
            Predicted::Labels(labels) => labels,
        }
    }
}

/// [`labels_js`] before it becomes a JS value.
fn labels_out<'c>(
    labels: impl Iterator<Item = (&'c ClassLabels, usize)>,
    numeric: bool,
) -> Predicted {
    if numeric {
        Predicted::Numbers(
            labels
                .map(|(classes, i)| match classes {
                    ClassLabels::Int(v) => v.get(i).map_or(f64::NAN, |l| *l as f64),
                    ClassLabels::Float(v) => v.get(i).copied().unwrap_or(f64::NAN),
                    _ => f64::NAN,
                })
                .collect(),
        )
    } else {
        Predicted::Labels(
            labels
                .map(|(classes, i)| label_js(classes, i))
                .collect::<Array>()
                .into(),
        )
    }
}

/// One class label as a JS value in its own type.
fn label_js(classes: &ClassLabels, i: usize) -> JsValue {
    match classes {
        ClassLabels::Int(v) => v.get(i).map_or(JsValue::NULL, |l| JsValue::from(*l as f64)),
        ClassLabels::Float(v) => v.get(i).map_or(JsValue::NULL, |l| JsValue::from(*l)),
        ClassLabels::Str(v) => v.get(i).map_or(JsValue::NULL, |l| JsValue::from_str(l)),
        ClassLabels::Bool(v) => v.get(i).map_or(JsValue::NULL, |l| JsValue::from_bool(*l)),
    }
}

/// One input cell: a number, string or boolean, or null/undefined/NaN for missing.
#[cfg_attr(wasm_size_build, optimize(size))]
fn cell_value(cell: &JsValue, row: usize, column: &str) -> Result<Cell, JsValue> {
    if let Some(v) = cell.as_f64() {
        return Ok(if v.is_nan() {
            Cell::Missing
        } else {
            Cell::Num(v)
        });
    }
    if cell.is_null() || cell.is_undefined() {
        return Ok(Cell::Missing);
    }
    if let Some(s) = cell.as_string() {
        return Ok(Cell::Str(s));
    }
    if let Some(b) = cell.as_bool() {
        return Ok(Cell::Bool(b));
    }
    let found = cell.js_typeof().as_string().unwrap_or_default();
    Err(bad_input(format!(
        "row {row}, column {column:?}: expected a number, string, boolean or null, found a {found}"
    )))
}

#[wasm_bindgen]
impl Model {
    /// Predict: regression values (`Float64Array`, `nRows × nOutputs` row-major) or class
    /// labels (numbers as a `Float64Array`; strings and booleans as an array).
    pub fn predict(
        &self,
        x: ModelInput,
        #[wasm_bindgen(js_name = nCols)] n_cols: Option<u32>,
    ) -> Result<PredictOutput, JsValue> {
        self.predict_from(x.into(), n_cols)
            .map(|p| JsValue::from(p).unchecked_into())
    }

    /// Per-row results for a batch with bad rows in it: one entry per input row, in order —
    /// `{ ok: true, prediction, probabilities? }` or `{ ok: false, error }` (an `Error` with a
    /// `code`). Good rows are predicted together; no row is dropped or reordered.
    #[wasm_bindgen(js_name = predictRows)]
    #[cfg_attr(wasm_size_build, optimize(size))]
    pub fn predict_rows(
        &self,
        x: ModelInput,
        #[wasm_bindgen(js_name = nCols)] n_cols: Option<u32>,
    ) -> Result<RowResults, JsValue> {
        guarded(|| {
            let x = Source::from(x);
            let width: usize;
            // Every row: its values, or the error that stops it.
            let mut parsed: Vec<Result<Vec<Cell>, JsValue>> = Vec::new();
            match self.input(&x, n_cols)? {
                JsInput::Rows(rows) => {
                    width = self.rows_width(&rows)?;
                    for (i, row) in rows.iter().enumerate() {
                        parsed.push(self.parse_row(&row, i, width));
                    }
                }
                JsInput::Typed { n_cols: typed, .. }
                | JsInput::Slice { n_cols: typed, .. }
                | JsInput::TypedF32 { n_cols: typed, .. } => {
                    width = typed;
                    self.for_each_chunk(&x, n_cols, |input| {
                        if let Input::Rows(rows) = input {
                            parsed.extend(
                                rows.iter()
                                    .map(|r| Ok(r.iter().map(|v| Cell::Num(*v)).collect())),
                            );
                        }
                        Ok(())
                    })?;
                }
            }
            let mut good = Vec::new();
            let mut good_rows = Vec::new();
            for (i, row) in parsed.iter_mut().enumerate() {
                if let Ok(values) = row {
                    match self.inner.check_cells(i, values) {
                        Ok(()) => {
                            good.extend_from_slice(values);
                            good_rows.push(i);
                        }
                        Err(e) => *row = Err(js_error(e)),
                    }
                }
            }
            let rows = Table::new(good, width).map_err(js_error)?;
            let labels: Vec<JsValue> = match self.inner.predict(&rows).map_err(js_error)? {
                Predictions::Values { data, n_cols } => data
                    .chunks_exact(n_cols.max(1))
                    .map(|v| match v {
                        [single] => JsValue::from(*single),
                        _ => Float64Array::from(v).into(),
                    })
                    .collect(),
                Predictions::ClassIndices(indices) => {
                    let all: Array = match self.labels_to_js(&indices)?.dyn_into::<Float64Array>() {
                        Ok(numbers) => numbers.to_vec().into_iter().map(JsValue::from).collect(),
                        Err(array) => array.unchecked_into(),
                    };
                    all.iter().collect()
                }
                Predictions::MultiClassIndices { indices, n_outputs } => {
                    let outputs = self.inner.output_classes().unwrap_or_default();
                    indices
                        .chunks_exact(n_outputs.max(1))
                        .map(|row| -> JsValue {
                            row.iter()
                                .zip(&outputs)
                                .map(|(i, classes)| label_js(classes, *i))
                                .collect::<Array>()
                                .into()
                        })
                        .collect()
                }
            };
            let outputs = self.inner.output_classes();
            let proba = if self.inner.classes().is_some()
                || (outputs.is_some() && self.inner.has_proba())
            {
                Some(self.inner.predict_proba(&rows).map_err(js_error)?)
            } else {
                None
            };
            // Class count per output (one output for single-output classifiers).
            let widths: Vec<usize> = match &outputs {
                Some(o) => o.iter().map(|c| c.len()).collect(),
                None => vec![self.inner.classes().map_or(1, ClassLabels::len).max(1)],
            };
            let n_good = good_rows.len();
            let row_proba = |p: &[f64], row: usize| -> JsValue {
                let mut at = 0;
                let parts: Vec<JsValue> = widths
                    .iter()
                    .map(|&w| {
                        let start = at + row * w;
                        at += n_good * w;
                        Float64Array::from(p.get(start..start + w).unwrap_or(&[])).into()
                    })
                    .collect();
                match parts.as_slice() {
                    [one] => one.clone(),
                    // Multi-output: the row's blocks one after the other, as predictProba.
                    _ => {
                        let joined: Vec<f64> = parts
                            .iter()
                            .flat_map(|p| p.unchecked_ref::<Float64Array>().to_vec())
                            .collect();
                        Float64Array::from(joined.as_slice()).into()
                    }
                }
            };
            let out = Array::new();
            let mut next_good = 0;
            for row in parsed {
                let entry = Object::new();
                match row {
                    Ok(_) => {
                        Reflect::set(&entry, &"ok".into(), &JsValue::TRUE)?;
                        let label = labels.get(next_good).cloned().unwrap_or(JsValue::NULL);
                        Reflect::set(&entry, &"prediction".into(), &label)?;
                        if let Some(p) = &proba {
                            Reflect::set(
                                &entry,
                                &"probabilities".into(),
                                &row_proba(p, next_good),
                            )?;
                        }
                        next_good += 1;
                    }
                    Err(error) => {
                        Reflect::set(&entry, &"ok".into(), &JsValue::FALSE)?;
                        Reflect::set(&entry, &"error".into(), &error)?;
                    }
                }
                out.push(&entry);
            }
            debug_assert_eq!(next_good, good_rows.len());
            Ok(out.unchecked_into())
        })
    }

    /// Class probabilities, `nRows × nClasses` row-major, columns in `metadata.classes` order;
    /// for a multi-output classifier, scikit-learn's list as consecutive blocks: output `o`'s
    /// `nRows × metadata.outputClasses[o].length` matrix, then the next output's.
    #[wasm_bindgen(js_name = predictProba)]
    pub fn predict_proba(
        &self,
        x: ModelInput,
        #[wasm_bindgen(js_name = nCols)] n_cols: Option<u32>,
    ) -> Result<Float64Array, JsValue> {
        self.numbers_js(method::PREDICT_PROBA, x, n_cols)
    }

    /// Outlier detectors (IsolationForest): scikit-learn's `score_samples`, one per row (lower
    /// is more anomalous).
    #[wasm_bindgen(js_name = scoreSamples)]
    pub fn score_samples(
        &self,
        x: ModelInput,
        #[wasm_bindgen(js_name = nCols)] n_cols: Option<u32>,
    ) -> Result<Float64Array, JsValue> {
        self.numbers_js(method::SCORE_SAMPLES, x, n_cols)
    }

    /// Raw class scores, `nRows × nScores` row-major (one column for binary classifiers); for
    /// outlier detectors, `score_samples − offset_` (negative = outlier).
    #[wasm_bindgen(js_name = decisionFunction)]
    pub fn decision_function(
        &self,
        x: ModelInput,
        #[wasm_bindgen(js_name = nCols)] n_cols: Option<u32>,
    ) -> Result<Float64Array, JsValue> {
        self.numbers_js(method::DECISION_FUNCTION, x, n_cols)
    }

    /// A transformer's output (a fitted ColumnTransformer, scaler or encoder saved on its own,
    /// or a Pipeline ending in one), `nRows × metadata.nOutputs` row-major; for KMeans, the
    /// distance to each cluster centre.
    pub fn transform(
        &self,
        x: ModelInput,
        #[wasm_bindgen(js_name = nCols)] n_cols: Option<u32>,
    ) -> Result<Float64Array, JsValue> {
        self.numbers_js(method::TRANSFORM, x, n_cols)
    }

    /// LabelEncoder / LabelBinarizer: the labels of codes (`[0, 2, 1]`) or of indicator rows
    /// (`nRows × nOutputs`, as `transform` returns them), in the classes' own type.
    #[wasm_bindgen(js_name = inverseTransform)]
    #[cfg_attr(wasm_size_build, optimize(size))]
    pub fn inverse_transform(
        &self,
        x: JsValue,
        #[wasm_bindgen(js_name = nCols)] n_cols: Option<u32>,
    ) -> Result<PredictOutput, JsValue> {
        guarded(|| {
            let width = self.inner.n_outputs();
            let (values, cols) = if let Some(a) = x.dyn_ref::<Float64Array>() {
                (a.to_vec(), n_cols.map_or(width, |c| c as usize))
            } else if Array::is_array(&x) {
                let rows: &Array = x.unchecked_ref();
                let mut values = Vec::new();
                let mut cols = 1;
                for (i, row) in rows.iter().enumerate() {
                    if Array::is_array(&row) {
                        let cells: &Array = row.unchecked_ref();
                        cols = cells.length() as usize;
                        values.extend(cells.iter().map(|c| c.as_f64().unwrap_or(f64::NAN)));
                    } else {
                        values.push(row.as_f64().ok_or_else(|| {
                            bad_input(format!("row {i}: a code must be a number"))
                        })?);
                    }
                }
                (values, cols)
            } else {
                return Err(bad_input(
                    "inverseTransform takes a Float64Array or an array of codes (or of rows)",
                ));
            };
            if cols == 0 || values.len() % cols != 0 {
                return Err(js_error(Error::shape(format!(
                    "{} values do not make rows of {cols}",
                    values.len()
                ))));
            }
            let indices = self
                .inner
                .inverse_transform(&values, cols)
                .map_err(js_error)?;
            Ok(self.labels_to_js(&indices)?.unchecked_into())
        })
    }

    /// scikit-learn's `apply` (trees, forests, gradient boosting): the index of the leaf each
    /// tree sends each row to, `nRows × nTrees` row-major.
    pub fn apply(
        &self,
        x: ModelInput,
        #[wasm_bindgen(js_name = nCols)] n_cols: Option<u32>,
    ) -> Result<Float64Array, JsValue> {
        self.numbers_js(method::APPLY, x, n_cols)
    }

    /// Whether `predict` returns a `Float64Array` (so it can take [`Self::typed_call`]).
    #[doc(hidden)]
    #[wasm_bindgen(js_name = "__predictsNumbers", skip_typescript)]
    pub fn predicts_numbers_js(&self) -> bool {
        self.predicts_numbers()
    }

    /// The typed-array fast path: `predict` (numeric predictions only), `predictProba`, `decisionFunction`, `scoreSamples`,
    /// `transform` or `apply` (`method` 0–5) on a small `Float64Array`, which the JS glue copies
    /// straight into wasm memory (`pkg-config/typed-fast-path.js` routes calls here). Passing
    /// the array as a JS object instead costs ~0.5 µs more per call (imports to check its type,
    /// read its length and copy it), a fifth of a single-row tree prediction. Same code and
    /// errors as the public methods. Not part of the API.
    #[doc(hidden)]
    #[wasm_bindgen(js_name = "__typedCall", skip_typescript)]
    pub fn typed_call(
        &self,
        method: u32,
        x: &[f64],
        n_cols: Option<u32>,
    ) -> Result<Vec<f64>, JsValue> {
        // The glue routes only small arrays here; a direct call stays within one chunk too.
        if x.len() > TYPED_CALL_MAX_VALUES {
            return Err(js_error(Error::new(
                ErrorCode::Internal,
                format!(
                    "__typedCall takes at most {TYPED_CALL_MAX_VALUES} values; call the public \
                     methods"
                ),
            )));
        }
        if method != method::PREDICT {
            return self.numbers(method, Source::F64(x), n_cols);
        }
        match self.predict_from(Source::F64(x), n_cols)? {
            Predicted::Numbers(v) => Ok(v),
            Predicted::Labels(_) => Err(js_error(Error::new(
                ErrorCode::Internal,
                "the typed-array path of predict is for numeric predictions",
            ))),
        }
    }

    /// Facts about the model as a plain object.
    #[wasm_bindgen(getter)]
    #[cfg_attr(wasm_size_build, optimize(size))]
    pub fn metadata(&self) -> Result<MetadataObject, JsValue> {
        guarded(|| {
            let m = &self.inner.metadata;
            let view = MetadataView {
                name: &m.name,
                version: &m.version,
                source_library: &m.source_library,
                source_library_version: &m.source_library_version,
                estimator_class: &m.estimator_class,
                source_format: &m.source_format,
                feature_names: &m.feature_names,
                feature_names_from_source: m.feature_names_from_source,
                n_features: self.inner.n_features(),
                output_kind: self.inner.output_kind().as_str(),
                n_outputs: self.inner.n_outputs(),
                classes: self.inner.classes().map(label_views),
                output_classes: self
                    .inner
                    .output_classes()
                    .map(|outputs| outputs.into_iter().map(label_views).collect()),
                created_unix_ms: m.created_unix_ms,
                wasm_predict_version: crate::VERSION,
                bundle_format_version: crate::formats::bundle::FORMAT_VERSION,
            };
            let serializer = serde_wasm_bindgen::Serializer::json_compatible();
            let value = view
                .serialize(&serializer)
                .map_err(|e| js_error(Error::new(ErrorCode::Internal, format!("metadata: {e}"))))?;
            Ok(value.unchecked_into())
        })
    }

    /// Save as a wasm-predict bundle (loads faster, predicts identically).
    #[wasm_bindgen(js_name = toBundle)]
    #[cfg_attr(wasm_size_build, optimize(size))]
    pub fn to_bundle(&self) -> Result<Uint8Array, JsValue> {
        guarded(|| {
            let bytes = crate::to_bundle(&self.inner).map_err(js_error)?;
            Ok(Uint8Array::from(bytes.as_slice()))
        })
    }
}
