//! Typed methods and pagination against the fake.

use futures::TryStreamExt;
use integration_core::testing::form_pairs;
use integration_core::types::{BeijingTime, Id};
use jackyun::customer::{CustomerListQuery, CustomerQuery, NewCustomer};
use jackyun::goods::GoodsQuery;
use jackyun::stock::StockQuery;
use jackyun::testing::{FakeJackyun, SUB_DUPLICATE};
use jackyun::trade::{MAX_WINDOW, TradeQuery, split_windows};
use jackyun::{ApiErrorClass, Error, WarehouseQuery};
use serde_json::Value;

async fn bizcontents(fake: &FakeJackyun, method: &str) -> Vec<Value> {
    fake.received()
        .await
        .iter()
        .map(form_pairs)
        .filter(|f| f.iter().any(|(k, v)| k == "method" && v == method))
        .map(|f| {
            serde_json::from_str(
                &f.into_iter()
                    .find(|(k, _)| k == "bizcontent")
                    .expect("bizcontent")
                    .1,
            )
            .expect("json")
        })
        .collect()
}

#[tokio::test]
async fn customers_add_then_list_and_query() {
    let fake = FakeJackyun::start().await;
    fake.seed(5, 0, 0, chrono::Utc::now());
    let client = fake.client();

    let mut c = NewCustomer::new("KH90001", "宁波海曙明远五金有限公司");
    c.alias = Some("明远五金".into());
    c.contacts = Some("王磊".into());
    c.state = Some("浙江省".into());
    c.city = Some("宁波市".into());
    c.district = Some("海曙区".into());
    c.detailed_address = Some("中山西路88号".into());
    c.gender = Some("1".into());
    c.birthday = Some("1985-06-01".into());
    c.calendar_type = Some("1".into());
    c.tax_number = Some("91330203MA2AH1234X".into());
    c.customer_type_name = Some("批发客户".into());
    c.extra
        .insert("customField1".into(), "来自金蝶云星辰".into());
    let created = client.customers().create(&c).await.unwrap();
    let id = created.customer_id.clone().unwrap();
    assert!(created.context_id.is_some());

    // The add sent every field as camelCase text.
    let biz = &bizcontents(&fake, "crm.customer.add").await[0];
    assert_eq!(biz["detailedAddress"], "中山西路88号");
    assert_eq!(biz["calendarType"], "1");
    assert_eq!(biz["customField1"], "来自金蝶云星辰");

    let found = client
        .customers()
        .find_by_code("KH90001")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.customer_id, id);
    assert_eq!(found.alias.as_deref(), Some("明远五金"));
    assert_eq!(found.tax_number.as_deref(), Some("91330203MA2AH1234X"));
    assert_eq!(found.extra["detailedAddress"], "中山西路88号");
    assert!(
        client
            .customers()
            .find_by_code("KH00404")
            .await
            .unwrap()
            .is_none()
    );

    let err = client.customers().create(&c).await.unwrap_err();
    assert!(matches!(&err, Error::Api(_)), "{err:?}");
    assert_eq!(err.code(), Some(SUB_DUPLICATE));
    assert_eq!(err.class(), Some(ApiErrorClass::Business));
    // A code changed in the fake's state is found under its new code only.
    {
        let mut state = fake.state();
        let row = state
            .customers_mut()
            .iter_mut()
            .find(|r| r["customerCode"] == "KH90001")
            .unwrap();
        row["customerCode"] = "KH90002".into();
    }
    assert!(
        client
            .customers()
            .find_by_code("KH90001")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        client
            .customers()
            .find_by_code("KH90002")
            .await
            .unwrap()
            .unwrap()
            .customer_id,
        id
    );
    fake.state()
        .customers_mut()
        .iter_mut()
        .find(|r| r["customerCode"] == "KH90002")
        .unwrap()["customerCode"] = "KH90001".into();
    let err = client.customers().create(&c).await.unwrap_err();
    assert_eq!(err.code(), Some(SUB_DUPLICATE));
    assert!(matches!(
        client
            .customers()
            .create(&NewCustomer::new(" ", "x"))
            .await
            .unwrap_err(),
        Error::Config(_)
    ));

    let all: Vec<_> = client
        .customers()
        .stream(CustomerListQuery {
            page_size: 2,
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 6);
    // 6 rows at 2 a page: 3 full pages and an empty one.
    let pages = bizcontents(&fake, "crm.customer.list").await;
    assert_eq!(
        pages
            .iter()
            .map(|b| b["pageIndex"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![0, 1, 2, 3]
    );

    let before = bizcontents(&fake, "crm.customer.list.customized")
        .await
        .len();
    let scrolled: Vec<_> = client
        .customers()
        .query_stream(CustomerQuery {
            page_size: 2,
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(scrolled, all);
    let scroll_ids: Vec<String> = bizcontents(&fake, "crm.customer.list.customized")
        .await
        .iter()
        .skip(before)
        .map(|b| b["scrollId"].as_str().unwrap().to_owned())
        .collect();
    assert!(scroll_ids.len() >= 4);
    assert_eq!(scroll_ids[0], "");
    assert!(scroll_ids[1..].iter().all(|s| !s.is_empty()));
}

#[tokio::test]
async fn goods_follow_max_sku_id_across_pages() {
    let fake = FakeJackyun::start().await;
    fake.seed(0, 7, 0, chrono::Utc::now());
    let client = fake.client();
    let goods: Vec<_> = client
        .goods()
        .stream(GoodsQuery {
            page_size: 3,
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(goods.len(), 7);
    assert!(
        goods
            .windows(2)
            .all(|w| w[0].sku_id.as_i64() < w[1].sku_id.as_i64())
    );
    assert!(goods[0].retail_price.unwrap().scale() == 2);
    assert!(goods[0].goods_gmt_modified.is_some());
    let cursors: Vec<Value> = bizcontents(&fake, "erp.storage.goodslist")
        .await
        .iter()
        .map(|b| b["maxSkuId"].clone())
        .collect();
    assert_eq!(cursors.len(), 4, "3 pages of data and the empty page");
    assert_eq!(cursors[0], 0);
    assert_eq!(cursors[1], goods[2].sku_id.as_i64().unwrap());
    assert_eq!(cursors[3], goods[6].sku_id.as_i64().unwrap());

    let one = client
        .goods()
        .list(&GoodsQuery {
            goods_nos: vec!["SP00002".into(), "SP00005".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(one.items.len(), 2);
    assert_eq!(
        bizcontents(&fake, "erp.storage.goodslist")
            .await
            .last()
            .unwrap()["goodsNos"],
        "SP00002,SP00005"
    );
}

#[tokio::test]
async fn trades_split_long_ranges_into_seven_day_windows() {
    let fake = FakeJackyun::start().await;
    let now = chrono::Utc::now();
    fake.seed(0, 0, 60, now);
    let client = fake.client();
    let start = BeijingTime::from_utc(now - chrono::Duration::days(130));
    let end = BeijingTime::from_utc(now);
    let mut q = TradeQuery::modified(start, end);
    q.page_size = 5;

    // A single page refuses more than 7 days without calling.
    assert!(matches!(
        client.trades().list(&q).await.unwrap_err(),
        Error::Config(_)
    ));
    assert!(fake.received().await.is_empty());

    let trades: Vec<_> = client.trades().stream(q).try_collect().await.unwrap();
    let mut ids: Vec<Id> = trades.iter().map(|t| t.trade_id.clone().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 60, "every trade read");
    let t = &trades[0];
    assert!(t.payment.is_some() && t.gmt_modified.is_some() && !t.goods_detail.is_empty());
    assert!(t.goods_detail[0].sell_price.is_some());

    let calls = bizcontents(&fake, "oms.trade.fullinfoget").await;
    for biz in &calls {
        let s = BeijingTime::parse(biz["startModified"].as_str().unwrap()).unwrap();
        let e = BeijingTime::parse(biz["endModified"].as_str().unwrap()).unwrap();
        assert!(e.0 - s.0 <= MAX_WINDOW);
        assert!(biz["fields"].as_str().unwrap().ends_with("scrollId"));
    }
    let windows = split_windows(start, end, MAX_WINDOW).len();
    assert_eq!(windows, 19);
    assert!(calls.len() >= windows + 3, "several scroll pages");
}

#[tokio::test]
async fn trades_return_only_the_requested_fields_and_the_fake_checks_rules() {
    let fake = FakeJackyun::start().await;
    let now = chrono::Utc::now();
    fake.seed(0, 0, 20, now);
    let client = fake.client();
    let mut q = TradeQuery::modified(
        BeijingTime::from_utc(now - chrono::Duration::days(7)),
        BeijingTime::from_utc(now),
    );
    q.fields = vec!["tradeNo".into(), "payment".into()];
    let page = client.trades().list(&q).await.unwrap();
    assert!(!page.items.is_empty());
    assert!(
        page.items
            .iter()
            .all(|t| t.trade_no.is_some() && t.trade_id.is_none())
    );

    let err = client
        .call_raw(
            "oms.trade.fullinfoget",
            serde_json::json!({"startModified": "2026-01-01 00:00:00", "endModified": "2026-01-02 00:00:00", "pageSize": 10}),
        )
        .await
        .unwrap_err();
    assert!(err.class().is_some() && err.message().contains("查询字段不能为空"));
    let err = client
        .call_raw(
            "oms.trade.fullinfoget",
            serde_json::json!({"fields": "tradeNo", "startModified": "2026-01-01 00:00:00", "endModified": "2026-01-09 00:00:01"}),
        )
        .await
        .unwrap_err();
    assert_eq!(err.class(), Some(ApiErrorClass::InvalidParameter));
    let err = client
        .trades()
        .list(&TradeQuery {
            scroll_id: Some("scroll-bogus".into()),
            ..q
        })
        .await
        .unwrap_err();
    assert!(err.class().is_some() && err.message().contains("scrollId"));
}

#[tokio::test]
async fn stock_follows_max_quantity_id_and_warehouses_page() {
    let fake = FakeJackyun::start().await;
    fake.seed(0, 4, 0, chrono::Utc::now());
    let client = fake.client();
    let rows: Vec<_> = client
        .stock()
        .stream(StockQuery {
            page_size: 5,
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rows.len(), 12, "4 SKUs in 3 warehouses");
    assert!(
        rows.iter()
            .all(|r| r.current_quantity.is_some() && r.cost_price.is_some())
    );
    let cursors: Vec<Value> = bizcontents(&fake, "erp.stockquantity.get")
        .await
        .iter()
        .map(|b| b["maxQuantityId"].clone())
        .collect();
    assert_eq!(cursors.len(), 4);
    assert_eq!(cursors[1], rows[4].quantity_id.as_i64().unwrap());

    let all: Vec<_> = client
        .warehouses()
        .stream(WarehouseQuery::new(1))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].warehouse_name.as_deref(), Some("杭州总仓"));
}

#[tokio::test]
async fn pages_carry_the_next_query_and_the_total() {
    let fake = FakeJackyun::start().await;
    let now = chrono::Utc::now();
    fake.seed(5, 5, 30, now);
    let client = fake.client();

    // Page numbers: the next query is the next page; a short page ends.
    let page = client
        .customers()
        .list(&CustomerListQuery {
            page_size: 3,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items.len(), 3);
    let next = page.next.expect("a second page");
    assert_eq!((next.page_index, next.page_size), (1, 3));
    let last = client.customers().list(&next).await.unwrap();
    assert_eq!((last.items.len(), last.next, last.total), (2, None, None));

    // Cursors: the next query carries the last row's id or the scroll id.
    let page = client
        .goods()
        .list(&GoodsQuery {
            page_size: 2,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        page.next.unwrap().max_sku_id,
        Some(page.items[1].sku_id.clone())
    );
    let mut query = CustomerQuery {
        page_size: 2,
        ..Default::default()
    };
    query.extra.insert("hasTotal".into(), 1.into());
    let page = client.customers().query(&query).await.unwrap();
    assert_eq!(page.total, Some(5));
    assert!(page.next.unwrap().scroll_id.unwrap().starts_with("scroll-"));

    // Trade pages resume from their `next`, window after window.
    let q = TradeQuery {
        page_size: 4,
        ..TradeQuery::modified(
            BeijingTime::from_utc(now - chrono::Duration::days(130)),
            BeijingTime::from_utc(now),
        )
    };
    let all: Vec<_> = client
        .trades()
        .stream(q.clone())
        .try_collect()
        .await
        .unwrap();
    let mut pages = std::pin::pin!(client.trades().pages(q));
    let mut read = Vec::new();
    let mut resume = None;
    while let Some(page) = pages.try_next().await.unwrap() {
        read.extend(page.items);
        if !read.is_empty() {
            resume = page.next;
            break;
        }
    }
    let rest: Vec<_> = client
        .trades()
        .stream(resume.expect("more to read"))
        .try_collect()
        .await
        .unwrap();
    read.extend(rest);
    assert_eq!(read, all);
}

#[tokio::test]
async fn junk_in_a_row_is_a_decode_error_naming_the_field() {
    let fake = FakeJackyun::start().await;
    fake.seed(0, 3, 0, chrono::Utc::now());
    let client = fake.client();
    fake.state().goods[1]["retailPrice"] = "12,50".into();
    let err = client
        .goods()
        .list(&GoodsQuery::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), integration_core::ErrorKind::Decode);
    assert!(err.to_string().contains("field `[1].retailPrice`"), "{err}");

    // Blank is absent, not junk.
    fake.state().goods[1]["retailPrice"] = "".into();
    let page = client.goods().list(&GoodsQuery::default()).await.unwrap();
    assert_eq!(page.items[1].retail_price, None);

    // A junk total is an error too, not an unknown total.
    fake.faults().inject(
        integration_core::testing::Fault::Respond(Box::new(
            integration_core::testing::json_response(&serde_json::json!({
                "code": 200, "result": {"data": {"trades": [], "scrollId": "", "totalResults": "many"}}
            })),
        )),
        1,
    );
    let now = chrono::Utc::now();
    let q = TradeQuery::modified(
        BeijingTime::from_utc(now - chrono::Duration::days(1)),
        BeijingTime::from_utc(now),
    );
    let err = client.trades().list(&q).await.unwrap_err();
    assert!(err.to_string().contains("field `totalResults`"), "{err}");
}
