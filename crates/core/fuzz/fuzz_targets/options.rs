//! Any options and rules: `createRealtime` options, then a connect call's options, then payloads,
//! separated by `\x1e`. Building the machine may refuse the options (a typed error); whatever it
//! accepts, no value however large (`backoff.maxMs` near `u64::MAX`, issue 10) may panic or
//! overflow while it connects, fails, backs off, polls and routes events through the rules.
#![no_main]
use libfuzzer_sys::fuzz_target;
use querywire_core::link::Transport;
use querywire_core::views::View;
use querywire_core::Realtime;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut parts = text.split('\u{1e}');
    let Some(Ok(opts)) = parts.next().map(serde_json::from_str::<Value>) else { return };
    let connect: Value = parts.next().and_then(|c| serde_json::from_str(c).ok()).unwrap_or(Value::Null);
    let Ok(mut rt) = Realtime::new(0, &opts) else { return };
    rt.subscribe(0, View::doc("t", "1"));
    rt.subscribe(0, View::list("t"));
    let mut now = 0u64;
    let connected = rt.connect(now, Transport::Ws, &connect).is_ok();
    for (i, payload) in parts.enumerate() {
        let _ = rt.ingest_text(now, ["supabase", "event", "envelope", "centrifugo", "invalidate"][i % 5], payload);
    }
    // Fail every attempt, far into the future: backoff, give up, poll, retry while polling.
    for step in 0..64u64 {
        let Some(d) = rt.poll_timeout() else { break };
        now = d.max(now);
        rt.handle_timeout(now);
        if connected && step % 3 == 2 {
            rt.transport_close(now, Some(1006));
        }
        while rt.poll_output().is_some() {}
    }
    rt.handle_timeout(u64::MAX);
    while rt.poll_output().is_some() {}
});
