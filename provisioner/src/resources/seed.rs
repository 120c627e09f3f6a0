//! Seeds the Products table from the catalogue in `shopsmart.yaml`. Only products that are missing or whose
//! catalogue fields (name, description, priceCents, currency, imageUrl) differ are written; stock that has
//! been sold is kept unless the learner asks for `--reseed`. Products no longer in the file are left alone
//! (orders may still refer to them).

use std::collections::HashMap;

use anyhow::Context;
use aws_sdk_dynamodb::types::AttributeValue;
use futures::future::join_all;

use super::{Ctx, Mode};
use crate::change::{Action, Change, FieldChange};
use crate::config::model::ProductSeed;
use crate::names::TableKind;

pub const KIND: &str = "Product";

/// The catalogue fields as stored, in the attribute names the function reads.
fn catalogue_fields(product: &ProductSeed) -> [(&'static str, AttributeValue); 5] {
    [
        ("name", AttributeValue::S(product.name.clone())),
        (
            "description",
            AttributeValue::S(product.description.clone()),
        ),
        (
            "priceCents",
            AttributeValue::N(product.price_cents.to_string()),
        ),
        ("currency", AttributeValue::S(product.currency.clone())),
        ("imageUrl", AttributeValue::S(product.image_url.clone())),
    ]
}

fn show(value: Option<&AttributeValue>) -> String {
    match value {
        Some(AttributeValue::S(s)) => s.clone(),
        Some(AttributeValue::N(n)) => n.clone(),
        Some(other) => format!("{other:?}"),
        None => "(missing)".to_owned(),
    }
}

/// Seeds every product of the config; `reseed` also resets stock to the configured value.
pub async fn converge(ctx: &Ctx, reseed: bool) -> anyhow::Result<Vec<Change>> {
    join_all(
        ctx.config
            .products
            .iter()
            .map(|p| converge_product(ctx, p, reseed)),
    )
    .await
    .into_iter()
    .collect()
}

async fn read(
    ctx: &Ctx,
    table: &str,
    id: &str,
) -> anyhow::Result<Option<HashMap<String, AttributeValue>>> {
    let result = ctx
        .aws
        .dynamodb
        .get_item()
        .table_name(table)
        .key("productId", AttributeValue::S(id.to_owned()))
        .consistent_read(true)
        .send()
        .await;
    match result {
        Ok(output) => Ok(output.item),
        // Only in plan can the table still be missing: everything would then be created.
        Err(err)
            if ctx.mode == Mode::Plan
                && err
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(err) => Err(err)
            .with_context(|| format!("reading product ({id}) from DynamoDB table ({table})")),
    }
}

async fn converge_product(
    ctx: &Ctx,
    product: &ProductSeed,
    reseed: bool,
) -> anyhow::Result<Change> {
    let table = ctx.names.table(TableKind::Products);
    let id = &product.id;
    let Some(live) = read(ctx, &table, id).await? else {
        if ctx.mode == Mode::Apply {
            let mut item: HashMap<String, AttributeValue> = catalogue_fields(product)
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect();
            item.insert("productId".into(), AttributeValue::S(id.clone()));
            item.insert("stock".into(), AttributeValue::N(product.stock.to_string()));
            ctx.aws
                .dynamodb
                .put_item()
                .table_name(&table)
                .set_item(Some(item))
                .send()
                .await
                .with_context(|| format!("writing product ({id}) to DynamoDB table ({table})"))?;
        }
        return Ok(Change::new(KIND, id.clone(), Action::Create));
    };

    let mut updates: Vec<(&'static str, AttributeValue)> = catalogue_fields(product)
        .into_iter()
        .filter(|(k, v)| live.get(*k) != Some(v))
        .collect();
    let stock = AttributeValue::N(product.stock.to_string());
    if reseed && live.get("stock") != Some(&stock) {
        updates.push(("stock", stock));
    }
    if updates.is_empty() {
        return Ok(Change::new(KIND, id.clone(), Action::Unchanged));
    }
    let fields = updates
        .iter()
        .map(|(k, v)| FieldChange::new(*k, show(live.get(*k)), show(Some(v))))
        .collect();
    if ctx.mode == Mode::Apply {
        let mut request = ctx
            .aws
            .dynamodb
            .update_item()
            .table_name(&table)
            .key("productId", AttributeValue::S(id.clone()))
            // Never resurrect a product deleted meanwhile with only some of its attributes.
            .condition_expression("attribute_exists(productId)");
        let mut sets = Vec::new();
        for (i, (attribute, value)) in updates.into_iter().enumerate() {
            sets.push(format!("#a{i} = :v{i}"));
            request = request.expression_attribute_names(format!("#a{i}"), attribute);
            request = request.expression_attribute_values(format!(":v{i}"), value);
        }
        request
            .update_expression(format!("SET {}", sets.join(", ")))
            .send()
            .await
            .with_context(|| format!("updating product ({id}) in DynamoDB table ({table})"))?;
    }
    Ok(Change::new(KIND, id.clone(), Action::Update { fields }))
}
