//! The fast path for the most common payload: a well-formed supabase-js `postgres_changes` payload
//! as JSON text. The text is validated once without building anything (`IgnoredAny`); then a small
//! scanner finds the members of the payload and of its rows as raw slices, and only what routing
//! reads becomes a `Value`: the id, the version, the scope fields, the changed columns, and the
//! whole row only when a rule names the table (its templates may read any column). Anything unusual
//! (a broadcast, a missing or mistyped field, an escaped key) returns `None` and takes the general
//! path in `supabase.rs`, which also owns every error message; a property test
//! (`tests/supabase_fast.rs`) checks that both paths route every payload the same.
//! (A serde-derived borrowed struct did the same at +46 KB of wasm; this scanner costs almost none.)

use super::fields::{field, id_text, snake_case, version_of};
use crate::event::{Action, Event, RowEvent};
use crate::scan::{to_value, Kind, Tape};
use serde_json::{Map, Value};

/// What the engine needs from a row besides the id: the columns the scope guard reads.
pub struct Needs<'n> {
    pub primary_key: &'n [String],
    pub scope: &'n Map<String, Value>,
    /// A rule names this table: materialise the whole row.
    pub whole_row: &'n dyn Fn(&str) -> bool,
}

/// A row member: `null` or absent is an empty row, an object is itself, anything else falls back.
fn row(tape: &Tape, text: &str, top: u32, name: &str) -> Option<Option<u32>> {
    match tape.get(text, top, name) {
        None => Some(None),
        Some(v) => match tape.kind(v) {
            Kind::Null => Some(None),
            Kind::Object if tape.members(v).all(|(k, _)| tape.kind(k) == Kind::Str) => Some(Some(v)),
            _ => None, // not an object, or an escaped key: the general path decodes it
        },
    }
}

/// `Some(event)` for a well-formed payload on `tape` (already scanned from `text`), `None` to fall
/// back to the general path.
pub fn adapt(tape: &Tape, text: &str, needs: &Needs<'_>) -> Option<Event> {
    if tape.kind(0) != Kind::Object || tape.get(text, 0, "type").is_some() {
        return None; // not an object, or a broadcast: the general path
    }
    let table = tape.plain_str(text, tape.get(text, 0, "table")?).filter(|t| !t.is_empty())?;
    let action = match tape.plain_str(text, tape.get(text, 0, "eventType")?)? {
        "INSERT" => Action::Create,
        "UPDATE" => Action::Update,
        "DELETE" => Action::Delete,
        _ => return None,
    };
    let new = row(tape, text, 0, "new")?;
    let old = row(tape, text, 0, "old")?;
    let empty = |r: Option<u32>| r.map_or(true, |o| tape.members(o).next().is_none());
    let row = match action {
        Action::Delete if !empty(old) => old,
        Action::Delete => new,
        _ if !empty(new) => new,
        _ => old,
    };
    let get = |r: Option<u32>, col: &str| r.and_then(|o| tape.get(text, o, col));
    let value = |v: u32| to_value(tape, text, v);
    let id_of = |r: Option<u32>| needs.primary_key.iter().find_map(|col| get(r, col).and_then(|v| id_text(&value(v))));
    let id = id_of(row).or_else(|| id_of(old))?;
    let old_has_more = old.is_some_and(|o| tape.members(o).any(|(k, _)| !needs.primary_key.iter().any(|p| tape.str_eq(text, k, p))));
    let changed = if action == Action::Update && old_has_more {
        let mut m = Map::new();
        for (k, v) in new.map(|n| tape.members(n)).into_iter().flatten() {
            let key = tape.plain_str(text, k)?;
            let same = match get(old, key) {
                Some(o) if tape.raw(text, o) == tape.raw(text, v) => true,
                Some(o) => value(o) == value(v),
                None => false,
            };
            if same {
                m.remove(key); // a later duplicate of the key wins, as in a parsed object
            } else {
                m.insert(key.to_string(), value(v));
            }
        }
        Some(m)
    } else {
        None
    };
    let mut values = Map::new();
    if (needs.whole_row)(table) {
        for (k, v) in row.map(|r| tape.members(r)).into_iter().flatten() {
            values.insert(tape.plain_str(text, k)?.to_string(), value(v));
        }
    } else {
        let mut take = |name: &str| {
            if let Some(v) = get(row, name) {
                values.insert(name.to_string(), value(v));
            }
        };
        take("version");
        take("factoryId");
        take("factory_id");
        for f in needs.scope.keys() {
            take(f);
            take(&snake_case(f));
        }
    }
    // The same lookups the general path makes (`supabase.rs`), on the columns taken above.
    let factory_id = field(&values, "factoryId").cloned();
    let version = version_of(values.get("version"));
    Some(Event::Row(RowEvent {
        ty: table.to_string(),
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

    fn fast(text: &str, n: &Needs<'_>) -> Option<Event> {
        let mut t = Tape::new();
        t.scan(text).ok()?;
        adapt(&t, text, n)
    }

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
        let Some(Event::Row(r)) = fast(text, &needs(&pk, &scope, &|_| false)) else { panic!("fast path not taken") };
        assert_eq!((r.id.as_str(), r.version, r.factory_id.clone()), ("5", Some(3.0), Some(json!("f1"))));
        assert_eq!(Value::Object(r.changed.unwrap()), json!({"status": "done", "version": 3}));
        assert!(!r.row.contains_key("title"), "columns nothing reads stay raw");
        let Some(Event::Row(r)) = fast(text, &needs(&pk, &scope, &|t| t == "wo")) else { panic!() };
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
            assert!(fast(text, &n).is_none(), "{text}");
        }
    }
}
