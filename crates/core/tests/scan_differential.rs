//! The scanner (`scan.rs`) against two oracles: V8's `JSON.parse` verdicts on edge cases and
//! mutated payloads (tests/fixtures/json_verdicts.json, `node scripts/gen-json-verdicts.mjs`), and
//! serde_json on random documents, compact and pretty-printed: same acceptance, same values.
//! serde_json is stricter than JSON.parse in three known ways (lone surrogates, numbers beyond
//! f64, nesting beyond 128); there the scanner must side with JSON.parse.

use proptest::prelude::*;
use querywire_core::scan::{to_value, Tape};
use serde_json::{json, Value};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/");

#[test]
fn accepts_exactly_what_json_parse_accepts() {
    let cases: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(format!("{ROOT}json_verdicts.json")).unwrap()).unwrap();
    assert!(cases.len() > 4000);
    let mut tape = Tape::new();
    for c in &cases {
        let text = c["text"].as_str().unwrap();
        let want = c["ok"].as_bool().unwrap();
        assert_eq!(tape.scan(text).is_ok(), want, "JSON.parse says {want} for {text:?}");
        if want {
            // Where serde_json also accepts, both read the same value.
            if let Ok(v) = serde_json::from_str::<Value>(text) {
                assert_eq!(to_value(&tape, text, 0), v, "{text:?}");
            }
        }
    }
}

#[test]
fn where_serde_json_is_stricter_the_scanner_sides_with_json_parse() {
    let mut tape = Tape::new();
    for text in [r#"{"a":"\ud800"}"#, r#"{"a":1e400}"#, &("[".repeat(200) + &"]".repeat(200))] {
        assert!(serde_json::from_str::<Value>(text).is_err(), "serde_json rejects {text}");
        assert!(tape.scan(text).is_ok(), "JSON.parse accepts {text}");
    }
    tape.scan(r#"{"a":"x\ud800y","b":1e400}"#).unwrap();
    assert_eq!(to_value(&tape, r#"{"a":"x\ud800y","b":1e400}"#, 0), json!({"a": "x\u{FFFD}y", "b": null}));
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |x| x.is_finite()).prop_map(Value::from),
        ".*".prop_map(Value::from),
        prop::sample::select(vec!["", "\"", "\\", "\u{0}", "\u{1f}", "é", "\u{1F600}", "a/b"]).prop_map(Value::from),
    ]
}

fn doc() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(".{0,6}", inner, 0..8).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn random_documents_scan_to_what_serde_json_reads(v in doc(), pretty in any::<bool>()) {
        let text = if pretty { serde_json::to_string_pretty(&v).unwrap() } else { v.to_string() };
        let mut tape = Tape::new();
        prop_assert!(tape.scan(&text).is_ok());
        let want: Value = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(to_value(&tape, &text, 0), want);
    }

    #[test]
    fn cut_or_spliced_documents_are_judged_like_serde_json(v in doc(), cut in any::<prop::sample::Index>(), byte in prop::sample::select(vec![b'{', b'}', b'[', b']', b',', b':', b'"', b'\\', b'1', b' ', b'x'])) {
        let text = v.to_string();
        let at = cut.index(text.len() + 1);
        let mut bytes = text.into_bytes();
        if at < bytes.len() && bytes[at].is_ascii() { bytes[at] = byte } else { bytes.truncate(at) }
        let Ok(text) = String::from_utf8(bytes) else { return Ok(()) };
        let ours = Tape::new().scan(&text).is_ok();
        match serde_json::from_str::<Value>(&text) {
            Ok(_) => prop_assert!(ours, "serde_json accepts {:?}", text),
            Err(e) => {
                let m = e.to_string();
                let stricter = m.contains("surrogate") || m.contains("out of range") || m.contains("recursion");
                prop_assert!(!ours || stricter, "serde_json rejects {:?} ({}) but the scanner accepts it", text, m);
            }
        }
    }
}
