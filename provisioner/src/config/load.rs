//! Reads `shopsmart.yaml`, reports any problem as `file:line:column: what is wrong` plus a hint, and turns
//! the raw file into the validated [`Config`]. No AWS call happens before this succeeds.

use std::path::{Path, PathBuf};

use super::model::*;
use super::raw::*;
use super::rules::{RegionName, StageName};
use super::scalar::{FromScalar, Scalar};
use crate::names::TableKind;

/// A configuration problem: the CLI exits with code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

const GENERIC_HINT: &str =
    "hint: every key, its default and its allowed values are explained in the comments of the shipped shopsmart.yaml";

/// Values given on the command line that replace the file's.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub stage: Option<String>,
    pub region: Option<String>,
}

/// The configuration file's name, looked for upward from the current directory when `--config` is not given.
pub const FILE_NAME: &str = "shopsmart.yaml";

/// The configuration file to load: `given` (`--config`) as it is; otherwise the nearest [`FILE_NAME`] in
/// `cwd` or a directory above it, as cargo finds `Cargo.toml`, so the tool works from anywhere inside the
/// project. Found in `cwd` itself it stays the relative `shopsmart.yaml` of before; found above, it is the
/// absolute path. What the stack reads beside it (function/, frontend/, .cache/) is resolved against the
/// directory it is in ([`project_root`]), not against `cwd`.
pub fn locate(given: Option<&Path>, cwd: &Path) -> Result<PathBuf, ConfigError> {
    if let Some(path) = given {
        return Ok(path.to_path_buf());
    }
    if cwd.join(FILE_NAME).is_file() {
        return Ok(PathBuf::from(FILE_NAME));
    }
    if let Some(dir) = cwd
        .ancestors()
        .skip(1)
        .find(|dir| dir.join(FILE_NAME).is_file())
    {
        return Ok(dir.join(FILE_NAME));
    }
    Err(ConfigError(format!(
        "no {FILE_NAME} in {} nor in any directory above it (looked in each up to {})\nhint: run \
         shopsmart-deploy inside the project (the directory that holds {FILE_NAME}, or any directory below \
         it), or pass --config PATH",
        cwd.display(),
        cwd.ancestors().last().unwrap_or(cwd).display()
    )))
}

/// The project's root: the directory that holds the configuration file `config_path` (function/,
/// frontend/ and .cache/ are beside it).
pub fn project_root(config_path: &Path) -> PathBuf {
    match config_path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Reads and validates the file at `path`, then applies `overrides` (validated the same way).
pub fn load(path: &Path, overrides: &Overrides) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|err| {
        ConfigError(format!(
            "{}: cannot read the configuration file: {err}\nhint: without --config, shopsmart-deploy uses \
             the nearest shopsmart.yaml in the current directory or above it; or pass --config PATH",
            path.display()
        ))
    })?;
    let mut config = parse(&text, path)?;
    if let Some(stage) = &overrides.stage {
        config.stage = StageName::from_scalar(Scalar::Str(stage))
            .map_err(|msg| ConfigError(format!("--stage: {msg}")))?
            .0;
    }
    if let Some(region) = &overrides.region {
        config.region = RegionName::from_scalar(Scalar::Str(region))
            .map_err(|msg| ConfigError(format!("--region: {msg}")))?
            .0;
    }
    Ok(config)
}

/// Parses the text of a `shopsmart.yaml`; `source` names it in messages.
pub fn parse(text: &str, source: &Path) -> Result<Config, ConfigError> {
    check_price_literals(text, source)?;
    // An empty file (or one with only comments) means "all defaults".
    let blank = text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
    let raw = if blank {
        RawConfig::default()
    } else {
        serde_yaml::from_str(text).map_err(|err| located(err, source))?
    };
    Ok(into_model(raw, source.to_path_buf()))
}

/// serde_yaml turns `price: 1e3` into the float 1000 before any visitor sees the text, so the written form
/// of block-style prices is checked here, on the source: only plain decimals such as `12.99` are accepted.
fn check_price_literals(text: &str, source: &Path) -> Result<(), ConfigError> {
    for (index, line) in text.lines().enumerate() {
        let body = line.trim_start();
        let body = body.strip_prefix("- ").map(str::trim_start).unwrap_or(body);
        let Some(value) = body.strip_prefix("price:") else {
            continue;
        };
        let value = value.split(" #").next().unwrap_or(value).trim();
        let quoted = value.starts_with('"') || value.starts_with('\'');
        if value.is_empty() || quoted {
            continue; // a quoted price is checked as text by the visitor; an empty one fails there too
        }
        if let Err(message) = super::price::decimal_to_cents(value) {
            let start = line.find("price:").map_or(0, |i| i + "price:".len());
            let column = start + line[start..].find(value).unwrap_or(0) + 1;
            return Err(ConfigError(format!(
                "{}:{}:{column}: products: {message}\n{GENERIC_HINT}",
                source.display(),
                index + 1
            )));
        }
    }
    Ok(())
}

fn located(err: serde_yaml::Error, source: &Path) -> ConfigError {
    let text = err.to_string();
    match err.location() {
        Some(loc) => {
            let suffix = format!(" at line {} column {}", loc.line(), loc.column());
            let what = text.strip_suffix(&suffix).unwrap_or(&text);
            ConfigError(format!(
                "{}:{}:{}: {what}\n{GENERIC_HINT}",
                source.display(),
                loc.line(),
                loc.column()
            ))
        }
        None => ConfigError(format!("{}: {text}\n{GENERIC_HINT}", source.display())),
    }
}

fn into_model(raw: RawConfig, source: PathBuf) -> Config {
    let capacity = |c: RawCapacity, kind: TableKind| {
        let shipped = Capacity::shipped(kind);
        Capacity {
            read: c.read.map_or(shipped.read, |units| units.0 .0),
            write: c.write.map_or(shipped.write, |units| units.0 .0),
        }
    };
    Config {
        source,
        project: raw.project.0 .0,
        stage: raw.stage.0 .0,
        region: raw.region.0 .0,
        tags: raw
            .tags
            .into_iter()
            .map(|(k, v)| (k.0 .0, v.0 .0))
            .collect(),
        function: FunctionConfig {
            memory_mb: raw.function.memory_mb.0 .0,
            timeout_s: raw.function.timeout_s.0 .0,
            architecture: raw.function.architecture,
            log_retention_days: raw.function.log_retention_days.map(|d| d.0 .0),
            reserved_concurrency: raw.function.reserved_concurrency.map(|c| c.0 .0),
            provisioned_concurrency: raw.function.provisioned_concurrency.map(|c| c.0 .0),
        },
        tables: TablesConfig {
            billing: match raw.tables.billing {
                RawBilling::OnDemand => Billing::OnDemand,
                RawBilling::Provisioned(c) => Billing::Provisioned {
                    products: capacity(c.products, TableKind::Products),
                    carts: capacity(c.carts, TableKind::Carts),
                    orders: capacity(c.orders, TableKind::Orders),
                },
            },
        },
        api: ApiConfig {
            throttle: raw.api.throttle.map(|t| Throttle {
                rate_per_second: t.rate_per_second.0 .0,
                burst: t.burst.0 .0,
            }),
            extra_cors_origins: raw.api.cors_origins.into_iter().map(|o| o.0 .0).collect(),
        },
        website: WebsiteConfig {
            index_document: raw.website.index.0 .0,
            error_document: raw.website.error.0 .0,
            https: raw.website.https,
        },
        products: raw
            .products
            .0
            .into_iter()
            .map(|p| ProductSeed {
                id: p.id.0 .0,
                name: p.name.0 .0,
                description: p.description,
                price_cents: p.price.0 .0,
                currency: p.currency.0 .0,
                image_url: p.image.0 .0,
                stock: p.stock.0 .0,
            })
            .collect(),
        alerts: raw.alerts.map(|a| AlertsConfig {
            email: a.email.0 .0,
        }),
        guard: GuardConfig {
            max_worst_case_cents: raw.guard.max_worst_case_usd.0 .0.unsigned_abs(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A project (`shopsmart.yaml` at its root) with a directory two levels below the root.
    fn project() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("shop");
        let deep = root.join("frontend").join("css");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(root.join(FILE_NAME), "# all defaults\n").unwrap();
        (dir, root, deep)
    }

    #[test]
    fn the_nearest_shopsmart_yaml_above_the_current_directory_is_used() {
        let (_dir, root, deep) = project();
        let found = locate(None, &deep).unwrap();
        assert_eq!(found, root.join(FILE_NAME));
        assert_eq!(project_root(&found), root);
        // One in between is nearer, and wins (as a nested Cargo.toml does for cargo).
        std::fs::write(root.join("frontend").join(FILE_NAME), "").unwrap();
        assert_eq!(
            locate(None, &deep).unwrap(),
            root.join("frontend").join(FILE_NAME)
        );
    }

    #[test]
    fn in_the_current_directory_it_stays_relative_as_before() {
        let (_dir, root, _deep) = project();
        let found = locate(None, &root).unwrap();
        assert_eq!(found, PathBuf::from(FILE_NAME));
        assert_eq!(project_root(&found), PathBuf::from("."));
    }

    #[test]
    fn a_given_path_is_used_as_it_is_even_inside_a_project() {
        let (_dir, _root, deep) = project();
        let given = Path::new("elsewhere/stack.yaml");
        assert_eq!(locate(Some(given), &deep).unwrap(), given);
        assert_eq!(project_root(given), Path::new("elsewhere"));
    }

    #[test]
    fn without_any_the_error_names_where_it_looked_and_how_to_fix_it() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("not-a-project");
        std::fs::create_dir_all(&outside).unwrap();
        let err = locate(None, &outside).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("no shopsmart.yaml in {}", outside.display())),
            "{err}"
        );
        assert!(err.contains("looked in each up to /"), "{err}");
        assert!(err.contains("or pass --config PATH"), "{err}");
    }
}
