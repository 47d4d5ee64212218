//! Structured logs through `tracing`, as text or JSON (`log_format`), on stderr. `RUST_LOG`
//! sets levels.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    // Colour codes only for a person at a terminal; in a file or a log collector they are
    // noise that breaks grep. NO_COLOR (no-color.org) turns them off there too.
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    install(format, filter, colour, std::io::stderr);
}

/// The same logs, at the levels of `filter` (an `EnvFilter` directive), into `writer`: for
/// processes that serve in-process, such as the test suite's leak scan.
pub fn init_to<W>(format: LogFormat, filter: &str, writer: W)
where
    W: for<'a> tracing_subscriber::fmt::MakeWriter<'a> + Send + Sync + 'static,
{
    install(format, EnvFilter::new(filter), false, writer);
}

fn install<W>(format: LogFormat, filter: EnvFilter, colour: bool, writer: W)
where
    W: for<'a> tracing_subscriber::fmt::MakeWriter<'a> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(writer);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
