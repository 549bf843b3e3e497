//! `shareConnection` (one connection per browser) across the boundary: the shim's election result
//! and what other tabs sent go in, what this tab must hand the other tabs comes out through the
//! `share(message)` handler. The messages' shape on the BroadcastChannel is `js/share.js`'s
//! (docs/SHARING.md); nothing here decides anything.

use super::{Handlers, WasmRealtime};
use crate::clock::now;
use crate::interop::{from_js, to_js};
use js_sys::{Object, Reflect};
use querywire_core::link::Status;
use querywire_core::share::{Role, Shared};
use wasm_bindgen::prelude::*;

fn status_of(s: &str) -> Option<Status> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
}

#[wasm_bindgen]
impl WasmRealtime {
    /// The election's verdict: `'leader'` or `'follower'`. The first call turns sharing on.
    #[wasm_bindgen(js_name = shareRole)]
    pub fn share_role(&self, role: &str) {
        if let Some(r) = Role::parse(role) {
            self.update(|i| i.rt.share_role(now(), r));
        }
    }

    /// Another tab's channel set (empty: it needs none).
    #[wasm_bindgen(js_name = shareChannels)]
    pub fn share_channels(&self, tab: &str, channels: Vec<String>) {
        self.update(|i| i.rt.share_channels(now(), tab, channels));
    }

    /// Another tab is gone.
    #[wasm_bindgen(js_name = shareForget)]
    pub fn share_forget(&self, tab: &str) {
        self.update(|i| i.rt.share_forget(now(), tab));
    }

    /// A frame the leader forwarded, as its transport received it.
    #[wasm_bindgen(js_name = shareFrame)]
    pub fn share_frame(&self, text: &str) {
        let r = self.update(|i| i.rt.share_frame(now(), text).map(|_| ()));
        self.report(r);
    }

    /// The leader's connection status.
    #[wasm_bindgen(js_name = shareStatus)]
    pub fn share_status(&self, status: &str) {
        if let Some(s) = status_of(status) {
            self.update(|i| i.rt.share_status(now(), s));
        }
    }

    /// A recovery outcome the leader forwarded (`undefined`: every channel).
    #[wasm_bindgen(js_name = shareRecover)]
    pub fn share_recover(&self, channels: Option<Vec<String>>) {
        self.update(|i| i.rt.share_recover(now(), channels.as_deref()));
    }

    /// `{ seen: { channel: seq }, ledBefore }`: what this tab announces to a tab that joins.
    #[wasm_bindgen(js_name = shareState)]
    pub fn share_state(&self) -> JsValue {
        let i = self.inner.borrow();
        let o = Object::new();
        if let Some(s) = i.rt.share() {
            let _ = Reflect::set(&o, &"seen".into(), &to_js(s.seen()));
            let _ = Reflect::set(&o, &"ledBefore".into(), &s.led_before().into());
        }
        o.into()
    }

    /// Another tab's `shareState()`.
    #[wasm_bindgen(js_name = shareMerge)]
    pub fn share_merge(&self, state: JsValue) {
        let Ok(v) = from_js(&state) else { return };
        let led = v.get("ledBefore").and_then(serde_json::Value::as_bool).unwrap_or(false);
        let seen: Vec<(String, u64)> = v
            .get("seen")
            .and_then(serde_json::Value::as_object)
            .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_u64()?))).collect())
            .unwrap_or_default();
        self.update(|i| i.rt.share_merge_seen(seen, led));
    }
}

/// Hands one message for the other tabs to the shim's `share` handler:
/// `{ t: 'frame', text }`, `{ t: 'status', status }` or `{ t: 'recover', channels: string[] | null }`.
pub(super) fn deliver(h: &Handlers, m: Shared) {
    let Some(f) = &h.share else { return };
    let o = Object::new();
    let set = |k: &str, v: &JsValue| {
        let _ = Reflect::set(&o, &k.into(), v);
    };
    match m {
        Shared::Frame(text) => {
            set("t", &"frame".into());
            set("text", &text.into());
        }
        Shared::Status(s) => {
            set("t", &"status".into());
            set("status", &s.as_str().into());
        }
        Shared::Recover(chs) => {
            set("t", &"recover".into());
            let v = match chs {
                Some(c) => c.iter().map(JsValue::from).collect::<js_sys::Array>().into(),
                None => JsValue::NULL,
            };
            set("channels", &v);
        }
    }
    let _ = f.call1(&JsValue::NULL, &o);
}
