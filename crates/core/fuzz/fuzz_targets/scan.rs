//! Any text through the one scanner (`scan.rs`), against serde_json as the oracle: no panic;
//! whatever serde_json accepts, the scanner accepts and reads to the same value; whatever the
//! scanner accepts and serde_json rejects is one of the three places serde_json is stricter than
//! `JSON.parse` (lone surrogates, numbers beyond f64, nesting beyond 128). An accepted tape is
//! well formed: spans inside the text, each subtree ending after its node, members and items
//! walking forward to their container's end. The same tape is reused across the inputs of a run
//! (split at `\x1e`), as the engine reuses it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use querywire_core::scan::{to_value, Kind, Tape, KEY};
use serde_json::Value;

fn well_formed(t: &Tape, text: &str) {
    assert!(!t.is_empty());
    let root = t.node(0);
    assert_eq!(root.start as usize, text.len() - text.trim_start_matches([' ', '\t', '\n', '\r']).len());
    assert_eq!(root.end as usize, text.trim_end_matches([' ', '\t', '\n', '\r']).len());
    assert_eq!(root.next as usize, t.len());
    for i in 0..t.len() as u32 {
        let n = t.node(i);
        assert!(
            n.start < n.end && n.end as usize <= text.len() && n.next > i && n.next as usize <= t.len(),
            "node {i}: {n:?}"
        );
        match n.kind {
            Kind::Object => {
                let mut last = i;
                for (k, v) in t.members(i) {
                    // A key shares its value's entry: its handle is the value's index with KEY set.
                    let key = t.node(k);
                    assert!(v > last && k == v | KEY && t.is_str(k), "member {v}");
                    assert!(
                        key.start < key.end
                            && key.end as usize <= t.node(v).start as usize
                            && t.raw(text, k).ends_with('"')
                    );
                    last = t.node(v).next - 1;
                }
                assert_eq!(last + 1, n.next);
            }
            Kind::Array => {
                let mut end = i + 1;
                for v in t.items(i) {
                    assert_eq!(v, end);
                    end = t.node(v).next;
                }
                assert_eq!(end, n.next);
            }
            Kind::Str | Kind::StrEscaped => assert!(t.raw(text, i).len() >= 2 && t.raw(text, i).ends_with('"')),
            _ => assert_eq!(n.next, i + 1),
        }
    }
}

/// Whether `text` holds a `\\uD800`..`\\uDFFF` escape (serde_json rejects an unpaired one; JSON.parse
/// keeps it).
fn has_surrogate_escape(text: &str) -> bool {
    text.as_bytes().windows(4).any(|w| {
        w[0] == b'\\'
            && w[1] == b'u'
            && matches!(w[2], b'd' | b'D')
            && matches!(w[3], b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F')
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(all) = std::str::from_utf8(data) else { return };
    let mut tape = Tape::new();
    for text in all.split('\u{1e}') {
        let ours = tape.scan(text);
        match serde_json::from_str::<Value>(text) {
            Ok(v) => {
                assert!(ours.is_ok(), "serde_json accepts {text:?}, the scanner says {ours:?}");
                well_formed(&tape, text);
                assert_eq!(to_value(&tape, text, 0), v, "{text:?}");
            }
            Err(e) => {
                if ours.is_ok() {
                    let m = e.to_string();
                    let lone_surrogate =
                        (m.contains("surrogate") || m.contains("hex escape")) && has_surrogate_escape(text);
                    assert!(
                        lone_surrogate || m.contains("out of range") || m.contains("recursion"),
                        "the scanner accepts {text:?}, serde_json: {m}"
                    );
                    well_formed(&tape, text);
                }
            }
        }
    }
});
