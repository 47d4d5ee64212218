//! The wire profiles of PRODUCT.md §11: each seed doc's requests, run as written against a
//! server with that profile on, and the profiles off by default beside the native API.

mod hex64;
mod profiles;
mod signalsmith;
mod simpledeploy;
mod skillett;
mod smplkit;
