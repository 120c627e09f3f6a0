//! The checked value types of `shopsmart.yaml`: each knows its allowed values and says how to fix a bad one.

use super::regions::KNOWN_REGIONS;
use super::scalar::{int_in_range, string, FromScalar, Scalar};

/// Longest project and stage names: `{project}-{stage}-site-{12-digit account}-{region}` must fit S3's 63.
pub const MAX_PROJECT_LEN: usize = 16;
pub const MAX_STAGE_LEN: usize = 10;

fn dns_label(s: &str, what: &str, max: usize) -> Result<String, String> {
    let valid_chars = s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let starts_with_letter = s.bytes().next().is_some_and(|b| b.is_ascii_lowercase());
    if s.is_empty()
        || s.len() > max
        || !valid_chars
        || !starts_with_letter
        || s.ends_with('-')
        || s.contains("--")
    {
        return Err(format!(
            "{what} {s:?} is not valid: use 1 to {max} lowercase letters, digits and single hyphens, starting \
             with a letter (it becomes part of AWS resource names, e.g. the S3 bucket name)"
        ));
    }
    Ok(s.to_owned())
}

macro_rules! checked_type {
    ($(#[$doc:meta])* $name:ident($inner:ty), $expecting:expr, |$scalar:ident| $body:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub $inner);

        impl FromScalar for $name {
            const EXPECTING: &'static str = $expecting;
            fn from_scalar($scalar: Scalar<'_>) -> Result<Self, String> {
                $body.map($name)
            }
        }
    };
}

checked_type!(
    ProjectName(String),
    "a project name such as shopsmart",
    |s| dns_label(string(s, "project")?, "project", MAX_PROJECT_LEN)
);

checked_type!(
    StageName(String),
    "a stage name such as dev",
    |s| dns_label(string(s, "stage")?, "stage", MAX_STAGE_LEN)
);

checked_type!(RegionName(String), "an AWS region such as us-east-1", |s| {
    let region = string(s, "region")?;
    if KNOWN_REGIONS.contains(&region) {
        Ok(region.to_owned())
    } else if ["cn-", "us-gov-", "us-iso"]
        .iter()
        .any(|p| region.starts_with(p))
    {
        Err(format!(
            "region {region:?} is in AWS China, GovCloud or an isolated partition: separate accounts and domains, \
             and no Free Tier; this tool deploys to the commercial aws partition only, so use a region such as \
             us-east-1 or eu-central-1"
        ))
    } else {
        Err(format!(
            "unknown AWS region {region:?}; hint: use a region code such as us-east-1, eu-central-1 or \
             ap-southeast-2 (see `aws ec2 describe-regions`)"
        ))
    }
});

/// The retention periods CloudWatch Logs accepts.
pub const RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

checked_type!(
    RetentionDays(u32),
    "a log retention in days such as 7",
    |s| {
        let days = int_in_range(s, 1, 3653, "function.log_retention_days")?;
        RETENTION_DAYS.iter().copied().find(|d| i128::from(*d) == days).ok_or_else(|| {
        format!("function.log_retention_days {days} is not a period CloudWatch Logs accepts; use one of {RETENTION_DAYS:?}")
    })
    }
);

/// Integers within a range: `Type(inner): min..=max, field named in messages, EXPECTING`.
macro_rules! checked_ints {
    ($($name:ident($inner:ty): $min:literal..=$max:literal, $what:literal, $expecting:literal;)*) => {
        $(checked_type!($name($inner), $expecting, |s| {
            int_in_range(s, $min, $max, $what).map(|i| i as $inner)
        });)*
    };
}

checked_ints! {
    MemoryMb(u32): 128..=10240, "function.memory_mb", "a memory size in MB from 128 to 10240";
    TimeoutS(u32): 1..=900, "function.timeout_s", "a timeout in seconds from 1 to 900";
    ReservedConcurrency(u32): 0..=1000, "function.reserved_concurrency",
        "a reserved concurrency from 0 to 1000";
    ProvisionedConcurrency(u32): 1..=1000, "function.provisioned_concurrency",
        "a provisioned concurrency of at least 1";
    CapacityUnits(u32): 1..=40000, "table capacity", "a capacity from 1 to 40000 units";
    ThrottleRate(u32): 1..=10000, "api.throttle.rate_per_second",
        "requests per second from 1 to 10000";
    ThrottleBurst(u32): 1..=5000, "api.throttle.burst", "a burst from 1 to 5000 requests";
    Stock(i64): 0..=1_000_000_000, "stock", "a stock count of 0 or more";
}

checked_type!(ProductId(String), "a product id such as mug", |s| {
    let id = string(s, "product id")?;
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(id.to_owned())
    } else {
        Err(format!("product id {id:?} is not valid: use 1 to 64 letters, digits, '-' or '_' (it appears in URLs)"))
    }
});

checked_type!(ProductName(String), "a product name", |s| {
    let name = string(s, "product name")?.trim();
    if name.is_empty() || name.chars().count() > 200 {
        Err("product name must be 1 to 200 characters".to_owned())
    } else {
        Ok(name.to_owned())
    }
});

checked_type!(Currency(String), "a currency code such as USD", |s| {
    let code = string(s, "currency")?;
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(code.to_owned())
    } else {
        Err(format!(
            "currency {code:?} is not a three-letter ISO code in capitals, e.g. USD or EUR"
        ))
    }
});

checked_type!(
    RelativePath(String),
    "a relative path such as index.html",
    |s| {
        let path = string(s, "path")?;
        relative_path(path)
        .map(str::to_owned)
        .ok_or_else(|| format!("{path:?} is not a relative path inside the website: write e.g. index.html or images/mug.svg (no leading '/', no '..', no '\\')"))
    }
);

checked_type!(
    ImageRef(String),
    "an image path such as images/mug.svg or an https URL",
    |s| {
        let image = string(s, "image")?;
        if image.starts_with("https://")
            || image.starts_with("http://")
            || relative_path(image).is_some()
        {
            Ok(image.to_owned())
        } else {
            Err(format!(
            "image {image:?} must be a path inside the website (e.g. images/mug.svg) or an http(s) URL"
        ))
        }
    }
);

checked_type!(
    CorsOrigin(String),
    "an origin such as http://127.0.0.1:8080",
    |s| {
        let origin = string(s, "cors origin")?;
        cors_origin(origin).map(|()| origin.to_owned()).ok_or_else(|| {
        format!(
            "cors origin {origin:?} must be scheme://host[:port] with no path or trailing slash, e.g. \
             http://127.0.0.1:8080 or https://shop.example.com"
        )
    })
    }
);

checked_type!(TagText(String), "a tag key or value", |s| {
    let text = match s {
        Scalar::Str(t) => t.to_owned(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Bool(b) => b.to_string(),
        other => return Err(format!("a tag must be text, found {}", other.describe())),
    };
    if text.chars().count() > 256 {
        return Err("a tag key or value must be at most 256 characters".to_owned());
    }
    Ok(text)
});

checked_type!(Email(String), "an email address", |s| {
    let email = string(s, "alerts.email")?;
    let valid = email.split_once('@').is_some_and(|(user, domain)| {
        !user.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
    }) && !email.contains(char::is_whitespace);
    if valid {
        Ok(email.to_owned())
    } else {
        Err(format!(
            "alerts.email {email:?} is not an email address such as you@example.com"
        ))
    }
});

fn relative_path(path: &str) -> Option<&str> {
    let ok = !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\\')
        && path
            .split('/')
            .all(|segment| !segment.is_empty() && segment != "." && segment != "..");
    ok.then_some(path)
}

fn cors_origin(origin: &str) -> Option<()> {
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))?;
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !host.starts_with('.')
        && !host.ends_with('.');
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
    (host_ok && port_ok).then_some(())
}

checked_type!(TagKey(String), "a tag key such as purpose", |s| {
    let key = string(s, "tag key")?;
    if key.is_empty() || key.chars().count() > 128 {
        Err(format!("tag key {key:?} must be 1 to 128 characters"))
    } else if key.starts_with("aws:") || key == crate::names::STACK_TAG_KEY {
        Err(format!(
            "tag key {key:?} is reserved ({} is set by the deployer itself, aws: by AWS); pick another key",
            crate::names::STACK_TAG_KEY
        ))
    } else {
        Ok(key.to_owned())
    }
});
