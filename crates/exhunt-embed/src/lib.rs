//! For build scripts: embed every file of a repository folder with one of the given extensions
//! as a `static NAME: &[(&str, &str)]` of (path under the folder, text), so the binary carries
//! its built-in rules and packs wherever it is copied. Paths use `/` and are sorted, so the
//! embedded order does not depend on the file system.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// What to embed and where the generated Rust goes.
pub struct Embed<'a> {
    /// Folder relative to the workspace root (`rules`, `yara`, `iocs`).
    pub folder: &'a str,
    /// File extensions to take, without the dot.
    pub extensions: &'a [&'a str],
    /// Name of the generated static.
    pub static_name: &'a str,
    /// Its doc comment.
    pub doc: &'a str,
    /// File written under `OUT_DIR`, to `include!`.
    pub out_file: &'a str,
}

/// Run from a build script of a crate under `crates/`.
pub fn embed(e: &Embed<'_>) {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let dir = manifest.join("../..").join(e.folder);
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files = Vec::new();
    collect(&dir, &dir, e.extensions, &mut files);
    if files.is_empty() {
        panic!(
            "no {} file in the built-in folder {}",
            e.extensions.join("/"),
            dir.display()
        );
    }
    files.sort();
    let mut src = format!(
        "/// {}\npub static {}: &[(&str, &str)] = &[\n",
        e.doc, e.static_name
    );
    for (rel, path) in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let abs = fs::canonicalize(path)
            .unwrap_or_else(|err| panic!("cannot resolve {}: {err}", path.display()));
        writeln!(
            src,
            "    ({rel:?}, include_str!({:?})),",
            abs.display().to_string()
        )
        .expect("writing to a String");
    }
    src.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join(e.out_file);
    fs::write(&out, src).unwrap_or_else(|err| panic!("cannot write {}: {err}", out.display()));
}

fn collect(dir: &Path, base: &Path, extensions: &[&str], out: &mut Vec<(String, PathBuf)>) {
    let entries = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read the built-in folder {}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, base, extensions, out);
        } else if path
            .extension()
            .and_then(|x| x.to_str())
            .is_some_and(|x| extensions.contains(&x))
        {
            let rel = path
                .strip_prefix(base)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, path));
        }
    }
}
