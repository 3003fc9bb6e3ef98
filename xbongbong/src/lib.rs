//! xbongbong
pub mod auth;
pub mod client;
pub mod error;
pub mod form;
pub mod records;
pub mod sink;
pub mod source;
#[cfg(feature = "testing")]
pub mod testing;
pub mod users;
pub mod validate;
pub mod value;

pub use client::Client;
pub use error::{Error, Result};
