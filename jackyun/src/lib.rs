#![recursion_limit = "256"]
#![cfg_attr(docsrs, feature(doc_cfg))]
//! # jackyun — 吉客云 open platform connector
//!
//! A typed async client for the Jackyun (吉客云) open-platform gateway:
//! resource handles for customers, goods, sales orders, stock and
//! warehouses (one page, every page or row as a lazy stream), an
//! incremental [`TradeSource`], [`GoodsSource`] and [`CustomerSource`], an
//! idempotent [`CustomerSink`] and, behind the `testing` feature, a
//! faithful stateful fake of the gateway ([`testing::FakeJackyun`]).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), jackyun::Error> {
//! # use futures::TryStreamExt;
//! # use jackyun::testing::{APPKEY, FakeJackyun, SECRET};
//! # let fake = FakeJackyun::start().await;
//! # fake.seed(5, 12, 30, chrono::Utc::now());
//! use jackyun::{Client, Error, Goods, GoodsQuery, NewCustomer};
//!
//! let client = Client::builder().base_url(fake.uri()).app(APPKEY, SECRET).build()?; // the real service: no base_url
//! let page = client.goods().list(&GoodsQuery::default()).await?; // one page
//! let all: Vec<Goods> = client.goods().stream(GoodsQuery::default()).try_collect().await?; // every row, lazily
//! let one = client.customers().find_by_code("KH00001").await?; // one record
//! match client.customers().create(&NewCustomer::new("KH00001", "重复的客户")).await {
//!     Err(Error::Api(f)) => println!("refused: {f}"), // with subCode and contextId
//!     other => { other?; }
//! }
//! # assert_eq!((page.items.len(), all.len()), (12, 12));
//! # assert!(one.is_some());
//! # Ok(())
//! # }
//! ```
//!
//! Writing, and any method not typed yet:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), jackyun::Error> {
//! use jackyun::NewCustomer;
//! use jackyun::testing::FakeJackyun;
//!
//! # let fake = FakeJackyun::start().await;
//! # fake.seed(0, 0, 0, chrono::Utc::now());
//! # let client = fake.client();
//! let mut customer = NewCustomer::new("KH90001", "杭州云栖贸易有限公司");
//! customer.phone = Some("13800138000".into());
//! let created = client.customers().create(&customer).await?;
//! assert!(created.customer_id.is_some());
//! let found = client.customers().find_by_code("KH90001").await?;
//! assert_eq!(found.unwrap().nickname.as_deref(), Some("杭州云栖贸易有限公司"));
//!
//! // Same signing, retries and error decoding as the typed methods.
//! let raw = client.call_raw("erp.warehouse.get", serde_json::json!({"pageIndex": 0, "pageSize": 50})).await?;
//! assert_eq!(raw["warehouseInfo"][0]["warehouseName"], "杭州总仓");
//! # Ok(())
//! # }
//! ```
//!
//! ## Map of the crate
//! - [`Client`] / [`ClientBuilder`]: the shared settings (`base_url`,
//!   timeouts, rate limit, retries, ...) and the [`Credentials`];
//!   [`Client::call_raw`] / [`Client::call_reply`] for any method.
//! - [`Client::check`]: the connection check (one signed one-row read;
//!   app key, a warehouse, the request id), changing no data.
//! - [`Client::customers`] ([`Customers`]): `create` (`crm.customer.add`);
//!   `list`, `pages`, `stream` ([`CustomerListQuery`], `crm.customer.list`,
//!   by page number); `query`, `query_pages`, `query_stream`
//!   ([`CustomerQuery`], `crm.customer.list.customized`, `scrollId`);
//!   `find_by_code`.
//! - [`Client::goods`] ([`GoodsList`]): `list`, `pages`, `stream`
//!   ([`GoodsQuery`], `erp.storage.goodslist`, `maxSkuId` cursor).
//! - [`Client::trades`] ([`Trades`]): `list` (one page of at most 7 days),
//!   `pages`, `stream` (longer ranges split into 7-day windows)
//!   ([`TradeQuery`], `oms.trade.fullinfoget`, `fields`, `scrollId`).
//! - [`Client::stock`] ([`Stock`]): `list`, `pages`, `stream`
//!   ([`StockQuery`], `erp.stockquantity.get`, `maxQuantityId`).
//! - [`Client::warehouses`] ([`Warehouses`]): `list`, `pages`, `stream`
//!   ([`WarehouseQuery`], `erp.warehouse.get`).
//! - Every `list` answers one [`Page`](integration_core::paging::Page):
//!   the items, `next` (the query of the next page, `None` after the last)
//!   and `total` when the API sends one.
//! - [`source`]: [`TradeSource`], [`GoodsSource`], [`CustomerSource`];
//!   [`sink`]: [`CustomerSink`].
//! - [`auth`] (the sign), [`error`] ([`Error`], [`ApiErrorClass`]),
//!   [`testing`] (feature `testing`: the fake gateway).
//!
//! ## The gateway
//!
//! Every method is a form-encoded `POST` to `/open/openapi/do` with the
//! system parameters `method`, `appkey`, `version` (`v1.0`), `contenttype`
//! (`json`), `timestamp` (Beijing time, `yyyy-MM-dd HH:mm:ss`), `bizcontent`
//! (the business parameters as JSON text) and `sign` ([`auth::sign`]). Success
//! is `code == 200` even when `subCode` is not empty; `result.data` sent as
//! JSON text is decoded again. Error envelopes are classified
//! ([`error::ApiErrorClass`], by `subCode`, then by `msg`) into the
//! variants every connector of this workspace shares: [`Error::Api`] for
//! business refusals, [`Error::Auth`] for a rejected app, sign, token or
//! timestamp, [`Error::Throttled`]; each keeps the `subCode` (or `code`) as
//! its [`Code`](integration_core::error::Code), the `msg` and the
//! `contextId` (`request_id()`). Transport, HTTP and decode failures are
//! [`Error::Core`], bad settings and unbuildable requests [`Error::Config`].
//!
//! The builder's shared settings (`base_url`, `timeout`, `rate_limit`,
//! `retry`, `user_agent`, ...) are those of every connector
//! ([`integration_core::ClientSettings`]); see [`ClientBuilder`] for
//! Jackyun's defaults.
//!
//! ## Assumptions
//!
//! The public material on Jackyun is incomplete. Where it is unknown or of
//! low confidence, this crate chose:
//!
//! * **Sign**: `md5_hex(lowercase(secret + sorted key+value pairs + secret))`,
//!   skipping `sign`, `token`, `contextid` and empty values (high confidence,
//!   but no official vector exists: the tests pin self-computed ones). The
//!   sign is always sent lowercase; whether the gateway accepts uppercase is
//!   unknown.
//! * **`version`** is sent as `v1.0` (`1.0` and `V1.0` are also seen).
//! * **Timestamp skew** allowed by the gateway is unknown. A timestamp
//!   rejection (message containing `时间戳`) is retried, because every
//!   attempt is signed with a fresh timestamp; the fake allows 10 minutes.
//! * **Sub-codes** (one project's reading of the docs): `0858030801` sign,
//!   `0858030802` appkey, `0858030803` token (all authentication, not
//!   retried), `0130020310` not subscribed, `0859999999` throttled
//!   (retried), `0050030002` invalid parameter. Messages are used when the
//!   sub-code is unknown (`签名`, `时间戳`, `未订阅`, `频繁`/`限流`).
//!   The fake's sub-codes for a missing parameter, a stale timestamp and a
//!   duplicate customer are invented ([`testing`]).
//! * **Rate limit**: none is published; the client defaults to 5 calls/s.
//! * **ISV token**: sent unsigned as `token` when configured; how it is
//!   obtained is not public, so it is not fetched or refreshed. App mode
//!   (appkey + secret) has no session at all.
//! * **`crm.customer.add`**: which fields are required, the `gender` and
//!   `calendarType` values and the `birthday` format are unknown: they are
//!   sent as given text. `customerCode` and `nickname` are required by this
//!   crate (and by the fake). The answer's `data` shape is unknown: it is
//!   kept whole and the id read from `data`, `data.customerId` or `data.id`.
//!   The duplicate-code error is unknown; the sink looks the code up first
//!   and, on an add error whose message contains `已存在`, looks again.
//! * **Customer lists**: `crm.customer.list` returns the rows as `data`
//!   itself; `crm.customer.list.customized` is read as an object with one
//!   row array and a `scrollId` (its names are undocumented; any single
//!   array is accepted, several unknown arrays are a decode error). The
//!   sink's lookup is by `customerCodeArr`.
//! * **Paging**: `pageIndex` is 0-based, `pageSize` at most 200 everywhere
//!   (the client clamps; the maximum of `erp.stockquantity.get` and the
//!   customer lists is not documented). With a cursor (`maxSkuId`,
//!   `maxQuantityId`, `scrollId`) `pageIndex` stays 0 and the end is an empty
//!   page; page-numbered lists (`crm.customer.list`, `erp.warehouse.get`)
//!   end on a short page. Totals (`totalResults`) are reported in
//!   `Page::total` but never decide the end.
//! * **`erp.warehouse.get`** is assumed paged by `pageIndex`/`pageSize` with
//!   rows under `warehouseInfo` (`warehouseId`, `warehouseCode`,
//!   `warehouseName`; everything else kept in `extra`).
//! * **`erp.stockquantity.get`** field names come from client code only;
//!   the `goodsNo`/`skuBarcode` filters are not typed (use `extra`).
//! * **Trade windows** of more than 7 days are split into 7-day windows that
//!   share their boundary second (inclusive ends), so a trade modified
//!   exactly on a boundary may be read twice — never lost.
//! * **Goods source** filters on the SKU modification time
//!   (`startDateModifiedSku`, Beijing-time text assumed) and asks for
//!   deleted rows (`isQueryDelete: "1"`) to surface deletions.
//! * **Customer source** reads `crm.customer.list.customized` (its scroll
//!   cursor does not shift when rows change during a read, as page numbers
//!   would) filtered on `gmtModifiedBegin`/`gmtModifiedEnd` (Beijing-time
//!   text, inclusive, assumed as for the other lists). Whether deleted
//!   customers are listed is unknown; a row with `isDelete = 1` is a delete.
//! * **Values** are read with the shared lenient rule
//!   ([`integration_core::lenient`]): money and quantities as numbers or
//!   text decode to `Decimal`, integers and flags from numbers or numeric
//!   text, `""`/`null` are absent, anything else is a decode error naming
//!   the field (`[3].payment`). Times are Beijing-time text or, as some
//!   methods send, unix-ms numbers.
//! * **Connection check** ([`Client::check`]) reads one row of
//!   `erp.warehouse.get`, assumed to be subscribed by every app that reads
//!   goods, stock or trades; an app subscribed to other methods only fails
//!   the check as refused (`未订阅`), which says which method to subscribe.

pub mod auth;
mod check;
pub mod client;
pub mod customer;
mod de;
pub mod error;
pub mod goods;
pub mod sink;
pub mod source;
pub mod stock;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
pub mod trade;

pub use auth::Credentials;
pub use client::{Client, ClientBuilder, Reply};
pub use customer::{
    Customer, CustomerCreated, CustomerListQuery, CustomerQuery, Customers, NewCustomer,
};
pub use error::{ApiErrorClass, Error, Result};
pub use goods::{Goods, GoodsList, GoodsQuery};
pub use sink::{CustomerSink, OnExisting};
pub use source::{CustomerSource, GoodsSource, TradeCursor, TradeSource, WindowCursor};
pub use stock::{Stock, StockQuantity, StockQuery, Warehouse, WarehouseQuery, Warehouses};
pub use trade::{Trade, TradeGoods, TradeQuery, Trades};
