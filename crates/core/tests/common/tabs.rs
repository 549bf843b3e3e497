//! Several tabs' `Realtime`s on one virtual clock, wired the way `js/share.js` wires them over a
//! BroadcastChannel: a tab's `Output::Share` goes to every other tab's `share_*` input, and a tab's
//! channel change is announced to the others with `share_channels`. Every plan is recorded as
//! applied (the shim). The one home of this harness for share.rs and share_connector.rs; who leads
//! is each test's input, as it is the election's.

use querywire_core::share::Shared;
use querywire_core::{Millis, Output, Realtime};

pub struct Tab {
    pub id: String,
    pub rt: Realtime,
    /// Everything this tab's machine produced, in order.
    pub out: Vec<Output>,
    /// A crashed tab: it still exists but sends, receives and runs nothing.
    pub gone: bool,
}

impl Tab {
    pub fn new(id: impl Into<String>, rt: Realtime) -> Tab {
        Tab { id: id.into(), rt, out: Vec::new(), gone: false }
    }
}

pub struct Browser {
    pub tabs: Vec<Tab>,
    pub now: Millis,
}

impl Browser {
    /// Drains every live tab and delivers what crosses between tabs until nothing moves.
    pub fn pump(&mut self) {
        loop {
            let mut bus: Vec<(usize, Shared)> = Vec::new();
            let mut announce: Vec<(usize, Vec<String>)> = Vec::new();
            for (i, t) in self.tabs.iter_mut().enumerate().filter(|(_, t)| !t.gone) {
                while let Some(o) = t.rt.poll_output() {
                    match &o {
                        Output::Plan(p) => {
                            t.rt.engine_mut().record_applied(p.invalidate.len() as u64, p.patch.len() as u64)
                        }
                        Output::Share(Shared::LocalChannels) => {
                            announce.push((i, t.rt.views().channels().into_iter().collect()))
                        }
                        Output::Share(Shared::Connection(..)) => {} // for this tab's shim alone
                        Output::Share(m) => bus.push((i, m.clone())),
                        _ => {}
                    }
                    t.out.push(o);
                }
            }
            if bus.is_empty() && announce.is_empty() {
                return;
            }
            let now = self.now;
            for (from, chs) in announce {
                let id = self.tabs[from].id.clone();
                for (j, t) in self.tabs.iter_mut().enumerate().filter(|(_, t)| !t.gone) {
                    if j != from {
                        t.rt.share_channels(now, &id, chs.clone());
                    }
                }
            }
            for (from, m) in bus {
                for (j, t) in self.tabs.iter_mut().enumerate().filter(|(_, t)| !t.gone) {
                    if j == from {
                        continue;
                    }
                    match &m {
                        Shared::Frame(text) => {
                            let _ = t.rt.share_frame(now, text);
                        }
                        Shared::Status(s) => t.rt.share_status(now, *s),
                        Shared::Recover(chs) => t.rt.share_recover(now, chs.as_deref()),
                        Shared::Position(ch, pos) => t.rt.share_position(now, ch, pos.clone()),
                        Shared::LocalChannels | Shared::Connection(..) => {}
                    }
                }
            }
        }
    }

    /// Runs every live tab's timers up to `now + ms`, pumping between them.
    pub fn advance(&mut self, ms: Millis) {
        let end = self.now + ms;
        loop {
            self.pump();
            let next = self.tabs.iter().filter(|t| !t.gone).filter_map(|t| t.rt.poll_timeout()).min();
            match next {
                Some(d) if d <= end => {
                    self.now = self.now.max(d);
                    let now = self.now;
                    for t in self.tabs.iter_mut().filter(|t| !t.gone) {
                        if t.rt.poll_timeout().is_some_and(|x| x <= now) {
                            t.rt.handle_timeout(now);
                        }
                    }
                }
                _ => break,
            }
        }
        self.now = end;
        self.pump();
    }
}
