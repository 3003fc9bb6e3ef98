//! The connection check ([`Client::check`]): one signed metadata read,
//! changing no data.

use std::time::Instant;

use integration_core::check::{CheckError, CheckResult, Checked};

use crate::client::Client;
use crate::error::SYSTEM;

impl Client {
    /// Checks reachability and credentials with the cheapest real call, changing no data:
    /// `customer/fields` with `{}`, a read of the customer form's field
    /// definitions (no records). Huke has no token or session: every
    /// request is signed with the app key and secret, so this one call
    /// proves both (and the clock, through `ur-curtime`); nothing is cached
    /// that could stand in for them.
    ///
    /// Facts: `customer fields` (how many the form defines) and `fields`
    /// (the first few labels). The app key is not among them: the client
    /// keeps its credentials private and this check cannot read them back.
    /// `url` is the API root. A rejected signature, app key or timestamp
    /// ends as [`CheckError::AuthRefused`]; messages never contain the
    /// secret (Huke's messages do not echo it).
    pub async fn check(&self) -> CheckResult {
        let started = Instant::now();
        let url = self.base_url().to_owned();
        let fields = match self.customers().fields().await {
            Ok(fields) => fields,
            Err(e) => return Err(CheckError::from_error(url, e)),
        };
        let labels: Vec<&str> = fields.iter().filter_map(|f| f.label()).take(5).collect();
        let mut checked = Checked::new(SYSTEM, url).fact("customer fields", fields.len());
        if !labels.is_empty() {
            checked = checked.fact("fields", labels.join("、"));
        }
        Ok(checked.took(started.elapsed()))
    }
}
