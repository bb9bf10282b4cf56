use std::process::ExitCode;

use clap::Parser;

#[global_allocator]
static ALLOCATOR: khabar_allocator::MiMalloc = khabar_allocator::MiMalloc;

fn main() -> ExitCode {
    khabar_allocator::return_freed_memory_at_once();
    let command = khabar::cli::Command::parse();
    khabar::cli::init_logging();
    command.yield_to_readers();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("khabar: error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(khabar::cli::run(command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("khabar: error: {error}");
            ExitCode::FAILURE
        }
    }
}
