//! `punch demo`, step 9: the server's evidence sealed at rest with a key
//! from configuration — rows written in clear are sealed by the reseal job,
//! the database file no longer holds the fix, every reader with the key
//! still sees it, and without the key the database does not open.

use std::path::Path;
use std::sync::Arc;

use punch_server::Admin;
use punch_server::AtRestKeys;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

pub(crate) fn run(server_db: &Path, employee: &str) -> Res<()> {
    println!(
        "\n9. Evidence encrypted at rest on the server (AES-256-GCM, a key file from configuration):"
    );
    let keys = Arc::new(AtRestKeys::parse(&AtRestKeys::generate_file("demo")?)?);
    let db = server_db.into();
    let lat =
        first_latitude(&Admin::connect(&db)?, employee)?.ok_or("the demo expected a stored fix")?;
    println!(
        "   - before: the database file holds the fix in clear (latitude {lat} found: {})",
        file_holds(server_db, lat.as_bytes())
    );
    let admin = Admin::connect_with(&db, Some(&keys))?;
    let report = admin.reseal_at_rest(&keys, true)?;
    let per_column: Vec<String> = report
        .columns
        .iter()
        .filter(|c| c.resealed > 0)
        .map(|c| format!("{} {}", c.column, c.resealed))
        .collect();
    println!(
        "   - `admin at-rest-reseal` sealed {} values ({})",
        report.resealed(),
        per_column.join(", ")
    );
    let still = first_latitude(&admin, employee)?;
    println!(
        "   - after: found in the file: {}; the employee's export, read with the key, still shows {}",
        file_holds(server_db, lat.as_bytes()),
        still.as_deref().unwrap_or("nothing")
    );
    if file_holds(server_db, lat.as_bytes()) || still.as_deref() != Some(lat.as_str()) {
        return Err("the demo expected the fix sealed in the file and clear with the key".into());
    }
    match Admin::connect(&db) {
        Err(e) => println!("   - without the key file: {e}"),
        Ok(_) => return Err("a sealed database opened without its keys".into()),
    }
    Ok(())
}

/// The latitude of the employee's first exported punch, as the record has it.
fn first_latitude(admin: &Admin, employee: &str) -> Res<Option<String>> {
    let export = admin.export(employee, punch_server::now_ms())?;
    Ok(export
        .punches
        .iter()
        .find_map(|p| p.evidence.as_ref()?.pointer("/gps/point/lat").cloned())
        .map(|lat| lat.to_string()))
}

/// Whether the SQLite file or its log holds `needle`.
fn file_holds(db: &Path, needle: &[u8]) -> bool {
    ["", "-wal"].iter().any(|ext| {
        let mut path = db.as_os_str().to_owned();
        path.push(ext);
        std::fs::read(path).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
    })
}
