//! Scheme 1: 销帮帮 CRM customers and contracts → 金蝶云星空 K/3 Cloud
//! customers (`BD_Customer`) and sales orders (`SAL_SaleOrder`), with a
//! **typed** mapping (plain Rust functions).
//!
//! At setup the scheme discovers the 销帮帮 forms the way the scheme
//! document describes: `form/list` with business type 100 (客户) and 201
//! (合同订单) finds each form id, and `form/get` its field explanation.
//! Every record is then checked against that explanation before anything
//! is written: a record missing a field marked `required: 1` is not sent
//! but dead-lettered with the field's display name
//! (`合同金额为必填字段 (num_1)`), ready for `--replay` once fixed.
//!
//! Two pipelines share one state store and run in order:
//! 1. `xbongbong-customers` upserts one K/3 Cloud customer per 销帮帮
//!    customer, by `FNumber` = 客户编号 (`serialNo`);
//! 2. `xbongbong-contracts` upserts one sales order per contract, by
//!    `FBillNo` = 合同编号; its customer is found in the first pipeline's
//!    collection (by the contract's linked customer dataId) and referenced
//!    by number. Terminated contracts (合同状态 终止) are skipped.
//!
//! **Write-back (数据回压)**: each customer written gets its K/3 Cloud
//! number in a 销帮帮 customer field, `XBONGBONG_K3_NUMBER_FIELD` (an attr
//! such as `text_5`; off when unset; on the built-in fake always `text_5`,
//! 金蝶客户编码). A customer holding its number already is not edited
//! again, so the edit (which moves `updateTime`) brings it back once and
//! never loops. A failed write-back is a dead letter of stage write-back,
//! replayed with `--replay` without writing to K/3 Cloud again.
//!
//! The field-by-field mapping is in [`map_customer`] and [`map_contract`]
//! and in `examples/README.d/xbongbong-to-kingdee.md`.

use std::collections::BTreeSet;
use std::sync::Arc;

use ::xbongbong::records::Module;
use ::xbongbong::validate::{ProblemKind, ValidationOptions};
use ::xbongbong::value::{DataExt, ValueError, XbbDate};
use ::xbongbong::{BusinessType, FieldWriteBack, FormExplain, Record, RecordSource};
use async_trait::async_trait;
use integration_core::mapping::{EntryStatus, LookupFilter};
use integration_core::pipeline::RunError;
use integration_core::state::Stage;
use integration_core::types::BeijingTime;
use integration_core::{
    MapContext, MapError, Pipeline, RunOptions, RunReport, SourceRecord, StateStore,
};
use kingdee_cloud::sink::{CustomerSink, SaleOrderSink};
use kingdee_cloud::{
    BaseDataRef, Customer, SaleOrder, SaleOrderEntry, SaleOrderFinance, SaveOptions,
};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use crate::runner::{Job, Progress, SetupError, SystemCheck, control};
use crate::settings::Settings;
use crate::systems::kingdee::{self, Kingdee};
use crate::systems::xbongbong::Xbongbong;
use integration_core::Control;

/// The scheme's name (binary and state file).
pub const NAME: &str = "xbongbong-to-kingdee";
/// The customers pipeline and its collection (looked up by the orders).
pub const CUSTOMERS: &str = "xbongbong-customers";
/// The contracts pipeline and its collection.
pub const CONTRACTS: &str = "xbongbong-contracts";
/// The K/3 Cloud organisation that creates and uses the records.
pub const ORG_NUMBER: &str = "100";
/// The sales order type: 标准销售订单.
pub const BILL_TYPE: &str = "XSDD01_SYS";
/// Settlement currency: 人民币.
pub const CURRENCY: &str = "PRE001";
/// Sales unit of every order line.
pub const UNIT: &str = "Pcs";
/// VAT rate of every order line, percent (prices from 销帮帮 include tax).
pub const TAX_RATE: u32 = 13;

/// The customer field of the built-in fake that receives the K/3 Cloud
/// number (金蝶客户编码).
pub const FAKE_K3_NUMBER_FIELD: &str = "text_5";

/// The scheme, ready to run.
pub struct XbongbongToKingdee {
    customers: Pipeline<RecordSource, CustomerSink>,
    contracts: Pipeline<RecordSource, SaleOrderSink>,
    notes: Vec<String>,
    /// The customer field the K/3 Cloud number is written back to, if any.
    k3_number_field: Option<String>,
    /// The 销帮帮 side (client, and the fake when there are no settings).
    pub xbongbong: Xbongbong,
    /// The K/3 Cloud side (client, and the fake when there are no settings).
    pub kingdee: Kingdee,
}

/// A discovered 销帮帮 form: `form/list` for the business type, then
/// `form/get` for its fields. `needed` are the attrs the mapping reads.
async fn discover(
    client: &::xbongbong::Client,
    business_type: BusinessType,
    needed: &[&str],
) -> Result<(i64, String, FormExplain), SetupError> {
    let code = business_type.code();
    let form = client
        .forms()
        .default_for(business_type)
        .await
        .map_err(|e| SetupError::Other(format!("xbongbong form/list (businessType {code}): {e}")))?
        .ok_or_else(|| {
            SetupError::Other(format!("xbongbong has no form of business type {code}"))
        })?;
    let explain = client
        .forms()
        .get(form.form_id)
        .await
        .map_err(|e| SetupError::Other(format!("xbongbong form/get {}: {e}", form.form_id)))?;
    let absent: Vec<&str> = needed
        .iter()
        .copied()
        .filter(|attr| explain.field(attr).is_none())
        .collect();
    if !absent.is_empty() {
        return Err(SetupError::Other(format!(
            "xbongbong form {} ({}) has no field {}; adapt the mapping",
            form.name,
            form.form_id,
            absent.join(", ")
        )));
    }
    Ok((form.form_id, form.name, explain))
}

/// Builds the scheme from settings (or fakes) and a state store.
pub async fn setup(
    settings: &Settings,
    state: Arc<dyn StateStore>,
    progress: Progress,
) -> Result<XbongbongToKingdee, SetupError> {
    let xbb = crate::systems::xbongbong::connect(settings).await?;
    let kingdee = kingdee::connect(settings).await?;
    let k3_number_field = match settings.system("xbongbong") {
        None => Some(FAKE_K3_NUMBER_FIELD.to_owned()),
        Some(s) => s.optional("k3_number_field").map(str::to_owned),
    };

    let mut needed = vec!["serialNo", "text_1"];
    needed.extend(k3_number_field.as_deref());
    let (customer_form_id, customer_form_name, customer_form) =
        discover(&xbb.client, BusinessType::Customer, &needed).await?;
    let (contract_form_id, contract_form_name, contract_form) = discover(
        &xbb.client,
        BusinessType::Contract,
        &["serialNo", "text_2", "date_1", "array_4"],
    )
    .await?;
    let required = |form: &FormExplain| form.required_fields().count();
    let mut notes = vec![
        xbb.note.clone(),
        kingdee.note.clone(),
        format!(
            "xbongbong forms: {customer_form_name} ({customer_form_id}, {} required fields), \
             {contract_form_name} ({contract_form_id}, {} required fields), checked before writing",
            required(&customer_form),
            required(&contract_form)
        ),
    ];

    notes.push(match &k3_number_field {
        Some(attr) => format!(
            "write-back: the K/3 Cloud number goes to the customer field {} ({attr})",
            customer_form
                .field(attr)
                .map_or(attr.as_str(), |f| f.attr_name.as_str())
        ),
        None => "write-back: off (set XBONGBONG_K3_NUMBER_FIELD to a customer field)".into(),
    });
    let options = SaveOptions::new()
        .is_auto_submit_and_audit(true)
        .is_verify_base_data_field(true);
    // Customers first, so that the orders find them in the collection.
    let form = Arc::new(customer_form);
    let mut customers = Pipeline::builder(CUSTOMERS)
        .source(RecordSource::customers(
            xbb.client.clone(),
            customer_form_id,
        ))
        .mapper(move |r: &SourceRecord<Record>, ctx: &MapContext| map_customer(&form, r, ctx))
        .sink(CustomerSink::new(kingdee.client.clone()).options(options.clone()))
        .state(Arc::clone(&state))
        .hooks(progress.clone());
    if let Some(attr) = &k3_number_field {
        let field =
            FieldWriteBack::new(xbb.client.clone(), Module::Customer, customer_form_id, attr);
        // The number the customer was upserted by is its K/3 Cloud number.
        customers =
            customers.write_back_with(field, |_, customer: &Customer| customer.number.clone());
    }
    let customers = customers.build().map_err(SetupError::other)?;
    let form = Arc::new(contract_form);
    let contracts = Pipeline::builder(CONTRACTS)
        .source(RecordSource::contracts(
            xbb.client.clone(),
            contract_form_id,
        ))
        .mapper(move |r: &SourceRecord<Record>, ctx: &MapContext| map_contract(&form, r, ctx))
        .sink(SaleOrderSink::new(kingdee.client.clone()).options(options))
        .state(state)
        .hooks(progress)
        .build()
        .map_err(SetupError::other)?;
    Ok(XbongbongToKingdee {
        customers,
        contracts,
        notes,
        k3_number_field,
        xbongbong: xbb,
        kingdee,
    })
}

/// Checks a record against its form before it is written: every field
/// marked `required: 1` (sub-form rows included) must have a value.
/// Generated serial numbers and system fields are not required.
pub fn check_required(form: &FormExplain, data: &Map<String, Value>) -> Result<(), MapError> {
    let options = ValidationOptions {
        reject_unknown_fields: false,
        ..ValidationOptions::default()
    };
    let Err(errors) = form.validate_with(data, &options) else {
        return Ok(());
    };
    // Reads come back rich (`{text, value}`, `{id, name}`), writes are flat:
    // only a missing value is a problem of the record itself.
    let missing: Vec<String> = errors
        .problems
        .iter()
        .filter(|p| p.kind == ProblemKind::Missing)
        .map(ToString::to_string)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(MapError::new(format!(
        "销帮帮 form check failed: {}",
        missing.join("; ")
    )))
}

/// A value of the wrong shape, named by its display name when the form
/// knows the field.
fn bad_value(form: &FormExplain, e: ValueError) -> MapError {
    let top = e.attr.split(['[', '.']).next().unwrap_or(&e.attr);
    match form.field(top) {
        Some(field) => MapError::new(format!("{}: {e}", field.attr_name)),
        None => MapError::new(e.to_string()),
    }
}

/// The K/3 Cloud customer number of a 销帮帮 customer: its 客户编号.
pub fn customer_number(data: &Map<String, Value>) -> Option<String> {
    data.text("serialNo")
        .ok()
        .flatten()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// A 销帮帮 date as a K/3 Cloud date: midnight of its Beijing calendar day.
fn k3_date(date: XbbDate) -> Option<BeijingTime> {
    let day = date.beijing_date()?;
    let midnight = XbbDate::from_beijing_date(day)?;
    Some(BeijingTime::from_utc(midnight.0.to_utc()?))
}

/// 销帮帮 customer → K/3 Cloud `BD_Customer`.
pub fn map_customer(
    form: &FormExplain,
    record: &SourceRecord<Record>,
    _ctx: &MapContext,
) -> Result<Option<Customer>, MapError> {
    let data = &record.data.data;
    check_required(form, data)?;
    let bad = |e| bad_value(form, e);
    let number = customer_number(data)
        .ok_or_else(|| MapError::new("客户编号 (serialNo) is empty").for_field("FNumber"))?;
    let address = data.address("address_1").map_err(bad)?.map(|a| {
        [a.province, a.city, a.district, a.address]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("")
    });
    let tel = data
        .phones("subForm_1")
        .map_err(bad)?
        .into_iter()
        .map(|p| p.number)
        .find(|n| !n.trim().is_empty());
    let kind = data.select("text_2").map_err(bad)?.map(|s| s.text);
    let origin = data.select("text_3").map_err(bad)?.map(|s| s.text);
    let description = [
        kind.map(|k| format!("客户类型 {k}")),
        origin.map(|o| format!("来源 {o}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>();
    Ok(Some(Customer {
        number: Some(number),
        name: data.text("text_1").map_err(bad)?,
        create_org: Some(BaseDataRef::number(ORG_NUMBER)),
        use_org: Some(BaseDataRef::number(ORG_NUMBER)),
        address: address.filter(|a| !a.is_empty()),
        tel,
        description: Some(format!(
            "销帮帮客户 {}{}",
            record.key,
            description
                .iter()
                .map(|d| format!(", {d}"))
                .collect::<String>()
        )),
        ..Customer::default()
    }))
}

/// The K/3 Cloud number of the customer a contract links to, from the
/// customers pipeline's collection.
fn linked_customer_number(ctx: &MapContext, customer_id: &str) -> Result<String, MapError> {
    let not_yet = |why: &str| {
        MapError::new(format!(
            "客户名称: customer {customer_id} {why}; replay once it is in K/3 Cloud"
        ))
        .for_field("FCustId")
    };
    let entry = ctx
        .lookup(CUSTOMERS, LookupFilter::Key(customer_id))?
        .ok_or_else(|| not_yet("was never read from 销帮帮"))?;
    if entry.status != EntryStatus::Written {
        return Err(not_yet("was not written to K/3 Cloud"));
    }
    entry
        .data
        .get("data")
        .and_then(Value::as_object)
        .and_then(customer_number)
        .ok_or_else(|| not_yet("has no 客户编号"))
}

/// One 关联产品 row → one order line.
fn map_line(form: &FormExplain, row: &Map<String, Value>) -> Result<SaleOrderEntry, MapError> {
    let bad = |e| bad_value(form, e);
    let product = row.link("text_1").map_err(bad)?.ok_or_else(|| {
        MapError::new("关联产品: a row without 产品名称").for_field("FMaterialId")
    })?;
    let mut extra = Map::new();
    if let Some(note) = row.text("text_3").map_err(bad)? {
        extra.insert("FEntryNote".into(), json!(note));
    }
    Ok(SaleOrderEntry {
        material: Some(BaseDataRef::number(product.id.to_string())),
        unit: Some(BaseDataRef::number(UNIT)),
        qty: row.decimal("num_3").map_err(bad)?,
        tax_price: row.decimal("num_6").map_err(bad)?,
        tax_rate: Some(Decimal::from(TAX_RATE)),
        extra,
        ..SaleOrderEntry::default()
    })
}

/// 销帮帮 contract → K/3 Cloud `SAL_SaleOrder`; terminated contracts are
/// skipped.
pub fn map_contract(
    form: &FormExplain,
    record: &SourceRecord<Record>,
    ctx: &MapContext,
) -> Result<Option<SaleOrder>, MapError> {
    let data = &record.data.data;
    check_required(form, data)?;
    let bad = |e| bad_value(form, e);
    if data
        .select("text_6")
        .map_err(bad)?
        .is_some_and(|s| s.text == "终止")
    {
        return Ok(None);
    }
    let bill_no = data
        .text("serialNo")
        .map_err(bad)?
        .ok_or_else(|| MapError::new("合同编号 (serialNo) is empty").for_field("FBillNo"))?;
    let customer = data
        .link("text_2")
        .map_err(bad)?
        .ok_or_else(|| MapError::new("客户名称 is empty").for_field("FCustId"))?;
    let customer_number = linked_customer_number(ctx, customer.id.as_str())?;
    let signed = data.date("date_1").map_err(bad)?.and_then(k3_date);
    let delivery = data.date("date_2").map_err(bad)?.and_then(k3_date);
    let mut entries = data
        .sub_form("array_4")
        .map_err(bad)?
        .iter()
        .map(|row| map_line(form, row))
        .collect::<Result<Vec<_>, _>>()?;
    for line in &mut entries {
        line.delivery_date = delivery.or(signed);
    }
    let amount = data.decimal("num_1").map_err(bad)?.unwrap_or_default();
    let mut extra = Map::new();
    extra.insert(
        "FNote".into(),
        json!(format!("销帮帮合同 {bill_no}, 合同金额 {amount:.2}")),
    );
    Ok(Some(SaleOrder {
        bill_no: Some(bill_no),
        bill_type: Some(BaseDataRef::number(BILL_TYPE)),
        date: signed,
        sale_org: Some(BaseDataRef::number(ORG_NUMBER)),
        customer: Some(BaseDataRef::number(customer_number)),
        finance: Some(SaleOrderFinance {
            settle_currency: Some(BaseDataRef::number(CURRENCY)),
            exchange_rate: Some(Decimal::ONE),
            is_included_tax: Some(true),
            ..SaleOrderFinance::default()
        }),
        entries,
        extra,
        ..SaleOrder::default()
    }))
}

#[async_trait]
impl Job for XbongbongToKingdee {
    fn name(&self) -> &str {
        NAME
    }

    fn notes(&self) -> &[String] {
        &self.notes
    }

    async fn check(&self) -> Vec<SystemCheck> {
        vec![
            SystemCheck::new("xbongbong", self.xbongbong.client.check().await),
            SystemCheck::new("kingdee", self.kingdee.client.check().await),
        ]
    }

    fn pipelines(&self) -> Vec<Arc<dyn Control>> {
        vec![control(&self.customers), control(&self.contracts)]
    }

    fn state(&self) -> &Arc<dyn StateStore> {
        self.customers.state()
    }

    async fn run_with(&self, options: &RunOptions) -> Result<Vec<RunReport>, RunError> {
        Ok(vec![
            self.customers.run_with(options).await?,
            self.contracts.run_with(options).await?,
        ])
    }

    async fn replay_with(&self, options: &RunOptions) -> Result<Vec<RunReport>, RunError> {
        Ok(vec![
            self.customers.replay_dead_letters_with(options).await?,
            self.contracts.replay_dead_letters_with(options).await?,
        ])
    }

    fn target_records(&self) -> Option<usize> {
        let k3 = self.kingdee.fake.as_ref()?;
        Some(k3.records("BD_Customer").len() + k3.records("SAL_SaleOrder").len())
    }

    async fn verify(&self) -> Result<String, String> {
        let (Some(xbb), Some(k3)) = (&self.xbongbong.fake, &self.kingdee.fake) else {
            return Ok("not verifiable against real systems".into());
        };
        let customers = compare(
            self.customers.state().as_ref(),
            CUSTOMERS,
            xbb.records("customer")
                .iter()
                .filter(|r| !r.deleted)
                .map(|r| (r.data_id.to_string(), text(&r.data, "serialNo")))
                .collect(),
            k3.records("BD_Customer"),
            "FNumber",
        )
        .await?;
        let contracts = compare(
            self.contracts.state().as_ref(),
            CONTRACTS,
            xbb.records("contract")
                .iter()
                .filter(|r| !r.deleted && text(&r.data, "text_6") != "终止")
                .map(|r| (r.data_id.to_string(), text(&r.data, "serialNo")))
                .collect(),
            k3.records("SAL_SaleOrder"),
            "FBillNo",
        )
        .await?;
        let written_back = match &self.k3_number_field {
            Some(attr) => {
                let letters = self.customers.state().dead_letters(CUSTOMERS).await;
                let waiting: BTreeSet<String> = letters
                    .map_err(|e| e.to_string())?
                    .into_iter()
                    .filter(|l| l.stage == Stage::WriteBack)
                    .map(|l| l.key)
                    .collect();
                format!("; write-back: {}", written_back(xbb, k3, attr, &waiting)?)
            }
            None => String::new(),
        };
        Ok(format!(
            "customers: {customers}; contracts → sales orders: {contracts}{written_back}"
        ))
    }
}

/// Every 销帮帮 customer that is in K/3 Cloud holds its K/3 Cloud number
/// in `attr` or has a write-back dead letter (`waiting`), and no other
/// customer holds one.
fn written_back(
    xbb: &::xbongbong::testing::FakeXbongbong,
    k3: &kingdee_cloud::testing::FakeK3Cloud,
    attr: &str,
    waiting: &BTreeSet<String>,
) -> Result<String, String> {
    let in_k3: BTreeSet<String> = k3
        .records("BD_Customer")
        .iter()
        .map(|m| text(m, "FNumber"))
        .collect();
    let customers = xbb.records("customer");
    let live = customers.iter().filter(|r| !r.deleted);
    let mut holding = 0;
    for record in live {
        let number = text(&record.data, "serialNo");
        let held = text(&record.data, attr);
        match (in_k3.contains(&number), held.is_empty()) {
            (true, false) if held == number => holding += 1,
            (true, true) if waiting.contains(&record.data_id.to_string()) => {}
            (true, _) => {
                return Err(format!(
                    "customer {} ({number}) is in K/3 Cloud but holds {held:?} in {attr}",
                    record.data_id
                ));
            }
            (false, false) => {
                return Err(format!(
                    "customer {} holds {held:?} in {attr} but is not in K/3 Cloud",
                    record.data_id
                ));
            }
            (false, true) => {}
        }
    }
    Ok(format!(
        "{holding} customers hold their K/3 Cloud number in {attr}, {} wait in the dead letters",
        waiting.len()
    ))
}

fn text(data: &Map<String, Value>, attr: &str) -> String {
    data.get(attr)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// Every source record (dataId, number) is in K/3 Cloud exactly once, by
/// number, or dead-lettered; nothing else is in K/3 Cloud.
async fn compare(
    state: &dyn StateStore,
    pipeline: &str,
    source: Vec<(String, String)>,
    target: Vec<Map<String, Value>>,
    number_field: &str,
) -> Result<String, String> {
    let numbers: Vec<String> = target.iter().map(|m| text(m, number_field)).collect();
    let distinct: BTreeSet<&String> = numbers.iter().collect();
    if distinct.len() != numbers.len() {
        return Err(format!(
            "{pipeline}: {} records in K/3 Cloud but {} distinct {number_field}s",
            numbers.len(),
            distinct.len()
        ));
    }
    let dead: BTreeSet<String> = state
        .dead_letters(pipeline)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|d| d.key)
        .collect();
    let missing: Vec<&(String, String)> = source
        .iter()
        .filter(|(key, number)| !distinct.contains(number) && !dead.contains(key))
        .collect();
    if let Some((key, number)) = missing.first() {
        return Err(format!(
            "{pipeline}: {} records neither in K/3 Cloud nor dead-lettered, e.g. dataId {key} ({number})",
            missing.len()
        ));
    }
    let written = source.len() - dead.len();
    if numbers.len() != written {
        return Err(format!(
            "{pipeline}: {} records in K/3 Cloud for {} read ({} dead-lettered)",
            numbers.len(),
            source.len(),
            dead.len()
        ));
    }
    Ok(format!(
        "{} → {} in K/3 Cloud, {} dead-lettered",
        source.len(),
        numbers.len(),
        dead.len()
    ))
}
