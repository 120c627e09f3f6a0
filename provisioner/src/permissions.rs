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
    /// The identity running the tool (`doctor` simulates its own permissions): an IAM user, or the role of
    /// an assumed-role session, by its ARN with its path.
    Yourself,
    /// The caller's role, only when the caller is an assumed-role session (read for its path).
    YourRole,
}

use On::*;

/// Operation → IAM action → resource, one row per action (an operation may need several: tags sent with a
/// create need the service's TagResource, a function's role needs iam:PassRole). An empty action: no
/// permission needed. Budgets rows count only with `alerts` (see [`needed`]). An action the Service
/// Authorization Reference lists without a resource type ([`NO_RESOURCE_TYPE`]), or one authorized before
/// its resource exists ([`NO_ARN_YET`]), is on `Any`: only `"Resource": "*"` grants it. Every row is a call
/// some verb sends; the permissions test records them against moto ([`NOT_RECORDED`]: those it cannot).
#[rustfmt::skip]
pub const OPERATIONS: &[(&str, &str, On)] = &[
    ("STS.GetCallerIdentity", "", Any),
    ("IAM.SimulatePrincipalPolicy", "iam:SimulatePrincipalPolicy", Yourself),
    ("IAM.GetRole", "iam:GetRole", YourRole),
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
    ("S3.GetObject", "s3:GetObject", Objects),
    ("S3.PutObject", "s3:PutObject", Objects),
    ("S3.DeleteObjects", "s3:DeleteObject", Objects),
    ("S3.DeleteObjects", "s3:DeleteObjectVersion", Objects),
    ("CloudFront.ListDistributions", "cloudfront:ListDistributions", Any),
    ("CloudFront.GetDistribution", "cloudfront:GetDistribution", Distributions),
    ("CloudFront.GetDistributionConfig", "cloudfront:GetDistributionConfig", Distributions),
    ("CloudFront.ListTagsForResource", "cloudfront:ListTagsForResource", Distributions),
    ("CloudFront.CreateDistributionWithTags", "cloudfront:CreateDistribution", Any),
    ("CloudFront.CreateDistributionWithTags", "cloudfront:TagResource", Any),
    ("CloudFront.UpdateDistribution", "cloudfront:UpdateDistribution", Distributions),
    ("CloudFront.TagResource", "cloudfront:TagResource", Distributions),
    ("CloudFront.DeleteDistribution", "cloudfront:DeleteDistribution", Distributions),
    ("CloudFront.ListOriginAccessControls", "cloudfront:ListOriginAccessControls", Any),
    ("CloudFront.GetOriginAccessControl", "cloudfront:GetOriginAccessControl", OriginAccessControls),
    ("CloudFront.CreateOriginAccessControl", "cloudfront:CreateOriginAccessControl", Any),
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

/// Rows of [`OPERATIONS`] that no verb sends against moto, each with the reason; the permissions test
/// fails for any other row it never saw sent.
pub const NOT_RECORDED: &[(&str, &str)] = &[(
    "Budgets.UpdateBudget",
    "moto answers UpdateBudget with HTTP 500; tests/it/budget.rs sends it through a stand-in \
     (a_budget_that_subtracts_credits_is_changed_to_count_them)",
)];

/// Actions the Service Authorization Reference ("Actions, resources, and condition keys for ...", one page
/// per service) lists with NO resource type: a policy grants them only with `"Resource": "*"`, and a
/// statement naming any narrower resource does not. Every other action of [`OPERATIONS`] has a resource
/// type there.
pub const NO_RESOURCE_TYPE: &[&str] = &[
    "cloudfront:CreateDistribution",
    "cloudfront:CreateOriginAccessControl",
    "cloudfront:ListDistributions",
    "cloudfront:ListOriginAccessControls",
    "dynamodb:ListTables",
    "freetier:GetAccountPlanState",
    "freetier:GetFreeTierUsage",
];

/// (operation, action) pairs authorized before the resource exists, so without its ARN: only `*` grants
/// them there, although the action has resource types (all optional). CreateDistributionWithTags is also
/// authorized as cloudfront:TagResource, before there is a distribution.
pub const NO_ARN_YET: &[(&str, &str)] = &[(
    "CloudFront.CreateDistributionWithTags",
    "cloudfront:TagResource",
)];

/// Whether AWS's authorization rules let only `"Resource": "*"` grant `action` as `operation` sends it.
pub fn only_star(operation: &str, action: &str) -> bool {
    NO_RESOURCE_TYPE.contains(&action) || NO_ARN_YET.contains(&(operation, action))
}

/// Whether the policy for a configuration with (or without) `alerts` allows `operation`. With alerts off,
/// `up` and `destroy` make no Budgets call at all, unless the website bucket says an earlier `up` made a
/// budget (see `stack`); then a refusal is only a note (resources/budget.rs), so no Budgets permission is
/// asked for.
pub fn needed(operation: &str, alerts: bool) -> bool {
    alerts || !operation.starts_with("Budgets.")
}

/// `iam:PassRole` only to Lambda (the function's role), in a statement of its own.
const PASSED_TO_LAMBDA: &str = "iam:PassRole";

/// One statement of the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    pub sid: String,
    pub effect: &'static str,
    pub action: Vec<String>,
    pub resource: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<serde_json::Value>,
}

/// The condition `action` is granted under, if any.
fn condition(action: &str) -> Option<serde_json::Value> {
    (action == PASSED_TO_LAMBDA).then(
        || serde_json::json!({ "StringEquals": { "iam:PassedToService": "lambda.amazonaws.com" } }),
    )
}

/// Who runs the tool, as IAM policies name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// An IAM user, or the role of an assumed-role session: its ARN as IAM has it, with its path.
    Principal { arn: String, role: bool },
    /// The role of a session whose path could not be read: by name, under any path.
    RoleNamed {
        partition: String,
        account: String,
        name: String,
    },
}

impl Caller {
    /// The ARNs that name the caller in a policy.
    pub fn arns(&self) -> Vec<String> {
        match self {
            Caller::Principal { arn, .. } => vec![arn.clone()],
            Caller::RoleNamed {
                partition,
                account,
                name,
            } => vec![
                format!("arn:{partition}:iam::{account}:role/{name}"),
                format!("arn:{partition}:iam::{account}:role/*/{name}"),
            ],
        }
    }

    fn is_role(&self) -> bool {
        matches!(
            self,
            Caller::Principal { role: true, .. } | Caller::RoleNamed { .. }
        )
    }
}

/// Whose policy it is: the account (`*` when unknown) and the caller (`None` when unknown, or the root user:
/// the rows on the caller are then left out).
#[derive(Debug, Clone)]
pub struct Whom {
    pub account: String,
    pub caller: Option<Caller>,
}

impl Whom {
    /// Without credentials: any account, no caller.
    pub fn unknown() -> Self {
        Self {
            account: "*".to_owned(),
            caller: None,
        }
    }
}

/// The IAM principal a caller ARN (STS GetCallerIdentity's) stands for: users as they are; an assumed-role
/// session (`arn:aws:sts::ACCT:assumed-role/NAME/SESSION`) as its role, `role/NAME`, which carries no path.
pub fn principal(arn: &str) -> Option<String> {
    let [_, partition, _, _, account, resource] = arn.splitn(6, ':').collect::<Vec<_>>()[..] else {
        return None;
    };
    let resource = match resource.strip_prefix("assumed-role/") {
        Some(session) => format!("role/{}", session.split('/').next()?),
        None if resource.starts_with("user/") || resource.starts_with("role/") => {
            resource.to_owned()
        }
        None => return None,
    };
    Some(format!("arn:{partition}:iam::{account}:{resource}"))
}

/// The caller behind `arn`: a user as it is; an assumed-role session's role read with GetRole for its path
/// (IAM Identity Center's roles live under `/aws-reserved/sso.amazonaws.com/...`). `None` for the root user
/// and federated users. The second value says why a role's path could not be read (then `RoleNamed`).
pub async fn caller(iam: &aws_sdk_iam::Client, arn: &str) -> (Option<Caller>, Option<String>) {
    let Some(principal) = principal(arn) else {
        return (None, None);
    };
    let [_, partition, _, _, account, resource] = principal.splitn(6, ':').collect::<Vec<_>>()[..]
    else {
        return (None, None);
    };
    let Some(name) = resource.strip_prefix("role/") else {
        let user = Caller::Principal {
            arn: principal.clone(),
            role: false,
        };
        return (Some(user), None);
    };
    match iam.get_role().role_name(name).send().await {
        Ok(output) => {
            let arn = output
                .role
                .map(|role| role.arn)
                .unwrap_or(principal.clone());
            (Some(Caller::Principal { arn, role: true }), None)
        }
        Err(err) => {
            let why = crate::aws_error::AwsError::new(err).to_string();
            let named = Caller::RoleNamed {
                partition: partition.to_owned(),
                account: account.to_owned(),
                name: name.to_owned(),
            };
            (Some(named), Some(why))
        }
    }
}

/// This stack's ARNs for `on`; the account may be `*`. Empty for the caller's rows when they do not apply.
pub fn resources(on: On, config: &Config, whom: &Whom) -> Vec<String> {
    let (names, region, account) = (config.names(), config.region.as_str(), &whom.account);
    let arns = Arns::new(region, account);
    let partition = partition(region);
    let bucket = format!(
        "arn:{partition}:s3:::{}",
        names.website_bucket(account, region)
    );
    let apis = format!("arn:{partition}:apigateway:{region}::/apis");
    let cloudfront = |kind: &str| vec![format!("arn:{partition}:cloudfront::{account}:{kind}/*")];
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
        Distributions => cloudfront("distribution"),
        OriginAccessControls => cloudfront("origin-access-control"),
        Budget => vec![format!(
            "arn:{partition}:budgets::{account}:budget/{}",
            names.budget()
        )],
        Yourself => whom.caller.as_ref().map(Caller::arns).unwrap_or_default(),
        YourRole => (whom.caller.as_ref())
            .filter(|caller| caller.is_role())
            .map(Caller::arns)
            .unwrap_or_default(),
    }
}

/// The statements: the actions of one service that act on the same resources (under the same condition)
/// share one. An action granted on `*` anywhere is granted on `*` only.
pub fn statements(config: &Config, whom: &Whom) -> Vec<Statement> {
    let mut scopes: BTreeMap<&str, BTreeSet<On>> = BTreeMap::new();
    for (operation, action, on) in OPERATIONS {
        let applies = !resources(*on, config, whom).is_empty();
        if !action.is_empty() && applies && needed(operation, config.alerts.is_some()) {
            scopes.entry(action).or_default().insert(*on);
        }
    }
    let mut groups: BTreeMap<(&str, Vec<On>, bool), Vec<String>> = BTreeMap::new();
    for (action, mut on) in scopes {
        if on.contains(&Any) {
            on = BTreeSet::from([Any]);
        }
        let service = action.split(':').next().unwrap_or(action);
        let key = (
            service,
            on.into_iter().collect(),
            condition(action).is_some(),
        );
        groups.entry(key).or_default().push(action.to_owned());
    }
    groups
        .into_iter()
        .map(|((service, on, conditioned), action)| Statement {
            sid: format!(
                "{}{}{}",
                label(service),
                on.iter().map(|o| format!("{o:?}")).collect::<String>(),
                if conditioned { "PassedToLambda" } else { "" }
            ),
            effect: "Allow",
            condition: action.first().and_then(|a| condition(a)),
            action,
            resource: on
                .iter()
                .flat_map(|o| resources(*o, config, whom))
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

pub fn document(config: &Config, whom: &Whom) -> Policy {
    let statement = statements(config, whom);
    Policy {
        version: "2012-10-17",
        statement,
    }
}

/// Whose policy `opts` asks for: the account and the caller from STS (the caller's role read for its path),
/// or [`Whom::unknown`] with a note when the credentials do not work.
pub async fn whom(opts: &StackOptions, out: &Reporter) -> Whom {
    match stack::context_and_caller(opts, Mode::Plan).await {
        Ok((ctx, arn)) => {
            let (caller, why) = caller(&ctx.aws.iam, &arn).await;
            if let (Some(why), Some(Caller::RoleNamed { name, .. })) = (why, &caller) {
                out.aside(&format!(
                    "note: the rows on your own role name it under any path: its path could not be read \
                     (iam:GetRole on {name}: {why}). Once this policy is attached, run `permissions` again \
                     to pin it"
                ));
            }
            Whom {
                account: ctx.account_id,
                caller,
            }
        }
        Err(err) => {
            out.aside(&format!(
                "note: the policy uses * for the account id and leaves out doctor's check of your own \
                 identity (iam:SimulatePrincipalPolicy): STS could not say who your credentials belong to \
                 ({}). Run this again with working credentials to pin it to your account.",
                crate::error::chain(&err)
            ));
            Whom::unknown()
        }
    }
}

/// Prints the policy (with `--output json` the document alone), and in text how to attach it.
pub async fn run(opts: &StackOptions, out: &Reporter) -> anyhow::Result<()> {
    let policy = document(&opts.config, &whom(opts, out).await);
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

    fn user() -> Whom {
        Whom {
            account: "123456789012".into(),
            caller: Some(Caller::Principal {
                arn: "arn:aws:iam::123456789012:user/ana".into(),
                role: false,
            }),
        }
    }

    #[test]
    fn budgets_actions_come_with_alerts_only() {
        let mut config = shipped();
        let off = document(&config, &user());
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
        let on = document(&config, &user());
        assert_eq!(budgets(&on), 4, "{on:?}");
    }

    #[test]
    fn statements_name_this_stack_and_have_unique_sids() {
        let policy = document(&shipped(), &user());
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
        // Without an account id the ARNs take `*` for it, and the rows on the caller are left out.
        let open = document(&shipped(), &Whom::unknown());
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
        assert!(!actions(&open).contains(&"iam:SimulatePrincipalPolicy"));
    }

    /// The Service Authorization Reference's rule: an action with no resource type (or authorized before
    /// its resource exists) is granted only by `"Resource": "*"`. The table puts every such row on `Any`,
    /// and the printed statement of such an action is exactly `*`, for every configuration.
    #[test]
    fn actions_without_a_resource_type_are_granted_on_star_only() {
        for (operation, action, on) in OPERATIONS {
            if only_star(operation, action) {
                assert_eq!(*on, Any, "{operation} {action}");
            }
        }
        let mut config = shipped();
        config.website.https = true;
        config.alerts = Some(AlertsConfig {
            email: "me@example.com".into(),
        });
        let policy = document(&config, &user());
        for statement in &policy.statement {
            if statement
                .action
                .iter()
                .any(|a| NO_RESOURCE_TYPE.contains(&a.as_str()))
            {
                assert_eq!(statement.resource, ["*"], "{statement:?}");
            }
        }
        let star = |action: &str| {
            policy
                .statement
                .iter()
                .any(|s| s.resource == ["*"] && s.action.iter().any(|a| a == action))
        };
        assert!(star("cloudfront:CreateOriginAccessControl") && star("cloudfront:TagResource"));
    }

    #[test]
    fn pass_role_is_granted_to_lambda_only_in_a_statement_of_its_own() {
        let policy = document(&shipped(), &user());
        let pass: Vec<&Statement> = policy
            .statement
            .iter()
            .filter(|s| s.action.iter().any(|a| a == "iam:PassRole"))
            .collect();
        assert_eq!(pass.len(), 1, "{pass:?}");
        assert_eq!(pass[0].action, ["iam:PassRole"]);
        assert_eq!(
            pass[0].condition,
            Some(serde_json::json!({
                "StringEquals": { "iam:PassedToService": "lambda.amazonaws.com" }
            }))
        );
        let printed = serde_json::to_value(pass[0]).unwrap();
        assert_eq!(
            printed["Condition"]["StringEquals"]["iam:PassedToService"],
            "lambda.amazonaws.com"
        );
        let others = policy.statement.iter().filter(|s| s.condition.is_none());
        assert!(others.count() == policy.statement.len() - 1);
    }

    /// doctor's own call (SimulatePrincipalPolicy) is allowed on the caller itself; an assumed role's rows
    /// (and the GetRole that reads its path) name the role with its path, or, unread, under any path.
    #[test]
    fn the_callers_rows_name_the_caller() {
        let on = |whom: &Whom, action: &str| -> Vec<String> {
            let policy = document(&shipped(), whom);
            let statements = policy.statement.into_iter();
            statements
                .filter(|s| s.action.iter().any(|a| a == action))
                .flat_map(|s| s.resource)
                .filter(|r| !r.contains("function-role"))
                .collect()
        };
        assert_eq!(
            on(&user(), "iam:SimulatePrincipalPolicy"),
            ["arn:aws:iam::123456789012:user/ana"]
        );
        assert!(on(&user(), "iam:GetRole").is_empty());
        let sso = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Dev_1a2b";
        let role = Whom {
            account: "123456789012".into(),
            caller: Some(Caller::Principal {
                arn: sso.into(),
                role: true,
            }),
        };
        assert_eq!(on(&role, "iam:SimulatePrincipalPolicy"), [sso]);
        assert_eq!(on(&role, "iam:GetRole"), [sso]);
        let unread = Whom {
            account: "123456789012".into(),
            caller: Some(Caller::RoleNamed {
                partition: "aws".into(),
                account: "123456789012".into(),
                name: "Admin".into(),
            }),
        };
        assert_eq!(
            on(&unread, "iam:GetRole"),
            [
                "arn:aws:iam::123456789012:role/Admin",
                "arn:aws:iam::123456789012:role/*/Admin"
            ]
        );
    }

    #[test]
    fn the_simulated_principal_is_the_user_or_the_sessions_role() {
        let user = "arn:aws:iam::123456789012:user/ana";
        assert_eq!(principal(user).as_deref(), Some(user));
        assert_eq!(
            principal("arn:aws:sts::123456789012:assumed-role/Admin/ana@example.com").as_deref(),
            Some("arn:aws:iam::123456789012:role/Admin")
        );
        assert_eq!(principal("arn:aws:iam::123456789012:root"), None);
        assert_eq!(
            principal("arn:aws:sts::123456789012:federated-user/bob"),
            None
        );
    }
}
