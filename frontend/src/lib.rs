//! The browser entry point: hydrates the server-rendered page.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // What was typed into the server's page before now is read first, for the page to adopt.
    app::customers::early_input::capture();
    leptos::mount::hydrate_body(app::App);
    // Marks the document once it is interactive, so browser tests (and people debugging)
    // can tell a hydrated page from a server-rendered one that is still waiting for its wasm.
    if let Some(root) = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.document_element())
    {
        let _ = root.set_attribute("data-hydrated", "true");
    }
}
