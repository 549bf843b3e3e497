//! Who may connect: the demo's token rule, shared by the WebSocket and SSE endpoints.

/// Auth rule of the demo: token `bad` is unauthorized (4001/401), `forbidden` is forbidden
/// (4003/403), anything else is accepted.
pub fn auth_failure(token: &str) -> Option<(u16, &'static str)> {
    match token {
        "bad" => Some((4001, "unauthorized")),
        "forbidden" => Some((4003, "forbidden")),
        _ => None,
    }
}
