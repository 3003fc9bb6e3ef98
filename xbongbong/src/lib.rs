#![cfg_attr(docsrs, feature(doc_cfg))]
//! # xbongbong: a typed client for the 销帮帮 CRM Pro API
//!
//! Signed calls (`sign = sha256_hex(body ++ token)`), resource handles for
//! the records of every module, users, departments and forms (one page,
//! every page or record as a lazy stream, get, create, update, delete),
//! form metadata decoded into a typed [`form::FormExplain`], validation of
//! records against their form before any write, typed field values
//! ([`value`]), a raw call, a [`RecordSource`] (incremental on
//! `updateTime`), a [`RecordSink`] (add, or edit when the key is known)
//! and, with the `testing` feature, a stateful fake server
//! ([`testing::FakeXbongbong`]).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), xbongbong::Error> {
//! # use futures::TryStreamExt;
//! # use xbongbong::testing::{CUSTOMER_FORM_ID, FakeXbongbong};
//! # let fake = FakeXbongbong::start().await;
//! # let ids = fake.seed_customers(30);
//! # let creds = FakeXbongbong::credentials();
//! use xbongbong::{Client, CustomerQuery, Error, Record};
//!
//! let client = Client::builder()
//!     .base_url(fake.uri()) // the real service: leave it out (the host follows the corpid)
//!     .corpid(creds.corpid)
//!     .token(creds.token)
//!     .build()?;
//! let customers = client.customers();
//! let query = CustomerQuery::form(CUSTOMER_FORM_ID).page_size(20);
//! let page = customers.list(&query).await?; // one page
//! let all: Vec<Record> = customers.stream(query).try_collect().await?; // every record, lazily
//! let one = customers.get(ids[0]).await?; // one record
//! match customers.get(999_999).await {
//!     Err(Error::Api(f)) => println!("refused: {f}"), // with the API's code
//!     other => { other?; }
//! }
//! # assert_eq!((page.items.len(), page.total, all.len()), (20, Some(30), 30));
//! # assert_eq!(one.data_id, ids[0].into());
//! # assert!(matches!(customers.get(999_999).await, Err(Error::Api(_))));
//! # Ok(()) }
//! ```
//!
//! Forms are configured per company: discover them, read values typed,
//! and check a record before writing it.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use futures::TryStreamExt;
//! use xbongbong::form::BusinessType;
//! use xbongbong::testing::FakeXbongbong;
//! use xbongbong::value::{DataExt, TypedValue};
//! use xbongbong::{Condition, ContractQuery, CustomerQuery};
//!
//! let fake = FakeXbongbong::start().await;
//! fake.seed_contracts(30);
//! let client = fake.client();
//!
//! // Discover the contract form and its fields.
//! let form = client.forms().default_for(BusinessType::Contract).await?.expect("a contract form");
//! let explain = client.forms().get(form.form_id).await?;
//! let amount = explain.field_by_name("合同金额").expect("field");
//! assert_eq!(amount.attr, "num_1");
//!
//! // Every contract, 100 per page, fetched lazily.
//! let contracts: Vec<_> = client
//!     .contracts()
//!     .stream(ContractQuery::form(form.form_id).page_size(100))
//!     .try_collect()
//!     .await?;
//! assert_eq!(contracts.len(), 30);
//! let first = &contracts[0].data;
//! let total = first.decimal("num_1")?.expect("an amount"); // rust_decimal::Decimal
//! let signed = first.date("date_1")?.expect("a date").beijing_date();
//! assert!(total > rust_decimal::Decimal::ZERO && signed.is_some());
//! assert!(matches!(explain.read(first, "text_6")?, Some(TypedValue::Select(_))));
//!
//! // A record missing required fields is rejected before it is sent,
//! // with every problem named by its display name.
//! let problems = explain.validate(&serde_json::Map::new()).unwrap_err();
//! assert!(problems.to_string().contains("合同金额为必填字段"));
//!
//! // Conditions (AND) on any attr.
//! let page = client
//!     .customers()
//!     .list(&CustomerQuery::form(xbongbong::testing::CUSTOMER_FORM_ID).condition(Condition::like("text_1", "杭州")))
//!     .await?;
//! assert!(page.items.iter().all(|c| c.data.text("text_1").unwrap().unwrap().contains("杭州")));
//! # Ok(())
//! # }
//! ```
//!
//! ## Map of the crate
//!
//! - [`Client`] / [`ClientBuilder`]: the shared settings (`base_url`,
//!   timeouts, rate limit, retries, ...), corpid, token, operator;
//!   [`Client::call_raw`] for any endpoint.
//! - [`Client::check`]: the connection check (corpid, company, operator),
//!   changing no data.
//! - Resource handles, each with `list` (one
//!   [`Page`](integration_core::paging::Page)), `pages`, `stream`:
//!   [`Records`] for the records of a module ([`Client::customers`],
//!   [`Client::contracts`], [`Client::contacts`], [`Client::opportunities`],
//!   [`Client::products`], [`Client::payment_receipts`],
//!   [`Client::follow_ups`], any [`Module`] with [`Client::records`]), also
//!   with `get`, `create`, `update`, `delete` and the form-checked
//!   `create_checked` / `update_checked`; [`Users`] ([`Client::users`]) and
//!   [`Departments`] ([`Client::departments`]); [`Forms`]
//!   ([`Client::forms`]: `list`, `get`, `default_for`).
//! - Queries: [`ListQuery`] (aliased per module: [`CustomerQuery`],
//!   [`ContractQuery`], ...) with [`Condition`]s, [`UserQuery`],
//!   [`DepartmentQuery`], [`FormQuery`].
//! - [`form`]: the form explanation ([`FormExplain`], [`Field`],
//!   [`FieldType`]); [`validate`]: checks before writes; [`value`]: typed
//!   field values.
//! - [`RecordSource`] / [`RecordSink`]; [`auth`]: signing, the personal-token exchange and webhooks;
//!   [`error`]: [`Error`] in the shared vocabulary ([`integration_core::ErrorMeta`]).
//!
//! ## Reading and writing values
//!
//! Writes are flat (a select sends its option **text**, a user its userId,
//! `ownerId` an **array** of userIds, a linked record its numeric dataId, a
//! date unix **seconds**, a number a JSON number); reads may be rich
//! (`{text, value}`, `{id, name}`). [`value::DataExt`] and
//! [`value::TypedValue`] accept both and [`value::TypedValue::to_write`]
//! produces the flat form. Numbers are [`rust_decimal::Decimal`]; dates are
//! [`value::XbbDate`] (unix seconds, shown in Beijing time, UTC+08:00).
//!
//! ## Assumptions
//!
//! The fact sheet marks these as unknown or low-confidence; the choices made:
//!
//! - **Write-back** ([`FieldWriteBack`]): `edit` with one attr in
//!   `dataList` changes only that field (partial update, inferred from
//!   the independent clients' examples) and moves `updateTime`, so the
//!   record is read again by the next incremental run; the write-back then
//!   finds its value in place and sends nothing. Edits made while a read
//!   pages through a list are safe if lists are ordered newest change
//!   first (the fake's order) or by `dataId`: an edited record then stays
//!   among the pages already read. The real default order is not known;
//!   were it oldest change first, edited records would move behind the
//!   read and shift unread ones forward (a page size of 100 and the
//!   overlap of the next run limit, but do not rule out, a skipped record).
//! - **`fieldType` meanings** are inferred from the contract form (1 text,
//!   2 number, 3 select, 4 date, 7 multi-line text, 8 attachment, 19 system
//!   flag, 10001 multi select, 10008 linked product, 10009 user, 10013
//!   creator, 10014 created, 10015 updated, 10017 owner, 10018
//!   collaborators, 10019 serial number, 20001 linked record, 20004
//!   sub-form, 20013 linked receivables, 700001 button). Unknown codes are
//!   kept as `FieldType::Unknown(code)` and decoded by `attr` prefix and
//!   options (the fake's customer address uses the unconfirmed code 12).
//! - **Error codes**: the legacy `1000xx` table is assumed to hold on Pro:
//!   100003 (bad sign) and 100008 (unknown corpid) are auth errors
//!   ([`Error::Auth`]), 100004 ("server busy") is treated as throttling
//!   ([`Error::Throttled`]) and retried, as is any message containing
//!   频繁/限流/繁忙; every other code is an [`Error::Api`]. The rate-limit answer was never seen. The
//!   fake also answers 100005 for a missing required field, 100006 for
//!   "not found", 201005 for a no-repeat duplicate and 701020 for an
//!   unknown option, a wrong value shape or an id sent as text outside
//!   lists; these are fake-server choices.
//! - **Error envelope**: decoded from `{code, msg}` whatever `success` and
//!   `result` hold, also on a non-2xx status; `code == 1` with
//!   `success: false` is an error. The fake sends `{code, msg, success:false}`
//!   with HTTP 200.
//! - **Token expiry**: tokens do not expire; in [`auth::TokenMode::Personal`]
//!   an auth error refetches the personal token once and retries once (an
//!   admin may have reset it). In company-token mode auth errors are final.
//!   `userId` is sent in the body and, by default, as a header.
//! - **Rate limits** (3 writes/s, 1000/min) are applied per client (shared
//!   by clones); whether the vendor counts per corpid, token or IP is unknown.
//! - **Page size**: at most 100 for every list (users/departments too); the
//!   end of a list is `totalPage`/`totalCount` when sent, else a short or
//!   empty page. The default sort order is unknown: the fake sorts by
//!   `updateTime` descending.
//! - **Incremental reads**: no range symbol is documented, so
//!   [`source::RecordSource`] by default reads the whole list and filters on
//!   `updateTime` on the client (never loses a record). The opt-in
//!   [`source::Incremental::ServerCondition`] sends the guessed symbol
//!   `greaterequal` on `updateTime`; the fake supports it together with
//!   `lessequal` and `range`.
//! - **Sub-form key**: `subFieldList` (as in the real reply); `subForm` is
//!   accepted when reading and written back as `subFieldList`.
//! - **Required fields**: fields of the system types (19, 10013–10015,
//!   700001) and serial numbers with a generation rule are not required
//!   from a writer; everything else marked `required: 1` is, including the
//!   contract's 应收款 (20013), whose value shape is unknown (any non-empty
//!   array is accepted).
//! - **Numbers** are sent as JSON numbers (integers, or the shortest `f64`
//!   that prints back to the same decimal); a decimal `f64` cannot carry
//!   exactly is refused rather than rounded. Validation reports more
//!   decimal places than `accuracy` as a problem.
//! - **Dates** are unix seconds; values of 12 digits or more are rejected as
//!   probable milliseconds. `dateType` is display-only.
//! - **Link fields** may read back as a bare id or `{id, name}` / `{dataId, data}`; all are accepted.
//! - **Addresses** use the low-code shape `{province, city, district, address, location}`.
//! - **Deletes** succeed when `errorDataMemo` is empty (string, array,
//!   object or absent).
//! - **`formId`** is sent for list/add/edit when given; lists of contacts,
//!   products, follow-ups and payments may leave it out (default form).
//! - **Integer ids** (corrected 2026-12): `dataId`, `formId`, `appId` and
//!   `menuId` are 64-bit integers and go out as JSON **numbers** in every
//!   request (detail, edit, del, list, add, `form/get`, and link-field
//!   conditions built with [`records::Condition::link`] /
//!   [`records::Condition::link_any`]), because XBBCLI sends `Number(...)`
//!   and HPSTARTER models them as `Long`. Earlier versions sent `dataId` as
//!   text. Answers may carry them as a number or as text, and both are
//!   read. Record ids stay [`integration_core::types::Id`] (text inside) for
//!   that reason. A dataId that is not an integer (e.g. `"abc"`, `"12.5"`,
//!   or beyond `i64`) is refused with [`Error::Value`] before anything is
//!   sent ([`records::numeric_id`]); it is never defaulted or guessed.
//!   Conditions made with `Condition::equal` & co. send values as given: a
//!   text field (a phone number, `serialNo`) needs text. The fake wants
//!   integers on detail/add/edit/del/`form/get` and stays lenient on lists,
//!   because one public client sent `formId` as text to `paas/list` and
//!   got data.
//! - **Payment receipts** add/edit through `addWriteOff`/`editWriteOff`;
//!   the other receipt kinds (`addRed`, `addBadDebt`, `addPre`) go through
//!   [`Client::call_raw`].
//! - **Loose values in answers** are read with core's
//!   [`integration_core::lenient`] rule: ids, times and counts
//!   (`totalCount`, `totalPage`) may come as numbers or numeric text; null,
//!   absent and blank text are "not sent"; anything else (a negative count,
//!   `"yesterday"` for `updateTime`) is a decode error naming the field
//!   (`list[3].updateTime`), never a silent default. Field values in `data`
//!   stay raw JSON, read with [`value::DataExt`].
//! - **Webhooks**: [`auth::verify_webhook`] hashes the raw body with the
//!   webhook token (not a re-serialised payload).
//! - **Connection check** ([`Client::check`]): reads `department/list`
//!   with `departmentIdIn: [1]` and takes department 1's name as the
//!   company's (XBBCLI's reading); whether the filter is honoured is not
//!   relied on (department 1 is looked for in the answer).

pub mod auth;
mod check;
pub mod client;
pub mod error;
pub mod form;
pub mod records;
pub mod sink;
pub mod source;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
pub mod users;
pub mod validate;
pub mod value;
pub mod write_back;

pub use client::{Client, ClientBuilder};
pub use error::{Error, Result};
pub use form::{BusinessType, Field, FieldType, FormExplain, FormQuery, Forms};
pub use records::{
    Condition, ContactQuery, ContractQuery, CustomerQuery, FollowUpQuery, ListQuery, Module,
    OpportunityQuery, PaymentReceiptQuery, ProductQuery, Record, Records,
};
pub use sink::{RecordSink, RecordWrite};
pub use source::{Incremental, RecordCursor, RecordSource};
pub use users::{Department, DepartmentQuery, Departments, User, UserQuery, Users};
pub use write_back::FieldWriteBack;
