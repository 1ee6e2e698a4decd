//! The `diplomacy` binary: parses the command line and runs it (`cli`).

#![deny(unsafe_code)]

mod cli;

use std::process::ExitCode;

use clap::Parser;

// sled allocates and frees a node copy on every insert, where glibc's
// allocator cost far more than mimalloc (BENCHMARKS.md). Without
// transparent huge pages: with them, resident memory grew by half-used
// huge pages.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let logs = diplomacy::telemetry::logs::init(&cli.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            drop(logs);
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(cli.run());
    drop(runtime);
    // Written out before the final error line, so that it comes last.
    drop(logs);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            failure.code()
        }
    }
}
