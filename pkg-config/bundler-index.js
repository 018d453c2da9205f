// Entry for bundlers with WebAssembly ESM integration (webpack `experiments.asyncWebAssembly`,
// vite-plugin-wasm): the wasm module is instantiated by the bundler when this module loads.
// `init()` exists so code written for the browser build runs unchanged.
export * from "./wasm_predict.js";
export default async function init() {}
export function initSync() {}
