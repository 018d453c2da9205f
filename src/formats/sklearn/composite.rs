//! scikit-learn estimators built from other estimators: VotingClassifier/Regressor,
//! StackingClassifier/Regressor, CalibratedClassifierCV and TransformedTargetRegressor. Each
//! part (an estimator or a Pipeline) becomes one of the model's members.

use super::attrs::Attrs;
use super::{lower_root, root_metadata, ImportContext};
use crate::core::composite::{
    CalibratedFold, Calibrator, Combine, Composite, Member, TargetInverse,
};
use crate::core::model::ClassLabels;
use crate::core::transform::Ufunc;
use crate::core::tree_models::AdaBoostRule;
use crate::core::{Estimator, Model};
use crate::error::{Error, Result};
use crate::formats::pickle::globals::{Class, Global};
use crate::formats::pickle::value::Value;

/// Lower a part into a member (it must not itself be composite).
#[cfg_attr(wasm_size_build, optimize(size))]
fn member(attrs: &Attrs, value: &Value, name: &str, ctx: &ImportContext) -> Result<Member> {
    let (class, part) = match value {
        Value::Object {
            class: Global::Class(class),
            state,
            ..
        } if class.is_estimator() && !class.is_transformer() || *class == Class::Pipeline => {
            (*class, Attrs::new(attrs.arena(), *state, class.name())?)
        }
        other => {
            return Err(Error::unsupported_class(format!(
                "{}: estimator {name:?} is a {}, not a supported estimator",
                attrs.class_name(),
                match other {
                    Value::Object {
                        class: Global::Class(c),
                        ..
                    } => c.name(),
                    v => v.kind(),
                }
            )))
        }
    };
    let model = lower_root(&part, class, ctx)
        .map_err(|e| e.context(format!("{} estimator {name:?}", attrs.class_name())))?;
    if !model.members.is_empty() {
        return Err(Error::unsupported_class(format!(
            "{}: estimator {name:?} is itself a composite estimator; nest them one level only",
            attrs.class_name()
        )));
    }
    Ok(Member {
        name: name.to_owned(),
        preprocess: model.preprocess,
        estimator: model.estimator,
    })
}

/// The items of a list attribute as values.
#[cfg_attr(wasm_size_build, optimize(size))]
fn values<'a>(attrs: &Attrs<'a>, key: &str) -> Result<Vec<&'a Value>> {
    Ok(attrs
        .items(key)?
        .into_iter()
        .map(|id| attrs.arena().get(id))
        .collect())
}

/// `(name, estimator)` pairs of the `estimators` parameter: names and which were dropped.
#[cfg_attr(wasm_size_build, optimize(size))]
fn param_names(attrs: &Attrs) -> Result<Vec<(String, bool)>> {
    let arena = attrs.arena();
    attrs
        .items("estimators")?
        .iter()
        .map(|id| match arena.get(*id) {
            Value::Tuple(p) | Value::List(p) if p.len() == 2 => {
                let name = p
                    .first()
                    .and_then(|&n| arena.as_str(n))
                    .unwrap_or("?")
                    .to_owned();
                let dropped =
                    matches!(p.get(1).map(|&v| arena.get(v)), Some(Value::Str(s)) if s == "drop");
                Ok((name, dropped))
            }
            other => Err(Error::invalid_model(format!(
                "{}.estimators entry is a {}",
                attrs.class_name(),
                other.kind()
            ))),
        })
        .collect()
}

#[cfg_attr(wasm_size_build, optimize(size))]
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Float(f) => Some(*f),
        Value::Int(i) => Some(*i as f64),
        _ => None,
    }
}

#[cfg_attr(wasm_size_build, optimize(size))]
pub fn lower(attrs: &Attrs, class: Class, ctx: &ImportContext) -> Result<Model> {
    let arena = attrs.arena();
    let mut members = Vec::new();
    let mut classes: Option<ClassLabels> = None;
    let combine;
    let mut indices = Vec::new();
    match class {
        Class::VotingClassifier | Class::VotingRegressor => {
            let names = param_names(attrs)?;
            let kept: Vec<&(String, bool)> = names.iter().filter(|(_, d)| !d).collect();
            let fitted = values(attrs, "estimators_")?;
            if fitted.len() != kept.len() {
                return Err(Error::invalid_model(format!(
                    "{}: {} fitted estimators for {} kept ones",
                    class.name(),
                    fitted.len(),
                    kept.len()
                )));
            }
            for (value, (name, _)) in fitted.iter().zip(&kept) {
                indices.push(members.len());
                members.push(member(attrs, value, name, ctx)?);
            }
            let weights = match attrs.get("weights") {
                None | Some(Value::None) => None,
                Some(_) => {
                    let all = match attrs.get("weights") {
                        Some(Value::List(items)) | Some(Value::Tuple(items)) => items
                            .iter()
                            .map(|&i| number(arena.get(i)))
                            .collect::<Option<Vec<f64>>>(),
                        _ => Some(attrs.f64_array("weights")?.values),
                    }
                    .ok_or_else(|| Error::invalid_model("voting weights are not numbers"))?;
                    if all.len() != names.len() {
                        return Err(Error::invalid_model("voting: one weight per estimator"));
                    }
                    Some(
                        all.iter()
                            .zip(&names)
                            .filter(|(_, (_, d))| !d)
                            .map(|(w, _)| *w)
                            .collect(),
                    )
                }
            };
            combine = if class == Class::VotingRegressor {
                Combine::VoteRegress { weights }
            } else {
                classes = Some(attrs.classes(ctx.limits.max_classes)?);
                match attrs.opt_str("voting")? {
                    Some("soft") => Combine::VoteSoft { weights },
                    _ => Combine::VoteHard { weights },
                }
            };
        }
        Class::StackingClassifier | Class::StackingRegressor => {
            let names = param_names(attrs)?;
            let fitted = values(attrs, "estimators_")?;
            let methods_all: Vec<&str> = attrs
                .items("stack_method_")?
                .iter()
                .map(|&i| arena.as_str(i).unwrap_or("?"))
                .collect();
            let mut methods = Vec::new();
            // estimators_ keeps 'drop' entries as the string; stack_method_ says 'drop' too.
            for (i, value) in fitted.iter().enumerate() {
                if matches!(value, Value::Str(s) if s == "drop") {
                    continue;
                }
                let name = names.get(i).map_or("?", |(n, _)| n.as_str());
                methods.push(match methods_all.get(i).copied() {
                    Some("predict_proba") => 1,
                    Some("decision_function") => 2,
                    Some("predict") => 0,
                    other => {
                        return Err(Error::invalid_model(format!(
                            "{}: stack method {other:?} for {name:?}",
                            class.name()
                        )))
                    }
                });
                indices.push(members.len());
                members.push(member(attrs, value, name, ctx)?);
            }
            let (_, final_value) = attrs.object("final_estimator_")?;
            let final_member = members.len();
            members.push(member(attrs, final_value, "final_estimator", ctx)?);
            if class == Class::StackingClassifier {
                classes = Some(attrs.classes(ctx.limits.max_classes)?);
            }
            combine = Combine::Stack {
                methods,
                final_member,
                passthrough: matches!(attrs.get("passthrough"), Some(Value::Bool(true))),
            };
        }
        Class::CalibratedClassifierCv => {
            let all_classes = attrs.classes(ctx.limits.max_classes)?;
            let mut folds = Vec::new();
            for (i, value) in values(attrs, "calibrated_classifiers_")?
                .into_iter()
                .enumerate()
            {
                let (_, fold) =
                    attrs.nested(value, &[Class::CalibratedFold], "calibrated_classifiers_")?;
                let key = if fold.get("estimator").is_some() {
                    "estimator"
                } else {
                    "base_estimator"
                };
                let (_, est) = fold.object(key)?;
                let m = member(&fold, est, &format!("fold {i}"), ctx)?;
                let decision = m.estimator.has_decision(&[]);
                let calibrators = values(&fold, "calibrators")?
                    .into_iter()
                    .map(|v| calibrator(&fold, v))
                    .collect::<Result<Vec<_>>>()?;
                let member_classes = m.estimator.classes().cloned().ok_or_else(|| {
                    Error::invalid_model("CalibratedClassifierCV over an estimator without classes")
                })?;
                let class_index = class_positions(&member_classes, &all_classes)?;
                let class_index = class_index.into_iter().take(calibrators.len()).collect();
                folds.push(CalibratedFold {
                    member: members.len(),
                    decision,
                    class_index,
                    calibrators,
                });
                members.push(m);
            }
            classes = Some(all_classes);
            combine = Combine::Calibrated { folds };
        }
        Class::TransformedTargetRegressor => {
            let (_, reg) = attrs.object("regressor_")?;
            indices.push(0);
            members.push(member(attrs, reg, "regressor", ctx)?);
            if matches!(attrs.get("_training_dim"), Some(Value::Int(d)) if *d != 1) {
                return Err(Error::unsupported_version(
                    "TransformedTargetRegressor with several targets is not supported",
                ));
            }
            let (tclass, value) = attrs.object("transformer_")?;
            let (_, t) = attrs.nested(value, &[tclass], "transformer_")?;
            let first = |key: &str| -> Result<Option<f64>> {
                match t.get(key) {
                    None | Some(Value::None) => Ok(None),
                    Some(_) => Ok(t.f64_array(key)?.values.first().copied()),
                }
            };
            let flag = |key: &str| !matches!(t.get(key), Some(Value::Bool(false)));
            let inverse = match tclass {
                Class::StandardScaler => TargetInverse::Standard {
                    mean: if flag("with_mean") { first("mean_")? } else { None },
                    scale: if flag("with_std") { first("scale_")? } else { None },
                },
                Class::MinMaxScaler => TargetInverse::MinMax {
                    min: first("min_")?.unwrap_or(0.0),
                    scale: first("scale_")?.unwrap_or(1.0),
                },
                Class::FunctionTransformer => match t.get("inverse_func") {
                    None | Some(Value::None) => TargetInverse::Function(None),
                    Some(Value::Global(Global::Ufunc(u))) => TargetInverse::Function(Some(*u)),
                    Some(other) => {
                        return Err(Error::unsupported_class(format!(
                            "TransformedTargetRegressor inverse_func is a {}; only numpy functions are allowed ({})",
                            other.kind(),
                            Ufunc::ALL.iter().map(|(n, _)| format!("numpy.{n}")).collect::<Vec<_>>().join(", ")
                        )))
                    }
                },
                other => {
                    return Err(Error::unsupported_class(format!(
                        "TransformedTargetRegressor with a {} target transformer is not supported \
                         (StandardScaler, MinMaxScaler and FunctionTransformer are)",
                        other.name()
                    )))
                }
            };
            combine = Combine::Target { inverse };
        }
        Class::MultiOutputClassifier | Class::MultiOutputRegressor => {
            for (i, value) in values(attrs, "estimators_")?.into_iter().enumerate() {
                indices.push(members.len());
                members.push(member(attrs, value, &format!("output {i}"), ctx)?);
            }
            let wants_classes = class == Class::MultiOutputClassifier;
            if members
                .iter()
                .any(|m| m.estimator.classes().is_some() != wants_classes)
            {
                return Err(Error::invalid_model(format!(
                    "{} holds an estimator of the other kind",
                    class.name()
                )));
            }
            combine = Combine::MultiOutput {
                shared_trees: false,
            };
        }
        other => {
            return Err(Error::unsupported_class(format!(
                "{} is not a composite estimator",
                other.name()
            )))
        }
    }
    let n_features = members
        .iter()
        .enumerate()
        .find(
            |(i, _)| !matches!(&combine, Combine::Stack { final_member, .. } if final_member == i),
        )
        .map_or(0, |(_, m)| m.n_features());
    let composite = Composite {
        members: indices,
        combine,
        classes,
        n_features,
    };
    let meta = root_metadata(attrs, class, n_features, ctx)?;
    Model::with_members(meta, Vec::new(), Estimator::Composite(composite), members)
}

/// Whether a Bagging ensemble's estimators are decision or extra trees (the tree engine
/// handles those, for Bagging and AdaBoost); anything else goes through members.
#[cfg_attr(wasm_size_build, optimize(size))]
pub fn bagging_over_trees(attrs: &Attrs) -> bool {
    let Ok(items) = attrs.items("estimators_") else {
        return true;
    };
    matches!(
        items.first().map(|&i| attrs.arena().get(i)),
        Some(Value::Object {
            class: Global::Class(c),
            ..
        }) if c.is_single_tree()
    )
}

/// BaggingClassifier/Regressor over non-tree estimators: each estimator a member whose first
/// step selects its feature subset.
#[cfg_attr(wasm_size_build, optimize(size))]
pub fn bagging(attrs: &Attrs, class: Class, ctx: &ImportContext) -> Result<Model> {
    let arena = attrs.arena();
    let n_features = usize::try_from(attrs.int("n_features_in_")?)
        .map_err(|_| Error::invalid_model("n_features_in_ is negative"))?;
    let estimators = values(attrs, "estimators_")?;
    let features = attrs.items("estimators_features_")?;
    if estimators.len() != features.len() || estimators.is_empty() {
        return Err(Error::invalid_model(
            "Bagging: estimators_ and estimators_features_ disagree in length, or are empty",
        ));
    }
    let classes = if class == Class::BaggingClassifier {
        Some(attrs.classes(ctx.limits.max_classes)?)
    } else {
        None
    };
    let k = classes.as_ref().map_or(0, ClassLabels::len);
    let mut members = Vec::new();
    let mut class_slots = Vec::new();
    for (i, (value, &fid)) in estimators.iter().zip(&features).enumerate() {
        let Value::Array(a) = arena.get(fid) else {
            return Err(Error::invalid_model(
                "Bagging.estimators_features_ entry is not an array",
            ));
        };
        let keep = a
            .to_i64(arena)?
            .into_iter()
            .map(|v| usize::try_from(v).map_err(|_| Error::invalid_model("negative feature index")))
            .collect::<Result<Vec<_>>>()?;
        let mut m = member(attrs, value, &format!("estimators_[{i}]"), ctx)?;
        m.preprocess.insert(
            0,
            crate::core::transform::Stage::Step(crate::core::transform::Transform::Select {
                class: "Bagging feature subset".to_owned(),
                keep,
                n_features,
                nan_ok: true,
            }),
        );
        if classes.is_some() {
            // Estimators were fitted on the encoded target: their classes are ensemble indices.
            let own = match m.estimator.classes() {
                Some(ClassLabels::Int(v)) => v.iter().map(|c| usize::try_from(*c).ok()).collect(),
                Some(ClassLabels::Float(v)) => v
                    .iter()
                    .map(|c| (c.fract() == 0.0 && *c >= 0.0).then_some(*c as usize))
                    .collect(),
                _ => None,
            };
            let own: Vec<usize> = own
                .filter(|v: &Vec<usize>| v.iter().all(|c| *c < k))
                .ok_or_else(|| {
                    Error::invalid_model(format!(
                        "Bagging estimator {i}: classes are not ensemble class indices"
                    ))
                })?;
            class_slots.push(own);
        }
        members.push(m);
    }
    let soft = members.iter().all(|m| m.estimator.has_proba(&[]));
    let composite = Composite {
        members: (0..members.len()).collect(),
        combine: Combine::Bagging {
            class_slots,
            soft,
            n_estimators: attrs.int("n_estimators")? as f64,
        },
        classes,
        n_features,
    };
    let meta = root_metadata(attrs, class, n_features, ctx)?;
    Model::with_members(meta, Vec::new(), Estimator::Composite(composite), members)
}

/// Where each of the member's classes sits among the calibrated classifier's classes.
#[cfg_attr(wasm_size_build, optimize(size))]
fn class_positions(member: &ClassLabels, all: &ClassLabels) -> Result<Vec<usize>> {
    let missing =
        || Error::invalid_model("CalibratedClassifierCV: a fold's classes are not among classes_");
    match (member, all) {
        (ClassLabels::Int(m), ClassLabels::Int(a)) => m
            .iter()
            .map(|c| a.iter().position(|x| x == c).ok_or_else(missing))
            .collect(),
        (ClassLabels::Float(m), ClassLabels::Float(a)) => m
            .iter()
            .map(|c| a.iter().position(|x| x == c).ok_or_else(missing))
            .collect(),
        (ClassLabels::Str(m), ClassLabels::Str(a)) => m
            .iter()
            .map(|c| a.iter().position(|x| x == c).ok_or_else(missing))
            .collect(),
        (ClassLabels::Bool(m), ClassLabels::Bool(a)) => m
            .iter()
            .map(|c| a.iter().position(|x| x == c).ok_or_else(missing))
            .collect(),
        _ => Err(missing()),
    }
}

#[cfg_attr(wasm_size_build, optimize(size))]
fn calibrator(fold: &Attrs, value: &Value) -> Result<Calibrator> {
    match value {
        Value::Object {
            class: Global::Class(Class::SigmoidCalibration),
            ..
        } => {
            let (_, c) = fold.nested(value, &[Class::SigmoidCalibration], "calibrators")?;
            let scalar = |k: &str| -> Result<f64> {
                c.f64_array(k)?.values.first().copied().ok_or_else(|| {
                    Error::invalid_model(format!("_SigmoidCalibration.{k} is empty"))
                })
            };
            Ok(Calibrator::Sigmoid {
                a: scalar("a_")?,
                b: scalar("b_")?,
            })
        }
        Value::Object {
            class: Global::Class(Class::IsotonicRegression),
            ..
        } => {
            let (_, c) = fold.nested(value, &[Class::IsotonicRegression], "calibrators")?;
            if c.opt_str("out_of_bounds")?.is_some_and(|o| o != "clip") {
                return Err(Error::unsupported_version(
                    "IsotonicRegression calibrator without out_of_bounds='clip'",
                ));
            }
            Ok(Calibrator::Isotonic {
                x: c.f64_array("X_thresholds_")?.values,
                y: c.f64_array("y_thresholds_")?.values,
            })
        }
        other => Err(Error::unsupported_class(format!(
            "CalibratedClassifierCV calibrator {} is not supported (sigmoid and isotonic are)",
            match other {
                Value::Object {
                    class: Global::Class(c),
                    ..
                } => c.name(),
                v => v.kind(),
            }
        ))),
    }
}

/// A model with one member per output (multi-output trees, forests and neighbours):
/// `lower_output(o, classes_[o])` builds output `o`'s classifier.
#[cfg_attr(wasm_size_build, optimize(size))]
pub(super) fn per_output_model(
    attrs: &Attrs,
    class: Class,
    shared_trees: bool,
    ctx: &ImportContext,
    lower_output: impl Fn(usize, ClassLabels) -> Result<Estimator>,
) -> Result<Model> {
    let estimators = attrs
        .classes_per_output(ctx.limits.max_classes)?
        .into_iter()
        .enumerate()
        .map(|(o, classes)| lower_output(o, classes).map_err(|e| e.context(format!("output {o}"))))
        .collect::<Result<Vec<_>>>()?;
    let n_features = estimators.first().map_or(0, Estimator::n_features);
    let members: Vec<Member> = estimators
        .into_iter()
        .enumerate()
        .map(|(i, estimator)| Member {
            name: format!("output {i}"),
            preprocess: Vec::new(),
            estimator,
        })
        .collect();
    let composite = Composite {
        members: (0..members.len()).collect(),
        combine: Combine::MultiOutput { shared_trees },
        classes: None,
        n_features,
    };
    let meta = root_metadata(attrs, class, n_features, ctx)?;
    Model::with_members(meta, Vec::new(), Estimator::Composite(composite), members)
}

/// AdaBoostClassifier/Regressor over non-tree estimators: each estimator a member, combined by
/// the tree ensemble's SAMME / SAMME.R / weighted-median rules.
#[cfg_attr(wasm_size_build, optimize(size))]
pub fn adaboost(attrs: &Attrs, class: Class, ctx: &ImportContext) -> Result<Model> {
    let is_classifier = class == Class::AdaBoostClassifier;
    let classes = if is_classifier {
        Some(attrs.classes(ctx.limits.max_classes)?)
    } else {
        None
    };
    let rule = super::trees::adaboost_rule(attrs, is_classifier)?;
    let mut members = Vec::new();
    for (i, value) in values(attrs, "estimators_")?.into_iter().enumerate() {
        let m = member(attrs, value, &format!("estimators_[{i}]"), ctx)?;
        if m.estimator.classes() != classes.as_ref() {
            return Err(Error::invalid_model(format!(
                "{}: estimators_[{i}] has other classes than the ensemble",
                class.name()
            )));
        }
        if rule == AdaBoostRule::SammeR && !m.estimator.has_proba(&[]) {
            return Err(Error::invalid_model(format!(
                "{}(algorithm='SAMME.R'): estimators_[{i}] has no predict_proba",
                class.name()
            )));
        }
        members.push(m);
    }
    let n_features = members.first().map_or(0, Member::n_features);
    let composite = Composite {
        members: (0..members.len()).collect(),
        combine: Combine::AdaBoost {
            rule,
            weights: attrs.f64_array("estimator_weights_")?.values,
        },
        classes,
        n_features,
    };
    let meta = root_metadata(attrs, class, n_features, ctx)?;
    Model::with_members(meta, Vec::new(), Estimator::Composite(composite), members)
}
