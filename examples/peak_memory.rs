//! Memory of loading a model file, natively: the peak while loading (Linux: the process's VmHWM
//! high-water mark) and what the loaded model keeps (heap bytes still allocated after the load,
//! counted by stats_alloc's instrumented allocator), beside the file and its bundle:
//! `cargo run --release --example peak_memory -- MODEL...`
#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
    use std::alloc::System;

    #[global_allocator]
    static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

    fn high_water_kb() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    pub fn main() {
        for path in std::env::args().skip(1) {
            let bytes = std::fs::read(&path).unwrap();
            let hwm_before = high_water_kb();
            let region = Region::new(GLOBAL);
            let model = match wasm_predict::load(&bytes, &Default::default()) {
                Ok(m) => m,
                Err(e) => {
                    println!("{path}: {}", e.code().as_str());
                    continue;
                }
            };
            let change = region.change();
            // Net heap growth (stats_alloc folds reallocations into both counters).
            let kept = (change.bytes_allocated as i64 - change.bytes_deallocated as i64).max(0);
            let region = Region::new(GLOBAL);
            let copy = model.clone();
            let change = region.change();
            let copy_kept = change.bytes_allocated as i64 - change.bytes_deallocated as i64;
            drop(copy);
            let hwm_after = high_water_kb();
            let bundle = wasm_predict::to_bundle(&model).unwrap();
            let peak = hwm_after.saturating_sub(hwm_before) as f64 * 1024.0;
            println!(
                "{path}: file {} bytes; peak extra while loading {:.1} MB ({:.2}x the file); \
                 the loaded model keeps {} bytes = {:.2}x its bundle of {} bytes (a clone, \
                 without spare capacity: {} bytes)",
                bytes.len(),
                peak / 1e6,
                peak / bytes.len() as f64,
                kept,
                kept as f64 / bundle.len() as f64,
                bundle.len(),
                copy_kept
            );
            drop(model);
        }
    }
}

fn main() {
    #[cfg(not(target_arch = "wasm32"))]
    native::main();
}
