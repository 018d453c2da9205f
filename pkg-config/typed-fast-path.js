
// --- appended by scripts/build-pkg.sh (pkg-config/typed-fast-path.js) ---
// A small Float64Array (a single row, a few rows) goes to `__typedCall`, whose glue copies the
// numbers straight into wasm memory and the result straight out. Passed as an object, the
// array and the result cost ~0.6 µs more per call (calls back into JS for the array's type,
// length and contents, and to make the result): a quarter of a single-row tree prediction.
// Everything else takes the general method. Both run the same Rust code, so results and errors
// are identical (`predict` takes this path only when it returns numbers).
{
  const TYPED_CALL_MAX_VALUES = 4096;
  // Whether predict returns numbers is fixed per model: asked once, kept under a symbol.
  const PREDICTS_NUMBERS = Symbol("predictsNumbers");
  const methods = { predict: 0, predictProba: 1, decisionFunction: 2, scoreSamples: 3, transform: 4, apply: 5 };
  for (const [name, method] of Object.entries(methods)) {
    const general = Model.prototype[name];
    Object.defineProperty(Model.prototype, name, {
      configurable: true,
      writable: true,
      value: function (x, nCols) {
        return x instanceof Float64Array && x.length <= TYPED_CALL_MAX_VALUES
          && (method !== 0 || (this[PREDICTS_NUMBERS] ??= this.__predictsNumbers()))
          ? this.__typedCall(method, x, nCols)
          : general.call(this, x, nCols);
      },
    });
  }
}
