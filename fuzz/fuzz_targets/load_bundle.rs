//! Any bytes after the bundle magic: the decoder must refuse or validate, never panic. The
//! checksum is recomputed so mutations reach the payload decoder instead of stopping at the CRC.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let bytes = wasm_predict::formats::bundle::with_valid_checksum(data);
    if let Ok(model) = wasm_predict::load(&bytes, &wasm_predict::LoadOptions::default()) {
        // Whatever validates must also predict without panicking.
        let n = model.n_features();
        let x = vec![0.5; n * 3];
        if let Ok(rows) = wasm_predict::core::Rows::new(&x, n) {
            let _ = model.predict(&rows);
            let _ = model.predict_proba(&rows);
            let _ = model.decision_function(&rows);
            let _ = model.transform(&rows);
            let _ = model.apply(&rows);
        }
    }
});
