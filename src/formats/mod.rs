//! Importers: bytes → a format-shaped document → the core model. One module per format.

pub mod bundle;
mod checksum;
pub mod pickle;
pub mod sklearn;

use crate::error::{Error, ErrorCode, Result};

/// What a file is, decided from its first bytes only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Bundle,
    Pickle,
}

/// Recognise the format by content (never by file name). Files we know but cannot read yet get
/// an error that says what they are.
pub fn sniff(bytes: &[u8]) -> Result<Format> {
    if bytes.starts_with(bundle::MAGIC) {
        return Ok(Format::Bundle);
    }
    match bytes {
        [] => Err(Error::bad_format("the file is empty")),
        [0x80, 2..=5, ..] => Ok(Format::Pickle),
        [0x80, p, ..] => Err(Error::new(
            ErrorCode::UnsupportedVersion,
            format!("pickle protocol {p} is not supported (protocols 2 to 5 are)"),
        )),
        [0x78, 0x01 | 0x5e | 0x9c | 0xda, ..]
        | [0x1f, 0x8b, ..]
        | [b'B', b'Z', b'h', ..]
        | [0x5d, 0x00, ..]
        | [0xfd, b'7', b'z', b'X', b'Z', ..]
        | [0x04, 0x22, 0x4d, 0x18, ..] => Err(Error::new(
            ErrorCode::UnsupportedVersion,
            "this looks like a compressed joblib file; compressed joblib is not supported yet \
             (save with joblib.dump(model, path, compress=0) or pickle.dump)",
        )),
        [b'Z', b'F', ..] => Err(Error::new(
            ErrorCode::UnsupportedVersion,
            "this is a legacy joblib file (joblib < 0.10), which is not supported",
        )),
        [first, ..] => Err(Error::bad_format(format!(
            "not a model file wasm-predict can read: it starts with byte {first:#04x}, \
             expected a pickle (0x80) or a wasm-predict bundle"
        ))),
    }
}
