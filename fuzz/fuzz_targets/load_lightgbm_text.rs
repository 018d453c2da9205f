//! Any text through the LightGBM model parser (and on to a validated model): an error is fine,
//! a panic, hang or unbounded allocation is a bug. Inputs always start with the `tree` line, so
//! mutations stay inside the text loader instead of failing format detection.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut text = Vec::with_capacity(data.len() + 5);
    if !data.starts_with(b"tree\n") {
        text.extend_from_slice(b"tree\n");
    }
    text.extend_from_slice(data);
    if let Ok(model) = wasm_predict::load(&text, &wasm_predict::LoadOptions::default()) {
        // A model that loads must also predict a row of zeros and a row of NaNs.
        let n = model.n_features();
        for value in [0.0, f64::NAN] {
            let row = vec![value; n];
            if let Ok(rows) = wasm_predict::core::Rows::new(&row, n) {
                let _ = model.predict(&rows);
            }
        }
    }
});
