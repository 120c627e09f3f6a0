//! `diagram` through the BINARY: from shopsmart.yaml alone when AWS cannot be reached (exit 0, said on
//! stderr) and when the stack does not exist yet; from the live stack after `up` (the API's id, a table's
//! capacity changed behind the tool's back), in JSON and as an SVG file.

use aws_sdk_dynamodb::types::ProvisionedThroughput;
use serde_json::Value;
use shopsmart_deploy::names::TableKind;
use shopsmart_deploy::resources::Mode;

use crate::support::cli::{stderr_of, Cli};
use crate::support::*;

fn json(cli: &Cli, args: &[&str]) -> (Value, String) {
    let output = cli.run(args);
    assert!(output.status.success(), "{}", stderr_of(&output));
    (
        serde_json::from_slice(&output.stdout).unwrap(),
        stderr_of(&output),
    )
}

#[tokio::test]
async fn diagram_draws_the_configuration_until_the_stack_exists_then_the_live_stack() {
    let cli = Cli::new(shipped_config())
        .stage(&unique_stage())
        .region("eu-north-1");
    let stack = cli.config().names().stack_id();
    let offline = cli.clone().endpoint("http://127.0.0.1:9");
    let (printed, note) = json(&offline, &["diagram", "--output", "json"]);
    assert_eq!(printed["source"], "shopsmart.yaml", "{printed:#}");
    assert_eq!(printed["format"], "mermaid", "{printed:#}");
    assert!(note.contains("from shopsmart.yaml alone"), "{note}");
    let diagram = printed["diagram"].as_str().unwrap();
    assert!(
        diagram.contains(&format!("{stack}-site-{{account-id}}-eu-north-1")),
        "{diagram}"
    );

    let text = cli.run(&["diagram"]);
    let note = stderr_of(&text);
    assert!(
        note.contains(&format!("stack {stack} does not exist yet in eu-north-1")),
        "{note}"
    );
    assert!(String::from_utf8(text.stdout)
        .unwrap()
        .starts_with("flowchart LR\n"));

    let dir = tempfile::tempdir().unwrap();
    let zip = write_test_zip(dir.path());
    cli.ok(&[
        "up",
        "--function-zip",
        zip.to_str().unwrap(),
        "--allow-charges",
    ]);
    let ctx = ctx(cli.config(), Mode::Apply, &[]).await;
    let throughput = ProvisionedThroughput::builder()
        .read_capacity_units(2)
        .write_capacity_units(3)
        .build()
        .unwrap();
    let update = ctx
        .aws
        .dynamodb
        .update_table()
        .provisioned_throughput(throughput);
    update
        .table_name(ctx.names.table(TableKind::Orders))
        .send()
        .await
        .unwrap();

    let svg_path = dir.path().join("stack.svg");
    let svg_arg = svg_path.to_str().unwrap();
    let (printed, _) = json(
        &cli,
        &[
            "diagram", "--format", "svg", "--out", svg_arg, "--output", "json",
        ],
    );
    assert_eq!(printed["source"], "live", "{printed:#}");
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    assert_eq!(printed["diagram"].as_str().unwrap(), svg.trim_end());
    assert!(
        svg.contains(&format!(">{stack}-http-api (")),
        "the API's id: {svg}"
    );
    assert!(svg.contains(">2 RCU · 3 WCU</tspan>"), "{svg}");
    assert!(svg.contains(">POST /checkout</tspan>"), "{svg}");
    cli.ok(&["destroy", "--yes"]);
}
