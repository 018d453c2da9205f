//! Any bytes through the pickle reader and the scikit-learn lowering: an error is fine, a panic,
//! hang or unbounded allocation is a bug.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = wasm_predict::load(data, &wasm_predict::LoadOptions::default());
});
