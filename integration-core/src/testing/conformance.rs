//! What every connector's client does against its fake, checked the same
//! way in all seven crates: each crate's tests run [`check_read`] on one of
//! its read calls, through the [`Fake`] trait only.

use std::fmt::Debug;
use std::future::Future;

use super::{Fake, Fault};
use crate::error::{ErrorKind, ErrorMeta};

/// Checks one read `call` (a page of something) against `fake`:
///
/// - it succeeds, and again after one throttled answer and after one
///   gateway error (HTTP 503), which the client retries by itself (two
///   requests each);
/// - a malformed, truncated, HTML or empty body is a decode error, after
///   one request (not retried), whose message is short and quotes the body
///   (an HTML page's title shows);
/// - the fake's `base_url` and `received` agree with what the client sent.
///
/// The first call may log in; the checks count requests from the second.
pub async fn check_read<F, T, E, Fut>(fake: &F, call: impl Fn() -> Fut)
where
    F: Fake,
    Fut: Future<Output = Result<T, E>>,
    E: ErrorMeta + Debug,
{
    assert!(
        fake.base_url().starts_with("http://127.0.0.1:"),
        "{}",
        fake.base_url()
    );
    if let Err(e) = call().await {
        panic!("the call fails without a fault: {e:?}");
    }
    let requests = || async { fake.received().await.len() };

    for fault in [Fault::Throttled, Fault::ServerError(503)] {
        let before = requests().await;
        fake.faults().inject(fault.clone(), 1);
        if let Err(e) = call().await {
            panic!("{fault:?} is not retried: {e:?}");
        }
        assert_eq!(requests().await - before, 2, "{fault:?}, then answered");
    }

    for fault in [
        Fault::Malformed,
        Fault::Truncated,
        Fault::Html,
        Fault::Empty,
    ] {
        let before = requests().await;
        fake.faults().inject(fault.clone(), 1);
        let err = match call().await {
            Ok(_) => panic!("{fault:?} was accepted"),
            Err(e) => e,
        };
        assert_eq!(err.kind(), ErrorKind::Decode, "{fault:?}: {err:?}");
        assert!(!err.is_retryable(), "{fault:?}: {err:?}");
        assert_eq!(requests().await - before, 1, "{fault:?} is not sent again");
        let text = err.to_string();
        assert!(text.len() < 800, "{fault:?}: a short excerpt, not {text}");
        if matches!(fault, Fault::Html) {
            assert!(text.contains("502 Bad Gateway"), "the page shows: {text}");
        }
    }
}
