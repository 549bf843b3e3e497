//! The fast path for the most common payload: a well-formed supabase-js `postgres_changes` payload
//! as JSON text. It borrows the row values as raw JSON slices instead of building a `Value` tree,
//! and turns into values only what routing reads: the id, the version, the scope fields, the
//! changed columns, and the whole row only when a rule names the table (its templates may read any
//! column). Anything unusual (a broadcast, a missing or mistyped field, an escaped key) returns
//! `None` and takes the general path in `supabase.rs`, which also owns every error message; a
//! property test (`tests/supabase_fast.rs`) checks that both paths route every payload the same.

use super::row::{id_text, snake_case};
use crate::event::{Action, Event, RowEvent};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

type RawRow<'a> = BTreeMap<&'a str, &'a RawValue>;

#[derive(Deserialize)]
struct Change<'a> {
    #[serde(borrow)]
    table: &'a str,
    #[serde(rename = "eventType", borrow)]
    event_type: &'a str,
    #[serde(default, borrow)]
    new: Option<RawRow<'a>>,
    #[serde(default, borrow)]
    old: Option<RawRow<'a>>,
    #[serde(rename = "type", default, borrow)]
    kind: Option<&'a RawValue>,
}

/// What the engine needs from a row besides the id: the columns the scope guard reads.
pub struct Needs<'n> {
    pub primary_key: &'n [String],
    pub scope: &'n Map<String, Value>,
    /// A rule names this table: materialise the whole row.
    pub whole_row: &'n dyn Fn(&str) -> bool,
}

fn parse(raw: &RawValue) -> Option<Value> {
    serde_json::from_str(raw.get()).ok()
}

/// `Some(event)` for a well-formed payload, `None` to fall back to the general path.
pub fn adapt(text: &str, needs: &Needs<'_>) -> Option<Event> {
    let c: Change<'_> = serde_json::from_str(text).ok()?;
    if c.kind.is_some() || c.table.is_empty() {
        return None; // a broadcast, or a shape the general path reports
    }
    let action = match c.event_type {
        "INSERT" => Action::Create,
        "UPDATE" => Action::Update,
        "DELETE" => Action::Delete,
        _ => return None,
    };
    let new = c.new.unwrap_or_default();
    let old = c.old.unwrap_or_default();
    let row = match action {
        Action::Delete if !old.is_empty() => &old,
        Action::Delete => &new,
        _ if !new.is_empty() => &new,
        _ => &old,
    };
    let id_of = |r: &RawRow<'_>| {
        needs.primary_key.iter().find_map(|col| r.get(col.as_str()).and_then(|raw| parse(raw)).and_then(|v| id_text(&v)))
    };
    let id = id_of(row).or_else(|| id_of(&old))?;
    let changed = if action == Action::Update && old.keys().any(|k| !needs.primary_key.iter().any(|p| p == k)) {
        let mut m = Map::new();
        for (k, raw) in &new {
            let same = match old.get(k) {
                Some(o) if o.get() == raw.get() => true,
                Some(o) => parse(o)? == parse(raw)?,
                None => false,
            };
            if !same {
                m.insert((*k).to_string(), parse(raw)?);
            }
        }
        Some(m)
    } else {
        None
    };
    let mut values = Map::new();
    if (needs.whole_row)(c.table) {
        for (k, raw) in row {
            values.insert((*k).to_string(), parse(raw)?);
        }
    } else {
        let mut take = |name: &str| -> Option<()> {
            if let Some(raw) = row.get(name) {
                values.insert(name.to_string(), parse(raw)?);
            }
            Some(())
        };
        take("version")?;
        take("factoryId")?;
        take("factory_id")?;
        for f in needs.scope.keys() {
            take(f)?;
            take(&snake_case(f))?;
        }
    }
    let field = |name: &str| values.get(name).filter(|v| !v.is_null());
    let factory_id = field("factoryId").or_else(|| field("factory_id")).cloned();
    let version = values.get("version").and_then(Value::as_f64).filter(|x| x.is_finite());
    Some(Event::Row(RowEvent {
        ty: c.table.to_string(),
        id,
        action,
        row: values,
        changed,
        version,
        event_id: None,
        factory_id,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn needs<'n>(pk: &'n [String], scope: &'n Map<String, Value>, whole: &'n dyn Fn(&str) -> bool) -> Needs<'n> {
        Needs { primary_key: pk, scope, whole_row: whole }
    }

    #[test]
    fn a_supabase_js_payload_takes_the_fast_path_with_only_the_needed_columns() {
        let pk = vec!["id".to_string()];
        let scope = json!({"factoryId": "f1"}).as_object().cloned().unwrap();
        let text = r#"{"schema":"public","table":"wo","commit_timestamp":"t","eventType":"UPDATE",
            "new":{"id":5,"factory_id":"f1","status":"done","title":"long text","version":3},
            "old":{"id":5,"factory_id":"f1","status":"open","title":"long text","version":2},"errors":null}"#;
        let Some(Event::Row(r)) = adapt(text, &needs(&pk, &scope, &|_| false)) else { panic!("fast path not taken") };
        assert_eq!((r.id.as_str(), r.version, r.factory_id.clone()), ("5", Some(3.0), Some(json!("f1"))));
        assert_eq!(Value::Object(r.changed.unwrap()), json!({"status": "done", "version": 3}));
        assert!(!r.row.contains_key("title"), "columns nothing reads stay raw");
        let Some(Event::Row(r)) = adapt(text, &needs(&pk, &scope, &|t| t == "wo")) else { panic!() };
        assert!(r.row.contains_key("title"), "a rule on the table gets the whole row");
    }

    #[test]
    fn unusual_payloads_fall_back() {
        let pk = vec!["id".to_string()];
        let scope = Map::new();
        let n = needs(&pk, &scope, &|_| false);
        for text in [
            r#"{"type":"broadcast","event":"x","payload":{}}"#,
            r#"{"table":"wo","eventType":"UPSERT","new":{"id":1}}"#,
            r#"{"table":"w\u006f","eventType":"INSERT","new":{"id":1}}"#,
            r#"{"table":"wo","eventType":"INSERT","new":{"name":1}}"#,
            r#"{"table":"wo","eventType":"INSERT","new":[1]}"#,
            "not json",
        ] {
            assert!(adapt(text, &n).is_none(), "{text}");
        }
    }
}
