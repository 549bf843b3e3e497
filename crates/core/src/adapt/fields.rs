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
