//! `punch`: the demo and a developer tool for punch-core.

mod demo;
mod demo_at_rest;
mod demo_browser;
mod demo_devices;
mod demo_exceptions;
mod demo_faults;
mod demo_forgotten;
mod demo_kit;
mod demo_photo;
mod demo_pin;
mod evaluate_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "punch",
    version,
    about = "Offline-first punch core: demo and developer tool"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Tell the offline punch story on the embedded sample policy.
    Demo,
    /// Judge one fix (and Wi-Fi/IP evidence) against a policy file; prints JSON.
    Evaluate(evaluate_cmd::Args),
    /// Verify the signed hash chain of a device database; prints JSON.
    Verify {
        /// The device database file.
        #[arg(long)]
        db: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo => demo::run(),
        Command::Evaluate(args) => evaluate_cmd::run(&args),
        Command::Verify { db } => verify(&db),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

type CmdResult = Result<ExitCode, Box<dyn std::error::Error>>;

fn verify(db: &std::path::Path) -> CmdResult {
    if !db.exists() {
        return Err(format!("no database at {}", db.display()).into());
    }
    let engine = punch_core::PunchEngine::open(db)?;
    let report = engine.verify_chain()?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(if report.is_intact() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
