//! The flush plan: everything one flush applies to the QueryClient. Ops name keys by small ids
//! (interned in `pending::Keys`); a key's hash text travels with the first plan that names it
//! (`KeyRef::new`), so the shim, which keeps `id -> { queryHash, queryKey }`, never receives or
//! parses the same key twice. Patch values are the events' raw JSON text. [`FlushPlan::encode`]
//! writes the binary form that crosses to JS in one call (docs/INTERFACES.md "The flush plan").

use crate::event::RefetchType;
use crate::pending::KeyId;

/// A key as an op names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRef {
    pub id: KeyId,
    /// No earlier plan named this id (since the last key-table reset): its hash goes with this plan.
    pub new: bool,
    /// The hash's span in the plan's text.
    span: (u32, u32),
    /// The key's leading run of primitive elements, for the shim's matcher ([`KeyRun`]).
    run: KeyRun,
}

/// A key's leading run of primitive elements (strings, numbers, booleans, null), read off its hash:
/// how many elements it has, where it ends in the hash (the offset of the `,` or `]` after its last
/// element, 1 for an empty run), and whether it is the whole key. The shim indexes a non-exact key
/// by that prefix (docs/INTERFACES.md "The flush plan"), so it never scans a hash of ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyRun {
    pub len: u32,
    pub end: u32,
    pub whole: bool,
    /// The hash is not a JSON array (the shim matches such a key element by element).
    pub not_array: bool,
}

impl KeyRun {
    /// The run of the key with hash `text` whose top-level elements end at `ends`.
    pub fn of(text: &str, ends: &[u32]) -> KeyRun {
        let b = text.as_bytes();
        if b.first() != Some(&b'[') || (ends.is_empty() && text != "[]") {
            return KeyRun { not_array: true, ..KeyRun::default() };
        }
        let mut len = 0;
        while len < ends.len() {
            let start = if len == 0 { 1 } else { ends[len - 1] as usize + 1 };
            if matches!(b.get(start), Some(b'[' | b'{')) {
                break;
            }
            len += 1;
        }
        let end = if len == 0 { 1 } else { ends[len - 1] };
        KeyRun { len: len as u32, end, whole: len == ends.len(), not_array: false }
    }

    /// The binary form: the length, bit 30 whole, bit 31 not an array.
    fn bits(&self) -> u32 {
        self.len.min(0x3fff_ffff) | (u32::from(self.whole) << 30) | (u32::from(self.not_array) << 31)
    }
}

/// FNV-1a (32-bit) over UTF-16 code units: the number the shim matches keys by (docs/INTERFACES.md
/// "The flush plan"). The shim computes the same function over each cached query's `queryHash`, so a
/// key's hash text is compared only when the numbers agree, and JS never hashes a key string of ours.
pub const FNV_OFFSET: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;

fn fnv(h: u32, unit: u32) -> u32 {
    (h ^ unit).wrapping_mul(FNV_PRIME)
}

/// [`fnv`] from `h` over the UTF-16 code units of `s`, and how many there are.
fn fold(h: u32, s: &str) -> (u32, u32) {
    // ASCII (every key the bench writes): a byte is a unit; the check rides along, four bytes
    // a step.
    let (mut ascii_h, mut high) = (h, 0u8);
    let (quads, rest) = s.as_bytes().as_chunks::<4>();
    for &[a, b, c, d] in quads {
        ascii_h = fnv(fnv(fnv(fnv(ascii_h, u32::from(a)), u32::from(b)), u32::from(c)), u32::from(d));
        high |= a | b | c | d;
    }
    for &b in rest {
        ascii_h = fnv(ascii_h, u32::from(b));
        high |= b;
    }
    if high < 0x80 {
        (ascii_h, s.len() as u32)
    } else {
        s.encode_utf16().fold((h, 0u32), |(h, n), u| (fnv(h, u32::from(u)), n.saturating_add(1)))
    }
}

/// What the shim reads off a new key's hash `s`: its UTF-16 length and [`fnv`] hash, and for its
/// first `cut` bytes (the key's primitive run, [`KeyRun::end`]; all of `s` when `cut` is not a
/// boundary in it) their UTF-16 length and the hash of that prefix closed with `]` (the text of the
/// run as a key of its own).
fn text_hash(s: &str, cut: usize) -> [u32; 4] {
    let (head, tail) = match (s.get(..cut), s.get(cut..)) {
        (Some(head), Some(tail)) => (head, tail),
        _ => (s, ""),
    };
    let (head_h, head_units) = fold(FNV_OFFSET, head);
    let (h, tail_units) = fold(head_h, tail);
    [head_units.saturating_add(tail_units), h, head_units, fnv(head_h, u32::from(b']'))]
}

/// A new key's record in [`FlushPlan::encode`]: six u32, little-endian.
fn record([a, b, c, d, e, f]: [u32; 6]) -> [u8; 24] {
    // Spelled out: `copy_from_slice` is a memcpy call at opt z.
    let ([a0, a1, a2, a3], [b0, b1, b2, b3], [c0, c1, c2, c3]) = (a.to_le_bytes(), b.to_le_bytes(), c.to_le_bytes());
    let ([d0, d1, d2, d3], [e0, e1, e2, e3], [f0, f1, f2, f3]) = (d.to_le_bytes(), e.to_le_bytes(), f.to_le_bytes());
    [a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3, d0, d1, d2, d3, e0, e1, e2, e3, f0, f1, f2, f3]
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InvalidateOp {
    pub key: KeyRef,
    pub exact: bool,
    pub refetch_type: RefetchType,
}

/// Patch a cached doc with `fields` (and `version`); when the doc is not cached, invalidate it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PatchOp {
    pub key: KeyRef,
    /// `fields` entries `start..end` of the plan.
    fields: (u32, u32),
    pub version: Option<f64>,
}

/// Refetch the active queries under a key (recovery after a reconnect, polling).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RefetchOp {
    pub key: KeyRef,
    pub exact: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlushPlan {
    pub invalidate: Vec<InvalidateOp>,
    pub patch: Vec<PatchOp>,
    pub refetch: Vec<RefetchOp>,
    /// The key table started afresh before this plan: ids from earlier plans mean nothing now.
    pub reset: bool,
    /// Hashes and patch field texts, one after the other.
    text: String,
    /// Per patch field: name span, raw JSON value span.
    fields: Vec<((u32, u32), (u32, u32))>,
    /// Hashes of keys that pending mutations hold (crate::hold): no op of this plan touches a query
    /// under them (their ops wait in `Pending`).
    pub hold: Vec<String>,
}

impl FlushPlan {
    pub fn is_empty(&self) -> bool {
        self.invalidate.is_empty() && self.patch.is_empty() && self.refetch.is_empty()
    }

    /// How many ops the plan holds.
    pub fn len(&self) -> usize {
        self.invalidate.len() + self.patch.len() + self.refetch.len()
    }

    /// Empties the plan and keeps its buffers, for the next flush ([`crate::Engine::recycle_plan`]).
    pub fn clear(&mut self) {
        self.invalidate.clear();
        self.patch.clear();
        self.refetch.clear();
        self.reset = false;
        self.text.clear();
        self.fields.clear();
        self.hold.clear();
    }

    fn span(&mut self, s: &str) -> (u32, u32) {
        let start = self.text.len() as u32;
        self.text.push_str(s);
        (start, self.text.len() as u32)
    }

    pub(crate) fn key(&mut self, id: KeyId, new: bool, hash: &str, run: KeyRun) -> KeyRef {
        KeyRef { id, new, span: self.span(hash), run }
    }

    /// Starts a patch op; add its fields with [`FlushPlan::push_field`] before the next op.
    pub(crate) fn push_patch(&mut self, key: KeyRef, version: Option<f64>) {
        let at = self.fields.len() as u32;
        self.patch.push(PatchOp { key, fields: (at, at), version });
    }

    pub(crate) fn push_field(&mut self, name: &str, raw: &str) {
        let n = self.span(name);
        let v = self.span(raw);
        self.fields.push((n, v));
        if let Some(p) = self.patch.last_mut() {
            p.fields.1 = self.fields.len() as u32;
        }
    }

    fn slice(&self, (s, e): (u32, u32)) -> &str {
        &self.text[s as usize..e as usize]
    }

    /// The key's canonical hash (TanStack `hashKey`).
    pub fn hash(&self, k: &KeyRef) -> &str {
        self.slice(k.span)
    }

    /// A patch's fields: (name, the value's raw JSON text), names unique.
    pub fn fields<'p>(&'p self, op: &PatchOp) -> impl Iterator<Item = (&'p str, &'p str)> + 'p {
        self.fields[op.fields.0 as usize..op.fields.1 as usize].iter().map(|&(n, v)| (self.slice(n), self.slice(v)))
    }

    /// Every key the plan touches, for tests and traces.
    pub fn hashes(&self) -> Vec<&str> {
        self.invalidate
            .iter()
            .map(|o| &o.key)
            .chain(self.patch.iter().map(|o| &o.key))
            .chain(self.refetch.iter().map(|o| &o.key))
            .map(|k| self.hash(k))
            .collect()
    }

    /// The binary form (little-endian), appended to `out`:
    ///
    /// ```text
    /// u8 flags (1 = reset: forget every id)
    /// u32 n, u32 len, then n × { u32 id, u32 units, u32 run, u32 run_end, u32 fnv, u32 run_fnv },
    ///      then len bytes: the new keys' hashes (UTF-8), one after the other, each `units` UTF-16
    ///      code units long; `run` and `run_end` (in UTF-16 units) are the key's [`KeyRun`]; `fnv`
    ///      is [`fnv`] over the hash, `run_fnv` over the run's text closed with `]`   keys new in this plan
    /// u32 n, then n × { u32 id, u8 flags (1 exact, 2 active, 4 inactive) }     invalidate
    /// u32 n, then n × { u32 id, f64 version (NaN = none), u32 len, len bytes: the fields as a JSON object }   patch
    /// u32 n, then n × { u32 id, u8 flags (1 exact) }                           refetch
    /// u32 n, then n × { u32 len, len bytes: a held key's hash }                hold (optimistic updates)
    /// ```
    pub fn encode(&self, out: &mut Vec<u8>) {
        let u32_ = |out: &mut Vec<u8>, x: u32| out.extend_from_slice(&x.to_le_bytes());
        out.push(u8::from(self.reset));
        let keys = || {
            let ops = self.invalidate.iter().map(|o| o.key).chain(self.patch.iter().map(|o| o.key));
            ops.chain(self.refetch.iter().map(|o| o.key)).filter(|k| k.new)
        };
        // The new keys' hashes go as one text after their ids, so JS decodes them in one call and
        // slices them by their UTF-16 lengths. One pass writes both: the records into room made
        // for them, the text after it.
        let (mut n, mut text_len) = (0usize, 0u32);
        for k in keys() {
            n += 1;
            text_len = text_len.saturating_add(k.span.1.saturating_sub(k.span.0));
        }
        u32_(out, n as u32);
        u32_(out, text_len);
        let mut text = Vec::with_capacity(text_len as usize);
        for k in keys() {
            let h = self.hash(&k);
            let [units, whole, run_units, run_hash] = text_hash(h, k.run.end as usize);
            out.extend_from_slice(&record([k.id, units, k.run.bits(), run_units, whole, run_hash]));
            text.extend_from_slice(h.as_bytes());
        }
        out.extend_from_slice(&text);
        // An op's id and flags go as one 5-byte write.
        let op = |out: &mut Vec<u8>, id: u32, flags: u8| {
            let [a, b, c, d] = id.to_le_bytes();
            out.extend_from_slice(&[a, b, c, d, flags]);
        };
        u32_(out, self.invalidate.len() as u32);
        for o in &self.invalidate {
            let rt = match o.refetch_type {
                RefetchType::None => 0,
                RefetchType::Active => 2,
                RefetchType::Inactive => 4,
                RefetchType::All => 6,
            };
            op(out, o.key.id, u8::from(o.exact) | rt);
        }
        u32_(out, self.patch.len() as u32);
        let mut name_buf = String::new();
        for o in &self.patch {
            u32_(out, o.key.id);
            out.extend_from_slice(&o.version.unwrap_or(f64::NAN).to_le_bytes());
            let len_at = out.len();
            u32_(out, 0);
            out.push(b'{');
            for (i, (name, raw)) in self.fields(o).enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                name_buf.clear();
                crate::key::write_string(&mut name_buf, name);
                out.extend_from_slice(name_buf.as_bytes());
                out.push(b':');
                out.extend_from_slice(raw.as_bytes());
            }
            out.push(b'}');
            let len = (out.len() - len_at - 4) as u32;
            out[len_at..len_at + 4].copy_from_slice(&len.to_le_bytes());
        }
        u32_(out, self.refetch.len() as u32);
        for o in &self.refetch {
            op(out, o.key.id, u8::from(o.exact));
        }
        u32_(out, self.hold.len() as u32);
        for h in &self.hold {
            u32_(out, h.len() as u32);
            out.extend_from_slice(h.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pending::Pending;

    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    #[test]
    fn new_keys_cross_as_one_text_with_utf16_lengths() {
        let mut p = Pending::default();
        let (a, b) = (r#"["doc","wo","1"]"#, r#"["doc","wo","é😀"]"#);
        p.invalidate(a, false, RefetchType::Active);
        p.invalidate(b, true, RefetchType::All);
        let plan = p.take_plan();
        let mut out = Vec::new();
        plan.encode(&mut out);
        assert_eq!(out[0], 0);
        assert_eq!(u32_at(&out, 1), 2);
        let text_len = u32_at(&out, 5) as usize;
        assert_eq!(text_len, a.len() + b.len());
        let ids = [u32_at(&out, 9), u32_at(&out, 33)];
        assert_eq!(ids, [plan.invalidate[0].key.id, plan.invalidate[1].key.id]);
        // é is one UTF-16 unit (two UTF-8 bytes), 😀 two units (four bytes).
        assert_eq!(
            [u32_at(&out, 13), u32_at(&out, 37)],
            [a.len() as u32, b.chars().map(char::len_utf16).sum::<usize>() as u32]
        );
        assert_eq!(u32_at(&out, 37), b.len() as u32 - 3);
        // Both keys are three primitives: the run is the whole key, up to its closing bracket.
        assert_eq!([u32_at(&out, 17), u32_at(&out, 21)], [3 | 1 << 30, a.len() as u32 - 1]);
        assert_eq!([u32_at(&out, 41), u32_at(&out, 45)], [3 | 1 << 30, b.len() as u32 - 3 - 1]);
        // The numbers the shim matches by: over the whole hash, and over the run closed with `]`
        // (here the run is the whole key, so both are the hash's).
        assert_eq!([u32_at(&out, 25), u32_at(&out, 29)], [fnv16(a), fnv16(a)]);
        assert_eq!([u32_at(&out, 49), u32_at(&out, 53)], [fnv16(b), fnv16(b)]);
        assert_eq!(&out[57..57 + text_len], format!("{a}{b}").as_bytes());
        let at = 57 + text_len;
        assert_eq!(u32_at(&out, at), 2);
        assert_eq!([out[at + 8], out[at + 13]], [2, 1 | 6]);
        // A later plan names known keys by id only.
        p.invalidate(a, false, RefetchType::Active);
        let mut again = Vec::new();
        p.take_plan().encode(&mut again);
        assert_eq!((u32_at(&again, 1), u32_at(&again, 5)), (0, 0));
        assert_eq!(u32_at(&again, 9), 1);
    }

    /// FNV-1a over UTF-16 units, written out plainly: what JS computes over a string.
    fn fnv16(s: &str) -> u32 {
        s.encode_utf16().fold(0x811c_9dc5, |h: u32, u| (h ^ u32::from(u)).wrapping_mul(0x0100_0193))
    }

    #[test]
    fn text_hash_is_fnv_over_utf16_units() {
        // The published FNV-1a 32 vectors (one byte = one unit for ASCII).
        assert_eq!(text_hash("", 0)[1], 0x811c_9dc5);
        assert_eq!(text_hash("a", 1)[1], 0xe40c_292c);
        assert_eq!(text_hash("foobar", 6)[1], 0xbf9c_f968);
        for (s, cut) in [(r#"["list","wo",{"page":1}]"#, 12), (r#"["é😀",{"x":"ü"}]"#, 9), ("[]", 1), (r#"{"a":1}"#, 0)]
        {
            let [units, whole, cut_units, run] = text_hash(s, cut);
            assert_eq!(units as usize, s.encode_utf16().count(), "{s}");
            assert_eq!(whole, fnv16(s), "{s}");
            assert_eq!(cut_units as usize, s[..cut].encode_utf16().count(), "{s}");
            assert_eq!(run, fnv16(&format!("{}]", &s[..cut])), "{s}");
        }
    }

    #[test]
    fn key_runs() {
        let run = |t: &str, ends: &[u32]| KeyRun::of(t, ends);
        assert_eq!(run("[]", &[]), KeyRun { len: 0, end: 1, whole: true, not_array: false });
        let t = r#"["list","wo",{"page":1},"x"]"#;
        assert_eq!(run(t, &[7, 12, 23, 27]), KeyRun { len: 2, end: 12, whole: false, not_array: false });
        assert_eq!(run(r#"[{"a":1}]"#, &[8]), KeyRun { len: 0, end: 1, whole: false, not_array: false });
        assert_eq!(run(r#"[["a"],1]"#, &[6, 8]).len, 0);
        assert!(run(r#"{"a":1}"#, &[]).not_array);
        assert!(run("[1]", &[]).not_array, "no element ends for a non-empty array: matched the slow way");
    }
}
