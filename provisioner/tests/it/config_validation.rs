//! Bad `shopsmart.yaml` files are rejected before any AWS call: exit code 2, `file:line:column`, what is
//! wrong. The binary runs with `plan` and an endpoint on a closed port, so any AWS call would fail with
//! exit code 1 instead.

use std::path::{Path, PathBuf};

use shopsmart_deploy::config::{self, Overrides};

use crate::support::cli::{self as cli, Cli};
use crate::support::{endpoint, repo_root, shipped_config, unique_stage, write_test_zip};

/// A valid file; each case below replaces one line of it (1-based) or appends lines.
const BASE: &str = "\
project: shopsmart
stage: dev
region: us-east-1
tags:
  purpose: learning
function:
  memory_mb: 128
  timeout_s: 10
  architecture: arm64
  log_retention_days: 7
tables:
  billing:
    provisioned:
      products: { read: 1, write: 1 }
      carts: { read: 1, write: 1 }
      orders: { read: 1, write: 1 }
api:
  throttle:
    rate_per_second: 10
    burst: 20
  cors_origins:
    - http://127.0.0.1:8080
website:
  index: index.html
  error: index.html
products:
  - id: mug
    name: Mug
    description: A mug
    price: 12.99
    image: images/mug.svg
    stock: 25
";

enum Edit {
    /// Replace line N (1-based) with this text.
    Line(usize, &'static str),
    /// Append these lines at the end.
    Append(&'static str),
}

struct Case {
    name: &'static str,
    edit: Edit,
    /// `line:column` the message must point at.
    at: &'static str,
    /// A fragment of the message (what is wrong / how to fix it).
    says: &'static str,
}

fn cases() -> Vec<Case> {
    use Edit::*;
    let case = |name, edit, at, says| Case {
        name,
        edit,
        at,
        says,
    };
    vec![
        case("unknown top-level key", Line(1, "projekt: shopsmart"), "1:1", "unknown field `projekt`"),
        case("misspelt function key", Line(7, "  memroy_mb: 128"), "7:3", "unknown field `memroy_mb`"),
        case("memory too small", Line(7, "  memory_mb: 64"), "7:14", "must be from 128 to 10240, found 64"),
        case("memory too large", Line(7, "  memory_mb: 20000"), "7:14", "must be from 128 to 10240"),
        case("memory not a number", Line(7, "  memory_mb: lots"), "7:14", "must be a whole number"),
        case("memory with a fraction", Line(7, "  memory_mb: 128.5"), "7:14", "must be a whole number"),
        case("timeout zero", Line(8, "  timeout_s: 0"), "8:14", "must be from 1 to 900"),
        case("timeout too long", Line(8, "  timeout_s: 901"), "8:14", "must be from 1 to 900"),
        case("unknown architecture", Line(9, "  architecture: arm"), "9:17", "unknown variant `arm`"),
        case("retention not allowed by CloudWatch", Line(10, "  log_retention_days: 8"), "10:23", "not a period"),
        case("project with capitals", Line(1, "project: MyShop"), "1:10", "lowercase letters"),
        case("project too long", Line(1, "project: abcdefghijklmnopq"), "1:10", "1 to 16"),
        case("project starting with a digit", Line(1, "project: 1shop"), "1:10", "starting with a letter"),
        case("stage with underscore", Line(2, "stage: dev_1"), "2:8", "lowercase letters"),
        case("stage too long", Line(2, "stage: abcdefghijk"), "2:8", "1 to 10"),
        case("unknown region", Line(3, "region: us-east-9"), "3:9", "unknown AWS region"),
        case("unknown billing mode", Line(13, "    prepaid:"), "13:5", "unknown variant `prepaid`"),
        case("zero capacity", Line(14, "      products: { read: 0, write: 1 }"), "14:25", "from 1 to 40000, found 0"),
        case("misspelt capacity key", Line(15, "      carts: { reads: 1, write: 1 }"), "15:16", "unknown field `reads`"),
        case("throttle rate zero", Line(19, "    rate_per_second: 0"), "19:22", "rate_per_second must be from 1"),
        case("cors origin with a path", Line(22, "    - http://127.0.0.1:8080/app"), "22:7", "no path"),
        case("cors origin not http", Line(22, "    - ftp://example.com"), "22:7", "scheme://host"),
        case("absolute index document", Line(24, "  index: /index.html"), "24:10", "not a relative path"),
        case("error document escaping the site", Line(25, "  error: ../x.html"), "25:10", "not a relative path"),
        case("price with three decimals", Line(30, "    price: 12.999"), "30:12", "more than two decimal places"),
        case("negative price", Line(30, "    price: -1.50"), "30:12", "must not be negative"),
        case("price in exponent form", Line(30, "    price: 1e3"), "30:12", "not a plain decimal"),
        case("price with a comma", Line(30, "    price: 12,99"), "30:12", "not a plain decimal"),
        case("quoted price with three decimals", Line(30, "    price: \"1.999\""), "30:12", "more than two decimal"),
        case("price that is a boolean", Line(30, "    price: true"), "30:12", "not a plain decimal"),
        case("negative stock", Line(32, "    stock: -1"), "32:12", "must be from 0"),
        case("fractional stock", Line(32, "    stock: 2.5"), "32:12", "must be a whole number"),
        case("product id with a space", Line(27, "  - id: my mug"), "27:9", "product id \"my mug\" is not valid"),
        case("lowercase currency", Append("    currency: usd"), "33:15", "three-letter ISO code"),
        case(
            "duplicate product id",
            Append("  - id: mug\n    name: Mug again\n    price: 1\n    image: images/mug.svg\n    stock: 1"),
            "27:3",
            "the id \"mug\" is used twice",
        ),
        case("product without price", Line(30, "    cost: 12.99"), "30:5", "unknown field `cost`"),
        case("reserved tag key", Line(5, "  aws:purpose: learning"), "5:3", "reserved"),
        case("stack tag overridden", Line(5, "  shopsmart:stack: mine"), "5:3", "reserved"),
        case("bad alert email", Append("alerts:\n  email: nope"), "34:10", "not an email address"),
        case("products not a list", Line(26, "products: mug"), "26:11", "a list of products"),
        case("broken YAML", Line(7, "  memory_mb: 128: 5"), "7:17", "mapping values are not allowed"),
        case("on-demand with settings", Line(13, "    on_demand:"), "13:5", "takes no settings"),
    ]
}

fn apply(edit: &Edit) -> String {
    match edit {
        Edit::Line(n, text) => {
            let mut lines: Vec<&str> = BASE.lines().collect();
            lines[n - 1] = text;
            lines.join("\n") + "\n"
        }
        Edit::Append(text) => format!("{BASE}{text}\n"),
    }
}

fn write_case(dir: &Path, index: usize, case: &Case) -> PathBuf {
    let path = dir.join(format!("case{index}.yaml"));
    std::fs::write(&path, apply(&case.edit)).unwrap();
    path
}

/// BASE as `shopsmart.yaml` in `dir`.
fn write_base(dir: &Path) -> PathBuf {
    let path = dir.join("shopsmart.yaml");
    std::fs::write(&path, BASE).unwrap();
    path
}

#[test]
fn the_base_file_is_valid() {
    let config = config::parse(BASE, Path::new("base.yaml")).unwrap();
    assert_eq!(config.products[0].price_cents, 1299);
    assert_eq!(config.function.memory_mb, 128);
}

#[test]
fn every_bad_file_is_rejected_with_its_location_in_process() {
    assert!(cases().len() >= 20);
    let mut failures = Vec::new();
    for case in cases() {
        let text = apply(&case.edit);
        match config::parse(&text, Path::new("shopsmart.yaml")) {
            Ok(_) => failures.push(format!("{}: accepted", case.name)),
            Err(err) => {
                let message = err.to_string();
                let location = format!("shopsmart.yaml:{}", case.at);
                if !message.starts_with(&location) || !message.contains(case.says) {
                    failures.push(format!(
                        "{}: expected {location}… {:?}, got {message:?}",
                        case.name, case.says
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_binary_exits_2_with_the_location_and_makes_no_aws_call() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on port 9 of loopback: an AWS call would fail and exit 1, not 2.
    let closed = "http://127.0.0.1:9";
    let mut failures = Vec::new();
    for (index, case) in cases().iter().enumerate() {
        let path = write_case(dir.path(), index, case);
        let (code, stderr) = Cli::new(&path).endpoint(closed).code_and_stderr(&["plan"]);
        let location = format!("{}:{}", path.display(), case.at);
        if code != Some(2) || !stderr.contains(&location) || !stderr.contains(case.says) {
            failures.push(format!("{}: exit {code:?}, stderr {stderr:?}", case.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn bad_command_line_values_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::new(write_base(dir.path())).endpoint("http://127.0.0.1:9");
    let run = |args: &[&str]| cli.code_and_stderr(args);
    let (code, stderr) = run(&["plan", "--stage", "Prod"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("--stage: stage \"Prod\" is not valid"),
        "{stderr}"
    );
    let (code, stderr) = run(&["plan", "--region", "mars-1"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("unknown AWS region"), "{stderr}");
    let (code, stderr) = run(&["destroy"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("pass --yes"), "{stderr}");
    let (code, _) = run(&["frobnicate"]);
    assert_eq!(code, Some(2));
    let (code, stderr) = run(&["up", "--function-zip", "/nonexistent.zip"]);
    assert_eq!(code, Some(2), "{stderr}");
    let missing = Cli::new("/nonexistent/shopsmart.yaml")
        .endpoint("http://127.0.0.1:9")
        .run(&["plan"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("pass --config PATH"));
}

#[test]
fn overrides_are_applied_after_validation() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_base(dir.path());
    let overrides = Overrides {
        stage: Some("test".into()),
        region: Some("eu-central-1".into()),
    };
    let config = config::load(&path, &overrides).unwrap();
    assert_eq!(
        (config.stage.as_str(), config.region.as_str()),
        ("test", "eu-central-1")
    );
}

#[test]
fn the_shipped_shopsmart_yaml_is_valid_and_exact() {
    let config = config::load(&shipped_config(), &Overrides::default()).unwrap();
    assert_eq!(
        (
            config.project.as_str(),
            config.stage.as_str(),
            config.region.as_str()
        ),
        ("shopsmart", "dev", "us-east-1")
    );
    assert_eq!(config.function.memory_mb, 128);
    assert_eq!(config.function.log_retention_days, Some(7));
    let prices: Vec<(&str, i64)> = config
        .products
        .iter()
        .map(|p| (p.id.as_str(), p.price_cents))
        .collect();
    assert_eq!(
        prices,
        [
            ("mug", 1299),
            ("tshirt", 1999),
            ("cap", 1550),
            ("notebook", 875),
            ("stickers", 499),
            ("bottle", 2400),
            ("hoodie", 3999),
            ("tote", 1125)
        ]
    );
    // Every product image exists in the storefront.
    for product in &config.products {
        let image = repo_root().join("frontend").join(&product.image_url);
        assert!(image.is_file(), "{} is missing", image.display());
    }
}

/// shopsmart.yaml says every value in it is the default: its capacity is what a file without `tables:` gets,
/// and a value left out of one table is that table's shipped value (not another table's, not 1).
#[test]
fn the_shipped_capacity_is_the_default_and_a_missing_value_is_its_tables() {
    use shopsmart_deploy::config::model::{Billing, Capacity};
    use shopsmart_deploy::names::TableKind;
    let shipped = config::load(&shipped_config(), &Overrides::default()).unwrap();
    let parse = |text: &str| config::parse(text, Path::new("test.yaml")).unwrap();
    let bare = parse("region: us-east-1\n");
    assert_eq!(bare.tables.billing, shipped.tables.billing);
    let default = Billing::Provisioned {
        products: Capacity { read: 3, write: 2 },
        carts: Capacity { read: 3, write: 3 },
        orders: Capacity { read: 1, write: 1 },
    };
    assert_eq!(shipped.tables.billing, default);
    for kind in TableKind::ALL {
        assert_eq!(
            shipped.tables.billing.capacity(kind),
            Some(Capacity::shipped(kind))
        );
    }
    assert_eq!(
        parse("tables:\n  billing: provisioned\n").tables.billing,
        default
    );
    let partial = parse("tables:\n  billing:\n    provisioned:\n      orders: { write: 4 }\n      carts: { read: 5 }\n");
    assert_eq!(
        partial.tables.billing,
        Billing::Provisioned {
            products: Capacity { read: 3, write: 2 },
            carts: Capacity { read: 5, write: 3 },
            orders: Capacity { read: 1, write: 4 },
        }
    );
}

/// Without `--config` the binary uses the nearest shopsmart.yaml above the current directory, as cargo finds
/// Cargo.toml, and reads frontend/ beside it: `plan` run from frontend/css of this repository plans the
/// repository's stack with its website files (from the current directory it would find neither).
#[test]
fn from_a_subdirectory_the_project_s_shopsmart_yaml_and_frontend_are_used() {
    let dir = tempfile::tempdir().unwrap();
    let zip = write_test_zip(dir.path());
    let stage = unique_stage();
    let args = [
        "plan",
        "--allow-charges",
        "--output",
        "json",
        "--stage",
        &stage,
    ];
    let output = cli::command(&args)
        .arg("--function-zip")
        .arg(&zip)
        .current_dir(repo_root().join("frontend").join("css"))
        .env("AWS_ENDPOINT_URL", endpoint())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        cli::stderr_of(&output),
    );
    assert!(output.status.success(), "{stderr}\n{stdout}");
    assert!(
        stdout.contains(&format!("shopsmart-{stage}-products")),
        "{stdout}"
    );
    assert!(stdout.contains("index.html"), "{stdout}");
}

/// Outside any project, and without `--config`: exit 2, where it looked, and how to fix it.
#[test]
fn outside_a_project_the_binary_says_where_it_looked_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let output = cli::command(&["plan"])
        .current_dir(dir.path())
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    let stderr = cli::stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let looked = format!("no shopsmart.yaml in {}", dir.path().display());
    assert!(stderr.contains(&looked), "{stderr}");
    assert!(stderr.contains("or pass --config PATH"), "{stderr}");
}
