//! What keyward's fuzz targets share: a reference model of the key format and of the
//! spec's field rules, an in-process keyward to send requests to, the properties every
//! answer must have, and each surface's endpoints with what the spec says they do.

pub mod app;
pub mod checks;
pub mod compat;
pub mod key_model;
pub mod native;
pub mod rules;
