#![cfg_attr(docsrs, feature(doc_cfg))]
//! # okki
//!
//! A typed async client of the 小满 OKKI CRM open API (xiaoman.cn), an
//! incremental [`integration_core::Source`] of companies with their
//! contacts, and (feature `testing`) a stateful fake OKKI server.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), okki::Error> {
//! # use futures::TryStreamExt;
//! # use okki::testing::FakeOkki;
//! # let fake = FakeOkki::start().await;
//! # fake.seed_demo(30);
//! use okki::{Client, CompanyQuery, Error};
//!
//! let client = Client::builder()
//!     .base_url(fake.uri()) // the real service: leave the default base URL
//!     .credentials(FakeOkki::credentials()) // yours: client id, secret, scopes
//!     .build()?;
//! let companies = client.companies();
//! let page = companies.list(&CompanyQuery::new().page_size(10)).await?; // one page
//! let all: Vec<_> = companies.stream(CompanyQuery::new()).try_collect().await?; // every row, lazily
//! let one = companies.get(&page.items[0].company_id).await?; // one company, with its contacts
//! match companies.get(1).await {
//!     Err(Error::Api(f)) => println!("refused: {f}"), // its code and message
//!     other => { other?; }
//! }
//! # assert_eq!((page.items.len(), page.total, all.len()), (10, Some(30), 30));
//! # assert!(!one.customers.is_empty());
//! # Ok(())
//! # }
//! ```
//!
//! ## Map of the crate
//!
//! * [`Client`] / [`ClientBuilder`]: [`Credentials`] (`client_credentials`
//!   or `password`), plus the settings every connector's builder shares
//!   ([`integration_core::ClientSettings`]: `base_url` (default the real host
//!   [`DEFAULT_BASE_URL`]), `timeout` and `connect_timeout` (60 s each),
//!   `rate_limit` (5 requests/s), `retry`, `user_agent`, ...). Tokens are
//!   fetched lazily, shared by clones, renewed 5 minutes before their JWT
//!   `exp`, and fetched again once when a call is answered with HTTP 401 /
//!   `access_denied` ([`Error::AuthExpired`]).
//! * [`Error`]: the variants every connector here has (`Api`, `Auth`,
//!   `AuthExpired`, `Throttled`, `Config`, `Core`) plus `Webhook`, with
//!   OKKI's codes as [`integration_core::error::Code`] and the shared
//!   metadata (`code()`, `message()`, `kind()`, ...) of
//!   [`integration_core::ErrorMeta`].
//! * Resource handles, each a cheap clone of the client whose streams are
//!   `Send + 'static`: [`Client::companies`] ([`Companies`]: `list`,
//!   `pages`, `stream`, `get`, `contacts`, `save`, `delete`),
//!   [`Client::opportunities`] ([`Opportunities`]), [`Client::orders`]
//!   ([`Orders`]) (`list`, `pages`, `stream`, `get`) and [`Client::users`]
//!   ([`Users`]: `list`, `pages`, `stream`, `get`). A page is an
//!   [`integration_core::paging::Page`] whose `next` is the query of the
//!   following page; the queries are [`CompanyQuery`], [`OpportunityQuery`],
//!   [`OrderQuery`] and [`UserQuery`]. Records are typed, with unknown and
//!   custom fields kept in `extra`; amounts are [`rust_decimal::Decimal`],
//!   ids [`integration_core::types::Id`], times
//!   [`integration_core::types::BeijingTime`] (`1970-01-01 00:00:00` and
//!   `""` read as `None`); loose values are read with
//!   [`integration_core::lenient`], and a value that cannot be read is a
//!   decode error naming its field (`list[3].amount`).
//! * [`Client::call_raw`] for every other endpoint.
//! * [`Client::check`]: the connection check (a fresh token and one tiny
//!   read; client id, grant, scopes, user), changing no data.
//! * [`CompanySource`]: list-then-detail, incremental on update time, with
//!   deletions as [`integration_core::Op::Delete`] records.
//! * [`webhook`]: the delivery signature ([`webhook::signature`]) and
//!   payload decryption, pinned by the fact sheet's vectors.
//!
//! ## Assumptions
//!
//! Facts the fact sheet marks unknown or low-confidence, and the choice made:
//!
//! * **Writing one company field** ([`CompanyFieldWriteBack`],
//!   [`Companies::set_fields`]): `pushCompanyAndCustomers` with the
//!   `company_id`, the field and an empty `customers` list is taken to edit
//!   only that field and no contact, and to need no `name` on an edit (the
//!   fact sheet marks `name` required without saying whether for edits;
//!   sending the name read earlier could undo a rename made since). A
//!   custom field is read back from a top-level key named by its id, or
//!   from `external_field_data` (a map or a list of `{id, value}`).
//! * **Page size maximum**: undocumented; `count=100` works live, so page
//!   sizes are clamped to 1..=100 ([`MAX_PAGE_SIZE`]). The fake caps at 100 too.
//! * **End of a list**: a page shorter than `count`, or `page × count ≥
//!   totalItem` (orders: `data.count`). An empty list may come as
//!   `data: []` or `null` and is read as empty. A total that cannot be read
//!   is a decode error. The other keys of a list's `data` are not kept on
//!   the page; read them with [`Client::call_raw`].
//! * **Empty values**: OKKI's PHP backend sends `[]` for empty data; an
//!   empty array (or object) where text, an owner or a follow-up status is
//!   expected is read as absent. Any other non-text value there is a decode
//!   error.
//! * **`company/list` order**: undocumented; nothing relies on it. The fake
//!   sorts by `update_time` descending, then `company_id` descending.
//! * **`removed=1`** on `company/list` lists *only* deleted companies, and
//!   its `time_type=1` window filters on the time of deletion (the last
//!   update).
//! * **Time windows**: sent as `YYYY-MM-DD HH:MM:SS` Beijing time and taken
//!   as inclusive at second precision. A first full read starts at
//!   2000-01-01 00:00:00 (configurable) so that every read has a closed
//!   window.
//! * **Rejected token**: HTTP 401 or a body with `"error":"access_denied"`
//!   (exact body unknown); the fake sends HTTP 401
//!   `{"error":"access_denied","error_description":…,"hint":…,"message":…}`.
//! * **Missing scope**: message `no permission <scope> scopes`; the
//!   status/envelope is unknown. The fake answers HTTP 200 with
//!   `{"code":403,"message":"no permission <scope> scopes"}`; the client
//!   treats code 403 or a message starting with `no permission` (and `No
//!   Privilege`) as an authorisation failure ([`Error::Auth`]), not retried.
//! * **Throttling**: none documented. HTTP 429 and 5xx are retried for
//!   reads; the fake's throttle answer is HTTP 429
//!   `{"code":429,"message":"Too Many Requests","data":[]}`. A client-side
//!   limit of 5 requests/s (burst 5) is the default.
//! * **Writes are not replayed** after a timeout or a 5xx (no idempotency
//!   keys); only a 429 refusal is retried.
//! * **Success code**: `code` 200, and also 0 (the docs' filler examples);
//!   the fake always sends 200.
//! * **Token body**: the token request is sent as JSON (checked live by one
//!   client); the fake accepts JSON and form. The refresh request is a form.
//! * **Token lifetime**: the JWT's `exp` claim (read without verifying the
//!   signature, floats allowed), else `expires_in`, else 8 hours. A
//!   re-fetched token may keep its first expiry; the fake models this.
//! * **Password hash**: lowercase hex SHA-256 ([`auth::hash_password`]).
//! * **Refresh tokens** (password grant only) are used first when renewing;
//!   if refused, the client logs in again with the password.
//! * **Token header**: `Authorization: Bearer <jwt>`; the fake accepts the
//!   raw JWT too.
//! * **Company detail 404 during a source read** is read as a deletion
//!   (`Op::Delete` with the list row), since deleted companies answer
//!   `404 Not Found Resource`; `404 No Privilege` is an error instead.
//! * **Webhook vectors**: the fact sheet elides both `X-Timestamp` values;
//!   the tests use the ones for which the published signatures verify
//!   (`1758876283`, equal to the message id's uniqid prefix, and
//!   `1700000000`).
//! * **`now`** in the envelope is ignored; all record times are read as
//!   Beijing time.
//! * **Contacts** have no list endpoint; they are read from `company/info`.
//! * **Remove of a private-pool company**: the fake refuses it with
//!   `{"code":404,"message":"No Privilege"}` (the real answer is unknown).
//! * **Connection check** ([`Client::check`]): its tiny read is
//!   `company/list` with `count=1` when the token has the `company` scope,
//!   else `user/list` with `user`; the token's `sub` claim is reported as
//!   the user id and its `scopes` claim as the granted scopes (the docs
//!   show both in their example tokens).

pub mod auth;
mod check;
pub mod client;
pub mod companies;
pub mod error;
mod lenient;
pub mod opportunities;
pub mod orders;
mod pagination;
pub mod source;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
pub mod users;
pub mod webhook;
pub mod write_back;

pub use auth::{Credentials, Grant};
pub use client::{Client, ClientBuilder, DEFAULT_BASE_URL, MAX_PAGE_SIZE};
pub use companies::{
    Companies, Company, CompanyInput, CompanyQuery, CompanyRef, CompanySummary, CompanyTimeType,
    Contact, ContactInput, Pool, PushedCompany,
};
pub use error::{Error, Result};
pub use opportunities::{Opportunities, Opportunity, OpportunityQuery, OpportunityRef};
pub use orders::{Order, OrderLine, OrderQuery, OrderRef, OrderTimeType, Orders};
pub use source::{CompanyCursor, CompanySource};
pub use users::{User, UserQuery, UserRef, UserState, Users};
pub use write_back::CompanyFieldWriteBack;
