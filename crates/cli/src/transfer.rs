//! `steward import` and `steward export`: moving incidents in from other tools and out again,
//! as CSV. Imported records keep their original timestamps and their id from the old tool
//! (`external_id`), so importing the same file again updates instead of duplicating.

use anyhow::{Context, anyhow};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use steward_domain::incident::{
    IncidentDraft, Level, PendingReason, PriorityMatrix, Source, Status,
};
use steward_store::incident::{Incident, IncidentFields, IncidentFilter};
use steward_store::{Actor, PageRequest, Store};

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import incidents from CSV. Columns: external_id, title, description, status, impact,
    /// urgency, service (by name), source, opened_at, resolved_at, closed_at, resolution_code
    /// (times in RFC 3339). Every row is checked first; nothing is imported if any row is bad.
    Incidents(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[arg(long)]
    tenant: String,
    /// The CSV file (with a header row); `-` reads standard input.
    #[arg(long, value_name = "PATH")]
    file: PathBuf,
    /// Check every row and report the bad ones without importing anything.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Export every incident of a tenant as CSV (the import's columns plus key and priority).
    Incidents(ExportArgs),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(long)]
    tenant: String,
    /// Where to write [default: standard output]
    #[arg(long, value_name = "PATH")]
    out: Option<PathBuf>,
}

/// One CSV row as read; every column is text so that each problem can be named.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Row {
    external_id: String,
    title: String,
    description: String,
    status: String,
    impact: String,
    urgency: String,
    service: String,
    source: String,
    opened_at: String,
    resolved_at: String,
    closed_at: String,
    resolution_code: String,
}

fn instant(column: &str, text: &str) -> Result<Option<i64>, String> {
    match text.trim() {
        "" => Ok(None),
        t => t
            .parse::<jiff::Timestamp>()
            .map(|ts| Some(ts.as_microsecond()))
            .map_err(|_| {
                format!("{column} `{t}` is not an RFC 3339 time such as 2024-03-01T09:30:00Z")
            }),
    }
}

fn parsed<T>(
    column: &str,
    text: &str,
    default: T,
    parse: fn(&str) -> Option<T>,
) -> Result<T, String> {
    match text.trim() {
        "" => Ok(default),
        t => parse(t).ok_or_else(|| format!("{column} `{t}` is not allowed")),
    }
}

/// The value, or `None` with the reason noted.
fn take<T>(errors: &mut Vec<String>, result: Result<T, String>) -> Option<T> {
    result.map_err(|e| errors.push(e)).ok()
}

/// Turns a row into the fields to store, or the reasons it cannot be imported.
fn fields(
    row: &Row,
    services: &HashMap<String, i64>,
    now: i64,
) -> Result<(String, IncidentFields), Vec<String>> {
    let mut errors = Vec::new();
    let external_id = row.external_id.trim().to_owned();
    if external_id.is_empty() {
        errors.push("external_id is required".into());
    }
    let status = take(
        &mut errors,
        parsed("status", &row.status, Status::New, Status::parse),
    );
    let impact = take(
        &mut errors,
        parsed("impact", &row.impact, Level::Medium, Level::parse),
    );
    let urgency = take(
        &mut errors,
        parsed("urgency", &row.urgency, Level::Medium, Level::parse),
    );
    let source = take(
        &mut errors,
        parsed("source", &row.source, Source::Api, Source::parse),
    );
    let opened_at = take(&mut errors, instant("opened_at", &row.opened_at))
        .flatten()
        .unwrap_or(now);
    let resolved_at = take(&mut errors, instant("resolved_at", &row.resolved_at)).flatten();
    let closed_at = take(&mut errors, instant("closed_at", &row.closed_at)).flatten();
    let service_id = match row.service.trim() {
        "" => None,
        name => {
            let found = services.get(&name.to_lowercase()).copied();
            if found.is_none() {
                errors.push(format!("no service named `{name}`"));
            }
            found
        }
    };
    if let Some(status) = status {
        if matches!(status, Status::Resolved | Status::Closed) && resolved_at.is_none() {
            errors.push(format!("resolved_at is required for a {status} incident"));
        }
        if status.is_terminal() && closed_at.is_none() {
            errors.push(format!("closed_at is required for a {status} incident"));
        }
        if status == Status::Closed && row.resolution_code.trim().is_empty() {
            errors.push("resolution_code is required for a closed incident".into());
        }
    }
    let draft = IncidentDraft {
        title: row.title.clone(),
        description: row.description.clone(),
        impact: impact.unwrap_or_default(),
        urgency: urgency.unwrap_or_default(),
        service_id,
        customer_id: None,
        requester_contact_id: None,
        assignee_team_id: None,
        assignee_id: None,
        source: source.unwrap_or_default(),
        resolution_code: Some(row.resolution_code.clone()),
        resolution_notes: String::new(),
    }
    .validate();
    let draft = match draft {
        Ok(d) => Some(d),
        Err(invalid) => {
            errors.extend(invalid.errors.into_iter().map(|e| e.message));
            None
        }
    };
    match (draft, status, errors.is_empty()) {
        (Some(d), Some(status), true) => Ok((
            external_id,
            IncidentFields {
                priority: PriorityMatrix::default().priority(d.impact, d.urgency),
                title: d.title,
                description: d.description,
                status,
                pending_reason: (status == Status::Pending).then_some(PendingReason::ThirdParty),
                impact: d.impact,
                urgency: d.urgency,
                service_id: d.service_id,
                customer_id: None,
                requester_contact_id: None,
                requester_user_id: None,
                assignee_team_id: None,
                assignee_id: None,
                source: d.source,
                resolution_code: d.resolution_code,
                resolution_notes: String::new(),
                opened_at,
                first_response_at: None,
                resolved_at,
                closed_at,
                category_id: None,
                custom: Default::default(),
            },
        )),
        _ => Err(errors),
    }
}

async fn service_names(store: &Store, tenant_id: i64) -> anyhow::Result<HashMap<String, i64>> {
    let page = PageRequest {
        limit: Some(500),
        cursor: None,
    };
    let found = store
        .services(tenant_id, &Default::default(), &page)
        .await?;
    Ok(found
        .items
        .into_iter()
        .map(|s| (s.name.to_lowercase(), s.id))
        .collect())
}

fn progress(len: u64, verb: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    let template = format!("{verb} {{bar:40}} {{pos}}/{{len}} rows · {{per_sec}} · ETA {{eta}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}

pub async fn import(store: &Store, cmd: ImportCommand) -> anyhow::Result<std::process::ExitCode> {
    let ImportCommand::Incidents(args) = cmd;
    let tenant = store
        .require_tenant(&args.tenant)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let reader: Box<dyn std::io::Read> = if args.file.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(
            std::fs::File::open(&args.file)
                .with_context(|| format!("cannot open {}", args.file.display()))?,
        )
    };
    let mut csv = csv::ReaderBuilder::new()
        .trim(csv::Trim::Headers)
        .from_reader(reader);
    let services = service_names(store, tenant.id).await?;
    let now = steward_store::now_micros();
    let mut good = Vec::new();
    let mut bad = 0usize;
    for (i, record) in csv.deserialize::<Row>().enumerate() {
        let line = i + 2;
        match record
            .map_err(|e| vec![format!("unreadable row: {e}")])
            .and_then(|row| fields(&row, &services, now))
        {
            Ok(ok) => good.push(ok),
            Err(reasons) => {
                bad += 1;
                eprintln!("line {line}: {}", reasons.join("; "));
            }
        }
    }
    if bad > 0 {
        eprintln!("{bad} bad row(s); nothing was imported");
        return Ok(std::process::ExitCode::FAILURE);
    }
    if args.dry_run {
        println!("{} row(s) valid; nothing imported (dry run)", good.len());
        return Ok(std::process::ExitCode::SUCCESS);
    }
    let bar = progress(good.len() as u64, "importing");
    let actor = Actor {
        user_id: None,
        label: "import".into(),
    };
    let (mut created, mut updated) = (0, 0);
    for (external_id, f) in &good {
        let (_, new) = store
            .upsert_incident(tenant.id, external_id, f, &actor)
            .await
            .map_err(|e| anyhow!("{external_id}: {e}"))?;
        if new {
            created += 1
        } else {
            updated += 1
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    println!(
        "imported {} row(s): {created} created, {updated} updated",
        good.len()
    );
    Ok(std::process::ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct OutRow<'a> {
    key: String,
    external_id: String,
    title: &'a str,
    description: &'a str,
    status: &'a str,
    priority: &'a str,
    impact: &'a str,
    urgency: &'a str,
    service: &'a str,
    source: &'a str,
    opened_at: String,
    resolved_at: String,
    closed_at: String,
    resolution_code: &'a str,
}

fn rfc3339(micros: Option<i64>) -> String {
    micros
        .and_then(|m| jiff::Timestamp::from_microsecond(m).ok())
        .map(|t| t.to_string())
        .unwrap_or_default()
}

pub async fn export(store: &Store, cmd: ExportCommand) -> anyhow::Result<()> {
    let ExportCommand::Incidents(args) = cmd;
    let tenant = store
        .require_tenant(&args.tenant)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let writer: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut csv = csv::Writer::from_writer(writer);
    let services = store
        .services(
            tenant.id,
            &Default::default(),
            &PageRequest {
                limit: Some(500),
                cursor: None,
            },
        )
        .await?;
    let display: HashMap<i64, String> =
        services.items.into_iter().map(|s| (s.id, s.name)).collect();
    let filter = IncidentFilter {
        sort: Some("number".into()),
        ..Default::default()
    };
    let mut cursor = None;
    let mut count = 0usize;
    loop {
        let page = store
            .incidents(
                tenant.id,
                &filter,
                &PageRequest {
                    limit: Some(500),
                    cursor,
                },
            )
            .await?;
        for i in &page.items {
            let service = i
                .service_id
                .and_then(|id| display.get(&id))
                .map_or("", String::as_str);
            write_row(&mut csv, store, tenant.id, i, service).await?;
            count += 1;
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    csv.flush()?;
    if args.out.is_some() {
        println!("exported {count} incident(s)");
    }
    Ok(())
}

async fn write_row<W: Write>(
    csv: &mut csv::Writer<W>,
    store: &Store,
    tenant_id: i64,
    i: &Incident,
    service: &str,
) -> anyhow::Result<()> {
    let external_id = store
        .incident_external_id(tenant_id, i.id)
        .await?
        .unwrap_or_default();
    csv.serialize(OutRow {
        key: i.key(),
        external_id,
        title: &i.title,
        description: &i.description,
        status: i.status.as_str(),
        priority: i.priority.as_str(),
        impact: i.impact.as_str(),
        urgency: i.urgency.as_str(),
        service,
        source: i.source.as_str(),
        opened_at: rfc3339(Some(i.opened_at)),
        resolved_at: rfc3339(i.resolved_at),
        closed_at: rfc3339(i.closed_at),
        resolution_code: i.resolution_code.as_deref().unwrap_or(""),
    })
    .map_err(|e| anyhow!("cannot write CSV: {e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_report_every_problem() {
        let services = HashMap::from([("mail".to_owned(), 1)]);
        let row = Row {
            title: String::new(),
            status: "done".into(),
            service: "Fax".into(),
            opened_at: "yesterday".into(),
            ..Default::default()
        };
        let reasons = fields(&row, &services, 0).expect_err("bad row");
        let text = reasons.join("; ");
        for part in [
            "external_id is required",
            "status `done`",
            "no service named `Fax`",
            "opened_at `yesterday`",
            "Title is required",
        ] {
            assert!(text.contains(part), "{part} missing from {text}");
        }
        let closed = Row {
            external_id: "X-1".into(),
            title: "Old".into(),
            status: "closed".into(),
            ..Default::default()
        };
        let text = fields(&closed, &services, 0)
            .expect_err("closed without times")
            .join("; ");
        assert!(
            text.contains("resolved_at is required")
                && text.contains("resolution_code is required"),
            "{text}"
        );
    }

    #[test]
    fn good_rows_keep_their_history() {
        let services = HashMap::from([("mail".to_owned(), 7)]);
        let row = Row {
            external_id: "OTRS-42".into(),
            title: "Mail down".into(),
            status: "resolved".into(),
            impact: "high".into(),
            urgency: "high".into(),
            service: "Mail".into(),
            opened_at: "2024-03-01T09:00:00Z".into(),
            resolved_at: "2024-03-01T11:00:00Z".into(),
            ..Default::default()
        };
        let (id, f) = fields(&row, &services, 0).expect("good row");
        assert_eq!(id, "OTRS-42");
        assert_eq!(f.service_id, Some(7));
        assert_eq!(f.priority.as_str(), "P1");
        assert_eq!(f.opened_at, 1_709_283_600_000_000);
        assert_eq!(f.resolved_at, Some(1_709_290_800_000_000));
    }
}
