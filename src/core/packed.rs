//! Column-wise encodings for tree nodes in a bundle (format version 6), chosen for how well the
//! bundle compresses on the wire: each field in its own array, child links as small offsets
//! from their parent, and floats whose low mantissa bytes are noise stored byte plane by byte
//! plane (all first bytes, then all second bytes, …), so gzip finds the runs in the sign and
//! exponent bytes. Node by node (format 5), a 100-tree forest's bundle gzipped to 26.7 KB
//! and the fully grown forest's to 2.21 MB; see the README for the figures after.
//!
//! Bundles of format 4 and 5 stored the nodes as records; [`decoding_legacy`] makes the tree
//! types read that shape while such a bundle is decoded.

use serde::de::Visitor;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cell::Cell;

thread_local! {
    /// Set while a bundle older than format 6 is decoded (see [`decoding_legacy`]).
    static LEGACY: Cell<bool> = const { Cell::new(false) };
}

/// Run `decode` with the tree types reading format 4–5's record layout when `legacy` is set.
/// The bundle's serde shape has no room for a version field per model, and the payload's
/// version is known only to the bundle decoder: this carries it to the tree types.
pub fn decoding_legacy<T>(legacy: bool, decode: impl FnOnce() -> T) -> T {
    /// Puts the flag back even if `decode` unwinds, so a later bundle is not read as legacy.
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            LEGACY.with(|l| l.set(self.0));
        }
    }
    let _restore = Restore(LEGACY.with(|l| l.replace(legacy)));
    decode()
}

/// Whether the bundle being decoded stores tree nodes as records (format 4–5).
pub fn legacy() -> bool {
    LEGACY.with(Cell::get)
}

/// A byte array serialized as one length-prefixed run (postcard would otherwise write and read
/// a `Vec<u8>` element by element).
#[derive(Default)]
pub struct Bytes(pub Vec<u8>);

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BytesVisitor;
        impl Visitor<'_> for BytesVisitor {
            type Value = Bytes;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Bytes, E> {
                Ok(Bytes(v.to_vec()))
            }
        }
        deserializer.deserialize_bytes(BytesVisitor)
    }
}

/// `values` (`W`-byte little-endian numbers) laid out byte plane by byte plane.
pub fn to_planes<const W: usize>(values: &[[u8; W]]) -> Bytes {
    let n = values.len();
    let mut out = vec![0u8; n * W];
    for (j, bytes) in values.iter().enumerate() {
        for (k, &b) in bytes.iter().enumerate() {
            if let Some(slot) = out.get_mut(k * n + j) {
                *slot = b;
            }
        }
    }
    Bytes(out)
}

/// The inverse of [`to_planes`]: `W`-byte numbers, or an error naming `what` when the length
/// is not a whole number of them.
pub fn from_planes<const W: usize>(
    bytes: &[u8],
    what: &'static str,
) -> Result<Vec<[u8; W]>, &'static str> {
    if bytes.len() % W != 0 {
        return Err(what);
    }
    let n = bytes.len() / W;
    let mut out = vec![[0u8; W]; n];
    for (k, plane) in bytes.chunks_exact(n.max(1)).enumerate() {
        for (value, &b) in out.iter_mut().zip(plane) {
            if let Some(slot) = value.get_mut(k) {
                *slot = b;
            }
        }
    }
    Ok(out)
}

/// One bit per flag, least significant first.
pub fn to_bits(flags: impl Iterator<Item = bool>) -> Bytes {
    let mut out = Vec::new();
    for (i, flag) in flags.enumerate() {
        if i % 8 == 0 {
            out.push(0u8);
        }
        if let Some(last) = out.last_mut() {
            *last |= u8::from(flag) << (i % 8);
        }
    }
    Bytes(out)
}

/// Flag `i` of [`to_bits`]' output (false past the end).
pub fn bit(bits: &[u8], i: usize) -> bool {
    bits.get(i / 8).is_some_and(|b| b >> (i % 8) & 1 != 0)
}

/// Check that a bit array holds exactly `n` flags (its padding bits clear), so a bundle has one
/// encoding per model.
pub fn check_bits(bits: &[u8], n: usize) -> Result<(), &'static str> {
    let padding_clear = n % 8 == 0 || bits.last().is_none_or(|&b| b >> (n % 8) == 0);
    if bits.len() != n.div_ceil(8) || !padding_clear {
        return Err("packed tree nodes: the leaf flags do not match the node count");
    }
    Ok(())
}

/// A child's index from its parent's and the stored offset (the inverse of [`offset`];
/// validation afterwards refuses a child that is not after its parent, inside its tree).
pub fn child(parent: u32, offset: u32) -> u32 {
    parent.wrapping_add(offset)
}

/// A child's offset from its parent, wrapping (so any index comes back unchanged).
pub fn offset(parent: u32, child: u32) -> u32 {
    child.wrapping_sub(parent)
}

/// A tree ensemble's nodes, field by field. Scikit-learn trees fill `payloads` and leave
/// `flags` and `values` empty; histogram-boosting trees the reverse. One serde shape for both
/// keeps the wasm small; postcard writes the integer arrays as varints.
#[derive(Default, Serialize, Deserialize)]
pub struct PackedNodes {
    pub count: u32,
    /// A bit per node, set for a leaf ([`to_bits`]).
    pub leaves: Bytes,
    /// Per split, in node order: its column,
    pub features: Vec<u32>,
    /// its threshold (f32 byte planes, or whole little-endian f64s: histogram bin edges repeat
    /// across trees, which gzip finds only in whole values),
    pub thresholds: Bytes,
    /// its children as offsets from it ([`offset`]),
    pub left: Vec<u32>,
    pub right: Vec<u32>,
    /// and its flags (histogram boosting: rule index << 1 | missing goes left).
    pub flags: Bytes,
    /// Per leaf, in node order: its payload index minus the previous leaf's minus one,
    /// wrapping (0 for consecutive payloads),
    pub payloads: Vec<u32>,
    /// or its value (f64 byte planes).
    pub values: Bytes,
}

impl PackedNodes {
    /// Check that the arrays add up for `threshold_bytes`-byte thresholds, with flags and
    /// values (histogram boosting) or payloads (scikit-learn).
    pub fn check(&self, threshold_bytes: usize, histogram: bool) -> Result<(), &'static str> {
        let PackedNodes {
            count,
            leaves,
            features,
            thresholds,
            left,
            right,
            flags,
            payloads,
            values,
        } = self;
        let n = *count as usize;
        check_bits(&leaves.0, n)?;
        let n_leaves = leaves
            .0
            .iter()
            .map(|b| b.count_ones() as usize)
            .sum::<usize>();
        let splits = n.saturating_sub(n_leaves);
        let (n_flags, n_payloads, value_bytes) = if histogram {
            (splits, 0, n_leaves * 8)
        } else {
            (0, n_leaves, 0)
        };
        if [
            features.len(),
            left.len(),
            right.len(),
            flags.0.len(),
            payloads.len(),
        ] != [splits, splits, splits, n_flags, n_payloads]
            || thresholds.0.len() != splits * threshold_bytes
            || values.0.len() != value_bytes
        {
            return Err("packed tree nodes: the arrays do not match the node and leaf counts");
        }
        Ok(())
    }
}

/// `#[serde(with)]` for an f64 array stored as byte planes (leaf values), read as a plain
/// array from format 4–5 bundles.
pub mod f64_planes {
    use super::{from_planes, legacy, to_planes, Bytes};
    use serde::{de::Error as _, Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(values: &[f64], serializer: S) -> Result<S::Ok, S::Error> {
        let bytes: Vec<[u8; 8]> = values.iter().map(|v| v.to_le_bytes()).collect();
        to_planes(&bytes).serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<f64>, D::Error> {
        if legacy() {
            return Vec::<f64>::deserialize(deserializer);
        }
        let bytes = Bytes::deserialize(deserializer)?;
        let values = from_planes::<8>(&bytes.0, "leaf values: not a whole number of f64s")
            .map_err(D::Error::custom)?;
        Ok(values.into_iter().map(f64::from_le_bytes).collect())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
    use super::*;

    #[test]
    fn the_legacy_flag_is_restored_even_after_a_panic() {
        assert!(!legacy());
        assert!(decoding_legacy(true, legacy));
        assert!(!legacy());
        let unwound = std::panic::catch_unwind(|| {
            decoding_legacy(true, || -> bool { std::panic::panic_any("decoder bug") })
        });
        assert!(unwound.is_err());
        assert!(!legacy());
    }

    #[test]
    fn planes_bits_and_offsets_round_trip() {
        let values = [1.5f64, -0.0, f64::MAX, 1e-300, 0.1];
        let planes = to_planes(&values.map(f64::to_le_bytes));
        assert_eq!(planes.0.len(), 40);
        // The first plane holds every value's lowest byte.
        assert_eq!(planes.0[1], (-0.0f64).to_le_bytes()[0]);
        assert_eq!(planes.0[5 * 7 + 2], f64::MAX.to_le_bytes()[7]);
        let back: Vec<f64> = from_planes::<8>(&planes.0, "t")
            .unwrap()
            .into_iter()
            .map(f64::from_le_bytes)
            .collect();
        assert_eq!(
            back.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            values.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        assert_eq!(
            from_planes::<8>(&planes.0[1..], "thresholds"),
            Err("thresholds")
        );
        assert!(from_planes::<4>(&[], "t").unwrap().is_empty());

        let flags = [true, false, false, true, true, false, false, false, true];
        let bits = to_bits(flags.iter().copied());
        assert_eq!(bits.0, [0b0001_1001, 1]);
        for (i, &f) in flags.iter().enumerate() {
            assert_eq!(bit(&bits.0, i), f);
        }
        assert!(!bit(&bits.0, 100));
        check_bits(&bits.0, 9).unwrap();
        assert!(check_bits(&bits.0, 8).is_err());
        assert!(check_bits(&[0b1000_0000], 7).is_err());
        check_bits(&[], 0).unwrap();

        for (parent, c) in [(5, 9), (5, 2), (u32::MAX, 0), (0, u32::MAX)] {
            assert_eq!(child(parent, offset(parent, c)), c);
        }
    }
}
