//! The one JSON scanner: every payload, wire frame and option passes through it once.
//!
//! One pass over the bytes validates the text (it accepts exactly what `JSON.parse` accepts, up to
//! a nesting depth of [`MAX_DEPTH`]) and records each value's span into a reusable [`Tape`]: no
//! tree is built, no string is decoded and no number converted until routing asks for that one
//! value (simdjson's On-Demand idea). Containers record where their subtree ends, so skipping a
//! column nobody reads is one step. The tape's vectors keep their capacity between payloads, so a
//! steady stream allocates nothing here.
//!
//! Where this differs from serde_json (on purpose, to match `JSON.parse`): a lone surrogate escape
//! (`"\ud800"`) is accepted (decoded as U+FFFD), and a number too large for a double (`1e400`) is
//! accepted (it reads as infinity, which JSON.stringify would write as `null`). Issue 10: a payload
//! with either in a column nothing reads was lost when it arrived as a WebSocket frame.
//! Nesting is bounded by an explicit stack, never by recursion, so no input can overflow the stack.

use std::borrow::Cow;

/// Deepest nesting accepted (arrays and objects). `JSON.parse` goes deeper; nothing querywire
/// reads is nested beyond a few levels, and the bound keeps every later walk cheap.
pub const MAX_DEPTH: usize = 512;

/// A value's JSON type as the scanner saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Null,
    True,
    False,
    Number,
    /// A string without escapes: its text is the span minus the quotes.
    Str,
    /// A string with at least one escape: decode it with [`Tape::str`].
    StrEscaped,
    Array,
    Object,
}

/// One value on the tape: its kind, its byte span in the text, and the index of the first node
/// after its subtree (for scalars, the next index).
#[derive(Debug, Clone, Copy)]
pub struct Node {
    pub kind: Kind,
    pub start: u32,
    pub end: u32,
    pub next: u32,
}

/// Why a text is not JSON: a static description and the byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanError {
    pub what: &'static str,
    pub at: usize,
}

impl ScanError {
    /// `"<what> at byte <at>"`, built without `core::fmt`.
    pub fn message(&self, prefix: &str) -> String {
        let mut m = String::with_capacity(prefix.len() + self.what.len() + 16);
        m.push_str(prefix);
        m.push_str(self.what);
        m.push_str(" at byte ");
        push_uint(&mut m, self.at as u64);
        m
    }
}

/// Appends the decimal digits of `n` (no `core::fmt`).
pub fn push_uint(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or("0"));
}

/// The scanned spans of one text. Node 0 is the root value.
#[derive(Debug, Default, Clone)]
pub struct Tape {
    nodes: Vec<Node>,
    stack: Vec<u32>,
}

fn err<T>(what: &'static str, at: usize) -> Result<T, ScanError> {
    Err(ScanError { what, at })
}

fn ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

impl Tape {
    pub fn new() -> Tape {
        Tape::default()
    }

    /// Scans `text`; on success the tape describes it (node 0 is the root).
    pub fn scan(&mut self, text: &str) -> Result<(), ScanError> {
        self.nodes.clear();
        self.stack.clear();
        let b = text.as_bytes();
        if b.len() >= u32::MAX as usize {
            return err("text too long", 0);
        }
        let mut i = ws(b, 0);
        'value: loop {
            // A value starts at `i` (whitespace skipped).
            let Some(&c) = b.get(i) else { return err("unexpected end of text", i) };
            let idx = self.nodes.len() as u32;
            match c {
                b'{' | b'[' => {
                    if self.stack.len() >= MAX_DEPTH {
                        return err("nesting too deep", i);
                    }
                    let kind = if c == b'{' { Kind::Object } else { Kind::Array };
                    self.nodes.push(Node { kind, start: i as u32, end: 0, next: 0 });
                    self.stack.push(idx);
                    i = ws(b, i + 1);
                    let close = if c == b'{' { b'}' } else { b']' };
                    if b.get(i) == Some(&close) {
                        // Empty container: closed by the loop below.
                    } else if c == b'{' {
                        i = self.key(b, i)?;
                        continue 'value;
                    } else {
                        continue 'value;
                    }
                }
                b'"' => {
                    let (end, escaped) = string(b, i)?;
                    let kind = if escaped { Kind::StrEscaped } else { Kind::Str };
                    self.nodes.push(Node { kind, start: i as u32, end: end as u32, next: idx + 1 });
                    i = end;
                }
                b't' | b'f' | b'n' => {
                    let (word, kind): (&[u8], Kind) = match c {
                        b't' => (b"true", Kind::True),
                        b'f' => (b"false", Kind::False),
                        _ => (b"null", Kind::Null),
                    };
                    if !b[i..].starts_with(word) {
                        return err("invalid literal", i);
                    }
                    let end = i + word.len();
                    self.nodes.push(Node { kind, start: i as u32, end: end as u32, next: idx + 1 });
                    i = end;
                }
                b'-' | b'0'..=b'9' => {
                    let end = number(b, i)?;
                    self.nodes.push(Node { kind: Kind::Number, start: i as u32, end: end as u32, next: idx + 1 });
                    i = end;
                }
                _ => return err("expected a value", i),
            }
            // After a value: close containers, or move to the next element / member.
            loop {
                i = ws(b, i);
                let Some(&top) = self.stack.last() else {
                    return if i == b.len() { Ok(()) } else { err("unexpected text after the value", i) };
                };
                let is_obj = self.nodes[top as usize].kind == Kind::Object;
                match b.get(i) {
                    Some(b',') => {
                        i = ws(b, i + 1);
                        if is_obj {
                            i = self.key(b, i)?;
                        }
                        continue 'value;
                    }
                    Some(b'}') if is_obj => {}
                    Some(b']') if !is_obj => {}
                    Some(_) => return err(if is_obj { "expected ',' or '}'" } else { "expected ',' or ']'" }, i),
                    None => return err("unexpected end of text", i),
                }
                let next = self.nodes.len() as u32;
                let n = &mut self.nodes[top as usize];
                n.end = (i + 1) as u32;
                n.next = next;
                self.stack.pop();
                i += 1;
            }
        }
    }

    /// A member's key and its colon; returns where the value starts.
    fn key(&mut self, b: &[u8], i: usize) -> Result<usize, ScanError> {
        if b.get(i) != Some(&b'"') {
            return err("expected a string key", i);
        }
        let idx = self.nodes.len() as u32;
        let (end, escaped) = string(b, i)?;
        let kind = if escaped { Kind::StrEscaped } else { Kind::Str };
        self.nodes.push(Node { kind, start: i as u32, end: end as u32, next: idx + 1 });
        let j = ws(b, end);
        if b.get(j) != Some(&b':') {
            return err("expected ':'", j);
        }
        Ok(ws(b, j + 1))
    }

    // ---- reading ---------------------------------------------------------------------------------

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn node(&self, i: u32) -> Node {
        self.nodes[i as usize]
    }

    pub fn kind(&self, i: u32) -> Kind {
        self.nodes[i as usize].kind
    }

    /// The value's JSON text as it was sent.
    pub fn raw<'t>(&self, text: &'t str, i: u32) -> &'t str {
        let n = self.nodes[i as usize];
        &text[n.start as usize..n.end as usize]
    }

    /// The members of object `obj` as (key node, value node), in text order.
    pub fn members(&self, obj: u32) -> Members<'_> {
        let n = self.nodes[obj as usize];
        let end = if n.kind == Kind::Object { n.next } else { obj + 1 };
        Members { tape: self, at: obj + 1, end }
    }

    /// The elements of array `arr`.
    pub fn items(&self, arr: u32) -> Items<'_> {
        let n = self.nodes[arr as usize];
        let end = if n.kind == Kind::Array { n.next } else { arr + 1 };
        Items { tape: self, at: arr + 1, end }
    }

    /// The last member of object `obj` named `key` (JSON.parse keeps the last of duplicate keys).
    pub fn get(&self, text: &str, obj: u32, key: &str) -> Option<u32> {
        if self.kind(obj) != Kind::Object {
            return None;
        }
        let mut found = None;
        for (k, v) in self.members(obj) {
            if self.str_eq(text, k, key) {
                found = Some(v);
            }
        }
        found
    }

    /// Several members of object `obj` in one pass: `out[k]` gets the last member named
    /// `names[k]` (or stays `None`).
    pub fn pick(&self, text: &str, obj: u32, names: &[&str], out: &mut [Option<u32>]) {
        if self.kind(obj) != Kind::Object {
            return;
        }
        for (k, v) in self.members(obj) {
            for (name, slot) in names.iter().zip(out.iter_mut()) {
                if self.str_eq(text, k, name) {
                    *slot = Some(v);
                }
            }
        }
    }

    /// `get`, with `null` counted as absent.
    pub fn get_some(&self, text: &str, obj: u32, key: &str) -> Option<u32> {
        self.get(text, obj, key).filter(|&v| self.kind(v) != Kind::Null)
    }

    /// Whether string node `i` decodes to `want`.
    pub fn str_eq(&self, text: &str, i: u32, want: &str) -> bool {
        let n = self.nodes[i as usize];
        match n.kind {
            Kind::Str => {
                let (s, w) = (n.start as usize + 1, want.as_bytes());
                (n.end - n.start) as usize == w.len() + 2 && {
                    let got = &text.as_bytes()[s..s + w.len()];
                    // Short keys: a byte loop beats a call to memcmp.
                    got.iter().zip(w).all(|(a, b)| a == b)
                }
            }
            Kind::StrEscaped => self.str(text, i) == want,
            _ => false,
        }
    }

    /// A string without escapes, unquoted, without decoding; `None` for anything else.
    pub fn plain_str<'t>(&self, text: &'t str, i: u32) -> Option<&'t str> {
        (self.kind(i) == Kind::Str).then(|| self.str_raw(text, i))
    }

    fn str_raw<'t>(&self, text: &'t str, i: u32) -> &'t str {
        let n = self.nodes[i as usize];
        &text[n.start as usize + 1..n.end as usize - 1]
    }

    /// A string value, decoded (borrowed when it holds no escape). Lone surrogates become U+FFFD.
    pub fn str<'t>(&self, text: &'t str, i: u32) -> Cow<'t, str> {
        match self.kind(i) {
            Kind::Str => Cow::Borrowed(self.str_raw(text, i)),
            Kind::StrEscaped => {
                let mut s = String::new();
                unescape_into(self.str_raw(text, i), &mut s);
                Cow::Owned(s)
            }
            _ => Cow::Borrowed(""),
        }
    }

    /// Whether `i` is a string.
    pub fn is_str(&self, i: u32) -> bool {
        matches!(self.kind(i), Kind::Str | Kind::StrEscaped)
    }

    /// A number's value as `JSON.parse` reads it (a double; `1e400` is infinity).
    pub fn f64(&self, text: &str, i: u32) -> Option<f64> {
        (self.kind(i) == Kind::Number).then(|| parse_number(self.raw(text, i)))
    }
}

/// A number literal's double (the scanner validated its syntax, which Rust's parser accepts).
pub fn parse_number(raw: &str) -> f64 {
    let b = raw.as_bytes();
    // Small integers (ids, versions, counts) without the general float parser.
    if b.len() <= 15 && b.iter().enumerate().all(|(k, c)| c.is_ascii_digit() || (k == 0 && *c == b'-' && b.len() > 1)) {
        let (neg, digits) = if b[0] == b'-' { (true, &b[1..]) } else { (false, b) };
        let mut n: u64 = 0;
        for d in digits {
            n = n * 10 + u64::from(d - b'0');
        }
        let x = n as f64;
        return if neg { -x } else { x };
    }
    raw.parse::<f64>().unwrap_or(f64::NAN)
}

pub struct Members<'a> {
    tape: &'a Tape,
    at: u32,
    end: u32,
}

impl Iterator for Members<'_> {
    type Item = (u32, u32);
    fn next(&mut self) -> Option<(u32, u32)> {
        if self.at >= self.end {
            return None;
        }
        let k = self.at;
        let v = k + 1;
        self.at = self.tape.nodes[v as usize].next;
        Some((k, v))
    }
}

pub struct Items<'a> {
    tape: &'a Tape,
    at: u32,
    end: u32,
}

impl Iterator for Items<'_> {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        if self.at >= self.end {
            return None;
        }
        let v = self.at;
        self.at = self.tape.nodes[v as usize].next;
        Some(v)
    }
}

/// A string starting at the quote `i`: the index after its closing quote, and whether it held an
/// escape. Control characters must be escaped; `\u` takes four hex digits (any code unit).
fn string(b: &[u8], i: usize) -> Result<(usize, bool), ScanError> {
    let mut j = i + 1;
    let mut escaped = false;
    loop {
        // Eight bytes at a time up to the first quote, backslash or control character (SWAR: the
        // lowest flagged byte is exact, later flags may be spurious).
        while let Some(w) = b.get(j..j + 8) {
            let mut a = [0u8; 8];
            a.copy_from_slice(w);
            let v = u64::from_le_bytes(a);
            let m = has_zero(v ^ (LO * u64::from(b'"'))) | has_zero(v ^ (LO * u64::from(b'\\'))) | has_less(v, 0x20);
            if m != 0 {
                j += (m.trailing_zeros() / 8) as usize;
                break;
            }
            j += 8;
        }
        let Some(&c) = b.get(j) else { return err("unterminated string", i) };
        match c {
            b'"' => return Ok((j + 1, escaped)),
            b'\\' => {
                escaped = true;
                match b.get(j + 1) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => j += 2,
                    Some(b'u') => {
                        if b.len() < j + 6 || !b[j + 2..j + 6].iter().all(u8::is_ascii_hexdigit) {
                            return err("invalid \\u escape", j);
                        }
                        j += 6;
                    }
                    _ => return err("invalid escape", j),
                }
            }
            0..=0x1f => return err("control character in string", j),
            _ => j += 1,
        }
    }
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

#[inline]
fn has_zero(v: u64) -> u64 {
    v.wrapping_sub(LO) & !v & HI
}

#[inline]
fn has_less(v: u64, n: u8) -> u64 {
    v.wrapping_sub(LO * u64::from(n)) & !v & HI
}

/// A number starting at `i`: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
fn number(b: &[u8], i: usize) -> Result<usize, ScanError> {
    let mut j = i;
    if b[j] == b'-' {
        j += 1;
    }
    let digits = |j: usize| b[j..].iter().take_while(|c| c.is_ascii_digit()).count();
    match b.get(j) {
        Some(b'0') => j += 1,
        Some(b'1'..=b'9') => j += digits(j),
        _ => return err("invalid number", i),
    }
    if b.get(j) == Some(&b'.') {
        let n = digits(j + 1);
        if n == 0 {
            return err("invalid number", i);
        }
        j += 1 + n;
    }
    if matches!(b.get(j), Some(b'e' | b'E')) {
        j += 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let n = digits(j);
        if n == 0 {
            return err("invalid number", i);
        }
        j += n;
    }
    Ok(j)
}

fn hex4(s: &[u8]) -> u32 {
    s.iter().fold(0, |acc, c| acc * 16 + (*c as char).to_digit(16).unwrap_or(0))
}

/// Decodes the inside of a (validated) JSON string into `out`. A surrogate pair becomes its
/// character; a lone surrogate becomes U+FFFD (Rust strings cannot hold one).
pub fn unescape_into(inner: &str, out: &mut String) {
    let b = inner.as_bytes();
    let mut i = 0;
    let mut plain = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        out.push_str(&inner[plain..i]);
        let e = b.get(i + 1).copied().unwrap_or(b'\\');
        i += 2;
        match e {
            b'b' => out.push('\u{08}'),
            b'f' => out.push('\u{0C}'),
            b'n' => out.push('\n'),
            b'r' => out.push('\r'),
            b't' => out.push('\t'),
            b'u' if i + 4 <= b.len() => {
                let hi = hex4(&b[i..i + 4]);
                i += 4;
                let c = if (0xD800..0xDC00).contains(&hi)
                    && b.get(i) == Some(&b'\\')
                    && b.get(i + 1) == Some(&b'u')
                    && i + 6 <= b.len()
                    && (0xDC00..0xE000).contains(&hex4(&b[i + 2..i + 6]))
                {
                    let lo = hex4(&b[i + 2..i + 6]);
                    i += 6;
                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                } else {
                    char::from_u32(hi)
                };
                out.push(c.unwrap_or('\u{FFFD}'));
            }
            other => out.push(other as char),
        }
        plain = i;
    }
    out.push_str(&inner[plain..]);
}

#[cfg(feature = "serde_json")]
/// Parses `text` into a value with the one scanner (options and other cold paths that still use
/// `serde_json::Value`; nothing on the ingest or flush path builds one).
pub fn parse_value(text: &str) -> Result<serde_json::Value, ScanError> {
    let mut tape = Tape::new();
    tape.scan(text)?;
    Ok(to_value(&tape, text, 0))
}

#[cfg(feature = "serde_json")]
/// A node of the tape as a `serde_json::Value`, for the cold paths above: node `i` as a value,
/// numbers as serde_json reads them (integers that fit stay integers), a non-finite number as
/// `null` (what `JSON.stringify` writes for it).
pub fn to_value(tape: &Tape, text: &str, i: u32) -> serde_json::Value {
    use serde_json::Value;
    match tape.kind(i) {
        Kind::Null => Value::Null,
        Kind::True => Value::Bool(true),
        Kind::False => Value::Bool(false),
        Kind::Number => {
            let raw = tape.raw(text, i);
            if !raw.contains(['.', 'e', 'E']) {
                if let Ok(u) = raw.parse::<u64>() {
                    return Value::from(u);
                }
                if let Some(s) = raw.parse::<i64>().ok().filter(|s| *s != 0) {
                    return Value::from(s);
                }
            }
            serde_json::Number::from_f64(parse_number(raw)).map_or(Value::Null, Value::Number)
        }
        Kind::Str | Kind::StrEscaped => Value::String(tape.str(text, i).into_owned()),
        Kind::Array => Value::Array(tape.items(i).map(|v| to_value(tape, text, v)).collect()),
        Kind::Object => {
            let mut m = serde_json::Map::new();
            for (k, v) in tape.members(i) {
                m.insert(tape.str(text, k).into_owned(), to_value(tape, text, v));
            }
            Value::Object(m)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> bool {
        Tape::new().scan(s).is_ok()
    }

    #[test]
    fn accepts_what_json_parse_accepts() {
        for s in ["0", "-0", "1e400", "-1.5E+3", r#""\ud800""#, r#"{"a":[1,{"b":null}],"a":2}"#, " [ ] ", "{}", r#""\u00e9\n""#] {
            assert!(ok(s), "{s}");
        }
        for s in ["", "01", "1.", ".5", "-", "1e", "[1,]", "{,}", r#"{"a"}"#, r#"{"a":1,}"#, "tru", "nul", "[1 2]", "\"\t\"",
                  r#""\x""#, r#""\u12""#, "{} x", "[", "\"abc"] {
            assert!(!ok(s), "{s:?}");
        }
    }

    #[test]
    fn spans_and_members() {
        let text = r#"{"table":"wo","new":{"id":5,"t":"a\"b"},"n":[1,2,3],"table":"w2"}"#;
        let mut t = Tape::new();
        t.scan(text).unwrap();
        assert_eq!(t.plain_str(text, t.get(text, 0, "table").unwrap()), Some("w2"));
        let new = t.get(text, 0, "new").unwrap();
        assert_eq!(t.raw(text, t.get(text, new, "id").unwrap()), "5");
        assert_eq!(t.str(text, t.get(text, new, "t").unwrap()), "a\"b");
        let n = t.get(text, 0, "n").unwrap();
        assert_eq!(t.items(n).map(|i| t.raw(text, i)).collect::<Vec<_>>(), ["1", "2", "3"]);
        assert_eq!(t.members(0).count(), 4);
    }

    #[test]
    fn depth_is_bounded_without_recursion() {
        let deep = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(ok(&deep));
        let deeper = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert_eq!(Tape::new().scan(&deeper).unwrap_err().what, "nesting too deep");
        assert!(!ok(&"[".repeat(1_000_000)));
    }

    #[test]
    fn surrogates_decode_like_js_then_lossy() {
        let mut s = String::new();
        unescape_into(r"\ud83d\ude00 \ud800 x\u0041", &mut s);
        assert_eq!(s, "\u{1F600} \u{FFFD} xA");
    }

    #[test]
    fn numbers() {
        for (raw, x) in [("5", 5.0), ("-12", -12.0), ("1.5", 1.5), ("1e400", f64::INFINITY), ("123456789012345678", 1.2345678901234568e17)] {
            assert_eq!(parse_number(raw), x, "{raw}");
        }
    }
}
