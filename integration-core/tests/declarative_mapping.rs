//! Declarative mappings: the template language, its errors, and the
//! Huke → K/3 Cloud scheme (DESIGN §1, scheme 4).

use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};
use integration_core::mapping::declarative::DeclarativeMapping;
use integration_core::mapping::{
    CollectionEntry, EntryStatus, Lookup, LookupFilter, MapContext, MapError, Mapper,
};
use integration_core::source::SourceRecord;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// 2024-05-01 08:00:00 +08:00.
fn clock() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0)
        .single()
        .expect("a valid instant")
}

fn ctx() -> MapContext {
    MapContext::new(clock())
}

fn map_json(doc: Value, source: Value) -> Result<Value, MapError> {
    DeclarativeMapping::from_value(doc)?.map_value(&source, &ctx())
}

fn map_one(template: &str, source: Value) -> Result<Value, MapError> {
    map_json(json!({ "out": template }), source).map(|v| v["out"].clone())
}

/// A collection store in memory, with the matching rules of
/// [`LookupFilter`]: field values match when equal or of equal text.
#[derive(Default)]
struct Collections {
    entries: Vec<CollectionEntry>,
    calls: Mutex<Vec<String>>,
}

impl Collections {
    fn entry(mut self, collection: &str, key: &str, target_id: Option<&str>, data: Value) -> Self {
        self.entries.push(CollectionEntry {
            collection: collection.to_owned(),
            key: key.to_owned(),
            status: if target_id.is_some() {
                EntryStatus::Written
            } else {
                EntryStatus::Failed
            },
            target_id: target_id.map(str::to_owned),
            data: data.into(),
            updated_at: clock(),
        });
        self
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl Lookup for Collections {
    fn lookup(
        &self,
        collection: &str,
        filter: LookupFilter<'_>,
    ) -> Result<Option<CollectionEntry>, MapError> {
        self.calls
            .lock()
            .expect("the calls lock")
            .push(format!("{collection} {filter:?}"));
        if collection == "broken" {
            return Err(MapError::new("state store unavailable"));
        }
        let found =
            self.entries
                .iter()
                .filter(|e| e.collection == collection)
                .filter(|e| match filter {
                    LookupFilter::Key(key) => e.key == key,
                    LookupFilter::Field { field, value } => e.data.get(field).is_some_and(|v| {
                        v == value || (text(v).is_some() && text(v) == text(value))
                    }),
                })
                .max_by_key(|e| e.updated_at)
                .cloned();
        Ok(found)
    }
}

// ---------------------------------------------------------------------------
// Scheme 4: NetEase Huke searchTrades → K/3 Cloud BD_Customer BatchSave

/// The collection of the other scheme that `_findCollection` reads.
const OTHER_SCHEME: &str = "dd359ae0-f1c0-3d0a-b38e-df1d6bf1f756";

const HUKE_TO_K3: &str = r#"{
    "FName": "{{buyerNick}}",
    "FNumber": "{{buyerCid}}",
    "FCreateOrgId": { "FNumber": "100" },
    "FUseOrgId": { "FNumber": "100" },
    "FDescription": "{{ lookup('dd359ae0-f1c0-3d0a-b38e-df1d6bf1f756', {'cid': buyerCid}, '唯一ID') | default('') }}",
    "FormId": "BD_Customer",
    "Operation": "BatchSave",
    "IsAutoSubmitAndAudit": true,
    "IsVerifyBaseDataField": false
}"#;

/// The trade as the Huke source reads it (a subset of its fields).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Trade {
    tid: String,
    buyer_nick: String,
    buyer_cid: String,
    payment: String,
}

/// The K/3 Cloud customer the sink writes.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct K3Customer {
    #[serde(rename = "FName")]
    f_name: String,
    #[serde(rename = "FNumber")]
    f_number: String,
    #[serde(rename = "FCreateOrgId")]
    f_create_org_id: Value,
    #[serde(rename = "FUseOrgId")]
    f_use_org_id: Value,
    #[serde(rename = "FDescription")]
    f_description: String,
    form_id: String,
    operation: String,
    is_auto_submit_and_audit: bool,
    is_verify_base_data_field: bool,
}

fn other_scheme() -> Arc<Collections> {
    Arc::new(
        Collections::default()
            .entry(
                OTHER_SCHEME,
                "c-1",
                Some("K3-0001"),
                json!({"cid": "CID-42", "唯一ID": "U-42-old"}),
            )
            .entry(
                OTHER_SCHEME,
                "c-2",
                Some("K3-0002"),
                json!({"cid": 7, "唯一ID": "U-7"}),
            ),
    )
}

#[test]
fn huke_to_k3_customer_mapping() {
    let mapping = DeclarativeMapping::from_json_str(HUKE_TO_K3).unwrap();
    let lookups = other_scheme();
    let ctx = ctx().with_lookup(lookups.clone());

    let source =
        json!({"tid": "T1", "buyerNick": "张三", "buyerCid": "CID-42", "payment": "99.90"});
    let out = mapping.map_value(&source, &ctx).unwrap();
    assert_eq!(
        out,
        json!({
            "FName": "张三",
            "FNumber": "CID-42",
            "FCreateOrgId": { "FNumber": "100" },
            "FUseOrgId": { "FNumber": "100" },
            "FDescription": "U-42-old",
            "FormId": "BD_Customer",
            "Operation": "BatchSave",
            "IsAutoSubmitAndAudit": true,
            "IsVerifyBaseDataField": false
        })
    );
    // The field order of the document is kept.
    let keys: Vec<&str> = out
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys[..3], ["FName", "FNumber", "FCreateOrgId"]);
    assert_eq!(
        lookups.calls.lock().unwrap().as_slice(),
        [format!(
            "{OTHER_SCHEME} Field {{ field: \"cid\", value: String(\"CID-42\") }}"
        )]
    );

    // A number `buyerCid` matches a number `cid`; a cid the other scheme
    // never saw falls back to the default.
    let out = mapping
        .map_value(&json!({"buyerNick": "李四", "buyerCid": 7}), &ctx)
        .unwrap();
    assert_eq!(
        out["FNumber"],
        json!(7),
        "a sole expression keeps the number"
    );
    assert_eq!(out["FDescription"], "U-7");
    let out = mapping
        .map_value(&json!({"buyerNick": "王五", "buyerCid": "CID-404"}), &ctx)
        .unwrap();
    assert_eq!(out["FDescription"], "");
}

#[test]
fn huke_to_k3_through_the_mapper_trait() {
    let mapping = DeclarativeMapping::from_json_str(HUKE_TO_K3).unwrap();
    let ctx = ctx().with_lookup(other_scheme());
    let record = SourceRecord::upsert(
        "T1",
        Trade {
            tid: "T1".into(),
            buyer_nick: "张三".into(),
            buyer_cid: "CID-42".into(),
            payment: "99.90".into(),
        },
    );
    let customer: K3Customer = Mapper::<Trade, K3Customer>::map(&mapping, &record, &ctx)
        .unwrap()
        .unwrap();
    assert_eq!(customer.f_name, "张三");
    assert_eq!(customer.f_number, "CID-42");
    assert_eq!(customer.f_create_org_id, json!({"FNumber": "100"}));
    assert_eq!(customer.f_use_org_id, json!({"FNumber": "100"}));
    assert_eq!(customer.f_description, "U-42-old");
    assert_eq!(customer.form_id, "BD_Customer");
    assert_eq!(customer.operation, "BatchSave");
    assert!(customer.is_auto_submit_and_audit);
    assert!(!customer.is_verify_base_data_field);
}

#[test]
fn huke_search_window_is_now_minus_72000_seconds_in_millis() {
    // QEasy: startTime = REPLACE(unix_timestamp(current_timestamp(3))-72000,'.','')
    //        endTime   = REPLACE(unix_timestamp(current_timestamp(3)),'.','')
    let request = DeclarativeMapping::from_json_str(
        r#"{
            "source": "2",
            "timeRanges": [{
                "timeType": "1",
                "startTime": "{{ unix_millis(-72000) | string }}",
                "endTime": "{{ unix_millis() | string }}",
                "page": "1",
                "pageSize": "10"
            }],
            "startMillis": "{{ unix_millis(-72000) }}",
            "startSeconds": "{{ unix_seconds(-72000) }}"
        }"#,
    )
    .unwrap();
    let now =
        Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap() + chrono::Duration::milliseconds(123);
    let out = request
        .map_value(&json!({}), &MapContext::new(now))
        .unwrap();
    assert_eq!(
        out,
        json!({
            "source": "2",
            "timeRanges": [{
                "timeType": "1",
                "startTime": "1714449600123",
                "endTime": "1714521600123",
                "page": "1",
                "pageSize": "10"
            }],
            "startMillis": 1_714_449_600_123_i64,
            "startSeconds": 1_714_449_600_i64
        })
    );
    // The context clock, not the wall clock: the same instant on every call.
    let again = request
        .map_value(&json!({}), &MapContext::new(now))
        .unwrap();
    assert_eq!(out, again);
}

// ---------------------------------------------------------------------------
// Values and structure

#[test]
fn constants_keep_their_json_types() {
    let doc = json!({
        "int": 100,
        "neg": -3,
        "float": 1.5,
        "big": 18_446_744_073_709_551_615_u64,
        "yes": true,
        "no": false,
        "nothing": null,
        "text": "BD_Customer",
        "numeric_text": "100",
        "empty": "",
        "object": {"FNumber": "100", "n": 1, "deep": {"b": [true, null]}},
        "array": [1, "two", 3.0, {"x": null}],
        "braces_only": "{ not a template }"
    });
    assert_eq!(map_json(doc.clone(), json!({})).unwrap(), doc);
}

#[test]
fn nested_objects_and_arrays_are_mapped_recursively() {
    let doc = json!({
        "FEntity": [
            {"FMaterialId": {"FNumber": "{{ items[0].sku }}"}, "FQty": "{{ items[0].qty }}"},
            {"FMaterialId": {"FNumber": "{{ items[1].sku }}"}, "FQty": "{{ items[1].qty }}", "FNote": "line {{ 1 + 1 }}"}
        ],
        "FReceiver": {"city": "{{ receiver.city }}", "full": "{{ receiver.province }}/{{ receiver.city }}"},
        "all_items": "{{ items }}",
        "first_sku_upper": "{{ items[0].sku | upper }}"
    });
    let source = json!({
        "items": [{"sku": "a-1", "qty": 2}, {"sku": "b-2", "qty": 0.5}],
        "receiver": {"province": "浙江", "city": "杭州"}
    });
    assert_eq!(
        map_json(doc, source.clone()).unwrap(),
        json!({
            "FEntity": [
                {"FMaterialId": {"FNumber": "a-1"}, "FQty": 2},
                {"FMaterialId": {"FNumber": "b-2"}, "FQty": 0.5, "FNote": "line 2"}
            ],
            "FReceiver": {"city": "杭州", "full": "浙江/杭州"},
            "all_items": source["items"],
            "first_sku_upper": "A-1"
        })
    );
}

#[test]
fn text_templates_yield_strings_and_sole_expressions_native_values() {
    let source = json!({"n": 42, "f": 2.5, "s": "x", "o": {"k": [1]}, "z": null});
    assert_eq!(map_one("{{ n }}", source.clone()).unwrap(), json!(42));
    assert_eq!(map_one("{{n}}", source.clone()).unwrap(), json!(42));
    assert_eq!(map_one("{{- n -}}", source.clone()).unwrap(), json!(42));
    assert_eq!(map_one(" {{ n }}", source.clone()).unwrap(), json!(" 42"));
    assert_eq!(map_one("{{ n }} ", source.clone()).unwrap(), json!("42 "));
    assert_eq!(map_one("{{ f }}", source.clone()).unwrap(), json!(2.5));
    assert_eq!(
        map_one("{{ o }}", source.clone()).unwrap(),
        json!({"k": [1]})
    );
    assert_eq!(map_one("{{ z }}", source.clone()).unwrap(), Value::Null);
    assert_eq!(
        map_one("{{ n | string }}", source.clone()).unwrap(),
        json!("42")
    );
    assert_eq!(
        map_one("{{ n > 40 }}", source.clone()).unwrap(),
        json!(true)
    );
    assert_eq!(
        map_one("{{ [n, s] }}", source.clone()).unwrap(),
        json!([42, "x"])
    );
    assert_eq!(
        map_one("{{ 'A' if n > 1 else 'B' }}", source.clone()).unwrap(),
        json!("A")
    );
    assert_eq!(
        map_one("No. {{ n }}-{{ s }}", source.clone()).unwrap(),
        json!("No. 42-x")
    );
    assert_eq!(
        map_one("{% if n %}yes{% endif %}", source.clone()).unwrap(),
        json!("yes")
    );
    assert_eq!(
        map_one("{{ n }}\n", source).unwrap(),
        json!("42\n"),
        "trailing newline kept"
    );
}

#[test]
fn string_replace_and_builtin_filters() {
    let source = json!({"phone": "138-0000-1111", "name": "  Acme  "});
    assert_eq!(
        map_one("{{ phone | replace('-', '') }}", source.clone()).unwrap(),
        json!("13800001111")
    );
    assert_eq!(
        map_one("{{ name | trim }}", source.clone()).unwrap(),
        json!("Acme")
    );
    assert_eq!(
        map_one("{{ missing | default('n/a') }}", source.clone()).unwrap(),
        json!("n/a")
    );
    assert_eq!(
        map_one("{{ missing | default(0) }}", source.clone()).unwrap(),
        json!(0)
    );
    assert_eq!(
        map_one("{{ missing is defined }}", source.clone()).unwrap(),
        json!(false)
    );
    assert_eq!(
        map_one(
            "{{ (receiver | default({})).city | default('') }}",
            source.clone()
        )
        .unwrap(),
        json!("")
    );
    assert!(map_one("{{ receiver.city | default('') }}", source.clone()).is_err());
    assert_eq!(
        map_one("{{ z | default('none', true) }}", json!({"z": null})).unwrap(),
        json!("none")
    );
    assert_eq!(
        map_one("{{ z | default('none') }}", json!({"z": null})).unwrap(),
        Value::Null
    );
}

#[test]
fn record_key_and_constants_are_variables() {
    let mapping = DeclarativeMapping::from_json_str(
        r#"{"id": "{{ _key }}", "org": "{{ const.org }}", "rate": "{{ const.rate }}", "all": "{{ _source.name }}"}"#,
    )
    .unwrap();
    let mut constants = serde_json::Map::new();
    constants.insert("org".into(), json!("100"));
    constants.insert("rate".into(), json!(0.13));
    let ctx = ctx().with_constants(constants);
    let record = SourceRecord::upsert("K-9", json!({"name": "n"}));
    let out: Value = Mapper::<Value, Value>::map(&mapping, &record, &ctx)
        .unwrap()
        .unwrap();
    assert_eq!(
        out,
        json!({"id": "K-9", "org": "100", "rate": 0.13, "all": "n"})
    );

    // Without a key, `_key` is undefined and that is an error.
    let err = mapping.map_value(&json!({"name": "n"}), &ctx).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("id"));
    assert!(err.message.contains("`_key`"), "{err}");

    // A missing constant names the constant.
    let err = mapping
        .map_value_with_key(Some("k"), &json!({"name": "n"}), &MapContext::new(clock()))
        .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("org"));
    assert!(err.message.contains("const.org"), "{err}");
}

// ---------------------------------------------------------------------------
// Errors

#[test]
fn a_missing_field_names_the_target_field_the_template_and_the_variable() {
    let mapping = DeclarativeMapping::from_json_str(HUKE_TO_K3).unwrap();
    let err = mapping
        .map_value(
            &json!({"buyerCid": "CID-1"}),
            &ctx().with_lookup(other_scheme()),
        )
        .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("FName"));
    assert_eq!(err.template.as_deref(), Some("{{buyerNick}}"));
    assert!(err.message.contains("`buyerNick`"), "{err}");
    let shown = err.to_string();
    assert!(
        shown.contains("target field `FName`") && shown.contains("template `{{buyerNick}}`"),
        "{shown}"
    );

    // Inside text, nested, and in an array.
    let doc = json!({
        "a": {"b": "Dear {{ who }}"},
        "items": [1, 2, {"qty": "{{ line.qty }}"}]
    });
    let err = map_json(doc.clone(), json!({"line": {}, "who": "x"})).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("items[2].qty"));
    assert_eq!(err.template.as_deref(), Some("{{ line.qty }}"));
    assert!(err.message.contains("`line.qty`"), "{err}");
    let err = map_json(doc, json!({"line": {"qty": 1}})).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("a.b"));
    assert!(err.message.contains("`who`"), "{err}");

    // Truthiness of a missing field is an error too (strict), not "false".
    let err = map_one("{{ 'VIP' if vip else 'normal' }}", json!({})).unwrap_err();
    assert!(err.message.contains("`vip`"), "{err}");
}

#[test]
fn bad_template_syntax_fails_at_load_naming_the_field() {
    let err = DeclarativeMapping::from_json_str(r#"{"FCreateOrgId": {"FNumber": "{{ org | }}"}}"#)
        .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("FCreateOrgId.FNumber"));
    assert_eq!(err.template.as_deref(), Some("{{ org | }}"));
    assert!(err.message.contains("syntax error"), "{err}");

    let err = DeclarativeMapping::from_value(json!({"items": [{}, {}, {"qty": "{% if x %}"}]}))
        .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("items[2].qty"));
    assert!(err.message.contains("syntax error"), "{err}");

    let err = DeclarativeMapping::from_value(json!({"a.b": "{{ }}"})).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("[\"a.b\"]"));

    // Not an object, not JSON, not TOML.
    assert!(DeclarativeMapping::from_value(json!(["{{ a }}"])).is_err());
    assert!(
        DeclarativeMapping::from_json_str("{")
            .unwrap_err()
            .message
            .contains("JSON")
    );
    assert!(
        DeclarativeMapping::from_toml_str("a = ")
            .unwrap_err()
            .message
            .contains("TOML")
    );
}

#[test]
fn unknown_functions_and_filters_fail_when_evaluated() {
    let err = map_one("{{ nope(1) }}", json!({})).unwrap_err();
    assert!(err.message.contains("unknown function"), "{err}");
    assert_eq!(err.field.as_deref(), Some("out"));
}

#[test]
fn a_target_that_does_not_fit_is_a_map_error() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Target {
        qty: i64,
    }
    let mapping = DeclarativeMapping::from_json_str(r#"{"qty": "{{ qty }}"}"#).unwrap();
    let record = SourceRecord::upsert("r1", json!({"qty": "many"}));
    let err = Mapper::<Value, Target>::map(&mapping, &record, &ctx()).unwrap_err();
    assert!(
        err.message.contains("r1") && err.message.contains("Target"),
        "{err}"
    );
    assert!(err.message.contains("invalid type"), "{err}");
    assert_eq!(err.field.as_deref(), Some("qty"), "{err}");
}

#[test]
fn a_typed_records_none_field_is_missing_not_null() {
    #[derive(Serialize)]
    struct Buyer {
        name: String,
        phone: Option<String>,
    }
    let mapping = DeclarativeMapping::from_json_str(r#"{"tel": "{{ phone }}"}"#).unwrap();
    let record = SourceRecord::upsert(
        "b1",
        Buyer {
            name: "张三".into(),
            phone: None,
        },
    );
    let err = Mapper::<Buyer, Value>::map(&mapping, &record, &ctx()).unwrap_err();
    assert!(err.message.contains("undefined"), "{err}");
    assert_eq!(err.field.as_deref(), Some("tel"));
}

// ---------------------------------------------------------------------------
// Decimals

#[test]
fn decimal_arithmetic_is_exact() {
    let s = json!({"a": 0.1, "b": "0.2", "price": "19.99", "qty": 3, "rate": 0.13});
    let f = |t: &str| map_one(t, s.clone()).unwrap();
    assert_eq!(f("{{ dec_add(a, b) }}"), json!(0.3));
    assert_eq!(
        f("{{ 0.1 + 0.2 }}"),
        json!(0.30000000000000004),
        "plain + is float arithmetic"
    );
    assert_eq!(f("{{ dec_add(a, b) == 0.3 }}"), json!(true));
    assert_eq!(
        f("{{ dec_mul(price, qty) > 59.96 and dec_mul(price, qty) < 59.98 }}"),
        json!(true)
    );
    assert_eq!(f("{{ dec_mul(price, qty) }}"), json!(59.97));
    assert_eq!(f("{{ dec_sub(price, '0.99') }}"), json!(19));
    assert_eq!(f("{{ dec_add(1, 2, 3, ' 4.5 ') }}"), json!(10.5));
    assert_eq!(f("{{ dec_div(10, 4) }}"), json!(2.5));
    assert_eq!(f("{{ dec_div(1, 3, 4) }}"), json!(0.3333));
    assert_eq!(f("{{ price | dec_mul(rate) | dec_round(2) }}"), json!(2.6));
    assert_eq!(f("{{ dec('1e3') }}"), json!(1000));
    assert_eq!(f("{{ dec(b) }}"), json!(0.2));
    // Money keeps two decimals as text.
    assert_eq!(f("{{ dec_fmt(dec_mul(price, qty), 2) }}"), json!("59.97"));
    assert_eq!(f("{{ 2.5 | dec_fmt(2) }}"), json!("2.50"));
    assert_eq!(f("¥{{ dec_add(a, b) | dec_fmt(2) }}"), json!("¥0.30"));
    assert_eq!(f("{{ dec_add(a, b) | dec_fmt(0) }}"), json!("0"));
    // Half away from zero (四舍五入), not banker's rounding.
    assert_eq!(f("{{ dec_fmt('2.345', 2) }}"), json!("2.35"));
    assert_eq!(f("{{ dec_round('2.345', 2) }}"), json!(2.35));
    assert_eq!(f("{{ dec_round('2.5', 0) }}"), json!(3));
    assert_eq!(f("{{ dec_round('-2.5', 0) }}"), json!(-3));
    assert_eq!(f("{{ dec_div(2, 3, 2) }}"), json!(0.67));
    // Sums over lines.
    let order = json!({"lines": [{"amount": "0.1"}, {"amount": 0.2}, {"amount": 3}]});
    assert_eq!(
        map_one("{{ dec_sum(lines, 'amount') }}", order.clone()).unwrap(),
        json!(3.3)
    );
    assert_eq!(
        map_one("{{ lines | dec_sum('amount') | dec_fmt(2) }}", order).unwrap(),
        json!("3.30")
    );
}

#[test]
fn decimal_errors_are_clear() {
    let s = json!({"x": "abc", "z": 0, "n": null});
    let err = map_one("{{ dec_add(x, 1) }}", s.clone()).unwrap_err();
    assert!(err.message.contains("`abc` is not a number"), "{err}");
    let err = map_one("{{ dec_div(1, z) }}", s.clone()).unwrap_err();
    assert!(err.message.contains("division by zero"), "{err}");
    let err = map_one("{{ dec_add(missing, 1) }}", s.clone()).unwrap_err();
    assert!(err.message.contains("`missing`"), "{err}");
    let err = map_one("{{ dec_add(n, 1) }}", s.clone()).unwrap_err();
    assert!(err.message.contains("expected a number"), "{err}");
    // 1/3 is no exact number: say how many places.
    let err = map_one("{{ dec_div(1, 3) }}", s.clone()).unwrap_err();
    assert!(err.message.contains("places"), "{err}");
    // Too many digits for a float: an error, not a silently rounded value.
    let err = map_one("{{ dec_add('12345678901234567.89', 0) }}", s.clone()).unwrap_err();
    assert!(err.message.contains("more digits"), "{err}");
    assert_eq!(
        map_one("{{ dec_fmt('12345678901234567.891', 2) }}", s.clone()).unwrap(),
        json!("12345678901234567.89")
    );
    let err = map_one("{{ dec_round(1, -1) }}", s).unwrap_err();
    assert!(err.message.contains("places"), "{err}");
}

// ---------------------------------------------------------------------------
// Dates

#[test]
fn date_formatting_in_a_given_offset() {
    let s = json!({
        "rfc": "2024-04-30T18:30:00Z",
        "local": "2024-05-01 02:30:00",
        "ms": 1_714_501_800_000_i64,
        "secs": 1_714_501_800,
        "ms_text": "1714501800000",
        "date": "2024-05-01"
    });
    let f = |t: &str| map_one(t, s.clone()).unwrap();
    assert_eq!(
        f("{{ rfc | format_date('%Y-%m-%d %H:%M:%S', '+08:00') }}"),
        json!("2024-05-01 02:30:00")
    );
    assert_eq!(
        f("{{ format_date(rfc, 'yyyy-MM-dd HH:mm:ss', '+08:00') }}"),
        json!("2024-05-01 02:30:00")
    );
    assert_eq!(
        f("{{ ms | format_date('%Y-%m-%d %H:%M:%S', '+08:00') }}"),
        json!("2024-05-01 02:30:00")
    );
    assert_eq!(
        f("{{ secs | format_date('%Y-%m-%d %H:%M:%S', '+08:00') }}"),
        json!("2024-05-01 02:30:00")
    );
    assert_eq!(
        f("{{ ms_text | format_date('rfc3339', '+08:00') }}"),
        json!("2024-05-01T02:30:00+08:00")
    );
    assert_eq!(f("{{ rfc | format_date }}"), json!("2024-04-30T18:30:00Z"));
    // A naive local time is read in the output offset unless told otherwise.
    assert_eq!(
        f("{{ local | format_date('unix_ms', '+08:00') }}"),
        json!(1_714_501_800_000_i64)
    );
    assert_eq!(
        f("{{ local | format_date('unix', 'UTC', '+08:00') }}"),
        json!(1_714_501_800)
    );
    assert_eq!(
        f("{{ local | format_date('%Y-%m-%dT%H:%M:%S%:z', 'Z', '+08:00') }}"),
        json!("2024-04-30T18:30:00+00:00")
    );
    assert_eq!(
        f("{{ date | format_date('%Y/%m/%d %H:%M', '+08:00') }}"),
        json!("2024/05/01 00:00")
    );
    assert_eq!(
        f("{{ '2024-05-01 10:00:00.250' | format_date('yyyy-MM-dd HH:mm:ss.SSS', '+08:00') }}"),
        json!("2024-05-01 10:00:00.250")
    );
    // Errors.
    for (template, needle) in [
        ("{{ 'soon' | format_date('%Y', '+08:00') }}", "not a date"),
        (
            "{{ rfc | format_date('%Y', 'Asia/Shanghai') }}",
            "not a UTC offset",
        ),
        ("{{ rfc | format_date('%Q') }}", "not a valid date format"),
        ("{{ missing | format_date('%Y') }}", "`missing`"),
        ("{{ [1] | format_date('%Y') }}", "expected a date"),
    ] {
        let err = map_one(template, s.clone()).unwrap_err();
        assert!(err.message.contains(needle), "{template}: {err}");
    }
}

#[test]
fn now_uses_the_context_clock() {
    let s = json!({});
    assert_eq!(
        map_one("{{ now() }}", s.clone()).unwrap(),
        json!("2024-05-01T00:00:00Z")
    );
    assert_eq!(
        map_one("{{ now('%Y-%m-%d %H:%M:%S', '+08:00') }}", s.clone()).unwrap(),
        json!("2024-05-01 08:00:00")
    );
    assert_eq!(
        map_one("{{ now('unix') }}", s.clone()).unwrap(),
        json!(1_714_521_600)
    );
    assert_eq!(
        map_one("{{ unix_seconds() }}", s.clone()).unwrap(),
        json!(1_714_521_600)
    );
    assert_eq!(
        map_one("{{ unix_millis(60) }}", s.clone()).unwrap(),
        json!(1_714_521_660_000_i64)
    );
    let err = map_one("{{ unix_millis(0.5) }}", s).unwrap_err();
    assert!(err.message.contains("whole seconds"), "{err}");
}

// ---------------------------------------------------------------------------
// Lookups

#[test]
fn lookup_by_key_and_by_field() {
    let store = Arc::new(
        Collections::default()
            .entry(
                "customers",
                "C1",
                Some("K3-1"),
                json!({"cid": "X1", "name": "Acme", "addr": {"city": "杭州"}}),
            )
            .entry("customers", "C2", None, json!({"cid": 2, "name": "Beta"})),
    );
    let ctx = ctx().with_lookup(store.clone());
    let mapping = DeclarativeMapping::from_value(json!({
        "by_key": "{{ lookup('customers', 'C1', '_target_id') }}",
        "by_key_name": "{{ lookup('customers', ckey, 'name') }}",
        "by_field": "{{ lookup('customers', {'cid': cid}, 'name') }}",
        "by_field_number": "{{ lookup('customers', {'cid': 2}, '_key') }}",
        "nested": "{{ lookup('customers', 'C1', 'addr.city') }}",
        "whole": "{{ lookup('customers', 'C1', 'addr') }}",
        "status": "{{ lookup('customers', 'C2', '_status') }}",
        "no_target": "{{ lookup('customers', 'C2', '_target_id') | default('none yet') }}",
        "not_found": "{{ lookup('customers', 'C404', 'name') | default('unknown') }}",
        "in_text": "customer {{ lookup('customers', {'cid': cid}, 'name') }}"
    }))
    .unwrap();
    let out = mapping
        .map_value(&json!({"ckey": "C1", "cid": "X1"}), &ctx)
        .unwrap();
    assert_eq!(
        out,
        json!({
            "by_key": "K3-1",
            "by_key_name": "Acme",
            "by_field": "Acme",
            "by_field_number": "C2",
            "nested": "杭州",
            "whole": {"city": "杭州"},
            "status": "failed",
            "no_target": "none yet",
            "not_found": "unknown",
            "in_text": "customer Acme"
        })
    );
    let calls = store.calls.lock().unwrap();
    assert!(
        calls.contains(&"customers Key(\"C1\")".to_owned()),
        "{calls:?}"
    );
    assert!(
        calls.contains(&"customers Field { field: \"cid\", value: String(\"X1\") }".to_owned()),
        "{calls:?}"
    );
}

#[test]
fn lookup_failures_name_the_field() {
    let store = Arc::new(Collections::default().entry(
        "customers",
        "C1",
        Some("K3-1"),
        json!({"cid": "X1"}),
    ));
    let ctx = ctx().with_lookup(store);
    let run = |template: &str, source: Value| {
        DeclarativeMapping::from_value(json!({"FDescription": template}))
            .unwrap()
            .map_value(&source, &ctx)
    };
    // Not found and no default: an error, not a silent empty value.
    let err = run(
        "{{ lookup('customers', {'cid': cid}, 'name') }}",
        json!({"cid": "X9"}),
    )
    .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("FDescription"));
    assert!(err.message.contains("lookup found nothing"), "{err}");
    let err = run("see {{ lookup('customers', 'C9', 'name') }}", json!({})).unwrap_err();
    assert!(err.message.contains("undefined"), "{err}");
    // The store failing.
    let err = run("{{ lookup('broken', 'C1', 'x') | default('') }}", json!({})).unwrap_err();
    assert!(err.message.contains("state store unavailable"), "{err}");
    // Bad arguments.
    let err = run("{{ lookup('customers', {'cid': cid}, 'name') }}", json!({})).unwrap_err();
    assert!(err.message.contains("`cid`"), "{err}");
    let err = run(
        "{{ lookup('customers', {'a': 1, 'b': 2}, 'name') }}",
        json!({}),
    )
    .unwrap_err();
    assert!(err.message.contains("exactly one entry"), "{err}");
    let err = run("{{ lookup('customers', [1], 'name') }}", json!({})).unwrap_err();
    assert!(err.message.contains("one-entry map"), "{err}");
}

// ---------------------------------------------------------------------------
// Loading

#[test]
fn toml_and_json_documents_are_equal() {
    let json_doc = DeclarativeMapping::from_json_str(
        r#"{
            "FormId": "BD_Customer",
            "IsAutoSubmitAndAudit": true,
            "Count": 3,
            "Ratio": 0.5,
            "FName": "{{ buyerNick }}",
            "FCreateOrgId": { "FNumber": "100" },
            "FEntity": [ { "FQty": "{{ qty }}" }, { "FQty": 1 } ],
            "When": "1979-05-27T07:32:00Z"
        }"#,
    )
    .unwrap();
    let toml_doc = DeclarativeMapping::from_toml_str(
        r#"
            FormId = "BD_Customer"
            IsAutoSubmitAndAudit = true
            Count = 3
            Ratio = 0.5
            FName = "{{ buyerNick }}"
            When = 1979-05-27T07:32:00Z

            [FCreateOrgId]
            FNumber = "100"

            [[FEntity]]
            FQty = "{{ qty }}"

            [[FEntity]]
            FQty = 1
        "#,
    )
    .unwrap();
    assert_eq!(json_doc.document(), toml_doc.document());
    let source = json!({"buyerNick": "n", "qty": 2});
    assert_eq!(
        json_doc.map_value(&source, &ctx()).unwrap(),
        toml_doc.map_value(&source, &ctx()).unwrap()
    );
    // Also through serde and FromStr, and back out.
    let via_serde: DeclarativeMapping =
        serde_json::from_value(json_doc.document().clone()).unwrap();
    assert_eq!(via_serde.document(), json_doc.document());
    let parsed: DeclarativeMapping = r#"FName = "{{ buyerNick }}""#.parse().unwrap();
    assert_eq!(
        parsed.map_value(&source, &ctx()).unwrap(),
        json!({"FName": "n"})
    );
    assert_eq!(
        serde_json::to_value(&json_doc).unwrap(),
        *json_doc.document()
    );
    let bad: Result<DeclarativeMapping, _> = serde_json::from_value(json!({"x": "{{ ( }}"}));
    assert!(bad.unwrap_err().to_string().contains("target field `x`"));
}

#[test]
fn mappings_are_shareable_between_threads() {
    fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync::<DeclarativeMapping>();
    let mapping =
        Arc::new(DeclarativeMapping::from_json_str(r#"{"n": "{{ dec_add(n, 1) }}"}"#).unwrap());
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let mapping = mapping.clone();
            std::thread::spawn(move || mapping.map_value(&json!({"n": i}), &ctx()).unwrap())
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        assert_eq!(h.join().unwrap(), json!({"n": i + 1}));
    }
}

#[test]
fn garbage_templates_never_panic() {
    let nasty = [
        "{{",
        "}}",
        "{{}}",
        "{{ }}",
        "{%",
        "{% %}",
        "{#",
        "{# unclosed",
        "{{ {{ }} }}",
        "{{ a }",
        "{ {a} }",
        "{{ a | }}",
        "{{ | }}",
        "{{ a.. }}",
        "{{ a[ }}",
        "{{ a[0 }}",
        "{{ (((( }}",
        "{{ )))) }}",
        "{{ '\\u{zz}' }}",
        "{{ \"unterminated }}",
        "{{ 1/0 }}",
        "{{ 1 // 0 }}",
        "{{ 1 % 0 }}",
        "{{ 9999999999999999999999999999999 * 99999999999999999999 }}",
        "{{ -9223372036854775808 - 1 }}",
        "{{ 2 ** 10000 }}",
        "{{ 'x' * 999999999999 }}",
        "{{ range(999999999) }}",
        "{{ none.x }}",
        "{{ none() }}",
        "{{ a() }}",
        "{{ a.b.c.d }}",
        "{{ a[999] }}",
        "{% for %}",
        "{% for x in %}{% endfor %}",
        "{% if %}",
        "{% endif %}",
        "{% set %}",
        "{% set x %}",
        "{% macro %}",
        "{% include 'x' %}",
        "{% extends 'x' %}",
        "{% block b %}{% endblock %}",
        "{% raw %}",
        "{{ a is }}",
        "{{ a is nope }}",
        "{{ a | nope }}",
        "{{ dec_add() }}",
        "{{ dec_add('x', 'y') }}",
        "{{ dec_round(1, 99999999999) }}",
        "{{ dec_div(1, 0) }}",
        "{{ dec_mul('7.9e28', '7.9e28') }}",
        "{{ format_date() }}",
        "{{ format_date(1e300) }}",
        "{{ format_date('-99999999999999999999', '%Y') }}",
        "{{ format_date(-9223372036854775808) }}",
        "{{ format_date('2024-13-45') }}",
        "{{ format_date('x', '%', '+99:99') }}",
        "{{ format_date('2024-01-01', '%-%%%.%:%#z%') }}",
        "{{ now('%') }}",
        "{{ now('%Y', '') }}",
        "{{ now('', '+') }}",
        "{{ unix_millis(9223372036854775807) }}",
        "{{ unix_seconds(-9223372036854775808) }}",
        "{{ unix_millis('x') }}",
        "{{ lookup() }}",
        "{{ lookup(1, 2, 3) }}",
        "{{ lookup('c', {}, 'f') }}",
        "{{ lookup('c', none, 'f') }}",
        "{{ __declarative_root }}",
        "{{ __declarative_root.x }}",
        "{{ __declarative_value }}",
        "{{ const }}",
        "{{ _source }}",
        "{{ range(3) }}",
        "{{ namespace() }}",
        "{{ lipsum }}",
        "{{ cycler }}",
        "{{ 'é' [0:1] }}",
        "{{ '中文'[1] }}",
        "\u{0}{{\u{0}}}",
        "{{ \u{feff} }}",
        "{{- -}}",
        "{{+ +}}",
        "{{ a -}}",
        "{%- -%}",
        "{{ x %} }}",
        "{% set __declarative_value = 1 %}",
        "{{ {1: 2} }}",
        "{{ {none: 2} }}",
        "{{ b'x' }}",
        "{{ 1.0e400 }}",
        "{{ 0.0 / 0.0 }}",
        "{{ -(1.0e308 * 10) }}",
    ];
    let source = json!({"a": {"b": [1, 2]}, "x": "1"});
    let ctx = ctx().with_lookup(Arc::new(Collections::default()));
    let mut loaded = 0;
    for (i, template) in nasty.iter().enumerate() {
        let doc = json!({ "f": { "g": [template] } });
        match DeclarativeMapping::from_value(doc) {
            Ok(mapping) => {
                loaded += 1;
                if let Err(err) = mapping.map_value(&source, &ctx) {
                    assert_eq!(
                        err.field.as_deref(),
                        Some("f.g[0]"),
                        "{i}: {template}: {err}"
                    );
                    assert_eq!(err.template.as_deref(), Some(*template));
                }
            }
            Err(err) => {
                assert_eq!(
                    err.field.as_deref(),
                    Some("f.g[0]"),
                    "{i}: {template}: {err}"
                );
                assert_eq!(err.template.as_deref(), Some(*template));
            }
        }
    }
    assert!(
        loaded > 10,
        "most garbage still compiles and fails at evaluation instead"
    );
}

#[test]
fn a_template_that_loops_without_end_fails_instead_of_hanging() {
    let document = json!({
        "FName": "{% for a in range(99999) %}{% for b in range(99999) %}{{ b }}{% endfor %}{% endfor %}"
    });
    let mapping = DeclarativeMapping::from_value(document).unwrap();
    let started = std::time::Instant::now();
    let err = mapping
        .map_value(&json!({}), &MapContext::new(chrono::Utc::now()))
        .unwrap_err();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "{err}"
    );
    assert!(!err.to_string().trim().is_empty());
}
