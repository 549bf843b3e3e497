//! `shareConnection` with a connector whose client has a connection of its own (centrifuge-js,
//! `connectCentrifuge`): the core holds that connection by role (connected in the leader tab only,
//! a follower's disconnected even if the app connects it), every tab keeps each channel's stream
//! position `{offset, epoch}`, and a new leader subscribes from it (`since`), so a publication made
//! during the handover is replayed, not refetched. Tabs on one virtual clock, wired as
//! `js/shareSession.js` wires them.

use querywire_core::connector::{ChannelFact, ChannelSpec, ClientState, Position, Replay};
use querywire_core::share::{Role, Shared};
use querywire_core::views::View;
use querywire_core::{Output, Realtime};
use serde_json::json;

mod common;
use common::realtime::{invalidated, refetched};
use common::tabs::{Browser, Tab};

const ID: u32 = 1;

fn pos(offset: u64, epoch: &str) -> Position {
    Position { offset, epoch: epoch.into() }
}

/// A centrifuge-js publication context whose data invalidates doc `id`.
fn publication(channel: &str, offset: u64, id: &str) -> String {
    json!({ "channel": channel, "offset": offset, "data": { "event": "invalidate", "queryKey": ["doc", "wo", id] } })
        .to_string()
}

/// One tab per view list (scope f1), each sharing a centrifuge-like connector (a client of its
/// own); tab 0 leads.
fn browser(tabs: &[Vec<View>]) -> Browser {
    let mut b = Browser { tabs: Vec::new(), now: 0 };
    for (i, views) in tabs.iter().enumerate() {
        let mut rt = Realtime::new(0, &json!({ "debounceMs": 0, "patch": false, "scope": { "factoryId": "f1" } }))
            .expect("options");
        rt.share_role(0, Role::Follower);
        for v in views {
            rt.subscribe(0, v.clone());
        }
        rt.attach_connector(0, ID, vec![], None);
        rt.share_connector(0, ID, true);
        b.tabs.push(Tab::new(format!("t{i}"), rt));
    }
    b.advance(1);
    b.tabs[0].rt.share_role(b.now, Role::Leader);
    b.advance(1);
    b
}

/// Connection verdicts tab `i`'s shim was given, in order.
fn connections(b: &Browser, i: usize) -> Vec<bool> {
    b.tabs[i]
        .out
        .iter()
        .filter_map(|o| if let Output::Share(Shared::Connection(ID, up)) = o { Some(*up) } else { None })
        .collect()
}

fn opened(b: &Browser, i: usize) -> Vec<ChannelSpec> {
    let mut v: Vec<ChannelSpec> = b.tabs[i]
        .out
        .iter()
        .filter_map(|o| if let Output::OpenChannel(_, s) = o { Some(s.clone()) } else { None })
        .collect();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    v
}

fn statuses(out: &[Output]) -> Vec<String> {
    out.iter().filter_map(|o| if let Output::Status(s) = o { Some(s.as_str().to_string()) } else { None }).collect()
}

/// The leader's client connects and joins every channel it was told to open, each at `positions`.
fn join(b: &mut Browser, i: usize, replay: Replay, positions: &[(&str, Position)]) {
    let now = b.now;
    let rt = &mut b.tabs[i].rt;
    rt.connector_client(now, ID, ClientState::Connected);
    for s in opened(b, i) {
        let rt = &mut b.tabs[i].rt;
        if let Some((_, p)) = positions.iter().find(|(c, _)| *c == s.name) {
            rt.share_position(now, &s.name, p.clone());
        }
        rt.connector_channel(now, ID, &s.name, ChannelFact::Joined(replay));
    }
    b.advance(1);
}

/// The leader (tab 0) goes; tab 1 takes the lock.
fn hand_over(b: &mut Browser) {
    for t in &mut b.tabs {
        t.out.clear();
    }
    b.tabs[0].gone = true;
    let now = b.now;
    for i in 1..b.tabs.len() {
        b.tabs[i].rt.share_forget(now, "t0");
    }
    b.tabs[1].rt.share_role(now, Role::Leader);
    b.advance(1);
}

#[test]
fn only_the_leaders_client_connects_and_a_follower_connected_by_the_app_is_closed_again() {
    let mut b = browser(&[vec![View::doc("wo", "1")], vec![View::doc("wo", "2")]]);
    assert_eq!(connections(&b, 0), [false, true], "the leader's client: held down as a follower, then up");
    assert_eq!(connections(&b, 1), [false], "a follower's client stays disconnected");
    assert!(opened(&b, 1).is_empty(), "and subscribes nothing");
    let names: Vec<String> = opened(&b, 0).into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["doc:wo:1", "doc:wo:2", "factory:f1"], "the union of both tabs' channels");
    assert!(opened(&b, 0).iter().all(|s| s.since.is_none()), "the first leader subscribes from now");
    // The app calls centrifuge.connect() in the follower tab anyway: the core disconnects it.
    let now = b.now;
    b.tabs[1].rt.connector_client(now, ID, ClientState::Connecting);
    b.advance(1);
    assert_eq!(connections(&b, 1), [false, false]);
    // Status is the leader's in every tab.
    join(&mut b, 0, Replay::Unknown, &[]);
    assert_eq!(b.tabs[0].rt.status().as_str(), "connected");
    assert_eq!(b.tabs[1].rt.status().as_str(), "connected");
    // The app disconnects the leader's connector: the core closes the client it connected.
    let now = b.now;
    b.tabs[0].rt.detach_connector(now, ID);
    b.advance(1);
    assert_eq!(connections(&b, 0), [false, true, false]);
}

#[test]
fn every_tab_keeps_the_position_and_a_new_leader_subscribes_from_it() {
    let mut b = browser(&[vec![View::doc("wo", "1")], vec![View::doc("wo", "1"), View::doc("wo", "2")]]);
    join(
        &mut b,
        0,
        Replay::Unknown,
        &[("doc:wo:1", pos(10, "e1")), ("doc:wo:2", pos(3, "e2")), ("factory:f1", pos(0, "e3"))],
    );
    let now = b.now;
    b.tabs[0]
        .rt
        .connector_ingest(now, "doc:wo:1", Some(11), "centrifugo", &publication("doc:wo:1", 11, "1"))
        .expect("ingest");
    b.advance(10);
    assert_eq!(invalidated(&b.tabs[0].out).len(), 1, "the leader applies its own channel's publication");
    assert_eq!(invalidated(&b.tabs[1].out).len(), 1, "the follower applies the forwarded one");
    let mut kept = b.tabs[1].rt.share().expect("shared").positions();
    kept.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(
        kept,
        [
            ("doc:wo:1".to_string(), pos(11, "e1")),
            ("doc:wo:2".to_string(), pos(3, "e2")),
            ("factory:f1".to_string(), pos(0, "e3"))
        ]
    );

    hand_over(&mut b);
    assert_eq!(connections(&b, 1), [true], "the new leader's client connects");
    let specs = opened(&b, 1);
    let since: Vec<(&str, Option<Position>)> = specs.iter().map(|s| (s.name.as_str(), s.since.clone())).collect();
    assert_eq!(
        since,
        [("doc:wo:1", Some(pos(11, "e1"))), ("doc:wo:2", Some(pos(3, "e2"))), ("factory:f1", Some(pos(0, "e3")))]
    );
    assert_eq!(statuses(&b.tabs[1].out), ["reconnecting"], "a takeover: reconnecting, not connecting");
    // The server replays what the handover missed: applied, and nothing refetched.
    join(&mut b, 1, Replay::Replayed, &[("doc:wo:1", pos(11, "e1"))]);
    let now = b.now;
    b.tabs[1]
        .rt
        .connector_ingest(now, "doc:wo:1", Some(12), "centrifugo", &publication("doc:wo:1", 12, "1"))
        .expect("ingest");
    b.advance(5_000);
    assert_eq!(invalidated(&b.tabs[1].out).len(), 1, "the publication made during the handover");
    assert!(refetched(&b.tabs[1].out).is_empty(), "recovered: no refetch");
    assert_eq!(statuses(&b.tabs[1].out), ["reconnecting", "connected"]);
    assert_eq!(
        b.tabs[1].rt.share().expect("shared").positions().into_iter().find(|(c, _)| c == "doc:wo:1"),
        Some(("doc:wo:1".into(), pos(12, "e1")))
    );
}

#[test]
fn a_handover_the_server_cannot_replay_refetches_each_view_once() {
    let mut b = browser(&[vec![View::doc("wo", "1")], vec![View::doc("wo", "1")], vec![View::doc("wo", "2")]]);
    join(&mut b, 0, Replay::Unknown, &[("doc:wo:1", pos(4, "e1")), ("factory:f1", pos(0, "e3"))]);
    hand_over(&mut b);
    let specs = opened(&b, 1);
    // doc:wo:2 never reported a position (its stream is not recoverable): it subscribes from now,
    // and its first join is a return.
    assert_eq!(specs.iter().find(|s| s.name == "doc:wo:2").and_then(|s| s.since.clone()), None);
    assert_eq!(specs.iter().find(|s| s.name == "doc:wo:1").and_then(|s| s.since.clone()), Some(pos(4, "e1")));
    // The history was gone (`wasRecovering && !recovered`) on every channel.
    join(&mut b, 1, Replay::Lost, &[]);
    b.advance(2_000);
    assert_eq!(refetched(&b.tabs[1].out), [json!(["doc", "wo", "1"])]);
    assert_eq!(refetched(&b.tabs[2].out), [json!(["doc", "wo", "2"])]);
    for t in &mut b.tabs {
        t.out.clear();
    }
    b.advance(30_000);
    assert!(refetched(&b.tabs[1].out).is_empty() && refetched(&b.tabs[2].out).is_empty(), "once");
}

#[test]
fn a_tab_that_joins_later_takes_the_others_positions() {
    let mut b = browser(&[vec![View::doc("wo", "1")], vec![View::doc("wo", "1")]]);
    join(&mut b, 0, Replay::Unknown, &[("doc:wo:1", pos(7, "e1"))]);
    // What js/shareSession.js's `channels` message carries: `shareState()` of another tab.
    let (seen, epochs) = {
        let s = b.tabs[1].rt.share().expect("shared");
        (s.seen().to_vec(), s.epochs().to_vec())
    };
    let mut late = Realtime::new(0, &json!({ "debounceMs": 0, "scope": { "factoryId": "f1" } })).expect("options");
    late.share_role(0, Role::Follower);
    late.subscribe(0, View::doc("wo", "1"));
    late.attach_connector(0, ID, vec![], None);
    late.share_connector(0, ID, true);
    late.share_merge_seen(seen, true);
    late.share_merge_epochs(epochs);
    assert_eq!(
        late.share().expect("shared").positions().into_iter().find(|(c, _)| c == "doc:wo:1"),
        Some(("doc:wo:1".into(), pos(7, "e1")))
    );
}

#[test]
fn without_a_client_of_its_own_a_shared_connector_is_never_told_to_connect() {
    let mut rt = Realtime::new(0, &json!({ "scope": { "factoryId": "f1" } })).expect("options");
    rt.share_role(0, Role::Follower);
    rt.subscribe(0, View::doc("wo", "1"));
    rt.attach_connector(0, ID, vec![], None);
    rt.share_connector(0, ID, false); // supabase-js
    rt.share_role(1, Role::Leader);
    rt.handle_timeout(1);
    while let Some(o) = rt.poll_output() {
        assert!(!matches!(o, Output::Share(Shared::Connection(..))), "{o:?}");
    }
}
