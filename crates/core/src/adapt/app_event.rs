//! The contract's own event payload (seed 001):
//! `{ type, id, factoryId?, action: create|update|delete|approve|reject, changedKeys?, version?, ts?, data? }`.

use super::fields::{field, id_text, opt_object, table_name};
use crate::error::{Error, ErrorCode};
use crate::event::{Action, Event, RowEvent};
use serde_json::{Map, Value};

pub fn adapt(mut o: Map<String, Value>, src: &str) -> Result<Event, Error> {
    let wrong = |m: String| Error::new(ErrorCode::WrongType, src, m);
    let ty = table_name(&o, "type", src)?;
    let id = match o.get("id") {
        None | Some(Value::Null) => return Err(Error::new(ErrorCode::MissingId, src, "`id` is missing")),
        Some(v) => id_text(v).ok_or_else(|| wrong(format!("`id` must be a non-empty string or a number, got {v}")))?,
    };
    let action = match o.get("action").and_then(Value::as_str) {
        Some("create") => Action::Create,
        Some("update" | "approve" | "reject") => Action::Update,
        Some("delete") => Action::Delete,
        _ => return Err(wrong("`action` must be create, update, delete, approve or reject".into())),
    };
    let changed_keys: Option<Vec<String>> = match o.remove("changedKeys") {
        None | Some(Value::Null) => None,
        Some(Value::Array(ks)) => Some(
            ks.into_iter()
                .map(|k| match k {
                    Value::String(s) => Some(s),
                    _ => None,
                })
                .collect::<Option<_>>()
                .ok_or_else(|| wrong("`changedKeys` must be an array of strings".into()))?,
        ),
        Some(_) => return Err(wrong("`changedKeys` must be an array of strings".into())),
    };
    let version = match o.get("version") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_f64().filter(|x| x.is_finite()).ok_or_else(|| wrong("`version` must be a number".into()))?),
    };
    if let Some(ts) = o.get("ts") {
        if !(ts.is_null() || ts.is_string() || ts.is_number()) {
            return Err(wrong("`ts` must be a string or a number".into()));
        }
    }
    opt_object(&o, "data", src)?;
    let data = match o.remove("data") {
        Some(Value::Object(d)) => Some(d),
        _ => None,
    };
    let factory_id = field(&o, "factoryId").or_else(|| data.as_ref().and_then(|d| field(d, "factoryId"))).cloned();
    // Patchable only when every named field has its value; otherwise the doc must be refetched.
    let changed = match (changed_keys, &data) {
        (Some(keys), Some(d)) => keys
            .into_iter()
            .map(|k| d.get(&k).map(|v| (k, v.clone())))
            .collect::<Option<Map<String, Value>>>(),
        (None, Some(d)) if !d.is_empty() => Some(d.clone()),
        _ => None,
    };
    // The row seen by templates and the scope guard: the changed values, then the event's own fields.
    let mut row = data.unwrap_or_default();
    for (k, v) in o {
        row.entry(k).or_insert(v);
    }
    Ok(Event::Row(RowEvent {
        factory_id,
        ty,
        id,
        action,
        row,
        changed,
        version,
        event_id: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(v: Value) -> Result<Event, Error> {
        adapt(v.as_object().unwrap().clone(), "event")
    }

    #[test]
    fn changed_keys_take_values_from_data() {
        let Event::Row(r) = run(json!({"type":"wo","id":"7","factoryId":"f1","action":"update","changedKeys":["status"],
            "version":4,"data":{"status":"done","title":"x"}})).unwrap() else { panic!() };
        assert_eq!(r.changed, Some(json!({"status":"done"}).as_object().unwrap().clone()));
        assert_eq!((r.version, r.factory_id), (Some(4.0), Some(json!("f1"))));
    }

    #[test]
    fn a_changed_key_without_value_means_refetch() {
        let Event::Row(r) = run(json!({"type":"wo","id":1,"action":"update","changedKeys":["status"]})).unwrap() else { panic!() };
        assert_eq!(r.changed, None);
    }

    #[test]
    fn wrong_types() {
        for bad in [json!({"type":"wo","id":1,"action":"explode"}), json!({"type":"wo","id":true,"action":"create"}),
                    json!({"type":"wo","id":1,"action":"create","version":"2"}), json!({"type":"wo","id":1,"action":"create","changedKeys":"a"}),
                    json!({"type":"wo","id":1,"action":"create","data":[1]})] {
            assert_eq!(run(bad.clone()).unwrap_err().code, ErrorCode::WrongType, "{bad}");
        }
        assert_eq!(run(json!({"id":1,"action":"create"})).unwrap_err().code, ErrorCode::MissingTable);
        assert_eq!(run(json!({"type":"wo","action":"create"})).unwrap_err().code, ErrorCode::MissingId);
    }
}
