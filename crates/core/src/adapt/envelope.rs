//! Seed 004's envelope: `{ type, entity, action: insert|update|delete, data, timestamp, id }` where
//! `entity` is the table, `data` the row and `id` a unique event id (deduped across windows).

use super::fields::{cat, id_text, kind_name, row_id, table_name, version_of, In};
use crate::error::{Error, ErrorCode};
use crate::event::{Action, Event, Row, RowEvent};
use crate::scan::Kind;

const SRC: &str = "envelope";

pub fn adapt<'a>(p: In<'a>, o: u32, primary_key: &[String]) -> Result<Event<'a>, Error> {
    let entity = table_name(&p, o, "entity", SRC)?;
    let action = match p.get(o, "action").and_then(|v| p.str(v)).as_deref() {
        Some("insert" | "INSERT" | "create") => Action::Create,
        Some("update" | "UPDATE") => Action::Update,
        Some("delete" | "DELETE") => Action::Delete,
        _ => return Err(Error::new(ErrorCode::WrongType, SRC, "`action` must be insert, update or delete")),
    };
    let data = match p.get(o, "data") {
        Some(d) if p.kind(d) == Kind::Object => d,
        Some(other) => {
            return Err(Error::new(
                ErrorCode::WrongType,
                SRC,
                cat(&["`data` must be the row object, got ", kind_name(p.kind(other))]),
            ))
        }
        None => return Err(Error::new(ErrorCode::WrongType, SRC, "`data` (the row) is missing")),
    };
    let id = row_id(&p, Some(data), primary_key).ok_or_else(|| {
        Error::new(ErrorCode::MissingId, SRC, cat(&["no ", &primary_key.join("/"), " column in `data`"]))
    })?;
    let event_id = match p.some(o, "id") {
        None => None,
        Some(v) => Some(id_text(&p, v).ok_or_else(|| {
            Error::new(ErrorCode::WrongType, SRC, "`id` (the event id) must be a string or a number")
        })?),
    };
    let row = Row::new(p.tape, p.text, Some(data), None);
    Ok(Event::Row(RowEvent {
        factory_id: row.field("factoryId", "factory_id"),
        outer: Some(o),
        version: version_of(&p, p.get(data, "version")),
        ty: entity,
        id,
        action,
        row,
        // The row is whole but nothing says which columns moved: refetch, don't patch.
        changed: None,
        diff: None,
        event_id: event_id.map(|e| cat(&["envelope:", &e])),
    }))
}
