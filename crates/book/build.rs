//! Copies mermaid's JavaScript out of the pinned mdbook-mermaid package into `OUT_DIR`, so the
//! binary carries exactly the version `Cargo.lock` names and the repository carries no copy.
//!
//! The files sit in that package's `src/bin/assets/`. `cargo metadata --offline` finds the
//! package's directory; it works offline because this tool is its own workspace with its own lock
//! file, whose packages cargo has already fetched before any build script runs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

const ASSETS: [&str; 2] = ["mermaid.min.js", "mermaid-init.js"];

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    println!("cargo::rerun-if-changed=Cargo.lock");
    let package = mermaid_package_dir(&manifest_dir.join("Cargo.toml"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    for asset in ASSETS {
        let from = package.join("src/bin/assets").join(asset);
        fs::copy(&from, out_dir.join(asset))
            .unwrap_or_else(|e| panic!("cannot copy {}: {e}", from.display()));
    }
}

/// The directory of the mdbook-mermaid package this build resolved.
fn mermaid_package_dir(manifest: &Path) -> PathBuf {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target = env::var("TARGET").unwrap();
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--offline",
            "--format-version",
            "1",
            "--filter-platform",
        ])
        .arg(&target)
        .arg("--manifest-path")
        .arg(manifest)
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let package = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "mdbook-mermaid")
        .expect("mdbook-mermaid is a dependency");
    let manifest_path = Path::new(package["manifest_path"].as_str().unwrap());
    manifest_path.parent().unwrap().to_path_buf()
}
