//! Time loading a model file natively: `cargo run --release --example time_load -- MODEL`
#![allow(clippy::indexing_slicing, clippy::unwrap_used)]
use std::time::Instant;

fn main() {
    let path = std::env::args().nth(1).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let options = wasm_predict::LoadOptions::default();
    let doc_t = Instant::now();
    for _ in 0..20 {
        wasm_predict::formats::pickle::parse(&bytes, &options.limits).unwrap();
    }
    let parse_ms = doc_t.elapsed().as_secs_f64() * 1000.0 / 20.0;
    let t = Instant::now();
    for _ in 0..20 {
        wasm_predict::load(&bytes, &options).unwrap();
    }
    let load_ms = t.elapsed().as_secs_f64() * 1000.0 / 20.0;
    println!(
        "{path}: {} bytes; pickle VM {parse_ms:.3} ms; full load {load_ms:.3} ms",
        bytes.len()
    );
}
