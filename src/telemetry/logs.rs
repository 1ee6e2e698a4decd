//! Log lines on standard error, as text or JSON, at the level `RUST_LOG`
//! sets (default `info`).

/// Log formats `init` takes.
pub const FORMATS: [&str; 2] = ["text", "json"];

/// Installs the process-wide log subscriber. Logs go to standard error
/// through a writer thread: a server logs a line per call, and a write(2)
/// per line on the runtime's threads cost about a fifth of a cheap call's
/// CPU (and would stall a worker whenever the log reader is slow). The
/// thread writes whatever has queued up with one write. It is not lossy:
/// past 128,000 queued lines, logging waits. Lines are written out when the
/// returned guard is dropped.
pub fn init(format: &str) -> tracing_appender::non_blocking::WorkerGuard {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("diplomacy-log")
        .finish(std::io::BufWriter::new(std::io::stderr()));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    if format == "json" {
        logs.json()
            .with_current_span(true)
            .with_span_list(false)
            .init();
    } else {
        logs.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init();
    }
    guard
}
