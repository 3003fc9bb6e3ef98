//! `CompanySource` against the fake: list-then-detail, incremental reads,
//! deletions.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::time::Duration;

use integration_core::testing::Fault;
use integration_core::{Checkpoint, Op, Page, Source};
use okki::testing::FakeOkki;
use okki::{Company, CompanyCursor, CompanySource};

async fn read_all(
    source: &CompanySource,
    checkpoint: Option<&Checkpoint>,
) -> (Vec<Page<Company, CompanyCursor>>, Option<Checkpoint>) {
    let mut pages = Vec::new();
    let mut cursor = None;
    loop {
        let page = source.read(checkpoint, cursor).await.unwrap();
        cursor = page.next.clone();
        let done = cursor.is_none();
        pages.push(page);
        if done {
            let cp = pages.last().unwrap().checkpoint.clone();
            return (pages, cp);
        }
        assert!(
            pages.last().unwrap().checkpoint.is_none(),
            "checkpoint only at the end"
        );
    }
}

#[tokio::test]
async fn full_then_incremental_with_deletions() {
    let fake = FakeOkki::start().await;
    fake.seed_demo(23);
    let client = fake.client_builder().build().unwrap();
    let source = CompanySource::new(client)
        .page_size(10)
        .detail_concurrency(3);

    let (pages, checkpoint) = read_all(&source, None).await;
    let records: Vec<_> = pages.iter().flat_map(|p| p.records.iter()).collect();
    assert_eq!(records.len(), 23);
    assert!(records.iter().all(|r| r.op == Op::Upsert));
    assert!(
        records
            .iter()
            .all(|r| r.key == r.data.company_id.to_string())
    );
    assert!(
        records.iter().all(|r| !r.data.customers.is_empty()),
        "details carry contacts"
    );
    assert_eq!(fake.received_on("/v1/company/info").await.len(), 23);
    // 3 live list pages (10, 10, 3 rows) given out in chunks of twice the
    // detail concurrency (6 + 4, 6 + 4, 3), then 1 (empty) deleted page.
    assert_eq!(pages.len(), 6);
    assert_eq!(
        pages.iter().map(|p| p.records.len()).collect::<Vec<_>>(),
        [6, 4, 6, 4, 3, 0]
    );
    let checkpoint = checkpoint.expect("checkpoint at the end");

    // Nothing changed: the next run reads nothing.
    let (pages, _) = read_all(&source, Some(&checkpoint)).await;
    assert_eq!(pages.iter().map(|p| p.records.len()).sum::<usize>(), 0);

    // Change one company, delete another.
    let now = chrono::Utc::now().with_timezone(&integration_core::types::beijing());
    let now_text = now.format("%Y-%m-%d %H:%M:%S").to_string();
    let (changed, deleted) = {
        let mut state = fake.state();
        let ids: Vec<i64> = state.companies.keys().copied().collect();
        state.touch_company(ids[0], &now_text);
        assert!(state.delete_company(ids[1]));
        (ids[0], ids[1])
    };
    let (pages, next_cp) = read_all(&source, Some(&checkpoint)).await;
    let records: Vec<_> = pages.into_iter().flat_map(|p| p.records).collect();
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!(
        (records[0].key.clone(), records[0].op),
        (changed.to_string(), Op::Upsert)
    );
    assert_eq!(
        (records[1].key.clone(), records[1].op),
        (deleted.to_string(), Op::Delete)
    );
    assert!(
        records[1].data.name.is_some(),
        "the deletion carries the list row"
    );
    assert!(next_cp.unwrap().as_time() >= checkpoint.as_time());

    // The window overlaps the checkpoint: a change stamped a few minutes
    // before it (a lagging server clock) is still read.
    let before = (now - chrono::Duration::minutes(3))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    let late = {
        let mut state = fake.state();
        let id = *state.companies.keys().nth(5).unwrap();
        state.touch_company(id, &before);
        id
    };
    let (pages, _) = read_all(&source, Some(&checkpoint)).await;
    assert!(
        pages
            .iter()
            .flat_map(|p| &p.records)
            .any(|r| r.key == late.to_string())
    );
    let strict = source.clone().overlap(Duration::ZERO);
    let (pages, _) = read_all(&strict, Some(&checkpoint)).await;
    assert!(
        !pages
            .iter()
            .flat_map(|p| &p.records)
            .any(|r| r.key == late.to_string())
    );
}

#[tokio::test]
async fn detail_gone_is_a_deletion_and_other_failures_fail_the_page() {
    let fake = FakeOkki::start().await;
    fake.seed_demo(4);
    let client = fake.client_builder().build().unwrap();
    let source = CompanySource::new(client).include_deleted(false);
    // Not found on detail (deleted between list and info).
    fake.faults().inject_on(
        "/v1/company/info",
        Fault::Respond(Box::new(integration_core::testing::json_response(
            &serde_json::json!({"code": 404, "message": "Not Found Resource", "data": []}),
        ))),
        1,
    );
    let page = source.read(None, None).await.unwrap();
    assert_eq!(page.records.len(), 4);
    assert_eq!(
        page.records.iter().filter(|r| r.op == Op::Delete).count(),
        1
    );
    assert!(page.next.is_none() && page.checkpoint.is_some());

    // "No Privilege" shares code 404 but is an error, not a deletion.
    fake.faults().inject_on(
        "/v1/company/info",
        Fault::Respond(Box::new(integration_core::testing::json_response(
            &serde_json::json!({"code": 404, "message": "No Privilege", "data": []}),
        ))),
        1,
    );
    let err = source.read(None, None).await.unwrap_err();
    assert_eq!(err.code(), Some("404"));
    assert_eq!(err.kind(), integration_core::ErrorKind::Auth);

    // Throttled details are retried through the transport.
    fake.faults()
        .inject_on("/v1/company/info", Fault::Throttled, 2);
    assert_eq!(source.read(None, None).await.unwrap().records.len(), 4);
}

#[tokio::test]
async fn shrinking_list_steps_back() {
    let fake = FakeOkki::start().await;
    fake.seed_demo(12);
    let client = fake.client_builder().build().unwrap();
    let source = CompanySource::new(client)
        .page_size(5)
        .include_deleted(false);
    let first = source.read(None, None).await.unwrap();
    assert_eq!(first.records.len(), 5);
    // A company on the first page is deleted: later rows shift forward.
    let gone: i64 = first.records[0].key.parse().unwrap();
    fake.state().delete_company(gone);
    let second = source.read(None, first.next).await.unwrap();
    assert!(
        second.records.is_empty(),
        "the step back is signalled by an empty page"
    );
    let mut seen: Vec<String> = first.records.iter().map(|r| r.key.clone()).collect();
    let mut cursor = second.next;
    while let Some(c) = cursor {
        let page = source.read(None, Some(c)).await.unwrap();
        seen.extend(page.records.iter().map(|r| r.key.clone()));
        cursor = page.next;
    }
    let live: Vec<String> = fake
        .state()
        .companies
        .iter()
        .filter(|(_, c)| !c.deleted)
        .map(|(id, _)| id.to_string())
        .collect();
    assert!(
        live.iter().all(|id| seen.contains(id)),
        "no live company missed"
    );
}

#[tokio::test]
async fn a_pages_first_details_are_given_out_before_the_rest_are_fetched() {
    let fake = FakeOkki::start().await;
    fake.seed_demo(30);
    let client = fake.client_builder().build().unwrap();
    let source = CompanySource::new(client)
        .page_size(30)
        .detail_concurrency(2);
    let page = source.read(None, None).await.unwrap();
    assert_eq!(page.records.len(), 4);
    assert_eq!(fake.received_on("/v1/company/list").await.len(), 1);
    assert_eq!(fake.received_on("/v1/company/info").await.len(), 4);
    // The next read fetches the next chunk without listing again.
    let page = source.read(None, page.next).await.unwrap();
    assert_eq!(page.records.len(), 4);
    assert_eq!(fake.received_on("/v1/company/list").await.len(), 1);
    assert_eq!(fake.received_on("/v1/company/info").await.len(), 8);
}
