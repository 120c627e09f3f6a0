//! Shared handler state: the DynamoDB client and the three table names.

use aws_config::SdkConfig;

use crate::contract::{CARTS_TABLE_ENV, ORDERS_TABLE_ENV, PRODUCTS_TABLE_ENV};

#[derive(Clone, Debug)]
pub struct TableNames {
    pub products: String,
    pub carts: String,
    pub orders: String,
}

#[derive(Clone, Debug)]
pub struct AppState {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub tables: TableNames,
}

#[derive(Debug, thiserror::Error)]
#[error(
    "environment variable {0} is not set (or empty); set {products}, {carts} and {orders} to the \
     DynamoDB table names, e.g. shopsmart-dev-products",
    products = PRODUCTS_TABLE_ENV,
    carts = CARTS_TABLE_ENV,
    orders = ORDERS_TABLE_ENV
)]
pub struct MissingTableVariable(pub &'static str);

impl TableNames {
    pub fn from_env() -> Result<Self, MissingTableVariable> {
        let read = |name: &'static str| match std::env::var(name) {
            Ok(value) if !value.trim().is_empty() => Ok(value.trim().to_string()),
            _ => Err(MissingTableVariable(name)),
        };
        Ok(TableNames {
            products: read(PRODUCTS_TABLE_ENV)?,
            carts: read(CARTS_TABLE_ENV)?,
            orders: read(ORDERS_TABLE_ENV)?,
        })
    }
}

impl AppState {
    pub fn new(dynamodb: aws_sdk_dynamodb::Client, tables: TableNames) -> Self {
        AppState { dynamodb, tables }
    }

    pub fn from_env(sdk_config: &SdkConfig) -> Result<Self, MissingTableVariable> {
        Ok(Self::new(
            aws_sdk_dynamodb::Client::new(sdk_config),
            TableNames::from_env()?,
        ))
    }
}
