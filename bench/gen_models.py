"""Benchmark models: train with the real libraries, save as the user would (pickle), convert to
ONNX (zipmap off, so probabilities are plain tensors) and to m2cgen JavaScript where those tools
can, and record scikit-learn's own outputs and timings as the reference.

    python bench/gen_models.py OUT_DIR [--smoke]

Writes OUT_DIR/<model>/{model.pkl, model.onnx, model.m2cgen.js, X.f64, expected.f64, meta.json}.
Fixed seeds, no network. --smoke: tiny sizes for CI (proves the pipeline works, measures nothing).
"""

import json
import os
import pickle
import platform
import sys
import time
import traceback

import numpy as np
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, make_classification
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def sample_rows(X, n, seed):
    """n rows drawn from X with small noise (the benchmark input)."""
    rng = np.random.RandomState(seed)
    X = np.asarray(X, dtype=np.float64)
    rows = X[rng.randint(0, len(X), size=n)]
    return rows + rng.normal(scale=X.std(axis=0) * 0.05, size=rows.shape)


def onnx_of(model, n_features, kind):
    """ONNX bytes via skl2onnx / onnxmltools, zipmap disabled; raises if the tool cannot."""
    if kind in ("xgboost", "lightgbm"):
        from onnxmltools.convert.common.data_types import FloatTensorType
    else:
        from skl2onnx.common.data_types import FloatTensorType

    initial = [("input", FloatTensorType([None, n_features]))]
    if kind == "xgboost":
        import onnxmltools

        return onnxmltools.convert_xgboost(model, initial_types=initial, target_opset=15).SerializeToString()
    if kind == "lightgbm":
        import onnxmltools

        onx = onnxmltools.convert_lightgbm(model, initial_types=initial, target_opset=15, zipmap=False)
        return onx.SerializeToString()
    from skl2onnx import to_onnx

    options = {id(model): {"zipmap": False}} if hasattr(model, "classes_") else None
    return to_onnx(model, initial_types=initial, options=options, target_opset={"": 17, "ai.onnx.ml": 3}).SerializeToString()


def m2cgen_of(model):
    import m2cgen

    return m2cgen.export_to_javascript(model)


def time_reference(model, X, outputs, repeats):
    """scikit-learn's own batch time (best of `repeats`) and single-row latencies."""
    method = model.predict_proba if outputs == "proba" else model.predict
    batch = []
    for _ in range(repeats):
        t = time.perf_counter()
        method(X)
        batch.append(time.perf_counter() - t)
    singles = []
    one = X[:1]
    for i in range(max(20, repeats * 40)):
        t = time.perf_counter()
        method(X[i % len(X) : i % len(X) + 1] if len(X) > 1 else one)
        singles.append(time.perf_counter() - t)
    singles.sort()
    return {
        "batch_ms": min(batch) * 1e3,
        "rows_per_s": len(X) / min(batch),
        "single_p50_us": singles[len(singles) // 2] * 1e6,
        "single_p99_us": singles[min(len(singles) - 1, int(len(singles) * 0.99))] * 1e6,
    }


def main(out_dir, smoke):
    n_rows = 200 if smoke else 10_000
    trees = (lambda n: 3) if smoke else (lambda n: n)
    repeats = 2 if smoke else 7
    os.makedirs(out_dir, exist_ok=True)

    diabetes = load_diabetes()
    bc = load_breast_cancer()
    digits = load_digits()
    Xs, ys = make_classification(n_samples=2_000 if smoke else 20_000, n_features=50, n_informative=20, random_state=7)
    rng = np.random.RandomState(3)

    def mixed_frame(n, seed):
        import pandas as pd

        r = np.random.RandomState(seed)
        frame = pd.DataFrame({
            "age": r.normal(40, 12, n), "income": r.lognormal(10, 1, n), "score": r.uniform(0, 1, n),
            "city": r.choice(["paris", "lyon", "nice", "lille"], n), "plan": r.choice(["free", "pro", "team"], n),
        })
        frame.loc[r.rand(n) < 0.1, "income"] = np.nan
        frame.loc[r.rand(n) < 0.05, "city"] = np.nan
        return frame

    models = []

    def add(name, title, model, X_fit, y_fit, X_eval, outputs="proba", kind="sklearn", onnx=True, m2c=True):
        models.append((name, title, model, X_fit, y_fit, X_eval, outputs, kind, onnx, m2c))

    add("linreg_diabetes", "LinearRegression (diabetes, 10 features)", LinearRegression(),
        diabetes.data, diabetes.target, sample_rows(diabetes.data, n_rows, 1), outputs="value")
    add("logreg_pipeline_breast_cancer", "StandardScaler + LogisticRegression (breast cancer, 30)",
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)), bc.data, bc.target,
        sample_rows(bc.data, n_rows, 2), m2c=False)
    add("logreg_multinomial_digits", "LogisticRegression multinomial (digits, 64 features, 10 classes)",
        LogisticRegression(max_iter=3000), digits.data, digits.target, sample_rows(digits.data, n_rows, 3))
    add("rf_100", "RandomForest 100 trees (breast cancer)", RandomForestClassifier(trees(100), random_state=0),
        bc.data, bc.target, sample_rows(bc.data, n_rows, 4))
    add("rf_100_full_20k", "RandomForest 100 fully grown trees (20,000 × 50)",
        RandomForestClassifier(trees(100), random_state=0), Xs, ys, sample_rows(Xs, n_rows, 5))
    add("gb_200_d3", "GradientBoosting 200 × depth 3 (20,000 × 50)",
        GradientBoostingClassifier(n_estimators=trees(200), max_depth=3, random_state=0), Xs, ys, sample_rows(Xs, n_rows, 6))
    add("hgb_200", "HistGradientBoosting 200 (20,000 × 50)",
        HistGradientBoostingClassifier(max_iter=trees(200), early_stopping=False, random_state=0), Xs, ys,
        sample_rows(Xs, n_rows, 7), m2c=False)
    try:
        import xgboost

        add("xgb_200_d6", "XGBoost 200 × depth 6 (20,000 × 50)",
            xgboost.XGBClassifier(n_estimators=trees(200), max_depth=6, random_state=0, n_jobs=1), Xs, ys,
            sample_rows(Xs, n_rows, 8), kind="xgboost")
    except ImportError:
        pass
    try:
        import lightgbm

        add("lgbm_200", "LightGBM 200 (20,000 × 50)",
            lightgbm.LGBMClassifier(n_estimators=trees(200), random_state=0, n_jobs=1, verbose=-1), Xs, ys,
            sample_rows(Xs, n_rows, 9), kind="lightgbm")
    except ImportError:
        pass
    frame_fit = mixed_frame(2_000, 10)
    y_frame = ((frame_fit["score"] > 0.5) ^ (frame_fit["plan"] == "pro")).astype(int)
    ct = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(), StandardScaler()), ["age", "income", "score"]),
        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")), ["city", "plan"]),
    ])
    add("column_transformer", "ColumnTransformer (numeric + categorical, missing values) + LogisticRegression",
        make_pipeline(ct, LogisticRegression(max_iter=1000)), frame_fit, y_frame, mixed_frame(n_rows, 11),
        kind="frame", onnx=False, m2c=False)
    add("mlp", "MLPClassifier 2 × 64 (digits)", MLPClassifier((64, 64), max_iter=300 if not smoke else 20, random_state=0),
        digits.data, digits.target, sample_rows(digits.data, n_rows, 12))

    index = []
    for name, title, model, X_fit, y_fit, X_eval, outputs, kind, do_onnx, do_m2c in models:
        t = time.perf_counter()
        model.fit(X_fit, y_fit)
        fit_s = time.perf_counter() - t
        d = os.path.join(out_dir, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "model.pkl"), "wb") as f:
            pickle.dump(model, f, protocol=4)
        # joblib artefacts for the size table (wasm-predict reads pickle today; joblib is issue #3).
        import joblib

        joblib.dump(model, os.path.join(d, "model.joblib"))
        joblib.dump(model, os.path.join(d, "model.joblib.z"), compress=3)
        meta = {"name": name, "title": title, "outputs": outputs, "n_rows": len(X_eval), "fit_s": fit_s,
                "library": kind, "files": {"pickle": "model.pkl"}, "unsupported": {},
                # XGBoost computes in float32; in wasm its logf/expf come from Rust's libm (an ulp
                # from glibc's), so agreement is to float32 precision there (exact natively).
                "agreement_tolerance": 1e-5 if kind == "xgboost" else 1e-9}
        if kind == "frame":
            meta["n_features"] = int(X_eval.shape[1])
            meta["columns"] = list(X_eval.columns)
            expected = model.predict_proba(X_eval)
            with open(os.path.join(d, "X.json"), "w") as f:
                f.write(X_eval.to_json(orient="records"))
            meta["files"]["X"] = "X.json"
        else:
            X_eval = np.ascontiguousarray(X_eval, dtype=np.float64)
            meta["n_features"] = int(X_eval.shape[1])
            X_eval.tofile(os.path.join(d, "X.f64"))
            meta["files"]["X"] = "X.f64"
            expected = model.predict_proba(X_eval) if outputs == "proba" else model.predict(X_eval)
        expected = np.ascontiguousarray(expected, dtype=np.float64)
        expected.tofile(os.path.join(d, "expected.f64"))
        meta["expected_cols"] = 1 if expected.ndim == 1 else int(expected.shape[1])
        meta["reference"] = time_reference(model, X_eval, outputs, repeats)
        if do_onnx:
            try:
                data = onnx_of(model, meta["n_features"], kind)
                with open(os.path.join(d, "model.onnx"), "wb") as f:
                    f.write(data)
                meta["files"]["onnx"] = "model.onnx"
            except Exception as e:  # the converter's own limitation, reported as such
                meta["unsupported"]["onnx"] = f"{type(e).__name__}: {str(e).splitlines()[0][:160]}"
        else:
            meta["unsupported"]["onnx"] = "not converted (string columns need per-column ONNX inputs)"
        if do_m2c:
            try:
                code = m2cgen_of(model)
                with open(os.path.join(d, "model.m2cgen.js"), "w") as f:
                    f.write(code)
                meta["files"]["m2cgen"] = "model.m2cgen.js"
            except Exception as e:
                meta["unsupported"]["m2cgen"] = f"{type(e).__name__}: {str(e).splitlines()[0][:160]}"
        else:
            meta["unsupported"]["m2cgen"] = "m2cgen does not support this model"
        with open(os.path.join(d, "meta.json"), "w") as f:
            json.dump(meta, f, indent=1)
        index.append(name)
        print(f"bench model {name}: fit {fit_s:.1f}s, files {sorted(meta['files'])}, unsupported {sorted(meta['unsupported'])}", flush=True)

    versions = {"python": platform.python_version(), "scikit-learn": sklearn.__version__, "numpy": np.__version__}
    for mod in ("skl2onnx", "onnx", "onnxmltools", "onnxruntime", "m2cgen", "xgboost", "lightgbm"):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception:
            pass
    with open(os.path.join(out_dir, "index.json"), "w") as f:
        json.dump({"models": index, "smoke": smoke, "versions": versions}, f, indent=1)


if __name__ == "__main__":
    try:
        main(sys.argv[1], "--smoke" in sys.argv[2:])
    except Exception:
        traceback.print_exc()
        sys.exit(1)
