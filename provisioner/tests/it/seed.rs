//! Seeding the Products table against moto: new products get the configured stock; a second converge
//! writes nothing; a price change rewrites only the catalogue fields and keeps sold stock; `--reseed` resets
//! stock; a product that left the file goes off sale, and only if this stack seeded it.

use crate::support::resources::{seed, tables};
use aws_sdk_dynamodb::types::AttributeValue;
use shopsmart_deploy::change::{Action, FieldChange};
use shopsmart_deploy::config::model::ProductSeed;
use shopsmart_deploy::names::TableKind;
use shopsmart_deploy::resources::Mode;

use crate::support;
use crate::support::*;

async fn item(
    ctx: &shopsmart_deploy::resources::Ctx,
    id: &str,
) -> std::collections::HashMap<String, AttributeValue> {
    ctx.aws
        .dynamodb
        .get_item()
        .table_name(ctx.names.table(TableKind::Products))
        .key("productId", AttributeValue::S(id.into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap()
}

fn n(value: &AttributeValue) -> &str {
    value.as_n().unwrap()
}

fn tote() -> ProductSeed {
    ProductSeed {
        id: "tote".into(),
        name: "Tote bag".into(),
        description: "Carries things".into(),
        price_cents: 3999,
        currency: "USD".into(),
        image_url: "images/tote.svg".into(),
        stock: 5,
    }
}

#[tokio::test]
async fn seed_writes_only_what_changed_and_keeps_sold_stock() {
    let log = CallLog::default();
    let mut config = test_config(&unique_stage(), "us-east-1");
    config.products.push(tote());

    // Plan before the table exists: everything would be created, nothing is written.
    let plan_ctx = support::ctx(config.clone(), Mode::Plan, &[log.interceptor()]).await;
    let planned = seed::converge(&plan_ctx, false).await.unwrap();
    assert_eq!(
        planned.iter().map(|c| c.action.clone()).collect::<Vec<_>>(),
        vec![Action::Create; 2]
    );
    assert_eq!(log.mutating_calls(), Vec::<String>::new());

    let ctx = support::ctx(config.clone(), Mode::Apply, &[log.interceptor()]).await;
    tables::converge(&ctx).await.unwrap();
    let created = seed::converge(&ctx, false).await.unwrap();
    assert_eq!(
        created.iter().map(|c| c.action.clone()).collect::<Vec<_>>(),
        vec![Action::Create; 2]
    );
    let tote = item(&ctx, "tote").await;
    assert_eq!(n(&tote["priceCents"]), "3999");
    assert_eq!(n(&tote["stock"]), "5");
    assert_eq!(tote["imageUrl"].as_s().unwrap(), "images/tote.svg");
    assert_eq!(tote["currency"].as_s().unwrap(), "USD");

    log.clear();
    let again = seed::converge(&ctx, false).await.unwrap();
    assert!(
        again.iter().all(|c| c.action == Action::Unchanged),
        "{again:?}"
    );
    assert_eq!(log.mutating_calls(), Vec::<String>::new());

    // Two totes are sold, then the price changes: only the price is written, stock stays 3.
    ctx.aws
        .dynamodb
        .update_item()
        .table_name(ctx.names.table(TableKind::Products))
        .key("productId", AttributeValue::S("tote".into()))
        .update_expression("SET stock = :s")
        .expression_attribute_values(":s", AttributeValue::N("3".into()))
        .send()
        .await
        .unwrap();
    config.products[1].price_cents = 3499;
    let ctx = support::ctx(config.clone(), Mode::Apply, &[log.interceptor()]).await;
    log.clear();
    let changed = seed::converge(&ctx, false).await.unwrap();
    assert_eq!(changed[0].action, Action::Unchanged);
    assert_eq!(
        changed[1].action,
        Action::Update {
            fields: vec![FieldChange::new("priceCents", "3999", "3499")]
        }
    );
    assert_eq!(log.mutating_calls(), vec!["DynamoDB.UpdateItem".to_owned()]);
    let tote = item(&ctx, "tote").await;
    assert_eq!((n(&tote["priceCents"]), n(&tote["stock"])), ("3499", "3"));

    // --reseed puts the configured stock back.
    let reseeded = seed::converge(&ctx, true).await.unwrap();
    assert_eq!(
        reseeded[1].action,
        Action::Update {
            fields: vec![FieldChange::new("stock", "3", "5")]
        }
    );
    assert_eq!(n(&item(&ctx, "tote").await["stock"]), "5");

    tables::destroy(&ctx).await.unwrap();
}

fn update(field: &str, old: &str, new: &str) -> Action {
    Action::Update {
        fields: vec![FieldChange::new(field, old, new)],
    }
}

/// The (id, action) of each change, to compare in one assertion.
fn actions(changes: &[shopsmart_deploy::change::Change]) -> Vec<(String, Action)> {
    changes
        .iter()
        .map(|c| (c.id.clone(), c.action.clone()))
        .collect()
}

#[tokio::test]
async fn a_product_that_left_the_file_goes_off_sale_and_hand_written_ones_stay() {
    let log = CallLog::default();
    let mut config = test_config(&unique_stage(), "us-east-1");
    config.products.push(tote());
    let ctx = support::ctx(config.clone(), Mode::Apply, &[log.interceptor()]).await;
    let (stack, table) = (ctx.names.stack_id(), ctx.names.table(TableKind::Products));
    tables::converge(&ctx).await.unwrap();
    seed::converge(&ctx, false).await.unwrap();
    let tote_item = item(&ctx, "tote").await;
    assert_eq!(tote_item["seededBy"].as_s().unwrap(), &stack);
    assert_eq!(tote_item["onSale"], AttributeValue::Bool(true));

    // A product written by hand (no marker), and the mug as the seeding before the marker left it.
    let by_hand = [("productId", "scarf"), ("name", "Scarf")]
        .map(|(k, v)| (k.to_owned(), AttributeValue::S(v.into())));
    let put = ctx.aws.dynamodb.put_item().table_name(&table);
    put.set_item(Some(by_hand.into())).send().await.unwrap();
    let scarf = item(&ctx, "scarf").await;
    ctx.aws
        .dynamodb
        .update_item()
        .table_name(&table)
        .key("productId", AttributeValue::S("mug".into()))
        .update_expression("REMOVE seededBy, onSale")
        .send()
        .await
        .unwrap();

    // The tote leaves the file: plan shows it going off sale and the mug getting the marker, writes nothing.
    config.products.truncate(1);
    let plan = support::ctx(config.clone(), Mode::Plan, &[log.interceptor()]).await;
    log.clear();
    let expected = vec![
        (
            "mug".to_owned(),
            Action::Update {
                fields: vec![
                    FieldChange::new("seededBy", "(missing)", &stack),
                    FieldChange::new("onSale", "(missing)", "true"),
                ],
            },
        ),
        ("tote".to_owned(), update("onSale", "true", "false")),
    ];
    assert_eq!(
        actions(&seed::converge(&plan, false).await.unwrap()),
        expected
    );
    assert_eq!(log.mutating_calls(), Vec::<String>::new());
    assert_eq!(item(&ctx, "tote").await, tote_item);

    let ctx = support::ctx(config.clone(), Mode::Apply, &[log.interceptor()]).await;
    assert_eq!(
        actions(&seed::converge(&ctx, false).await.unwrap()),
        expected
    );
    let mut off_sale = tote_item.clone();
    off_sale.insert("onSale".into(), AttributeValue::Bool(false));
    assert_eq!(item(&ctx, "tote").await, off_sale);
    assert_eq!(item(&ctx, "mug").await["seededBy"].as_s().unwrap(), &stack);
    assert_eq!(item(&ctx, "scarf").await, scarf);

    // Again: nothing to do, nothing written; the scarf is never even reported.
    log.clear();
    let again = seed::converge(&ctx, false).await.unwrap();
    let unchanged = ["mug", "tote"].map(|id| (id.to_owned(), Action::Unchanged));
    assert_eq!(actions(&again), unchanged.to_vec());
    assert_eq!(log.calls(), ["DynamoDB.Scan"]);

    // Back into the file: on sale again.
    config.products.push(tote());
    let ctx = support::ctx(config, Mode::Apply, &[log.interceptor()]).await;
    let back = seed::converge(&ctx, false).await.unwrap();
    assert_eq!(back[1].action, update("onSale", "false", "true"));
    assert_eq!(item(&ctx, "tote").await, tote_item);
    assert_eq!(item(&ctx, "scarf").await, scarf);

    tables::destroy(&ctx).await.unwrap();
}
