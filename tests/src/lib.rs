//! Integration tests across crates live in `tests/tests/`; this library holds their helpers.

use std::path::PathBuf;

/// The `squeezeflow` binary cargo built for these tests.
pub fn squeezeflow_bin() -> PathBuf {
    let mut p = std::env::current_exe().expect("test binary path");
    p.pop();
    if p.ends_with("deps") {
        p.pop();
    }
    p.join(format!("squeezeflow{}", std::env::consts::EXE_SUFFIX))
}

/// The repository's root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// `../shared` beside the checkout (present for developers and CI, absent in a user's clone).
pub fn shared_dir() -> Option<PathBuf> {
    let p = repo_root().parent()?.join("shared");
    p.is_dir().then_some(p)
}
