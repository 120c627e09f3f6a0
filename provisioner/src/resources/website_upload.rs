//! The storefront files in the website bucket: every file under `frontend/` plus a generated `config.js`
//! holding the API URL. An object is uploaded only when its content (MD5 vs. the live ETag) or its
//! Content-Type / Cache-Control differ; objects no longer present locally are deleted.
//!
//! One ListObjectsV2 and one GetObject read it all: after each upload a manifest ([`MANIFEST`]) records what
//! was written (MD5, Content-Type, Cache-Control). An object is current when its live ETag (the MD5 of the
//! body for a single-part upload without KMS) is the MD5 we want, the manifest recorded our Content-Type and
//! Cache-Control for it, and it was not modified after the manifest (a hand-changed file, even one changed
//! only in its metadata, is newer and is uploaded again).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ObjectIdentifier;
use futures::stream::{self, StreamExt, TryStreamExt};
use md5::{Digest, Md5};

use super::website_bucket::{self, bucket_name, on_bucket};
use super::{Changes, Ctx, Mode, Resource};
use crate::aws_error::AwsContext;
use crate::change::FieldChange;

pub const KIND: &str = "Website files";
pub const CONFIG_JS: &str = "config.js";
/// Browsers must always revalidate the entry page and the API URL, or a redeploy shows stale pages.
const NO_CACHE: &str = "no-cache";
const ASSET_CACHE: &str = "public, max-age=300";
const PARALLEL_UPLOADS: usize = 8;
/// What the last upload wrote: key → [MD5, Content-Type, Cache-Control]. A dotfile, so no file of
/// `frontend/` (dotfiles are skipped) can have its key.
pub const MANIFEST: &str = ".shopsmart-uploaded.json";

/// A listed object: ETag without quotes and LastModified (nanoseconds since the epoch).
#[derive(Debug, Clone, Default)]
struct Listed {
    etag: String,
    modified: i128,
}

type Manifest = BTreeMap<String, [String; 3]>;

/// One object as it should be in the bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredObject {
    pub key: String,
    pub body: Vec<u8>,
    pub content_type: String,
    pub cache_control: String,
}

impl DesiredObject {
    fn md5_hex(&self) -> String {
        hex::encode(Md5::digest(&self.body))
    }
}

/// The storefront imports this as an ES module.
pub fn config_js(api_url: &str) -> String {
    format!(
        "export const API_URL = {};\n",
        serde_json::Value::String(api_url.to_owned())
    )
}

/// Content-Type for a key: mime_guess, with the types browsers need for ES modules and inline SVG, and
/// `charset=utf-8` on text types.
pub fn content_type(key: &str) -> String {
    let extension = Path::new(key)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let base = match extension.as_str() {
        "js" | "mjs" => "text/javascript".to_owned(),
        "svg" => return "image/svg+xml".to_owned(),
        _ => mime_guess::from_path(key)
            .first_or_octet_stream()
            .essence_str()
            .to_owned(),
    };
    let is_text = base.starts_with("text/")
        || matches!(base.as_str(), "application/json" | "application/xml");
    if is_text {
        format!("{base}; charset=utf-8")
    } else {
        base
    }
}

pub fn cache_control(key: &str) -> &'static str {
    if key.ends_with(".html") || key == CONFIG_JS {
        NO_CACHE
    } else {
        ASSET_CACHE
    }
}

/// Every file under `frontend_dir` (keys with `/`, dotfiles skipped) plus the generated config.js, which
/// replaces any config.js in the folder.
pub fn desired_objects(
    frontend_dir: &Path,
    api_url: &str,
) -> anyhow::Result<BTreeMap<String, DesiredObject>> {
    if !frontend_dir.is_dir() {
        bail!(
            "the website folder {} does not exist; it is looked for next to the configuration file \
             (shopsmart.yaml, found in the current directory or the nearest one above it): put frontend/ \
             beside it, or pass --config <project>/shopsmart.yaml",
            frontend_dir.display()
        );
    }
    let mut objects = BTreeMap::new();
    let mut pending = vec![frontend_dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("reading folder {}", dir.display()))?
        {
            let entry = entry.with_context(|| format!("reading folder {}", dir.display()))?;
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let relative = path
                .strip_prefix(frontend_dir)
                .expect("walked from frontend_dir");
            let key = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            let body =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            objects.insert(key.clone(), object(key, body));
        }
    }
    objects.insert(
        CONFIG_JS.to_owned(),
        object(CONFIG_JS.to_owned(), config_js(api_url).into_bytes()),
    );
    Ok(objects)
}

fn object(key: String, body: Vec<u8>) -> DesiredObject {
    DesiredObject {
        content_type: content_type(&key),
        cache_control: cache_control(&key).to_owned(),
        key,
        body,
    }
}

/// Every object in the bucket, a page at a time; empty when the bucket does not exist yet (plan before the
/// first up).
async fn list(ctx: &Ctx, bucket: &str) -> anyhow::Result<BTreeMap<String, Listed>> {
    let mut listed = BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        let page = on_bucket(ctx, bucket, || {
            let request = ctx.aws.s3.list_objects_v2().bucket(bucket);
            request.set_continuation_token(token.clone()).send()
        })
        .await;
        let page = match page {
            Ok(page) => page,
            Err(err)
                if ctx.mode == Mode::Plan
                    && err
                        .as_service_error()
                        .is_some_and(|e| e.is_no_such_bucket()) =>
            {
                return Ok(BTreeMap::new())
            }
            Err(err) => {
                return Err(err).aws_context(|| format!("listing objects of S3 bucket ({bucket})"))
            }
        };
        for object in page.contents() {
            if let Some(key) = object.key() {
                let etag = object.e_tag().unwrap_or_default().trim_matches('"');
                let modified = object.last_modified().map_or(0, |t| t.as_nanos());
                let listed_object = Listed {
                    etag: etag.to_owned(),
                    modified,
                };
                listed.insert(key.to_owned(), listed_object);
            }
        }
        token = page.next_continuation_token().map(str::to_owned);
        if page.is_truncated() != Some(true) || token.is_none() {
            return Ok(listed);
        }
    }
}

/// The manifest of the last upload; empty when there is none or it is unreadable (all is then uploaded).
async fn read_manifest(ctx: &Ctx, bucket: &str) -> anyhow::Result<Manifest> {
    let get = || ctx.aws.s3.get_object().bucket(bucket).key(MANIFEST).send();
    let output = on_bucket(ctx, bucket, get)
        .await
        .aws_context(|| format!("reading s3://{bucket}/{MANIFEST}"))?;
    let body = output
        .body
        .collect()
        .await
        .context("reading the upload manifest")?;
    Ok(serde_json::from_slice(&body.into_bytes()).unwrap_or_default())
}

async fn write_manifest<'a>(
    ctx: &Ctx,
    bucket: &str,
    objects: impl Iterator<Item = &'a DesiredObject>,
) -> anyhow::Result<()> {
    let manifest: Manifest = objects
        .map(|o| {
            let recorded = [o.md5_hex(), o.content_type.clone(), o.cache_control.clone()];
            (o.key.clone(), recorded)
        })
        .collect();
    let body = serde_json::to_vec(&manifest)?;
    upload(ctx, bucket, &object(MANIFEST.to_owned(), body)).await
}

/// The storefront's files in the website bucket. Owned through the bucket, a step they need.
pub struct WebsiteFiles {
    pub bucket: String,
    desired: BTreeMap<String, DesiredObject>,
}

impl WebsiteFiles {
    /// Every file under `frontend_dir`, with a config.js pointing at `api_url` (`None` only in plan, before
    /// the API exists: config.js is then written once its URL is known).
    pub fn new(ctx: &Ctx, frontend_dir: &Path, api_url: Option<&str>) -> anyhow::Result<Self> {
        let bucket = bucket_name(ctx);
        let api_url = match api_url {
            Some(url) => url,
            None if ctx.mode == Mode::Plan => "(API URL known after up)",
            None => bail!(
                "uploading the website to S3 bucket ({bucket}): the HTTP API must be converged first"
            ),
        };
        Ok(Self {
            desired: desired_objects(frontend_dir, api_url)?,
            bucket,
        })
    }

    /// The bucket's files without desired ones: what `read` needs (it reads the same for every instance),
    /// for reading ahead before the API's URL is known.
    pub fn existing(ctx: &Ctx) -> Self {
        Self {
            bucket: bucket_name(ctx),
            desired: BTreeMap::new(),
        }
    }

    /// Whether the live object is this one as we uploaded it: the same content (its ETag, the MD5 of a
    /// single-part upload), and the manifest written after it records our Content-Type and Cache-Control.
    fn is_current(object: &DesiredObject, live: &LiveFiles) -> bool {
        let wanted = [
            object.md5_hex(),
            object.content_type.clone(),
            object.cache_control.clone(),
        ];
        live.listed
            .get(&object.key)
            .is_some_and(|listed| listed.etag == wanted[0] && listed.modified <= live.written)
            && live.manifest.get(&object.key) == Some(&wanted)
    }

    fn to_upload<'a>(&'a self, live: &LiveFiles) -> Vec<&'a DesiredObject> {
        self.desired
            .values()
            .filter(|object| !Self::is_current(object, live))
            .collect()
    }

    fn to_delete(&self, live: &LiveFiles) -> Vec<String> {
        live.listed
            .keys()
            .filter(|key| !self.desired.contains_key(*key))
            .cloned()
            .collect()
    }
}

/// The objects in the bucket and the manifest of the last upload.
#[derive(Debug, Clone, Default)]
pub struct LiveFiles {
    /// Every object in the bucket but the manifest, by key.
    listed: BTreeMap<String, Listed>,
    /// The manifest (empty when there is none or it is unreadable: everything is then uploaded again).
    manifest: Manifest,
    /// When the manifest was written; an object changed after it is not ours as recorded.
    written: i128,
}

impl Resource for WebsiteFiles {
    type Live = LiveFiles;
    identity!(KIND, bucket, Parent);

    async fn read(&self, ctx: &Ctx) -> anyhow::Result<Option<LiveFiles>> {
        let bucket = &self.bucket;
        let mut listed = list(ctx, bucket).await?;
        let (manifest, written) = match listed.remove(MANIFEST) {
            Some(entry) => (read_manifest(ctx, bucket).await?, entry.modified),
            None => (Manifest::new(), 0),
        };
        Ok(Some(LiveFiles {
            listed,
            manifest,
            written,
        }))
    }

    /// One field per kind of work, only when there is some: "uploaded missing or different → 2 (a, b)".
    fn diff(&self, _ctx: &Ctx, live: &LiveFiles) -> Vec<FieldChange> {
        let mut uploaded: Vec<&str> = self
            .to_upload(live)
            .iter()
            .map(|o| o.key.as_str())
            .collect();
        uploaded.sort_unstable();
        let to_delete = self.to_delete(live);
        let deleted: Vec<&str> = to_delete.iter().map(String::as_str).collect();
        if uploaded.is_empty() && deleted.is_empty() {
            return Vec::new();
        }
        let mut fields = Vec::new();
        if !uploaded.is_empty() {
            fields.push(FieldChange::new(
                "uploaded",
                "missing or different",
                summary(&uploaded),
            ));
        }
        if !deleted.is_empty() {
            fields.push(FieldChange::new(
                "deleted",
                summary(&deleted),
                "gone (no longer in frontend/)",
            ));
        }
        let unchanged = self.desired.len() - uploaded.len();
        if unchanged > 0 {
            fields.push(FieldChange::new(
                "kept",
                "same content",
                format!("{unchanged} unchanged"),
            ));
        }
        fields
    }

    async fn create(&self, _ctx: &Ctx) -> anyhow::Result<()> {
        bail!("internal error: the website files are always read as present (perhaps empty)")
    }

    async fn update(&self, ctx: &Ctx, live: &LiveFiles, _changes: &Changes) -> anyhow::Result<()> {
        let bucket = &self.bucket;
        stream::iter(self.to_upload(live))
            .map(|object| upload(ctx, bucket, object))
            .buffer_unordered(PARALLEL_UPLOADS)
            .try_collect::<Vec<_>>()
            .await?;
        delete(ctx, bucket, &self.to_delete(live)).await?;
        // Last: a run cut off before this finds no record of the new uploads and checks them again.
        write_manifest(ctx, bucket, self.desired.values()).await
    }
}

/// `2 (a.js, b.css)`.
fn summary(keys: &[&str]) -> String {
    if keys.is_empty() {
        "0".to_owned()
    } else {
        format!("{} ({})", keys.len(), keys.join(", "))
    }
}

async fn upload(ctx: &Ctx, bucket: &str, object: &DesiredObject) -> anyhow::Result<()> {
    on_bucket(ctx, bucket, || {
        let request = ctx.aws.s3.put_object().bucket(bucket).key(&object.key);
        request
            .body(ByteStream::from(object.body.clone()))
            .content_type(&object.content_type)
            .cache_control(&object.cache_control)
            .send()
    })
    .await
    .aws_context(|| format!("uploading s3://{bucket}/{}", object.key))?;
    Ok(())
}

async fn delete(ctx: &Ctx, bucket: &str, keys: &[String]) -> anyhow::Result<()> {
    for batch in keys.chunks(1000) {
        let objects = batch
            .iter()
            .map(|key| ObjectIdentifier::builder().key(key).build())
            .collect::<Result<Vec<_>, _>>()?;
        website_bucket::delete_objects(ctx, bucket, objects)
            .await
            .context("removing objects no longer in frontend/")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_suit_browsers() {
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("app.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("styles/site.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("images/mug.svg"), "image/svg+xml");
        assert_eq!(content_type("images/photo.png"), "image/png");
        assert_eq!(content_type("data.json"), "application/json; charset=utf-8");
        assert_eq!(content_type("LICENSE"), "application/octet-stream");
    }

    #[test]
    fn only_pages_and_config_skip_the_cache() {
        assert_eq!(cache_control("index.html"), "no-cache");
        assert_eq!(cache_control("config.js"), "no-cache");
        assert_eq!(cache_control("app.js"), "public, max-age=300");
    }

    #[test]
    fn config_js_is_an_es_module_with_a_quoted_url() {
        assert_eq!(
            config_js("https://x.example/"),
            "export const API_URL = \"https://x.example/\";\n"
        );
        assert_eq!(config_js("a\"b"), "export const API_URL = \"a\\\"b\";\n");
    }
}
