//! Any bytes through the XGBoost JSON and UBJSON readers (and on to a validated model): the
//! first byte picks the reader so mutations stay inside it. An error is fine; a panic, hang or
//! unbounded allocation is a bug.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wasm_predict::formats::{jsondoc, xgboost};

fuzz_target!(|data: &[u8]| {
    let limits = wasm_predict::LoadLimits::default();
    let doc = if jsondoc::is_ubjson(data) {
        jsondoc::parse_ubjson(data, &limits)
    } else {
        jsondoc::parse_json(data, &limits)
    };
    if let Ok(doc) = doc {
        if let Ok(model) = xgboost::lower(&doc, &limits) {
            let n = model.model.n_features;
            for value in [0.0, f64::NAN, 1e30] {
                let row = vec![value; n];
                if let Ok(rows) = wasm_predict::core::Rows::new(&row, n) {
                    let _ = model.model.raw(&rows);
                }
            }
        }
    }
});
