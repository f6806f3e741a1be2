//! The committed header `include/clusto.h` is what cbindgen makes of the current
//! source. `CLUSTO_BLESS=1` rewrites it.

use std::path::PathBuf;

#[test]
fn header_is_fresh() {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).unwrap();
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut generated);
    let path = crate_dir.join("include/clusto.h");
    if std::env::var_os("CLUSTO_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/clusto.h is stale: run CLUSTO_BLESS=1 cargo test -p clusto-ffi --test header"
    );
}
