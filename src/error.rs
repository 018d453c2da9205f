//! The one error type of the crate.
//!
//! Every failure a caller can see carries a stable [`ErrorCode`] (what kind of failure, for code
//! to branch on) and a message for a person (what went wrong and where: byte offset, pickle class,
//! attribute, row, column). The wasm skin turns it into a JS `Error` with a `code` property.

use std::fmt;

/// Stable, machine-readable failure categories. The strings returned by [`ErrorCode::as_str`]
/// are part of the public API: never rename one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// The bytes are not a well-formed file of any supported format (truncated, bad opcode,
    /// wrong magic, checksum mismatch).
    BadFormat,
    /// The file is well-formed but names a class or function outside the allow-list.
    UnsupportedClass,
    /// A bundle written by a newer wasm-predict, or a format variant not implemented.
    UnsupportedVersion,
    /// A load limit (bytes, nesting depth, string length, …) was hit.
    LimitExceeded,
    /// The model's fitted state is inconsistent (shapes disagree, wrong dtype for an attribute).
    InvalidModel,
    /// Prediction input has the wrong number of columns or rows.
    ShapeMismatch,
    /// Prediction input or an option has a wrong type or value (NaN where not allowed, unknown
    /// feature name, non-numeric cell).
    BadInput,
    /// The model cannot do what was asked (e.g. `predictProba` on a regressor).
    UnsupportedOperation,
    /// A bug in wasm-predict. Please report it.
    Internal,
}

impl ErrorCode {
    /// The stable string form, e.g. `"BAD_FORMAT"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadFormat => "BAD_FORMAT",
            ErrorCode::UnsupportedClass => "UNSUPPORTED_CLASS",
            ErrorCode::UnsupportedVersion => "UNSUPPORTED_VERSION",
            ErrorCode::LimitExceeded => "LIMIT_EXCEEDED",
            ErrorCode::InvalidModel => "INVALID_MODEL",
            ErrorCode::ShapeMismatch => "SHAPE_MISMATCH",
            ErrorCode::BadInput => "BAD_INPUT",
            ErrorCode::UnsupportedOperation => "UNSUPPORTED_OPERATION",
            ErrorCode::Internal => "INTERNAL",
        }
    }
}

/// An error with a stable code and a human-readable message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    code: ErrorCode,
    message: String,
}

/// The crate's result type.
pub type Result<T> = core::result::Result<T, Error>;

impl Error {
    /// A new error; prefer the shorthand constructors below.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
        }
    }
    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }
    /// The message, without the code.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// Prefix the message with where the error happened (e.g. the attribute being read), so
    /// that errors deep in a reader still say which part of the model they concern.
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }

    pub(crate) fn bad_format(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadFormat, message)
    }
    pub(crate) fn unsupported_class(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::UnsupportedClass, message)
    }
    pub(crate) fn unsupported_version(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::UnsupportedVersion, message)
    }
    pub(crate) fn limit(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::LimitExceeded, message)
    }
    pub(crate) fn invalid_model(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidModel, message)
    }
    pub(crate) fn shape(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ShapeMismatch, message)
    }
    pub(crate) fn bad_input(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadInput, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for Error {}
