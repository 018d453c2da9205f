//! numpy dtypes and arrays as pickled by numpy 1.x and 2.x, rebuilt without numpy.
//!
//! Arrays keep their raw element bytes plus dtype, shape and memory order exactly as the file
//! stored them; conversion to Rust numbers (honouring byte order and Fortran order) happens on
//! request, once, when a model attribute is read.

use super::value::{Arena, Id, Value};
use crate::error::{Error, Result};

/// Element kind, numpy's one-letter `dtype.kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Bool,
    Int,
    UInt,
    Float,
    /// `U`: fixed-width UTF-32 text.
    Unicode,
    /// `S`: fixed-width bytes.
    Bytes,
    /// `O`: Python objects (pickled as a list of values).
    Object,
    /// `V`: raw or structured records.
    Void,
    /// Anything else numpy has (complex, datetime): kept so errors can name it.
    Other(char),
}

/// A field of a structured dtype.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub name: String,
    pub dtype: Dtype,
    pub offset: usize,
}

/// A numpy dtype.
#[derive(Clone, Debug, PartialEq)]
pub struct Dtype {
    pub kind: Kind,
    pub itemsize: usize,
    pub big_endian: bool,
    /// Structured records: fields in `names` order. Never nested (rejected on load).
    pub fields: Option<Vec<Field>>,
}

impl Dtype {
    /// Parse numpy's `dtype(typestr, align, copy)` argument, e.g. `"f8"`, `"U3"`, `"V64"`.
    pub fn from_typestr(typestr: &str) -> Result<Dtype> {
        let mut chars = typestr.chars();
        let mut big_endian = false;
        let mut first = chars.next();
        if let Some(order @ ('<' | '>' | '=' | '|')) = first {
            big_endian = order == '>';
            first = chars.next();
        }
        let kind_char = first.ok_or_else(|| Error::bad_format("empty numpy dtype string"))?;
        let digits = chars.as_str();
        let size: usize = if digits.is_empty() {
            0
        } else {
            digits.parse().map_err(|_| {
                Error::bad_format(format!("numpy dtype string {typestr:?} has a bad size"))
            })?
        };
        let (kind, itemsize) = match kind_char {
            'b' => (Kind::Bool, 1),
            '?' => (Kind::Bool, 1),
            'i' => (Kind::Int, size),
            'u' => (Kind::UInt, size),
            'f' => (Kind::Float, size),
            'U' => (
                Kind::Unicode,
                size.checked_mul(4)
                    .ok_or_else(|| Error::bad_format("numpy unicode dtype too wide"))?,
            ),
            'S' => (Kind::Bytes, size),
            'O' => (Kind::Object, 8),
            'V' => (Kind::Void, size),
            other => (Kind::Other(other), size),
        };
        Ok(Dtype {
            kind,
            itemsize,
            big_endian,
            fields: None,
        })
    }

    /// A short numpy-like spelling for messages, e.g. `<f8`.
    pub fn describe(&self) -> String {
        let order = if self.big_endian { '>' } else { '<' };
        let kind = match self.kind {
            Kind::Bool => 'b',
            Kind::Int => 'i',
            Kind::UInt => 'u',
            Kind::Float => 'f',
            Kind::Unicode => 'U',
            Kind::Bytes => 'S',
            Kind::Object => 'O',
            Kind::Void => 'V',
            Kind::Other(c) => c,
        };
        format!("{order}{kind}{}", self.itemsize)
    }

    /// Apply the state tuple of `dtype.__setstate__`:
    /// `(version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata])`.
    pub fn apply_state(&mut self, arena: &Arena, state: Id) -> Result<()> {
        let items = match arena.get(state) {
            Value::Tuple(items) if items.len() >= 8 => items.clone(),
            other => {
                return Err(Error::bad_format(format!(
                    "numpy dtype state must be a tuple of 8 or 9 items, found {}",
                    other.kind()
                )))
            }
        };
        let item = |i: usize| {
            items
                .get(i)
                .copied()
                .ok_or_else(|| Error::bad_format("short dtype state"))
        };
        match arena.as_str(item(1)?) {
            Some(">") => self.big_endian = true,
            Some("<" | "|" | "=") => self.big_endian = false,
            _ => return Err(Error::bad_format("numpy dtype state has a bad byte order")),
        }
        if !matches!(arena.get(item(2)?), Value::None) {
            return Err(Error::new(
                crate::error::ErrorCode::UnsupportedVersion,
                "numpy sub-array dtypes are not supported",
            ));
        }
        if let Value::Int(elsize) = arena.get(item(5)?) {
            if *elsize >= 0 {
                self.itemsize = usize::try_from(*elsize)
                    .map_err(|_| Error::bad_format("numpy dtype itemsize out of range"))?;
            }
        }
        let names = match arena.get(item(3)?) {
            Value::None => return Ok(()),
            Value::Tuple(names) => names.clone(),
            _ => return Err(Error::bad_format("numpy dtype names must be a tuple")),
        };
        let fields_dict = item(4)?;
        let mut fields = Vec::with_capacity(names.len().min(64));
        for name_id in names {
            let name = arena
                .as_str(name_id)
                .ok_or_else(|| Error::bad_format("numpy dtype field name is not a string"))?;
            let spec = arena.dict_get(fields_dict, name).ok_or_else(|| {
                Error::bad_format(format!("numpy dtype field {name:?} has no description"))
            })?;
            let (dtype_id, offset_id) = match arena.get(spec).as_tuple() {
                Some([dtype, offset, ..]) => (*dtype, *offset),
                _ => {
                    return Err(Error::bad_format(format!(
                        "numpy dtype field {name:?} is malformed"
                    )))
                }
            };
            let dtype = match arena.get(dtype_id) {
                Value::Dtype(d) if d.fields.is_none() => d.clone(),
                Value::Dtype(_) => {
                    return Err(Error::new(
                        crate::error::ErrorCode::UnsupportedVersion,
                        format!("nested structured dtype in field {name:?} is not supported"),
                    ))
                }
                _ => {
                    return Err(Error::bad_format(format!(
                        "numpy dtype field {name:?} has no dtype"
                    )))
                }
            };
            let offset = match arena.get(offset_id) {
                Value::Int(o) => usize::try_from(*o).ok(),
                _ => None,
            }
            .ok_or_else(|| {
                Error::bad_format(format!("numpy dtype field {name:?} has a bad offset"))
            })?;
            let end = offset.checked_add(dtype.itemsize);
            if end.is_none_or(|end| end > self.itemsize) {
                return Err(Error::bad_format(format!(
                    "numpy dtype field {name:?} at offset {offset} overruns the {}-byte record",
                    self.itemsize
                )));
            }
            fields.push(Field {
                name: name.to_owned(),
                dtype,
                offset,
            });
        }
        self.fields = Some(fields);
        Ok(())
    }

    /// The element's bytes as a little-endian word (honouring the dtype's byte order), for
    /// elements of 1 to 8 bytes that are exactly `itemsize` long.
    fn le_word(&self, bytes: &[u8]) -> Option<u64> {
        let n = self.itemsize;
        if bytes.len() != n || n == 0 || n > 8 {
            return None;
        }
        let mut buf = [0u8; 8];
        if self.big_endian {
            for (dst, src) in buf.iter_mut().zip(bytes.iter().rev()) {
                *dst = *src;
            }
        } else {
            for (dst, src) in buf.iter_mut().zip(bytes) {
                *dst = *src;
            }
        }
        Some(u64::from_le_bytes(buf))
    }

    /// Decode one numeric element from exactly `itemsize` bytes.
    fn read_f64(&self, bytes: &[u8]) -> Option<f64> {
        if self.kind == Kind::Float {
            return match self.itemsize {
                8 => self.le_word(bytes).map(f64::from_bits),
                4 => self
                    .le_word(bytes)
                    .map(|w| f64::from(f32::from_bits(w as u32))),
                _ => None,
            };
        }
        match self.kind {
            Kind::Int => self.read_i64(bytes).map(|v| v as f64),
            Kind::UInt => self.le_word(bytes).map(|w| w as f64),
            Kind::Bool => self.le_word(bytes).map(|w| f64::from(u8::from(w != 0))),
            _ => None,
        }
    }

    /// Decode one integer element; `None` for non-integer kinds or sizes.
    fn read_i64(&self, bytes: &[u8]) -> Option<i64> {
        let word = self.le_word(bytes)?;
        match self.kind {
            Kind::Int => {
                let shift = 64 - self.itemsize as u32 * 8;
                Some(((word << shift) as i64) >> shift)
            }
            Kind::UInt | Kind::Bool => i64::try_from(word).ok(),
            _ => None,
        }
    }

    /// Turn a numpy scalar (`scalar(dtype, raw_bytes)`) into a plain value.
    pub fn scalar_value(&self, bytes: &[u8]) -> Result<Value> {
        let bad = || {
            Error::bad_format(format!(
                "numpy scalar of dtype {} has {} bytes of data",
                self.describe(),
                bytes.len()
            ))
        };
        match self.kind {
            Kind::Float => self.read_f64(bytes).map(Value::Float).ok_or_else(bad),
            Kind::Bool => self
                .read_i64(bytes)
                .map(|v| Value::Bool(v != 0))
                .ok_or_else(bad),
            Kind::Int | Kind::UInt => self.read_i64(bytes).map(Value::Int).ok_or_else(bad),
            Kind::Unicode => Ok(Value::Str(decode_utf32(bytes, self.big_endian)?)),
            _ => Err(Error::new(
                crate::error::ErrorCode::UnsupportedVersion,
                format!(
                    "numpy scalars of dtype {} are not supported",
                    self.describe()
                ),
            )),
        }
    }
}

/// Element storage of an array.
#[derive(Clone, Debug)]
pub enum ArrayData {
    /// `prod(shape) * itemsize` bytes, in `fortran` order.
    Raw(Vec<u8>),
    /// Object arrays: one value per element, in C order.
    Objects(Vec<Id>),
}

/// A rebuilt numpy array.
#[derive(Clone, Debug)]
pub struct NdArray {
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    /// Raw data is column-major (numpy's `order='F'`).
    pub fortran: bool,
    pub data: ArrayData,
}

/// Number of elements of `shape`, failing on overflow.
pub fn element_count(shape: &[usize]) -> Result<usize> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| Error::bad_format(format!("numpy array shape {shape:?} overflows")))
}

/// Read a shape tuple of non-negative ints.
pub fn shape_from(arena: &Arena, id: Id) -> Result<Vec<usize>> {
    let dims = match arena.get(id) {
        Value::Tuple(d) | Value::List(d) => d,
        Value::Int(_) => return shape_from_ints(arena, &[id]),
        other => {
            return Err(Error::bad_format(format!(
                "numpy array shape must be a tuple, found {}",
                other.kind()
            )))
        }
    };
    shape_from_ints(arena, dims)
}

fn shape_from_ints(arena: &Arena, dims: &[Id]) -> Result<Vec<usize>> {
    if dims.len() > 32 {
        return Err(Error::bad_format(format!(
            "numpy array has {} dimensions (numpy allows at most 32)",
            dims.len()
        )));
    }
    dims.iter()
        .map(|d| match arena.get(*d) {
            Value::Int(v) => usize::try_from(*v).ok(),
            _ => None,
        })
        .map(|d| {
            d.ok_or_else(|| {
                Error::bad_format("numpy array shape has a negative or non-integer dimension")
            })
        })
        .collect()
}

impl NdArray {
    /// Build from raw bytes, checking that their length is exactly what shape × itemsize needs.
    pub fn from_raw(
        dtype: Dtype,
        shape: Vec<usize>,
        fortran: bool,
        bytes: Vec<u8>,
    ) -> Result<NdArray> {
        if dtype.kind == Kind::Object {
            return Err(Error::bad_format(
                "object array given raw bytes instead of a list",
            ));
        }
        let want = element_count(&shape)?
            .checked_mul(dtype.itemsize)
            .ok_or_else(|| Error::bad_format("numpy array byte size overflows"))?;
        if bytes.len() != want {
            return Err(Error::bad_format(format!(
                "numpy array of shape {shape:?} and dtype {} needs {want} bytes of data, found {}",
                dtype.describe(),
                bytes.len()
            )));
        }
        Ok(NdArray {
            dtype,
            shape,
            fortran,
            data: ArrayData::Raw(bytes),
        })
    }

    /// Build an object array from its pickled list of elements (C order).
    pub fn from_objects(dtype: Dtype, shape: Vec<usize>, items: Vec<Id>) -> Result<NdArray> {
        let want = element_count(&shape)?;
        if items.len() != want {
            return Err(Error::bad_format(format!(
                "object array of shape {shape:?} needs {want} elements, found {}",
                items.len()
            )));
        }
        Ok(NdArray {
            dtype,
            shape,
            fortran: false,
            data: ArrayData::Objects(items),
        })
    }

    /// Element count (the product was checked for overflow at construction).
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// For each element in C (row-major) order, its position in storage order.
    fn storage_positions(&self) -> impl Iterator<Item = usize> + '_ {
        let n = self.len();
        let transposed = self.fortran && self.shape.len() > 1;
        (0..n).map(move |c_index| {
            if !transposed {
                return c_index;
            }
            // Decompose the C index into coordinates (last axis fastest), then recompose
            // with the first axis fastest.
            let mut rest = c_index;
            let mut f_index = 0;
            let mut f_stride = 1;
            // numpy arrays have at most 32 axes (checked when the shape is read).
            let mut coords = [0usize; 32];
            for (coord, &dim) in coords.iter_mut().zip(&self.shape).rev() {
                *coord = rest.checked_rem(dim).unwrap_or(0);
                rest = rest.checked_div(dim).unwrap_or(0);
            }
            for (coord, &dim) in coords.iter().zip(&self.shape) {
                f_index += coord * f_stride;
                f_stride *= dim;
            }
            f_index
        })
    }

    fn raw_element<'b>(&self, bytes: &'b [u8], pos: usize) -> Option<&'b [u8]> {
        let start = pos.checked_mul(self.dtype.itemsize)?;
        bytes.get(start..start.checked_add(self.dtype.itemsize)?)
    }

    /// All elements as f64 in C order. Works for bool, int, uint and float dtypes, and for
    /// object arrays whose elements are Python numbers.
    pub fn to_f64(&self, arena: &Arena) -> Result<Vec<f64>> {
        match &self.data {
            ArrayData::Raw(bytes) => self
                .storage_positions()
                .map(|pos| {
                    self.raw_element(bytes, pos)
                        .and_then(|b| self.dtype.read_f64(b))
                        .ok_or_else(|| {
                            Error::invalid_model(format!(
                                "expected a numeric array, found dtype {}",
                                self.dtype.describe()
                            ))
                        })
                })
                .collect(),
            ArrayData::Objects(items) => items
                .iter()
                .map(|id| match arena.get(*id) {
                    Value::Float(f) => Ok(*f),
                    Value::Int(i) => Ok(*i as f64),
                    Value::Bool(b) => Ok(f64::from(u8::from(*b))),
                    other => Err(Error::invalid_model(format!(
                        "expected a numeric array, found an object array holding {}",
                        other.kind()
                    ))),
                })
                .collect(),
        }
    }

    /// All elements as i64 in C order (integer and bool dtypes, or object arrays of ints).
    pub fn to_i64(&self, arena: &Arena) -> Result<Vec<i64>> {
        match &self.data {
            ArrayData::Raw(bytes) => self
                .storage_positions()
                .map(|pos| {
                    self.raw_element(bytes, pos)
                        .and_then(|b| self.dtype.read_i64(b))
                        .ok_or_else(|| {
                            Error::invalid_model(format!(
                                "expected an integer array, found dtype {}",
                                self.dtype.describe()
                            ))
                        })
                })
                .collect(),
            ArrayData::Objects(items) => items
                .iter()
                .map(|id| match arena.get(*id) {
                    Value::Int(i) => Ok(*i),
                    Value::Bool(b) => Ok(i64::from(*b)),
                    other => Err(Error::invalid_model(format!(
                        "expected an integer array, found an object array holding {}",
                        other.kind()
                    ))),
                })
                .collect(),
        }
    }

    /// All elements as strings in C order: `U` arrays, or object arrays of `str`.
    pub fn to_strings(&self, arena: &Arena) -> Result<Vec<String>> {
        match &self.data {
            ArrayData::Raw(bytes) if self.dtype.kind == Kind::Unicode => self
                .storage_positions()
                .map(|pos| {
                    let raw = self.raw_element(bytes, pos).ok_or_else(|| {
                        Error::invalid_model("unicode array element out of range")
                    })?;
                    decode_utf32(raw, self.dtype.big_endian)
                })
                .collect(),
            ArrayData::Objects(items) => items
                .iter()
                .map(|id| {
                    arena.as_str(*id).map(str::to_owned).ok_or_else(|| {
                        Error::invalid_model(format!(
                            "expected an array of strings, found an element of type {}",
                            arena.get(*id).kind()
                        ))
                    })
                })
                .collect(),
            ArrayData::Raw(_) => Err(Error::invalid_model(format!(
                "expected an array of strings, found dtype {}",
                self.dtype.describe()
            ))),
        }
    }
}

impl NdArray {
    /// Whether a structured array has a field `name` (record layouts grow between versions).
    pub fn has_field(&self, name: &str) -> bool {
        self.dtype
            .fields
            .as_ref()
            .is_some_and(|fields| fields.iter().any(|f| f.name == name))
    }

    /// Raw bytes of field `name` of every record of a 1-D structured array (storage order).
    fn field_bytes<'b>(
        &'b self,
        name: &str,
    ) -> Result<(&'b Field, impl Iterator<Item = &'b [u8]> + 'b)> {
        let fields = self.dtype.fields.as_ref().ok_or_else(|| {
            Error::invalid_model(format!("expected a structured array with field {name:?}"))
        })?;
        let field = fields.iter().find(|f| f.name == name).ok_or_else(|| {
            Error::invalid_model(format!("structured array has no field {name:?}"))
        })?;
        let ArrayData::Raw(bytes) = &self.data else {
            return Err(Error::invalid_model("structured array without raw data"));
        };
        if self.shape.len() != 1 {
            return Err(Error::invalid_model(format!(
                "expected a 1-D record array, found shape {:?}",
                self.shape
            )));
        }
        let record = self.dtype.itemsize.max(1);
        let (offset, size) = (field.offset, field.dtype.itemsize);
        Ok((
            field,
            bytes
                .chunks_exact(record)
                .filter_map(move |r| r.get(offset..offset + size)),
        ))
    }

    /// Field `name` of every record as f64 (numeric fields only).
    pub fn field_f64(&self, name: &str) -> Result<Vec<f64>> {
        let (field, records) = self.field_bytes(name)?;
        let dtype = &field.dtype;
        // The fields scikit-learn's tree records hold, decoded without the general per-byte
        // path (a tenth of loading a tree-ensemble pickle in wasm went to it).
        let values: Vec<f64> = match (dtype.kind, dtype.itemsize, dtype.big_endian) {
            (Kind::Float, 8, false) => fixed_width(records, f64::from_le_bytes),
            _ => records.filter_map(|b| dtype.read_f64(b)).collect(),
        };
        if values.len() != self.len() {
            return Err(Error::invalid_model(format!(
                "field {name:?} of dtype {} is not numeric",
                field.dtype.describe()
            )));
        }
        Ok(values)
    }

    /// Field `name` of every record as i64 (integer fields only).
    pub fn field_i64(&self, name: &str) -> Result<Vec<i64>> {
        let (field, records) = self.field_bytes(name)?;
        let dtype = &field.dtype;
        let values: Vec<i64> = match (dtype.kind, dtype.itemsize, dtype.big_endian) {
            (Kind::Int, 8, false) => fixed_width(records, i64::from_le_bytes),
            (Kind::UInt, 4, false) => fixed_width(records, |b| i64::from(u32::from_le_bytes(b))),
            (Kind::Int | Kind::UInt | Kind::Bool, 1, _) => fixed_width(records, |[b]: [u8; 1]| {
                if dtype.kind == Kind::Int {
                    i64::from(b as i8)
                } else {
                    i64::from(b)
                }
            }),
            _ => records.filter_map(|b| dtype.read_i64(b)).collect(),
        };
        if values.len() != self.len() {
            return Err(Error::invalid_model(format!(
                "field {name:?} of dtype {} is not an integer",
                field.dtype.describe()
            )));
        }
        Ok(values)
    }
}

/// `read` applied to each `N`-byte element (a slice of another length is skipped, so the
/// caller's count check reports it).
fn fixed_width<'b, const N: usize, T>(
    elements: impl Iterator<Item = &'b [u8]>,
    read: impl Fn([u8; N]) -> T,
) -> Vec<T> {
    elements
        .filter_map(|b| <[u8; N]>::try_from(b).ok().map(&read))
        .collect()
}

/// numpy `U` data: UTF-32 code units, NUL-padded on the right.
fn decode_utf32(bytes: &[u8], big_endian: bool) -> Result<String> {
    let mut out = String::new();
    for unit in bytes.chunks_exact(4) {
        let mut word = [0u8; 4];
        word.copy_from_slice(unit);
        let code = if big_endian {
            u32::from_be_bytes(word)
        } else {
            u32::from_le_bytes(word)
        };
        if code == 0 {
            break;
        }
        out.push(char::from_u32(code).ok_or_else(|| {
            Error::bad_format(format!("invalid code point {code:#x} in numpy string"))
        })?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use crate::error::ErrorCode;

    fn f8(big_endian: bool) -> Dtype {
        Dtype {
            big_endian,
            ..Dtype::from_typestr("f8").unwrap()
        }
    }

    #[test]
    fn fortran_order_is_transposed_to_c_order() {
        // The 2x3 matrix [[1,2,3],[4,5,6]] stored column-major: 1,4,2,5,3,6.
        let bytes: Vec<u8> = [1.0f64, 4.0, 2.0, 5.0, 3.0, 6.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let a = NdArray::from_raw(f8(false), vec![2, 3], true, bytes).unwrap();
        assert_eq!(
            a.to_f64(&Arena::default()).unwrap(),
            [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
        );
    }

    #[test]
    fn three_d_fortran_order() {
        // shape (2,2,2), element (i,j,k) = 100i+10j+k, stored with i fastest.
        let mut stored = Vec::new();
        for k in 0..2 {
            for j in 0..2 {
                for i in 0..2 {
                    stored.push(f64::from(100 * i + 10 * j + k));
                }
            }
        }
        let bytes = stored.iter().flat_map(|v| v.to_le_bytes()).collect();
        let a = NdArray::from_raw(f8(false), vec![2, 2, 2], true, bytes).unwrap();
        assert_eq!(
            a.to_f64(&Arena::default()).unwrap(),
            [0.0, 1.0, 10.0, 11.0, 100.0, 101.0, 110.0, 111.0]
        );
    }

    #[test]
    fn byte_orders_and_integer_widths() {
        let a = NdArray::from_raw(f8(true), vec![1], false, 2.5f64.to_be_bytes().to_vec()).unwrap();
        assert_eq!(a.to_f64(&Arena::default()).unwrap(), [2.5]);
        let i4 = Dtype::from_typestr("i4").unwrap();
        let a = NdArray::from_raw(
            i4,
            vec![2],
            false,
            [(-3i32).to_le_bytes(), 7i32.to_le_bytes()].concat(),
        )
        .unwrap();
        assert_eq!(a.to_i64(&Arena::default()).unwrap(), [-3, 7]);
        let u1 = Dtype::from_typestr("|u1").unwrap();
        let a = NdArray::from_raw(u1, vec![2], false, vec![255, 1]).unwrap();
        assert_eq!(a.to_f64(&Arena::default()).unwrap(), [255.0, 1.0]);
    }

    #[test]
    fn record_fields_of_every_width_and_byte_order() {
        // (name, typestr, bytes of record 0, bytes of record 1, values as i64 if integral, as f64)
        type Case = (
            &'static str,
            &'static str,
            Vec<u8>,
            Vec<u8>,
            Option<[i64; 2]>,
            [f64; 2],
        );
        let cases: Vec<Case> = vec![
            (
                "f8",
                "<f8",
                2.5f64.to_le_bytes().into(),
                (-1e300f64).to_le_bytes().into(),
                None,
                [2.5, -1e300],
            ),
            (
                "bf8",
                ">f8",
                2.5f64.to_be_bytes().into(),
                0.1f64.to_be_bytes().into(),
                None,
                [2.5, 0.1],
            ),
            (
                "f4",
                "<f4",
                0.1f32.to_le_bytes().into(),
                (-3f32).to_le_bytes().into(),
                None,
                [f64::from(0.1f32), -3.0],
            ),
            (
                "i8",
                "<i8",
                (-7i64).to_le_bytes().into(),
                i64::MAX.to_le_bytes().into(),
                Some([-7, i64::MAX]),
                [-7.0, i64::MAX as f64],
            ),
            (
                "bi8",
                ">i8",
                (-7i64).to_be_bytes().into(),
                9i64.to_be_bytes().into(),
                Some([-7, 9]),
                [-7.0, 9.0],
            ),
            (
                "i4",
                "<i4",
                (-2i32).to_le_bytes().into(),
                i32::MAX.to_le_bytes().into(),
                Some([-2, i64::from(i32::MAX)]),
                [-2.0, f64::from(i32::MAX)],
            ),
            (
                "u4",
                "<u4",
                u32::MAX.to_le_bytes().into(),
                5u32.to_le_bytes().into(),
                Some([i64::from(u32::MAX), 5]),
                [f64::from(u32::MAX), 5.0],
            ),
            (
                "i1",
                "|i1",
                vec![0xFF],
                vec![0x7F],
                Some([-1, 127]),
                [-1.0, 127.0],
            ),
            (
                "u1",
                "|u1",
                vec![0xFF],
                vec![0],
                Some([255, 0]),
                [255.0, 0.0],
            ),
            ("b1", "|b1", vec![1], vec![0], Some([1, 0]), [1.0, 0.0]),
            (
                "bu2",
                ">u2",
                513u16.to_be_bytes().into(),
                1u16.to_be_bytes().into(),
                Some([513, 1]),
                [513.0, 1.0],
            ),
        ];
        let mut fields = Vec::new();
        let mut offset = 0;
        for (name, typestr, ..) in &cases {
            let dtype = Dtype::from_typestr(typestr).unwrap();
            let size = dtype.itemsize;
            fields.push(Field {
                name: name.to_string(),
                dtype,
                offset,
            });
            offset += size;
        }
        let record = Dtype {
            kind: Kind::Void,
            itemsize: offset,
            big_endian: false,
            fields: Some(fields),
        };
        let bytes: Vec<u8> = [
            cases.iter().flat_map(|c| c.2.clone()).collect::<Vec<u8>>(),
            cases.iter().flat_map(|c| c.3.clone()).collect(),
        ]
        .concat();
        let a = NdArray::from_raw(record, vec![2], false, bytes).unwrap();
        for (name, _, _, _, ints, floats) in &cases {
            assert_eq!(a.field_f64(name).unwrap(), floats, "{name}");
            match ints {
                Some(ints) => assert_eq!(&a.field_i64(name).unwrap(), ints, "{name}"),
                None => assert!(a.field_i64(name).is_err(), "{name}"),
            }
        }
    }

    #[test]
    fn unicode_arrays_strip_padding() {
        let u3 = Dtype::from_typestr("U3").unwrap();
        let text: Vec<u8> = "abé"
            .chars()
            .chain("x\0\0".chars())
            .flat_map(|c| (c as u32).to_le_bytes())
            .collect();
        let a = NdArray::from_raw(u3, vec![2], false, text).unwrap();
        assert_eq!(a.to_strings(&Arena::default()).unwrap(), ["abé", "x"]);
    }

    #[test]
    fn sizes_must_match_exactly() {
        let err = NdArray::from_raw(f8(false), vec![3], false, vec![0; 16]).unwrap_err();
        assert!(err.message().contains("needs 24 bytes"), "{err}");
        let err = element_count(&[usize::MAX, 2]).unwrap_err();
        assert!(err.message().contains("overflows"), "{err}");
        assert!(Dtype::from_typestr("fx").is_err());
        assert!(Dtype::from_typestr("").is_err());
    }

    #[test]
    fn wrong_kind_conversions_are_errors() {
        let u3 = Dtype::from_typestr("U1").unwrap();
        let a = NdArray::from_raw(u3, vec![1], false, vec![b'a', 0, 0, 0]).unwrap();
        assert_eq!(
            a.to_f64(&Arena::default()).unwrap_err().code(),
            ErrorCode::InvalidModel
        );
    }
}
