//! `LabelEncoder` and `LabelBinarizer` saved on their own: what people pickle beside a
//! classifier to turn its labels into codes (`transform`) and back (`inverseTransform`).

use serde::{Deserialize, Serialize};

use super::frame::Cell;
use super::model::ClassLabels;
use crate::error::{Error, Result};

/// A fitted label coder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabelCoder {
    pub classes: ClassLabels,
    /// `LabelBinarizer`'s `(neg_label, pos_label)`; `None` for `LabelEncoder`.
    pub binarizer: Option<(f64, f64)>,
    /// scikit-learn ≥ 1.2 casts `y` to the classes' dtype first, so `2.7` is the integer
    /// label `2`.
    pub cast_to_class_type: bool,
}

impl LabelCoder {
    pub fn validate(&self) -> Result<()> {
        let ok = !self.classes.is_empty()
            && self
                .binarizer
                .is_none_or(|(n, p)| n.is_finite() && p.is_finite() && n < p);
        if !ok {
            return Err(Error::invalid_model(
                "label coder: no classes, or neg_label is not below pos_label",
            ));
        }
        Ok(())
    }

    /// Output columns of `transform`.
    pub fn width(&self) -> usize {
        match (self.binarizer, self.classes.len()) {
            (None, _) | (Some(_), 1 | 2) => 1,
            (Some(_), n) => n,
        }
    }

    /// Index of a label among the classes, if it is one of them.
    fn index_of(&self, cell: &Cell) -> Option<usize> {
        match (&self.classes, cell) {
            (ClassLabels::Str(c), Cell::Str(s)) => c.iter().position(|x| x == s),
            (ClassLabels::Int(c), Cell::Num(v)) => {
                let v = if self.cast_to_class_type {
                    v.trunc()
                } else {
                    *v
                };
                c.iter().position(|x| *x as f64 == v)
            }
            (ClassLabels::Int(c), Cell::Bool(b)) => c.iter().position(|x| *x == i64::from(*b)),
            (ClassLabels::Float(c), Cell::Num(v)) => {
                c.iter().position(|x| x == v || (x.is_nan() && v.is_nan()))
            }
            (ClassLabels::Float(c), Cell::Missing) => c.iter().position(|x| x.is_nan()),
            (ClassLabels::Bool(c), Cell::Bool(b)) => c.iter().position(|x| x == b),
            (ClassLabels::Bool(c), Cell::Num(v)) if *v == 0.0 || *v == 1.0 => {
                c.iter().position(|x| *x == (*v == 1.0))
            }
            _ => None,
        }
    }

    /// `transform`: codes (`LabelEncoder`) or indicator rows (`LabelBinarizer`), one entry
    /// per label. `row` numbers the first label for messages.
    pub fn transform(&self, labels: &[Cell], first_row: usize) -> Result<Vec<f64>> {
        let width = self.width();
        let mut out = Vec::with_capacity(labels.len() * width);
        for (i, cell) in labels.iter().enumerate() {
            let found = self.index_of(cell);
            match self.binarizer {
                None => match found {
                    Some(k) => out.push(k as f64),
                    None => {
                        return Err(Error::bad_input(format!(
                            "row {}: y contains previously unseen labels: {} is not one of \
                             the {} classes the LabelEncoder was fitted on",
                            first_row + i,
                            cell.describe(),
                            self.classes.len()
                        )))
                    }
                },
                Some((neg, pos)) => {
                    if found.is_none() && self.classes.len() == 2 {
                        // scikit-learn switches a binary binarizer to two columns for a
                        // batch holding a third label; one width per model here.
                        return Err(Error::bad_input(format!(
                            "row {}: {} is not one of the two classes; scikit-learn would \
                             return two columns for this batch instead of one",
                            first_row + i,
                            cell.describe()
                        )));
                    }
                    match self.classes.len() {
                        1 => out.push(neg),
                        2 => out.push(if found == Some(1) { pos } else { neg }),
                        _ => {
                            out.extend((0..width).map(|k| if found == Some(k) { pos } else { neg }))
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// `inverse_transform`: class indices for codes (`LabelEncoder`, one column) or indicator
    /// rows (`LabelBinarizer`: argmax, or the threshold between the labels for binary ones).
    pub fn inverse(&self, values: &[f64], n_cols: usize, first_row: usize) -> Result<Vec<usize>> {
        let n_classes = self.classes.len();
        let expected = match self.binarizer {
            None => 1,
            Some(_) if n_classes == 2 => n_cols.clamp(1, 2),
            Some(_) => self.width(),
        };
        if n_cols != expected || n_cols == 0 {
            return Err(Error::shape(format!(
                "inverseTransform takes {expected} column(s) here, not {n_cols}"
            )));
        }
        let mut out = Vec::with_capacity(values.len() / n_cols);
        for (i, row) in values.chunks_exact(n_cols).enumerate() {
            let index = match (self.binarizer, row) {
                (None, [code]) => {
                    let ok = code.fract() == 0.0 && *code >= 0.0 && (*code as usize) < n_classes;
                    if !ok {
                        return Err(Error::bad_input(format!(
                            "row {}: y contains previously unseen labels: {code} is not a code \
                             between 0 and {}",
                            first_row + i,
                            n_classes.saturating_sub(1)
                        )));
                    }
                    *code as usize
                }
                (Some((neg, pos)), _) if n_classes <= 2 => {
                    let threshold = (pos + neg) / 2.0;
                    let value = row.last().copied().unwrap_or(f64::NAN);
                    usize::from(n_classes == 2 && value > threshold)
                }
                (Some(_), _) => super::tree_models::argmax(row),
                _ => 0,
            };
            out.push(index);
        }
        Ok(out)
    }
}
