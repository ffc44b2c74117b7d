//! Embeds every module of the Python harness (`src/harness/py/*.py`), the course's check library
//! included, so adding a module there needs no change to the Rust code.
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/harness/py");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("src/harness/py")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".py"))
        .collect();
    names.sort();
    let mut out = String::from("const FILES: &[(&str, &str)] = &[\n");
    for n in &names {
        println!("cargo:rerun-if-changed={}", dir.join(n).display());
        out.push_str(&format!("    ({n:?}, include_str!({:?})),\n", dir.join(n).display().to_string()));
    }
    out.push_str("];\n");
    let to = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("harness_files.rs");
    std::fs::write(to, out).expect("write harness_files.rs");
}
