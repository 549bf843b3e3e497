//! Smoke test of the built wasm module, run by `wasm-pack test --node` and `--headless --chrome`
//! (scripts/test.sh, stage wasm). Native `cargo test` compiles it to nothing.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::wasm_bindgen_test;

/// The exported `version()` is the crate's version, and the npm package ships the same version:
/// a mismatch means pkg/ and package.json were released out of step.
#[wasm_bindgen_test]
fn exported_version_matches_crate_and_npm_package() {
    let v = querywire::version();
    assert_eq!(v, env!("CARGO_PKG_VERSION"));
    let pkg_json = include_str!("../package.json");
    let npm_version = pkg_json
        .lines()
        .find_map(|l| l.trim().strip_prefix("\"version\":"))
        .map(|rest| rest.trim().trim_end_matches(',').trim_matches('"'))
        .expect("package.json has a version");
    assert_eq!(v, npm_version, "Cargo.toml and package.json versions differ");
}
