"use strict";
// Node entry (CommonJS). The wasm is compiled synchronously on require; `init()` exists so code
// written for the browser build (`await init()`) runs unchanged.
const wasm = require("./wasm_predict.js");
async function init() {
  return wasm;
}
function initSync() {
  return wasm;
}
module.exports = Object.assign({}, wasm, { default: init, init, initSync });
