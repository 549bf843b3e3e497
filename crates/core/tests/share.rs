//! One connection per browser (`shareConnection`), the core's side: several tabs' `Realtime`s on one
//! virtual clock, wired the way `js/share.js` wires them over a BroadcastChannel (a leader's
//! `Output::Share` goes to every follower's `share_*` input; a tab's channel change is announced to
//! the others with `share_channels`). Who leads is the test's input, as it is the election's.

use querywire_core::link::{Status, Transport};
use querywire_core::share::Role;
use querywire_core::views::View;
use querywire_core::{Output, Realtime};
use serde_json::{json, Value};

mod common;
use common::realtime::{connects, invalidated, refetched, sent};
use common::tabs::{Browser, Tab};

fn frame(channel: &str, seq: u64, chg: u64, row: u64, factory: &str) -> String {
    json!({ "channel": channel, "seq": seq, "payload": {
        "type": "realtime", "entity": "wo", "action": "update",
        "data": { "id": row, "factory_id": factory, "title": "x" }, "timestamp": "t", "id": format!("chg-{chg}") } })
    .to_string()
}

impl Browser {
    /// `n` tabs, each sharing, each subscribed to `views(i)` and connected (tab 0 leads).
    fn new(n: usize, scope: impl Fn(usize) -> &'static str, views: impl Fn(usize) -> Vec<View>) -> Browser {
        let mut b = Browser { tabs: Vec::new(), now: 0 };
        for i in 0..n {
            let opts = json!({ "debounceMs": 0, "patch": false, "scope": { "factoryId": scope(i) } });
            let mut rt = Realtime::new(0, &opts).expect("options");
            rt.share_role(0, Role::Follower);
            for v in views(i) {
                rt.subscribe(0, v);
            }
            rt.connect(0, Transport::Ws, &json!({})).expect("connect");
            b.tabs.push(Tab::new(format!("t{i}"), rt));
        }
        b.settle();
        b.tabs[0].rt.share_role(b.now, Role::Leader);
        b.settle();
        b
    }

    fn leader(&self) -> usize {
        self.tabs.iter().position(|t| t.rt.is_share_leader()).expect("a leader")
    }

    /// Tab `i` goes (closed or crashed: it sends nothing more) and every other tab forgets it.
    fn close(&mut self, i: usize) {
        let gone = self.tabs.remove(i);
        let now = self.now;
        for t in &mut self.tabs {
            t.rt.share_forget(now, &gone.id);
        }
    }

    /// The leader (tab 0) connects, sees one change as a frame at each (channel, seq), then goes;
    /// outputs so far are cleared.
    fn leader_goes_after(&mut self, frames: &[(&str, u64)]) {
        self.open();
        for (channel, seq) in frames {
            self.server(&frame(channel, *seq, 1, 1, "f1"));
        }
        self.advance(1_000);
        self.clear();
        self.close(0);
    }

    fn settle(&mut self) {
        self.advance(0);
    }

    fn take(&mut self, i: usize) -> Vec<Output> {
        std::mem::take(&mut self.tabs[i].out)
    }

    fn clear(&mut self) {
        for t in &mut self.tabs {
            t.out.clear();
        }
    }

    /// The leader's transport delivers `text`.
    fn server(&mut self, text: &str) {
        let l = self.leader();
        let now = self.now;
        let _ = self.tabs[l].rt.transport_frame(now, text);
        self.pump();
    }

    fn open(&mut self) {
        let l = self.leader();
        let now = self.now;
        self.tabs[l].rt.transport_open(now);
        self.pump();
    }
}

fn subscribed(out: &[Output]) -> Vec<String> {
    let mut chs: Vec<String> = sent(out)
        .iter()
        .filter(|f| f["type"] == "subscribe")
        .flat_map(|f| f["channels"].as_array().cloned().unwrap_or_default())
        .filter_map(|c| c.as_str().map(str::to_string))
        .collect();
    chs.sort();
    chs
}

fn three_tabs() -> Browser {
    Browser::new(3, |_| "f1", |i| vec![View::doc("wo", (i + 1).to_string())])
}

#[test]
fn only_the_leader_connects_and_it_subscribes_the_union_of_every_tabs_channels() {
    let mut b = three_tabs();
    assert_eq!(connects(&b.take(0)), 1);
    assert_eq!(connects(&b.take(1)) + connects(&b.take(2)), 0, "followers open nothing");
    b.open();
    assert_eq!(subscribed(&b.take(0)), vec!["doc:wo:1", "doc:wo:2", "doc:wo:3", "factory:f1"]);
    for i in 0..3 {
        assert_eq!(b.tabs[i].rt.status(), Status::Connected, "tab {i}: the leader's status");
    }
}

#[test]
fn a_channel_closes_when_the_last_tab_that_needs_it_lets_go() {
    let mut b = Browser::new(2, |_| "f1", |_| vec![View::doc("wo", "7")]);
    b.open();
    b.clear();
    // Tab 1 closes its view: doc:wo:7 stays, tab 0 still needs it.
    let h = 1; // the first view handle of a fresh Realtime
    let now = b.now;
    b.tabs[1].rt.unsubscribe(now, h);
    b.settle();
    assert!(sent(&b.take(0)).iter().all(|f| f["type"] != "unsubscribe"), "still needed by the leader");
    // The other way round: the leader closes it while tab 1 opened another doc.
    b.tabs[1].rt.subscribe(now, View::doc("wo", "8"));
    b.settle();
    assert_eq!(subscribed(&b.take(0)), vec!["doc:wo:8"]);
    b.tabs[0].rt.unsubscribe(now, 1);
    b.settle();
    let unsub: Vec<Value> = sent(&b.take(0)).into_iter().filter(|f| f["type"] == "unsubscribe").collect();
    assert_eq!(unsub, vec![json!({ "type": "unsubscribe", "channels": ["doc:wo:7"] })]);
    // A tab that goes away releases what only it needed.
    b.tabs[0].rt.share_forget(now, "t1");
    b.settle();
    let unsub: Vec<Value> = sent(&b.take(0)).into_iter().filter(|f| f["type"] == "unsubscribe").collect();
    assert_eq!(unsub.len(), 1);
    assert_eq!(unsub[0]["channels"].as_array().map(Vec::len), Some(2), "doc:wo:8 and factory:f1: {unsub:?}");
}

#[test]
fn a_forwarded_frame_reaches_each_tab_with_its_own_views_once() {
    let mut b = three_tabs();
    b.open();
    b.clear();
    // Row 2 changed: the server sends it on doc:wo:2 and factory:f1 (same change id).
    b.server(&frame("doc:wo:2", 1, 10, 2, "f1"));
    b.server(&frame("factory:f1", 1, 10, 2, "f1"));
    b.settle();
    for i in 0..3 {
        let inv = invalidated(&b.take(i));
        let stats = b.tabs[i].rt.engine().stats();
        if i == 1 {
            assert_eq!(inv, vec![json!(["doc", "wo", "2"])], "tab 1 views doc 2");
            assert_eq!(stats.dropped.duplicate, 1, "the factory copy");
        } else {
            // Tabs 0 and 2 do not view doc 2: only the factory copy is theirs (its doc key does
            // not hurt a cache that does not hold it).
            assert_eq!(inv, vec![json!(["doc", "wo", "2"])], "tab {i}");
            assert_eq!(stats.received, 1, "tab {i} applies only frames on its own channels");
        }
    }
}

#[test]
fn tabs_with_different_scopes_apply_only_their_own_tenant() {
    let mut b = Browser::new(2, |i| if i == 0 { "f1" } else { "f2" }, |_| vec![View::list("wo")]);
    b.open();
    b.clear();
    b.server(&frame("list:wo:f2", 1, 1, 5, "f2"));
    b.server(&frame("factory:f2", 1, 1, 5, "f2"));
    b.settle();
    assert!(invalidated(&b.take(0)).is_empty(), "the f1 leader applies nothing of f2");
    assert_eq!(b.tabs[0].rt.engine().stats().received, 0);
    assert!(!invalidated(&b.take(1)).is_empty(), "the f2 tab gets its change");
}

#[test]
fn a_takeover_resubscribes_from_the_last_seq_and_refetches_only_what_was_not_replayed() {
    // Tab 0 views doc 1, tab 1 doc 2, tab 2 doc 3; frames on doc:wo:1 and factory:f1 were seen.
    let mut b = three_tabs();
    // The leader tab goes (closed or crashed: it sends nothing more); tab 1 wins the lock.
    b.leader_goes_after(&[("doc:wo:1", 4), ("factory:f1", 9)]);
    let now = b.now;
    b.tabs[0].rt.share_role(now, Role::Leader);
    b.settle();
    assert_eq!(b.tabs[0].rt.status(), Status::Reconnecting);
    assert_eq!(b.tabs[1].rt.status(), Status::Reconnecting, "followers show the new leader's status");
    assert_eq!(connects(&b.take(0)), 1);
    b.open();
    let out = b.take(0);
    let sub = sent(&out).into_iter().find(|f| f["type"] == "subscribe").expect("a subscribe");
    assert_eq!(sub["channels"], json!(["doc:wo:2", "doc:wo:3", "factory:f1"]), "doc:wo:1 left with its tab");
    assert_eq!(sub["since"], json!({ "factory:f1": 9 }), "the seq every tab saw");
    // doc:wo:2 and doc:wo:3 had no seq: nothing can replay them, their views refetch at once.
    // factory:f1 is replayed, with the change made during the handover.
    b.server(&json!({ "type": "recovered", "channel": "factory:f1", "ok": true }).to_string());
    b.server(&frame("factory:f1", 10, 2, 50, "f1"));
    b.advance(1_000);
    let (lead, follow) = (b.take(0), b.take(1));
    assert_eq!(refetched(&lead), vec![json!(["doc", "wo", "2"])], "the new leader: its own view, once");
    assert_eq!(refetched(&follow), vec![json!(["doc", "wo", "3"])], "the follower: its own view, once");
    assert_eq!(invalidated(&follow), vec![json!(["doc", "wo", "50"])], "the replayed change reaches the follower");
    assert_eq!(b.tabs[1].rt.engine().stats().received, 2, "the factory frame before the handover, the replayed one");
    assert_eq!(b.tabs[1].rt.status(), Status::Connected);
}

#[test]
fn a_failed_replay_refetches_each_affected_view_once_per_tab() {
    let mut b = Browser::new(2, |_| "f1", |_| vec![View::list("wo")]);
    b.leader_goes_after(&[("list:wo:f1", 3), ("factory:f1", 3)]);
    let now = b.now;
    // A third tab joins late (it saw none of the frames): the tab already there tells it.
    let mut late = Realtime::new(now, &json!({ "debounceMs": 0, "scope": { "factoryId": "f1" } })).unwrap();
    late.share_role(now, Role::Follower);
    late.subscribe(now, View::list("wo"));
    late.connect(now, Transport::Ws, &json!({})).unwrap();
    let seen: Vec<(String, u64)> = b.tabs[0].rt.share().unwrap().seen().to_vec();
    late.share_merge_seen(seen, true);
    b.tabs.push(Tab::new("t9", late));
    b.settle();
    b.tabs[1].rt.share_role(b.now, Role::Leader); // the late tab leads
    b.settle();
    b.open();
    let sub = sent(&b.take(1)).into_iter().find(|f| f["type"] == "subscribe").expect("a subscribe");
    assert_eq!(sub["since"], json!({ "factory:f1": 3, "list:wo:f1": 3 }));
    b.server(&json!({ "type": "recovered", "channel": "list:wo:f1", "ok": false }).to_string());
    b.server(&json!({ "type": "recovered", "channel": "factory:f1", "ok": false }).to_string());
    b.advance(1_000);
    for i in 0..2 {
        assert_eq!(refetched(&b.take(i)), vec![json!(["list", "wo", "f1"])], "tab {i}: once");
    }
}

#[test]
fn a_gap_the_leader_sees_refetches_the_followers_views_too() {
    let mut b = Browser::new(2, |_| "f1", |i| vec![View::doc("wo", (i + 1).to_string())]);
    b.open();
    b.server(&frame("doc:wo:2", 1, 1, 99, "f1"));
    b.server(&frame("doc:wo:2", 5, 2, 99, "f1"));
    b.advance(1_000);
    assert!(refetched(&b.take(0)).is_empty(), "the leader does not view doc 2");
    assert_eq!(refetched(&b.take(1)), vec![json!(["doc", "wo", "2"])]);
}

#[test]
fn a_hidden_leader_handing_over_closes_its_transport_and_follows() {
    let mut b = Browser::new(2, |_| "f1", |_| vec![View::list("wo")]);
    b.open();
    b.server(&frame("list:wo:f1", 2, 1, 1, "f1"));
    b.settle();
    b.clear();
    let now = b.now;
    b.tabs[0].rt.share_role(now, Role::Follower);
    b.tabs[1].rt.share_role(now, Role::Leader);
    b.settle();
    let old = b.take(0);
    assert!(old.contains(&Output::Close));
    assert_eq!(connects(&b.take(1)), 1);
    b.open();
    let sub = sent(&b.take(1)).into_iter().find(|f| f["type"] == "subscribe").expect("a subscribe");
    assert_eq!(sub["since"], json!({ "list:wo:f1": 2 }));
    assert_eq!(b.tabs[0].rt.status(), Status::Connected);
    // The old leader now applies forwarded frames.
    b.server(&frame("list:wo:f1", 3, 2, 1, "f1"));
    b.settle();
    assert!(!invalidated(&b.take(0)).is_empty());
}

#[test]
fn without_sharing_nothing_is_forwarded() {
    let mut rt = Realtime::new(0, &json!({})).unwrap();
    rt.subscribe(0, View::list("wo"));
    rt.connect(0, Transport::Ws, &json!({})).unwrap();
    rt.handle_timeout(0);
    rt.transport_open(0);
    let _ = rt.transport_frame(0, &frame("list:wo:f1", 1, 1, 1, "f1"));
    // Inputs from other tabs do nothing without the option.
    rt.share_channels(0, "x", vec!["doc:a:1".to_string()]);
    let _ = rt.share_frame(0, &frame("list:wo:f1", 2, 2, 1, "f1"));
    let mut outs = Vec::new();
    while let Some(o) = rt.poll_output() {
        outs.push(o);
    }
    assert!(outs.iter().all(|o| !matches!(o, Output::Share(_))));
    assert!(!subscribed(&outs).contains(&"doc:a:1".to_string()), "{:?}", subscribed(&outs));
    assert_eq!(rt.engine().stats().received, 1);
}

#[test]
fn the_seq_of_a_channel_no_tab_subscribes_any_more_is_forgotten() {
    let mut b = Browser::new(2, |_| "f1", |i| vec![View::doc("wo", (i + 1).to_string())]);
    b.open();
    b.server(&frame("doc:wo:2", 3, 1, 2, "f1"));
    b.settle();
    assert_eq!(b.tabs[0].rt.share().unwrap().seen_seq("doc:wo:2"), Some(3));
    let now = b.now;
    b.tabs[1].rt.unsubscribe(now, 1);
    b.settle();
    for i in 0..2 {
        assert_eq!(b.tabs[i].rt.share().unwrap().seen_seq("doc:wo:2"), None, "tab {i}");
    }
}
