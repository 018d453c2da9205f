//! joblib files: `joblib.dump` output, plain or compressed.
//!
//! A plain joblib file is a pickle stream in which every numpy array is a
//! `NumpyArrayWrapper` whose element bytes follow its BUILD opcode outside the pickle grammar
//! (the pickle VM handles that, see `pickle::Vm::read_wrapped_array`). A compressed file is the
//! same stream through one compressor, recognised by its magic bytes. zlib (joblib's default,
//! `compress=3`) and gzip are always built in; bz2, lzma/xz and lz4 come with the cargo features
//! `bz2`, `lzma` and `lz4`, and without them the error names the feature to enable.

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
    #[cfg_attr(wasm_size_build, optimize(size))]
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
    #[cfg_attr(wasm_size_build, optimize(size))]
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
#[cfg_attr(wasm_size_build, optimize(size))]
pub fn decompress(bytes: &[u8], codec: Codec, max_bytes: usize) -> Result<Vec<u8>> {
    let inflated = match codec {
        Codec::Zlib => miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(bytes, max_bytes),
        Codec::Gzip => {
            miniz_oxide::inflate::decompress_to_vec_with_limit(gzip_body(bytes)?, max_bytes)
        }
        other => return decompress_other(bytes, other, max_bytes),
    };
    inflated.map_err(|e| match e.status {
        miniz_oxide::inflate::TINFLStatus::HasMoreOutput => too_large(codec, max_bytes),
        status => Error::bad_format(format!(
            "the {}-compressed joblib file is corrupt or truncated ({status:?})",
            codec.name()
        )),
    })
}

#[cfg_attr(wasm_size_build, optimize(size))]
fn too_large(codec: Codec, max_bytes: usize) -> Error {
    Error::limit(format!(
        "the {}-compressed joblib file inflates to more than the max_alloc_bytes limit of {max_bytes} bytes",
        codec.name()
    ))
}

/// The cargo feature that builds a codec in.
#[cfg_attr(wasm_size_build, optimize(size))]
fn feature_of(codec: Codec) -> &'static str {
    match codec {
        Codec::Bz2 => "bz2",
        Codec::Lzma | Codec::Xz => "lzma",
        _ => "lz4",
    }
}

/// bz2, lzma/xz and lz4, when their cargo features are on; otherwise an error naming the
/// feature.
#[allow(unreachable_code, unused_variables)]
#[cfg_attr(wasm_size_build, optimize(size))]
fn decompress_other(bytes: &[u8], codec: Codec, max_bytes: usize) -> Result<Vec<u8>> {
    #[cfg(any(feature = "bz2", feature = "lzma", feature = "lz4"))]
    {
        use std::io::Read;
        let corrupt = |e: &dyn std::fmt::Display| {
            Error::bad_format(format!(
                "the {}-compressed joblib file is corrupt or truncated ({e})",
                codec.name()
            ))
        };
        // Read at most one byte past the limit, so an oversized file is refused, not stored.
        let limit = u64::try_from(max_bytes)
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let read_limited = |reader: &mut dyn Read| -> Result<Vec<u8>> {
            let mut out = Vec::new();
            reader
                .take(limit)
                .read_to_end(&mut out)
                .map_err(|e| corrupt(&e))?;
            if out.len() > max_bytes {
                return Err(too_large(codec, max_bytes));
            }
            Ok(out)
        };
        match codec {
            #[cfg(feature = "bz2")]
            Codec::Bz2 => return read_limited(&mut bzip2_rs::DecoderReader::new(bytes)),
            #[cfg(feature = "lz4")]
            Codec::Lz4 => return read_limited(&mut lz4_flex::frame::FrameDecoder::new(bytes)),
            #[cfg(feature = "lzma")]
            Codec::Lzma | Codec::Xz => {
                let mut out = LimitedWriter {
                    out: Vec::new(),
                    max_bytes,
                    exceeded: false,
                };
                let mut input = std::io::BufReader::new(bytes);
                let result = if codec == Codec::Xz {
                    lzma_rs::xz_decompress(&mut input, &mut out)
                } else {
                    let options = lzma_rs::decompress::Options {
                        memlimit: Some(max_bytes),
                        ..Default::default()
                    };
                    lzma_rs::lzma_decompress_with_options(&mut input, &mut out, &options)
                };
                return match result {
                    Ok(()) => Ok(out.out),
                    // Output or dictionary past the limit (lzma-rs reports the latter as its
                    // "memory limit").
                    Err(e) if out.exceeded || e.to_string().contains("memory limit") => {
                        Err(too_large(codec, max_bytes))
                    }
                    Err(e) => Err(corrupt(&e)),
                };
            }
            _ => {}
        }
    }
    Err(Error::new(
        ErrorCode::UnsupportedVersion,
        format!(
            "this joblib file is {}-compressed, which this build of wasm-predict leaves out; \
             build it with the cargo feature `{}` (or `all-codecs`), or re-save the model with \
             joblib.dump(model, path, compress=3) (zlib, always built in)",
            codec.name(),
            feature_of(codec)
        ),
    ))
}

/// A `Write` that refuses to grow past `max_bytes` (lzma-rs writes into it).
#[cfg(feature = "lzma")]
struct LimitedWriter {
    out: Vec<u8>,
    max_bytes: usize,
    /// A write was refused because of the limit.
    exceeded: bool,
}

#[cfg(feature = "lzma")]
impl std::io::Write for LimitedWriter {
    #[cfg_attr(wasm_size_build, optimize(size))]
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.out.len().saturating_add(buf.len()) > self.max_bytes {
            self.exceeded = true;
            return Err(std::io::Error::other("output past max_alloc_bytes"));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    #[cfg_attr(wasm_size_build, optimize(size))]
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The deflate stream inside a gzip member (RFC 1952 header skipped, trailer ignored).
#[cfg_attr(wasm_size_build, optimize(size))]
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
