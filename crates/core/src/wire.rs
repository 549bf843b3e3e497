//! Wire frames (CONTRACT "Wire protocol"): the text our WebSocket / EventSource receives, decoded
//! at the edge into a typed [`Frame`] (as quinn-proto's `frame.rs` does), so the composed machine
//! (`realtime.rs`) never looks at JSON. Frame decoding has one home: here.

use crate::adapt::{self, Source};
use crate::engine::MAX_PAYLOAD_BYTES;
use crate::error::{Error, ErrorCode};
use crate::rules::value_text;
use serde_json::Value;

/// One decoded server-to-client frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// `{ type: 'pong', ref }`: proof of life only.
    Pong,
    /// `{ type: 'recovered', channel, ok }` after a `since` resubscribe.
    Recovered { channel: String, ok: bool },
    /// An event frame `{ channel?, seq?, source?, payload }` or a bare payload (`channel`/`seq` absent).
    /// `source` is `None` when neither the frame nor the payload's shape names one; the caller
    /// still checks `seq` first, so a replayed frame counts as a duplicate, not as bad input.
    Event { channel: Option<String>, seq: Option<u64>, source: Option<Source>, payload: Value },
}

/// Decodes one frame. `transport` names the transport in errors (`'websocket'`, `'eventsource'`).
/// A `{ type: 'error' }` frame from the server is returned as an [`ErrorCode::Server`] error; every
/// other error is bad input (the caller counts it in `dropped.invalid`). `Err((e, counted))`:
/// `counted` is false for the server's error frame, which is not a dropped payload.
pub fn decode(transport: &str, text: &str) -> Result<Frame, (Error, bool)> {
    let invalid = |code, msg: String| Err((Error::new(code, transport, msg), true));
    if text.len() > MAX_PAYLOAD_BYTES {
        return invalid(ErrorCode::TooLarge, format!("frame is {} bytes; the limit is {MAX_PAYLOAD_BYTES}", text.len()));
    }
    let frame: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return invalid(ErrorCode::BadJson, format!("frame is not JSON: {e}")),
    };
    let Some(o) = frame.as_object() else {
        return invalid(ErrorCode::NotObject, "frame must be an object".into());
    };
    if !o.contains_key("payload") {
        match o.get("type").and_then(Value::as_str) {
            Some("pong") => return Ok(Frame::Pong),
            Some("recovered") => {
                let channel = o.get("channel").and_then(Value::as_str).unwrap_or_default().to_string();
                let ok = o.get("ok").and_then(Value::as_bool).unwrap_or(false);
                return Ok(Frame::Recovered { channel, ok });
            }
            Some("error") if !o.contains_key("action") && !o.contains_key("entity") => {
                let code = o.get("code").map(value_text).unwrap_or_default();
                let msg = o.get("message").and_then(Value::as_str).unwrap_or("server error");
                return Err((Error::new(ErrorCode::Server, transport, format!("{code}: {msg}")), false));
            }
            _ => {}
        }
    }
    let mut frame = frame;
    let (payload, source, channel, seq) = match frame.as_object_mut().and_then(|o| o.remove("payload")) {
        Some(p) => {
            let o = frame.as_object();
            let field = |k: &str| o.and_then(|o| o.get(k));
            let source = field("source").and_then(Value::as_str).and_then(Source::parse);
            let channel = field("channel").and_then(Value::as_str).map(str::to_string);
            let seq = field("seq").and_then(Value::as_u64);
            (p, source, channel, seq)
        }
        None => (frame, None, None, None),
    };
    let source = source.or_else(|| adapt::detect(&payload));
    Ok(Frame::Event { channel, seq, source, payload })
}
