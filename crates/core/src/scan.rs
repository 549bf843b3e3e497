//! The one JSON scanner: every payload, wire frame and option passes through it once.
//!
//! One pass over the bytes validates the text (it accepts exactly what `JSON.parse` accepts, up to
//! a nesting depth of [`MAX_DEPTH`]) and records each value's span into a reusable [`Tape`]: no
//! tree is built, no string is decoded and no number converted until routing asks for that one
//! value (simdjson's On-Demand idea). Containers record where their subtree ends, so skipping a
//! column nobody reads is one step. The tape's vectors keep their capacity between payloads, so a
//! steady stream allocates nothing here.
//!
//! Cost per byte (issue 10): two walks over one state ([`Tape::scan`]): a fast one for the common
//! steps that calls nothing, so at every opt level its state (position, count, innermost
//! container, entry pointer) stays in registers, and a slow one that takes any single step the
//! fast one cannot (whitespace, escapes, growing the tape, errors) and hands back. The innermost
//! container is in a register, the others on a fixed-length stack; a string's end is found sixteen
//! bytes at a time ([`crate::simd`]: the first quote, backslash or control character of a window
//! read at its opening quote; in the text's last sixteen bytes the window that ends the text); a
//! key's head word is one eight-byte load; each value's entry is found once and written in place
//! (the entry vector only grows, in one cold place). No `unsafe` here (`simd.rs` holds it).
//!
//! Where this differs from serde_json (on purpose, to match `JSON.parse`): a lone surrogate escape
//! (`"\ud800"`) is accepted (decoded as U+FFFD), and a number too large for a double (`1e400`) is
//! accepted (it reads as infinity, which JSON.stringify would write as `null`). Issue 10: a payload
//! with either in a column nothing reads was lost when it arrived as a WebSocket frame.
//! Nesting is bounded by an explicit stack, never by recursion, so no input can overflow the stack.

use std::borrow::Cow;

use crate::simd;

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
/// after its subtree (for scalars, the next index). An object member's key is not a node of its
/// own: it is stored with its value ([`Entry`]) and named by the value's index with [`KEY`] set.
#[derive(Debug, Clone, Copy)]
pub struct Node {
    pub kind: Kind,
    pub start: u32,
    pub end: u32,
    pub next: u32,
}

/// The bit that turns a member's value index into a handle of its key ([`Tape::members`]): every
/// reading accessor takes either, so a key reads as the string node it was before keys shared
/// their value's entry. A tape has fewer than 2^31 entries (a text is shorter than `u32::MAX` bytes
/// and an entry takes at least two of them).
pub const KEY: u32 = 1 << 31;

/// An object member's key as the scanner saw it: raw length between the quotes, the offset of its
/// opening quote, whether it holds an escape, and its first eight raw bytes as a little-endian
/// word (zero past its end), so a key is matched against names by one or two compares.
#[derive(Debug, Clone, Copy)]
pub struct KeyInfo {
    pub head: u64,
    pub start: u32,
    pub len: u32,
    pub escaped: bool,
}

/// The first eight bytes of `b` as a little-endian word, zero past its end: a key's
/// [`KeyInfo::head`] (a `const fn`, so adapters can name their keys' words as constants).
#[inline]
pub const fn key_head(b: &[u8]) -> u64 {
    let mut w = 0u64;
    let mut i = 0;
    while i < b.len() && i < 8 {
        w |= (b[i] as u64) << (8 * i);
        i += 1;
    }
    w
}

/// A tape entry: a value ([`Node`]) and, when it is an object member's value, its key (issue 10:
/// a member was two nodes, a key and its value; now it is one entry written once per member and
/// read once per member by [`Tape::members`]). The key fields of other entries are left over.
#[derive(Debug, Clone, Copy)]
struct Entry {
    head: u64,
    start: u32,
    end: u32,
    next: u32,
    key: u32,
    key_len: u32,
    kind: Kind,
    key_escaped: bool,
}

impl Entry {
    const fn value(n: Node) -> Entry {
        Entry {
            head: 0,
            start: n.start,
            end: n.end,
            next: n.next,
            key: 0,
            key_len: 0,
            kind: n.kind,
            key_escaped: false,
        }
    }
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
    // ASCII digits, pushed as chars: no UTF-8 check of the buffer (`from_utf8` per number showed up
    // per event in callgrind).
    out.reserve(buf.len() - i);
    for &d in &buf[i..] {
        out.push(char::from(d));
    }
}

/// The scanned spans of one text. Node 0 is the root value.
#[derive(Debug, Default, Clone)]
pub struct Tape {
    /// `nodes[..len]` is this text's tape. The vector only grows: entries past `len` are left
    /// from longer texts, so a scan writes into place without a capacity check per node.
    nodes: Vec<Entry>,
    len: usize,
    /// The open containers around the innermost one, as `index << 2 | 1 (object) or 2 (array)`
    /// (0: the root), `MAX_DEPTH` long once a text was scanned ([`Walk::d`] is how many are used).
    stack: Vec<u64>,
}

fn err<T>(what: &'static str, at: usize) -> Result<T, ScanError> {
    Err(ScanError { what, at })
}

/// Skips JSON whitespace from `i`.
#[inline(never)]
fn ws(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = b.get(i) {
        i += 1;
    }
    i
}

/// What is wrong at `i`, where a value ended and whitespace was skipped: text after the root, the
/// end of the text inside a container, or a byte that neither separates nor closes.
#[cold]
fn after_value_error(more: bool, top: u64, i: usize) -> ScanError {
    let what = match (top, more) {
        (0, _) => "unexpected text after the value",
        (_, false) => "unexpected end of text",
        (t, true) if t & 1 != 0 => "expected ',' or '}'",
        _ => "expected ',' or ']'",
    };
    ScanError { what, at: i }
}

/// Where a scan is between two steps: at `i` a value starts (in an object: a member's key), or,
/// with `after`, a value ended. `n` entries are written; `top` is the innermost open container as
/// `index << 2 | 1 (object) or 2 (array)`, 0 at the root; `stack[..d]` holds the ones around it.
struct Walk {
    i: usize,
    n: usize,
    top: u64,
    d: usize,
    after: bool,
}

/// The closing byte of container `top` (`index << 2 | 1 (object) or 2 (array)`).
#[inline(always)]
fn closer(top: u64) -> u8 {
    if top & 1 != 0 {
        b'}'
    } else {
        b']'
    }
}

/// Whether `c` is JSON whitespace.
#[inline(always)]
fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

/// The common steps of a scan, with no call: it stops, with `w` at the start of a step, where the
/// next step is anything else (for [`slow`]). `true`: the text ended after the root value.
#[inline(never)]
fn fast(b: &[u8], nodes: &mut [Entry], stack: &mut [u64; MAX_DEPTH], w: &mut Walk) -> bool {
    let (mut i, mut n, mut top, mut d) = (w.i, w.n, w.top, w.d);
    // After a value: close containers, then past a comma on to the next element or member;
    // anything else ends the walk. (A macro, not a flag tested per step: the walk enters here
    // when `slow` left it after a value.)
    macro_rules! after_value {
        () => {
            loop {
                let c = b.get(i).copied();
                if c == Some(b',') && top != 0 {
                    i += 1;
                    break;
                }
                if top == 0 || c != Some(closer(top)) {
                    (w.i, w.n, w.top, w.d, w.after) = (i, n, top, d, true);
                    return top == 0 && c.is_none();
                }
                if let Some(node) = nodes.get_mut((top >> 2) as usize) {
                    node.end = (i + 1) as u32;
                    node.next = n as u32;
                }
                d = d.saturating_sub(1);
                top = stack.get(d).copied().unwrap_or(0);
                i += 1;
            }
        };
    }
    if w.after {
        after_value!();
    }
    'walk: loop {
        'value: {
            let Some(slot) = nodes.get_mut(n) else { break 'walk };
            let at = i;
            if top & 1 != 0 {
                // A plain key: its end by the vector test, its head word from its first window,
                // and its colon right after it.
                if b.get(i) != Some(&b'"') {
                    break 'walk;
                }
                let Some(e) = plain_close(b, i) else { break 'walk };
                if b.get(e + 1) != Some(&b':') {
                    break 'walk;
                }
                // Its head word: the eight bytes after the quote, as far as the key fills them.
                let Some(h) = b.get(i + 1..i + 9).and_then(|h| h.first_chunk::<8>()) else { break 'walk };
                slot.head = u64::from_le_bytes(*h) & KEEP[(e - i - 1).min(8)];
                slot.key = i as u32;
                slot.key_len = (e - i - 1) as u32;
                slot.key_escaped = false;
                i = e + 2;
            }
            let Some(&c) = b.get(i) else {
                i = at;
                break 'walk;
            };
            let (kind, end) = if c == b'"' {
                match plain_close(b, i) {
                    Some(e) => (Kind::Str, e + 1),
                    None => {
                        i = at;
                        break 'walk;
                    }
                }
            } else if c.wrapping_sub(b'0') < 10 || c == b'-' {
                match number_at(b, i) {
                    Ok(e) => (Kind::Number, e),
                    Err(_) => {
                        i = at;
                        break 'walk;
                    }
                }
            } else if c == b'{' || c == b'[' {
                // Opened here unless whitespace follows or the stack is full.
                let (Some(s), Some(&next)) = (stack.get_mut(d), b.get(i + 1)) else {
                    i = at;
                    break 'walk;
                };
                if is_ws(next) {
                    i = at;
                    break 'walk;
                }
                *s = top;
                d += 1;
                let obj = c == b'{';
                top = (n as u64) << 2 | if obj { 1 } else { 2 };
                slot.kind = if obj { Kind::Object } else { Kind::Array };
                slot.start = i as u32;
                n += 1;
                i += 1;
                if next != closer(top) {
                    continue 'walk;
                }
                // Empty: closed at once.
                break 'value;
            } else {
                // The literal's first four bytes as one word (`false`: and its `e`).
                let (kind, word, len) = match c {
                    b't' => (Kind::True, u32::from_le_bytes(*b"true"), 4),
                    b'f' => (Kind::False, u32::from_le_bytes(*b"fals"), 5),
                    b'n' => (Kind::Null, u32::from_le_bytes(*b"null"), 4),
                    _ => {
                        i = at;
                        break 'walk;
                    }
                };
                let got = b.get(i..i + 4).and_then(|x| x.first_chunk::<4>()).map_or(0, |x| u32::from_le_bytes(*x));
                if got != word || (len == 5 && b.get(i + 4) != Some(&b'e')) {
                    i = at;
                    break 'walk;
                }
                (kind, i + len)
            };
            slot.kind = kind;
            slot.start = i as u32;
            slot.end = end as u32;
            slot.next = n as u32 + 1;
            n += 1;
            i = end;
        }
        after_value!();
    }
    (w.i, w.n, w.top, w.d, w.after) = (i, n, top, d, false);
    false
}

/// One step of any kind from `w` (where [`fast`] stopped): a member or a value (whitespace
/// around it, escapes, a string in the text's last sixteen bytes, a new container, the tape
/// growing), or what follows a value. `Ok(true)`: the text ended after the root value.
#[inline(never)]
fn slow(b: &[u8], nodes: &mut Vec<Entry>, stack: &mut [u64; MAX_DEPTH], w: &mut Walk) -> Result<bool, ScanError> {
    let mut i = w.i;
    if w.after {
        let top = w.top;
        let c = b.get(i).copied();
        if c.is_some_and(is_ws) {
            w.i = ws(b, i);
            return Ok(false);
        }
        if c == Some(b',') && top != 0 {
            (w.i, w.after) = (i + 1, false);
            return Ok(false);
        }
        if top != 0 && c == Some(closer(top)) {
            if let Some(node) = nodes.get_mut((top >> 2) as usize) {
                node.end = (i + 1) as u32;
                node.next = w.n as u32;
            }
            w.d = w.d.saturating_sub(1);
            w.top = stack.get(w.d).copied().unwrap_or(0);
            w.i = i + 1;
            return Ok(false);
        }
        if c.is_none() && top == 0 {
            return Ok(true);
        }
        return Err(after_value_error(c.is_some(), top, i));
    }
    let n = w.n;
    if n >= nodes.len() {
        grow(nodes);
    }
    let Some(slot) = nodes.get_mut(n) else { return err("text too long", i) };
    if w.top & 1 != 0 {
        let (start, end, escaped, head) = key_slow(b, i)?;
        slot.head = head;
        slot.key = start as u32;
        slot.key_len = (end - start - 2) as u32;
        slot.key_escaped = escaped;
        i = ws(b, end);
        if b.get(i) != Some(&b':') {
            return err("expected ':'", i);
        }
        i += 1;
    }
    i = ws(b, i);
    let Some(&c) = b.get(i) else { return err("unexpected end of text", i) };
    let (kind, end) = match c {
        b'"' => {
            let (end, escaped) = string(b, i)?;
            (if escaped { Kind::StrEscaped } else { Kind::Str }, end)
        }
        b'0'..=b'9' | b'-' => (Kind::Number, number(b, i)?),
        b't' | b'f' | b'n' => {
            let (kind, word): (Kind, &[u8]) = match c {
                b't' => (Kind::True, b"true"),
                b'f' => (Kind::False, b"false"),
                _ => (Kind::Null, b"null"),
            };
            (kind, literal(b, i, word)?)
        }
        b'{' | b'[' => {
            let Some(s) = stack.get_mut(w.d) else { return err("nesting too deep", i) };
            *s = w.top;
            w.d += 1;
            let obj = c == b'{';
            w.top = (n as u64) << 2 | if obj { 1 } else { 2 };
            slot.kind = if obj { Kind::Object } else { Kind::Array };
            slot.start = i as u32;
            w.n = n + 1;
            i = ws(b, i + 1);
            // Empty: the step after a value closes it.
            w.after = b.get(i) == Some(&closer(w.top));
            w.i = i;
            return Ok(false);
        }
        _ => return err("expected a value", i),
    };
    slot.kind = kind;
    slot.start = i as u32;
    slot.end = end as u32;
    slot.next = n as u32 + 1;
    (w.i, w.n, w.after) = (end, n + 1, true);
    Ok(false)
}

impl Tape {
    pub fn new() -> Tape {
        Tape::default()
    }

    /// Scans `text`; on success the tape describes it (node 0 is the root).
    ///
    /// Two walks share one state ([`Walk`]): [`fast`] takes the common steps (plain keys and
    /// strings, numbers, literals, commas, containers, all without whitespace) and calls nothing,
    /// so its state stays in registers at every opt level; where it cannot go on, [`slow`] takes
    /// one step of any kind (whitespace, escapes, the text's last bytes, growing the tape, errors)
    /// and hands back. (Issue 10: with the slow cases called from inside one loop, opt z spilled
    /// the position, the count and the entry pointer per member, opt 3 five registers per key.)
    pub fn scan(&mut self, text: &str) -> Result<(), ScanError> {
        let b = text.as_bytes();
        self.len = 0;
        if b.len() >= u32::MAX as usize {
            return err("text too long", 0);
        }
        if self.stack.len() < MAX_DEPTH {
            self.stack.resize(MAX_DEPTH, 0);
        }
        // (A fixed length: the stack's bound is a constant, not a register.)
        let Some(stack) = self.stack.first_chunk_mut::<MAX_DEPTH>() else { return err("text too long", 0) };
        let mut w = Walk { i: 0, n: 0, top: 0, d: 0, after: false };
        loop {
            if fast(b, &mut self.nodes, stack, &mut w) || slow(b, &mut self.nodes, stack, &mut w)? {
                self.len = w.n;
                return Ok(());
            }
        }
    }

    /// Starts a tape written node by node ([`Tape::push`]) by a caller that already knows each
    /// value's kind and span (the object path's slots, `slots.rs`) instead of scanning a text.
    pub(crate) fn clear(&mut self) {
        self.len = 0;
    }

    /// Appends `node` (not a member: no key); returns its index.
    pub(crate) fn push(&mut self, node: Node) -> u32 {
        let i = self.len;
        match self.nodes.get_mut(i) {
            // The value's fields only (no member reads the key of a pushed node).
            Some(e) => (e.kind, e.start, e.end, e.next) = (node.kind, node.start, node.end, node.next),
            None => self.nodes.push(Entry::value(node)),
        }
        self.len += 1;
        i as u32
    }

    /// Appends an object member whose key is `key` and whose value is `node` (one entry, as the
    /// scanner writes a member; `slots.rs` builds rows this way).
    pub(crate) fn push_member(&mut self, key: KeyInfo, node: Node) -> u32 {
        let i = self.len;
        let e = Entry {
            head: key.head,
            start: node.start,
            end: node.end,
            next: node.next,
            key: key.start,
            key_len: key.len,
            kind: node.kind,
            key_escaped: key.escaped,
        };
        match self.nodes.get_mut(i) {
            Some(slot) => *slot = e,
            None => self.nodes.push(e),
        }
        self.len += 1;
        i as u32
    }

    // ---- reading ---------------------------------------------------------------------------------

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Node `i`, or the key of member value `i & !KEY` as a string node when `i` has [`KEY`] set;
    /// past the tape's vector a `null` with an empty span (no panic path: at opt z, the shipped
    /// setting, `Vec`'s `Index` is a call of its own).
    #[inline(always)]
    pub fn node(&self, i: u32) -> Node {
        if i & KEY == 0 {
            return self.value_node(i);
        }
        match self.nodes.get((i & !KEY) as usize) {
            Some(e) => Node {
                kind: if e.key_escaped { Kind::StrEscaped } else { Kind::Str },
                start: e.key,
                end: e.key.wrapping_add(e.key_len).wrapping_add(2),
                next: i & !KEY,
            },
            None => NO_NODE,
        }
    }

    #[inline(always)]
    pub fn kind(&self, i: u32) -> Kind {
        if i & KEY == 0 {
            return self.value_kind(i);
        }
        match self.nodes.get((i & !KEY) as usize) {
            Some(e) if e.key_escaped => Kind::StrEscaped,
            Some(_) => Kind::Str,
            None => Kind::Null,
        }
    }

    /// [`Tape::node`] of a value index, never a key (with [`KEY`] set it is past the vector: the
    /// `null` with an empty span). Without the key test (issue 10: the adapters' reads of values).
    #[inline(always)]
    pub fn value_node(&self, v: u32) -> Node {
        match self.nodes.get(v as usize) {
            Some(e) => Node { kind: e.kind, start: e.start, end: e.end, next: e.next },
            None => NO_NODE,
        }
    }

    /// [`Tape::kind`] of a value index, never a key (with [`KEY`] set: `null`).
    #[inline(always)]
    pub fn value_kind(&self, v: u32) -> Kind {
        match self.nodes.get(v as usize) {
            Some(e) => e.kind,
            None => Kind::Null,
        }
    }

    /// The key of member value `v` (a value index, without [`KEY`]): what the scanner recorded.
    /// Meaningful only for the values [`Tape::members`] yields.
    #[inline(always)]
    pub fn key(&self, v: u32) -> KeyInfo {
        match self.nodes.get(v as usize) {
            Some(e) => KeyInfo { head: e.head, start: e.key, len: e.key_len, escaped: e.key_escaped },
            None => KeyInfo { head: 0, start: 0, len: 0, escaped: false },
        }
    }

    /// The text of member value `v`'s key between its quotes when it holds no escape (its decoded
    /// name); `None` for an escaped key.
    #[inline(always)]
    pub fn plain_key<'t>(&self, text: &'t str, v: u32) -> Option<&'t [u8]> {
        let k = self.key(v);
        if k.escaped {
            return None;
        }
        let s = k.start as usize + 1;
        text.as_bytes().get(s..s.wrapping_add(k.len as usize))
    }

    /// The value's JSON text as it was sent.
    pub fn raw<'t>(&self, text: &'t str, i: u32) -> &'t str {
        let n = self.node(i);
        text.get(n.start as usize..n.end as usize).unwrap_or("")
    }

    /// The members of object `obj` as (key, value node), in text order: the key is the value's
    /// index with [`KEY`] set (read it as a string node, or with [`Tape::key`] by the value index).
    #[inline(always)]
    pub fn members(&self, obj: u32) -> Members<'_> {
        let n = self.value_node(obj);
        let end = if n.kind == Kind::Object { n.next } else { obj + 1 };
        Members { tape: self, at: obj + 1, end }
    }

    /// The elements of array `arr`.
    #[inline(always)]
    pub fn items(&self, arr: u32) -> Items<'_> {
        let n = self.value_node(arr);
        let end = if n.kind == Kind::Array { n.next } else { arr + 1 };
        Items { tape: self, at: arr + 1, end }
    }

    /// The last member of object `obj` named `key` (JSON.parse keeps the last of duplicate keys).
    pub fn get(&self, text: &str, obj: u32, key: &str) -> Option<u32> {
        if self.value_kind(obj) != Kind::Object {
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
        if self.value_kind(obj) != Kind::Object {
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
        self.get(text, obj, key).filter(|&v| self.value_kind(v) != Kind::Null)
    }

    /// Whether string node `i` decodes to `want`: the span's length decides most keys at once.
    #[inline(always)]
    pub fn str_eq(&self, text: &str, i: u32, want: &str) -> bool {
        let n = self.node(i);
        match n.kind {
            Kind::Str => {
                let (s, w) = (n.start as usize + 1, want.as_bytes());
                n.end.wrapping_sub(n.start) as usize == w.len() + 2
                    && text.as_bytes().get(s..s + w.len()).is_some_and(|got| bytes_eq(got, w))
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
        let n = self.node(i);
        text.get(n.start as usize + 1..(n.end as usize).saturating_sub(1)).unwrap_or("")
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
    #[inline(always)]
    pub fn is_str(&self, i: u32) -> bool {
        matches!(self.kind(i), Kind::Str | Kind::StrEscaped)
    }

    /// A number's value as `JSON.parse` reads it (a double; `1e400` is infinity).
    pub fn f64(&self, text: &str, i: u32) -> Option<f64> {
        (self.kind(i) == Kind::Number).then(|| parse_number(self.raw(text, i)))
    }
}

/// Whether `a` and `b` hold the same bytes: a plain loop (short keys and names: a call to memcmp
/// costs more, and at opt z an iterator chain with a closure is two calls).
#[inline(always)]
pub fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    for (x, y) in a.iter().zip(b) {
        if x != y {
            return false;
        }
    }
    true
}

/// What [`Tape::node`] reads past the tape's vector.
const NO_NODE: Node = Node { kind: Kind::Null, start: 0, end: 0, next: 0 };

/// A number literal's double, correctly rounded as `JSON.parse` reads it (`num::parse`).
pub fn parse_number(raw: &str) -> f64 {
    crate::num::parse(raw)
}

pub struct Members<'a> {
    tape: &'a Tape,
    at: u32,
    end: u32,
}

impl Iterator for Members<'_> {
    type Item = (u32, u32);
    // `inline(always)`: at opt z a call per member cost ~34 instructions (issue 10).
    #[inline(always)]
    fn next(&mut self) -> Option<(u32, u32)> {
        if self.at >= self.end {
            return None;
        }
        let v = self.at;
        // Past the vector (never, for a scanned object) the walk ends.
        self.at = self.tape.nodes.get(v as usize).map_or(self.end, |n| n.next);
        Some((v | KEY, v))
    }
}

/// [`Tape::keyed_members`].
pub struct KeyedMembers<'a> {
    tape: &'a Tape,
    at: u32,
    end: u32,
}

impl Iterator for KeyedMembers<'_> {
    type Item = (u32, KeyInfo);
    #[inline(always)]
    fn next(&mut self) -> Option<(u32, KeyInfo)> {
        if self.at >= self.end {
            return None;
        }
        let v = self.at;
        // Past the vector (never, for a scanned object) the walk ends.
        let e = self.tape.nodes.get(v as usize)?;
        self.at = e.next;
        Some((v, KeyInfo { head: e.head, start: e.key, len: e.key_len, escaped: e.key_escaped }))
    }
}

impl Tape {
    /// The members of object `obj` as (value index, its key's [`KeyInfo`]): each entry read once,
    /// where [`Tape::members`] and then [`Tape::key`] read it twice (issue 10: the adapters'
    /// passes over a payload's and a row's members).
    #[inline(always)]
    pub fn keyed_members(&self, obj: u32) -> KeyedMembers<'_> {
        let Members { at, end, .. } = self.members(obj);
        KeyedMembers { tape: self, at, end }
    }
}

pub struct Items<'a> {
    tape: &'a Tape,
    at: u32,
    end: u32,
}

impl Iterator for Items<'_> {
    type Item = u32;
    #[inline(always)]
    fn next(&mut self) -> Option<u32> {
        if self.at >= self.end {
            return None;
        }
        let v = self.at;
        self.at = self.tape.nodes.get(v as usize).map_or(self.end, |n| n.next);
        Some(v)
    }
}

/// Makes room for more entries (the tape's vector only grows): twice as many, at least 64.
#[cold]
#[inline(never)]
fn grow(nodes: &mut Vec<Entry>) {
    let len = nodes.len().saturating_mul(2).max(64);
    nodes.resize(len, Entry::value(NO_NODE));
}

/// The sixteen bytes of `b` from `i`, when the text holds that many.
#[inline(always)]
fn window(b: &[u8], i: usize) -> Option<&[u8; 16]> {
    b.get(i..).and_then(|r| r.first_chunk::<16>())
}

/// The index of the closing quote of the string whose opening quote is at `i` when it holds no
/// escape or control character and the sixteen-byte windows up to its close lie in the text (the
/// common case: one window for most keys and values; a string that starts in the text's last
/// sixteen bytes from the window that ends the text); `None` otherwise, for the slow walk. (The
/// text's last bytes through the out-of-line `stop_tail` measured +171 instructions per event at
/// opt 3, −11 at opt z: the window is shifted here instead.)
#[inline(always)]
fn plain_close(b: &[u8], i: usize) -> Option<usize> {
    let Some(mut w) = window(b, i) else {
        // In the text's last sixteen bytes (the last key of a payload, `"errors"` in Supabase's,
        // took the slow path, ~95 instructions): the window that ends the text, from `i`.
        let n = b.len();
        let w = b.get(n.wrapping_sub(16)..).and_then(|w| w.first_chunk::<16>())?;
        let m = stop_mask(w) >> ((i + 16 - n) & 15) & !1;
        let e = i + m.trailing_zeros() as usize;
        return (m != 0 && b.get(e) == Some(&b'"')).then_some(e);
    };
    let mut j = i;
    let mut m = stop_mask(w) & !1;
    while m == 0 {
        j += 16;
        w = window(b, j)?;
        m = stop_mask(w);
    }
    let k = m.trailing_zeros() as usize & 15;
    (w[k] == b'"').then_some(j + k)
}

/// The bytes of a head word that a key of `len` raw bytes fills ([`head_of`]).
const KEEP: [u64; 9] = {
    let mut t = [u64::MAX; 9];
    let mut k = 0;
    while k < 8 {
        t[k] = (1u64 << (8 * k)) - 1;
        k += 1;
    }
    t
};

/// A member's key at `i` past the common case (whitespace before it, an escape or control
/// character, a key too near the end of the text for a window or its head word, an error): its
/// start, end, escape flag and head word.
#[inline(never)]
fn key_slow(b: &[u8], mut i: usize) -> Result<(usize, usize, bool, u64), ScanError> {
    if b.get(i) != Some(&b'"') {
        i = ws(b, i);
        if b.get(i) != Some(&b'"') {
            return err("expected a string key", i);
        }
    }
    let (end, escaped, head) = key_string(b, i)?;
    Ok((i, end, escaped, head))
}

/// `true`, `false` or `null` at `i`: the index after it (inlined: at opt z a call cost more than
/// the compare).
#[inline(always)]
fn literal(b: &[u8], i: usize, word: &[u8]) -> Result<usize, ScanError> {
    let end = i + word.len();
    if b.get(i..end) != Some(word) {
        return err("invalid literal", i);
    }
    Ok(end)
}

/// A string starting at the quote `i`: the index after its closing quote, and whether it held an
/// escape. Control characters must be escaped; `\u` takes four hex digits (any code unit).
/// The common case, a closing quote before any backslash, is inlined at both sites (keys, values);
/// escapes, control characters and the end of the text go to `string_rest`.
#[inline(always)]
fn string(b: &[u8], i: usize) -> Result<(usize, bool), ScanError> {
    string_at(b, i, i + 1)
}

/// [`string`] for a key: also its first eight raw bytes as a word, zero past its end ([`KeyInfo`]).
#[inline(always)]
fn key_string(b: &[u8], i: usize) -> Result<(usize, bool, u64), ScanError> {
    let j = i + 1;
    let e = stop(b, j);
    if b.get(e) == Some(&b'"') {
        let n = e - j;
        let head = match b.get(j..j.wrapping_add(8)) {
            Some(w) => {
                let v = u64::from_le_bytes(<[u8; 8]>::try_from(w).unwrap_or_default());
                if n < 8 {
                    v & !(u64::MAX << (8 * n))
                } else {
                    v
                }
            }
            None => key_head(b.get(j..e).unwrap_or(&[])),
        };
        return Ok((e + 1, false, head));
    }
    key_string_rest(b, i, e)
}

/// [`key_string`] past the common case (an escape or a control character, or the end of the text),
/// from `j`, its first stop byte.
#[inline(never)]
fn key_string_rest(b: &[u8], i: usize, j: usize) -> Result<(usize, bool, u64), ScanError> {
    let (end, escaped) = string_rest(b, i, j)?;
    Ok((end, escaped, key_head(b.get(i + 1..end - 1).unwrap_or(&[]))))
}

/// [`string`] with the bytes from `i + 1` to `j` known to hold no stop byte.
#[inline(always)]
fn string_at(b: &[u8], i: usize, j: usize) -> Result<(usize, bool), ScanError> {
    let j = stop(b, j);
    if b.get(j) == Some(&b'"') {
        return Ok((j + 1, false));
    }
    string_rest(b, i, j)
}

/// The rest of a string from `j`, its first stop byte (a backslash, a control character, or the
/// end of the text).
#[inline(never)]
fn string_rest(b: &[u8], i: usize, mut j: usize) -> Result<(usize, bool), ScanError> {
    let mut escaped = false;
    loop {
        let Some(&c) = b.get(j) else { return err("unterminated string", i) };
        match c {
            b'"' => return Ok((j + 1, escaped)),
            b'\\' => {
                escaped = true;
                match b.get(j + 1) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => j += 2,
                    Some(b'u') => match b.get(j + 2..j + 6) {
                        Some(h) if h.iter().all(u8::is_ascii_hexdigit) => j += 6,
                        _ => return err("invalid \\u escape", j),
                    },
                    _ => return err("invalid escape", j),
                }
            }
            _ => return err("control character in string", j),
        }
        j = stop(b, j);
    }
}

/// Where [`stop`] looks: the quote, the backslash and the control characters, sixteen bytes at a
/// time ([`crate::simd`]), as bit `k` for byte `k`.
/// (`v ^ 2 < 0x21` is a control character or the quote: xor 2 maps 0x00-0x1f onto itself and the
/// quote, 0x22, onto 0x20; one compare fewer per window than testing them apart.)
#[inline(always)]
fn stop_mask(w: &[u8; 16]) -> u32 {
    let v = simd::load16(w);
    simd::bitmask(simd::or(simd::below(simd::xor(v, 2), 0x21), simd::eq(v, b'\\')))
}

/// The index of the first quote, backslash or control character at or after `j`, or the text's
/// length: sixteen bytes at a time, the text's last bytes out of line. The one stop test: the
/// scanner's slow paths, `key.rs` (whether a string needs escapes) and `slots.rs` (a plain string).
#[inline(always)]
pub(crate) fn stop(b: &[u8], mut j: usize) -> usize {
    while let Some(w) = b.get(j..j.wrapping_add(16)) {
        let m = stop_mask(<&[u8; 16]>::try_from(w).unwrap_or(&[0; 16]));
        if m != 0 {
            return j + m.trailing_zeros() as usize;
        }
        j += 16;
    }
    stop_tail(b, j)
}

/// [`stop`] in the text's last sixteen bytes: the sixteen bytes that end the text, shifted to start
/// at `j`; a text shorter than that (a short string of `key.rs`) byte by byte (copying it into a
/// padded window costs a `memcpy` call: measured slower).
#[inline(never)]
fn stop_tail(b: &[u8], j: usize) -> usize {
    let n = b.len();
    let Some(w) = b.get(n.wrapping_sub(16)..).and_then(|w| w.first_chunk::<16>()) else {
        let mut k = j;
        while let Some(&c) = b.get(k) {
            if c == b'"' || c == b'\\' || c < 0x20 {
                return k;
            }
            k += 1;
        }
        return n;
    };
    if j >= n {
        return n;
    }
    // Byte `j`'s place in the window that ends with the text (< 16: `j + 16 > n`).
    let m = stop_mask(w) >> ((j + 16 - n) & 15);
    if m != 0 {
        j + m.trailing_zeros() as usize
    } else {
        n
    }
}

/// A number starting at `i`: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?` (also the
/// object path's check of a number slot, `slots.rs`).
#[inline(never)]
pub(crate) fn number(b: &[u8], i: usize) -> Result<usize, ScanError> {
    number_at(b, i)
}

/// [`number`], inlined in [`fast`] (a call from it made opt z keep its state in memory).
#[inline(always)]
fn number_at(b: &[u8], i: usize) -> Result<usize, ScanError> {
    let mut j = i;
    if b.get(j) == Some(&b'-') {
        j += 1;
    }
    match b.get(j) {
        Some(b'0') => j += 1,
        Some(b'1'..=b'9') => j = digits(b, j + 1),
        _ => return err("invalid number", i),
    }
    if b.get(j) == Some(&b'.') {
        let k = digits(b, j + 1);
        if k == j + 1 {
            return err("invalid number", i);
        }
        j = k;
    }
    if let Some(b'e' | b'E') = b.get(j) {
        j += 1;
        if let Some(b'+' | b'-') = b.get(j) {
            j += 1;
        }
        let k = digits(b, j);
        if k == j {
            return err("invalid number", i);
        }
        j = k;
    }
    Ok(j)
}

/// The index after the ASCII digits from `j`.
#[inline(always)]
fn digits(b: &[u8], mut j: usize) -> usize {
    while let Some(b'0'..=b'9') = b.get(j) {
        j += 1;
    }
    j
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
        for s in [
            "0",
            "-0",
            "1e400",
            "-1.5E+3",
            r#""\ud800""#,
            r#"{"a":[1,{"b":null}],"a":2}"#,
            " [ ] ",
            "{}",
            r#""\u00e9\n""#,
        ] {
            assert!(ok(s), "{s}");
        }
        for s in [
            "",
            "01",
            "1.",
            ".5",
            "-",
            "1e",
            "[1,]",
            "{,}",
            r#"{"a"}"#,
            r#"{"a":1,}"#,
            "tru",
            "nul",
            "[1 2]",
            "\"\t\"",
            r#""\x""#,
            r#""\u12""#,
            "{} x",
            "[",
            "\"abc",
        ] {
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
    fn every_stop_byte_at_every_offset() {
        // The string stop test: a quote, backslash or control character at each position of the
        // first words and of the byte tail, with plain ASCII and multi-byte UTF-8 around it.
        for fill in ["a", "é", "\u{7f}", "~"] {
            for k in 0..24 {
                let body = fill.repeat(k);
                for tail in ["", "x", "1234567", "12345678"] {
                    let plain = format!("\"{body}\"{tail}");
                    let mut t = Tape::new();
                    let r = t.scan(&plain);
                    assert_eq!(r.is_ok(), tail.is_empty(), "{plain:?}");
                    if tail.is_empty() {
                        assert_eq!(t.plain_str(&plain, 0), Some(body.as_str()));
                    } else {
                        assert_eq!(
                            r.unwrap_err(),
                            ScanError { what: "unexpected text after the value", at: body.len() + 2 }
                        );
                    }
                    let esc = format!("[\"{body}\\n{body}\"]");
                    t.scan(&esc).unwrap();
                    assert_eq!(t.kind(1), Kind::StrEscaped);
                    assert_eq!(t.str(&esc, 1), format!("{body}\n{body}"));
                    for ctl in ["\u{0}", "\t", "\u{1f}"] {
                        let bad = format!("\"{body}{ctl}{body}\"");
                        assert_eq!(
                            t.scan(&bad).unwrap_err(),
                            ScanError { what: "control character in string", at: body.len() + 1 }
                        );
                    }
                    let open = format!("\"{body}");
                    assert_eq!(t.scan(&open).unwrap_err(), ScanError { what: "unterminated string", at: 0 });
                }
            }
        }
    }

    /// The string scan byte by byte, as it was before the vector test: the oracle of `string` and
    /// `key_string` below.
    fn string_oracle(b: &[u8], i: usize) -> Result<(usize, bool), ScanError> {
        let (mut j, mut escaped) = (i + 1, false);
        loop {
            match b.get(j) {
                None => return err("unterminated string", i),
                Some(b'"') => return Ok((j + 1, escaped)),
                Some(b'\\') => {
                    escaped = true;
                    match b.get(j + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => j += 2,
                        Some(b'u') if b.get(j + 2..j + 6).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) => {
                            j += 6
                        }
                        Some(b'u') => return err("invalid \\u escape", j),
                        _ => return err("invalid escape", j),
                    }
                }
                Some(&c) if c < 0x20 => return err("control character in string", j),
                Some(_) => j += 1,
            }
        }
    }

    #[test]
    fn strings_across_every_vector_edge() {
        // The stop test reads sixteen bytes from where a string starts, then sixteen more, and the
        // text's last sixteen (or a padded copy of a shorter text): a stop byte or a backslash run
        // at every offset of the first windows, in texts of every length 0..200, so each one sits
        // before, on and after every window edge and the text's end.
        let stoppers: [&[u8]; 11] = [
            b"\"",
            b"\\\"",
            b"\\\\\"",
            b"\\\\\\\"",
            b"\\\\\\\\\"",
            b"\\n\"",
            b"\\u00e9\"",
            b"\\u00g9\"",
            b"\\x\"",
            b"\x01\"",
            b"\x1f",
        ];
        let mut t = Tape::new();
        for len in 0..200usize {
            for at in 0..40usize {
                for stop in stoppers {
                    // `pad` spaces, the opening quote, `at` bytes, the stop bytes, then filler up to `len`.
                    for pad in [0, 1, 15, 16, 17] {
                        let mut b = vec![b' '; pad];
                        b.push(b'"');
                        b.extend((0..at).map(|k| [b'a', 0xc3, 0xa9, b'~'][k % 4]).take(at));
                        // Keep the UTF-8 whole: an unfinished 'é' gets its second byte.
                        if b.last() == Some(&0xc3) {
                            b.push(0xa9);
                        }
                        b.extend_from_slice(stop);
                        while b.len() < len {
                            b.push(if b.len() % 7 == 3 { b'"' } else { b'x' });
                        }
                        b.truncate(len.max(pad + 1));
                        let Ok(text) = std::str::from_utf8(&b) else { continue };
                        let want = string_oracle(b.as_slice(), pad);
                        assert_eq!(string(text.as_bytes(), pad), want, "{text:?}");
                        let key = key_string(text.as_bytes(), pad);
                        assert_eq!(key.map(|(e, x, _)| (e, x)), want, "{text:?}");
                        if let (Ok((_, _, head)), Ok((end, _))) = (key, want) {
                            assert_eq!(head, key_head(&b[pad + 1..end - 1]), "{text:?}");
                        }
                        // The whole text through the scanner, against serde_json (no surrogates here).
                        let ours = t.scan(text).map(|()| to_value(&t, text, 0));
                        let theirs = serde_json::from_str::<serde_json::Value>(text);
                        assert_eq!(ours.is_ok(), theirs.is_ok(), "{text:?}");
                        if let (Ok(a), Ok(b)) = (ours, theirs) {
                            assert_eq!(a, b, "{text:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn structurals_and_members_across_vector_edges() {
        // Objects and arrays whose keys, values, escapes and separators fall on every offset around
        // the sixteen-byte windows: a member list grown one byte at a time up to 200 bytes, scanned
        // as a whole and as every prefix (each prefix must fail or read as serde_json reads it).
        let mut t = Tape::new();
        for unit in [
            r#""k":"v","#,
            r#""k\"\\":"a\nb","#,
            r#""long key 0123456789":[1,{"":""}],"#,
            r#""é":"\u0041é","#,
            r#""":-0.5e3,"#,
        ] {
            let mut text = String::from("{");
            while text.len() < 200 {
                let whole = format!("{}\"end\":null}}", text);
                for cut in 0..=whole.len() {
                    let Some(part) = whole.get(..cut) else { continue };
                    let ours = t.scan(part).map(|()| to_value(&t, part, 0));
                    let theirs = serde_json::from_str::<serde_json::Value>(part);
                    assert_eq!(ours.is_ok(), theirs.is_ok(), "{part:?}");
                    if let (Ok(a), Ok(b)) = (ours, theirs) {
                        assert_eq!(a, b, "{part:?}");
                    }
                }
                text.push_str(unit);
                text.push_str(&" ".repeat(text.len() % 3));
            }
        }
    }

    #[test]
    fn the_tape_is_reused_across_texts() {
        // Nodes are written in place: a long text, then shorter ones, then a failed scan.
        let mut t = Tape::new();
        let long = format!("[{}]", vec!["{\"a\":[1,2,{}]}"; 50].join(","));
        t.scan(&long).unwrap();
        // An object, its member `a` (key and value in one entry), and the array's three items.
        assert_eq!(t.len(), 1 + 50 * 5);
        t.scan(r#"{"b":[true]}"#).unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t.members(0).count(), 1);
        assert_eq!(t.items(1).count(), 1);
        assert_eq!(t.node(0).next, 3);
        assert!(t.scan("[1,2").is_err());
        assert!(t.is_empty());
        t.scan("7").unwrap();
        assert_eq!((t.len(), t.kind(0)), (1, Kind::Number));
    }

    #[test]
    fn keys_share_their_values_entry() {
        // Every key length around the eight-byte word, plain and escaped, at the end of the text
        // (the word past the key runs off it) and with whitespace around the colon.
        for len in 0..20 {
            let name: String = (0..len).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
            for (key, decoded, escaped) in
                [(name.clone(), name.clone(), false), (format!("{name}\\n"), format!("{name}\n"), true)]
            {
                for text in [
                    format!("{{\"{key}\":1}}"),
                    format!("{{ \"x\" : [], \"{key}\" :\n\"v\" }}"),
                    format!("[{{\"{key}\":{{}}}}]"),
                ] {
                    let mut t = Tape::new();
                    t.scan(&text).unwrap();
                    let obj = if text.starts_with('[') { 1 } else { 0 };
                    let (k, v) = t.members(obj).last().unwrap();
                    assert_eq!(k, v | KEY);
                    let info = t.key(v);
                    let raw = format!("\"{key}\"");
                    assert_eq!((info.len as usize, info.escaped), (key.len(), escaped), "{text}");
                    let mut head = [0u8; 8];
                    for (h, c) in head.iter_mut().zip(key.bytes()) {
                        *h = c;
                    }
                    assert_eq!(info.head, u64::from_le_bytes(head), "{text}");
                    assert_eq!(t.raw(&text, k), raw);
                    assert_eq!(t.kind(k), if escaped { Kind::StrEscaped } else { Kind::Str });
                    assert_eq!(t.str(&text, k), decoded);
                    assert!(t.str_eq(&text, k, &decoded) && !t.str_eq(&text, k, &format!("{decoded}x")));
                    assert_eq!(t.plain_key(&text, v), (!escaped).then_some(key.as_bytes()));
                    assert_eq!(t.get(&text, obj, &decoded), Some(v));
                    assert!(matches!(t.kind(v), Kind::Number | Kind::Str | Kind::Object));
                }
            }
        }
    }

    #[test]
    fn densest_texts_fit_the_bound() {
        // Nodes never exceed (bytes + 1) / 2 for a valid text (each node but the root has its own
        // first byte and a separator or closer of its own).
        let mut t = Tape::new();
        for text in
            [&"[".repeat(300) as &str, "[1,2,3,4,5,6,7,8,9]", r#"{"":0,"":[],"":{}}"#, "[[],[],[[]],{}]", "0", "\"\""]
        {
            let full = if text.starts_with("[[[") { format!("{text}{}", "]".repeat(300)) } else { text.to_string() };
            t.scan(&full).unwrap();
            assert!(t.len() <= full.len().div_ceil(2), "{full}");
        }
    }

    #[test]
    fn whitespace_everywhere_json_allows_it() {
        let text = " \t\n\r{ \"a\" : [ 1 , { } , [ ] , \"x\" ] , \"b\" :\nnull } \r\n";
        let mut t = Tape::new();
        t.scan(text).unwrap();
        let a = t.get(text, 0, "a").unwrap();
        assert_eq!(t.items(a).map(|i| t.raw(text, i)).collect::<Vec<_>>(), ["1", "{ }", "[ ]", "\"x\""]);
        assert_eq!(t.kind(t.get(text, 0, "b").unwrap()), Kind::Null);
        for (bad, what, at) in [
            ("{ \"a\" 1}", "expected ':'", 6),
            ("[1 ,]", "expected a value", 4),
            ("{\"a\":1 , }", "expected a string key", 9),
            ("[1 }", "expected ',' or ']'", 3),
            ("{\"a\":1 ]", "expected ',' or '}'", 7),
            ("[1 ", "unexpected end of text", 3),
            ("1 x", "unexpected text after the value", 2),
        ] {
            assert_eq!(t.scan(bad).unwrap_err(), ScanError { what, at }, "{bad}");
        }
    }

    #[test]
    fn surrogates_decode_like_js_then_lossy() {
        let mut s = String::new();
        unescape_into(r"\ud83d\ude00 \ud800 x\u0041", &mut s);
        assert_eq!(s, "\u{1F600} \u{FFFD} xA");
    }

    #[test]
    fn numbers() {
        for (raw, x) in [
            ("5", 5.0),
            ("-12", -12.0),
            ("1.5", 1.5),
            ("1e400", f64::INFINITY),
            ("123456789012345678", 1.2345678901234568e17),
        ] {
            assert_eq!(parse_number(raw), x, "{raw}");
        }
    }
}
