//! Numeric transformers whose fitted state is a table per column: KBinsDiscretizer,
//! QuantileTransformer, PowerTransformer and KNNImputer — each reproducing scikit-learn's
//! (and numpy's / scipy's) arithmetic order, so outputs match to the last bits.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// `KBinsDiscretizer`: a column's bin is the number of its inner edges `≤ x`
/// (`searchsorted(bin_edges[1:-1], x, side='right')`). Before scikit-learn 1.2 the value was
/// first nudged by `1e-8 + 1e-5·|x|` (numpy.isclose's tolerance) and the bin clipped; the two
/// agree otherwise.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Discretizer {
    /// Per column, `bin_edges_[j][1:-1]` (ascending).
    pub inner_edges: Vec<Vec<f64>>,
    pub legacy_tolerance: bool,
    /// `encode='onehot'` / `'onehot-dense'`: one output per bin.
    pub one_hot: bool,
}

impl Discretizer {
    pub fn n_outputs(&self) -> usize {
        if self.one_hot {
            self.inner_edges.iter().map(|e| e.len() + 1).sum()
        } else {
            self.inner_edges.len()
        }
    }

    pub fn validate(&self) -> Result<()> {
        let sorted = |e: &Vec<f64>| e.windows(2).all(|w| matches!(w, [a, b] if a <= b));
        if self
            .inner_edges
            .iter()
            .any(|e| !sorted(e) || e.iter().any(|v| v.is_nan()))
        {
            return Err(Error::invalid_model(
                "KBinsDiscretizer: bin_edges_ are not ascending numbers",
            ));
        }
        Ok(())
    }

    pub fn bin(&self, column: usize, x: f64) -> usize {
        let edges = self.inner_edges.get(column).map_or(&[][..], Vec::as_slice);
        let y = if self.legacy_tolerance {
            x + (1.0e-8 + 1.0e-5 * x.abs())
        } else {
            x
        };
        edges.partition_point(|e| *e <= y)
    }
}

/// `QuantileTransformer`: per column, the position of `x` among the fitted quantiles
/// (numpy.interp both ways and averaged, as scikit-learn does for repeated quantiles), then
/// the normal quantile function (clipped) for `output_distribution='normal'`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuantileMap {
    /// Per column, `quantiles_[:, j]` (non-decreasing).
    pub quantiles: Vec<Vec<f64>>,
    /// `references_`: `linspace(0, 1, n_quantiles)`.
    pub references: Vec<f64>,
    pub normal: bool,
}

/// scikit-learn's `BOUNDS_THRESHOLD`.
const BOUNDS_THRESHOLD: f64 = 1e-7;

impl QuantileMap {
    pub fn validate(&self) -> Result<()> {
        let n = self.references.len();
        let ok = n >= 2
            && self.quantiles.iter().all(|q| {
                q.len() == n
                    && q.iter().all(|v| v.is_finite())
                    && q.windows(2).all(|w| matches!(w, [a, b] if a <= b))
            })
            && self
                .references
                .windows(2)
                .all(|w| matches!(w, [a, b] if a < b));
        if !ok {
            return Err(Error::invalid_model(
                "QuantileTransformer: quantiles_ and references_ disagree in shape or are not \
                 sorted finite numbers",
            ));
        }
        Ok(())
    }

    pub fn apply(&self, column: usize, x: f64) -> f64 {
        let Some(q) = self.quantiles.get(column) else {
            return f64::NAN;
        };
        let (Some(&lo), Some(&hi)) = (q.first(), q.last()) else {
            return f64::NAN;
        };
        if x.is_nan() {
            return x;
        }
        let (at_lower, at_upper) = if self.normal {
            (x - BOUNDS_THRESHOLD < lo, x + BOUNDS_THRESHOLD > hi)
        } else {
            (x == lo, x == hi)
        };
        // scikit-learn sets the upper bound, then the lower one (which wins).
        let y = if at_lower {
            0.0
        } else if at_upper {
            1.0
        } else {
            let r = &self.references;
            let forward = interp(x, q, r);
            let backward = interp_reversed_negated(-x, q, r);
            0.5 * (forward - backward)
        };
        if !self.normal {
            return y;
        }
        let clip_min = ndtri(BOUNDS_THRESHOLD - f64::EPSILON);
        let clip_max = ndtri(1.0 - (BOUNDS_THRESHOLD - f64::EPSILON));
        let z = ndtri(y);
        if z < clip_min {
            clip_min
        } else if z > clip_max {
            clip_max
        } else {
            z
        }
    }
}

/// `numpy.interp(x, xp, fp)` for finite `x` and non-decreasing `xp`.
fn interp(x: f64, xp: &[f64], fp: &[f64]) -> f64 {
    interp_with(x, xp.len(), &|i| xp.get(i).copied(), &|i| {
        fp.get(i).copied()
    })
}

/// `numpy.interp(x, -xp[::-1], -fp[::-1])` without building the reversed arrays.
fn interp_reversed_negated(x: f64, xp: &[f64], fp: &[f64]) -> f64 {
    let n = xp.len();
    let rev = |v: &[f64], i: usize| n.checked_sub(i + 1).and_then(|j| v.get(j)).map(|v| -v);
    interp_with(x, n, &|i| rev(xp, i), &|i| rev(fp, i))
}

/// numpy's `arr_interp` (compiled_base.c): the last `j` with `xp[j] ≤ x`, then
/// `slope · (x − xp[j]) + fp[j]`, with its exact-hit and NaN fallbacks.
fn interp_with(
    x: f64,
    n: usize,
    xp: &dyn Fn(usize) -> Option<f64>,
    fp: &dyn Fn(usize) -> Option<f64>,
) -> f64 {
    let at = |f: &dyn Fn(usize) -> Option<f64>, i| f(i).unwrap_or(f64::NAN);
    let last = n.saturating_sub(1);
    if n == 0 {
        return f64::NAN;
    }
    if x > at(xp, last) {
        return at(fp, last);
    }
    if x < at(xp, 0) {
        return at(fp, 0);
    }
    if x == at(xp, last) {
        return at(fp, last);
    }
    // Largest j with xp[j] <= x (x < xp[last] here, so j < last).
    let (mut lo, mut hi) = (0usize, last);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if at(xp, mid) <= x {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let j = lo;
    let (x0, x1, y0, y1) = (at(xp, j), at(xp, j + 1), at(fp, j), at(fp, j + 1));
    if x0 == x {
        return y0;
    }
    let slope = (y1 - y0) / (x1 - x0);
    let mut y = slope * (x - x0) + y0;
    if y.is_nan() {
        y = slope * (x - x1) + y1;
        if y.is_nan() && y0 == y1 {
            y = y0;
        }
    }
    y
}

/// The standard normal quantile function, as cephes' `ndtri` (scipy.special.ndtri, which
/// scipy.stats.norm.ppf uses) computes it.
pub fn ndtri(y0: f64) -> f64 {
    const S2PI: f64 = 2.506_628_274_631_000_7;
    const EXP_MINUS_2: f64 = 0.135_335_283_236_612_7;
    const P0: [f64; 5] = [
        -5.996_335_010_141_079e1,
        9.800_107_541_859_997e1,
        -5.667_628_574_690_703e1,
        1.393_126_093_872_796_8e1,
        -1.239_165_838_673_812_6,
    ];
    const Q0: [f64; 8] = [
        1.954_488_583_381_417_6,
        4.676_279_128_988_815,
        8.636_024_213_908_905e1,
        -2.254_626_878_541_193_7e2,
        2.002_602_123_800_606_6e2,
        -8.203_722_561_683_334e1,
        1.590_562_251_262_117e1,
        -1.183_316_211_213_3,
    ];
    const P1: [f64; 9] = [
        4.055_448_923_059_624,
        3.152_510_945_998_938_6e1,
        5.716_281_922_464_213e1,
        4.408_050_738_932_008e1,
        1.468_495_619_288_580_2e1,
        2.186_633_068_507_902_7,
        -1.402_560_791_713_545e-1,
        -3.504_246_268_278_482e-2,
        -8.574_567_851_546_854e-4,
    ];
    const Q1: [f64; 8] = [
        1.577_998_832_564_667_5e1,
        4.539_076_351_288_792e1,
        4.131_720_382_546_72e1,
        1.504_253_856_929_075e1,
        2.504_649_462_083_094,
        -1.421_829_228_547_877_9e-1,
        -3.808_064_076_915_783e-2,
        -9.332_594_808_954_574e-4,
    ];
    const P2: [f64; 9] = [
        3.237_748_917_769_460_4,
        6.915_228_890_689_842,
        3.938_810_252_924_744_4,
        1.333_034_608_158_075_5,
        2.014_853_895_491_790_8e-1,
        1.237_166_348_178_200_2e-2,
        3.015_815_535_082_354e-4,
        2.658_069_746_867_375_5e-6,
        6.239_745_391_849_833e-9,
    ];
    const Q2: [f64; 8] = [
        6.024_270_393_647_42,
        3.679_835_638_561_608_6,
        1.377_020_994_890_813_3,
        2.162_369_935_944_966_3e-1,
        1.342_040_060_885_431_9e-2,
        3.280_144_646_821_277_4e-4,
        2.892_478_647_453_806_8e-6,
        6.790_194_080_099_813e-9,
    ];
    // cephes' polevl (leading coefficient given) and p1evl (leading coefficient 1).
    fn polevl(x: f64, c: &[f64]) -> f64 {
        let mut it = c.iter();
        let first = it.next().copied().unwrap_or(0.0);
        it.fold(first, |acc, k| acc * x + k)
    }
    fn p1evl(x: f64, c: &[f64]) -> f64 {
        let mut it = c.iter();
        let first = x + it.next().copied().unwrap_or(0.0);
        it.fold(first, |acc, k| acc * x + k)
    }
    if y0.is_nan() || !(0.0..=1.0).contains(&y0) {
        return f64::NAN;
    }
    if y0 == 0.0 {
        return f64::NEG_INFINITY;
    }
    if y0 == 1.0 {
        return f64::INFINITY;
    }
    let mut y = y0;
    let mut negate = true;
    if y > 1.0 - EXP_MINUS_2 {
        y = 1.0 - y;
        negate = false;
    }
    if y > EXP_MINUS_2 {
        y -= 0.5;
        let y2 = y * y;
        let x = y + y * (y2 * polevl(y2, &P0) / p1evl(y2, &Q0));
        return x * S2PI;
    }
    let x = (-2.0 * y.ln()).sqrt();
    let x0 = x - x.ln() / x;
    let z = 1.0 / x;
    let x1 = if x < 8.0 {
        z * polevl(z, &P1) / p1evl(z, &Q1)
    } else {
        z * polevl(z, &P2) / p1evl(z, &Q2)
    };
    let x = x0 - x1;
    if negate {
        -x
    } else {
        x
    }
}

/// PowerTransformer's method, with the formula its scikit-learn version uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PowerMethod {
    /// scipy.special.boxcox: `log(x)` or `expm1(λ·log x) / λ`; refuses `x ≤ 0`.
    BoxCox,
    /// Yeo-Johnson with `((x + 1)^λ − 1) / λ` (scikit-learn ≤ 1.8).
    YeoJohnsonPow,
    /// Yeo-Johnson with `expm1(λ·log1p(x)) / λ` (scipy.stats.yeojohnson, scikit-learn ≥ 1.9).
    YeoJohnsonExpm1,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PowerMap {
    pub lambdas: Vec<f64>,
    pub method: PowerMethod,
}

impl PowerMap {
    pub fn apply(&self, column: usize, x: f64) -> f64 {
        let l = self.lambdas.get(column).copied().unwrap_or(f64::NAN);
        match self.method {
            PowerMethod::BoxCox => {
                if l.abs() < 1e-19 {
                    x.ln()
                } else if l * x.ln() < 709.78 {
                    (l * x.ln()).exp_m1() / l
                } else {
                    l.signum() * (l * x.ln() - l.abs().ln()).exp() - 1.0 / l
                }
            }
            PowerMethod::YeoJohnsonPow | PowerMethod::YeoJohnsonExpm1 => {
                let pow_form = self.method == PowerMethod::YeoJohnsonPow;
                if x >= 0.0 {
                    if l.abs() < f64::EPSILON {
                        x.ln_1p()
                    } else if pow_form {
                        ((x + 1.0).powf(l) - 1.0) / l
                    } else {
                        (l * x.ln_1p()).exp_m1() / l
                    }
                } else if (l - 2.0).abs() > f64::EPSILON {
                    if pow_form {
                        -((-x + 1.0).powf(2.0 - l) - 1.0) / (2.0 - l)
                    } else {
                        -((2.0 - l) * (-x).ln_1p()).exp_m1() / (2.0 - l)
                    }
                } else {
                    -(-x).ln_1p()
                }
            }
        }
    }
}

/// Sort `(value, index)` pairs by value (`total_cmp`, so NaN last), ties by index: the one
/// sort the crate's selection code shares (each distinct sort call costs ~5 KB of wasm).
pub fn sort_by_value(pairs: &mut [(f64, usize)]) {
    pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
}

/// numpy's pairwise summation (`np.sum` over a contiguous run), so means match to the bit.
pub fn pairwise_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        return a.iter().fold(0.0, |s, v| s + v);
    }
    if n <= 128 {
        let mut r = [0.0f64; 8];
        for (slot, v) in r.iter_mut().zip(a) {
            *slot = *v;
        }
        let whole = n - n % 8;
        let mut i = 8;
        while i < whole {
            for (j, slot) in r.iter_mut().enumerate() {
                *slot += a.get(i + j).copied().unwrap_or(0.0);
            }
            i += 8;
        }
        let [r0, r1, r2, r3, r4, r5, r6, r7] = r;
        let mut s = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7));
        for v in a.get(whole..).unwrap_or(&[]) {
            s += v;
        }
        return s;
    }
    let mut half = n / 2;
    half -= half % 8;
    let (left, right) = a.split_at(half);
    pairwise_sum(left) + pairwise_sum(right)
}

/// `KNNImputer`: a missing cell takes the (weighted) mean of that column over the `k`
/// nearest training rows that have it, by scikit-learn's `nan_euclidean` distance.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KnnImputer {
    /// `_fit_X`, `n_fit × n_features`, row-major; missing cells are NaN.
    pub fit_x: Vec<f64>,
    pub n_features: usize,
    /// The missing-value marker (`None`: NaN).
    pub marker: Option<f64>,
    pub n_neighbors: usize,
    pub distance_weights: bool,
    /// Columns with at least one value at fit (the others are dropped, or zero-filled when
    /// `keep_empty_features`).
    pub valid: Vec<bool>,
    pub keep_empty: bool,
    /// From scikit-learn 1.6, uniform weights ignore donors at an undefined (NaN) distance.
    pub uniform_skips_nan: bool,
    /// `indicator_.features_`: columns whose missing flags are appended.
    pub indicator: Vec<usize>,
}

/// Bitwise on `fit_x` (its missing cells are NaN, which `==` never equates).
impl PartialEq for KnnImputer {
    fn eq(&self, other: &Self) -> bool {
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        bits(&self.fit_x) == bits(&other.fit_x)
            && self.n_features == other.n_features
            && self.marker.map(f64::to_bits) == other.marker.map(f64::to_bits)
            && self.n_neighbors == other.n_neighbors
            && self.distance_weights == other.distance_weights
            && self.valid == other.valid
            && self.keep_empty == other.keep_empty
            && self.uniform_skips_nan == other.uniform_skips_nan
            && self.indicator == other.indicator
    }
}

impl KnnImputer {
    pub fn validate(&self) -> Result<()> {
        let n = self.n_features;
        if n == 0
            || self.fit_x.len() % n != 0
            || self.valid.len() != n
            || self.n_neighbors == 0
            || self.indicator.iter().any(|&c| c >= n)
            || self.fit_x.iter().any(|v| v.is_infinite())
        {
            return Err(Error::invalid_model(
                "KNNImputer: _fit_X, _valid_mask and indicator_ disagree in shape, or \
                 n_neighbors is 0",
            ));
        }
        Ok(())
    }

    pub fn n_outputs(&self) -> usize {
        let kept = if self.keep_empty {
            self.n_features
        } else {
            self.valid.iter().filter(|v| **v).count()
        };
        kept + self.indicator.len()
    }

    pub fn is_missing(&self, v: f64) -> bool {
        match self.marker {
            None => v.is_nan(),
            Some(m) => v == m,
        }
    }

    /// Impute one row in place (`row` has `n_features` values).
    pub fn impute_row(&self, row: &mut [f64]) {
        let n = self.n_features.max(1);
        let missing: Vec<bool> = row.iter().map(|v| self.is_missing(*v)).collect();
        if !missing.iter().zip(&self.valid).any(|(m, v)| *m && *v) {
            return;
        }
        let fit_missing = |v: f64| self.is_missing(v);
        // nan_euclidean distance to every training row, from the row as given.
        let distances: Vec<f64> = self
            .fit_x
            .chunks_exact(n)
            .map(|fit| {
                let (mut sum, mut count) = (0.0, 0usize);
                for ((x, y), xm) in row.iter().zip(fit).zip(&missing) {
                    if !*xm && !fit_missing(*y) {
                        let d = x - y;
                        sum += d * d;
                        count += 1;
                    }
                }
                if count == 0 {
                    f64::NAN
                } else {
                    (sum / count as f64 * self.n_features as f64).sqrt()
                }
            })
            .collect();
        for (col, slot) in row.iter_mut().enumerate() {
            if !missing.get(col).copied().unwrap_or(false)
                || !self.valid.get(col).copied().unwrap_or(false)
            {
                continue;
            }
            let column = |i: usize| self.fit_x.get(i * n + col).copied().unwrap_or(f64::NAN);
            let donors: Vec<usize> = (0..distances.len())
                .filter(|&i| !fit_missing(column(i)))
                .collect();
            let dist = |i: usize| distances.get(i).copied().unwrap_or(f64::NAN);
            if donors.iter().all(|&i| dist(i).is_nan()) {
                let values: Vec<f64> = (0..distances.len())
                    .map(|i| {
                        if fit_missing(column(i)) {
                            0.0
                        } else {
                            column(i)
                        }
                    })
                    .collect();
                *slot = pairwise_sum(&values) / donors.len() as f64;
                continue;
            }
            let k = self.n_neighbors.min(donors.len());
            // Nearest first; NaN distances last; ties by training row.
            let mut order: Vec<(f64, usize)> = donors.iter().map(|&i| (dist(i), i)).collect();
            sort_by_value(&mut order);
            order.truncate(k);
            let values: Vec<f64> = order.iter().map(|&(_, i)| column(i)).collect();
            let dists: Vec<f64> = order.iter().map(|&(d, _)| d).collect();
            let weights: Option<Vec<f64>> = if self.distance_weights {
                let any_zero = dists.contains(&0.0);
                Some(
                    dists
                        .iter()
                        .map(|d| {
                            let w = if any_zero {
                                f64::from(u8::from(*d == 0.0))
                            } else {
                                1.0 / d
                            };
                            if w.is_nan() {
                                0.0
                            } else {
                                w
                            }
                        })
                        .collect(),
                )
            } else if self.uniform_skips_nan {
                Some(
                    dists
                        .iter()
                        .map(|d| if d.is_nan() { 0.0 } else { 1.0 })
                        .collect(),
                )
            } else {
                None
            };
            *slot = match weights {
                None => pairwise_sum(&values) / k as f64,
                Some(w) => {
                    let products: Vec<f64> = values.iter().zip(&w).map(|(v, w)| v * w).collect();
                    let num = pairwise_sum(&products);
                    let den = pairwise_sum(&w);
                    let q = num / den;
                    if q.is_finite() {
                        q
                    } else {
                        num
                    }
                }
            };
        }
    }
}

/// SplineTransformer's extrapolation mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Extrapolation {
    Error,
    Constant,
    Linear,
    Continue,
    Periodic,
}

/// One fitted `scipy.interpolate.BSpline` of a SplineTransformer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BSpline {
    /// Knots `t`.
    pub t: Vec<f64>,
    /// Coefficients `c`, `(len(t) − k − 1) × n_splines`, row-major.
    pub c: Vec<f64>,
    pub k: usize,
    pub extrapolate: bool,
}

impl BSpline {
    /// Rows of `c`: the number of basis functions, `len(t) − k − 1`.
    fn n_basis(&self) -> usize {
        self.t.len().saturating_sub(self.k + 1)
    }

    fn knot(&self, i: usize) -> f64 {
        self.t.get(i).copied().unwrap_or(f64::NAN)
    }

    /// scipy's `find_interval`: the knot interval of `x`, or `None` (NaN, or outside the base
    /// interval without extrapolation).
    fn interval(&self, x: f64, extrapolate: bool) -> Option<usize> {
        let (k, n) = (self.k, self.n_basis());
        if x.is_nan() || ((x < self.knot(k) || x > self.knot(n)) && !extrapolate) {
            return None;
        }
        // Largest l in [k, n − 1] with t[l] ≤ x (k when x is left of t[k]).
        let mut l = k;
        while l + 1 < n && self.knot(l + 1) <= x {
            l += 1;
        }
        Some(l)
    }

    /// The `nu`-th derivative (0 or 1) of every basis spline at `x`, as scipy's
    /// `BSpline.__call__` with identity-like coefficients computes it (`_deBoor_D`, then
    /// `Σ c[ell + a − k, j] · h[a]`). NaN where scipy gives NaN.
    pub fn eval(&self, x: f64, nu: usize, n_splines: usize) -> Vec<f64> {
        let k = self.k;
        let Some(ell) = self.interval(x, self.extrapolate) else {
            return vec![f64::NAN; n_splines];
        };
        let mut h = vec![0.0f64; k + 1];
        let mut hh = vec![0.0f64; k + 1];
        if let Some(first) = h.first_mut() {
            *first = 1.0;
        }
        for j in 1..=k {
            hh.get_mut(..j)
                .unwrap_or(&mut [])
                .copy_from_slice(h.get(..j).unwrap_or(&[]));
            if let Some(first) = h.first_mut() {
                *first = 0.0;
            }
            for n in 1..=j {
                let xb = self.knot(ell + n);
                let xa = self.knot((ell + n).wrapping_sub(j));
                if xb == xa {
                    if let Some(v) = h.get_mut(n) {
                        *v = 0.0;
                    }
                    continue;
                }
                let prev = hh.get(n - 1).copied().unwrap_or(0.0);
                if j + nu <= k {
                    let w = prev / (xb - xa);
                    if let Some(v) = h.get_mut(n - 1) {
                        *v += w * (xb - x);
                    }
                    if let Some(v) = h.get_mut(n) {
                        *v = w * (x - xa);
                    }
                } else {
                    let w = (j as f64 * prev) / (xb - xa);
                    if let Some(v) = h.get_mut(n - 1) {
                        *v -= w;
                    }
                    if let Some(v) = h.get_mut(n) {
                        *v = w;
                    }
                }
            }
        }
        let mut out = vec![0.0; n_splines];
        for (jp, slot) in out.iter_mut().enumerate() {
            let mut acc = 0.0;
            for (a, ha) in h.iter().enumerate() {
                let row = (ell + a).wrapping_sub(k);
                acc += self.c.get(row * n_splines + jp).copied().unwrap_or(0.0) * ha;
            }
            *slot = acc;
        }
        out
    }
}

/// `SplineTransformer`: each column becomes its B-spline basis values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SplineMap {
    pub splines: Vec<BSpline>,
    /// Basis functions per column (`bsplines_[0].c.shape[1]`), before `include_bias` drops one.
    pub n_splines: usize,
    /// The transformer's `degree`.
    pub degree: usize,
    pub extrapolation: Extrapolation,
    pub include_bias: bool,
    /// `handle_missing='zeros'` (scikit-learn ≥ 1.8): NaN rows get zeros.
    pub nan_to_zero: bool,
    /// scikit-learn ≥ 1.8 maps everything to the first knot when the period is 0.
    pub zero_period_guard: bool,
}

impl SplineMap {
    pub fn validate(&self) -> Result<()> {
        let ok = self.n_splines > 0
            && self.splines.iter().all(|s| {
                let n = s.n_basis();
                s.t.len() >= 2 * s.k + 2
                    && s.c.len() == n.saturating_mul(self.n_splines)
                    && s.t.iter().all(|v| v.is_finite())
                    && s.t.windows(2).all(|w| matches!(w, [a, b] if a <= b))
                    && s.c.iter().all(|v| v.is_finite())
                    && s.k <= 16
            })
            && self.degree <= 16;
        if !ok {
            return Err(Error::invalid_model(
                "SplineTransformer: bsplines_ knots and coefficients disagree in shape, or are \
                 not sorted finite numbers",
            ));
        }
        Ok(())
    }

    pub fn n_outputs(&self) -> usize {
        let per = if self.include_bias {
            self.n_splines
        } else {
            self.n_splines.saturating_sub(1)
        };
        per * self.splines.len()
    }

    /// One column's basis values, `rows × n_splines` (row-major), or the message of the row
    /// scikit-learn refuses.
    pub fn column(&self, f: usize, xs: &[f64]) -> std::result::Result<Vec<f64>, (usize, String)> {
        let m = self.n_splines;
        let mut out = vec![0.0; xs.len() * m];
        let Some(spl) = self.splines.get(f) else {
            return Ok(out);
        };
        let (k, n) = (spl.k, spl.n_basis());
        let put = |out: &mut Vec<f64>, r: usize, values: &[f64]| {
            if let Some(slot) = out.get_mut(r * m..(r + 1) * m) {
                slot.copy_from_slice(values.get(..m).unwrap_or(&[]));
            }
        };
        match self.extrapolation {
            Extrapolation::Continue | Extrapolation::Error | Extrapolation::Periodic => {
                let period = spl.knot(n) - spl.knot(k);
                for (r, &x0) in xs.iter().enumerate() {
                    if self.nan_to_zero && x0.is_nan() {
                        continue;
                    }
                    let x = if self.extrapolation == Extrapolation::Periodic {
                        if self.zero_period_guard && period <= 0.0 {
                            0.0
                        } else {
                            spl.knot(k) + py_mod(x0 - spl.knot(k), period)
                        }
                    } else {
                        x0
                    };
                    let values = spl.eval(x, 0, m);
                    if self.extrapolation == Extrapolation::Error
                        && values.iter().any(|v| v.is_nan())
                    {
                        return Err((
                            r,
                            "the value is beyond the limits of the knots \
                                        (extrapolation='error')"
                                .to_owned(),
                        ));
                    }
                    put(&mut out, r, &values);
                }
            }
            Extrapolation::Constant | Extrapolation::Linear => {
                // scikit-learn's `degree` is one variable shared by all features, and the
                // linear branch bumps it when it is 0 or 1: feature f sees min(degree + f, 2).
                let d = if self.extrapolation == Extrapolation::Linear && self.degree <= 1 {
                    (self.degree + f).min(2)
                } else {
                    self.degree
                };
                let xmin = spl.knot(d);
                let xmax = spl.knot(spl.t.len().wrapping_sub(d + 1));
                let (f_min, f_max) = (spl.eval(xmin, 0, m), spl.eval(xmax, 0, m));
                let linear = self.extrapolation == Extrapolation::Linear;
                let (fp_min, fp_max) = if linear {
                    (spl.eval(xmin, 1, m), spl.eval(xmax, 1, m))
                } else {
                    (Vec::new(), Vec::new())
                };
                let edge = if linear && d <= 1 { d + 1 } else { d };
                for (r, &x) in xs.iter().enumerate() {
                    let row = out.get_mut(r * m..(r + 1) * m).unwrap_or(&mut []);
                    if xmin <= x && x <= xmax {
                        let values = spl.eval(x, 0, m);
                        row.copy_from_slice(values.get(..m).unwrap_or(&[]));
                    } else if linear {
                        for j in 0..edge {
                            if x < xmin {
                                let v = f_min.get(j).copied().unwrap_or(0.0)
                                    + (x - xmin) * fp_min.get(j).copied().unwrap_or(0.0);
                                if let Some(s) = row.get_mut(j) {
                                    *s = v;
                                }
                            } else if x > xmax {
                                let kk = m.wrapping_sub(1 + j);
                                let v = f_max.get(kk).copied().unwrap_or(0.0)
                                    + (x - xmax) * fp_max.get(kk).copied().unwrap_or(0.0);
                                if let Some(s) = row.get_mut(kk) {
                                    *s = v;
                                }
                            }
                        }
                    } else if x < xmin {
                        for j in 0..d {
                            if let (Some(s), Some(v)) = (row.get_mut(j), f_min.get(j)) {
                                *s = *v;
                            }
                        }
                    } else if x > xmax {
                        if d == 0 {
                            return Err((
                                r,
                                "the value is beyond the last knot, where \
                                            scikit-learn's constant extrapolation of degree 0 \
                                            fails"
                                    .to_owned(),
                            ));
                        }
                        for j in m.saturating_sub(d)..m {
                            if let (Some(s), Some(v)) = (row.get_mut(j), f_max.get(j)) {
                                *s = *v;
                            }
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Python's `%` on floats (numpy.remainder): the result takes the divisor's sign.
fn py_mod(a: f64, b: f64) -> f64 {
    let r = a % b;
    if r != 0.0 && (r < 0.0) != (b < 0.0) {
        r + b
    } else if r == 0.0 {
        0.0
    } else {
        r
    }
}
