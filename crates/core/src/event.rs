//! The canonical event: what every source's payload becomes before routing (CONTRACT "Feeding events").

use crate::scan::{bytes_eq, key_head, Kind, Tape};
use std::borrow::Cow;

/// A row event's action, folded from INSERT/insert/create, UPDATE/update/approve/reject, DELETE/delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Create,
    Update,
    Delete,
}

impl Action {
    /// The rule filter name (`Rule.events`).
    pub fn event_name(self) -> &'static str {
        match self {
            Action::Create => "INSERT",
            Action::Update => "UPDATE",
            Action::Delete => "DELETE",
        }
    }
}

/// TanStack's `refetchType`, ordered by what it refetches so two can be joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefetchType {
    None,
    Active,
    Inactive,
    All,
}

impl RefetchType {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "none" => RefetchType::None,
            "active" => RefetchType::Active,
            "inactive" => RefetchType::Inactive,
            "all" => RefetchType::All,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            RefetchType::None => "none",
            RefetchType::Active => "active",
            RefetchType::Inactive => "inactive",
            RefetchType::All => "all",
        }
    }
    fn bits(self) -> u8 {
        match self {
            RefetchType::None => 0,
            RefetchType::Active => 1,
            RefetchType::Inactive => 2,
            RefetchType::All => 3,
        }
    }
    fn from_bits(b: u8) -> Self {
        match b & 3 {
            0 => RefetchType::None,
            1 => RefetchType::Active,
            2 => RefetchType::Inactive,
            _ => RefetchType::All,
        }
    }
    /// The refetch that does what both do (active + inactive = all).
    pub fn join(self, other: Self) -> Self {
        Self::from_bits(self.bits() | other.bits())
    }
    /// Whether `self` refetches at least every query that `other` does.
    pub fn covers(self, other: Self) -> bool {
        self.bits() & other.bits() == other.bits()
    }
}

/// No member of that name (a slot of [`Columns::index`]). Not a repeated byte, so resetting the
/// few slots per row is a short store loop rather than a call to `memset`.
const NONE: u32 = u32::MAX - 1;

/// The column names routing reads from a row (rule placeholders, the primary key, `version`, the
/// scope's spellings), compiled once with a slot each, so an adapter finds all of them in one
/// pass over a row's members ([`Columns::index`]) and the guards and rules read slots instead of
/// scanning the row again per name.
///
/// A key is looked up by its length and its first eight bytes (one word, [`head`]): they pick a
/// bucket of a small hash table whose entry holds the first name there with its own length and
/// head, so most keys cost one probe and one compare (issue 10: the length buckets walked a chain
/// of names per key). Names longer than eight bytes compare their tails only on a hit.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    names: Vec<String>,
    /// Per bucket (a power of two of them), its first name's (head, length, slot); [`EMPTY`] for none.
    table: Vec<Bucket>,
    /// The multiplier and shift of [`bucket_of`] (the multiplier picked from a few for the fewest
    /// shared buckets; `64 - shift` bits pick one of the table's buckets).
    mul: u64,
    shift: u32,
    /// Per indexed slot, the next slot in its bucket (`END`: none).
    next: Vec<u8>,
    /// The slots of `version`, `factoryId`, `factory_id` and the primary key columns.
    pub version: usize,
    pub factory: [usize; 2],
    pub primary_key: Vec<usize>,
}

/// One bucket of the lookup table: its first name's head word, last eight bytes (names of 9 to 16
/// bytes, which the two words cover whole), length and slot, and whether the bucket needs
/// [`Columns::note`] (another name shares it, or its name is longer than 16 bytes).
#[derive(Debug, Clone, Copy)]
struct Bucket {
    head: u64,
    tail: u64,
    len: u32,
    slot: u8,
    slow: bool,
}

/// A bucket without a name: no key has length `u32::MAX` (a text is shorter).
const EMPTY: Bucket = Bucket { head: 0, tail: 0, len: u32::MAX, slot: END, slow: false };

/// The last eight bytes of the key of length `len` (above 8) whose opening quote is at `start`,
/// as a little-endian word (0 if the text is shorter: never, for a scanned key).
#[inline(always)]
fn last_word(text: &[u8], start: u32, len: u32) -> u64 {
    let end = (start as usize).wrapping_add(1).wrapping_add(len as usize);
    match text.get(end.wrapping_sub(8)..end) {
        Some(w) => match w.first_chunk::<8>() {
            Some(w) => u64::from_le_bytes(*w),
            None => 0,
        },
        None => 0,
    }
}

/// The last eight bytes of a name of 9 to 16 bytes as a little-endian word (0 for other lengths).
#[inline(always)]
fn tail_word(name: &[u8]) -> u64 {
    match name.last_chunk::<8>() {
        Some(w) if (9..=16).contains(&name.len()) => u64::from_le_bytes(*w),
        _ => 0,
    }
}

/// Slot chains end here; also the most slots (a longer list is looked up by name).
const END: u8 = u8::MAX;

/// Odd multipliers tried for the bucket hash (the first with no two names in one bucket wins).
const MULS: [u64; 8] = [
    0x9E37_79B9_7F4A_7C15,
    0xBF58_476D_1CE4_E5B9,
    0x94D0_49BB_1331_11EB,
    0xD6E8_FEB8_6659_FD93,
    0xA076_1D64_78BD_642F,
    0xE703_7ED1_A0B4_28DB,
    0x8EBC_6AF0_9C88_C6E3,
    0x5899_65CC_7537_4CC3,
];

impl Columns {
    /// `first` get slots `0..first.len()` in order (a rule table's placeholder columns, which its
    /// compiled pieces name by index); then the fixed names and the primary key.
    pub fn new(first: &[String], primary_key: &[String]) -> Columns {
        let mut c = Columns::default();
        for n in first {
            c.push(n);
        }
        c.version = c.slot("version");
        c.factory = [c.slot("factoryId"), c.slot("factory_id")];
        c.primary_key = primary_key.iter().map(|n| c.slot(n)).collect();
        c
    }

    /// The slot of `name`, added when new.
    pub fn slot(&mut self, name: &str) -> usize {
        if let Some(i) = self.names.iter().position(|n| n == name) {
            return i;
        }
        self.push(name);
        self.names.len() - 1
    }

    fn push(&mut self, name: &str) {
        self.names.push(name.to_string());
        self.build();
    }

    /// Rebuilds the table over the indexed slots (the first `END` names; the others are read by
    /// name): a power of two of buckets, at least four per name, under the multiplier that
    /// shares the fewest buckets.
    fn build(&mut self) {
        let n = self.names.len().min(usize::from(END));
        let size = (n * 4).next_power_of_two().max(16);
        let shift = 64 - size.trailing_zeros();
        let (mut best, mut best_shared) = (MULS[0], usize::MAX);
        for mul in MULS {
            let mut used = vec![false; size];
            let mut shared = 0;
            for name in &self.names[..n] {
                let b = bucket_of(mul, shift, key_head(name.as_bytes()), name.len() as u32);
                shared += usize::from(std::mem::replace(&mut used[b], true));
            }
            if shared < best_shared {
                (best, best_shared) = (mul, shared);
            }
            if shared == 0 {
                break;
            }
        }
        (self.mul, self.shift) = (best, shift);
        self.table = vec![EMPTY; size];
        self.next = vec![END; n];
        // Later slots go to the end of their bucket's chain, so a chain lists slots in order.
        for s in (0..n).rev() {
            let name = self.names[s].as_bytes();
            let (h, len) = (key_head(name), name.len() as u32);
            let b = &mut self.table[bucket_of(best, shift, h, len)];
            self.next[s] = b.slot;
            *b = Bucket { head: h, tail: tail_word(name), len, slot: s as u8, slow: b.slot != END || len > 16 };
        }
    }

    /// The slot of `name`, if it has one.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    pub fn name(&self, slot: usize) -> &str {
        self.names.get(slot).map_or("", |n| n.as_str())
    }

    /// One pass over object `obj`'s members: `found[slot]` = the value node of the last member
    /// with that slot's name (JSON.parse keeps the last of duplicate keys), or none.
    pub fn index(&self, tape: &Tape, text: &str, obj: Option<u32>, found: &mut Vec<u32>) {
        // Only the indexed slots are; a `Row` reads the others by name.
        let slots = self.next.len();
        if found.len() == slots {
            for f in found.iter_mut() {
                *f = NONE;
            }
        } else {
            found.clear();
            found.resize(slots, NONE);
        }
        let Some(obj) = obj.filter(|&o| tape.value_kind(o) == Kind::Object) else { return };
        let bytes = text.as_bytes();
        for (v, k) in tape.keyed_members(obj) {
            // The scanner recorded each key's length and first eight bytes: one probe, one compare
            // (two for a name of 9 to 16 bytes: its last eight bytes, read from the text).
            if k.escaped {
                self.escaped(tape, text, v, found);
                continue;
            }
            let b = match self.table.get(bucket_of(self.mul, self.shift, k.head, k.len)) {
                Some(b) => b,
                None => &EMPTY,
            };
            if b.head == k.head
                && b.len == k.len
                && (k.len <= 8 || (k.len <= 16 && last_word(bytes, k.start, k.len) == b.tail))
            {
                if let Some(f) = found.get_mut(usize::from(b.slot)) {
                    *f = v;
                }
                continue;
            }
            if b.slow {
                // A name longer than 16 bytes, or a bucket two names share.
                let s = k.start as usize + 1;
                self.note(b.slot, bytes.get(s..s.wrapping_add(k.len as usize)).unwrap_or(&[]), v, found);
            }
        }
    }

    /// [`Columns::index`] of a member whose key holds an escape: decoded, then looked up by text.
    #[cold]
    #[inline(never)]
    fn escaped(&self, tape: &Tape, text: &str, v: u32, found: &mut [u32]) {
        let key = tape.str(text, v | crate::scan::KEY);
        let key = key.as_bytes();
        let b =
            self.table.get(bucket_of(self.mul, self.shift, key_head(key), key.len() as u32)).copied().unwrap_or(EMPTY);
        if b.slot != END {
            self.note(b.slot, key, v, found);
        }
    }

    /// Sets `found` for the slot named `key` in the bucket chain from `at`, if any.
    #[inline(never)]
    fn note(&self, mut at: u8, key: &[u8], v: u32, found: &mut [u32]) {
        while at != END {
            let i = usize::from(at);
            if self.names.get(i).is_some_and(|n| bytes_eq(n.as_bytes(), key)) {
                if let Some(f) = found.get_mut(i) {
                    *f = v;
                }
                return;
            }
            at = self.next.get(i).copied().unwrap_or(END);
        }
    }
}

/// The bucket of a name of length `len` whose first eight bytes are `head`: the top `64 - shift`
/// bits of a multiplicative hash.
#[inline(always)]
fn bucket_of(mul: u64, shift: u32, head: u64, len: u32) -> usize {
    ((head ^ u64::from(len)).wrapping_mul(mul) >> (shift & 63)) as usize
}

/// A row's values: up to two objects on the tape, looked up in order (an app event's `data`, then
/// its own fields). A column that the first object holds as `null` is absent; it does not fall
/// through to the second.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    pub tape: &'a Tape,
    pub text: &'a str,
    pub objs: [Option<u32>; 2],
    /// [`Columns::index`] of the first object when the adapter made one (the second is then
    /// `None`); empty otherwise, and columns are looked up by name.
    found: &'a [u32],
}

impl<'a> Row<'a> {
    pub fn new(tape: &'a Tape, text: &'a str, first: Option<u32>, second: Option<u32>) -> Row<'a> {
        Row { tape, text, objs: [first, second], found: &[] }
    }

    /// A row of one object whose [`Columns::index`] is `found`.
    pub fn indexed(tape: &'a Tape, text: &'a str, obj: Option<u32>, found: &'a [u32]) -> Row<'a> {
        Row { tape, text, objs: [obj, None], found }
    }

    /// Column `col`'s value node, `None` when missing or null.
    pub fn get(&self, col: &str) -> Option<u32> {
        for o in self.objs.iter().flatten() {
            if let Some(v) = self.tape.get(self.text, *o, col) {
                return (self.tape.value_kind(v) != Kind::Null).then_some(v);
            }
        }
        None
    }

    /// [`Row::get`] of the column in slot `slot` of the engine's [`Columns`], named `name`: read
    /// from the index when there is one.
    #[inline(always)]
    pub fn col(&self, slot: usize, name: &str) -> Option<u32> {
        match self.found.get(slot) {
            Some(&v) => (v != NONE && self.tape.value_kind(v) != Kind::Null).then_some(v),
            None => self.get(name),
        }
    }

    /// The last member named `name` (slot `slot`) of object `n` of the row, null included.
    #[inline(always)]
    fn member(&self, n: usize, slot: usize, name: &str) -> Option<u32> {
        let o = self.objs[n]?;
        match self.found.get(slot) {
            Some(&v) if n == 0 => (v != NONE).then_some(v),
            _ => self.tape.get(self.text, o, name),
        }
    }

    /// A scope field under its own name or its snake_case form (`factoryId` ~ `factory_id`).
    pub fn field(&self, name: &str, snake: &str) -> Option<u32> {
        self.get(name).or_else(|| if snake != name { self.get(snake) } else { None })
    }

    /// Whether `ok` holds for every non-null value of a scope field, under either spelling (each
    /// a slot of the engine's [`Columns`] with its name; one slot for both when they are the same
    /// name), in every object of the row: the scope guard drops an event when any one differs
    /// from the scope (issue 11), so nothing here stops at the first match as [`Row::get`] does.
    pub fn all_spellings(&self, name: (usize, &str), snake: (usize, &str), mut ok: impl FnMut(u32) -> bool) -> bool {
        let both = snake.0 != name.0;
        // Spelled out (no array of the two spellings to iterate): at opt z, the shipped setting,
        // that loop copied the pair and walked it per object (issue 10).
        for n in 0..2 {
            if self.objs[n].is_none() {
                continue;
            }
            if !self.judge(n, name, &mut ok) || (both && !self.judge(n, snake, &mut ok)) {
                return false;
            }
        }
        true
    }

    /// Whether the member `(slot, name)` of object `n` is absent, `null`, or passes `ok`.
    #[inline(always)]
    fn judge(&self, n: usize, (slot, name): (usize, &str), ok: &mut impl FnMut(u32) -> bool) -> bool {
        match self.member(n, slot, name) {
            Some(v) => self.tape.value_kind(v) == Kind::Null || ok(v),
            None => true,
        }
    }
}

/// Which fields changed, as (name, value) node pairs on the tape, when the source names them.
/// The values stay raw JSON spans until a plan is built.
pub type Changed<'a> = Option<&'a [(u32, u32)]>;

/// One row change, whatever source it came from. Strings borrow the payload's text where they can.
#[derive(Debug, Clone)]
pub struct RowEvent<'a> {
    /// The table (Supabase), the event's `type`, or the envelope's `entity`.
    pub ty: Cow<'a, str>,
    /// `String(id)` of the row, as it appears in doc keys.
    pub id: Cow<'a, str>,
    pub action: Action,
    /// The row's values (Supabase `new`, or `old` for a DELETE; an event's `data` and fields), read
    /// by rule templates and the scope guard.
    pub row: Row<'a>,
    /// Changed fields with their new values, when the source names them. `None` = unknown.
    pub changed: Changed<'a>,
    /// An UPDATE whose changed fields come from diffing its rows (Supabase `new`, `old`): found
    /// only when routing asks for them (`adapt::fields::diff_rows`), and only when `changed` is `None`.
    pub diff: Option<(Option<u32>, u32)>,
    pub version: Option<f64>,
    /// A unique event id for cross-window dedupe (envelope `id`, Centrifugo `channel#offset`).
    pub event_id: Option<String>,
    /// The event's `factoryId`/`factory_id` node, for the list key.
    pub factory_id: Option<u32>,
    /// The event object beside its row when the row does not include it (an envelope's own fields):
    /// its scope spellings are judged too.
    pub outer: Option<u32>,
}

/// A direct invalidation (`'invalidate'` source, Centrifugo `{ event: 'invalidate' }`).
#[derive(Debug, Clone, PartialEq)]
pub struct InvalidateEvent {
    /// The key's canonical hash (TanStack `hashKey`).
    pub hash: String,
    pub exact: bool,
    pub refetch_type: RefetchType,
    pub event_id: Option<String>,
}

/// What an adapter produces.
#[derive(Debug, Clone)]
pub enum Event<'a> {
    Row(RowEvent<'a>),
    Invalidate(InvalidateEvent),
}

impl Event<'_> {
    /// Inlined: at opt z the call cost more than the match (the engine asks twice per event).
    #[inline(always)]
    pub fn event_id(&self) -> Option<&str> {
        match self {
            Event::Row(r) => r.event_id.as_deref(),
            Event::Invalidate(i) => i.event_id.as_deref(),
        }
    }
    pub fn set_event_id(&mut self, id: String) {
        match self {
            Event::Row(r) => r.event_id = Some(id),
            Event::Invalidate(i) => i.event_id = Some(id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An indexed row reads every column as the lookup by name reads it: the last of duplicate
    /// keys, escaped keys decoded, `null` absent, names of every length (one bucket for long ones).
    #[test]
    fn indexed_rows_read_like_lookups_by_name() {
        let long = "a_column_name_longer_than_sixty_three_bytes_so_it_shares_the_last_bucket";
        let long2 = "a_column_name_longer_than_sixty_three_bytes_so_it_shares_the_last_bucket_too";
        let text = [
            r#"{"id":1,"version":2,"id":"x","factory_id":null,"f\u0061ctoryId":"f1","code":"c","uuid":"u","#,
            r#"""#,
            long2,
            r#"":7,"version":3,"e":{},"d":[1]}"#,
        ]
        .concat();
        let mut tape = Tape::new();
        tape.scan(&text).unwrap();
        let mut cols = Columns::new(&["d".into(), "missing".into()], &["id".into(), "uuid".into(), "code".into()]);
        let names = ["d", "missing", "version", "factoryId", "factory_id", "id", "uuid", "code", long, long2, "e"];
        let slots: Vec<usize> = names.iter().map(|n| cols.slot(n)).collect();
        assert_eq!(&slots[..2], &[0, 1]);
        let mut found = Vec::new();
        cols.index(&tape, &text, Some(0), &mut found);
        let indexed = Row::indexed(&tape, &text, Some(0), &found);
        let plain = Row::new(&tape, &text, Some(0), None);
        for (slot, name) in slots.iter().zip(names) {
            assert_eq!(indexed.col(*slot, name), plain.get(name), "{name}");
        }
        assert_eq!(indexed.col(cols.version, "version").map(|v| tape.raw(&text, v)), Some("3"));
        assert_eq!(indexed.col(cols.factory[1], "factory_id"), None);
        assert!(indexed.col(cols.factory[0], "factoryId").is_some());
        let spellings = |r: &Row<'_>| {
            let mut got = Vec::new();
            r.all_spellings((cols.factory[0], "factoryId"), (cols.factory[1], "factory_id"), |v| {
                got.push(v);
                true
            });
            got
        };
        assert_eq!(spellings(&indexed), spellings(&plain));
    }

    /// The one-word compare of a key's first eight bytes: names that share a length and a head
    /// and differ later, a key one byte short or long of a name, a key whose eight-byte window
    /// runs past the end of the text (the short texts), and a key of exactly eight bytes.
    #[test]
    fn keys_are_matched_by_head_word_and_tail() {
        let names: Vec<String> =
            ["factory_id", "factory_ix", "id", "abcdefgh", "abcdefg", "i"].iter().map(|n| n.to_string()).collect();
        let cols = Columns::new(&names, &["id".into()]);
        for text in [
            r#"{"factory_ix":1,"abcdefgh":2,"abcdefghi":3,"abcdef":4,"id":5}"#,
            r#"{"factory_id":1,"abcdefg":2,"i":3}"#,
            r#"{"id":7}"#,
            r#"{"i":7}"#,
            r#"{"ix":7}"#,
            r#"{"abcdefgh":[]}"#,
        ] {
            let mut tape = Tape::new();
            tape.scan(text).unwrap();
            let mut found = vec![0; 3];
            cols.index(&tape, text, Some(0), &mut found);
            let indexed = Row::indexed(&tape, text, Some(0), &found);
            let plain = Row::new(&tape, text, Some(0), None);
            for (slot, name) in names.iter().enumerate() {
                assert_eq!(indexed.col(slot, name), plain.get(name), "{text} {name}");
            }
        }
    }

    /// The JSON text of each name's column (slot = its index in `names`) in the object `text`, as
    /// [`Columns::index`] finds it.
    fn indexed_raws(cols: &Columns, names: &[String], text: &str) -> Vec<Option<String>> {
        let mut tape = Tape::new();
        tape.scan(text).unwrap();
        let mut found = Vec::new();
        cols.index(&tape, text, Some(0), &mut found);
        let row = Row::indexed(&tape, text, Some(0), &found);
        names
            .iter()
            .enumerate()
            .map(|(slot, name)| row.col(slot, name).map(|v| tape.raw(text, v).to_string()))
            .collect()
    }

    /// Names that share a length and a head word (one bucket, told apart by their tails), and
    /// enough names that some buckets hold two: every one is found, and no other key matches.
    #[test]
    fn names_sharing_a_bucket_are_told_apart() {
        let names: Vec<String> = (0..60)
            .map(|i| ["abcdefgh_", &(i % 10).to_string(), &(i / 10).to_string()].concat())
            .chain((0..60).map(|i| ["c", &i.to_string()].concat()))
            .collect();
        let cols = Columns::new(&names, &["id".into()]);
        let mut text = String::from("{");
        for (i, n) in names.iter().enumerate().rev() {
            text.push_str(&["\"", n, "\":", &i.to_string(), ",\"", n, "x\":0,"].concat());
        }
        text.push_str("\"id\":1}");
        let got = indexed_raws(&cols, &names, &text);
        for (slot, name) in names.iter().enumerate() {
            assert_eq!(got[slot].as_deref(), Some(slot.to_string().as_str()), "{name}");
        }
    }

    /// Names of 9 to 18 bytes (two words cover 9 to 16; longer ones are compared whole): a key
    /// that differs from a name at any one byte, or is one byte longer or shorter, is not that
    /// name, and every name is found, wherever its key sits in the text.
    #[test]
    fn long_names_are_matched_by_both_words() {
        let names: Vec<String> = (9..=18).map(|n| ('a'..='z').take(n).collect()).collect();
        let cols = Columns::new(&names, &["id".into()]);
        let mut keys: Vec<String> = Vec::new();
        for n in &names {
            for i in 0..n.len() {
                let mut k = n.clone().into_bytes();
                k[i] = b'_';
                keys.push(String::from_utf8(k).unwrap_or_default());
            }
            keys.push([n.as_str(), "z"].concat());
            keys.push(n[..n.len() - 1].to_string());
        }
        keys.retain(|k| !names.contains(k));
        for pick in 0..=names.len() {
            // Every decoy, then (but for the last round) one name last in the text.
            let mut text = String::from("{");
            for (i, k) in keys.iter().enumerate() {
                text.push_str(&["\"", k, "\":", &i.to_string(), ","].concat());
            }
            text.push_str("\"id\":0");
            if let Some(n) = names.get(pick) {
                text.push_str(&[",\"", n, "\":-1"].concat());
            }
            text.push('}');
            let got = indexed_raws(&cols, &names, &text);
            for (slot, name) in names.iter().enumerate() {
                let want = (slot == pick).then_some("-1");
                assert_eq!(got[slot].as_deref(), want, "{name} in round {pick}");
            }
        }
    }

    #[test]
    fn more_columns_than_the_index_holds_are_looked_up_by_name() {
        let names: Vec<String> = (0..300).map(|i| ["c", &i.to_string()].concat()).collect();
        let cols = Columns::new(&names, &["id".into()]);
        let text = r#"{"c299":1,"id":2,"c3":4}"#;
        let mut tape = Tape::new();
        tape.scan(text).unwrap();
        let mut found = Vec::new();
        cols.index(&tape, text, Some(0), &mut found);
        let row = Row::indexed(&tape, text, Some(0), &found);
        assert_eq!(row.col(299, "c299").map(|v| tape.raw(text, v)), Some("1"));
        assert_eq!(row.col(3, "c3").map(|v| tape.raw(text, v)), Some("4"));
        assert_eq!(row.col(cols.primary_key[0], "id").map(|v| tape.raw(text, v)), Some("2"));
    }
}
