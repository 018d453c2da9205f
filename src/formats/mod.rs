//! Importers: bytes → a format-shaped document → the core model. One module per format.

pub mod bundle;
mod checksum;
pub mod joblib;
pub mod jsondoc;
pub mod lightgbm;
pub mod pickle;
pub mod sklearn;
pub mod xgboost;

use crate::core::tree_models::HistBoosted;
use crate::core::{Estimator, Metadata, Model};
use crate::error::{Error, ErrorCode, Result};

/// What a file is, decided from its first bytes only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Bundle,
    /// A pickle stream, possibly a plain `joblib.dump` file (told apart while reading).
    Pickle,
    /// A compressed `joblib.dump` file.
    CompressedJoblib(joblib::Codec),
    /// A LightGBM text model (`save_model`, `model_to_string`).
    LightGbmText,
    /// An XGBoost `save_model` JSON file.
    XgboostJson,
    /// An XGBoost `save_model` UBJSON file (the default since 2.1).
    XgboostUbjson,
}

/// Recognise the format by content (never by file name). Files we know but cannot read yet get
/// an error that says what they are.
#[cfg_attr(wasm_size_build, optimize(size))]
pub fn sniff(bytes: &[u8]) -> Result<Format> {
    if bytes.starts_with(bundle::MAGIC) {
        return Ok(Format::Bundle);
    }
    if let Some(codec) = joblib::Codec::sniff(bytes) {
        return Ok(Format::CompressedJoblib(codec));
    }
    if lightgbm::is_text_model(bytes) {
        return Ok(Format::LightGbmText);
    }
    if jsondoc::is_ubjson(bytes) {
        return Ok(Format::XgboostUbjson);
    }
    if bytes.trim_ascii_start().starts_with(b"{") {
        return Ok(Format::XgboostJson);
    }
    match bytes {
        [] => Err(Error::bad_format("the file is empty")),
        [0x80, 2..=5, ..] => Ok(Format::Pickle),
        [0x80, p, ..] => Err(Error::new(
            ErrorCode::UnsupportedVersion,
            format!("pickle protocol {p} is not supported (protocols 2 to 5 are)"),
        )),
        [b'Z', b'F', ..] => Err(Error::new(
            ErrorCode::UnsupportedVersion,
            "this is a legacy joblib file (joblib < 0.10), which is not supported",
        )),
        [first, ..] => Err(Error::bad_format(format!(
            "not a model file wasm-predict can read: it starts with byte {first:#04x}, \
             expected a pickle (0x80), a LightGBM text model, an XGBoost JSON/UBJSON model or a \
             wasm-predict bundle"
        ))),
    }
}

/// A boosted model read from its own library's file (LightGBM, XGBoost): the evaluator plus the
/// facts its metadata reports.
pub struct BoosterImport {
    pub model: HistBoosted,
    pub feature_names: Vec<String>,
    /// Whether the names were given at training (not the library's default names).
    pub named_features: bool,
    /// "lightgbm" or "xgboost".
    pub library: &'static str,
    /// What the file says of the library's version, e.g. "3.2.0" or "model format v4".
    pub library_version: String,
    /// The objective as written in the file.
    pub objective: String,
}

impl BoosterImport {
    /// The core model with its metadata. `class` names the Python class the model came from.
    #[cfg_attr(wasm_size_build, optimize(size))]
    pub fn into_model(
        self,
        class: &str,
        source_format: String,
        created_unix_ms: u64,
    ) -> Result<Model> {
        let metadata = Metadata {
            name: class.rsplit('.').next().unwrap_or(class).to_owned(),
            version: "1".to_owned(),
            source_library: self.library.to_owned(),
            source_library_version: format!(
                "{} (objective {})",
                self.library_version, self.objective
            ),
            estimator_class: class.to_owned(),
            source_format,
            feature_names: self.feature_names,
            feature_names_from_source: self.named_features,
            created_unix_ms,
        };
        Model::new(metadata, Estimator::HistBoosted(self.model))
    }
}
