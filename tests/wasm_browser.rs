//! The JS API suite, run in headless Chromium by wasm-bindgen-test-runner (via chromedriver).
#![cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
mod wasm_suite;
