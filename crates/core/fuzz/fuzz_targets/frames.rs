//! Any text as a wire frame on a connected transport: never a panic, whatever the link state.
#![no_main]
use libfuzzer_sys::fuzz_target;
use querywire_core::link::Transport;
use querywire_core::views::View;
use querywire_core::Realtime;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut rt = Realtime::new(0, &serde_json::json!({ "scope": { "factoryId": "f1" } })).expect("options");
    rt.subscribe(0, View::doc("wo", "1"));
    rt.connect(0, Transport::Ws, &serde_json::Value::Null).expect("connect");
    rt.transport_open(1);
    for (i, frame) in text.split('\n').enumerate() {
        let _ = rt.transport_frame(2 + i as u64, frame);
    }
    rt.handle_timeout(100_000);
    while rt.poll_output().is_some() {}
});
