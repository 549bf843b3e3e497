//! Any text as wire frames on a connected transport, with reconnects: never a panic, whatever the
//! link state, and every plan keeps its invariants. Input lines are frames, except a line `\x01`
//! (the socket closes; the machine reconnects and reopens) and `\x02` (time jumps past every
//! deadline). Seeds (`seeds/frames`, `scripts/fuzz-seeds.mjs`) are the trace's payloads wrapped as
//! event frames on three channels, a reconnect, `recovered` answers and control frames.
#![no_main]
mod invariants;

use libfuzzer_sys::fuzz_target;
use querywire_core::link::Transport;
use querywire_core::views::View;
use querywire_core::{Output, Realtime};

fn drain(rt: &mut Realtime) {
    while let Some(out) = rt.poll_output() {
        if let Output::Plan(p) = out {
            invariants::check_keys(&p);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let opts = serde_json::json!({ "scope": { "factoryId": "f1" }, "rules": [{ "table": "lines", "invalidate": [["lines", "{id}"]] }] });
    let mut rt = Realtime::new(0, &opts).expect("options");
    rt.subscribe(0, View::doc("work_orders", "1"));
    rt.subscribe(0, View::list("work_orders"));
    rt.connect(0, Transport::Ws, &serde_json::Value::Null).expect("connect");
    let mut now = 1u64;
    rt.handle_timeout(now);
    rt.transport_open(now);
    drain(&mut rt);
    for frame in text.split('\n') {
        now += 7;
        match frame {
            "\u{1}" => {
                rt.transport_close(now, Some(1006));
                // Up to a minute of retries and polls (polling schedules deadlines forever).
                let until = now + 60_000;
                while let Some(d) = rt.poll_timeout().filter(|d| *d < until) {
                    now = now.max(d);
                    rt.handle_timeout(now);
                    drain(&mut rt);
                }
                rt.transport_open(now);
            }
            "\u{2}" => {
                if let Some(d) = rt.poll_timeout() {
                    now = now.max(d);
                    rt.handle_timeout(now);
                }
            }
            _ => {
                let _ = rt.transport_frame(now, frame);
            }
        }
        drain(&mut rt);
    }
    rt.handle_timeout(now + 100_000);
    drain(&mut rt);
});
