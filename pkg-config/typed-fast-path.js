
// --- appended by scripts/build-pkg.sh (pkg-config/typed-fast-path.js) ---
// A small Float64Array (a single row, a few rows) goes to `__typedCall`, whose glue copies the
// numbers straight into wasm memory and the result straight out. Passed as an object, the
// array and the result cost ~0.5 µs more per call (calls back into JS for the array's type,
// length and contents, and to make the result): a fifth of a single-row tree prediction.
// Everything else takes the general method. Both run the same Rust code, so results and errors
// are identical (`predict` takes this path only when it returns numbers).
{
  const TYPED_CALL_MAX_VALUES = 4096;
  // Whether predict returns numbers is fixed per model: asked once. A WeakMap, so frozen
  // models work and nothing is added to the object.
  const predictsNumbers = new WeakMap();
  const numericPredict = (model) => {
    let numeric = predictsNumbers.get(model);
    if (numeric === undefined) {
      numeric = model.__predictsNumbers();
      predictsNumbers.set(model, numeric);
    }
    return numeric;
  };
  // Only a plain Float64Array: the glue sizes its copy by `x.length` while `TypedArray.set`
  // copies the real length, so a subclass or an own `length` property that lies would write
  // past the copy. Those take the general path, which reads the real length.
  const isSmallFloat64Array = (x) =>
    x instanceof Float64Array
    && Object.getPrototypeOf(x) === Float64Array.prototype
    && !Object.prototype.hasOwnProperty.call(x, "length")
    && x.length <= TYPED_CALL_MAX_VALUES;
  const methods = { predict: 0, predictProba: 1, decisionFunction: 2, scoreSamples: 3, transform: 4, apply: 5 };
  for (const [name, method] of Object.entries(methods)) {
    const general = Model.prototype[name];
    // A method of the same name, so stack traces read as before.
    const { [name]: wrapped } = {
      [name](x, nCols) {
        return isSmallFloat64Array(x) && (method !== 0 || numericPredict(this))
          ? this.__typedCall(method, x, nCols)
          : general.call(this, x, nCols);
      },
    };
    Object.defineProperty(Model.prototype, name, { configurable: true, writable: true, value: wrapped });
  }
}
