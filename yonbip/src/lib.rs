//! # yonbip
//!
//! (docs written below)

pub mod assumed;
pub mod auth;
mod client;
pub mod error;
pub mod list;
pub mod merchant;
pub mod product;
pub mod sales_order;
pub mod sink;
pub mod source;
#[cfg(feature = "testing")]
pub mod testing;


pub mod types;

pub use client::{Client, ClientBuilder, Endpoints};
pub use error::{Error, Result};
pub use list::{Condition, ListPage, ListQuery};
pub use merchant::{Merchant, Merchants, SaveStatus};
pub use product::{Product, Products};
pub use sales_order::{SalesOrder, SalesOrders};
pub use sink::MerchantSink;
pub use source::MerchantSource;
pub use types::MultiLang;
pub use integration_core::Retry;
