//! Seed 004's envelope: `{ type, entity, action: insert|update|delete, data, timestamp, id }` where
//! `entity` is the table, `data` the row and `id` a unique event id (deduped across windows).

use super::fields::{field, id_text, row_id, table_name, version_of};
use crate::error::{Error, ErrorCode};
use crate::event::{Action, Event, RowEvent};
use serde_json::{Map, Value};

const SRC: &str = "envelope";

pub fn adapt(mut o: Map<String, Value>, primary_key: &[String]) -> Result<Event, Error> {
    let entity = table_name(&o, "entity", SRC)?;
    let action = match o.get("action").and_then(Value::as_str) {
        Some("insert" | "INSERT" | "create") => Action::Create,
        Some("update" | "UPDATE") => Action::Update,
        Some("delete" | "DELETE") => Action::Delete,
        _ => return Err(Error::new(ErrorCode::WrongType, SRC, "`action` must be insert, update or delete")),
    };
    let data = match o.remove("data") {
        Some(Value::Object(d)) => d,
        Some(other) => return Err(Error::new(ErrorCode::WrongType, SRC, format!("`data` must be the row object, got {}", super::kind(&other)))),
        None => return Err(Error::new(ErrorCode::WrongType, SRC, "`data` (the row) is missing")),
    };
    let id = row_id(&data, primary_key)
        .ok_or_else(|| Error::new(ErrorCode::MissingId, SRC, format!("no {} column in `data`", primary_key.join("/"))))?;
    let event_id = match o.get("id") {
        None | Some(Value::Null) => None,
        Some(v) => Some(id_text(v).ok_or_else(|| Error::new(ErrorCode::WrongType, SRC, "`id` (the event id) must be a string or a number"))?),
    };
    Ok(Event::Row(RowEvent {
        factory_id: field(&data, "factoryId").cloned(),
        version: version_of(data.get("version")),
        ty: entity,
        id,
        action,
        row: data,
        // The row is whole but nothing says which columns moved: refetch, don't patch.
        changed: None,
        event_id: event_id.map(|e| format!("envelope:{e}")),
    }))
}
