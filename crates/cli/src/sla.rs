//! `steward sla`: service level administration at the command line.

use anyhow::{Context, anyhow};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use jiff::Timestamp;
use jiff::civil::Date;
use steward_store::Store;
use steward_store::sla::{ClockSummary, RecomputeChange};

#[derive(Debug, Subcommand)]
pub enum SlaCommand {
    /// Derive every record's SLA clocks again from the journal, under the agreements and
    /// calendars as they are now, and report what changed. Run it after editing an agreement
    /// or a calendar: records otherwise follow an edit only when they next change.
    Recompute(RecomputeArgs),
}

#[derive(Debug, Args)]
pub struct RecomputeArgs {
    /// Only records opened on or after this date (YYYY-MM-DD, UTC) or instant (RFC 3339).
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// List at most this many changed clocks (the count is always complete).
    #[arg(long, default_value_t = 50, value_name = "N")]
    show: usize,
    /// Print every change as JSON instead of a summary.
    #[arg(long)]
    json: bool,
}

pub async fn run(store: &Store, cmd: SlaCommand) -> anyhow::Result<()> {
    match cmd {
        SlaCommand::Recompute(args) => recompute(store, args).await,
    }
}

async fn recompute(store: &Store, args: RecomputeArgs) -> anyhow::Result<()> {
    let since = args.since.as_deref().map(parse_since).transpose()?;
    let total = store.recompute_scope(since).await?;
    let bar = if args.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(total)
    };
    if let Ok(style) = ProgressStyle::with_template(
        "recomputing {bar:40} {pos}/{len} records · {per_sec} · ETA {eta}",
    ) {
        bar.set_style(style);
    }
    let done = store
        .recompute_clocks(since, |n| bar.set_position(n))
        .await?;
    bar.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&done)?);
        return Ok(());
    }
    println!(
        "recomputed the clocks of {} records: {} clock{} changed",
        done.records,
        done.changes.len(),
        if done.changes.len() == 1 { "" } else { "s" }
    );
    for change in done.changes.iter().take(args.show) {
        println!("  {}", describe(change));
    }
    if done.changes.len() > args.show {
        println!(
            "  … and {} more (--json lists them all)",
            done.changes.len() - args.show
        );
    }
    Ok(())
}

fn parse_since(text: &str) -> anyhow::Result<i64> {
    let text = text.trim();
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(t.as_microsecond());
    }
    let date: Date = text.parse().with_context(|| {
        format!("--since `{text}` is neither a date (YYYY-MM-DD) nor an RFC 3339 instant")
    })?;
    let t = date
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map_err(|e| anyhow!("--since `{text}`: {e}"))?;
    Ok(t.timestamp().as_microsecond())
}

/// `INC-4 resolution: running, due 2026-12-07 10:00 UTC, 60 min → breached, due …, 30 min`.
pub fn describe(c: &RecomputeChange) -> String {
    let side = |s: &Option<ClockSummary>| match s {
        Some(s) => format!(
            "{}, due {}, {} min",
            s.state,
            s.due_at.map_or_else(|| "—".to_owned(), when),
            s.target_minutes
        ),
        None => "no clock".to_owned(),
    };
    format!(
        "{} {}: {} → {}",
        c.record,
        c.target,
        side(&c.before),
        side(&c.after)
    )
}

fn when(micros: i64) -> String {
    Timestamp::from_microsecond(micros)
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_dates_and_instants() {
        assert_eq!(parse_since("1970-01-02").ok(), Some(86_400_000_000));
        assert_eq!(parse_since("1970-01-01T00:00:01Z").ok(), Some(1_000_000));
        let err = parse_since("yesterday").expect_err("not a date");
        assert!(err.to_string().contains("YYYY-MM-DD"));
    }
}
