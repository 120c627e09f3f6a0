//! Seeds the Products table from the catalogue in `shopsmart.yaml`. Only products that are missing or whose
//! catalogue fields (name, description, priceCents, currency, imageUrl) differ are written; stock that has
//! been sold is kept unless the learner asks for `--reseed`. Products no longer in the file are left alone
//! (orders may still refer to them).

use crate::aws_error::AwsContext;
use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::{Changes, Ctx, Mode, Owner, Resource};
use crate::change::FieldChange;
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

async fn read(ctx: &Ctx, table: &str, id: &str) -> anyhow::Result<Option<Item>> {
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
        Err(err) => {
            Err(err).aws_context(|| format!("reading product ({id}) from DynamoDB table ({table})"))
        }
    }
}

/// One product of the catalogue in the Products table (owned through the table, a step it needs).
/// `reseed` also resets its stock to the configured value.
pub struct Product {
    pub seed: ProductSeed,
    pub reseed: bool,
    table: String,
}

impl Product {
    /// Every product of the config.
    pub fn all(ctx: &Ctx, reseed: bool) -> Vec<Product> {
        let table = ctx.names.table(TableKind::Products);
        ctx.config
            .products
            .iter()
            .map(|seed| Product {
                seed: seed.clone(),
                reseed,
                table: table.clone(),
            })
            .collect()
    }

    /// The attributes to write: the catalogue fields that differ, and the stock with `reseed`.
    fn updates(&self, live: &Item) -> Vec<(&'static str, AttributeValue)> {
        let mut updates: Vec<(&'static str, AttributeValue)> = catalogue_fields(&self.seed)
            .into_iter()
            .filter(|(k, v)| live.get(*k) != Some(v))
            .collect();
        let stock = AttributeValue::N(self.seed.stock.to_string());
        if self.reseed && live.get("stock") != Some(&stock) {
            updates.push(("stock", stock));
        }
        updates
    }
}

type Item = HashMap<String, AttributeValue>;

impl Resource for Product {
    type Live = Item;
    const KIND: &'static str = KIND;

    fn id(&self) -> String {
        self.seed.id.clone()
    }

    async fn read(&self, ctx: &Ctx) -> anyhow::Result<Option<Item>> {
        read(ctx, &self.table, &self.seed.id).await
    }

    fn owner<'a>(&self, _live: &'a Item) -> Owner<'a> {
        Owner::Parent
    }

    fn diff(&self, _ctx: &Ctx, live: &Item) -> Vec<FieldChange> {
        self.updates(live)
            .iter()
            .map(|(k, v)| FieldChange::new(*k, show(live.get(*k)), show(Some(v))))
            .collect()
    }

    async fn create(&self, ctx: &Ctx) -> anyhow::Result<()> {
        let (table, id) = (&self.table, &self.seed.id);
        let mut item: Item = catalogue_fields(&self.seed)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        item.insert("productId".into(), AttributeValue::S(id.clone()));
        item.insert(
            "stock".into(),
            AttributeValue::N(self.seed.stock.to_string()),
        );
        ctx.aws
            .dynamodb
            .put_item()
            .table_name(table)
            .set_item(Some(item))
            .send()
            .await
            .aws_context(|| format!("writing product ({id}) to DynamoDB table ({table})"))?;
        Ok(())
    }

    async fn update(&self, ctx: &Ctx, live: &Item, _changes: &Changes) -> anyhow::Result<()> {
        let (table, id) = (&self.table, &self.seed.id);
        let mut request = ctx
            .aws
            .dynamodb
            .update_item()
            .table_name(table)
            .key("productId", AttributeValue::S(id.clone()))
            // Never resurrect a product deleted meanwhile with only some of its attributes.
            .condition_expression("attribute_exists(productId)");
        let mut sets = Vec::new();
        for (i, (attribute, value)) in self.updates(live).into_iter().enumerate() {
            sets.push(format!("#a{i} = :v{i}"));
            request = request.expression_attribute_names(format!("#a{i}"), attribute);
            request = request.expression_attribute_values(format!(":v{i}"), value);
        }
        request
            .update_expression(format!("SET {}", sets.join(", ")))
            .send()
            .await
            .aws_context(|| format!("updating product ({id}) in DynamoDB table ({table})"))?;
        Ok(())
    }
}
