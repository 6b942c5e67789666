//! `steward bench`: a deterministic data generator and timed queries, for the figures in
//! BENCHMARKS.md. Benchmarks measure; tests never time anything.

use anyhow::anyhow;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Instant;
use steward_domain::incident::{Level, PendingReason, Priority, Source, Status};
use steward_domain::service::{Criticality, ServiceDraft, ServiceStatus};
use steward_domain::sla::{AgreementDraft, AgreementKind, RecordKind, Target};
use steward_store::incident::{IncidentFields, IncidentFilter, NewComment};
use steward_store::sla::report::{Group, Month, ReportQuery};
use steward_store::{Actor, PageRequest, Store};

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Fill a tenant with realistic incidents spread over a year (deterministic from --seed).
    Generate(GenerateArgs),
    /// Time the queries a service desk makes all day and print one JSON line per query.
    Queries(QueryArgs),
    /// Give the tenant's incidents the clocks of a benchmark SLA, derived as a live write
    /// derives them, and exclude one incident in a thousand from attainment.
    SlaClocks(SlaClocksArgs),
    /// Time the SLA attainment reports and the breach list over every clock of the tenant.
    SlaReport(SlaReportArgs),
}

#[derive(Debug, Args)]
pub struct SlaClocksArgs {
    #[arg(long)]
    tenant: String,
}

#[derive(Debug, Args)]
pub struct SlaReportArgs {
    #[arg(long)]
    tenant: String,
    /// Timed runs of each report.
    #[arg(long, default_value_t = 20)]
    samples: usize,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[arg(long)]
    tenant: String,
    /// How many incidents to add.
    #[arg(long, default_value_t = 100_000)]
    incidents: u64,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Average comments per incident (agent and requester replies, internal notes); 0 for none.
    #[arg(long, default_value_t = 2)]
    comments: u32,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    #[arg(long)]
    tenant: String,
    /// Timed runs of each query.
    #[arg(long, default_value_t = 200)]
    samples: usize,
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

const THINGS: [&str; 12] = [
    "Laptop",
    "Printer",
    "VPN",
    "Mailbox",
    "Phone",
    "Monitor",
    "Badge reader",
    "Wi-Fi",
    "Payroll export",
    "Portal login",
    "Shared drive",
    "Calendar",
];
const FAULTS: [&str; 10] = [
    "not working",
    "very slow",
    "keeps disconnecting",
    "shows an error",
    "cannot sign in",
    "crashes on start",
    "out of toner",
    "jammed",
    "not syncing",
    "locked",
];
const PLACES: [&str; 8] = [
    "floor 1",
    "floor 2",
    "floor 3",
    "the warehouse",
    "reception",
    "the London office",
    "home office",
    "meeting room 4",
];
/// Words the generated text uses, which the search queries pick from.
pub const WORDS: [&str; 8] = [
    "printer", "vpn", "mailbox", "toner", "jammed", "calendar", "badge", "payroll",
];

const BATCH: u64 = 5_000;

/// The benchmark SLA's targets: first response in 30 minutes; resolution by priority, in
/// minutes, around the clock.
const RESPONSE_MINUTES: i64 = 30;
const RESOLUTION_MINUTES: [(Priority, i64); 5] = [
    (Priority::P1, 240),
    (Priority::P2, 480),
    (Priority::P3, 1_440),
    (Priority::P4, 4_320),
    (Priority::P5, 7_200),
];
const SLA_NAME: &str = "Benchmark SLA";
const MINUTE: i64 = 60_000_000;

fn pick<'a>(rng: &mut StdRng, items: &[&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

fn incident(rng: &mut StdRng, services: &[i64], now: i64) -> IncidentFields {
    let title = format!(
        "{} {} on {}",
        pick(rng, &THINGS),
        pick(rng, &FAULTS),
        pick(rng, &PLACES)
    );
    let description = format!(
        "Reported by a user: {}. They tried restarting; it did not help.",
        title.to_lowercase()
    );
    let levels = [Level::Low, Level::Medium, Level::High];
    let (impact, urgency) = (
        levels[rng.random_range(0..3)],
        levels[rng.random_range(0..3)],
    );
    let status = match rng.random_range(0..100) {
        0..70 => Status::Closed,
        70..80 => Status::Resolved,
        80..90 => Status::InProgress,
        90..95 => Status::New,
        _ => Status::Pending,
    };
    let opened_at = now - rng.random_range(0..365 * 86_400_000_000i64);
    let done = matches!(status, Status::Resolved | Status::Closed);
    IncidentFields {
        title,
        description,
        status,
        pending_reason: (status == Status::Pending).then_some(PendingReason::AwaitingCustomer),
        impact,
        urgency,
        priority: steward_domain::incident::PriorityMatrix::default().priority(impact, urgency),
        service_id: Some(services[rng.random_range(0..services.len())]),
        customer_id: None,
        requester_contact_id: None,
        requester_user_id: None,
        assignee_team_id: None,
        assignee_id: None,
        source: Source::Phone,
        resolution_code: done.then(|| "fixed".to_owned()),
        resolution_notes: String::new(),
        opened_at,
        first_response_at: None,
        resolved_at: done.then_some(opened_at + 3_600_000_000),
        closed_at: (status == Status::Closed).then_some(opened_at + 86_400_000_000),
        category_id: None,
        custom: Default::default(),
    }
}

/// Response and resolution times drawn from their own generator (so the incidents' other
/// fields stay what earlier versions generated for a seed): about 88 % of first responses and
/// 92 % of resolutions within the benchmark SLA's targets, none after `now`.
fn timings(rng: &mut StdRng, f: &mut IncidentFields, now: i64) {
    let at = |minutes: i64| {
        (f.opened_at + minutes * MINUTE)
            .min(now - MINUTE)
            .max(f.opened_at)
    };
    f.first_response_at = (f.status != Status::New).then(|| {
        at(if rng.random_range(0..100) < 88 {
            rng.random_range(1..RESPONSE_MINUTES - 2)
        } else {
            rng.random_range(RESPONSE_MINUTES + 1..6 * RESPONSE_MINUTES)
        })
    });
    if f.resolved_at.is_none() {
        return;
    }
    let target = RESOLUTION_MINUTES
        .iter()
        .find(|(p, _)| *p == f.priority)
        .map_or(1_440, |(_, m)| *m);
    let percent = if rng.random_range(0..100) < 92 {
        rng.random_range(5..98)
    } else {
        rng.random_range(102..300)
    };
    let resolved = at(target * percent / 100);
    f.resolved_at = Some(resolved);
    if f.closed_at.is_some() {
        f.closed_at = Some((resolved + 1_440 * MINUTE).min(now));
    }
}

/// Who writes the generated conversation: agents of the service desk and the requester.
const AGENTS: [&str; 4] = [
    "alex@desk.bench",
    "priya@desk.bench",
    "tom@desk.bench",
    "mia@desk.bench",
];
const REQUESTER: &str = "requester@bench";
/// Templates: `{t}` is the incident's thing, `{f}` a fault and `{p}` a place from the lists.
const AGENT_REPLIES: [&str; 6] = [
    "Thanks for reporting this. I am looking at the {t} now; is anyone else on {p} affected?",
    "Could you send a screenshot of what the {t} shows? I will compare it with the known issues.",
    "I have reset the {t} on our side. Please try again and tell me if it happens again.",
    "We have other reports of \"{t} {f}\" on {p}; I have linked them to this one.",
    "A technician will come to {p} this afternoon to look at the {t}.",
    "The fix is in place. Can you confirm the {t} works for you now?",
];
const REQUESTER_REPLIES: [&str; 6] = [
    "Yes, a colleague on {p} has the same: {t} {f}.",
    "Tried again just now, still the same: {t} {f}.",
    "Screenshot of the {t} attached. It started this morning on {p}.",
    "That helped for a while, but now it is back: {t} {f}.",
    "I will be on {p} all afternoon, so any time works to look at the {t}.",
    "Thanks, the {t} works again.",
];
const INTERNAL_NOTES: [&str; 4] = [
    "Internal: same pattern as last week's {t} fault on {p}; checking the logs.",
    "Internal: vendor ticket opened for \"{t} {f}\" since the last update.",
    "Internal: spare part ordered for the {t} on {p}.",
    "Internal: a problem candidate if we see \"{t} {f}\" on {p} again.",
];

/// A thing's name inside a sentence: "Laptop" becomes "laptop"; "VPN" and "Wi-Fi" stay.
fn in_sentence(thing: &str) -> String {
    if thing
        .chars()
        .filter(|c| c.is_alphabetic())
        .skip(1)
        .any(char::is_uppercase)
    {
        thing.to_owned()
    } else {
        thing.to_lowercase()
    }
}

fn fill(template: &str, thing: &str, fault: &str, place: &str) -> String {
    template
        .replace("{t}", thing)
        .replace("{f}", fault)
        .replace("{p}", place)
}

/// An incident's conversation from its own generator, about `average` comments on average:
/// agent replies and requester replies in turn, one agent turn in five an internal note. The
/// first public agent reply is at the incident's first response when that falls in the
/// conversation, and none is before it (an agent writes internal notes until then). Every comment is between the
/// opening and the resolution (or `now` while open), in order.
fn conversation(rng: &mut StdRng, f: &IncidentFields, average: u32, now: i64) -> Vec<NewComment> {
    if average == 0 {
        return Vec::new();
    }
    let count = rng.random_range(0..=2 * average as usize);
    if count == 0 {
        return Vec::new();
    }
    let end = f.resolved_at.unwrap_or(now).max(f.opened_at);
    let anchor = f
        .first_response_at
        .filter(|at| (f.opened_at..=end).contains(at));
    let mut times: Vec<i64> = (0..count)
        .map(|_| rng.random_range(anchor.unwrap_or(f.opened_at)..=end))
        .collect();
    times.sort_unstable();
    if let (Some(at), Some(first)) = (anchor, times.first_mut()) {
        *first = at;
    }
    let thing = THINGS
        .iter()
        .find(|t| f.title.starts_with(**t))
        .map_or_else(|| "system".to_owned(), |t| in_sentence(t));
    let agent = pick(rng, &AGENTS);
    times
        .into_iter()
        .enumerate()
        .map(|(k, created_at)| {
            let (fault, place) = (pick(rng, &FAULTS), pick(rng, &PLACES));
            let agent_turn = k % 2 == 0;
            let note = agent_turn
                && (f.first_response_at.is_none_or(|at| created_at < at)
                    || k > 0 && rng.random_range(0..5) == 0);
            let (author, template, public) = if note {
                (agent, pick(rng, &INTERNAL_NOTES), false)
            } else if agent_turn {
                (agent, pick(rng, &AGENT_REPLIES), true)
            } else {
                (REQUESTER, pick(rng, &REQUESTER_REPLIES), true)
            };
            NewComment {
                author_id: None,
                author: author.to_owned(),
                body: fill(template, &thing, fault, place),
                public,
                created_at,
            }
        })
        .collect()
}

/// One generated incident and its conversation, each part from its own generator so that
/// adding a part leaves the others what earlier versions generated for a seed.
struct Generators {
    incidents: StdRng,
    timing: StdRng,
    talk: StdRng,
}

impl Generators {
    fn new(seed: u64) -> Generators {
        Generators {
            incidents: StdRng::seed_from_u64(seed),
            timing: StdRng::seed_from_u64(seed ^ 0x5eed_c10c),
            talk: StdRng::seed_from_u64(seed ^ 0xc044_e47a),
        }
    }

    fn next(
        &mut self,
        services: &[i64],
        now: i64,
        comments: u32,
    ) -> (IncidentFields, Vec<NewComment>) {
        let mut f = incident(&mut self.incidents, services, now);
        timings(&mut self.timing, &mut f, now);
        let talk = conversation(&mut self.talk, &f, comments, now);
        (f, talk)
    }
}

async fn services(store: &Store, tenant_id: i64) -> anyhow::Result<Vec<i64>> {
    let page = PageRequest {
        limit: Some(500),
        cursor: None,
    };
    let mut ids: Vec<i64> = store
        .services(tenant_id, &Default::default(), &page)
        .await?
        .items
        .into_iter()
        .map(|s| s.id)
        .collect();
    for n in ids.len()..10 {
        let draft = ServiceDraft {
            name: format!("Benchmark service {n:02}"),
            description: String::new(),
            owner_id: None,
            criticality: Criticality::Medium,
            status: ServiceStatus::Live,
        };
        ids.push(
            store
                .create_service(tenant_id, &draft, &Actor::cli())
                .await?
                .id,
        );
    }
    Ok(ids)
}

pub async fn run(store: &Store, cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Generate(args) => generate(store, args).await,
        BenchCommand::Queries(args) => queries(store, args).await,
        BenchCommand::SlaClocks(args) => sla_clocks(store, args).await,
        BenchCommand::SlaReport(args) => sla_report(store, args).await,
    }
}

async fn generate(store: &Store, args: GenerateArgs) -> anyhow::Result<()> {
    let tenant = store
        .require_tenant(&args.tenant)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let services = services(store, tenant.id).await?;
    let mut generators = Generators::new(args.seed);
    let bar = ProgressBar::new(args.incidents);
    if let Ok(style) = ProgressStyle::with_template(
        "generating {bar:40} {pos}/{len} incidents · {msg} · {per_sec} · ETA {eta}",
    ) {
        bar.set_style(style);
    }
    let actor = Actor {
        user_id: None,
        label: "bench".into(),
    };
    let now = steward_store::now_micros();
    let start = Instant::now();
    let (mut done, mut comments) = (0u64, 0u64);
    bar.set_message("0 comments");
    while done < args.incidents {
        let n = BATCH.min(args.incidents - done);
        let (rows, talk): (Vec<IncidentFields>, Vec<Vec<NewComment>>) = (0..n)
            .map(|_| generators.next(&services, now, args.comments))
            .unzip();
        store
            .load_incidents_with_comments(tenant.id, &rows, &talk, &actor)
            .await?;
        done += n;
        comments += talk.iter().map(|c| c.len() as u64).sum::<u64>();
        bar.set_position(done);
        bar.set_message(format!("{comments} comments"));
    }
    bar.finish_and_clear();
    store.refresh_statistics().await?;
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{{\"scenario\":\"generate\",\"backend\":\"{}\",\"incidents\":{done},\"comments\":{comments},\"seconds\":{seconds:.1},\"per_second\":{:.0}}}",
        store.backend().name(),
        done as f64 / seconds.max(0.001)
    );
    Ok(())
}

/// Milliseconds at the given percentile of sorted samples.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

async fn queries(store: &Store, args: QueryArgs) -> anyhow::Result<()> {
    let tenant = store
        .require_tenant(&args.tenant)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let t = tenant.id;
    let total = store.count_incidents(t, &IncidentFilter::default()).await?;
    let services = services(store, t).await?;
    let mut rng = StdRng::seed_from_u64(args.seed);
    let page = PageRequest {
        limit: Some(50),
        cursor: None,
    };
    for scenario in [
        "queue_page",
        "filtered_page",
        "full_text_search",
        "deep_page",
        "record_view",
    ] {
        let mut times = Vec::with_capacity(args.samples);
        for _ in 0..args.samples {
            let started = Instant::now();
            match scenario {
                "queue_page" => {
                    store
                        .incidents(
                            t,
                            &IncidentFilter {
                                open: true,
                                ..Default::default()
                            },
                            &page,
                        )
                        .await?;
                }
                "filtered_page" => {
                    let filter = IncidentFilter {
                        service_id: Some(services[rng.random_range(0..services.len())]),
                        statuses: vec![Status::InProgress, Status::Pending],
                        sort: Some("-opened_at".into()),
                        ..Default::default()
                    };
                    store.incidents(t, &filter, &page).await?;
                }
                "full_text_search" => {
                    let filter = IncidentFilter {
                        q: Some(pick(&mut rng, &WORDS).to_owned()),
                        sort: Some("-updated_at".into()),
                        ..Default::default()
                    };
                    store.incidents(t, &filter, &page).await?;
                }
                "deep_page" => {
                    // The 20th page of a sorted list, reached by cursor: keyset paging costs the same at any depth.
                    let filter = IncidentFilter {
                        sort: Some("-opened_at".into()),
                        ..Default::default()
                    };
                    let mut cursor = None;
                    for _ in 0..19 {
                        cursor = store
                            .incidents(
                                t,
                                &filter,
                                &PageRequest {
                                    limit: Some(50),
                                    cursor,
                                },
                            )
                            .await?
                            .next_cursor;
                    }
                    let started_last = Instant::now();
                    store
                        .incidents(
                            t,
                            &filter,
                            &PageRequest {
                                limit: Some(50),
                                cursor,
                            },
                        )
                        .await?;
                    times.push(started_last.elapsed().as_secs_f64() * 1000.0);
                    continue;
                }
                _ => {
                    let number = rng.random_range(1..=total.max(1));
                    let _ = store.incident_by_number(t, number).await;
                }
            }
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{{\"scenario\":\"{scenario}\",\"backend\":\"{}\",\"incidents\":{total},\"samples\":{},\"p50_ms\":{:.2},\"p95_ms\":{:.2},\"p99_ms\":{:.2}}}",
            store.backend().name(),
            times.len(),
            percentile(&times, 50.0),
            percentile(&times, 95.0),
            percentile(&times, 99.0)
        );
    }
    Ok(())
}

async fn sla_clocks(store: &Store, args: SlaClocksArgs) -> anyhow::Result<()> {
    let tenant = store
        .require_tenant(&args.tenant)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let t = tenant.id;
    let actor = Actor {
        user_id: None,
        label: "bench".into(),
    };
    if !store
        .agreements(t)
        .await?
        .iter()
        .any(|a| a.draft.name == SLA_NAME)
    {
        let target = |metric: &str, priority, minutes: i64| Target {
            metric: metric.into(),
            priority,
            minutes: u32::try_from(minutes).unwrap_or(u32::MAX),
        };
        let mut targets = vec![target("first_response", None, RESPONSE_MINUTES)];
        targets.extend(
            RESOLUTION_MINUTES
                .iter()
                .map(|(p, m)| target("resolution", Some(*p), *m)),
        );
        let draft =
            AgreementDraft::new(SLA_NAME, AgreementKind::Sla, RecordKind::Incident, targets);
        let agreement = draft
            .validate()
            .map_err(|e| anyhow!("benchmark SLA: {e}"))?;
        store.create_agreement(t, &agreement, &actor).await?;
    }
    let total = store.count_incidents(t, &IncidentFilter::default()).await?;
    let bar = ProgressBar::new(u64::try_from(total).unwrap_or(0));
    if let Ok(style) = ProgressStyle::with_template(
        "deriving clocks {bar:40} {pos}/{len} incidents · {per_sec} · ETA {eta}",
    ) {
        bar.set_style(style);
    }
    let start = Instant::now();
    let (mut after, mut incidents, mut clocks) = (0, 0, 0);
    loop {
        let done = store.generate_clocks(t, after, BATCH as u32).await?;
        incidents += done.incidents;
        clocks += done.clocks;
        bar.inc(done.incidents as u64);
        match done.last_id {
            Some(last) => after = last,
            None => break,
        }
    }
    bar.finish_and_clear();
    let derived = start.elapsed().as_secs_f64();
    // One incident in a thousand taken out of attainment, as a person would, journaled.
    let mut excluded = 0;
    for number in (500..=total).step_by(1_000) {
        let incident = store.incident_by_number(t, number).await?;
        if store
            .set_sla_exclusion(
                t,
                RecordKind::Incident,
                incident.id,
                Some("Benchmark: excluded by agreement"),
                &actor,
            )
            .await?
        {
            excluded += 1;
        }
    }
    store.refresh_statistics().await?;
    println!(
        "{{\"scenario\":\"sla_clocks\",\"backend\":\"{}\",\"incidents\":{incidents},\"clocks\":{clocks},\"excluded\":{excluded},\"derive_seconds\":{derived:.1},\"seconds\":{:.1}}}",
        store.backend().name(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn sla_report(store: &Store, args: SlaReportArgs) -> anyhow::Result<()> {
    let tenant = store
        .require_tenant(&args.tenant)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let t = tenant.id;
    // Thirteen calendar months up to now: every clock of a year of generated incidents.
    let current = Month::containing(steward_store::now_micros());
    let (from, to) = (current.plus(-12).start(), current.end());
    let incidents = store.count_incidents(t, &IncidentFilter::default()).await?;
    for scenario in [
        "attainment_by_month",
        "attainment_by_service_and_target",
        "attainment_by_service_and_month",
        "breaches_first_page",
    ] {
        let mut q = ReportQuery::new(from, to, Group::Month);
        match scenario {
            "attainment_by_service_and_target" => {
                q.group = Group::Service;
                q.then = Some(Group::Target);
            }
            "attainment_by_service_and_month" => {
                q.group = Group::Service;
                q.then = Some(Group::Month);
            }
            _ => {}
        }
        let mut times = Vec::with_capacity(args.samples);
        let mut counted = 0;
        for _ in 0..args.samples {
            let started = Instant::now();
            if scenario == "breaches_first_page" {
                let page = store.breaches(t, &q, &PageRequest::default()).await?;
                counted = page.items.len() as i64;
            } else {
                let rows = store.attainment(t, &q).await?;
                counted = rows.iter().map(|r| r.total).sum();
            }
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{{\"scenario\":\"{scenario}\",\"backend\":\"{}\",\"incidents\":{incidents},\"rows_counted\":{counted},\"samples\":{},\"p50_ms\":{:.1},\"p95_ms\":{:.1},\"max_ms\":{:.1}}}",
            store.backend().name(),
            times.len(),
            percentile(&times, 50.0),
            percentile(&times, 95.0),
            times.last().copied().unwrap_or(0.0)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic() {
        let services = [1, 2, 3];
        let a: Vec<String> = {
            let mut r = StdRng::seed_from_u64(1);
            (0..5)
                .map(|_| incident(&mut r, &services, 0).title)
                .collect()
        };
        let b: Vec<String> = {
            let mut r = StdRng::seed_from_u64(1);
            (0..5)
                .map(|_| incident(&mut r, &services, 0).title)
                .collect()
        };
        assert_eq!(a, b);
        // The whole pipeline: the same seed gives the same incidents and conversation, and
        // the conversation leaves the incidents what they were without it.
        let run = |comments| {
            let mut g = Generators::new(9);
            (0..200)
                .map(|_| g.next(&services, 1_000 * 86_400_000_000, comments))
                .collect::<Vec<_>>()
        };
        let (with, again, without) = (run(2), run(2), run(0));
        assert_eq!(with, again);
        assert!(without.iter().all(|(_, c)| c.is_empty()));
        assert!(with.iter().zip(&without).all(|(w, o)| w.0 == o.0));
        let all: Vec<&NewComment> = with.iter().flat_map(|(_, c)| c).collect();
        assert!((300..=500).contains(&all.len()), "about 2 per incident");
        assert!(all.iter().any(|c| !c.public), "some internal notes");
        assert!(all.iter().any(|c| c.author == REQUESTER));
        for (f, talk) in &with {
            let end = f.resolved_at.unwrap_or(1_000 * 86_400_000_000);
            assert!(talk.windows(2).all(|w| w[0].created_at <= w[1].created_at));
            assert!(
                talk.iter()
                    .all(|c| (f.opened_at..=end).contains(&c.created_at))
            );
            // No public agent reply before the first response (a new incident has none).
            assert!(talk.iter().all(|c| c.author == REQUESTER
                || !c.public
                || f.first_response_at.is_some_and(|at| at <= c.created_at)));
            if let (Some(at), Some(first)) = (f.first_response_at, talk.first()) {
                assert!(at > end || (first.created_at == at && first.public));
            }
            let thing = f.title.split(' ').next().unwrap_or("").to_lowercase();
            assert!(talk.iter().all(|c| c.body.to_lowercase().contains(&thing)));
        }
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 50.0), 3.0);
        assert_eq!(percentile(&[], 95.0), 0.0);
    }
}
