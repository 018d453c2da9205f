//! Load limits: the caps that keep a hostile or broken file from taking unbounded memory or time.
//!
//! Readers check every declared size against the bytes actually present *and* against these
//! limits before allocating. Defaults admit every real model in the fixtures with a wide margin.

use crate::error::{Error, Result};

/// Caps applied while reading a model file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadLimits {
    /// Upper bound on the bytes the reader may allocate for decoded values (approximate: payload
    /// bytes plus a fixed cost per value).
    pub max_alloc_bytes: usize,
    /// Deepest nesting of MARK-delimited groups in a pickle.
    pub max_depth: usize,
    /// Longest string or byte string, in bytes.
    pub max_string_len: usize,
    /// Most values (pickle objects, list items, …) the reader will create.
    pub max_values: usize,
    /// Most input features a model may declare.
    pub max_features: usize,
    /// Most classes a classifier may declare.
    pub max_classes: usize,
    /// Most trees in one model.
    pub max_trees: usize,
    /// Most tree nodes in one model, all trees together.
    pub max_nodes: usize,
}

impl Default for LoadLimits {
    fn default() -> Self {
        LoadLimits {
            max_alloc_bytes: 1 << 30,
            max_depth: 256,
            max_string_len: 256 << 20,
            max_values: 50_000_000,
            max_features: 1_000_000,
            max_classes: 100_000,
            max_trees: 1_000_000,
            max_nodes: 100_000_000,
        }
    }
}

impl LoadLimits {
    /// Fail with `LIMIT_EXCEEDED` naming the limit, its value and the value found.
    pub(crate) fn check(&self, name: &str, limit: usize, found: usize) -> Result<()> {
        if found > limit {
            return Err(Error::limit(format!(
                "{name} is {found}, over the limit of {limit} (raise it in the load options if the file is trusted)"
            )));
        }
        Ok(())
    }
}
