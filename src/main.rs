//! `softland`: the command-line program. See `softland --help`.

fn main() -> std::process::ExitCode {
    softland::cli::run()
}
