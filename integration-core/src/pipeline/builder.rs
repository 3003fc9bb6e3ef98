//! Building a [`Pipeline`]: name, source, mapping, sink and state are
//! required; the rest has defaults.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::hooks::{Hooks, NoHooks};
use super::{Pipeline, Stages};
use crate::error::{Error, ErrorKind};
use crate::mapping::{MapContext, MapError, Mapper};
use crate::sink::Sink;
use crate::source::{Source, SourceRecord};
use crate::state::StateStore;
use crate::transport::RetryPolicy;
use crate::write_back::WriteBack;

use super::write_back::{ValueOf, WriteBackStage};

/// Builds a [`Pipeline`]. Name, source, mapper, sink and state are required.
pub struct PipelineBuilder<S: Source, K: Sink> {
    name: String,
    source: Option<S>,
    mapper: Option<Arc<dyn Mapper<S::Item, K::Item>>>,
    sink: Option<K>,
    state: Option<Arc<dyn StateStore>>,
    batch_size: Option<usize>,
    concurrency: usize,
    retry: RetryPolicy,
    hooks: Arc<dyn Hooks<S::Item, K::Item>>,
    constants: Map<String, Value>,
    write_back: Option<WriteBackStage<S::Item, K::Item>>,
    write_back_concurrency: usize,
}

impl<S: Source, K: Sink> Pipeline<S, K> {
    /// Starts building a pipeline called `name`; the name is also its
    /// checkpoint key, collection, dead-letter box and run history.
    pub fn builder(name: impl Into<String>) -> PipelineBuilder<S, K> {
        PipelineBuilder {
            name: name.into(),
            source: None,
            mapper: None,
            sink: None,
            state: None,
            batch_size: None,
            concurrency: 8,
            retry: RetryPolicy::default(),
            hooks: Arc::new(NoHooks),
            constants: Map::new(),
            write_back: None,
            write_back_concurrency: 4,
        }
    }
}

impl<S: Source, K: Sink> PipelineBuilder<S, K> {
    /// Where records come from.
    pub fn source(mut self, source: S) -> Self {
        self.source = Some(source);
        self
    }
    /// How a source record becomes a target record: a
    /// [`crate::mapping::declarative::DeclarativeMapping`], a named
    /// function, or any [`Mapper`]. For a closure use [`Self::map`], which
    /// infers its argument types.
    pub fn mapper(mut self, mapper: impl Mapper<S::Item, K::Item> + 'static) -> Self {
        self.mapper = Some(Arc::new(mapper));
        self
    }
    /// Maps with a closure whose types come from the source and the sink:
    /// `.map(|r, _ctx| Ok(Some(Target { name: r.data.name.clone() })))`.
    pub fn map<F>(self, map: F) -> Self
    where
        F: Fn(&SourceRecord<S::Item>, &MapContext) -> Result<Option<K::Item>, MapError>
            + Send
            + Sync
            + 'static,
    {
        self.mapper(map)
    }
    /// Where records go.
    pub fn sink(mut self, sink: K) -> Self {
        self.sink = Some(sink);
        self
    }
    /// Where checkpoints, collections, dead letters and run history are kept.
    pub fn state(mut self, state: Arc<dyn StateStore>) -> Self {
        self.state = Some(state);
        self
    }
    /// Records per write (default and maximum: the sink's own maximum).
    pub fn batch_size(mut self, size: usize) -> Self {
        self.batch_size = Some(size.max(1));
        self
    }
    /// Batches written at the same time (default 8: a cloud answers a
    /// write in tens to hundreds of milliseconds, and the clients' rate
    /// limiters, not this number, should set the pace).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }
    /// How records that failed retryably are retried (default
    /// [`RetryPolicy::default`]).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }
    /// Stage callbacks.
    pub fn hooks(mut self, hooks: impl Hooks<S::Item, K::Item> + 'static) -> Self {
        self.hooks = Arc::new(hooks);
        self
    }
    /// Constants visible to the mapping.
    pub fn constants(mut self, constants: Map<String, Value>) -> Self {
        self.constants = constants;
        self
    }

    /// After each record is written, writes the target's id (the sink's
    /// `target_id`) back to the source record with `write_back` (see
    /// [`crate::write_back`]).
    pub fn write_back<W>(self, write_back: W) -> Self
    where
        W: WriteBack<Item = S::Item>,
    {
        self.write_back_with(write_back, |target_id, _| target_id.map(str::to_owned))
    }

    /// [`Self::write_back`] with the value taken from the target's id and
    /// the mapped record, e.g. the number the record was upserted by:
    /// `.write_back_with(field, |_, customer| Some(customer.number.clone()))`.
    /// `None` dead-letters the write-back (there is nothing to write).
    pub fn write_back_with<W, F>(mut self, write_back: W, value: F) -> Self
    where
        W: WriteBack<Item = S::Item>,
        F: Fn(Option<&str>, &K::Item) -> Option<String> + Send + Sync + 'static,
    {
        let value: Arc<ValueOf<K::Item>> = Arc::new(value);
        self.write_back = Some(WriteBackStage {
            target: Arc::new(write_back),
            value,
            concurrency: self.write_back_concurrency,
        });
        self
    }

    /// Write-backs of one batch made at the same time (default 4; most
    /// source APIs update one record per call).
    pub fn write_back_concurrency(mut self, concurrency: usize) -> Self {
        self.write_back_concurrency = concurrency.max(1);
        self
    }

    /// Builds the pipeline, or names the missing part.
    pub fn build(self) -> Result<Pipeline<S, K>, Error> {
        let missing = |what: &str| {
            Error::new(
                "pipeline",
                &self.name,
                ErrorKind::InvalidRequest,
                format!("the pipeline has no {what}"),
            )
        };
        let source = self.source.ok_or_else(|| missing("source"))?;
        let mapper = self.mapper.clone().ok_or_else(|| missing("mapper"))?;
        let sink = self.sink.ok_or_else(|| missing("sink"))?;
        let state = self.state.clone().ok_or_else(|| missing("state store"))?;
        let max = sink.max_batch_size().max(1);
        Ok(Pipeline {
            stages: Arc::new(Stages {
                name: self.name,
                source,
                mapper,
                sink,
                state,
                batch_size: self.batch_size.unwrap_or(max).min(max),
                concurrency: self.concurrency,
                retry: self.retry,
                hooks: self.hooks,
                constants: self.constants,
                // `write_back_concurrency` may come after `write_back`.
                write_back: self.write_back.map(|stage| WriteBackStage {
                    concurrency: self.write_back_concurrency,
                    ..stage
                }),
                busy: tokio::sync::Mutex::new(()),
            }),
        })
    }
}
