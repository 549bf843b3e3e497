//! A direct invalidation: `{ queryKey, exact?, refetchType? }` (also Centrifugo's
//! `{ event: 'invalidate', queryKey }` of seed 000).

use crate::error::{Error, ErrorCode};
use crate::event::{Event, InvalidateEvent, RefetchType};
use serde_json::{Map, Value};

pub fn adapt(mut o: Map<String, Value>, src: &str) -> Result<Event, Error> {
    let wrong = |m: &str| Error::new(ErrorCode::WrongType, src, m);
    let key = match o.remove("queryKey") {
        Some(k @ Value::Array(_)) => k,
        _ => return Err(wrong("`queryKey` must be an array")),
    };
    let exact = match o.get("exact") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        _ => return Err(wrong("`exact` must be a boolean")),
    };
    let refetch_type = match o.get("refetchType") {
        None | Some(Value::Null) => RefetchType::Active,
        Some(Value::String(s)) => RefetchType::parse(s).ok_or_else(|| wrong("`refetchType` must be active, inactive, all or none"))?,
        _ => return Err(wrong("`refetchType` must be a string")),
    };
    Ok(Event::Invalidate(InvalidateEvent { key, exact, refetch_type, event_id: None }))
}
