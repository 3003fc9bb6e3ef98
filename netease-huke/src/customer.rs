//! Customers, through the [`Customers`] handle ([`Client::customers`]):
//! `customer/fields` (the customer form's field definitions) and
//! `customer/addCustomer`.
//!
//! These are the only customer endpoints seen in public material. No
//! customer *list* and no trade *detail* endpoint is known: use
//! [`Client::call_raw`] for them once their names are known.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::{Client, decode_data};
use crate::error::{Error, SYSTEM};
use crate::trade::Scalar;

/// The API name of the field definitions.
pub const CUSTOMER_FIELDS: &str = "customer/fields";
/// The API name of customer creation.
pub const ADD_CUSTOMER: &str = "customer/addCustomer";

/// One field definition of the customer form. Its shape is not published, so
/// it is kept whole; [`CustomerField::key`] and [`CustomerField::label`] look
/// for the usual member names.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CustomerField {
    /// The definition as returned.
    pub raw: Map<String, Value>,
}

impl CustomerField {
    fn text(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|n| self.raw.get(*n)?.as_str())
    }
    /// The key to use in [`AddCustomerRequest::data`] (`key`, `fieldKey`,
    /// `field`, `code` or `name`).
    pub fn key(&self) -> Option<&str> {
        self.text(&["key", "fieldKey", "field", "code", "name"])
    }
    /// The display label (`label`, `title`, `fieldName` or `name`).
    pub fn label(&self) -> Option<&str> {
        self.text(&["label", "title", "fieldName", "name"])
    }
}

/// The body of `customer/addCustomer`, as one public integration sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddCustomerRequest {
    /// Staff id of the follower (跟进人), or `""` for none.
    pub follower: String,
    /// Customer status (meaning of the values unknown; `1` in the sample).
    pub status: Scalar,
    /// The customers: maps from field key (see [`Customers::fields`]) to value.
    pub data: Vec<Map<String, Value>>,
    /// Any other parameter, sent as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl AddCustomerRequest {
    /// One customer with `status` 1 and no follower.
    pub fn one(customer: Map<String, Value>) -> Self {
        Self {
            follower: String::new(),
            status: Scalar::Int(1),
            data: vec![customer],
            extra: Map::new(),
        }
    }
}

/// The result of `customer/addCustomer`.
#[derive(Debug, Clone, PartialEq)]
pub enum AddCustomerOutcome {
    /// Created; `data` as returned.
    Created(Value),
    /// Huke answered code 1011 (customer already exists): not an error for
    /// an idempotent writer.
    Duplicate {
        /// Huke's `msg`.
        message: String,
    },
}

/// The customer endpoints (`customer/*`). From [`Client::customers`];
/// cheap to clone (it owns a client clone).
#[derive(Debug, Clone)]
pub struct Customers {
    client: Client,
}

impl Customers {
    pub(crate) fn new(client: Client) -> Self {
        Self { client }
    }

    /// `customer/fields`: the customer form's field definitions (body `{}`).
    /// Accepts `data` as an array or as an object holding
    /// `list`/`fields`/`data`.
    pub async fn fields(&self) -> Result<Vec<CustomerField>, Error> {
        let data = self.client.call(CUSTOMER_FIELDS, &Map::new()).await?;
        let list = match data {
            Value::Array(_) => data,
            Value::Object(mut map) => ["list", "fields", "data"]
                .iter()
                .find_map(|k| map.remove(*k).filter(Value::is_array))
                .ok_or_else(|| {
                    Error::from(integration_core::Error::decode(
                        SYSTEM,
                        CUSTOMER_FIELDS,
                        "no field list in `data`",
                        Value::Object(map).to_string().as_bytes(),
                    ))
                })?,
            Value::Null => Value::Array(Vec::new()),
            other => {
                return Err(integration_core::Error::decode(
                    SYSTEM,
                    CUSTOMER_FIELDS,
                    "unexpected `data`",
                    other.to_string().as_bytes(),
                )
                .into());
            }
        };
        decode_data(CUSTOMER_FIELDS, list)
    }

    /// `customer/addCustomer`: creates the request's customers. Code 1011
    /// (already exists) becomes [`AddCustomerOutcome::Duplicate`] instead of
    /// an error.
    pub async fn create(&self, request: &AddCustomerRequest) -> Result<AddCustomerOutcome, Error> {
        match self.client.call(ADD_CUSTOMER, request).await {
            Ok(data) => Ok(AddCustomerOutcome::Created(data)),
            Err(e) if e.is_duplicate() => Ok(AddCustomerOutcome::Duplicate {
                message: e.message().to_owned(),
            }),
            Err(e) => Err(e),
        }
    }
}
