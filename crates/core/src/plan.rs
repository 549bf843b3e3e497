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

    fn span(&mut self, s: &str) -> (u32, u32) {
        let start = self.text.len() as u32;
        self.text.push_str(s);
        (start, self.text.len() as u32)
    }

    pub(crate) fn key(&mut self, id: KeyId, new: bool, hash: &str) -> KeyRef {
        KeyRef { id, new, span: self.span(hash) }
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
    /// u32 n, u32 len, then n × { u32 id, u32 units }, then len bytes: the new keys' hashes (UTF-8),
    ///      one after the other, each `units` UTF-16 code units long          keys new in this plan
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
        // slices them by their UTF-16 lengths.
        let (mut n, mut text_len) = (0u32, 0u32);
        for k in keys() {
            n = n.saturating_add(1);
            text_len = text_len.saturating_add(self.hash(&k).len() as u32);
        }
        u32_(out, n);
        u32_(out, text_len);
        for k in keys() {
            let h = self.hash(&k);
            u32_(out, k.id);
            u32_(out, if h.is_ascii() { h.len() } else { h.encode_utf16().count() } as u32);
        }
        for k in keys() {
            out.extend_from_slice(self.hash(&k).as_bytes());
        }
        u32_(out, self.invalidate.len() as u32);
        for o in &self.invalidate {
            u32_(out, o.key.id);
            let rt = match o.refetch_type {
                RefetchType::None => 0,
                RefetchType::Active => 2,
                RefetchType::Inactive => 4,
                RefetchType::All => 6,
            };
            out.push(u8::from(o.exact) | rt);
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
            u32_(out, o.key.id);
            out.push(u8::from(o.exact));
        }
        u32_(out, self.hold.len() as u32);
        for h in &self.hold {
            u32_(out, h.len() as u32);
            out.extend_from_slice(h.as_bytes());
        }
    }
}
