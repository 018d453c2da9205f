//! XGBoost's scikit-learn wrappers (`XGBClassifier`, `XGBRegressor`, `XGBRanker`,
//! `XGBRFClassifier`, `XGBRFRegressor`) and a pickled `xgboost.Booster`: the booster's state
//! holds the serialised model (`handle`: UBJSON `{"Config": …, "Model": …}` since 1.6), which
//! [`crate::formats::xgboost`] lowers like a `save_model` file.

use super::attrs::Attrs;
use super::{booster_attrs, wrapped_booster, ImportContext};
use crate::core::Model;
use crate::error::{Error, ErrorCode, Result};
use crate::formats::pickle::globals::Class;
use crate::formats::pickle::value::Value;
use crate::formats::{jsondoc, xgboost};

/// Lower a wrapper (or a bare Booster) to a model.
#[cfg_attr(wasm_size_build, optimize(size))]
pub fn lower(attrs: &Attrs, class: Class, ctx: &ImportContext) -> Result<Model> {
    let booster = booster_attrs(attrs, class, Class::XgbBooster)?;
    let raw = match booster.get("handle") {
        Some(Value::Bytes(bytes)) => bytes.as_slice(),
        Some(other) => {
            return Err(Error::invalid_model(format!(
                "xgboost Booster state holds a {} instead of the model bytes",
                other.kind()
            )))
        }
        None => {
            return Err(Error::invalid_model(
                "xgboost Booster state has no model bytes (`handle`)",
            ))
        }
    };
    let doc = match raw {
        _ if jsondoc::is_ubjson(raw) => jsondoc::parse_ubjson(raw, ctx.limits)?,
        [b'{', ..] => jsondoc::parse_json(raw, ctx.limits)?,
        _ => {
            return Err(Error::new(
                ErrorCode::UnsupportedVersion,
                "this pickled XGBoost model uses the legacy binary format (XGBoost < 1.6); \
                 load it in Python and save it with save_model(\"model.json\")",
            ))
        }
    };
    let parsed = xgboost::lower(&doc, ctx.limits)?;
    let wants_classifier = matches!(class, Class::XgbClassifier | Class::XgbRfClassifier);
    wrapped_booster(parsed, class, Class::XgbBooster, wants_classifier, ctx)
}
