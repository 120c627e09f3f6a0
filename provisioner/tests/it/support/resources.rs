//! One entry per resource for the tests that converge or destroy a single resource: each goes through the
//! real driver (`shopsmart_deploy::resources::{converge, destroy, prune}`) with the resource built as the
//! stack builds it, and returns what the test asserts on.

use std::path::Path;

use shopsmart_deploy::change::Change;
use shopsmart_deploy::resources::{self as driver, Ctx, Resource};

async fn change<R: Resource>(ctx: &Ctx, resource: &R) -> anyhow::Result<Change> {
    Ok(driver::converge(ctx, resource).await?.change)
}

pub mod log_group {
    pub use shopsmart_deploy::resources::log_group::*;

    use super::*;

    pub async fn converge(ctx: &Ctx) -> anyhow::Result<Change> {
        change(ctx, &LogGroup::new(ctx)).await
    }

    pub async fn destroy(ctx: &Ctx) -> anyhow::Result<Change> {
        driver::destroy(ctx, &LogGroup::new(ctx)).await
    }
}

pub mod tables {
    use shopsmart_deploy::names::TableKind;
    pub use shopsmart_deploy::resources::tables::*;

    use super::*;

    pub async fn converge_table(ctx: &Ctx, kind: TableKind) -> anyhow::Result<Change> {
        change(ctx, &Table::desired(ctx, kind)).await
    }

    pub async fn converge(ctx: &Ctx) -> anyhow::Result<Vec<Change>> {
        let tables = TableKind::ALL.map(|kind| Table::desired(ctx, kind));
        futures::future::join_all(tables.iter().map(|table| change(ctx, table)))
            .await
            .into_iter()
            .collect()
    }

    pub async fn destroy_table(ctx: &Ctx, kind: TableKind) -> anyhow::Result<Change> {
        driver::destroy(ctx, &Table::to_delete(ctx, kind)).await
    }

    pub async fn destroy(ctx: &Ctx) -> anyhow::Result<Vec<Change>> {
        let tables = TableKind::ALL.map(|kind| Table::to_delete(ctx, kind));
        futures::future::join_all(tables.iter().map(|table| driver::destroy(ctx, table)))
            .await
            .into_iter()
            .collect()
    }

    /// DescribeTable, as the driver's read starts.
    pub async fn read(ctx: &Ctx, name: &str) -> anyhow::Result<Option<LiveTable>> {
        describe(ctx, name).await
    }
}

pub mod iam_role {
    pub use shopsmart_deploy::resources::iam_role::*;

    use super::*;

    /// The role, then its policy (as the stack's two steps); both changes and the role's ARN.
    pub async fn converge(ctx: &Ctx) -> anyhow::Result<(Vec<Change>, String)> {
        let role = change(ctx, &Role::new(ctx)).await?;
        let policy = change(ctx, &RolePolicy::new(ctx)).await?;
        Ok((vec![role, policy], ctx.arns().role(&ctx.names.role())))
    }

    pub async fn destroy(ctx: &Ctx) -> anyhow::Result<Vec<Change>> {
        Ok(vec![driver::destroy(ctx, &Role::new(ctx)).await?])
    }
}

pub mod lambda_function {
    pub use shopsmart_deploy::resources::lambda_function::*;

    use super::*;

    pub async fn converge(ctx: &Ctx, desired: &DesiredFunction) -> anyhow::Result<Change> {
        change(ctx, &Function::new(ctx, desired.clone())).await
    }

    pub async fn destroy(ctx: &Ctx) -> anyhow::Result<Change> {
        driver::destroy(ctx, &Function::to_delete(ctx)).await
    }
}

pub mod lambda_permission {
    use shopsmart_deploy::resources::http_api::ApiInfo;
    pub use shopsmart_deploy::resources::lambda_permission::*;

    use super::*;

    pub async fn converge(ctx: &Ctx, api: Option<&ApiInfo>) -> anyhow::Result<Change> {
        change(ctx, &Permission::new(ctx, api)).await
    }

    pub async fn destroy(ctx: &Ctx) -> anyhow::Result<Change> {
        driver::destroy(ctx, &Permission::to_delete(ctx)).await
    }
}

pub mod http_api {
    pub use shopsmart_deploy::resources::http_api::*;

    use super::*;

    pub async fn converge(
        ctx: &Ctx,
        cors_origins: &[String],
    ) -> anyhow::Result<(Change, Option<ApiInfo>)> {
        let api = HttpApi::new(ctx, cors_origins)?;
        let converged = driver::converge(ctx, &api).await?;
        Ok((converged.change, api.info(converged.live.as_ref())))
    }

    pub async fn destroy(ctx: &Ctx) -> anyhow::Result<Change> {
        driver::destroy(ctx, &HttpApi::existing(ctx)).await
    }
}

pub mod website_bucket {
    pub use shopsmart_deploy::resources::website_bucket::*;

    use super::*;

    pub async fn converge(ctx: &Ctx) -> anyhow::Result<(Change, String)> {
        Ok((change(ctx, &Bucket::new(ctx)).await?, bucket_name(ctx)))
    }

    pub async fn destroy(ctx: &Ctx) -> anyhow::Result<Change> {
        driver::destroy(ctx, &Bucket::to_delete(ctx)).await
    }
}

pub mod website_upload {
    pub use shopsmart_deploy::resources::website_upload::*;

    use super::*;

    pub async fn converge(
        ctx: &Ctx,
        frontend_dir: &Path,
        api_url: Option<&str>,
    ) -> anyhow::Result<Change> {
        change(ctx, &WebsiteFiles::new(ctx, frontend_dir, api_url)?).await
    }
}

pub mod seed {
    pub use shopsmart_deploy::resources::seed::*;

    use super::*;

    pub async fn converge(ctx: &Ctx, reseed: bool) -> anyhow::Result<Vec<Change>> {
        let products = Product::all(ctx, reseed).await?;
        futures::future::join_all(products.iter().map(|product| change(ctx, product)))
            .await
            .into_iter()
            .collect()
    }
}
