use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // `{rust}` cells run in a child process that is this binary again:
    // evcxr's hook must come first so that the child runs cells, not the CLI
    #[cfg(feature = "rust")]
    evcxr::runtime_hook();
    #[cfg(feature = "rust")]
    coweave::kernel::claim_build_dir();
    coweave::cli::run(coweave::cli::Cli::parse())
}
