//! Webhook (message push) deliveries: signature check and payload
//! decryption.
//!
//! OKKI posts `{"message_id":"msg_…","data":"<base64>"}` with headers
//! `X-Signature` and `X-Timestamp` (unix seconds):
//!
//! * `X-Signature = lowercase_hex(HMAC-SHA256(key = security_config text,
//!   message = X-Timestamp ‖ raw body))` — see [`signature`];
//! * `data` = base64(`iv[12] ‖ tag[16] ‖ ciphertext`), AES-256-GCM with
//!   `key = base64decode(security_config)` and no AAD — see [`decrypt`].
//!
//! The receiver answers `{"data":{"message_id":"<same id>"}}`
//! ([`acknowledgement`]).

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Sha256;

use crate::error::{Error, Result};

/// The signature of a delivery: lowercase hex HMAC-SHA256 keyed with the
/// `security_config` text itself (its ASCII bytes, not base64-decoded) over
/// the `X-Timestamp` header value followed by the raw body.
///
/// This is the one signing function of the crate; it is pure and pinned by
/// the fact sheet's vectors.
pub fn signature(security_config: &str, timestamp: &str, raw_body: &[u8]) -> String {
    // HMAC accepts keys of any length; the error case cannot happen.
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(security_config.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(timestamp.as_bytes());
    mac.update(raw_body);
    hex::encode(mac.finalize().into_bytes())
}

/// Checks `X-Signature` in constant time (case-insensitive hex).
pub fn verify(
    security_config: &str,
    timestamp: &str,
    raw_body: &[u8],
    x_signature: &str,
) -> Result<()> {
    let Ok(given) = hex::decode(x_signature.trim()) else {
        return Err(Error::Webhook("X-Signature is not hex".into()));
    };
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(security_config.as_bytes())
        .map_err(|_| Error::Webhook("unusable webhook secret".into()))?;
    mac.update(timestamp.as_bytes());
    mac.update(raw_body);
    mac.verify_slice(&given)
        .map_err(|_| Error::Webhook("the X-Signature does not match".into()))
}

fn key(security_config: &str) -> Result<Aes256Gcm> {
    let key = base64::engine::general_purpose::STANDARD
        .decode(security_config.trim())
        .map_err(|_| Error::Webhook("security_config is not base64".into()))?;
    Aes256Gcm::new_from_slice(&key)
        .map_err(|_| Error::Webhook("security_config is not a 32-byte key".into()))
}

/// Decrypts a delivery's `data` field into the plaintext bytes (JSON
/// `{"biz":[…]}`).
pub fn decrypt(security_config: &str, data_base64: &str) -> Result<Vec<u8>> {
    let cipher = key(security_config)?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(data_base64.trim())
        .map_err(|_| Error::Webhook("data is not base64".into()))?;
    if raw.len() < 28 {
        return Err(Error::Webhook("data is too short".into()));
    }
    let (iv, rest) = raw.split_at(12);
    let (tag, ct) = rest.split_at(16);
    let mut sealed = Vec::with_capacity(rest.len());
    sealed.extend_from_slice(ct);
    sealed.extend_from_slice(tag);
    cipher
        .decrypt(Nonce::from_slice(iv), sealed.as_slice())
        .map_err(|_| Error::Webhook("data does not decrypt with this secret".into()))
}

/// Encrypts a payload the way OKKI does, with a given 12-byte IV (for fakes
/// and tests; OKKI picks a random IV).
pub fn encrypt(security_config: &str, iv: [u8; 12], plaintext: &[u8]) -> Result<String> {
    let cipher = key(security_config)?;
    let sealed = cipher
        .encrypt(Nonce::from_slice(&iv), plaintext)
        .map_err(|_| Error::Webhook("cannot encrypt".into()))?;
    let (ct, tag) = sealed.split_at(sealed.len() - 16);
    let mut raw = Vec::with_capacity(sealed.len() + 12);
    raw.extend_from_slice(&iv);
    raw.extend_from_slice(tag);
    raw.extend_from_slice(ct);
    Ok(base64::engine::general_purpose::STANDARD.encode(raw))
}

/// A delivery's body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// `msg_…`, echoed in the acknowledgement.
    pub message_id: String,
    /// The encrypted payload.
    pub data: String,
}

/// The decrypted payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payload {
    /// The events.
    #[serde(default)]
    pub biz: Vec<Event>,
}

/// One event, e.g. `xiaoman.crm.company.update`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The event name.
    pub biz_type: String,
    /// The event data (its shape is not documented for real events).
    #[serde(default)]
    pub biz_data: Value,
}

/// Verifies and decrypts a delivery: the signature first, then the payload.
pub fn open(
    security_config: &str,
    timestamp: &str,
    x_signature: &str,
    raw_body: &[u8],
) -> Result<(Delivery, Payload)> {
    verify(security_config, timestamp, raw_body, x_signature)?;
    let delivery: Delivery = serde_json::from_slice(raw_body)
        .map_err(|e| Error::Webhook(format!("the body is not a delivery ({e})")))?;
    let plain = decrypt(security_config, &delivery.data)?;
    let payload = serde_json::from_slice(&plain)
        .map_err(|e| Error::Webhook(format!("the payload is not JSON ({e})")))?;
    Ok((delivery, payload))
}

/// The answer OKKI expects for a delivery.
pub fn acknowledgement(message_id: &str) -> Value {
    serde_json::json!({"data": {"message_id": message_id}})
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1_SECRET: &str = "IdXEy84pL6gVehBPZdJytBYJ5pt85RCGnV3NPqt3D0k=";
    const V1_BODY: &str = r#"{"message_id":"msg_68d6527b8e41f8.33205216","data":"LWNoQmm5sYYzwiohzlgXpTuOvZd1GtoeLC05wCzMlG0hk2px0vLiul7kDd3rJ4XgmxclwuYAtacNynl4AFdESsntPwco8SrG8x8rPlO1AN0QO8V34SEQTQ41wi2JG4HjqL5CKw=="}"#;
    // The fact sheet elides the timestamp; this is the value for which the
    // published signature verifies (it equals the uniqid prefix of the
    // message id, 0x68d6527b).
    const V1_TIMESTAMP: &str = "1758876283";
    const V1_SIGNATURE: &str = "aae37cb66c8b54b423837526025144afe23f5ac3958626b898b48607eb5f8d69";
    const PLAIN: &str =
        r#"{"biz":[{"biz_type":"xiaoman.open.callback.test","biz_data":"success"}]}"#;

    const V2_SECRET: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const V2_DATA: &str = "oKGio6SlpqeoqaqrsSMF7hNw+Adl4Yq7/Bu/2J06HkQ/6TjkGUflun0ltKcAyXsqsM8rDfNjR+hRxAVkvFgknsNOMVw89yq8bAn322s5JCEYj34fNT8pZIYD8NPX2fYcEti5nQ==";
    const V2_TIMESTAMP: &str = "1700000000";
    const V2_SIGNATURE: &str = "a456bb6d9f18c0fc3b508ffa202d2a4147247b153a8a80869fa65319ab275ec9";

    #[test]
    fn vector_1_official_signature_and_decryption() {
        assert_eq!(
            signature(V1_SECRET, V1_TIMESTAMP, V1_BODY.as_bytes()),
            V1_SIGNATURE
        );
        verify(
            V1_SECRET,
            V1_TIMESTAMP,
            V1_BODY.as_bytes(),
            &V1_SIGNATURE.to_uppercase(),
        )
        .unwrap();
        let (delivery, payload) =
            open(V1_SECRET, V1_TIMESTAMP, V1_SIGNATURE, V1_BODY.as_bytes()).unwrap();
        assert_eq!(delivery.message_id, "msg_68d6527b8e41f8.33205216");
        assert_eq!(
            String::from_utf8(decrypt(V1_SECRET, &delivery.data).unwrap()).unwrap(),
            PLAIN
        );
        assert_eq!(payload.biz[0].biz_type, "xiaoman.open.callback.test");
        // The variants the fact sheet rules out do not match.
        let delivery_data = delivery.data.as_bytes();
        assert_ne!(
            signature(V1_SECRET, V1_TIMESTAMP, delivery_data),
            V1_SIGNATURE
        );
        assert!(verify(V1_SECRET, "1758876284", V1_BODY.as_bytes(), V1_SIGNATURE).is_err());
    }

    #[test]
    fn vector_2_synthetic_encrypt_and_sign() {
        let mut iv = [0u8; 12];
        for (i, b) in iv.iter_mut().enumerate() {
            *b = 0xa0 + i as u8;
        }
        assert_eq!(encrypt(V2_SECRET, iv, PLAIN.as_bytes()).unwrap(), V2_DATA);
        let body = format!(r#"{{"message_id":"msg_test_0001","data":"{V2_DATA}"}}"#);
        assert_eq!(
            signature(V2_SECRET, V2_TIMESTAMP, body.as_bytes()),
            V2_SIGNATURE
        );
        let (_, payload) = open(V2_SECRET, V2_TIMESTAMP, V2_SIGNATURE, body.as_bytes()).unwrap();
        assert_eq!(payload.biz[0].biz_data, "success");
        assert!(decrypt(V1_SECRET, V2_DATA).is_err(), "wrong key");
        assert!(decrypt(V2_SECRET, "AAAA").is_err(), "too short");
        assert_eq!(acknowledgement("m")["data"]["message_id"], "m");
    }
}
