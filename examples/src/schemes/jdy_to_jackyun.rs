//! Scheme 2: 金蝶云星辰 jdy purchase inbound bills (`pur_inbound_list`) →
//! 吉客云 Jackyun customers (`crm.customer.add`), with a **declarative**
//! mapping in TOML.
//!
//! A purchase inbound bill names a supplier; each supplier becomes one
//! Jackyun customer whose code is the supplier number:
//!
//! - [`SupplierSource`] reads the bills changed since the last checkpoint
//!   (the first run reads them all) and keeps one record per supplier and
//!   run, keyed by the supplier number, so the pipeline's state, its dead
//!   letters and the report count suppliers, not bills;
//! - `mappings/jdy-to-jackyun.toml` maps the bill's supplier, contact and
//!   address fields to `crm.customer.add`;
//! - [`CustomerSink`] looks each code up before adding it, so a
//!   supplier met again in a later run (a new bill, or the source's
//!   overlap) is never added twice: it is reported written, with the
//!   existing customer's id.
//!
//! Setting `JDY_BILL_STATUS` (`all`, the default, `audited` or `unaudited`)
//! restricts the bills read.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use ::jackyun::CustomerSink;
use ::jdy::model::PurInbound;
use ::jdy::query::{BillQuery, BillStatus};
use ::jdy::source::{DetailMode, PurInboundSource};
use async_trait::async_trait;
use integration_core::mapping::declarative::DeclarativeMapping;
use integration_core::pipeline::RunError;
use integration_core::{
    Checkpoint, Page, Pipeline, RunOptions, RunReport, Source, SourceRecord, StateStore,
};

use crate::runner::{Job, Progress, SetupError, SystemCheck, control};
use crate::settings::{Settings, SettingsError};
use crate::systems::jackyun::{self, Jackyun};
use crate::systems::jdy::{self, Jdy};
use integration_core::Control;

/// The scheme's name: binary and pipeline.
pub const NAME: &str = "jdy-to-jackyun";
/// The mapping document.
pub const MAPPING: &str = include_str!("../../mappings/jdy-to-jackyun.toml");

/// The distinct suppliers of the purchase inbound bills read by a
/// [`PurInboundSource`]: the first bill of each supplier in a run, keyed by
/// its supplier number (the Jackyun customer code). A bill without a
/// supplier number keeps the key `bill:<id>`; the mapping then fails and
/// dead-letters it.
pub struct SupplierSource {
    bills: PurInboundSource,
    /// Suppliers already given out in this run (a run starts at cursor `None`).
    seen: Mutex<HashSet<String>>,
}

impl SupplierSource {
    /// The suppliers of `bills`.
    pub fn new(bills: PurInboundSource) -> Self {
        Self {
            bills,
            seen: Mutex::default(),
        }
    }
}

#[async_trait]
impl Source for SupplierSource {
    type Item = PurInbound;
    type Cursor = <PurInboundSource as Source>::Cursor;

    async fn read(
        &self,
        checkpoint: Option<&Checkpoint>,
        cursor: Option<Self::Cursor>,
    ) -> Result<Page<PurInbound, Self::Cursor>, integration_core::Error> {
        let first_page = cursor.is_none();
        let page = self.bills.read(checkpoint, cursor).await?;
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if first_page {
            seen.clear();
        }
        let records = page
            .records
            .into_iter()
            .filter_map(|bill| {
                let key = match bill.data.supplier_number.as_deref().map(str::trim) {
                    Some(number) if !number.is_empty() => number.to_owned(),
                    _ => format!("bill:{}", bill.key),
                };
                seen.insert(key.clone())
                    .then(|| SourceRecord { key, ..bill })
            })
            .collect();
        Ok(Page { records, ..page })
    }
}

/// The scheme, ready to run.
pub struct JdyToJackyun {
    customers: Pipeline<SupplierSource, CustomerSink>,
    notes: Vec<String>,
    /// The jdy side (client, and the fake when there are no settings);
    /// public so that tests reach the fake (seeding, fault injection).
    pub jdy: Jdy,
    /// The Jackyun side (client, and the fake when there are no settings).
    pub jackyun: Jackyun,
}

/// Builds the scheme from settings (or fakes) and a state store.
pub async fn setup(
    settings: &Settings,
    state: Arc<dyn StateStore>,
    progress: Progress,
) -> Result<JdyToJackyun, SetupError> {
    let bill_status = bill_status(settings)?;
    let jdy = jdy::connect(settings).await?;
    let jackyun = jackyun::connect(settings).await?;
    let mapping = DeclarativeMapping::from_toml_str(MAPPING).map_err(SetupError::other)?;
    // Only the bill header is mapped: no need to read the material lines.
    let bills = PurInboundSource::new(jdy.client.clone())
        .query(BillQuery {
            bill_status,
            ..BillQuery::default()
        })
        .details(DetailMode::Never);
    let customers = Pipeline::builder(NAME)
        .source(SupplierSource::new(bills))
        .mapper(mapping)
        .sink(CustomerSink::new(jackyun.client.clone()))
        .state(state)
        .hooks(progress)
        .build()
        .map_err(SetupError::other)?;
    Ok(JdyToJackyun {
        customers,
        notes: vec![jdy.note.clone(), jackyun.note.clone()],
        jdy,
        jackyun,
    })
}

/// `JDY_BILL_STATUS`: which bills to read (default all).
fn bill_status(settings: &Settings) -> Result<BillStatus, SettingsError> {
    let Some(s) = settings.system("jdy") else {
        return Ok(BillStatus::All);
    };
    match s.optional("bill_status").map(str::to_lowercase).as_deref() {
        None | Some("all") => Ok(BillStatus::All),
        Some("audited" | "c") => Ok(BillStatus::Audited),
        Some("unaudited" | "z") => Ok(BillStatus::Unaudited),
        Some(other) => Err(SettingsError {
            setting: s.name("bill_status"),
            problem: format!("{other:?} is not one of all, audited, unaudited"),
        }),
    }
}

#[async_trait]
impl Job for JdyToJackyun {
    fn name(&self) -> &str {
        NAME
    }

    fn notes(&self) -> &[String] {
        &self.notes
    }

    async fn check(&self) -> Vec<SystemCheck> {
        vec![
            SystemCheck::new("jdy", self.jdy.client.check().await),
            SystemCheck::new("jackyun", self.jackyun.client.check().await),
        ]
    }

    fn pipelines(&self) -> Vec<Arc<dyn Control>> {
        vec![control(&self.customers)]
    }

    fn state(&self) -> &Arc<dyn StateStore> {
        self.customers.state()
    }

    async fn run_with(&self, options: &RunOptions) -> Result<Vec<RunReport>, RunError> {
        Ok(vec![self.customers.run_with(options).await?])
    }

    async fn replay_with(&self, options: &RunOptions) -> Result<Vec<RunReport>, RunError> {
        Ok(vec![
            self.customers.replay_dead_letters_with(options).await?,
        ])
    }

    fn target_records(&self) -> Option<usize> {
        self.jackyun
            .fake
            .as_ref()
            .map(|j| j.state().customers().len())
    }

    async fn verify(&self) -> Result<String, String> {
        let (Some(jdy), Some(jackyun)) = (&self.jdy.fake, &self.jackyun.fake) else {
            return Ok("not verifiable against real systems".into());
        };
        let (bills, suppliers): (usize, BTreeSet<String>) = {
            let state = jdy.state();
            let suppliers = state
                .pur_inbound
                .iter()
                .filter_map(|b| b["supplier_number"].as_str().map(str::to_owned))
                .collect();
            (state.pur_inbound.len(), suppliers)
        };
        let mut customers: BTreeMap<String, usize> = BTreeMap::new();
        for c in jackyun.state().customers() {
            if let Some(code) = c["customerCode"].as_str() {
                *customers.entry(code.to_owned()).or_default() += 1;
            }
        }
        if let Some((code, n)) = customers.iter().find(|(_, n)| **n > 1) {
            return Err(format!("customer {code} is in Jackyun {n} times"));
        }
        let dead = self
            .customers
            .state()
            .dead_letters(NAME)
            .await
            .map_err(|e| e.to_string())?;
        let missing: Vec<&String> = suppliers
            .iter()
            .filter(|s| !customers.contains_key(*s) && !dead.iter().any(|d| &d.key == *s))
            .collect();
        if let Some(first) = missing.first() {
            return Err(format!(
                "{} suppliers neither in Jackyun nor dead-lettered, e.g. {first}",
                missing.len()
            ));
        }
        if let Some(extra) = customers.keys().find(|c| !suppliers.contains(*c)) {
            return Err(format!("Jackyun customer {extra} is no jdy supplier"));
        }
        Ok(format!(
            "{bills} bills of {} suppliers → {} Jackyun customers, {} dead-lettered",
            suppliers.len(),
            customers.len(),
            dead.len()
        ))
    }
}
