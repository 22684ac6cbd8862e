//! `softland`: the command-line program. See `softland --help`.

/// mimalloc instead of the system allocator: a command allocates many small, short-lived
/// values (JSON, SQL arguments, rows) from several threads, where glibc's malloc spent a third
/// of the time in its own bookkeeping (measured with `perf record` on `softland growth`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    softland::cli::run()
}
