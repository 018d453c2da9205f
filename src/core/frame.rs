//! Mixed-type input — what a pandas DataFrame holds: numbers, strings, booleans and missing
//! cells — and the column-wise frame preprocessing runs on.
//!
//! Preprocessing works column by column, as scikit-learn's transformers do, so a string column
//! can reach an encoder while numeric columns go through scalers. Every column keeps a name, so
//! an error can say which row and which column is wrong.

use serde::{Deserialize, Serialize};

use super::input::Rows;
use crate::error::{Error, Result};

/// One input cell.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Cell {
    /// `null`, `undefined` or NaN: pandas' NaN/None.
    Missing,
    Num(f64),
    Str(String),
    Bool(bool),
}

impl Cell {
    /// The cell as a number, as numpy converts it (`True` is 1); `None` for a string.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Cell::Missing => Some(f64::NAN),
            Cell::Num(v) => Some(*v),
            Cell::Bool(b) => Some(f64::from(u8::from(*b))),
            Cell::Str(_) => None,
        }
    }

    /// Missing, or a NaN number.
    pub fn is_missing(&self) -> bool {
        match self {
            Cell::Missing => true,
            Cell::Num(v) => v.is_nan(),
            _ => false,
        }
    }

    /// How an error message shows the cell.
    pub fn describe(&self) -> String {
        match self {
            Cell::Missing => "a missing value".to_owned(),
            Cell::Num(v) if v.is_nan() => "a missing value".to_owned(),
            Cell::Num(v) => format!("the number {v}"),
            Cell::Str(s) => format!("the string {s:?}"),
            Cell::Bool(b) => format!("the boolean {b}"),
        }
    }
}

/// A row-major batch of mixed-type cells (`n_rows × n_cols`).
#[derive(Clone, Debug)]
pub struct Table {
    cells: Vec<Cell>,
    n_cols: usize,
    first_row: usize,
}

impl Table {
    /// Wrap `cells` as rows of `n_cols`; fails when the length is not a whole number of rows.
    pub fn new(cells: Vec<Cell>, n_cols: usize) -> Result<Self> {
        if (n_cols == 0 && !cells.is_empty()) || (n_cols != 0 && cells.len() % n_cols != 0) {
            return Err(Error::shape(format!(
                "input has {} cells, which is not a whole number of rows of {n_cols} columns",
                cells.len()
            )));
        }
        Ok(Table {
            cells,
            n_cols,
            first_row: 0,
        })
    }

    /// The same rows, numbered from `first_row` in error messages.
    pub fn numbered_from(self, first_row: usize) -> Self {
        Table { first_row, ..self }
    }

    pub fn n_cols(&self) -> usize {
        self.n_cols
    }

    pub fn n_rows(&self) -> usize {
        self.cells.len().checked_div(self.n_cols).unwrap_or(0)
    }

    pub fn first_row(&self) -> usize {
        self.first_row
    }

    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }
}

/// One column while preprocessing runs: numbers (NaN = missing), or cells of any type.
#[derive(Clone, Debug, PartialEq)]
pub enum Column {
    Num(Vec<f64>),
    Obj(Vec<Cell>),
}

impl Column {
    pub fn len(&self) -> usize {
        match self {
            Column::Num(v) => v.len(),
            Column::Obj(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Cell `i` (numbers wrapped).
    pub fn cell(&self, i: usize) -> Cell {
        match self {
            Column::Num(v) => v.get(i).map_or(Cell::Missing, |x| Cell::Num(*x)),
            Column::Obj(v) => v.get(i).cloned().unwrap_or(Cell::Missing),
        }
    }
}

/// The columns of a batch between preprocessing steps, with their names for error messages.
#[derive(Clone, Debug)]
pub struct Frame {
    pub cols: Vec<Column>,
    pub names: Vec<String>,
    pub n_rows: usize,
    /// Index of the first row in the caller's batch.
    pub first_row: usize,
}

impl Frame {
    /// Numeric rows, column by column.
    pub fn from_rows(rows: &Rows, names: &[String]) -> Self {
        let n_cols = rows.n_cols();
        let cols = (0..n_cols)
            .map(|c| {
                Column::Num(
                    rows.iter()
                        .map(|r| r.get(c).copied().unwrap_or(f64::NAN))
                        .collect(),
                )
            })
            .collect();
        Frame {
            cols,
            names: column_names(names, n_cols),
            n_rows: rows.n_rows(),
            first_row: rows.first_row(),
        }
    }

    /// Mixed cells, column by column: a column without strings becomes numeric.
    pub fn from_table(table: &Table, names: &[String]) -> Self {
        let n_cols = table.n_cols();
        let n_rows = table.n_rows();
        let cols = (0..n_cols)
            .map(|c| {
                let cells = table.cells().iter().skip(c).step_by(n_cols.max(1));
                match cells
                    .clone()
                    .map(Cell::as_number)
                    .collect::<Option<Vec<f64>>>()
                {
                    Some(numbers) => Column::Num(numbers),
                    None => Column::Obj(cells.cloned().collect()),
                }
            })
            .collect();
        Frame {
            cols,
            names: column_names(names, n_cols),
            n_rows,
            first_row: table.first_row(),
        }
    }

    /// A frame of the given columns (same rows).
    pub fn with_cols(&self, cols: Vec<Column>, names: Vec<String>) -> Frame {
        Frame {
            cols,
            names,
            n_rows: self.n_rows,
            first_row: self.first_row,
        }
    }

    /// The error for cell (`row`, `col`), naming both.
    pub fn cell_error(&self, row: usize, col: usize, message: impl std::fmt::Display) -> Error {
        let column = match self.names.get(col) {
            Some(name) => format!("{name:?}"),
            None => col.to_string(),
        };
        Error::bad_input(format!(
            "row {}, column {column}: {message}",
            self.first_row + row
        ))
    }

    /// Every column as numbers; a string cell is an error naming `step`.
    pub fn numeric(&mut self, step: &str) -> Result<()> {
        for c in 0..self.cols.len() {
            let bad = match self.cols.get(c) {
                Some(Column::Obj(cells)) => cells.iter().position(|x| x.as_number().is_none()),
                _ => None,
            };
            if let Some(row) = bad {
                let cell = self.cols.get(c).map_or(Cell::Missing, |col| col.cell(row));
                return Err(self.cell_error(
                    row,
                    c,
                    format!("{step} takes numbers, found {}", cell.describe()),
                ));
            }
            if let Some(col) = self.cols.get_mut(c) {
                if let Column::Obj(cells) = col {
                    let numbers = cells
                        .iter()
                        .map(|x| x.as_number().unwrap_or(f64::NAN))
                        .collect();
                    *col = Column::Num(numbers);
                }
            }
        }
        Ok(())
    }

    /// The numeric columns (call [`Self::numeric`] first).
    pub fn numbers(&self) -> impl Iterator<Item = &[f64]> {
        self.cols.iter().map(|c| match c {
            Column::Num(v) => v.as_slice(),
            Column::Obj(_) => &[],
        })
    }

    pub fn numbers_mut(&mut self) -> impl Iterator<Item = &mut Vec<f64>> {
        self.cols.iter_mut().filter_map(|c| match c {
            Column::Num(v) => Some(v),
            Column::Obj(_) => None,
        })
    }

    /// Reject values a step's input validation refuses (`nan_ok`: NaN is allowed).
    pub fn expect_finite(&self, step: &str, nan_ok: bool) -> Result<()> {
        for (c, col) in self.numbers().enumerate() {
            if let Some(row) = col
                .iter()
                .position(|v| !(v.is_finite() || (nan_ok && v.is_nan())))
            {
                let what = if col.get(row).is_some_and(|v| v.is_nan()) {
                    "NaN (missing)"
                } else {
                    "infinity"
                };
                return Err(self.cell_error(row, c, format!("{what} is not accepted by {step}")));
            }
        }
        Ok(())
    }

    /// Row-major numbers for the estimator.
    pub fn into_row_major(mut self, estimator: &str) -> Result<Vec<f64>> {
        self.numeric(estimator)?;
        let n_cols = self.cols.len();
        let mut out = vec![0.0; self.n_rows * n_cols];
        for (c, col) in self.numbers().enumerate() {
            for (r, v) in col.iter().enumerate() {
                if let Some(slot) = out.get_mut(r * n_cols + c) {
                    *slot = *v;
                }
            }
        }
        Ok(out)
    }
}

fn column_names(names: &[String], n_cols: usize) -> Vec<String> {
    (0..n_cols)
        .map(|i| names.get(i).cloned().unwrap_or_else(|| format!("x{i}")))
        .collect()
}
