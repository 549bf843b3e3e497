//! The composed machine (`Realtime`) on a virtual clock, playing the glue and the shim: every output
//! is kept with the time it came out, every plan is recorded as applied, and the clock jumps from
//! deadline to deadline. Nothing sleeps. The one home of this harness for the `Realtime` tests
//! (realtime_wire.rs, connector.rs, link_connectors.rs) and of the output readers (also share.rs).

use super::{fire_next, Clocked};
use querywire_core::connector::{ChannelFact, ClientState};
use querywire_core::link::Status;
use querywire_core::{Millis, Output, Realtime};
use serde_json::Value;

impl Clocked for Realtime {
    fn deadline(&self) -> Option<Millis> {
        self.poll_timeout()
    }
    fn fire(&mut self, now: Millis) {
        self.handle_timeout(now)
    }
}

pub struct Rt {
    pub rt: Realtime,
    pub now: Millis,
    /// The outputs since the last `take`, in order.
    pub out: Vec<Output>,
    /// When each of `out` came out.
    pub at: Vec<Millis>,
    /// Every channel an `Output::OpenChannel` named, in order (kept across `take`).
    pub channels: Vec<String>,
    /// The connector `fact`, `all` and `client` report for.
    pub id: u32,
}

impl Rt {
    pub fn new(opts: Value) -> Rt {
        let mut h = Rt {
            rt: Realtime::new(0, &opts).expect("options"),
            now: 0,
            out: vec![],
            at: vec![],
            channels: vec![],
            id: 0,
        };
        h.drain();
        h
    }

    pub fn drain(&mut self) {
        while let Some(o) = self.rt.poll_output() {
            match &o {
                Output::OpenChannel(_, spec) => self.channels.push(spec.name.clone()),
                // Play the shim: every invalidation and patch is applied.
                Output::Plan(p) => self.rt.engine_mut().record_applied(p.invalidate.len() as u64, p.patch.len() as u64),
                _ => {}
            }
            self.out.push(o);
            self.at.push(self.now);
        }
    }

    /// Jumps the clock from deadline to deadline up to `now + ms`.
    pub fn advance(&mut self, ms: Millis) {
        self.advance_to(self.now + ms);
    }

    /// Jumps the clock from deadline to deadline up to `end` (inclusive), then sets it to `end`
    /// (never backwards).
    pub fn advance_to(&mut self, end: Millis) {
        while fire_next(&mut self.rt, &mut self.now, end) {
            self.drain();
        }
        self.now = self.now.max(end);
    }

    /// Our own transport delivers the frame `v`.
    pub fn frame(&mut self, v: Value) {
        let _ = self.rt.transport_frame(self.now, &v.to_string());
        self.drain();
    }

    /// The connector reports `fact` for `channel` now.
    pub fn fact(&mut self, channel: &str, fact: ChannelFact) {
        self.rt.connector_channel(self.now, self.id, channel, fact);
        self.drain();
    }

    /// Every channel the connector was told to open reports `fact` now (one socket: they go down
    /// and come back together).
    pub fn all(&mut self, fact: ChannelFact) {
        for ch in self.channels.clone() {
            self.rt.connector_channel(self.now, self.id, &ch, fact);
        }
        self.drain();
    }

    /// The connector's client reports `state` now.
    pub fn client(&mut self, state: ClientState) {
        self.rt.connector_client(self.now, self.id, state);
        self.drain();
    }

    /// The outputs since the last `take` (to look only at what happens next).
    pub fn take(&mut self) -> Vec<Output> {
        self.at.clear();
        std::mem::take(&mut self.out)
    }

    /// The outputs since the last `take`, each with its time.
    pub fn timed(&self) -> impl Iterator<Item = (Millis, &Output)> {
        self.at.iter().copied().zip(&self.out)
    }
}

/// The frames sent on our own transport, parsed.
pub fn sent(out: &[Output]) -> Vec<Value> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send(s) => serde_json::from_str(s).ok(),
            _ => None,
        })
        .collect()
}

fn plan_keys(out: &[Output], keys: impl Fn(&querywire_core::FlushPlan) -> Vec<Value>) -> Vec<Value> {
    out.iter()
        .filter_map(|o| match o {
            Output::Plan(p) => Some(keys(p)),
            _ => None,
        })
        .flatten()
        .collect()
}

/// The query keys refetched, in order.
pub fn refetched(out: &[Output]) -> Vec<Value> {
    plan_keys(out, |p| p.refetch.iter().map(|r| super::key(p, &r.key)).collect())
}

/// The query keys invalidated, in order.
pub fn invalidated(out: &[Output]) -> Vec<Value> {
    plan_keys(out, |p| p.invalidate.iter().map(|r| super::key(p, &r.key)).collect())
}

/// Channel names opened, in order.
pub fn opened(out: &[Output]) -> Vec<String> {
    out.iter().filter_map(|o| if let Output::OpenChannel(_, s) = o { Some(s.name.clone()) } else { None }).collect()
}

/// Channel names closed, in order.
pub fn closed(out: &[Output]) -> Vec<String> {
    out.iter().filter_map(|o| if let Output::CloseChannel(_, n) = o { Some(n.clone()) } else { None }).collect()
}

/// Statuses reported, in order.
pub fn statuses(out: &[Output]) -> Vec<Status> {
    out.iter().filter_map(|o| if let Output::Status(s) = o { Some(*s) } else { None }).collect()
}

/// How many times our own transport was told to connect.
pub fn connects(out: &[Output]) -> usize {
    out.iter().filter(|o| matches!(o, Output::Connect)).count()
}
