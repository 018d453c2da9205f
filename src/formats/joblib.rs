//! joblib files: `joblib.dump` output, plain or compressed.
//!
//! A plain joblib file is a pickle stream in which every numpy array is a
//! `NumpyArrayWrapper` whose element bytes follow its BUILD opcode outside the pickle grammar
//! (the pickle VM handles that, see `pickle::Vm::read_wrapped_array`). A compressed file is the
//! same stream through one compressor, recognised by its magic bytes. zlib (joblib's default,
//! `compress=3`) and gzip are built in; bz2, lzma/xz and lz4 are refused with an error that says
//! so and how to re-save the model.

use crate::error::{Error, ErrorCode, Result};

/// Compressors joblib can use, by magic bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    Zlib,
    Gzip,
    Bz2,
    Lzma,
    Xz,
    Lz4,
}

impl Codec {
    pub fn name(self) -> &'static str {
        match self {
            Codec::Zlib => "zlib",
            Codec::Gzip => "gzip",
            Codec::Bz2 => "bz2",
            Codec::Lzma => "lzma",
            Codec::Xz => "xz",
            Codec::Lz4 => "lz4",
        }
    }

    /// Recognise a compressed joblib file by its first bytes.
    pub fn sniff(bytes: &[u8]) -> Option<Codec> {
        match bytes {
            [0x78, 0x01 | 0x5e | 0x9c | 0xda, ..] => Some(Codec::Zlib),
            [0x1f, 0x8b, ..] => Some(Codec::Gzip),
            [b'B', b'Z', b'h', ..] => Some(Codec::Bz2),
            [0x5d, 0x00, ..] => Some(Codec::Lzma),
            [0xfd, b'7', b'z', b'X', b'Z', ..] => Some(Codec::Xz),
            [0x04, 0x22, 0x4d, 0x18, ..] => Some(Codec::Lz4),
            _ => None,
        }
    }
}

/// Decompress a whole joblib file, never producing more than `max_bytes`.
pub fn decompress(bytes: &[u8], codec: Codec, max_bytes: usize) -> Result<Vec<u8>> {
    let inflated = match codec {
        Codec::Zlib => miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(bytes, max_bytes),
        Codec::Gzip => miniz_oxide::inflate::decompress_to_vec_with_limit(gzip_body(bytes)?, max_bytes),
        other => {
            return Err(Error::new(
                ErrorCode::UnsupportedVersion,
                format!(
                    "this joblib file is {}-compressed, which this build of wasm-predict does not include; \
                     re-save it with joblib.dump(model, path, compress=3) (zlib) or compress=0",
                    other.name()
                ),
            ))
        }
    };
    inflated.map_err(|e| match e.status {
        miniz_oxide::inflate::TINFLStatus::HasMoreOutput => Error::limit(format!(
            "the {}-compressed joblib file inflates to more than the max_alloc_bytes limit of {max_bytes} bytes",
            codec.name()
        )),
        status => Error::bad_format(format!(
            "the {}-compressed joblib file is corrupt or truncated ({status:?})",
            codec.name()
        )),
    })
}

/// The deflate stream inside a gzip member (RFC 1952 header skipped, trailer ignored).
fn gzip_body(bytes: &[u8]) -> Result<&[u8]> {
    let bad = |what: &str| Error::bad_format(format!("gzip header: {what}"));
    let &[_, _, method, flags, ..] = bytes.get(..10).ok_or_else(|| bad("truncated"))? else {
        return Err(bad("truncated"));
    };
    if method != 8 {
        return Err(bad("compression method is not deflate"));
    }
    let mut pos = 10usize;
    if flags & 0x04 != 0 {
        let &[lo, hi] = bytes
            .get(pos..pos + 2)
            .ok_or_else(|| bad("truncated extra field"))?
        else {
            return Err(bad("truncated extra field"));
        };
        pos += 2 + usize::from(u16::from_le_bytes([lo, hi]));
    }
    for flag in [0x08, 0x10] {
        if flags & flag != 0 {
            let rest = bytes
                .get(pos..)
                .ok_or_else(|| bad("truncated name or comment"))?;
            pos += rest
                .iter()
                .position(|&b| b == 0)
                .ok_or_else(|| bad("unterminated name or comment"))?
                + 1;
        }
    }
    if flags & 0x02 != 0 {
        pos += 2;
    }
    bytes.get(pos..).ok_or_else(|| bad("truncated"))
}
