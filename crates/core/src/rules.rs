//! The rule compiler: `Rule[]` is compiled once into a table indexed by table name, with key
//! templates parsed into trees so that applying a rule to a row is a walk, not a parse.
//! (CONTRACT "Routing": typed `"{col}"` placeholders, `{col}` in text, skipped keys.)

use crate::error::{Error, ErrorCode};
use crate::event::{Action, RefetchType};
use crate::key::js_number_to_string;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// One compiled key template.
#[derive(Debug, Clone, PartialEq)]
enum Template {
    /// No placeholder anywhere below: used as is.
    Literal(Value),
    /// The whole string was `"{col}"`: the row's value with its JSON type.
    Column(String),
    /// A string with `{col}` inside: the values' text spliced in.
    Text(Vec<TextPart>),
    Array(Vec<Template>),
    Object(Vec<(String, Template)>),
}

#[derive(Debug, Clone, PartialEq)]
enum TextPart {
    Lit(String),
    Col(String),
}

/// An invalidation a rule asks for, with its key still a template.
#[derive(Debug, Clone, PartialEq)]
struct KeyRule {
    template: Template,
    exact: bool,
    refetch_type: RefetchType,
}

#[derive(Debug, Clone, PartialEq)]
struct CompiledRule {
    /// Bit per action (create, update, delete).
    events: u8,
    keys: Vec<KeyRule>,
}

/// The compiled rule table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleTable {
    by_table: HashMap<String, Vec<CompiledRule>>,
}

/// A key produced by applying a rule to a row.
#[derive(Debug, Clone, PartialEq)]
pub struct RoutedKey {
    pub key: Value,
    pub exact: bool,
    pub refetch_type: RefetchType,
}

fn bad(msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidOption, "rules", msg)
}

fn action_bit(a: Action) -> u8 {
    match a {
        Action::Create => 1,
        Action::Update => 2,
        Action::Delete => 4,
    }
}

impl RuleTable {
    /// Compiles `rules` (an array of `Rule`); errors name the rule's index.
    pub fn compile(rules: &Value) -> Result<RuleTable, Error> {
        let list = rules.as_array().ok_or_else(|| bad("rules must be an array"))?;
        let mut t = RuleTable::default();
        for (i, r) in list.iter().enumerate() {
            let o = r.as_object().ok_or_else(|| bad(format!("rules[{i}] must be an object")))?;
            let table = o
                .get("table")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| bad(format!("rules[{i}].table must be a non-empty string")))?;
            let events = match o.get("events") {
                None | Some(Value::Null) => 7,
                Some(Value::Array(evs)) => {
                    let mut bits = 0;
                    for e in evs {
                        bits |= match e.as_str() {
                            Some("INSERT") => 1,
                            Some("UPDATE") => 2,
                            Some("DELETE") => 4,
                            _ => return Err(bad(format!("rules[{i}].events: expected 'INSERT' | 'UPDATE' | 'DELETE'"))),
                        };
                    }
                    bits
                }
                _ => return Err(bad(format!("rules[{i}].events must be an array"))),
            };
            let inv = o
                .get("invalidate")
                .and_then(Value::as_array)
                .ok_or_else(|| bad(format!("rules[{i}].invalidate must be an array of keys")))?;
            let mut keys = Vec::with_capacity(inv.len());
            for (j, k) in inv.iter().enumerate() {
                keys.push(compile_key_rule(k).map_err(|m| bad(format!("rules[{i}].invalidate[{j}]: {m}")))?);
            }
            t.by_table.entry(table.to_string()).or_default().push(CompiledRule { events, keys });
        }
        Ok(t)
    }

    pub fn is_empty(&self) -> bool {
        self.by_table.is_empty()
    }

    /// Whether any rule names `table` (its events then need the whole row for templates).
    pub fn has_table(&self, table: &str) -> bool {
        self.by_table.contains_key(table)
    }

    /// Applies every rule whose table and event match. `None` when no rule matched (the event then
    /// goes to the doc/list policy); `Some(keys)` otherwise, possibly empty when every key was skipped
    /// for a missing value.
    pub fn route(&self, table: &str, action: Action, row: &Map<String, Value>) -> Option<Vec<RoutedKey>> {
        let rules = self.by_table.get(table)?;
        let bit = action_bit(action);
        let mut matched = false;
        let mut out = Vec::new();
        for r in rules.iter().filter(|r| r.events & bit != 0) {
            matched = true;
            for k in &r.keys {
                if let Some(key) = apply(&k.template, row) {
                    out.push(RoutedKey { key, exact: k.exact, refetch_type: k.refetch_type });
                }
            }
        }
        matched.then_some(out)
    }
}

fn compile_key_rule(v: &Value) -> Result<KeyRule, String> {
    match v {
        Value::Array(_) => Ok(KeyRule { template: compile(v), exact: false, refetch_type: RefetchType::Active }),
        Value::Object(o) => {
            let key = o.get("queryKey").filter(|k| k.is_array()).ok_or("queryKey must be an array")?;
            let exact = match o.get("exact") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                _ => return Err("exact must be a boolean".into()),
            };
            let refetch_type = match o.get("refetchType") {
                None | Some(Value::Null) => RefetchType::Active,
                Some(Value::String(s)) => {
                    RefetchType::parse(s).ok_or("refetchType must be 'active' | 'inactive' | 'all' | 'none'")?
                }
                _ => return Err("refetchType must be a string".into()),
            };
            Ok(KeyRule { template: compile(key), exact, refetch_type })
        }
        _ => Err("a key must be an array or { queryKey, exact?, refetchType? }".into()),
    }
}

fn compile(v: &Value) -> Template {
    let t = match v {
        Value::String(s) => compile_str(s),
        Value::Array(items) => Template::Array(items.iter().map(compile).collect()),
        Value::Object(o) => Template::Object(o.iter().map(|(k, v)| (k.clone(), compile(v))).collect()),
        other => Template::Literal(other.clone()),
    };
    // Fold placeholder-free subtrees back into literals: applying them is then a clone.
    match &t {
        Template::Array(items) if items.iter().all(|i| matches!(i, Template::Literal(_))) => Template::Literal(v.clone()),
        Template::Object(fs) if fs.iter().all(|(_, i)| matches!(i, Template::Literal(_))) => Template::Literal(v.clone()),
        _ => t,
    }
}

fn compile_str(s: &str) -> Template {
    let parts = split_placeholders(s);
    match parts.as_slice() {
        [] => Template::Literal(Value::String(String::new())),
        [TextPart::Lit(_)] => Template::Literal(Value::String(s.to_string())),
        [TextPart::Col(c)] => Template::Column(c.clone()),
        _ => Template::Text(parts),
    }
}

/// Splits `"a-{b}-c"` into literal and column parts. A `{` without a closing `}` (or with another
/// `{` before it) is literal text.
fn split_placeholders(s: &str) -> Vec<TextPart> {
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find(['{', '}']) {
            Some(close) if after.as_bytes()[close] == b'}' && close > 0 => {
                lit.push_str(&rest[..open]);
                if !lit.is_empty() {
                    parts.push(TextPart::Lit(std::mem::take(&mut lit)));
                }
                parts.push(TextPart::Col(after[..close].to_string()));
                rest = &after[close + 1..];
            }
            _ => {
                lit.push_str(&rest[..open + 1]);
                rest = after;
            }
        }
    }
    lit.push_str(rest);
    if !lit.is_empty() {
        parts.push(TextPart::Lit(lit));
    }
    parts
}

fn lookup<'a>(row: &'a Map<String, Value>, col: &str) -> Option<&'a Value> {
    row.get(col).filter(|v| !v.is_null())
}

/// The text a value contributes inside a longer string (JS `String(value)` for primitives).
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.to_string(),
            (_, Some(u)) => u.to_string(),
            _ => js_number_to_string(n.as_f64().unwrap_or(0.0)),
        },
        Value::Bool(b) => b.to_string(),
        other => crate::key::hash_key(other),
    }
}

/// `None` when a placeholder has no value: the whole key is skipped (CONTRACT "Routing").
fn apply(t: &Template, row: &Map<String, Value>) -> Option<Value> {
    Some(match t {
        Template::Literal(v) => v.clone(),
        Template::Column(c) => lookup(row, c)?.clone(),
        Template::Text(parts) => {
            let mut s = String::new();
            for p in parts {
                match p {
                    TextPart::Lit(l) => s.push_str(l),
                    TextPart::Col(c) => s.push_str(&value_text(lookup(row, c)?)),
                }
            }
            Value::String(s)
        }
        Template::Array(items) => Value::Array(items.iter().map(|i| apply(i, row)).collect::<Option<_>>()?),
        Template::Object(fields) => {
            let mut m = Map::new();
            for (k, v) in fields {
                m.insert(k.clone(), apply(v, row)?);
            }
            Value::Object(m)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn placeholders_keep_type_or_splice_text() {
        let t = RuleTable::compile(&json!([{ "table": "goals", "invalidate": [
            ["goals", "{user_id}"], ["user-{user_id}-x", {"n": "{n}"}], { "queryKey": ["dash"], "exact": true, "refetchType": "all" }
        ]}]))
        .unwrap();
        let keys = t.route("goals", Action::Update, &row(json!({"user_id": 7, "n": 1.5}))).unwrap();
        assert_eq!(keys[0].key, json!(["goals", 7]));
        assert_eq!(keys[1].key, json!(["user-7-x", {"n": 1.5}]));
        assert_eq!((keys[2].exact, keys[2].refetch_type), (true, RefetchType::All));
    }

    #[test]
    fn missing_or_null_value_skips_the_key() {
        let t = RuleTable::compile(&json!([{ "table": "t", "invalidate": [["a", "{x}"], ["b"], ["c-{y}"]] }])).unwrap();
        let keys = t.route("t", Action::Create, &row(json!({"x": null}))).unwrap();
        assert_eq!(keys.iter().map(|k| k.key.clone()).collect::<Vec<_>>(), vec![json!(["b"])]);
    }

    #[test]
    fn events_filter_and_unmatched_table() {
        let t = RuleTable::compile(&json!([{ "table": "t", "events": ["DELETE"], "invalidate": [["a"]] }])).unwrap();
        assert!(t.route("t", Action::Update, &Map::new()).is_none());
        assert!(t.route("t", Action::Delete, &Map::new()).is_some());
        assert!(t.route("u", Action::Delete, &Map::new()).is_none());
    }

    #[test]
    fn bad_rules_are_option_errors() {
        for bad in [json!({}), json!([1]), json!([{ "table": "t" }]), json!([{ "table": "t", "events": ["X"], "invalidate": [] }]),
                    json!([{ "table": "t", "invalidate": [{ "queryKey": ["a"], "refetchType": "sometimes" }] }])] {
            assert_eq!(RuleTable::compile(&bad).unwrap_err().code, ErrorCode::InvalidOption, "{bad}");
        }
    }

    #[test]
    fn unclosed_braces_are_text() {
        assert_eq!(split_placeholders("a{b"), vec![TextPart::Lit("a{b".into())]);
        assert_eq!(split_placeholders("{}"), vec![TextPart::Lit("{}".into())]);
    }
}
