//! `uniffi-bindgen`, built from the workspace so its version is the one the
//! library's scaffolding was generated with (they must match exactly).

fn main() {
    uniffi::uniffi_bindgen_main()
}
