//! `wallboard`: one binary for every role (replay, simulate, …).

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
