//! `createRealtime` options that the cache engine reads (CONTRACT "Creating an engine").
//! Transport options (`backoff`, `heartbeat`, `enabled`, `pollingMs`) belong to `link::LinkConfig`.

use crate::error::{Error, ErrorCode};
use crate::rules::RuleTable;
use serde_json::{Map, Value};

/// Validated engine options, defaults as in the contract.
#[derive(Debug, Clone)]
pub struct Config {
    pub debounce_ms: u64,
    pub max_wait_ms: u64,
    /// Scope fields and the values events must carry (or not carry at all) to be kept.
    pub scope: Map<String, Value>,
    pub rules: RuleTable,
    /// Row columns tried, in order, for a row's id.
    pub primary_key: Vec<String>,
    pub patch: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            debounce_ms: 300,
            max_wait_ms: 1000,
            scope: Map::new(),
            rules: RuleTable::default(),
            primary_key: vec!["id".into(), "uuid".into(), "code".into()],
            patch: true,
        }
    }
}

fn opt_err(msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidOption, "options", msg)
}

fn millis(v: &Value, name: &str) -> Result<u64, Error> {
    match v.as_f64() {
        Some(x) if (0.0..=86_400_000.0).contains(&x) => Ok(x as u64),
        _ => Err(opt_err(format!("{name} must be a number of milliseconds between 0 and 86400000"))),
    }
}

impl Config {
    /// Reads the options object. Unknown fields are ignored (the shim and the link read their own).
    pub fn from_json(opts: &Value) -> Result<Config, Error> {
        let mut c = Config::default();
        let Some(o) = opts.as_object() else {
            return if opts.is_null() { Ok(c) } else { Err(opt_err("options must be an object")) };
        };
        if let Some(v) = o.get("debounceMs").filter(|v| !v.is_null()) {
            c.debounce_ms = millis(v, "debounceMs")?;
        }
        if let Some(v) = o.get("maxWaitMs").filter(|v| !v.is_null()) {
            c.max_wait_ms = millis(v, "maxWaitMs")?;
        }
        if let Some(v) = o.get("scope").filter(|v| !v.is_null()) {
            c.scope = parse_scope(v)?;
        }
        if let Some(v) = o.get("rules").filter(|v| !v.is_null()) {
            c.rules = RuleTable::compile(v)?;
        }
        if let Some(v) = o.get("primaryKey").filter(|v| !v.is_null()) {
            let cols = v.as_array().ok_or_else(|| opt_err("primaryKey must be an array of column names"))?;
            c.primary_key = cols
                .iter()
                .map(|c| c.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| opt_err("primaryKey must be a non-empty array of column names"))?;
        }
        if let Some(v) = o.get("patch").filter(|v| !v.is_null()) {
            c.patch = v.as_bool().ok_or_else(|| opt_err("patch must be a boolean"))?;
        }
        Ok(c)
    }
}

/// A scope is a flat object of primitive values (`{ factoryId: 'f1' }`); null values mean "no scope".
pub fn parse_scope(v: &Value) -> Result<Map<String, Value>, Error> {
    let o = v.as_object().ok_or_else(|| opt_err("scope must be an object"))?;
    let mut out = Map::new();
    for (k, val) in o {
        match val {
            Value::Null => {}
            Value::String(_) | Value::Number(_) | Value::Bool(_) => {
                out.insert(k.clone(), val.clone());
            }
            _ => return Err(opt_err(format!("scope.{k} must be a string, number or boolean"))),
        }
    }
    Ok(out)
}
