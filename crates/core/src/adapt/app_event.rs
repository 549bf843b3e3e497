//! The contract's own event payload (seed 001):
//! `{ type, id, factoryId?, action: create|update|delete|approve|reject, changedKeys?, version?, ts?, data? }`.

use super::fields::{cat, id_text, opt_object, set_changed, table_name, In};
use crate::error::{Error, ErrorCode};
use crate::event::{Action, Event, Row, RowEvent};
use crate::scan::Kind;

pub fn adapt<'a>(p: In<'a>, o: u32, src: &str, changed: &'a mut Vec<(u32, u32)>) -> Result<Event<'a>, Error> {
    let wrong = |m: &str| Error::new(ErrorCode::WrongType, src, m);
    let ty = table_name(&p, o, "type", src)?;
    let id = match p.some(o, "id") {
        None => return Err(Error::new(ErrorCode::MissingId, src, "`id` is missing")),
        Some(v) => id_text(&p, v)
            .ok_or_else(|| wrong(&cat(&["`id` must be a non-empty string or a number, got ", p.raw(v)])))?,
    };
    let action = match p.get(o, "action").and_then(|v| p.str(v)).as_deref() {
        Some("create") => Action::Create,
        Some("update" | "approve" | "reject") => Action::Update,
        Some("delete") => Action::Delete,
        _ => return Err(wrong("`action` must be create, update, delete, approve or reject")),
    };
    let keys = match p.some(o, "changedKeys") {
        None => None,
        Some(ks) if p.kind(ks) == Kind::Array && p.tape.items(ks).all(|k| p.tape.is_str(k)) => Some(ks),
        Some(_) => return Err(wrong("`changedKeys` must be an array of strings")),
    };
    let version = match p.some(o, "version") {
        None => None,
        Some(v) => {
            Some(p.tape.f64(p.text, v).filter(|x| x.is_finite()).ok_or_else(|| wrong("`version` must be a number"))?)
        }
    };
    if let Some(ts) = p.get(o, "ts") {
        if !matches!(p.kind(ts), Kind::Null | Kind::Str | Kind::StrEscaped | Kind::Number) {
            return Err(wrong("`ts` must be a string or a number"));
        }
    }
    let data = opt_object(&p, o, "data", src)?;
    // The row seen by templates and the scope guard: the changed values, then the event's own fields.
    let row = Row::new(p.tape, p.text, data, Some(o));
    let factory_id = Row::new(p.tape, p.text, Some(o), None)
        .field("factoryId", "factory_id")
        .or_else(|| data.and_then(|d| Row::new(p.tape, p.text, Some(d), None).field("factoryId", "factory_id")));
    // Patchable only when every named field has its value; otherwise the doc must be refetched.
    changed.clear();
    let patchable = match (keys, data) {
        (Some(ks), Some(d)) => p.tape.items(ks).all(|k| match p.get(d, &p.tape.str(p.text, k)) {
            Some(v) => {
                set_changed(&p, changed, k, Some(v));
                true
            }
            None => false,
        }),
        (None, Some(d)) if !p.is_empty_object(Some(d)) => {
            for (k, v) in p.tape.members(d) {
                set_changed(&p, changed, k, Some(v));
            }
            true
        }
        _ => false,
    };
    Ok(Event::Row(RowEvent {
        factory_id,
        outer: None, // the row reads the event's own fields already
        ty,
        id,
        action,
        row,
        changed: patchable.then_some(&changed[..]),
        version,
        diff: None,
        event_id: None,
    }))
}
