//! Time predict on a model file natively (fastest of repeated runs): `cargo run --release --example time_predict -- MODEL.pkl X.f64`
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]
use std::time::Instant;
use wasm_predict::core::Rows;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let model = wasm_predict::load(&std::fs::read(&args[1]).unwrap(), &Default::default()).unwrap();
    let raw = std::fs::read(&args[2]).unwrap();
    let x: Vec<f64> = raw
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
        .collect();
    let rows = Rows::new(&x, model.n_features()).unwrap();
    // Single rows: the first 1,000 rows, one call each (as a latency-bound caller does).
    let singles: Vec<Rows> = x
        .chunks_exact(model.n_features())
        .take(1000)
        .map(|row| Rows::new(row, model.n_features()).unwrap())
        .collect();
    let single_us = (0..5)
        .map(|_| {
            let t = Instant::now();
            for row in &singles {
                let _ = model.predict_proba(row);
            }
            t.elapsed().as_secs_f64() * 1e6 / singles.len() as f64
        })
        .fold(f64::INFINITY, f64::min);
    println!("single-row predict_proba: {single_us:.2} µs per call (fastest of 5 passes)");
    for (name, f) in [
        (
            "predict",
            &(|| {
                model.predict(&rows).unwrap();
            }) as &dyn Fn(),
        ),
        ("predict_proba", &|| {
            let _ = model.predict_proba(&rows);
        }),
    ] {
        f();
        // The fastest of 20 runs: the machine's other work only ever adds time.
        let ms = (0..20)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64() * 1000.0
            })
            .fold(f64::INFINITY, f64::min);
        println!(
            "{name}: {ms:.3} ms for {} rows ({:.0} rows/s)",
            rows.n_rows(),
            rows.n_rows() as f64 / ms * 1000.0
        );
    }
}
