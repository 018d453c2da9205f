//! The JS-facing API exercised inside wasm: included by `wasm_node.rs` (runs in Node) and
//! `wasm_browser.rs` (runs in headless Chromium), so the same checks run in both.
#![allow(
    dead_code,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

#[path = "../common/mod.rs"]
mod common;

use common::{cases, Case, Diff, HOSTILE, HOSTILE_MANIFEST};
use js_sys::{Array, Float32Array, Float64Array, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;
use wasm_predict::wasm::{load, Model};

fn bytes_arg(bytes: &[u8]) -> wasm_predict::wasm::BytesArg {
    JsValue::from(Uint8Array::from(bytes)).unchecked_into()
}

fn load_ok(bytes: &[u8]) -> Model {
    load(bytes_arg(bytes), None).unwrap_or_else(|e| panic!("load failed: {}", error_text(&e)))
}

fn error_text(e: &JsValue) -> String {
    let code = Reflect::get(e, &"code".into())
        .ok()
        .and_then(|c| c.as_string())
        .unwrap_or_default();
    let message = Reflect::get(e, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_default();
    format!("{code}: {message}")
}

fn code_of(e: &JsValue) -> String {
    assert!(
        e.is_instance_of::<js_sys::Error>(),
        "thrown value is not an Error"
    );
    Reflect::get(e, &"code".into())
        .unwrap()
        .as_string()
        .unwrap()
}

/// The case's input as JS sees it: a Float64Array with its column count, or — for mixed-type
/// fixtures — an array of row arrays holding numbers, strings, booleans and null.
fn js_input(case: &Case) -> (JsValue, Option<u32>) {
    if !case.is_mixed() {
        let (flat, n_cols) = flat_input(case);
        return (flat.into(), Some(n_cols));
    }
    let rows: Array = case.expected["X"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let cells: Array = row
                .as_array()
                .unwrap()
                .iter()
                .map(|v| match v {
                    serde_json::Value::Null => JsValue::NULL,
                    serde_json::Value::Bool(b) => JsValue::from(*b),
                    serde_json::Value::String(s) => JsValue::from_str(s),
                    other => JsValue::from(other.as_f64().unwrap()),
                })
                .collect();
            JsValue::from(cells)
        })
        .collect();
    (rows.into(), None)
}

fn flat_input(case: &Case) -> (Float64Array, u32) {
    let (x, n_cols) = case.x();
    (Float64Array::from(x.as_slice()), n_cols as u32)
}

fn rows_input(case: &Case) -> Array {
    let (x, n_cols) = case.x();
    x.chunks(n_cols)
        .map(|row| JsValue::from(row.iter().map(|v| JsValue::from(*v)).collect::<Array>()))
        .collect()
}

fn object_rows_input(case: &Case, names: &[String]) -> Array {
    let (x, n_cols) = case.x();
    x.chunks(n_cols)
        .map(|row| {
            let object = Object::new();
            for (name, v) in names.iter().zip(row) {
                Reflect::set(&object, &name.into(), &(*v).into()).unwrap();
            }
            JsValue::from(object)
        })
        .collect()
}

/// The input as columns, like a DataFrame's: `{name: Float64Array}`.
fn column_input(case: &Case, names: &[String]) -> Object {
    let (x, n_cols) = case.x();
    let object = Object::new();
    for (c, name) in names.iter().enumerate() {
        let column: Vec<f64> = x.chunks(n_cols).map(|row| row[c]).collect();
        Reflect::set(
            &object,
            &name.into(),
            &Float64Array::from(column.as_slice()).into(),
        )
        .unwrap();
    }
    object
}

/// Predicted labels as JSON values, flattened (multi-output rows are arrays of labels):
/// numbers, strings or booleans in the classes' own types.
fn labels_json(value: &JsValue) -> Vec<serde_json::Value> {
    if let Some(numbers) = value.dyn_ref::<Float64Array>() {
        return numbers
            .to_vec()
            .into_iter()
            .map(serde_json::Value::from)
            .collect();
    }
    let items: &Array = value.dyn_ref().expect("labels array");
    items
        .iter()
        .flat_map(|l| {
            if Array::is_array(&l) {
                labels_json(&l)
            } else if let Some(b) = l.as_bool() {
                vec![serde_json::Value::from(b)]
            } else if let Some(n) = l.as_f64() {
                vec![serde_json::Value::from(n)]
            } else {
                vec![serde_json::Value::from(l.as_string().unwrap())]
            }
        })
        .collect()
}

/// `predictProba`'s output as a vector (a multi-output classifier's blocks one after the
/// other, as scikit-learn's list flattened).
fn proba_vec(p: Float64Array) -> Vec<f64> {
    p.to_vec()
}

fn as_vec(value: &JsValue) -> Vec<f64> {
    value
        .dyn_ref::<Float64Array>()
        .expect("a Float64Array")
        .to_vec()
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn feature_names(model: &Model) -> Vec<String> {
    let metadata: JsValue = model.metadata().unwrap().into();
    let names: Array = Reflect::get(&metadata, &"featureNames".into())
        .unwrap()
        .unchecked_into();
    names.iter().map(|n| n.as_string().unwrap()).collect()
}

/// Compare a model's JS outputs with scikit-learn's; returns the worst differences.
fn check_case(model: &Model, case: &Case) -> Diff {
    let mut diff = Diff::default();
    if case.id.contains("_xgb_") {
        diff.rel_tol = common::F32_WASM_TOL;
    }
    if case.id.contains("/svm_") {
        diff.abs_floor = common::SVM_WASM_ABS;
    }
    let (flat, n_cols) = js_input(case);
    if let Some(want) = case.numbers("transform") {
        let got = model
            .transform(flat.clone().unchecked_into(), n_cols)
            .unwrap();
        diff.check(&format!("{} transform", case.id), &got.to_vec(), &want);
    }
    if case.expected.get("predict").is_none() {
        // A transformer: transform only.
        let err = model
            .predict(flat.clone().unchecked_into(), n_cols)
            .err()
            .unwrap();
        assert_eq!(code_of(&err), "UNSUPPORTED_OPERATION", "{}", case.id);
        return diff;
    }
    let predicted: JsValue = model
        .predict(flat.clone().unchecked_into(), n_cols)
        .unwrap()
        .into();
    if case.is_classifier() {
        // Multi-output classifiers: one array of labels per row; compare label by label.
        let want: Vec<serde_json::Value> = case.expected["predict"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|w| w.as_array().cloned().unwrap_or_else(|| vec![w.clone()]))
            .collect();
        let got = labels_json(&predicted);
        assert_eq!(got.len(), want.len(), "{}: row count", case.id);
        for (row, (g, w)) in got.iter().zip(&want).enumerate() {
            let same = match (g.as_f64(), w.as_f64()) {
                (Some(a), Some(b)) => a == b,
                _ => g == w,
            };
            assert!(same, "{} row {row}: got {g}, scikit-learn {w}", case.id);
        }
        match case.numbers("predict_proba") {
            Some(want) => {
                let proba = model
                    .predict_proba(flat.clone().unchecked_into(), n_cols)
                    .unwrap();
                diff.check(&format!("{} proba", case.id), &proba_vec(proba), &want);
            }
            None => {
                let err = model
                    .predict_proba(flat.clone().unchecked_into(), n_cols)
                    .err()
                    .unwrap();
                assert_eq!(code_of(&err), "UNSUPPORTED_OPERATION");
            }
        }
        if let Some(want) = case.numbers("decision_function") {
            let scores = model
                .decision_function(flat.clone().unchecked_into(), n_cols)
                .unwrap();
            diff.check(&format!("{} scores", case.id), &scores.to_vec(), &want);
        } else {
            let err = model
                .decision_function(flat.clone().unchecked_into(), n_cols)
                .err()
                .unwrap();
            assert_eq!(code_of(&err), "UNSUPPORTED_OPERATION");
        }
    } else {
        diff.check(
            &format!("{} predict", case.id),
            &as_vec(&predicted),
            &case.numbers("predict").unwrap(),
        );
        if let Some(want) = case.numbers("score_samples") {
            let scores = model
                .score_samples(flat.clone().unchecked_into(), n_cols)
                .unwrap();
            diff.check(
                &format!("{} score_samples", case.id),
                &scores.to_vec(),
                &want,
            );
            let decision = model
                .decision_function(flat.clone().unchecked_into(), n_cols)
                .unwrap();
            diff.check(
                &format!("{} decision_function", case.id),
                &decision.to_vec(),
                &case.numbers("decision_function").unwrap(),
            );
        }
    }
    // scikit-learn's `apply`: leaf indices, exact.
    if let Some(want) = case.numbers("apply") {
        let leaves = model.apply(flat.clone().unchecked_into(), n_cols).unwrap();
        assert_eq!(leaves.to_vec(), want, "{} apply", case.id);
    }
    diff
}

#[wasm_bindgen_test]
fn every_fixture_matches_scikit_learn_through_the_js_api() {
    let mut overall = Diff::default();
    let mut count = 0;
    for case in cases() {
        for (kind, bytes) in case.pickles {
            if common::disabled_codec(kind).is_some() {
                // Not built in: tests/parity.rs checks the error names the feature.
                continue;
            }
            let model = load_ok(bytes);
            let diff = check_case(&model, &case);
            // Forests and single trees involve no transcendental function: bit-exact here too.
            // Gradient boosting's init (log) and links (exp, also HistGradientBoosting's and
            // LightGBM's and XGBoost's sigmoid/softmax/exp outputs, XGBoost's logit base margin,
            // IsolationForest's 2^x score, AdaBoost classifiers' softmax and SAMME.R logs) use
            // Rust's wasm libm, which can be 1 ulp from glibc's (natively they are exact; see
            // tests/parity.rs).
            if case.id.contains("/tree_")
                && !case.id.contains("_gb_")
                && !case.id.contains("_hgb_")
                && !case.id.contains("_lgbm_")
                && !case.id.contains("_xgb_")
                && !case.id.contains("_iforest_")
                && !case.id.contains("_adaboost_classifier")
            {
                assert_eq!(
                    diff.max_abs, 0.0,
                    "{}: tree outputs must be bit-exact in wasm too",
                    case.id
                );
            }
            overall.merge(diff);
            drop(model);
            count += 1;
        }
    }
    assert!(count >= 50);
    wasm_bindgen_test::console_log!(
        "wasm parity: {count} pickles, max rel {:e}, max abs {:e}",
        overall.max_rel,
        overall.max_abs
    );
}

#[wasm_bindgen_test]
fn all_input_forms_give_identical_outputs() {
    for case in cases().into_iter().filter(|c| !c.is_mixed()) {
        let model = load_ok(case.pickles[0].1);
        let (flat, n_cols) = flat_input(&case);
        let method = |x: JsValue, cols: Option<u32>| -> Vec<f64> {
            if case.expected.get("predict").is_none() {
                model.transform(x.unchecked_into(), cols).unwrap().to_vec()
            } else if case.has_proba() {
                proba_vec(model.predict_proba(x.unchecked_into(), cols).unwrap())
            } else if case.is_classifier() && case.expected.get("decision_function").is_some() {
                model
                    .decision_function(x.unchecked_into(), cols)
                    .unwrap()
                    .to_vec()
            } else if case.is_classifier() {
                // Hard voting: labels only; compare them as class indices.
                let labels: JsValue = model.predict(x.unchecked_into(), cols).unwrap().into();
                let classes = case.expected["classes"].as_array().unwrap();
                match labels.dyn_ref::<Float64Array>() {
                    Some(numbers) => numbers.to_vec(),
                    None => labels
                        .unchecked_ref::<Array>()
                        .iter()
                        .map(|l| {
                            let text = l.as_string().unwrap_or_default();
                            classes
                                .iter()
                                .position(|c| c.as_str() == Some(text.as_str()))
                                .unwrap() as f64
                        })
                        .collect(),
                }
            } else {
                as_vec(&model.predict(x.unchecked_into(), cols).unwrap().into())
            }
        };
        let reference = method(flat.clone().into(), Some(n_cols));
        if case.expected["n_features"].as_u64() == Some(0) {
            // A dummy of unknown width (fitted before 1.5): a typed array needs nCols, row
            // arrays of any width work, and there are no names for objects or columns.
            let err = model
                .predict(JsValue::from(flat.clone()).unchecked_into(), None)
                .err()
                .unwrap();
            assert_eq!(code_of(&err), "BAD_INPUT", "{}", case.id);
            assert_eq!(
                bits(&method(rows_input(&case).into(), None)),
                bits(&reference),
                "{}: row arrays",
                case.id
            );
            continue;
        }
        // The column count defaults to the model's feature count.
        assert_eq!(
            bits(&method(flat.clone().into(), None)),
            bits(&reference),
            "{}",
            case.id
        );
        assert_eq!(
            bits(&method(rows_input(&case).into(), None)),
            bits(&reference),
            "{}: row arrays",
            case.id
        );
        let names = feature_names(&model);
        assert_eq!(
            bits(&method(object_rows_input(&case, &names).into(), None)),
            bits(&reference),
            "{}: row objects",
            case.id
        );
        assert_eq!(
            bits(&method(column_input(&case, &names).into(), None)),
            bits(&reference),
            "{}: columns",
            case.id
        );
        // Float32Array input is accepted (values are widened to f64).
        let f32_input = Float32Array::from(
            case.x()
                .0
                .iter()
                .map(|v| *v as f32)
                .collect::<Vec<_>>()
                .as_slice(),
        );
        assert_eq!(
            method(f32_input.into(), Some(n_cols)).len(),
            reference.len()
        );
    }
}

#[wasm_bindgen_test]
fn metadata_is_a_plain_object() {
    let case = cases()
        .into_iter()
        .find(|c| c.id == "sk19/logreg_string_classes")
        .unwrap();
    let model = load_ok(case.pickles[1].1);
    let metadata: JsValue = model.metadata().unwrap().into();
    assert_eq!(
        Object::get_prototype_of(&metadata),
        Object::get_prototype_of(&Object::new().into())
    );
    let get = |k: &str| Reflect::get(&metadata, &k.into()).unwrap();
    assert_eq!(get("name").as_string().unwrap(), "LogisticRegression");
    assert_eq!(get("sourceLibrary").as_string().unwrap(), "scikit-learn");
    assert_eq!(get("sourceLibraryVersion").as_string().unwrap(), "1.9.1");
    assert_eq!(
        get("estimatorClass").as_string().unwrap(),
        "sklearn.linear_model._logistic.LogisticRegression"
    );
    assert_eq!(
        get("sourceFormat").as_string().unwrap(),
        "pickle protocol 4"
    );
    assert_eq!(get("outputKind").as_string().unwrap(), "classification");
    assert_eq!(get("nFeatures").as_f64().unwrap(), 4.0);
    let classes: Array = get("classes").unchecked_into();
    let classes: Vec<String> = classes.iter().map(|c| c.as_string().unwrap()).collect();
    assert_eq!(classes, ["setosa", "versicolor", "virginica"]);
    assert!(get("createdUnixMs").as_f64().unwrap() > 1.6e12);
    assert_eq!(get("featureNamesFromSource").as_bool(), Some(false));

    let options: JsValue = Object::new().into();
    Reflect::set(&options, &"name".into(), &"iris-v2".into()).unwrap();
    Reflect::set(&options, &"version".into(), &"2.0.1".into()).unwrap();
    let named = load(bytes_arg(case.pickles[1].1), Some(options.unchecked_into())).unwrap();
    let metadata: JsValue = named.metadata().unwrap().into();
    assert_eq!(
        Reflect::get(&metadata, &"name".into())
            .unwrap()
            .as_string()
            .unwrap(),
        "iris-v2"
    );
    assert_eq!(
        Reflect::get(&metadata, &"version".into())
            .unwrap()
            .as_string()
            .unwrap(),
        "2.0.1"
    );
}

#[wasm_bindgen_test]
fn bundles_round_trip_through_js() {
    for case in cases() {
        let model = load_ok(case.pickles[0].1);
        let bundle = model.to_bundle().unwrap();
        let reloaded = load(JsValue::from(bundle.clone()).unchecked_into(), None).unwrap();
        let (flat, n_cols) = js_input(&case);
        if case.expected.get("predict").is_none() {
            let a = model.transform(flat.clone().unchecked_into(), n_cols);
            let b = reloaded.transform(flat.clone().unchecked_into(), n_cols);
            assert_eq!(
                bits(&a.unwrap().to_vec()),
                bits(&b.unwrap().to_vec()),
                "{}: bundle transform",
                case.id
            );
            continue;
        }
        let a = model
            .predict(flat.clone().unchecked_into(), n_cols)
            .unwrap();
        let b = reloaded
            .predict(flat.clone().unchecked_into(), n_cols)
            .unwrap();
        if let Some(a) = a.dyn_ref::<Float64Array>() {
            assert_eq!(bits(&a.to_vec()), bits(&as_vec(&b.into())), "{}", case.id);
        }
        if case.has_proba() {
            let pa = proba_vec(
                model
                    .predict_proba(flat.clone().unchecked_into(), n_cols)
                    .unwrap(),
            );
            let pb = proba_vec(
                reloaded
                    .predict_proba(flat.clone().unchecked_into(), n_cols)
                    .unwrap(),
            );
            assert_eq!(bits(&pa), bits(&pb), "{}: bundle probabilities", case.id);
        }
        let meta_a: JsValue = model.metadata().unwrap().into();
        let meta_b: JsValue = reloaded.metadata().unwrap().into();
        assert_eq!(
            js_sys::JSON::stringify(&meta_a).unwrap().as_string(),
            js_sys::JSON::stringify(&meta_b).unwrap().as_string(),
            "{}: bundle metadata",
            case.id
        );
    }
}

#[wasm_bindgen_test]
fn hostile_files_throw_coded_errors_and_the_instance_keeps_working() {
    let manifest: serde_json::Value = serde_json::from_str(HOSTILE_MANIFEST).unwrap();
    let case = cases()
        .into_iter()
        .find(|c| c.id == "sk19/logreg_binary_breast_cancer")
        .unwrap();
    let model = load_ok(case.pickles[2].1);
    for (name, bytes) in HOSTILE {
        let err = load(bytes_arg(bytes), None)
            .err()
            .unwrap_or_else(|| panic!("{name} loaded"));
        assert_eq!(
            code_of(&err),
            manifest[*name]["code"].as_str().unwrap(),
            "{name}: {}",
            error_text(&err)
        );
        // After every failure the earlier model still predicts exactly.
        check_case(&model, &case);
    }
}

#[wasm_bindgen_test]
fn bad_prediction_input_throws_coded_errors_naming_row_and_column() {
    let case = cases()
        .into_iter()
        .find(|c| c.id == "sk19/linreg_diabetes")
        .unwrap();
    let model = load_ok(case.pickles[1].1);
    let names = feature_names(&model);
    let rows = object_rows_input(&case, &names);

    let bad_cell = rows.get(3);
    Reflect::set(&bad_cell, &"bmi".into(), &"tall".into()).unwrap();
    let err = model
        .predict(JsValue::from(rows.clone()).unchecked_into(), None)
        .err()
        .unwrap();
    assert_eq!(code_of(&err), "BAD_INPUT");
    assert!(
        error_text(&err).contains(
            "row 3, column \"bmi\": LinearRegression takes numbers, found the string \"tall\""
        ),
        "{}",
        error_text(&err)
    );

    Reflect::set(&bad_cell, &"bmi".into(), &JsValue::NULL).unwrap();
    let err = model
        .predict(JsValue::from(rows.clone()).unchecked_into(), None)
        .err()
        .unwrap();
    assert_eq!(code_of(&err), "BAD_INPUT");
    assert!(
        error_text(&err).contains("row 3, column 2 (\"bmi\"): NaN (missing)"),
        "{}",
        error_text(&err)
    );

    Reflect::delete_property(bad_cell.unchecked_ref::<Object>(), &"bmi".into()).unwrap();
    let err = model
        .predict(JsValue::from(rows.clone()).unchecked_into(), None)
        .err()
        .unwrap();
    assert!(
        error_text(&err).contains("row 3: missing column \"bmi\""),
        "{}",
        error_text(&err)
    );

    Reflect::set(&bad_cell, &"bmi".into(), &1.0.into()).unwrap();
    Reflect::set(&bad_cell, &"bmj".into(), &1.0.into()).unwrap();
    let err = model
        .predict(JsValue::from(rows.clone()).unchecked_into(), None)
        .err()
        .unwrap();
    assert!(
        error_text(&err).contains("row 3: unknown column \"bmj\""),
        "{}",
        error_text(&err)
    );

    let (flat, n_cols) = flat_input(&case);
    let err = model
        .predict(flat.clone().unchecked_into(), Some(n_cols - 1))
        .err()
        .unwrap();
    assert_eq!(code_of(&err), "SHAPE_MISMATCH");
    let short = rows_input(&case);
    short.get(5).unchecked_into::<Array>().pop();
    let err = model
        .predict(JsValue::from(short).unchecked_into(), None)
        .err()
        .unwrap();
    assert_eq!(code_of(&err), "SHAPE_MISMATCH");
    assert!(
        error_text(&err).contains("row 5 has 9 values"),
        "{}",
        error_text(&err)
    );

    let err = model
        .predict(JsValue::from("1,2,3").unchecked_into(), None)
        .err()
        .unwrap();
    assert_eq!(code_of(&err), "BAD_INPUT");
    let err = model
        .predict_proba(flat.clone().unchecked_into(), Some(n_cols))
        .err()
        .unwrap();
    assert_eq!(code_of(&err), "UNSUPPORTED_OPERATION");
    let err = load(JsValue::from(42).unchecked_into(), None)
        .err()
        .unwrap();
    assert_eq!(code_of(&err), "BAD_INPUT");
    let options: JsValue = Object::new().into();
    Reflect::set(&options, &"nmae".into(), &"x".into()).unwrap();
    let err = load(bytes_arg(case.pickles[0].1), Some(options.unchecked_into()))
        .err()
        .unwrap();
    assert_eq!(code_of(&err), "BAD_INPUT");
    assert!(error_text(&err).contains("unknown load() option \"nmae\""));

    // The instance survived all of that.
    check_case(&model, &case);
    // An empty batch returns an empty result.
    let empty = model
        .predict(JsValue::from(Array::new()).unchecked_into(), None)
        .unwrap();
    assert_eq!(as_vec(&empty.into()).len(), 0);
}

/// Mixed-type rows (a DataFrame's strings and numbers) reach the encoders by column name; an
/// unseen category under handle_unknown='error' fails only its own row in predictRows.
#[wasm_bindgen_test]
fn mixed_type_object_rows_reach_the_encoders() {
    let case = cases()
        .into_iter()
        .find(|c| c.id == "sk19/pre_ct_onehot_drop_passthrough_rf")
        .unwrap();
    let model = load_ok(case.pickles[0].1);
    let names = feature_names(&model);
    let (rows, _) = js_input(&case);
    let rows: Array = rows.unchecked_into();
    let objects: Array = rows
        .iter()
        .map(|row| {
            let object = Object::new();
            for (name, v) in names.iter().zip(row.unchecked_ref::<Array>().iter()) {
                Reflect::set(&object, &name.into(), &v).unwrap();
            }
            JsValue::from(object)
        })
        .collect();
    let got: Array = model
        .predict(JsValue::from(objects.clone()).unchecked_into(), None)
        .unwrap()
        .unchecked_into();
    let want = case.expected["predict"].as_array().unwrap();
    assert_eq!(got.length() as usize, want.len());
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g.as_string().unwrap(), w.as_str().unwrap());
    }
    Reflect::set(&objects.get(2), &"city".into(), &"tokyo".into()).unwrap();
    let err = model
        .predict(JsValue::from(objects.clone()).unchecked_into(), None)
        .err()
        .unwrap();
    assert_eq!(code_of(&err), "BAD_INPUT");
    let text = error_text(&err);
    assert!(
        text.contains(
            "row 2, column \"city\": the string \"tokyo\" is a category OneHotEncoder did not see"
        ),
        "{text}"
    );
    let results: Array = model
        .predict_rows(JsValue::from(objects).unchecked_into(), None)
        .unwrap()
        .unchecked_into();
    assert_eq!(results.length() as usize, want.len());
    for (i, entry) in results.iter().enumerate() {
        let ok = Reflect::get(&entry, &"ok".into())
            .unwrap()
            .as_bool()
            .unwrap();
        assert_eq!(ok, i != 2, "row {i}");
        if ok {
            let label = Reflect::get(&entry, &"prediction".into()).unwrap();
            assert_eq!(label.as_string().unwrap(), want[i].as_str().unwrap());
        }
    }
}

/// Columns like a DataFrame's (`{name: array}`), with strings and missing cells: the same
/// labels as rows, and errors that name the column.
#[wasm_bindgen_test]
fn column_input_with_mixed_types() {
    let case = cases()
        .into_iter()
        .find(|c| c.id == "sk19/pre_ct_impute_onehot_logreg")
        .unwrap();
    let model = load_ok(case.pickles[0].1);
    let names = feature_names(&model);
    let (rows, _) = js_input(&case);
    let rows: Array = rows.unchecked_into();
    let columns = Object::new();
    for (c, name) in names.iter().enumerate() {
        let column: Array = rows
            .iter()
            .map(|row| row.unchecked_ref::<Array>().get(c as u32))
            .collect();
        Reflect::set(&columns, &name.into(), &column).unwrap();
    }
    let by_rows: Array = model
        .predict(rows.clone().unchecked_into(), None)
        .unwrap()
        .unchecked_into();
    let by_columns: Array = model
        .predict(JsValue::from(columns.clone()).unchecked_into(), None)
        .unwrap()
        .unchecked_into();
    let want = case.expected["predict"].as_array().unwrap();
    assert_eq!(by_columns.length() as usize, want.len());
    for ((a, b), w) in by_columns.iter().zip(by_rows.iter()).zip(want) {
        assert_eq!(a.as_string().unwrap(), w.as_str().unwrap());
        assert_eq!(b.as_string(), a.as_string());
    }
    let expect_error = |x: &Object, code: &str, needle: &str| {
        let err = model
            .predict(JsValue::from(x.clone()).unchecked_into(), None)
            .err()
            .unwrap();
        assert_eq!(code_of(&err), code);
        let text = error_text(&err);
        assert!(text.contains(needle), "{text}");
    };
    let short = Object::assign(&Object::new(), &columns);
    let first: Array = Reflect::get(&short, &names[0].as_str().into())
        .unwrap()
        .unchecked_into();
    Reflect::set(&short, &names[0].as_str().into(), &first.slice(0, 3)).unwrap();
    expect_error(
        &short,
        "SHAPE_MISMATCH",
        &format!("but column {:?} has 3", names[0]),
    );
    let missing = Object::assign(&Object::new(), &columns);
    Reflect::delete_property(&missing, &names[1].as_str().into()).unwrap();
    expect_error(
        &missing,
        "BAD_INPUT",
        &format!("missing column {:?}", names[1]),
    );
    let extra = Object::assign(&Object::new(), &columns);
    Reflect::set(&extra, &"zip".into(), &Array::new()).unwrap();
    expect_error(&extra, "BAD_INPUT", "unknown column \"zip\"");
    let scalar = Object::assign(&Object::new(), &columns);
    Reflect::set(&scalar, &names[0].as_str().into(), &JsValue::from(3.0)).unwrap();
    expect_error(&scalar, "BAD_INPUT", "must be an array");
}

/// A multi-output classifier in JS: labels `nRows × nOutputs` row-major (each output's own
/// type), probabilities one block per output (scikit-learn's list, flattened), the classes
/// per output in `metadata.outputClasses`, and per row in `predictRows`.
#[wasm_bindgen_test]
fn multi_output_classifier_shapes() {
    let case = cases()
        .into_iter()
        .find(|c| c.id == "sk19/multi_tree_classifier_strings")
        .unwrap();
    let model = load_ok(case.pickles[0].1);
    let metadata: JsValue = model.metadata().unwrap().into();
    assert!(Reflect::get(&metadata, &"classes".into())
        .unwrap()
        .is_null());
    let classes: Array = Reflect::get(&metadata, &"outputClasses".into())
        .unwrap()
        .unchecked_into();
    assert_eq!(classes.length(), 2);
    assert_eq!(classes.get(1).unchecked_into::<Array>().length(), 2);
    assert_eq!(
        Reflect::get(&metadata, &"nOutputs".into())
            .unwrap()
            .as_f64(),
        Some(2.0)
    );
    let rows = rows_input(&case);
    let n = rows.length() as usize;
    let predicted: Array = model
        .predict(JsValue::from(rows.clone()).unchecked_into(), None)
        .unwrap()
        .unchecked_into();
    assert_eq!(predicted.length() as usize, n * 2);
    let want = case.expected["predict"][0].as_array().unwrap();
    assert_eq!(
        predicted.get(0).as_string().unwrap(),
        want[0].as_str().unwrap()
    );
    assert_eq!(
        predicted.get(1).as_string().unwrap(),
        want[1].as_str().unwrap()
    );
    let proba = model
        .predict_proba(JsValue::from(rows.clone()).unchecked_into(), None)
        .unwrap();
    assert_eq!(proba.length() as usize, n * (3 + 2));
    let results: Array = model
        .predict_rows(JsValue::from(rows).unchecked_into(), None)
        .unwrap()
        .unchecked_into();
    let entry = results.get(0);
    let p: Float64Array = Reflect::get(&entry, &"probabilities".into())
        .unwrap()
        .unchecked_into();
    assert_eq!(p.length(), 5);
    let all = proba.to_vec();
    assert_eq!(p.to_vec()[..3], all[..3]);
    assert_eq!(p.to_vec()[3..], all[n * 3..n * 3 + 2]);
    let label: Array = Reflect::get(&entry, &"prediction".into())
        .unwrap()
        .unchecked_into();
    assert_eq!(label.get(1).as_string().unwrap(), want[1].as_str().unwrap());
}

/// A LabelEncoder saved on its own: a flat array of labels in, codes out, and back.
#[wasm_bindgen_test]
fn label_encoder_round_trip() {
    let case = cases()
        .into_iter()
        .find(|c| c.id == "sk19/labels_encoder_strings")
        .unwrap();
    let model = load_ok(case.pickles[0].1);
    let labels: Array = ["virginica", "setosa", "versicolor"]
        .iter()
        .map(|l| JsValue::from_str(l))
        .collect();
    let codes = model
        .transform(JsValue::from(labels.clone()).unchecked_into(), None)
        .unwrap();
    assert_eq!(codes.to_vec(), vec![2.0, 0.0, 1.0]);
    let back: Array = model
        .inverse_transform(JsValue::from(codes), None)
        .unwrap()
        .unchecked_into();
    assert_eq!(
        back.iter()
            .map(|l| l.as_string().unwrap())
            .collect::<Vec<_>>(),
        vec!["virginica", "setosa", "versicolor"]
    );
    let bad: Array = [JsValue::from(1.0), JsValue::from(5.0)].iter().collect();
    let err = model
        .inverse_transform(JsValue::from(bad), None)
        .err()
        .unwrap();
    assert_eq!(code_of(&err), "BAD_INPUT");
    let unseen: Array = [JsValue::from_str("rose")].iter().collect();
    let err = model
        .transform(JsValue::from(unseen).unchecked_into(), None)
        .err()
        .unwrap();
    assert_eq!(code_of(&err), "BAD_INPUT");
    assert!(error_text(&err).contains("previously unseen labels"));
    let err = model
        .predict(JsValue::from(labels).unchecked_into(), None)
        .err()
        .unwrap();
    assert_eq!(code_of(&err), "UNSUPPORTED_OPERATION");
}

#[wasm_bindgen_test]
fn predict_rows_keeps_every_row_in_order_with_per_row_errors() {
    let case = cases()
        .into_iter()
        .find(|c| c.id == "sk19/tree_rf_classifier_string_labels")
        .unwrap();
    let model = load_ok(case.pickles[1].1);
    let rows = rows_input(&case);
    // Break three rows in three different ways.
    rows.get(2)
        .unchecked_into::<Array>()
        .set(1, JsValue::from("wide"));
    // (NaN is a missing value a 1.9 forest takes; infinity it refuses, as scikit-learn does.)
    rows.get(5)
        .unchecked_into::<Array>()
        .set(0, JsValue::from(f64::INFINITY));
    rows.get(9).unchecked_into::<Array>().pop();
    let results: Array = model
        .predict_rows(JsValue::from(rows.clone()).unchecked_into(), None)
        .unwrap()
        .unchecked_into();
    assert_eq!(results.length(), rows.length(), "no row dropped");
    let want = case.expected["predict"].as_array().unwrap();
    let want_proba = case.numbers("predict_proba").unwrap();
    let get = |o: &JsValue, k: &str| Reflect::get(o, &k.into()).unwrap();
    for (i, entry) in results.iter().enumerate() {
        let ok = get(&entry, "ok").as_bool().unwrap();
        match i {
            2 | 5 | 9 => {
                assert!(!ok, "row {i} should fail");
                let err = get(&entry, "error");
                let expected_code = if i == 9 {
                    "SHAPE_MISMATCH"
                } else {
                    "BAD_INPUT"
                };
                assert_eq!(
                    code_of(&err),
                    expected_code,
                    "row {i}: {}",
                    error_text(&err)
                );
                assert!(
                    error_text(&err).contains(&format!("row {i}")),
                    "{}",
                    error_text(&err)
                );
            }
            _ => {
                assert!(ok, "row {i}: {}", error_text(&get(&entry, "error")));
                assert_eq!(
                    get(&entry, "prediction").as_string().unwrap(),
                    want[i].as_str().unwrap(),
                    "row {i} reordered?"
                );
                let p = get(&entry, "probabilities")
                    .unchecked_into::<Float64Array>()
                    .to_vec();
                assert_eq!(
                    bits(&p),
                    bits(&want_proba[i * 3..i * 3 + 3]),
                    "row {i} probabilities"
                );
            }
        }
    }
}

#[wasm_bindgen_test]
fn large_batches_are_processed_in_chunks_with_batch_row_numbers() {
    let case = cases()
        .into_iter()
        .find(|c| c.id == "sk19/tree_gb_regressor_huber")
        .unwrap();
    let model = load_ok(case.pickles[0].1);
    let (x, n_cols) = case.x();
    let n_rows = 40_000; // several chunks
    let big: Vec<f64> = (0..n_rows)
        .flat_map(|r| x[(r % (x.len() / n_cols)) * n_cols..][..n_cols].to_vec())
        .collect();
    let out = as_vec(
        &model
            .predict(
                Float64Array::from(big.as_slice()).unchecked_into(),
                Some(n_cols as u32),
            )
            .unwrap()
            .into(),
    );
    assert_eq!(out.len(), n_rows);
    let want = case.numbers("predict").unwrap();
    for r in [0, 16_383, 16_384, 32_768, n_rows - 1] {
        assert_eq!(
            out[r].to_bits(),
            model_row_value(&want, r).to_bits(),
            "row {r}"
        );
    }
    // An error in the third chunk names the row in the whole batch.
    let mut bad = big.clone();
    bad[35_000 * n_cols + 1] = f64::INFINITY;
    let err = model
        .predict(
            Float64Array::from(bad.as_slice()).unchecked_into(),
            Some(n_cols as u32),
        )
        .err()
        .unwrap();
    assert!(
        error_text(&err).contains("row 35000, column 1"),
        "{}",
        error_text(&err)
    );
}

fn model_row_value(want: &[f64], r: usize) -> f64 {
    want[r % want.len()]
}

#[wasm_bindgen_test]
fn load_limits_come_from_js_options() {
    let case = cases()
        .into_iter()
        .find(|c| c.id == "sk19/tree_rf_classifier_breast_cancer")
        .unwrap();
    let with_limits = |limits: &[(&str, f64)]| {
        let options: JsValue = Object::new().into();
        let l: JsValue = Object::new().into();
        for (k, v) in limits {
            Reflect::set(&l, &(*k).into(), &(*v).into()).unwrap();
        }
        Reflect::set(&options, &"limits".into(), &l).unwrap();
        load(bytes_arg(case.pickles[1].1), Some(options.unchecked_into()))
    };
    for (limit, value, says) in [
        (
            "maxTrees",
            10.0,
            "number of trees is 11, over the limit of 10",
        ),
        ("maxNodes", 100.0, "number of tree nodes"),
        ("maxAllocBytes", 5000.0, "max_alloc_bytes limit of 5000"),
        ("maxFeatures", 29.0, "number of features is 30"),
    ] {
        let err = with_limits(&[(limit, value)]).err().unwrap();
        assert_eq!(code_of(&err), "LIMIT_EXCEEDED", "{limit}");
        assert!(
            error_text(&err).contains(says),
            "{limit}: {}",
            error_text(&err)
        );
    }
    let err = with_limits(&[("maxTreez", 1.0)]).err().unwrap();
    assert_eq!(code_of(&err), "BAD_INPUT");
    let err = with_limits(&[("maxTrees", -3.0)]).err().unwrap();
    assert_eq!(code_of(&err), "BAD_INPUT");
    assert!(with_limits(&[("maxTrees", 40.0), ("maxNodes", 1e6)]).is_ok());
}
