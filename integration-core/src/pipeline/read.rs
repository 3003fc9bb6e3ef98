//! Stage 1, read: one page from the source, read again when that may help.

use std::sync::Arc;

use crate::error::{Error, ErrorKind};
use crate::sink::Sink;
use crate::source::{Checkpoint, Page, Source};

use super::flow::Fed;
use super::settle::{Boundary, Settler};
use super::{RunErrorCause, Stages};

impl<S: Source, K: Sink> Stages<S, K> {
    /// Reads one page. An answer that could not be decoded (truncated,
    /// malformed, an HTML page from a proxy), a retryable failure that
    /// outlasted the transport's own retries, or a token that expired again
    /// right after the connector's refresh, is asked for again, with
    /// backoff, up to the retry policy's attempts: a page depends only on
    /// the checkpoint and the cursor, so reading is idempotent. A page may
    /// take many calls (OKKI reads each company's details inside a page),
    /// and one call failing after its last retry would otherwise stop the
    /// run.
    pub(super) async fn read_page(
        &self,
        since: Option<&Checkpoint>,
        cursor: Option<S::Cursor>,
        index: u64,
    ) -> Result<Page<S::Item, S::Cursor>, Error> {
        self.hooks.before_read(index).await;
        let mut backoff = self.retry.backoff();
        let mut attempt = 1;
        let page = loop {
            match self.source.read(since, cursor.clone()).await {
                Ok(page) => break page,
                Err(e)
                    if (e.is_retryable()
                        || matches!(e.kind(), ErrorKind::Decode | ErrorKind::AuthExpired))
                        && attempt < self.retry.max_attempts =>
                {
                    attempt += 1;
                    tracing::warn!(pipeline = %self.name, error = %e, attempt, ?cursor, "page read failed; reading it again");
                    tokio::time::sleep(backoff.next().unwrap_or(self.retry.max_backoff)).await;
                }
                Err(e) => return Err(e),
            }
        };
        if let Some(total) = page.total {
            self.hooks.on_total(total).await;
        }
        self.hooks.after_read(&page.records).await;
        Ok(page)
    }
}

/// Where the next page of a run starts.
pub(super) struct NextPage<C> {
    cursor: Option<C>,
    index: u64,
}

impl<S: Source, K: Sink> Stages<S, K> {
    /// A run: pages from the last checkpoint, through the one scheduler.
    pub(super) async fn run(self: &Arc<Self>, settler: &mut Settler) -> Result<(), RunErrorCause> {
        let checkpoint = self.state.checkpoint(&self.name).await?;
        settler.report.checkpoint = checkpoint.as_ref().map(|c| c.0.clone());
        settler.has_dead_letters = self.state.count_dead_letters(&self.name).await? > 0;
        let ctx = self.context();
        let first = NextPage {
            cursor: None,
            index: 0,
        };
        let (checkpoint, ctx) = (&checkpoint, &ctx);
        self.drive(settler, first, |next: NextPage<S::Cursor>| async move {
            let page = self
                .read_page(checkpoint.as_ref(), next.cursor, next.index)
                .await
                .map_err(RunErrorCause::Read)?;
            let read = page.records.len() as u64;
            let next = page.next.map(|cursor| NextPage {
                cursor: Some(cursor),
                index: next.index + 1,
            });
            let units = self
                .map_page(page.records, Boundary::Page(page.checkpoint), ctx)
                .await;
            Ok(Fed { units, read, next })
        })
        .await
    }
}
