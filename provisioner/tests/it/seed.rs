//! Seeding the Products table against moto: new products get the configured stock; a second converge
//! writes nothing; a price change rewrites only the catalogue fields and keeps sold stock; `--reseed` resets
//! stock.

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

#[tokio::test]
async fn seed_writes_only_what_changed_and_keeps_sold_stock() {
    let log = CallLog::default();
    let mut config = test_config(&unique_stage(), "us-east-1");
    config.products.push(ProductSeed {
        id: "tote".into(),
        name: "Tote bag".into(),
        description: "Carries things".into(),
        price_cents: 3999,
        currency: "USD".into(),
        image_url: "images/tote.svg".into(),
        stock: 5,
    });

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
