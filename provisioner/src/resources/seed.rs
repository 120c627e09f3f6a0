//! Seeds the Products table from the catalogue in `shopsmart.yaml`. Only products that are missing or whose
//! catalogue fields (name, description, priceCents, currency, imageUrl) differ are written; stock that has
//! been sold is kept unless the learner asks for `--reseed`. Products no longer in the file are left alone
//! (orders may still refer to them).

use crate::aws_error::AwsContext;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};

use super::{Changes, Ctx, Mode, Owner, Resource};
use crate::change::FieldChange;
use crate::config::model::ProductSeed;
use crate::names::TableKind;
use crate::wait;

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
                // Only in plan can the table still be missing: everything would then be created.
                Err(err)
                    if ctx.mode == Mode::Plan
                        && err
                            .as_service_error()
                            .is_some_and(|e| e.is_resource_not_found_exception()) =>
                {
                    return Ok(Some(()));
                }
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

/// One product of the catalogue in the Products table (owned through the table, a step it needs).
/// `reseed` also resets its stock to the configured value.
pub struct Product {
    pub seed: ProductSeed,
    pub reseed: bool,
    table: String,
    /// The item as the catalogue's one batch read found it.
    live: Option<Item>,
}

impl Product {
    /// Every product of the config, each with its live item (read all at once).
    pub async fn all(ctx: &Ctx, reseed: bool) -> anyhow::Result<Vec<Product>> {
        let table = ctx.names.table(TableKind::Products);
        let ids: Vec<String> = ctx.config.products.iter().map(|p| p.id.clone()).collect();
        let mut live = read_all(ctx, &table, &ids).await?;
        Ok(ctx
            .config
            .products
            .iter()
            .map(|seed| Product {
                seed: seed.clone(),
                reseed,
                table: table.clone(),
                live: live.remove(&seed.id),
            })
            .collect())
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

    async fn read(&self, _ctx: &Ctx) -> anyhow::Result<Option<Item>> {
        Ok(self.live.clone())
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
