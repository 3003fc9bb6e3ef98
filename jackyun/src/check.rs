//! The connection check ([`Client::check`]): one signed one-row read,
//! changing no data.

use std::time::Instant;

use integration_core::check::{CheckError, CheckResult, Checked};
use serde_json::{Value, json};

use crate::client::Client;
use crate::error::SYSTEM;
use crate::stock::METHOD_WAREHOUSES;

impl Client {
    /// Checks reachability and credentials with the cheapest real call, changing no data:
    /// one signed `erp.warehouse.get` of one row (`pageIndex` 0, `pageSize`
    /// 1). Jackyun has no login and no token to cache (an ISV token is sent
    /// as configured; it is never fetched), so every call proves the appkey,
    /// the secret (the sign), the clock (the timestamp) and the app's
    /// subscription to the method; this one is the smallest read every ERP
    /// tenant has data for.
    ///
    /// Facts: `app key`, `warehouse` (the first one's name and code, when
    /// the tenant has any), `request id` (the gateway's `contextId`, for a
    /// support ticket). `url` is the base URL (the gateway path is
    /// [`GATEWAY_PATH`](crate::client::GATEWAY_PATH) under it). A rejected sign, appkey,
    /// token or timestamp, or an app not subscribed to `erp.warehouse.get`,
    /// ends as [`CheckError::AuthRefused`]; messages never contain the
    /// secret (the gateway's messages do not echo it; the client cannot
    /// read its own secret back to scrub it).
    pub async fn check(&self) -> CheckResult {
        let started = Instant::now();
        let url = self.base_url().to_owned();
        let reply = match self
            .call_reply(METHOD_WAREHOUSES, &json!({"pageIndex": 0, "pageSize": 1}))
            .await
        {
            Ok(reply) => reply,
            Err(e) => return Err(CheckError::from_error(url, e)),
        };
        let mut checked = Checked::new(SYSTEM, url).fact("app key", self.appkey());
        let first = reply
            .data
            .get("warehouseInfo")
            .and_then(Value::as_array)
            .and_then(|rows| rows.first());
        if let Some(row) = first {
            let text = |key: &str| {
                row.get(key)
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
            };
            let warehouse = match (text("warehouseName"), text("warehouseCode")) {
                (Some(name), Some(code)) => Some(format!("{name} ({code})")),
                (name, code) => name.or(code).map(str::to_owned),
            };
            if let Some(warehouse) = warehouse {
                checked = checked.fact("warehouse", warehouse);
            }
        }
        if let Some(id) = &reply.context_id {
            checked = checked.fact("request id", id);
        }
        Ok(checked.took(started.elapsed()))
    }
}
