//! Operations waiting for the next flush, kept so that building a plan is linear in their number.
//!
//! Keys are interned ([`Keys`]): each canonical hash (TanStack `hashKey`) is stored once, with the
//! offsets where its top-level elements end, so every prefix of a key is a slice of its text plus
//! `]`, never a new key value. Operations live in dense storage indexed by key id (one slot per
//! key: its invalidation, its patch, its refetch), so the same key twice is one op that does what
//! both asked. Patch values stay raw JSON text until the plan is built. Prefix subsumption looks up
//! each key's prefixes by hash (never key-against-key). Nothing here allocates per event once the
//! buffers have grown to the stream's working size.

use crate::event::RefetchType;
use crate::hash::{hash_str, same_bytes, HashIndex};
use crate::hold::{Holds, Verdict};
use crate::plan::{FlushPlan, InvalidateOp, KeyRef, KeyRun, RefetchOp};
use crate::scan::Tape;

/// Fields a patch never writes: writing them through an object spread or assignment could reach
/// `Object.prototype` in the shim (prototype pollution). A `match`, not a `contains` over a list:
/// at opt z, the shipped setting, that was a call comparing all three.
pub fn is_forbidden(name: &str) -> bool {
    matches!(name, "__proto__" | "constructor" | "prototype")
}

/// A key's small id in [`Keys`].
pub type KeyId = u32;

const NONE: u32 = u32::MAX;

/// Past this many interned keys the table starts afresh at the next flush (memory stays flat).
pub const KEY_CAPACITY: usize = 1 << 14;

/// The interned key table.
#[derive(Debug, Default)]
pub struct Keys {
    /// Every key's hash, one after the other.
    text: String,
    /// Per key: its span in `text` and its span in `ends`.
    spans: Vec<(u32, u32, u32, u32)>,
    /// Per key: the offsets (relative to the key's start) just after each top-level element.
    ends: Vec<u32>,
    /// From a key's hash to its id.
    index: HashIndex,
    /// Whether a plan has named the key yet (its hash then crossed to the shim).
    known: Vec<bool>,
    /// The table was cleared since the last plan: the next plan says so.
    reset: bool,
    /// Bumped when the table is cleared: an id kept by a caller is valid while this is unchanged
    /// ([`Pending::key_epoch`]).
    epoch: u32,
    tape: Tape,
}

impl Keys {
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    pub fn text(&self, id: KeyId) -> &str {
        let (s, e, _, _) = self.spans[id as usize];
        &self.text[s as usize..e as usize]
    }

    /// Offsets just after each top-level element of key `id` (its prefixes end there).
    pub fn ends(&self, id: KeyId) -> &[u32] {
        let (_, _, s, e) = self.spans[id as usize];
        &self.ends[s as usize..e as usize]
    }

    pub fn find(&self, hash: &str) -> Option<KeyId> {
        self.find_hashed(hash_str(hash), hash)
    }

    /// [`Keys::find`] with `h` = `hash_str(hash)`.
    #[inline(always)]
    fn find_hashed(&self, h: u64, hash: &str) -> Option<KeyId> {
        let is = |id: KeyId| match self.spans.get(id as usize) {
            Some(&(s, e, _, _)) => match self.text.as_bytes().get(s as usize..e as usize) {
                Some(t) => same_bytes(t, hash.as_bytes()),
                None => false,
            },
            None => false,
        };
        self.index.find(h, is)
    }

    /// The id of `hash` (a canonical key hash), adding it when new; its element ends come from a
    /// scan of the hash.
    pub fn intern(&mut self, hash: &str) -> KeyId {
        self.intern_with(hash, None)
    }

    /// The id of `hash`, adding it when new with `ends` as its element ends ([`Keys::ends`]) when
    /// the caller wrote the hash and knows them (`rules.rs`, the engine's doc/list keys); `None`:
    /// they come from a scan of the hash.
    #[inline(always)]
    pub fn intern_with(&mut self, hash: &str, ends: Option<&[u32]>) -> KeyId {
        let h = hash_str(hash);
        match self.find_hashed(h, hash) {
            Some(id) => id,
            None => self.insert(h, hash, ends),
        }
    }

    /// [`Keys::intern_with`] of a key not interned yet, whose `hash_str` is `h`.
    #[inline(never)]
    fn insert(&mut self, h: u64, hash: &str, ends: Option<&[u32]>) -> KeyId {
        let id = self.spans.len() as KeyId;
        let start = self.text.len() as u32;
        self.text.push_str(hash);
        let ends_start = self.ends.len() as u32;
        match ends {
            Some(ends) => {
                // Debug builds (the test suites) check every writer against the scan.
                debug_assert!(
                    self.tape.scan(hash).is_ok()
                        && self.tape.items(0).map(|i| self.tape.node(i).end).eq(ends.iter().copied()),
                    "element ends of {hash}: {ends:?}"
                );
                self.ends.extend_from_slice(ends);
            }
            // The hash is JSON we were given; its top-level elements' ends come from one scan.
            None => {
                if self.tape.scan(hash).is_ok() {
                    for item in self.tape.items(0) {
                        self.ends.push(self.tape.node(item).end);
                    }
                }
            }
        }
        self.spans.push((start, self.text.len() as u32, ends_start, self.ends.len() as u32));
        self.index.link(h, id);
        self.known.push(false);
        id
    }

    /// Marks `id` as named by a plan; true the first time.
    fn first_use(&mut self, id: KeyId) -> bool {
        !std::mem::replace(&mut self.known[id as usize], true)
    }

    pub fn clear(&mut self) {
        self.text.clear();
        self.spans.clear();
        self.ends.clear();
        self.index.clear();
        self.known.clear();
        self.reset = true;
        self.epoch = self.epoch.wrapping_add(1);
    }
}

const PRESENT: u8 = 0x80;
const EXACT: u8 = 0x40;

fn rt_bits(rt: RefetchType) -> u8 {
    match rt {
        RefetchType::None => 0,
        RefetchType::Active => 1,
        RefetchType::Inactive => 2,
        RefetchType::All => 3,
    }
}

fn bits_rt(b: u8) -> RefetchType {
    match b & 3 {
        0 => RefetchType::None,
        1 => RefetchType::Active,
        2 => RefetchType::Inactive,
        _ => RefetchType::All,
    }
}

/// A key length's bit in [`Pending::broad_lens`].
fn len_bit(len: usize) -> u64 {
    1u64 << len.min(63)
}

/// What waits for one key.
#[derive(Debug, Clone, Copy)]
struct Slot {
    /// `PRESENT | EXACT? | refetch bits`, or 0.
    inv: u8,
    /// `PRESENT | EXACT?`, or 0.
    refetch: u8,
    /// Index into `patches`, or `NONE`.
    patch: u32,
}

const EMPTY: Slot = Slot { inv: 0, refetch: 0, patch: NONE };

#[derive(Debug, Clone, Copy)]
struct PatchAcc {
    key: KeyId,
    version: Option<f64>,
    /// First field entry, or `NONE`.
    first: u32,
}

#[derive(Debug, Clone, Copy)]
struct Field {
    /// Spans in `Pending::field_text`.
    name: (u32, u32),
    value: (u32, u32),
    next: u32,
}

#[derive(Debug, Default)]
pub struct Pending {
    keys: Keys,
    slots: Vec<Slot>,
    inv_order: Vec<KeyId>,
    refetch_order: Vec<KeyId>,
    patches: Vec<PatchAcc>,
    fields: Vec<Field>,
    field_text: String,
    /// Scratch for prefix hashes.
    prefix: String,
}

impl Pending {
    pub fn is_empty(&self) -> bool {
        self.inv_order.is_empty() && self.patches.is_empty() && self.refetch_order.is_empty()
    }

    pub fn len(&self) -> usize {
        self.inv_order.len() + self.patches.len() + self.refetch_order.len()
    }

    /// The interned keys (for tests and traces).
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    fn slot(&mut self, hash: &str, ends: Option<&[u32]>) -> (KeyId, &mut Slot) {
        let id = self.slot_id(hash, ends);
        (id, &mut self.slots[id as usize])
    }

    /// The id of `hash` (interned now if new) with a slot for it. Inlined in the op writers: at opt
    /// z, the shipped setting, each of the two calls it was cost more than its work (issue 10).
    #[inline(always)]
    fn slot_id(&mut self, hash: &str, ends: Option<&[u32]>) -> KeyId {
        let id = self.keys.intern_with(hash, ends);
        if self.slots.len() <= id as usize {
            self.grow_slots(id);
        }
        id
    }

    #[inline(never)]
    fn grow_slots(&mut self, id: KeyId) {
        self.slots.resize(id as usize + 1, EMPTY);
    }

    /// Adds an invalidation of the key with canonical hash `hash`; the same key twice becomes one
    /// op that does what both asked.
    pub fn invalidate(&mut self, hash: &str, exact: bool, refetch_type: RefetchType) {
        self.invalidate_with(hash, None, exact, refetch_type);
    }

    /// [`Pending::invalidate`] of a key whose writer knows its element ends ([`Keys::intern_with`]).
    /// Returns the key's id ([`Pending::invalidate_id`] takes it while [`Pending::key_epoch`] is
    /// unchanged).
    pub fn invalidate_with(
        &mut self,
        hash: &str,
        ends: Option<&[u32]>,
        exact: bool,
        refetch_type: RefetchType,
    ) -> KeyId {
        let id = self.slot_id(hash, ends);
        self.invalidate_id(id, exact, refetch_type);
        id
    }

    /// The epoch of the key table: the ids it gave stay valid while this is unchanged (the engine
    /// keeps its tables' list-head ids, `tables.rs`).
    pub fn key_epoch(&self) -> u32 {
        self.keys.epoch
    }

    /// [`Pending::invalidate`] of a key already interned (`id`, of the current [`Pending::key_epoch`]).
    pub fn invalidate_id(&mut self, id: KeyId, exact: bool, refetch_type: RefetchType) {
        let Some(s) = self.slots.get_mut(id as usize) else { return };
        if s.inv & PRESENT != 0 {
            let ex = s.inv & EXACT != 0 && exact;
            let rt = bits_rt(s.inv).join(refetch_type);
            s.inv = PRESENT | if ex { EXACT } else { 0 } | rt_bits(rt);
            return;
        }
        s.inv = PRESENT | if exact { EXACT } else { 0 } | rt_bits(refetch_type);
        self.inv_order.push(id);
    }

    /// Adds a patch of doc `hash` with `fields` (name, raw JSON value); a second patch of the same
    /// doc merges in, the higher version's values winning.
    pub fn patch<N: AsRef<str>, V: AsRef<str>>(
        &mut self,
        hash: &str,
        fields: impl IntoIterator<Item = (N, V)>,
        version: Option<f64>,
    ) {
        self.patch_with(hash, None, fields, version)
    }

    /// [`Pending::patch`] of a doc key whose writer knows its element ends ([`Keys::intern_with`]).
    pub fn patch_with<N: AsRef<str>, V: AsRef<str>>(
        &mut self,
        hash: &str,
        ends: Option<&[u32]>,
        fields: impl IntoIterator<Item = (N, V)>,
        version: Option<f64>,
    ) {
        let key = self.slot_id(hash, ends);
        let at = self.slots[key as usize].patch;
        let (at, newer) = if at == NONE {
            self.slots[key as usize].patch = self.patches.len() as u32;
            self.patches.push(PatchAcc { key, version, first: NONE });
            (self.patches.len() - 1, true)
        } else {
            let acc = &mut self.patches[at as usize];
            let newer = match (acc.version, version) {
                (Some(old), Some(new)) => new >= old,
                _ => true, // without versions, arrival order decides
            };
            if newer {
                acc.version = version.or(acc.version);
            }
            (at as usize, newer)
        };
        for (name, value) in fields {
            let (name, value) = (name.as_ref(), value.as_ref());
            if is_forbidden(name) {
                continue;
            }
            let mut f = self.patches[at].first;
            let mut found = NONE;
            while f != NONE {
                let fl = self.fields[f as usize];
                if self.field_text.as_bytes().get(fl.name.0 as usize..fl.name.1 as usize) == Some(name.as_bytes()) {
                    found = f;
                    break;
                }
                f = fl.next;
            }
            if found != NONE && !newer {
                continue; // the older patch only fills fields the newer one lacks
            }
            let v0 = self.field_text.len() as u32;
            self.field_text.push_str(value);
            let value = (v0, self.field_text.len() as u32);
            if found != NONE {
                self.fields[found as usize].value = value;
                continue;
            }
            let n0 = self.field_text.len() as u32;
            self.field_text.push_str(name);
            let idx = self.fields.len() as u32;
            self.fields.push(Field { name: (n0, self.field_text.len() as u32), value, next: self.patches[at].first });
            self.patches[at].first = idx;
        }
    }

    /// Adds a refetch of the active queries under `hash`.
    pub fn refetch(&mut self, hash: &str, exact: bool) {
        let (id, s) = self.slot(hash, None);
        if s.refetch & PRESENT != 0 {
            if !exact {
                s.refetch = PRESENT;
            }
            return;
        }
        s.refetch = PRESENT | if exact { EXACT } else { 0 };
        self.refetch_order.push(id);
    }

    /// The refetch type of a pending invalidation of `id` (`broad`: only a non-exact one).
    fn inv_of(&self, id: KeyId, broad: bool) -> Option<RefetchType> {
        let s = self.slots.get(id as usize)?;
        (s.inv & PRESENT != 0 && !(broad && s.inv & EXACT != 0)).then(|| bits_rt(s.inv))
    }

    /// Is every query under `id` (just `id` itself when `exact`) refetched at least as `rt` by
    /// another pending invalidation: one of its proper prefixes, or the same key (`same_key`)?
    /// `broad_lens`: [`Pending::broad_lens`], taken before the plan is built (only prefixes of a
    /// length some pending non-exact invalidation has are looked up).
    fn covered(&mut self, id: KeyId, exact: bool, rt: RefetchType, same_key: bool, broad_lens: u64) -> bool {
        if same_key && self.inv_of(id, !exact).is_some_and(|p| p.covers(rt)) {
            return true;
        }
        let n = self.keys.ends(id).len();
        // Only the proper prefixes' lengths some non-exact invalidation has (bit 63: 63 or more).
        let mut lens = broad_lens & len_bit(n).wrapping_sub(1);
        if n > 63 {
            lens = broad_lens;
        }
        while lens != 0 {
            let bit = lens.trailing_zeros() as usize;
            lens &= lens - 1;
            // Bit 63 stands for every length from 63 on.
            let range = if bit == 63 { 63..n } else { bit..bit + 1 };
            for len in range {
                if self.prefix_covers(id, len, rt) {
                    return true;
                }
            }
        }
        false
    }

    /// Whether the prefix of `id` with `len` elements has a pending non-exact invalidation that
    /// refetches at least as `rt`.
    fn prefix_covers(&mut self, id: KeyId, len: usize, rt: RefetchType) -> bool {
        let mut prefix = std::mem::take(&mut self.prefix);
        prefix.clear();
        if len == 0 {
            prefix.push('[');
        } else {
            let end = self.keys.ends(id)[len - 1] as usize;
            prefix.push_str(&self.keys.text(id)[..end]);
        }
        prefix.push(']');
        let hit = self.keys.find(&prefix).and_then(|p| self.inv_of(p, true)).is_some_and(|p| p.covers(rt));
        self.prefix = prefix;
        hit
    }

    /// One bit per element count (the last bit: 63 or more) that some pending non-exact
    /// invalidation's key has: a prefix of another length cannot be one of them.
    fn broad_lens(&self) -> u64 {
        let mut lens = 0u64;
        for &id in &self.inv_order {
            if self.slots[id as usize].inv & EXACT == 0 {
                lens |= len_bit(self.keys.ends(id).len());
            }
        }
        lens
    }

    /// Empties the pending set into a plan: redundant invalidations (a pending non-exact key that is
    /// a prefix and refetches at least as much), patches of keys that an active refetch covers, and
    /// refetches that an invalidation already refetches are left out.
    pub fn take_plan(&mut self) -> FlushPlan {
        self.take_plan_holding(&Holds::default())
    }

    /// [`Pending::take_plan`] while mutations are pending (crate::hold): an op that `holds` holds
    /// stays pending; an op broader than some holds goes out with their keys in the plan's `hold`
    /// (the shim leaves the queries under them alone) and a copy of it on each stays pending.
    pub fn take_plan_holding(&mut self, holds: &Holds) -> FlushPlan {
        self.take_plan_into(holds, FlushPlan::default())
    }

    /// [`Pending::take_plan_holding`] into `plan` (empty: [`FlushPlan::clear`]), whose buffers a
    /// steady stream reuses from flush to flush.
    pub fn take_plan_into(&mut self, holds: &Holds, mut plan: FlushPlan) -> FlushPlan {
        let judge = |keys: &Keys, id: KeyId, exact: bool| {
            if holds.is_empty() {
                Verdict::Free
            } else {
                holds.judge(keys.text(id), keys.ends(id), exact)
            }
        };
        let mut kept = Kept::default();
        let broad = self.broad_lens();
        plan.reset = std::mem::take(&mut self.keys.reset);
        for i in 0..self.inv_order.len() {
            let id = self.inv_order[i];
            let s = self.slots[id as usize];
            let (exact, refetch_type) = (s.inv & EXACT != 0, bits_rt(s.inv));
            match judge(&self.keys, id, exact) {
                Verdict::Held => {
                    kept.inv.push((self.keys.text(id).to_string(), exact, refetch_type));
                    continue;
                }
                Verdict::Split(under) => kept.split(&mut plan, under, Some(refetch_type)),
                Verdict::Free => {}
            }
            if !self.covered(id, exact, refetch_type, false, broad) {
                let key = self.key_ref(&mut plan, id);
                plan.invalidate.push(InvalidateOp { key, exact, refetch_type });
            }
        }
        for i in 0..self.patches.len() {
            let acc = self.patches[i];
            if judge(&self.keys, acc.key, true) == Verdict::Held {
                let mut fields = Vec::new();
                let mut f = acc.first;
                while f != NONE {
                    let fl = self.fields[f as usize];
                    let text = |(a, b): (u32, u32)| self.field_text[a as usize..b as usize].to_string();
                    fields.push((text(fl.name), text(fl.value)));
                    f = fl.next;
                }
                kept.patch.push((self.keys.text(acc.key).to_string(), fields, acc.version));
                continue;
            }
            if self.covered(acc.key, true, RefetchType::Active, true, broad) {
                continue;
            }
            let key = self.key_ref(&mut plan, acc.key);
            plan.push_patch(key, acc.version);
            let mut f = acc.first;
            while f != NONE {
                let fl = self.fields[f as usize];
                plan.push_field(
                    &self.field_text[fl.name.0 as usize..fl.name.1 as usize],
                    &self.field_text[fl.value.0 as usize..fl.value.1 as usize],
                );
                f = fl.next;
            }
        }
        for i in 0..self.refetch_order.len() {
            let id = self.refetch_order[i];
            let exact = self.slots[id as usize].refetch & EXACT != 0;
            match judge(&self.keys, id, exact) {
                Verdict::Held => {
                    kept.refetch.push((self.keys.text(id).to_string(), exact));
                    continue;
                }
                Verdict::Split(under) => kept.split(&mut plan, under, None),
                Verdict::Free => {}
            }
            if !self.covered(id, exact, RefetchType::Active, true, broad) {
                let key = self.key_ref(&mut plan, id);
                plan.refetch.push(RefetchOp { key, exact });
            }
        }
        self.reset();
        // What waits goes back in, merged as any new op would be.
        for (hash, exact, rt) in kept.inv {
            self.invalidate(&hash, exact, rt);
        }
        for (hash, fields, version) in kept.patch {
            self.patch(&hash, fields, version);
        }
        for (hash, exact) in kept.refetch {
            self.refetch(&hash, exact);
        }
        if plan.is_empty() {
            plan.hold.clear();
        }
        plan
    }

    fn key_ref(&mut self, plan: &mut FlushPlan, id: KeyId) -> KeyRef {
        let new = self.keys.first_use(id);
        let text = self.keys.text(id);
        let run = if new { KeyRun::of(text, self.keys.ends(id)) } else { KeyRun::default() };
        plan.key(id, new, text, run)
    }

    fn reset(&mut self) {
        for &id in self.inv_order.iter().chain(&self.refetch_order) {
            self.slots[id as usize] = EMPTY;
        }
        for p in &self.patches {
            self.slots[p.key as usize] = EMPTY;
        }
        self.inv_order.clear();
        self.refetch_order.clear();
        self.patches.clear();
        self.fields.clear();
        self.field_text.clear();
        if self.keys.len() > KEY_CAPACITY {
            self.keys.clear();
            self.slots.clear();
        }
    }
}

/// A kept patch: its doc's hash, its fields (name, raw JSON value), its version.
type KeptPatch = (String, Vec<(String, String)>, Option<f64>);

/// Ops a flush keeps back for pending mutations, as hashes and texts (re-added after the reset).
#[derive(Default)]
struct Kept {
    inv: Vec<(String, bool, RefetchType)>,
    patch: Vec<KeptPatch>,
    refetch: Vec<(String, bool)>,
}

impl Kept {
    /// An op broader than holds: it goes out, the hold keys are named in the plan, and a copy of the
    /// op on each hold key waits (an invalidation with `refetch_type`, or a refetch when `None`).
    fn split(&mut self, plan: &mut FlushPlan, under: Vec<String>, refetch_type: Option<RefetchType>) {
        for hash in under {
            match refetch_type {
                Some(rt) => self.inv.push((hash.clone(), false, rt)),
                None => self.refetch.push((hash.clone(), false)),
            }
            if !plan.hold.contains(&hash) {
                plan.hold.push(hash);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::hash_key;
    use serde_json::{json, Value};

    fn h(v: Value) -> String {
        hash_key(&v)
    }

    #[test]
    fn prefix_subsumes_same_refetch_type() {
        let mut p = Pending::default();
        p.invalidate(&h(json!(["list", "wo", "f1", {"page": 1}])), false, RefetchType::Active);
        p.invalidate(&h(json!(["list", "wo"])), false, RefetchType::Active);
        p.invalidate(&h(json!(["list", "wo", "f2"])), false, RefetchType::All);
        let plan = p.take_plan();
        let keys: Vec<_> = plan.invalidate.iter().map(|o| plan.hash(&o.key)).collect();
        assert_eq!(keys, vec![h(json!(["list", "wo"])), h(json!(["list", "wo", "f2"]))]);
    }

    #[test]
    fn prefixes_longer_than_63_elements_still_subsume() {
        let long: Vec<Value> = (0..70).map(|i| json!(i)).collect();
        let mut p = Pending::default();
        p.invalidate(&h(Value::Array(long.clone())), false, RefetchType::Active);
        p.invalidate(&h(Value::Array(long[..65].to_vec())), false, RefetchType::Active);
        p.invalidate(&h(json!([0, 1])), true, RefetchType::Active); // exact: covers nothing
        let plan = p.take_plan();
        let keys: Vec<_> = plan.invalidate.iter().map(|o| plan.hash(&o.key).to_string()).collect();
        assert_eq!(keys, vec![h(Value::Array(long[..65].to_vec())), h(json!([0, 1]))]);
    }

    #[test]
    fn same_key_merges_flags() {
        let mut p = Pending::default();
        p.invalidate(&h(json!(["a"])), true, RefetchType::Active);
        p.invalidate(&h(json!(["a"])), false, RefetchType::Inactive);
        let plan = p.take_plan();
        assert_eq!(plan.invalidate.len(), 1);
        assert!(!plan.invalidate[0].exact);
        assert_eq!(plan.invalidate[0].refetch_type, RefetchType::All);
    }

    #[test]
    fn patches_merge_by_version_and_drop_forbidden_fields() {
        let mut p = Pending::default();
        let doc = h(json!(["doc", "wo", "1"]));
        p.patch(&doc, [("a", "2"), ("b", "2")], Some(2.0));
        p.patch(&doc, [("a", "1"), ("c", "1")], Some(1.0));
        p.patch(&doc, [("__proto__", r#"{"x":1}"#), ("constructor", "1"), ("d", "3")], Some(3.0));
        let plan = p.take_plan();
        assert_eq!(plan.patch.len(), 1);
        let mut fields: Vec<_> = plan.fields(&plan.patch[0]).collect();
        fields.sort();
        assert_eq!(fields, [("a", "2"), ("b", "2"), ("c", "1"), ("d", "3")]);
        assert_eq!(plan.patch[0].version, Some(3.0));
    }

    #[test]
    fn invalidated_doc_is_not_also_patched() {
        let mut p = Pending::default();
        p.patch(&h(json!(["doc", "wo", "1"])), [("", ""); 0], None);
        p.invalidate(&h(json!(["doc", "wo", "1"])), false, RefetchType::Active);
        let plan = p.take_plan();
        assert!(plan.patch.is_empty());
        assert_eq!(plan.invalidate.len(), 1);
    }

    #[test]
    fn a_key_is_new_in_the_first_plan_that_names_it_only() {
        let mut p = Pending::default();
        p.invalidate(&h(json!(["a"])), false, RefetchType::Active);
        let first = p.take_plan();
        p.invalidate(&h(json!(["a"])), false, RefetchType::Active);
        p.invalidate(&h(json!(["b"])), false, RefetchType::Active);
        let second = p.take_plan();
        assert!(first.invalidate[0].key.new);
        assert_eq!(second.invalidate.iter().map(|o| o.key.new).collect::<Vec<_>>(), [false, true]);
        assert_eq!(first.invalidate[0].key.id, second.invalidate[0].key.id);
    }

    #[test]
    fn keys_are_stored_once_with_their_element_ends() {
        let mut k = Keys::default();
        let a = k.intern(r#"["list","wo","f1",{"page":1}]"#);
        assert_eq!(k.intern(r#"["list","wo","f1",{"page":1}]"#), a);
        let ends: Vec<&str> = k.ends(a).iter().map(|&e| &k.text(a)[..e as usize]).collect();
        assert_eq!(ends, [r#"["list""#, r#"["list","wo""#, r#"["list","wo","f1""#, r#"["list","wo","f1",{"page":1}"#]);
        assert_eq!(k.find(r#"["list"]"#), None);
    }

    #[test]
    fn held_ops_stay_pending_and_broader_ones_name_the_hold() {
        let mut holds = Holds::default();
        holds.start(1, [h(json!(["doc", "wo", "1"]))].iter().map(String::as_str)).unwrap();
        let mut p = Pending::default();
        p.invalidate(&h(json!(["doc", "wo", "1"])), false, RefetchType::Active);
        p.patch(&h(json!(["doc", "wo", "1"])), [("title", "\"x\"")], Some(2.0));
        p.invalidate(&h(json!(["doc", "wo", "2"])), false, RefetchType::Active);
        p.invalidate(&h(json!(["doc"])), false, RefetchType::All);
        p.refetch(&h(json!(["doc", "wo", "1"])), false);
        let plan = p.take_plan_holding(&holds);
        let keys: Vec<_> = plan.invalidate.iter().map(|o| plan.hash(&o.key).to_string()).collect();
        // ["doc"] covers ["doc","wo","2"]; it goes out, leaving the held doc alone.
        assert_eq!(keys, vec![h(json!(["doc"]))]);
        assert!(plan.patch.is_empty() && plan.refetch.is_empty());
        assert_eq!(plan.hold, vec![h(json!(["doc", "wo", "1"]))]);
        assert!(!p.is_empty(), "the held doc's ops wait");
        // Still held: nothing goes out.
        assert!(p.take_plan_holding(&holds).is_empty());
        holds.settle(1);
        let plan = p.take_plan();
        let keys: Vec<_> = plan.invalidate.iter().map(|o| (plan.hash(&o.key).to_string(), o.refetch_type)).collect();
        // The doc's own invalidation and the copy of ["doc"] on it merge: one op, refetching `all`.
        assert_eq!(keys, vec![(h(json!(["doc", "wo", "1"])), RefetchType::All)]);
        assert!(plan.patch.is_empty(), "the patch is covered by the invalidation of its doc");
        assert!(plan.hold.is_empty());
        assert!(p.is_empty());
    }
}
