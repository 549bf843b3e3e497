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
use serde_json::{Map, Value};

/// An object's members as (key, raw value) slices, in text order. `None` when `text` is not an
/// object or a key holds an escape. `text` must be valid JSON (checked before).
fn members(text: &str) -> Option<Vec<(&str, &str)>> {
    let b = text.as_bytes();
    let mut i = ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    let mut out = Vec::new();
    i = ws(b, i + 1);
    if b.get(i) == Some(&b'}') {
        return Some(out);
    }
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let start = i + 1;
        let end = start + b[start..].iter().position(|&c| c == b'"' || c == b'\\')?;
        if b[end] == b'\\' {
            return None; // an escaped key: the general path decodes it
        }
        i = ws(b, end + 1);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let vstart = ws(b, i + 1);
        let vend = skip_value(b, vstart)?;
        out.push((&text[start..end], &text[vstart..vend]));
        i = ws(b, vend);
        match b.get(i) {
            Some(b',') => i = ws(b, i + 1),
            Some(b'}') => return Some(out),
            _ => return None,
        }
    }
}

fn ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// The end of the (valid) JSON value starting at `i`.
fn skip_value(b: &[u8], i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'"' => skip_string(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = skip_string(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        _ => Some(i + b[i..].iter().position(|c| matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')).unwrap_or(b.len() - i)),
    }
}

fn skip_string(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'"' => return Some(j + 1),
            _ => j += 1,
        }
    }
    None
}

/// The last member named `key` (JSON objects keep the last of duplicate keys).
fn get<'a>(m: &[(&'a str, &'a str)], key: &str) -> Option<&'a str> {
    m.iter().rev().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// A JSON string without escapes, unquoted.
fn plain_str(raw: &str) -> Option<&str> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    (!inner.contains('\\')).then_some(inner)
}

fn row(raw: Option<&str>) -> Option<Vec<(&str, &str)>> {
    match raw {
        None | Some("null") => Some(Vec::new()),
        Some(r) => members(r),
    }
}

/// What the engine needs from a row besides the id: the columns the scope guard reads.
pub struct Needs<'n> {
    pub primary_key: &'n [String],
    pub scope: &'n Map<String, Value>,
    /// A rule names this table: materialise the whole row.
    pub whole_row: &'n dyn Fn(&str) -> bool,
}

fn parse(raw: &str) -> Option<Value> {
    serde_json::from_str(raw).ok()
}

/// `Some(event)` for a well-formed payload, `None` to fall back to the general path.
pub fn adapt(text: &str, needs: &Needs<'_>) -> Option<Event> {
    serde_json::from_str::<serde::de::IgnoredAny>(text).ok()?;
    let top = members(text)?;
    if get(&top, "type").is_some() {
        return None; // a broadcast: the general path
    }
    let table = plain_str(get(&top, "table")?).filter(|t| !t.is_empty())?;
    let action = match plain_str(get(&top, "eventType")?)? {
        "INSERT" => Action::Create,
        "UPDATE" => Action::Update,
        "DELETE" => Action::Delete,
        _ => return None,
    };
    let new = row(get(&top, "new"))?;
    let old = row(get(&top, "old"))?;
    let row = match action {
        Action::Delete if !old.is_empty() => &old,
        Action::Delete => &new,
        _ if !new.is_empty() => &new,
        _ => &old,
    };
    let id_of = |r: &[(&str, &str)]| {
        needs.primary_key.iter().find_map(|col| get(r, col).and_then(parse).and_then(|v| id_text(&v)))
    };
    let id = id_of(row).or_else(|| id_of(&old))?;
    let changed = if action == Action::Update && old.iter().any(|(k, _)| !needs.primary_key.iter().any(|p| p == k)) {
        let mut m = Map::new();
        for (k, raw) in &new {
            let same = match get(&old, k) {
                Some(o) if o == *raw => true,
                Some(o) => parse(o)? == parse(raw)?,
                None => false,
            };
            if same {
                m.remove(*k); // a later duplicate of the key wins, as in a parsed object
            } else {
                m.insert((*k).to_string(), parse(raw)?);
            }
        }
        Some(m)
    } else {
        None
    };
    let mut values = Map::new();
    if (needs.whole_row)(table) {
        for (k, raw) in row {
            values.insert((*k).to_string(), parse(raw)?);
        }
    } else {
        let mut take = |name: &str| -> Option<()> {
            if let Some(raw) = get(row, name) {
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
