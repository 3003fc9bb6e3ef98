#![cfg_attr(docsrs, feature(doc_cfg))]
//! # jdy: 金蝶云星辰 (Kingdee jdy) open API, V1 and V2
//!
//! A typed client for both jdy API families behind one [`Client`], chosen
//! by the credentials you configure:
//!
//! - **V2** (星辰 OpenAPI, `/jdy/v2/...`): `push_app_authorize` →
//!   `kingdee_auth_token` → business calls signed with the `X-Api-*` headers
//!   ([`auth::sign`]), carrying `app-token` and `X-GW-Router-Addr`. The
//!   rotating app secret is fetched again when jdy answers `1030002006`.
//! - **V1** (精斗云 API, `/jdy/{module}/{x}_list`): access token from client
//!   id/secret and a user login, account group selection, `accountId` /
//!   `groupName` headers.
//!
//! Tokens are fetched lazily, shared by clones, refreshed before expiry and
//! once more on an expired-token answer. Every entity is a [`Resource`]
//! handle — purchase inbound ([`Client::pur_inbounds`]), sales outbound,
//! customers, suppliers, materials — with one page (`list`), all pages or
//! records lazily (`pages`/`stream`), `get`, `get_by_number` and `save`
//! where documented, plus [`Client::call_raw`] for everything else.
//! [`PurInboundSource`] reads purchase inbound bills with their lines
//! incrementally; [`CustomerSink`] and [`MaterialSink`] upsert by number.
//! The `testing` feature has a faithful fake server of both versions.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), jdy::Error> {
//! # use futures::TryStreamExt;
//! # use jdy::testing::{CLIENT_ID, CLIENT_SECRET, FakeJdy, OUTER_INSTANCE_ID};
//! # let fake = FakeJdy::start().await;
//! # fake.seed(30, 1);
//! use jdy::{Client, Error, PurInbound, PurInboundQuery, V2Credentials};
//!
//! let client = Client::builder()
//!     .base_url(fake.uri()) // the real service: leave it out
//!     .credentials(V2Credentials::new(CLIENT_ID, CLIENT_SECRET, OUTER_INSTANCE_ID))
//!     .build()?;
//! let bills = client.pur_inbounds();
//! let page = bills.list(&PurInboundQuery::default()).await?; // one page
//! let all: Vec<PurInbound> = bills.stream(PurInboundQuery::default()).try_collect().await?; // every bill, lazily
//! let one = bills.get(&page.items[0].id).await?; // one bill, with its lines
//! match bills.get(&"no-such-bill".into()).await {
//!     Err(err @ Error::Api { .. }) => println!("refused [{:?}]: {}", err.code(), err.message()),
//!     other => { other?; }
//! }
//! # assert_eq!((page.total, all.len()), (Some(30), 30));
//! # assert!(!one.material_entity.is_empty());
//! # assert!(matches!(bills.get(&"no-such-bill".into()).await, Err(Error::Api { .. })));
//! # Ok(())
//! # }
//! ```
//!
//! ## Map of the crate
//!
//! - [`Client`] / [`ClientBuilder`]: the shared settings (`base_url`,
//!   timeouts, rate limit, retries, ...) and the [`V2Credentials`] or
//!   [`V1Credentials`] that choose the version; [`Client::call_raw`].
//! - [`Client::check`]: the connection check (a fresh login and a tiny
//!   read; account book, company, user), changing no data.
//! - [`resources`]: the [`Resource`] handles [`Client::pur_inbounds`],
//!   [`Client::sal_out_bounds`], [`Client::customers`],
//!   [`Client::suppliers`], [`Client::materials`] (`list` answers one
//!   [`Page`](integration_core::paging::Page)).
//! - Queries ([`query`]): [`BillQuery`] ([`PurInboundQuery`],
//!   [`SalOutBoundQuery`]) and [`ListQuery`] ([`CustomerQuery`],
//!   [`SupplierQuery`], [`MaterialQuery`]), rendered for either version.
//! - [`model`]: the records, one type for both versions, unknown fields
//!   kept in `extra`.
//! - [`PurInboundSource`]; [`SaveSink`] ([`CustomerSink`],
//!   [`SupplierSink`], [`MaterialSink`]); [`auth`]: credentials, V1/V2 logins, the token cache and the V2 signature;
//!   [`error`]: [`Error`] in the shared vocabulary
//!   ([`integration_core::ErrorMeta`]).
//!
//! ## Assumptions
//!
//! The fact sheet leaves these open or marks them low-confidence; this is
//! what the crate does.
//!
//! - **Signing encoder** (unknown gateway rule): RFC 3986 unreserved
//!   characters are kept, everything else is `%XX` with upper-case hex, a
//!   space is `%20`. The wire query is encoded once with the same encoder,
//!   the signed copy twice. Names are encoded once (no effect for ASCII).
//! - **Nonce**: a random 10-digit positive integer per request.
//! - **Error codes**: only `0`, `1030002006` (app key check failed → fetch
//!   the authorisation again, retry once) and `2000002000` (system error,
//!   not retried: saves are not idempotent) are documented. Expired or
//!   invalid tokens, bad signatures, stale timestamps and throttling have no
//!   known codes; they are recognised by HTTP status (401 → token expired,
//!   429 → throttled) and by the message's words ("token" + 过期/失效/无效 →
//!   expired, [`Error::AuthExpired`]; 频繁/限流 → [`Error::Throttled`];
//!   签名/密钥/时间戳/密码 → rejected credentials, [`Error::Auth`]).
//!   Everything else is a business error ([`Error::Api`]) keeping code and
//!   message. The fake's own codes for these cases are in
//!   [`testing::codes`].
//! - **`push_app_authorize`**: POST with an empty JSON object body; success
//!   is `errcode == 0` (or `code` 0/200); rows with `status` other than 1
//!   are ignored; with several active account books, `account_id` must be
//!   configured. The authorisation is cached and fetched again only when
//!   the token call answers `1030002006`.
//! - **Token lifetimes**: V2 `app-token` 24 h (refreshed 1 h early). V1
//!   (corrected fact sheet): `data.expires_in` seconds when the token
//!   answer has it, as a number or numeric text, else 1 h
//!   ([`ClientBuilder::v1_token_ttl`]); refreshed early by half the
//!   lifetime, at most a minute, and on an expired-token answer. A null or
//!   empty `expires_in` counts as absent; any other value that is not a
//!   whole number ≥ 1 is a [`Decode`](integration_core::ErrorKind::Decode)
//!   error, not a guessed default; values over 30 days are capped. Before,
//!   `expires_in` was ignored and every V1 token was trusted 1 h. The
//!   "2 calls/minute" limit of `kingdee_auth_token` is respected by
//!   caching only.
//! - **`X-GW-Router-Addr`** is sent on `/jdy/v2/*` when the authorisation
//!   gives a `domain`, and left out otherwise (it used to be sent empty).
//!   Its enforcement is unconfirmed (the generated official PHP SDK never
//!   sends it), so the fake serves a call without it and refuses only a
//!   wrong value (`404 No Route`); it used to refuse a missing one.
//! - **V2 list parameters** travel in the GET query string, the documented
//!   form (BOM list page, a MES client), although the generated PHP SDK
//!   sends a JSON body on the GET; one function decides this for every V2
//!   GET. Parameters are sent only when set, each name once (an `extra`
//!   replaces a built-in one of its name; it used to be sent twice); lists
//!   (`dept_id`, `emp_id`, `supplier_id`, `customer_id`) are comma-joined;
//!   time ranges are unix milliseconds; the page size is clamped to 100.
//! - **V1 `pur_inbound_list`**: numbers (`page`, `pagesize`, the four
//!   timestamps with `-1` for "no filter") are sent as JSON numbers; the
//!   timestamps are taken to be milliseconds; several ids are comma-joined;
//!   basic-data lists map the modify range to `begintime`/`expiretime`.
//! - **V1 `groupName`** is sent as raw UTF-8 bytes in its header.
//! - **Unseen V1 paths** follow the documented pattern:
//!   `/jdy/sal/sal_outbound_detail`, `/jdy/basedata/customer_list`,
//!   `customer_detail`, `supplier_list`, `supplier_detail`; detail bodies are
//!   `{"id": …}` and the detail `data` is the record. No V1 material save.
//! - **V1 list end**: `totalpage`; otherwise a short or empty page.
//!   V2: `total_page`, else a short or empty page. Counts (`count`,
//!   `total_page`, `page`) may be numbers or numeric text; any other value,
//!   or a negative one, is a decode error naming the field (it used to be
//!   taken as "not sent").
//! - **Loose values** in records are read with core's
//!   [`integration_core::lenient`] rule (text trimmed; null and blank text
//!   absent; junk a decode error naming the field, e.g. `rows[3].qty`).
//! - **V2 lists may lack lines**: the source reads `…_detail` for rows with
//!   no `material_entity` (the fake's V2 list omits them; its V1 list has
//!   them). V2 ids are strings; V2 customer/supplier/material schemas beyond
//!   `id`/`number`/`name` are undocumented and kept in `extra`.
//! - **Times**: `yyyy-MM-dd HH:mm:ss` text is Beijing time; numeric times
//!   are unix milliseconds when ≥ 10^11, else seconds; `0`/`-1`/`""` mean
//!   unset.
//! - **Incremental reads**: on modify time, from the checkpoint minus an
//!   overlap (default 10 min) to the time the read began (fixed for all its
//!   pages); the checkpoint is the highest `modify_time` seen.
//! - **Save**: one record per call; idempotency by looking the number up
//!   (list `search`, exact match) and saving with the found id.
//! - **Connection check** ([`Client::check`]): the V2 check's read is one
//!   customer (`/jdy/v2/bd/customer`, `page_size=1`), whose `count` is
//!   reported.

pub mod auth;
mod check;
pub mod client;
mod de;
pub mod error;
pub mod model;
pub mod query;
pub mod resources;
pub mod sink;
pub mod source;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

pub use client::{
    ApiVersion, Client, ClientBuilder, Credentials, HttpMethod, V1Credentials, V2Credentials,
};
pub use error::Error;
pub use model::{BillEntry, Customer, Material, PurInbound, SalOutBound, SaveResult, Supplier};
pub use query::{
    BillQuery, BillStatus, CustomerQuery, ListQuery, MaterialQuery, PurInboundQuery,
    SalOutBoundQuery, SupplierQuery,
};
pub use resources::{Endpoints, Resource};
pub use sink::{CustomerSink, MaterialSink, SaveSink, SupplierSink};
pub use source::{DetailMode, PurInboundCursor, PurInboundSource};
