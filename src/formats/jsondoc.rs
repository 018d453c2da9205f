//! A small JSON and UBJSON reader for XGBoost model files, into one document tree.
//!
//! Why not serde_json: numbers must stay text until we know their type (XGBoost thresholds are
//! float32 and must be parsed straight to f32, never through f64), UBJSON (XGBoost's default
//! since 2.1) has no well-kept Rust crate that reads its typed arrays, and one iterative reader
//! for both keeps nesting depth bounded by the limits rather than by the stack.
//!
//! UBJSON facts (draft 12, as XGBoost writes it): big-endian numbers; markers `Z T F i U I l L
//! d D S C H`; object keys are a length (an integer with its marker) then bytes; optimised
//! containers `[$<type>#<count>` hold raw elements of one type and have no end marker,
//! `[#<count>` hold marked elements and have no end marker either.

use std::borrow::Cow;

use crate::error::{Error, Result};
use crate::limits::LoadLimits;

/// A parsed value. JSON numbers keep their text (`Num`) so the reader of a field decides the
/// type; UBJSON typed arrays arrive as `F32s` / `F64s` / `Ints`.
#[derive(Debug, Clone, PartialEq)]
pub enum Doc<'a> {
    Null,
    Bool(bool),
    Int(i64),
    F32(f32),
    F64(f64),
    Num(&'a str),
    Str(Cow<'a, str>),
    Arr(Vec<Doc<'a>>),
    Obj(Vec<(Cow<'a, str>, Doc<'a>)>),
    F32s(Vec<f32>),
    F64s(Vec<f64>),
    Ints(Vec<i64>),
}

impl<'a> Doc<'a> {
    pub fn kind(&self) -> &'static str {
        match self {
            Doc::Null => "null",
            Doc::Bool(_) => "bool",
            Doc::Int(_) | Doc::F32(_) | Doc::F64(_) | Doc::Num(_) => "number",
            Doc::Str(_) => "string",
            Doc::Arr(_) | Doc::F32s(_) | Doc::F64s(_) | Doc::Ints(_) => "array",
            Doc::Obj(_) => "object",
        }
    }

    /// A member of an object.
    pub fn get(&self, key: &str) -> Option<&Doc<'a>> {
        match self {
            Doc::Obj(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Doc::Str(s) => Some(s),
            _ => None,
        }
    }

    /// An integer, from any number spelling that is one exactly.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Doc::Int(i) => Some(*i),
            Doc::Num(text) => text.parse().ok(),
            Doc::F32(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
            Doc::F64(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
            _ => None,
        }
    }

    /// A number as f32, parsed from its text when it came from JSON (correctly rounded, never
    /// through f64).
    pub fn as_f32(&self) -> Option<f32> {
        match self {
            Doc::Int(i) => Some(*i as f32),
            Doc::F32(f) => Some(*f),
            Doc::F64(f) => Some(*f as f32),
            Doc::Num(text) => text.parse().ok(),
            _ => None,
        }
    }

    /// Array elements as f32 (`what` names the field for errors).
    pub fn f32s(&self, what: &str) -> Result<Vec<f32>> {
        match self {
            Doc::F32s(v) => Ok(v.clone()),
            Doc::F64s(v) => Ok(v.iter().map(|&x| x as f32).collect()),
            Doc::Ints(v) => Ok(v.iter().map(|&x| x as f32).collect()),
            Doc::Arr(items) => items
                .iter()
                .map(|d| {
                    d.as_f32()
                        .ok_or_else(|| bad(format!("{what} holds a {} among numbers", d.kind())))
                })
                .collect(),
            other => Err(bad(format!(
                "{what} is a {}, expected an array",
                other.kind()
            ))),
        }
    }

    /// Array elements as integers.
    pub fn ints(&self, what: &str) -> Result<Vec<i64>> {
        match self {
            Doc::Ints(v) => Ok(v.clone()),
            Doc::Arr(items) => items
                .iter()
                .map(|d| {
                    d.as_i64()
                        .ok_or_else(|| bad(format!("{what} holds a non-integer {}", d.kind())))
                })
                .collect(),
            Doc::F32s(v) if v.is_empty() => Ok(Vec::new()),
            other => Err(bad(format!(
                "{what} is a {}, expected integers",
                other.kind()
            ))),
        }
    }
}

fn bad(message: impl Into<String>) -> Error {
    Error::bad_format(message.into())
}

/// Containers being filled, innermost last.
enum Frame<'a> {
    Arr(Vec<Doc<'a>>),
    Obj(Vec<(Cow<'a, str>, Doc<'a>)>, Option<Cow<'a, str>>),
    /// A UBJSON container with a count and no end marker: (array?, items left, items so far).
    Counted {
        remaining: u64,
        items: Vec<Doc<'a>>,
        keys: Option<Vec<Cow<'a, str>>>,
    },
}

/// Shared bookkeeping: depth and value limits.
struct Budget<'l> {
    limits: &'l LoadLimits,
    values: usize,
}

impl Budget<'_> {
    fn value(&mut self) -> Result<()> {
        self.values += 1;
        self.limits
            .check("number of values", self.limits.max_values, self.values)
    }

    fn depth(&self, depth: usize) -> Result<()> {
        self.limits
            .check("nesting depth", self.limits.max_depth, depth)
    }
}

/// Parse a JSON document.
pub fn parse_json<'a>(bytes: &'a [u8], limits: &LoadLimits) -> Result<Doc<'a>> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| bad(format!("JSON: invalid UTF-8 at byte {}", e.valid_up_to())))?;
    let b = text.as_bytes();
    let mut pos = 0usize;
    let mut stack: Vec<Frame<'a>> = Vec::new();
    let mut budget = Budget { limits, values: 0 };
    let skip_ws = |pos: &mut usize| {
        while b.get(*pos).is_some_and(|c| c.is_ascii_whitespace()) {
            *pos += 1;
        }
    };
    let err = |pos: usize, what: &str| bad(format!("JSON byte {pos}: {what}"));
    loop {
        skip_ws(&mut pos);
        // Inside an object, a key (or the end) comes first.
        if let Some(Frame::Obj(members, pending @ None)) = stack.last_mut() {
            match b.get(pos) {
                Some(b'}') => {
                    pos += 1;
                    let Some(Frame::Obj(members, _)) = stack.pop() else {
                        return Err(err(pos, "internal: frame"));
                    };
                    let done = Doc::Obj(members);
                    match finish(&mut stack, done) {
                        Some(root) => return end_json(b, pos, root),
                        None => {
                            after_value(b, &mut pos, &stack)?;
                            continue;
                        }
                    }
                }
                Some(b'"') => {
                    let key = json_string(text, &mut pos)?;
                    skip_ws(&mut pos);
                    if b.get(pos) != Some(&b':') {
                        return Err(err(pos, "expected ':' after an object key"));
                    }
                    pos += 1;
                    let _ = members;
                    *pending = Some(key);
                    continue;
                }
                _ => return Err(err(pos, "expected a key or '}'")),
            }
        }
        // The end of an array (after_value stopped in front of it).
        if matches!(stack.last(), Some(Frame::Arr(_))) && b.get(pos) == Some(&b']') {
            pos += 1;
            let Some(Frame::Arr(items)) = stack.pop() else {
                return Err(err(pos, "internal: frame"));
            };
            match finish(&mut stack, Doc::Arr(items)) {
                Some(root) => return end_json(b, pos, root),
                None => {
                    after_value(b, &mut pos, &stack)?;
                    continue;
                }
            }
        }
        let value = match b.get(pos) {
            None => return Err(err(pos, "unexpected end of input (truncated)")),
            Some(b'{') => {
                pos += 1;
                budget.depth(stack.len() + 1)?;
                stack.push(Frame::Obj(Vec::new(), None));
                continue;
            }
            Some(b'[') => {
                pos += 1;
                budget.depth(stack.len() + 1)?;
                skip_ws(&mut pos);
                if b.get(pos) == Some(&b']') {
                    pos += 1;
                    Doc::Arr(Vec::new())
                } else {
                    stack.push(Frame::Arr(Vec::new()));
                    continue;
                }
            }
            Some(b'"') => Doc::Str(json_string(text, &mut pos)?),
            Some(b't') if text.get(pos..pos + 4) == Some("true") => {
                pos += 4;
                Doc::Bool(true)
            }
            Some(b'f') if text.get(pos..pos + 5) == Some("false") => {
                pos += 5;
                Doc::Bool(false)
            }
            Some(b'n') if text.get(pos..pos + 4) == Some("null") => {
                pos += 4;
                Doc::Null
            }
            // XGBoost's JSON writer emits these non-standard literals (e.g. the NaN
            // split condition of a categorical node in 1.x).
            Some(b'N') if text.get(pos..pos + 3) == Some("NaN") => {
                pos += 3;
                Doc::Num("NaN")
            }
            Some(b'I' | b'-')
                if text
                    .get(pos..)
                    .is_some_and(|t| t.starts_with("Infinity") || t.starts_with("-Infinity")) =>
            {
                let len = if b.get(pos) == Some(&b'-') { 9 } else { 8 };
                let lexeme = text.get(pos..pos + len).unwrap_or("");
                pos += len;
                Doc::Num(lexeme)
            }
            Some(c) if *c == b'-' || c.is_ascii_digit() => {
                let start = pos;
                pos += 1;
                while b.get(pos).is_some_and(|c| {
                    c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-')
                }) {
                    pos += 1;
                }
                let lexeme = text.get(start..pos).unwrap_or("");
                if lexeme.parse::<f64>().is_err() {
                    return Err(err(start, &format!("{lexeme:?} is not a number")));
                }
                Doc::Num(lexeme)
            }
            Some(_) => return Err(err(pos, "unexpected character")),
        };
        budget.value()?;
        match finish(&mut stack, value) {
            Some(root) => return end_json(b, pos, root),
            None => after_value(b, &mut pos, &stack)?,
        }
    }
}

/// Put a finished value into the innermost container; the root comes back when there is none.
fn finish<'a>(stack: &mut [Frame<'a>], value: Doc<'a>) -> Option<Doc<'a>> {
    match stack.last_mut() {
        None => Some(value),
        Some(Frame::Arr(items)) => {
            items.push(value);
            None
        }
        Some(Frame::Obj(members, pending)) => {
            let key = pending.take().unwrap_or_default();
            members.push((key, value));
            None
        }
        Some(Frame::Counted { items, .. }) => {
            items.push(value);
            None
        }
    }
}

/// After a value inside a JSON container: a comma, or the container's end (arrays close here;
/// objects close at the top of the loop).
fn after_value(b: &[u8], pos: &mut usize, stack: &[Frame]) -> Result<()> {
    while b.get(*pos).is_some_and(|c| c.is_ascii_whitespace()) {
        *pos += 1;
    }
    match (stack.last(), b.get(*pos)) {
        (_, Some(b',')) => {
            *pos += 1;
            Ok(())
        }
        (Some(Frame::Obj(..)), Some(b'}')) => Ok(()),
        (Some(Frame::Arr(_)), Some(b']')) => Ok(()),
        (_, None) => Err(bad(format!(
            "JSON byte {pos}: unexpected end of input (truncated)"
        ))),
        _ => Err(bad(format!(
            "JSON byte {pos}: expected ',' or the end of the container"
        ))),
    }
}

fn end_json<'a>(b: &[u8], mut pos: usize, root: Doc<'a>) -> Result<Doc<'a>> {
    while b.get(pos).is_some_and(|c| c.is_ascii_whitespace()) {
        pos += 1;
    }
    if pos != b.len() {
        return Err(bad(format!("JSON byte {pos}: data after the document")));
    }
    Ok(root)
}

/// A JSON string starting at the opening quote; escapes decoded.
fn json_string<'a>(text: &'a str, pos: &mut usize) -> Result<Cow<'a, str>> {
    let b = text.as_bytes();
    let start = *pos + 1;
    let mut i = start;
    let mut owned: Option<String> = None;
    let mut run_start = start;
    loop {
        match b.get(i) {
            None => {
                return Err(bad(format!(
                    "JSON byte {start}: unterminated string (truncated)"
                )))
            }
            Some(b'"') => {
                let tail = text.get(run_start..i).unwrap_or("");
                *pos = i + 1;
                return Ok(match owned {
                    None => Cow::Borrowed(tail),
                    Some(mut s) => {
                        s.push_str(tail);
                        Cow::Owned(s)
                    }
                });
            }
            Some(b'\\') => {
                let s = owned.get_or_insert_with(String::new);
                s.push_str(text.get(run_start..i).unwrap_or(""));
                let escaped = b.get(i + 1).copied();
                i += 2;
                match escaped {
                    Some(b'"') => s.push('"'),
                    Some(b'\\') => s.push('\\'),
                    Some(b'/') => s.push('/'),
                    Some(b'b') => s.push('\u{8}'),
                    Some(b'f') => s.push('\u{c}'),
                    Some(b'n') => s.push('\n'),
                    Some(b'r') => s.push('\r'),
                    Some(b't') => s.push('\t'),
                    Some(b'u') => {
                        let hex = |at: usize| {
                            text.get(at..at + 4)
                                .and_then(|h| u32::from_str_radix(h, 16).ok())
                        };
                        let mut code = hex(i).ok_or_else(|| bad("JSON: bad \\u escape"))?;
                        i += 4;
                        if (0xD800..0xDC00).contains(&code) && text.get(i..i + 2) == Some("\\u") {
                            if let Some(low @ 0xDC00..=0xDFFF) = hex(i + 2) {
                                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                                i += 6;
                            }
                        }
                        s.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                    }
                    _ => return Err(bad(format!("JSON byte {i}: bad escape"))),
                }
                run_start = i;
            }
            Some(c) if *c < 0x20 => {
                return Err(bad(format!("JSON byte {i}: control character in a string")))
            }
            Some(_) => i += 1,
        }
    }
}

/// A UBJSON reader over a byte slice.
struct Ubj<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Ubj<'a> {
    fn err(&self, what: &str) -> Error {
        bad(format!("UBJSON byte {}: {what}", self.pos))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.b.len())
            .ok_or_else(|| self.err("unexpected end of input (truncated)"))?;
        let slice = self.b.get(self.pos..end).unwrap_or_default();
        self.pos = end;
        Ok(slice)
    }

    fn byte(&mut self) -> Result<u8> {
        let [c] = self.take(1)? else {
            return Err(self.err("truncated"));
        };
        Ok(*c)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// An integer payload for `marker`.
    fn int(&mut self, marker: u8) -> Result<i64> {
        Ok(match marker {
            b'i' => i64::from(i8::from_be_bytes(self.array()?)),
            b'U' => i64::from(self.byte()?),
            b'I' => i64::from(i16::from_be_bytes(self.array()?)),
            b'l' => i64::from(i32::from_be_bytes(self.array()?)),
            b'L' => i64::from_be_bytes(self.array()?),
            _ => return Err(self.err(&format!("expected an integer marker, found {marker:#04x}"))),
        })
    }

    /// A length: an integer with its marker, non-negative and at most the bytes left.
    fn length(&mut self) -> Result<usize> {
        let marker = self.byte()?;
        let n = self.int(marker)?;
        let left = self.b.len() - self.pos;
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= left)
            .ok_or_else(|| {
                self.err(&format!(
                    "length {n} is negative or past the end of the file"
                ))
            })
    }

    fn string(&mut self) -> Result<Cow<'a, str>> {
        let n = self.length()?;
        let bytes = self.take(n)?;
        std::str::from_utf8(bytes)
            .map(Cow::Borrowed)
            .map_err(|_| self.err("string is not UTF-8"))
    }

    /// A scalar value after its marker (containers are handled by the caller).
    fn scalar(&mut self, marker: u8) -> Result<Doc<'a>> {
        Ok(match marker {
            b'Z' => Doc::Null,
            b'T' => Doc::Bool(true),
            b'F' => Doc::Bool(false),
            b'i' | b'U' | b'I' | b'l' | b'L' => Doc::Int(self.int(marker)?),
            b'd' => Doc::F32(f32::from_be_bytes(self.array()?)),
            b'D' => Doc::F64(f64::from_be_bytes(self.array()?)),
            b'S' => Doc::Str(self.string()?),
            b'C' => Doc::Str(Cow::Owned(char::from(self.byte()?).to_string())),
            b'H' => {
                let text = self.string()?;
                match text {
                    Cow::Borrowed(t) => Doc::Num(t),
                    Cow::Owned(_) => return Err(self.err("bad high-precision number")),
                }
            }
            other => return Err(self.err(&format!("unknown marker {other:#04x}"))),
        })
    }

    /// A typed array of `count` raw elements of `marker`'s type.
    fn typed(&mut self, marker: u8, count: usize) -> Result<Doc<'a>> {
        let size = match marker {
            b'i' | b'U' => 1,
            b'I' => 2,
            b'l' | b'd' => 4,
            b'L' | b'D' => 8,
            other => {
                return Err(self.err(&format!(
                    "typed arrays of marker {other:#04x} are not supported"
                )))
            }
        };
        let bytes = self.take(
            count
                .checked_mul(size)
                .ok_or_else(|| self.err("typed array size overflows"))?,
        )?;
        let chunks = bytes.chunks_exact(size);
        Ok(match marker {
            b'd' => Doc::F32s(
                chunks
                    .map(|c| f32::from_be_bytes(c.try_into().unwrap_or_default()))
                    .collect(),
            ),
            b'D' => Doc::F64s(
                chunks
                    .map(|c| f64::from_be_bytes(c.try_into().unwrap_or_default()))
                    .collect(),
            ),
            // Integers decoded per width in one pass (through `int` per element they took a
            // sixth of loading an XGBoost UBJSON model natively).
            b'i' => Doc::Ints(bytes.iter().map(|&b| i64::from(b as i8)).collect()),
            b'U' => Doc::Ints(bytes.iter().map(|&b| i64::from(b)).collect()),
            b'I' => Doc::Ints(
                chunks
                    .map(|c| i64::from(i16::from_be_bytes(c.try_into().unwrap_or_default())))
                    .collect(),
            ),
            b'l' => Doc::Ints(
                chunks
                    .map(|c| i64::from(i32::from_be_bytes(c.try_into().unwrap_or_default())))
                    .collect(),
            ),
            _ => Doc::Ints(
                chunks
                    .map(|c| i64::from_be_bytes(c.try_into().unwrap_or_default()))
                    .collect(),
            ),
        })
    }
}

/// A UBJSON object starts with `{` and its first key's length marker (JSON has whitespace or a
/// quote there).
pub fn is_ubjson(bytes: &[u8]) -> bool {
    matches!(bytes, [b'{', b'i' | b'U' | b'I' | b'l' | b'L', ..])
}

/// Parse a UBJSON document.
pub fn parse_ubjson<'a>(bytes: &'a [u8], limits: &LoadLimits) -> Result<Doc<'a>> {
    let mut r = Ubj { b: bytes, pos: 0 };
    let mut stack: Vec<Frame<'a>> = Vec::new();
    let mut budget = Budget { limits, values: 0 };
    loop {
        // Close counted containers that are complete.
        if let Some(Frame::Counted { remaining: 0, .. }) = stack.last() {
            let Some(Frame::Counted { items, keys, .. }) = stack.pop() else {
                return Err(r.err("internal: frame"));
            };
            let done = match keys {
                None => Doc::Arr(items),
                Some(keys) => Doc::Obj(keys.into_iter().zip(items).collect()),
            };
            match finish(&mut stack, done) {
                Some(root) => return end_ubj(&r, root),
                None => continue,
            }
        }
        // Object keys (or the end) first.
        match stack.last_mut() {
            Some(Frame::Obj(_, pending @ None)) => {
                if r.b.get(r.pos) == Some(&b'}') {
                    r.pos += 1;
                    let Some(Frame::Obj(members, _)) = stack.pop() else {
                        return Err(r.err("internal: frame"));
                    };
                    match finish(&mut stack, Doc::Obj(members)) {
                        Some(root) => return end_ubj(&r, root),
                        None => continue,
                    }
                }
                let key = r.string()?;
                *pending = Some(key);
            }
            Some(Frame::Counted {
                remaining,
                keys: Some(keys),
                ..
            }) => {
                *remaining -= 1;
                let key = r.string()?;
                keys.push(key);
            }
            Some(Frame::Counted { remaining, .. }) => *remaining -= 1,
            _ => {}
        }
        let marker = r.byte()?;
        let value = match marker {
            b'N' => continue,
            b'[' | b'{' => {
                budget.depth(stack.len() + 1)?;
                let is_object = marker == b'{';
                let next = r.b.get(r.pos).copied();
                let typed = if next == Some(b'$') {
                    r.pos += 1;
                    Some(r.byte()?)
                } else {
                    None
                };
                let counted = if typed.is_some() || r.b.get(r.pos) == Some(&b'#') {
                    if r.byte()? != b'#' {
                        return Err(r.err("a typed container needs a count ('#')"));
                    }
                    Some(r.length()?)
                } else {
                    None
                };
                match (typed, counted, is_object) {
                    (Some(t), Some(n), false) => {
                        budget.values += n;
                        budget.value()?;
                        r.typed(t, n)?
                    }
                    (Some(_), _, true) => {
                        return Err(r.err("typed UBJSON objects are not supported"))
                    }
                    (None, Some(n), _) => {
                        stack.push(Frame::Counted {
                            remaining: n as u64,
                            items: Vec::new(),
                            keys: is_object.then(Vec::new),
                        });
                        continue;
                    }
                    (None, None, true) => {
                        stack.push(Frame::Obj(Vec::new(), None));
                        continue;
                    }
                    (None, None, false) => {
                        stack.push(Frame::Arr(Vec::new()));
                        continue;
                    }
                    (Some(_), None, _) => return Err(r.err("typed container without a count")),
                }
            }
            b']' => match stack.pop() {
                Some(Frame::Arr(items)) => Doc::Arr(items),
                _ => return Err(r.err("']' outside an array")),
            },
            b'}' => return Err(r.err("'}' where a value was expected")),
            other => r.scalar(other)?,
        };
        budget.value()?;
        if let Some(root) = finish(&mut stack, value) {
            return end_ubj(&r, root);
        }
    }
}

fn end_ubj<'a>(r: &Ubj<'a>, root: Doc<'a>) -> Result<Doc<'a>> {
    if r.pos != r.b.len() {
        return Err(r.err("data after the document"));
    }
    Ok(root)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn json_values_and_escapes() {
        let limits = LoadLimits::default();
        let doc = parse_json(
            br#" {"a": [1, -2.5e3, "x\"\u00e9\ud83d\ude00"], "b": {"c": true, "d": null}, "e": []} "#,
            &limits,
        )
        .unwrap();
        let a = doc.get("a").unwrap();
        assert!(a.ints("a").is_err());
        let Doc::Arr(items) = a else { panic!() };
        assert_eq!(items[1].as_f32(), Some(-2500.0));
        assert_eq!(items[2].as_str(), Some("x\"é😀"));
        assert_eq!(doc.get("b").unwrap().get("c"), Some(&Doc::Bool(true)));
        assert_eq!(doc.get("e"), Some(&Doc::Arr(vec![])));
        for bad in [
            &b"{"[..],
            b"[1,",
            b"{\"a\" 1}",
            b"[1] x",
            b"\"abc",
            b"[01x]",
            b"{\"a\":}",
        ] {
            assert!(parse_json(bad, &limits).is_err(), "{:?}", bad);
        }
    }

    #[test]
    fn ubjson_typed_and_counted_containers() {
        let limits = LoadLimits::default();
        // {"k": [$d#i2 1.5 -2.0], "n": [#U2 i5 SU1x]}
        let mut b = vec![b'{', b'U', 1, b'k', b'[', b'$', b'd', b'#', b'i', 2];
        b.extend(1.5f32.to_be_bytes());
        b.extend((-2.0f32).to_be_bytes());
        b.extend([
            b'U', 1, b'n', b'[', b'#', b'U', 2, b'i', 5, b'S', b'U', 1, b'x', b'}',
        ]);
        let doc = parse_ubjson(&b, &limits).unwrap();
        assert_eq!(doc.get("k"), Some(&Doc::F32s(vec![1.5, -2.0])));
        assert_eq!(
            doc.get("n"),
            Some(&Doc::Arr(vec![Doc::Int(5), Doc::Str(Cow::Borrowed("x"))]))
        );
        for end in 0..b.len() {
            assert!(parse_ubjson(&b[..end], &limits).is_err(), "cut at {end}");
        }
        // A count larger than the file.
        let huge = [b'[', b'$', b'd', b'#', b'L', 0x7f, 0, 0, 0, 0, 0, 0, 0];
        assert!(parse_ubjson(&huge, &limits).is_err());
    }

    #[test]
    fn ubjson_typed_integer_arrays_of_every_width() {
        let limits = LoadLimits::default();
        let cases: [(u8, Vec<u8>, Vec<i64>); 5] = [
            (b'i', vec![0xFF, 0x7F, 0x80], vec![-1, 127, -128]),
            (b'U', vec![0xFF, 0, 1], vec![255, 0, 1]),
            (
                b'I',
                [
                    (-2i16).to_be_bytes(),
                    300i16.to_be_bytes(),
                    i16::MIN.to_be_bytes(),
                ]
                .concat(),
                vec![-2, 300, -32768],
            ),
            (
                b'l',
                [
                    (-70000i32).to_be_bytes(),
                    1i32.to_be_bytes(),
                    i32::MAX.to_be_bytes(),
                ]
                .concat(),
                vec![-70000, 1, i64::from(i32::MAX)],
            ),
            (
                b'L',
                [
                    (-5i64).to_be_bytes(),
                    i64::MAX.to_be_bytes(),
                    0i64.to_be_bytes(),
                ]
                .concat(),
                vec![-5, i64::MAX, 0],
            ),
        ];
        for (marker, payload, want) in cases {
            let typed = [&[b'[', b'$', marker, b'#', b'U', 3][..], &payload].concat();
            assert_eq!(
                parse_ubjson(&typed, &limits).unwrap(),
                Doc::Ints(want.clone()),
                "{}",
                marker as char
            );
            // The same numbers one by one, each with its marker, read by the scalar path.
            let size = payload.len() / 3;
            let mut counted = vec![b'[', b'#', b'U', 3];
            for value in payload.chunks(size) {
                counted.push(marker);
                counted.extend(value);
            }
            let scalars: Vec<Doc> = want.into_iter().map(Doc::Int).collect();
            assert_eq!(
                parse_ubjson(&counted, &limits).unwrap(),
                Doc::Arr(scalars),
                "{}",
                marker as char
            );
            assert!(parse_ubjson(&typed[..typed.len() - 1], &limits).is_err());
        }
    }
}
