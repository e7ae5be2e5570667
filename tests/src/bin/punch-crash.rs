//! The crash harness's executable: `run` is the parent, `device` and
//! `server` are the children it starts and kills (see `punch_tests::crash`).
//!
//! ```text
//! punch-crash run [--device-kills N] [--server-kills N] [--seed S] [--verbose]
//! punch-crash device --db PATH --server URL --policy-key HEX --seed S --max-ms MS
//! punch-crash server --db PATH --listen ADDR --max-ms MS
//! ```

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use punch_tests::crash::{self, CrashConfig};

fn flags(args: &[String]) -> Result<HashMap<String, String>, String> {
    let mut out = HashMap::new();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let name = flag
            .strip_prefix("--")
            .ok_or_else(|| format!("unexpected argument {flag:?}"))?;
        if name == "verbose" {
            out.insert(name.to_string(), String::new());
            continue;
        }
        let value = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
        out.insert(name.to_string(), value.clone());
    }
    Ok(out)
}

fn get<T: std::str::FromStr>(f: &HashMap<String, String>, name: &str) -> Result<T, String> {
    f.get(name)
        .ok_or_else(|| format!("--{name} is required"))?
        .parse()
        .map_err(|_| format!("--{name}: bad value"))
}

fn get_or<T: std::str::FromStr>(
    f: &HashMap<String, String>,
    name: &str,
    default: T,
) -> Result<T, String> {
    if f.contains_key(name) {
        get(f, name)
    } else {
        Ok(default)
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some(cmd) => flags(&args[1..]).and_then(|f| dispatch(cmd, &f)),
        None => Err("usage: punch-crash run|device|server [flags]".into()),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("punch-crash: {e}");
            ExitCode::from(2)
        }
    }
}

fn dispatch(cmd: &str, f: &HashMap<String, String>) -> Result<ExitCode, String> {
    match cmd {
        "device" => {
            let key = hex::decode(get::<String>(f, "policy-key")?).map_err(|e| e.to_string())?;
            crash::device_child(
                &get::<PathBuf>(f, "db")?,
                &get::<String>(f, "server")?,
                key,
                get(f, "seed")?,
                get_or(f, "burst", 3)?,
                get(f, "max-ms")?,
            )?;
            Ok(ExitCode::SUCCESS)
        }
        "server" => {
            crash::server_child(
                &get::<PathBuf>(f, "db")?,
                get(f, "listen")?,
                get(f, "max-ms")?,
            )?;
            Ok(ExitCode::SUCCESS)
        }
        "run" => {
            let config = CrashConfig {
                exe: std::env::current_exe().map_err(|e| e.to_string())?,
                device_kills: get_or(f, "device-kills", 1000)?,
                server_kills: get_or(f, "server-kills", 100)?,
                seed: get_or(f, "seed", crash::fresh_seed())?,
                verbose: f.contains_key("verbose"),
            };
            println!(
                "crash harness: seed {} ({} device kills, {} server kills)",
                config.seed, config.device_kills, config.server_kills
            );
            let started = std::time::Instant::now();
            let report = crash::run(&config)?;
            println!("{}", report.table());
            println!("took {:.1} s", started.elapsed().as_secs_f64());
            Ok(if report.is_clean() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        other => Err(format!("unknown command {other:?}")),
    }
}
