#![cfg_attr(docsrs, feature(doc_cfg))]
//! # netease-huke
//!
//! A typed client for the 网易互客 (NetEase Huke) SCRM open API, incremental
//! [`Source`](integration_core::Source)s of its trades and buyers, and (feature
//! `testing`) a faithful fake server.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! # use futures::TryStreamExt;
//! # use integration_core::types::UnixMillis;
//! # use netease_huke::testing::FakeHuke;
//! # let fake = FakeHuke::start().await;
//! # fake.seed_trades(40, 1); // 40 trades over the last 180 days
//! # let now = chrono::Utc::now();
//! # let (from, to) = (UnixMillis::from_utc(now - chrono::Duration::days(200)), UnixMillis::from_utc(now));
//! use netease_huke::{Client, Error, TimeRange, TradeQuery, trade::time_type};
//!
//! let client = Client::builder()
//!     .base_url(fake.base_url()) // the real service: leave the default base URL
//!     .credentials(FakeHuke::credentials()) // yours: .app_key(key).app_secret(secret)
//!     .build()?;
//! let trades = client.trades();
//! let query = TradeQuery::new().time_range(TimeRange::new(time_type::CREATED, from, to)).page_size(15);
//! let page = trades.list(&query).await?; // one page
//! let all: Vec<_> = trades.stream(query.clone()).try_collect().await?; // every trade, lazily
//! let one = &page.items[0]; // no trade detail endpoint is known: a trade is read from its page
//! match trades.list(&TradeQuery::new().time_range(TimeRange::new(99, from, to))).await {
//!     Err(Error::Api(f)) => println!("refused: {f}"), // its code and msg
//!     other => { other?; }
//! }
//! # assert_eq!((page.items.len(), page.total, all.len()), (15, Some(40), 40));
//! # assert!(one.buyer_nick.is_some() && one.buyer_cid.is_some());
//! # Ok::<(), netease_huke::Error>(())
//! # }).unwrap();
//! ```
//!
//! ## Map of the crate
//!
//! - [`Client`] / [`ClientBuilder`]: credentials, plus the settings every
//!   connector's builder shares ([`integration_core::ClientSettings`]:
//!   `base_url` (default `https://huke.163.com/openapi`), `timeout` (30 s),
//!   `rate_limit` (5 requests/s), `retry`, `user_agent`, ...);
//!   [`Client::call_raw`] for any endpoint, signed and decoded like the typed
//!   ones.
//! - [`Client::check`]: the connection check (one signed `customer/fields`
//!   read), changing no data.
//! - [`Error`]: the variants every connector here has (`Api`, `Auth`,
//!   `AuthExpired`, `Throttled`, `Config`, `Core`), with Huke's `code` as an
//!   [`integration_core::error::Code`] and the shared metadata (`code()`,
//!   `message()`, `kind()`, ...) of [`integration_core::ErrorMeta`].
//! - [`auth::sign_request`]: the whole signature scheme in one pure function,
//!   pinned by the fact sheet's vectors.
//! - Resource handles, each a cheap clone of the client whose streams are
//!   `Send + 'static`: [`Client::trades`] ([`Trades`]: `trade/searchTrades`
//!   as one page with [`Trades::list`], every page or every trade as lazy
//!   streams with [`Trades::pages`] and [`Trades::stream`], queried with a
//!   [`TradeQuery`]) and [`Client::customers`] ([`Customers`]:
//!   `customer/fields` with [`Customers::fields`], `customer/addCustomer`
//!   with [`Customers::create`]). A page is an
//!   [`integration_core::paging::Page`] whose `next` is the query of the
//!   following page.
//! - Loose values (ids, nicknames, totals, amounts, times) are read with
//!   [`integration_core::lenient`]: blank is absent, and a value that cannot
//!   be read is a decode error naming its field (`list[3].tid`).
//! - [`source::TradeSource`] (trades over sliding windows, incremental with
//!   overlap, de-duplicated by trade id) and [`source::BuyerSource`] (distinct
//!   buyers keyed by `buyerCid`), for the Huke → K/3 Cloud `BD_Customer`
//!   scheme (`FName={{buyerNick}}`, `FNumber={{buyerCid}}`).
//! - [`testing::FakeHuke`] (feature `testing`).
//!
//! ## Authentication
//!
//! There is no token and no session: every request carries `ur-appkey`,
//! `ur-sign` (MD5 of the exact body bytes), `ur-curtime` (unix **seconds**) and
//! `ur-checksum` (AES-128-ECB of `appKey‖sign‖curtime` keyed with
//! `SHA1(SHA1(appSecret))[..16]`, uppercase hex). The body is serialised once,
//! and those bytes are both signed and sent. Each retry is signed afresh. If
//! the server rejects a stale `ur-curtime`, the client signs again and retries
//! once.
//! Nothing is fetched or cached (no token exists), so clones and concurrent
//! callers share no credential state beyond the immutable key pair.
//!
//! ## Assumptions
//!
//! The fact sheet (public code only; no official documentation found) marks
//! these points unknown or low-confidence. The choice made for each:
//!
//! | unknown | choice |
//! |---|---|
//! | Error codes for a bad signature, an unknown app key or a stale timestamp | Envelope code 401/403, or a `msg` that mentions checksum/appkey/签名/鉴权, is [`Error::Auth`]. If the `msg` also mentions curtime/timestamp/过期/expired, it is [`Error::AuthExpired`] and the call is re-signed and retried once. All of this lives in one function (`Error::from_envelope`). The fake answers `{"code":401,"msg":"checksum error"}` (the code can be changed in `testing::HukeState::auth_error_code`). |
//! | Throttling code and rate limits | Code 429, or a `msg` with one of the shared throttle words (频繁/限流/繁忙/too many requests/rate limit, `integration_core::error::THROTTLE_WORDS`), is [`Error::Throttled`] (retryable). HTTP 429/5xx are retryable too. The default client rate limit is 5 requests/s. |
//! | Meaning of code 1011 | "Customer already exists": [`customer::AddCustomerOutcome::Duplicate`], not an error. |
//! | Other business codes | [`Error::Api`] with code and `msg`; not retried. |
//! | `ur-checksum` hex case | Uppercase is sent. The fake compares without regard to case. |
//! | Accepted `ur-curtime` skew | Unknown. The fake allows ±300 s (`testing::HukeState::max_clock_skew`). |
//! | `eid` header (meaning unknown) | Not sent unless [`ClientBuilder::eid`] is set. The fake ignores it. |
//! | gzip responses | Not requested: no `Accept-Encoding` is sent, so the server answers uncompressed. |
//! | Empty body | `{}` is always sent and signed (never an empty body). |
//! | Where `page`/`pageSize` go | The signing example puts them at the top level; the scheme lists `timeRanges.page`/`timeRanges.pageSize`. By default both are sent ([`trade::PagePlacement::Both`]). The fake reads the top level first. |
//! | Page base and maximum page size | Pages are 1-based. The maximum is assumed to be 100 ([`client::DEFAULT_MAX_PAGE_SIZE`]); larger sizes are clamped. The default page size is 50. The fake clamps to 100 and uses 10 when none is sent. |
//! | End of paging | A page shorter than `pageSize` or empty, or `page × pageSize ≥ total` when a total is given. A later page that repeats the previous one is an error, not an endless loop. A total that cannot be read is a decode error. |
//! | Response shape of `searchTrades` | Rows come from `data.list` / `records` / `data` / `rows` / `trades` or a bare array. The total comes from `total` / `totalCount` / `count`. Any other shape is a decode error. The other members of `data` are not kept on the page; read them with [`Client::call_raw`]. The fake answers `{"total","page","pageSize","list"}`. |
//! | Types of `source`, `dealerList` items, `timeType` | [`trade::Scalar`]: sent exactly as configured (integer or string). `dealerList` is omitted when empty; `source` is omitted when unset. |
//! | `timeType` meanings | Only `1` is used by the scheme. Assumed: 1 created (`createTime`), 2 paid (`payTime`), 3 updated (`updateTime`), 4 finished (`finishTime`). See [`trade::time_type`]. The fake filters on those fields, ends inclusive. |
//! | Trade id field name | `tid` is assumed. A trade without `tid` falls back to `tradeId`/`tradeNo`/`orderId`/`orderNo`/`id`, then to a SHA-1 of the row ([`trade::Trade::key`]). |
//! | Other trade fields (amounts, times, status, receiver) | Kept verbatim in [`trade::Trade::extra`]. Read money with [`trade::Trade::decimal`] (exact `Decimal`) and times with [`trade::Trade::millis`] (unix ms); a value there that is not a decimal or a time is an error naming the field, not `None`. The fake's rows use `payment`/`totalFee`/`postFee`/`discountFee` as two-decimal strings and `createTime`/`payTime`/`updateTime`/`finishTime` in ms. |
//! | Trades per time window | Unknown how many the server holds per query. A window whose first page reports a `total` above [`TradeSource::max_window_trades`] (default 20,000) is narrowed in proportion and asked again, so the ids carried for de-duplication stay bounded; an answer without a total is not narrowed. Buyers ([`BuyerSource`]) are de-duplicated per run (a resumed run emits them again; an upsert absorbs it). |
//! | `buyerCid` type | A string or a number, kept as text ([`integration_core::types::Id`]). |
//! | Customer list and trade detail endpoints | None is known, so none is typed. Use [`Client::call_raw`]. |
//! | `customer/fields` and `addCustomer` response shapes | Fields are kept whole ([`customer::CustomerField`]). `addCustomer` returns `data` as given. |
//! | Unknown paths | The fake answers HTTP 404 with a Spring-style JSON body (the server is probably Java). |
//! | The cheapest call that proves the credentials | [`Client::check`] reads `customer/fields` (field definitions, no records): every app of the scheme uses the customer APIs. |
//!
//! The signature itself is **not** an assumption: the fact sheet's synthetic
//! vectors pass byte for byte (their `ur-curtime`, `1700000000`, is the
//! plaintext of the checksum's last block). The vendor example's key and
//! secret are published only truncated, so only its shape (160 hex chars) is
//! tested.

pub mod auth;
mod check;
pub mod client;
pub mod customer;
pub mod error;
pub mod source;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
pub mod trade;

pub use auth::{Credentials, SignedHeaders, sign_request};
pub use client::{Client, ClientBuilder, DEFAULT_BASE_URL};
pub use customer::{AddCustomerOutcome, AddCustomerRequest, Customers};
pub use error::Error;
pub use source::{Buyer, BuyerCursor, BuyerSource, TradeCursor, TradeSource};
pub use trade::{Scalar, TimeRange, Trade, TradeQuery, Trades};
