//! Form metadata: the real contract form decodes without loss, validation,
//! typed values.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use xbongbong::form::{FieldType, FormExplain};
use xbongbong::validate::{ProblemKind, ValidationOptions};
use xbongbong::value::{TypedValue, ValueKind};

fn fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/xbongbong-contract-form-get.json")).unwrap()
}

fn contract_form() -> FormExplain {
    serde_json::from_value(fixture()["result"].clone()).unwrap()
}

fn map(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[test]
fn the_real_contract_form_decodes_without_loss() {
    let original = fixture()["result"].clone();
    let form: FormExplain = serde_json::from_value(original.clone()).unwrap();
    assert_eq!(
        serde_json::to_value(&form).unwrap(),
        original,
        "round trip must be lossless"
    );
    assert_eq!(form.explain_list.len(), 47);
    for f in &form.explain_list {
        assert!(
            !matches!(f.field_type, FieldType::Unknown(_)),
            "{} has an unknown type",
            f.attr
        );
        for s in f.sub_fields() {
            assert!(
                !matches!(s.field_type, FieldType::Unknown(_)),
                "{} has an unknown type",
                s.attr
            );
        }
    }
    let serial = form.field("serialNo").unwrap();
    assert_eq!(serial.field_type, FieldType::SerialNumber);
    let rule = serial.serial_number.as_ref().unwrap();
    assert_eq!(
        (rule.prefix.as_deref(), rule.number_digit, rule.start_num),
        (Some("SO."), Some(3), Some(1))
    );
    assert!(serial.is_no_repeat() && serial.is_required());

    let amount = form.field("num_1").unwrap();
    assert_eq!(amount.attr_name, "合同金额");
    assert!(amount.is_amount());
    assert_eq!(amount.accuracy, Some(2));
    assert_eq!(
        amount.enforced_limits(),
        Some((Some(Decimal::ZERO), Some(Decimal::from(100_000_000_000i64))))
    );
    assert_eq!(
        form.field("num_2").unwrap().enforced_limits(),
        None,
        "limits flag 0 is not enforced"
    );

    let status = form.field("text_6").unwrap();
    assert_eq!(status.field_type, FieldType::Select);
    assert_eq!(
        status
            .option_by_text("终止")
            .unwrap()
            .value_text()
            .as_deref(),
        Some("4")
    );
    assert_eq!(status.options()[3].extra.get("noDel"), Some(&json!(1)));

    let products = form.field("array_4").unwrap();
    assert_eq!(products.field_type, FieldType::SubForm);
    assert_eq!(products.sub_fields().len(), 13);
    assert_eq!(
        products.sub_fields()[0].field_type,
        FieldType::LinkedProduct
    );
    assert_eq!(products.kind(), ValueKind::SubForm);
    assert_eq!(form.field("ownerId").unwrap().kind(), ValueKind::Users);
    assert_eq!(
        form.field("array_5").unwrap().kind(),
        ValueKind::MultiSelect
    );
    assert_eq!(
        form.field("date_1").unwrap().date_type.as_deref(),
        Some("yyyy-MM-dd")
    );

    let required: Vec<&str> = form
        .required_fields()
        .map(|f| f.attr_name.as_str())
        .collect();
    assert!(required.contains(&"合同金额") && required.contains(&"关联产品"));
}

#[test]
fn sub_form_alias_and_unknown_members_are_kept() {
    let field: xbongbong::Field = serde_json::from_value(json!({
        "attr": "subForm_9", "attrName": "明细", "fieldType": 20004, "newKey": {"a": 1},
        "subForm": [{"attr": "num_1", "attrName": "数量", "fieldType": 2, "required": true}]
    }))
    .unwrap();
    assert_eq!(field.sub_fields().len(), 1);
    assert!(field.sub_fields()[0].is_required());
    assert_eq!(field.extra["newKey"], json!({"a": 1}));
    let unknown: xbongbong::Field =
        serde_json::from_value(json!({"attr": "address_1", "attrName": "地址", "fieldType": 12}))
            .unwrap();
    assert_eq!(unknown.field_type, FieldType::Unknown(12));
    assert_eq!(unknown.kind(), ValueKind::Address);
    assert_eq!(
        serde_json::to_value(&unknown).unwrap()["fieldType"],
        json!(12)
    );
}

#[test]
fn an_empty_contract_lists_every_required_field_by_name() {
    let form = contract_form();
    let err = form.validate(&Map::new()).unwrap_err();
    let names: Vec<&str> = err.problems.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "客戶是否首单新签",
            "客户名称",
            "签订人",
            "签订日期",
            "合同状态",
            "负责人",
            "关联产品",
            "其它费用",
            "优惠金额",
            "合同金额",
            "应收款",
            "付款时效",
            "折扣"
        ]
    );
    assert!(err.problems.iter().all(|p| p.kind == ProblemKind::Missing));
    assert!(
        !names.contains(&"合同编号"),
        "the serial number is generated"
    );
    assert!(err.to_string().contains("合同金额为必填字段"));
}

fn valid_contract() -> Map<String, Value> {
    map(json!({
        "text_15": "新签", "text_2": 25430001, "text_8": "01234567890124", "date_1": 1767196800,
        "text_6": "签约", "ownerId": ["01234567890124"],
        "array_4": [{"text_1": 30000001, "num_4": 100, "num_6": 1999.5, "num_3": 2}],
        "num_27": 0, "num_28": 0, "num_1": 3999.0, "array_1": [{"num_1": 3999}],
        "array_5": ["款到发货"], "text_23": "7折及7折以上"
    }))
}

#[test]
fn a_valid_contract_passes_and_every_problem_is_reported_at_once() {
    let form = contract_form();
    form.validate(&valid_contract()).unwrap();

    let mut bad = valid_contract();
    bad.insert("text_6".into(), json!("作废"));
    bad.insert(
        "text_15".into(),
        json!("3231f6c2-4566-27d3-524f-84b931a0b288"),
    );
    bad.insert("num_1".into(), json!(-5));
    bad.insert("ownerId".into(), json!("01234567890124"));
    bad.insert("num_27".into(), json!("12.5"));
    bad.insert("array_5".into(), json!(["款到发货", "月结"]));
    bad.insert("array_4".into(), json!([{"text_1": 30000001, "num_4": 100, "num_6": 10.123, "num_3": 1}, {"text_1": 30000002}, 7]));
    bad.insert("text_99".into(), json!("typo"));
    let err = form.validate(&bad).unwrap_err();
    let text = err.to_string();
    for needle in [
        "合同状态: 选项不存在: \"作废\"",
        "value of option \"新签\"",
        "合同金额: -5 is outside [0, 100000000000]",
        "负责人: expected an array of userId strings",
        "其它费用: expected a JSON number",
        "付款时效: 选项不存在: \"月结\"",
        "关联产品 第1行 售价(元): 10.123 has more than 2 decimal places",
        "关联产品 第2行 折扣(%)为必填字段",
        "关联产品 第2行 售价(元)为必填字段",
        "关联产品 第2行 数量为必填字段",
        "关联产品 第3行: expected a row object",
        "text_99: not a field of the form",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in {text}");
    }
    assert_eq!(err.problems.len(), 12, "{text}");
    let path: Vec<&str> = err.problems.iter().map(|p| p.path.as_str()).collect();
    assert!(path.contains(&"array_4[1].num_3"));

    // Edits only check what they send.
    let edit = map(json!({"num_1": 12.5}));
    form.validate_with(&edit, &ValidationOptions::for_edit())
        .unwrap();
}

#[test]
fn typed_values_follow_the_field_type() {
    let form = contract_form();
    let data = map(json!({
        "num_1": 128000.55, "date_1": 1767196800, "text_6": {"text": "执行中", "value": "2"},
        "ownerId": [{"id": "01234567890124", "name": "李娜"}], "text_2": {"id": 25430001, "name": "杭州云帆科技有限公司"},
        "array_5": [{"text": "款到发货", "value": "a219bd9b"}], "array_4": [{"text_1": 30000001, "num_3": 2}],
        "file_1": [{"filename": "合同.pdf", "attachIndex": "https://files.example/a.pdf", "ext": "pdf", "size": 2048}],
        "num_13": 1
    }));
    let read = |attr: &str| form.read(&data, attr).unwrap().unwrap();
    assert_eq!(
        read("num_1"),
        TypedValue::Number(Decimal::from_str("128000.55").unwrap())
    );
    let TypedValue::Date(d) = read("date_1") else {
        panic!()
    };
    assert_eq!(d.beijing_date().unwrap().to_string(), "2026-01-01");
    let TypedValue::Select(s) = read("text_6") else {
        panic!()
    };
    assert_eq!((s.text.as_str(), s.value.as_deref()), ("执行中", Some("2")));
    let TypedValue::Users(u) = read("ownerId") else {
        panic!()
    };
    assert_eq!(u[0].name.as_deref(), Some("李娜"));
    let TypedValue::Link(l) = read("text_2") else {
        panic!()
    };
    assert_eq!(l.id.as_i64(), Some(25430001));
    assert!(matches!(read("array_4"), TypedValue::SubForm(rows) if rows.len() == 1));
    assert!(matches!(read("file_1"), TypedValue::Attachments(a) if a[0].size == Some(2048)));
    assert_eq!(read("num_13"), TypedValue::Flag(1));
    assert!(form.read(&data, "date_2").unwrap().is_none());

    // Rich reads become flat writes.
    assert_eq!(read("text_6").to_write().unwrap(), json!("执行中"));
    assert_eq!(
        read("ownerId").to_write().unwrap(),
        json!(["01234567890124"])
    );
    assert_eq!(read("text_2").to_write().unwrap(), json!(25430001));
    assert_eq!(read("array_5").to_write().unwrap(), json!(["款到发货"]));
    assert_eq!(read("num_1").to_write().unwrap(), json!(128000.55));
    assert_eq!(read("date_1").to_write().unwrap(), json!(1767196800));
    // A date field holding text is an error, not a guess.
    assert!(
        form.read(&map(json!({"date_1": "2026-01-01"})), "date_1")
            .is_err()
    );
}
