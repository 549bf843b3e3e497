//! HS256 JSON Web Tokens, as Centrifugo verifies connection tokens (`client.token.hmac_secret_key`):
//! header `{"alg":"HS256"}`, claims `sub` (the user; empty = anonymous) and optional `exp` (Unix
//! seconds). Nothing else is read.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub sub: String,
    /// Unix seconds.
    pub exp: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Malformed, wrong algorithm or bad signature (Centrifugo: disconnect 3500).
    Invalid,
    /// Signed correctly but `exp` has passed (Centrifugo: error 109).
    Expired,
}

fn mac(secret: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length.
    <HmacSha256 as KeyInit>::new_from_slice(secret).unwrap_or_else(|_| unreachable!())
}

fn b64(s: &str) -> Result<Vec<u8>, TokenError> {
    URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).map_err(|_| TokenError::Invalid)
}

/// Verify `token` against `secret` at `now_s` (Unix seconds).
pub fn verify(token: &str, secret: &[u8], now_s: i64) -> Result<Claims, TokenError> {
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(sig), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(TokenError::Invalid);
    };
    let header: Value = serde_json::from_slice(&b64(h)?).map_err(|_| TokenError::Invalid)?;
    if header.get("alg").and_then(Value::as_str) != Some("HS256") {
        return Err(TokenError::Invalid);
    }
    let mut m = mac(secret);
    m.update(h.as_bytes());
    m.update(b".");
    m.update(c.as_bytes());
    m.verify_slice(&b64(sig)?).map_err(|_| TokenError::Invalid)?;
    let claims: Value = serde_json::from_slice(&b64(c)?).map_err(|_| TokenError::Invalid)?;
    let sub = match claims.get("sub") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(TokenError::Invalid),
    };
    let exp = match claims.get("exp") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)).ok_or(TokenError::Invalid)?),
    };
    if exp.is_some_and(|e| e <= now_s) {
        return Err(TokenError::Expired);
    }
    Ok(Claims { sub, exp })
}

/// Sign `claims` (a JSON object) with `secret`.
pub fn sign(claims: &Value, secret: &[u8]) -> String {
    let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let c = URL_SAFE_NO_PAD.encode(claims.to_string());
    let mut m = mac(secret);
    m.update(h.as_bytes());
    m.update(b".");
    m.update(c.as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(m.finalize().into_bytes());
    format!("{h}.{c}.{sig}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sign_and_verify() {
        let t = sign(&json!({ "sub": "u1", "exp": 2000 }), b"k");
        assert_eq!(verify(&t, b"k", 1000), Ok(Claims { sub: "u1".into(), exp: Some(2000) }));
        assert_eq!(verify(&t, b"k", 2000), Err(TokenError::Expired));
        assert_eq!(verify(&t, b"other", 1000), Err(TokenError::Invalid));
        assert_eq!(verify("bad", b"k", 1000), Err(TokenError::Invalid));
        let mut forged = t.clone();
        forged.replace_range(t.len() - 2.., "AA");
        assert_eq!(verify(&forged, b"k", 1000), Err(TokenError::Invalid));
        // jwt.io's HS256 example, signed elsewhere.
        let known = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
        assert_eq!(verify(known, b"your-256-bit-secret", 0), Ok(Claims { sub: "1234567890".into(), exp: None }));
    }
}
