//! Tree ensembles: flat node arrays validated once, evaluated without recursion.
//!
//! All trees of a model live in one node array. A tree's nodes are contiguous and every child
//! index is greater than its parent's, which the constructor checks: that single rule makes
//! every traversal terminate (no cycles, no self-loops, nothing out of range), so evaluation can
//! trust the data. Each tree adds its leaf's payload (`width` values) into the output columns
//! starting at its column offset, in tree order, in f64 — the order the training libraries sum in,
//! so results are bit-for-bit theirs.
//!
//! scikit-learn compares `f32(x) <= threshold` with f64 thresholds. Since `f32(x)` is an f32,
//! that equals `f32(x) <= t32` where `t32` is the largest f32 not above the threshold, so nodes
//! store f32 thresholds rounded down and compare in f32: exact, and half the memory.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Marks a leaf in [`Node::feature`].
const LEAF: u32 = u32::MAX;
/// Rows evaluated together per tree, so a tree's nodes stay in cache across rows.
const BLOCK_ROWS: usize = 64;

/// One node (16 bytes). For a leaf, `feature == LEAF` and `left` is the leaf's payload index.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub feature: u32,
    pub threshold: f32,
    pub left: u32,
    pub right: u32,
}

impl Node {
    pub fn leaf(payload: u32) -> Node {
        Node {
            feature: LEAF,
            threshold: 0.0,
            left: payload,
            right: 0,
        }
    }

    /// A split `f32(x[feature]) <= threshold` → left, with the f64 threshold rounded down to
    /// f32 (see the module docs for why that is exact).
    pub fn split(feature: u32, threshold: f64, left: u32, right: u32) -> Node {
        Node {
            feature,
            threshold: f32_at_or_below(threshold),
            left,
            right,
        }
    }
}

/// The largest f32 that is `<= t` (NaN stays NaN and is rejected by validation).
pub fn f32_at_or_below(t: f64) -> f32 {
    let nearest = t as f32;
    if f64::from(nearest) > t {
        nearest.next_down()
    } else {
        nearest
    }
}

/// Many trees whose leaf payloads are summed into output columns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "StoredEnsemble", into = "StoredEnsemble")]
pub struct TreeEnsemble {
    /// Everything but the nodes, which [`Self::prepare`] moves into `eval` (the stored form is
    /// rebuilt from `eval` when a bundle is written), so a loaded model holds its nodes once.
    stored: StoredEnsemble,
    /// The nodes re-laid for branch-free evaluation (see [`EvalNode`]), each tree's reachable
    /// nodes from its root, depth first, with a split's two children side by side.
    eval: Vec<EvalNode>,
    /// Index in `eval` of each tree's root.
    eval_roots: Vec<u32>,
    /// Steps from the root to the deepest reachable leaf, per tree.
    depth: Vec<u32>,
    /// How many nodes the stored form had (unreachable ones are not evaluated), to rebuild it.
    n_stored_nodes: usize,
}

/// An evaluation node (16 bytes). A split sends a row to `first + (x <= threshold)`: its
/// children are adjacent, the one for `x > threshold` (and NaN) first, so the step is a
/// compare and an add (measured natively: forest of 100 and GradientBoosting batches 10–15 %
/// faster than a select between two stored children, the fully grown forest 20 %). A split
/// that sends NaN left reads the negated column instead (see [`TreeEnsemble::prepare`]). A
/// leaf points at itself with a NaN threshold (`x <= NaN` is false for every `x`), so it keeps
/// every row that reached it; `link` holds its payload index (one load per row and tree), and
/// the NaN's low bits and `feature` its stored index (see [`EvalNode::leaf`]).
#[derive(Clone, Copy, Debug)]
struct EvalNode {
    threshold: f32,
    /// The column read (a split; a leaf's reads are ignored).
    feature: u32,
    first: u32,
    /// A split: its global index in the stored form (to rebuild that form). A leaf: its
    /// payload index (its stored index, for `apply`, is in the threshold and `feature`).
    link: u32,
}

/// Bits of a leaf's stored index kept in its NaN threshold; the rest go in its `feature`.
const SOURCE_NAN_BITS: u32 = 22;

impl EvalNode {
    /// A leaf at `here`. Its row still reads column `feature` each step, so that stays 0 —
    /// always in range, so the read's bounds check never mispredicts (with the payload there
    /// the forest of 100 ran up to 30 % slower in wasm) — until a model has more than 4
    /// million nodes; beyond, the read may fall out of range, which is safe (the value is
    /// ignored) but slower. The payload goes in `link`, read once per row and tree (decoding
    /// it from bits cost ~10 % natively).
    fn leaf(payload: u32, here: u32, source: u32) -> EvalNode {
        EvalNode {
            threshold: f32::from_bits(0x7FC0_0000 | (source & ((1 << SOURCE_NAN_BITS) - 1))),
            feature: source >> SOURCE_NAN_BITS,
            first: here,
            link: payload,
        }
    }

    /// The node a row with value `x` at this node's column goes to: the pair's second node when
    /// `x <= threshold`, else (and for NaN) the first; a leaf keeps it.
    #[inline(always)]
    fn child(&self, x: f32) -> usize {
        self.first as usize + usize::from(x <= self.threshold)
    }

    /// The node's global index in the stored form (`self` at evaluation index `i`).
    fn source(&self, i: usize) -> u32 {
        if is_leaf(self, i) {
            self.feature << SOURCE_NAN_BITS
                | (self.threshold.to_bits() & ((1 << SOURCE_NAN_BITS) - 1))
        } else {
            self.link
        }
    }
}

/// Bitwise, so leaves (NaN thresholds) compare equal and a reloaded model equals its original.
impl PartialEq for EvalNode {
    fn eq(&self, other: &Self) -> bool {
        self.threshold.to_bits() == other.threshold.to_bits()
            && (self.feature, self.first, self.link) == (other.feature, other.first, other.link)
    }
}

/// The serialized form: only what cannot be derived.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredEnsemble {
    n_features: usize,
    #[serde(with = "packed_nodes")]
    nodes: Vec<Node>,
    /// Index of each tree's first node; tree `t` spans `roots[t]..roots[t+1]` (or the end).
    roots: Vec<u32>,
    /// First output column each tree adds into.
    columns: Vec<u32>,
    /// `width` values per leaf payload.
    #[serde(with = "super::packed::f64_planes")]
    leaf_values: Vec<f64>,
    width: usize,
    n_outputs: usize,
    /// Split nodes (ascending global indices) that send a missing value (NaN) left; every other
    /// split sends it right (`NaN <= t` is false). scikit-learn ≥ 1.3 stores the direction per node.
    nan_left: Vec<u32>,
}

/// The bundle form of [`StoredEnsemble::nodes`] from format 6: a field per array (see
/// [`super::packed`]); format 4–5 bundles hold the [`Node`] records.
mod packed_nodes {
    use super::{Node, LEAF};
    use crate::core::packed::{self, PackedNodes};
    use serde::{de, ser, Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(nodes: &[Node], serializer: S) -> Result<S::Ok, S::Error> {
        encode(nodes)
            .map_err(<S::Error as ser::Error>::custom)?
            .serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Node>, D::Error> {
        if packed::legacy() {
            return Vec::<Node>::deserialize(deserializer);
        }
        decode(PackedNodes::deserialize(deserializer)?).map_err(<D::Error as de::Error>::custom)
    }

    #[inline(never)]
    fn encode(nodes: &[Node]) -> Result<PackedNodes, &'static str> {
        let count = u32::try_from(nodes.len()).map_err(|_| "too many nodes")?;
        let mut p = PackedNodes {
            count,
            leaves: packed::to_bits(nodes.iter().map(|n| n.feature == LEAF)),
            ..Default::default()
        };
        let mut thresholds = Vec::new();
        let mut previous = u32::MAX;
        for (i, n) in (0..count).zip(nodes) {
            if n.feature == LEAF {
                p.payloads
                    .push(n.left.wrapping_sub(previous).wrapping_sub(1));
                previous = n.left;
            } else {
                p.features.push(n.feature);
                thresholds.push(n.threshold.to_le_bytes());
                p.left.push(packed::offset(i, n.left));
                p.right.push(packed::offset(i, n.right));
            }
        }
        p.thresholds = packed::to_planes(&thresholds);
        Ok(p)
    }

    #[inline(never)]
    fn decode(p: PackedNodes) -> Result<Vec<Node>, &'static str> {
        p.check(4, false)?;
        let thresholds = packed::from_planes::<4>(&p.thresholds.0, "split thresholds")?;
        let mut splits = p
            .features
            .iter()
            .zip(thresholds)
            .zip(p.left.iter().zip(&p.right));
        let mut payloads = p.payloads.iter();
        let mut previous = u32::MAX;
        let mut nodes = Vec::with_capacity(p.count as usize);
        for i in 0..p.count {
            let node = if packed::bit(&p.leaves.0, i as usize) {
                let Some(&delta) = payloads.next() else { break };
                previous = previous.wrapping_add(1).wrapping_add(delta);
                Node::leaf(previous)
            } else {
                let Some(((&feature, threshold), (&left, &right))) = splits.next() else {
                    break;
                };
                Node {
                    feature,
                    threshold: f32::from_le_bytes(threshold),
                    left: packed::child(i, left),
                    right: packed::child(i, right),
                }
            };
            nodes.push(node);
        }
        Ok(nodes)
    }
}

impl StoredEnsemble {
    pub fn n_features(&self) -> usize {
        self.n_features
    }
    pub fn n_trees(&self) -> usize {
        self.roots.len()
    }
    pub fn n_nodes(&self) -> usize {
        self.nodes.len()
    }
    pub fn n_outputs(&self) -> usize {
        self.n_outputs
    }

    fn tree_range(&self, t: usize) -> (usize, usize) {
        tree_range(&self.roots, self.nodes.len(), t)
    }

    /// Check every invariant evaluation relies on; called on construction and after decoding a
    /// bundle. Errors name the tree and node.
    fn validate(&self) -> Result<()> {
        let bad = |t: usize, i: usize, what: String| {
            Error::invalid_model(format!("tree {t}, node {i}: {what}"))
        };
        if self.width == 0 || self.roots.is_empty() || self.columns.len() != self.roots.len() {
            return Err(Error::invalid_model(
                "tree ensemble has no trees or inconsistent tree tables",
            ));
        }
        if self.leaf_values.len() % self.width != 0 {
            return Err(Error::invalid_model(
                "leaf table is not a whole number of leaves",
            ));
        }
        let n_payloads = self.leaf_values.len() / self.width;
        if let Some(i) = self.leaf_values.iter().position(|v| !v.is_finite()) {
            return Err(Error::invalid_model(format!(
                "leaf value {i} is not finite"
            )));
        }
        for t in 0..self.roots.len() {
            let (start, end) = self.tree_range(t);
            if start >= end || end > self.nodes.len() {
                return Err(Error::invalid_model(format!(
                    "tree {t} has no nodes or overlaps the next tree"
                )));
            }
            let column = self.columns.get(t).copied().unwrap_or(u32::MAX) as usize;
            if column
                .checked_add(self.width)
                .is_none_or(|e| e > self.n_outputs)
            {
                return Err(Error::invalid_model(format!(
                    "tree {t} writes past the {} output columns",
                    self.n_outputs
                )));
            }
            for i in start..end {
                let Some(node) = self.nodes.get(i) else { break };
                if node.feature == LEAF {
                    if node.left as usize >= n_payloads {
                        return Err(bad(
                            t,
                            i - start,
                            format!("leaf payload {} out of range", node.left),
                        ));
                    }
                    continue;
                }
                if node.feature as usize >= self.n_features {
                    return Err(bad(
                        t,
                        i - start,
                        format!(
                            "feature {} but the model has {} features",
                            node.feature, self.n_features
                        ),
                    ));
                }
                if node.threshold.is_nan() {
                    return Err(bad(t, i - start, "threshold is NaN".into()));
                }
                for child in [node.left as usize, node.right as usize] {
                    // Children strictly after their parent and inside the tree: acyclic and terminating.
                    if child <= i || child >= end {
                        return Err(bad(
                            t,
                            i - start,
                            format!(
                                "child {} points backwards, to itself or outside the tree",
                                child as i64 - start as i64
                            ),
                        ));
                    }
                }
            }
        }
        let mut previous: Option<u32> = None;
        for &i in &self.nan_left {
            // A NaN-left split at +inf could not be mirrored (see `prepare`); scikit-learn uses
            // +inf only for its "missing values alone go right" splits (`_splitter.pyx`).
            if previous.is_some_and(|p| p >= i)
                || self
                    .nodes
                    .get(i as usize)
                    .is_none_or(|n| n.feature == LEAF || n.threshold == f32::INFINITY)
            {
                return Err(Error::invalid_model(format!(
                    "missing-value direction given for node {i}, which is not a split (or splits at +inf) or is listed twice"
                )));
            }
            previous = Some(i);
        }
        Ok(())
    }
}

impl From<StoredEnsemble> for TreeEnsemble {
    /// Derived tables are rebuilt by [`TreeEnsemble::prepare`], which validation runs.
    fn from(stored: StoredEnsemble) -> Self {
        TreeEnsemble {
            stored,
            eval: Vec::new(),
            eval_roots: Vec::new(),
            depth: Vec::new(),
            n_stored_nodes: 0,
        }
    }
}

impl From<TreeEnsemble> for StoredEnsemble {
    /// The stored nodes back from the evaluation ones (the inverse of [`TreeEnsemble::prepare`];
    /// a node no root reaches, never evaluated, comes back as a leaf with payload 0 — `prepare`
    /// dropped such nodes from `nan_left`, so the rebuilt form validates).
    fn from(ensemble: TreeEnsemble) -> Self {
        let mut stored = ensemble.stored;
        let nf = u32::try_from(stored.n_features).unwrap_or(u32::MAX);
        let eval = &ensemble.eval;
        let source = |i: u32| eval.get(i as usize).map_or(0, |c| c.source(i as usize));
        let mut nodes = vec![Node::leaf(0); ensemble.n_stored_nodes];
        for (i, e) in eval.iter().enumerate() {
            let Some(slot) = nodes.get_mut(e.source(i) as usize) else {
                continue;
            };
            if is_leaf(e, i) {
                *slot = Node::leaf(e.link);
                continue;
            }
            // The pair's first child takes `x > t` (and NaN), its second `x <= t`.
            let (high, low) = (source(e.first), source(e.first.wrapping_add(1)));
            *slot = if stored.nan_left.binary_search(&e.link).is_ok() {
                Node {
                    feature: e.feature.wrapping_sub(nf),
                    threshold: -e.threshold.next_up(),
                    left: high,
                    right: low,
                }
            } else {
                Node {
                    feature: e.feature,
                    threshold: e.threshold,
                    left: low,
                    right: high,
                }
            };
        }
        stored.nodes = nodes;
        stored
    }
}

/// An evaluation node that is a leaf: it points at itself (a split's children come after it).
#[inline]
fn is_leaf(node: &EvalNode, i: usize) -> bool {
    node.first as usize == i
}

impl std::ops::Deref for TreeEnsemble {
    type Target = StoredEnsemble;
    fn deref(&self) -> &StoredEnsemble {
        &self.stored
    }
}

/// Node index range `start..end` of tree `t`, for trees stored back to back with their first
/// node indices in `roots` (shared by every tree layout in the crate).
pub(crate) fn tree_range(roots: &[u32], n_nodes: usize, t: usize) -> (usize, usize) {
    let start = roots.get(t).map_or(0, |&r| r as usize);
    let end = roots.get(t + 1).map_or(n_nodes, |&r| r as usize);
    (start, end)
}

/// Rows traversed together: independent chains of dependent loads that the CPU can overlap.
const LANES: usize = 8;

/// Collects trees for a [`TreeEnsemble`].
pub struct EnsembleBuilder {
    ensemble: StoredEnsemble,
}

impl EnsembleBuilder {
    pub fn new(n_features: usize, width: usize, n_outputs: usize) -> Self {
        EnsembleBuilder {
            ensemble: StoredEnsemble {
                n_features,
                nodes: Vec::new(),
                roots: Vec::new(),
                columns: Vec::new(),
                leaf_values: Vec::new(),
                width,
                n_outputs,
                nan_left: Vec::new(),
            },
        }
    }

    pub fn n_trees(&self) -> usize {
        self.ensemble.roots.len()
    }

    pub fn n_nodes(&self) -> usize {
        self.ensemble.nodes.len()
    }

    /// The payload index the next [`Self::push_leaf_values`] call will get.
    pub fn next_payload(&self) -> Result<u32> {
        u32::try_from(self.ensemble.leaf_values.len() / self.ensemble.width.max(1))
            .map_err(|_| Error::limit("more than 4 billion leaves"))
    }

    pub fn push_leaf_values(&mut self, values: &[f64]) -> Result<u32> {
        if values.len() != self.ensemble.width {
            return Err(Error::invalid_model(format!(
                "leaf has {} values, expected {}",
                values.len(),
                self.ensemble.width
            )));
        }
        let id = self.next_payload()?;
        self.ensemble.leaf_values.extend_from_slice(values);
        Ok(id)
    }

    /// Add one tree given as nodes with tree-local child indices; they are rebased here.
    pub fn push_tree(&mut self, nodes: impl IntoIterator<Item = Node>, column: u32) -> Result<()> {
        self.push_tree_with_missing(nodes, column, &[])
    }

    /// [`Self::push_tree`] for a tree whose splits at the (ascending, tree-local) indices
    /// `nan_left` send missing values left.
    pub fn push_tree_with_missing(
        &mut self,
        nodes: impl IntoIterator<Item = Node>,
        column: u32,
        nan_left: &[u32],
    ) -> Result<()> {
        let base = u32::try_from(self.ensemble.nodes.len())
            .map_err(|_| Error::limit("more than 4 billion tree nodes"))?;
        for &local in nan_left {
            let global = local
                .checked_add(base)
                .ok_or_else(|| Error::limit("tree node index overflow"))?;
            self.ensemble.nan_left.push(global);
        }
        self.ensemble.roots.push(base);
        self.ensemble.columns.push(column);
        for node in nodes {
            let rebased = if node.feature == LEAF {
                node
            } else {
                let shift = |i: u32| {
                    i.checked_add(base)
                        .ok_or_else(|| Error::limit("tree node index overflow"))
                };
                Node {
                    left: shift(node.left)?,
                    right: shift(node.right)?,
                    ..node
                }
            };
            self.ensemble.nodes.push(rebased);
        }
        Ok(())
    }

    pub fn finish(self) -> Result<TreeEnsemble> {
        let mut ensemble = TreeEnsemble::from(self.ensemble);
        ensemble.prepare()?;
        Ok(ensemble)
    }
}

impl TreeEnsemble {
    /// Validate, then build the evaluation tables. Runs after construction and after a bundle
    /// is decoded (the decoder cannot trust the bytes).
    pub(crate) fn prepare(&mut self) -> Result<()> {
        self.stored.validate()?;
        let nodes = std::mem::take(&mut self.stored.nodes);
        let too_many = || Error::limit("too many tree nodes");
        let index = |i: usize| u32::try_from(i).map_err(|_| too_many());
        let too_many_features = || Error::limit("too many features");
        let nf = u32::try_from(self.stored.n_features).map_err(|_| too_many_features())?;
        let mut nan_left = vec![false; nodes.len()];
        for &i in &self.stored.nan_left {
            if let Some(flag) = nan_left.get_mut(i as usize) {
                *flag = true;
            }
        }
        // Each tree depth first from its root; a split's children get the next two free slots
        // when it is placed, so a subtree's nodes stay close together (laid breadth first, the
        // fully grown forest's deep levels lay far apart: 20 % slower).
        let unused = EvalNode {
            threshold: f32::NAN,
            feature: 0,
            first: 0,
            link: 0,
        };
        let mut eval = vec![unused; nodes.len()];
        let mut reached = vec![false; nodes.len()];
        let mut eval_roots = Vec::with_capacity(self.stored.roots.len());
        let mut depth = Vec::with_capacity(self.stored.roots.len());
        let mut next = 0usize;
        let mut pending = Vec::new();
        for t in 0..self.stored.roots.len() {
            let (start, _) = tree_range(&self.stored.roots, nodes.len(), t);
            eval_roots.push(index(next)?);
            pending.push((start, next, 0u32));
            next += 1;
            let mut deepest = 0u32;
            while let Some((old, here, level)) = pending.pop() {
                let (Some(node), Some(seen)) = (nodes.get(old), reached.get_mut(old)) else {
                    return Err(too_many());
                };
                // Validation keeps children after their parent and inside the tree, so this
                // ends; a node with two parents (never written by scikit-learn) is refused, so
                // the layout holds each reachable node once.
                if std::mem::replace(seen, true) {
                    return Err(Error::invalid_model(format!(
                        "tree {t}, node {}: reached from two parents",
                        old - start
                    )));
                }
                let source = index(old)?;
                let placed = if node.feature == LEAF {
                    deepest = deepest.max(level);
                    EvalNode::leaf(node.left, index(here)?, source)
                } else {
                    // `x <= t` goes to the pair's second node, anything else (NaN) to the first.
                    // A split that sends NaN left is evaluated on the mirrored column `-x`
                    // (index `feature + n_features`) with its children swapped: `x > t` ⇔
                    // `-x < -t` ⇔ `-x <= next_down(-t)` in f32, and NaN takes the first child,
                    // the original left one.
                    let mirrored = nan_left.get(old).copied().unwrap_or(false);
                    let (feature, threshold, low, high) = if mirrored {
                        (
                            node.feature.checked_add(nf).ok_or_else(too_many_features)?,
                            (-node.threshold).next_down(),
                            node.right,
                            node.left,
                        )
                    } else {
                        (node.feature, node.threshold, node.left, node.right)
                    };
                    pending.push((low as usize, next + 1, level + 1));
                    pending.push((high as usize, next, level + 1));
                    next += 2;
                    EvalNode {
                        threshold,
                        feature,
                        first: index(next - 2)?,
                        link: source,
                    }
                };
                let Some(slot) = eval.get_mut(here) else {
                    return Err(too_many());
                };
                *slot = placed;
            }
            depth.push(deepest);
        }
        eval.truncate(next);
        eval.shrink_to_fit();
        // A missing-value direction on a node no root reaches is never used; dropping it keeps
        // the rebuilt stored form (where such a node comes back as a leaf) valid, and rows
        // unwidened when it was the only one.
        self.stored
            .nan_left
            .retain(|&i| reached.get(i as usize).copied().unwrap_or(false));
        self.n_stored_nodes = nodes.len();
        self.stored.roots.shrink_to_fit();
        self.stored.columns.shrink_to_fit();
        self.stored.leaf_values.shrink_to_fit();
        self.stored.nan_left.shrink_to_fit();
        self.eval = eval;
        self.eval_roots = eval_roots;
        self.depth = depth;
        Ok(())
    }

    /// The leaf payloads `LANES` rows reach in tree `t` (rows: `LANES × n_features` f32s).
    #[inline]
    fn leaves_lanes(&self, t: usize, rows: &[f32], nf: usize, out: &mut [usize; LANES]) {
        let root = self.eval_roots.get(t).map_or(0, |&r| r as usize);
        let mut idx = [root; LANES];
        let steps = self.depth.get(t).copied().unwrap_or(0);
        for _ in 0..steps {
            for (lane, i) in idx.iter_mut().enumerate() {
                if let Some(node) = self.eval.get(*i) {
                    let x = rows
                        .get(lane * nf + node.feature as usize)
                        .copied()
                        .unwrap_or(0.0);
                    *i = node.child(x);
                }
            }
        }
        for (o, i) in out.iter_mut().zip(idx) {
            *o = self.payload(i);
        }
    }

    /// The payload index of leaf node `i`.
    #[inline]
    fn payload(&self, i: usize) -> usize {
        self.eval.get(i).map_or(0, |n| n.link as usize)
    }

    /// Nodes in all trees (those a root reaches).
    pub fn n_nodes(&self) -> usize {
        self.eval.len()
    }

    /// The check that the evaluation tables exist: [`Self::prepare`], the only way to make
    /// them, validates the stored form first (a decoded bundle goes through it too).
    pub(crate) fn validate(&self) -> Result<()> {
        if self.eval.is_empty()
            || self.depth.len() != self.stored.roots.len()
            || self.eval_roots.len() != self.stored.roots.len()
        {
            return Err(Error::new(
                crate::error::ErrorCode::Internal,
                "tree ensemble used before prepare()",
            ));
        }
        Ok(())
    }

    /// The evaluation index of the leaf node a row reaches in tree `t`.
    #[inline]
    fn leaf_node(&self, t: usize, row: &[f32]) -> usize {
        let mut i = self.eval_roots.get(t).map_or(0, |&r| r as usize);
        // At most `depth` steps; a row stops early at its leaf (which points at itself), which
        // matters for single rows in unbalanced trees.
        for _ in 0..self.depth.get(t).copied().unwrap_or(0) {
            match self.eval.get(i) {
                Some(node) if !is_leaf(node, i) => {
                    let x = row.get(node.feature as usize).copied().unwrap_or(0.0);
                    i = node.child(x);
                }
                _ => break,
            }
        }
        i
    }

    /// The rows as evaluation reads them: unchanged, or — when some split sends NaN left —
    /// each row followed by its negation (see [`Self::prepare`]). Returns the row stride.
    fn eval_rows<'r>(&self, rows_f32: &'r [f32]) -> (std::borrow::Cow<'r, [f32]>, usize) {
        let nf = self.n_features.max(1);
        if self.nan_left.is_empty() {
            return (std::borrow::Cow::Borrowed(rows_f32), nf);
        }
        let mut widened = Vec::with_capacity(rows_f32.len() * 2);
        for row in rows_f32.chunks_exact(nf) {
            widened.extend_from_slice(row);
            widened.extend(row.iter().map(|v| -v));
        }
        (std::borrow::Cow::Owned(widened), 2 * nf)
    }

    /// Sum the leaf payloads of every tree into `out` (`n_rows × n_outputs`, pre-filled with the
    /// base values), for rows already cast to f32 (`n_rows × n_features`).
    pub fn accumulate(&self, rows_f32: &[f32], out: &mut [f64]) {
        let (rows, nf) = self.eval_rows(rows_f32);
        let no = self.n_outputs.max(1);
        let width = self.width;
        let add = |payload: usize, row_out: &mut [f64], column: usize| {
            let start = payload * width;
            if let (Some(values), Some(dst)) = (
                self.leaf_values.get(start..start + width),
                row_out.get_mut(column..column + width),
            ) {
                for (o, v) in dst.iter_mut().zip(values) {
                    *o += v;
                }
            }
        };
        for (block_x, block_out) in rows
            .chunks(BLOCK_ROWS * nf)
            .zip(out.chunks_mut(BLOCK_ROWS * no))
        {
            let full = block_x.len() / nf / LANES * LANES;
            // Trees over the eight-row lanes (none when the block is a single row, say).
            let lane_trees = if full > 0 { self.roots.len() } else { 0 };
            for t in 0..lane_trees {
                let column = self.columns.get(t).copied().unwrap_or(0) as usize;
                let mut lanes_x = block_x.chunks_exact(LANES * nf);
                let mut lanes_out = block_out.chunks_exact_mut(LANES * no);
                for (x, o) in (&mut lanes_x).zip(&mut lanes_out) {
                    let mut payloads = [0usize; LANES];
                    self.leaves_lanes(t, x, nf, &mut payloads);
                    for (payload, row_out) in payloads.into_iter().zip(o.chunks_exact_mut(no)) {
                        add(payload, row_out, column);
                    }
                }
            }
            // Fewer than LANES rows left (a single-row call, say): LANES trees at a time
            // through each row, for the deepest of them, added in tree order.
            for (row, row_out) in block_x
                .chunks_exact(nf)
                .zip(block_out.chunks_exact_mut(no))
                .skip(full)
            {
                // One or two outputs fed by every tree (regressors, binary classifiers): the
                // sums stay in registers instead of a store and reload per tree.
                if self.single_row_in_registers::<1>(row, row_out)
                    || self.single_row_in_registers::<2>(row, row_out)
                {
                    continue;
                }
                self.for_each_leaf_of_row(row, |t, payload| {
                    let column = self.columns.get(t).copied().unwrap_or(0) as usize;
                    add(payload, row_out, column);
                });
            }
        }
    }

    /// Add every tree's leaf payload for one row into `row_out` with `W` running sums held
    /// in registers (tree order kept), when each payload is `W` wide and fills the row's `W`
    /// outputs; false (nothing done) for other shapes.
    #[inline]
    fn single_row_in_registers<const W: usize>(&self, row: &[f32], row_out: &mut [f64]) -> bool {
        let Ok(sums) = <&mut [f64; W]>::try_from(row_out) else {
            return false;
        };
        if self.width != W {
            return false;
        }
        let mut acc = *sums;
        self.for_each_leaf_of_row(row, |_, payload| {
            let start = payload * W;
            if let Some(values) = self
                .leaf_values
                .get(start..start + W)
                .and_then(|v| <&[f64; W]>::try_from(v).ok())
            {
                for (a, v) in acc.iter_mut().zip(values) {
                    *a += v;
                }
            }
        });
        *sums = acc;
        true
    }

    /// Call `f(tree, payload)` for the leaf one row reaches in every tree, in tree order,
    /// walking `LANES` trees at a time ([`Self::leaves_of_trees`]).
    #[inline(always)]
    fn for_each_leaf_of_row(&self, row: &[f32], mut f: impl FnMut(usize, usize)) {
        for first in (0..self.roots.len()).step_by(LANES) {
            let mut payloads = [0usize; LANES];
            let trees = self.leaves_of_trees(first, row, &mut payloads);
            for (lane, &payload) in payloads.iter().enumerate().take(trees) {
                f(first + lane, payload);
            }
        }
    }

    /// The leaf payloads one row reaches in trees `first..first + LANES` (fewer at the end:
    /// the count is returned), the trees walked in lockstep so their chains of dependent
    /// loads overlap.
    #[inline]
    fn leaves_of_trees(&self, first: usize, row: &[f32], out: &mut [usize; LANES]) -> usize {
        let n_trees = self.roots.len().saturating_sub(first).min(LANES);
        let mut idx = [0usize; LANES];
        let mut steps = 0;
        for (lane, i) in idx.iter_mut().enumerate().take(n_trees) {
            *i = self.eval_roots.get(first + lane).map_or(0, |&r| r as usize);
            steps = steps.max(self.depth.get(first + lane).copied().unwrap_or(0));
        }
        for _ in 0..steps {
            for i in idx.iter_mut().take(n_trees) {
                if let Some(node) = self.eval.get(*i) {
                    let x = row.get(node.feature as usize).copied().unwrap_or(0.0);
                    *i = node.child(x);
                }
            }
        }
        for (o, i) in out.iter_mut().zip(idx) {
            *o = self.payload(i);
        }
        n_trees
    }

    /// scikit-learn's `apply`: per row, the index (within its tree) of the leaf each tree
    /// sends it to, `n_rows × n_trees`.
    pub fn leaf_indices(&self, rows_f32: &[f32]) -> Vec<f64> {
        let (rows, nf) = self.eval_rows(rows_f32);
        rows.chunks_exact(nf)
            .flat_map(|row| {
                (0..self.roots.len()).map(move |t| {
                    let root = self.roots.get(t).map_or(0, |&r| r as usize);
                    let i = self.leaf_node(t, row);
                    let leaf = self.eval.get(i).map_or(0, |n| n.source(i));
                    (leaf as usize).saturating_sub(root) as f64
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rounding_thresholds_down_to_f32_is_exact() {
        for t in [
            0.800000011920929f64,
            0.1,
            -0.1,
            1e-40,
            3.4e38,
            -3.5e38,
            2.5,
            1.0 / 3.0,
        ] {
            let t32 = f32_at_or_below(t);
            assert!(f64::from(t32) <= t);
            for x in [t32, t32.next_up(), t32.next_down(), t as f32] {
                assert_eq!(f64::from(x) <= t, x <= t32, "t={t:e} x={x:e}");
            }
        }
    }

    fn stump(left: u32, right: u32) -> Vec<Node> {
        vec![
            Node::split(0, 0.5, left, right),
            Node::leaf(0),
            Node::leaf(1),
        ]
    }

    #[test]
    fn cycles_and_out_of_range_children_are_rejected() {
        for (l, r) in [(0, 2), (1, 1 + 5), (2, 0)] {
            let mut b = EnsembleBuilder::new(1, 1, 1);
            b.push_leaf_values(&[1.0]).unwrap();
            b.push_leaf_values(&[2.0]).unwrap();
            b.push_tree(stump(l, r), 0).unwrap();
            let err = b.finish().unwrap_err();
            assert!(err.message().contains("points backwards"), "{err}");
        }
        let mut b = EnsembleBuilder::new(1, 1, 1);
        b.push_leaf_values(&[1.0]).unwrap();
        b.push_tree(
            vec![Node::split(3, 0.5, 1, 2), Node::leaf(0), Node::leaf(0)],
            0,
        )
        .unwrap();
        assert!(b.finish().unwrap_err().message().contains("feature 3"));
    }

    #[test]
    fn a_node_with_two_parents_is_refused() {
        let mut b = EnsembleBuilder::new(1, 1, 1);
        b.push_leaf_values(&[1.0]).unwrap();
        // Node 3 is both children of node 2.
        b.push_tree(
            vec![
                Node::split(0, 0.5, 1, 2),
                Node::leaf(0),
                Node::split(0, 0.7, 3, 3),
                Node::leaf(0),
            ],
            0,
        )
        .unwrap();
        let err = b.finish().unwrap_err();
        assert_eq!(err.code(), crate::error::ErrorCode::InvalidModel);
        assert!(err.message().contains("two parents"), "{err}");
    }

    #[test]
    fn the_stored_form_comes_back_from_the_evaluation_layout() {
        // Two trees, a NaN-left split (mirrored in evaluation) and a node no root reaches.
        let mut b = EnsembleBuilder::new(2, 1, 1);
        for v in [1.0, 2.0, 3.0] {
            b.push_leaf_values(&[v]).unwrap();
        }
        let deep = vec![
            Node::split(1, 0.25, 1, 4),
            Node::split(0, -1.5, 2, 3),
            Node::leaf(0),
            Node::leaf(1),
            Node::leaf(2),
        ];
        b.push_tree(deep.clone(), 0).unwrap();
        b.push_tree_with_missing(
            vec![
                Node::split(0, 0.5, 2, 3),
                Node::leaf(0),
                Node::leaf(1),
                Node::leaf(2),
            ],
            0,
            &[0],
        )
        .unwrap();
        let e = b.finish().unwrap();
        let stored = StoredEnsemble::from(e.clone());
        assert_eq!(stored.nodes.get(..5), Some(&deep[..]));
        // The unreachable node 1 of the second tree comes back as a leaf with payload 0.
        assert_eq!(
            stored.nodes.get(5..),
            Some(
                &[
                    Node::split(0, 0.5, 7, 8),
                    Node::leaf(0),
                    Node::leaf(1),
                    Node::leaf(2)
                ][..]
            )
        );
        assert_eq!(stored.nan_left, [5]);
        let mut back = TreeEnsemble::from(stored);
        back.prepare().unwrap();
        assert_eq!(back, e);
        // NaN goes right in the first tree and left in the second: payload 1 (2.0) in both.
        let mut out = vec![0.0];
        e.accumulate(&[f32::NAN, 0.0], &mut out);
        assert_eq!(out, [4.0]);
        assert_eq!(e.leaf_indices(&[f32::NAN, 0.0]), [3.0, 2.0]);
        assert_eq!(e.leaf_indices(&[-2.0, 0.0]), [2.0, 2.0]);
        assert_eq!(e.leaf_indices(&[1.0, 1.0]), [4.0, 3.0]);
    }

    #[test]
    fn a_missing_value_direction_on_an_unreachable_split_is_dropped() {
        let mut b = EnsembleBuilder::new(1, 1, 1);
        b.push_leaf_values(&[1.0]).unwrap();
        b.push_leaf_values(&[2.0]).unwrap();
        b.push_tree_with_missing(
            vec![
                Node::split(0, 0.5, 2, 3),
                Node::split(0, 0.1, 2, 3),
                Node::leaf(0),
                Node::leaf(1),
            ],
            0,
            &[1],
        )
        .unwrap();
        let e = b.finish().unwrap();
        assert!(e.nan_left.is_empty());
        let mut back = TreeEnsemble::from(StoredEnsemble::from(e.clone()));
        back.prepare().unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn sums_in_tree_order() {
        let mut b = EnsembleBuilder::new(1, 1, 1);
        b.push_leaf_values(&[1.0]).unwrap();
        b.push_leaf_values(&[10.0]).unwrap();
        b.push_tree(stump(1, 2), 0).unwrap();
        b.push_tree(stump(1, 2), 0).unwrap();
        let e = b.finish().unwrap();
        let mut out = vec![0.5, 0.5];
        e.accumulate(&[0.5, 0.6], &mut out);
        assert_eq!(out, [2.5, 20.5]);
    }
}
