//! The `keyward` binary.

/// mimalloc rather than the system allocator: each request allocates and frees many small
/// buffers, and under load glibc's malloc was about an eighth of the verify endpoint's CPU
/// (BENCHMARKS.md, "Profile").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    keyward::cli::main()
}
