//! Sales orders: `oms.trade.fullinfoget` (销售单查询), with the `fields`
//! list, the 7-day window rule and the `scrollId` cursor.

use chrono::Duration;
use futures::Stream;
use integration_core::types::{BeijingTime, Id};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::{Client, decode_data};
use crate::customer::clamp_page_size;
use crate::de;
use crate::error::{Error, Result};

/// Method name of the sales-order query.
pub const METHOD_TRADES: &str = "oms.trade.fullinfoget";

/// The longest time range one call may ask for.
pub const MAX_WINDOW: Duration = Duration::days(7);

/// The fields asked for when a query names none: every field typed in
/// [`Trade`] and [`TradeGoods`], plus `scrollId`.
pub const DEFAULT_FIELDS: &[&str] = &[
    "tradeId",
    "tradeNo",
    "tradeStatus",
    "tradeStatusExplain",
    "tradeType",
    "tradeFrom",
    "tradeTime",
    "payTime",
    "consignTime",
    "gmtCreate",
    "gmtModified",
    "shopId",
    "shopName",
    "warehouseId",
    "warehouseCode",
    "warehouseName",
    "logisticName",
    "logisticCode",
    "mainPostid",
    "customerCode",
    "customerName",
    "totalFee",
    "discountFee",
    "postFee",
    "payment",
    "receivedTotal",
    "sellerMemo",
    "buyerMemo",
    "state",
    "city",
    "district",
    "town",
    "zip",
    "goodsDetail.subTradeId",
    "goodsDetail.goodsId",
    "goodsDetail.goodsNo",
    "goodsDetail.goodsName",
    "goodsDetail.specId",
    "goodsDetail.specName",
    "goodsDetail.barcode",
    "goodsDetail.sellCount",
    "goodsDetail.sellPrice",
    "goodsDetail.sellTotal",
    "goodsDetail.unit",
    "goodsDetail.isGift",
    "scrollId",
];

/// Which time a trade query's range filters on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TradeTime {
    /// Last modification (`startModified`/`endModified`).
    #[default]
    Modified,
    /// Creation (`startCreated`/`endCreated`).
    Created,
    /// Audit (`startAuditTime`/`endAuditTime`).
    Audit,
    /// Shipment (`startConsignTime`/`endConsignTime`).
    Consign,
    /// Order time on the platform (`startTradeTime`/`endTradeTime`).
    Trade,
    /// Completion (`startCompleteTime`/`endCompleteTime`).
    Complete,
}

impl TradeTime {
    /// The request field names of the range's start and end.
    pub fn params(self) -> (&'static str, &'static str) {
        match self {
            Self::Modified => ("startModified", "endModified"),
            Self::Created => ("startCreated", "endCreated"),
            Self::Audit => ("startAuditTime", "endAuditTime"),
            Self::Consign => ("startConsignTime", "endConsignTime"),
            Self::Trade => ("startTradeTime", "endTradeTime"),
            Self::Complete => ("startCompleteTime", "endCompleteTime"),
        }
    }
}

/// A time range of a trade query, in Beijing time. Ranges longer than
/// 7 days are split by the streaming methods; a single-page call rejects them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    /// What the range filters on.
    pub on: TradeTime,
    /// Start (inclusive).
    pub start: BeijingTime,
    /// End (inclusive).
    pub end: BeijingTime,
}

/// Filters of `oms.trade.fullinfoget`. At least a time range or order
/// numbers are required by the API.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TradeQuery {
    /// Returned fields (`goodsDetail.goodsNo` style for children); empty
    /// means [`DEFAULT_FIELDS`]. `scrollId` is added when missing.
    pub fields: Vec<String>,
    /// The time range.
    pub range: Option<TimeRange>,
    /// Sales order numbers (sent comma-separated as `tradeNo`).
    pub trade_nos: Vec<String>,
    /// Online (platform) order numbers (`sourceTradeNos`, comma-separated).
    pub source_trade_nos: Vec<String>,
    /// Trade ids (`tradeIds`).
    pub trade_ids: Vec<Id>,
    /// Status codes (`tradeStatusList`), e.g. 9090 completed.
    pub trade_status_list: Vec<i64>,
    /// Shop ids (`shopIds`).
    pub shop_ids: Vec<Id>,
    /// Warehouse ids (`warehouseIds`).
    pub warehouse_ids: Vec<Id>,
    /// Rows per page (clamped to 1..=200; default 50).
    pub page_size: u32,
    /// Any other filter (`isTableSwitch`, `tradeTypeList`, ...), sent as is.
    pub extra: Map<String, Value>,
}

impl TradeQuery {
    /// Trades modified in `[start, end]`.
    pub fn modified(start: BeijingTime, end: BeijingTime) -> Self {
        Self {
            range: Some(TimeRange {
                on: TradeTime::Modified,
                start,
                end,
            }),
            ..Self::default()
        }
    }

    fn fields_text(&self) -> String {
        let mut fields: Vec<&str> = if self.fields.is_empty() {
            DEFAULT_FIELDS.to_vec()
        } else {
            self.fields.iter().map(String::as_str).collect()
        };
        if !fields.contains(&"scrollId") {
            fields.push("scrollId");
        }
        fields.join(",")
    }

    /// The `bizcontent` of one call (no cursor).
    fn bizcontent(&self) -> Result<Value> {
        let mut biz = self.extra.clone();
        biz.insert("fields".into(), self.fields_text().into());
        if let Some(range) = &self.range {
            if range.end < range.start {
                return Err(Error::invalid(
                    METHOD_TRADES,
                    "the time range ends before it starts",
                ));
            }
            if range.end.0 - range.start.0 > MAX_WINDOW {
                return Err(Error::invalid(
                    METHOD_TRADES,
                    "a time range may not exceed 7 days (use the stream, which splits it)",
                ));
            }
            let (s, e) = range.on.params();
            biz.insert(s.into(), range.start.to_string().into());
            biz.insert(e.into(), range.end.to_string().into());
        } else if self.trade_nos.is_empty()
            && self.source_trade_nos.is_empty()
            && self.trade_ids.is_empty()
        {
            return Err(Error::invalid(
                METHOD_TRADES,
                "a time range or order numbers are required",
            ));
        }
        if !self.trade_nos.is_empty() {
            biz.insert("tradeNo".into(), self.trade_nos.join(",").into());
        }
        if !self.source_trade_nos.is_empty() {
            biz.insert(
                "sourceTradeNos".into(),
                self.source_trade_nos.join(",").into(),
            );
        }
        let ids = |v: &[Id]| Value::Array(v.iter().map(crate::goods::id_value).collect());
        if !self.trade_ids.is_empty() {
            biz.insert("tradeIds".into(), ids(&self.trade_ids));
        }
        if !self.shop_ids.is_empty() {
            biz.insert("shopIds".into(), ids(&self.shop_ids));
        }
        if !self.warehouse_ids.is_empty() {
            biz.insert("warehouseIds".into(), ids(&self.warehouse_ids));
        }
        if !self.trade_status_list.is_empty() {
            biz.insert(
                "tradeStatusList".into(),
                self.trade_status_list.clone().into(),
            );
        }
        biz.insert("pageIndex".into(), 0.into());
        biz.insert("pageSize".into(), clamp_page_size(self.page_size).into());
        Ok(Value::Object(biz))
    }
}

/// Splits `[start, end]` into consecutive windows of at most `max`.
///
/// Windows share their boundary second (the API's ends are inclusive and
/// records carry sub-second times), so nothing falls between two windows; a
/// record exactly on a boundary may be returned twice.
pub fn split_windows(
    start: BeijingTime,
    end: BeijingTime,
    max: Duration,
) -> Vec<(BeijingTime, BeijingTime)> {
    let mut windows = Vec::new();
    if end < start || max <= Duration::zero() {
        return windows;
    }
    let mut from = start.0;
    loop {
        let to = (from + max).min(end.0);
        windows.push((BeijingTime(from), BeijingTime(to)));
        if to >= end.0 {
            break;
        }
        from = to;
    }
    windows
}

/// A sales order. Amounts are decimals, times Beijing time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Trade {
    /// Trade id.
    #[serde(default)]
    pub trade_id: Option<Id>,
    /// Sales order number.
    #[serde(default)]
    pub trade_no: Option<String>,
    /// Status code (1010 待审核 ... 9090 已完成).
    #[serde(default, with = "de::opt_int")]
    pub trade_status: Option<i64>,
    /// Status text.
    #[serde(default)]
    pub trade_status_explain: Option<String>,
    /// Type code (1 retail ...).
    #[serde(default, with = "de::opt_int")]
    pub trade_type: Option<i64>,
    /// Order time.
    #[serde(default, with = "de::opt_time")]
    pub trade_time: Option<BeijingTime>,
    /// Payment time.
    #[serde(default, with = "de::opt_time")]
    pub pay_time: Option<BeijingTime>,
    /// Shipment time.
    #[serde(default, with = "de::opt_time")]
    pub consign_time: Option<BeijingTime>,
    /// Creation time.
    #[serde(default, with = "de::opt_time")]
    pub gmt_create: Option<BeijingTime>,
    /// Last modification time.
    #[serde(default, with = "de::opt_time")]
    pub gmt_modified: Option<BeijingTime>,
    /// Shop id.
    #[serde(default)]
    pub shop_id: Option<Id>,
    /// Shop name.
    #[serde(default)]
    pub shop_name: Option<String>,
    /// Warehouse id.
    #[serde(default)]
    pub warehouse_id: Option<Id>,
    /// Warehouse name.
    #[serde(default)]
    pub warehouse_name: Option<String>,
    /// Customer code.
    #[serde(default)]
    pub customer_code: Option<String>,
    /// Customer name.
    #[serde(default)]
    pub customer_name: Option<String>,
    /// Total goods amount.
    #[serde(default, with = "de::opt_decimal")]
    pub total_fee: Option<Decimal>,
    /// Discount.
    #[serde(default, with = "de::opt_decimal")]
    pub discount_fee: Option<Decimal>,
    /// Postage.
    #[serde(default, with = "de::opt_decimal")]
    pub post_fee: Option<Decimal>,
    /// Amount payable.
    #[serde(default, with = "de::opt_decimal")]
    pub payment: Option<Decimal>,
    /// Amount received.
    #[serde(default, with = "de::opt_decimal")]
    pub received_total: Option<Decimal>,
    /// Order lines.
    #[serde(default, deserialize_with = "de::null_vec")]
    pub goods_detail: Vec<TradeGoods>,
    /// Every other field (addresses, memos, flags, `packageDetail`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One line of a sales order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TradeGoods {
    /// Line id.
    #[serde(default)]
    pub sub_trade_id: Option<Id>,
    /// Goods id.
    #[serde(default)]
    pub goods_id: Option<Id>,
    /// Goods number.
    #[serde(default)]
    pub goods_no: Option<String>,
    /// Goods name.
    #[serde(default)]
    pub goods_name: Option<String>,
    /// Spec (SKU) id.
    #[serde(default)]
    pub spec_id: Option<Id>,
    /// Spec name.
    #[serde(default)]
    pub spec_name: Option<String>,
    /// Barcode.
    #[serde(default)]
    pub barcode: Option<String>,
    /// Quantity.
    #[serde(default, with = "de::opt_decimal")]
    pub sell_count: Option<Decimal>,
    /// Unit price.
    #[serde(default, with = "de::opt_decimal")]
    pub sell_price: Option<Decimal>,
    /// Line total.
    #[serde(default, with = "de::opt_decimal")]
    pub sell_total: Option<Decimal>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One page of trades.
#[derive(Debug, Clone, PartialEq)]
pub struct TradePage {
    /// The trades.
    pub trades: Vec<Trade>,
    /// The cursor for the next page; `None` at the end (empty page or no
    /// cursor sent back).
    pub scroll_id: Option<String>,
    /// `totalResults`, when the API sent it (not reliable).
    pub total_results: Option<i64>,
}

impl Client {
    /// `oms.trade.fullinfoget`: one page. The range must not exceed 7 days
    /// (use [`Client::trades_stream`] for longer ones). Pass the previous
    /// page's `scroll_id` (`None` for the first page).
    pub async fn trades_page(
        &self,
        query: &TradeQuery,
        scroll_id: Option<&str>,
    ) -> Result<TradePage> {
        let method = METHOD_TRADES;
        let mut biz = query.bizcontent()?;
        biz["scrollId"] = scroll_id.unwrap_or("").into();
        let data = self.call_raw(method, biz).await?;
        let rows = de::rows_of(&data, &["trades", "Trades"]).ok_or_else(|| {
            Error::decode(
                method,
                "result.data holds no trade list",
                data.to_string().as_bytes(),
            )
        })?;
        let trades: Vec<Trade> = decode_data(method, rows)?;
        let scroll_id = data
            .get("scrollId")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty() && !trades.is_empty())
            .map(str::to_owned);
        let total_results = data.get("totalResults").and_then(|v| match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        });
        Ok(TradePage {
            trades,
            scroll_id,
            total_results,
        })
    }

    /// `oms.trade.fullinfoget`: every trade, lazily. A range longer than
    /// 7 days is split into consecutive windows (see [`split_windows`]);
    /// each window is read with the `scrollId` cursor until an empty page.
    pub fn trades_stream(
        &self,
        query: TradeQuery,
    ) -> impl Stream<Item = Result<Trade>> + Send + 'static {
        let windows: Vec<Option<TimeRange>> = match query.range {
            Some(r) => split_windows(r.start, r.end, MAX_WINDOW)
                .into_iter()
                .map(|(start, end)| {
                    Some(TimeRange {
                        on: r.on,
                        start,
                        end,
                    })
                })
                .collect(),
            None => vec![None],
        };
        let client = self.clone();
        de::paginate(
            (0usize, None::<String>),
            move |(w, scroll): (usize, Option<String>)| {
                let client = client.clone();
                let mut q = query.clone();
                let windows = windows.clone();
                async move {
                    let Some(range) = windows.get(w) else {
                        return Ok((Vec::new(), None));
                    };
                    q.range = *range;
                    let page = client.trades_page(&q, scroll.as_deref()).await?;
                    let next = match page.scroll_id {
                        Some(s) => Some((w, Some(s))),
                        None if w + 1 < windows.len() => Some((w + 1, None)),
                        None => None,
                    };
                    Ok((page.trades, next))
                }
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> BeijingTime {
        BeijingTime::parse(s).unwrap()
    }

    #[test]
    fn windows_cover_the_range_in_seven_day_steps() {
        let w = split_windows(
            t("2026-01-01 00:00:00"),
            t("2026-01-20 12:00:00"),
            MAX_WINDOW,
        );
        let text: Vec<(String, String)> = w
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(
            text,
            vec![
                ("2026-01-01 00:00:00".into(), "2026-01-08 00:00:00".into()),
                ("2026-01-08 00:00:00".into(), "2026-01-15 00:00:00".into()),
                ("2026-01-15 00:00:00".into(), "2026-01-20 12:00:00".into()),
            ]
        );
        assert_eq!(
            split_windows(
                t("2026-01-01 00:00:00"),
                t("2026-01-01 00:00:00"),
                MAX_WINDOW
            )
            .len(),
            1
        );
        assert!(
            split_windows(
                t("2026-01-02 00:00:00"),
                t("2026-01-01 00:00:00"),
                MAX_WINDOW
            )
            .is_empty()
        );
    }

    #[test]
    fn bizcontent_rules() {
        let q = TradeQuery::modified(t("2026-01-01 00:00:00"), t("2026-01-09 00:00:00"));
        assert!(matches!(q.bizcontent(), Err(Error::Config(_))));
        assert!(matches!(
            TradeQuery::default().bizcontent(),
            Err(Error::Config(_))
        ));
        let mut q = TradeQuery::modified(t("2026-01-01 00:00:00"), t("2026-01-08 00:00:00"));
        q.fields = vec!["tradeNo".into()];
        q.page_size = 1000;
        let b = q.bizcontent().unwrap();
        assert_eq!(b["fields"], "tradeNo,scrollId");
        assert_eq!(b["startModified"], "2026-01-01 00:00:00");
        assert_eq!(b["pageSize"], 200);
    }

    #[test]
    fn trades_decode_amounts_and_ids_from_text() {
        let tr: Trade = serde_json::from_value(serde_json::json!({
            "tradeId": "2229118837749614720", "tradeNo": "JY202601010001", "tradeStatus": "9090",
            "payment": "128.50", "postFee": 0, "gmtModified": "2026-01-02 10:00:00",
            "goodsDetail": [{"goodsNo": "G1", "sellCount": "2", "sellPrice": 64.25}],
            "customizeField": "kept"
        }))
        .unwrap();
        assert_eq!(tr.payment, Some(Decimal::new(12850, 2)));
        assert_eq!(tr.trade_status, Some(9090));
        assert_eq!(tr.goods_detail[0].sell_price, Some(Decimal::new(6425, 2)));
        assert_eq!(tr.extra["customizeField"], "kept");
        assert!(serde_json::from_value::<Trade>(serde_json::json!({"payment": "abc"})).is_err());
    }
}
