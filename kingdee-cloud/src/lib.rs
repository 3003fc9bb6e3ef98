#![cfg_attr(docsrs, feature(doc_cfg))]
//! # kingdee-cloud
//!
//! A typed connector for the 金蝶云星空 (Kingdee K/3 Cloud) WebAPI: the
//! app-signature auth of Kingdee's current official SDKs and the older
//! session logins, every common form operation generic over the form id,
//! resource handles ([`Form`]: one page, every page or row as a lazy
//! stream, get, save) over ExecuteBillQuery, typed `BD_Customer` and
//! `SAL_SaleOrder` models, an upserting BatchSave [`sink`], an incremental
//! [`source`], and (feature `testing`) a stateful fake of the service.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), kingdee_cloud::Error> {
//! # use futures::TryStreamExt;
//! # use kingdee_cloud::testing::FakeK3Cloud;
//! # let fake = FakeK3Cloud::start().await;
//! # fake.seed_customers(3);
//! use kingdee_cloud::{Client, Error};
//!
//! let client = Client::builder()
//!     .base_url(fake.server_url()) // your site: "https://erp.example.com/k3cloud"
//!     .app_signature(FakeK3Cloud::app_credentials())
//!     .build()?;
//! let customers = client.customers();
//! let query = customers.query(["FNumber", "FName"]);
//! let page = customers.list::<(String, String)>(&query).await?; // one page
//! let all: Vec<(String, String)> = customers.stream(query).try_collect().await?; // every row, lazily
//! let one: serde_json::Value = customers.get("C00001").await?; // one record
//! match customers.get::<serde_json::Value>("C99999").await {
//!     Err(Error::Api(f, _)) => println!("refused [{}]: {}", f.code_str().unwrap_or("-"), f.message),
//!     other => { other?; }
//! }
//! # assert_eq!((page.items.len(), all.len()), (3, 3));
//! # assert_eq!(one["Number"], "C00001");
//! # Ok(()) }
//! ```
//!
//! Writing goes through the upserting [`CustomerSink`] (or any
//! [`FormSink`]), which a pipeline drives, or directly:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), kingdee_cloud::Error> {
//! use integration_core::{Op, Sink, SinkRecord, WriteOutcome};
//! use kingdee_cloud::testing::FakeK3Cloud;
//! use kingdee_cloud::{BaseDataRef, Customer, CustomerSink, SaveOptions};
//!
//! # let fake = FakeK3Cloud::start().await;
//! # let client = fake.client_builder().build()?;
//! let sink = CustomerSink::new(client.clone())
//!     .batch_size(200)
//!     .options(SaveOptions::new().is_auto_submit_and_audit(true).is_verify_base_data_field(false));
//! let record = SinkRecord {
//!     key: "cid-1".into(),
//!     op: Op::Upsert,
//!     data: Customer {
//!         number: Some("cid-1".into()),
//!         name: Some("王小明".into()),
//!         create_org: Some(BaseDataRef::number("100")),
//!         use_org: Some(BaseDataRef::number("100")),
//!         ..Customer::default()
//!     },
//! };
//! let outcomes = sink.write(&[record]).await?;
//! assert!(matches!(outcomes[0], WriteOutcome::Written { .. }));
//!
//! let customers = client.customers();
//! let page = customers
//!     .list::<(String, String)>(&customers.query(["FNumber", "FName"]).filter("FNumber = 'cid-1'"))
//!     .await?;
//! assert_eq!(page.items, vec![("cid-1".to_owned(), "王小明".to_owned())]);
//! # Ok(()) }
//! ```
//!
//! ## Map of the crate
//! - [`Client`] / [`ClientBuilder`]: the shared settings (`base_url`, alias
//!   `server_url`, timeouts, rate limit, retries, ...), the [`Auth`] mode,
//!   [`BodyStyle`]; [`Client::call_raw`] for any service.
//! - [`Client::check`]: the connection check (data centre, user, app), changing no data.
//! - [`forms`]: resource handles [`Client::customers`],
//!   [`Client::sale_orders`], [`Client::form`] with `list`, `pages`,
//!   `stream`, `get`, `save`, `batch_save`, `delete`.
//! - [`auth`]: session logins, cookies and the session cache; [`auth::sign`] (the pure signing function, pinned by the
//!   fact sheet's vectors), [`auth::derive_client_secret`], session cookies.
//! - [`operations`]: Save, BatchSave, Draft, Submit, Audit, UnAudit, Delete,
//!   View, Allocate, ExcuteOperation; [`ResponseStatus`] with errors by
//!   `DIndex` ([`OperationResult::outcomes`]).
//! - [`query`]: ExecuteBillQuery (rows decoded into your type by field-key
//!   order), BillQuery,
//!   QueryBusinessInfo, GetDataCenterList.
//! - [`models`]: [`Customer`], [`SaleOrder`], [`BaseDataRef`]; custom
//!   `F_xxx` fields kept in `extra`.
//! - [`sink`]: [`sink::CustomerSink`], [`sink::SaleOrderSink`],
//!   [`sink::JsonFormSink`] (upsert by number, see the module docs).
//! - [`source`]: [`source::FormSource`], incremental on `FModifyDate`.
//! - `testing` (feature): [`testing::FakeK3Cloud`].
//!
//! ## Session handling
//! App-signature mode signs every request (fresh timestamp per attempt) and
//! sends back the `kdservice-sessionid` cookie the server sets; on a
//! "session lost" answer (`MsgCode` 1) it drops the cookies and repeats the
//! call once. Session modes (`ValidateUser`, `LoginByAppSecret`) log in on
//! first use (concurrent callers share one login through
//! `integration_core::auth::TokenCache`), send only the cookie, and on
//! `MsgCode` 1 log in again and repeat the call once. A lost session fails
//! the whole call before anything is saved, so repeating it neither loses
//! nor duplicates records.
//!
//! ## Assumptions
//! Facts the fact sheet marks unknown or low/medium confidence, and the
//! choice made:
//! - **`MsgCode` table** (corrected 2026-12, from the table in Kingdee's own
//!   WebAPI documentation pages, repeated by independent clients; it
//!   replaces an earlier guess of 4 = duplicate, 9 = business rule, 11 = no
//!   permission, 12 = not found): 1 session lost, 2 no permission, 4
//!   exception, 7 licence, 8 bad argument, 9 field/value does not exist, 10
//!   not found, 11 validation failed, 12 not operable, 13 network-control
//!   lock, 14 call limit, 15 administrator login forbidden
//!   ([`error::msg_code`]). What each means for a caller is decided in one
//!   place, [`error::classify`]:
//!   - 1: [`Error::AuthExpired`]; one re-login (or fresh signature and
//!     cookies) and one repeat.
//!   - 2, 7, 15: [`Error::Auth`], permanent; a sink's whole batch failing
//!     so stops the run with the code's meaning in the message.
//!   - 14: [`Error::Throttled`] (`ErrorKind::RateLimited`), retried by the
//!     transport with backoff.
//!   - 13: retryable later: a refused model is a retryable record failure
//!     (the pipeline sends it again alone after a backoff); a refused
//!     single Save is an [`Error::Api`] whose `is_retryable()` is true.
//!   - 11 and every other code (unknown ones included): a business refusal
//!     of the record, [`Error::Api`] for a single operation, never retried.
//! - **Save/BatchSave answers are read model by model whatever their
//!   `MsgCode`**: real sites answer a duplicate number
//!   (`违反字段唯一性要求：编码唯一…`) or "单据已经审核" with `MsgCode` 11,
//!   `IsSuccess` false and the per-model `Errors` by `DIndex`. Only an
//!   answer that saved nothing and carries 1, 2, 7, 14 or 15 fails the
//!   whole call ([`ResponseStatus::fails_whole_call`]); when the call
//!   limit or a lock (14, 13) is hit midway, the refused models are
//!   retryable record failures.
//! - **Session-lost wording**: "会话信息已丢失，请重新登录" with
//!   `ErrorCode` 500; any `MsgCode` 1 with `IsSuccess = false` triggers the
//!   re-login.
//! - **Bad app signature**: answered with HTTP 200 and a `ResponseStatus`
//!   with `MsgCode` 2, `IsSuccess` false (the fake does so). A
//!   `response_error:` body maps to [`Error::ResponseError`] either way.
//! - **Throttling**: `MsgCode` 14 (the fake throttles so, with an assumed
//!   message), HTTP 429 and 5xx are all retried with backoff; K/3 Cloud
//!   sends no retry-after hint.
//! - **Timestamp tolerance** of `x-api-timestamp`: ±15 minutes (the fake
//!   enforces it); keep the host clock synchronised. The client sends
//!   seconds, as Kingdee's Python and PHP SDKs do; the official Java SDK
//!   sends milliseconds, and the fake accepts both (corrected 2026-12).
//! - **ExecuteBillQuery `Limit` maximum**: 10 000 ([`query::MAX_LIMIT`]);
//!   larger limits are clamped. Pages end at the first short (or empty)
//!   page. `TopRowCount` is passed through and also stops the stream once
//!   that many rows were read.
//! - **Query error shape**: an array holding an object with
//!   `Result.ResponseStatus`, either `[{…}]` or `[[{…}]]`; both are decoded.
//!   A `ResponseStatus` with `IsSuccess` true instead of rows is read as no
//!   rows (an empty page), for ExecuteBillQuery and BillQuery alike; any
//!   other non-array answer is a decode error.
//! - **Session login bodies** (Medium): `ValidateUser` with `acctID`,
//!   `username`, `password`, `lcid`; `LoginByAppSecret` with `acctid`,
//!   `username`, `appid`, `appsecret`, `lcid`; success is
//!   `LoginResultType == 1` (any other value is [`Error::Auth`]). The
//!   session is kept until the service says it is lost (no expiry known).
//! - **`x-kdapi-secpwd`**: a configured value replaces the SDK's four
//!   8-character blocks before ROT13 ([`AppCredentials::secpwd`]).
//! - **No default server URL**: every K/3 Cloud site (on premises or
//!   Kingdee's cloud) has its own host and virtual directory, and the
//!   official SDK has no default either, so [`ClientBuilder::build`]
//!   requires [`ClientBuilder::server_url`].
//! - **BatchSave partial success** (Medium): `IsSuccess` false while the
//!   other models are saved; outcomes come from `SuccessEntitys`/`Errors` by
//!   `DIndex`. A model reported by neither is a retryable failure (the
//!   upsert makes the retry safe).
//! - **Upsert**: the sink looks numbers up (`FNumber in (…)`) and sets the
//!   internal id, rather than relying on `NumberSearch` (which resolves
//!   base-data references, not the record's identity). On sites where
//!   base data is allocated to several organisations under one number, set
//!   [`sink::FormSink::lookup_filter`] (e.g. `FUseOrgId.FNumber = '100'`).
//! - **Number taken** (Medium): a model refused (`MsgCode` 11) with a
//!   message containing `唯一` (`违反字段唯一性要求：编码唯一…`) on the
//!   number field, or on no field, lost its number to another writer or to its own earlier save
//!   (applied although the answer timed out, then sent again by the
//!   transport): the sink looks it up once more and saves it as an update.
//!   Updating an audited record may need UnAudit first on a real site; the
//!   fake accepts updates of audited records.
//! - **Dates**: query answers carry `yyyy-MM-ddTHH:mm:ss.fff` in the site's
//!   local time; filters are written as `'yyyy-MM-dd HH:mm:ss'`; the site
//!   is assumed to run on Beijing time (UTC+08:00).
//! - **Decimals** are sent as JSON numbers when exactly representable,
//!   otherwise as text (the service parses both, Medium).
//! - **GetDataCenterList** is posted with an empty JSON object and needs no
//!   login; the answer is a list of `{Id, Number, Name, …}`.
//! - **View** answers with the service's internal property names
//!   (`Number`, `Name`, …) in real deployments; the fake returns the stored
//!   `F…` fields plus `Id`, `Number` and `DocumentStatus`.
//! - **Fake messages** (required field, duplicate number, wrong status,
//!   call limit, licence, network-control lock) are modelled on Kingdee's
//!   wording but not verified byte for byte. The fake answers malformed
//!   arguments with `MsgCode` 8 and a missing form id with 5 (assumed).
//! - **Array `FilterString`**: the current documentation also types it as
//!   an array of condition objects whose compare codes the fact sheet does
//!   not list; the client sends the string form every SDK sample uses, and
//!   the fake refuses the array form with `MsgCode` 8 rather than answer
//!   every row for a filter it cannot evaluate.
//! - Not implemented: the SDK's asynchronous polling mode
//!   (`BeginQueryImpl`/`QueryAsyncResult`) and the other services of the
//!   SDK (Push, FlexSave, attachments...), which remain reachable through
//!   [`Client::call_raw`].
//! - **Connection check** ([`Client::check`]): app-signature clients read
//!   one `FNumber` of `BD_Customer` (every site has customers; a user
//!   without the right to read them fails the check as refused), after the
//!   unsigned `GetDataCenterList` that names the data centre; session
//!   logins check by logging in, whose `Context` is assumed to carry
//!   `UserName`, `UserId`, `DBid` and `DataCenterName`.

pub mod auth;
mod check;
pub mod client;
pub mod error;
pub mod forms;
pub mod models;
pub mod operations;
pub mod query;
pub mod sink;
pub mod source;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

pub use auth::{AppCredentials, Auth};
pub use client::{BodyStyle, Client, ClientBuilder};
pub use error::{Error, Result};
pub use forms::{CustomerQuery, Form, SaleOrderQuery};
pub use models::{BaseDataRef, Customer, FormModel, SaleOrder, SaleOrderEntry, SaleOrderFinance};
pub use operations::{
    AllocateRequest, FieldError, ModelOutcome, OperateRequest, OperationResult, ResponseStatus,
    SaveOptions, SuccessEntity, ViewRequest,
};
pub use query::{BillQuery, BusinessInfo, DataCenter};
pub use sink::{CustomerSink, FormSink, FormSinkConfig, JsonFormSink, SaleOrderSink};
pub use source::{FormSource, FormSourceConfig};
