//! Fuzz target: the wire profiles' request parsers (PRODUCT.md §11), sent through keyward's
//! whole router with every profile on, over a throwaway SQLite database.
//!
//! The first byte picks the operation and the rest is its input: `s` smplkit create, `p`
//! smplkit PATCH, `u` smplkit PUT, `d` simpledeploy create, `k` Skillett create, `x` the
//! Signalsmith `X-Workspace-ID` header on its revoking DELETE; any other byte picks one by
//! its value. Each answer must not be a 5xx, must be in the profile's statuses and error
//! shape, must not echo the input, and must agree with the seed doc's model of that body
//! (`keyward_fuzz::compat`).
#![no_main]

use std::sync::LazyLock;

use axum::http::Method;
use keyward_fuzz::app::App;
use keyward_fuzz::compat::{self, PROFILES};
use libfuzzer_sys::fuzz_target;

static APP: LazyLock<App> = LazyLock::new(|| App::start(&PROFILES));

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    let app = &*APP;
    match selector {
        b's' => compat::smplkit_create(app, input),
        b'p' => compat::smplkit_update(app, Method::PATCH, input),
        b'u' => compat::smplkit_update(app, Method::PUT, input),
        b'd' => compat::simpledeploy_create(app, input),
        b'k' => compat::skillett_create(app, input),
        b'x' => compat::signalsmith_header(app, input),
        other => match other % 6 {
            0 => compat::smplkit_create(app, input),
            1 => compat::smplkit_update(app, Method::PATCH, input),
            2 => compat::smplkit_update(app, Method::PUT, input),
            3 => compat::simpledeploy_create(app, input),
            4 => compat::skillett_create(app, input),
            _ => compat::signalsmith_header(app, input),
        },
    }
});
