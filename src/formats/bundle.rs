//! The native bundle: a loaded model saved compactly, to load fast and exactly.
//!
//! Layout (little-endian):
//!
//! | bytes | content |
//! |---|---|
//! | 0..8 | magic `WPBUNDLE` |
//! | 8..10 | format version (u16) |
//! | 10..12 | flags (u16, 0) |
//! | 12..16 | payload length N (u32) |
//! | 16..16+N | postcard-encoded [`Model`] |
//! | 16+N..20+N | CRC-32 of bytes 0..16+N |
//!
//! The version is read before anything else, so a bundle from a newer wasm-predict fails with
//! `UNSUPPORTED_VERSION` instead of decoding garbage. The payload is untrusted: after decoding,
//! the model goes through the same validation as a freshly imported one.

use crate::core::Model;
use crate::error::{Error, ErrorCode, Result};

pub const MAGIC: &[u8; 8] = b"WPBUNDLE";
/// Bumped whenever the payload's serde shape changes incompatibly. 2: histogram-boosting
/// split rules, category sets and output transforms (LightGBM). 3: per-node missing-value
/// directions and input rules for scikit-learn trees, AdaBoost, multi-output trees.
/// 4: column-wise preprocessing stages, naive Bayes, SVMs, neighbours, composite members.
/// 5: dummies, centroid models, transformer-only models, KBinsDiscretizer, QuantileTransformer,
/// PowerTransformer, KNNImputer, TargetEncoder (variants appended, so version 4 payloads decode
/// unchanged). 6: tree nodes field by field, their floats in byte planes (`core::packed`);
/// 4 and 5 still decode, their nodes read as records.
pub const FORMAT_VERSION: u16 = 6;
/// The first version whose tree nodes are packed field by field.
const PACKED_TREES: u16 = 6;
/// The oldest version this build decodes: 4's payload is a subset of 5's, and 5's is 6's with
/// tree nodes as records.
const OLDEST_READABLE: u16 = 4;
const HEADER_LEN: usize = 16;

/// Serialize a model into a bundle.
#[cfg_attr(wasm_size_build, optimize(size))]
pub fn encode(model: &Model) -> Result<Vec<u8>> {
    let payload = postcard::to_allocvec(model)
        .map_err(|e| Error::new(ErrorCode::Internal, format!("bundle encoding failed: {e}")))?;
    let len = u32::try_from(payload.len())
        .map_err(|_| Error::limit("model too large for a bundle (over 4 GiB)"))?;
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len() + 4);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&payload);
    let crc = super::checksum::crc32(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(out)
}

#[cfg_attr(wasm_size_build, optimize(size))]
fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

#[cfg_attr(wasm_size_build, optimize(size))]
fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// Decode and validate a bundle.
#[cfg_attr(wasm_size_build, optimize(size))]
pub fn decode(bytes: &[u8]) -> Result<Model> {
    if !bytes.starts_with(MAGIC) {
        return Err(Error::bad_format(
            "not a wasm-predict bundle (bad magic bytes)",
        ));
    }
    let truncated = || Error::bad_format(format!("bundle truncated: only {} bytes", bytes.len()));
    let version = u16_at(bytes, 8).ok_or_else(truncated)?;
    if version > FORMAT_VERSION {
        return Err(Error::new(
            ErrorCode::UnsupportedVersion,
            format!(
                "bundle format version {version} was written by a newer wasm-predict; this one reads up to version {FORMAT_VERSION}. Upgrade wasm-predict"
            ),
        ));
    }
    if version == 0 {
        return Err(Error::bad_format("bundle format version 0 does not exist"));
    }
    if version < OLDEST_READABLE {
        // Only pre-release builds (0.1.0 before LightGBM support) wrote version 1.
        return Err(Error::new(
            ErrorCode::UnsupportedVersion,
            format!(
                "bundle format version {version} came from a pre-release wasm-predict; this one reads version {FORMAT_VERSION}. Re-create the bundle from the original model file"
            ),
        ));
    }
    let flags = u16_at(bytes, 10).ok_or_else(truncated)?;
    if flags != 0 {
        return Err(Error::new(
            ErrorCode::UnsupportedVersion,
            format!("bundle uses flags {flags:#x} that this wasm-predict does not know"),
        ));
    }
    let len = u32_at(bytes, 12).ok_or_else(truncated)? as usize;
    let payload_end = HEADER_LEN.checked_add(len).ok_or_else(truncated)?;
    let expected_total = payload_end.checked_add(4).ok_or_else(truncated)?;
    if bytes.len() != expected_total {
        return Err(Error::bad_format(format!(
            "bundle says its payload is {len} bytes, so the file should be {expected_total} bytes, but it is {} (truncated or extended)",
            bytes.len()
        )));
    }
    let stored_crc = u32_at(bytes, payload_end).ok_or_else(truncated)?;
    let body = bytes.get(..payload_end).ok_or_else(truncated)?;
    let actual_crc = super::checksum::crc32(body);
    if stored_crc != actual_crc {
        return Err(Error::bad_format(format!(
            "bundle checksum mismatch (stored {stored_crc:#010x}, computed {actual_crc:#010x}): the file is corrupt"
        )));
    }
    let payload = body.get(HEADER_LEN..).ok_or_else(truncated)?;
    let (mut model, rest): (Model, &[u8]) =
        crate::core::packed::decoding_legacy(version < PACKED_TREES, || {
            postcard::take_from_bytes(payload)
        })
        .map_err(|e| Error::bad_format(format!("bundle payload does not decode: {e}")))?;
    if !rest.is_empty() {
        return Err(Error::bad_format(format!(
            "bundle payload has {} trailing bytes",
            rest.len()
        )));
    }
    model.prepare().map_err(|e| e.context("bundle"))?;
    Ok(model)
}

/// Wrap an arbitrary payload in a current-version header and a correct checksum, so a fuzzer's
/// mutations reach the payload decoder and model validation. Not for producing real bundles.
#[doc(hidden)]
#[cfg_attr(wasm_size_build, optimize(size))]
pub fn with_valid_checksum(payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len() + 4);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(payload);
    let crc = super::checksum::crc32(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}
