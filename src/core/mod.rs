//! The core: what a loaded model *is* and how it predicts.
//!
//! No I/O, no file formats, no JavaScript. Importers build a [`Model`] only through the
//! validating constructors here, so evaluation can trust its shapes; a bundle is re-validated
//! the same way after decoding because it is untrusted input too.

pub mod bayes;
pub mod composite;
pub mod frame;
pub mod input;
pub mod labels;
pub mod linear;
pub mod model;
pub mod neighbors;
pub mod numeric_transforms;
pub(crate) mod packed;
pub mod simple;
pub mod svm;
pub mod transform;
pub mod tree_models;
pub mod trees;

pub use frame::{Cell, Table};
pub use input::Rows;
pub use model::{ClassLabels, Estimator, Input, Metadata, Model, OutputKind, Predictions};
