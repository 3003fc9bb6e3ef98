//! Scheme 4: 网易互客 Huke trades → 金蝶云星空 K/3 Cloud customers
//! (`BD_Customer`, BatchSave), with a **declarative** mapping.
//!
//! Two pipelines share one state store:
//! 1. `huke-trades` reads the trades of the window (first run: now minus
//!    72000 s to now; then incrementally, with overlap) into its collection,
//!    so later mappings can look trades up;
//! 2. `huke-to-kingdee` reads the distinct buyers of those trades (key:
//!    `buyerCid`) and upserts one customer each by `FNumber`, mapped by
//!    `mappings/huke-to-kingdee.json`:
//!    `FName={{buyerNick}}`, `FNumber={{buyerCid}}`,
//!    `FCreateOrgId=FUseOrgId={"FNumber":"100"}`, and `FDescription` looked
//!    up from the `huke-trades` collection by the buyer's cid, with
//!    `IsAutoSubmitAndAudit=true`, `IsVerifyBaseDataField=false`.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use integration_core::mapping::declarative::DeclarativeMapping;
use integration_core::memory::{CollectSink, collect_only};
use integration_core::pipeline::RunError;
use integration_core::{Pipeline, RunOptions, RunReport, StateStore};
use kingdee_cloud::SaveOptions;
use kingdee_cloud::sink::JsonFormSink;
use netease_huke::{BuyerSource, TradeSource};

use crate::runner::{Job, Progress, SetupError, SystemCheck, control};
use crate::settings::Settings;
use crate::systems::huke::{self, Huke};
use crate::systems::kingdee::{self, Kingdee};
use integration_core::Control;

/// The scheme's name: binary, pipeline and collection.
pub const NAME: &str = "huke-to-kingdee";
/// The collection of trades the mapping looks up.
pub const TRADES: &str = "huke-trades";
/// The mapping document.
pub const MAPPING: &str = include_str!("../../mappings/huke-to-kingdee.json");

/// The scheme, ready to run.
pub struct HukeToKingdee {
    trades: Pipeline<TradeSource, CollectSink<()>>,
    customers: Pipeline<BuyerSource, JsonFormSink>,
    notes: Vec<String>,
    /// The Huke side (client, and the fake when there are no settings);
    /// public so that tests reach the fake (seeding, fault injection).
    pub huke: Huke,
    /// The K/3 Cloud side (client, and the fake when there are no settings).
    pub kingdee: Kingdee,
}

/// Builds the scheme from settings (or fakes) and a state store.
pub async fn setup(
    settings: &Settings,
    state: Arc<dyn StateStore>,
    progress: Progress,
) -> Result<HukeToKingdee, SetupError> {
    let huke = huke::connect(settings).await?;
    let kingdee = kingdee::connect(settings).await?;
    let trades = Pipeline::builder(TRADES)
        .source(TradeSource::new(huke.client.clone()))
        .mapper(collect_only)
        .sink(CollectSink::new(500))
        .state(Arc::clone(&state))
        .build()
        .map_err(SetupError::other)?;
    let mapping = DeclarativeMapping::from_json_str(MAPPING).map_err(SetupError::other)?;
    let options = SaveOptions {
        is_auto_submit_and_audit: Some(true),
        is_verify_base_data_field: Some(false),
        ..SaveOptions::default()
    };
    let sink = JsonFormSink::json(kingdee.client.clone(), "BD_Customer", "FCUSTID", "FNumber")
        .options(options);
    let customers = Pipeline::builder(NAME)
        .source(BuyerSource::new(TradeSource::new(huke.client.clone())))
        .mapper(mapping)
        .sink(sink)
        .state(state)
        .hooks(progress)
        .build()
        .map_err(SetupError::other)?;
    Ok(HukeToKingdee {
        trades,
        customers,
        notes: vec![huke.note.clone(), kingdee.note.clone()],
        huke,
        kingdee,
    })
}

#[async_trait]
impl Job for HukeToKingdee {
    fn name(&self) -> &str {
        NAME
    }

    fn notes(&self) -> &[String] {
        &self.notes
    }

    async fn check(&self) -> Vec<SystemCheck> {
        vec![
            SystemCheck::new("huke", self.huke.client.check().await),
            SystemCheck::new("kingdee", self.kingdee.client.check().await),
        ]
    }

    fn pipelines(&self) -> Vec<Arc<dyn Control>> {
        vec![control(&self.trades), control(&self.customers)]
    }

    fn state(&self) -> &Arc<dyn StateStore> {
        self.customers.state()
    }

    async fn run_with(&self, options: &RunOptions) -> Result<Vec<RunReport>, RunError> {
        Ok(vec![
            self.trades.run_with(options).await?,
            self.customers.run_with(options).await?,
        ])
    }

    async fn replay_with(&self, options: &RunOptions) -> Result<Vec<RunReport>, RunError> {
        Ok(vec![
            self.trades.replay_dead_letters_with(options).await?,
            self.customers.replay_dead_letters_with(options).await?,
        ])
    }

    fn target_records(&self) -> Option<usize> {
        self.kingdee
            .fake
            .as_ref()
            .map(|k3| k3.records("BD_Customer").len())
    }

    async fn verify(&self) -> Result<String, String> {
        let (Some(huke), Some(k3)) = (&self.huke.fake, &self.kingdee.fake) else {
            return Ok("not verifiable against real systems".into());
        };
        let buyers: BTreeSet<String> = huke
            .state()
            .trades()
            .iter()
            .filter_map(|t| {
                t.get("buyerCid")
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            })
            .collect();
        let customers: BTreeSet<String> = k3
            .records("BD_Customer")
            .iter()
            .filter_map(|c| c.get("FNumber").and_then(|v| v.as_str()).map(str::to_owned))
            .collect();
        let dead = self
            .customers
            .state()
            .dead_letters(NAME)
            .await
            .map_err(|e| e.to_string())?;
        let missing: Vec<&String> = buyers
            .iter()
            .filter(|b| !customers.contains(*b) && !dead.iter().any(|d| &d.key == *b))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "{} buyers neither in K/3 Cloud nor dead-lettered, e.g. {}",
                missing.len(),
                missing[0]
            ));
        }
        if customers.len() != buyers.len() - dead.len() {
            return Err(format!(
                "{} customers in K/3 Cloud for {} buyers ({} dead-lettered)",
                customers.len(),
                buyers.len(),
                dead.len()
            ));
        }
        Ok(format!(
            "{} buyers → {} K/3 Cloud customers, {} dead-lettered",
            buyers.len(),
            customers.len(),
            dead.len()
        ))
    }
}
