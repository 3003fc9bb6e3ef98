//! The incremental trade and buyer sources against the fake.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use integration_core::testing::body_json;
use integration_core::{Checkpoint, Source};
use netease_huke::source::checkpoint_until;
use netease_huke::testing::FakeHuke;
use netease_huke::trade::Trade;
use netease_huke::{BuyerSource, TradeSource};
use serde_json::json;

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, h, m, 0).unwrap()
}

fn trade(tid: &str, cid: Option<&str>, nick: &str, created: DateTime<Utc>) -> Trade {
    let mut v = json!({"tid": tid, "buyerNick": nick, "createTime": created.timestamp_millis(), "payment": "99.00", "source": 2});
    if let Some(cid) = cid {
        v["buyerCid"] = json!(cid);
    }
    serde_json::from_value(v).expect("a trade")
}

/// Reads a whole run; returns the keys and the final checkpoint, and every
/// intermediate checkpoint.
async fn drain<S: Source>(
    source: &S,
    checkpoint: Option<&Checkpoint>,
) -> (Vec<String>, Option<Checkpoint>, usize) {
    let mut keys = Vec::new();
    let mut cursor = None;
    let mut last = checkpoint.cloned();
    let mut pages = 0;
    loop {
        let page = source.read(checkpoint, cursor).await.expect("a page");
        pages += 1;
        keys.extend(page.records.into_iter().map(|r| r.key));
        if let Some(cp) = page.checkpoint {
            last = Some(cp);
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return (keys, last, pages),
        }
    }
}

#[tokio::test]
async fn first_run_reads_the_scheme_window_then_runs_are_incremental_without_duplicates() {
    let fake = FakeHuke::start().await;
    let now = at(20, 0);
    // 72000 s = 20 h before 20:00 is 00:00.
    for (i, t) in [
        at(0, 0) - chrono::Duration::minutes(1),
        at(0, 0),
        at(3, 0),
        at(19, 59),
        at(20, 0),
    ]
    .into_iter()
    .enumerate()
    {
        fake.insert_trade(&trade(&format!("T{i}"), Some(&format!("C{i}")), "王芳", t));
    }
    let client = fake.client_builder().build().unwrap();
    let source = TradeSource::new(client.clone())
        .page_size(2)
        .clock(move || now);
    let (keys, cp, pages) = drain(&source, None).await;
    assert_eq!(
        keys,
        vec!["T1", "T2", "T3", "T4"],
        "the window is now-72000s..now, ends inclusive"
    );
    assert_eq!(pages, 2, "two pages of two, the end known from the total");
    let cp = cp.unwrap();
    assert_eq!(checkpoint_until(&cp), Some(now));
    let sent = body_json(&fake.received_on("searchTrades").await[0]);
    assert_eq!(
        sent["timeRanges"][0]["startTime"],
        at(0, 0).timestamp_millis()
    );
    assert_eq!(sent["timeRanges"][0]["endTime"], now.timestamp_millis());

    // Later: one trade lands late inside the overlap (committed after the
    // last run), others are new; nothing already read comes back.
    fake.insert_trade(&trade("LATE", Some("C9"), "李强", at(19, 55)));
    fake.insert_trade(&trade("NEW1", Some("C1"), "张伟", at(20, 30)));
    fake.insert_trade(&trade("NEW2", Some("C2"), "刘洋", at(21, 0)));
    let later = at(21, 0);
    let source = TradeSource::new(client.clone())
        .page_size(2)
        .clock(move || later);
    let (keys, cp2, _) = drain(&source, Some(&cp)).await;
    assert_eq!(keys, vec!["LATE", "NEW1", "NEW2"]);
    assert_eq!(checkpoint_until(cp2.as_ref().unwrap()), Some(later));

    // A run with nothing new returns nothing, and keeps the checkpoint moving.
    let (keys, cp3, _) = drain(&source, cp2.as_ref()).await;
    assert!(keys.is_empty(), "{keys:?}");
    assert!(cp3.is_some());
}

#[tokio::test]
async fn long_ranges_are_split_into_windows() {
    let fake = FakeHuke::start().await;
    let now = Utc::now();
    let seeded = fake.seed_trades_between(120, 4, now - chrono::Duration::days(90), now);
    let client = fake.client_builder().build().unwrap();
    let source = TradeSource::new(client)
        .window(Duration::from_secs(7 * 86_400))
        .initial_lookback(Duration::from_secs(91 * 86_400))
        .page_size(10)
        .clock(move || now);
    let (keys, cp, _) = drain(&source, None).await;
    let unique: BTreeSet<_> = keys.iter().cloned().collect();
    assert_eq!(unique.len(), keys.len(), "no duplicates");
    assert_eq!(unique, seeded.iter().map(Trade::key).collect());
    let windows: BTreeSet<_> = fake
        .received_on("searchTrades")
        .await
        .iter()
        .map(|r| body_json(r)["timeRanges"][0]["startTime"].as_i64().unwrap())
        .collect();
    assert_eq!(windows.len(), 13, "91 days in windows of 7 days");
    let sent = body_json(&fake.received_on("searchTrades").await[0]);
    let span = sent["timeRanges"][0]["endTime"].as_i64().unwrap()
        - sent["timeRanges"][0]["startTime"].as_i64().unwrap();
    assert_eq!(span, 7 * 86_400_000);
    assert_eq!(
        checkpoint_until(&cp.unwrap()).map(|t| t.timestamp_millis()),
        Some(now.timestamp_millis())
    );
}

#[tokio::test]
async fn a_crash_mid_run_resumes_from_the_last_completed_window_without_loss() {
    let fake = FakeHuke::start().await;
    let now = at(20, 0);
    for i in 0..12u32 {
        fake.insert_trade(&trade(&format!("T{i:02}"), Some("C"), "周佳", at(i + 1, 0)));
    }
    let client = fake.client_builder().build().unwrap();
    let source = TradeSource::new(client)
        .window(Duration::from_secs(4 * 3600))
        .page_size(2)
        .clock(move || now);

    // Read until the first window is complete plus one page, then "crash".
    let mut delivered = Vec::new();
    let mut checkpoint = None;
    let mut cursor = None;
    for _ in 0..4 {
        let page = source.read(None, cursor).await.unwrap();
        delivered.extend(page.records.into_iter().map(|r| r.key));
        if page.checkpoint.is_some() {
            checkpoint = page.checkpoint;
        }
        cursor = page.next;
    }
    let checkpoint = checkpoint.expect("a window completed");
    let (rest, _, _) = drain(&source, Some(&checkpoint)).await;
    let all: BTreeSet<_> = delivered.iter().chain(rest.iter()).cloned().collect();
    assert_eq!(all.len(), 12, "nothing lost");
    let overlap: Vec<_> = delivered.iter().filter(|k| rest.contains(k)).collect();
    assert!(
        overlap.is_empty(),
        "records already processed are not delivered again: {overlap:?}"
    );
}

#[tokio::test]
async fn buyers_are_distinct_by_cid_in_a_run_across_windows_and_trades_without_cid_are_skipped() {
    let fake = FakeHuke::start().await;
    let now = at(20, 0);
    fake.insert_trade(&trade("T1", Some("6290000000000001"), "王芳🌸", at(1, 0)));
    fake.insert_trade(&trade("T2", Some("6290000000000002"), "李强", at(2, 0)));
    fake.insert_trade(&trade("T3", Some("6290000000000001"), "王芳", at(3, 0)));
    fake.insert_trade(&trade("T4", None, "匿名", at(4, 0)));
    fake.insert_trade(&trade("T5", Some("6290000000000003"), "赵敏", at(15, 0)));
    fake.insert_trade(&trade("T6", Some("6290000000000002"), "李强", at(16, 0)));
    fake.insert_trade(&trade("T7", Some("6290000000000003"), "赵敏", at(17, 0)));
    let client = fake.client_builder().build().unwrap();
    // Windows of 6 hours: T1–T4 in one, T5–T7 in another.
    let trades = TradeSource::new(client)
        .window(Duration::from_secs(6 * 3600))
        .page_size(1)
        .clock(move || now);
    let buyers = BuyerSource::new(trades);

    let mut cursor = None;
    let mut emitted = Vec::new();
    let mut first = None;
    loop {
        let page = buyers.read(None, cursor).await.unwrap();
        for r in page.records {
            emitted.push((r.key.clone(), r.data.trade_id.clone()));
            first.get_or_insert(r.data);
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let emitted: BTreeSet<(String, String)> = emitted.into_iter().collect();
    let expected: BTreeSet<(String, String)> = [
        ("6290000000000001", "T1"),
        ("6290000000000002", "T2"),
        ("6290000000000003", "T5"),
    ]
    .into_iter()
    .map(|(k, t)| (k.to_owned(), t.to_owned()))
    .collect();
    // 李强 (T2, T6) has trades in both windows: emitted once.
    assert_eq!(emitted, expected, "once per run, at the first trade");
    let first = first.unwrap();
    assert_eq!(first.buyer_nick.as_deref(), Some("王芳🌸"));
    assert_eq!(first.trade_id, "T1");
    let as_json = serde_json::to_value(&first).unwrap();
    assert_eq!(
        as_json["buyerCid"], "6290000000000001",
        "template fields {{buyerCid}} / {{buyerNick}}"
    );
    assert_eq!(as_json["buyerNick"], "王芳🌸");
}

#[tokio::test]
async fn bad_checkpoints_are_errors_not_full_reads() {
    let fake = FakeHuke::start().await;
    let client = fake.client_builder().build().unwrap();
    let source = TradeSource::new(client);
    let err = source
        .read(Some(&Checkpoint(json!({"nope": 1}))), None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), integration_core::ErrorKind::InvalidRequest);
    assert!(fake.received_on("searchTrades").await.is_empty());
    // A plain time checkpoint (Checkpoint::from_time) is understood.
    let now = Utc::now();
    let source = source.clock(move || now);
    let page = source
        .read(
            Some(&Checkpoint::from_time(now + chrono::Duration::hours(1))),
            None,
        )
        .await
        .unwrap();
    assert!(page.records.is_empty() && page.next.is_none());
}

#[tokio::test]
async fn overlap_longer_than_the_window_still_deduplicates_across_runs() {
    let fake = FakeHuke::start().await;
    for i in 0..30u32 {
        fake.insert_trade(&trade(
            &format!("T{i:02}"),
            Some("C"),
            "孙磊",
            at(18, 0) + chrono::Duration::minutes(2 * i64::from(i)),
        ));
    }
    let client = fake.client_builder().build().unwrap();
    let make = |now: DateTime<Utc>| {
        TradeSource::new(client.clone())
            .window(Duration::from_secs(300))
            .overlap(Duration::from_secs(600))
            .initial_lookback(Duration::from_secs(3600))
            .page_size(2)
            .clock(move || now)
    };
    let (first, cp, _) = drain(&make(at(18, 31)), None).await;
    assert_eq!(first.len(), 16, "18:00..=18:30 every 2 minutes: {first:?}");
    let (second, cp, _) = drain(&make(at(18, 47)), cp.as_ref()).await;
    assert_eq!(
        second,
        (16..24).map(|i| format!("T{i:02}")).collect::<Vec<_>>()
    );
    let (third, _, _) = drain(&make(at(19, 30)), cp.as_ref()).await;
    assert_eq!(
        third,
        (24..30).map(|i| format!("T{i:02}")).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_window_with_more_trades_than_the_limit_is_narrowed_and_nothing_is_lost() {
    let fake = FakeHuke::start().await;
    let now = at(20, 0);
    // 60 trades, one a minute from 08:00, all inside one 20-hour window.
    for i in 0..60 {
        fake.insert_trade(&trade(
            &format!("N{i:02}"),
            Some("6290000000000001"),
            "王芳",
            at(8, 0) + chrono::Duration::minutes(i),
        ));
    }
    let client = fake.client_builder().build().unwrap();
    let source = TradeSource::new(client)
        .max_window_trades(10)
        .page_size(4)
        .clock(move || now);
    let (keys, checkpoint, _) = drain(&source, None).await;
    let distinct: BTreeSet<&String> = keys.iter().collect();
    assert_eq!((keys.len(), distinct.len()), (60, 60), "each trade once");
    assert_eq!(checkpoint_until(&checkpoint.unwrap()), Some(now));

    // Every window that was read in full held at most 10 trades.
    let mut windows: BTreeSet<(i64, i64)> = BTreeSet::new();
    for request in fake.received_on("searchTrades").await {
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        let range = &body["timeRanges"][0];
        if body["page"] == 2 {
            windows.insert((
                range["startTime"].as_i64().unwrap(),
                range["endTime"].as_i64().unwrap(),
            ));
        }
    }
    assert!(!windows.is_empty());
    for (start, end) in windows {
        let inside = (0..60)
            .map(|i| (at(8, 0) + chrono::Duration::minutes(i)).timestamp_millis())
            .filter(|t| (start..=end).contains(t))
            .count();
        assert!(inside <= 10, "a window of {inside} trades was paged");
    }
}

#[tokio::test]
async fn pages_after_a_windows_first_are_requested_together_and_read_once() {
    let fake = FakeHuke::start().await;
    let now = at(20, 0);
    // 23 trades in one window, pages of 2: page 1, then groups of 5.
    for i in 0..23 {
        fake.insert_trade(&trade(
            &format!("C{i:02}"),
            Some("6290000000000001"),
            "李雷",
            at(9, 0) + chrono::Duration::minutes(i),
        ));
    }
    // Every answer takes 50 ms: a group of pages takes one latency, not five.
    fake.faults()
        .set_latency(integration_core::testing::Latency::Fixed(
            Duration::from_millis(50),
        ));
    let client = fake.client_builder().build().unwrap();
    let source = TradeSource::new(client)
        .page_size(2)
        .page_concurrency(5)
        .clock(move || now);
    let started = std::time::Instant::now();
    let (keys, checkpoint, reads) = drain(&source, None).await;
    let took = started.elapsed();
    let distinct: BTreeSet<&String> = keys.iter().collect();
    assert_eq!((keys.len(), distinct.len()), (23, 23), "each trade once");
    assert_eq!(checkpoint_until(&checkpoint.unwrap()), Some(now));
    // 12 pages: page 1, 2–6, 7–11, 12; no page past the total is asked.
    assert_eq!(reads, 4);
    let mut pages: Vec<i64> = fake
        .received_on("searchTrades")
        .await
        .iter()
        .map(|r| body_json(r)["page"].as_i64().unwrap())
        .collect();
    pages.sort_unstable();
    assert_eq!(pages, (1..=12).collect::<Vec<_>>());
    // One page at a time would take 12 × 50 ms.
    assert!(took < Duration::from_millis(400), "{took:?}");
}

#[tokio::test]
async fn only_a_windows_last_page_carries_a_checkpoint() {
    let fake = FakeHuke::start().await;
    let now = Utc::now();
    fake.seed_trades_between(60, 5, now - chrono::Duration::days(3), now);
    let client = fake.client_builder().build().unwrap();
    // Three windows of a day, pages of 4, one page at a time.
    let source = TradeSource::new(client)
        .window(Duration::from_secs(86_400))
        .initial_lookback(Duration::from_secs(3 * 86_400))
        .page_size(4)
        .page_concurrency(1)
        .clock(move || now);
    let mut cursor = None;
    let (mut with, mut without) = (Vec::new(), 0);
    loop {
        let page = source.read(None, cursor).await.unwrap();
        match &page.checkpoint {
            Some(cp) => with.push(checkpoint_until(cp).unwrap()),
            None => without += 1,
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    // (Before, every page after the first window carried one.)
    assert_eq!(with.len(), 3, "one per window, at its last page");
    assert!(with.windows(2).all(|w| w[0] < w[1]));
    assert!(without > 3);
}

#[tokio::test]
async fn a_failed_page_of_a_group_keeps_the_pages_before_it_and_loses_nothing() {
    use integration_core::testing::Fault;
    let fake = FakeHuke::start().await;
    let now = at(20, 0);
    for i in 0..200 {
        fake.insert_trade(&trade(
            &format!("G{i:03}"),
            Some("6290000000000009"),
            "韩梅梅",
            at(8, 0) + chrono::Duration::seconds(i * 30),
        ));
    }
    let client = fake.client_builder().build().unwrap();
    let source = TradeSource::new(client)
        .page_size(2)
        .page_concurrency(8)
        .clock(move || now);
    let first = source.read(None, None).await.unwrap();
    // A broken body in 30 % of the answers from here on.
    fake.faults().random(11, 0.3, vec![Fault::Malformed]);
    let (mut keys, mut cursor) = (Vec::new(), first.next);
    keys.extend(first.records.into_iter().map(|r| r.key));
    let (mut reads, mut failed) = (0, 0);
    while let Some(at) = cursor.take() {
        reads += 1;
        match source.read(None, Some(at.clone())).await {
            Ok(page) => {
                keys.extend(page.records.into_iter().map(|r| r.key));
                cursor = page.next;
            }
            // The pipeline reads a failed page again; so does this loop.
            Err(_) => {
                failed += 1;
                cursor = Some(at);
            }
        }
    }
    let distinct: BTreeSet<&String> = keys.iter().collect();
    assert_eq!((keys.len(), distinct.len()), (200, 200), "each trade once");
    // A read fails only when its group's first page does (30 %); with one
    // failed answer failing the group, 8 pages at 30 % failed 94 % of reads.
    assert!(failed * 2 < reads, "{failed} of {reads} reads failed");
}
