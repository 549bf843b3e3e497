//! Typed errors. Bad input is an `Error` value that reaches the app's `onError`; it never panics and
//! never stops other events (CONTRACT "Feeding events").

use serde::Serialize;
use std::fmt;

/// Why an input was refused. The string forms are the `code`s users see in `onError`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The payload is not a JSON object.
    NotObject,
    /// The text is not JSON.
    BadJson,
    /// `ingest` was called with a source name we do not know.
    UnknownSource,
    /// A row event without a table / type / entity.
    MissingTable,
    /// A row event without an id (no `primaryKey` column has a value).
    MissingId,
    /// A field is present with the wrong JSON type, or an enum field has an unknown value.
    WrongType,
    /// The payload is larger than 1 MiB.
    TooLarge,
    /// An option passed to `createRealtime` is invalid (thrown at creation, not reported).
    InvalidOption,
    /// The server closed the connection with 4001: credentials refused; no retry.
    Unauthorized,
    /// The server closed the connection with 4003: access refused; no retry.
    Forbidden,
    /// The server sent `{ type: 'error' }`.
    Server,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotObject => "not_object",
            ErrorCode::BadJson => "bad_json",
            ErrorCode::UnknownSource => "unknown_source",
            ErrorCode::MissingTable => "missing_table",
            ErrorCode::MissingId => "missing_id",
            ErrorCode::WrongType => "wrong_type",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::InvalidOption => "invalid_option",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::Server => "server",
        }
    }
}

/// `{ code, message, source }` as the contract's `onError` receives it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
    /// The ingest source (`'supabase'`, `'event'`, ...) or the transport (`'websocket'`, ...).
    pub source: String,
}

impl Error {
    pub fn new(code: ErrorCode, source: &str, message: impl Into<String>) -> Self {
        Error { code, message: message.into(), source: source.to_string() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.code.as_str(), self.source, self.message)
    }
}

impl std::error::Error for Error {}
