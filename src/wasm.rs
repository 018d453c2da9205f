//! The wasm-bindgen skin: converts JS arguments, makes one core call, converts the result.
//!
//! Every failure becomes a JS `Error` whose `code` property is the stable [`ErrorCode`] string,
//! so callers can branch on it. Numeric outputs are typed arrays, never JSON.

use js_sys::{Array, ArrayBuffer, Float32Array, Float64Array, Object, Reflect, Uint8Array};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::core::{ClassLabels, Predictions, Rows};
use crate::error::{Error, ErrorCode};
use crate::LoadOptions;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
/** Rows to predict: a flat typed array (row-major, with `nCols` columns), an array of row
 *  arrays, or an array of objects keyed by feature name. */
export type ModelInput =
  | Float64Array
  | Float32Array
  | ArrayLike<number | null | undefined>[]
  | Record<string, number | null | undefined>[];

/** A class label in the type the model was trained with. */
export type ClassLabel = number | string | boolean;

/** Options for `load`. */
export interface LoadOptions {
  /** Name recorded in the metadata (defaults to the estimator class). */
  name?: string;
  /** Version recorded in the metadata (defaults to "1"). */
  version?: string;
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
  outputKind: "regression" | "classification";
  nOutputs: number;
  /** Class labels in `predictProba` column order; null for regressors. */
  classes: ClassLabel[] | null;
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
}

/// Turn a core error into a JS `Error` with a `code` property.
fn js_error(error: Error) -> JsValue {
    let js = js_sys::Error::new(error.message());
    js.set_name("WasmPredictError");
    // Setting a property on a fresh Error object cannot fail.
    let _ = Reflect::set(&js, &"code".into(), &error.code().as_str().into());
    js.into()
}

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
            other => {
                return Err(bad_input(format!(
                    "unknown load() option {other:?} (known: name, version)"
                )))
            }
        }
    }
    Ok(options)
}

/// Load a model from the bytes of a scikit-learn pickle or a wasm-predict bundle.
/// Nothing in the file is executed; unknown classes are refused.
#[wasm_bindgen]
pub fn load(bytes: BytesArg, options: Option<LoadOptionsArg>) -> Result<Model, JsValue> {
    // Any residual panic then logs its message to the console before the wasm trap.
    console_error_panic_hook::set_once();
    let bytes = bytes_from(&bytes.into())?;
    let options = options_from(options)?;
    let inner = crate::load(&bytes, &options).map_err(js_error)?;
    Ok(Model { inner })
}

/// The wasm-predict version.
#[wasm_bindgen]
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
    created_unix_ms: u64,
    wasm_predict_version: &'static str,
    bundle_format_version: u16,
}

fn label_views(labels: &ClassLabels) -> Vec<LabelView<'_>> {
    match labels {
        ClassLabels::Int(v) => v.iter().map(|l| LabelView::Int(*l)).collect(),
        ClassLabels::Float(v) => v.iter().map(|l| LabelView::Float(*l)).collect(),
        ClassLabels::Str(v) => v.iter().map(|l| LabelView::Str(l)).collect(),
        ClassLabels::Bool(v) => v.iter().map(|l| LabelView::Bool(*l)).collect(),
    }
}

impl Model {
    /// Convert any supported input form into a row-major f64 buffer and its column count.
    fn read_input(&self, x: &JsValue, n_cols: Option<u32>) -> Result<(Vec<f64>, usize), JsValue> {
        let n_features = self.inner.n_features();
        let typed_cols = || n_cols.map_or(n_features, |c| c as usize);
        if let Some(array) = x.dyn_ref::<Float64Array>() {
            return Ok((array.to_vec(), typed_cols()));
        }
        if let Some(array) = x.dyn_ref::<Float32Array>() {
            return Ok((
                array.to_vec().into_iter().map(f64::from).collect(),
                typed_cols(),
            ));
        }
        if !Array::is_array(x) {
            return Err(bad_input(
                "input must be a Float64Array or Float32Array (with a column count), an array of row arrays, or an array of row objects keyed by feature name",
            ));
        }
        let rows: &Array = x.unchecked_ref();
        if let Some(cols) = n_cols {
            if cols as usize != n_features {
                return Err(js_error(Error::shape(format!(
                    "nCols is {cols} but the model takes {n_features} features"
                ))));
            }
        }
        let names = &self.inner.metadata.feature_names;
        let mut data = Vec::with_capacity((rows.length() as usize).saturating_mul(n_features));
        for (row_index, row) in rows.iter().enumerate() {
            if Array::is_array(&row) {
                let cells: &Array = row.unchecked_ref();
                if cells.length() as usize != n_features {
                    return Err(js_error(Error::shape(format!(
                        "row {row_index} has {} values but the model takes {n_features} features",
                        cells.length()
                    ))));
                }
                for (col, cell) in cells.iter().enumerate() {
                    data.push(cell_value(&cell, row_index, &names[col])?);
                }
            } else if row.is_object() {
                for name in names {
                    let cell = Reflect::get(&row, &name.into())?;
                    if cell.is_undefined() && !Reflect::has(&row, &name.into())? {
                        return Err(bad_input(format!(
                            "row {row_index}: missing column {name:?}"
                        )));
                    }
                    data.push(cell_value(&cell, row_index, name)?);
                }
                let object: &Object = row.unchecked_ref();
                let keys = Object::keys(object);
                if keys.length() as usize != names.len() {
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
            } else {
                return Err(bad_input(format!(
                    "row {row_index} must be an array of numbers or an object keyed by feature name"
                )));
            }
        }
        Ok((data, n_features))
    }

    fn with_rows<T>(
        &self,
        x: &JsValue,
        n_cols: Option<u32>,
        f: impl FnOnce(&Rows) -> crate::Result<T>,
    ) -> Result<T, JsValue> {
        let (data, cols) = self.read_input(x, n_cols)?;
        let rows = Rows::new(&data, cols).map_err(js_error)?;
        f(&rows).map_err(js_error)
    }
}

/// One input cell: a number, or null/undefined for missing (NaN).
fn cell_value(cell: &JsValue, row: usize, column: &str) -> Result<f64, JsValue> {
    if let Some(v) = cell.as_f64() {
        return Ok(v);
    }
    if cell.is_null() || cell.is_undefined() {
        return Ok(f64::NAN);
    }
    let found = cell.js_typeof().as_string().unwrap_or_default();
    Err(bad_input(format!(
        "row {row}, column {column:?}: expected a number, found a {found}"
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
        let predictions = self.with_rows(&x.into(), n_cols, |rows| self.inner.predict(rows))?;
        let out: JsValue = match predictions {
            Predictions::Values { data, .. } => Float64Array::from(data.as_slice()).into(),
            Predictions::ClassIndices(indices) => {
                let classes = self.inner.classes().ok_or_else(|| {
                    js_error(Error::new(
                        ErrorCode::Internal,
                        "classifier without class labels",
                    ))
                })?;
                let pick = |i: &usize| *i;
                match classes {
                    ClassLabels::Int(labels) => {
                        let values: Vec<f64> = indices
                            .iter()
                            .map(|i| labels.get(pick(i)).map_or(f64::NAN, |l| *l as f64))
                            .collect();
                        Float64Array::from(values.as_slice()).into()
                    }
                    ClassLabels::Float(labels) => {
                        let values: Vec<f64> = indices
                            .iter()
                            .map(|i| labels.get(pick(i)).copied().unwrap_or(f64::NAN))
                            .collect();
                        Float64Array::from(values.as_slice()).into()
                    }
                    ClassLabels::Str(labels) => indices
                        .iter()
                        .map(|i| JsValue::from_str(labels.get(pick(i)).map_or("", String::as_str)))
                        .collect::<Array>()
                        .into(),
                    ClassLabels::Bool(labels) => indices
                        .iter()
                        .map(|i| JsValue::from_bool(labels.get(pick(i)).copied().unwrap_or(false)))
                        .collect::<Array>()
                        .into(),
                }
            }
        };
        Ok(out.unchecked_into())
    }

    /// Class probabilities, `nRows × nClasses` row-major, columns in `metadata.classes` order.
    #[wasm_bindgen(js_name = predictProba)]
    pub fn predict_proba(
        &self,
        x: ModelInput,
        #[wasm_bindgen(js_name = nCols)] n_cols: Option<u32>,
    ) -> Result<Float64Array, JsValue> {
        let proba = self.with_rows(&x.into(), n_cols, |rows| self.inner.predict_proba(rows))?;
        Ok(Float64Array::from(proba.as_slice()))
    }

    /// Raw class scores, `nRows × nScores` row-major (one column for binary classifiers).
    #[wasm_bindgen(js_name = decisionFunction)]
    pub fn decision_function(
        &self,
        x: ModelInput,
        #[wasm_bindgen(js_name = nCols)] n_cols: Option<u32>,
    ) -> Result<Float64Array, JsValue> {
        let (scores, _) =
            self.with_rows(&x.into(), n_cols, |rows| self.inner.decision_function(rows))?;
        Ok(Float64Array::from(scores.as_slice()))
    }

    /// Facts about the model as a plain object.
    #[wasm_bindgen(getter)]
    pub fn metadata(&self) -> Result<MetadataObject, JsValue> {
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
            created_unix_ms: m.created_unix_ms,
            wasm_predict_version: crate::VERSION,
            bundle_format_version: crate::formats::bundle::FORMAT_VERSION,
        };
        let serializer = serde_wasm_bindgen::Serializer::json_compatible();
        let value = view
            .serialize(&serializer)
            .map_err(|e| js_error(Error::new(ErrorCode::Internal, format!("metadata: {e}"))))?;
        Ok(value.unchecked_into())
    }

    /// Save as a wasm-predict bundle (loads faster, predicts identically).
    #[wasm_bindgen(js_name = toBundle)]
    pub fn to_bundle(&self) -> Result<Uint8Array, JsValue> {
        let bytes = crate::to_bundle(&self.inner).map_err(js_error)?;
        Ok(Uint8Array::from(bytes.as_slice()))
    }
}
