//! The values a pickle is rebuilt into: plain data only, never live Python objects.
//!
//! Values live in an arena and refer to each other by [`Id`], because pickles share objects
//! through the memo (one ndarray referenced twice, a dict mutated after it was memoized). An
//! arena also makes cycles harmless: nothing here follows references recursively.

use super::globals::Global;
use super::numpy::{Dtype, NdArray};
use crate::error::{Error, ErrorCode, Result};

/// Index of a value in the [`Arena`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Id(pub(crate) u32);

/// One rebuilt value.
#[derive(Clone, Debug)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    /// An integer that does not fit i64 (only its sign is kept; no model attribute needs one).
    BigInt {
        negative: bool,
    },
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<Id>),
    Tuple(Vec<Id>),
    /// Key/value pairs in insertion order; a later duplicate key wins on lookup.
    Dict(Vec<(Id, Id)>),
    Set(Vec<Id>),
    /// A reference to an allow-listed class or function (the result of GLOBAL/STACK_GLOBAL).
    Global(Global),
    /// An instance of an allow-listed class: constructor arguments plus the state set by BUILD.
    Object {
        class: Global,
        args: Vec<Id>,
        state: Option<Id>,
    },
    /// `numpy.core.multiarray._reconstruct(...)` awaiting its BUILD state.
    PendingArray,
    /// A numpy dtype (its BUILD state may refine byte order and fields).
    Dtype(Dtype),
    /// Boxed: inline it made every value 104 bytes instead of 40.
    Array(Box<NdArray>),
}

impl Value {
    /// A short name for error messages.
    /// The items of a tuple, for slice-pattern matching.
    pub fn as_tuple(&self) -> Option<&[Id]> {
        match self {
            Value::Tuple(items) => Some(items),
            _ => None,
        }
    }

    /// The items of an object ndarray, in C order.
    pub fn object_array_items(&self) -> Option<&[Id]> {
        match self {
            Value::Array(array) => match &array.data {
                super::numpy::ArrayData::Objects(items) => Some(items),
                super::numpy::ArrayData::Raw(_) => None,
            },
            _ => None,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Value::None => "None",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::BigInt { .. } => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "list",
            Value::Tuple(_) => "tuple",
            Value::Dict(_) => "dict",
            Value::Set(_) => "set",
            Value::Global(_) => "class reference",
            Value::Object { .. } => "object",
            Value::PendingArray => "unfinished ndarray",
            Value::Dtype(_) => "numpy dtype",
            Value::Array(_) => "numpy array",
        }
    }
}

/// Owner of every value rebuilt from one pickle stream.
#[derive(Default, Debug)]
pub struct Arena {
    values: Vec<Value>,
}

impl Arena {
    pub fn push(&mut self, value: Value) -> Result<Id> {
        let id = u32::try_from(self.values.len())
            .map_err(|_| Error::limit("more than 4 billion pickle values"))?;
        self.values.push(value);
        Ok(Id(id))
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn get(&self, id: Id) -> &Value {
        // Ids are only created by `push`, so they are always in range; `None` is unreachable.
        self.values.get(id.0 as usize).unwrap_or(&Value::None)
    }

    pub fn get_mut(&mut self, id: Id) -> Result<&mut Value> {
        // As above: an out-of-range id would be a bug here, reported rather than panicking.
        self.values
            .get_mut(id.0 as usize)
            .ok_or_else(|| Error::new(ErrorCode::Internal, "pickle value id out of range"))
    }

    /// The string value at `id`, if it is one.
    pub fn as_str(&self, id: Id) -> Option<&str> {
        match self.get(id) {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Look `key` up in the dict at `id` (last duplicate wins, as in Python).
    pub fn dict_get(&self, id: Id, key: &str) -> Option<Id> {
        match self.get(id) {
            Value::Dict(items) => items
                .iter()
                .rev()
                .find(|(k, _)| self.as_str(*k) == Some(key))
                .map(|(_, v)| *v),
            _ => None,
        }
    }
}
