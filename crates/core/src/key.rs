//! Query keys: TanStack Query's `hashKey` and `partialMatchKey`, ported exactly.
//!
//! The shim matches our keys against the QueryClient's `query.queryHash`, so one byte of difference
//! between our hash and TanStack's would silently miss a query and leave it stale. That is why this
//! is a port of `JSON.stringify` with TanStack's replacer, not `serde_json::to_string`: JS number
//! formatting (`1e+21`, `10000000000000000`), integer-like object keys ordered first, and the other
//! keys sorted by UTF-16 code units. `tests/fixtures/keys.json` holds keys and the hashes that
//! `@tanstack/query-core` itself produced; the Rust and the JS test suites both check it.

use crate::scan::{Kind, Tape};
#[cfg(feature = "serde_json")]
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::cmp::Ordering;
#[cfg(feature = "serde_json")]
use std::fmt::Write;

#[cfg(feature = "serde_json")]
/// A query key as TanStack sees it: a JSON array (kept as a `Value` so objects and numbers survive).
pub type QueryKey = Value;

#[cfg(feature = "serde_json")]
/// TanStack's `hashKey(queryKey)`: `JSON.stringify` with plain-object keys sorted.
pub fn hash_key(key: &Value) -> String {
    let mut out = String::with_capacity(64);
    write_value(&mut out, key, false);
    out
}

#[cfg(feature = "serde_json")]
/// A value as JSON text for the core's text readers (options, scope, rules held as a `Value` by
/// tests and the trace replay): as [`hash_key`] writes it, except that integers are written
/// exactly (`u64::MAX` stays `18446744073709551615`, as the `Value` holds it).
pub fn value_json(v: &Value) -> String {
    let mut out = String::with_capacity(64);
    write_value(&mut out, v, true);
    out
}

#[cfg(feature = "serde_json")]
fn write_value(out: &mut String, v: &Value, exact: bool) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) if exact && (n.is_u64() || n.is_i64()) => {
            let (neg, m) = match n.as_u64() {
                Some(u) => (false, u),
                None => (true, n.as_i64().unwrap_or(0).unsigned_abs()),
            };
            if neg {
                out.push('-');
            }
            crate::scan::push_uint(out, m);
        }
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item, exact);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, k) in js_key_order(map).into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k);
                out.push(':');
                // The key came from this map, so the lookup cannot miss.
                if let Some(val) = map.get(k) {
                    write_value(out, val, exact);
                }
            }
            out.push('}');
        }
    }
}

#[cfg(feature = "serde_json")]
/// The order in which a JS engine enumerates an object built by inserting `keys.sort()`:
/// array-index keys first in numeric order, then the rest in sort order (UTF-16 code units).
pub fn js_key_order(map: &Map<String, Value>) -> Vec<&String> {
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort_unstable_by(|a, b| js_key_cmp(a, b));
    keys
}

/// Object `obj`'s members as `(key, position, value)` in the order a JS engine enumerates the
/// object `JSON.parse` builds (see [`js_key_cmp`]); duplicate keys stay adjacent, the last one last.
/// The one home of that order for [`write_tape`] and the rule compiler (`rules.rs`).
pub(crate) fn js_ordered_members<'t>(tape: &Tape, text: &'t str, obj: u32) -> Vec<(Cow<'t, str>, usize, u32)> {
    let mut members: Vec<(Cow<'t, str>, usize, u32)> =
        tape.members(obj).enumerate().map(|(n, (k, v))| (tape.str(text, k), n, v)).collect();
    crate::sorted::sort_by(&mut members, |a, b| js_key_cmp(&a.0, &b.0).then(a.1.cmp(&b.1)));
    members
}

/// ECMAScript array index: canonical decimal, 0 ..= 2^32 - 2.
fn array_index(k: &str) -> Option<u32> {
    if k.is_empty() || k.len() > 10 || (k.len() > 1 && k.starts_with('0')) {
        return None;
    }
    if !k.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = k.parse().ok()?;
    (n < u32::MAX as u64).then_some(n as u32)
}

/// `hashKey` of a value on the scanner's tape, appended to `out`: what `JSON.stringify` with
/// TanStack's replacer writes for what `JSON.parse` made of it (object keys in JS order, the last
/// of duplicate keys kept, numbers as JS prints them). Plain strings and canonical integers are
/// copied from the text as they are.
pub fn write_tape(out: &mut String, tape: &Tape, text: &str, i: u32) {
    match tape.kind(i) {
        Kind::Null => out.push_str("null"),
        Kind::True => out.push_str("true"),
        Kind::False => out.push_str("false"),
        Kind::Str => out.push_str(tape.raw(text, i)),
        Kind::StrEscaped => write_string(out, &tape.str(text, i)),
        Kind::Number => {
            let raw = tape.raw(text, i);
            if is_canonical_int(raw) {
                out.push_str(raw);
            } else {
                crate::num::write_js_text(out, raw);
            }
        }
        Kind::Array => {
            out.push('[');
            for (n, v) in tape.items(i).enumerate() {
                if n > 0 {
                    out.push(',');
                }
                write_tape(out, tape, text, v);
            }
            out.push(']');
        }
        Kind::Object => {
            let members = js_ordered_members(tape, text, i);
            out.push('{');
            let mut first = true;
            for (n, (k, _, v)) in members.iter().enumerate() {
                if members.get(n + 1).is_some_and(|next| next.0 == *k) {
                    continue; // JSON.parse keeps the last of duplicate keys
                }
                if !first {
                    out.push(',');
                }
                first = false;
                write_string(out, k);
                out.push(':');
                write_tape(out, tape, text, *v);
            }
            out.push('}');
        }
    }
}

/// A number literal that JS prints back exactly as written: an integer of at most 15 digits,
/// without a leading zero and not `-0`.
pub fn is_canonical_int(raw: &str) -> bool {
    is_canonical_int_bytes(raw.as_bytes())
}

/// [`is_canonical_int`] of a literal's bytes, inlined where an event reads one (its id): at opt z,
/// the shipped setting, the call and its slice patterns were ~45 instructions for a 3-digit id.
#[inline(always)]
pub fn is_canonical_int_bytes(raw: &[u8]) -> bool {
    let d = match raw.split_first() {
        Some((b'-', rest)) => rest,
        _ => raw,
    };
    match d.first() {
        None => false,
        // `0`, but not `-0` (JS prints it `0`) nor a leading zero.
        Some(b'0') => raw.len() == 1,
        Some(_) if d.len() > 15 => false,
        Some(_) => {
            // A plain loop that stops at the first non-digit (at opt z `bytes().all` with a
            // closure was two calls; at opt 3 a loop without the early exit was vectorized, which
            // costs more than the few digits of an id).
            for &c in d {
                if !c.is_ascii_digit() {
                    return false;
                }
            }
            true
        }
    }
}

/// `String(value)` for a primitive on the tape (the text a `{col}` splices into a longer string);
/// its `hashKey` for an array or object.
pub fn tape_text<'t>(tape: &Tape, text: &'t str, i: u32) -> Cow<'t, str> {
    match tape.kind(i) {
        Kind::Str | Kind::StrEscaped => tape.str(text, i),
        Kind::Number => number_text(tape, text, i),
        Kind::True => Cow::Borrowed("true"),
        Kind::False => Cow::Borrowed("false"),
        _ => {
            let mut s = String::new();
            write_tape(&mut s, tape, text, i);
            Cow::Owned(s)
        }
    }
}

/// `String(value)` of the number literal at node `i` (JS `String(JSON.parse(raw))`): a canonical
/// integer as written, any other literal through `num::write_js_text` (no double for at most 15
/// significant digits). A literal beyond the double range prints `null`, as `write_js` prints a
/// non-finite value (JS would print `Infinity`; JSON cannot write one back).
pub fn number_text<'t>(tape: &Tape, text: &'t str, i: u32) -> Cow<'t, str> {
    let raw = tape.raw(text, i);
    if is_canonical_int(raw) {
        Cow::Borrowed(raw)
    } else {
        let mut s = String::new();
        crate::num::write_js_text(&mut s, raw);
        Cow::Owned(s)
    }
}

/// The JS enumeration order of two object keys after `keys.sort()`: array indices first,
/// numerically, then the rest by UTF-16 code units.
pub fn js_key_cmp(a: &str, b: &str) -> Ordering {
    match (array_index(a), array_index(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.encode_utf16().cmp(b.encode_utf16()),
    }
}

/// JSON.stringify's string escaping (which serde_json shares except in details we pin here).
pub fn write_string(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    write_string_body(out, s);
    out.push('"');
}

/// [`write_string`] without the quotes: what goes between them (a writer whose interned prefix
/// ends with the opening quote, `tables.rs`, and closes it with what follows).
pub fn write_string_body(out: &mut String, s: &str) {
    if !needs_escape(s.as_bytes()) {
        // The common case (table names, ids, keys): copied whole.
        out.push_str(s);
        return;
    }
    // Runs of bytes that need no escape are copied whole; every escape is ASCII, so each run ends
    // on a character boundary.
    let mut run = 0;
    for (i, &c) in s.as_bytes().iter().enumerate() {
        let esc = match c {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0C => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1F => "",
            _ => continue,
        };
        out.push_str(s.get(run..i).unwrap_or_default());
        run = i + 1;
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(c >> 4)]));
            out.push(char::from(HEX[usize::from(c & 15)]));
        } else {
            out.push_str(esc);
        }
    }
    out.push_str(s.get(run..).unwrap_or_default());
}

/// Whether any byte of `b` is one JSON.stringify escapes (`"`, `\\`, a control character): the
/// scanner's stop test (`scan::stop`) finds one before its end.
#[inline(always)]
fn needs_escape(b: &[u8]) -> bool {
    crate::scan::stop(b, 0) < b.len()
}

#[cfg(feature = "serde_json")]
fn write_number(out: &mut String, n: &serde_json::Number) {
    if let Some(i) = n.as_i64() {
        // JS prints integers exactly only up to 2^53; beyond, it prints the nearest double.
        if i.unsigned_abs() <= (1u64 << 53) {
            let _ = write!(out, "{i}");
            return;
        }
    } else if let Some(u) = n.as_u64() {
        if u <= (1u64 << 53) {
            let _ = write!(out, "{u}");
            return;
        }
    }
    out.push_str(&js_number_to_string(n.as_f64().unwrap_or(0.0)));
}

/// ECMAScript `Number::toString(x)` for finite doubles (JSON never holds NaN or Infinity; they
/// print as `null`, what `JSON.stringify` writes). `num::write_js` appends it to a string.
pub fn js_number_to_string(x: f64) -> String {
    let mut s = String::new();
    crate::num::write_js(&mut s, x);
    s
}

#[cfg(feature = "serde_json")]
/// TanStack's `partialMatchKey(a, b)`: does filter key `b` match query key `a`?
/// Arrays and objects match when every entry of `b` matches the same entry of `a`
/// (so `['list']` matches `['list', 'wo']`, and `{page: 1}` matches `{page: 1, size: 20}`).
pub fn partial_match_key(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Array(xa), Value::Array(xb)) => {
            xb.len() <= xa.len() && xa.iter().zip(xb).all(|(x, y)| partial_match_key(x, y))
        }
        (Value::Object(ma), Value::Object(mb)) => {
            mb.iter().all(|(k, vb)| ma.get(k).is_some_and(|va| partial_match_key(va, vb)))
        }
        (Value::Array(xa), Value::Object(mb)) => mb
            .iter()
            .all(|(k, vb)| array_index(k).and_then(|i| xa.get(i as usize)).is_some_and(|va| partial_match_key(va, vb))),
        (Value::Object(ma), Value::Array(xb)) => {
            xb.iter().enumerate().all(|(i, vb)| ma.get(&i.to_string()).is_some_and(|va| partial_match_key(va, vb)))
        }
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

#[cfg(feature = "serde_json")]
/// The hash of `key`'s first `len` elements, used to find prefix relations without rescanning.
pub fn prefix_hash(key: &[Value], len: usize) -> String {
    let mut out = String::from("[");
    for (i, item) in key[..len.min(key.len())].iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_value(&mut out, item, false);
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A literal is canonical exactly when JS prints its number back as written (and it has at
    /// most 15 digits, so it is exact): signs, zeros, fractions, exponents, lengths 1 to 17.
    #[test]
    fn canonical_ints_are_what_js_prints_back() {
        let mut raws: Vec<String> =
            ["0", "-0", "00", "01", "-01", "7", "-7", "10", "1.0", "1e2", "1E2", "-", "", "12a", "1.5", "0.0"]
                .iter()
                .map(|r| r.to_string())
                .collect();
        for n in 1..=17 {
            let digits: String = (0..n).map(|i| char::from(b'1' + (i % 9) as u8)).collect();
            raws.push(digits.clone());
            raws.push(["-", &digits].concat());
            raws.push([&digits, ".5"].concat());
        }
        for raw in &raws {
            let js = raw.parse::<f64>().ok().map(js_number_to_string);
            let digits = raw.trim_start_matches('-').len();
            let want = js.as_deref() == Some(raw.as_str()) && digits <= 15 && !raw.contains(['.', 'e', 'E']);
            assert_eq!(is_canonical_int(raw), want, "{raw}");
        }
    }

    #[test]
    fn number_text_is_js_string_of_json_parse() {
        // Expected values from node: `String(JSON.parse(x))`; `1e400` is Infinity there, and
        // prints `null` here as every non-finite number does (`write_js`).
        let cases = [
            ("1.50", "1.5"),
            ("1e2", "100"),
            ("-0", "0"),
            ("0.30000000000000004", "0.30000000000000004"),
            ("1e400", "null"),
            ("-1e400", "null"),
            ("-1.5e-7", "-1.5e-7"),
            ("1.0e21", "1e+21"),
            ("123456789012345678", "123456789012345680"),
            ("42", "42"),
        ];
        for (raw, js) in cases {
            let mut tape = Tape::new();
            tape.scan(raw).unwrap();
            assert_eq!(number_text(&tape, raw, 0), js, "{raw}");
            assert_eq!(tape_text(&tape, raw, 0), js, "{raw}");
        }
    }

    #[test]
    fn write_string_escapes_as_json_stringify() {
        let mut out = String::new();
        write_string(&mut out, "a\"b\\c\u{1}\u{1f}\u{8}\u{c}\n\r\té€😀\u{7f}");
        assert_eq!(out, "\"a\\\"b\\\\c\\u0001\\u001f\\b\\f\\n\\r\\té€😀\u{7f}\"");
        out.clear();
        write_string(&mut out, "plain");
        assert_eq!(out, "\"plain\"");
        // The whole-copy fast path decides by the eight-byte stop test: one byte to escape at
        // every position of the first words and of the tail, in ASCII and multi-byte text.
        for fill in ["a", "é", "\u{7f}"] {
            for k in 0..20 {
                for esc in ["\"", "\\", "\n", "\u{0}", "\u{1f}", ""] {
                    let text = [fill.repeat(k).as_str(), esc, fill.repeat(3).as_str()].concat();
                    out.clear();
                    write_string(&mut out, &text);
                    assert_eq!(out, serde_json::to_string(&text).unwrap(), "{text:?}");
                }
            }
        }
    }
    use serde_json::json;

    #[test]
    fn numbers_print_like_javascript() {
        for (x, js) in [
            (1.0, "1"),
            (1.5, "1.5"),
            (-0.0, "0"),
            (0.1, "0.1"),
            (1e21, "1e+21"),
            (1e16, "10000000000000000"),
            (123456789012345680000.0, "123456789012345680000"),
            (1e-7, "1e-7"),
            (0.000001, "0.000001"),
            (1.2345e-10, "1.2345e-10"),
            (-2.5e30, "-2.5e+30"),
        ] {
            assert_eq!(js_number_to_string(x), js, "{x}");
        }
    }

    #[test]
    fn object_keys_sorted_with_indices_first() {
        let k = json!(["a", {"b": 1, "10": 2, "2": 3, "a": {"z": 1, "y": 2}}]);
        assert_eq!(hash_key(&k), r#"["a",{"2":3,"10":2,"a":{"y":2,"z":1},"b":1}]"#);
    }

    #[test]
    fn partial_match_is_prefix_and_subset() {
        assert!(partial_match_key(&json!(["list", "wo", "f1", {"page": 1}]), &json!(["list", "wo"])));
        assert!(partial_match_key(&json!(["x", {"page": 1, "size": 2}]), &json!(["x", {"page": 1}])));
        assert!(!partial_match_key(&json!(["x", {"page": 1}]), &json!(["x", {"page": 1, "size": 2}])));
        assert!(!partial_match_key(&json!(["list"]), &json!(["list", "wo"])));
        assert!(partial_match_key(&json!(["a"]), &json!([])));
    }
}
