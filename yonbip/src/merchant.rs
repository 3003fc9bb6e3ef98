//! Merchants (客户档案) ([`Client::merchants`](crate::Client::merchants)):
//! save, create, update, list, get (the detail API), find by code.

use integration_core::lenient;
use integration_core::types::{BeijingTime, Id};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::list::{ListQuery, Resource, Resources};
use crate::types::MultiLang;

/// Path of the merchant save API (High).
pub const SAVE_PATH: &str = "yonbip/digitalModel/merchant/save";
/// Path of the merchant list API (Medium).
pub const LIST_PATH: &str = "yonbip/digitalModel/merchant/list";
/// Path of the merchant detail API (Medium).
pub const DETAIL_PATH: &str = "yonbip/digitalModel/merchant/detail";

/// What a save does: the `_status` member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SaveStatus {
    /// Create a new merchant.
    Insert,
    /// Change the merchant with the given `id`.
    Update,
    /// Any other value the API sent back (kept readable, never sent by this crate).
    #[serde(other)]
    Other,
}

/// A merchant (客户档案) with every field of the save API typed; anything
/// else (custom `defines`, tenant extensions, nested sub-tables such as
/// addresses or contacts) stays in [`Merchant::extra`] and round-trips.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Merchant {
    /// 客户ID (assigned by YonBIP; required with `_status = Update`).
    #[serde(rename = "id", default)]
    pub id: Option<Id>,
    /// 客户编码, the merchant code (unique per tenant).
    #[serde(rename = "code", default, deserialize_with = "lenient::opt_text")]
    pub code: Option<String>,
    /// 客户名称, multilingual (`{"zh_CN": …}`).
    #[serde(rename = "name", default)]
    pub name: Option<MultiLang>,
    /// 操作标识: `Insert` or `Update` (only on save).
    #[serde(rename = "_status", default)]
    pub status: Option<SaveStatus>,
    /// 管理组织id (management org).
    #[serde(rename = "createOrg", default)]
    pub create_org: Option<Id>,
    /// 管理组织名称.
    #[serde(
        rename = "createOrg_name",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub create_org_name: Option<String>,
    /// 管理组织编码.
    #[serde(
        rename = "createOrg_code",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub create_org_code: Option<String>,
    /// 使用组织id (org that uses the record).
    #[serde(rename = "belongOrg", default)]
    pub belong_org: Option<Id>,
    /// 使用组织名称.
    #[serde(
        rename = "belongOrg_Name",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub belong_org_name: Option<String>,
    /// 交易类型编码.
    #[serde(
        rename = "transType_Code",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub trans_type_code: Option<String>,
    /// 外部编码 (marked deprecated).
    #[serde(rename = "erpCode", default, deserialize_with = "lenient::opt_text")]
    pub erp_code: Option<String>,
    /// 国家id.
    #[serde(rename = "country", default)]
    pub country: Option<Id>,
    /// 国家名称.
    #[serde(
        rename = "country_name",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub country_name: Option<String>,
    /// 国家编码.
    #[serde(
        rename = "country_code",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub country_code: Option<String>,
    /// 时区id.
    #[serde(rename = "timeZone", default)]
    pub time_zone: Option<Id>,
    /// 时区名称.
    #[serde(
        rename = "timeZone_Name",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub time_zone_name: Option<String>,
    /// 语言id.
    #[serde(rename = "language", default)]
    pub language: Option<Id>,
    /// 语言名称.
    #[serde(
        rename = "language_Name",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub language_name: Option<String>,
    /// 开票客户id.
    #[serde(rename = "invoicingCustomers", default)]
    pub invoicing_customers: Option<Id>,
    /// 开票客户名称.
    #[serde(
        rename = "invoicingCustomers_Name",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub invoicing_customers_name: Option<String>,
    /// 上级客户id.
    #[serde(rename = "parentCustomer", default)]
    pub parent_customer: Option<Id>,
    /// 上级客户名称.
    #[serde(
        rename = "parentCustomer_Name",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub parent_customer_name: Option<String>,
    /// 对应供应商id.
    #[serde(rename = "suppliers", default)]
    pub suppliers: Option<Id>,
    /// 对应供应商名称.
    #[serde(
        rename = "suppliers_Name",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub suppliers_name: Option<String>,
    /// 渠道客户分类id.
    #[serde(rename = "channCustomerClass", default)]
    pub chann_customer_class: Option<Id>,
    /// 渠道客户分类名称.
    #[serde(
        rename = "channCustomerClass_Name",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub chann_customer_class_name: Option<String>,
    /// 渠道客户级别id (marked deprecated).
    #[serde(rename = "channCustomerLevel", default)]
    pub chann_customer_level: Option<Id>,
    /// 渠道客户级别名称.
    #[serde(
        rename = "channCustomerLevel_Name",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub chann_customer_level_name: Option<String>,
    /// 渠道客户区域id (marked deprecated).
    #[serde(rename = "channCustomerArea", default)]
    pub chann_customer_area: Option<Id>,
    /// 渠道客户区域名称.
    #[serde(
        rename = "channCustomerArea_Name",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub chann_customer_area_name: Option<String>,
    /// 渠道客户行业id (marked deprecated).
    #[serde(rename = "channCustomerIndustry", default)]
    pub chann_customer_industry: Option<Id>,
    /// 渠道客户行业名称.
    #[serde(
        rename = "channCustomerIndustry_Name",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub chann_customer_industry_name: Option<String>,
    /// 内部组织id.
    #[serde(rename = "internalOrgId", default)]
    pub internal_org_id: Option<Id>,
    /// 内部组织名称.
    #[serde(
        rename = "internalOrgId_Name",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub internal_org_id_name: Option<String>,
    /// 纳税类别.
    #[serde(
        rename = "taxPayingCategories",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub tax_paying_categories: Option<String>,
    /// 客户分类id.
    #[serde(rename = "customerClass", default)]
    pub customer_class: Option<Id>,
    /// 客户分类名称.
    #[serde(
        rename = "customerClass_Name",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub customer_class_name: Option<String>,
    /// 客户分类编码.
    #[serde(
        rename = "customerClass_code",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub customer_class_code: Option<String>,
    /// 客户行业id.
    #[serde(rename = "customerIndustry", default)]
    pub customer_industry: Option<Id>,
    /// 客户行业名称.
    #[serde(
        rename = "customerIndustry_Name",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub customer_industry_name: Option<String>,
    /// 客户行业编码.
    #[serde(
        rename = "customerIndustry_code",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub customer_industry_code: Option<String>,
    /// 是否商家: sent (as JSON `true`/`false`) only when set, never by
    /// default; public save examples send `false`, the scheme document's
    /// sample is `true`. `"true"` and `1` are read too.
    #[serde(
        rename = "merchantOptions",
        default,
        deserialize_with = "lenient::opt_bool"
    )]
    pub merchant_options: Option<bool>,
    /// 企业类型.
    #[serde(
        rename = "enterpriseNature",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub enterprise_nature: Option<String>,
    /// 企业名称.
    #[serde(
        rename = "enterpriseName",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub enterprise_name: Option<String>,
    /// 法人代表.
    #[serde(rename = "leaderName", default, deserialize_with = "lenient::opt_text")]
    pub leader_name: Option<String>,
    /// 法人代表身份证号.
    #[serde(
        rename = "leaderNameIdNo",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub leader_name_id_no: Option<String>,
    /// 姓名 (marked deprecated).
    #[serde(rename = "personName", default, deserialize_with = "lenient::opt_text")]
    pub person_name: Option<String>,
    /// 身份证号 (marked deprecated).
    #[serde(rename = "idNo", default, deserialize_with = "lenient::opt_text")]
    pub id_no: Option<String>,
    /// 组织名称 (marked deprecated).
    #[serde(rename = "orgName", default, deserialize_with = "lenient::opt_text")]
    pub org_name: Option<String>,
    /// 统一社会信用代码.
    #[serde(rename = "creditCode", default, deserialize_with = "lenient::opt_text")]
    pub credit_code: Option<String>,
    /// 负责人.
    #[serde(
        rename = "personCharge",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub person_charge: Option<String>,
    /// 负责人身份证号.
    #[serde(
        rename = "personChargeIdNo",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub person_charge_id_no: Option<String>,
    /// 法人证件正面照.
    #[serde(rename = "frontIdNo", default, deserialize_with = "lenient::opt_text")]
    pub front_id_no: Option<String>,
    /// 法人证件背面照.
    #[serde(rename = "backIdNo", default, deserialize_with = "lenient::opt_text")]
    pub back_id_no: Option<String>,
    /// 营业执照.
    #[serde(
        rename = "businessLicense",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub business_license: Option<String>,
    /// 组织相关证件.
    #[serde(rename = "orgIdNo", default, deserialize_with = "lenient::opt_text")]
    pub org_id_no: Option<String>,
    /// 经营许可证号.
    #[serde(
        rename = "businessLicenseNo",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub business_license_no: Option<String>,
    /// 注册地区.
    #[serde(rename = "regionCode", default, deserialize_with = "lenient::opt_text")]
    pub region_code: Option<String>,
    /// 邮编.
    #[serde(rename = "postCode", default, deserialize_with = "lenient::opt_text")]
    pub post_code: Option<String>,
    /// 联系人.
    #[serde(
        rename = "contactName",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub contact_name: Option<String>,
    /// 联系电话.
    #[serde(rename = "contactTel", default, deserialize_with = "lenient::opt_text")]
    pub contact_tel: Option<String>,
    /// 邮箱.
    #[serde(rename = "email", default, deserialize_with = "lenient::opt_text")]
    pub email: Option<String>,
    /// 成立时间 (date text as the tenant sends it).
    #[serde(rename = "buildTime", default, deserialize_with = "lenient::opt_text")]
    pub build_time: Option<String>,
    /// 企业性质id.
    #[serde(rename = "enterNature", default)]
    pub enter_nature: Option<Id>,
    /// 企业性质名称.
    #[serde(
        rename = "enterNature_Name",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub enter_nature_name: Option<String>,
    /// 注册资金币种.
    #[serde(
        rename = "currencyCode",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub currency_code: Option<String>,
    /// 经营模式.
    #[serde(rename = "scopeModel", default, deserialize_with = "lenient::opt_text")]
    pub scope_model: Option<String>,
    /// 网址.
    #[serde(rename = "website", default, deserialize_with = "lenient::opt_text")]
    pub website: Option<String>,
    /// 微信公众号.
    #[serde(rename = "wid", default, deserialize_with = "lenient::opt_text")]
    pub wid: Option<String>,
    /// 核实状态 (the API's spelling).
    #[serde(rename = "verfyMark", default, deserialize_with = "lenient::opt_text")]
    pub verfy_mark: Option<String>,
    /// 附件分组id.
    #[serde(
        rename = "attachmentGroupId",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub attachment_group_id: Option<String>,
    /// 附件分组名称.
    #[serde(
        rename = "attachmentGroupId_Name",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub attachment_group_id_name: Option<String>,
    /// 附件分组项.
    #[serde(
        rename = "attachmentGroupItemId_Name",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub attachment_group_item_id_name: Option<String>,
    /// Last modification time (Beijing time, read-only; see [`crate::assumed::MODIFIED_TIME_FIELD`]).
    #[serde(
        rename = "pubts",
        default,
        deserialize_with = "lenient::opt_beijing_time"
    )]
    pub pubts: Option<BeijingTime>,
    /// Every other member, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Merchant {
    /// A new merchant to insert: code, Chinese name, management org and
    /// customer class (the fields a save always needs). `merchantOptions` is
    /// left unset (the sources disagree on it): set it when the mapping does.
    pub fn new(
        code: impl Into<String>,
        name: impl Into<MultiLang>,
        create_org: impl Into<Id>,
        customer_class: impl Into<Id>,
    ) -> Self {
        Self {
            code: Some(code.into()),
            name: Some(name.into()),
            create_org: Some(create_org.into()),
            customer_class: Some(customer_class.into()),
            ..Self::default()
        }
    }

    /// The merchant's name in simplified Chinese (or any language given).
    pub fn name_text(&self) -> Option<&str> {
        self.name.as_ref().and_then(MultiLang::text)
    }
}

#[derive(Serialize)]
struct SaveBody<'a> {
    data: &'a Merchant,
}

/// The query of a merchant list.
pub type MerchantQuery = ListQuery;

/// The merchants: save, create, update, list, get, find by code. Get it
/// from [`Client::merchants`](crate::Client::merchants).
pub type Merchants = Resources<Merchant>;

impl Resource for Merchant {
    const LIST_PATH: &'static str = LIST_PATH;
    const DETAIL_PATH: &'static str = DETAIL_PATH;
}

impl Merchants {
    /// Saves a merchant as it is: `_status` must be set (`Insert`, or
    /// `Update` with `id`). Returns the saved merchant with its `id`.
    pub async fn save(&self, merchant: &Merchant) -> Result<Merchant> {
        match (merchant.status, &merchant.id) {
            (Some(SaveStatus::Insert), _) => {}
            (Some(SaveStatus::Update), Some(id)) if !id.as_str().is_empty() => {}
            (Some(SaveStatus::Update), _) => {
                return Err(Error::Config(
                    "an Update save needs the merchant's id".into(),
                ));
            }
            _ => return Err(Error::Config("set `_status` to Insert or Update".into())),
        }
        let body = serde_json::to_value(SaveBody { data: merchant })
            .map_err(|e| Error::Config(e.to_string()))?;
        self.client
            .send(Method::POST, SAVE_PATH, &[], Some(&body))
            .await
    }

    /// Creates a merchant (`_status = Insert`, any `id` removed).
    pub async fn create(&self, merchant: &Merchant) -> Result<Merchant> {
        let mut merchant = merchant.clone();
        merchant.status = Some(SaveStatus::Insert);
        merchant.id = None;
        self.save(&merchant).await
    }

    /// Changes the merchant `merchant.id` (`_status = Update`).
    pub async fn update(&self, merchant: &Merchant) -> Result<Merchant> {
        let mut merchant = merchant.clone();
        merchant.status = Some(SaveStatus::Update);
        self.save(&merchant).await
    }

    /// The merchant whose code is exactly `code`, if any (a list filtered by
    /// code; results are checked for an exact match).
    pub async fn find_by_code(&self, code: &str) -> Result<Option<Merchant>> {
        // The code filter may match by prefix or substring in some tenants:
        // walk the pages until the exact code shows up.
        let mut pages = std::pin::pin!(self.pages(MerchantQuery::new().code(code).page_size(100)));
        while let Some(page) = futures::TryStreamExt::try_next(&mut pages).await? {
            if let Some(found) = page
                .items
                .into_iter()
                .find(|m| m.code.as_deref() == Some(code))
            {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_typed_and_unknown_fields() {
        let json = serde_json::json!({
            "id": 1481709712348020999_u64,
            "code": "KH0001",
            "name": {"zh_CN": "上海华东机电设备有限公司"},
            "createOrg": "1481709712348020742",
            "customerClass": "1481712151907270669",
            "merchantOptions": "true",
            "enterpriseNature": 0,
            "pubts": "2024-03-05 10:20:30",
            "merchantDefine": {"define1": "A级"}
        });
        let m: Merchant = serde_json::from_value(json).unwrap();
        assert_eq!(m.id, Some(Id::from("1481709712348020999")));
        assert_eq!(m.name_text(), Some("上海华东机电设备有限公司"));
        assert_eq!(m.merchant_options, Some(true));
        assert_eq!(m.enterprise_nature.as_deref(), Some("0"));
        assert_eq!(m.pubts.unwrap().to_string(), "2024-03-05 10:20:30");
        let back = serde_json::to_value(&m).unwrap();
        assert_eq!(back["merchantDefine"]["define1"], "A级");
        assert_eq!(back["merchantOptions"], true);
        assert_eq!(back["createOrg"], "1481709712348020742");
        assert!(back.get("_status").is_none());
    }

    #[test]
    fn new_sets_the_required_fields() {
        let m = Merchant::new(
            "KH1",
            "杭州西湖茶叶有限公司",
            "1481709712348020742",
            "1481712151907270669",
        );
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["name"]["zh_CN"], "杭州西湖茶叶有限公司");
        assert_eq!(v["customerClass"], "1481712151907270669");
        assert!(v.get("merchantOptions").is_none(), "{v}");
    }
}
