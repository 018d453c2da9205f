//! Native parity: every fixture pickle (two scikit-learn lines, protocols 2/4/5) loads and
//! predicts what scikit-learn predicted; bundles round-trip bit for bit.
#![cfg(not(target_arch = "wasm32"))]
#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

mod common;

use common::{cases, Case, Diff};
use serde_json::Value;
use wasm_predict::core::{ClassLabels, Predictions, Rows};
use wasm_predict::{load, to_bundle, LoadOptions, Model};

fn labels_json(labels: &ClassLabels) -> Vec<Value> {
    match labels {
        ClassLabels::Int(v) => v.iter().map(|l| Value::from(*l)).collect(),
        ClassLabels::Float(v) => v.iter().map(|l| Value::from(*l)).collect(),
        ClassLabels::Str(v) => v.iter().map(|l| Value::from(l.as_str())).collect(),
        ClassLabels::Bool(v) => v.iter().map(|l| Value::from(*l)).collect(),
    }
}

/// Compare one loaded model against the case's recorded scikit-learn outputs.
fn compare(model: &Model, case: &Case, what: &str) -> Diff {
    let owned = case.owned_input();
    let rows = owned.input();
    let mut diff = Diff::default();
    assert_eq!(
        model.n_features(),
        case.expected["n_features"].as_u64().unwrap() as usize
    );
    if let Some(names) = case.expected["feature_names"].as_array() {
        let names: Vec<&str> = names.iter().map(|n| n.as_str().unwrap()).collect();
        assert_eq!(model.metadata.feature_names, names, "{what}: feature names");
        assert!(model.metadata.feature_names_from_source);
    }
    if let Some(version) = case.expected["xgboost_version"].as_str() {
        assert!(
            model
                .metadata
                .source_library_version
                .starts_with(&format!("{version} (objective ")),
            "{what}: {}",
            model.metadata.source_library_version
        );
    } else {
        match case.expected["lightgbm_version"].as_str() {
            // LightGBM files record their text-format version (v3 for 3.x, v4 for 4.x), not the
            // library's.
            Some(version) => {
                let major = version.split('.').next().unwrap();
                let want = format!("model format v{major} ");
                assert!(
                    model.metadata.source_library_version.starts_with(&want),
                    "{what}: {}",
                    model.metadata.source_library_version
                );
            }
            None => assert_eq!(
                model.metadata.source_library_version,
                case.expected["sklearn_version"].as_str().unwrap()
            ),
        }
    }
    if let Some(want) = case.numbers("transform") {
        let (got, n_cols) = model.transform(rows).unwrap();
        if case.expected.get("predict").is_none() {
            assert_eq!(n_cols, model.n_outputs(), "{what}: transform width");
        }
        diff.check(&format!("{what} transform"), &got, &want);
    }
    if let Some(inverse) = case.expected.get("inverse_transform") {
        // LabelEncoder / LabelBinarizer: codes back to labels.
        let codes = common::flatten(&inverse["codes"]);
        let n_cols = inverse["codes"][0].as_array().map_or(1, Vec::len);
        let indices = model.inverse_transform(&codes, n_cols).unwrap();
        let labels = labels_json(model.classes().unwrap());
        assert_eq!(
            Value::from(labels.clone()),
            case.expected["classes"],
            "{what}"
        );
        let got: Vec<Value> = indices.iter().map(|i| labels[*i].clone()).collect();
        assert_eq!(
            &Value::from(got),
            &inverse["labels"],
            "{what}: inverse_transform"
        );
    }
    if case.expected.get("predict").is_none() {
        // A transformer saved on its own, or a pipeline ending in one: transform only.
        assert_eq!(
            model.predict(rows).unwrap_err().code().as_str(),
            "UNSUPPORTED_OPERATION",
            "{what}"
        );
        return diff;
    }
    match model.predict(rows).unwrap() {
        Predictions::Values { data, .. } => diff.check(
            &format!("{what} predict"),
            &data,
            &case.numbers("predict").unwrap(),
        ),
        Predictions::ClassIndices(indices) => {
            let labels = labels_json(model.classes().unwrap());
            assert_eq!(
                Value::from(labels.clone()),
                case.expected["classes"],
                "{what}: classes"
            );
            let got: Vec<Value> = indices.iter().map(|i| labels[*i].clone()).collect();
            let want = case.expected["predict"].as_array().unwrap();
            for (row, (g, w)) in got.iter().zip(want).enumerate() {
                // Integer labels may be recorded as 3 or 3.0; compare numerically then.
                let same = match (g.as_f64(), w.as_f64()) {
                    (Some(a), Some(b)) => a == b,
                    _ => g == w,
                };
                assert!(same, "{what}: predict row {row}: got {g}, scikit-learn {w}");
            }
            assert_eq!(got.len(), want.len());
        }
        Predictions::MultiClassIndices { indices, n_outputs } => {
            // Several targets: per row, one label per output, each in its output's type.
            let outputs: Vec<Vec<Value>> = model
                .output_classes()
                .unwrap()
                .into_iter()
                .map(labels_json)
                .collect();
            assert_eq!(outputs.len(), n_outputs);
            assert_eq!(
                Value::from(outputs.clone()),
                case.expected["classes"],
                "{what}: classes"
            );
            let want = case.expected["predict"].as_array().unwrap();
            assert_eq!(indices.len(), want.len() * n_outputs);
            for (row, (got, w)) in indices.chunks(n_outputs).zip(want).enumerate() {
                for (o, (i, wl)) in got.iter().zip(w.as_array().unwrap()).enumerate() {
                    let g = &outputs[o][*i];
                    let same = match (g.as_f64(), wl.as_f64()) {
                        (Some(a), Some(b)) => a == b,
                        _ => g == wl,
                    };
                    assert!(
                        same,
                        "{what}: predict row {row} output {o}: got {g}, scikit-learn {wl}"
                    );
                }
            }
        }
    }
    if case.is_classifier() {
        match case.numbers("predict_proba") {
            Some(want) => {
                let proba = model.predict_proba(rows).unwrap();
                diff.check(&format!("{what} predict_proba"), &proba, &want);
            }
            // scikit-learn has none for this classifier (RidgeClassifier, LinearSVC, …).
            None => assert_eq!(
                model.predict_proba(rows).unwrap_err().code().as_str(),
                "UNSUPPORTED_OPERATION"
            ),
        }
        match case.numbers("decision_function") {
            Some(want) => {
                let (scores, _) = model.decision_function(rows).unwrap();
                diff.check(&format!("{what} decision_function"), &scores, &want);
            }
            // scikit-learn has none for this estimator, and neither do we.
            None => assert_eq!(
                model.decision_function(rows).unwrap_err().code().as_str(),
                "UNSUPPORTED_OPERATION"
            ),
        }
    } else {
        assert_eq!(
            model.predict_proba(rows).unwrap_err().code().as_str(),
            "UNSUPPORTED_OPERATION"
        );
        // Outlier detectors: both scores too.
        if let Some(want) = case.numbers("score_samples") {
            let got = model.score_samples(rows).unwrap();
            diff.check(&format!("{what} score_samples"), &got, &want);
            let (decision, _) = model.decision_function(rows).unwrap();
            diff.check(
                &format!("{what} decision_function"),
                &decision,
                &case.numbers("decision_function").unwrap(),
            );
        }
    }
    diff
}

#[test]
fn every_fixture_matches_scikit_learn() {
    let mut overall = Diff::default();
    let mut loaded = 0;
    let mut codec_refusals = 0;
    for case in cases() {
        let mut per_case = Diff::default();
        for (kind, bytes) in case.pickles {
            if let Some(feature) = common::disabled_codec(kind) {
                // Built without this codec: the error names the feature that adds it.
                let err = load(bytes, &LoadOptions::default()).unwrap_err();
                assert_eq!(
                    err.code().as_str(),
                    "UNSUPPORTED_VERSION",
                    "{} {kind}",
                    case.id
                );
                assert!(err.message().contains(&format!("`{feature}`")), "{err}");
                codec_refusals += 1;
                continue;
            }
            let model = load(bytes, &LoadOptions::default())
                .unwrap_or_else(|e| panic!("{} {kind}: {e}", case.id));
            let format = &model.metadata.source_format;
            match kind.strip_prefix('p').and_then(|k| k.strip_suffix(".pkl")) {
                Some(protocol) => assert_eq!(format, &format!("pickle protocol {protocol}")),
                None if *kind == "txt" => assert_eq!(format, "LightGBM text model"),
                None if *kind == "model.json" => assert_eq!(format, "XGBoost JSON model"),
                None if *kind == "ubj" => assert_eq!(format, "XGBoost UBJSON model"),
                None if kind.ends_with(".z") => {
                    assert!(format.starts_with("joblib (zlib compressed"), "{format}")
                }
                None if kind.ends_with(".gz") => {
                    assert!(format.starts_with("joblib (gzip compressed"), "{format}")
                }
                None if ["bz2", "lzma", "xz", "lz4"]
                    .iter()
                    .any(|c| kind.ends_with(c)) =>
                {
                    let codec = kind.rsplit('.').next().unwrap();
                    assert!(
                        format.starts_with(&format!("joblib ({codec} compressed")),
                        "{format}"
                    )
                }
                None => assert!(format.starts_with("joblib (pickle protocol"), "{format}"),
            }
            per_case.merge(compare(&model, &case, &format!("{} {kind}", case.id)));
            loaded += 1;
        }
        println!(
            "parity {:<48} max rel {:.2e}  max abs {:.2e}",
            case.id, per_case.max_rel, per_case.max_abs
        );
        if case.id.contains("/tree_") {
            // Trees reproduce scikit-learn bit for bit: the same f32 comparisons, the same sums in
            // the same order, the same post-processing.
            assert_eq!(
                per_case.max_abs, 0.0,
                "{}: tree outputs must be bit-exact",
                case.id
            );
        }
        overall.merge(per_case);
    }
    println!(
        "parity overall: {loaded} pickles, max rel {:.2e}, max abs {:.2e} ({codec_refusals} files of codecs not built in refused with the feature named)",
        overall.max_rel, overall.max_abs
    );
    assert!(loaded >= 190, "expected the whole corpus, loaded {loaded}");
}

/// scikit-learn's input validation, probed per fixture with NaN and out-of-float32 values:
/// where it refused the batch we refuse with BAD_INPUT, where it predicted we match it (trees
/// bit for bit), and `apply` gives its leaf indices.
#[test]
fn missing_and_huge_values_follow_scikit_learn() {
    let (mut refused, mut matched, mut applied) = (0, 0, 0);
    for case in cases() {
        let (kind, bytes) = case.pickles[0];
        let model = load(bytes, &LoadOptions::default()).unwrap();
        if let Some(want) = case.numbers("apply") {
            let (x, n_cols) = case.x();
            let (got, _) = model.apply(&Rows::new(&x, n_cols).unwrap()).unwrap();
            assert_eq!(got, want, "{}: apply", case.id);
            applied += 1;
        } else if case.id.contains("/tree_") && !case.id.contains("_iforest_") {
            let table = case.table();
            let err = model.apply(&table).unwrap_err();
            assert_eq!(err.code().as_str(), "UNSUPPORTED_OPERATION", "{}", case.id);
        }
        let Some(probes) = case.expected["input_probes"].as_array() else {
            continue;
        };
        for (i, probe) in probes.iter().enumerate() {
            let what = format!("{} {kind} probe {i}", case.id);
            let mut expected = probe.clone();
            if case.is_mixed() {
                expected["mixed"] = Value::Bool(true);
            }
            let sub = Case {
                id: case.id,
                expected,
                pickles: case.pickles,
            };
            if let Some(message) = probe["refused"].as_str() {
                let owned = sub.owned_input();
                let err = if case.expected.get("predict").is_none() {
                    model.transform(owned.input()).unwrap_err()
                } else {
                    model.predict(owned.input()).unwrap_err()
                };
                assert_eq!(
                    err.code().as_str(),
                    "BAD_INPUT",
                    "{what}: scikit-learn refused ({message}); we said {err}"
                );
                refused += 1;
            } else {
                let diff = compare(&model, &sub, &what);
                if case.id.contains("/tree_") {
                    assert_eq!(diff.max_abs, 0.0, "{what}: tree outputs must be bit-exact");
                }
                matched += 1;
            }
        }
    }
    println!("input probes: {refused} refused like scikit-learn, {matched} predicted alike; apply on {applied} cases");
    assert!(refused > 100 && matched > 40 && applied > 20);
}

#[test]
fn bundles_round_trip_bit_for_bit() {
    for case in cases() {
        let (_, bytes) = case.pickles[0];
        let options = LoadOptions {
            now_unix_ms: 1_700_000_000_000,
            ..LoadOptions::default()
        };
        let model = load(bytes, &options).unwrap();
        let bundle = to_bundle(&model).unwrap();
        let reloaded = load(&bundle, &LoadOptions::default()).unwrap();
        assert_eq!(reloaded, model, "{}: bundle changed the model", case.id);
        assert_eq!(
            to_bundle(&reloaded).unwrap(),
            bundle,
            "{}: re-encoding differs",
            case.id
        );
        let owned = case.owned_input();
        let rows = owned.input();
        if case.expected.get("predict").is_none() {
            let bits = |m: &Model| -> Vec<u64> {
                m.transform(rows)
                    .unwrap()
                    .0
                    .iter()
                    .map(|v| v.to_bits())
                    .collect()
            };
            assert_eq!(bits(&reloaded), bits(&model), "{}", case.id);
            continue;
        }
        let bits = |p: Predictions| match p {
            Predictions::Values { data, .. } => {
                data.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            }
            Predictions::ClassIndices(i) | Predictions::MultiClassIndices { indices: i, .. } => {
                i.iter().map(|v| *v as u64).collect()
            }
        };
        assert_eq!(
            bits(reloaded.predict(rows).unwrap()),
            bits(model.predict(rows).unwrap())
        );
        if case.has_proba() {
            let a: Vec<u64> = model
                .predict_proba(rows)
                .unwrap()
                .iter()
                .map(|v| v.to_bits())
                .collect();
            let b: Vec<u64> = reloaded
                .predict_proba(rows)
                .unwrap()
                .iter()
                .map(|v| v.to_bits())
                .collect();
            assert_eq!(a, b, "{}: bundle probabilities differ in some bit", case.id);
        }
        // Bundle metadata keeps the import time and the source facts.
        assert_eq!(reloaded.metadata.created_unix_ms, 1_700_000_000_000);
        let library = if case.id.contains("_lgbm_") {
            "lightgbm"
        } else if case.id.contains("_xgb_") {
            "xgboost"
        } else {
            "scikit-learn"
        };
        assert_eq!(reloaded.metadata.source_library, library);
    }
}

/// Rows predicted one at a time take the engines' single-row paths (several trees walked at
/// once, one- and two-output sums held in registers); each row must get the bits the batch
/// path gives it, for every model (the batch itself is checked against the library above).
#[test]
fn single_rows_match_the_batch_bit_for_bit() {
    let bits = |p: Predictions| match p {
        Predictions::Values { data, .. } => data.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        Predictions::ClassIndices(i) | Predictions::MultiClassIndices { indices: i, .. } => {
            i.iter().map(|v| *v as u64).collect()
        }
    };
    let mut checked = 0;
    for case in cases() {
        if case.is_mixed() || case.expected.get("predict").is_none() {
            continue;
        }
        let model = load(case.pickles[0].1, &LoadOptions::default()).unwrap();
        let (x, nf) = case.x();
        let all = Rows::new(&x, nf).unwrap();
        let n_rows = all.n_rows();
        let batch = bits(model.predict(&all).unwrap());
        // Multi-output probabilities come as per-output blocks, not rows: predict covers them.
        let proba = model
            .predict_proba(&all)
            .ok()
            .filter(|_| model.output_classes().is_none());
        // Raw scores too, so a classifier's sums are compared directly, not only through the
        // class index or the probabilities.
        let scores = model.decision_function(&all).ok().map(|(d, _)| d);
        let width = batch.len() / n_rows;
        // The first 11 rows one call each (the single-row paths), then a batch of 9 (8 rows in
        // lockstep, the 9th through the single-row path).
        for (r, row) in x.chunks_exact(nf).take(11).enumerate() {
            let one = Rows::new(row, nf).unwrap();
            let got = bits(model.predict(&one).unwrap());
            assert_eq!(
                got,
                batch[r * width..(r + 1) * width],
                "{}: row {r} predict",
                case.id
            );
            if let Some(p) = &proba {
                let k = p.len() / n_rows;
                let got: Vec<u64> = model
                    .predict_proba(&one)
                    .unwrap()
                    .iter()
                    .map(|v| v.to_bits())
                    .collect();
                let want: Vec<u64> = p[r * k..(r + 1) * k].iter().map(|v| v.to_bits()).collect();
                assert_eq!(got, want, "{}: row {r} predict_proba", case.id);
            }
            if let Some(d) = &scores {
                let k = d.len() / n_rows;
                let (got, _) = model.decision_function(&one).unwrap();
                let got: Vec<u64> = got.iter().map(|v| v.to_bits()).collect();
                let want: Vec<u64> = d[r * k..(r + 1) * k].iter().map(|v| v.to_bits()).collect();
                assert_eq!(got, want, "{}: row {r} decision_function", case.id);
            }
        }
        if n_rows >= 9 {
            let nine = Rows::new(&x[..9 * nf], nf).unwrap();
            assert_eq!(
                bits(model.predict(&nine).unwrap()),
                batch[..9 * width],
                "{}: 9 rows",
                case.id
            );
        }
        checked += 1;
    }
    println!("single rows agree with the batch on {checked} models");
    assert!(checked > 1000);
}
