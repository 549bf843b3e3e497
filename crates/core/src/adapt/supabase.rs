//! Supabase Realtime: what supabase-js v2 hands a `postgres_changes` callback
//! (`{ schema, table, commit_timestamp, eventType, new, old, errors }`, built by realtime-js from the
//! server's `record`/`old_record`), or a broadcast `{ type: 'broadcast', event, payload }` whose
//! `payload` is an `'event'` payload. Read straight off the tape: only the id, the version, the
//! scope fields and (for an UPDATE with the whole old row) the changed columns are looked at;
//! every other column stays unread text.

use super::fields::{cat, opt_object_of, row_id, set_changed, table_name_of, values_equal, version_of, In};
use crate::error::{Error, ErrorCode};
use crate::event::{Action, Event, Row, RowEvent};
use crate::scan::Kind;

const SRC: &str = "supabase";

pub fn adapt<'a>(p: In<'a>, o: u32, primary_key: &[String], changed: &'a mut Vec<(u32, u32)>) -> Result<Event<'a>, Error> {
    let mut top = [None; 5];
    p.tape.pick(p.text, o, &["type", "table", "eventType", "new", "old"], &mut top);
    let [ty, table, event_type, new, old] = top;
    if ty.filter(|&t| p.kind(t) != Kind::Null).and_then(|t| p.str(t)).as_deref() == Some("broadcast") {
        return match p.get(o, "payload").filter(|&v| p.kind(v) == Kind::Object) {
            Some(payload) => super::app_event::adapt(p, payload, SRC, changed),
            None => Err(Error::new(ErrorCode::NotObject, SRC, "broadcast `payload` must be an 'event' object")),
        };
    }
    let table = table_name_of(&p, table, "table", SRC)?;
    let action = match event_type {
        Some(v) => match p.str(v).as_deref() {
            Some("INSERT") => Action::Create,
            Some("UPDATE") => Action::Update,
            Some("DELETE") => Action::Delete,
            _ => return Err(Error::new(ErrorCode::WrongType, SRC, cat(&["`eventType` must be INSERT, UPDATE or DELETE, got ", p.raw(v)]))),
        },
        None => return Err(Error::new(ErrorCode::WrongType, SRC, "`eventType` is missing")),
    };
    let new = opt_object_of(&p, new, "new", SRC)?;
    let old = opt_object_of(&p, old, "old", SRC)?;
    let (new_empty, old_empty) = (p.is_empty_object(new), p.is_empty_object(old));
    let id_row = if (action == Action::Delete && !old_empty) || new_empty { old } else { new };
    let id = row_id(&p, id_row, primary_key)
        .or_else(|| row_id(&p, old, primary_key))
        .ok_or_else(|| Error::new(ErrorCode::MissingId, SRC, cat(&["no ", &primary_key.join("/"), " column in the `", &table, "` row"])))?;
    // Without REPLICA IDENTITY FULL `old` holds only the primary key, so nothing can be diffed:
    // the changed fields are then unknown and the doc is refetched rather than patched.
    let diffable = action == Action::Update
        && old.is_some_and(|o| p.tape.members(o).any(|(k, _)| !primary_key.iter().any(|c| p.tape.str_eq(p.text, k, c))));
    changed.clear();
    if diffable {
        for (k, v) in new.map(|n| p.tape.members(n)).into_iter().flatten() {
            let name = p.tape.str(p.text, k);
            let same = old.and_then(|o| p.get(o, &name)).is_some_and(|ov| values_equal(&p, ov, v));
            set_changed(&p, changed, k, (!same).then_some(v));
        }
    }
    // realtime-js gives DELETE an empty `new` and INSERT an empty `old`.
    let row = match action {
        Action::Delete => if old_empty { new } else { old },
        _ => if new_empty { old } else { new },
    };
    let row = Row::new(p.tape, p.text, row, None);
    Ok(Event::Row(RowEvent {
        factory_id: row.field("factoryId", "factory_id"),
        outer: None,
        version: version_of(&p, row.get("version")),
        ty: table,
        id,
        action,
        row,
        changed: diffable.then_some(&changed[..]),
        event_id: None,
    }))
}
