//! XGBoost's scikit-learn wrappers (`XGBClassifier`, `XGBRegressor`, `XGBRanker`,
//! `XGBRFClassifier`, `XGBRFRegressor`) and a pickled `xgboost.Booster`: the booster's state
//! holds the serialised model (`handle`: UBJSON `{"Config": …, "Model": …}` since 1.6), which
//! [`crate::formats::xgboost`] lowers like a `save_model` file.

use super::attrs::Attrs;
use super::ImportContext;
use crate::core::Model;
use crate::error::{Error, ErrorCode, Result};
use crate::formats::pickle::globals::Class;
use crate::formats::pickle::value::Value;
use crate::formats::{jsondoc, xgboost};

/// Lower a wrapper (or a bare Booster) to a model.
pub fn lower(attrs: &Attrs, class: Class, ctx: &ImportContext) -> Result<Model> {
    let nested;
    let booster = if class == Class::XgbBooster {
        attrs
    } else {
        let (_, value) = attrs.object("_Booster")?;
        nested = attrs.nested(value, &[Class::XgbBooster], "_Booster")?.1;
        &nested
    };
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
        [b'{', b'i' | b'U' | b'I' | b'l' | b'L', ..] => jsondoc::parse_ubjson(raw, ctx.limits)?,
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
    if class != Class::XgbBooster && wants_classifier != parsed.model.classes.is_some() {
        return Err(Error::invalid_model(format!(
            "{} holds an XGBoost model with objective `{}`",
            class.name(),
            parsed.objective
        )));
    }
    parsed.into_model(
        &format!("{}.{}", class.module(), class.name()),
        ctx.source_format.clone(),
        ctx.created_unix_ms,
    )
}
