//! `shopsmart-deploy permissions`: the least-privilege IAM policy the learner's own identity needs for every
//! verb of this configuration (up, plan, status, destroy, logs, outputs, cost, usage). It is
//! derived from one table, [`OPERATIONS`]: each AWS operation the tool sends, named as the SDK names it
//! (`Service.Operation`), with the IAM actions it needs and the resources they act on. The names are
//! deterministic, so every resource is this stack's ARN, except where the service allows no narrower
//! resource (API Gateway's ids are AWS's; ListTables and DescribeLogGroups take only `*`; the Free Tier guard
//! lists and describes every table of the account, in every region). The account id comes from STS; without working credentials the
//! policy uses `*` for it, with a note. Statements are one per service and resource scope, `Sid` =
//! service + scope (e.g. `S3Bucket`, `S3Objects`).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::config::model::Config;
use crate::names::{partition, Arns, TableKind};
use crate::report::Reporter;
use crate::resources::Mode;
use crate::stack::{self, StackOptions};

/// What an action acts on; [`resources`] turns it into this stack's ARNs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum On {
    Any,
    Role,
    Tables,
    AllTables,
    Function,
    LogGroup,
    Apis,
    ApiTags,
    Bucket,
    Objects,
    Budget,
    /// CloudFront ids are AWS's: every distribution / OAC of the account (CloudFront is global).
    Distributions,
    OriginAccessControls,
}

use On::*;

/// Operation → IAM action → resource, one row per action (an operation may need several: tags sent with a
/// create need the service's TagResource, a function's role needs iam:PassRole). An empty action: no
/// permission needed. Budgets rows count only with `alerts` (see [`needed`]).
#[rustfmt::skip]
pub const OPERATIONS: &[(&str, &str, On)] = &[
    ("STS.GetCallerIdentity", "", Any),
    ("IAM.CreateRole", "iam:CreateRole", Role),
    ("IAM.CreateRole", "iam:TagRole", Role),
    ("IAM.GetRole", "iam:GetRole", Role),
    ("IAM.ListRoleTags", "iam:ListRoleTags", Role),
    ("IAM.TagRole", "iam:TagRole", Role),
    ("IAM.UpdateAssumeRolePolicy", "iam:UpdateAssumeRolePolicy", Role),
    ("IAM.GetRolePolicy", "iam:GetRolePolicy", Role),
    ("IAM.PutRolePolicy", "iam:PutRolePolicy", Role),
    ("IAM.ListRolePolicies", "iam:ListRolePolicies", Role),
    ("IAM.DeleteRolePolicy", "iam:DeleteRolePolicy", Role),
    ("IAM.ListAttachedRolePolicies", "iam:ListAttachedRolePolicies", Role),
    ("IAM.DetachRolePolicy", "iam:DetachRolePolicy", Role),
    ("IAM.DeleteRole", "iam:DeleteRole", Role),
    ("FreeTier.GetAccountPlanState", "freetier:GetAccountPlanState", Any),
    ("FreeTier.GetFreeTierUsage", "freetier:GetFreeTierUsage", Any),
    ("DynamoDB.ListTables", "dynamodb:ListTables", Any),
    ("DynamoDB.DescribeTable", "dynamodb:DescribeTable", AllTables),
    ("DynamoDB.CreateTable", "dynamodb:CreateTable", Tables),
    ("DynamoDB.CreateTable", "dynamodb:TagResource", Tables),
    ("DynamoDB.UpdateTable", "dynamodb:UpdateTable", Tables),
    ("DynamoDB.DeleteTable", "dynamodb:DeleteTable", Tables),
    ("DynamoDB.DescribeTimeToLive", "dynamodb:DescribeTimeToLive", Tables),
    ("DynamoDB.UpdateTimeToLive", "dynamodb:UpdateTimeToLive", Tables),
    ("DynamoDB.ListTagsOfResource", "dynamodb:ListTagsOfResource", Tables),
    ("DynamoDB.TagResource", "dynamodb:TagResource", Tables),
    ("DynamoDB.Scan", "dynamodb:Scan", Tables),
    ("DynamoDB.PutItem", "dynamodb:PutItem", Tables),
    ("DynamoDB.UpdateItem", "dynamodb:UpdateItem", Tables),
    ("CloudWatch Logs.DescribeLogGroups", "logs:DescribeLogGroups", Any),
    ("CloudWatch Logs.CreateLogGroup", "logs:CreateLogGroup", LogGroup),
    ("CloudWatch Logs.CreateLogGroup", "logs:TagResource", LogGroup),
    ("CloudWatch Logs.ListTagsForResource", "logs:ListTagsForResource", LogGroup),
    ("CloudWatch Logs.TagResource", "logs:TagResource", LogGroup),
    ("CloudWatch Logs.PutRetentionPolicy", "logs:PutRetentionPolicy", LogGroup),
    ("CloudWatch Logs.DeleteRetentionPolicy", "logs:DeleteRetentionPolicy", LogGroup),
    ("CloudWatch Logs.DeleteLogGroup", "logs:DeleteLogGroup", LogGroup),
    ("CloudWatch Logs.FilterLogEvents", "logs:FilterLogEvents", LogGroup),
    ("Lambda.GetFunction", "lambda:GetFunction", Function),
    ("Lambda.ListTags", "lambda:ListTags", Function),
    ("Lambda.CreateFunction", "lambda:CreateFunction", Function),
    ("Lambda.CreateFunction", "lambda:TagResource", Function),
    ("Lambda.CreateFunction", "iam:PassRole", Role),
    ("Lambda.UpdateFunctionCode", "lambda:UpdateFunctionCode", Function),
    ("Lambda.UpdateFunctionConfiguration", "lambda:UpdateFunctionConfiguration", Function),
    ("Lambda.UpdateFunctionConfiguration", "iam:PassRole", Role),
    ("Lambda.TagResource", "lambda:TagResource", Function),
    ("Lambda.PutFunctionConcurrency", "lambda:PutFunctionConcurrency", Function),
    ("Lambda.DeleteFunctionConcurrency", "lambda:DeleteFunctionConcurrency", Function),
    ("Lambda.GetPolicy", "lambda:GetPolicy", Function),
    ("Lambda.AddPermission", "lambda:AddPermission", Function),
    ("Lambda.RemovePermission", "lambda:RemovePermission", Function),
    ("Lambda.DeleteFunction", "lambda:DeleteFunction", Function),
    ("ApiGatewayV2.GetApis", "apigateway:GET", Apis),
    ("ApiGatewayV2.GetIntegrations", "apigateway:GET", Apis),
    ("ApiGatewayV2.GetRoutes", "apigateway:GET", Apis),
    ("ApiGatewayV2.GetStage", "apigateway:GET", Apis),
    ("ApiGatewayV2.CreateApi", "apigateway:POST", Apis),
    ("ApiGatewayV2.CreateApi", "apigateway:POST", ApiTags),
    ("ApiGatewayV2.CreateIntegration", "apigateway:POST", Apis),
    ("ApiGatewayV2.CreateRoute", "apigateway:POST", Apis),
    ("ApiGatewayV2.CreateStage", "apigateway:POST", Apis),
    ("ApiGatewayV2.TagResource", "apigateway:POST", ApiTags),
    ("ApiGatewayV2.UpdateApi", "apigateway:PATCH", Apis),
    ("ApiGatewayV2.UpdateIntegration", "apigateway:PATCH", Apis),
    ("ApiGatewayV2.UpdateRoute", "apigateway:PATCH", Apis),
    ("ApiGatewayV2.UpdateStage", "apigateway:PATCH", Apis),
    ("ApiGatewayV2.DeleteRoute", "apigateway:DELETE", Apis),
    ("ApiGatewayV2.DeleteApi", "apigateway:DELETE", Apis),
    ("S3.HeadBucket", "s3:ListBucket", Bucket),
    ("S3.ListObjectsV2", "s3:ListBucket", Bucket),
    ("S3.ListObjectVersions", "s3:ListBucketVersions", Bucket),
    ("S3.CreateBucket", "s3:CreateBucket", Bucket),
    ("S3.CreateBucket", "s3:TagResource", Bucket),
    ("S3.CreateBucket", "s3:PutBucketOwnershipControls", Bucket),
    ("S3.GetBucketTagging", "s3:GetBucketTagging", Bucket),
    ("S3.PutBucketTagging", "s3:PutBucketTagging", Bucket),
    ("S3.GetBucketOwnershipControls", "s3:GetBucketOwnershipControls", Bucket),
    ("S3.PutBucketOwnershipControls", "s3:PutBucketOwnershipControls", Bucket),
    ("S3.GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock", Bucket),
    ("S3.PutPublicAccessBlock", "s3:PutBucketPublicAccessBlock", Bucket),
    ("S3.GetBucketPolicy", "s3:GetBucketPolicy", Bucket),
    ("S3.PutBucketPolicy", "s3:PutBucketPolicy", Bucket),
    ("S3.GetBucketWebsite", "s3:GetBucketWebsite", Bucket),
    ("S3.PutBucketWebsite", "s3:PutBucketWebsite", Bucket),
    ("S3.DeleteBucket", "s3:DeleteBucket", Bucket),
    ("S3.HeadObject", "s3:GetObject", Objects),
    ("S3.GetObject", "s3:GetObject", Objects),
    ("S3.PutObject", "s3:PutObject", Objects),
    ("S3.DeleteObjects", "s3:DeleteObject", Objects),
    ("S3.DeleteObjects", "s3:DeleteObjectVersion", Objects),
    ("CloudFront.ListDistributions", "cloudfront:ListDistributions", Any),
    ("CloudFront.GetDistribution", "cloudfront:GetDistribution", Distributions),
    ("CloudFront.GetDistributionConfig", "cloudfront:GetDistributionConfig", Distributions),
    ("CloudFront.ListTagsForResource", "cloudfront:ListTagsForResource", Distributions),
    ("CloudFront.CreateDistributionWithTags", "cloudfront:CreateDistribution", Distributions),
    ("CloudFront.CreateDistributionWithTags", "cloudfront:TagResource", Distributions),
    ("CloudFront.UpdateDistribution", "cloudfront:UpdateDistribution", Distributions),
    ("CloudFront.TagResource", "cloudfront:TagResource", Distributions),
    ("CloudFront.DeleteDistribution", "cloudfront:DeleteDistribution", Distributions),
    ("CloudFront.ListOriginAccessControls", "cloudfront:ListOriginAccessControls", Any),
    ("CloudFront.GetOriginAccessControl", "cloudfront:GetOriginAccessControl", OriginAccessControls),
    ("CloudFront.CreateOriginAccessControl", "cloudfront:CreateOriginAccessControl", OriginAccessControls),
    ("CloudFront.UpdateOriginAccessControl", "cloudfront:UpdateOriginAccessControl", OriginAccessControls),
    ("CloudFront.DeleteOriginAccessControl", "cloudfront:DeleteOriginAccessControl", OriginAccessControls),
    ("Budgets.DescribeBudget", "budgets:ViewBudget", Budget),
    ("Budgets.DescribeNotificationsForBudget", "budgets:ViewBudget", Budget),
    ("Budgets.DescribeSubscribersForNotification", "budgets:ViewBudget", Budget),
    ("Budgets.ListTagsForResource", "budgets:ListTagsForResource", Budget),
    ("Budgets.CreateBudget", "budgets:ModifyBudget", Budget),
    ("Budgets.CreateBudget", "budgets:TagResource", Budget),
    ("Budgets.TagResource", "budgets:TagResource", Budget),
    ("Budgets.UpdateBudget", "budgets:ModifyBudget", Budget),
    ("Budgets.CreateNotification", "budgets:ModifyBudget", Budget),
    ("Budgets.DeleteNotification", "budgets:ModifyBudget", Budget),
    ("Budgets.CreateSubscriber", "budgets:ModifyBudget", Budget),
    ("Budgets.UpdateSubscriber", "budgets:ModifyBudget", Budget),
    ("Budgets.DeleteSubscriber", "budgets:ModifyBudget", Budget),
    ("Budgets.DeleteBudget", "budgets:ModifyBudget", Budget),
];

/// Whether the policy for a configuration with (or without) `alerts` allows `operation`. With alerts off,
/// `up` and `destroy` still look for a budget an earlier `up` left (DescribeBudget), but a refusal is only a
/// note (resources/budget.rs), so no Budgets permission is asked for.
pub fn needed(operation: &str, alerts: bool) -> bool {
    alerts || !operation.starts_with("Budgets.")
}

/// One statement of the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    pub sid: String,
    pub effect: &'static str,
    pub action: Vec<String>,
    pub resource: Vec<String>,
}

/// This stack's ARNs for `on`; `account` may be `*`.
pub fn resources(on: On, config: &Config, account: &str) -> Vec<String> {
    let (names, region) = (config.names(), config.region.as_str());
    let arns = Arns::new(region, account);
    let partition = partition(region);
    let bucket = format!(
        "arn:{partition}:s3:::{}",
        names.website_bucket(account, region)
    );
    let apis = format!("arn:{partition}:apigateway:{region}::/apis");
    match on {
        Any => vec!["*".to_owned()],
        Role => vec![arns.role(&names.role())],
        Tables => TableKind::ALL
            .iter()
            .map(|kind| arns.table(&names.table(*kind)))
            .collect(),
        // Every table of the account in every region: the Free Tier allowance is the account's.
        AllTables => vec![format!("arn:{partition}:dynamodb:*:{account}:table/*")],
        Function => vec![arns.function(&names.function())],
        LogGroup => {
            let group = arns.log_group(&names.log_group());
            vec![format!("{group}:*"), group]
        }
        Apis => vec![format!("{apis}/*"), apis],
        ApiTags => vec![format!("arn:{partition}:apigateway:{region}::/tags/*")],
        Objects => vec![format!("{bucket}/*")],
        Bucket => vec![bucket],
        Distributions => vec![format!(
            "arn:{partition}:cloudfront::{account}:distribution/*"
        )],
        OriginAccessControls => vec![format!(
            "arn:{partition}:cloudfront::{account}:origin-access-control/*"
        )],
        Budget => vec![format!(
            "arn:{partition}:budgets::{account}:budget/{}",
            names.budget()
        )],
    }
}

/// The statements: the actions of one service that act on the same resources share one.
pub fn statements(config: &Config, account: &str) -> Vec<Statement> {
    let mut scopes: BTreeMap<&str, BTreeSet<On>> = BTreeMap::new();
    for (operation, action, on) in OPERATIONS {
        if !action.is_empty() && needed(operation, config.alerts.is_some()) {
            scopes.entry(action).or_default().insert(*on);
        }
    }
    let mut groups: BTreeMap<(&str, Vec<On>), Vec<String>> = BTreeMap::new();
    for (action, on) in scopes {
        let service = action.split(':').next().unwrap_or(action);
        let key = (service, on.into_iter().collect());
        groups.entry(key).or_default().push(action.to_owned());
    }
    groups
        .into_iter()
        .map(|((service, on), action)| Statement {
            sid: format!(
                "{}{}",
                label(service),
                on.iter().map(|o| format!("{o:?}")).collect::<String>()
            ),
            effect: "Allow",
            action,
            resource: on
                .iter()
                .flat_map(|o| resources(*o, config, account))
                .collect(),
        })
        .collect()
}

fn label(service: &str) -> &str {
    match service {
        "iam" => "IAM",
        "dynamodb" => "DynamoDB",
        "logs" => "CloudWatchLogs",
        "lambda" => "Lambda",
        "apigateway" => "APIGateway",
        "s3" => "S3",
        "budgets" => "Budgets",
        "cloudfront" => "CloudFront",
        "freetier" => "FreeTier",
        other => other,
    }
}

/// The policy document.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Policy {
    pub version: &'static str,
    pub statement: Vec<Statement>,
}

pub fn document(config: &Config, account: &str) -> Policy {
    let statement = statements(config, account);
    Policy {
        version: "2012-10-17",
        statement,
    }
}

/// Prints the policy (with `--output json` the document alone), and in text how to attach it.
pub async fn run(opts: &StackOptions, out: &Reporter) -> anyhow::Result<()> {
    let account = match stack::context(opts, Mode::Plan).await {
        Ok(ctx) => ctx.account_id,
        Err(err) => {
            out.aside(&format!(
                "note: the policy uses * for the account id: STS could not say which account your credentials \
                 belong to ({}). Run this again with working credentials to pin it to your account.",
                crate::error::chain(&err)
            ));
            "*".to_owned()
        }
    };
    let policy = document(&opts.config, &account);
    out.result(&policy, |policy| {
        format!(
            "{}\n\n{ATTACH}",
            serde_json::to_string_pretty(policy).expect("serialisable")
        )
    })
}

const ATTACH: &str = "This is the IAM policy your own AWS identity needs for every shopsmart-deploy verb of this \
configuration, limited to this stack's resources. Attach it as an inline policy named shopsmart-deploy:
  console: IAM > Users > (your user) > Add permissions > Create inline policy > JSON, paste the policy, Next,
           name it shopsmart-deploy, Create policy.
  CLI, as someone allowed to change IAM (e.g. the account's administrator):
    shopsmart-deploy permissions --output json > policy.json
    aws iam put-user-policy --user-name YOU --policy-name shopsmart-deploy --policy-document file://policy.json
  (a role: aws iam put-role-policy --role-name ROLE with the same flags; IAM Identity Center: add the policy as
  the inline policy of your permission set)
Then `shopsmart-deploy doctor` checks that it took effect. Run `permissions` again after changing project, stage,
region or alerts: the policy names this stack's resources.";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::AlertsConfig;

    fn shipped() -> Config {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shopsmart.yaml");
        crate::config::load(path.as_ref(), &Default::default()).unwrap()
    }

    fn actions(policy: &Policy) -> Vec<&str> {
        let all = policy.statement.iter().flat_map(|s| s.action.iter());
        all.map(String::as_str).collect()
    }

    #[test]
    fn budgets_actions_come_with_alerts_only() {
        let mut config = shipped();
        let off = document(&config, "123456789012");
        let budgets = |p: &Policy| {
            actions(p)
                .into_iter()
                .filter(|a| a.starts_with("budgets:"))
                .count()
        };
        assert_eq!(budgets(&off), 0, "{off:?}");
        config.alerts = Some(AlertsConfig {
            email: "me@example.com".into(),
        });
        let on = document(&config, "123456789012");
        assert_eq!(budgets(&on), 4, "{on:?}");
    }

    #[test]
    fn statements_name_this_stack_and_have_unique_sids() {
        let policy = document(&shipped(), "123456789012");
        let sids: BTreeSet<&str> = policy.statement.iter().map(|s| s.sid.as_str()).collect();
        assert_eq!(sids.len(), policy.statement.len());
        assert!(sids
            .iter()
            .all(|sid| sid.chars().all(|c| c.is_ascii_alphanumeric())));
        let resources: Vec<&str> = policy
            .statement
            .iter()
            .flat_map(|s| s.resource.iter())
            .map(String::as_str)
            .collect();
        assert!(resources
            .contains(&"arn:aws:iam::123456789012:role/shopsmart-dev-us-east-1-function-role"));
        assert!(resources.contains(&"arn:aws:s3:::shopsmart-dev-site-123456789012-us-east-1/*"));
        assert!(resources
            .contains(&"arn:aws:dynamodb:us-east-1:123456789012:table/shopsmart-dev-carts"));
        // Without an account id the ARNs take `*` for it.
        let open = document(&shipped(), "*");
        let role = &open
            .statement
            .iter()
            .find(|s| s.sid == "IAMRole")
            .unwrap()
            .resource;
        assert_eq!(
            role,
            &["arn:aws:iam::*:role/shopsmart-dev-us-east-1-function-role"]
        );
        assert!(actions(&policy).contains(&"iam:PassRole"));
    }
}
