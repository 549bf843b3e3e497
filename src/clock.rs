//! The only clock the engine sees: `Date.now()`, passed into the core as an argument.

use querywire_core::Millis;

pub fn now() -> Millis {
    js_sys::Date::now().max(0.0) as Millis
}
