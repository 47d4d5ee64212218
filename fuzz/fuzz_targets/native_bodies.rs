//! Fuzz target: the JSON bodies of the native API's create key, update key, verify and
//! log-in, sent through keyward's whole router over a throwaway SQLite database.
//!
//! The first byte picks the endpoint (its value modulo 4, so the seeds can start with a
//! readable letter: `l`ogin, `u`pdate, `v`erify, `c`reate); the rest is the body. Each answer
//! must not be a 5xx, must be in the endpoint's documented statuses and error shape, must
//! not echo the input, and must agree with what PRODUCT.md says of that body
//! (`keyward_fuzz::native`).
#![no_main]

use std::sync::LazyLock;

use keyward_fuzz::app::App;
use keyward_fuzz::native;
use libfuzzer_sys::fuzz_target;

static APP: LazyLock<App> = LazyLock::new(|| App::start(&[]));

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    match selector % 4 {
        0 => native::login(&APP, body),
        1 => native::update_key(&APP, body),
        2 => native::verify(&APP, body),
        _ => native::create_key(&APP, body),
    }
});
