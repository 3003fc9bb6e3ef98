//! 销帮帮 CRM customers and contracts → 金蝶云星空 K/3 Cloud customers and
//! sales orders (typed mapping, form discovery and required-field checks).

examples::scheme_main!(examples::schemes::xbongbong_to_kingdee);
