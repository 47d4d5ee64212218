//! `keyward completions SHELL` and `keyward man`: generated from the same clap definitions
//! as the parser, so they always describe the commands that exist.

use std::path::Path;
use std::process::ExitCode;

use clap::CommandFactory;

use super::Cli;

pub fn completions(shell: clap_complete::Shell) -> ExitCode {
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, "keyward", &mut std::io::stdout());
    ExitCode::SUCCESS
}

/// The top page on stdout; with a directory, one page per command and subcommand, named as
/// `man` expects (`keyward-apikey-create.1`).
pub fn man(out_dir: Option<&Path>) -> ExitCode {
    let command = Cli::command();
    let result = match out_dir {
        None => clap_mangen::Man::new(command).render(&mut std::io::stdout()),
        Some(dir) => std::fs::create_dir_all(dir).and_then(|()| write_pages(command, dir)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write the man pages: {e}");
            ExitCode::from(1)
        }
    }
}

fn write_pages(command: clap::Command, dir: &Path) -> std::io::Result<()> {
    let mut command = command;
    command.build();
    write_page(&command, command.get_name(), dir)
}

fn write_page(command: &clap::Command, name: &str, dir: &Path) -> std::io::Result<()> {
    let page = command.clone().name(name.to_owned());
    let mut out = Vec::new();
    clap_mangen::Man::new(page).render(&mut out)?;
    std::fs::write(dir.join(format!("{name}.1")), out)?;
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        write_page(sub, &format!("{name}-{}", sub.get_name()), dir)?;
    }
    Ok(())
}
