//! Contract: "Subscriptions are reference counted: the same view twice opens one channel, and the
//! channel closes with its last unsubscribe (React StrictMode's double mount leaves one); calling the
//! same unsubscribe function again does nothing. `rt.setScope(scope)` moves open views to the new
//! scope's channels."

use querywire_core::key::hash_key;
use querywire_core::views::{ChannelDiff, View, Views};
use serde_json::json;

fn diff(open: &[&str], close: &[&str]) -> Option<ChannelDiff> {
    Some(ChannelDiff {
        open: open.iter().map(|s| s.to_string()).collect(),
        close: close.iter().map(|s| s.to_string()).collect(),
    })
}

#[test]
fn a_doc_view_opens_its_doc_channel_and_the_factory_channel() {
    let mut v = Views::new(Some("f1".into()));
    v.subscribe(View::doc("work_orders", "12"));
    assert_eq!(v.poll_channels(), diff(&["doc:work_orders:12", "factory:f1"], &[]));
    assert_eq!(v.poll_channels(), None);
}

#[test]
fn strict_mode_double_mount_leaves_one_channel_and_no_churn() {
    let mut v = Views::new(Some("f1".into()));
    let a = v.subscribe(View::list("work_orders"));
    v.unsubscribe(a);
    let b = v.subscribe(View::list("work_orders"));
    assert_eq!(v.poll_channels(), diff(&["factory:f1", "list:work_orders:f1"], &[]));
    // Same dance after the channels were reported: nothing reaches the transport.
    let c = v.subscribe(View::list("work_orders"));
    v.unsubscribe(c);
    v.unsubscribe(b);
    let _d = v.subscribe(View::list("work_orders"));
    assert_eq!(v.poll_channels(), None);
    assert_eq!(v.ref_count(&View::list("work_orders")), 1);
}

#[test]
fn the_same_view_twice_is_counted_and_closes_with_its_last_release() {
    let mut v = Views::new(Some("f1".into()));
    let a = v.subscribe(View::doc("t", "1"));
    let b = v.subscribe(View::doc("t", "1"));
    v.poll_channels();
    assert!(v.unsubscribe(a));
    assert_eq!(v.poll_channels(), None, "still held by b");
    assert!(!v.unsubscribe(a), "releasing the same handle twice does nothing");
    assert_eq!(v.poll_channels(), None);
    assert!(v.unsubscribe(b));
    assert_eq!(v.poll_channels(), diff(&[], &["doc:t:1", "factory:f1"]));
    assert!(!v.unsubscribe(9_999));
}

#[test]
fn set_factory_moves_list_and_factory_channels() {
    let mut v = Views::new(Some("f1".into()));
    v.subscribe(View::list("wo"));
    v.subscribe(View::doc("wo", "3"));
    v.poll_channels();
    v.set_factory(Some("f2".into()));
    assert_eq!(v.poll_channels(), diff(&["factory:f2", "list:wo:f2"], &["factory:f1", "list:wo:f1"]));
    assert_eq!(v.active_keys(), [hash_key(&json!(["doc", "wo", "3"])), hash_key(&json!(["list", "wo", "f2"]))]);
}

#[test]
fn without_a_factory_lists_use_the_type_channel_and_no_factory_channel_opens() {
    let mut v = Views::new(None);
    v.subscribe(View::list("wo"));
    assert_eq!(v.poll_channels(), diff(&["list:wo"], &[]));
    assert_eq!(v.active_keys(), [hash_key(&json!(["list", "wo"]))]);
    v.set_factory(Some(String::new()));
    assert_eq!(v.factory(), None, "an empty factoryId is no factoryId");
}

#[test]
fn keys_for_a_channel_are_its_views_and_factory_means_every_view() {
    let mut v = Views::new(Some("f1".into()));
    v.subscribe(View::doc("wo", "1"));
    v.subscribe(View::doc("wo", "2"));
    v.subscribe(View::list("wo"));
    assert_eq!(v.keys_for_channel("doc:wo:2"), [hash_key(&json!(["doc", "wo", "2"]))]);
    assert_eq!(v.keys_for_channel("list:wo:f1"), [hash_key(&json!(["list", "wo", "f1"]))]);
    assert_eq!(v.keys_for_channel("factory:f1").len(), 3);
    assert!(v.keys_for_channel("factory:f9").is_empty());
    assert!(v.keys_for_channel("doc:wo:7").is_empty());
}

#[test]
fn the_shipped_view_reader_takes_the_js_shape() {
    // What the glue passes for `{ kind: 'doc', type: 'wo', id: 12 }`: the id as JS `String(12)`.
    assert_eq!(View::from_parts(Some("doc"), Some("wo".into()), Some("12".into())), Ok(View::doc("wo", "12")));
    assert_eq!(View::from_parts(Some("list"), Some("wo".into()), None), Ok(View::list("wo")));
    assert!(View::from_parts(Some("doc"), Some("wo".into()), None).is_err(), "a doc needs an id");
    assert!(View::from_parts(Some("doc"), Some("wo".into()), Some(String::new())).is_err());
    assert!(View::from_parts(Some("grid"), Some("wo".into()), None).is_err());
    assert!(View::from_parts(Some("list"), Some(String::new()), None).is_err(), "a type is required");
    assert!(View::from_parts(None, Some("wo".into()), None).is_err());
}

#[test]
fn view_keys_are_the_canonical_hash_of_the_query_key() {
    // Text needing escapes hashes as TanStack's hashKey (JSON.stringify) hashes it.
    for (ty, id) in [("wo", "1"), ("a\"b", "x\\y"), ("t\u{1}\n", "é𝄞")] {
        let doc = View::doc(ty, id);
        assert_eq!(doc.query_key(Some("f")), hash_key(&json!(["doc", ty, id])));
        let list = View::list(ty);
        assert_eq!(list.query_key(Some(id)), hash_key(&json!(["list", ty, id])));
        assert_eq!(list.query_key(None), hash_key(&json!(["list", ty])));
    }
}
