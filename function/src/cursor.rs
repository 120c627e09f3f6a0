//! The `GET /products` page cursor: base64url (no padding) of the last product id of the previous page.
//! Opaque to clients, and validated on the way back in so a forged cursor is a 400, never a 500.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::error::ApiError;
use crate::product_id::{is_valid_product_id, ProductId};

pub fn encode_cursor(last_product_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(last_product_id.as_bytes())
}

pub fn decode_cursor(cursor: &str) -> Result<ProductId, ApiError> {
    let invalid = || {
        ApiError::bad_request(
            "invalid_cursor",
            "The cursor is not one this API issued. Pass the nextCursor value from the previous \
             GET /products answer unchanged, or omit it to start from the first page.",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    if !is_valid_product_id(&text) {
        return Err(invalid());
    }
    ProductId::parse(&text).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let cursor = encode_cursor("mug-classic");
        assert_eq!(decode_cursor(&cursor).unwrap().as_str(), "mug-classic");
        assert!(decode_cursor("!!!").is_err());
        assert!(decode_cursor(&encode_cursor("../x")).is_err());
        assert!(decode_cursor("").is_err());
    }
}
