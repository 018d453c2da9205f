//! scikit-learn's libsvm models (SVC, NuSVC, SVR, NuSVR, OneClassSVM): the internal
//! `_dual_coef_` / `_intercept_` libsvm itself uses (the public ones are sign-flipped for
//! binary problems), `_gamma` as resolved at fit, and the Platt parameters `_probA`/`_probB`.

use super::attrs::Attrs;
use super::ImportContext;
use crate::core::svm::{Kernel, Svm, SvmTask};
use crate::error::{Error, Result};
use crate::formats::pickle::globals::Class;
use crate::formats::pickle::value::Value;

#[cfg_attr(wasm_size_build, optimize(size))]
pub fn lower(attrs: &Attrs, class: Class, ctx: &ImportContext) -> Result<Svm> {
    let name = class.name();
    if matches!(attrs.get("_sparse"), Some(Value::Bool(true))) {
        return Err(Error::unsupported_version(format!(
            "{name} fitted on a sparse matrix is not supported; fit it on a dense array"
        )));
    }
    let kernel_name = attrs.opt_str("kernel")?.unwrap_or("rbf");
    if !matches!(kernel_name, "linear" | "poly" | "rbf" | "sigmoid") {
        return Err(Error::unsupported_class(format!(
            "{name} with kernel {kernel_name:?} is not supported (linear, poly, rbf and sigmoid are)"
        )));
    }
    let sv = attrs.f64_array("support_vectors_")?;
    let n_features = match sv.shape.as_slice() {
        [_, f] => *f,
        other => {
            return Err(Error::invalid_model(format!(
                "{name}.support_vectors_ has shape {other:?}"
            )))
        }
    };
    attrs.check_n_features(n_features)?;
    let number = |key: &str| -> Result<f64> {
        match attrs.get(key) {
            // A 0-d array (`_gamma`) or a one-element array (`offset_`).
            Some(Value::Array(a)) if a.len() == 1 => a
                .to_f64(attrs.arena())?
                .first()
                .copied()
                .ok_or_else(|| Error::invalid_model(format!("{name}.{key} is empty"))),
            _ => attrs.float(key),
        }
    };
    let kernel = match kernel_name {
        "linear" => Kernel::Linear,
        "poly" => Kernel::Poly {
            gamma: number("_gamma")?,
            coef0: number("coef0")?,
            degree: i32::try_from(attrs.int("degree")?)
                .map_err(|_| Error::invalid_model(format!("{name}.degree is out of range")))?,
        },
        "rbf" => Kernel::Rbf {
            gamma: number("_gamma")?,
        },
        "sigmoid" => Kernel::Sigmoid {
            gamma: number("_gamma")?,
            coef0: number("coef0")?,
        },
        other => {
            return Err(Error::unsupported_class(format!(
                "{name} with kernel {other:?} is not supported (linear, poly, rbf and sigmoid are)"
            )))
        }
    };
    let rho = attrs
        .f64_array("_intercept_")?
        .values
        .into_iter()
        .map(|b| -b)
        .collect();
    let dual_coef = attrs.f64_array("_dual_coef_")?.values;
    let task = match class {
        Class::Svc | Class::NuSvc => {
            let classes = attrs.classes(ctx.limits.max_classes)?;
            let n_support_name = if attrs.get("_n_support").is_some() {
                "_n_support"
            } else {
                "n_support_"
            };
            let n_support = attrs
                .array(n_support_name)?
                .to_i64(attrs.arena())?
                .into_iter()
                .map(|v| {
                    usize::try_from(v).map_err(|_| Error::invalid_model("negative n_support_"))
                })
                .collect::<Result<Vec<_>>>()?;
            let platt = |new: &str, old: &str| -> Result<Vec<f64>> {
                let key = if attrs.get(new).is_some() { new } else { old };
                match attrs.get(key) {
                    None | Some(Value::None) => Ok(Vec::new()),
                    Some(_) => Ok(attrs.f64_array(key)?.values),
                }
            };
            let (a, b) = (platt("_probA", "probA_")?, platt("_probB", "probB_")?);
            SvmTask::Classifier {
                classes,
                n_support,
                probability: (!a.is_empty() && !b.is_empty()).then_some((a, b)),
                ovr: attrs.opt_str("decision_function_shape")? != Some("ovo"),
                break_ties: matches!(attrs.get("break_ties"), Some(Value::Bool(true))),
            }
        }
        Class::Svr | Class::NuSvr => SvmTask::Regressor,
        Class::OneClassSvm => SvmTask::OneClass {
            offset: number("offset_")?,
        },
        other => {
            return Err(Error::unsupported_class(format!(
                "{} is not a support vector machine",
                other.name()
            )))
        }
    };
    let model = Svm {
        task,
        kernel,
        support_vectors: sv.values,
        dual_coef,
        rho,
        n_features,
    };
    model.validate()?;
    Ok(model)
}
