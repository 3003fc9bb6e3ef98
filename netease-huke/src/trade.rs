//! Trades: `POST openapi/trade/searchTrades` (查询客户 / 订单) through the
//! [`Trades`] handle ([`Client::trades`]): one page ([`Trades::list`]),
//! every page ([`Trades::pages`]) or every trade ([`Trades::stream`]) as a
//! lazy stream.
//!
//! Only the request parameters (`source`, `dealerList`, `timeRanges` with
//! `timeType`/`startTime`/`endTime`, `page`, `pageSize`) and the trade fields
//! `buyerNick` and `buyerCid` are known; every other field of a trade is kept
//! verbatim in [`Trade::extra`].

use std::fmt;

use futures::{Stream, TryStreamExt};
use integration_core::ErrorKind;
use integration_core::lenient::{self, DecodeError};
use integration_core::paging::{self, Page};
use integration_core::types::{Id, UnixMillis};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha1::{Digest, Sha1};

use crate::client::Client;
use crate::error::{Error, SYSTEM};

/// The API name of the trade search.
pub const SEARCH_TRADES: &str = "trade/searchTrades";

/// Page size used when a request does not set one.
pub const DEFAULT_PAGE_SIZE: u32 = 50;

/// A JSON scalar sent exactly as configured: an integer or a string.
///
/// Huke's types for `source`, `dealerList` items and `timeType` are not
/// published (the scheme document calls them strings, the signing example
/// sends numbers), so the caller chooses.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    /// Sent as a JSON integer.
    Int(i64),
    /// Sent as a JSON string.
    Text(String),
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Int(n) => write!(f, "{n}"),
            Scalar::Text(s) => f.write_str(s),
        }
    }
}

impl From<i64> for Scalar {
    fn from(n: i64) -> Self {
        Scalar::Int(n)
    }
}
impl From<i32> for Scalar {
    fn from(n: i32) -> Self {
        Scalar::Int(n.into())
    }
}
impl From<u32> for Scalar {
    fn from(n: u32) -> Self {
        Scalar::Int(n.into())
    }
}
impl From<&str> for Scalar {
    fn from(s: &str) -> Self {
        Scalar::Text(s.to_owned())
    }
}
impl From<String> for Scalar {
    fn from(s: String) -> Self {
        Scalar::Text(s)
    }
}

/// `timeType` values. **ASSUMED meanings**: only `1` is known to be used (by
/// the reference scheme); the fake server interprets them as listed.
pub mod time_type {
    use super::Scalar;
    /// `1`: order created (下单时间). The scheme's value.
    pub const CREATED: Scalar = Scalar::Int(1);
    /// `2`: order paid (付款时间).
    pub const PAID: Scalar = Scalar::Int(2);
    /// `3`: order last modified (更新时间).
    pub const UPDATED: Scalar = Scalar::Int(3);
    /// `4`: order finished (完成时间).
    pub const FINISHED: Scalar = Scalar::Int(4);

    /// The trade field a time type filters on, as the fake server models it.
    pub fn field(time_type: &Scalar) -> Option<&'static str> {
        match time_type.to_string().as_str() {
            "1" => Some("createTime"),
            "2" => Some("payTime"),
            "3" => Some("updateTime"),
            "4" => Some("finishTime"),
            _ => None,
        }
    }
}

/// One `timeRanges` entry: which time to filter on and the range in unix
/// **milliseconds**.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeRange {
    /// The time the range applies to (see [`time_type`]).
    pub time_type: Scalar,
    /// Range start, unix milliseconds.
    pub start_time: UnixMillis,
    /// Range end, unix milliseconds.
    pub end_time: UnixMillis,
    /// Page number inside the range, when paging is sent here (see
    /// [`PagePlacement`]). Normally filled in by the client.
    #[serde(default)]
    pub page: Option<u32>,
    /// Page size inside the range; see `page`.
    #[serde(default)]
    pub page_size: Option<u32>,
}

impl TimeRange {
    /// A range on `time_type` from `start` to `end` (unix milliseconds).
    pub fn new(time_type: impl Into<Scalar>, start: UnixMillis, end: UnixMillis) -> Self {
        Self {
            time_type: time_type.into(),
            start_time: start,
            end_time: end,
            page: None,
            page_size: None,
        }
    }
}

/// Where `searchTrades` paging parameters go in the request body.
///
/// The signing example puts `page`/`pageSize` at the top level; the
/// reference scheme lists them as `timeRanges.page` / `timeRanges.pageSize`.
/// Which one the server reads is unknown, so by default both are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PagePlacement {
    /// Top level only: `{"page":1,"pageSize":50,...}`.
    TopLevel,
    /// Inside every `timeRanges` entry only.
    InTimeRanges,
    /// Both places, with the same values (default).
    #[default]
    Both,
}

/// The query of a trade list: the body of `trade/searchTrades`.
///
/// ```
/// use netease_huke::trade::{TradeQuery, TimeRange, time_type};
/// use integration_core::types::UnixMillis;
/// let req = TradeQuery::new()
///     .source(2)
///     .dealer("1001")
///     .time_range(TimeRange::new(time_type::CREATED, UnixMillis(1_700_000_000_000), UnixMillis(1_700_086_400_000)))
///     .page_size(50);
/// assert_eq!(req.page, None); // filled in per page by the client
/// ```
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TradeQuery {
    /// `source` (订单来源), e.g. `2`. Omitted when `None`.
    #[serde(default)]
    pub source: Option<Scalar>,
    /// `dealerList` (成单员工 ids). Omitted when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dealer_list: Vec<Scalar>,
    /// `timeRanges`.
    #[serde(default)]
    pub time_ranges: Vec<TimeRange>,
    /// Page number, 1-based (top level; see [`PagePlacement`]).
    #[serde(default)]
    pub page: Option<u32>,
    /// Page size (top level; see [`PagePlacement`]).
    #[serde(default)]
    pub page_size: Option<u32>,
    /// Any other parameter, sent as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl TradeQuery {
    /// An empty request.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets `source`.
    pub fn source(mut self, source: impl Into<Scalar>) -> Self {
        self.source = Some(source.into());
        self
    }
    /// Adds one dealer id to `dealerList`.
    pub fn dealer(mut self, dealer: impl Into<Scalar>) -> Self {
        self.dealer_list.push(dealer.into());
        self
    }
    /// Adds a `timeRanges` entry.
    pub fn time_range(mut self, range: TimeRange) -> Self {
        self.time_ranges.push(range);
        self
    }
    /// Sets the 1-based page number.
    pub fn page(mut self, page: u32) -> Self {
        self.page = Some(page);
        self
    }
    /// Sets the page size (clamped to the client's maximum when sent).
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size);
        self
    }
    /// Sets any other parameter.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(name.into(), value.into());
        self
    }

    /// The effective page (default 1) and page size (default
    /// [`DEFAULT_PAGE_SIZE`], clamped to `1..=max_page_size`).
    pub fn effective_paging(&self, max_page_size: u32) -> (u32, u32) {
        let page = self
            .page
            .or_else(|| self.time_ranges.first().and_then(|r| r.page))
            .unwrap_or(1)
            .max(1);
        let size = self
            .page_size
            .or_else(|| self.time_ranges.first().and_then(|r| r.page_size))
            .unwrap_or(DEFAULT_PAGE_SIZE)
            .clamp(1, max_page_size.max(1));
        (page, size)
    }

    /// The request as sent: paging filled in where `placement` says.
    pub fn prepared(&self, placement: PagePlacement, max_page_size: u32) -> Self {
        let (page, size) = self.effective_paging(max_page_size);
        let mut out = self.clone();
        let top = matches!(placement, PagePlacement::TopLevel | PagePlacement::Both);
        let nested = matches!(placement, PagePlacement::InTimeRanges | PagePlacement::Both);
        (out.page, out.page_size) = if top {
            (Some(page), Some(size))
        } else {
            (None, None)
        };
        for range in &mut out.time_ranges {
            (range.page, range.page_size) = if nested {
                (Some(page), Some(size))
            } else {
                (None, None)
            };
        }
        out
    }
}

/// One trade (order) as Huke returns it.
///
/// `buyerNick` and `buyerCid` are the only field names known from public
/// material; `tid` is the assumed trade id. Everything else is kept in
/// [`Trade::extra`] and survives a round trip.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Trade {
    /// Trade id (ASSUMED name `tid`; see [`Trade::trade_id`] for fallbacks).
    #[serde(default)]
    pub tid: Option<Id>,
    /// Buyer nickname (`buyerNick`), e.g. a WeChat nickname.
    #[serde(default)]
    pub buyer_nick: Option<String>,
    /// Buyer customer id (`buyerCid`), a string or a number on the wire.
    #[serde(default)]
    pub buyer_cid: Option<Id>,
    /// Every other field, verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Decoded through a JSON object and [`Trade::from_json`]: with
/// `#[serde(flatten)]`, serde buffers every field of every trade twice
/// (through its internal `Content`), which made decoding the pages the
/// largest cost of a Huke sync.
impl<'de> Deserialize<'de> for Trade {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let object = Map::<String, Value>::deserialize(deserializer)?;
        Trade::from_json(Value::Object(object)).map_err(serde::de::Error::custom)
    }
}

/// Field names tried, in order, for a trade's id when `tid` is absent.
pub const TRADE_ID_FALLBACKS: &[&str] = &["tradeId", "tradeNo", "orderId", "orderNo", "id"];

impl Trade {
    /// A trade from one row of a page, without copying it: the known fields
    /// are taken out, everything else becomes [`Trade::extra`].
    /// A known field with the wrong type is an error naming and quoting it.
    pub fn from_json(row: Value) -> Result<Self, serde_json::Error> {
        Self::from_row(row).map_err(serde::de::Error::custom)
    }

    /// [`Trade::from_json`], with the failing field as the error's path.
    fn from_row(row: Value) -> Result<Self, DecodeError> {
        let Value::Object(mut extra) = row else {
            return Err(DecodeError {
                path: String::new(),
                message: format!(
                    "expected a trade object, found {}",
                    integration_core::lenient::json_kind(&row)
                ),
            });
        };
        let mut take = |name: &str| extra.remove(name).unwrap_or(Value::Null);
        let tid = known("tid", &take("tid"), |v| lenient::opt_id(v))?;
        let buyer_nick = known("buyerNick", &take("buyerNick"), |v| lenient::opt_text(v))?;
        let buyer_cid = known("buyerCid", &take("buyerCid"), |v| lenient::opt_id(v))?;
        Ok(Trade {
            tid,
            buyer_nick,
            buyer_cid,
            extra,
        })
    }

    /// The trade id: `tid`, else the first of [`TRADE_ID_FALLBACKS`] present.
    pub fn trade_id(&self) -> Option<String> {
        if let Some(tid) = &self.tid {
            return Some(tid.to_string());
        }
        TRADE_ID_FALLBACKS
            .iter()
            .find_map(|name| match self.extra.get(*name)? {
                Value::String(s) if !s.is_empty() => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
    }

    /// A stable key: the trade id, or (when the trade carries no id) `sha1:`
    /// and the SHA-1 of the trade's JSON, so identical rows get equal keys.
    pub fn key(&self) -> String {
        self.trade_id().unwrap_or_else(|| {
            let json = serde_json::to_vec(self).unwrap_or_default();
            format!("sha1:{}", hex::encode(Sha1::digest(json)))
        })
    }

    /// A money or quantity field as an exact decimal (from a JSON string or
    /// number), e.g. `trade.decimal("payment")`: `None` when absent, null or
    /// blank, an error naming the field when it is not a decimal.
    pub fn decimal(&self, field: &str) -> Result<Option<Decimal>, DecodeError> {
        self.extra
            .get(field)
            .map_or(Ok(None), |v| known(field, v, |v| lenient::opt_decimal(v)))
    }

    /// A unix-milliseconds time field (number or numeric string): `None`
    /// when absent, null or blank, an error naming the field otherwise.
    pub fn millis(&self, field: &str) -> Result<Option<UnixMillis>, DecodeError> {
        self.extra.get(field).map_or(Ok(None), |v| {
            known(field, v, |v| lenient::opt_unix_millis(v))
        })
    }

    /// The time a [`time_type`] filters on, per the assumed field mapping
    /// (`None` for a time type without one).
    pub fn time_of(&self, time_type: &Scalar) -> Result<Option<UnixMillis>, DecodeError> {
        time_type::field(time_type).map_or(Ok(None), |field| self.millis(field))
    }
}

/// A field read with `read` (a core lenient helper); an error names the
/// field and quotes its value (redacted and shortened).
fn known<T>(
    name: &str,
    value: &Value,
    read: impl FnOnce(&Value) -> Result<T, serde_json::Error>,
) -> Result<T, DecodeError> {
    read(value).map_err(|e| {
        let shown = integration_core::secret::excerpt(value.to_string().as_bytes(), 80);
        DecodeError {
            path: name.to_owned(),
            message: format!("{e} ({shown})"),
        }
    })
}

/// Members of `data` tried, in order, for the trade list.
const LIST_KEYS: &[&str] = &["list", "records", "data", "rows", "trades"];
/// Members of `data` tried, in order, for the total.
const TOTAL_KEYS: &[&str] = &["total", "totalCount", "count"];

/// Whether another page may follow a page of `read` trades: the page was
/// full and the total (when given) is not reached yet.
fn has_more(read: usize, total: Option<u64>, page: u32, page_size: u32) -> bool {
    if read == 0 || (read as u64) < u64::from(page_size) {
        return false;
    }
    total.is_none_or(|total| u64::from(page) * u64::from(page_size) < total)
}

/// A total: a count from 0.
#[derive(Deserialize)]
struct Total(#[serde(deserialize_with = "lenient::opt_i64")] Option<i64>);

/// Decodes `data` into its trades and total (tolerating
/// `list`/`records`/`data`/`rows`/`trades` or a bare array, and
/// `total`/`totalCount`/`count`). The rows are moved into the trades, not
/// copied. A value that cannot be read is a decode error naming it
/// (`list[3].tid`, `total`); a `data` without a list quotes `data`.
fn decode_page(data: Value) -> Result<(Vec<Trade>, Option<u64>), Error> {
    let bad = |what: String, part: &Value| -> Error {
        integration_core::Error::decode(SYSTEM, SEARCH_TRADES, what, part.to_string().as_bytes())
            .into()
    };
    let named = |e: DecodeError| -> Error {
        integration_core::Error::new(SYSTEM, SEARCH_TRADES, ErrorKind::Decode, e.to_string()).into()
    };
    let mut total = None;
    let (key, rows): (&str, Vec<Value>) = match data {
        Value::Null => ("", Vec::new()),
        Value::Array(rows) => ("", rows),
        Value::Object(mut map) => {
            let Some(key) = LIST_KEYS
                .iter()
                .find(|k| matches!(map.get(**k), Some(Value::Array(_) | Value::Null)))
            else {
                let what = format!(
                    "no trade list in `data` (looked for {})",
                    LIST_KEYS.join("/")
                );
                return Err(bad(what, &Value::Object(map)));
            };
            if let Some(k) = TOTAL_KEYS.iter().find(|k| map.contains_key(**k)) {
                let value = map.remove(*k).unwrap_or(Value::Null);
                let at = |message: String| DecodeError {
                    path: (*k).to_owned(),
                    message,
                };
                let Total(n) = lenient::decode(value).map_err(|e| named(at(e.message)))?;
                total = n
                    .map(|n| {
                        u64::try_from(n)
                            .map_err(|_| at(format!("a total cannot be negative, found {n}")))
                    })
                    .transpose()
                    .map_err(named)?;
            }
            match map.remove(*key) {
                Some(Value::Array(rows)) => (*key, rows),
                _ => (*key, Vec::new()),
            }
        }
        other => {
            let what = "`data` is neither an object nor an array".to_owned();
            return Err(bad(what, &other));
        }
    };
    let mut trades = Vec::with_capacity(rows.len());
    for (i, row) in rows.into_iter().enumerate() {
        let trade = Trade::from_row(row).map_err(|e| {
            let path = match e.path.as_str() {
                "" => format!("{key}[{i}]"),
                field => format!("{key}[{i}].{field}"),
            };
            named(DecodeError { path, ..e })
        })?;
        trades.push(trade);
    }
    Ok((trades, total))
}

/// The trade endpoints (`trade/*`). From [`Client::trades`]; cheap to clone,
/// and its streams own their client (`Send + 'static`).
#[derive(Debug, Clone)]
pub struct Trades {
    client: Client,
}

impl Trades {
    pub(crate) fn new(client: Client) -> Self {
        Self { client }
    }

    /// One page of `trade/searchTrades`: the query's page (default 1),
    /// paging filled in and clamped as configured on the client. `next` is
    /// the query of the following page, `None` after a short or empty page
    /// or once the total is reached; `total` when the answer has one.
    pub async fn list(&self, query: &TradeQuery) -> Result<Page<Trade, TradeQuery>, Error> {
        let max = self.client.max_page_size();
        let prepared = query.prepared(self.client.page_placement(), max);
        let (page, size) = prepared.effective_paging(max);
        let data = self.client.call(SEARCH_TRADES, &prepared).await?;
        let (trades, total) = decode_page(data)?;
        let next = has_more(trades.len(), total, page, size).then(|| query.clone().page(page + 1));
        Ok(Page::new(trades, next).with_total(total))
    }

    /// Every page from the query's page (default 1) on, fetched lazily, one
    /// page in memory at a time. A page that repeats the previous one is an
    /// error that ends the stream (a server ignoring `page` would otherwise
    /// be paged forever).
    pub fn pages(
        &self,
        query: TradeQuery,
    ) -> impl Stream<Item = Result<Page<Trade, TradeQuery>, Error>> + Send + 'static {
        let trades = self.clone();
        // Each step carries the previous page's keys next to its query.
        let first: (TradeQuery, Option<Vec<String>>) = (query, None);
        paging::paginate(first, move |(query, previous)| {
            let trades = trades.clone();
            async move {
                let page = trades.list(&query).await?;
                let keys: Vec<String> = page.items.iter().map(Trade::key).collect();
                if !keys.is_empty() && previous.as_ref() == Some(&keys) {
                    let (n, _) = query.effective_paging(trades.client.max_page_size());
                    let what = format!(
                        "page {n} repeats page {} (the server ignores `page`?)",
                        n - 1
                    );
                    return Err(
                        integration_core::Error::decode(SYSTEM, SEARCH_TRADES, what, b"").into(),
                    );
                }
                let next = page.next.map(|next| (next, Some(keys)));
                Ok(Page::new(page.items, next).with_total(page.total))
            }
        })
        .map_ok(|page| {
            Page::new(page.items, page.next.map(|(query, _)| query)).with_total(page.total)
        })
    }

    /// Every trade of every page, lazily (see [`Trades::pages`]).
    pub fn stream(
        &self,
        query: TradeQuery,
    ) -> impl Stream<Item = Result<Trade, Error>> + Send + 'static {
        paging::items(self.pages(query))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn top_level_paging_serialises_to_the_signing_vector_bytes() {
        let req = TradeQuery::new()
            .source(2)
            .dealer("1001")
            .time_range(TimeRange::new(
                1,
                UnixMillis(1_700_000_000_000),
                UnixMillis(1_700_086_400_000),
            ))
            .page(1)
            .page_size(50)
            .prepared(PagePlacement::TopLevel, 100);
        let body = serde_json::to_string(&req).unwrap();
        assert_eq!(
            body,
            r#"{"source":2,"dealerList":["1001"],"timeRanges":[{"timeType":1,"startTime":1700000000000,"endTime":1700086400000}],"page":1,"pageSize":50}"#
        );
    }

    #[test]
    fn both_placement_and_clamping() {
        let req = TradeQuery::new()
            .time_range(TimeRange::new("1", UnixMillis(1), UnixMillis(2)))
            .page_size(1000)
            .prepared(PagePlacement::Both, 100);
        let v = serde_json::to_value(&req).unwrap();
        assert_eq!(v["page"], 1);
        assert_eq!(v["pageSize"], 100);
        assert_eq!(
            v["timeRanges"][0],
            json!({"timeType":"1","startTime":1,"endTime":2,"page":1,"pageSize":100})
        );
        assert!(v.get("dealerList").is_none() && v.get("source").is_none());
        let nested = req.prepared(PagePlacement::InTimeRanges, 100);
        let v = serde_json::to_value(&nested).unwrap();
        assert!(v.get("page").is_none());
        assert_eq!(v["timeRanges"][0]["pageSize"], 100);
    }

    #[test]
    fn trades_keep_unknown_fields_and_accept_numeric_cids() {
        let row = json!({"tid": 9007199254740993u64, "buyerNick": "王小明", "buyerCid": 1234567, "payment": "128.50", "payTime": "1700000000000", "items": [{"sku": "A"}]});
        let t: Trade = serde_json::from_value(row.clone()).unwrap();
        assert_eq!(t.trade_id().as_deref(), Some("9007199254740993"));
        assert_eq!(t.buyer_cid.as_ref().unwrap().as_str(), "1234567");
        assert_eq!(t.decimal("payment").unwrap().unwrap().to_string(), "128.50");
        assert_eq!(
            t.time_of(&time_type::PAID).unwrap(),
            Some(UnixMillis(1_700_000_000_000))
        );
        assert_eq!(t.decimal("refund").unwrap(), None, "absent");
        assert_eq!(t.time_of(&Scalar::Int(99)).unwrap(), None, "no such time");
        let back = serde_json::to_value(&t).unwrap();
        assert_eq!(back["items"], row["items"]);
        assert_eq!(back["buyerCid"], "1234567");
    }

    #[test]
    fn trade_id_fallbacks_and_fingerprint() {
        let t: Trade = serde_json::from_value(json!({"orderNo": "NO-1"})).unwrap();
        assert_eq!(t.key(), "NO-1");
        let a: Trade = serde_json::from_value(json!({"buyerNick": "x"})).unwrap();
        assert!(a.key().starts_with("sha1:"));
        assert_eq!(a.key(), a.clone().key());
    }

    #[test]
    fn a_row_decodes_into_known_fields_and_the_rest() {
        let row = json!({
            "tid": 1001, "buyerNick": "小王", "buyerCid": null,
            "payment": "12.30", "orders": [{"oid": "1", "num": 2}]
        });
        let trade = Trade::from_json(row.clone()).unwrap();
        assert_eq!(trade.tid, Some(Id::from("1001")));
        assert_eq!(trade.buyer_nick.as_deref(), Some("小王"));
        assert_eq!(trade.buyer_cid, None);
        assert_eq!(trade.extra.len(), 2, "{:?}", trade.extra);
        assert_eq!(trade.extra["orders"][0]["num"], 2);
        // The same through serde, from text and from a value; and back.
        assert_eq!(
            serde_json::from_str::<Trade>(&row.to_string()).unwrap(),
            trade
        );
        assert_eq!(serde_json::from_value::<Trade>(row).unwrap(), trade);
        let again: Trade = serde_json::from_value(serde_json::to_value(&trade).unwrap()).unwrap();
        assert_eq!(again, trade);

        let err = Trade::from_json(json!({"tid": "1", "buyerNick": {"a": 1}})).unwrap_err();
        assert!(
            err.to_string().starts_with("field `buyerNick`")
                && err.to_string().contains("({\"a\":1})"),
            "{err}"
        );
        let err = decode_page(json!({"list": [{"tid": "1"}, {"tid": [1]}]}))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("field `list[1].tid`") && err.contains("([1])"),
            "{err}"
        );
        let err = decode_page(json!([{"tid": "1"}, "x"]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("field `[1]`: expected a trade object"),
            "{err}"
        );
        assert!(Trade::from_json(json!("x")).is_err());
    }

    /// The fields a trade is read by follow the workspace's lenient rule:
    /// blank is absent, a number is text, junk is an error.
    #[test]
    fn known_fields_and_accessors_are_lenient_but_never_silent() {
        let t = Trade::from_json(
            json!({"tid": "", "buyerNick": 42, "buyerCid": " ", "orderNo": "N1",
            "payment": "12,50", "payTime": "soon", "postFee": ""}),
        )
        .unwrap();
        assert_eq!(
            (t.tid.clone(), t.buyer_nick.as_deref(), t.buyer_cid.clone()),
            (None, Some("42"), None)
        );
        assert_eq!(t.key(), "N1", "a blank tid falls back");
        assert_eq!(t.decimal("postFee").unwrap(), None);
        assert_eq!(t.decimal("payment").unwrap_err().path, "payment");
        assert_eq!(t.millis("payTime").unwrap_err().path, "payTime");
        assert!(t.time_of(&time_type::PAID).is_err());
    }

    #[test]
    fn page_shapes_are_tolerated() {
        for data in [
            json!({"total": 3, "list": [{"tid": "1"}]}),
            json!({"totalCount": "3", "records": [{"tid": "1"}]}),
            json!({"count": 3, "data": [{"tid": "1"}]}),
        ] {
            let (trades, total) = decode_page(data).unwrap();
            assert_eq!((trades.len(), total), (1, Some(3)));
            assert!(has_more(trades.len(), total, 1, 1));
        }
        let (trades, total) = decode_page(json!([{"tid": "1"}])).unwrap();
        assert!(!has_more(trades.len(), total, 1, 2));
        assert!(decode_page(json!(null)).unwrap().0.is_empty());
        assert!(decode_page(json!({"foo": 1})).is_err());
        assert!(decode_page(json!({"list": [1]})).is_err());
        assert!(decode_page(json!("x")).is_err());
        let (trades, total) =
            decode_page(json!({"total": 2, "list": [{"tid": "1"}, {"tid": "2"}]})).unwrap();
        assert!(!has_more(trades.len(), total, 1, 2), "total reached");
        // A total that cannot be read is an error, not "no total".
        for (total, message) in [(json!("many"), "an integer"), (json!(-2), "negative")] {
            let err = decode_page(json!({"total": total, "list": []})).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Decode);
            assert!(err.to_string().contains("field `total`"), "{err}");
            assert!(err.to_string().contains(message), "{err}");
        }
        assert_eq!(
            decode_page(json!({"total": "", "list": []})).unwrap().1,
            None
        );
    }
}
