//! `wantu`: the command-line tool for the Wantu media-storage service,
//! built on libwantu's Rust core (not its C ABI).

mod args;
mod config;
mod copy;
mod engines;
mod fail;
mod manage;
mod options;
mod plan;
mod remote;
mod report;
mod settings;
mod stdio;
mod sync;

use args::{Cli, Command};
use clap::{CommandFactory, Parser};
use fail::{Fail, Outcome};
use report::{Mode, Report};
use wantu::transfer::CancelToken;

fn main() {
    let cli = Cli::parse();
    let code = match run(&cli) {
        Ok(()) => 0,
        Err(fail) => {
            // Per-file failures were reported as they happened.
            if !matches!(fail, Fail::Reported) {
                eprintln!("wantu: {fail}");
            }
            fail.exit_code()
        }
    };
    std::process::exit(code);
}

fn flags(cli: &Cli) -> settings::Flags {
    let g = &cli.global;
    settings::Flags {
        ak: g.ak.clone(),
        sk: g.sk.clone(),
        key_type: g.key_type.clone(),
        endpoint: g.endpoint.clone(),
        upload_endpoint: g.upload_endpoint.clone(),
        manage_endpoint: g.manage_endpoint.clone(),
        config: g.config.clone(),
    }
}

fn run(cli: &Cli) -> Outcome {
    let mode = Mode {
        json: cli.global.json,
        quiet: cli.global.quiet,
    };
    let mut report = Report::new(mode);
    let flags = flags(cli);
    match &cli.command {
        Command::Completions(a) => {
            let mut cmd = Cli::command();
            clap_complete::generate(a.shell, &mut cmd, "wantu", &mut std::io::stdout());
            return Ok(());
        }
        Command::Config(a) => return config::run(&flags, a, &report),
        _ => {}
    }
    // Usage errors come before configuration errors: a wrong path is
    // named even where no keys are set up.
    check_paths(&cli.command)?;
    let rate = limit_rate(&cli.command)?;
    let mut config = settings::client_config(&flags)?;
    config.options.limit_rate_bytes_per_sec = rate;
    let client = wantu::Client::new(config).map_err(|e| Fail::Config(e.message().into()))?;
    match &cli.command {
        Command::Ls(a) => manage::ls(&client, &mut report, a),
        Command::Stat(a) => manage::stat(&client, &mut report, a),
        Command::Rm(a) => manage::rm(&client, &mut report, a),
        Command::Mv(a) => manage::mv(&client, &mut report, a),
        Command::Mkdir(a) => manage::mkdir(&client, &mut report, a),
        Command::Url(a) => manage::url(&client, &mut report, a),
        Command::Token(a) => manage::token(&client, &mut report, a),
        Command::Cp(a) => copy::cp(&client, &mut report, a, &interrupt()),
        Command::Cat(a) => stdio::cat(&client, &mut report, a, &interrupt()),
        Command::Sync(a) => sync::sync(&client, &mut report, a, &interrupt()),
        Command::Completions(_) | Command::Config(_) => unreachable!("handled above"),
    }
}

/// `--limit-rate` of `cp` and `sync`: one budget for the client, so every
/// transfer of the command shares it.
fn limit_rate(command: &Command) -> Outcome<Option<u64>> {
    let given = match command {
        Command::Cp(a) => a.transfer.limit_rate.as_deref(),
        Command::Sync(a) => a.transfer.limit_rate.as_deref(),
        _ => None,
    };
    given.map(options::parse_rate).transpose()
}

/// Parses every remote path argument of the command, naming the first
/// malformed one.
fn check_paths(command: &Command) -> Outcome {
    let (always_remote, maybe_remote): (Vec<&String>, Vec<&String>) = match command {
        Command::Ls(a) => (vec![&a.path], vec![]),
        Command::Stat(a) | Command::Url(a) => (a.paths.iter().collect(), vec![]),
        Command::Rm(a) => (a.paths.iter().collect(), vec![]),
        Command::Mkdir(a) => (a.paths.iter().collect(), vec![]),
        Command::Mv(a) => (vec![&a.src, &a.dst], vec![]),
        Command::Token(a) => (a.path.iter().collect(), vec![]),
        Command::Cp(a) => (vec![], a.paths.iter().collect()),
        Command::Cat(a) => (a.paths.iter().collect(), vec![]),
        Command::Sync(a) => (vec![], vec![&a.src, &a.dst]),
        Command::Config(_) | Command::Completions(_) => (vec![], vec![]),
    };
    for p in always_remote {
        manage::remote(p)?;
    }
    for p in maybe_remote.into_iter().filter(|p| remote::is_remote(p)) {
        manage::remote(p)?;
    }
    Ok(())
}

/// A token that Ctrl-C triggers: transfers in flight stop and cancel their
/// multipart uploads on the server. A second Ctrl-C exits at once.
fn interrupt() -> CancelToken {
    let token = CancelToken::new();
    let handler_token = token.clone();
    let installed = ctrlc::set_handler(move || {
        if handler_token.is_triggered() {
            std::process::exit(130);
        }
        eprintln!("wantu: interrupted; cancelling (Ctrl-C again to quit at once)");
        handler_token.trigger();
    });
    if let Err(e) = installed {
        eprintln!("wantu: cannot catch Ctrl-C ({e}); it will end the program without clean-up");
    }
    token
}
