//! `createRealtime` options that the cache engine reads (CONTRACT "Creating an engine").
//! Transport options (`backoff`, `heartbeat`, `enabled`, `pollingMs`) belong to `link::LinkConfig`.
//!
//! Options arrive as JSON text (the glue's `JSON.stringify` of the JS object) and are read from the
//! scanner's tape: no JSON tree is built (issue 10, docs/SIZE.md).

use crate::error::{Error, ErrorCode};
use crate::key::tape_text;
use crate::rules::RuleTable;
use crate::scan::{Kind, Tape};
#[cfg(feature = "serde_json")]
use serde_json::Value;

/// Validated engine options, defaults as in the contract.
#[derive(Debug, Clone)]
pub struct Config {
    pub debounce_ms: u64,
    pub max_wait_ms: u64,
    /// Scope fields and the text (JS `String(value)`) events must carry for them (or not carry
    /// them at all) to be kept, sorted by field name.
    pub scope: Vec<(String, String)>,
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
            scope: Vec::new(),
            rules: RuleTable::default(),
            primary_key: vec!["id".into(), "uuid".into(), "code".into()],
            patch: true,
        }
    }
}

fn opt_err(msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidOption, "options", msg)
}

/// Scans option text (`null` = none); text that is not JSON is `invalid_option`.
pub fn scan_options(tape: &mut Tape, text: &str) -> Result<(), Error> {
    tape.scan(text).map_err(|e| opt_err(e.message("")))
}

/// Member `key` of option object `obj`, with `null` (and a non-finite number, which
/// `JSON.stringify` writes as `null`) counted as absent.
pub fn option(tape: &Tape, text: &str, obj: u32, key: &str) -> Option<u32> {
    tape.get_some(text, obj, key).filter(|&v| tape.f64(text, v).is_none_or(|x| x.is_finite()))
}

/// A number literal that fits `u64` as an integer (no fraction or exponent): what an integer
/// option must be.
pub fn as_u64(tape: &Tape, text: &str, i: u32) -> Option<u64> {
    let raw = tape.raw(text, i);
    (tape.kind(i) == Kind::Number && !raw.contains(['.', 'e', 'E'])).then(|| raw.parse::<u64>().ok()).flatten()
}

/// `true`/`false`; `None` for anything else.
pub fn as_bool(tape: &Tape, i: u32) -> Option<bool> {
    match tape.kind(i) {
        Kind::True => Some(true),
        Kind::False => Some(false),
        _ => None,
    }
}

fn millis(tape: &Tape, text: &str, v: u32, name: &str) -> Result<u64, Error> {
    match tape.f64(text, v) {
        Some(x) if (0.0..=86_400_000.0).contains(&x) => Ok(x as u64),
        _ => {
            let mut m = String::from(name);
            m.push_str(" must be a number of milliseconds between 0 and 86400000");
            Err(opt_err(m))
        }
    }
}

impl Config {
    #[cfg(feature = "serde_json")]
    /// Reads the options object. Unknown fields are ignored (the shim and the link read their own).
    /// Kept for callers holding a `Value` (tests, `src/replay.rs`), written as text with
    /// `key::value_json`; the shipped path is [`Config::from_text`].
    pub fn from_json(opts: &Value) -> Result<Config, Error> {
        Config::from_text(&crate::key::value_json(opts))
    }

    /// Reads the options from their JSON text.
    pub fn from_text(text: &str) -> Result<Config, Error> {
        let mut tape = Tape::new();
        scan_options(&mut tape, text)?;
        Config::from_tape(&tape, text, 0)
    }

    /// Reads the options object at node `o` of the tape.
    pub fn from_tape(tape: &Tape, text: &str, o: u32) -> Result<Config, Error> {
        let mut c = Config::default();
        match tape.kind(o) {
            Kind::Object => {}
            Kind::Null => return Ok(c),
            _ => return Err(opt_err("options must be an object")),
        }
        if let Some(v) = option(tape, text, o, "debounceMs") {
            c.debounce_ms = millis(tape, text, v, "debounceMs")?;
        }
        if let Some(v) = option(tape, text, o, "maxWaitMs") {
            c.max_wait_ms = millis(tape, text, v, "maxWaitMs")?;
        }
        if let Some(v) = option(tape, text, o, "scope") {
            c.scope = parse_scope(tape, text, v)?;
        }
        if let Some(v) = option(tape, text, o, "rules") {
            c.rules = RuleTable::compile_tape(tape, text, v)?;
        }
        if let Some(v) = option(tape, text, o, "primaryKey") {
            if tape.kind(v) != Kind::Array {
                return Err(opt_err("primaryKey must be an array of column names"));
            }
            // A loop, not `collect::<Option<Vec<_>>>()`: that adapter chain alone was ~0.9 KB of wasm.
            let bad = || opt_err("primaryKey must be a non-empty array of column names");
            let mut keys = Vec::new();
            for k in tape.items(v) {
                if !tape.is_str(k) {
                    return Err(bad());
                }
                keys.push(tape.str(text, k).into_owned());
            }
            if keys.is_empty() {
                return Err(bad());
            }
            c.primary_key = keys;
        }
        if let Some(v) = option(tape, text, o, "patch") {
            c.patch = as_bool(tape, v).ok_or_else(|| opt_err("patch must be a boolean"))?;
        }
        Ok(c)
    }

    /// The scope's text for field `name` (e.g. `factoryId`), if the scope sets it.
    pub fn scope_get(&self, name: &str) -> Option<&str> {
        self.scope.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// A scope is a flat object of primitive values (`{ factoryId: 'f1' }`); null values mean "no scope".
/// Fields come out sorted by name, the last of duplicate names kept (as `JSON.parse` keeps it).
pub fn parse_scope(tape: &Tape, text: &str, v: u32) -> Result<Vec<(String, String)>, Error> {
    if tape.kind(v) != Kind::Object {
        return Err(opt_err("scope must be an object"));
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, val) in tape.members(v) {
        let name = tape.str(text, k);
        // Kept sorted as it grows, each name once (a later duplicate replaces it): no sort linked.
        let found = out.binary_search_by(|(n, _)| n.as_str().cmp(&name));
        match tape.kind(val) {
            Kind::Null => drop_at(&mut out, found),
            Kind::Number if tape.f64(text, val).is_some_and(|x| !x.is_finite()) => drop_at(&mut out, found), // JSON's null
            Kind::Str | Kind::StrEscaped | Kind::Number | Kind::True | Kind::False => {
                let field = (name.into_owned(), tape_text(tape, text, val).into_owned());
                match found {
                    Ok(i) => out[i] = field,
                    Err(at) => out.insert(at, field),
                }
            }
            _ => {
                let mut m = String::from("scope.");
                m.push_str(&name);
                m.push_str(" must be a string, number or boolean");
                return Err(opt_err(m));
            }
        }
    }
    Ok(out)
}

/// A `null` field: an earlier one of the same name goes.
fn drop_at(out: &mut Vec<(String, String)>, found: Result<usize, usize>) {
    if let Ok(i) = found {
        out.remove(i);
    }
}

/// [`parse_scope`] of scope JSON text (`rt.setScope`).
pub fn parse_scope_text(text: &str) -> Result<Vec<(String, String)>, Error> {
    let mut tape = Tape::new();
    scan_options(&mut tape, text)?;
    parse_scope(&tape, text, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_read_from_text_as_json_parse_reads_them() {
        // JSON.parse keeps the last of duplicate names; 1e400 is what JSON.stringify writes as null.
        let c = Config::from_text(
            r#"{"debounceMs":1e400,"maxWaitMs":20,"maxWaitMs":30,"scope":{"a":1,"a":null,"b":"x","c":2.50,"d":true}}"#,
        )
        .unwrap();
        assert_eq!((c.debounce_ms, c.max_wait_ms), (300, 30));
        let want: Vec<(String, String)> =
            vec![("b".into(), "x".into()), ("c".into(), "2.5".into()), ("d".into(), "true".into())];
        assert_eq!(c.scope, want);
        assert_eq!(c.scope_get("c"), Some("2.5"));
        assert!(Config::from_text("null").is_ok());
    }

    #[test]
    fn bad_options_are_invalid_option_with_the_field_named() {
        for (text, msg) in [
            ("{", ""),
            ("7", "options must be an object"),
            (r#"{"debounceMs":-1}"#, "debounceMs must be a number of milliseconds between 0 and 86400000"),
            (r#"{"scope":{"f":[1]}}"#, "scope.f must be a string, number or boolean"),
            (r#"{"scope":3}"#, "scope must be an object"),
            (r#"{"primaryKey":"id"}"#, "primaryKey must be an array of column names"),
            (r#"{"primaryKey":[]}"#, "primaryKey must be a non-empty array of column names"),
            (r#"{"patch":1}"#, "patch must be a boolean"),
            (
                r#"{"rules":[{"table":"t","invalidate":[{"queryKey":["a"],"exact":1}]}]}"#,
                "rules[0].invalidate[0]: exact must be a boolean",
            ),
            (r#"{"rules":[{"table":"t"},{"table":""}]}"#, "rules[0].invalidate must be an array of keys"),
            (r#"{"rules":[{"table":"t","invalidate":[]},{"table":""}]}"#, "rules[1].table must be a non-empty string"),
        ] {
            let e = Config::from_text(text).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidOption, "{text}");
            assert!(e.message.contains(msg), "{text}: {}", e.message);
        }
    }
}
