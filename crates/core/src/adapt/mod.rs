//! Adapters: one per source, each turning a payload into the canonical [`Event`]
//! (CONTRACT "Feeding events"). They validate; they never panic on any JSON.

mod app_event;
mod centrifugo;
mod envelope;
mod invalidate;
pub(crate) mod fields;
mod supabase;
pub(crate) mod supabase_fast;

use crate::error::{Error, ErrorCode};
use crate::event::Event;
use serde_json::Value;

/// The sources `ingest` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Supabase,
    Event,
    Envelope,
    Centrifugo,
    Invalidate,
}

impl Source {
    pub fn parse(s: &str) -> Option<Source> {
        Some(match s {
            "supabase" => Source::Supabase,
            "event" => Source::Event,
            "envelope" => Source::Envelope,
            "centrifugo" => Source::Centrifugo,
            "invalidate" => Source::Invalidate,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Supabase => "supabase",
            Source::Event => "event",
            Source::Envelope => "envelope",
            Source::Centrifugo => "centrifugo",
            Source::Invalidate => "invalidate",
        }
    }
}

/// Turns one payload from `source` into an event. `primary_key` lists the id columns to try.
/// The payload is taken by value: rows move into the event instead of being copied.
pub fn adapt(source: Source, payload: Value, primary_key: &[String]) -> Result<Event, Error> {
    let src = source.as_str();
    let obj = match payload {
        Value::Object(o) => o,
        other => return Err(Error::new(ErrorCode::NotObject, src, format!("payload must be an object, got {}", kind(&other)))),
    };
    match source {
        Source::Supabase => supabase::adapt(obj, primary_key),
        Source::Event => app_event::adapt(obj, src),
        Source::Envelope => envelope::adapt(obj, primary_key),
        Source::Centrifugo => centrifugo::adapt(obj, primary_key),
        Source::Invalidate => invalidate::adapt(obj, src),
    }
}

/// Recognises a bare payload's source from its shape (Centrifugo `data`, wire frames without `source`).
pub fn detect(payload: &Value) -> Option<Source> {
    let o = payload.as_object()?;
    if o.contains_key("eventType") || o.get("type").and_then(Value::as_str) == Some("broadcast") {
        return Some(Source::Supabase);
    }
    if o.contains_key("table") && (o.contains_key("new") || o.contains_key("old")) {
        return Some(Source::Supabase);
    }
    if o.contains_key("entity") {
        return Some(Source::Envelope);
    }
    if o.contains_key("queryKey") {
        return Some(Source::Invalidate);
    }
    if o.contains_key("action") && o.contains_key("type") {
        return Some(Source::Event);
    }
    None
}

/// The JSON type's name, for error messages.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
