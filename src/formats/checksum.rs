//! CRC-32 (IEEE 802.3, the zlib/PNG polynomial) for bundle integrity.
//!
//! Hand-written on purpose: the usual crate uses a 16 KB slicing table, which is ~10% of our
//! gzipped wasm; this byte-wise 1 KB table is computed at compile time and still checks a
//! 100 MB bundle in well under a second.

const TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
            bit += 1;
        }
        #[allow(clippy::indexing_slicing)] // const context: i < 256 by the loop bound
        {
            table[i] = crc;
        }
        i += 1;
    }
    table
};

/// The CRC-32 of `bytes`.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        // A u8 index into a 256-entry table is always in range.
        let entry = TABLE
            .get(usize::from((crc as u8) ^ b))
            .copied()
            .unwrap_or(0);
        crc = entry ^ (crc >> 8);
    }
    !crc
}

#[cfg(test)]
mod tests {
    #[test]
    fn standard_check_values() {
        assert_eq!(super::crc32(b""), 0);
        assert_eq!(super::crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(
            super::crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
    }
}
