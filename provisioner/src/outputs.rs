//! `shopsmart-deploy outputs`: the stack's URLs and resource names, read from AWS (no state file), as text
//! for people or JSON for scripts.

use serde::Serialize;

use crate::console_links::Links;
use crate::names::TableKind;
use crate::report::group_lines;
use crate::resources::cdn::Distribution;
use crate::resources::http_api::HttpApi;
use crate::resources::{Ctx, Mode, Resource};

#[derive(Debug, Clone, Serialize)]
pub struct Outputs {
    pub stack: String,
    pub region: String,
    pub account_id: String,
    pub website_url: String,
    /// `None` when the HTTP API does not exist (the stack is not up).
    pub api_url: Option<String>,
    pub bucket: String,
    pub function: String,
    pub role: String,
    pub log_group: String,
    pub tables: Tables,
    /// AWS console links to each resource.
    pub console: Links,
}

/// The DynamoDB table names, by role.
#[derive(Debug, Clone, Serialize)]
pub struct Tables {
    pub products: String,
    pub carts: String,
    pub orders: String,
}

pub async fn collect(ctx: &Ctx) -> anyhow::Result<Outputs> {
    assert_eq!(ctx.mode, Mode::Plan, "outputs only reads");
    let names = &ctx.names;
    let bucket = names.website_bucket(&ctx.account_id, &ctx.region);
    let cdn = match ctx.config.website.https {
        true => Distribution::existing(ctx)
            .read(ctx)
            .await?
            .filter(|d| ctx.is_ours(&d.tags)),
        false => None,
    };
    let site = crate::stack::site_url(ctx, cdn.map(|d| d.info).as_ref());
    // Only an API that carries our tag is this stack's.
    let api = HttpApi::existing(ctx)
        .read(ctx)
        .await?
        .filter(|api| ctx.is_ours(&api.tags));
    let mut console = Links::new(
        names,
        &ctx.region,
        &bucket,
        api.as_ref().map(|api| api.info.api_id.as_str()),
    );
    if ctx.config.alerts.is_some() {
        console = console.with_budget(names, &ctx.region);
    }
    Ok(Outputs {
        stack: names.stack_id(),
        region: ctx.region.clone(),
        account_id: ctx.account_id.clone(),
        website_url: site,
        api_url: api.map(|api| api.info.endpoint),
        bucket,
        function: names.function(),
        role: names.role(),
        log_group: names.log_group(),
        tables: Tables {
            products: names.table(TableKind::Products),
            carts: names.table(TableKind::Carts),
            orders: names.table(TableKind::Orders),
        },
        console,
    })
}

pub fn render_text(outputs: &Outputs) -> String {
    let api = outputs
        .api_url
        .clone()
        .unwrap_or_else(|| "(no HTTP API yet: run `shopsmart-deploy up`)".into());
    [
        format!(
            "stack          {} in {} (account {})",
            outputs.stack, outputs.region, outputs.account_id
        ),
        format!("website URL    {}", outputs.website_url),
        format!("API URL        {api}"),
        format!("bucket         {}", outputs.bucket),
        format!("function       {}", outputs.function),
        format!("role           {}", outputs.role),
        format!("log group      {}", outputs.log_group),
        format!(
            "tables         {} {} {}",
            outputs.tables.products, outputs.tables.carts, outputs.tables.orders
        ),
    ]
    .into_iter()
    .chain(group_lines(
        "console_links",
        &serde_json::json!(outputs.console),
    ))
    .collect::<Vec<_>>()
    .join("\n")
}
