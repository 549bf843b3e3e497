//! Reading the fields of a payload object, shared by the adapters: ids as text, scope fields in either
//! spelling, table names, optional typed members.

use crate::error::{Error, ErrorCode};
use crate::rules::value_text;
use serde_json::{Map, Value};

/// `String(id)` for an id value: strings as they are, numbers as JS prints them.
pub fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(_) => Some(value_text(v)),
        _ => None,
    }
}

/// The row's id: the first `primary_key` column with a string or number value.
pub fn row_id(row: &Map<String, Value>, primary_key: &[String]) -> Option<String> {
    primary_key.iter().find_map(|c| row.get(c).and_then(id_text))
}

/// `factoryId` -> `factory_id`.
pub fn snake_case(name: &str) -> String {
    let mut s = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            s.push('_');
            s.push(c.to_ascii_lowercase());
        } else {
            s.push(c);
        }
    }
    s
}

/// A scope field's value in `row`, under its own name or its snake_case form; null counts as absent.
pub fn field<'a>(row: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    row.get(name)
        .filter(|v| !v.is_null())
        .or_else(|| row.get(&snake_case(name)).filter(|v| !v.is_null()))
}

/// Every non-null value of scope field `name` in `row`, under either spelling (`factoryId`,
/// `factory_id`): the scope guard drops an event when any one differs from the scope.
pub fn spellings<'a>(row: &'a Map<String, Value>, name: &str) -> impl Iterator<Item = &'a Value> {
    let snake = snake_case(name);
    let other = if snake == name { None } else { row.get(&snake) };
    row.get(name).into_iter().chain(other).filter(|v| !v.is_null())
}

/// The `factoryId` an event carries outside its row (`outer`, either spelling), for the list key and
/// the scope guard, which reads it and the row's own spellings. So that no spelling escapes the
/// guard (issue 11): a spelling the row lacks is copied into the row, and an outer value the row
/// still does not show (the row names another) is the one returned. Otherwise the outer value,
/// else the row's.
pub fn factory_of(outer: &Map<String, Value>, row: &mut Map<String, Value>) -> Option<Value> {
    for k in ["factoryId", "factory_id"] {
        if let Some(v) = outer.get(k).filter(|v| !v.is_null()) {
            if row.get(k).map_or(true, Value::is_null) {
                row.insert(k.to_string(), v.clone());
            }
        }
    }
    let hidden = spellings(outer, "factoryId").find(|v| !spellings(row, "factoryId").any(|r| r == *v));
    hidden.or_else(|| field(outer, "factoryId")).or_else(|| field(row, "factoryId")).cloned()
}

/// An optional object field; present-but-not-an-object is a type error.
pub fn opt_object<'a>(o: &'a Map<String, Value>, name: &str, src: &str) -> Result<Option<&'a Map<String, Value>>, Error> {
    match o.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(other) => Err(Error::new(
            ErrorCode::WrongType,
            src,
            format!("`{name}` must be an object, got {}", super::kind(other)),
        )),
    }
}

/// The `version` of a row or event when it is a number.
pub fn version_of(v: Option<&Value>) -> Option<f64> {
    v.and_then(Value::as_f64).filter(|x| x.is_finite())
}

/// A required non-empty string naming the table/type/entity.
pub fn table_name(o: &Map<String, Value>, name: &str, src: &str) -> Result<String, Error> {
    match o.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        None | Some(Value::Null) => Err(Error::new(ErrorCode::MissingTable, src, format!("`{name}` is missing"))),
        Some(Value::String(_)) => Err(Error::new(ErrorCode::MissingTable, src, format!("`{name}` is empty"))),
        Some(other) => Err(Error::new(ErrorCode::WrongType, src, format!("`{name}` must be a string, got {}", super::kind(other)))),
    }
}
