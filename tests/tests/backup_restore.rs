//! Backup and restore as documented in server/README.md, on the back end
//! under test: SQLite's online backup API (taken while the server runs),
//! or pg_dump -Fc / pg_restore. After restoring an older backup the server
//! has lost records it had acknowledged; the device notices the gap and
//! sends them again, and every record ends up stored exactly once.

use std::path::Path;
use std::process::Command;

use punch_server::{Admin, DbUrl};
use punch_tests::world::World;

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("tool runs");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn backup(db: &DbUrl, to: &Path) {
    match db {
        // Online: the server keeps running and writing meanwhile.
        DbUrl::Sqlite(path) => punch_server::backup_sqlite(path, to).expect("backup"),
        DbUrl::Postgres(url) => run(Command::new("pg_dump")
            .args(["--format=custom", "--file"])
            .arg(to)
            .arg(url)),
    }
}

fn restore(db: &DbUrl, from: &Path) {
    match db {
        DbUrl::Sqlite(path) => {
            // Servers stopped: the backup replaces the file and its WAL.
            for suffix in ["-wal", "-shm"] {
                let side = format!("{}{suffix}", path.display());
                if Path::new(&side).exists() {
                    std::fs::remove_file(&side).expect("remove WAL");
                }
            }
            std::fs::copy(from, path).expect("restore copy");
        }
        DbUrl::Postgres(url) => run(Command::new("pg_restore")
            .args([
                "--clean",
                "--if-exists",
                "--single-transaction",
                "--exit-on-error",
                "-d",
            ])
            .arg(url)
            .arg(from)),
    }
}

#[test]
fn an_older_backup_restored_is_refilled_by_the_device() {
    let mut w = World::new();
    w.engine.sync().unwrap();
    w.punch();
    w.punch();
    assert_eq!(w.engine.sync().unwrap().uploaded, 2);
    let file = w.dir.path().join("server.backup");
    backup(&w.server_db, &file);

    // Acknowledged after the backup: what a restore will lose.
    w.punch();
    w.punch();
    w.punch();
    assert_eq!(w.engine.sync().unwrap().uploaded, 3);
    assert_eq!(w.admin.punches().unwrap().len(), 5);

    // Disaster: restore the older backup (servers stopped, as documented).
    w.stop_server();
    w.admin = Admin::connect(&DbUrl::Sqlite(w.dir.path().join("elsewhere.db"))).unwrap();
    restore(&w.server_db, &file);
    w.admin = Admin::connect(&w.server_db).unwrap();
    assert_eq!(w.admin.punches().unwrap().len(), 2);
    w.start_server();

    // The next sync learns the server's head, re-sends 3..5 and the new one.
    w.punch();
    let report = w.engine.sync().unwrap();
    assert_eq!((report.resent, report.uploaded), (3, 4), "{report:?}");
    assert!(report.rejected.is_empty(), "{report:?}");
    let seqs: Vec<u64> = w.admin.punches().unwrap().iter().map(|p| p.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4, 5, 6]);
    // The probe that found the gap is kept as evidence, as every refusal is.
    let evidence = w.admin.rejected().unwrap();
    assert!(evidence.iter().all(|r| r.reason == "gap"), "{evidence:?}");
    // A backup taken from a live SQLite server is itself a sound database.
    assert!(w.engine.verify_chain().unwrap().is_intact());
}
