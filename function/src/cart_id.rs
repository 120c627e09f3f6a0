//! The `X-Cart-Id` header: a UUID v4 the browser creates and keeps. It is the only key to a cart, so a
//! cart is never readable without it.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use uuid::Uuid;

use crate::error::ApiError;

pub use crate::contract::CART_ID_HEADER;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CartId(String);

impl CartId {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let invalid = || {
            ApiError::bad_request(
                "invalid_cart_id",
                "The X-Cart-Id header must be a UUID v4 such as 1b4e28ba-2fa1-4d2b-a5c6-0f1e2d3c4b5a \
                 (create one with crypto.randomUUID() and keep it).",
            )
        };
        let uuid = Uuid::try_parse(raw.trim()).map_err(|_| invalid())?;
        if uuid.get_version_num() != 4 {
            return Err(invalid());
        }
        // Hyphenated lower case: one spelling per cart, whatever case the client used.
        Ok(CartId(uuid.hyphenated().to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CartId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let value = parts.headers.get(CART_ID_HEADER).ok_or_else(|| {
            ApiError::bad_request(
                "missing_cart_id",
                "This route needs the X-Cart-Id header: a UUID v4 the browser creates once \
                 (crypto.randomUUID()) and sends with every cart, checkout and order request.",
            )
        })?;
        let text = value.to_str().map_err(|_| {
            ApiError::bad_request(
                "invalid_cart_id",
                "The X-Cart-Id header must be a UUID v4 in plain ASCII.",
            )
        })?;
        CartId::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_uuid_v4_and_normalizes_case() {
        let id = CartId::parse("1B4E28BA-2FA1-4D2B-A5C6-0F1E2D3C4B5A").unwrap();
        assert_eq!(id.as_str(), "1b4e28ba-2fa1-4d2b-a5c6-0f1e2d3c4b5a");
        assert!(CartId::parse("demo-user").is_err());
        assert!(CartId::parse("").is_err());
        // A v7 UUID is well formed but not what the browser makes.
        assert!(CartId::parse("01890a5d-ac96-774b-bcce-b302099a8057").is_err());
    }
}
