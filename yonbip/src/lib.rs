#![cfg_attr(docsrs, feature(doc_cfg))]
//! # yonbip
//!
//! A typed client for the 用友 BIP / YonSuite (YonBIP) open API: the
//! self-built-app access token (signed, cached, refreshed), data-centre
//! gateway discovery by tenant id, resource handles for merchants (客户档案:
//! save, create, update, list, get), sales orders and products (list,
//! get), a raw call for every other API, an idempotent [`MerchantSink`],
//! an incremental [`MerchantSource`], and (feature `testing`) a faithful
//! fake server.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), yonbip::Error> {
//! # use futures::TryStreamExt;
//! # use yonbip::testing::{FakeYonBip, TENANT_ID};
//! # let fake = FakeYonBip::start().await;
//! # let codes = fake.seed_merchants(25);
//! # let (app_key, app_secret) = FakeYonBip::credentials();
//! use yonbip::{Client, Error, Merchant, MerchantQuery};
//!
//! let client = Client::builder().app_key(app_key).app_secret(app_secret).tenant_id(TENANT_ID).base_url(fake.uri()).build()?; // the real service: no base_url
//! let page = client.merchants().list(&MerchantQuery::new().page_size(10)).await?; // one page
//! let all: Vec<Merchant> = client.merchants().stream(MerchantQuery::new().page_size(10)).try_collect().await?; // every record, lazily
//! let one = client.merchants().get(page.items[0].id.as_ref().expect("an id")).await?; // one record
//! match client.merchants().get(&"42".into()).await {
//!     Err(Error::Api(f)) => println!("refused [{}]: {}", f.code_str().unwrap_or("-"), f.message),
//!     other => { other?; }
//! }
//! # assert_eq!((page.items.len(), page.total, all.len()), (10, Some(25), 25));
//! # assert_eq!(one.code.as_deref(), Some(codes[0].as_str()));
//! # Ok(())
//! # }
//! ```
//!
//! Writing: create a merchant (`_status = Insert`), update it by id, or
//! upsert by code through the [`MerchantSink`]:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), yonbip::Error> {
//! use yonbip::Merchant;
//! use yonbip::testing::{CREATE_ORG, CUSTOMER_CLASS, FakeYonBip};
//!
//! # let fake = FakeYonBip::start().await;
//! # let client = fake.client_builder().build()?;
//! let merchant = Merchant::new("OKKI-1001", "上海恒通国际贸易有限公司", CREATE_ORG, CUSTOMER_CLASS);
//! let saved = client.merchants().create(&merchant).await?;
//! let mut change = saved.clone();
//! change.contact_tel = Some("13800138000".into());
//! client.merchants().update(&change).await?;
//! let found = client.merchants().find_by_code("OKKI-1001").await?.expect("saved");
//! assert_eq!(found.contact_tel.as_deref(), Some("13800138000"));
//! # Ok(())
//! # }
//! ```
//!
//! ## Map of the crate
//! - [`Client`] / [`ClientBuilder`]: the shared settings (`base_url`, the
//!   discovery host; timeouts, rate limit, retries, ...), app key and
//!   secret, tenant id or fixed [`Endpoints`]; [`Client::call_raw`] /
//!   [`Client::call_raw_get`] for any API.
//! - [`Client::check`]: the connection check (a fresh token and one
//!   merchant; app key, gateway), changing no data.
//! - [`Client::merchants`] ([`Merchants`]): `save`, `create`, `update`,
//!   `list`, `pages`, `stream` ([`MerchantQuery`]), `get`, `find_by_code`.
//! - [`Client::sales_orders`] ([`SalesOrders`]) and [`Client::products`]
//!   ([`Products`]): `list`, `pages`, `stream` ([`SalesOrderQuery`],
//!   [`ProductQuery`]), `get`.
//! - Every `list` answers one [`Page`](integration_core::paging::Page):
//!   the records, `next` (the query of the next page, `None` after the
//!   last) and `total` (`recordCount`); [`list`] says how the end is found.
//!   The query types are one [`ListQuery`] (with [`Condition`]s).
//! - [`source`]: [`MerchantSource`]; [`sink`]: [`MerchantSink`].
//! - [`auth`] (the signature, token paths, the token fetch and cache), [`error`] ([`Error`]),
//!   [`assumed`] (every uncertain fact), [`types`] ([`MultiLang`]),
//!   [`testing`] (feature `testing`: the fake server).
//!
//! ## Auth
//! [`Client::builder`] takes the app key and secret and either a tenant id
//! (the gateway and token base URLs are discovered from
//! `https://apigateway.yonyoucloud.com/open-auth/dataCenter/getGatewayAddress`
//! on first use) or both base URLs directly
//! ([`ClientBuilder::gateway_url`], [`ClientBuilder::token_url`]) for private
//! deployments; the builder's other settings (`timeout`, `rate_limit`,
//! `retry`, `user_agent`, ...) are those of every connector
//! ([`integration_core::ClientSettings`]). The token is fetched from [`auth::TOKEN_PATH`] (the
//! `base/v1` path; [`ClientBuilder::token_path`] selects
//! [`auth::LEGACY_TOKEN_PATH`]) with the signature of
//! [`auth::signature`], cached for every clone, replaced five minutes before
//! its `expire`, and fetched again once when a call answers that it
//! expired. It travels as the `access_token` query parameter; bodies are
//! `application/json;charset=utf-8`.
//!
//! ## Errors
//! [`Error`] keeps the API's `code` and `message` (`code()`, `message()`,
//! `kind()` as on every connector's error,
//! [`ErrorMeta`](integration_core::ErrorMeta)). Business codes are
//! [`Error::Api`] (never retried, `999` included); an expired or illegal
//! token is [`Error::AuthExpired`] (refreshed automatically); rejected
//! credentials are [`Error::Auth`]; throttling is [`Error::Throttled`]
//! (retried); transport failures, HTTP statuses and
//! undecodable bodies (with a short redacted excerpt) are [`Error::Core`].
//! Every error converts into [`integration_core::Error`].
//!
//! ## Assumptions
//! The fact sheet marks these facts unknown, low- or medium-confidence;
//! every one is a constant or function in [`assumed`] (the documented token
//! paths are in [`auth`]). Items marked
//! *corrected 2026-12* changed after YonBIP's documentation pages and a
//! public client contradicted what the crate first assumed.
//! - **Token codes** (corrected 2026-12): [`assumed::TOKEN_EXPIRED_CODE`]
//!   `1090003500065` and [`assumed::ILLEGAL_TOKEN_CODE`] `310036` (非法token),
//!   on which a public client refreshes, whatever the message; other codes
//!   count when the message mentions the token and says it is
//!   过期/失效/非法/invalid/expired ([`assumed::mentions_expired_token`]). A
//!   non-2xx answer carrying such an envelope counts too. The crate used to
//!   assume `1090003500`, and one of its tests took `310036` for a
//!   duplicate-code error.
//! - **`999` is a business code** (corrected 2026-12):
//!   [`assumed::BUSINESS_ERROR_CODE`]; YonBIP's pages show it for
//!   客户名称已存在 and for a detail query without id. It is never retried,
//!   whatever its message, so a duplicate refused on save reaches the
//!   sink's insert-then-update like any business refusal. The crate used to
//!   take `999` for throttling.
//! - **Throttling**: there is no known throttling code; HTTP 429, or a
//!   message about 频繁/限流/too many requests
//!   ([`assumed::mentions_throttling`]), is retried with backoff honouring
//!   `Retry-After`. HTTP 5xx is retried; business codes are not. A 4xx
//!   answer carrying an envelope is decoded by its code; a 5xx answer is a
//!   retryable HTTP error whatever its body.
//! - **Token path** (corrected 2026-12): [`auth::TOKEN_PATH`]
//!   `/open-auth/selfAppAuth/base/v1/getAccessToken`, the path YonBIP's
//!   documentation names since 2023-07-21; the older
//!   [`auth::LEGACY_TOKEN_PATH`] (which the crate used before) is set with
//!   [`ClientBuilder::token_path`].
//! - **Maximum `pageSize`**: 500 (fact sheet "≤ 500", Medium); larger sizes
//!   are clamped. The last page is `pageIndex >= pageCount`; an empty
//!   `recordList` (or, without `pageCount`, a short page) also ends a stream.
//! - **Multilingual `name`**: always sent in object form `{"zh_CN": …}`
//!   ([`MultiLang`]); a plain string in an answer is read as `zh_CN`.
//! - **Values** are read with the shared lenient rule
//!   ([`integration_core::lenient`]): text, booleans, decimals and times
//!   as numbers or text, `null`/`""` absent, anything else a decode error
//!   naming the field (`recordList[3].payMoney`), never a silent default
//!   (a token `expire` that cannot be read fails the token call instead of
//!   meaning 7200 s).
//! - **`merchantOptions`** (corrected 2026-12): sent only when the caller
//!   sets [`Merchant::merchant_options`], as JSON `true`/`false` (the scheme
//!   types it as a string); public save examples send `false`, the scheme
//!   document's sample is `true`, so [`Merchant::new`] no longer sets it.
//!   `"true"`/`1` are read as true, `"false"`/`0` as false, `""` as unset
//!   (it used to read as false).
//! - **Save body**: `{"data": {…}}` with `_status` `Insert` / `Update` +
//!   `id` (Medium). The save answer's `data` is the saved merchant.
//! - **Discovery host** (Medium) is configuration
//!   ([`ClientBuilder::base_url`], also named
//!   [`ClientBuilder::discovery_url`]); a failed discovery or token answer
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
//!   native upsert), and a business refusal of an insert (such as `999` for
//!   a code another writer just took) is followed by a second lookup by
//!   code, and an update when the code is now found.
//! - The fake answers like YonBIP where the fact sheet says how (`999` for
//!   validation and duplicates, [`testing::CODE_INVALID`];
//!   `1090003500065`/`310036` for expired/illegal tokens; both token paths;
//!   HTTP 429 when throttling, optionally 客户名称已存在 with
//!   [`testing::FakeState::unique_names`]); its codes for not-found, unknown
//!   tenant and bad signature are invented in the documented style, as is
//!   its ±10 min timestamp tolerance.
//! - **Connection check** ([`Client::check`]): its read is one merchant of
//!   `merchant/list` (`pageSize` 1; a self-built app for this crate's scheme
//!   is granted the merchant APIs), whose `recordCount` is reported.

pub mod assumed;
pub mod auth;
mod check;
mod client;
pub mod error;
pub mod list;
pub mod merchant;
pub mod product;
pub mod sales_order;
pub mod sink;
pub mod source;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

pub mod types;

pub use client::{Client, ClientBuilder, Endpoints};
pub use error::{Error, Result};
pub use integration_core::Retry;
pub use list::{Condition, ListQuery};
pub use merchant::{Merchant, MerchantQuery, Merchants, SaveStatus};
pub use product::{Product, ProductQuery, Products};
pub use sales_order::{SalesOrder, SalesOrderQuery, SalesOrders};
pub use sink::MerchantSink;
pub use source::{MerchantCursor, MerchantSource};
pub use types::MultiLang;
