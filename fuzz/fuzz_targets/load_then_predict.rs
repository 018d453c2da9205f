//! A model file followed by prediction input: the first 2 bytes give the model length, the rest
//! after the model is read as f64 features (any bit pattern: NaN, infinities, subnormals).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let model_len = usize::from(u16::from_le_bytes([data[0], data[1]])).min(data.len() - 2);
    let (model_bytes, input) = data[2..].split_at(model_len);
    let Ok(model) = wasm_predict::load(model_bytes, &wasm_predict::LoadOptions::default()) else {
        return;
    };
    let x: Vec<f64> = input.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().unwrap_or([0; 8]))).collect();
    let _ = model.inverse_transform(&x, model.n_outputs().max(1));
    for cols in [model.n_features(), model.n_features().saturating_sub(1), 1] {
        if let Ok(rows) = wasm_predict::core::Rows::new(&x[..x.len() / cols.max(1) * cols.max(1)], cols) {
            let _ = model.predict(&rows);
            let _ = model.predict_proba(&rows);
            let _ = model.decision_function(&rows);
            let _ = model.transform(&rows);
            let _ = model.apply(&rows);
        }
    }
});
