//! jdy
#![allow(missing_docs)]

pub mod auth;
pub mod client;
mod de;
pub mod error;
pub mod model;
pub mod query;
pub mod resources;
pub mod sink;
pub mod source;

pub use client::{ApiVersion, Client, ClientBuilder, Credentials, V1Credentials, V2Credentials};
pub use error::Error;
#[cfg(feature = "testing")]
pub mod testing;
