//! The only clock the engine sees: `Date.now()`, passed into the core as an argument (read here, or
//! by the shim and passed in: [`millis`]).

use querywire_core::Millis;

pub fn now() -> Millis {
    millis(js_sys::Date::now())
}

/// A `Date.now()` the shim read and passed in (the object path's `ingestSlots`: no import call).
pub fn millis(t: f64) -> Millis {
    t.max(0.0) as Millis
}
