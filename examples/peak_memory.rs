//! Peak memory of loading a model file, natively (Linux: the process's VmHWM high-water mark):
//! `cargo run --release --example peak_memory -- MODEL`
#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

fn high_water_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let path = std::env::args().nth(1).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let before = high_water_kb();
    let model = wasm_predict::load(&bytes, &Default::default()).unwrap();
    let after = high_water_kb();
    let bundle = wasm_predict::to_bundle(&model).unwrap();
    let peak = (after - before) as f64 * 1024.0;
    println!(
        "{path}: file {} bytes; peak extra memory while loading {:.1} MB = {:.2} x the file; bundle {} bytes",
        bytes.len(),
        peak / 1e6,
        peak / bytes.len() as f64,
        bundle.len()
    );
}
