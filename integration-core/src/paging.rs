//! One page of a list API, and every page (or every item) as a lazy stream.
//!
//! Every connector's resource handles answer `list(&query)` with a
//! [`Page`]: the items, the query of the next page (`None` after the last)
//! and the total when the API reports it. [`paginate`] turns such a `list`
//! into the stream of all pages, and [`items`] into the stream of all items,
//! fetching one page at a time: memory stays bounded by a page, and nothing
//! is fetched that is not read.
//!
//! ```
//! use futures::TryStreamExt;
//! use integration_core::paging::{Page, items, paginate};
//!
//! /// A list API over 0..25, ten per page.
//! async fn list(start: u32) -> Result<Page<u32, u32>, std::io::Error> {
//!     let items: Vec<u32> = (start..25).take(10).collect();
//!     let next = (start + 10 < 25).then_some(start + 10);
//!     Ok(Page::new(items, next).with_total(25))
//! }
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let pages: Vec<Page<u32, u32>> = paginate(0, list).try_collect().await?;
//! assert_eq!(pages.iter().map(|p| p.items.len()).collect::<Vec<_>>(), [10, 10, 5]);
//! let all: Vec<u32> = items(paginate(0, list)).try_collect().await?;
//! assert_eq!(all, (0..25).collect::<Vec<_>>());
//! # Ok::<(), std::io::Error>(())
//! # }).unwrap();
//! ```

use std::future::Future;

use futures::{Stream, TryStreamExt, stream};

/// One page of a list: its items in the API's order, the query (or cursor)
/// of the next page, and the total number of matching items when the API
/// reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T, N> {
    /// The items of this page.
    pub items: Vec<T>,
    /// What to ask for the next page; `None` after the last page.
    pub next: Option<N>,
    /// How many items match in all, when the API says.
    pub total: Option<u64>,
}

impl<T, N> Page<T, N> {
    /// A page of `items` followed by `next`, total unknown.
    pub fn new(items: Vec<T>, next: Option<N>) -> Self {
        Self {
            items,
            next,
            total: None,
        }
    }

    /// The same page with the API's total.
    pub fn with_total(mut self, total: impl Into<Option<u64>>) -> Self {
        self.total = total.into();
        self
    }

    /// Whether another page follows.
    pub fn has_next(&self) -> bool {
        self.next.is_some()
    }

    /// The page with each item mapped through `f`; `next` and `total` stay
    /// (e.g. to decode the items of a raw page).
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U, N> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
            total: self.total,
        }
    }
}

/// Every page from `first` on: `fetch` is called with `first`, then with
/// each page's `next`, one page at a time, until a page has no `next` or a
/// fetch fails (the error is the stream's last item).
pub fn paginate<T, N, E, F, Fut>(first: N, fetch: F) -> impl Stream<Item = Result<Page<T, N>, E>>
where
    N: Clone,
    F: FnMut(N) -> Fut,
    Fut: Future<Output = Result<Page<T, N>, E>>,
{
    stream::try_unfold((Some(first), fetch), |(next, mut fetch)| async move {
        let Some(query) = next else {
            return Ok(None);
        };
        let page = fetch(query).await?;
        let next = page.next.clone();
        Ok(Some((page, (next, fetch))))
    })
}

/// The items of a stream of pages, in order.
pub fn items<T, N, E>(
    pages: impl Stream<Item = Result<Page<T, N>, E>>,
) -> impl Stream<Item = Result<T, E>> {
    pages
        .map_ok(|page| stream::iter(page.items.into_iter().map(Ok)))
        .try_flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn pages_are_fetched_lazily_and_errors_end_the_stream() {
        let calls = AtomicU32::new(0);
        let fetch = |n: u32| {
            calls.fetch_add(1, Ordering::SeqCst);
            async move {
                match n {
                    3 => Err("page 3 failed"),
                    n => Ok(Page::new(vec![n], Some(n + 1))),
                }
            }
        };
        let mut stream = std::pin::pin!(paginate(1, fetch));
        assert_eq!(
            calls.load(Ordering::SeqCst),
            0,
            "nothing before the first poll"
        );
        assert_eq!(stream.next().await.unwrap().unwrap().items, vec![1]);
        assert_eq!(calls.load(Ordering::SeqCst), 1, "one page at a time");
        assert_eq!(stream.next().await.unwrap().unwrap().items, vec![2]);
        assert_eq!(stream.next().await.unwrap().unwrap_err(), "page 3 failed");
        assert!(stream.next().await.is_none());
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn items_flatten_pages_in_order() {
        let pages = paginate(0u8, |n| async move {
            Ok::<_, ()>(Page::new(vec![n, n], (n < 2).then_some(n + 1)).with_total(6))
        });
        let all: Vec<u8> = items(pages).try_collect().await.unwrap();
        assert_eq!(all, vec![0, 0, 1, 1, 2, 2]);
        let page = Page::<u8, u8>::new(vec![1], None).map(u16::from);
        assert!(!page.has_next());
        assert_eq!(page.items, vec![1u16]);
    }
}
