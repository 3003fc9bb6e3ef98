//! K/3 Cloud connector (docs below are completed later).

pub mod auth;
pub mod client;
pub mod error;
pub mod models;
pub mod operations;
pub mod query;
pub mod sink;
pub mod source;
#[cfg(feature = "testing")]
pub mod testing;

pub use auth::{AppCredentials, Auth};
pub use client::{BodyStyle, Client, ClientBuilder};
pub use error::{Error, Result};
pub use models::{BaseDataRef, Customer, FormModel, SaleOrder, SaleOrderEntry, SaleOrderFinance};
pub use operations::{
    AllocateRequest, FieldError, ModelOutcome, OperateRequest, OperationResult, ResponseStatus, SaveOptions,
    SuccessEntity, ViewRequest,
};
pub use query::{BillQuery, BusinessInfo, DataCenter};
