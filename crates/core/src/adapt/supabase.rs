//! Supabase Realtime: what supabase-js v2 hands a `postgres_changes` callback
//! (`{ schema, table, commit_timestamp, eventType, new, old, errors }`, built by realtime-js from the
//! server's `record`/`old_record`), or a broadcast `{ type: 'broadcast', event, payload }` whose
//! `payload` is an `'event'` payload. Read straight off the tape: only the id, the version, the
//! scope fields and (for an UPDATE with the whole old row) the changed columns are looked at;
//! every other column stays unread text.

use super::fields::{cat, id_text, opt_object_of, plain_bytes, row_id, table_name_of, version_of, In};
use super::{Scratch, Wants};
use crate::error::{Error, ErrorCode};
use crate::event::{Action, Columns, Event, Row, RowEvent};
use crate::scan::{key_head as head, Kind};

const SRC: &str = "supabase";

const TYPE: u64 = head(b"type");
const TABLE: u64 = head(b"table");
const EVENT_TYP: u64 = head(b"eventType");
const NEW: u64 = head(b"new");
const OLD: u64 = head(b"old");
const PAYLOAD: u64 = head(b"payload");

pub fn adapt<'a>(p: In<'a>, o: u32, wants: Wants<'_>, scratch: &'a mut Scratch) -> Result<Event<'a>, Error> {
    let Scratch { changed, found } = scratch;
    // One pass over the members, the last of duplicate keys winning (as JSON.parse keeps it).
    let (mut ty, mut table, mut event_type, mut new, mut old, mut payload) = (None, None, None, None, None, None);
    for (v, key) in p.tape.keyed_members(o) {
        // A key without escape is matched by its length and first eight bytes (the scanner's
        // `KeyInfo`); `eventType`, nine bytes long, by its last byte too.
        let slot = if key.escaped {
            match &*p.tape.str(p.text, v | crate::scan::KEY) {
                "type" => &mut ty,
                "table" => &mut table,
                "eventType" => &mut event_type,
                "new" => &mut new,
                "old" => &mut old,
                "payload" => &mut payload,
                _ => continue,
            }
        } else {
            match (key.len, key.head) {
                (4, TYPE) => &mut ty,
                (5, TABLE) => &mut table,
                (9, EVENT_TYP) if p.text.as_bytes().get(key.start as usize + 9) == Some(&b'e') => &mut event_type,
                (3, NEW) => &mut new,
                (3, OLD) => &mut old,
                (7, PAYLOAD) => &mut payload,
                _ => continue,
            }
        };
        *slot = Some(v);
    }
    // `str_eq`, not a decoded `Option<Cow>` compared: at opt z, the shipped setting, that was three
    // calls per event for a member the payload seldom has.
    if ty.is_some_and(|t| p.tape.str_eq(p.text, t, "broadcast")) {
        return match payload.filter(|&v| p.tape.value_kind(v) == Kind::Object) {
            Some(payload) => super::app_event::adapt(p, payload, SRC, changed),
            None => Err(Error::new(ErrorCode::NotObject, SRC, "broadcast `payload` must be an 'event' object")),
        };
    }
    let table = table_name_of(&p, table, "table", SRC)?;
    let action = match event_type {
        Some(v) => {
            // An escaped spelling (`"\u0049NSERT"`) reads as what it decodes to.
            let decoded;
            let name = match plain_bytes(p.tape, p.text, v) {
                Some(name) => name,
                None => {
                    decoded = p.str(v).unwrap_or_default();
                    decoded.as_bytes()
                }
            };
            match name {
                b"INSERT" => Action::Create,
                b"UPDATE" => Action::Update,
                b"DELETE" => Action::Delete,
                _ => {
                    return Err(Error::new(
                        ErrorCode::WrongType,
                        SRC,
                        cat(&["`eventType` must be INSERT, UPDATE or DELETE, got ", p.raw(v)]),
                    ))
                }
            }
        }
        None => return Err(Error::new(ErrorCode::WrongType, SRC, "`eventType` is missing")),
    };
    let new = opt_object_of(&p, new, "new", SRC)?;
    let old = opt_object_of(&p, old, "old", SRC)?;
    let (new_empty, old_empty) = (p.is_empty_object(new), p.is_empty_object(old));
    // realtime-js gives DELETE an empty `new` and INSERT an empty `old`. The row is also where the
    // id is read first (when both are empty neither has one).
    let row = if row_is_new(action, new_empty, old_empty) { new } else { old };
    // One pass over the row finds every column routing reads (id, version, scope, placeholders).
    let cols = wants.columns;
    cols.index(p.tape, p.text, row, found);
    let row = Row::indexed(p.tape, p.text, row, found);
    let primary_key = wants.primary_key;
    // `match`, not `or_else`, and a `for` loop, not `find_map`: at opt 3 and z the combinators were
    // calls of their own (the `find_map` a ~140-instruction function, mostly its set-up).
    let mut first = None;
    for (&slot, name) in cols.primary_key.iter().zip(primary_key) {
        if let Some(id) = row.col(slot, name).and_then(|v| id_text(&p, v)) {
            first = Some(id);
            break;
        }
    }
    let id = match first {
        Some(id) => id,
        None => match row_id(&p, old, primary_key) {
            Some(id) => id,
            None => {
                return Err(Error::new(
                    ErrorCode::MissingId,
                    SRC,
                    cat(&["no ", &primary_key.join("/"), " column in the `", &table, "` row"]),
                ))
            }
        },
    };
    // Which columns an UPDATE changed is worked out only when the event is routed to a patch
    // (`fields::diff_rows`): an event the guards drop never pays for the diff.
    let diff = match (action, old) {
        (Action::Update, Some(old)) => Some((new, old)),
        _ => None,
    };
    let (factory_id, version) = scope_and_version(&p, cols, &row);
    Ok(Event::Row(RowEvent {
        factory_id,
        outer: None,
        version,
        ty: table,
        id,
        action,
        row,
        changed: None,
        diff,
        event_id: None,
    }))
}

/// A Supabase row's factory scope (`factoryId`, else `factory_id`) and version, read from its indexed
/// columns: the one place for both, which the text path above and the object path (`slots.rs`) call.
#[inline(always)]
pub(crate) fn scope_and_version(p: &In<'_>, cols: &Columns, row: &Row<'_>) -> (Option<u32>, Option<f64>) {
    let [camel, snake] = cols.factory;
    // `match`, not `or_else`: at opt z the combinator is a call of its own.
    let factory_id = match row.col(camel, "factoryId") {
        Some(v) => Some(v),
        None => row.col(snake, "factory_id"),
    };
    (factory_id, version_of(p, row.col(cols.version, "version")))
}

/// Which row an event's columns are read from: `new`, or `old` for a DELETE (or when `new` is empty
/// and `old` is not for the others). Also the object path's (`slots.rs`).
pub(crate) fn row_is_new(action: Action, new_empty: bool, old_empty: bool) -> bool {
    match action {
        Action::Delete => old_empty,
        _ => !new_empty,
    }
}
