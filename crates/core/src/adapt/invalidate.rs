//! A direct invalidation: `{ queryKey, exact?, refetchType? }` (also Centrifugo's
//! `{ event: 'invalidate', queryKey }` of seed 000).

use super::fields::In;
use crate::error::{Error, ErrorCode};
use crate::event::{Event, InvalidateEvent, RefetchType};
use crate::key::write_tape;
use crate::scan::Kind;

pub fn adapt<'a>(p: In<'a>, o: u32, src: &str) -> Result<Event<'a>, Error> {
    let wrong = |m: &str| Error::new(ErrorCode::WrongType, src, m);
    let key = match p.get(o, "queryKey") {
        Some(k) if p.kind(k) == Kind::Array => k,
        _ => return Err(wrong("`queryKey` must be an array")),
    };
    let exact = match p.some(o, "exact").map(|v| p.kind(v)) {
        None => false,
        Some(Kind::True) => true,
        Some(Kind::False) => false,
        _ => return Err(wrong("`exact` must be a boolean")),
    };
    let refetch_type = match p.some(o, "refetchType") {
        None => RefetchType::Active,
        Some(v) => match p.str(v) {
            Some(s) => {
                RefetchType::parse(&s).ok_or_else(|| wrong("`refetchType` must be active, inactive, all or none"))?
            }
            None => return Err(wrong("`refetchType` must be a string")),
        },
    };
    let mut hash = String::with_capacity(p.raw(key).len());
    write_tape(&mut hash, p.tape, p.text, key);
    Ok(Event::Invalidate(InvalidateEvent { hash, exact, refetch_type, event_id: None }))
}
