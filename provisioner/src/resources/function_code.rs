//! The function's code package: build `shopsmart-function` for the configured architecture (or take a
//! prebuilt zip) and zip the binary as `bootstrap` reproducibly, so an unchanged binary gives the same
//! CodeSha256 and a second `up` uploads nothing.

use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};
use base64::Engine;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::config::model::{Architecture, Config};

const FUNCTION_PACKAGE: &str = "shopsmart-function";
const FUNCTION_BIN: &str = "shopsmart-api";

/// A zip ready for Lambda.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionZip {
    pub bytes: Vec<u8>,
    /// Base64 of the SHA-256 of `bytes`: what Lambda reports as `CodeSha256`.
    pub sha256_base64: String,
    /// Where the code came from, for messages (e.g. "built with cargo lambda for arm64").
    pub description: String,
}

impl FunctionZip {
    pub fn from_bytes(bytes: Vec<u8>, description: String) -> Self {
        let sha256_base64 = code_sha256(&bytes);
        Self {
            bytes,
            sha256_base64,
            description,
        }
    }
}

/// Lambda's `CodeSha256` of a deployment package.
pub fn code_sha256(zip_bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(zip_bytes))
}

/// Reads the prebuilt zip, or builds the function for `config.function.architecture` and zips it.
/// `emulator_only`: `dev`'s zip of a build for this machine, which the emulator stores and never runs, so
/// its binary is not checked against the architecture.
pub fn build(
    config: &Config,
    workspace_root: &Path,
    prebuilt_zip: Option<&Path>,
    emulator_only: bool,
) -> anyhow::Result<FunctionZip> {
    let architecture = config.function.architecture;
    if let Some(path) = prebuilt_zip {
        return read_prebuilt(path, (!emulator_only).then_some(architecture));
    }
    let how = if on_path("cargo-lambda") {
        "cargo lambda"
    } else {
        "cargo"
    };
    let cache = ZipCache::new(workspace_root, architecture, how)?;
    if let Some(bytes) = cache.read() {
        return Ok(FunctionZip::from_bytes(
            bytes,
            format!(
                "function/ unchanged since its last build (inputs {}): its zip is reused, nothing is built",
                cache.short_key()
            ),
        ));
    }
    let binary_path = if how == "cargo lambda" {
        build_with_cargo_lambda(workspace_root, architecture)?
    } else {
        build_with_plain_cargo(workspace_root, architecture)?
    };
    let binary = std::fs::read(&binary_path).with_context(|| {
        format!(
            "reading the built function binary ({})",
            binary_path.display()
        )
    })?;
    let bytes = zip_bootstrap(&binary)?;
    cache.store(&bytes);
    Ok(FunctionZip::from_bytes(
        bytes,
        format!("built with {how} for {}", architecture.lambda_name()),
    ))
}

/// Zips of earlier builds in the build directory, each named by the hash of everything that went into it
/// ([`input_hash`]): when the inputs are unchanged, `up` reuses the zip and runs no build at all (cargo's own
/// up-to-date check alone takes most of a no-op `up`).
struct ZipCache {
    dir: PathBuf,
    key: String,
}

/// How many zips the cache keeps (the newest); older ones are deleted when a new one is stored.
const CACHED_ZIPS: usize = 3;

impl ZipCache {
    fn new(workspace_root: &Path, architecture: Architecture, how: &str) -> anyhow::Result<Self> {
        Ok(Self {
            dir: target_dir(workspace_root).join("shopsmart-function-zips"),
            key: input_hash(workspace_root, architecture, how, &toolchain_version())?,
        })
    }

    fn short_key(&self) -> &str {
        &self.key[..12]
    }

    fn path(&self) -> PathBuf {
        self.dir.join(format!("{}.zip", self.key))
    }

    /// The cached zip, when there is one and it is a zip of ours (a damaged file counts as a miss).
    fn read(&self) -> Option<Vec<u8>> {
        let bytes = std::fs::read(self.path()).ok()?;
        check_prebuilt_zip(&bytes, None).ok()?;
        Some(bytes)
    }

    /// Stores `zip` (written to a temporary name, then renamed, so a cut-off run never leaves half a zip under
    /// the final name) and keeps only the newest [`CACHED_ZIPS`]. Best effort: a failure only costs the next
    /// run a build.
    fn store(&self, zip: &[u8]) {
        let temporary = self.dir.join(format!("{}.zip.partial", self.key));
        let stored = std::fs::create_dir_all(&self.dir)
            .and_then(|()| std::fs::write(&temporary, zip))
            .and_then(|()| std::fs::rename(&temporary, self.path()));
        if let Err(err) = stored {
            tracing::warn!("could not keep the function zip for the next run: {err}");
            return;
        }
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut zips: Vec<(std::time::SystemTime, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "zip"))
            .filter_map(|entry| Some((entry.metadata().ok()?.modified().ok()?, entry.path())))
            .collect();
        zips.sort_by_key(|zip| std::cmp::Reverse(zip.0));
        for (_, old) in zips.into_iter().skip(CACHED_ZIPS) {
            let _ = std::fs::remove_file(old);
        }
    }
}

/// `rustc -vV` (the toolchain's version, commit and host), or "" when rustc cannot be run (the build then
/// fails with its own message).
fn toolchain_version() -> String {
    Command::new("rustc")
        .arg("-vV")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
        .unwrap_or_default()
}

/// SHA-256 (hex) of everything that goes into the function binary: each file under `function/` (path and
/// content; build output in `target/` and hidden directories left out), the workspace's `Cargo.toml`,
/// `Cargo.lock`, `.cargo/config.toml` and `rust-toolchain(.toml)` when present, the toolchain, the target,
/// the release profile, the builder, and the RUSTFLAGS / CARGO_PROFILE_* / CARGO_BUILD_* environment.
fn input_hash(
    workspace_root: &Path,
    architecture: Architecture,
    how: &str,
    toolchain: &str,
) -> anyhow::Result<String> {
    let mut hasher = Sha256::new();
    let mut field = |name: &str, value: &[u8]| {
        hasher.update((name.len() as u64).to_le_bytes());
        hasher.update(name.as_bytes());
        hasher.update((value.len() as u64).to_le_bytes());
        hasher.update(value);
    };
    field("toolchain", toolchain.as_bytes());
    field("target", architecture.rust_target().as_bytes());
    field("profile", b"release");
    field("builder", how.as_bytes());
    let mut env: Vec<(String, String)> = std::env::vars()
        .filter(|(key, _)| {
            key.contains("RUSTFLAGS")
                || key.starts_with("CARGO_PROFILE_")
                || key.starts_with("CARGO_BUILD_")
        })
        .collect();
    env.sort();
    for (key, value) in env {
        field(&key, value.as_bytes());
    }
    let mut files = Vec::new();
    list_files(&workspace_root.join("function"), &mut files)?;
    for extra in [
        "Cargo.toml",
        "Cargo.lock",
        ".cargo/config.toml",
        ".cargo/config",
        "rust-toolchain",
        "rust-toolchain.toml",
    ] {
        let path = workspace_root.join(extra);
        if path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    for path in files {
        let content = std::fs::read(&path)
            .with_context(|| format!("reading {} to see if it changed", path.display()))?;
        let relative = path.strip_prefix(workspace_root).unwrap_or(&path);
        field(&relative.to_string_lossy(), &content);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Every file below `dir`, except in `target` and hidden directories.
fn list_files(dir: &Path, files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
        let path = entry.path();
        let name = entry.file_name();
        let file_type = entry
            .file_type()
            .with_context(|| format!("reading {}", path.display()))?;
        if file_type.is_dir() {
            if name != "target" && !name.to_string_lossy().starts_with('.') {
                list_files(&path, files)?;
            }
        } else if file_type.is_file() {
            files.push(path);
        }
    }
    Ok(())
}

/// Reads a zip built elsewhere (`--function-zip PATH`) and refuses one Lambda could not run on
/// `architecture` (when given); the caller makes that a usage error.
pub fn read_prebuilt(
    path: &Path,
    architecture: Option<Architecture>,
) -> anyhow::Result<FunctionZip> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("reading the function zip ({})", path.display()))?;
    check_prebuilt_zip(&bytes, architecture).map_err(anyhow::Error::msg)?;
    Ok(FunctionZip::from_bytes(
        bytes,
        format!("prebuilt zip {}", path.display()),
    ))
}

/// Zips `binary` as a single executable entry `bootstrap` with fixed metadata (timestamp 1980-01-01, mode
/// 0755, deflate), so equal binaries always give byte-identical zips.
pub fn zip_bootstrap(binary: &[u8]) -> anyhow::Result<Vec<u8>> {
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(6))
        .last_modified_time(DateTime::default())
        .unix_permissions(0o755);
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    writer
        .start_file("bootstrap", options)
        .context("zipping the function binary as bootstrap")?;
    writer
        .write_all(binary)
        .context("zipping the function binary as bootstrap")?;
    let cursor = writer.finish().context("finishing the function zip")?;
    Ok(cursor.into_inner())
}

/// A prebuilt zip must hold an executable `bootstrap` at its root, a Linux (ELF) binary for `architecture`
/// when given, or Lambda would only fail at the first request.
fn check_prebuilt_zip(bytes: &[u8], architecture: Option<Architecture>) -> Result<(), String> {
    const REBUILD: &str = "build it with `cargo lambda build --release --output-format zip`";
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|err| format!("not a zip file ({err}); {REBUILD}"))?;
    let mut bootstrap = archive.by_name("bootstrap").map_err(|_| {
        format!("the zip has no `bootstrap` entry at its root; a provided.al2023 function needs its binary named bootstrap: {REBUILD}")
    })?;
    if bootstrap.unix_mode().is_none_or(|mode| mode & 0o111 == 0) {
        return Err(format!(
            "`bootstrap` is not executable (its unix mode in the zip has no execute bit; zips made on Windows \
             lose it), so Lambda could not start it; chmod 755 it and zip it on Linux or macOS, or {REBUILD}"
        ));
    }
    let Some(wanted) = architecture else {
        return Ok(());
    };
    let mut header = [0u8; 20];
    if bootstrap.read_exact(&mut header).is_err() || !header.starts_with(b"\x7fELF") {
        return Err(format!("`bootstrap` is not a Linux executable (no ELF header), which the provided.al2023 runtime needs; {REBUILD}"));
    }
    let found = match u16::from_le_bytes([header[18], header[19]]) {
        0x3E => Architecture::X86_64.lambda_name(),
        0xB7 => Architecture::Arm64.lambda_name(),
        _ => "neither x86_64 nor arm64",
    };
    if found != wanted.lambda_name() {
        return Err(format!(
            "`bootstrap` is built for {found} (its ELF header says so), but function.architecture is {0}; \
             rebuild with `cargo lambda build --release --{1} --output-format zip`, or set function.architecture \
             in shopsmart.yaml to the binary's",
            wanted.lambda_name(),
            wanted.lambda_name().replace('_', "-")
        ));
    }
    Ok(())
}

fn target_dir(workspace_root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root.join("target"))
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false)
}

/// What plain `cargo build` needs to make a binary Lambda can run: it links against this machine's glibc,
/// which must be at most the 2.34 of Lambda's provided.al2023 (else every invocation fails with
/// `GLIBC_2.3x not found`), and builds for this machine's architecture, which must be the configured one.
fn plain_cargo_allowed(
    glibc: Option<&str>,
    host_arch: &str,
    wanted: Architecture,
) -> Result<(), String> {
    const INSTALL: &str = "install cargo-lambda and zig (`pip install cargo-lambda` brings both, or \
        `cargo install --locked cargo-lambda` plus zig from ziglang.org), or pass --function-zip PATH";
    let host_matches = matches!(
        (host_arch, wanted),
        ("x86_64", Architecture::X86_64) | ("aarch64", Architecture::Arm64)
    );
    if !host_matches {
        return Err(format!(
            "cargo-lambda is not on PATH, and plain cargo builds for this machine ({host_arch}), not for \
             function.architecture {}; {INSTALL}, or set function.architecture to this machine's",
            wanted.lambda_name()
        ));
    }
    let version = glibc.and_then(|v| {
        let mut parts = v.trim().split('.').map(str::parse::<u32>);
        Some((parts.next()?.ok()?, parts.next()?.ok()?))
    });
    if version.is_some_and(|v| v <= (2, 34)) {
        return Ok(());
    }
    Err(format!(
        "cargo-lambda is not on PATH, and plain cargo would link against this machine's glibc ({}), \
         while Lambda's provided.al2023 has glibc 2.34: a binary built on a newer one fails on every \
         invocation with `GLIBC_2.3x not found`; {INSTALL}",
        glibc.unwrap_or("version unknown")
    ))
}

/// This machine's glibc version: `getconf GNU_LIBC_VERSION` prints e.g. `glibc 2.39` (fails without glibc).
fn host_glibc() -> Option<String> {
    let out = Command::new("getconf")
        .arg("GNU_LIBC_VERSION")
        .output()
        .ok()
        .filter(|out| out.status.success())?;
    let text = String::from_utf8_lossy(&out.stdout);
    Some(text.trim().strip_prefix("glibc ")?.to_owned())
}

fn run_cargo(workspace_root: &Path, args: &[&str]) -> anyhow::Result<()> {
    let rendered = format!("cargo {}", args.join(" "));
    let status = Command::new("cargo")
        .args(args)
        .current_dir(workspace_root)
        .status()
        .with_context(|| format!("running `{rendered}` in {}", workspace_root.display()))?;
    if !status.success() {
        bail!("`{rendered}` failed ({status}); fix the build error above, or pass --function-zip PATH");
    }
    Ok(())
}

fn build_with_cargo_lambda(
    workspace_root: &Path,
    architecture: Architecture,
) -> anyhow::Result<PathBuf> {
    let arch_flag = match architecture {
        Architecture::Arm64 => "--arm64",
        Architecture::X86_64 => "--x86-64",
    };
    run_cargo(
        workspace_root,
        &[
            "lambda",
            "build",
            "--release",
            arch_flag,
            "-p",
            FUNCTION_PACKAGE,
        ],
    )?;
    Ok(target_dir(workspace_root)
        .join("lambda")
        .join(FUNCTION_BIN)
        .join("bootstrap"))
}

fn build_with_plain_cargo(
    workspace_root: &Path,
    architecture: Architecture,
) -> anyhow::Result<PathBuf> {
    let wanted = architecture.rust_target();
    plain_cargo_allowed(
        host_glibc().as_deref(),
        std::env::consts::ARCH,
        architecture,
    )
    .map_err(anyhow::Error::msg)?;
    run_cargo(
        workspace_root,
        &[
            "build",
            "--release",
            "-p",
            FUNCTION_PACKAGE,
            "--bin",
            FUNCTION_BIN,
            "--target",
            wanted,
        ],
    )?;
    Ok(target_dir(workspace_root)
        .join(wanted)
        .join("release")
        .join(FUNCTION_BIN))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn same_binary_gives_byte_identical_zip_and_sha() {
        let binary: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let first = zip_bootstrap(&binary).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100)); // a wall-clock timestamp would now differ
        let second = zip_bootstrap(&binary).unwrap();
        assert_eq!(first, second);
        assert_eq!(code_sha256(&first), code_sha256(&second));
    }

    #[test]
    fn different_binary_gives_different_sha() {
        let a = zip_bootstrap(b"binary one").unwrap();
        let b = zip_bootstrap(b"binary two").unwrap();
        assert_ne!(code_sha256(&a), code_sha256(&b));
    }

    #[test]
    fn zip_holds_an_executable_bootstrap_with_fixed_time() {
        let bytes = zip_bootstrap(b"\x7fELF pretend").unwrap();
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        assert_eq!(archive.len(), 1);
        let mut entry = archive.by_name("bootstrap").unwrap();
        assert_eq!(entry.unix_mode().map(|mode| mode & 0o777), Some(0o755));
        assert_eq!(entry.compression(), CompressionMethod::Deflated);
        let time = entry.last_modified().unwrap();
        assert_eq!(
            (
                time.year(),
                time.month(),
                time.day(),
                time.hour(),
                time.minute()
            ),
            (1980, 1, 1, 0, 0)
        );
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        assert_eq!(content, b"\x7fELF pretend");
    }

    #[test]
    fn code_sha256_is_base64_of_sha256() {
        // sha256("") = e3b0c442...; its base64 is the well-known value below.
        assert_eq!(
            code_sha256(b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }

    /// A 64-byte ELF header for `machine`: all the checks read.
    fn elf(machine: u16) -> Vec<u8> {
        let mut header = vec![0u8; 64];
        header[..6].copy_from_slice(b"\x7fELF\x02\x01");
        header[18..20].copy_from_slice(&machine.to_le_bytes());
        header
    }

    fn zip_entry(name: &str, mode: u32, content: &[u8]) -> Vec<u8> {
        let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default().unix_permissions(mode);
        writer.start_file(name, options).unwrap();
        writer.write_all(content).unwrap();
        writer.finish().unwrap().into_inner()
    }

    #[test]
    fn prebuilt_zip_is_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.zip");
        std::fs::write(&good, zip_bootstrap(&elf(0xB7)).unwrap()).unwrap();
        let zip = read_prebuilt(&good, Some(Architecture::Arm64)).unwrap();
        assert_eq!(
            zip.sha256_base64,
            code_sha256(&std::fs::read(&good).unwrap())
        );

        let bad = dir.path().join("bad.zip");
        std::fs::write(&bad, b"not a zip").unwrap();
        let err = read_prebuilt(&bad, None).unwrap_err();
        assert!(format!("{err:#}").contains("not a zip file"), "{err:#}");
    }

    #[test]
    fn prebuilt_zip_lambda_could_not_run_is_refused() {
        let arm = Some(Architecture::Arm64);
        let cases: [(Vec<u8>, Option<Architecture>, &str); 5] = [
            (zip_entry("bin/bootstrap", 0o755, &elf(0xB7)), arm, "no `bootstrap` entry at its root"),
            (zip_entry("bootstrap", 0o644, &elf(0xB7)), arm, "`bootstrap` is not executable"),
            (zip_bootstrap(&elf(0x3E)).unwrap(), arm, "built for x86_64 (its ELF header says so), but function.architecture is arm64"),
            (zip_bootstrap(&elf(0xB7)).unwrap(), Some(Architecture::X86_64), "built for arm64 (its ELF header says so), but function.architecture is x86_64; rebuild with `cargo lambda build --release --x86-64"),
            (zip_bootstrap(b"#!/bin/sh\nexec ./shopsmart-api \"$@\"\n").unwrap(), arm, "not a Linux executable (no ELF header)"),
        ];
        for (zip, architecture, says) in cases {
            let err = check_prebuilt_zip(&zip, architecture).unwrap_err();
            assert!(err.contains(says), "{err}");
        }
        // dev's zip of a build for this machine is not checked against the architecture.
        assert_eq!(
            check_prebuilt_zip(&zip_bootstrap(b"Mach-O").unwrap(), None),
            Ok(())
        );
    }

    #[test]
    fn plain_cargo_only_builds_what_lambda_can_run() {
        let arm = Architecture::Arm64;
        assert_eq!(plain_cargo_allowed(Some("2.34"), "aarch64", arm), Ok(()));
        assert_eq!(plain_cargo_allowed(Some("2.31"), "aarch64", arm), Ok(()));
        assert_eq!(
            plain_cargo_allowed(Some("2.26"), "x86_64", Architecture::X86_64),
            Ok(())
        );
        for (glibc, host, says) in [
            (Some("2.35"), "aarch64", "glibc (2.35)"),
            (Some("2.39"), "aarch64", "`GLIBC_2.3x not found`"),
            (None, "aarch64", "glibc (version unknown)"),
            (Some("weird"), "aarch64", "glibc (weird)"),
            (
                Some("2.34"),
                "x86_64",
                "builds for this machine (x86_64), not for function.architecture arm64",
            ),
        ] {
            let err = plain_cargo_allowed(glibc, host, arm).unwrap_err();
            assert!(
                err.contains(says) && err.contains("pip install cargo-lambda"),
                "{err}"
            );
        }
    }

    /// A workspace with a function crate, a lock file and build output, for the input hash.
    fn workspace() -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        let write = |path: &str, text: &str| {
            let path = root.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write("Cargo.lock", "lock v1");
        write("Cargo.toml", "[workspace]");
        write("function/Cargo.toml", "[package]");
        write("function/src/main.rs", "fn main() {}");
        write("function/target/release/junk", "build output");
        root
    }

    fn hash_of(root: &Path, architecture: Architecture, toolchain: &str) -> String {
        input_hash(root, architecture, "cargo lambda", toolchain).unwrap()
    }

    #[test]
    fn input_hash_follows_every_input_of_the_build_and_nothing_else() {
        let root = workspace();
        let dir = root.path();
        let base = hash_of(dir, Architecture::Arm64, "rustc 1.90.0");
        assert_eq!(base, hash_of(dir, Architecture::Arm64, "rustc 1.90.0"));
        // Build output and hidden directories are not inputs.
        std::fs::write(dir.join("function/target/release/junk"), "other output").unwrap();
        std::fs::create_dir_all(dir.join("function/.idea")).unwrap();
        std::fs::write(dir.join("function/.idea/x"), "editor state").unwrap();
        assert_eq!(base, hash_of(dir, Architecture::Arm64, "rustc 1.90.0"));
        // The target, the toolchain and the builder are.
        assert_ne!(base, hash_of(dir, Architecture::X86_64, "rustc 1.90.0"));
        assert_ne!(base, hash_of(dir, Architecture::Arm64, "rustc 1.91.0"));
        assert_ne!(
            base,
            input_hash(dir, Architecture::Arm64, "cargo", "rustc 1.90.0").unwrap()
        );
        // So is every source file, a new one, and the lock file.
        for (path, text) in [
            ("function/src/main.rs", "fn main() { }"),
            ("function/src/new.rs", ""),
            ("Cargo.lock", "lock v2"),
        ] {
            let before = hash_of(dir, Architecture::Arm64, "rustc 1.90.0");
            std::fs::write(dir.join(path), text).unwrap();
            assert_ne!(
                before,
                hash_of(dir, Architecture::Arm64, "rustc 1.90.0"),
                "{path}"
            );
        }
    }

    #[test]
    fn zip_cache_returns_what_was_stored_and_keeps_the_newest_three() {
        let root = workspace();
        let cache = |key: &str| ZipCache {
            dir: root.path().join("zips"),
            key: key.repeat(64),
        };
        assert_eq!(cache("a").read(), None);
        let zip = zip_bootstrap(b"\x7fELF binary").unwrap();
        cache("a").store(&zip);
        assert_eq!(cache("a").read(), Some(zip.clone()));
        // A damaged file is a miss, not a zip to deploy.
        std::fs::write(cache("b").path(), b"not a zip").unwrap();
        assert_eq!(cache("b").read(), None);
        for key in ["c", "d", "e"] {
            std::thread::sleep(std::time::Duration::from_millis(20));
            cache(key).store(&zip);
        }
        let mut kept: Vec<String> = std::fs::read_dir(root.path().join("zips"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy()[..1].to_owned())
            .collect();
        kept.sort();
        assert_eq!(kept, ["c", "d", "e"]);
    }
}
