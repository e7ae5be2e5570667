//! Writes the real examples of every decoder target into `<dir>/<target>/`
//! (the cargo-fuzz corpus seeds): `punch-seeds fuzz/corpus`.

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let dir: PathBuf = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "fuzz/corpus".into())
        .into();
    let mut counts = std::collections::BTreeMap::new();
    for (target, bytes) in punch_tests::seeds::real_examples() {
        let folder = dir.join(target);
        std::fs::create_dir_all(&folder)?;
        let n = counts.entry(target).or_insert(0u32);
        std::fs::write(folder.join(format!("real-{n:03}")), bytes)?;
        *n += 1;
    }
    for (target, n) in counts {
        println!("{target}: {n} seeds");
    }
    Ok(())
}
