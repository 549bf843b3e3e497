//! `shareConnection` (one connection per browser) across the boundary: the shim's election result
//! and what other tabs sent go in, what this tab must hand the other tabs comes out through the
//! `share(message)` handler. The messages' shape on the BroadcastChannel is `js/share.js`'s
//! (docs/SHARING.md); nothing here decides anything.

use super::WasmRealtime;
use crate::clock::now;
use crate::driver::{self, run};
use crate::interop::{uint, ShareState};
use js_sys::{Function, Object, Reflect};
use querywire_core::connector::Position;
use querywire_core::link::Status;
use querywire_core::share::{Role, Shared};
use wasm_bindgen::prelude::*;

/// By hand, not serde: a `Deserialize` call pulls serde's error texts into the module (docs/SIZE.md).
fn status_of(s: &str) -> Option<Status> {
    use Status::*;
    [Connecting, Connected, Reconnecting, Disconnected, Polling, Error].into_iter().find(|x| x.as_str() == s)
}

#[wasm_bindgen]
impl WasmRealtime {
    /// A frame the leader forwarded, as its transport received it.
    #[wasm_bindgen(js_name = shareFrame)]
    pub fn share_frame(&self, text: &str) {
        run(&self.inner, |i| {
            if let Err(e) = i.rt.share_frame(now(), text) {
                driver::report(i, e);
            }
        });
    }

    /// A payload a connector's client delivered on `channel` while sharing (`port.ingest`): the
    /// core forwards it (leader) and applies it if the channel is this tab's. `seq`: its offset
    /// in the channel's stream (a Centrifugo publication's), or undefined. Never throws.
    #[wasm_bindgen(js_name = connectorIngest)]
    pub fn connector_ingest(&self, channel: &str, source: &str, text: &str, seq: Option<f64>) {
        let seq = seq.and_then(uint);
        run(&self.inner, |i| {
            if let Err(e) = i.rt.connector_ingest(now(), channel, seq, source, text) {
                driver::report(i, e);
            }
        });
    }
}

/// The sharing calls behind `command` (src/engine.rs).
impl WasmRealtime {
    /// `{ seen: { channel: seq }, epochs: { channel: epoch }, ledBefore }`: what this tab announces
    /// to a tab that joins.
    pub(super) fn share_state(&self) -> JsValue {
        let i = self.inner.borrow();
        let o = Object::new();
        if let Some(s) = i.rt.share() {
            let seen = Object::new();
            for (ch, seq) in s.seen() {
                let _ = Reflect::set(&seen, &ch.into(), &(*seq as f64).into());
            }
            let _ = Reflect::set(&o, &"seen".into(), &seen);
            let epochs = Object::new();
            for (ch, epoch) in s.epochs() {
                let _ = Reflect::set(&epochs, &ch.into(), &epoch.into());
            }
            let _ = Reflect::set(&o, &"epochs".into(), &epochs);
            let _ = Reflect::set(&o, &"ledBefore".into(), &s.led_before().into());
        }
        o.into()
    }

    /// The election's verdict: `'leader'` or `'follower'`. The first call turns sharing on.
    pub(super) fn share_role(&self, role: &str) {
        if let Some(r) = Role::parse(role) {
            run(&self.inner, |i| i.rt.share_role(now(), r));
        }
    }

    /// Another tab's channel set (empty: it needs none).
    pub(super) fn share_channels(&self, tab: &str, channels: Vec<String>) {
        run(&self.inner, |i| i.rt.share_channels(now(), tab, channels));
    }

    /// Another tab is gone.
    pub(super) fn share_forget(&self, tab: &str) {
        run(&self.inner, |i| i.rt.share_forget(now(), tab));
    }

    /// The connector attached as `id` is shared (`connectSupabase`, `connectCentrifuge`): only the
    /// leader's opens channels. `client`: its client has a connection of its own (centrifuge-js),
    /// connected and disconnected by role through `{ t: 'connection' }` messages.
    pub(super) fn share_connector(&self, id: u32, client: bool) {
        run(&self.inner, |i| i.rt.share_connector(now(), id, client));
    }

    /// A stream position `{offset, epoch}`: one of this tab's connector's channels joined at it
    /// (centrifuge-js `streamPosition`, `port.joined`), or the leader forwarded one
    /// (`{ t: 'position' }`). Kept for a takeover's `since`; the leader hands its own on.
    pub(super) fn share_position(&self, channel: &str, offset: f64, epoch: &str) {
        if let Some(offset) = uint(offset) {
            let pos = Position { offset, epoch: epoch.to_owned() };
            run(&self.inner, |i| i.rt.share_position(now(), channel, pos));
        }
    }

    /// The leader's connection status.
    pub(super) fn share_status(&self, status: &str) {
        if let Some(s) = status_of(status) {
            run(&self.inner, |i| i.rt.share_status(now(), s));
        }
    }

    /// A recovery outcome the leader forwarded: the channels, or `None` (`undefined`/`null`): every channel.
    pub(super) fn share_recover(&self, channels: Option<Vec<String>>) {
        run(&self.inner, |i| i.rt.share_recover(now(), channels.as_deref()));
    }

    /// Another tab's `shareState()` (`interop::Args::share_state`): seqs, epochs, `ledBefore`.
    pub(super) fn share_merge(&self, state: ShareState) {
        run(&self.inner, |i| {
            i.rt.share_merge_seen(state.seen, state.led_before);
            i.rt.share_merge_epochs(state.epochs);
        });
    }
}

/// Hands one message for the other tabs (or, `channels`, news for this tab's shim) to the shim's
/// `share` handler, called with no borrow held (`driver.rs`):
/// `{ t: 'frame', text }`, `{ t: 'status', status }`, `{ t: 'recover', channels: string[] | null }`,
/// `{ t: 'position', channel, offset, epoch }`; for this tab's shim `{ t: 'channels' }` or
/// `{ t: 'connection', id, up }`.
pub(crate) fn share_message(f: &Function, m: Shared) {
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
        Shared::Position(channel, pos) => {
            set("t", &"position".into());
            set("channel", &channel.into());
            set("offset", &(pos.offset as f64).into());
            set("epoch", &pos.epoch.into());
        }
        Shared::LocalChannels => set("t", &"channels".into()),
        Shared::Connection(id, up) => {
            set("t", &"connection".into());
            set("id", &id.into());
            set("up", &up.into());
        }
    }
    let _ = f.call1(&JsValue::NULL, &o);
}
