//! Seeds for the fuzz targets from real model files (used by scripts/fuzz.sh):
//! `cargo run --release --example fuzz_seeds -- OUT_DIR MODEL...` writes OUT_DIR/bundle/<name>
//! (bundle payloads, as the load_bundle target takes them) and OUT_DIR/predict/<name> (the
//! load_then_predict layout: u16 model length, model bytes, then f64 features).
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = std::path::Path::new(&args[0]);
    std::fs::create_dir_all(out.join("bundle")).unwrap();
    std::fs::create_dir_all(out.join("predict")).unwrap();
    for path in &args[1..] {
        let bytes = std::fs::read(path).unwrap();
        // Prefix the folder (sk13/sk19 share file names).
        let p = std::path::Path::new(path);
        let folder = p
            .parent()
            .and_then(|d| d.file_name())
            .map(|d| d.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = format!("{folder}-{}", p.file_name().unwrap().to_string_lossy());
        let Ok(model) = wasm_predict::load(&bytes, &Default::default()) else {
            continue;
        };
        let bundle = wasm_predict::to_bundle(&model).unwrap();
        // The payload only: the target adds header and checksum.
        std::fs::write(
            out.join("bundle").join(&name),
            &bundle[16..bundle.len() - 4],
        )
        .unwrap();
        if let Ok(len) = u16::try_from(bytes.len()) {
            let mut seed = len.to_le_bytes().to_vec();
            seed.extend_from_slice(&bytes);
            for i in 0..model.n_features() * 4 {
                seed.extend_from_slice(&((i as f64) * 0.37 - 3.0).to_le_bytes());
            }
            std::fs::write(out.join("predict").join(&name), seed).unwrap();
        }
    }
}
