//! `steward-load`: see `--help` and crates/load/README.md.

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;
use steward_load::Options;

#[tokio::main]
async fn main() -> ExitCode {
    let options = Options::parse();
    let printed = steward_load::run(&options, |figure| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", figure.summary.to_json_line());
        let _ = out.flush();
    })
    .await;
    match printed {
        Ok(outcome) if outcome.passed(options.max_error_rate) => ExitCode::SUCCESS,
        Ok(outcome) => {
            for f in &outcome.figures {
                let rate = f.summary.error_rate();
                if rate > options.max_error_rate {
                    eprintln!(
                        "steward-load: {} at concurrency {}: error rate {:.2} % is above {:.2} %",
                        f.summary.scenario,
                        f.summary.concurrency,
                        rate * 100.0,
                        options.max_error_rate * 100.0
                    );
                }
            }
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("steward-load: {e:#}");
            ExitCode::from(2)
        }
    }
}
