//! LightGBM's scikit-learn wrappers (`LGBMClassifier`, `LGBMRegressor`, `LGBMRanker`) and a
//! pickled `lightgbm.Booster`: the booster's state carries the model text (`_handle` in 4.x,
//! `handle` in 3.x), which [`crate::formats::lightgbm`] parses.

use super::attrs::Attrs;
use super::{booster_attrs, wrapped_booster, ImportContext};
use crate::core::Model;
use crate::error::{Error, Result};
use crate::formats::lightgbm;
use crate::formats::pickle::globals::Class;
use crate::formats::pickle::value::Value;

/// Lower a wrapper (or a bare Booster) to a model.
#[cfg_attr(wasm_size_build, optimize(size))]
pub fn lower(attrs: &Attrs, class: Class, ctx: &ImportContext) -> Result<Model> {
    let booster = booster_attrs(attrs, class, Class::LgbmBooster)?;
    let classes = match class {
        Class::LgbmClassifier => Some(attrs.classes_in("_classes", ctx.limits.max_classes)?),
        _ => None,
    };
    let text = match booster.get("_handle").or_else(|| booster.get("handle")) {
        Some(Value::Str(text)) => text.as_bytes(),
        Some(Value::Bytes(bytes)) => bytes.as_slice(),
        Some(other) => {
            return Err(Error::invalid_model(format!(
                "lightgbm Booster state holds a {} instead of the model text",
                other.kind()
            )))
        }
        None => {
            return Err(Error::invalid_model(
                "lightgbm Booster state has no model text (`_handle`/`handle`)",
            ))
        }
    };
    // `Booster.predict` (and so the wrappers) use best_iteration when early stopping set it.
    let best_iteration = match booster.get("best_iteration") {
        Some(Value::Int(i)) if *i > 0 => usize::try_from(*i).unwrap_or(usize::MAX),
        _ => 0,
    };
    let parsed = lightgbm::parse(text, best_iteration, classes, ctx.limits)?;
    let wants_classifier = class == Class::LgbmClassifier;
    wrapped_booster(parsed, class, Class::LgbmBooster, wants_classifier, ctx)
}
