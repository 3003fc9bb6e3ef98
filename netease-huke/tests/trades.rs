//! `trade/searchTrades` against the fake: paging, filters, faults.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::collections::BTreeSet;

use chrono::{Duration, TimeZone, Utc};
use futures::{StreamExt, TryStreamExt};
use integration_core::ErrorKind;
use integration_core::paging::Page;
use integration_core::testing::{Fault, body_json};
use integration_core::types::UnixMillis;
use netease_huke::testing::{APP_KEY, FakeHuke};
use netease_huke::trade::{PagePlacement, TimeRange, Trade, TradeQuery, time_type};
use netease_huke::{Client, Error};
use serde_json::json;

fn all_time(tt: netease_huke::Scalar) -> TradeQuery {
    let now = Utc::now();
    TradeQuery::new().time_range(TimeRange::new(
        tt,
        UnixMillis::from_utc(now - Duration::days(400)),
        UnixMillis::from_utc(now + Duration::days(1)),
    ))
}

/// The first page of every trade created in the last 400 days.
async fn first_page(client: &Client) -> Result<Page<Trade, TradeQuery>, Error> {
    client.trades().list(&all_time(time_type::CREATED)).await
}

/// A client of the fake that sends every request once.
fn without_retries(fake: &FakeHuke) -> Client {
    fake.client_builder()
        .retry(integration_core::RetryPolicy::never())
        .build()
        .unwrap()
}

/// A success envelope around `data`.
fn answer(data: serde_json::Value) -> Fault {
    Fault::Respond(Box::new(integration_core::testing::json_response(
        &json!({"code": 200, "msg": "success", "data": data}),
    )))
}

#[tokio::test]
async fn one_page_and_a_lazy_stream_across_pages() {
    let fake = FakeHuke::start().await;
    let seeded = fake.seed_trades(47, 3);
    let client = fake.client_builder().build().unwrap();

    let page = client
        .trades()
        .list(&all_time(time_type::CREATED).page_size(10).page(2))
        .await
        .unwrap();
    assert_eq!((page.items.len(), page.total), (10, Some(47)));
    let next = page.next.as_ref().unwrap();
    assert_eq!((next.page, next.page_size), (Some(3), Some(10)));

    let mut pages = std::pin::pin!(
        client
            .trades()
            .pages(all_time(time_type::CREATED).page_size(10))
    );
    let mut sizes = Vec::new();
    let mut ids = BTreeSet::new();
    while let Some(page) = pages.next().await {
        let page = page.unwrap();
        sizes.push(page.items.len());
        ids.extend(page.items.iter().map(|t| t.key()));
    }
    assert_eq!(sizes, vec![10, 10, 10, 10, 7]);
    assert_eq!(ids, seeded.iter().map(|t| t.key()).collect());
    assert_eq!(
        fake.received_on("searchTrades").await.len(),
        6,
        "1 single page + 5 stream pages"
    );

    // Lazy: taking 12 trades fetches only 2 pages.
    let before = fake.received_on("searchTrades").await.len();
    let first: Vec<_> = client
        .trades()
        .stream(all_time(time_type::CREATED).page_size(10))
        .take(12)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(first.len(), 12);
    assert_eq!(fake.received_on("searchTrades").await.len() - before, 2);

    // Exactly full last page: ends on the total, without an extra empty request.
    let before = fake.received_on("searchTrades").await.len();
    let all: Vec<_> = client
        .trades()
        .stream(all_time(time_type::CREATED).page_size(47))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 47);
    assert_eq!(fake.received_on("searchTrades").await.len() - before, 1);
}

#[tokio::test]
async fn seeded_trades_are_realistic() {
    let fake = FakeHuke::start().await;
    let trades = fake.seed_trades(60, 11);
    let buyers: BTreeSet<_> = trades
        .iter()
        .map(|t| t.buyer_cid.clone().unwrap())
        .collect();
    assert!(buyers.len() < trades.len(), "buyers have several trades");
    let months: BTreeSet<_> = trades
        .iter()
        .map(|t| {
            t.millis("createTime")
                .unwrap()
                .unwrap()
                .to_utc()
                .unwrap()
                .format("%Y-%m")
                .to_string()
        })
        .collect();
    assert!(months.len() >= 4, "{months:?}");
    for t in &trades {
        assert!(
            t.buyer_nick
                .as_deref()
                .unwrap()
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
        );
        let payment = t.decimal("payment").unwrap().unwrap();
        assert_eq!(payment.scale(), 2);
        assert!(payment >= rust_decimal::Decimal::ZERO);
        assert_eq!(
            t.decimal("totalFee").unwrap().unwrap() + t.decimal("postFee").unwrap().unwrap()
                - t.decimal("discountFee").unwrap().unwrap(),
            payment
        );
    }
}

#[tokio::test]
async fn time_type_source_and_dealer_filters() {
    let fake = FakeHuke::start().await;
    let trades = fake.seed_trades(80, 5);
    let client = fake.client_builder().build().unwrap();
    let fetch = |req: TradeQuery| {
        let client = client.clone();
        async move {
            client
                .trades()
                .stream(req.page_size(100))
                .try_collect::<Vec<_>>()
                .await
                .unwrap()
        }
    };

    let paid = fetch(all_time(time_type::PAID)).await;
    let expected_paid = trades
        .iter()
        .filter(|t| t.millis("payTime").unwrap().is_some())
        .count();
    assert_eq!(paid.len(), expected_paid);
    assert!(paid.len() < trades.len());

    // A narrow window on createTime, ends inclusive.
    let mut sorted: Vec<_> = trades
        .iter()
        .map(|t| t.millis("createTime").unwrap().unwrap())
        .collect();
    sorted.sort();
    let (start, end) = (sorted[10], sorted[29]);
    let window =
        fetch(TradeQuery::new().time_range(TimeRange::new(time_type::CREATED, start, end))).await;
    assert_eq!(window.len(), 20);
    assert!(
        window
            .windows(2)
            .all(|w| w[0].millis("createTime").unwrap() <= w[1].millis("createTime").unwrap())
    );

    let by_dealer = fetch(all_time(time_type::CREATED).dealer("1001").dealer(1002)).await;
    let expected = trades
        .iter()
        .filter(|t| matches!(t.extra["dealerId"].as_str(), Some("1001" | "1002")))
        .count();
    assert_eq!(by_dealer.len(), expected);

    let by_source = fetch(all_time(time_type::CREATED).source("2")).await;
    assert_eq!(
        by_source.len(),
        trades.iter().filter(|t| t.extra["source"] == 2).count()
    );
    assert!(!by_source.is_empty());

    // Two ranges: both must hold.
    let both = fetch(all_time(time_type::CREATED).time_range(TimeRange::new(
        time_type::FINISHED,
        UnixMillis(0),
        UnixMillis::from_utc(Utc::now() + Duration::days(30)),
    )))
    .await;
    assert_eq!(
        both.len(),
        trades
            .iter()
            .filter(|t| t.millis("finishTime").unwrap().is_some())
            .count()
    );
}

#[tokio::test]
async fn page_size_is_clamped_and_paging_sent_in_both_places() {
    let fake = FakeHuke::start().await;
    fake.seed_trades(5, 1);
    let client = fake.client_builder().build().unwrap();
    client
        .trades()
        .list(&all_time(time_type::CREATED).page_size(5000))
        .await
        .unwrap();
    let body = body_json(&fake.received_on("searchTrades").await[0]);
    assert_eq!(
        (body["page"].clone(), body["pageSize"].clone()),
        (json!(1), json!(100))
    );
    assert_eq!(body["timeRanges"][0]["pageSize"], 100);
    assert_eq!(body["timeRanges"][0]["timeType"], 1);
    assert!(
        body["timeRanges"][0]["startTime"].as_i64().unwrap() > 1_000_000_000_000,
        "milliseconds"
    );

    let nested = fake
        .client_builder()
        .page_placement(PagePlacement::InTimeRanges)
        .max_page_size(20)
        .build()
        .unwrap();
    let page = nested
        .trades()
        .list(&all_time(time_type::CREATED).page_size(3).page(2))
        .await
        .unwrap();
    assert_eq!(
        page.items.len(),
        2,
        "the fake reads paging from timeRanges too"
    );
    let body = body_json(&fake.received_on("searchTrades").await[1]);
    assert!(body.get("page").is_none());
    assert_eq!(body["timeRanges"][0]["page"], 2);
}

#[tokio::test]
async fn throttling_then_success() {
    let fake = FakeHuke::start().await;
    fake.seed_trades(3, 2);
    let client = fake.client_builder().build().unwrap();
    fake.faults().inject(Fault::Throttled, 2);
    let page = first_page(&client).await.unwrap();
    assert_eq!(page.items.len(), 3);
    assert_eq!(fake.received_on("searchTrades").await.len(), 3);

    // Throttled beyond the retry budget: a typed, retryable error.
    fake.faults().inject(Fault::Throttled, 10);
    let err = first_page(&client).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert!(err.is_retryable());
    assert_eq!(err.code(), Some("429"));
    fake.faults().clear();
}

/// An envelope whose data is not a trade list (hostile bodies are in the
/// shared conformance checks).
#[tokio::test]
async fn an_answer_without_a_trade_list_is_a_decode_error() {
    let fake = FakeHuke::start().await;
    let client = without_retries(&fake);
    fake.faults()
        .inject(answer(json!({"weird": true, "sign": "leak-me"})), 1);
    let err = first_page(&client).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(
        err.to_string().contains("no trade list") && !err.to_string().contains("leak-me"),
        "{err}"
    );

    // A gateway 502 once, then success (with the default retrying client).
    fake.seed_trades(2, 9);
    let retrying = fake.client_builder().build().unwrap();
    fake.faults().inject(Fault::ServerError(502), 1);
    assert_eq!(first_page(&retrying).await.unwrap().items.len(), 2);
}

/// The checks every connector's client passes, through the shared fake
/// trait only: retried throttling and gateway errors, hostile bodies.
#[tokio::test]
async fn the_client_passes_the_shared_conformance_checks() {
    use integration_core::testing::{Fake, conformance};

    let fake = <FakeHuke as Fake>::start().await;
    let client = Fake::client_builder(&fake).build().unwrap();
    conformance::check_read(&fake, || first_page(&client)).await;
    assert_eq!(Fake::base_url(&fake), fake.base_url());
    assert_eq!(Fake::credentials(&fake).app_key(), APP_KEY);
}

#[tokio::test]
async fn a_server_that_ignores_page_does_not_loop_forever() {
    let fake = FakeHuke::start().await;
    let client = fake.client_builder().build().unwrap();
    let page = answer(json!({"list": [{"tid": "A"}, {"tid": "B"}]}));
    fake.faults().inject(page, 5);
    let result: Result<Vec<_>, _> = client
        .trades()
        .stream(all_time(time_type::CREATED).page_size(2))
        .try_collect()
        .await;
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.to_string().contains("repeats"), "{err}");
    fake.faults().clear();
}

#[tokio::test]
async fn business_errors_keep_code_and_message() {
    let fake = FakeHuke::start().await;
    let client = fake.client_builder().build().unwrap();
    let req = TradeQuery::new().time_range(TimeRange::new(
        99,
        UnixMillis::from_utc(Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()),
        UnixMillis::from_utc(Utc::now()),
    ));
    let err = client.trades().list(&req).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Business);
    assert_eq!(err.code(), Some("400"));
    assert!(err.message().contains("timeType"), "{err}");
    assert_eq!(
        fake.received_on("searchTrades").await.len(),
        1,
        "business errors are not retried"
    );
}

#[tokio::test]
async fn a_slow_answer_is_a_timeout() {
    let fake = FakeHuke::start().await;
    let client = fake
        .client_builder()
        .timeout(Some(std::time::Duration::from_millis(150)))
        .retry(integration_core::RetryPolicy::never())
        .build()
        .unwrap();
    fake.faults()
        .inject(Fault::Delay(std::time::Duration::from_secs(2)), 1);
    let err = first_page(&client).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(err.is_retryable());
}

/// A value in a trade row that cannot be read fails the page with a decode
/// error naming the field; a junk total too (it is not "no total").
#[tokio::test]
async fn junk_in_a_list_row_is_a_decode_error_naming_the_field() {
    let fake = FakeHuke::start().await;
    let client = without_retries(&fake);
    fake.faults().inject(
        answer(json!({"total": 2, "list": [
            {"tid": "A", "buyerCid": "c1"},
            {"tid": "B", "buyerCid": {"id": 1}},
        ]})),
        1,
    );
    let err = first_page(&client).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(
        err.to_string().contains("field `list[1].buyerCid`"),
        "{err}"
    );

    fake.faults()
        .inject(answer(json!({"total": "lots", "list": []})), 1);
    let err = first_page(&client).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.to_string().contains("field `total`"), "{err}");
}
