//! Adapters: one per source, each turning a payload into the canonical [`Event`]
//! (CONTRACT "Feeding events"). They validate; they never panic on any JSON.

mod app_event;
mod centrifugo;
mod envelope;
pub(crate) mod fields;
mod invalidate;
pub(crate) mod supabase;

use crate::error::{Error, ErrorCode};
use crate::event::{Columns, Event};
use crate::scan::{Kind, Tape};
use fields::{cat, kind_name, In};

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

/// What adapters read rows with: the id columns to try, in order, and the engine's compiled
/// [`Columns`] (their slots).
#[derive(Clone, Copy)]
pub struct Wants<'a> {
    pub primary_key: &'a [String],
    pub columns: &'a Columns,
}

/// The engine's reusable buffers an event borrows: the changed fields a payload names, and the
/// [`Columns::index`] of its row.
#[derive(Debug, Default)]
pub struct Scratch {
    pub changed: Vec<(u32, u32)>,
    pub found: Vec<u32>,
}

/// Turns the payload at node `root` of a scanned text into an event.
pub fn adapt<'a>(
    source: Source,
    tape: &'a Tape,
    text: &'a str,
    root: u32,
    wants: Wants<'_>,
    scratch: &'a mut Scratch,
) -> Result<Event<'a>, Error> {
    adapt_node(source, In { tape, text }, root, wants, scratch)
}

fn adapt_node<'a>(
    source: Source,
    p: In<'a>,
    o: u32,
    wants: Wants<'_>,
    scratch: &'a mut Scratch,
) -> Result<Event<'a>, Error> {
    let src = source.as_str();
    if p.kind(o) != Kind::Object {
        return Err(Error::new(
            ErrorCode::NotObject,
            src,
            cat(&["payload must be an object, got ", kind_name(p.kind(o))]),
        ));
    }
    match source {
        Source::Supabase => supabase::adapt(p, o, wants, scratch),
        Source::Event => app_event::adapt(p, o, src, &mut scratch.changed),
        Source::Envelope => envelope::adapt(p, o, wants.primary_key),
        Source::Centrifugo => centrifugo::adapt(p, o, wants, scratch),
        Source::Invalidate => invalidate::adapt(p, o, src),
    }
}

/// Recognises a bare payload's source from its shape (Centrifugo `data`, wire frames without `source`).
pub fn detect(tape: &Tape, text: &str, o: u32) -> Option<Source> {
    if tape.kind(o) != Kind::Object {
        return None;
    }
    let has = |k: &str| tape.get(text, o, k).is_some();
    let ty = tape.get(text, o, "type");
    if has("eventType") || ty.is_some_and(|t| tape.str_eq(text, t, "broadcast")) {
        return Some(Source::Supabase);
    }
    if has("table") && (has("new") || has("old")) {
        return Some(Source::Supabase);
    }
    if has("entity") {
        return Some(Source::Envelope);
    }
    if has("queryKey") {
        return Some(Source::Invalidate);
    }
    if has("action") && ty.is_some() {
        return Some(Source::Event);
    }
    None
}
