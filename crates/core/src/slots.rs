//! The object path's crossing (`rt.ingest('supabase', payload)`): a supabase-js payload arrives as
//! typed slots, the values of the columns its table's [`Need`] names, and the core builds its
//! event from them without scanning any text (issue 10). The shim (`js/createRealtime.js`
//! `writeSlots`) only copies values; every decision is made here or where the text path makes it.
//!
//! # The layout
//!
//! `words` (a `u32` buffer in wasm memory) and `text` (the input buffer, UTF-8):
//!
//! | word | holds |
//! | --- | --- |
//! | 0 | `eventType`: 0 INSERT, 1 UPDATE, 2 DELETE; plus [`ROWS`] when the rows follow |
//! | 1 | how many members `JSON.stringify` would write for `old` (0 when absent or null) |
//! | 2 | where the table's text ends: `text[..w2]` is the table as a JSON string |
//! | 3 .. 3+n | the row's value of each of the `n` needed columns ([`Need::columns`], in order) |
//! | 3+n .. 3+n+k | `old`'s value of each id column ([`Need::keys`]: the id when the row has none) |
//! | then, with [`ROWS`] | `new`'s member count, then each member as two words (its name, its value); the same for `old` |
//!
//! The row is `new`, or `old` as [`row_is_new`] chooses by the event and which rows have members;
//! the core hands the shim that choice as a table ([`row_choices`], in `WasmRealtime.columns()`),
//! so the rule keeps one home and the shim reads only the row the core will read.
//!
//! A value word is `end << 3 | kind`; its text runs from the previous word's end (the first from
//! `w2`) to `end`. Kinds: 0 not a member (missing, `undefined`, a function), 1 `null` (also a
//! non-finite number, as `JSON.stringify` writes it), 2 `true`, 3 `false` (those three with empty
//! text), 4 a number (its JSON text), 5 a string (its JSON text, quoted, with no character that
//! needs an escape). Every span, number and string is checked here, so a wrong layout is refused,
//! never read wrong and never a panic.
//!
//! The rows (with [`ROWS`]) are what an UPDATE diffed from its whole rows needs (`Slotted::Rows`,
//! below): every member `JSON.stringify` would write of `new` and `old` (both objects), in its
//! order, a name (kind 5, a string) and a value (kinds 1 to 5, `null`, `true` and `false` with
//! their text here; a row with an object or array value crosses as text), their texts after the
//! last slot's. `old`'s count is word 1's.
//!
//! Only a payload the shim can write so crosses as slots: no `type`, a string `table`, a known
//! `eventType`, `new` / `old` plain objects or absent/null, no value `JSON.stringify` throws on, no
//! object value in a needed column, no string that needs an escape, and JSON text surely under
//! 1 MiB. Anything else crosses whole as text, so its errors are the text path's.
//!
//! # What the core refuses (nothing read or counted; the shim sends it as text, `Slotted`)
//!
//! - needs of an older epoch ([`Engine::handle_slots`], `Slotted::Stale`): the whole payload;
//! - a layout that does not check (above), an empty table name, no id: the whole payload, so the
//!   text path reports it;
//! - an UPDATE whose changed columns the policy patches ([`Need::update_diff`]) with a whole old
//!   row ([`whole_old_row`], the rule's one home): it is diffed from both rows, so the shim sends
//!   the same slots again with the rows (or, when it cannot write them, `{table, eventType, new,
//!   old}` as text: the adapter reads nothing else of a valid payload), but only when it is in
//!   scope; one the scope guard drops is dropped here.

use crate::adapt::fields::{id_text, whole_old_row, In};
use crate::adapt::supabase::{row_is_new, scope_and_version};
use crate::columns::Columns;
#[cfg(test)]
use crate::columns::Need;
use crate::event::{Action, Columns as RowIndex, Row, RowEvent};
use crate::scan::{self, key_head, KeyInfo, Kind, Node, Tape};
use std::borrow::Cow;

/// No value in a row index slot (as `event.rs` marks it).
const NONE: u32 = u32::MAX;

/// The words before the values.
pub const HEAD: usize = 3;

/// In word 0: the payload's rows follow its slots (see "The layout").
pub const ROWS: u32 = 4;

/// The event the slots describe, with whether it is an UPDATE that needs its whole rows to be
/// diffed (`true`: the caller sends it as text when it is in scope). `None`: refused.
///
/// One pass over the words: each is checked against the text ([`value`]) as its tape node is
/// written, so a refused layout leaves only a tape that the next payload clears.
#[allow(clippy::too_many_arguments)]
pub(crate) fn read<'a>(
    needs: &Columns,
    index: &RowIndex,
    primary_key: &[String],
    tape: &'a mut Tape,
    found: &'a mut Vec<u32>,
    words: &[u32],
    text: &'a str,
) -> Option<(RowEvent<'a>, bool)> {
    let (&[ev, old_members, table_end], values) = words.split_first_chunk::<HEAD>()?;
    let action = match ev & !ROWS {
        0 => Action::Create,
        1 => Action::Update,
        2 => Action::Delete,
        _ => return None,
    };
    let b = text.as_bytes();
    let table_end = table_end as usize;
    if table_end < 3 || !plain_string(b, 0, table_end) {
        return None; // an empty or escaped table name: the text path reads it
    }
    let table = text.get(1..table_end - 1)?;
    let need = needs.need(table);
    let (cols, rest) = values.split_at_checked(need.columns.len())?;
    let (keys, rows) = rest.split_at_checked(need.keys.len())?;

    // The row the event's columns are read from, indexed as `Columns::index` indexes a scanned one.
    tape.clear();
    let obj = tape.push(Node { kind: Kind::Object, start: 0, end: 0, next: 1 });
    if found.len() == need.found_len {
        found.fill(NONE);
    } else {
        found.clear();
        found.resize(need.found_len, NONE);
    }
    let mut at = table_end;
    for (&w, &slot) in cols.iter().zip(&need.slots) {
        let end = value(b, at, w, false)?;
        if w & 7 != 0 {
            let v = push(tape, scalar(w, at, end));
            *found.get_mut(slot)? = v;
        }
        at = end;
    }
    // `old`'s id columns that are members, in order, for an id the row lacks.
    let old_keys = tape.len() as u32;
    let mut present_keys = 0;
    for &w in keys {
        let end = value(b, at, w, false)?;
        if w & 7 != 0 {
            present_keys += 1;
            push(tape, scalar(w, at, end));
        }
        at = end;
    }
    // The rows, as the scanner puts objects on the tape: an entry per member, its name with its value.
    let mut diff = None;
    if ev & ROWS != 0 {
        let mut rest = rows;
        let mut objs = [0; 2];
        let mut count = 0;
        for obj in &mut objs {
            let (&c, after) = rest.split_first()?;
            count = c;
            let pairs = after.get(..(count as usize).checked_mul(2)?)?;
            let next = (tape.len() as u32).saturating_add(1).saturating_add(count);
            *obj = tape.push(Node { kind: Kind::Object, start: 0, end: 0, next });
            for pair in pairs.chunks_exact(2) {
                let (name, w) = (pair[0], pair[1]);
                let name_end = (name >> 3) as usize;
                if name & 7 != 5 || !plain_string(b, at, name_end) {
                    return None; // a name is a string that needs no escape
                }
                let end = value(b, name_end, w, true)?;
                let inner = b.get(at + 1..name_end - 1)?;
                let key = KeyInfo { head: key_head(inner), start: at as u32, len: inner.len() as u32, escaped: false };
                let mut node = scalar(w, name_end, end);
                node.next = tape.len() as u32 + 1;
                tape.push_member(key, node);
                at = end;
            }
            rest = &after[pairs.len()..];
        }
        if !rest.is_empty() || count != old_members {
            return None;
        }
        if action == Action::Update {
            diff = Some((Some(objs[0]), objs[1]));
        }
    } else if !rows.is_empty() {
        return None;
    }
    if at != b.len() {
        return None;
    }
    let whole = diff.is_none() && action == Action::Update && need.update_diff && {
        // old's members: its id columns first (JS objects hold each name once), then the others
        whole_old_row((0..old_members).map(|i| i < present_keys))
    };

    let tape: &'a Tape = tape;
    let found: &'a [u32] = found;
    let p = In { tape, text };
    let row = Row::indexed(tape, text, Some(obj), found);
    let id = index
        .primary_key
        .iter()
        .zip(primary_key)
        .find_map(|(&slot, name)| row.col(slot, name).and_then(|v| id_text(&p, v)))
        .or_else(|| (0..present_keys).find_map(|j| id_text(&p, old_keys + j)))?;
    // Diffed only from the rows: an UPDATE that would be diffed without them is refused (`whole`),
    // and for any other the diff is not read or finds nothing (a key-only old row).
    let (factory_id, version) = scope_and_version(&p, index, &row);
    let ev = RowEvent {
        factory_id,
        outer: None,
        version,
        ty: Cow::Borrowed(table),
        id,
        action,
        row,
        changed: None,
        diff,
        event_id: None,
    };
    Some((ev, whole))
}

/// [`row_is_new`] for every payload shape, as the shim looks it up: index `event * 4 + (new has no
/// member) * 2 + (old has no member)`, 0 = `new`, 1 = `old` (events as in the layout's word 0).
pub fn row_choices() -> [u8; 12] {
    let mut t = [0; 12];
    for (e, action) in [Action::Create, Action::Update, Action::Delete].into_iter().enumerate() {
        for empty in 0..4 {
            t[e * 4 + empty] = u8::from(!row_is_new(action, empty & 2 != 0, empty & 1 != 0));
        }
    }
    t
}

/// Where a value's text ends, after checking its word against `text` from `at`: a number is a
/// JSON number, a string one that needs no escape; in a slot, kinds 0 to 3 have no text, in the
/// rows (`row`) every value is a member and `null`, `true` and `false` are written out (the diff
/// compares values' texts and a patch carries them).
#[inline(always)]
fn value(text: &[u8], at: usize, w: u32, row: bool) -> Option<usize> {
    let end = (w >> 3) as usize;
    let ok = match (w & 7, row) {
        (4, _) => number(text.get(at..end)?),
        (5, _) => plain_string(text, at, end),
        (0..=3, false) => at == end,
        (1, true) => text.get(at..end)? == b"null",
        (2, true) => text.get(at..end)? == b"true",
        (3, true) => text.get(at..end)? == b"false",
        _ => false,
    };
    ok.then_some(end)
}

/// The scalar node of a checked value word whose text is `start..end`.
#[inline(always)]
fn scalar(w: u32, start: usize, end: usize) -> Node {
    let kind = match w & 7 {
        1 => Kind::Null,
        2 => Kind::True,
        3 => Kind::False,
        4 => Kind::Number,
        _ => Kind::Str,
    };
    Node { kind, start: start as u32, end: end as u32, next: 0 }
}

/// Pushes a scalar node (its subtree ends right after it).
#[inline(always)]
fn push(tape: &mut Tape, mut node: Node) -> u32 {
    node.next = tape.len() as u32 + 1;
    tape.push(node)
}

/// Whether `text[start..end]` is a JSON string with no escape and no character that needs one
/// (the scanner's `Kind::Str`): its first stop byte (`scan::stop`, the scanner's own test) is its
/// closing quote.
fn plain_string(text: &[u8], start: usize, end: usize) -> bool {
    if end < start.saturating_add(2) || text.get(start) != Some(&b'"') || text.get(end - 1) != Some(&b'"') {
        return false;
    }
    scan::stop(text, start + 1) == end - 1
}

/// A JSON number literal, by the scanner's own rule (`scan::number`). What the shim writes most,
/// a positive integer of up to 16 digits (no sign, fraction or exponent, no leading zero: one of
/// the forms that rule accepts), is told without the call.
#[inline(always)]
fn number(b: &[u8]) -> bool {
    match b {
        [b'1'..=b'9', rest @ ..] if rest.len() < 16 && rest.iter().all(u8::is_ascii_digit) => true,
        _ => scan::number(b, 0).is_ok_and(|end| end == b.len()),
    }
}

/// What a [`Need`] gives the shim to write, for tests: the words and text of a payload with these
/// values (`None`: not a member) of `new` and `old`, given as JSON literals.
#[cfg(test)]
pub(crate) fn layout(
    need: &Need,
    ev: u32,
    table: &str,
    members: [u32; 2],
    new: &[Option<&str>],
    old: &[Option<&str>],
) -> (Vec<u32>, String) {
    let mut text = ["\"", table, "\""].concat();
    let mut words = vec![ev, members[1], text.len() as u32];
    let at_old =
        row_choices()[ev.min(2) as usize * 4 + usize::from(members[0] == 0) * 2 + usize::from(members[1] == 0)] == 1;
    let keys: Vec<Option<&str>> = need.keys.iter().map(|&k| old.get(k).copied().flatten()).collect();
    for (row, cols) in [(if at_old { old } else { new }, None), (&keys[..], Some(keys.len()))] {
        for i in 0..cols.unwrap_or(need.columns.len()) {
            let kind = match row.get(i).copied().flatten() {
                None => 0,
                Some("null") => 1,
                Some("true") => 2,
                Some("false") => 3,
                Some(v) => {
                    text.push_str(v);
                    if v.starts_with('"') {
                        5
                    } else {
                        4
                    }
                }
            };
            words.push((text.len() as u32) << 3 | kind);
        }
    }
    (words, text)
}

/// [`layout`] with the rows after the slots (`ROWS`): each row's members as (name, JSON literal).
#[cfg(test)]
pub(crate) fn with_rows(
    (mut words, mut text): (Vec<u32>, String),
    new: &[(&str, &str)],
    old: &[(&str, &str)],
) -> (Vec<u32>, String) {
    words[0] |= ROWS;
    for row in [new, old] {
        words.push(row.len() as u32);
        for (name, v) in row {
            text.push_str(&["\"", name, "\""].concat());
            words.push((text.len() as u32) << 3 | 5);
            let kind = match *v {
                "null" => 1,
                "true" => 2,
                "false" => 3,
                _ if v.starts_with('"') => 5,
                _ => 4,
            };
            text.push_str(v);
            words.push((text.len() as u32) << 3 | kind);
        }
    }
    (words, text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Engine, Ingested, Slotted};

    #[test]
    fn numbers_and_strings_are_checked() {
        for ok in ["0", "-0", "12", "1.5", "-2.25e-7", "1e+21", "3E4", "1234567890123456", "12345678901234567890"] {
            assert!(number(ok.as_bytes()), "{ok}");
        }
        for bad in
            ["", "-", "01", "1.", ".5", "1e", "1e+", "+1", "1x", "NaN", "0x1", "123456789012345x", "12345678901234567x"]
        {
            assert!(!number(bad.as_bytes()), "{bad}");
        }
        let whole = |b: &[u8]| plain_string(b, 0, b.len());
        assert!(
            whole(br#""""#) && whole("\"é\"".as_bytes()) && whole("\"a long string, ü, past eight bytes\"".as_bytes())
        );
        for bad in [
            &br#"""#[..],
            br#""a"b""#,
            br#""a\n""#,
            b"\"\x01\"",
            br#"a"#,
            br#""a"#,
            br#""eight by\tes then""#,
            b"\"0123456\x1f89\"",
            br#""01234567"9""#,
            b"\"01234567\x0089ab\"",
        ] {
            assert!(!whole(bad), "{:?}", std::str::from_utf8(bad));
        }
        // Inside a longer text (the last bytes are read in a word that runs past the string): what
        // follows never counts and what is inside always does, for every length and position.
        for len in 0..20 {
            for bad in [None, Some(b'\\'), Some(b'"'), Some(0x1f), Some(0)] {
                for bad_at in 0..len.max(1) {
                    let inner: Vec<u8> = (0..len)
                        .map(|i| if i == bad_at { bad.unwrap_or(b'z') } else { b'a' + (i % 26) as u8 })
                        .collect();
                    let ok = bad.is_none() || len == 0;
                    for after in [&b"\"\\\x01\"x\"\"\"\""[..], b"", b"1", b"\x00\x00\x00\x00\x00\x00\x00\x00\x00"] {
                        let text = [&b"\""[..], &inner, b"\"", after].concat();
                        assert_eq!(plain_string(&text, 0, len + 2), ok, "{:?}", std::str::from_utf8(&text));
                        let text = [&b"12\"\\\"\""[..], b"\"", &inner, b"\"", after].concat();
                        assert_eq!(plain_string(&text, 6, len + 8), ok, "{:?}", std::str::from_utf8(&text));
                    }
                }
            }
        }
    }

    fn engine() -> Engine {
        Engine::from_options_text(r#"{"scope":{"factoryId":"f1"},"primaryKey":["id"],"rules":[{"table":"items","invalidate":[["wo","{work_order_id}"]]}]}"#).unwrap()
    }

    /// The event the slots give routes as the same payload's text does.
    #[test]
    fn slots_route_like_the_text() {
        let mut e = engine();
        let needs = e.columns();
        let need = needs.need("items").clone();
        assert_eq!(need.columns, ["id", "version", "factoryId", "factory_id", "work_order_id"]);
        let (w, t) = layout(&need, 0, "items", [3, 0], &[Some("7"), None, None, Some("\"f1\""), Some("12")], &[]);
        assert_eq!(e.handle_slots(0, needs.epoch, &w, &t), Slotted::Read(Ingested::Queued));
        let mut t2 = engine();
        t2.handle_text(
            0,
            "supabase",
            r#"{"table":"items","eventType":"INSERT","new":{"id":7,"factory_id":"f1","work_order_id":12},"old":{}}"#,
        )
        .unwrap();
        e.flush(1);
        t2.flush(1);
        let (a, b) = (e.poll_plan().unwrap(), t2.poll_plan().unwrap());
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        assert_eq!(e.stats(), t2.stats());
    }

    #[test]
    fn refused_layouts_are_not_counted() {
        let mut e = engine();
        let needs = e.columns();
        let d = needs.need("t").clone();
        let good = layout(&d, 2, "t", [0, 2], &[], &[Some("1"), None, None, Some("\"f1\"")]);
        let bad: Vec<(Vec<u32>, String)> = vec![
            (good.0[..good.0.len() - 1].to_vec(), good.1.clone()), // a word short
            (good.0.clone(), [&good.1[..], " "].concat()),         // text beyond the last value
            layout(&d, 3, "t", [0, 2], &[], &[Some("1")]),         // no such eventType
            layout(&d, 2, "", [0, 2], &[], &[Some("1")]),          // an empty table: the text path's error
            layout(&d, 2, "t", [0, 2], &[], &[Some("01")]),        // not a JSON number
            layout(&d, 2, "t", [0, 2], &[], &[Some("\"a\\\"b\"")]), // a string with an escape
            layout(&d, 2, "t", [0, 2], &[], &[None, None, None, Some("\"f1\"")]), // no id
            {
                let (mut w, t) = good.clone();
                w[HEAD] = (1000 << 3) | 4; // past the text
                (w, t)
            },
            {
                let (mut w, t) = good.clone();
                w[HEAD + 1] = 7; // an unknown kind
                (w, t)
            },
        ];
        for (w, t) in &bad {
            assert_eq!(e.handle_slots(0, needs.epoch, w, t), Slotted::Text, "{w:?} {t}");
        }
        assert_eq!(e.stats().received, 0);
        assert_eq!(e.handle_slots(0, needs.epoch, &good.0, &good.1), Slotted::Read(Ingested::Queued));
        assert_eq!(e.handle_slots(0, needs.epoch.wrapping_add(1), &good.0, &good.1), Slotted::Stale, "another epoch");
        assert_eq!(e.stats().received, 1);
    }

    /// The same UPDATE with its rows (`ROWS`) is read and patched as its text is: same plan, stats.
    #[test]
    fn rows_after_the_slots_diff_like_the_text() {
        let mut e = engine();
        let needs = e.columns();
        let d = needs.need("wo").clone();
        let new = [
            ("id", "1"),
            ("version", "3"),
            ("factory_id", "\"f1\""),
            ("title", "\"b\""),
            ("qty", "2.5"),
            ("done", "true"),
            ("note", "null"),
        ];
        let old = [
            ("id", "1"),
            ("version", "2"),
            ("factory_id", "\"f1\""),
            ("title", "\"a\""),
            ("qty", "2.5"),
            ("done", "false"),
            ("note", "null"),
        ];
        let slots = layout(&d, 1, "wo", [7, 7], &[Some("1"), Some("3"), None, Some("\"f1\"")], &[Some("1")]);
        assert_eq!(e.handle_slots(0, needs.epoch, &slots.0, &slots.1), Slotted::Rows);
        let (w, t) = with_rows(slots, &new, &old);
        assert_eq!(e.handle_slots(0, needs.epoch, &w, &t), Slotted::Read(Ingested::Queued));
        let mut t2 = engine();
        let row = |r: &[(&str, &str)]| {
            ["{", &r.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect::<Vec<_>>().join(","), "}"].concat()
        };
        let text = format!(r#"{{"table":"wo","eventType":"UPDATE","new":{},"old":{}}}"#, row(&new), row(&old));
        t2.handle_text(0, "supabase", &text).unwrap();
        e.flush(1);
        t2.flush(1);
        let (a, b) = (e.poll_plan().unwrap(), t2.poll_plan().unwrap());
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        assert!(format!("{a:?}").contains("donetruetitle"), "the changed columns are patched: {a:?}");
        assert_eq!(e.stats(), t2.stats());
    }

    #[test]
    fn refused_rows_are_not_counted() {
        let mut e = engine();
        let needs = e.columns();
        let d = needs.need("wo").clone();
        let slots = || layout(&d, 1, "wo", [2, 2], &[Some("1"), Some("3"), None, Some("\"f1\"")], &[Some("1")]);
        let new = [("id", "1"), ("a", "2")];
        let good = with_rows(slots(), &new, &[("id", "1"), ("a", "3")]);
        let bad: Vec<(Vec<u32>, String)> = vec![
            with_rows(slots(), &new, &[("id", "1")]), // old's count is not word 1's
            {
                let (mut w, t) = good.clone();
                w.push(0); // a word after the rows
                (w, t)
            },
            {
                let (mut w, t) = good.clone();
                w.pop(); // a word short
                (w, t)
            },
            {
                let (mut w, t) = good.clone();
                let last = w.len() - 2;
                w[last] = (w[last] & !7) | 4; // a name that is not a string
                (w, t)
            },
            {
                let (mut w, t) = good.clone();
                let last = w.len() - 1;
                w[last] &= !7; // a member that is not one
                (w, t)
            },
            (good.0.clone(), [&good.1[..], "1"].concat()), // text after the last value
            {
                let (mut w, t) = slots();
                w.push(0); // words after the slots without ROWS
                (w, t)
            },
        ];
        for (w, t) in &bad {
            assert_eq!(e.handle_slots(0, needs.epoch, w, t), Slotted::Text, "{w:?} {t}");
        }
        assert_eq!(e.stats().received, 0);
        assert_eq!(e.handle_slots(0, needs.epoch, &good.0, &good.1), Slotted::Read(Ingested::Queued));
    }

    /// An UPDATE the policy would patch from a whole old row is refused in scope (it crosses as
    /// text) and dropped out of scope; with a key-only old row it is read from the slots.
    #[test]
    fn whole_old_rows_of_patched_updates_cross_as_text_in_scope() {
        let mut e = engine();
        let needs = e.columns();
        let d = needs.need("wo").clone();
        let row = |f: &'static str| vec![Some("1"), Some("2"), None, Some(f)];
        let key = [Some("1")];
        let (w, t) = layout(&d, 1, "wo", [5, 5], &row("\"f1\""), &row("\"f1\""));
        assert_eq!(e.handle_slots(0, needs.epoch, &w, &t), Slotted::Rows, "in scope: its rows cross as text");
        let (w, t) = layout(&d, 1, "wo", [5, 5], &row("\"f2\""), &row("\"f2\""));
        assert_eq!(e.handle_slots(0, needs.epoch, &w, &t), Slotted::Read(Ingested::OutOfScope));
        let (w, t) = layout(&d, 1, "wo", [5, 1], &row("\"f1\""), &key);
        assert_eq!(e.handle_slots(0, needs.epoch, &w, &t), Slotted::Read(Ingested::Queued), "key-only old: no diff");
        // A rule reads the table's UPDATEs: its changed columns are never read.
        let items = needs.need("items").clone();
        let (w, t) =
            layout(&items, 1, "items", [5, 5], &[Some("3"), None, None, Some("\"f1\""), Some("4")], &[Some("3")]);
        assert_eq!(e.handle_slots(0, needs.epoch, &w, &t), Slotted::Read(Ingested::Queued));
        assert_eq!(e.stats().received, 3);
        assert_eq!(e.stats().dropped.out_of_scope, 1);
    }
}
