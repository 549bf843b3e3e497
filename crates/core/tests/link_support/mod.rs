//! A fake clock and a fake transport for driving a `Link` in tests: nothing sleeps, time jumps to
//! `poll_timeout()` (quinn's `Pair`, str0m's `progress`).
#![allow(dead_code)]

use querywire_core::link::{Link, LinkConfig, LinkOutput, Millis, RecoverScope, Status, Transport};

/// How the fake server answers a `Connect`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Server {
    /// Accepts at once.
    Up,
    /// Refuses at once (close without a code).
    Down,
    /// Closes with this code at once.
    Closes(u16),
    /// Never answers (the attempt hangs).
    Silent,
}

pub struct Harness {
    pub link: Link,
    pub now: Millis,
    pub log: Vec<(Millis, LinkOutput)>,
    pub server: Server,
    pub answer_pings: bool,
}

impl Harness {
    pub fn new(cfg: LinkConfig) -> Harness {
        Harness { link: Link::new(cfg), now: 0, log: Vec::new(), server: Server::Up, answer_pings: true }
    }

    pub fn ws(seed: u64) -> Harness {
        Harness::new(LinkConfig { seed, ..LinkConfig::default() })
    }

    pub fn sse(seed: u64) -> Harness {
        Harness::new(LinkConfig { seed, transport: Transport::Sse, ..LinkConfig::default() })
    }

    /// Drains outputs into the log, answering them as the fake server would.
    pub fn pump(&mut self) {
        while let Some(out) = self.link.poll_output() {
            self.log.push((self.now, out.clone()));
            match out {
                LinkOutput::Connect => match self.server {
                    Server::Up => self.link.handle_open(self.now),
                    Server::Down => self.link.handle_close(self.now, None),
                    Server::Closes(code) => self.link.handle_close(self.now, Some(code)),
                    Server::Silent => {}
                },
                LinkOutput::Send(text) if self.answer_pings && text.contains("\"ping\"") => {
                    self.link.handle_frame(self.now)
                }
                _ => {}
            }
        }
    }

    /// Runs an input at the current time and pumps.
    pub fn act(&mut self, f: impl FnOnce(&mut Link, Millis)) {
        f(&mut self.link, self.now);
        self.pump();
    }

    /// Jumps to each deadline up to `t` (inclusive), then sets the clock to `t`.
    pub fn advance_to(&mut self, t: Millis) {
        while let Some(at) = self.link.poll_timeout() {
            if at > t {
                break;
            }
            self.now = self.now.max(at);
            self.link.handle_timeout(self.now);
            if let Some(next) = self.link.poll_timeout() {
                assert!(next > self.now, "deadline {next} not after now {}", self.now);
            }
            // The fake server answers at the same instant, which may schedule something for `now`.
            self.pump();
        }
        self.now = self.now.max(t);
    }

    pub fn advance_by(&mut self, d: Millis) {
        self.advance_to(self.now + d);
    }

    /// Clears the log (to look only at what happens next).
    pub fn take_log(&mut self) -> Vec<(Millis, LinkOutput)> {
        std::mem::take(&mut self.log)
    }

    pub fn times_of(&self, pred: impl Fn(&LinkOutput) -> bool) -> Vec<Millis> {
        self.log.iter().filter(|(_, o)| pred(o)).map(|(t, _)| *t).collect()
    }

    pub fn connects(&self) -> Vec<Millis> {
        self.times_of(|o| *o == LinkOutput::Connect)
    }

    pub fn polls(&self) -> Vec<Millis> {
        self.times_of(|o| *o == LinkOutput::Poll)
    }

    pub fn recovers(&self) -> Vec<RecoverScope> {
        self.log
            .iter()
            .filter_map(|(_, o)| match o {
                LinkOutput::Recover(s) => Some(s.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn statuses(&self) -> Vec<Status> {
        self.log
            .iter()
            .filter_map(|(_, o)| match o {
                LinkOutput::Status(s) => Some(*s),
                _ => None,
            })
            .collect()
    }

    pub fn sent(&self) -> Vec<serde_json::Value> {
        self.log
            .iter()
            .filter_map(|(_, o)| match o {
                LinkOutput::Send(t) => Some(serde_json::from_str(t).expect("frames are JSON")),
                _ => None,
            })
            .collect()
    }

    /// Connects to an up server with these channels and returns with an empty log.
    pub fn connected_with(&mut self, channels: &[&str]) {
        self.act(|l, now| l.set_channels(now, channels.iter().map(|c| c.to_string())));
        self.act(|l, now| l.connect(now));
        assert_eq!(self.link.status(), Status::Connected);
        self.take_log();
    }
}

pub fn channels(names: &[&str]) -> Vec<String> {
    names.iter().map(|c| c.to_string()).collect()
}
