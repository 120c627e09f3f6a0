//! The optional `Idempotency-Key` header of `POST /checkout` and the order id derived from it.

use axum::http::HeaderMap;
use sha2::{Digest, Sha256};
use uuid::{Builder, Uuid};

use crate::cart_id::CartId;
use crate::error::ApiError;

pub use crate::contract::IDEMPOTENCY_KEY_HEADER;
const MAX_KEY_LEN: usize = 64;

/// Returns the key when present; 1..=64 printable ASCII characters, else 400.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY_HEADER) else {
        return Ok(None);
    };
    let bytes = value.as_bytes();
    if bytes.is_empty()
        || bytes.len() > MAX_KEY_LEN
        || !bytes.iter().all(|b| (0x20..=0x7e).contains(b))
    {
        return Err(ApiError::bad_request(
            "invalid_idempotency_key",
            format!(
                "The Idempotency-Key header must be 1 to {MAX_KEY_LEN} printable ASCII characters \
                 (a UUID from crypto.randomUUID() works); got {} bytes.",
                bytes.len()
            ),
        ));
    }
    Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
}

/// The same (cart, key) always names the same order, so the order Put's `attribute_not_exists(orderId)`
/// turns a repeat into "already placed" instead of a second order. A UUID v8 (custom) built from the first
/// 16 bytes of sha256(cartId + "\n" + key).
pub fn derived_order_id(cart_id: &CartId, key: &str) -> Uuid {
    let digest = Sha256::digest(format!("{}\n{key}", cart_id.as_str()).as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Builder::from_custom_bytes(bytes).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(value: &[u8]) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(
            IDEMPOTENCY_KEY_HEADER,
            HeaderValue::from_bytes(value).unwrap(),
        );
        map
    }

    #[test]
    fn validates_length_and_characters() {
        assert_eq!(idempotency_key(&HeaderMap::new()).unwrap(), None);
        assert_eq!(
            idempotency_key(&headers(b"abc 1")).unwrap().as_deref(),
            Some("abc 1")
        );
        assert!(idempotency_key(&headers(&[b'k'; 64])).unwrap().is_some());
        assert!(idempotency_key(&headers(&[b'k'; 65])).is_err());
        assert!(idempotency_key(&headers(b"")).is_err());
        assert!(idempotency_key(&headers(b"caf\xc3\xa9")).is_err());
        assert!(idempotency_key(&headers(b"tab\tkey")).is_err());
    }

    #[test]
    fn order_id_is_stable_per_cart_and_key() {
        let cart = CartId::parse("1b4e28ba-2fa1-4d2b-a5c6-0f1e2d3c4b5a").unwrap();
        let other = CartId::parse("2b4e28ba-2fa1-4d2b-a5c6-0f1e2d3c4b5a").unwrap();
        let id = derived_order_id(&cart, "k1");
        assert_eq!(id, derived_order_id(&cart, "k1"));
        assert_ne!(id, derived_order_id(&cart, "k2"));
        assert_ne!(id, derived_order_id(&other, "k1"));
        assert_eq!(id.get_version_num(), 8);
    }
}
