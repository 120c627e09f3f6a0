//! `shopsmart-deploy diagram`: the architecture of this stack, from `shopsmart.yaml` and, when the stack
//! exists, what AWS has (names, the API's routes, the tables' capacity, the function's memory and
//! architecture), as Mermaid (renders on GitHub) or a self-contained SVG (no fonts, scripts or links).
//! Reading AWS is optional: when it cannot be read, or the stack is not there, the configuration alone is
//! drawn and the note says so.

use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use crate::config::model::{Capacity, Config};
use crate::names::TableKind;
use crate::report::Reporter;
use crate::resources::cdn::Distribution;
use crate::resources::http_api::{self, HttpApi, ROUTES};
use crate::resources::lambda_function::Function;
use crate::resources::tables::{key_schema, Table};
use crate::resources::website_bucket::Bucket;
use crate::resources::{Ctx, Mode, Owner, Resource};
use crate::stack::{self, StackOptions};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Mermaid,
    Svg,
}

/// What the diagram says about the stack: the configuration's values, replaced by AWS's where it has them.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub stack: String,
    pub region: String,
    pub bucket: String,
    pub api: String,
    pub api_id: Option<String>,
    pub routes: Vec<String>,
    pub function: String,
    pub memory_mb: i64,
    pub architecture: String,
    pub role: String,
    pub log_group: String,
    pub tables: Vec<(TableKind, String, Option<Capacity>)>,
    pub budget: Option<String>,
    /// With `website.https`: the distribution's address once it exists, its comment before.
    pub cdn: Option<String>,
}

impl Facts {
    /// The stack `config` asks for; `{account-id}` stands in the bucket's name until the account is known.
    pub fn of(config: &Config, account_id: Option<&str>) -> Self {
        let names = config.names();
        let account = account_id.unwrap_or("{account-id}");
        let tables = TableKind::ALL.map(|kind| {
            let capacity = config.tables.billing.capacity(kind);
            (kind, names.table(kind), capacity)
        });
        Self {
            stack: names.stack_id(),
            region: config.region.clone(),
            bucket: names.website_bucket(account, &config.region),
            api: names.http_api(),
            api_id: None,
            routes: ROUTES.iter().map(ToString::to_string).collect(),
            function: names.function(),
            memory_mb: config.function.memory_mb.into(),
            architecture: config.function.architecture.lambda_name().to_owned(),
            role: names.role(),
            log_group: names.log_group(),
            tables: tables.into(),
            budget: config.alerts.as_ref().map(|_| names.budget()),
            cdn: config
                .website
                .https
                .then(|| crate::resources::cdn::stack_comment(&names.stack_id())),
        }
    }
}

/// A resource read from AWS if it is there and carries our stack tag.
async fn ours<R: Resource>(ctx: &Ctx, resource: R) -> anyhow::Result<Option<R::Live>> {
    let live = resource.read(ctx).await?;
    Ok(live.filter(|live| match resource.owner(live) {
        Owner::Tags(tags) => ctx.is_ours(tags),
        Owner::Marker(ours) => ours,
        Owner::Parent => true,
    }))
}

/// Replaces the facts AWS knows (reads only); `false` when none of the stack's resources exists.
pub async fn read_live(ctx: &Ctx, facts: &mut Facts) -> anyhow::Result<bool> {
    let tables = TableKind::ALL.map(|kind| ours(ctx, Table::to_delete(ctx, kind)));
    let (function, api, bucket, tables) = tokio::try_join!(
        ours(ctx, Function::to_delete(ctx)),
        ours(ctx, HttpApi::existing(ctx)),
        ours(ctx, Bucket::to_delete(ctx)),
        futures::future::try_join_all(tables),
    )?;
    let mut found = function.is_some() || bucket.is_some();
    if ctx.config.website.https {
        if let Some(cdn) = ours(ctx, Distribution::existing(ctx)).await? {
            facts.cdn = Some(cdn.info.domain);
        }
    }
    if let Some(function) = function {
        let (memory_mb, architecture) = function.size();
        (facts.memory_mb, facts.architecture) = (memory_mb.into(), architecture.to_owned());
    }
    if let Some(api) = api {
        let routes = http_api::read_routes(ctx, &api.info.api_id).await?;
        facts.routes = routes.into_keys().collect();
        facts.api_id = Some(api.info.api_id);
        found = true;
    }
    for (table, live) in facts.tables.iter_mut().zip(tables) {
        if let Some(live) = live {
            table.2 = live.table.capacity;
            found = true;
        }
    }
    Ok(found)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Person,
    Box,
    Store,
}

/// One box: an id, its shape, its column in the SVG (left to right), what it is and its details.
#[derive(Debug, Clone, PartialEq)]
struct Node {
    id: &'static str,
    shape: Shape,
    column: usize,
    lines: Vec<String>,
}

/// From, to, label.
type Edge = (&'static str, &'static str, &'static str);

#[derive(Debug, Clone, PartialEq)]
struct Graph {
    heading: String,
    nodes: Vec<Node>,
    edges: Vec<Edge>,
}

fn node(id: &'static str, shape: Shape, column: usize, lines: &[&str]) -> Node {
    let lines = lines.iter().map(ToString::to_string).collect();
    Node {
        id,
        shape,
        column,
        lines,
    }
}

fn table_node(kind: TableKind, name: &str, capacity: Option<Capacity>) -> Node {
    let keys = match key_schema(kind) {
        (partition, None) => format!("key {partition}"),
        (partition, Some(sort)) => format!("keys {partition} + {sort} (sort)"),
    };
    let capacity = capacity.map_or("on demand".into(), |c| {
        format!("{} RCU · {} WCU", c.read, c.write)
    });
    node(
        kind.suffix(),
        Shape::Store,
        3,
        &["DynamoDB table", name, &keys, &capacity],
    )
}

fn graph(facts: &Facts) -> Graph {
    let id = facts
        .api_id
        .as_deref()
        .map_or(String::new(), |id| format!(" ({id})"));
    let mut api = node(
        "api",
        Shape::Box,
        1,
        &["API Gateway HTTP API", &format!("{}{id}", facts.api)],
    );
    api.lines.push("stage $default".into());
    api.lines.extend(facts.routes.iter().cloned());
    let size = format!(
        "{} MB · {} · provided.al2023",
        facts.memory_mb, facts.architecture
    );
    let site = match facts.cdn {
        Some(_) => "S3 bucket (private: CloudFront only)",
        None => "S3 website bucket",
    };
    let mut nodes = vec![
        node("browser", Shape::Person, 0, &["Browser"]),
        node("site", Shape::Box, 1, &[site, &facts.bucket]),
        api,
        node(
            "fn",
            Shape::Box,
            2,
            &["Lambda function", &facts.function, &size],
        ),
        node("role", Shape::Box, 2, &["IAM role", &facts.role]),
        node(
            "logs",
            Shape::Store,
            3,
            &["CloudWatch log group", &facts.log_group],
        ),
    ];
    let mut edges = match &facts.cdn {
        Some(cdn) => {
            let lines = ["CloudFront distribution", cdn, "HTTPS · /api/* uncached"];
            nodes.push(node("cdn", Shape::Box, 0, &lines));
            vec![
                ("browser", "cdn", "HTTPS, one address"),
                ("cdn", "site", "pages (OAC, signed)"),
                ("cdn", "api", "/api/*"),
            ]
        }
        None => vec![
            ("browser", "site", "pages"),
            ("browser", "api", "JSON over HTTPS"),
        ],
    };
    edges.extend([
        ("api", "fn", "invokes"),
        ("fn", "role", "runs as"),
        ("fn", "logs", "writes"),
    ]);
    for (kind, name, capacity) in &facts.tables {
        nodes.push(table_node(*kind, name, *capacity));
        edges.push(("fn", kind.suffix(), "reads / writes"));
    }
    if let Some(budget) = &facts.budget {
        nodes.push(node(
            "budget",
            Shape::Box,
            0,
            &["AWS Budgets", budget, "emails at the first cent"],
        ));
    }
    let heading = format!("AWS {} · stack {}", facts.region, facts.stack);
    Graph {
        heading,
        nodes,
        edges,
    }
}

/// Text inside a quoted Mermaid label (entity codes, as Mermaid spells them).
fn mermaid_text(text: &str) -> String {
    text.replace('#', "#35;")
        .replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
}

fn render_mermaid(graph: &Graph) -> String {
    let mut out = vec!["flowchart LR".to_owned()];
    let label = |node: &Node| {
        let text: Vec<String> = node.lines.iter().map(|line| mermaid_text(line)).collect();
        let (open, close) = match node.shape {
            Shape::Person => ("([", "])"),
            Shape::Box => ("[", "]"),
            Shape::Store => ("[(", ")]"),
        };
        format!("{}{open}\"{}\"{close}", node.id, text.join("<br/>"))
    };
    let (outside, inside): (Vec<&Node>, Vec<&Node>) = graph
        .nodes
        .iter()
        .partition(|node| node.shape == Shape::Person);
    out.extend(outside.iter().map(|node| format!("  {}", label(node))));
    out.push(format!(
        "  subgraph aws[\"{}\"]",
        mermaid_text(&graph.heading)
    ));
    out.extend(inside.iter().map(|node| format!("    {}", label(node))));
    out.push("  end".into());
    for (from, to, label) in &graph.edges {
        out.push(format!("  {from} -->|\"{label}\"| {to}"));
    }
    out.join("\n")
}

/// Text inside SVG (XML) content or an attribute value.
fn xml_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const BOX_WIDTH: usize = 300;
const COLUMN_GAP: usize = 70;
const LINE: usize = 16;

/// A box's x, y and height.
type Place = (usize, usize, usize);

/// Where each node's box goes: x, y, height (columns stacked from the top).
fn layout(graph: &Graph) -> Vec<Place> {
    let mut next_y = [60; 4];
    graph
        .nodes
        .iter()
        .map(|node| {
            let height = 16 + LINE * node.lines.len();
            let y = next_y[node.column];
            next_y[node.column] += height + 24;
            (20 + node.column * (BOX_WIDTH + COLUMN_GAP), y, height)
        })
        .collect()
}

fn svg_node(node: &Node, (x, y, height): Place) -> String {
    let radius = match node.shape {
        Shape::Person => 20,
        Shape::Box => 4,
        Shape::Store => 14,
    };
    let mut out = format!(
        "<rect x=\"{x}\" y=\"{y}\" width=\"{BOX_WIDTH}\" height=\"{height}\" rx=\"{radius}\" \
         fill=\"#f5f8ff\" stroke=\"#3b5b92\"/>\n<text x=\"{}\" y=\"{}\">",
        x + 10,
        y + 6
    );
    for (i, line) in node.lines.iter().enumerate() {
        let weight = if i == 0 { " font-weight=\"bold\"" } else { "" };
        let text = xml_text(line);
        out += &format!(
            "<tspan x=\"{}\" dy=\"{LINE}\"{weight}>{text}</tspan>",
            x + 10
        );
    }
    out + "</text>"
}

/// An arrow from one box to another: sideways between columns, downwards within one.
fn svg_edge(from: Place, to: Place, label: &str) -> String {
    let ((x1, y1), (x2, y2)) = if to.0 > from.0 {
        (
            (from.0 + BOX_WIDTH, from.1 + from.2 / 2),
            (to.0, to.1 + to.2 / 2),
        )
    } else {
        (
            (from.0 + BOX_WIDTH / 2, from.1 + from.2),
            (to.0 + BOX_WIDTH / 2, to.1),
        )
    };
    let (mx, my) = ((x1 + x2) / 2, (y1 + y2) / 2);
    format!(
        "<line x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\" stroke=\"#555\" marker-end=\"url(#arrow)\"/>\n\
         <text x=\"{mx}\" y=\"{}\" text-anchor=\"middle\" font-size=\"10\" fill=\"#555\">{}</text>",
        my.saturating_sub(4),
        xml_text(label)
    )
}

fn render_svg(graph: &Graph) -> String {
    let places = layout(graph);
    let place = |id: &str| places[graph.nodes.iter().position(|n| n.id == id).expect("a node")];
    let width = 20 + 4 * (BOX_WIDTH + COLUMN_GAP) - COLUMN_GAP + 20;
    let height = places.iter().map(|(_, y, h)| y + h).max().unwrap_or(0) + 20;
    let mut out = vec![
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
             viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">"
        ),
        "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" \
         markerHeight=\"8\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#555\"/></marker></defs>"
            .into(),
        format!("<rect width=\"{width}\" height=\"{height}\" fill=\"#fff\"/>"),
        format!(
            "<text x=\"20\" y=\"34\" font-size=\"16\" font-weight=\"bold\">{}</text>",
            xml_text(&graph.heading)
        ),
    ];
    out.extend(
        graph
            .nodes
            .iter()
            .zip(&places)
            .map(|(node, at)| svg_node(node, *at)),
    );
    for (from, to, label) in &graph.edges {
        out.push(svg_edge(place(from), place(to), label));
    }
    out.push("</svg>".into());
    out.join("\n")
}

/// The diagram of `facts` in `format`.
pub fn render(facts: &Facts, format: Format) -> String {
    match format {
        Format::Mermaid => render_mermaid(&graph(facts)),
        Format::Svg => render_svg(&graph(facts)),
    }
}

#[derive(Debug, Serialize)]
struct Printed<'a> {
    format: Format,
    /// `live` or `shopsmart.yaml`.
    source: &'static str,
    note: String,
    diagram: String,
    file: Option<&'a Path>,
}

/// Draws the stack (live when AWS answers and the stack exists), printing it or writing it to `out`.
pub async fn run(
    opts: &StackOptions,
    format: Format,
    out: Option<&Path>,
    progress: &Reporter,
) -> anyhow::Result<()> {
    let config = &opts.config;
    let alone = "drawn from shopsmart.yaml alone";
    let (facts, source, note) = match stack::context(opts, Mode::Plan).await {
        Ok(ctx) => {
            let mut facts = Facts::of(config, Some(&ctx.account_id));
            let live = read_live(&ctx, &mut facts).await?;
            let (stack, region) = (&facts.stack, &facts.region);
            let (source, note) = if live {
                (
                    "live",
                    format!("drawn from stack {stack} as it is in {region}"),
                )
            } else {
                let why = "(`shopsmart-deploy up` creates it)";
                let note = format!("stack {stack} does not exist yet in {region} {why}: {alone}");
                ("shopsmart.yaml", note)
            };
            (facts, source, note)
        }
        Err(err) => {
            let note = format!(
                "AWS could not be read ({}): {alone}",
                crate::error::chain(&err)
            );
            (Facts::of(config, None), "shopsmart.yaml", note)
        }
    };
    let diagram = render(&facts, format);
    if let Some(path) = out {
        std::fs::write(path, format!("{diagram}\n"))
            .with_context(|| format!("writing the diagram to {}", path.display()))?;
    }
    progress.aside(&format!("note: {note}"));
    let printed = Printed {
        format,
        source,
        note,
        diagram,
        file: out,
    };
    progress.result(&printed, |printed| match out {
        Some(path) => format!("wrote the diagram to {}", path.display()),
        None => printed.diagram.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{self, Overrides};

    fn shipped() -> Config {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shopsmart.yaml");
        config::load(&path, &Overrides::default()).unwrap()
    }

    #[test]
    fn mermaid_names_every_resource_with_its_keys_capacity_and_routes() {
        let mut facts = Facts::of(&shipped(), None);
        facts.api_id = Some("a1b2".into());
        facts.tables[1].2 = None;
        let text = render(&facts, Format::Mermaid);
        assert!(
            text.starts_with("flowchart LR\n  browser([\"Browser\"])\n"),
            "{text}"
        );
        assert!(
            text.contains("  subgraph aws[\"AWS us-east-1 · stack shopsmart-dev\"]"),
            "{text}"
        );
        assert!(text
            .contains("shopsmart-dev-http-api (a1b2)<br/>stage $default<br/>GET /products<br/>"));
        assert!(text.contains("GET /orders/{orderId}\"]"), "{text}");
        assert!(text.contains("shopsmart-dev-products<br/>key productId<br/>3 RCU · 2 WCU\")]"));
        assert!(
            text.contains("keys cartId + productId (sort)<br/>on demand\")]"),
            "{text}"
        );
        assert!(text.contains("128 MB · arm64"), "{text}");
        assert!(
            text.contains("shopsmart-dev-site-{account-id}-us-east-1"),
            "{text}"
        );
        assert!(
            text.contains("  fn -->|\"reads / writes\"| orders"),
            "{text}"
        );
        assert!(
            text.contains("<br/>1 RCU · 1 WCU\")]\n  end\n  browser -->|"),
            "{text}"
        );
        assert!(!text.contains("budget"), "no alerts, no budget: {text}");
        assert_eq!(mermaid_text("a\"<b>#"), "a#quot;#lt;b#gt;#35;");
    }

    #[test]
    fn with_https_the_browser_reaches_bucket_and_api_through_cloudfront() {
        let mut config = shipped();
        config.website.https = true;
        let mut facts = Facts::of(&config, None);
        let text = render(&facts, Format::Mermaid);
        assert!(text.contains(
            "cdn[\"CloudFront distribution<br/>shopsmart-dev website (shopsmart-deploy)<br/>"
        ));
        for edge in [
            "browser -->|\"HTTPS, one address\"| cdn",
            "cdn -->|\"pages (OAC, signed)\"| site",
            "cdn -->|\"/api/*\"| api",
        ] {
            assert!(text.contains(edge), "{edge}: {text}");
        }
        assert!(
            text.contains("S3 bucket (private: CloudFront only)"),
            "{text}"
        );
        assert!(!text.contains("browser -->|\"pages\"| site"), "{text}");
        facts.cdn = Some("d111.cloudfront.net".into());
        assert!(render(&facts, Format::Mermaid).contains("<br/>d111.cloudfront.net<br/>"));
        // Without https: no CloudFront.
        assert!(!render(&Facts::of(&shipped(), None), Format::Mermaid).contains("cdn"));
    }

    #[test]
    fn svg_is_one_self_contained_document_with_escaped_text() {
        let mut facts = Facts::of(&shipped(), Some("123456789012"));
        facts.budget = Some("x<&>".into());
        let svg = render(&facts, Format::Svg);
        assert!(
            svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
            "{svg}"
        );
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains(">x&lt;&amp;&gt;</tspan>"), "{svg}");
        assert!(
            svg.contains(">shopsmart-dev-site-123456789012-us-east-1</tspan>"),
            "{svg}"
        );
        assert_eq!(svg.matches("<line ").count(), 8, "{svg}");
        assert_eq!(
            svg.matches("://").count(),
            1,
            "no URL but the namespace: {svg}"
        );
    }

    #[test]
    fn the_readme_shows_the_current_diagram_of_the_default_stack() {
        let readme =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"));
        let block = format!(
            "```mermaid\n{}\n```",
            render(&Facts::of(&shipped(), None), Format::Mermaid)
        );
        assert!(
            readme.unwrap().contains(&block),
            "README.md's diagram is out of date; replace it with the output of `shopsmart-deploy diagram \
             --endpoint-url http://127.0.0.1:9` (drawn from shopsmart.yaml alone):\n{block}"
        );
    }
}
