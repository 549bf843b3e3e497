//! A centrifuge-js publication context `{ channel, data, offset? }`. `data` is
//! `{ event: 'invalidate', queryKey }` or any other payload, recognised by its shape. The offset,
//! per channel, is the event id: overlapping recovery and live delivery repeat offsets.

use super::fields::{cat, id_text, kind_name, In};
use super::{Scratch, Source, Wants};
use crate::error::{Error, ErrorCode};
use crate::event::Event;
use crate::scan::Kind;

const SRC: &str = "centrifugo";

pub fn adapt<'a>(p: In<'a>, o: u32, wants: Wants<'_>, scratch: &'a mut Scratch) -> Result<Event<'a>, Error> {
    let data = match p.get(o, "data") {
        Some(d) if p.kind(d) == Kind::Object => d,
        Some(other) => {
            return Err(Error::new(
                ErrorCode::NotObject,
                SRC,
                cat(&["`data` must be an object, got ", kind_name(p.kind(other))]),
            ))
        }
        None => return Err(Error::new(ErrorCode::WrongType, SRC, "`data` is missing")),
    };
    let channel = match p.some(o, "channel") {
        None => "".into(),
        Some(v) => p.str(v).ok_or_else(|| Error::new(ErrorCode::WrongType, SRC, "`channel` must be a string"))?,
    };
    let offset = match p.some(o, "offset") {
        None => None,
        Some(v) => {
            Some(id_text(&p, v).ok_or_else(|| Error::new(ErrorCode::WrongType, SRC, "`offset` must be a number"))?)
        }
    };
    let mut ev = if p.get(data, "event").and_then(|e| p.str(e)).as_deref() == Some("invalidate") {
        super::invalidate::adapt(p, data, SRC)?
    } else {
        match super::detect(p.tape, p.text, data) {
            Some(Source::Centrifugo) | None => {
                return Err(Error::new(
                    ErrorCode::WrongType,
                    SRC,
                    "`data` is neither { event: 'invalidate', queryKey } nor a known payload",
                ))
            }
            Some(s) => super::adapt_node(s, p, data, wants, scratch).map_err(|mut e| {
                e.source = SRC.into();
                e
            })?,
        }
    };
    if let Some(off) = offset {
        ev.set_event_id(cat(&["centrifugo:", &channel, "#", &off]));
    }
    Ok(ev)
}
