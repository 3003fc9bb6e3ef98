//! Request signing: the four `ur-*` headers every Huke call carries.
//!
//! Huke has no token, no session and no OAuth. Every request is signed on
//! its own with the static app key / app secret pair:
//!
//! | header        | value |
//! |---------------|-------|
//! | `ur-appkey`   | the app key |
//! | `ur-sign`     | lowercase hex MD5 of the **exact** body bytes sent |
//! | `ur-curtime`  | current unix time in **seconds** (10 digits) |
//! | `ur-checksum` | uppercase hex of AES-128-ECB/PKCS#7 over `appKey ‖ ur-sign ‖ ur-curtime`, keyed with the first 16 bytes of `SHA1(SHA1(appSecret))` |
//!
//! [`sign_request`] is the one place that computes them; it is pure (the
//! time is an argument), so the published test vectors pin it byte for byte.

use aes::Aes128;
use aes::cipher::{BlockEncrypt, KeyInit, generic_array::GenericArray};
use integration_core::Secret;
use md5::{Digest, Md5};
use sha1::Sha1;

/// Header carrying the app key.
pub const HEADER_APP_KEY: &str = "ur-appkey";
/// Header carrying the MD5 of the body.
pub const HEADER_SIGN: &str = "ur-sign";
/// Header carrying the unix time in seconds.
pub const HEADER_CURTIME: &str = "ur-curtime";
/// Header carrying the AES checksum.
pub const HEADER_CHECKSUM: &str = "ur-checksum";
/// Optional header some integrators send (meaning unknown; see the crate's Assumptions).
pub const HEADER_EID: &str = "eid";

/// The app key / app secret pair a Huke call is signed with.
///
/// `Debug` shows only the first and last characters of the key and never the
/// secret.
#[derive(Clone)]
pub struct Credentials {
    app_key: String,
    app_secret: Secret,
}

impl Credentials {
    /// A credential pair.
    pub fn new(app_key: impl Into<String>, app_secret: impl Into<Secret>) -> Self {
        Self {
            app_key: app_key.into(),
            app_secret: app_secret.into(),
        }
    }

    /// The app key (sent in clear in `ur-appkey`).
    pub fn app_key(&self) -> &str {
        &self.app_key
    }

    /// The app secret.
    pub fn app_secret(&self) -> &Secret {
        &self.app_secret
    }

    /// Signs `body` at `curtime_secs` with these credentials ([`sign_request`]).
    pub fn sign(&self, body: &[u8], curtime_secs: i64) -> SignedHeaders {
        sign_request(&self.app_key, self.app_secret.expose(), body, curtime_secs)
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("app_key", &mask_key(&self.app_key))
            .field("app_secret", &self.app_secret)
            .finish()
    }
}

/// `34ff…b59`: enough to tell keys apart in logs, not enough to use one.
pub(crate) fn mask_key(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 8 {
        return "***".to_owned();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 3..].iter().collect();
    format!("{head}…{tail}")
}

/// The values of the four signature headers of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// `ur-appkey`.
    pub app_key: String,
    /// `ur-sign`: lowercase hex MD5 of the body bytes.
    pub sign: String,
    /// `ur-curtime`: unix seconds as decimal text.
    pub curtime: String,
    /// `ur-checksum`: uppercase hex of the AES-128-ECB ciphertext (160 hex
    /// characters for a 32-character app key).
    pub checksum: String,
}

impl SignedHeaders {
    /// The headers as `(name, value)` pairs, in the order they are sent.
    pub fn pairs(&self) -> [(&'static str, &str); 4] {
        [
            (HEADER_APP_KEY, self.app_key.as_str()),
            (HEADER_SIGN, self.sign.as_str()),
            (HEADER_CURTIME, self.curtime.as_str()),
            (HEADER_CHECKSUM, self.checksum.as_str()),
        ]
    }
}

/// Computes the Huke signature headers for one request. Pure and
/// deterministic: the same inputs always give the same headers.
///
/// - `body` must be **exactly** the bytes that are POSTed (serialise once,
///   sign those bytes, send those bytes).
/// - `curtime_secs` is the unix time in **seconds**.
///
/// ```text
/// key      = SHA1(SHA1(app_secret))[0..16]
/// sign     = hex_lower(MD5(body))
/// curtime  = curtime_secs as decimal text
/// checksum = hex_upper(AES-128-ECB-PKCS7(key, app_key ‖ sign ‖ curtime))
/// ```
pub fn sign_request(
    app_key: &str,
    app_secret: &str,
    body: &[u8],
    curtime_secs: i64,
) -> SignedHeaders {
    let sign = hex::encode(Md5::digest(body));
    let curtime = curtime_secs.to_string();
    let plaintext = format!("{app_key}{sign}{curtime}");
    let checksum = hex::encode_upper(aes128_ecb_pkcs7(
        &derive_key(app_secret),
        plaintext.as_bytes(),
    ));
    SignedHeaders {
        app_key: app_key.to_owned(),
        sign,
        curtime,
        checksum,
    }
}

/// The AES key: the first 16 bytes of `SHA1(SHA1(app_secret))`, both digests
/// over raw bytes (the usual emulation of Java's
/// `KeyGenerator("AES")` seeded through `SecureRandom("SHA1PRNG")`).
pub fn derive_key(app_secret: &str) -> [u8; 16] {
    let twice = Sha1::digest(Sha1::digest(app_secret.as_bytes()));
    let mut key = [0u8; 16];
    key.copy_from_slice(&twice[..16]);
    key
}

/// AES-128 in ECB mode with PKCS#7 padding (a full padding block when the
/// input is already a multiple of 16 bytes).
fn aes128_ecb_pkcs7(key: &[u8; 16], plaintext: &[u8]) -> Vec<u8> {
    let cipher = Aes128::new(GenericArray::from_slice(key));
    let pad = 16 - plaintext.len() % 16;
    let mut data = Vec::with_capacity(plaintext.len() + pad);
    data.extend_from_slice(plaintext);
    data.extend(std::iter::repeat_n(pad as u8, pad));
    for block in data.chunks_exact_mut(16) {
        cipher.encrypt_block(GenericArray::from_mut_slice(block));
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
    const SECRET: &str = "00112233445566778899aabbccddeeff";
    /// The vectors' `ur-curtime`; it is the plaintext of their last AES block
    /// (decrypting it with the derived key gives `1700000000` + 6 bytes of padding).
    const CURTIME: i64 = 1_700_000_000;

    #[test]
    fn derived_key_matches_the_fact_sheet() {
        assert_eq!(
            hex::encode(derive_key(SECRET)),
            "f0e7270d060804e8815c6152627157db"
        );
    }

    #[test]
    fn vector_2a_empty_object_body() {
        let h = sign_request(KEY, SECRET, b"{}", CURTIME);
        assert_eq!(h.sign, "99914b932bd37a50b983c5e7c90ae93b");
        assert_eq!(h.curtime, "1700000000");
        assert_eq!(
            h.checksum,
            "E18016F16247B182342724658E9827F4DC7742042DD6DA99C393A813C804106C55FEAF06B7AF732F9E0CA49736293BC2AC8E3F70A8EFE61D71492A15C3CC2C8708EA7F74451C7386EF2D5199BBF4ECF3"
        );
        assert_eq!(h.checksum.len(), 160);
        assert_eq!(h.app_key, KEY);
    }

    #[test]
    fn vector_2b_search_trades_body() {
        let body = br#"{"source":2,"dealerList":["1001"],"timeRanges":[{"timeType":1,"startTime":1700000000000,"endTime":1700086400000}],"page":1,"pageSize":50}"#;
        let h = sign_request(KEY, SECRET, body, CURTIME);
        assert_eq!(h.sign, "d118434ea2a3b00b78dd8e1be87a8de0");
        assert_eq!(
            h.checksum,
            "E18016F16247B182342724658E9827F4DC7742042DD6DA99C393A813C804106CB09F97DC9E0B0A9EC18C204C06A44F56FCD0F337A470AE5472E34EB159EB137408EA7F74451C7386EF2D5199BBF4ECF3"
        );
    }

    #[test]
    fn vendor_example_shape_holds() {
        // The vendor example (fact sheet §2.4, vector 1) is published with its
        // app key and secret truncated, so only its shape can be pinned: a
        // 74-byte plaintext pads to 80 bytes = 160 uppercase hex characters.
        let h = sign_request(
            "34ff4724000000000000000000fb5b59",
            "d83d0971",
            b"{}",
            CURTIME,
        );
        assert_eq!(h.checksum.len(), 160);
        assert!(
            h.checksum
                .chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        );
        let vendor = "849685B5801196A66ED06BD254399E5E9F33AB18550979A9B79AA6F545F78A481D8B5D299556E231FBE2F6D321A50FFEDEA029E69B173478A8DF8A0CBD76898067AF2D3E4DCAACCCEE0697D488ECCAA3";
        assert_eq!(vendor.len(), h.checksum.len());
    }

    #[test]
    fn first_blocks_depend_only_on_the_app_key_and_signature_changes_with_time() {
        let a = sign_request(KEY, SECRET, b"{}", CURTIME);
        let b = sign_request(KEY, SECRET, b"{}", CURTIME + 1);
        assert_eq!(a.checksum[..64], b.checksum[..64]);
        assert_ne!(a.checksum, b.checksum);
        let other_secret = sign_request(KEY, "another-secret", b"{}", CURTIME);
        assert_ne!(a.checksum, other_secret.checksum);
    }

    #[test]
    fn padding_adds_a_full_block_on_exact_multiples() {
        assert_eq!(aes128_ecb_pkcs7(&[0; 16], &[1; 16]).len(), 32);
        assert_eq!(aes128_ecb_pkcs7(&[0; 16], &[]).len(), 16);
    }

    #[test]
    fn debug_hides_the_secret_and_most_of_the_key() {
        let c = Credentials::new(KEY, SECRET);
        let shown = format!("{c:?}");
        assert!(!shown.contains(SECRET) && !shown.contains(KEY), "{shown}");
        assert!(shown.contains("a1b2…f90"), "{shown}");
    }
}
