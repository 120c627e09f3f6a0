//! Deterministic names for every resource of one stack. AWS is the state: a resource is found again by its
//! name, and it is ours only if it also carries the stack tag.

use shopsmart_function::contract;

/// The tag every resource of a stack carries; its value is the stack id (`{project}-{stage}`).
pub const STACK_TAG_KEY: &str = "shopsmart:stack";

/// The three tables of the shop, in the order they are created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TableKind {
    Products,
    Carts,
    Orders,
}

impl TableKind {
    pub const ALL: [TableKind; 3] = [TableKind::Products, TableKind::Carts, TableKind::Orders];

    pub fn suffix(self) -> &'static str {
        match self {
            TableKind::Products => "products",
            TableKind::Carts => "carts",
            TableKind::Orders => "orders",
        }
    }

    /// The environment variable through which the function learns this table's name.
    pub fn env_var(self) -> &'static str {
        match self {
            TableKind::Products => contract::PRODUCTS_TABLE_ENV,
            TableKind::Carts => contract::CARTS_TABLE_ENV,
            TableKind::Orders => contract::ORDERS_TABLE_ENV,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackNames {
    project: String,
    stage: String,
    region: String,
}

impl StackNames {
    /// `project` and `stage` must already be validated (lowercase letters, digits, hyphens; see config).
    pub fn new(project: &str, stage: &str, region: &str) -> Self {
        Self {
            project: project.to_owned(),
            stage: stage.to_owned(),
            region: region.to_owned(),
        }
    }

    pub fn stage(&self) -> &str {
        &self.stage
    }

    /// `{project}-{stage}`: the prefix of every name and the value of the stack tag.
    pub fn stack_id(&self) -> String {
        format!("{}-{}", self.project, self.stage)
    }

    /// IAM is global while the rest of the stack is regional: the region in the name keeps the same
    /// project and stage in two regions from sharing (and overwriting) one role.
    pub fn role(&self) -> String {
        format!("{}-{}-function-role", self.stack_id(), self.region)
    }

    /// The inline policy on the role (least privilege, see resources/iam_role.rs).
    pub fn role_policy(&self) -> String {
        format!("{}-function-access", self.stack_id())
    }

    pub fn function(&self) -> String {
        format!("{}-api", self.stack_id())
    }

    pub fn log_group(&self) -> String {
        format!("/aws/lambda/{}", self.function())
    }

    pub fn table(&self, kind: TableKind) -> String {
        format!("{}-{}", self.stack_id(), kind.suffix())
    }

    pub fn http_api(&self) -> String {
        format!("{}-http-api", self.stack_id())
    }

    /// Statement id of the Lambda resource-policy statement that lets the HTTP API invoke the function.
    pub fn invoke_permission_sid(&self) -> String {
        format!("{}-apigateway-invoke", self.stack_id())
    }

    /// Bucket names are global across all AWS accounts: the account id and region make ours unique.
    /// Config validation bounds project and stage so this stays within S3's 63 characters.
    pub fn website_bucket(&self, account_id: &str, region: &str) -> String {
        format!("{}-site-{}-{}", self.stack_id(), account_id, region)
    }

    /// Zero-spend AWS Budgets alert (optional, see the Free Tier guard).
    pub fn budget(&self) -> String {
        format!("{}-zero-spend", self.stack_id())
    }
}

/// The ARN partition of a region (`aws`, `aws-cn`, `aws-us-gov`).
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// ARNs that follow from names alone, so `plan` can show them before the resources exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arns {
    partition: &'static str,
    region: String,
    account_id: String,
}

impl Arns {
    pub fn new(region: &str, account_id: &str) -> Self {
        Self {
            partition: partition(region),
            region: region.to_owned(),
            account_id: account_id.to_owned(),
        }
    }

    /// `arn:{partition}:{service}:{region}:{account}:{resource}` in this region.
    fn arn(&self, service: &str, resource: &str) -> String {
        self.arn_in(&self.region, service, resource)
    }

    fn arn_in(&self, region: &str, service: &str, resource: &str) -> String {
        let (partition, account) = (self.partition, &self.account_id);
        format!("arn:{partition}:{service}:{region}:{account}:{resource}")
    }

    /// IAM is global: a role's ARN has no region.
    pub fn role(&self, role_name: &str) -> String {
        self.arn_in("", "iam", &format!("role/{role_name}"))
    }

    pub fn table(&self, table_name: &str) -> String {
        self.arn("dynamodb", &format!("table/{table_name}"))
    }

    pub fn function(&self, function_name: &str) -> String {
        self.arn("lambda", &format!("function:{function_name}"))
    }

    pub fn log_group(&self, log_group_name: &str) -> String {
        self.arn("logs", &format!("log-group:{log_group_name}"))
    }

    /// The source ARN that may invoke the function: any stage, method and route of this HTTP API.
    pub fn http_api_invoke_source(&self, api_id: &str) -> String {
        self.arn("execute-api", &format!("{api_id}/*/*"))
    }
}

/// The S3 static-website endpoint of a bucket: `s3-website-{region}` in the eight oldest commercial regions,
/// `s3-website.{region}` in all others (AWS General Reference, "Amazon S3 website endpoints").
pub fn website_url(bucket: &str, region: &str) -> String {
    const DASH_REGIONS: &[&str] = &[
        "us-east-1",
        "us-west-1",
        "us-west-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-northeast-1",
        "eu-west-1",
        "sa-east-1",
    ];
    if DASH_REGIONS.contains(&region) {
        format!("http://{bucket}.s3-website-{region}.amazonaws.com")
    } else {
        format!("http://{bucket}.s3-website.{region}.amazonaws.com")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_prefixed_by_the_stack_id() {
        let names = StackNames::new("shopsmart", "dev", "eu-west-1");
        assert_eq!(names.function(), "shopsmart-dev-api");
        assert_eq!(names.role(), "shopsmart-dev-eu-west-1-function-role");
        assert_eq!(names.log_group(), "/aws/lambda/shopsmart-dev-api");
        assert_eq!(names.table(TableKind::Carts), "shopsmart-dev-carts");
        assert_eq!(
            names.website_bucket("123456789012", "eu-central-1"),
            "shopsmart-dev-site-123456789012-eu-central-1"
        );
    }

    #[test]
    fn arns_follow_from_names() {
        let arns = Arns::new("cn-north-1", "123456789012");
        assert_eq!(arns.role("r"), "arn:aws-cn:iam::123456789012:role/r");
        assert_eq!(
            arns.function("f"),
            "arn:aws-cn:lambda:cn-north-1:123456789012:function:f"
        );
        assert_eq!(
            arns.http_api_invoke_source("a1"),
            "arn:aws-cn:execute-api:cn-north-1:123456789012:a1/*/*"
        );
    }

    #[test]
    fn website_url_follows_the_region_style() {
        assert_eq!(
            website_url("b", "us-east-1"),
            "http://b.s3-website-us-east-1.amazonaws.com"
        );
        assert_eq!(
            website_url("b", "eu-central-1"),
            "http://b.s3-website.eu-central-1.amazonaws.com"
        );
    }
}
