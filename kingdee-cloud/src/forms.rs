//! Resource handles: one [`Form`] per business object of the site
//! ([`Client::customers`], [`Client::sale_orders`], any form with
//! [`Client::form`]), with the shape every connector of this workspace has:
//! `list` (one page), `pages`, `stream`, `get`, `save`, `batch_save`,
//! `delete`.
//!
//! Rows are read with ExecuteBillQuery: a [`BillQuery`] names the field keys
//! and each row is decoded into the type you ask for by field-key order
//! ([`decode_row`](crate::query::decode_row)): a tuple, a struct, a
//! `Vec<Value>`. Pages are `StartRow`/`Limit` windows; the stream ends after
//! a short page or once `TopRowCount` rows were read.

use std::marker::PhantomData;

use futures::{Stream, TryStreamExt};
use integration_core::paging::{self, Page};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::client::Client;
use crate::error::Result;
use crate::models::{Customer, FormModel, SaleOrder};
use crate::operations::{OperateRequest, OperationResult, SaveOptions, ViewRequest};
use crate::query::{BillQuery, page_size};

/// The query of a customer list (ExecuteBillQuery's `data`).
pub type CustomerQuery = BillQuery;
/// The query of a sales-order list (ExecuteBillQuery's `data`).
pub type SaleOrderQuery = BillQuery;

/// One form of the site. `M` is the model [`save`](Form::save) and
/// [`batch_save`](Form::batch_save) send: [`Customer`], [`SaleOrder`], or
/// `serde_json::Value` for any form. Cheap to clone.
pub struct Form<M = Value> {
    client: Client,
    form_id: String,
    _model: PhantomData<fn() -> M>,
}

impl<M> Clone for Form<M> {
    fn clone(&self) -> Self {
        Self {
            client: self.client.clone(),
            form_id: self.form_id.clone(),
            _model: PhantomData,
        }
    }
}

impl<M> std::fmt::Debug for Form<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Form")
            .field("form_id", &self.form_id)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Customers (`BD_Customer`).
    pub fn customers(&self) -> Form<Customer> {
        self.form_of()
    }

    /// Sales orders (`SAL_SaleOrder`).
    pub fn sale_orders(&self) -> Form<SaleOrder> {
        self.form_of()
    }

    /// Any form by its id, with JSON models.
    pub fn form(&self, form_id: impl Into<String>) -> Form<Value> {
        Form {
            client: self.clone(),
            form_id: form_id.into(),
            _model: PhantomData,
        }
    }

    fn form_of<M: FormModel>(&self) -> Form<M> {
        Form {
            client: self.clone(),
            form_id: M::FORM_ID.to_owned(),
            _model: PhantomData,
        }
    }
}

impl<M> Form<M> {
    /// The form id, e.g. `BD_Customer`.
    pub fn form_id(&self) -> &str {
        &self.form_id
    }

    /// A query of this form returning `field_keys`, in that order.
    pub fn query<S: AsRef<str>>(&self, field_keys: impl IntoIterator<Item = S>) -> BillQuery {
        BillQuery::new(&self.form_id, field_keys)
    }

    /// One page: the rows from the query's `StartRow`, at most its `Limit`
    /// ([`DEFAULT_PAGE_SIZE`](crate::query::DEFAULT_PAGE_SIZE) when 0, at
    /// most [`MAX_LIMIT`](crate::query::MAX_LIMIT)), each decoded into `R`.
    /// `next` is the query of the following rows, `None` after a short page
    /// or once `TopRowCount` rows are reached. The form is this handle's,
    /// whatever the query says.
    pub async fn list<R: DeserializeOwned>(&self, query: &BillQuery) -> Result<Page<R, BillQuery>> {
        let mut query = query.clone();
        query.form_id.clone_from(&self.form_id);
        query.limit = page_size(query.limit);
        let rows: Vec<R> = self.client.execute_bill_query(&query).await?;
        let read = rows.len() as u64;
        let top = u64::from(query.top_row_count);
        let end = read < u64::from(query.limit) || (top > 0 && query.start_row + read >= top);
        let next = (!end).then(|| {
            let mut next = query;
            next.start_row += read;
            next
        });
        Ok(Page::new(rows, next))
    }

    /// Every page from the query's `StartRow` on, fetched lazily; memory
    /// is bounded by one page. An empty result yields no page.
    pub fn pages<R: DeserializeOwned + Send + 'static>(
        &self,
        query: BillQuery,
    ) -> impl Stream<Item = Result<Page<R, BillQuery>>> + Send + 'static {
        // Rows are read whatever the model type: the stream owns a plain handle.
        let form = self.client.form(&self.form_id);
        paging::paginate(query, move |query| {
            let form = form.clone();
            async move { form.list(&query).await }
        })
        .try_filter(|page| futures::future::ready(!page.items.is_empty()))
    }

    /// Every row as a lazy stream (see [`pages`](Self::pages)).
    pub fn stream<R: DeserializeOwned + Send + 'static>(
        &self,
        query: BillQuery,
    ) -> impl Stream<Item = Result<R>> + Send + 'static {
        paging::items(self.pages(query))
    }
}

impl<M> Form<M> {
    /// One record by its number (View), decoded into `T`. Real sites answer
    /// with the form's internal property names (`Number`, `Name`, ...), not
    /// its `F…` field keys, so `T` is usually `serde_json::Value` or a type
    /// of your own; read `F…` fields with [`list`](Self::list).
    pub async fn get<T: DeserializeOwned>(&self, number: &str) -> Result<T> {
        self.client
            .view(&self.form_id, &ViewRequest::number(number))
            .await
    }
}

impl<M: Serialize> Form<M> {
    /// Saves one model: creates it (no id) or updates it (its id).
    pub async fn save(&self, model: &M, options: &SaveOptions) -> Result<OperationResult> {
        self.client.save(&self.form_id, model, options).await
    }

    /// Saves many models in one BatchSave; read each model's outcome with
    /// [`OperationResult::outcomes`].
    pub async fn batch_save(&self, models: &[M], options: &SaveOptions) -> Result<OperationResult> {
        self.client.batch_save(&self.form_id, models, options).await
    }

    /// Deletes models by number (a bill must be un-audited first).
    pub async fn delete<S: Into<String>>(
        &self,
        numbers: impl IntoIterator<Item = S>,
    ) -> Result<OperationResult> {
        self.client
            .delete(&self.form_id, &OperateRequest::numbers(numbers))
            .await
    }
}
