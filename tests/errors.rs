//! Bad input gets a typed error, never a panic: hostile files, every truncation, bit flips,
//! broken bundles and bad prediction input.
#![cfg(not(target_arch = "wasm32"))]
#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

mod common;

use common::{cases, HOSTILE, HOSTILE_MANIFEST};
use wasm_predict::core::Rows;
use wasm_predict::{load, to_bundle, ErrorCode, LoadOptions, Model};

fn fixture(id: &str, protocol: u8) -> &'static [u8] {
    fixture_kind(id, &format!("p{protocol}.pkl"))
}

fn fixture_kind(id: &str, kind: &str) -> &'static [u8] {
    let case = cases().into_iter().find(|c| c.id == id).unwrap();
    case.pickles.iter().find(|(k, _)| *k == kind).unwrap().1
}

/// Bundles written by the previous format (5, tree nodes as records; made by wasm-predict at
/// commit acc8691 from these fixtures) still load, to the model the original file gives.
#[test]
fn format_5_bundles_still_load() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let sources = [
        "sk19/tree_rf_regressor_nan.p4.pkl",
        "sk19/tree_dt_classifier_nan.p4.pkl",
        "sk19/tree_gb_classifier_binary.p4.pkl",
        "sk19/tree_hgb_classifier_binary.p4.pkl",
        "sk19/tree_hgb_categorical.p4.pkl",
        "sk19/tree_adaboost_regressor.p4.pkl",
        "sk19/tree_bagging_classifier.p4.pkl",
        "xgb3/tree_xgb_binary.ubj",
        "xgb3/tree_xgb_categorical_partition.ubj",
        "xgb3/tree_xgb_vector_leaf_softmax.ubj",
        "lgbm4/tree_lgbm_categorical.txt",
        "lgbm4/tree_lgbm_linear.txt",
    ];
    for source in sources {
        let name = source.rsplit('/').next().unwrap();
        let old = std::fs::read(format!("{dir}/bundles_v5/{name}.wpb")).unwrap();
        assert_eq!(u16::from_le_bytes([old[8], old[9]]), 5, "{name}");
        let from_bundle = load(&old, &LoadOptions::default()).unwrap();
        let original = load(
            &std::fs::read(format!("{dir}/{source}")).unwrap(),
            &LoadOptions::default(),
        )
        .unwrap();
        assert_eq!(from_bundle.estimator, original.estimator, "{name}");
        assert_eq!(from_bundle.preprocess, original.preprocess, "{name}");
        assert_eq!(from_bundle.members, original.members, "{name}");
        // Re-saved, it is a current bundle, smaller than the old one.
        let new = to_bundle(&from_bundle).unwrap();
        assert_eq!(
            u16::from_le_bytes([new[8], new[9]]),
            wasm_predict::formats::bundle::FORMAT_VERSION
        );
        assert!(
            new.len() < old.len(),
            "{name}: {} -> {}",
            old.len(),
            new.len()
        );
    }
}

#[test]
fn every_hostile_file_gets_its_error_code() {
    let manifest: serde_json::Value = serde_json::from_str(HOSTILE_MANIFEST).unwrap();
    assert!(HOSTILE.len() >= 30);
    for (name, bytes) in HOSTILE {
        let entry = &manifest[*name];
        let err = load(bytes, &LoadOptions::default()).expect_err(name);
        // A codec file's expected code is for the default build; with the codec built in, the
        // same damaged bytes are corrupt input instead.
        let codec_built_in = ["bz2", "lzma", "xz", "lz4"]
            .iter()
            .any(|c| name.ends_with(c))
            && common::disabled_codec(name).is_none();
        let expected = if codec_built_in {
            "BAD_FORMAT"
        } else {
            entry["code"].as_str().unwrap()
        };
        assert_eq!(err.code().as_str(), expected, "{name}: {err}");
        let contains = entry["contains"].as_str().unwrap();
        assert!(
            err.message().contains(contains),
            "{name}: message {:?} lacks {contains:?}",
            err.message()
        );
    }
}

#[test]
fn unknown_global_names_module_class_and_offset() {
    let bytes = HOSTILE
        .iter()
        .find(|(n, _)| *n == "os_system.p2.pkl")
        .unwrap()
        .1;
    let err = load(bytes, &LoadOptions::default()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::UnsupportedClass);
    assert!(
        err.message().contains("`posix.system` at byte 2"),
        "{}",
        err.message()
    );
}

#[test]
fn every_truncation_point_is_a_clean_error() {
    for protocol in [2, 4, 5] {
        let bytes = fixture("sk19/logreg_multiclass_iris", protocol);
        for end in 0..bytes.len() {
            let err = load(&bytes[..end], &LoadOptions::default())
                .expect_err("a truncated pickle must not load");
            assert_eq!(
                err.code(),
                ErrorCode::BadFormat,
                "p{protocol} cut at {end}: {err}"
            );
        }
    }
}

#[test]
fn every_truncation_point_of_a_lightgbm_text_model_is_a_clean_error() {
    for id in ["lgbm4/tree_lgbm_early_stopping"] {
        let bytes = fixture_kind(id, "txt");
        let full = std::str::from_utf8(bytes).unwrap();
        let loads_from = full.find("end of trees").unwrap() + "end of trees".len();
        for end in 0..bytes.len() {
            match load(&bytes[..end], &LoadOptions::default()) {
                Err(e) => assert_eq!(e.code(), ErrorCode::BadFormat, "{id} cut at {end}: {e}"),
                // Everything after the trees (importances, parameters) is optional.
                Ok(_) => assert!(end >= loads_from, "{id} cut at {end} loaded"),
            }
        }
    }
}

#[test]
fn every_truncation_point_of_xgboost_json_and_ubjson_is_a_clean_error() {
    for kind in ["model.json", "ubj"] {
        let bytes = fixture_kind("xgb3/tree_xgb_reg_pseudohubererror", kind);
        for end in 0..bytes.len() {
            let err = load(&bytes[..end], &LoadOptions::default())
                .expect_err("a truncated XGBoost model must not load");
            assert_eq!(
                err.code(),
                ErrorCode::BadFormat,
                "{kind} cut at {end}: {err}"
            );
        }
    }
}

#[test]
fn every_truncation_point_of_joblib_files_is_a_clean_error() {
    for kind in ["joblib", "joblib.z", "joblib.gz"] {
        // Object arrays (nested pickles) and inline payloads, joblib 1.3 (p2 nested) and 1.6 (p5).
        for id in ["sk13/logreg_string_classes", "sk19/logreg_string_classes"] {
            let bytes = fixture_kind(id, kind);
            for end in 0..bytes.len() {
                match load(&bytes[..end], &LoadOptions::default()) {
                    Err(e) => assert_eq!(
                        e.code(),
                        ErrorCode::BadFormat,
                        "{id} {kind} cut at {end}: {e}"
                    ),
                    // gzip has a trailer the inflater does not need: cutting only it still loads.
                    Ok(_) => assert!(
                        kind == "joblib.gz" && end + 8 >= bytes.len(),
                        "{id} {kind} cut at {end} loaded"
                    ),
                }
            }
        }
    }
}

#[test]
fn random_bit_flips_never_panic() {
    // xorshift: deterministic, no dependency.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut errors = 0;
    for protocol in [2, 4, 5] {
        let original = fixture("sk13/logreg_binary_breast_cancer", protocol);
        for _ in 0..1500 {
            let mut bytes = original.to_vec();
            for _ in 0..=(next() % 3) {
                let at = (next() as usize) % bytes.len();
                bytes[at] ^= 1 << (next() % 8);
            }
            if load(&bytes, &LoadOptions::default()).is_err() {
                errors += 1;
            }
        }
    }
    // Flips in coefficient bytes still load (different numbers); most others must fail.
    assert!(
        errors > 500,
        "only {errors} of 4500 flipped files failed to load"
    );
}

#[test]
fn bundle_errors_are_typed() {
    let model = load(
        fixture("sk19/logreg_multiclass_iris", 4),
        &LoadOptions::default(),
    )
    .unwrap();
    let bundle = to_bundle(&model).unwrap();

    let mut corrupt = bundle.clone();
    let middle = corrupt.len() / 2;
    corrupt[middle] ^= 0x40;
    let err = load(&corrupt, &LoadOptions::default()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::BadFormat);
    assert!(err.message().contains("checksum"), "{err}");

    let current = wasm_predict::formats::bundle::FORMAT_VERSION;
    let mut future = bundle.clone();
    future[8..10].copy_from_slice(&(current + 1).to_le_bytes());
    let err = load(&future, &LoadOptions::default()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::UnsupportedVersion);
    assert!(err.message().contains("newer wasm-predict"), "{err}");

    // Format 1 came from pre-release builds whose payload layout differs: refused by version.
    let mut older = bundle.clone();
    older[8..10].copy_from_slice(&1u16.to_le_bytes());
    let err = load(&older, &LoadOptions::default()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::UnsupportedVersion);
    assert!(err.message().contains("Re-create the bundle"), "{err}");

    // Version 5 only appended enum variants: a version-4 bundle (this model needs none of the
    // new ones) still loads, to the same model.
    let mut v4 = bundle[..bundle.len() - 4].to_vec();
    v4[8..10].copy_from_slice(&4u16.to_le_bytes());
    let crc = crc32(&v4);
    v4.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(load(&v4, &LoadOptions::default()).unwrap(), model);

    for end in 0..bundle.len() {
        let err = load(&bundle[..end], &LoadOptions::default()).unwrap_err();
        assert_eq!(
            err.code(),
            ErrorCode::BadFormat,
            "bundle cut at {end}: {err}"
        );
    }
}

#[test]
fn a_bundle_with_a_valid_checksum_but_inconsistent_model_is_refused() {
    // Re-checksum a tampered payload so only model validation can catch it.
    let model = load(
        fixture("sk19/logreg_multiclass_iris", 4),
        &LoadOptions::default(),
    )
    .unwrap();
    let mut bundle = to_bundle(&model).unwrap();
    let payload_end = bundle.len() - 4;
    // The last payload bytes encode the probability rule and class labels; a flip in the
    // label count makes classes and coefficient rows disagree, or breaks decoding.
    let mut rejected = 0;
    for at in 16..payload_end {
        let mut tampered = bundle[..payload_end].to_vec();
        tampered[at] = tampered[at].wrapping_add(1);
        match load_rechecksummed(tampered, "logreg") {
            None => rejected += 1,
            Some(m) => {
                // Whatever loads must still predict without panicking.
                let x = [5.1, 3.5, 1.4, 0.2];
                let _ = m.predict_proba(
                    &Rows::new(&x, m.n_features()).unwrap_or_else(|_| Rows::new(&[], 0).unwrap()),
                );
            }
        }
    }
    assert!(rejected > 0);
    bundle.truncate(0);
}

/// Tree bundles (format 6 packs nodes field by field): every one-byte change and every
/// truncation of the payload, re-checksummed so only decoding and validation can catch it, is
/// a typed error or a model that still predicts.
#[test]
fn tampered_tree_bundles_are_refused_or_still_predict() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    for source in [
        "sk19/tree_dt_classifier_nan.p4.pkl",
        "xgb3/tree_xgb_categorical_partition.ubj",
    ] {
        let model = load(
            &std::fs::read(format!("{dir}/{source}")).unwrap(),
            &LoadOptions::default(),
        )
        .unwrap();
        let bundle = to_bundle(&model).unwrap();
        let payload_end = bundle.len() - 4;
        let x = vec![0.5; model.n_features()];
        let changed = (16..payload_end).map(|at| {
            let mut tampered = bundle[..payload_end].to_vec();
            tampered[at] = tampered[at].wrapping_add(1);
            (false, tampered)
        });
        let cut = (16..payload_end).step_by(3).map(|end| {
            let mut cut = bundle[..end].to_vec();
            cut[12..16].copy_from_slice(&((end - 16) as u32).to_le_bytes());
            (true, cut)
        });
        let mut rejected = 0;
        for (truncated, tampered) in changed.chain(cut) {
            match load_rechecksummed(tampered, source) {
                None => rejected += 1,
                Some(m) => {
                    assert!(!truncated, "{source}: a truncated payload loaded");
                    if let Ok(rows) = Rows::new(&x, m.n_features()) {
                        let _ = m.predict(&rows);
                    }
                }
            }
        }
        assert!(rejected > payload_end / 5, "{source}: {rejected} refused");
    }
}

/// Append a correct checksum to a tampered bundle body (so only decoding and validation can
/// catch the change) and load it: the model, or `None` after checking that the error is a
/// typed BAD_FORMAT or INVALID_MODEL.
fn load_rechecksummed(mut tampered: Vec<u8>, what: &str) -> Option<Model> {
    let crc = crc32(&tampered);
    tampered.extend_from_slice(&crc.to_le_bytes());
    match load(&tampered, &LoadOptions::default()) {
        Ok(m) => Some(m),
        Err(e) => {
            assert!(
                matches!(e.code(), ErrorCode::BadFormat | ErrorCode::InvalidModel),
                "{what}: {e}"
            );
            None
        }
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    // Bitwise CRC-32 (IEEE), independent of the crate's implementation.
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn prediction_input_errors_name_row_and_column() {
    let model = load(
        fixture("sk19/logreg_binary_breast_cancer", 4),
        &LoadOptions::default(),
    )
    .unwrap();
    let n = model.n_features();
    let mut x = vec![1.0; n * 3];
    x[n + 2] = f64::NAN;
    let err = model.predict(&Rows::new(&x, n).unwrap()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::BadInput);
    assert!(
        err.message()
            .contains("row 1, column 2 (\"mean perimeter\")"),
        "{err}"
    );
    x[n + 2] = f64::INFINITY;
    let err = model.predict_proba(&Rows::new(&x, n).unwrap()).unwrap_err();
    assert!(err.message().contains("infinity"), "{err}");

    let err = model
        .predict(&Rows::new(&x[..(n - 1) * 2], n - 1).unwrap())
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ShapeMismatch);

    let err = Rows::new(&x[..n + 1], n).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ShapeMismatch);

    // The same model keeps predicting after errors.
    let ok = vec![1.0; n];
    assert!(model.predict(&Rows::new(&ok, n).unwrap()).is_ok());

    // An empty batch is fine and returns nothing.
    let proba = model.predict_proba(&Rows::new(&[], n).unwrap()).unwrap();
    assert!(proba.is_empty());
}

#[test]
fn regressors_refuse_classifier_methods() {
    let model = load(fixture("sk19/linreg_diabetes", 5), &LoadOptions::default()).unwrap();
    let x = vec![0.0; model.n_features()];
    let rows = Rows::new(&x, model.n_features()).unwrap();
    for err in [
        model.predict_proba(&rows).unwrap_err(),
        model.decision_function(&rows).map(|_| ()).unwrap_err(),
    ] {
        assert_eq!(err.code(), ErrorCode::UnsupportedOperation);
        assert!(err.message().contains("LinearRegression"), "{err}");
    }
}

#[test]
fn limits_are_enforced_with_their_values() {
    let bytes = fixture("sk19/logreg_multiclass_iris", 4);
    let mut options = LoadOptions::default();
    options.limits.max_alloc_bytes = 2_000;
    let err = load(bytes, &options).unwrap_err();
    assert_eq!(err.code(), ErrorCode::LimitExceeded);
    assert!(
        err.message().contains("max_alloc_bytes limit of 2000"),
        "{err}"
    );

    let mut options = LoadOptions::default();
    options.limits.max_classes = 2;
    let err = load(bytes, &options).unwrap_err();
    assert_eq!(err.code(), ErrorCode::LimitExceeded);
    assert!(err.message().contains("3 classes"), "{err}");
}

#[test]
fn fuzz_regressions_never_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("predict_") {
            // load_then_predict's layout: a 2-byte model length, the model, then f64 input.
            let model_len =
                usize::from(u16::from_le_bytes([bytes[0], bytes[1]])).min(bytes.len() - 2);
            let (model_bytes, input) = bytes[2..].split_at(model_len);
            let model = load(model_bytes, &LoadOptions::default()).unwrap();
            let x: Vec<f64> = input
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
                .collect();
            for cols in [model.n_features(), model.n_features().saturating_sub(1), 1] {
                if let Ok(rows) =
                    wasm_predict::core::Rows::new(&x[..x.len() / cols.max(1) * cols.max(1)], cols)
                {
                    let _ = model.predict(&rows);
                    let _ = model.predict_proba(&rows);
                    let _ = model.decision_function(&rows);
                }
            }
            continue;
        }
        // As a model file, and as a bundle payload (what load_bundle feeds).
        let _ = load(&bytes, &LoadOptions::default());
        let _ = load(
            &wasm_predict::formats::bundle::with_valid_checksum(&bytes),
            &LoadOptions::default(),
        );
    }
}

/// With every codec built in (`cargo test --features all-codecs`, run by scripts/test.sh): a
/// truncated bz2/lzma/xz/lz4 joblib file is BAD_FORMAT and one that inflates past
/// `max_alloc_bytes` is LIMIT_EXCEEDED — never a panic or an unbounded allocation.
#[cfg(all(feature = "bz2", feature = "lzma", feature = "lz4"))]
#[test]
fn damaged_or_oversized_codec_files_are_typed_errors() {
    let case = cases()
        .into_iter()
        .find(|c| c.id == "sk19/pipe_scaler_logreg_breast_cancer")
        .unwrap();
    let mut seen = 0;
    for (kind, bytes) in case.pickles {
        if !["bz2", "lzma", "xz", "lz4"]
            .iter()
            .any(|c| kind.ends_with(c))
        {
            continue;
        }
        let half = &bytes[..bytes.len() / 2];
        let err = load(half, &LoadOptions::default()).unwrap_err();
        assert_eq!(err.code(), ErrorCode::BadFormat, "{kind} truncated: {err}");
        let mut options = LoadOptions::default();
        options.limits.max_alloc_bytes = 1000;
        let err = load(bytes, &options).unwrap_err();
        assert_eq!(
            err.code(),
            ErrorCode::LimitExceeded,
            "{kind} over the limit: {err}"
        );
        seen += 1;
    }
    assert_eq!(seen, 4);
}
