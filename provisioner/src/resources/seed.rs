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
use std::sync::Mutex;
use std::time::Duration;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};

use super::{Changes, Ctx, Mode, Resource};
use crate::aws_error::AwsContext;
use crate::change::FieldChange;
use crate::config::model::ProductSeed;
use crate::names::TableKind;
use crate::wait;
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

/// BatchGetItem takes at most 100 keys a call.
const BATCH_KEYS: usize = 100;
/// How long to keep asking for keys DynamoDB left unprocessed (throttling), with backoff.
const UNPROCESSED_DEADLINE: Duration = Duration::from_secs(30);

/// The products with these ids, by id: one BatchGetItem per 100 ids (strongly consistent), not a GetItem
/// each. Keys DynamoDB leaves unprocessed are asked for again, bounded.
async fn read_all(ctx: &Ctx, table: &str, ids: &[String]) -> anyhow::Result<HashMap<String, Item>> {
    let found = Mutex::new(HashMap::new());
    for chunk in ids.chunks(BATCH_KEYS) {
        let key =
            |id: &String| Item::from([("productId".to_owned(), AttributeValue::S(id.clone()))]);
        let pending = Mutex::new(chunk.iter().map(key).collect::<Vec<_>>());
        let what = format!("DynamoDB to return every product of table ({table})");
        wait::until(&what, UNPROCESSED_DEADLINE, || async {
            let keys = std::mem::take(&mut *pending.lock().expect("pending keys"));
            let request = KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .build()?;
            let output = ctx
                .aws
                .dynamodb
                .batch_get_item()
                .request_items(table, request)
                .send()
                .await;
            let mut output = match output {
                Ok(output) => output,
                Err(err) if missing_in_plan(ctx, &err) => return Ok(Some(())),
                Err(err) => {
                    return Err(err)
                        .aws_context(|| format!("reading products from DynamoDB table ({table})"));
                }
            };
            let items = output
                .responses
                .and_then(|mut r| r.remove(table))
                .unwrap_or_default();
            let mut found = found.lock().expect("found products");
            for item in items {
                if let Some(AttributeValue::S(id)) = item.get("productId") {
                    found.insert(id.clone(), item);
                }
            }
            let unprocessed = output
                .unprocessed_keys
                .as_mut()
                .and_then(|u| u.remove(table));
            let left = unprocessed.map(|u| u.keys).unwrap_or_default();
            let done = left.is_empty();
            *pending.lock().expect("pending keys") = left;
            Ok(done.then_some(()))
        })
        .await?;
    }
    Ok(found.into_inner().expect("found products"))
}

/// Only in plan can the table still be missing: everything would then be created.
fn missing_in_plan(ctx: &Ctx, err: &impl ProvideErrorMetadata) -> bool {
    ctx.mode == Mode::Plan && err.code() == Some("ResourceNotFoundException")
}

/// The items this stack seeded (`seededBy` = the stack id), by id, with only `productId` and `onSale`.
/// One paginated, strongly consistent Scan: the filter is applied after the read, so it costs 1 RCU per
/// 4 KB of the whole table (a 10-product catalogue of ~300 B items: 1 RCU, one call; 1 MB a page).
async fn read_seeded(ctx: &Ctx, table: &str) -> anyhow::Result<BTreeMap<String, Item>> {
    let pages = ctx
        .aws
        .dynamodb
        .scan()
        .table_name(table)
        .filter_expression("#by = :stack")
        .projection_expression("productId, #on")
        .expression_attribute_names("#by", SEEDED_BY)
        .expression_attribute_names("#on", ON_SALE)
        .expression_attribute_values(":stack", AttributeValue::S(ctx.names.stack_id()))
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
                .aws_context(|| format!("finding seeded products in DynamoDB table ({table})"))
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
    /// The item as the catalogue's one batch read (or, off the file, the Scan) found it.
    live: Option<Item>,
}

impl Product {
    /// Every product of the config, each with its live item (read all at once), then the products this
    /// stack seeded that left the file, by id.
    pub async fn all(ctx: &Ctx, reseed: bool) -> anyhow::Result<Vec<Product>> {
        let table = ctx.names.table(TableKind::Products);
        let ids: Vec<String> = ctx.config.products.iter().map(|p| p.id.clone()).collect();
        let (mut live, seeded) =
            tokio::try_join!(read_all(ctx, &table, &ids), read_seeded(ctx, &table))?;
        let product = |id: &String, seed, live| Product {
            id: id.clone(),
            seed,
            reseed,
            table: table.clone(),
            live,
        };
        let listed = ctx
            .config
            .products
            .iter()
            .map(|seed| product(&seed.id, Some(seed.clone()), live.remove(&seed.id)));
        let left = seeded
            .into_iter()
            .filter(|(id, _)| !ids.contains(id))
            .map(|(id, item)| product(&id, None, Some(item)));
        Ok(listed.chain(left).collect())
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

type Item = HashMap<String, AttributeValue>;

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
