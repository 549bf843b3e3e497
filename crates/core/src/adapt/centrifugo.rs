//! A centrifuge-js publication context `{ channel, data, offset? }`. `data` is
//! `{ event: 'invalidate', queryKey }` or any other payload, recognised by its shape. The offset,
//! per channel, is the event id: overlapping recovery and live delivery repeat offsets.

use super::fields::id_text;
use super::Source;
use crate::error::{Error, ErrorCode};
use crate::event::Event;
use serde_json::{Map, Value};

const SRC: &str = "centrifugo";

pub fn adapt(mut o: Map<String, Value>, primary_key: &[String]) -> Result<Event, Error> {
    let data = match o.remove("data") {
        Some(Value::Object(d)) => d,
        Some(other) => return Err(Error::new(ErrorCode::NotObject, SRC, format!("`data` must be an object, got {}", super::kind(&other)))),
        None => return Err(Error::new(ErrorCode::WrongType, SRC, "`data` is missing")),
    };
    let channel = match o.get("channel") {
        None | Some(Value::Null) => "",
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Err(Error::new(ErrorCode::WrongType, SRC, "`channel` must be a string")),
    };
    let offset = match o.get("offset") {
        None | Some(Value::Null) => None,
        Some(v) => Some(id_text(v).ok_or_else(|| Error::new(ErrorCode::WrongType, SRC, "`offset` must be a number"))?),
    };
    let mut ev = if data.get("event").and_then(Value::as_str) == Some("invalidate") {
        super::invalidate::adapt(data, SRC)?
    } else {
        let inner = Value::Object(data);
        match super::detect(&inner) {
            Some(Source::Centrifugo) | None => {
                return Err(Error::new(ErrorCode::WrongType, SRC, "`data` is neither { event: 'invalidate', queryKey } nor a known payload"))
            }
            Some(s) => super::adapt(s, inner, primary_key).map_err(|mut e| {
                e.source = SRC.into();
                e
            })?,
        }
    };
    if let Some(off) = offset {
        let id = Some(format!("centrifugo:{channel}#{off}"));
        match &mut ev {
            Event::Row(r) => r.event_id = id,
            Event::Invalidate(i) => i.event_id = id,
        }
    }
    Ok(ev)
}
