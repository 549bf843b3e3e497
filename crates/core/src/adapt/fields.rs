//! Helpers shared by the adapters (reading fields): typed fields off the scanner's tape, ids, and error
//! texts built without `core::fmt` (static words plus parameters).

use crate::error::{Error, ErrorCode};
use crate::hash::same_bytes;
use crate::key::{is_canonical_int, is_canonical_int_bytes, tape_text};
use crate::scan::{KeyInfo, Kind, Tape};
use std::borrow::Cow;

/// The payload being adapted: the scanned text and its tape.
#[derive(Clone, Copy)]
pub struct In<'a> {
    pub tape: &'a Tape,
    pub text: &'a str,
}

impl<'a> In<'a> {
    #[inline(always)]
    pub fn get(&self, obj: u32, key: &str) -> Option<u32> {
        self.tape.get(self.text, obj, key)
    }
    /// A member that is present and not `null`.
    pub fn some(&self, obj: u32, key: &str) -> Option<u32> {
        self.tape.get_some(self.text, obj, key)
    }
    #[inline(always)]
    pub fn kind(&self, v: u32) -> Kind {
        self.tape.kind(v)
    }
    pub fn str(&self, v: u32) -> Option<Cow<'a, str>> {
        self.tape.is_str(v).then(|| self.tape.str(self.text, v))
    }
    #[inline(always)]
    pub fn raw(&self, v: u32) -> &'a str {
        self.tape.raw(self.text, v)
    }
    #[inline(always)]
    pub fn is_empty_object(&self, obj: Option<u32>) -> bool {
        // A container's subtree ends right after it when it holds nothing.
        obj.is_none_or(|o| self.tape.value_node(o).next <= o.saturating_add(1))
    }
}

/// The bytes of string node `i` between its quotes when it holds no escape (its decoded text);
/// `None` for an escaped string or any other node.
#[inline(always)]
pub fn plain_bytes<'t>(tape: &Tape, text: &'t str, i: u32) -> Option<&'t [u8]> {
    let n = tape.value_node(i);
    if n.kind != Kind::Str {
        return None;
    }
    text.as_bytes().get(n.start as usize + 1..(n.end as usize).saturating_sub(1))
}

/// The value's JSON text as it was sent, as bytes (no character-boundary checks).
#[inline(always)]
pub fn raw_bytes<'t>(tape: &Tape, text: &'t str, i: u32) -> &'t [u8] {
    let n = tape.value_node(i);
    text.as_bytes().get(n.start as usize..n.end as usize).unwrap_or(&[])
}

/// Concatenates static words and parameters into an error text.
pub fn cat(parts: &[&str]) -> String {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        s.push_str(p);
    }
    s
}

/// The JSON type's name, for error messages.
pub fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Null => "null",
        Kind::True | Kind::False => "a boolean",
        Kind::Number => "a number",
        Kind::Str | Kind::StrEscaped => "a string",
        Kind::Array => "an array",
        Kind::Object => "an object",
    }
}

/// `String(id)` for an id value: strings (non-empty) as they are, numbers as JS prints them.
/// The common ids (a string without escapes, an integer JS prints as written) are read inline.
#[inline(always)]
pub fn id_text<'a>(p: &In<'a>, v: u32) -> Option<Cow<'a, str>> {
    match p.tape.value_kind(v) {
        Kind::Str => p.tape.plain_str(p.text, v).filter(|s| !s.is_empty()).map(Cow::Borrowed),
        Kind::Number => {
            // The span read once, checked as bytes, sliced as text only when it is the id.
            let n = p.tape.value_node(v);
            let span = n.start as usize..n.end as usize;
            match p.text.as_bytes().get(span.clone()) {
                Some(raw) if is_canonical_int_bytes(raw) => match p.text.get(span) {
                    Some(raw) => Some(Cow::Borrowed(raw)),
                    None => id_text_rest(p, v),
                },
                _ => id_text_rest(p, v),
            }
        }
        _ => id_text_rest(p, v),
    }
}

#[inline(never)]
fn id_text_rest<'a>(p: &In<'a>, v: u32) -> Option<Cow<'a, str>> {
    match p.kind(v) {
        Kind::Str | Kind::StrEscaped => p.str(v).filter(|s| !s.is_empty()),
        Kind::Number => Some(tape_text(p.tape, p.text, v)),
        _ => None,
    }
}

/// The row's id: the first `primary_key` column with a string or number value.
pub fn row_id<'a>(p: &In<'a>, row: Option<u32>, primary_key: &[String]) -> Option<Cow<'a, str>> {
    let row = row?;
    primary_key.iter().find_map(|c| p.get(row, c).and_then(|v| id_text(p, v)))
}

/// `factoryId` -> `factory_id`.
pub fn snake_case(name: &str) -> String {
    let mut s = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            s.push('_');
            s.push(c.to_ascii_lowercase());
        } else {
            s.push(c);
        }
    }
    s
}

/// An optional object member; present-but-not-an-object (null counts as absent) is a type error.
pub fn opt_object(p: &In<'_>, o: u32, name: &str, src: &str) -> Result<Option<u32>, Error> {
    opt_object_of(p, p.get(o, name), name, src)
}

/// [`opt_object`] for a member already found. Inlined, with the error built out of line: at opt z,
/// the shipped setting, the call and its large `Result` cost more than the check (issue 10).
#[inline(always)]
pub fn opt_object_of(p: &In<'_>, member: Option<u32>, name: &str, src: &str) -> Result<Option<u32>, Error> {
    // `match`, not `map`: at opt z the combinator was a call of its own.
    let Some(v) = member else { return Ok(None) };
    match p.tape.value_kind(v) {
        Kind::Null => Ok(None),
        Kind::Object => Ok(Some(v)),
        k => Err(not_an_object(name, src, k)),
    }
}

#[cold]
#[inline(never)]
fn not_an_object(name: &str, src: &str, k: Kind) -> Error {
    Error::new(ErrorCode::WrongType, src, cat(&["`", name, "` must be an object, got ", kind_name(k)]))
}

/// The `version` of a row or event when it is a finite number. The common one, an integer of at
/// most 15 digits (exact as a double), is read inline; others by the number reader, out of line (at
/// opt z, the shipped setting, `Tape::f64` was three calls for a one-digit version; issue 10).
#[inline(always)]
pub fn version_of(p: &In<'_>, v: Option<u32>) -> Option<f64> {
    let v = match v {
        Some(v) if p.tape.value_kind(v) == Kind::Number => v,
        _ => return None,
    };
    let raw = raw_bytes(p.tape, p.text, v);
    if !raw.is_empty() && raw.len() <= 15 {
        let mut n = 0u64;
        let mut digits = true;
        for &c in raw {
            digits &= c.is_ascii_digit();
            n = n.wrapping_mul(10).wrapping_add(u64::from(c.wrapping_sub(b'0')));
        }
        if digits {
            return Some(n as f64);
        }
    }
    version_rest(p, v)
}

#[inline(never)]
fn version_rest(p: &In<'_>, v: u32) -> Option<f64> {
    p.tape.f64(p.text, v).filter(|x| x.is_finite())
}

/// A required non-empty string naming the table/type/entity.
pub fn table_name<'a>(p: &In<'a>, o: u32, name: &str, src: &str) -> Result<Cow<'a, str>, Error> {
    table_name_of(p, p.get(o, name), name, src)
}

/// [`table_name`] for a member already found. A non-empty string without escapes is read inline;
/// everything else (escapes, errors) out of line.
#[inline(always)]
pub fn table_name_of<'a>(p: &In<'a>, member: Option<u32>, name: &str, src: &str) -> Result<Cow<'a, str>, Error> {
    // The node read once and the text sliced here (at opt z `and_then` with `plain_str` was
    // three calls).
    if let Some(v) = member {
        let n = p.tape.value_node(v);
        if n.kind == Kind::Str && n.end.wrapping_sub(n.start) > 2 {
            if let Some(s) = p.text.get(n.start as usize + 1..n.end as usize - 1) {
                return Ok(Cow::Borrowed(s));
            }
        }
    }
    table_name_rest(p, member, name, src)
}

#[inline(never)]
fn table_name_rest<'a>(p: &In<'a>, member: Option<u32>, name: &str, src: &str) -> Result<Cow<'a, str>, Error> {
    match member.filter(|&v| p.kind(v) != Kind::Null) {
        None => Err(Error::new(ErrorCode::MissingTable, src, cat(&["`", name, "` is missing"]))),
        Some(v) => match p.str(v) {
            Some(s) if !s.is_empty() => Ok(s),
            Some(_) => Err(Error::new(ErrorCode::MissingTable, src, cat(&["`", name, "` is empty"]))),
            None => Err(Error::new(
                ErrorCode::WrongType,
                src,
                cat(&["`", name, "` must be a string, got ", kind_name(p.kind(v))]),
            )),
        },
    }
}

/// Whether two values on the tape are equal as JS sees parsed JSON (strings by their text, numbers
/// by value, arrays and objects by their `hashKey`).
pub fn values_equal(p: &In<'_>, a: u32, b: u32) -> bool {
    same_bytes(raw_bytes(p.tape, p.text, a), raw_bytes(p.tape, p.text, b)) || equal_unlike_texts(p, a, b)
}

/// [`values_equal`] of two values whose JSON texts differ.
fn equal_unlike_texts(p: &In<'_>, a: u32, b: u32) -> bool {
    match (p.kind(a), p.kind(b)) {
        // Without escapes a string's text is its value.
        (Kind::Str, Kind::Str) => false,
        (Kind::Str | Kind::StrEscaped, Kind::Str | Kind::StrEscaped) => p.str(a) == p.str(b),
        (Kind::Number, Kind::Number) => {
            let (x, y) = (p.raw(a), p.raw(b));
            // Two integers JS prints as written are two numbers (15 digits are exact).
            !(is_canonical_int(x) && is_canonical_int(y))
                && crate::scan::parse_number(x) == crate::scan::parse_number(y)
        }
        (Kind::Array, Kind::Array) | (Kind::Object, Kind::Object) => {
            tape_text(p.tape, p.text, a) == tape_text(p.tape, p.text, b)
        }
        _ => false,
    }
}

/// Sets `(name, value)` in a changed-fields list, a later entry for the same name replacing the
/// earlier one (JSON.parse keeps the last of duplicate keys).
pub fn set_changed(p: &In<'_>, list: &mut Vec<(u32, u32)>, name: u32, value: Option<u32>) {
    let same = |k: u32| p.raw(k) == p.raw(name) || p.tape.str(p.text, k) == p.tape.str(p.text, name);
    let at = list.iter().position(|(k, _)| same(*k));
    match (at, value) {
        (Some(i), Some(v)) => list[i] = (name, v),
        (Some(i), None) => {
            list.remove(i);
        }
        (None, Some(v)) => list.push((name, v)),
        (None, None) => {}
    }
}

/// The columns of an UPDATE's `new` row whose values differ from its `old` row, as (name, value)
/// nodes of `new` in `out`; `false` when `old` holds only primary key columns (without REPLICA
/// IDENTITY FULL nothing can be diffed: the changed fields are unknown and the doc is refetched).
/// A column missing from `old` counts as changed; duplicate keys read as `JSON.parse` reads them.
pub fn diff_rows(p: &In<'_>, new: Option<u32>, old: u32, primary_key: &[String], out: &mut Vec<(u32, u32)>) -> bool {
    out.clear();
    if !whole_old_row(p.tape.members(old).map(|(k, _)| primary_key.iter().any(|c| p.tape.str_eq(p.text, k, c)))) {
        return false;
    }
    let Some(new) = new else { return true };
    if diff_in_order(p, new, old, out) {
        return true;
    }
    out.clear();
    diff_by_name(p, new, old, out);
    true
}

/// The whole-old-row rule, its one home: an UPDATE's `old` is a whole row (REPLICA IDENTITY FULL),
/// whose changed columns can be diffed, when it has a member beyond the primary key. `is_key`: for
/// each of its members, whether it is a primary key column ([`diff_rows`] reads them off the tape;
/// the object path's `slots.rs` has the member count the shim gives and which id columns it holds).
pub fn whole_old_row(mut is_key: impl Iterator<Item = bool>) -> bool {
    is_key.any(|k| !k)
}

/// [`diff_rows`] for any shape: each member of `new` looked up in `old` by name.
fn diff_by_name(p: &In<'_>, new: u32, old: u32, out: &mut Vec<(u32, u32)>) {
    for (k, v) in p.tape.members(new) {
        let name = p.tape.str(p.text, k);
        let same = p.get(old, &name).is_some_and(|ov| values_equal(p, ov, v));
        set_changed(p, out, k, (!same).then_some(v));
    }
}

/// The common case of [`diff_rows`]: `old` lists the same keys as `new`, in the same order, none
/// escaped and none twice, so member `i` of one pairs with member `i` of the other and the changed
/// list is the changed members in order. `false` (with `out` partly filled) for any other shape.
fn diff_in_order(p: &In<'_>, new: u32, old: u32, out: &mut Vec<(u32, u32)>) -> bool {
    let mut olds = p.tape.keyed_members(old);
    // Which classes of key (a hash of its length and head word) were seen: only a key whose class
    // was seen before is compared with the earlier keys for a duplicate. Two words, not a `u128`:
    // a 128-bit shift is a compiler-builtins call on wasm and x86_64 alike (issue 10).
    let mut seen = [0u64; 2];
    for (v, key) in p.tape.keyed_members(new) {
        let Some((ov, okey)) = olds.next() else { return false };
        if !same_plain_key(p, key, okey) {
            return false;
        }
        let class = (key.head ^ u64::from(key.len)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 57;
        let (word, bit) = (usize::from(class >= 64), 1u64 << (class & 63));
        if seen[word] & bit != 0
            && p.tape.keyed_members(new).take_while(|&(e, _)| e != v).any(|(_, e)| same_plain_key(p, e, key))
        {
            return false;
        }
        seen[word] |= bit;
        if !values_equal(p, v, ov) {
            out.push((v | crate::scan::KEY, v));
        }
    }
    olds.next().is_none()
}

/// Whether two member keys (the scanner's `KeyInfo`) are the same text without escapes: length and
/// head word first, the bytes past eight only when those agree.
#[inline(always)]
fn same_plain_key(p: &In<'_>, x: KeyInfo, y: KeyInfo) -> bool {
    if x.escaped || y.escaped || x.len != y.len || x.head != y.head {
        return false;
    }
    let past_eight = |k: KeyInfo| {
        let s = k.start as usize + 9;
        p.text.as_bytes().get(s..s.wrapping_add(k.len as usize).wrapping_sub(8))
    };
    x.len <= 8 || past_eight(x) == past_eight(y)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The in-order fast path gives what the lookup by name gives, on shapes that take it and on
    /// shapes that must not (duplicates, escapes, reordering, extra or missing columns).
    #[test]
    fn diff_in_order_matches_diff_by_name() {
        let cases = [
            (r#"{"id":1,"a":"x","b":2,"c":[1,{"z":1,"y":2}]}"#, r#"{"id":1,"a":"y","b":2.0,"c":[1,{"y":2,"z":1}]}"#),
            (r#"{"id":1,"a":1,"a":2}"#, r#"{"id":1,"a":2,"a":1}"#),
            (r#"{"id":1,"a":1,"a":2}"#, r#"{"id":1,"a":1,"a":2}"#),
            (r#"{"id":1,"a":2,"b":1,"a":1}"#, r#"{"id":1,"a":1,"b":1,"a":2}"#),
            (r#"{"id":1,"ab":1,"ba":2,"ab":3}"#, r#"{"id":1,"ab":3,"ba":2,"ab":1}"#),
            (r#"{"id":1,"\u0061":1,"b":2}"#, r#"{"id":1,"a":2,"b":2}"#),
            (r#"{"id":1,"b":1,"a":2}"#, r#"{"id":1,"a":2,"b":3}"#),
            (r#"{"id":1,"a":1}"#, r#"{"id":1,"a":1,"b":2}"#),
            (r#"{"id":1,"a":1,"b":2}"#, r#"{"id":1,"a":1}"#),
            (r#"{"id":1,"s":"\u00e9"}"#, r#"{"id":1,"s":"é"}"#),
            (r#"{}"#, r#"{"id":1,"a":1}"#),
        ];
        for (new, old) in cases {
            let text = ["[", new, ",", old, "]"].concat();
            let mut tape = Tape::new();
            tape.scan(&text).unwrap();
            let p = In { tape: &tape, text: &text };
            let (n, o) = (1, tape.node(1).next);
            let (mut fast, mut slow) = (Vec::new(), Vec::new());
            assert!(diff_rows(&p, Some(n), o, &["id".to_string()], &mut fast), "{text}");
            diff_by_name(&p, n, o, &mut slow);
            let names =
                |l: &[(u32, u32)]| l.iter().map(|&(k, v)| (tape.str(&text, k).into_owned(), v)).collect::<Vec<_>>();
            assert_eq!(names(&fast), names(&slow), "{text}");
        }
    }

    /// `values_equal` against JSON.parse equality (serde_json's exact floats, decoded strings,
    /// `hashKey` of containers): strings of 0 to 20 bytes differing at every byte, escaped and
    /// plain spellings, integers around 15 digits (16 and more are not all exact), other number
    /// spellings, and values of different types.
    #[test]
    fn values_equal_is_equality_of_parsed_json() {
        let mut values: Vec<String> = Vec::new();
        for n in 0..=20usize {
            let base: String = (0..n).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
            values.push(["\"", &base, "\""].concat());
            for i in 0..n {
                let mut b = base.clone().into_bytes();
                b[i] = b'Z';
                values.push(["\"", std::str::from_utf8(&b).unwrap_or_default(), "\""].concat());
            }
            if n > 0 {
                values.push(["\"\\u0061", &base[1..], "\""].concat());
            }
        }
        let numbers = [
            "0",
            "-0",
            "0.0",
            "1",
            "1.0",
            "10",
            "1e1",
            "1E1",
            "100",
            "-1",
            "123456789012345",
            "123456789012346",
            "1234567890123456",
            "1234567890123457",
            "12345678901234567",
            "12345678901234568",
            "9007199254740993",
            "9007199254740992",
            "0.1",
            "0.10",
        ];
        values.extend(numbers.iter().map(|n| n.to_string()));
        values.extend(
            ["true", "false", "null", "[]", "[1]", "[1.0]", "{}", "{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}"]
                .iter()
                .map(|v| v.to_string()),
        );
        let text = ["[", &values.join(","), "]"].concat();
        let mut tape = Tape::new();
        tape.scan(&text).unwrap();
        let p = In { tape: &tape, text: &text };
        let nodes: Vec<u32> = tape.items(0).collect();
        let parsed: Vec<serde_json::Value> = values.iter().map(|v| serde_json::from_str(v).unwrap()).collect();
        let same = |a: &serde_json::Value, b: &serde_json::Value| match (a, b) {
            (serde_json::Value::Number(x), serde_json::Value::Number(y)) => x.as_f64() == y.as_f64(),
            (serde_json::Value::Array(_) | serde_json::Value::Object(_), _) => {
                crate::key::hash_key(a) == crate::key::hash_key(b)
            }
            _ => a == b,
        };
        for (i, &a) in nodes.iter().enumerate() {
            for (j, &b) in nodes.iter().enumerate() {
                assert_eq!(values_equal(&p, a, b), same(&parsed[i], &parsed[j]), "{} {}", values[i], values[j]);
            }
        }
    }

    #[test]
    fn an_old_row_of_primary_key_columns_cannot_be_diffed() {
        let text = r#"[{"id":1,"a":2},{"id":1}]"#;
        let mut tape = Tape::new();
        tape.scan(text).unwrap();
        let p = In { tape: &tape, text };
        assert!(!diff_rows(&p, Some(1), tape.node(1).next, &["id".to_string()], &mut Vec::new()));
    }
}
