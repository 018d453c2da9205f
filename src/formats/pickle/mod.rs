//! A pickle interpreter that executes nothing.
//!
//! It runs the pickle opcode stream (protocols 2 to 5) over a value arena. Where Python would
//! import a module and call a function, it looks the `module.name` pair up in the allow-list
//! ([`globals`]) and rebuilds plain data instead: numpy arrays from their bytes, estimators as
//! inert `Object { class, state }` records that the scikit-learn lowering reads.
//!
//! Safety properties, all enforced here rather than by the callers:
//! - every length read from the file is checked against the bytes present before allocating;
//! - allocation, value count, string length and MARK nesting are capped by [`LoadLimits`];
//! - the interpreter loop is iterative; nothing recurses over file-controlled structure.

pub mod globals;
pub mod numpy;
pub mod value;

use std::collections::BTreeMap;

use crate::error::{Error, ErrorCode, Result};
use crate::limits::LoadLimits;
use globals::{Class, Global};
use numpy::{Dtype, Kind, NdArray};
use value::{Arena, Id, Value};

/// A fully read pickle stream.
#[derive(Debug)]
pub struct Document {
    pub arena: Arena,
    pub root: Id,
    /// The protocol from the PROTO opcode (2 when absent).
    pub protocol: u8,
    /// The stream held joblib array wrappers (a `joblib.dump` file).
    pub joblib: bool,
}

/// Read one pickle stream from the start of `bytes`.
pub fn parse(bytes: &[u8], limits: &LoadLimits) -> Result<Document> {
    let mut vm = Vm::new(bytes, limits);
    let root = vm.run()?;
    Ok(Document {
        protocol: vm.protocol,
        joblib: vm.saw_joblib,
        arena: vm.arena,
        root,
    })
}

/// Approximate bytes one arena slot costs, for the allocation limit.
const VALUE_COST: usize = std::mem::size_of::<Value>() + 8;

/// The pickle memo: index → value. Picklers number entries 0, 1, 2, … in order (MEMOIZE
/// uses the entry count), so those live in a vector — a BTreeMap here took a fifth of loading a
/// GradientBoosting pickle's 13,000 GET/PUT opcodes; any other index (only a hand-made file
/// writes one) goes to a map, so a huge index costs no memory.
#[derive(Default)]
struct Memo {
    /// Entries `0..dense.len()`.
    dense: Vec<Id>,
    /// Entries at any other index; one that `dense` later reaches stays here, shadowed.
    sparse: BTreeMap<u32, Id>,
    /// Indices in both (counted once).
    shadowed: usize,
}

impl Memo {
    fn get(&self, index: u32) -> Option<Id> {
        match self.dense.get(index as usize) {
            Some(id) => Some(*id),
            None => self.sparse.get(&index).copied(),
        }
    }

    fn insert(&mut self, index: u32, id: Id) {
        let i = index as usize;
        if let Some(slot) = self.dense.get_mut(i) {
            *slot = id;
        } else if i == self.dense.len() {
            // (No `BTreeMap::remove`: its rebalancing code cost ~3 KB of wasm.)
            if !self.sparse.is_empty() && self.sparse.contains_key(&index) {
                self.shadowed += 1;
            }
            self.dense.push(id);
        } else {
            self.sparse.insert(index, id);
        }
    }

    /// Distinct indices written (what MEMOIZE numbers the next entry by).
    fn len(&self) -> usize {
        (self.dense.len() + self.sparse.len()).saturating_sub(self.shadowed)
    }
}

struct Vm<'a> {
    input: &'a [u8],
    pos: usize,
    /// Offset of the opcode being executed, for error messages.
    op_offset: usize,
    limits: &'a LoadLimits,
    arena: Arena,
    stack: Vec<Id>,
    /// Stack heights saved by MARK (CPython's "metastack").
    marks: Vec<usize>,
    memo: Memo,
    allocated: usize,
    protocol: u8,
    /// Inside a joblib object array's nested pickle stream.
    nested: bool,
    saw_joblib: bool,
}

impl<'a> Vm<'a> {
    fn new(input: &'a [u8], limits: &'a LoadLimits) -> Self {
        Vm {
            input,
            pos: 0,
            op_offset: 0,
            limits,
            arena: Arena::default(),
            stack: Vec::new(),
            marks: Vec::new(),
            memo: Memo::default(),
            allocated: 0,
            protocol: 2,
            nested: false,
            saw_joblib: false,
        }
    }

    // ---- errors -------------------------------------------------------------------------

    fn err(&self, message: impl std::fmt::Display) -> Error {
        Error::bad_format(format!("pickle byte {}: {message}", self.op_offset))
    }

    fn truncated(&self, what: &str, need: usize) -> Error {
        self.err(format!(
            "file ends inside {what}: needs {need} more bytes, {} left (the file is truncated or not a pickle)",
            self.input.len().saturating_sub(self.pos)
        ))
    }

    // ---- input --------------------------------------------------------------------------

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.input.len())
            .ok_or_else(|| self.truncated(what, n))?;
        let slice = self
            .input
            .get(self.pos..end)
            .ok_or_else(|| self.truncated(what, n))?;
        self.pos = end;
        Ok(slice)
    }

    fn u8(&mut self) -> Result<u8> {
        let [byte] = self.array::<1>()?;
        Ok(byte)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, "an opcode argument")?);
        Ok(out)
    }

    /// A length prefix, checked against the string limit and the bytes actually present.
    fn length(&mut self, raw: u64, what: &str) -> Result<usize> {
        // Compare in u64 first so 32-bit wasm and 64-bit native give the same error.
        if raw > self.limits.max_string_len as u64 {
            return Err(Error::limit(format!(
                "pickle byte {}: {what} of {raw} bytes is over the max_string_len limit of {}",
                self.op_offset, self.limits.max_string_len
            )));
        }
        let len = usize::try_from(raw)
            .map_err(|_| self.err(format!("{what} length {raw} is too large")))?;
        if len > self.input.len() - self.pos {
            return Err(self.truncated(what, len));
        }
        Ok(len)
    }

    /// A newline-terminated argument (GLOBAL, INT, …), without the newline.
    fn line(&mut self) -> Result<&'a str> {
        let rest = self.input.get(self.pos..).unwrap_or_default();
        let max = rest.len().min(self.limits.max_string_len.min(1 << 16));
        let text = rest
            .get(..max)
            .unwrap_or_default()
            .split(|&b| b == b'\n')
            .next()
            .filter(|text| text.len() < max)
            .ok_or_else(|| self.truncated("a text argument", 1))?;
        self.pos += text.len() + 1;
        std::str::from_utf8(text).map_err(|_| self.err("text argument is not UTF-8"))
    }

    // ---- values -------------------------------------------------------------------------

    fn charge(&mut self, bytes: usize) -> Result<()> {
        self.allocated = self.allocated.saturating_add(bytes);
        if self.allocated > self.limits.max_alloc_bytes {
            return Err(Error::limit(format!(
                "pickle byte {}: decoded values need more than the max_alloc_bytes limit of {} bytes",
                self.op_offset, self.limits.max_alloc_bytes
            )));
        }
        Ok(())
    }

    fn alloc(&mut self, value: Value) -> Result<Id> {
        if self.arena.len() >= self.limits.max_values {
            return Err(Error::limit(format!(
                "pickle byte {}: more than the max_values limit of {} values",
                self.op_offset, self.limits.max_values
            )));
        }
        let payload = match &value {
            Value::Str(s) => s.len(),
            Value::Bytes(b) => b.len(),
            Value::List(v) | Value::Tuple(v) | Value::Set(v) => v.len() * 4,
            Value::Dict(v) => v.len() * 8,
            Value::Array(a) => match &a.data {
                numpy::ArrayData::Raw(b) => b.len(),
                numpy::ArrayData::Objects(v) => v.len() * 4,
            },
            _ => 0,
        };
        self.charge(VALUE_COST + payload)?;
        self.arena.push(value)
    }

    fn push(&mut self, value: Value) -> Result<()> {
        let id = self.alloc(value)?;
        self.stack.push(id);
        Ok(())
    }

    fn stack_floor(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn pop(&mut self) -> Result<Id> {
        if self.stack.len() <= self.stack_floor() {
            return Err(self.err("stack underflow (opcode needs a value the stream never pushed)"));
        }
        self.stack.pop().ok_or_else(|| self.err("stack underflow"))
    }

    fn top(&self) -> Result<Id> {
        if self.stack.len() <= self.stack_floor() {
            return Err(self.err("stack underflow (opcode needs a value the stream never pushed)"));
        }
        self.stack
            .last()
            .copied()
            .ok_or_else(|| self.err("stack underflow"))
    }

    fn pop_mark(&mut self) -> Result<Vec<Id>> {
        let mark = self
            .marks
            .pop()
            .ok_or_else(|| self.err("opcode needs a MARK but none is open"))?;
        Ok(self.stack.split_off(mark.min(self.stack.len())))
    }

    fn memo_get(&self, index: u32) -> Result<Id> {
        self.memo
            .get(index)
            .ok_or_else(|| self.err(format!("memo entry {index} read before it was written")))
    }

    fn memo_put(&mut self, index: u32) -> Result<()> {
        let top = self.top()?;
        self.charge(32)?;
        self.memo.insert(index, top);
        Ok(())
    }

    fn push_str(&mut self, bytes: &[u8]) -> Result<()> {
        let s = std::str::from_utf8(bytes).map_err(|_| self.err("string is not valid UTF-8"))?;
        self.push(Value::Str(s.to_owned()))
    }

    fn push_int_le(&mut self, bytes: &[u8]) -> Result<()> {
        // Two's-complement little-endian, as LONG1/LONG4 store it.
        let negative = bytes.last().is_some_and(|b| b & 0x80 != 0);
        let fill = if negative { 0xFF } else { 0 };
        let (low, high) = bytes.split_at(bytes.len().min(8));
        // Sign-extend the low 8 bytes; the value fits in an i64 when every higher byte is
        // sign fill and bit 63 agrees with the sign.
        let mut buf = [fill; 8];
        for (dst, src) in buf.iter_mut().zip(low) {
            *dst = *src;
        }
        let value = i64::from_le_bytes(buf);
        if high.iter().all(|&b| b == fill) && (value < 0) == negative {
            self.push(Value::Int(value))
        } else {
            self.push(Value::BigInt { negative })
        }
    }

    // ---- the interpreter ----------------------------------------------------------------

    fn run(&mut self) -> Result<Id> {
        loop {
            self.op_offset = self.pos;
            let Some(&op) = self.input.get(self.pos) else {
                return Err(
                    self.err("file ends before the STOP opcode (truncated, or not a pickle)")
                );
            };
            self.pos += 1;
            match op {
                0x80 => {
                    let proto = self.u8()?;
                    if proto > 5 {
                        return Err(Error::new(
                            ErrorCode::UnsupportedVersion,
                            format!("pickle protocol {proto} is newer than the supported 2 to 5"),
                        ));
                    }
                    self.protocol = proto;
                }
                0x95 => {
                    // FRAME: a length hint only; frames are transparent to a reader.
                    self.array::<8>()?;
                }
                b'.' => {
                    let result = self.pop()?;
                    return Ok(result);
                }
                b'(' => {
                    if self.marks.len() >= self.limits.max_depth {
                        return Err(Error::limit(format!(
                            "pickle byte {}: MARK nesting deeper than the max_depth limit of {}",
                            self.op_offset, self.limits.max_depth
                        )));
                    }
                    self.marks.push(self.stack.len());
                }
                b'0' => {
                    if self.stack.len() > self.stack_floor() {
                        self.pop()?;
                    } else {
                        self.pop_mark()?;
                    }
                }
                b'1' => {
                    self.pop_mark()?;
                }
                b'2' => {
                    let top = self.top()?;
                    self.stack.push(top);
                }
                b'N' => self.push(Value::None)?,
                0x88 => self.push(Value::Bool(true))?,
                0x89 => self.push(Value::Bool(false))?,
                b'I' => {
                    let line = self.line()?;
                    let value = match line {
                        "01" => Value::Bool(true),
                        "00" => Value::Bool(false),
                        text => Value::Int(text.parse().map_err(|_| self.err("bad INT argument"))?),
                    };
                    self.push(value)?;
                }
                b'J' => {
                    let v = i32::from_le_bytes(self.array()?);
                    self.push(Value::Int(i64::from(v)))?;
                }
                b'K' => {
                    let v = self.u8()?;
                    self.push(Value::Int(i64::from(v)))?;
                }
                b'M' => {
                    let v = u16::from_le_bytes(self.array()?);
                    self.push(Value::Int(i64::from(v)))?;
                }
                b'L' => {
                    let line = self.line()?;
                    let digits = line.strip_suffix('L').unwrap_or(line);
                    let value = match digits.parse::<i64>() {
                        Ok(v) => Value::Int(v),
                        Err(_) if !digits.is_empty() && digits.trim_start_matches('-').bytes().all(|b| b.is_ascii_digit()) => {
                            Value::BigInt { negative: digits.starts_with('-') }
                        }
                        Err(_) => return Err(self.err("bad LONG argument")),
                    };
                    self.push(value)?;
                }
                0x8a => {
                    let n = usize::from(self.u8()?);
                    let bytes = self.take(n, "LONG1")?;
                    self.push_int_le(bytes)?;
                }
                0x8b => {
                    let n = i32::from_le_bytes(self.array()?);
                    let n = u64::try_from(n).map_err(|_| self.err("negative LONG4 length"))?;
                    let n = self.length(n, "LONG4")?;
                    let bytes = self.take(n, "LONG4")?;
                    self.push_int_le(bytes)?;
                }
                b'G' => {
                    let v = f64::from_be_bytes(self.array()?);
                    self.push(Value::Float(v))?;
                }
                b'T' | b'U' => {
                    // BINSTRING / SHORT_BINSTRING: Python 2 `str`, read as latin-1 text.
                    let n = if op == b'T' {
                        let n = i32::from_le_bytes(self.array()?);
                        u64::try_from(n).map_err(|_| self.err("negative BINSTRING length"))?
                    } else {
                        u64::from(self.u8()?)
                    };
                    let n = self.length(n, "BINSTRING")?;
                    let bytes = self.take(n, "BINSTRING")?;
                    self.push(Value::Str(bytes.iter().map(|&b| char::from(b)).collect()))?;
                }
                b'B' | b'C' | 0x8e | 0x96 => {
                    let n = match op {
                        b'B' => u64::from(u32::from_le_bytes(self.array()?)),
                        b'C' => u64::from(self.u8()?),
                        _ => u64::from_le_bytes(self.array()?),
                    };
                    let n = self.length(n, "a bytes value")?;
                    let bytes = self.take(n, "a bytes value")?;
                    self.push(Value::Bytes(bytes.to_vec()))?;
                }
                0x97 => {
                    return Err(Error::new(
                        ErrorCode::UnsupportedVersion,
                        format!(
                            "pickle byte {}: NEXT_BUFFER (out-of-band buffers) is not supported; pickle without buffer_callback",
                            self.op_offset
                        ),
                    ))
                }
                0x98 => {
                    self.top()?;
                }
                b'X' | 0x8c | 0x8d => {
                    let n = match op {
                        b'X' => u64::from(u32::from_le_bytes(self.array()?)),
                        0x8c => u64::from(self.u8()?),
                        _ => u64::from_le_bytes(self.array()?),
                    };
                    let n = self.length(n, "a string")?;
                    let bytes = self.take(n, "a string")?;
                    self.push_str(bytes)?;
                }
                b'V' => {
                    let line = self.line()?;
                    if line.contains('\\') {
                        return Err(self.err("escaped protocol-0 UNICODE strings are not supported"));
                    }
                    self.push(Value::Str(line.to_owned()))?;
                }
                b']' => self.push(Value::List(Vec::new()))?,
                b')' => self.push(Value::Tuple(Vec::new()))?,
                b'}' => self.push(Value::Dict(Vec::new()))?,
                0x8f => self.push(Value::Set(Vec::new()))?,
                b'l' => {
                    let items = self.pop_mark()?;
                    self.push(Value::List(items))?;
                }
                b't' => {
                    let items = self.pop_mark()?;
                    self.push(Value::Tuple(items))?;
                }
                0x85..=0x87 => {
                    let n = usize::from(op - 0x84);
                    let mut items = Vec::with_capacity(n);
                    for _ in 0..n {
                        items.push(self.pop()?);
                    }
                    items.reverse();
                    self.push(Value::Tuple(items))?;
                }
                0x91 => {
                    let items = self.pop_mark()?;
                    self.push(Value::Set(items))?;
                }
                b'd' => {
                    let items = self.pop_mark()?;
                    let pairs = self.pairs(items)?;
                    self.push(Value::Dict(pairs))?;
                }
                b'a' => {
                    let item = self.pop()?;
                    self.extend_list(vec![item], "APPEND")?;
                }
                b'e' => {
                    let items = self.pop_mark()?;
                    self.extend_list(items, "APPENDS")?;
                }
                b's' => {
                    let value = self.pop()?;
                    let key = self.pop()?;
                    self.extend_dict(vec![(key, value)])?;
                }
                b'u' => {
                    let items = self.pop_mark()?;
                    let pairs = self.pairs(items)?;
                    self.extend_dict(pairs)?;
                }
                0x90 => {
                    let items = self.pop_mark()?;
                    let target = self.top()?;
                    self.charge(items.len() * 4)?;
                    match self.arena.get_mut(target)? {
                        Value::Set(set) => set.extend(items),
                        _ => return Err(self.err("ADDITEMS on something that is not a set")),
                    }
                }
                b'g' => {
                    let index = self.line()?.parse().map_err(|_| self.err("bad GET argument"))?;
                    let id = self.memo_get(index)?;
                    self.stack.push(id);
                }
                b'h' => {
                    let index = u32::from(self.u8()?);
                    let id = self.memo_get(index)?;
                    self.stack.push(id);
                }
                b'j' => {
                    let index = u32::from_le_bytes(self.array()?);
                    let id = self.memo_get(index)?;
                    self.stack.push(id);
                }
                b'p' => {
                    let index = self.line()?.parse().map_err(|_| self.err("bad PUT argument"))?;
                    self.memo_put(index)?;
                }
                b'q' => {
                    let index = u32::from(self.u8()?);
                    self.memo_put(index)?;
                }
                b'r' => {
                    let index = u32::from_le_bytes(self.array()?);
                    self.memo_put(index)?;
                }
                0x94 => {
                    let index = u32::try_from(self.memo.len()).map_err(|_| self.err("memo too large"))?;
                    self.memo_put(index)?;
                }
                b'c' => {
                    let module = self.line()?;
                    let name = self.line()?;
                    let global = globals::resolve(module, name, self.op_offset)?;
                    self.push(Value::Global(global))?;
                }
                0x93 => {
                    let name_id = self.pop()?;
                    let module_id = self.pop()?;
                    let (Some(module), Some(name)) = (self.arena.as_str(module_id), self.arena.as_str(name_id)) else {
                        return Err(self.err("STACK_GLOBAL needs two strings"));
                    };
                    let global = globals::resolve(module, name, self.op_offset)?;
                    self.push(Value::Global(global))?;
                }
                b'R' => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    let result = self.reduce(callable, args)?;
                    self.stack.push(result);
                }
                0x81 | 0x92 => {
                    if op == 0x92 {
                        let kwargs = self.pop()?;
                        if !matches!(self.arena.get(kwargs), Value::Dict(d) if d.is_empty()) {
                            return Err(self.err("NEWOBJ_EX with keyword arguments is not supported"));
                        }
                    }
                    let args = self.pop()?;
                    let class = self.pop()?;
                    let object = self.new_object(class, args)?;
                    self.push(object)?;
                }
                b'b' => {
                    let state = self.pop()?;
                    let target = self.top()?;
                    self.build(target, state)?;
                }
                b'i' | b'o' => return Err(self.err("protocol 0/1 INST/OBJ opcodes are not supported")),
                0x82..=0x84 => return Err(self.err("copyreg extension codes (EXT1/2/4) are not supported")),
                b'P' | b'Q' => return Err(self.err("persistent ids (PERSID) are not supported")),
                b'S' | b'F' => {
                    return Err(self.err("protocol-0 STRING/FLOAT opcodes are not supported (pickle with protocol 2 or later)"))
                }
                other => {
                    return Err(self.err(format!(
                        "unknown opcode {other:#04x} (the file is corrupt, or not a plain pickle)"
                    )))
                }
            }
        }
    }

    fn pairs(&mut self, items: Vec<Id>) -> Result<Vec<(Id, Id)>> {
        if items.len() % 2 != 0 {
            return Err(self.err("odd number of items for a dict"));
        }
        Ok(items
            .chunks_exact(2)
            .filter_map(|kv| match kv {
                [k, v] => Some((*k, *v)),
                _ => None,
            })
            .collect())
    }

    fn extend_list(&mut self, items: Vec<Id>, opcode: &str) -> Result<()> {
        let target = self.top()?;
        self.charge(items.len() * 4)?;
        match self.arena.get_mut(target)? {
            Value::List(list) => {
                list.extend(items);
                Ok(())
            }
            other => {
                let kind = other.kind();
                Err(self.err(format!("{opcode} on a {kind}, not a list")))
            }
        }
    }

    fn extend_dict(&mut self, pairs: Vec<(Id, Id)>) -> Result<()> {
        let target = self.top()?;
        self.charge(pairs.len() * 8)?;
        match self.arena.get_mut(target)? {
            Value::Dict(dict) => {
                dict.extend(pairs);
                Ok(())
            }
            other => {
                let kind = other.kind();
                Err(self.err(format!("SETITEM on a {kind}, not a dict")))
            }
        }
    }

    fn tuple_items(&self, id: Id, what: &str) -> Result<Vec<Id>> {
        match self.arena.get(id) {
            Value::Tuple(items) => Ok(items.clone()),
            other => Err(self.err(format!("{what} must be a tuple, found {}", other.kind()))),
        }
    }

    fn global_of(&self, id: Id) -> Option<Global> {
        match self.arena.get(id) {
            Value::Global(g) => Some(*g),
            _ => None,
        }
    }

    /// REDUCE: what Python would do by calling `callable(*args)`, for the allow-listed callables.
    fn reduce(&mut self, callable: Id, args: Id) -> Result<Id> {
        let Some(global) = self.global_of(callable) else {
            return Err(self.err(format!(
                "REDUCE on a {}, which is not an allow-listed callable",
                self.arena.get(callable).kind()
            )));
        };
        let args = self.tuple_items(args, "REDUCE arguments")?;
        let arg = |i: usize| args.get(i).copied();
        match global {
            Global::NumpyReconstruct => {
                let is_ndarray =
                    arg(0).and_then(|a| self.global_of(a)) == Some(Global::NumpyNdarray);
                if !is_ndarray {
                    return Err(
                        self.err("numpy _reconstruct of something other than numpy.ndarray")
                    );
                }
                self.alloc(Value::PendingArray)
            }
            Global::NumpyFromBuffer => {
                let (Some(buf), Some(dtype), Some(shape), Some(order)) =
                    (arg(0), arg(1), arg(2), arg(3))
                else {
                    return Err(self.err("numpy _frombuffer needs (buffer, dtype, shape, order)"));
                };
                let Value::Bytes(bytes) = self.arena.get(buf) else {
                    return Err(self.err("numpy _frombuffer buffer is not bytes"));
                };
                let Value::Dtype(dtype) = self.arena.get(dtype) else {
                    return Err(self.err("numpy _frombuffer dtype is not a dtype"));
                };
                let fortran = match self.arena.as_str(order) {
                    Some("C") => false,
                    Some("F") => true,
                    Some(other) => {
                        return Err(Error::new(
                            ErrorCode::UnsupportedVersion,
                            format!(
                            "pickle byte {}: numpy array memory order {other:?} is not supported",
                            self.op_offset
                        ),
                        ))
                    }
                    None => return Err(self.err("numpy _frombuffer order is not a string")),
                };
                let shape = numpy::shape_from(&self.arena, shape)
                    .map_err(|e| e.context(format!("pickle byte {}", self.op_offset)))?;
                let array = NdArray::from_raw(dtype.clone(), shape, fortran, bytes.clone())
                    .map_err(|e| e.context(format!("pickle byte {}", self.op_offset)))?;
                self.alloc(Value::Array(Box::new(array)))
            }
            Global::NumpyScalar => {
                let (Some(dtype), Some(data)) = (arg(0), arg(1)) else {
                    return Err(self.err("numpy scalar needs (dtype, data)"));
                };
                let Value::Dtype(dtype) = self.arena.get(dtype) else {
                    return Err(self.err("numpy scalar dtype is not a dtype"));
                };
                if dtype.kind == Kind::Object {
                    return Ok(data);
                }
                let Value::Bytes(bytes) = self.arena.get(data) else {
                    return Err(self.err("numpy scalar data is not bytes"));
                };
                let value = dtype
                    .scalar_value(bytes)
                    .map_err(|e| e.context(format!("pickle byte {}", self.op_offset)))?;
                self.alloc(value)
            }
            Global::NumpyDtype => {
                let typestr = arg(0)
                    .and_then(|a| self.arena.as_str(a))
                    .ok_or_else(|| self.err("numpy dtype needs a type string"))?;
                let dtype = Dtype::from_typestr(typestr)?;
                self.alloc(Value::Dtype(dtype))
            }
            Global::BuiltinsBytearray if arg(0).is_none() => self.alloc(Value::Bytes(Vec::new())),
            Global::BuiltinsBytearray
                if matches!(arg(0).map(|a| self.arena.get(a)), Some(Value::Bytes(_))) =>
            {
                match arg(0).map(|a| self.arena.get(a)) {
                    Some(Value::Bytes(bytes)) => {
                        let bytes = bytes.clone();
                        self.alloc(Value::Bytes(bytes))
                    }
                    _ => Err(self.err("bytearray(...) needs bytes")),
                }
            }
            // Protocol 2: bytearray(str, 'latin-1'), decoded as _codecs.encode does.
            Global::CodecsEncode | Global::BuiltinsBytearray => {
                let text = arg(0)
                    .and_then(|a| self.arena.as_str(a))
                    .ok_or_else(|| self.err("_codecs.encode needs a string"))?;
                let encoding = arg(1).and_then(|a| self.arena.as_str(a));
                if !matches!(encoding, Some("latin1" | "latin-1" | "iso-8859-1")) {
                    return Err(
                        self.err("_codecs.encode is only supported with the latin1 encoding")
                    );
                }
                let bytes = text
                    .chars()
                    .map(|c| u8::try_from(u32::from(c)).ok())
                    .collect::<Option<Vec<u8>>>()
                    .ok_or_else(|| self.err("latin1 bytes contain a character above U+00FF"))?;
                self.alloc(Value::Bytes(bytes))
            }
            Global::CopyregReconstructor => {
                let class = arg(0).and_then(|a| self.global_of(a));
                let base = arg(1).and_then(|a| self.global_of(a));
                match (class, base) {
                    (Some(class @ Global::Class(_)), Some(Global::BuiltinsObject)) => self.alloc(Value::Object {
                        class,
                        args: Vec::new(),
                        state: None,
                    }),
                    _ => Err(self.err("copyreg._reconstructor is only supported for allow-listed classes over object")),
                }
            }
            Global::Class(_) | Global::InertConstructor => self.alloc(Value::Object {
                class: global,
                args,
                state: None,
            }),
            // `OrderedDict()` / `defaultdict(factory)`: an empty dict (the factory is a class
            // we never call); SETITEMS fills it.
            Global::DictConstructor => self.alloc(Value::Dict(Vec::new())),
            Global::BuiltinsBytes => match args.as_slice() {
                [] => self.alloc(Value::Bytes(Vec::new())),
                _ => Err(self.err("bytes(...) with arguments is not supported (only the empty bytes() protocol 2 writes)")),
            },
            Global::NumpyNdarray | Global::BuiltinsObject | Global::Ufunc(_) => {
                Err(self.err(format!("{global:?} cannot be called in a model pickle")))
            }
        }
    }

    fn new_object(&mut self, class: Id, args: Id) -> Result<Value> {
        match self.global_of(class) {
            Some(class @ Global::Class(_)) => Ok(Value::Object {
                class,
                args: self.tuple_items(args, "NEWOBJ arguments")?,
                state: None,
            }),
            // A dict subclass (scikit-learn's Bunch): SETITEM fills it.
            Some(Global::DictConstructor) => Ok(Value::Dict(Vec::new())),
            _ => Err(self.err(format!(
                "NEWOBJ on a {}, which is not an allow-listed class",
                self.arena.get(class).kind()
            ))),
        }
    }

    /// BUILD: what Python does with `obj.__setstate__(state)` / `obj.__dict__.update(state)`.
    fn build(&mut self, target: Id, state: Id) -> Result<()> {
        match self.arena.get(target) {
            Value::Object { class, .. } => {
                let wrapper = *class == Global::Class(Class::JoblibArrayWrapper);
                if let Value::Object { state: slot, .. } = self.arena.get_mut(target)? {
                    *slot = Some(state);
                }
                if wrapper {
                    self.read_wrapped_array(target, state).map_err(|e| {
                        e.context(format!("joblib array at byte {}", self.op_offset))
                    })?;
                }
                Ok(())
            }
            Value::PendingArray => {
                let array = self
                    .array_from_state(state)
                    .map_err(|e| e.context(format!("pickle byte {}", self.op_offset)))?;
                let payload = match &array.data {
                    numpy::ArrayData::Raw(b) => b.len(),
                    numpy::ArrayData::Objects(v) => v.len() * 4,
                };
                self.charge(payload)?;
                *self.arena.get_mut(target)? = Value::Array(Box::new(array));
                Ok(())
            }
            Value::Dtype(dtype) => {
                let mut dtype = dtype.clone();
                dtype
                    .apply_state(&self.arena, state)
                    .map_err(|e| e.context(format!("pickle byte {}", self.op_offset)))?;
                *self.arena.get_mut(target)? = Value::Dtype(dtype);
                Ok(())
            }
            // A dict subclass's instance attributes (Bunch's deprecation table): not needed.
            Value::Dict(_) => Ok(()),
            other => Err(self.err(format!("BUILD on a {}, which takes no state", other.kind()))),
        }
    }

    /// joblib writes a `NumpyArrayWrapper` and, right after its BUILD, the array itself outside
    /// the pickle grammar: an alignment byte `p` (1..=16) and `p` padding bytes (only when the
    /// state has `numpy_array_alignment_bytes`, joblib >= 1.2), then the raw element bytes — or,
    /// for object arrays, a complete nested pickle stream (own memo, protocol 2 or 5).
    fn read_wrapped_array(&mut self, target: Id, state: Id) -> Result<()> {
        self.saw_joblib = true;
        let field = |name: &str| self.arena.dict_get(state, name);
        let Some(Value::Dtype(dtype)) = field("dtype").map(|id| self.arena.get(id)) else {
            return Err(Error::bad_format("array wrapper without a dtype"));
        };
        let dtype = dtype.clone();
        let shape = numpy::shape_from(
            &self.arena,
            field("shape").ok_or_else(|| Error::bad_format("array wrapper without a shape"))?,
        )?;
        let fortran = match field("order").and_then(|id| self.arena.as_str(id)) {
            Some("F") => true,
            Some("C") | None => false,
            Some(other) => return Err(Error::bad_format(format!("array wrapper order {other:?}"))),
        };
        if let Some(subclass) = field("subclass") {
            if !matches!(
                self.arena.get(subclass),
                Value::Global(Global::NumpyNdarray)
            ) {
                return Err(Error::new(
                    ErrorCode::UnsupportedVersion,
                    "joblib arrays of numpy subclasses (matrix, memmap) are not supported",
                ));
            }
        }
        let array = if dtype.kind == Kind::Object {
            if self.nested {
                return Err(Error::bad_format(
                    "joblib array wrapper inside a nested object-array stream",
                ));
            }
            // A complete pickle stream with its own stack and memo, sharing the arena.
            let saved = (
                std::mem::take(&mut self.stack),
                std::mem::take(&mut self.marks),
                std::mem::take(&mut self.memo),
                self.protocol,
            );
            self.nested = true;
            let result = self.run();
            self.nested = false;
            (self.stack, self.marks, self.memo, self.protocol) = saved;
            match self.arena.get(result?) {
                Value::Array(a) if a.shape == shape => NdArray::clone(a),
                other => {
                    return Err(Error::bad_format(format!(
                        "object-array stream holds a {} instead of an array of shape {shape:?}",
                        other.kind()
                    )))
                }
            }
        } else {
            let aligned = field("numpy_array_alignment_bytes")
                .is_some_and(|id| !matches!(self.arena.get(id), Value::None));
            if aligned {
                let padding = usize::from(self.u8()?);
                if !(1..=16).contains(&padding) {
                    return Err(Error::bad_format(format!(
                        "alignment padding of {padding} bytes (joblib writes 1 to 16)"
                    )));
                }
                self.take(padding, "alignment padding")?;
            }
            let len = numpy::element_count(&shape)?
                .checked_mul(dtype.itemsize)
                .ok_or_else(|| Error::bad_format("array byte size overflows"))?;
            let len = self.length(len as u64, "joblib array data")?;
            let bytes = self.take(len, "joblib array data")?.to_vec();
            NdArray::from_raw(dtype, shape, fortran, bytes)?
        };
        let payload = match &array.data {
            numpy::ArrayData::Raw(b) => b.len(),
            numpy::ArrayData::Objects(v) => v.len() * 4,
        };
        self.charge(payload)?;
        *self.arena.get_mut(target)? = Value::Array(Box::new(array));
        Ok(())
    }

    /// `ndarray.__setstate__((version, shape, dtype, is_fortran, data))`.
    fn array_from_state(&self, state: Id) -> Result<NdArray> {
        let items = self.tuple_items(state, "numpy array state")?;
        // Version 1 states have 5 items; very old numpy wrote 4 (no version).
        let (shape, dtype, fortran, data) = match items.as_slice() {
            [_, shape, dtype, fortran, data] | [shape, dtype, fortran, data] => {
                (*shape, *dtype, *fortran, *data)
            }
            _ => {
                return Err(Error::bad_format(format!(
                    "numpy array state has {} items, expected 5",
                    items.len()
                )))
            }
        };
        let shape = numpy::shape_from(&self.arena, shape)?;
        let Value::Dtype(dtype) = self.arena.get(dtype) else {
            return Err(Error::bad_format("numpy array state has no dtype"));
        };
        let fortran = match self.arena.get(fortran) {
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            _ => return Err(Error::bad_format("numpy array fortran flag is not a bool")),
        };
        match self.arena.get(data) {
            Value::Bytes(bytes) => NdArray::from_raw(dtype.clone(), shape, fortran, bytes.clone()),
            // Protocol 0/1 and some p2 writers store the data as a latin-1 str.
            Value::Str(text) => {
                let bytes = text
                    .chars()
                    .map(|c| u8::try_from(u32::from(c)).ok())
                    .collect::<Option<Vec<u8>>>()
                    .ok_or_else(|| Error::bad_format("numpy array data string is not latin-1"))?;
                NdArray::from_raw(dtype.clone(), shape, fortran, bytes)
            }
            Value::List(items) if dtype.kind == Kind::Object => {
                NdArray::from_objects(dtype.clone(), shape, items.clone())
            }
            other => Err(Error::bad_format(format!(
                "numpy array data must be bytes (or a list for object arrays), found {}",
                other.kind()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    fn run(bytes: &[u8]) -> Result<Document> {
        parse(bytes, &LoadLimits::default())
    }

    fn root(bytes: &[u8]) -> Value {
        let doc = run(bytes).unwrap();
        doc.arena.get(doc.root).clone()
    }

    #[test]
    fn integers_in_every_encoding() {
        assert!(matches!(root(b"\x80\x02K\xff."), Value::Int(255)));
        assert!(matches!(root(b"\x80\x02M\x34\x12."), Value::Int(0x1234)));
        assert!(matches!(
            root(b"\x80\x02J\xfe\xff\xff\xff."),
            Value::Int(-2)
        ));
        assert!(matches!(root(b"\x80\x02\x8a\x01\xff."), Value::Int(-1)));
        assert!(matches!(
            root(b"\x80\x02\x8a\x02\xff\x00."),
            Value::Int(255)
        ));
        assert!(matches!(root(b"\x80\x02\x8a\x00."), Value::Int(0)));
        // 2**64: nine bytes, does not fit i64.
        assert!(matches!(
            root(b"\x80\x02\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01."),
            Value::BigInt { negative: false }
        ));
        // -2**63 in nine bytes (sign-extended) still fits.
        assert!(matches!(
            root(b"\x80\x02\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x80\xff."),
            Value::Int(i64::MIN)
        ));
        assert!(matches!(root(b"\x80\x02I01\n."), Value::Bool(true)));
        assert!(matches!(root(b"\x80\x02L-12L\n."), Value::Int(-12)));
    }

    #[test]
    fn floats_are_big_endian() {
        match root(b"\x80\x02G\x3f\xf8\x00\x00\x00\x00\x00\x00.") {
            Value::Float(f) => assert_eq!(f, 1.5),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn memo_shares_one_value_and_frames_are_transparent() {
        // FRAME, EMPTY_LIST, MEMOIZE, EMPTY_DICT? no: list, memoize, GET 0, APPEND (list in itself).
        let doc = run(b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00]\x94h\x00a.").unwrap();
        match doc.arena.get(doc.root) {
            Value::List(items) => assert_eq!(items, &vec![doc.root]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn memo_indices_in_order_and_out_of_order() {
        let (a, b, c) = (Id(10), Id(11), Id(12));
        let mut memo = Memo::default();
        memo.insert(0, a);
        memo.insert(1, b);
        memo.insert(5, c);
        assert_eq!((memo.len(), memo.get(5), memo.get(3)), (3, Some(c), None));
        for i in 2..5 {
            memo.insert(i, a);
        }
        // Index 5 is written to the vector when the vector reaches it, and counted once.
        memo.insert(5, b);
        assert_eq!((memo.len(), memo.get(5)), (6, Some(b)));
        memo.insert(6, c);
        assert_eq!((memo.len(), memo.get(6)), (7, Some(c)));
        memo.insert(1, c);
        assert_eq!((memo.len(), memo.get(1)), (7, Some(c)));
        // The largest index a file can name costs one map entry, not a 4-billion-slot vector.
        let doc = run(b"\x80\x04K\x07r\xff\xff\xff\xff0j\xff\xff\xff\xff.").unwrap();
        assert!(matches!(doc.arena.get(doc.root), Value::Int(7)));
        let err = run(b"\x80\x04K\x07r\xff\xff\xff\xff0j\xfe\xff\xff\xff.").unwrap_err();
        assert!(
            err.message().contains("memo entry 4294967294 read before"),
            "{err}"
        );
    }

    #[test]
    fn dict_lookup_takes_the_last_duplicate() {
        let doc = run(b"\x80\x02}(X\x01\x00\x00\x00aK\x01X\x01\x00\x00\x00aK\x02u.").unwrap();
        let v = doc.arena.dict_get(doc.root, "a").unwrap();
        assert!(matches!(doc.arena.get(v), Value::Int(2)));
    }

    #[test]
    fn mutating_the_wrong_kind_is_an_error_with_an_offset() {
        let err = run(b"\x80\x02}K\x01a.").unwrap_err();
        assert_eq!(err.code(), ErrorCode::BadFormat);
        assert!(err.message().contains("byte 5: APPEND on a dict"), "{err}");
        let err = run(b"\x80\x02K\x01)\x81.").unwrap_err();
        assert!(err.message().contains("NEWOBJ on a int"), "{err}");
        let err = run(b"\x80\x02(K\x01u.").unwrap_err();
        assert!(err.message().contains("odd number"), "{err}");
    }

    #[test]
    fn pop_mark_and_dup() {
        match root(b"\x80\x02(K\x01K\x021K\x032\x86.") {
            Value::Tuple(items) => assert_eq!(items.len(), 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn latin1_bytes_of_protocol_2() {
        let doc = run(
            b"\x80\x02c_codecs\nencode\nX\x02\x00\x00\x00\xc3\xbfX\x06\x00\x00\x00latin1\x86R.",
        )
        .unwrap();
        match doc.arena.get(doc.root) {
            Value::Bytes(b) => assert_eq!(b, &vec![0xff]),
            other => panic!("{other:?}"),
        }
    }
}
