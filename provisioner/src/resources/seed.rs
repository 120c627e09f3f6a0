//! Seeds the Products table from the catalogue in `shopsmart.yaml`. Only products that are missing or whose
//! catalogue fields (name, description, priceCents, currency, imageUrl) differ are written; stock that has
//! been sold is kept unless the learner asks for `--reseed`.
//!
//! Every product seeded carries `seededBy` = the stack id and `onSale` = true. A product seeded before the
//! marker existed gets it (a plan-visible change) when its id is in the file. A product marked by this stack
//! whose id left the file is taken off sale (`onSale: true → false`), never deleted: orders keep their own
//! line snapshots, and putting it back into the file puts it on sale again. Items without our marker (written
//! by hand or by anything else) are never touched unless their id is in the file.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::AttributeValue;

use super::{Changes, Ctx, Mode, Resource};
use crate::aws_error::AwsContext;
use crate::change::FieldChange;
use crate::config::model::ProductSeed;
use crate::names::TableKind;
use shopsmart_function::contract::ON_SALE_ATTRIBUTE as ON_SALE;

pub const KIND: &str = "Product";

/// The attribute marking an item as seeded by a stack (its value: the stack id).
pub const SEEDED_BY: &str = "seededBy";

/// The catalogue fields as stored, in the attribute names the function reads, and our marker.
fn catalogue_fields(product: &ProductSeed, stack: String) -> [(&'static str, AttributeValue); 7] {
    [
        (SEEDED_BY, AttributeValue::S(stack)),
        (ON_SALE, AttributeValue::Bool(true)),
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
        Some(AttributeValue::Bool(b)) => b.to_string(),
        Some(other) => format!("{other:?}"),
        None => "(missing)".to_owned(),
    }
}

/// Only in plan can the table still be missing: everything would then be created.
fn missing_in_plan(ctx: &Ctx, err: &impl ProvideErrorMetadata) -> bool {
    ctx.mode == Mode::Plan && err.code() == Some("ResourceNotFoundException")
}

/// Every item of the table, by id: one paginated, strongly consistent Scan (a 10-product catalogue of ~300 B
/// items is one call and 1 RCU; a page holds up to 1 MB). It serves both questions the catalogue asks: how
/// each product of the file looks now, and which products this stack seeded that left the file.
pub async fn read_catalogue(ctx: &Ctx) -> anyhow::Result<BTreeMap<String, Item>> {
    let table = &ctx.names.table(TableKind::Products);
    let pages = ctx
        .aws
        .dynamodb
        .scan()
        .table_name(table)
        .consistent_read(true)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await;
    let items = match pages {
        Ok(items) => items,
        Err(err) if missing_in_plan(ctx, &err) => Vec::new(),
        Err(err) => {
            return Err(err)
                .aws_context(|| format!("reading the products of DynamoDB table ({table})"))
        }
    };
    let by_id = |item: Item| Some((item.get("productId")?.as_s().ok()?.clone(), item));
    Ok(items.into_iter().filter_map(by_id).collect())
}

/// One product of the catalogue in the Products table (owned through the table, a step it needs).
/// `reseed` also resets its stock to the configured value.
pub struct Product {
    pub id: String,
    /// `None` for a product this stack seeded that left the file: it goes off sale.
    pub seed: Option<ProductSeed>,
    pub reseed: bool,
    table: String,
    /// The item as the catalogue's one Scan found it.
    live: Option<Item>,
}

impl Product {
    /// Every product of the config, each with its live item (one Scan), then the products this stack seeded
    /// that left the file, by id.
    pub async fn all(ctx: &Ctx, reseed: bool) -> anyhow::Result<Vec<Product>> {
        Ok(Self::from_live(ctx, reseed, read_catalogue(ctx).await?))
    }

    /// [`Product::all`] from the items [`read_catalogue`] found.
    pub fn from_live(ctx: &Ctx, reseed: bool, mut live: BTreeMap<String, Item>) -> Vec<Product> {
        let table = ctx.names.table(TableKind::Products);
        let product = |id: &String, seed, live| Product {
            id: id.clone(),
            seed,
            reseed,
            table: table.clone(),
            live,
        };
        let mut products: Vec<Product> = ctx
            .config
            .products
            .iter()
            .map(|seed| product(&seed.id, Some(seed.clone()), live.remove(&seed.id)))
            .collect();
        let stack = AttributeValue::S(ctx.names.stack_id());
        products.extend(
            live.into_iter()
                .filter(|(_, item)| item.get(SEEDED_BY) == Some(&stack))
                .map(|(id, item)| product(&id, None, Some(item))),
        );
        products
    }

    /// The attributes to write: the catalogue fields and marker that differ, and the stock with `reseed`;
    /// for a product that left the file, `onSale: false`.
    fn updates(&self, ctx: &Ctx, live: &Item) -> Vec<(&'static str, AttributeValue)> {
        let desired = match &self.seed {
            None => vec![(ON_SALE, AttributeValue::Bool(false))],
            Some(seed) => {
                let mut fields = catalogue_fields(seed, ctx.names.stack_id()).to_vec();
                if self.reseed {
                    fields.push(("stock", AttributeValue::N(seed.stock.to_string())));
                }
                fields
            }
        };
        desired
            .into_iter()
            .filter(|(k, v)| live.get(*k) != Some(v))
            .collect()
    }
}

pub type Item = HashMap<String, AttributeValue>;

impl Resource for Product {
    type Live = Item;
    identity!(KIND, id, Parent);

    async fn read(&self, _ctx: &Ctx) -> anyhow::Result<Option<Item>> {
        Ok(self.live.clone())
    }

    fn diff(&self, ctx: &Ctx, live: &Item) -> Vec<FieldChange> {
        self.updates(ctx, live)
            .iter()
            .map(|(k, v)| FieldChange::new(*k, show(live.get(*k)), show(Some(v))))
            .collect()
    }

    async fn create(&self, ctx: &Ctx) -> anyhow::Result<()> {
        let (table, id) = (&self.table, &self.id);
        let Some(seed) = &self.seed else {
            anyhow::bail!("internal error: product ({id}) left the catalogue and is not created");
        };
        let mut item: Item = catalogue_fields(seed, ctx.names.stack_id())
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        item.insert("productId".into(), AttributeValue::S(id.clone()));
        item.insert("stock".into(), AttributeValue::N(seed.stock.to_string()));
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
        let (table, id) = (&self.table, &self.id);
        let mut request = ctx
            .aws
            .dynamodb
            .update_item()
            .table_name(table)
            .key("productId", AttributeValue::S(id.clone()))
            // Never resurrect a product deleted meanwhile with only some of its attributes.
            .condition_expression("attribute_exists(productId)");
        let mut sets = Vec::new();
        for (i, (attribute, value)) in self.updates(ctx, live).into_iter().enumerate() {
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
