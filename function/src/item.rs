//! Reading typed values out of DynamoDB items. A missing or mistyped attribute means the table holds
//! data this API did not write: an internal error naming the attribute, not a client error.

use std::collections::HashMap;

use anyhow::{anyhow, Context, Result};
use aws_sdk_dynamodb::types::AttributeValue;

pub type Item = HashMap<String, AttributeValue>;

pub fn string(item: &Item, name: &str) -> Result<String> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Ok(value.clone()),
        Some(_) => Err(anyhow!("attribute {name} is not a string")),
        None => Err(anyhow!("attribute {name} is missing")),
    }
}

pub fn optional_string(item: &Item, name: &str) -> Result<Option<String>> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::S(value)) => Ok(Some(value.clone())),
        Some(_) => Err(anyhow!("attribute {name} is not a string")),
    }
}

pub fn integer(item: &Item, name: &str) -> Result<i64> {
    match item.get(name) {
        Some(AttributeValue::N(value)) => value
            .parse::<i64>()
            .with_context(|| format!("attribute {name} is not an integer: {value}")),
        Some(_) => Err(anyhow!("attribute {name} is not a number")),
        None => Err(anyhow!("attribute {name} is missing")),
    }
}

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}
