//! Wire frames (CONTRACT "Wire protocol"): the text our WebSocket / EventSource receives, decoded
//! at the edge into a typed [`Frame`] (as quinn-proto's `frame.rs` does), so the composed machine
//! (`realtime.rs`) never looks at JSON. Frame decoding has one home: here. The frame is scanned
//! once; an event frame's payload stays a node on the same tape and goes to the engine's adapters
//! without a second scan.

use crate::adapt::{self, Source};
use crate::engine::MAX_PAYLOAD_BYTES;
use crate::error::{Error, ErrorCode};
use crate::scan::{push_uint, Kind, Tape};

/// One decoded server-to-client frame; strings borrow the frame's text.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame<'t> {
    /// `{ type: 'pong', ref }`: proof of life only.
    Pong,
    /// `{ type: 'recovered', channel, ok }` after a `since` resubscribe.
    Recovered { channel: String, ok: bool },
    /// An event frame `{ channel?, seq?, source?, payload }` or a bare payload (`channel`/`seq`
    /// absent). `payload` is the payload's node on the tape. `source` is `None` when neither the
    /// frame nor the payload's shape names one; the caller still checks `seq` first, so a replayed
    /// frame counts as a duplicate, not as bad input.
    Event { channel: Option<&'t str>, seq: Option<u64>, source: Option<Source>, payload: u32 },
}

/// Why a frame was refused: bad input (`counted`: the caller counts it in `dropped.invalid`), or
/// the server's own `{ type: 'error' }` frame (not a dropped payload).
#[derive(Debug, Clone, PartialEq)]
pub struct FrameError {
    pub error: Error,
    pub counted: bool,
}

/// Decodes one frame, scanning it onto `tape`. `transport` names the transport in errors.
pub fn decode<'t>(tape: &mut Tape, transport: &str, text: &'t str) -> Result<Frame<'t>, FrameError> {
    let invalid = |code, msg: String| Err(FrameError { error: Error::new(code, transport, msg), counted: true });
    if text.len() > MAX_PAYLOAD_BYTES {
        let mut m = String::from("frame is ");
        push_uint(&mut m, text.len() as u64);
        m.push_str(" bytes; the limit is 1048576");
        return invalid(ErrorCode::TooLarge, m);
    }
    if let Err(e) = tape.scan(text) {
        return invalid(ErrorCode::BadJson, e.message("frame is not JSON: "));
    }
    if tape.kind(0) != Kind::Object {
        return invalid(ErrorCode::NotObject, "frame must be an object".into());
    }
    let tape = &*tape;
    let get = |k: &str| tape.get(text, 0, k);
    let str_of = |k: &str| get(k).filter(|&v| tape.is_str(v)).map(|v| tape.str(text, v));
    let Some(payload) = get("payload") else {
        match str_of("type").as_deref() {
            Some("pong") => return Ok(Frame::Pong),
            Some("recovered") => {
                let channel = str_of("channel").map(|c| c.into_owned()).unwrap_or_default();
                let ok = get("ok").is_some_and(|v| tape.kind(v) == Kind::True);
                return Ok(Frame::Recovered { channel, ok });
            }
            Some("error") if get("action").is_none() && get("entity").is_none() => {
                let mut m = match get("code") {
                    Some(c) => text_of(tape, text, c),
                    None => String::new(),
                };
                m.push_str(": ");
                m.push_str(&str_of("message").unwrap_or("server error".into()));
                return Err(FrameError { error: Error::new(ErrorCode::Server, transport, m), counted: false });
            }
            _ => {}
        }
        return Ok(Frame::Event { channel: None, seq: None, source: adapt::detect(tape, text, 0), payload: 0 });
    };
    let source = str_of("source").and_then(|s| Source::parse(&s));
    // A channel name with an escape is rare enough to go without its seq check.
    let channel = get("channel").and_then(|v| tape.plain_str(text, v));
    let seq = get("seq")
        .and_then(|v| tape.f64(text, v))
        .filter(|x| *x >= 0.0 && x.fract() == 0.0 && *x < 1.8e19)
        .map(|x| x as u64);
    let source = source.or_else(|| adapt::detect(tape, text, payload));
    Ok(Frame::Event { channel, seq, source, payload })
}

/// The text of a primitive value (`String(value)`), or its JSON for anything else.
fn text_of(tape: &Tape, text: &str, v: u32) -> String {
    match tape.kind(v) {
        Kind::Str | Kind::StrEscaped => tape.str(text, v).into_owned(),
        Kind::Number => crate::key::number_text(tape, text, v).into_owned(),
        _ => tape.raw(text, v).to_string(),
    }
}
