//! Sales orders ([`Client::trades`]): `oms.trade.fullinfoget` (销售单查询),
//! with the `fields` list, the 7-day window rule and the `scrollId` cursor.

use chrono::Duration;
use futures::Stream;
use integration_core::lenient;
use integration_core::paging::{self, Page};
use integration_core::types::{BeijingTime, Id};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::{Client, pages};
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

/// Filters of `oms.trade.fullinfoget` and the page to read (the
/// `scrollId` cursor). At least a time range or order numbers are required
/// by the API.
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
    /// The cursor the previous page sent back; `None` for the first page
    /// (sent as `scrollId: ""`).
    pub scroll_id: Option<String>,
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

    /// The `bizcontent` of one call.
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
        biz.insert(
            "scrollId".into(),
            self.scroll_id.as_deref().unwrap_or("").into(),
        );
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
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub trade_status: Option<i64>,
    /// Status text.
    #[serde(default)]
    pub trade_status_explain: Option<String>,
    /// Type code (1 retail ...).
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub trade_type: Option<i64>,
    /// Order time.
    #[serde(default, deserialize_with = "de::opt_time")]
    pub trade_time: Option<BeijingTime>,
    /// Payment time.
    #[serde(default, deserialize_with = "de::opt_time")]
    pub pay_time: Option<BeijingTime>,
    /// Shipment time.
    #[serde(default, deserialize_with = "de::opt_time")]
    pub consign_time: Option<BeijingTime>,
    /// Creation time.
    #[serde(default, deserialize_with = "de::opt_time")]
    pub gmt_create: Option<BeijingTime>,
    /// Last modification time.
    #[serde(default, deserialize_with = "de::opt_time")]
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
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub total_fee: Option<Decimal>,
    /// Discount.
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub discount_fee: Option<Decimal>,
    /// Postage.
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub post_fee: Option<Decimal>,
    /// Amount payable.
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub payment: Option<Decimal>,
    /// Amount received.
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub received_total: Option<Decimal>,
    /// Order lines.
    #[serde(default, deserialize_with = "lenient::list")]
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
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub sell_count: Option<Decimal>,
    /// Unit price.
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub sell_price: Option<Decimal>,
    /// Line total.
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub sell_total: Option<Decimal>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The sales orders: one page, every page, every order. Get it from
/// [`Client::trades`]; cheap to clone.
#[derive(Debug, Clone)]
pub struct Trades {
    client: Client,
}

impl Client {
    /// The sales orders (`oms.trade.fullinfoget`).
    pub fn trades(&self) -> Trades {
        Trades {
            client: self.clone(),
        }
    }
}

impl Trades {
    /// `oms.trade.fullinfoget`: the page after `query.scroll_id`. The range
    /// must not exceed 7 days (use [`pages`](Self::pages) or
    /// [`stream`](Self::stream) for longer ones). `next` carries the cursor
    /// sent back, `None` after an empty page or when no cursor came back;
    /// `total` is `totalResults` when sent (not reliable).
    pub async fn list(&self, query: &TradeQuery) -> Result<Page<Trade, TradeQuery>> {
        let method = METHOD_TRADES;
        let biz = query.bizcontent()?;
        let data = self.client.call_raw(method, biz).await?;
        let trades: Vec<Trade> = de::list_rows(method, &data, &["trades", "Trades"], "trade")?;
        let meta = de::ScrollMeta::of(method, &data)?;
        let next = meta
            .scroll_id
            .filter(|_| !trades.is_empty())
            .map(|scroll_id| TradeQuery {
                scroll_id: Some(scroll_id),
                ..query.clone()
            });
        Ok(Page::new(trades, next).with_total(meta.total_results))
    }

    /// `oms.trade.fullinfoget`: every page, lazily. A range longer than
    /// 7 days is read in consecutive windows (those of [`split_windows`]),
    /// each with the `scrollId` cursor until an empty page. A page's `next`
    /// is the query of the rest (the remaining range and the cursor): give
    /// it to `pages` to resume; a window's last page may be empty.
    pub fn pages(
        &self,
        query: TradeQuery,
    ) -> impl Stream<Item = Result<Page<Trade, TradeQuery>>> + Send + 'static {
        pages(self, query, |trades, query| async move {
            trades.window_page(&query).await
        })
    }

    /// `oms.trade.fullinfoget`: every trade, lazily (see [`pages`](Self::pages)).
    pub fn stream(&self, query: TradeQuery) -> impl Stream<Item = Result<Trade>> + Send + 'static {
        paging::items(self.pages(query))
    }

    /// One page of the first 7-day window of `query`'s range; `next` is the
    /// rest of the range.
    async fn window_page(&self, query: &TradeQuery) -> Result<Page<Trade, TradeQuery>> {
        let Some(range) = query.range else {
            return self.list(query).await;
        };
        if range.end < range.start {
            // An empty range holds nothing: no call.
            return Ok(Page::new(Vec::new(), None));
        }
        let window_end = BeijingTime((range.start.0 + MAX_WINDOW).min(range.end.0));
        let window = TradeQuery {
            range: Some(TimeRange {
                end: window_end,
                ..range
            }),
            ..query.clone()
        };
        let page = self.list(&window).await?;
        let next = match page.next {
            Some(next) => Some(TradeQuery {
                scroll_id: next.scroll_id,
                ..query.clone()
            }),
            None if window_end < range.end => Some(TradeQuery {
                range: Some(TimeRange {
                    start: window_end,
                    ..range
                }),
                scroll_id: None,
                ..query.clone()
            }),
            None => None,
        };
        Ok(Page {
            items: page.items,
            next,
            total: page.total,
        })
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
