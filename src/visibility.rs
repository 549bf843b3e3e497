//! `document.visibilityState` through web-sys. Guarded: in Node and during SSR there is no
//! `document`, and the engine then behaves as an always-visible page.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

pub struct VisibilityListener {
    doc: web_sys::Document,
    closure: Closure<dyn FnMut()>,
}

/// Whether the page is visible (true where there is no document).
pub fn is_visible() -> bool {
    document().map_or(true, |d| d.visibility_state() != web_sys::VisibilityState::Hidden)
}

fn document() -> Option<web_sys::Document> {
    web_sys::window().and_then(|w| w.document())
}

impl VisibilityListener {
    /// Calls `on_change(visible)` on every `visibilitychange`; `None` without a document.
    pub fn install(mut on_change: impl FnMut(bool) + 'static) -> Option<VisibilityListener> {
        let doc = document()?;
        let closure = Closure::<dyn FnMut()>::new(move || on_change(is_visible()));
        doc.add_event_listener_with_callback("visibilitychange", closure.as_ref().unchecked_ref()).ok()?;
        Some(VisibilityListener { doc, closure })
    }
}

impl Drop for VisibilityListener {
    fn drop(&mut self) {
        let _ = self
            .doc
            .remove_event_listener_with_callback("visibilitychange", self.closure.as_ref().unchecked_ref());
    }
}

/// The window's `online` event: the browser has a network again, so a pending retry may succeed
/// now rather than after its backoff (a reconnect intent for the core's scheduler).
pub struct OnlineListener {
    window: web_sys::Window,
    closure: Closure<dyn FnMut()>,
}

impl OnlineListener {
    /// `None` where there is no window (Node, SSR).
    pub fn install(on_online: impl FnMut() + 'static) -> Option<OnlineListener> {
        let window = web_sys::window()?;
        let closure = Closure::<dyn FnMut()>::new(on_online);
        window.add_event_listener_with_callback("online", closure.as_ref().unchecked_ref()).ok()?;
        Some(OnlineListener { window, closure })
    }
}

impl Drop for OnlineListener {
    fn drop(&mut self) {
        let _ = self.window.remove_event_listener_with_callback("online", self.closure.as_ref().unchecked_ref());
    }
}
