//! The declarative mapping's template engine: an arbitrary template
//! (first line) applied to an arbitrary JSON record (the rest). Rejected
//! with an error, or mapped; never a panic or a hang (templates run on
//! fuel).
#![no_main]

use integration_core::MapContext;
use integration_core::mapping::declarative::DeclarativeMapping;
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (template, record) = text.split_once('\n').unwrap_or((&text, "{}"));
    let record: Value = serde_json::from_str(record).unwrap_or_else(|_| json!({"buyerCid": record}));
    let document = json!({ "FName": template, "FNumber": "{{ buyerCid }}" });
    if let Ok(mapping) = DeclarativeMapping::from_value(document) {
        let _ = mapping
            .map_value(&record, &MapContext::new(chrono::Utc::now()))
            .map_err(|e| e.to_string());
    }
});
