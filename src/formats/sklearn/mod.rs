//! scikit-learn: lower a rebuilt pickle object into the core model.
//!
//! Version quirks (attribute renames, changed meanings) are resolved here from
//! `_sklearn_version` and the attributes present, never inside the evaluator.

mod attrs;
mod bayes;
mod composite;
mod hist;
mod lightgbm;
mod linear;
mod neighbors;
mod pipeline;
mod simple;
mod svm;
mod transformers;
mod trees;
mod xgboost;

use crate::core::{Estimator, Metadata, Model};
use crate::error::{Error, Result};
use crate::formats::pickle::globals::{Class, Global};
use crate::formats::pickle::value::Value;
use crate::formats::pickle::Document;
use crate::formats::BoosterImport;
use crate::limits::LoadLimits;
use attrs::Attrs;

/// What the caller knows that the file does not.
pub struct ImportContext<'a> {
    pub source_format: String,
    pub created_unix_ms: u64,
    pub limits: &'a LoadLimits,
}

/// Turn the root object of a scikit-learn pickle into a [`Model`].
#[cfg_attr(wasm_size_build, optimize(size))]
pub fn lower(doc: &Document, ctx: &ImportContext) -> Result<Model> {
    let (class, state) = match doc.arena.get(doc.root) {
        Value::Object {
            class: Global::Class(class),
            state,
            ..
        } if class.is_estimator()
            || matches!(class, Class::LabelEncoder | Class::LabelBinarizer) =>
        {
            (*class, *state)
        }
        other => {
            return Err(Error::unsupported_class(format!(
                "the pickle holds a {}, not a scikit-learn estimator",
                other.kind()
            )))
        }
    };
    let attrs = Attrs::new(&doc.arena, state, class.name())?;
    if matches!(class, Class::LabelEncoder | Class::LabelBinarizer) {
        return simple::label_coder(&attrs, class, ctx);
    }
    lower_root(&attrs, class, ctx)
}

/// Lower an estimator object that can stand alone (also a Pipeline's final step).
#[cfg_attr(wasm_size_build, optimize(size))]
fn lower_root(attrs: &Attrs, class: Class, ctx: &ImportContext) -> Result<Model> {
    if class == Class::Pipeline {
        return pipeline::lower(attrs, ctx);
    }
    if class.is_transformer() {
        return pipeline::transformer_model(attrs, class, ctx);
    }
    if class == Class::RansacRegressor {
        return ransac(attrs, ctx);
    }
    if matches!(class, Class::BaggingClassifier | Class::BaggingRegressor)
        && !composite::bagging_over_trees(attrs)
    {
        return composite::bagging(attrs, class, ctx);
    }
    if matches!(class, Class::AdaBoostClassifier | Class::AdaBoostRegressor)
        && !composite::bagging_over_trees(attrs)
    {
        return composite::adaboost(attrs, class, ctx);
    }
    if matches!(
        class,
        Class::VotingClassifier
            | Class::VotingRegressor
            | Class::StackingClassifier
            | Class::StackingRegressor
            | Class::CalibratedClassifierCv
            | Class::TransformedTargetRegressor
            | Class::MultiOutputClassifier
            | Class::MultiOutputRegressor
    ) {
        return composite::lower(attrs, class, ctx);
    }
    if matches!(
        class,
        Class::LgbmClassifier | Class::LgbmRegressor | Class::LgbmRanker | Class::LgbmBooster
    ) {
        return lightgbm::lower(attrs, class, ctx);
    }
    if matches!(
        class,
        Class::XgbClassifier
            | Class::XgbRegressor
            | Class::XgbRanker
            | Class::XgbRfClassifier
            | Class::XgbRfRegressor
            | Class::XgbBooster
    ) {
        return xgboost::lower(attrs, class, ctx);
    }
    if trees::is_multi_output_classifier(attrs, class) {
        return composite::per_output_model(attrs, class, true, ctx, |o, classes| {
            trees::output_classifier(attrs, class, ctx, o, classes)
        });
    }
    if neighbors::is_multi_output_classifier(attrs, class) {
        return composite::per_output_model(attrs, class, false, ctx, |o, classes| {
            neighbors::output_classifier(attrs, class, ctx, o, classes)
        });
    }
    let estimator = lower_estimator(attrs, class, ctx)?;
    let metadata = root_metadata(attrs, class, estimator.n_features(), ctx)?;
    // HistGradientBoosting from 1.4 encodes categorical features with its own
    // ColumnTransformer + OrdinalEncoder before the trees.
    let preprocess = match attrs.get("_preprocessor") {
        Some(value @ Value::Object { .. }) => pipeline::internal_preprocessor(attrs, value)?,
        _ => Vec::new(),
    };
    Model::with_preprocess(metadata, preprocess, estimator)
}

/// `RANSACRegressor` predicts with its fitted `estimator_` (the model refitted on the inliers).
#[cfg_attr(wasm_size_build, optimize(size))]
fn ransac(attrs: &Attrs, ctx: &ImportContext) -> Result<Model> {
    let (class, inner) = attrs.object("estimator_")?;
    if !class.is_estimator() || (class.is_transformer() && class != Class::Pipeline) {
        return Err(Error::unsupported_class(format!(
            "RANSACRegressor.estimator_ is a {}, not a supported estimator",
            class.name()
        )));
    }
    let (_, inner_attrs) = attrs.nested(inner, &[class], "estimator_")?;
    let mut model = lower_root(&inner_attrs, class, ctx)
        .map_err(|e| e.context("RANSACRegressor.estimator_"))?;
    let n_features = model.n_features();
    let meta = root_metadata(attrs, Class::RansacRegressor, n_features, ctx)?;
    model.metadata = crate::core::Metadata {
        name: format!("RANSACRegressor({})", model.metadata.name),
        ..meta
    };
    model.validate()?;
    Ok(model)
}

/// Metadata of a model whose root object is `class`, taking `n_features` input columns.
#[cfg_attr(wasm_size_build, optimize(size))]
fn root_metadata(
    attrs: &Attrs,
    class: Class,
    n_features: usize,
    ctx: &ImportContext,
) -> Result<Metadata> {
    let (feature_names, from_source) = attrs.feature_names(n_features)?;
    Ok(metadata(
        attrs,
        class,
        class.name().to_owned(),
        feature_names,
        from_source,
        ctx,
    ))
}

#[cfg_attr(wasm_size_build, optimize(size))]
fn metadata(
    attrs: &Attrs,
    class: Class,
    name: String,
    feature_names: Vec<String>,
    from_source: bool,
    ctx: &ImportContext,
) -> Metadata {
    Metadata {
        name,
        version: "1".to_owned(),
        source_library: "scikit-learn".to_owned(),
        source_library_version: attrs
            .sklearn_version_string()
            .unwrap_or("unknown")
            .to_owned(),
        estimator_class: format!("{}.{}", class.module(), class.name()),
        source_format: ctx.source_format.clone(),
        feature_names,
        feature_names_from_source: from_source,
        created_unix_ms: ctx.created_unix_ms,
    }
}

/// Lower one (non-pipeline) estimator object.
#[cfg_attr(wasm_size_build, optimize(size))]
fn lower_estimator(attrs: &Attrs, class: Class, ctx: &ImportContext) -> Result<Estimator> {
    Ok(match class {
        Class::LinearRegression => {
            Estimator::LinearRegressor(linear::linear_regression(attrs, ctx)?)
        }
        Class::LogisticRegression => {
            Estimator::LinearClassifier(linear::logistic_regression(attrs, ctx)?)
        }
        Class::Linear(kind) => linear::linear_model(attrs, kind, ctx)?,
        c if c.is_tree_or_forest() => Estimator::AveragedTrees(trees::averaged(attrs, class, ctx)?),
        Class::GradientBoostingClassifier | Class::GradientBoostingRegressor => {
            Estimator::BoostedTrees(trees::boosted(attrs, class, ctx)?)
        }
        Class::HistGradientBoostingClassifier | Class::HistGradientBoostingRegressor => {
            Estimator::HistBoosted(hist::lower(attrs, class, ctx)?)
        }
        Class::IsolationForest => Estimator::IsolationForest(trees::isolation(attrs, ctx)?),
        Class::AdaBoostClassifier | Class::AdaBoostRegressor => {
            Estimator::AdaBoost(trees::adaboost(attrs, class, ctx)?)
        }
        Class::GaussianNb
        | Class::MultinomialNb
        | Class::ComplementNb
        | Class::BernoulliNb
        | Class::CategoricalNb => Estimator::NaiveBayes(bayes::lower(attrs, class, ctx)?),
        Class::KNeighborsClassifier
        | Class::KNeighborsRegressor
        | Class::RadiusNeighborsClassifier
        | Class::RadiusNeighborsRegressor => {
            Estimator::Neighbors(neighbors::lower(attrs, class, ctx)?)
        }
        Class::Svc | Class::NuSvc | Class::Svr | Class::NuSvr | Class::OneClassSvm => {
            Estimator::Svm(svm::lower(attrs, class, ctx)?)
        }
        Class::BaggingClassifier | Class::BaggingRegressor => {
            Estimator::AveragedTrees(trees::bagging(attrs, class, ctx)?)
        }
        Class::DummyClassifier
        | Class::DummyRegressor
        | Class::KMeans
        | Class::MiniBatchKMeans
        | Class::NearestCentroid => simple::lower(attrs, class, ctx)?,
        other => {
            return Err(Error::unsupported_class(format!(
                "a {} cannot be used as a model on its own",
                other.name()
            )))
        }
    })
}

/// The Booster of a LightGBM/XGBoost scikit-learn wrapper (its `_Booster`), or the pickled
/// Booster itself when `class` is the library's Booster class.
#[cfg_attr(wasm_size_build, optimize(size))]
fn booster_attrs<'a>(attrs: &Attrs<'a>, class: Class, booster: Class) -> Result<Attrs<'a>> {
    if class == booster {
        return Ok(attrs.clone());
    }
    let (_, value) = attrs.object("_Booster")?;
    Ok(attrs.nested(value, &[booster], "_Booster")?.1)
}

/// Finish a model read from a wrapper's booster: a classifier wrapper must hold a classifier
/// objective and a regressor/ranker wrapper must not (a bare Booster may hold either).
#[cfg_attr(wasm_size_build, optimize(size))]
fn wrapped_booster(
    parsed: BoosterImport,
    class: Class,
    booster: Class,
    wants_classifier: bool,
    ctx: &ImportContext,
) -> Result<Model> {
    if class != booster && wants_classifier != parsed.model.classes.is_some() {
        return Err(Error::invalid_model(format!(
            "{} holds a {} booster with objective `{}`, which does not fit a {}",
            class.name(),
            parsed.library,
            parsed.objective,
            if wants_classifier {
                "classifier"
            } else {
                "regressor or ranker"
            }
        )));
    }
    parsed.into_model(
        &format!("{}.{}", class.module(), class.name()),
        ctx.source_format.clone(),
        ctx.created_unix_ms,
    )
}
