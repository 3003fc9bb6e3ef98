//! # yonbip
//!
//! A typed client for the 用友 BIP / YonSuite (YonBIP) open API: the
//! self-built-app access token (signed, cached, refreshed), data-centre
//! gateway discovery by tenant id, merchants (客户档案) save / list /
//! detail, sales orders and products list / detail, a raw call for every
//! other API, an idempotent [`MerchantSink`], an incremental
//! [`MerchantSource`], and (feature `testing`) a faithful fake server.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), yonbip::Error> {
//! use futures::TryStreamExt;
//! use yonbip::testing::{FakeYonBip, CREATE_ORG, CUSTOMER_CLASS, TENANT_ID};
//! use yonbip::{Client, ListQuery, Merchant};
//!
//! let fake = FakeYonBip::start().await; // the real service: drop `discovery_url`
//! fake.seed_merchants(25);
//! let (app_key, app_secret) = FakeYonBip::credentials();
//! let client = Client::builder()
//!     .app_key(app_key)
//!     .app_secret(app_secret)
//!     .tenant_id(TENANT_ID)
//!     .discovery_url(fake.uri())
//!     .build()?;
//!
//! // Insert a merchant (`_status = Insert`), then read it back.
//! let merchant = Merchant::new("OKKI-1001", "上海恒通国际贸易有限公司", CREATE_ORG, CUSTOMER_CLASS);
//! let saved = client.merchants().insert(&merchant).await?;
//! let detail = client.merchants().detail(saved.id.as_ref().expect("an id")).await?;
//! assert_eq!(detail.name_text(), Some("上海恒通国际贸易有限公司"));
//!
//! // One page, or every page lazily.
//! let page = client.merchants().list(&ListQuery::new().page_size(10)).await?;
//! assert_eq!(page.record_count, Some(26));
//! let all: Vec<Merchant> = client.merchants().stream(ListQuery::new().page_size(10)).try_collect().await?;
//! assert_eq!(all.len(), 26);
//! # Ok(())
//! # }
//! ```
//!
//! ## Auth
//! [`Client::builder`] takes the app key and secret and either a tenant id
//! (the gateway and token base URLs are discovered from
//! `https://apigateway.yonyoucloud.com/open-auth/dataCenter/getGatewayAddress`
//! on first use) or both base URLs directly
//! ([`ClientBuilder::gateway_url`], [`ClientBuilder::token_url`]) for private
//! deployments. The token is fetched with the signature of
//! [`auth::signature`], cached for every clone, replaced five minutes before
//! its `expire`, and fetched again once when a call answers that it
//! expired. It travels as the `access_token` query parameter; bodies are
//! `application/json;charset=utf-8`.
//!
//! ## Errors
//! [`Error`] keeps the API's `code` and `message`. Business codes are
//! [`Error::Api`]; an expired token is [`Error::TokenExpired`] (refreshed
//! automatically); rejected credentials are [`Error::Auth`]; throttling is
//! [`Error::Throttled`] (retried); transport failures, HTTP statuses and
//! undecodable bodies (with a short redacted excerpt) are [`Error::Core`].
//! Every error converts into [`integration_core::Error`].
//!
//! ## Assumptions
//! The fact sheet marks these facts unknown or low-confidence; every one is
//! a constant or function in [`assumed`]:
//! - **Token-expired code**: `1090003500` (Low), and any failure whose
//!   message mentions the token and says it is invalid/expired/illegal; a
//!   non-2xx answer carrying such an envelope counts too.
//! - **Throttling**: HTTP 429, code `999` (Low), or a message about
//!   frequency/limits; retried with backoff honouring `Retry-After`. HTTP 5xx
//!   is retried; business codes are not. A 4xx answer carrying an envelope
//!   is decoded by its code; a 5xx answer is a retryable HTTP error whatever
//!   its body.
//! - **Maximum `pageSize`**: 500 (fact sheet "≤ 500", Medium); larger sizes
//!   are clamped. The last page is `pageIndex >= pageCount`; an empty
//!   `recordList` (or, without `pageCount`, a short page) also ends a stream.
//! - **Multilingual `name`**: always sent in object form `{"zh_CN": …}`
//!   ([`MultiLang`]); a plain string in an answer is read as `zh_CN`.
//! - **`merchantOptions`**: sent as JSON `true` (the scheme types it as a
//!   string); `"true"`/`1` are read as true.
//! - **Save body**: `{"data": {…}}` with `_status` `Insert` / `Update` +
//!   `id` (Medium). The save answer's `data` is the saved merchant.
//! - **Discovery host** (Medium) is configuration
//!   ([`ClientBuilder::discovery_url`]); a failed discovery or token answer
//!   (any code other than `00000`) is an authentication failure.
//! - **Token lifetime** without `expire`: 7200 s.
//! - **Modification time** for the incremental [`MerchantSource`]: the
//!   `pubts` field (Beijing time text), filtered with
//!   `simpleVOs: [{"field": "pubts", "op": "egt", "value1": …}]` (Low); the
//!   list is not assumed to be ordered by it, so the checkpoint is emitted
//!   with the last page.
//! - **Merchant list filters** `code` and `name` (Medium); the code filter is
//!   not trusted to be exact: [`Merchants::find_by_code`] checks the match.
//! - **Detail APIs** are `GET …/detail?id=` (Medium for merchants; Low for
//!   sales orders `yonbip/sd/voucherorder/detail` and products
//!   `yonbip/digitalModel/product/detail`). The typed sales-order and product
//!   field names are Low; everything else is kept in their `extra` maps.
//! - **Sink semantics**: the save takes one merchant per call, so a batch is
//!   written record by record; upsert by code is list-then-save (there is no
//!   native upsert), and a duplicate-code answer to an insert is retried as
//!   an update.
//! - The fake's own error codes for validation, not-found, unknown tenant
//!   and bad signature ([`testing::CODE_INVALID`] etc.) are invented in the
//!   documented style, as is its ±10 min timestamp tolerance.

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
pub use integration_core::Retry;
pub use list::{Condition, ListPage, ListQuery};
pub use merchant::{Merchant, Merchants, SaveStatus};
pub use product::{Product, Products};
pub use sales_order::{SalesOrder, SalesOrders};
pub use sink::MerchantSink;
pub use source::MerchantSource;
pub use types::MultiLang;
