//! Command-line options.

use crate::scenarios::ScenarioName;
use clap::Parser;
use std::time::Duration;

/// Runs named scenarios against a running Steward server and prints one JSON line per figure
/// (a scenario at one concurrency).
#[derive(Debug, Clone, Parser)]
#[command(
    name = "steward-load",
    version,
    after_help = "Each figure is one JSON line on standard output:\n  \
        {\"scenario\", \"concurrency\", \"requests\", \"errors\", \"seconds\", \"throughput_per_s\", \
        \"p50_ms\", \"p95_ms\", \"p99_ms\"}, and \"rows_per_s\" last for scenarios whose requests \
        carry many rows (incident.import: 100 each).\n\
        requests counts failed ones too; throughput, rows and percentiles are of the successful \
        requests. Setup notes and errors go to standard error. The exit status is 1 when a \
        figure's error rate is above --max-error-rate or a scenario could not be set up, \
        2 when the driver could not start."
)]
pub struct Options {
    /// The server's base URL, plain http only; the API is under <URL>/api/v1.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    pub base_url: String,

    /// A bearer API token of the tenant to load (see `steward token create`). An agent's or an
    /// admin's token runs every scenario except incident.import, which needs an admin's (only
    /// admins import).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "STEWARD_TOKEN",
        hide_env_values = true
    )]
    pub token: String,

    /// A scenario to run; repeat the flag or give a comma list. Default: all of them but
    /// incident.import, in the order listed.
    #[arg(
        long = "scenario",
        value_name = "NAME",
        value_enum,
        value_delimiter = ','
    )]
    pub scenarios: Vec<ScenarioName>,

    /// Concurrent workers, each with its own connection, e.g. `1,16`; repeat the flag or give
    /// a comma list, and every scenario runs once at each level.
    #[arg(
        long,
        value_name = "N",
        value_delimiter = ',',
        default_value = "1",
        value_parser = clap::value_parser!(u32).range(1..=1024)
    )]
    pub concurrency: Vec<u32>,

    /// Most requests per figure; a figure ends at this count or at --duration, whichever
    /// comes first.
    #[arg(long, value_name = "N", default_value_t = 2000)]
    pub requests: u64,

    /// Longest time per figure, in seconds (fractions allowed).
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = parse_seconds)]
    pub duration: Duration,

    /// Exit 1 if any figure's errors exceed this share of its requests: a fraction (0.01) or a
    /// percentage (1%).
    #[arg(long, value_name = "RATE", default_value = "1%", value_parser = parse_rate)]
    pub max_error_rate: f64,

    /// Give up on a request after this many seconds (it counts as an error).
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = parse_seconds)]
    pub timeout: Duration,

    /// Allow a base URL that is not a loopback address. Without it the driver only loads a
    /// server on this machine (127.0.0.0/8 or ::1).
    #[arg(long)]
    pub allow_remote: bool,
}

impl Options {
    /// Parses arguments as the command line gives them (the first is the program's name).
    pub fn from_args<I, T>(args: I) -> Result<Options, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Options::try_parse_from(args)
    }

    /// The scenarios to run: those named, without repeats, or all those run by default.
    pub fn scenarios(&self) -> Vec<ScenarioName> {
        if self.scenarios.is_empty() {
            return ScenarioName::ALL
                .into_iter()
                .filter(|s| s.by_default())
                .collect();
        }
        let mut out = Vec::new();
        for s in &self.scenarios {
            if !out.contains(s) {
                out.push(*s);
            }
        }
        out
    }
}

/// Seconds, possibly fractional, as a duration.
pub fn parse_seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !secs.is_finite() || secs <= 0.0 || secs > 86_400.0 {
        return Err(format!(
            "`{text}`: give more than 0 and at most 86400 seconds"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// An error rate as a fraction: `0.01`, or `1%`.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let text = text.trim();
    let (number, scale) = match text.strip_suffix('%') {
        Some(n) => (n.trim(), 100.0),
        None => (text, 1.0),
    };
    let value = number
        .parse::<f64>()
        .map_err(|_| format!("`{text}` is not a rate such as 0.01 or 1%"))?
        / scale;
    if !(0.0..=1.0).contains(&value) {
        return Err(format!("`{text}`: a rate is between 0 and 1 (0% and 100%)"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Options, clap::Error> {
        Options::try_parse_from(
            ["steward-load", "--token", "stw_x"]
                .iter()
                .chain(args)
                .copied(),
        )
    }

    #[test]
    fn defaults() {
        let o = parse(&[]).expect("valid");
        assert_eq!(o.base_url, "http://127.0.0.1:8080");
        assert_eq!(o.token, "stw_x");
        assert_eq!(o.concurrency, [1]);
        assert_eq!(o.requests, 2000);
        assert_eq!(o.duration, Duration::from_secs(30));
        assert_eq!(o.max_error_rate, 0.01);
        assert!(!o.allow_remote);
        assert_eq!(
            o.scenarios(),
            ScenarioName::ALL[..5],
            "all but incident.import"
        );
    }

    #[test]
    fn lists_come_comma_separated_or_repeated() {
        let o = parse(&["--concurrency", "1,16", "--concurrency", "4"]).expect("valid");
        assert_eq!(o.concurrency, [1, 16, 4]);
        let o = parse(&[
            "--scenario",
            "incident.view,incident.create",
            "--scenario",
            "incident.view",
        ])
        .expect("valid");
        assert_eq!(
            o.scenarios(),
            [ScenarioName::IncidentView, ScenarioName::IncidentCreate]
        );
    }

    #[test]
    fn bounds_and_rates() {
        let o = parse(&[
            "--requests",
            "50",
            "--duration",
            "2.5",
            "--max-error-rate",
            "5%",
            "--timeout",
            "3",
        ])
        .expect("valid");
        assert_eq!(o.requests, 50);
        assert_eq!(o.duration, Duration::from_millis(2500));
        assert_eq!(o.max_error_rate, 0.05);
        assert_eq!(o.timeout, Duration::from_secs(3));
        assert_eq!(parse_rate("0.02"), Ok(0.02));
        assert_eq!(parse_rate(" 0 % "), Ok(0.0));
        assert_eq!(parse_rate("100%"), Ok(1.0));
    }

    #[test]
    fn bad_values_are_refused() {
        for bad in [
            &["--concurrency", "0"][..],
            &["--concurrency", "1,x"],
            &["--scenario", "incident.nope"],
            &["--duration", "0"],
            &["--duration", "-1"],
            &["--duration", "soon"],
            &["--max-error-rate", "2"],
            &["--max-error-rate", "150%"],
            &["--requests", "-3"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be refused");
        }
        // The token is required (unless STEWARD_TOKEN is set in the environment).
        if std::env::var_os("STEWARD_TOKEN").is_none() {
            assert!(Options::try_parse_from(["steward-load"]).is_err());
        }
    }

    #[test]
    fn help_lists_every_scenario_and_flag() {
        let help = Options::command().render_long_help().to_string();
        for name in ScenarioName::ALL {
            assert!(help.contains(name.as_str()), "help lacks {}", name.as_str());
        }
        for flag in [
            "--base-url",
            "--token",
            "--scenario",
            "--concurrency",
            "--requests",
            "--duration",
            "--max-error-rate",
            "--timeout",
            "--allow-remote",
        ] {
            assert!(help.contains(flag), "help lacks {flag}");
        }
        Options::command().debug_assert();
    }
}
