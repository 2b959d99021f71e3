use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    coweave::cli::run(coweave::cli::Cli::parse())
}
