//! The connectors' public response decoders on arbitrary bodies: a typed
//! error or a value, never a panic.
#![no_main]

use integration_core::transport::RawResponse;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let (status, body) = match data.split_first() {
        Some((s, rest)) => ([200u16, 400, 401, 429, 500, 502][usize::from(*s) % 6], rest),
        None => (200, data),
    };
    let status = reqwest::StatusCode::from_u16(status).unwrap_or(reqwest::StatusCode::OK);
    let raw = |system| RawResponse::new(system, "fuzz", status, Default::default(), body.to_vec());
    let _ = jackyun::client::decode_reply("erp.warehouse.get", &raw("jackyun")).map_err(|e| e.to_string());
    let _ = netease_huke::client::decode_envelope("/api/fuzz", &raw("huke")).map_err(|e| e.to_string());
    let _ = raw("core").json::<Value>().map_err(|e| e.to_string());
    if let Ok(Value::Array(row)) = serde_json::from_slice::<Value>(body) {
        let _ = kingdee_cloud::query::decode_row::<Value>(&["FNumber", "FName", "FDate"], row);
    }
});
