//! Importers: bytes → a format-shaped document → the core model. One module per format.

pub mod bundle;
mod checksum;
pub mod joblib;
pub mod jsondoc;
pub mod lightgbm;
pub mod pickle;
pub mod sklearn;
pub mod xgboost;

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
    // A UBJSON object starts with `{` and its first key's length marker; JSON with `{` then
    // whitespace or a quote.
    match bytes {
        [b'{', b'i' | b'U' | b'I' | b'l' | b'L', ..] => return Ok(Format::XgboostUbjson),
        _ if bytes.trim_ascii_start().starts_with(b"{") => return Ok(Format::XgboostJson),
        _ => {}
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
