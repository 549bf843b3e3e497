//! The rule compiler: `Rule[]` is compiled once into a table indexed by table name, with key
//! templates parsed into trees so that applying a rule to a row is a walk, not a parse.
//! (CONTRACT "Routing": typed `"{col}"` placeholders, `{col}` in text, skipped keys.)

use crate::error::{Error, ErrorCode};
use crate::event::{Action, RefetchType, Row};
use crate::key::{tape_text, write_string, write_tape};
use crate::scan::{push_uint, Kind, Tape};
#[cfg(feature = "serde_json")]
use serde_json::Value;

/// One compiled key template: pieces whose concatenation is the key's canonical hash (TanStack
/// `hashKey`), so applying a rule writes the hash directly and never builds a key value. Object
/// keys in a template are literal, so their JS order is fixed when the rule is compiled.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    /// Canonical JSON text with no placeholder, and the offsets in it where a top-level element
    /// of the key ends (its `,` or closing `]`: the key's element ends, `pending::Keys::ends`).
    Lit(String, Vec<u32>),
    /// The whole string was `"{col}"`: the row's value with its JSON type (the column's name and
    /// its slot in [`RuleTable::columns`]).
    Column(String, usize),
    /// A string with `{col}` inside: the values' text spliced in.
    Text(Vec<TextPart>),
}

#[derive(Debug, Clone, PartialEq)]
enum TextPart {
    Lit(String),
    /// A column's name and its slot in [`RuleTable::columns`] (`usize::MAX` until compiled).
    Col(String, usize),
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
    /// Each table rules name, once, with its rules in order. A table is found by name only when an
    /// event first names it ([`RuleTable::table`], kept by `tables.rs`); routing takes its index.
    by_table: Vec<(String, Vec<CompiledRule>)>,
    /// Every placeholder column, once: a piece names its column by index here, and the engine's
    /// row [`crate::event::Columns`] give these the same slots.
    columns: Vec<String>,
}

/// Keys produced by applying rules to a row: their canonical hashes, one after the other in one
/// reusable buffer, with each key's span and flags.
#[derive(Debug, Default)]
pub struct RoutedKeys {
    pub text: String,
    pub keys: Vec<RoutedKey>,
    /// Each key's element ends (offsets from its start), one key's after the other.
    pub ends: Vec<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoutedKey {
    pub start: u32,
    pub end: u32,
    /// Its span in [`RoutedKeys::ends`].
    pub ends: (u32, u32),
    pub exact: bool,
    pub refetch_type: RefetchType,
}

impl RoutedKeys {
    pub fn clear(&mut self) {
        self.text.clear();
        self.keys.clear();
        self.ends.clear();
    }
    pub fn hash(&self, k: &RoutedKey) -> &str {
        &self.text[k.start as usize..k.end as usize]
    }
    /// The key's element ends (`pending::Keys::ends`).
    pub fn ends(&self, k: &RoutedKey) -> &[u32] {
        self.ends.get(k.ends.0 as usize..k.ends.1 as usize).unwrap_or_default()
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
    #[cfg(feature = "serde_json")]
    /// Compiles `rules` (an array of `Rule`); errors name the rule's index. Kept for callers
    /// holding a `Value` (tests); the shipped path reads the options' tape ([`RuleTable::compile_tape`]).
    pub fn compile(rules: &Value) -> Result<RuleTable, Error> {
        let text = crate::key::value_json(rules);
        let mut tape = Tape::new();
        tape.scan(&text).map_err(|e| bad(e.message("")))?;
        RuleTable::compile_tape(&tape, &text, 0)
    }

    /// Compiles the rules array at node `list` of the tape.
    pub fn compile_tape(tape: &Tape, text: &str, list: u32) -> Result<RuleTable, Error> {
        if tape.kind(list) != Kind::Array {
            return Err(bad("rules must be an array"));
        }
        let mut t = RuleTable::default();
        for (i, r) in tape.items(list).enumerate() {
            let at = |what: &str| {
                let mut m = String::from("rules[");
                push_uint(&mut m, i as u64);
                m.push(']');
                m.push_str(what);
                m
            };
            if tape.kind(r) != Kind::Object {
                return Err(bad(at(" must be an object")));
            }
            let table = tape
                .get(text, r, "table")
                .filter(|&v| tape.is_str(v))
                .map(|v| tape.str(text, v))
                .filter(|s| !s.is_empty())
                .ok_or_else(|| bad(at(".table must be a non-empty string")))?;
            let events = match tape.get(text, r, "events").map(|v| (v, tape.kind(v))) {
                None | Some((_, Kind::Null)) => 7,
                Some((evs, Kind::Array)) => {
                    let mut bits = 0;
                    for e in tape.items(evs) {
                        let name = if tape.is_str(e) { tape.str(text, e) } else { "".into() };
                        bits |= match &*name {
                            "INSERT" => 1,
                            "UPDATE" => 2,
                            "DELETE" => 4,
                            _ => return Err(bad(at(".events: expected 'INSERT' | 'UPDATE' | 'DELETE'"))),
                        };
                    }
                    bits
                }
                _ => return Err(bad(at(".events must be an array"))),
            };
            let inv = tape
                .get(text, r, "invalidate")
                .filter(|&v| tape.kind(v) == Kind::Array)
                .ok_or_else(|| bad(at(".invalidate must be an array of keys")))?;
            let mut keys = Vec::new();
            for (j, k) in tape.items(inv).enumerate() {
                keys.push(compile_key_rule(tape, text, k, &mut t.columns).map_err(|m| {
                    let mut s = at(".invalidate[");
                    push_uint(&mut s, j as u64);
                    s.push_str("]: ");
                    s.push_str(m);
                    bad(s)
                })?);
            }
            let rule = CompiledRule { events, keys };
            match t.table(&table) {
                Some(at) => t.by_table[at as usize].1.push(rule),
                None => t.by_table.push((table.into_owned(), vec![rule])),
            }
        }
        Ok(t)
    }

    pub fn is_empty(&self) -> bool {
        self.by_table.is_empty()
    }

    /// The placeholder columns, in slot order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Whether any rule names `table` (its events then need the whole row for templates).
    pub fn has_table(&self, table: &str) -> bool {
        self.table(table).is_some()
    }

    /// The index of `table`'s rules, if any rule names it (what [`RuleTable::route_at`] takes).
    pub fn table(&self, table: &str) -> Option<u32> {
        self.by_table.iter().position(|(t, _)| t == table).map(|i| i as u32)
    }

    /// The rules of the table at `at` ([`RuleTable::table`]); none for another index.
    fn rules_at(&self, at: u32) -> &[CompiledRule] {
        self.by_table.get(at as usize).map_or(&[], |(_, r)| r.as_slice())
    }

    /// The tables rules name, in the order rules first name them.
    pub fn tables(&self) -> impl Iterator<Item = &str> {
        self.by_table.iter().map(|(t, _)| t.as_str())
    }

    /// Whether some rule of `table` matches `action`: such events skip the doc/list policy.
    pub fn matches(&self, table: &str, action: Action) -> bool {
        let bit = action_bit(action);
        self.table(table).is_some_and(|at| self.rules_at(at).iter().any(|r| r.events & bit != 0))
    }

    /// Calls `f` with every column a `{col}` placeholder of `table`'s rules reads (repeats included).
    pub fn placeholder_columns(&self, table: &str, mut f: impl FnMut(&str)) {
        for k in self.table(table).map_or(&[][..], |at| self.rules_at(at)).iter().flat_map(|r| &r.keys) {
            for p in &k.pieces {
                match p {
                    Piece::Lit(..) => {}
                    Piece::Column(c, _) => f(c),
                    Piece::Text(parts) => parts.iter().for_each(|t| {
                        if let TextPart::Col(c, _) = t {
                            f(c)
                        }
                    }),
                }
            }
        }
    }

    /// Applies every rule whose table and event match, appending their keys to `out`. `None` when
    /// no rule matched (the event then goes to the doc/list policy); `Some(())` otherwise, with no
    /// key added when every key was skipped for a missing value.
    pub fn route(&self, table: &str, action: Action, row: &Row<'_>, out: &mut RoutedKeys) -> Option<()> {
        self.route_at(self.table(table)?, action, row, out)
    }

    /// [`RuleTable::route`] of the table whose rules are at `at` ([`RuleTable::table`]).
    pub fn route_at(&self, at: u32, action: Action, row: &Row<'_>, out: &mut RoutedKeys) -> Option<()> {
        let bit = action_bit(action);
        let mut matched = false;
        for r in self.rules_at(at) {
            if r.events & bit == 0 {
                continue;
            }
            matched = true;
            for k in &r.keys {
                let (start, e0) = (out.text.len(), out.ends.len());
                if apply(&k.pieces, row, &mut out.text, &mut out.ends) {
                    let (end, e1) = (out.text.len() as u32, out.ends.len() as u32);
                    out.keys.push(RoutedKey {
                        start: start as u32,
                        end,
                        ends: (e0 as u32, e1),
                        exact: k.exact,
                        refetch_type: k.refetch_type,
                    });
                } else {
                    out.text.truncate(start);
                    out.ends.truncate(e0);
                }
            }
        }
        matched.then_some(())
    }
}

fn compile_key_rule(tape: &Tape, text: &str, v: u32, cols: &mut Vec<String>) -> Result<KeyRule, &'static str> {
    match tape.kind(v) {
        Kind::Array => {
            Ok(KeyRule { pieces: compile(tape, text, v, cols), exact: false, refetch_type: RefetchType::Active })
        }
        Kind::Object => {
            let key = tape
                .get(text, v, "queryKey")
                .filter(|&k| tape.kind(k) == Kind::Array)
                .ok_or("queryKey must be an array")?;
            let exact = match tape.get(text, v, "exact").map(|e| tape.kind(e)) {
                None | Some(Kind::Null) | Some(Kind::False) => false,
                Some(Kind::True) => true,
                _ => return Err("exact must be a boolean"),
            };
            let refetch_type = match tape.get(text, v, "refetchType") {
                None => RefetchType::Active,
                Some(r) if tape.kind(r) == Kind::Null => RefetchType::Active,
                Some(r) if tape.is_str(r) => RefetchType::parse(&tape.str(text, r))
                    .ok_or("refetchType must be 'active' | 'inactive' | 'all' | 'none'")?,
                _ => return Err("refetchType must be a string"),
            };
            Ok(KeyRule { pieces: compile(tape, text, key, cols), exact, refetch_type })
        }
        _ => Err("a key must be an array or { queryKey, exact?, refetchType? }"),
    }
}

fn compile(tape: &Tape, text: &str, v: u32, cols: &mut Vec<String>) -> Vec<Piece> {
    let mut out = Vec::new();
    compile_into(tape, text, v, &mut out, cols);
    mark_ends(&mut out);
    out
}

/// Records in each literal piece where the key's top-level elements end (the `,` after one, the
/// `]` after the last), so applying a rule knows its key's element ends without a scan. Literals
/// are canonical JSON and a placeholder piece is one whole value, so a walk over the literals'
/// bytes (depth, in a string, after a backslash) finds them.
fn mark_ends(pieces: &mut [Piece]) {
    let (mut depth, mut in_str, mut esc, mut seen) = (0u32, false, false, false);
    for p in pieces {
        let Piece::Lit(l, ends) = p else {
            seen |= depth == 1;
            continue;
        };
        ends.clear();
        for (i, &b) in l.as_bytes().iter().enumerate() {
            if in_str {
                if esc {
                    esc = false;
                } else if b == b'\\' {
                    esc = true;
                } else if b == b'"' {
                    in_str = false;
                }
                continue;
            }
            match b {
                b',' if depth == 1 => {
                    ends.push(i as u32);
                    seen = false;
                }
                b']' | b'}' => {
                    if depth == 1 && seen {
                        ends.push(i as u32);
                    }
                    depth = depth.saturating_sub(1);
                }
                _ => {
                    seen |= depth == 1;
                    match b {
                        b'"' => in_str = true,
                        b'[' | b'{' => depth += 1,
                        _ => {}
                    }
                }
            }
        }
    }
}

/// The slot of column `name` in `cols`, added when new.
fn slot(cols: &mut Vec<String>, name: &str) -> usize {
    cols.iter().position(|c| c == name).unwrap_or_else(|| {
        cols.push(name.to_string());
        cols.len() - 1
    })
}

fn lit(out: &mut Vec<Piece>, s: &str) {
    match out.last_mut() {
        Some(Piece::Lit(l, _)) => l.push_str(s),
        _ => out.push(Piece::Lit(s.to_string(), Vec::new())),
    }
}

fn has_placeholder(tape: &Tape, text: &str, v: u32) -> bool {
    match tape.kind(v) {
        Kind::Str | Kind::StrEscaped => {
            split_placeholders(&tape.str(text, v)).iter().any(|p| matches!(p, TextPart::Col(..)))
        }
        Kind::Array => tape.items(v).any(|i| has_placeholder(tape, text, i)),
        Kind::Object => tape.members(v).any(|(_, i)| has_placeholder(tape, text, i)),
        _ => false,
    }
}

fn compile_into(tape: &Tape, text: &str, v: u32, out: &mut Vec<Piece>, cols: &mut Vec<String>) {
    if !has_placeholder(tape, text, v) {
        let mut h = String::new();
        write_tape(&mut h, tape, text, v);
        return lit(out, &h);
    }
    match tape.kind(v) {
        Kind::Str | Kind::StrEscaped => {
            let mut parts = split_placeholders(&tape.str(text, v));
            for part in &mut parts {
                if let TextPart::Col(c, at) = part {
                    *at = slot(cols, c);
                }
            }
            match parts.as_slice() {
                [TextPart::Col(c, at)] => out.push(Piece::Column(c.clone(), *at)),
                _ => out.push(Piece::Text(parts)),
            }
        }
        Kind::Array => {
            lit(out, "[");
            for (i, item) in tape.items(v).enumerate() {
                if i > 0 {
                    lit(out, ",");
                }
                compile_into(tape, text, item, out, cols);
            }
            lit(out, "]");
        }
        _ => {
            // An object (only containers and strings hold placeholders): keys in JS order, the
            // last of duplicate keys kept, as `write_tape` writes them.
            let members = crate::key::js_ordered_members(tape, text, v);
            lit(out, "{");
            let mut first = true;
            for (n, (k, _, val)) in members.iter().enumerate() {
                if members.get(n + 1).is_some_and(|next| next.0 == *k) {
                    continue;
                }
                if !first {
                    lit(out, ",");
                }
                first = false;
                let mut name = String::new();
                write_string(&mut name, k);
                lit(out, &name);
                lit(out, ":");
                compile_into(tape, text, *val, out, cols);
            }
            lit(out, "}");
        }
    }
}

/// Splits `"a-{b}-c"` into literal and column parts. A `{` without a closing `}` (or with another
/// `{` before it) is literal text.
fn split_placeholders(s: &str) -> Vec<TextPart> {
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut rest = s;
    // Byte searches, not `char` patterns (those link `CharSearcher`; the braces are ASCII).
    while let Some(open) = rest.bytes().position(|c| c == b'{') {
        let after = &rest[open + 1..];
        match after.bytes().position(|c| c == b'{' || c == b'}') {
            Some(close) if after.as_bytes()[close] == b'}' && close > 0 => {
                lit.push_str(&rest[..open]);
                if !lit.is_empty() {
                    parts.push(TextPart::Lit(std::mem::take(&mut lit)));
                }
                parts.push(TextPart::Col(after[..close].to_string(), usize::MAX));
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

#[cfg(feature = "serde_json")]
/// The text a value contributes inside a longer string (JS `String(value)` for primitives).
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.to_string(),
            (_, Some(u)) => u.to_string(),
            _ => crate::key::js_number_to_string(n.as_f64().unwrap_or(0.0)),
        },
        Value::Bool(b) => b.to_string(),
        other => crate::key::hash_key(other),
    }
}

/// Writes the key's hash to `out` and its element ends (from the key's start) to `ends`; false
/// when a placeholder has no value (missing or null): the whole key is skipped (CONTRACT "Routing").
fn apply(pieces: &[Piece], row: &Row<'_>, out: &mut String, ends: &mut Vec<u32>) -> bool {
    let start = out.len();
    for p in pieces {
        match p {
            Piece::Lit(l, at) => {
                let base = (out.len() - start) as u32;
                ends.extend(at.iter().map(|&i| base.saturating_add(i)));
                out.push_str(l);
            }
            Piece::Column(c, at) => match row.col(*at, c) {
                Some(v) => write_tape(out, row.tape, row.text, v),
                None => return false,
            },
            Piece::Text(parts) => {
                let mut s = String::new();
                for part in parts {
                    match part {
                        TextPart::Lit(l) => s.push_str(l),
                        TextPart::Col(c, at) => match row.col(*at, c) {
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
    use crate::key::hash_key;
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
        for bad in [
            json!({}),
            json!([1]),
            json!([{ "table": "t" }]),
            json!([{ "table": "t", "events": ["X"], "invalidate": [] }]),
            json!([{ "table": "t", "invalidate": [{ "queryKey": ["a"], "refetchType": "sometimes" }] }]),
        ] {
            assert_eq!(RuleTable::compile(&bad).unwrap_err().code, ErrorCode::InvalidOption, "{bad}");
        }
    }

    #[test]
    fn routed_keys_carry_the_element_ends_a_scan_finds() {
        // Literals with `,` `]` `[` `{` `"` and backslashes inside strings, nested containers with
        // and without placeholders, placeholders at the top and nested, an empty key.
        let t = RuleTable::compile(&json!([{ "table": "t", "invalidate": [
            ["a,b]", "{x}", ["[c]", "{y}"], {"k\"]": "{x}", "z": [1, 2]}, "q-{y}-\\", 3, null, true],
            ["{obj}"], [], ["{x}"], [{"a": "{arr}"}, "x{x}y", "{arr}"], ["lit", {"n": 1}, ["n", "{x}"]]
        ]}]))
        .unwrap();
        let row = r#"{"x": "v,]\"", "y": 2.50, "obj": {"b": [1, {"c": ","}], "a": "]"}, "arr": [1, [2, "]"]]}"#;
        let mut tape = Tape::new();
        tape.scan(row).unwrap();
        let r = Row::new(&tape, row, Some(0), None);
        let mut out = RoutedKeys::default();
        out.text.push_str("earlier key text");
        t.route("t", Action::Create, &r, &mut out).unwrap();
        assert_eq!(out.keys.len(), 6);
        let mut check = Tape::new();
        for k in &out.keys {
            let hash = out.hash(k);
            check.scan(hash).unwrap();
            let want: Vec<u32> = check.items(0).map(|i| check.node(i).end).collect();
            assert_eq!(out.ends(k), want, "{hash}");
        }
        assert_eq!(out.ends(&out.keys[2]), [0u32; 0], "[] has no elements");
    }

    #[test]
    fn unclosed_braces_are_text() {
        assert_eq!(split_placeholders("a{b"), vec![TextPart::Lit("a{b".into())]);
        assert_eq!(split_placeholders("{}"), vec![TextPart::Lit("{}".into())]);
    }
}
