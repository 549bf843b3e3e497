//! The smoke tests of tests/wasm_smoke.rs again, in headless Chromium (`wasm-pack test --headless
//! --chrome`), plus what only a page has: the document whose visibility the glue watches.
#![cfg(target_arch = "wasm32")]

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

#[path = "wasm_smoke.rs"]
mod smoke;

use wasm_bindgen_test::wasm_bindgen_test;

/// The visibility flush reads `document.visibilityState`; a headless page must answer it.
#[wasm_bindgen_test]
fn page_has_a_document_with_a_visibility_state() {
    let document = web_sys::window().and_then(|w| w.document()).expect("a page has a document");
    let state = document.visibility_state();
    assert!(
        matches!(state, web_sys::VisibilityState::Visible | web_sys::VisibilityState::Hidden),
        "unexpected visibilityState {state:?}"
    );
}
