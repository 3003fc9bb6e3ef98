//! Scheme 3: 小满 OKKI companies → 用友 BIP merchants (客户档案,
//! `yonbip/digitalModel/merchant/save`), with a **typed** mapping.
//!
//! One pipeline, `okki-to-yonbip`:
//! * source: [`CompanySource`] reads `/v1/company/list` (every pool, `all=1`)
//!   by update time, then `/v1/company/info` per `company_id` for the
//!   details and contacts; incremental from the last checkpoint (10 minutes
//!   of overlap). Companies deleted in OKKI (`removed=1`) arrive as
//!   [`Op::Delete`] records.
//! * mapping: [`to_merchant`], a plain Rust function `Company → Merchant`
//!   (see its table below, or `examples/README.d/okki-to-yonbip.md`);
//! * sink: [`MerchantSink`], idempotent by merchant `code`: the merchant with
//!   that code is looked up, then updated, else inserted. A rerun, or a
//!   company read twice, never makes a second merchant.
//!
//! ## Deletions
//! The merchant save API cannot delete, and deleting a customer archive in
//! an ERP is a decision for a person, so a company deleted in OKKI is **not**
//! deleted in YonBIP: [`MerchantSink`] skips the record. So that nothing is
//! silent, the sink's reason (with the merchant code to look at) is listed
//! in the run's report under "first skipped by the sink" (key = OKKI
//! `company_id`), counted in `skipped`, and kept in the state file's
//! collection with status `skipped`.
//!
//! ## Settings the mapping reads (`[yonbip]` / `YONBIP_*`)
//! | env | default | target field |
//! |---|---|---|
//! | `YONBIP_CREATE_ORG` | `1481709712348020742` (the scheme document's value) | `createOrg` 管理组织 |
//! | `YONBIP_CUSTOMER_CLASS` | `1481712151907270669` (the scheme document's value) | `customerClass` 客户分类 |
//! | `YONBIP_BELONG_ORG` | unset: YonBIP uses the managing org | `belongOrg` 使用组织 |
//!
//! and from `[okki]` / `OKKI_*`: `OKKI_GROUP_ID` (optional: only one
//! customer group, the list's `group_id`), and `OKKI_MERCHANT_CODE_FIELD`.
//!
//! ## Write-back (数据回压)
//! Each company written gets its YonBIP merchant code in the company custom
//! field `OKKI_MERCHANT_CODE_FIELD` (its numeric field id from
//! `GET /v1/company/fields?type=company`; off when unset; on the built-in
//! fake always [`okki::testing::MERCHANT_CODE_FIELD_ID`]). Only that field
//! is pushed (no contact changes); a company holding its code already is
//! not pushed again. A failed write-back is a dead letter of stage
//! write-back, replayed with `--replay` without writing to YonBIP again.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_trait::async_trait;
use integration_core::pipeline::RunError;
use integration_core::state::Stage;
use integration_core::{
    MapContext, MapError, Op, Pipeline, RunOptions, RunReport, SourceRecord, StateStore,
};
use okki::{Company, CompanyFieldWriteBack, CompanySource};
use serde_json::Value;
use yonbip::types::EN_US;
use yonbip::{Merchant, MerchantSink, MultiLang};

use crate::runner::{Job, Progress, SetupError, SystemCheck, control};
use crate::settings::{Settings, SettingsError};
use crate::systems::okki::Okki;
use crate::systems::yonbip::Yonbip;
use integration_core::Control;

/// The scheme's name: binary, pipeline and collection.
pub const NAME: &str = "okki-to-yonbip";
/// The managing org (`createOrg`) when `YONBIP_CREATE_ORG` is not set: the
/// value of the scheme document (and of the YonBIP fake).
pub const DEFAULT_CREATE_ORG: &str = "1481709712348020742";
/// The customer class (`customerClass`) when `YONBIP_CUSTOMER_CLASS` is not
/// set: the value of the scheme document (and of the YonBIP fake).
pub const DEFAULT_CUSTOMER_CLASS: &str = "1481712151907270669";

/// The constants every merchant gets, from settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantDefaults {
    /// `createOrg`, the managing org id.
    pub create_org: String,
    /// `customerClass`, the customer class id.
    pub customer_class: String,
    /// `belongOrg`, the using org id (unset: YonBIP uses the managing org).
    pub belong_org: Option<String>,
}

impl Default for MerchantDefaults {
    fn default() -> Self {
        Self {
            create_org: DEFAULT_CREATE_ORG.into(),
            customer_class: DEFAULT_CUSTOMER_CLASS.into(),
            belong_org: None,
        }
    }
}

impl MerchantDefaults {
    /// `YONBIP_CREATE_ORG`, `YONBIP_CUSTOMER_CLASS`, `YONBIP_BELONG_ORG`, or
    /// the defaults. Ids are digits; anything else names the setting.
    pub fn from_settings(settings: &Settings) -> Result<Self, SettingsError> {
        let mut defaults = Self::default();
        let Some(s) = settings.system("yonbip") else {
            return Ok(defaults);
        };
        let id = |key: &str| -> Result<Option<String>, SettingsError> {
            match s.optional(key).map(str::trim) {
                Some(v) if v.chars().all(|c| c.is_ascii_digit()) => Ok(Some(v.to_owned())),
                Some(v) => Err(SettingsError {
                    setting: s.name(key),
                    problem: format!("{v:?} is not a YonBIP id (digits)"),
                }),
                None => Ok(None),
            }
        };
        if let Some(org) = id("create_org")? {
            defaults.create_org = org;
        }
        if let Some(class) = id("customer_class")? {
            defaults.customer_class = class;
        }
        defaults.belong_org = id("belong_org")?;
        Ok(defaults)
    }
}

/// The merchant code of a company: its OKKI customer number (`serial_id`,
/// 客户编号), or its `company_id` when it has none. The sink upserts by
/// this code, so changing a `serial_id` in OKKI makes a new merchant.
pub fn merchant_code(company: &Company) -> String {
    match company.serial_id.as_deref().map(str::trim) {
        Some(serial) if !serial.is_empty() => serial.to_owned(),
        _ => company.company_id.to_string(),
    }
}

/// The typed mapping, one OKKI company → one YonBIP merchant:
///
/// | merchant field | from |
/// |---|---|
/// | `code` 客户编码 | [`merchant_code`]: `serial_id`, else `company_id` |
/// | `name` 客户名称 | `{"zh_CN": name}`, plus `en_US` when the name has no Chinese |
/// | `createOrg`, `customerClass`, `belongOrg` | [`MerchantDefaults`] |
/// | `merchantOptions` 是否商家 | `true` |
/// | `enterpriseName` 企业名称 | `name` |
/// | `contactName`, `email` | the main contact (else the first): `name`, `email` |
/// | `contactTel` 联系电话 | the main contact's first phone, else the company's `tel` |
/// | `website` 网址 | `homepage` |
/// | `country_code` 国家编码 | `country` (ISO-2, upper case) |
///
/// A company without a name fails (YonBIP requires 客户名称) and goes to
/// the dead letters.
pub fn to_merchant(company: &Company, defaults: &MerchantDefaults) -> Result<Merchant, MapError> {
    let name = text(&company.name).ok_or_else(|| {
        MapError::new("the company has no name; YonBIP requires 客户名称").for_field("name")
    })?;
    let mut multilingual = MultiLang::zh_cn(&name);
    if !name.chars().any(is_chinese) {
        multilingual = multilingual.with(EN_US, &name);
    }
    let mut merchant = Merchant::new(
        merchant_code(company),
        multilingual,
        defaults.create_org.as_str(),
        defaults.customer_class.as_str(),
    );
    merchant.belong_org = defaults.belong_org.as_deref().map(Into::into);
    // The scheme document's value; the SDK sends it only when set.
    merchant.merchant_options = Some(true);
    merchant.enterprise_name = Some(name);
    let contact = company.main_contact();
    merchant.contact_name = contact.and_then(|c| text(&c.name));
    merchant.email = contact.and_then(|c| text(&c.email));
    merchant.contact_tel = contact
        .and_then(|c| c.tel_list.iter().find_map(phone))
        .or_else(|| joined(&company.tel));
    merchant.website = text(&company.homepage);
    merchant.country_code = text(&company.country).map(|c| c.to_uppercase());
    Ok(merchant)
}

/// The pipeline's mapper: live companies through [`to_merchant`]; a deleted
/// company becomes a merchant carrying only its code, which the sink skips.
pub fn mapper(
    defaults: MerchantDefaults,
) -> impl Fn(&SourceRecord<Company>, &MapContext) -> Result<Option<Merchant>, MapError> {
    move |record, _ctx| match record.op {
        Op::Upsert => to_merchant(&record.data, &defaults).map(Some),
        Op::Delete => Ok(Some(Merchant {
            code: Some(merchant_code(&record.data)),
            ..Merchant::default()
        })),
    }
}

fn text(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// `["+86", "021-5555"]` → `+86 021-5555`.
fn joined(parts: &[String]) -> Option<String> {
    let parts: Vec<&str> = parts
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// One entry of a contact's `tel_list`: a text, or an `[area, number]` pair.
fn phone(entry: &Value) -> Option<String> {
    match entry {
        Value::String(s) => text(&Some(s.clone())),
        Value::Array(parts) => joined(
            &parts
                .iter()
                .filter_map(|p| p.as_str().map(str::to_owned))
                .collect::<Vec<_>>(),
        ),
        _ => None,
    }
}

fn is_chinese(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}')
}

/// The scheme, ready to run.
pub struct OkkiToYonbip {
    pipeline: Pipeline<CompanySource, MerchantSink>,
    notes: Vec<String>,
    /// The company custom field the merchant code is written back to.
    merchant_code_field: Option<String>,
    /// The OKKI side (client, and the fake when there are no settings);
    /// public so that tests reach the fake (seeding, fault injection).
    pub okki: Okki,
    /// The YonBIP side (client, and the fake when there are no settings).
    pub yonbip: Yonbip,
}

/// Builds the scheme from settings (or fakes) and a state store.
pub async fn setup(
    settings: &Settings,
    state: Arc<dyn StateStore>,
    progress: Progress,
) -> Result<OkkiToYonbip, SetupError> {
    let okki = crate::systems::okki::connect(settings).await?;
    let yonbip = crate::systems::yonbip::connect(settings).await?;
    let defaults = MerchantDefaults::from_settings(settings)?;
    let mut source = CompanySource::new(okki.client.clone());
    if let Some(group) = settings
        .system("okki")
        .and_then(|s| s.optional("group_id").map(str::to_owned))
    {
        source = source.group(group);
    }
    let merchant_code_field = match settings.system("okki") {
        None => Some(okki::testing::MERCHANT_CODE_FIELD_ID.to_owned()),
        Some(s) => s.optional("merchant_code_field").map(str::to_owned),
    };
    let mut pipeline = Pipeline::builder(NAME)
        .source(source)
        .mapper(mapper(defaults.clone()))
        .sink(MerchantSink::new(yonbip.client.clone()))
        .state(state)
        .hooks(progress);
    if let Some(field) = &merchant_code_field {
        let field = CompanyFieldWriteBack::new(okki.client.clone(), field);
        // The code the merchant was upserted by is its YonBIP code.
        pipeline = pipeline.write_back_with(field, |_, merchant: &Merchant| merchant.code.clone());
    }
    let pipeline = pipeline.build().map_err(SetupError::other)?;
    let notes = vec![
        okki.note.clone(),
        yonbip.note.clone(),
        format!(
            "merchants get createOrg {}, customerClass {}{}; companies deleted in OKKI are \
             reported, not deleted in YonBIP",
            defaults.create_org,
            defaults.customer_class,
            defaults
                .belong_org
                .as_deref()
                .map(|b| format!(", belongOrg {b}"))
                .unwrap_or_default()
        ),
        match &merchant_code_field {
            Some(field) => {
                format!("write-back: the YonBIP merchant code goes to the company field {field}")
            }
            None => "write-back: off (set OKKI_MERCHANT_CODE_FIELD to a company field id)".into(),
        },
    ];
    Ok(OkkiToYonbip {
        pipeline,
        notes,
        merchant_code_field,
        okki,
        yonbip,
    })
}

#[async_trait]
impl Job for OkkiToYonbip {
    fn name(&self) -> &str {
        NAME
    }

    fn notes(&self) -> &[String] {
        &self.notes
    }

    async fn check(&self) -> Vec<SystemCheck> {
        vec![
            SystemCheck::new("okki", self.okki.client.check().await),
            SystemCheck::new("yonbip", self.yonbip.client.check().await),
        ]
    }

    fn pipelines(&self) -> Vec<Arc<dyn Control>> {
        vec![control(&self.pipeline)]
    }

    fn state(&self) -> &Arc<dyn StateStore> {
        self.pipeline.state()
    }

    async fn run_with(&self, options: &RunOptions) -> Result<Vec<RunReport>, RunError> {
        Ok(vec![self.pipeline.run_with(options).await?])
    }

    async fn replay_with(&self, options: &RunOptions) -> Result<Vec<RunReport>, RunError> {
        Ok(vec![self.pipeline.replay_dead_letters_with(options).await?])
    }

    fn target_records(&self) -> Option<usize> {
        self.yonbip
            .fake
            .as_ref()
            .map(|y| y.state().merchants().len())
    }

    async fn verify(&self) -> Result<String, String> {
        let (Some(okki), Some(yonbip)) = (&self.okki.fake, &self.yonbip.fake) else {
            return Ok("not verifiable against real systems".into());
        };
        // (company_id, merchant code, deleted) of every company in the fake.
        let companies: Vec<(String, String, bool)> = okki
            .state()
            .companies
            .iter()
            .map(|(id, c)| {
                let serial = c
                    .data
                    .get("serial_id")
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .filter(|s| !s.is_empty());
                let code = serial.map_or_else(|| id.to_string(), str::to_owned);
                (id.to_string(), code, c.deleted)
            })
            .collect();
        let mut merchants: BTreeMap<String, usize> = BTreeMap::new();
        for m in yonbip.state().merchants() {
            let code = m.get("code").and_then(Value::as_str).unwrap_or_default();
            *merchants.entry(code.to_owned()).or_default() += 1;
        }
        let letters = self
            .pipeline
            .state()
            .dead_letters(NAME)
            .await
            .map_err(|e| e.to_string())?;
        let waiting: BTreeSet<String> = letters
            .iter()
            .filter(|l| l.stage == Stage::WriteBack)
            .map(|l| l.key.clone())
            .collect();
        let dead: BTreeSet<String> = letters
            .into_iter()
            .filter(|l| l.stage != Stage::WriteBack)
            .map(|d| d.key)
            .collect();
        if let Some((code, n)) = merchants.iter().find(|(_, n)| **n > 1) {
            return Err(format!("merchant code {code} is in YonBIP {n} times"));
        }
        let live: Vec<&(String, String, bool)> = companies.iter().filter(|c| !c.2).collect();
        let missing: Vec<&String> = live
            .iter()
            .filter(|(id, code, _)| !merchants.contains_key(code) && !dead.contains(id))
            .map(|(id, _, _)| id)
            .collect();
        if let Some(first) = missing.first() {
            return Err(format!(
                "{} live OKKI companies neither in YonBIP nor dead-lettered, e.g. {first}",
                missing.len()
            ));
        }
        let codes: BTreeSet<&str> = companies.iter().map(|c| c.1.as_str()).collect();
        if let Some(stranger) = merchants.keys().find(|c| !codes.contains(c.as_str())) {
            return Err(format!("merchant {stranger} in YonBIP is no OKKI company"));
        }
        let written_back = match &self.merchant_code_field {
            Some(field) => {
                let state = okki.state();
                let mut holding = 0;
                for (id, code, _) in &live {
                    let held = state
                        .companies
                        .get(&id.parse::<i64>().unwrap_or(-1))
                        .and_then(|c| c.data.get(field.as_str()))
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    match (merchants.contains_key(code), held) {
                        (true, held) if held == code.as_str() => holding += 1,
                        (true, "") if waiting.contains(id) => {}
                        (false, "") => {}
                        (_, held) => {
                            return Err(format!(
                                "company {id} (merchant {code}) holds {held:?} in field {field}"
                            ));
                        }
                    }
                }
                format!(
                    "; write-back: {holding} companies hold their merchant code in field {field}, \
                     {} wait in the dead letters",
                    waiting.len()
                )
            }
            None => String::new(),
        };
        let deleted = companies.len() - live.len();
        let kept = companies
            .iter()
            .filter(|c| c.2 && merchants.contains_key(&c.1))
            .count();
        Ok(format!(
            "{} live OKKI companies → {} YonBIP merchants, {} dead-lettered; {deleted} deleted in \
             OKKI, not deleted in YonBIP ({kept} of them had been synced){written_back}",
            live.len(),
            merchants.len(),
            dead.len(),
        ))
    }
}
