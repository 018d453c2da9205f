//! wasm-predict: load a model file as saved in Python and predict exactly what the training
//! library predicts, natively or in WebAssembly.
//!
//! The crate has three layers, with dependencies pointing one way only:
//! - [`core`]: the model IR and its evaluation (no I/O, no formats, no JS);
//! - [`formats`]: importers (safe pickle reader, scikit-learn lowering, native bundle);
//! - `wasm` (wasm32 only): the thin wasm-bindgen skin that converts JS values and errors.
//!
//! ```no_run
//! let bytes = std::fs::read("model.pkl").unwrap();
//! let model = wasm_predict::load(&bytes, &wasm_predict::LoadOptions::default()).unwrap();
//! let x = [0.1, 0.2, 0.3, 0.4];
//! let rows = wasm_predict::core::Rows::new(&x, 4).unwrap();
//! let proba = model.predict_proba(&rows).unwrap();
//! ```

// The browser build (scripts/build-pkg.sh, nightly) sets `wasm_size_build`: the importers'
// functions then carry `#[optimize(size)]`, code run once per load, while the crate stays at -O3
// for the evaluation loops.
#![cfg_attr(wasm_size_build, feature(optimize_attribute))]

pub mod core;
pub mod error;
pub mod formats;
pub mod limits;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use crate::core::Model;
pub use error::{Error, ErrorCode, Result};
pub use limits::LoadLimits;

use formats::Format;

/// Options for [`load`].
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Overrides the model name recorded in the metadata.
    pub name: Option<String>,
    /// Overrides the model version recorded in the metadata.
    pub version: Option<String>,
    /// Caps on what reading the file may cost.
    pub limits: LoadLimits,
    /// The time to record as the import time (ms since the Unix epoch); the skin supplies the
    /// clock because the core has none.
    pub now_unix_ms: u64,
}

/// Load a model from a file's bytes: a scikit-learn pickle or a wasm-predict bundle, told apart
/// by content. Nothing in the file is executed.
pub fn load(bytes: &[u8], options: &LoadOptions) -> Result<Model> {
    let format = formats::sniff(bytes)?;
    let mut model = match format {
        Format::Bundle => formats::bundle::decode(bytes)?,
        Format::Pickle => import_pickle(bytes, options, None)?,
        Format::CompressedJoblib(codec) => {
            let inflated =
                formats::joblib::decompress(bytes, codec, options.limits.max_alloc_bytes)?;
            import_pickle(&inflated, options, Some(codec))?
        }
        Format::LightGbmText => formats::lightgbm::parse(bytes, 0, None, &options.limits)?
            .into_model(
                "lightgbm.Booster",
                "LightGBM text model".to_owned(),
                options.now_unix_ms,
            )?,
        Format::XgboostJson | Format::XgboostUbjson => {
            let (doc, kind) = if matches!(format, Format::XgboostJson) {
                (
                    formats::jsondoc::parse_json(bytes, &options.limits)?,
                    "JSON",
                )
            } else {
                (
                    formats::jsondoc::parse_ubjson(bytes, &options.limits)?,
                    "UBJSON",
                )
            };
            formats::xgboost::lower(&doc, &options.limits)?.into_model(
                "xgboost.Booster",
                format!("XGBoost {kind} model"),
                options.now_unix_ms,
            )?
        }
    };
    if let Some(name) = &options.name {
        model.metadata.name = name.clone();
    }
    if let Some(version) = &options.version {
        model.metadata.version = version.clone();
    }
    Ok(model)
}

fn import_pickle(
    bytes: &[u8],
    options: &LoadOptions,
    codec: Option<formats::joblib::Codec>,
) -> Result<Model> {
    let doc = formats::pickle::parse(bytes, &options.limits)?;
    let source_format = match (doc.joblib || codec.is_some(), codec) {
        (true, Some(codec)) => format!(
            "joblib ({} compressed, pickle protocol {})",
            codec.name(),
            doc.protocol
        ),
        (true, None) => format!("joblib (pickle protocol {})", doc.protocol),
        (false, _) => format!("pickle protocol {}", doc.protocol),
    };
    let ctx = formats::sklearn::ImportContext {
        source_format,
        created_unix_ms: options.now_unix_ms,
        limits: &options.limits,
    };
    formats::sklearn::lower(&doc, &ctx)
}

/// Save a model as a native bundle (see [`formats::bundle`]).
pub fn to_bundle(model: &Model) -> Result<Vec<u8>> {
    formats::bundle::encode(model)
}

/// The crate version, recorded in metadata.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
