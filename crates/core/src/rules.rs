//! The rule compiler: `Rule[]` is compiled once into a table indexed by table name, with key
//! templates parsed into trees so that applying a rule to a row is a walk, not a parse.
//! (CONTRACT "Routing": typed `"{col}"` placeholders, `{col}` in text, skipped keys.)

use crate::error::{Error, ErrorCode};
use crate::event::{Action, RefetchType, Row};
use crate::hash::FxMap;
use crate::key::{hash_key, js_key_order, js_number_to_string, tape_text, write_string, write_tape};
use serde_json::Value;

/// One compiled key template: pieces whose concatenation is the key's canonical hash (TanStack
/// `hashKey`), so applying a rule writes the hash directly and never builds a key value. Object
/// keys in a template are literal, so their JS order is fixed when the rule is compiled.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    /// Canonical JSON text with no placeholder.
    Lit(String),
    /// The whole string was `"{col}"`: the row's value with its JSON type.
    Column(String),
    /// A string with `{col}` inside: the values' text spliced in.
    Text(Vec<TextPart>),
}

#[derive(Debug, Clone, PartialEq)]
enum TextPart {
    Lit(String),
    Col(String),
}

/// An invalidation a rule asks for, with its key still a template.
#[derive(Debug, Clone, PartialEq)]
struct KeyRule {
    pieces: Vec<Piece>,
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
#[derive(Debug, Clone, Default)]
pub struct RuleTable {
    by_table: FxMap<String, Vec<CompiledRule>>,
}

/// Keys produced by applying rules to a row: their canonical hashes, one after the other in one
/// reusable buffer, with each key's span and flags.
#[derive(Debug, Default)]
pub struct RoutedKeys {
    pub text: String,
    pub keys: Vec<RoutedKey>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoutedKey {
    pub start: u32,
    pub end: u32,
    pub exact: bool,
    pub refetch_type: RefetchType,
}

impl RoutedKeys {
    pub fn clear(&mut self) {
        self.text.clear();
        self.keys.clear();
    }
    pub fn hash(&self, k: &RoutedKey) -> &str {
        &self.text[k.start as usize..k.end as usize]
    }
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

    /// Applies every rule whose table and event match, appending their keys to `out`. `None` when
    /// no rule matched (the event then goes to the doc/list policy); `Some(())` otherwise, with no
    /// key added when every key was skipped for a missing value.
    pub fn route(&self, table: &str, action: Action, row: &Row<'_>, out: &mut RoutedKeys) -> Option<()> {
        let rules = self.by_table.get(table)?;
        let bit = action_bit(action);
        let mut matched = false;
        for r in rules.iter().filter(|r| r.events & bit != 0) {
            matched = true;
            for k in &r.keys {
                let start = out.text.len();
                if apply(&k.pieces, row, &mut out.text) {
                    out.keys.push(RoutedKey { start: start as u32, end: out.text.len() as u32, exact: k.exact, refetch_type: k.refetch_type });
                } else {
                    out.text.truncate(start);
                }
            }
        }
        matched.then_some(())
    }
}

fn compile_key_rule(v: &Value) -> Result<KeyRule, String> {
    match v {
        Value::Array(_) => Ok(KeyRule { pieces: compile(v), exact: false, refetch_type: RefetchType::Active }),
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
            Ok(KeyRule { pieces: compile(key), exact, refetch_type })
        }
        _ => Err("a key must be an array or { queryKey, exact?, refetchType? }".into()),
    }
}

fn compile(v: &Value) -> Vec<Piece> {
    let mut out = Vec::new();
    compile_into(v, &mut out);
    out
}

fn lit(out: &mut Vec<Piece>, s: &str) {
    match out.last_mut() {
        Some(Piece::Lit(l)) => l.push_str(s),
        _ => out.push(Piece::Lit(s.to_string())),
    }
}

fn has_placeholder(v: &Value) -> bool {
    match v {
        Value::String(s) => split_placeholders(s).iter().any(|p| matches!(p, TextPart::Col(_))),
        Value::Array(items) => items.iter().any(has_placeholder),
        Value::Object(o) => o.values().any(has_placeholder),
        _ => false,
    }
}

fn compile_into(v: &Value, out: &mut Vec<Piece>) {
    if !has_placeholder(v) {
        return lit(out, &hash_key(v));
    }
    match v {
        Value::String(s) => {
            let parts = split_placeholders(s);
            match parts.as_slice() {
                [TextPart::Col(c)] => out.push(Piece::Column(c.clone())),
                _ => out.push(Piece::Text(parts)),
            }
        }
        Value::Array(items) => {
            lit(out, "[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    lit(out, ",");
                }
                compile_into(item, out);
            }
            lit(out, "]");
        }
        Value::Object(o) => {
            lit(out, "{");
            for (i, k) in js_key_order(o).into_iter().enumerate() {
                let mut name = String::new();
                write_string(&mut name, k);
                if i > 0 {
                    lit(out, ",");
                }
                lit(out, &name);
                lit(out, ":");
                if let Some(val) = o.get(k) {
                    compile_into(val, out);
                }
            }
            lit(out, "}");
        }
        other => lit(out, &hash_key(other)),
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

/// Writes the key's hash to `out`; false when a placeholder has no value (missing or null): the
/// whole key is skipped (CONTRACT "Routing").
fn apply(pieces: &[Piece], row: &Row<'_>, out: &mut String) -> bool {
    for p in pieces {
        match p {
            Piece::Lit(l) => out.push_str(l),
            Piece::Column(c) => match row.get(c) {
                Some(v) => write_tape(out, row.tape, row.text, v),
                None => return false,
            },
            Piece::Text(parts) => {
                let mut s = String::new();
                for part in parts {
                    match part {
                        TextPart::Lit(l) => s.push_str(l),
                        TextPart::Col(c) => match row.get(c) {
                            Some(v) => s.push_str(&tape_text(row.tape, row.text, v)),
                            None => return false,
                        },
                    }
                }
                write_string(out, &s);
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::Tape;
    use serde_json::json;

    fn route(t: &RuleTable, table: &str, action: Action, row: &str) -> Option<Vec<(String, bool, RefetchType)>> {
        let mut tape = Tape::new();
        tape.scan(row).unwrap();
        let r = Row::new(&tape, row, Some(0), None);
        let mut out = RoutedKeys::default();
        t.route(table, action, &r, &mut out)?;
        Some(out.keys.iter().map(|k| (out.hash(k).to_string(), k.exact, k.refetch_type)).collect())
    }

    #[test]
    fn placeholders_keep_type_or_splice_text() {
        let t = RuleTable::compile(&json!([{ "table": "goals", "invalidate": [
            ["goals", "{user_id}"], ["user-{user_id}-x", {"n": "{n}", "a": 1}], { "queryKey": ["dash"], "exact": true, "refetchType": "all" }
        ]}]))
        .unwrap();
        let keys = route(&t, "goals", Action::Update, r#"{"user_id": 7, "n": 1.50}"#).unwrap();
        assert_eq!(keys[0].0, r#"["goals",7]"#);
        assert_eq!(keys[1].0, r#"["user-7-x",{"a":1,"n":1.5}]"#);
        assert_eq!(keys[1].0, hash_key(&json!(["user-7-x", {"n": 1.5, "a": 1}])));
        assert_eq!((keys[2].1, keys[2].2), (true, RefetchType::All));
    }

    #[test]
    fn missing_or_null_value_skips_the_key() {
        let t = RuleTable::compile(&json!([{ "table": "t", "invalidate": [["a", "{x}"], ["b"], ["c-{y}"]] }])).unwrap();
        let keys = route(&t, "t", Action::Create, r#"{"x": null}"#).unwrap();
        assert_eq!(keys.into_iter().map(|k| k.0).collect::<Vec<_>>(), vec![r#"["b"]"#.to_string()]);
    }

    #[test]
    fn events_filter_and_unmatched_table() {
        let t = RuleTable::compile(&json!([{ "table": "t", "events": ["DELETE"], "invalidate": [["a"]] }])).unwrap();
        assert!(route(&t, "t", Action::Update, "{}").is_none());
        assert!(route(&t, "t", Action::Delete, "{}").is_some());
        assert!(route(&t, "u", Action::Delete, "{}").is_none());
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
