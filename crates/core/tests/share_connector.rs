//! `shareConnection` with a JS-held connector (supabase-js, `connectSupabase`): only the leader
//! tab's client opens channels, every tab's, with the table and filter the channel's own tab would
//! have used; what it delivers is forwarded to every tab as a wire event frame and applied there
//! with that tab's views and scope; a new leader's channels come back as a recovery (supabase
//! cannot replay). Tabs on one virtual clock, wired as `js/share.js` wires them.

use querywire_core::connector::{Binding, ChannelFact, ChannelSpec, Replay};
use querywire_core::share::Role;
use querywire_core::views::View;
use querywire_core::{Output, Realtime};
use serde_json::{json, Value};

mod common;
use common::tabs::{Browser, Tab};

const ID: u32 = 1;

fn opts(factory: &str) -> Value {
    json!({ "debounceMs": 0, "patch": false, "scope": { "factoryId": factory } })
}

fn supabase(id: u64, factory: &str, at: &str) -> String {
    json!({ "schema": "public", "table": "wo", "commit_timestamp": at, "eventType": "UPDATE",
        "new": { "id": id, "factory_id": factory, "title": "x" }, "old": { "id": id }, "errors": null })
    .to_string()
}

impl Browser {
    /// One tab per `(scope, views)`, each sharing with a supabase connector attached; tab 0 leads.
    fn new(tabs: &[(&str, Vec<View>)]) -> Browser {
        let mut b = Browser { tabs: Vec::new(), now: 0 };
        for (i, (factory, views)) in tabs.iter().enumerate() {
            let mut rt = Realtime::new(0, &opts(factory)).expect("options");
            rt.share_role(0, Role::Follower);
            for v in views {
                rt.subscribe(0, v.clone());
            }
            rt.attach_connector(0, ID, vec!["wo".into()], None);
            rt.share_connector(0, ID, false);
            b.tabs.push(Tab::new(format!("t{i}"), rt));
        }
        b.advance(1);
        b.tabs[0].rt.share_role(b.now, Role::Leader);
        b.advance(1);
        b
    }

    /// The channels tab `i`'s connector was told to open (all outputs so far), with their bindings.
    fn opened(&self, i: usize) -> Vec<ChannelSpec> {
        let mut v: Vec<ChannelSpec> = self.tabs[i]
            .out
            .iter()
            .filter_map(|o| if let Output::OpenChannel(_, s) = o { Some(s.clone()) } else { None })
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// Joins every channel tab `i` was told to open.
    fn join_all(&mut self, i: usize) {
        let now = self.now;
        for s in self.opened(i) {
            self.tabs[i].rt.connector_channel(now, ID, &s.name, ChannelFact::Joined(Replay::Unknown));
        }
        self.advance(1);
    }

    fn take(&mut self) {
        for t in &mut self.tabs {
            t.out.clear();
        }
    }
}

fn refetched(out: &[Output]) -> Vec<Value> {
    let mut v: Vec<Value> = out
        .iter()
        .filter_map(|o| {
            if let Output::Plan(p) = o {
                Some(
                    p.refetch
                        .iter()
                        .map(|r| serde_json::from_str::<Value>(p.hash(&r.key)).unwrap())
                        .collect::<Vec<_>>(),
                )
            } else {
                None
            }
        })
        .flatten()
        .collect();
    v.sort_by_key(|k| k.to_string());
    v
}

fn invalidated(out: &[Output]) -> usize {
    out.iter().map(|o| if let Output::Plan(p) = o { p.invalidate.len() } else { 0 }).sum()
}

/// What an unshared tab's own connector opens for these views and scope.
fn unshared_specs(factory: &str, views: &[View]) -> Vec<ChannelSpec> {
    let mut rt = Realtime::new(0, &opts(factory)).expect("options");
    for v in views {
        rt.subscribe(0, v.clone());
    }
    rt.attach_connector(0, ID, vec!["wo".into()], None);
    rt.handle_timeout(0);
    let mut v = Vec::new();
    while let Some(o) = rt.poll_output() {
        if let Output::OpenChannel(_, s) = o {
            v.push(s);
        }
    }
    v.sort_by(|a, b| a.name.cmp(&b.name));
    v
}

#[test]
fn the_leaders_client_opens_every_tabs_channels_with_the_filters_that_tab_would_use() {
    let a = vec![View::doc("wo", "1")];
    let b = vec![View::doc("wo", "2"), View::list("wo")];
    let br = Browser::new(&[("f1", a.clone()), ("f2", b.clone())]);
    assert!(br.opened(1).is_empty(), "a follower's client opens nothing");
    let leader = br.opened(0);
    let mut want = unshared_specs("f1", &a);
    want.extend(unshared_specs("f2", &b));
    want.sort_by(|x, y| x.name.cmp(&y.name));
    want.dedup();
    assert_eq!(leader, want);
    // Spelled out: the remote tab's doc filters on its id, its list and factory on its scope.
    let spec = |n: &str, f: &str| ChannelSpec {
        name: n.into(),
        bindings: vec![Binding { table: Some("wo".into()), filter: Some(f.into()) }],
        since: None,
    };
    assert!(leader.contains(&spec("doc:wo:2", "id=eq.2")));
    assert!(leader.contains(&spec("list:wo:f2", "factory_id=eq.f2")));
    assert!(leader.contains(&spec("factory:f2", "factory_id=eq.f2")));
}

#[test]
fn a_payload_is_forwarded_and_applied_only_by_the_tabs_whose_channel_it_came_on() {
    let mut br = Browser::new(&[
        ("f1", vec![View::doc("wo", "1")]),
        ("f2", vec![View::doc("wo", "2")]),
        ("f2", vec![View::doc("wo", "2")]),
    ]);
    br.join_all(0);
    br.take();
    // supabase-js delivers the change of row 2 on both channels whose filter it matches.
    let now = br.now;
    for ch in ["doc:wo:2", "factory:f2"] {
        br.tabs[0]
            .rt
            .connector_ingest(now, ch, None, "supabase", &supabase(2, "f2", "2026-01-01T00:00:00Z"))
            .expect("ingest");
    }
    br.advance(100);
    assert_eq!(invalidated(&br.tabs[0].out), 0, "not the leader's channel: not applied there");
    assert_eq!(br.tabs[0].rt.engine().stats().received, 0);
    // What an unshared tab with the same view counts for the same two copies.
    let mut alone = Realtime::new(0, &opts("f2")).expect("options");
    alone.subscribe(0, View::doc("wo", "2"));
    for _ in 0..2 {
        alone.ingest_text(now, "supabase", &supabase(2, "f2", "2026-01-01T00:00:00Z")).expect("ingest");
    }
    alone.handle_timeout(now + 100);
    let want = alone.engine().stats();
    for i in [1, 2] {
        assert_eq!(invalidated(&br.tabs[i].out), 1, "tab {i}: once");
        let s = br.tabs[i].rt.engine().stats();
        assert_eq!(s.received, 2, "tab {i}: both copies seen");
        assert_eq!((s.received, s.dropped.duplicate), (want.received, want.dropped.duplicate), "tab {i}: as unshared");
    }
    // A change of f1 reaches only the f1 tab.
    br.take();
    let now = br.now;
    br.tabs[0]
        .rt
        .connector_ingest(now, "factory:f1", None, "supabase", &supabase(1, "f1", "2026-01-01T00:00:01Z"))
        .expect("ingest");
    br.advance(100);
    assert_eq!(invalidated(&br.tabs[0].out), 1);
    assert_eq!(invalidated(&br.tabs[1].out) + invalidated(&br.tabs[2].out), 0);
}

#[test]
fn a_new_leader_opens_the_channels_again_and_each_tab_refetches_each_view_once() {
    let mut br = Browser::new(&[
        ("f1", vec![View::doc("wo", "1")]),
        ("f1", vec![View::doc("wo", "1"), View::list("wo")]),
        ("f1", vec![View::doc("wo", "2")]),
    ]);
    br.join_all(0);
    br.take();
    // The leader tab closes: the others forget it, tab 1 takes the lock.
    br.tabs[0].gone = true;
    let now = br.now;
    for i in [1, 2] {
        br.tabs[i].rt.share_forget(now, "t0");
    }
    br.tabs[1].rt.share_role(now, Role::Leader);
    br.advance(1);
    let names: Vec<String> = br.opened(1).into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["doc:wo:1", "doc:wo:2", "factory:f1", "list:wo:f1"], "every remaining tab's channels");
    assert!(br.opened(2).is_empty());
    assert!(
        refetched(&br.tabs[1].out).is_empty() && refetched(&br.tabs[2].out).is_empty(),
        "nothing before the channels are back"
    );
    br.join_all(1);
    br.advance(1_000);
    assert_eq!(refetched(&br.tabs[1].out), [json!(["doc", "wo", "1"]), json!(["list", "wo", "f1"])]);
    assert_eq!(refetched(&br.tabs[2].out), [json!(["doc", "wo", "2"])]);
    // And nothing more later.
    br.take();
    br.advance(30_000);
    assert!(refetched(&br.tabs[1].out).is_empty() && refetched(&br.tabs[2].out).is_empty());
}

#[test]
fn a_connector_that_does_not_share_opens_its_own_channels_in_every_tab() {
    let mut rt = Realtime::new(0, &opts("f1")).expect("options");
    rt.share_role(0, Role::Follower);
    rt.subscribe(0, View::doc("wo", "1"));
    rt.attach_connector(0, ID, vec!["wo".into()], None);
    rt.handle_timeout(0);
    let mut opened = 0;
    while let Some(o) = rt.poll_output() {
        opened += usize::from(matches!(o, Output::OpenChannel(..)));
    }
    assert_eq!(opened, 2, "doc:wo:1 and factory:f1, as without sharing (centrifuge-js)");
}

#[test]
fn a_channel_name_alone_says_what_it_stands_for_as_an_open_views_channel_does() {
    use querywire_core::views::{ChannelMeaning, Views};
    let mut local = Views::new(Some("f1".into()));
    for v in [View::doc("wo", "a:1"), View::list("wo")] {
        local.subscribe(v);
    }
    let remote = Views::new(None); // another tab's names: no view here uses them
    for ch in ["doc:wo:a:1", "list:wo:f1", "factory:f1"] {
        assert_eq!(remote.meaning(ch), local.meaning(ch), "{ch}");
        assert!(local.meaning(ch).is_some());
    }
    assert_eq!(remote.meaning("list:wo"), Some(ChannelMeaning::List { ty: "wo".into(), factory: None }));
    for bad in ["doc:wo", "doc::1", "factory:", "list:", "other:x", "nothing"] {
        assert_eq!(remote.meaning(bad), None, "{bad}");
    }
}
