//! Supabase Realtime: what supabase-js v2 hands a `postgres_changes` callback
//! (`{ schema, table, commit_timestamp, eventType, new, old, errors }`, built by realtime-js from the
//! server's `record`/`old_record`), or a broadcast `{ type: 'broadcast', event, payload }` whose
//! `payload` is an `'event'` payload.

use super::fields::{field, opt_object, row_id, table_name, version_of};
use crate::error::{Error, ErrorCode};
use crate::event::{Action, Event, RowEvent};
use serde_json::{Map, Value};

const SRC: &str = "supabase";

pub fn adapt(mut o: Map<String, Value>, primary_key: &[String]) -> Result<Event, Error> {
    if o.get("type").and_then(Value::as_str) == Some("broadcast") {
        return match o.remove("payload") {
            Some(Value::Object(p)) => super::app_event::adapt(p, SRC),
            _ => Err(Error::new(ErrorCode::NotObject, SRC, "broadcast `payload` must be an 'event' object")),
        };
    }
    let table = table_name(&o, "table", SRC)?;
    let action = match o.get("eventType") {
        Some(Value::String(s)) if s == "INSERT" => Action::Create,
        Some(Value::String(s)) if s == "UPDATE" => Action::Update,
        Some(Value::String(s)) if s == "DELETE" => Action::Delete,
        Some(other) => {
            return Err(Error::new(ErrorCode::WrongType, SRC, format!("`eventType` must be INSERT, UPDATE or DELETE, got {other}")))
        }
        None => return Err(Error::new(ErrorCode::WrongType, SRC, "`eventType` is missing")),
    };
    opt_object(&o, "new", SRC)?;
    opt_object(&o, "old", SRC)?;
    let take = |o: &mut Map<String, Value>, k: &str| match o.remove(k) {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let new = take(&mut o, "new");
    let old = take(&mut o, "old");
    let id_row = if (action == Action::Delete && !old.is_empty()) || new.is_empty() { &old } else { &new };
    let id = row_id(id_row, primary_key)
        .or_else(|| row_id(&old, primary_key))
        .ok_or_else(|| Error::new(ErrorCode::MissingId, SRC, format!("no {} column in the `{table}` row", primary_key.join("/"))))?;
    // Without REPLICA IDENTITY FULL `old` holds only the primary key, so nothing can be diffed:
    // the changed fields are then unknown and the doc is refetched rather than patched.
    let changed = (action == Action::Update && old.keys().any(|k| !primary_key.contains(k))).then(|| {
        new.iter()
            .filter(|(k, v)| old.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<Map<String, Value>>()
    });
    // realtime-js gives DELETE an empty `new` and INSERT an empty `old`.
    let row = match action {
        Action::Delete => if old.is_empty() { new } else { old },
        _ => if new.is_empty() { old } else { new },
    };
    Ok(Event::Row(RowEvent {
        factory_id: field(&row, "factoryId").cloned(),
        version: version_of(row.get("version")),
        ty: table,
        id,
        action,
        row,
        changed,
        event_id: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pk() -> Vec<String> {
        vec!["id".into(), "uuid".into(), "code".into()]
    }
    fn run(v: Value) -> Result<Event, Error> {
        adapt(v.as_object().unwrap().clone(), &pk())
    }
    fn row(e: Event) -> RowEvent {
        match e {
            Event::Row(r) => r,
            other => panic!("not a row event: {other:?}"),
        }
    }

    #[test]
    fn update_with_full_old_names_changed_columns() {
        let r = row(run(json!({"schema":"public","table":"wo","commit_timestamp":"2026-01-01T00:00:00Z","eventType":"UPDATE",
            "new":{"id":5,"status":"done","qty":2,"version":3},"old":{"id":5,"status":"open","qty":2,"version":2},"errors":null})).unwrap());
        assert_eq!((r.ty.as_str(), r.id.as_str(), r.action, r.version), ("wo", "5", Action::Update, Some(3.0)));
        assert_eq!(r.changed, Some(json!({"status":"done","version":3}).as_object().unwrap().clone()));
    }

    #[test]
    fn update_with_pk_only_old_has_unknown_changes() {
        let r = row(run(json!({"schema":"public","table":"wo","commit_timestamp":"t","eventType":"UPDATE",
            "new":{"id":"a","status":"x"},"old":{"id":"a"},"errors":null})).unwrap());
        assert_eq!(r.changed, None);
    }

    #[test]
    fn delete_takes_old_and_insert_takes_new() {
        let d = row(run(json!({"table":"wo","eventType":"DELETE","new":{},"old":{"uuid":"u1"}})).unwrap());
        assert_eq!((d.id.as_str(), d.action), ("u1", Action::Delete));
        let i = row(run(json!({"table":"wo","eventType":"INSERT","new":{"code":"C7","factory_id":"f1"},"old":{}})).unwrap());
        assert_eq!((i.id.as_str(), i.factory_id), ("C7", Some(json!("f1"))));
    }

    #[test]
    fn bad_shapes_are_typed_errors() {
        assert_eq!(run(json!({"eventType":"INSERT","new":{"id":1}})).unwrap_err().code, ErrorCode::MissingTable);
        assert_eq!(run(json!({"table":"t","eventType":"UPSERT","new":{"id":1}})).unwrap_err().code, ErrorCode::WrongType);
        assert_eq!(run(json!({"table":"t","eventType":"INSERT","new":{"name":1}})).unwrap_err().code, ErrorCode::MissingId);
        assert_eq!(run(json!({"table":"t","eventType":"INSERT","new":[1]})).unwrap_err().code, ErrorCode::WrongType);
        assert_eq!(run(json!({"table":5,"eventType":"INSERT","new":{"id":1}})).unwrap_err().code, ErrorCode::WrongType);
    }

    #[test]
    fn broadcast_carries_an_event_payload() {
        let r = row(run(json!({"type":"broadcast","event":"wo-change","payload":{"type":"wo","id":9,"action":"approve"}})).unwrap());
        assert_eq!((r.id.as_str(), r.action), ("9", Action::Update));
    }
}
