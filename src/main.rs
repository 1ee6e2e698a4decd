//! The `diplomacy` binary: parses the command line and runs it (`cli`).

#![deny(unsafe_code)]

mod cli;

use std::process::ExitCode;

use clap::Parser;

// sled allocates and frees a node copy on every insert; glibc's allocator
// spent a quarter of a bulk import in malloc and free (perf), mimalloc far
// less. Without transparent huge pages: with them, resident memory rose by
// hundreds of MB of half-used 2 MiB pages.
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
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
