//! The canonical event: what every source's payload becomes before routing (CONTRACT "Feeding events").

use crate::scan::{bytes_eq, Kind, Tape};
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
#[derive(Debug, Clone, Default)]
pub struct Columns {
    names: Vec<String>,
    /// Per key length (the last bucket: that long or longer), the first slot whose name has it,
    /// and per slot the next slot in the same bucket: a key is compared only with names of its length.
    first: Vec<u8>,
    next: Vec<u8>,
    /// Per chained slot, its name's first eight bytes as a little-endian word (zero past its end):
    /// a key is compared with a name in one step, and byte by byte only past eight bytes.
    heads: Vec<u64>,
    /// The slots of `version`, `factoryId`, `factory_id` and the primary key columns.
    pub version: usize,
    pub factory: [usize; 2],
    pub primary_key: Vec<usize>,
}

/// Slot chains end here; also the most slots (a longer list is looked up by name).
const END: u8 = u8::MAX;
const BUCKETS: usize = 64;

fn bucket(len: usize) -> usize {
    len.min(BUCKETS - 1)
}

impl Columns {
    /// `first` get slots `0..first.len()` in order (a rule table's placeholder columns, which its
    /// compiled pieces name by index); then the fixed names and the primary key.
    pub fn new(first: &[String], primary_key: &[String]) -> Columns {
        let mut c = Columns { first: vec![END; BUCKETS], ..Columns::default() };
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
        let slot = self.names.len();
        self.names.push(name.to_string());
        if self.first.len() != BUCKETS {
            self.first = vec![END; BUCKETS];
        }
        // Slots past the chains' reach are still named; `index` leaves them to `Row::col`'s lookup.
        let Ok(s) = u8::try_from(slot) else { return };
        if s == END {
            return;
        }
        self.next.push(END);
        self.heads.push(head(name.as_bytes()));
        let b = bucket(name.len());
        let mut at = &mut self.first[b];
        while *at != END {
            let i = usize::from(*at);
            at = &mut self.next[i];
        }
        *at = s;
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
        // Only the chained slots are indexed; a `Row` reads the others by name.
        let slots = self.next.len();
        if found.len() == slots {
            for f in found.iter_mut() {
                *f = NONE;
            }
        } else {
            found.clear();
            found.resize(slots, NONE);
        }
        let Some(obj) = obj.filter(|&o| tape.kind(o) == Kind::Object) else { return };
        let bytes = text.as_bytes();
        for (k, v) in tape.members(obj) {
            let n = tape.node(k);
            if n.kind == Kind::Str {
                // A key without escape: its bytes are its name. Most keys have a length no name
                // has, and are passed over before their bytes are looked at.
                let len = n.end.saturating_sub(n.start).saturating_sub(2) as usize;
                let at = self.first.get(bucket(len)).copied().unwrap_or(END);
                if at != END {
                    let s = n.start as usize + 1;
                    let key = bytes.get(s..s + len).unwrap_or(&[]);
                    // The key's first eight bytes in one load when the text has them (a key is
                    // followed by at least `":` and a value), masked to its length.
                    let word = match bytes.get(s..s + 8) {
                        Some(w) => u64::from_le_bytes(<[u8; 8]>::try_from(w).unwrap_or_default()) & head_mask(len),
                        None => head(key),
                    };
                    self.note(at, key, word, v, found);
                }
            } else {
                let key = tape.str(text, k);
                let at = self.first.get(bucket(key.len())).copied().unwrap_or(END);
                self.note(at, key.as_bytes(), head(key.as_bytes()), v, found);
            }
        }
    }

    /// Sets `found` for the slot in the chain from `at` whose name is `key` (whose [`head`] is
    /// `word`), if any.
    #[inline(always)]
    fn note(&self, mut at: u8, key: &[u8], word: u64, v: u32, found: &mut [u32]) {
        while at != END {
            let i = usize::from(at);
            let name = self.names.get(i).map_or(&[][..], |n| n.as_bytes());
            if self.heads.get(i) == Some(&word)
                && name.len() == key.len()
                && (key.len() <= 8 || bytes_eq(name.get(8..).unwrap_or(&[]), key.get(8..).unwrap_or(&[])))
            {
                if let Some(f) = found.get_mut(i) {
                    *f = v;
                }
                return;
            }
            at = self.next.get(i).copied().unwrap_or(END);
        }
    }
}

/// The first eight bytes of `b` as a little-endian word, zero past its end.
fn head(b: &[u8]) -> u64 {
    let mut w = 0u64;
    for (i, &c) in b.iter().take(8).enumerate() {
        w |= u64::from(c) << (8 * i);
    }
    w
}

/// The bytes of a word that a name of `len` bytes fills (all of them from eight bytes on).
#[inline(always)]
fn head_mask(len: usize) -> u64 {
    match 1u64.checked_shl((len as u32).saturating_mul(8)) {
        Some(bit) => bit - 1,
        None => u64::MAX,
    }
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
                return (self.tape.kind(v) != Kind::Null).then_some(v);
            }
        }
        None
    }

    /// [`Row::get`] of the column in slot `slot` of the engine's [`Columns`], named `name`: read
    /// from the index when there is one.
    #[inline(always)]
    pub fn col(&self, slot: usize, name: &str) -> Option<u32> {
        match self.found.get(slot) {
            Some(&v) => (v != NONE && self.tape.kind(v) != Kind::Null).then_some(v),
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
        for n in 0..2 {
            for (i, (slot, col)) in [name, snake].into_iter().enumerate() {
                if i == 1 && snake.0 == name.0 {
                    break;
                }
                if let Some(v) = self.member(n, slot, col) {
                    if self.tape.kind(v) != Kind::Null && !ok(v) {
                        return false;
                    }
                }
            }
        }
        true
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
            r#"""#, long2, r#"":7,"version":3,"e":{},"d":[1]}"#,
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
        let names: Vec<String> = ["factory_id", "factory_ix", "id", "abcdefgh", "abcdefg", "i"].iter().map(|n| n.to_string()).collect();
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
