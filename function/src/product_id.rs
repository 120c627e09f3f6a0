//! Product ids: `^[A-Za-z0-9_-]{1,64}$`, checked before they reach DynamoDB or a log line.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

use crate::error::ApiError;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProductId(String);

pub fn is_valid_product_id(raw: &str) -> bool {
    (1..=64).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn invalid_product_id() -> ApiError {
    ApiError::bad_request(
        "invalid_product_id",
        "A product id is 1 to 64 characters of letters, digits, '_' or '-' (for example 'mug-classic').",
    )
}

impl ProductId {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        if is_valid_product_id(raw) {
            Ok(ProductId(raw.to_string()))
        } else {
            Err(invalid_product_id())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `{productId}` path segment, validated (percent-decoded `../` or control characters are rejected).
#[derive(Debug)]
pub struct ProductIdPath(pub ProductId);

impl<S: Send + Sync> FromRequestParts<S> for ProductIdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| invalid_product_id())?;
        Ok(ProductIdPath(ProductId::parse(&raw)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_the_documented_alphabet_and_length() {
        assert!(is_valid_product_id("mug-classic_2"));
        assert!(is_valid_product_id(&"a".repeat(64)));
        assert!(!is_valid_product_id(&"a".repeat(65)));
        assert!(!is_valid_product_id(""));
        assert!(!is_valid_product_id("../etc"));
        assert!(!is_valid_product_id("mug classic"));
        assert!(!is_valid_product_id("ümlaut"));
    }
}
