//! `steward bench`: a deterministic data generator and timed queries, for the figures in
//! BENCHMARKS.md. Benchmarks measure; tests never time anything.

mod cmdb;
mod collisions;

use anyhow::anyhow;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value};
use std::time::Instant;
use steward_domain::access::Role;
use steward_domain::customer::CustomerDraft;
use steward_domain::incident::{Level, PendingReason, Priority, PriorityMatrix, Source, Status};
use steward_domain::problem::ProblemStatus;
use steward_domain::request::{
    FieldKind, FormField, ItemDraft, RequestStatus, TaskTemplate, check_answers,
};
use steward_domain::service::{Criticality, ServiceDraft, ServiceStatus};
use steward_domain::sla::{AgreementDraft, AgreementKind, RecordKind, Target};
use steward_domain::user::UserDraft;
use steward_store::identity::UserFilter;
use steward_store::incident::{IncidentFields, IncidentFilter, NewComment};
use steward_store::problem::{NewProblem, ProblemFields};
use steward_store::request::{CatalogueItem, NewRequest, RequestFields, RequestValues};
use steward_store::sla::report::{Group, Month, ReportQuery};
use steward_store::{Actor, PageRequest, Store};

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Fill a tenant with realistic incidents, service requests and problems spread over a year
    /// (deterministic from --seed).
    Generate(GenerateArgs),
    /// Time the queries a service desk makes all day and print one JSON line per query.
    Queries(QueryArgs),
    /// Give the tenant's incidents the clocks of a benchmark SLA, derived as a live write
    /// derives them, and exclude one incident in a thousand from attainment.
    SlaClocks(SlaClocksArgs),
    /// Time the SLA attainment reports and the breach list over every clock of the tenant.
    SlaReport(SlaReportArgs),
    /// Fill a tenant's CMDB with a layered estate (switches, racks, servers, virtual machines,
    /// a shared database cluster, applications calling each other), deterministic from --seed.
    Cmdb(cmdb::CmdbArgs),
    /// Time impact analysis on the `bench cmdb` estate: the first question (which reads the
    /// graph) and then --samples more, printing one JSON line per question.
    Impact(cmdb::ImpactArgs),
    /// Put --changes standard changes on the forward schedule of the `bench cmdb` estate, then
    /// time the collision check of a change against them (one JSON line).
    Collisions(collisions::CollisionArgs),
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
    /// How many service requests to add, from the tenant's catalogue (six benchmark items are
    /// created if it has none). Default 0, so the commands in BENCHMARKS.md generate what they
    /// measured; a tenth of --incidents is a typical mix.
    #[arg(long, default_value_t = 0)]
    requests: u64,
    /// How many problems to add, some of them known errors, each linked to up to four of the
    /// tenant's incidents. Default 0 (as --requests); a hundredth of --incidents is typical.
    #[arg(long, default_value_t = 0)]
    problems: u64,
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

const DAY: i64 = 1_440 * MINUTE;

/// The benchmark catalogue: name, category, description, form fields (name, label, kind,
/// required, options), whether it needs approval, and its fulfilment tasks.
type FieldSpec = (
    &'static str,
    &'static str,
    FieldKind,
    bool,
    &'static [&'static str],
);
struct ItemSpec {
    name: &'static str,
    category: &'static str,
    description: &'static str,
    fields: &'static [FieldSpec],
    approval: bool,
    tasks: &'static [&'static str],
}

const CATALOGUE: [ItemSpec; 6] = [
    ItemSpec {
        name: "New laptop",
        category: "Hardware",
        description: "A laptop for a new starter or to replace one that is out of warranty.",
        fields: &[
            (
                "model",
                "Model",
                FieldKind::Select,
                true,
                &["13-inch", "15-inch", "16-inch developer"],
            ),
            ("needed_by", "Needed by", FieldKind::Date, true, &[]),
            ("notes", "Notes", FieldKind::Text, false, &[]),
        ],
        approval: true,
        tasks: &[
            "Order the laptop",
            "Image and enrol the laptop",
            "Hand over the laptop",
        ],
    },
    ItemSpec {
        name: "Software licence",
        category: "Software",
        description: "A licence for software the company already buys.",
        fields: &[
            (
                "product",
                "Product",
                FieldKind::Select,
                true,
                &[
                    "Office suite",
                    "Design suite",
                    "Diagram editor",
                    "PDF editor",
                ],
            ),
            ("seats", "Seats", FieldKind::Number, true, &[]),
            ("reason", "Why it is needed", FieldKind::Text, false, &[]),
        ],
        approval: true,
        tasks: &["Assign the licence"],
    },
    ItemSpec {
        name: "VPN access",
        category: "Access",
        description: "Remote access to the internal network.",
        fields: &[
            ("reason", "Why it is needed", FieldKind::Text, true, &[]),
            ("until", "Until", FieldKind::Date, false, &[]),
        ],
        approval: true,
        tasks: &["Add the account to the VPN group"],
    },
    ItemSpec {
        name: "Shared mailbox",
        category: "Access",
        description: "A mailbox a team shares, with its members.",
        fields: &[
            ("mailbox", "Mailbox name", FieldKind::Text, true, &[]),
            ("members", "Members", FieldKind::Number, false, &[]),
        ],
        approval: false,
        tasks: &["Create the mailbox", "Grant the members access"],
    },
    ItemSpec {
        name: "Replacement badge",
        category: "Facilities",
        description: "A new building badge for a lost or broken one.",
        fields: &[(
            "site",
            "Site",
            FieldKind::Select,
            true,
            &["London office", "Warehouse", "Head office"],
        )],
        approval: false,
        tasks: &["Print and activate the badge"],
    },
    ItemSpec {
        name: "Desk move",
        category: "Facilities",
        description: "Moving a desk, its equipment and its network port.",
        fields: &[
            ("to", "New desk", FieldKind::Text, true, &[]),
            ("on", "Moving day", FieldKind::Date, true, &[]),
        ],
        approval: false,
        tasks: &["Move the equipment", "Patch the network port"],
    },
];

/// What requesters write in a text field, by the field's name (any other text field gets the
/// general answers).
const TEXT_ANSWERS: [(&str, &[&str]); 4] = [
    (
        "reason",
        &[
            "Working from home on Fridays",
            "Travelling to a customer site",
            "On call for the payroll run",
            "New role in the finance team",
        ],
    ),
    (
        "mailbox",
        &[
            "payroll-team",
            "facilities-desk",
            "warehouse-shift",
            "london-reception",
        ],
    ),
    (
        "to",
        &[
            "Floor 2, desk 14",
            "Floor 3, desk 2",
            "The warehouse office",
            "Meeting room 4",
        ],
    ),
    (
        "",
        &[
            "Please deliver to reception",
            "Same as my colleague's",
            "Urgent: starts Monday",
            "As discussed with the service desk",
        ],
    ),
];

/// The benchmark catalogue as item drafts; items that need approval ask `approvers`.
fn catalogue(approvers: &[i64]) -> Vec<ItemDraft> {
    CATALOGUE
        .iter()
        .map(|spec| ItemDraft {
            name: spec.name.into(),
            description: spec.description.into(),
            category: spec.category.into(),
            fields: spec
                .fields
                .iter()
                .map(|(name, label, kind, required, options)| FormField {
                    name: (*name).into(),
                    label: (*label).into(),
                    kind: *kind,
                    required: *required,
                    options: options.iter().map(|o| (*o).to_owned()).collect(),
                })
                .collect(),
            approver_ids: if spec.approval {
                approvers.iter().take(2).copied().collect()
            } else {
                Vec::new()
            },
            tasks: spec
                .tasks
                .iter()
                .map(|t| TaskTemplate {
                    title: (*t).into(),
                    team_id: None,
                })
                .collect(),
            active: true,
        })
        .collect()
}

/// `YYYY-MM-DD` of a time in microseconds, in UTC.
fn date(micros: i64) -> String {
    jiff::Timestamp::from_microsecond(micros)
        .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date().to_string())
        .unwrap_or_else(|_| "2026-01-01".into())
}

/// Answers to an item's form as a requester gives them around `opened_at`: every required
/// field and about half the optional ones, normalised as `check_answers` stores them.
fn answers(rng: &mut StdRng, fields: &[FormField], opened_at: i64) -> Map<String, Value> {
    let mut given = Map::new();
    for field in fields {
        if !field.required && rng.random_bool(0.5) {
            continue;
        }
        let value = match field.kind {
            FieldKind::Select if !field.options.is_empty() => {
                Value::from(field.options[rng.random_range(0..field.options.len())].clone())
            }
            FieldKind::Number => Value::from(rng.random_range(1..6)),
            FieldKind::Date => Value::from(date(opened_at + rng.random_range(1..30) * DAY)),
            FieldKind::Text | FieldKind::Select | FieldKind::User => {
                let choices = TEXT_ANSWERS
                    .iter()
                    .find(|(name, _)| *name == field.name || name.is_empty())
                    .map_or(&[][..], |(_, c)| *c);
                Value::from(pick(rng, choices))
            }
        };
        given.insert(field.name.clone(), value);
    }
    check_answers(fields, &given).unwrap_or(given)
}

/// A request from one of `items`, by one of `requesters`: mostly closed and fulfilled over the
/// past year, the open ones (awaiting approval or in fulfilment) from the last two weeks, some
/// rejected or cancelled. Its times follow its life: decided, then fulfilled, then closed,
/// none after `now`.
fn request<'a>(
    rng: &mut StdRng,
    items: &'a [CatalogueItem],
    requesters: &[i64],
    now: i64,
) -> NewRequest<'a> {
    use RequestStatus::*;
    let item = &items[rng.random_range(0..items.len())];
    let approval = !item.approver_ids.is_empty();
    let status = match rng.random_range(0..100) {
        0..55 => Closed,
        55..70 => Fulfilled,
        70..82 => InFulfilment,
        82..88 if approval => PendingApproval,
        82..88 => InFulfilment,
        88..93 if approval => Rejected,
        _ => Cancelled,
    };
    let span = if matches!(status, PendingApproval | InFulfilment) {
        14 * DAY
    } else {
        365 * DAY
    };
    let opened_at = now - rng.random_range(0..span);
    let at = |t: i64| t.min(now - MINUTE).max(opened_at);
    // A cancelled request that needed approval was cancelled before or after it.
    let decided =
        approval && status != PendingApproval && (status != Cancelled || rng.random_bool(0.5));
    let decided_at = decided.then(|| at(opened_at + rng.random_range(10..2 * 1_440) * MINUTE));
    let started = decided_at.unwrap_or(opened_at);
    let fulfilled_at = matches!(status, Fulfilled | Closed)
        .then(|| at(started + rng.random_range(60..10 * 1_440) * MINUTE));
    let closed_at = match status {
        Closed => fulfilled_at.map(|f| at(f + rng.random_range(1_440..5 * 1_440) * MINUTE)),
        Rejected => decided_at,
        Cancelled => Some(at(started + rng.random_range(30..3 * 1_440) * MINUTE)),
        _ => None,
    };
    let answers = answers(rng, &item.fields, opened_at);
    let requester_user_id =
        (!requesters.is_empty()).then(|| requesters[rng.random_range(0..requesters.len())]);
    NewRequest {
        item,
        values: RequestValues {
            title: item.name.clone(),
            answers,
            status,
            requester_user_id,
            opened_at,
            fulfilled_at,
            closed_at,
            fields: RequestFields::default(),
        },
        decided_at,
    }
}

const PROBLEM_TITLES: [&str; 3] = [
    "Recurring: {t} {f} on {p}",
    "{t} {f} for several users on {p}",
    "Intermittent {t} outages on {p}",
];
const ROOT_CAUSES: [&str; 5] = [
    "A firmware bug in the {t} since the last update",
    "An expired certificate on the {t} gateway",
    "A faulty network switch serving {p}",
    "A misconfigured group policy for the {t}",
    "A memory leak in the {t} service",
];
const WORKAROUNDS: [&str; 4] = [
    "Restart the {t} and sign in again",
    "Use the {t} on another floor until the fix is in",
    "Connect by cable instead of Wi-Fi on {p}",
    "Clear the {t} cache from the self-service portal",
];

/// A problem behind incidents like the generated ones: mostly closed or resolved over the past
/// year, the open ones (new, investigating, known errors) from the last three months. A known
/// error has its root cause and workaround, a resolved or closed one its root cause; times
/// follow its life, none after `now`.
fn problem(rng: &mut StdRng, services: &[i64], now: i64) -> (ProblemFields, i64) {
    use ProblemStatus::*;
    let thing = pick(rng, &THINGS);
    let (fault, place) = (pick(rng, &FAULTS), pick(rng, &PLACES));
    let title = fill(pick(rng, &PROBLEM_TITLES), thing, fault, place);
    let small = in_sentence(thing);
    let status = match rng.random_range(0..100) {
        0..40 => Closed,
        40..55 => Resolved,
        55..70 => KnownError,
        70..90 => Investigating,
        90..95 => New,
        _ => Cancelled,
    };
    let span = if matches!(status, New | Investigating | KnownError) {
        90 * DAY
    } else {
        365 * DAY
    };
    let opened_at = now - rng.random_range(0..span);
    let at = |t: i64| t.min(now - MINUTE).max(opened_at);
    let knows_cause = matches!(status, KnownError | Resolved | Closed)
        || (status == Investigating && rng.random_bool(0.5));
    let root_cause = if knows_cause {
        fill(pick(rng, &ROOT_CAUSES), &small, fault, place)
    } else {
        String::new()
    };
    let has_workaround = status == KnownError || (knows_cause && rng.random_bool(0.5));
    let workaround = if has_workaround {
        fill(pick(rng, &WORKAROUNDS), &small, fault, place)
    } else {
        String::new()
    };
    let resolved_at =
        matches!(status, Resolved | Closed).then(|| at(opened_at + rng.random_range(1..60) * DAY));
    let closed_at = match status {
        Closed => resolved_at.map(|r| at(r + rng.random_range(1..14) * DAY)),
        Cancelled => Some(at(opened_at + rng.random_range(1..30) * DAY)),
        _ => None,
    };
    let levels = [Level::Low, Level::Medium, Level::High];
    let (impact, urgency) = (
        levels[rng.random_range(0..3)],
        levels[rng.random_range(0..3)],
    );
    let fields = ProblemFields {
        description: format!(
            "Several incidents report the same: {} {fault} on {place}. Linked incidents show the pattern.",
            small
        ),
        title,
        status,
        impact,
        urgency,
        priority: PriorityMatrix::default().priority(impact, urgency),
        service_id: Some(services[rng.random_range(0..services.len())]),
        assignee_id: None,
        root_cause,
        workaround,
        resolved_at,
        closed_at,
        category_id: None,
        custom: Map::new(),
    };
    (fields, opened_at)
}

/// Generated records, each part from its own generator so that adding a part (a kind of
/// record, a field) leaves the others what earlier versions generated for a seed.
struct Generators {
    incidents: StdRng,
    timing: StdRng,
    talk: StdRng,
    customers: StdRng,
    requests: StdRng,
    problems: StdRng,
    links: StdRng,
}

impl Generators {
    fn new(seed: u64) -> Generators {
        Generators {
            incidents: StdRng::seed_from_u64(seed),
            timing: StdRng::seed_from_u64(seed ^ 0x5eed_c10c),
            talk: StdRng::seed_from_u64(seed ^ 0xc044_e47a),
            customers: StdRng::seed_from_u64(seed ^ 0xc057_0e45),
            requests: StdRng::seed_from_u64(seed ^ 0x4e9_0e57),
            problems: StdRng::seed_from_u64(seed ^ 0x9_0b1e),
            links: StdRng::seed_from_u64(seed ^ 0x11_4c5),
        }
    }

    /// An incident of one of `services` for one of `customers` (none if there are none), with
    /// its conversation.
    fn next(
        &mut self,
        (services, customers): (&[i64], &[i64]),
        now: i64,
        comments: u32,
    ) -> (IncidentFields, Vec<NewComment>) {
        let mut f = incident(&mut self.incidents, services, now);
        timings(&mut self.timing, &mut f, now);
        if !customers.is_empty() {
            f.customer_id = Some(customers[self.customers.random_range(0..customers.len())]);
        }
        let talk = conversation(&mut self.talk, &f, comments, now);
        (f, talk)
    }

    fn next_request<'a>(
        &mut self,
        items: &'a [CatalogueItem],
        requesters: &[i64],
        now: i64,
    ) -> NewRequest<'a> {
        request(&mut self.requests, items, requesters, now)
    }

    /// A problem linked to up to four of the incidents numbered `1..=incidents`.
    fn next_problem(&mut self, services: &[i64], incidents: i64, now: i64) -> NewProblem {
        let (fields, opened_at) = problem(&mut self.problems, services, now);
        let count = if incidents > 0 {
            self.links.random_range(0..=4)
        } else {
            0
        };
        let incident_numbers = (0..count)
            .map(|_| self.links.random_range(1..=incidents))
            .collect();
        NewProblem {
            fields,
            opened_at,
            incident_numbers,
        }
    }
}

/// `ids` of what a tenant has, topped up to `want` by `create(n)` for each missing `n`.
async fn topped_up(
    mut ids: Vec<i64>,
    want: usize,
    mut create: impl AsyncFnMut(usize) -> anyhow::Result<i64>,
) -> anyhow::Result<Vec<i64>> {
    for n in ids.len()..want {
        ids.push(create(n).await?);
    }
    Ok(ids)
}

const MOST: PageRequest = PageRequest {
    limit: Some(500),
    cursor: None,
};

async fn services(store: &Store, tenant_id: i64) -> anyhow::Result<Vec<i64>> {
    let have = store
        .services(tenant_id, &Default::default(), &MOST)
        .await?;
    topped_up(have.items.iter().map(|s| s.id).collect(), 10, async |n| {
        let draft = ServiceDraft {
            name: format!("Benchmark service {n:02}"),
            description: String::new(),
            owner_id: None,
            criticality: Criticality::Medium,
            status: ServiceStatus::Live,
        };
        Ok(store
            .create_service(tenant_id, &draft, &Actor::cli())
            .await?
            .id)
    })
    .await
}

const CUSTOMERS: [&str; 8] = [
    "Northwind Traders",
    "Contoso",
    "Fabrikam",
    "Tailspin Toys",
    "Wide World Importers",
    "Adventure Works",
    "Litware",
    "Proseware",
];

async fn customers(store: &Store, tenant_id: i64) -> anyhow::Result<Vec<i64>> {
    let have = store
        .customers(tenant_id, &Default::default(), &MOST)
        .await?;
    topped_up(
        have.items.iter().map(|c| c.id).collect(),
        CUSTOMERS.len(),
        async |n| {
            let draft = CustomerDraft {
                name: CUSTOMERS[n].into(),
                notes: "Created by steward bench generate".into(),
            };
            Ok(store
                .create_customer(tenant_id, &draft, &Actor::cli())
                .await?
                .id)
        },
    )
    .await
}

/// The tenant's active users of a role, topped up to `want` with `{what}NN@bench.example`.
async fn users(
    store: &Store,
    tenant_id: i64,
    role: Role,
    what: &str,
    want: usize,
) -> anyhow::Result<Vec<i64>> {
    let filter = UserFilter {
        role: Some(role),
        active: Some(true),
        ..Default::default()
    };
    let have = store.users(tenant_id, &filter, &MOST).await?;
    topped_up(have.items.iter().map(|u| u.id).collect(), want, async |n| {
        let draft = UserDraft {
            email: format!("{what}{n:02}@bench.example"),
            name: format!("Bench {what} {n:02}"),
            role,
            active: true,
        };
        Ok(store
            .create_user(tenant_id, &draft, None, &Actor::cli())
            .await?
            .id)
    })
    .await
}

/// The tenant's active catalogue, or the benchmark catalogue if it has none.
async fn items(store: &Store, tenant_id: i64) -> anyhow::Result<Vec<CatalogueItem>> {
    let items = store.items(tenant_id, true).await?;
    if !items.is_empty() {
        return Ok(items);
    }
    let approvers = users(store, tenant_id, Role::Manager, "approver", 3).await?;
    let mut created = Vec::new();
    for draft in catalogue(&approvers) {
        let draft = draft
            .validate()
            .map_err(|e| anyhow!("catalogue item: {e}"))?;
        created.push(
            store
                .save_item(tenant_id, None, &draft, &Actor::cli())
                .await?,
        );
    }
    Ok(created)
}

/// Generates and loads `total` records in batches of `BATCH` behind a progress bar: `batch(n)`
/// adds `n` and returns the bar's message. Returns the seconds it took.
async fn in_batches(
    total: u64,
    what: &str,
    mut batch: impl AsyncFnMut(u64) -> anyhow::Result<String>,
) -> anyhow::Result<f64> {
    let start = Instant::now();
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(&format!(
        "generating {{bar:40}} {{pos}}/{{len}} {what} · {{msg}} · {{per_sec}} · ETA {{eta}}"
    )) {
        bar.set_style(style);
    }
    let mut done = 0;
    while done < total {
        let n = BATCH.min(total - done);
        let message = batch(n).await?;
        done += n;
        bar.set_position(done);
        bar.set_message(message);
    }
    bar.finish_and_clear();
    Ok(start.elapsed().as_secs_f64())
}

pub async fn run(store: &Store, cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Generate(args) => generate(store, args).await,
        BenchCommand::Queries(args) => queries(store, args).await,
        BenchCommand::SlaClocks(args) => sla_clocks(store, args).await,
        BenchCommand::SlaReport(args) => sla_report(store, args).await,
        BenchCommand::Cmdb(args) => cmdb::generate(store, args).await,
        BenchCommand::Impact(args) => cmdb::impact(store, args).await,
        BenchCommand::Collisions(args) => collisions::collisions(store, args).await,
    }
}

async fn generate(store: &Store, args: GenerateArgs) -> anyhow::Result<()> {
    let tenant = store
        .require_tenant(&args.tenant)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let t = tenant.id;
    let services = services(store, t).await?;
    let customers = customers(store, t).await?;
    let mut generators = Generators::new(args.seed);
    let actor = Actor {
        user_id: None,
        label: "bench".into(),
    };
    let now = steward_store::now_micros();
    let mut comments = 0u64;
    let incident_seconds = in_batches(args.incidents, "incidents", async |n| {
        let (rows, talk): (Vec<IncidentFields>, Vec<Vec<NewComment>>) = (0..n)
            .map(|_| generators.next((&services, &customers), now, args.comments))
            .unzip();
        store
            .load_incidents_with_comments(t, &rows, &talk, &actor)
            .await?;
        comments += talk.iter().map(|c| c.len() as u64).sum::<u64>();
        Ok(format!("{comments} comments"))
    })
    .await?;
    let mut request_seconds = 0.0;
    if args.requests > 0 {
        let items = items(store, t).await?;
        let requesters = users(store, t, Role::Requester, "requester", 25).await?;
        let mut open = 0u64;
        request_seconds = in_batches(args.requests, "requests", async |n| {
            let rows: Vec<NewRequest> = (0..n)
                .map(|_| generators.next_request(&items, &requesters, now))
                .collect();
            store.load_requests(t, &rows, &actor).await?;
            open += rows
                .iter()
                .filter(|r| !r.values.status.is_terminal())
                .count() as u64;
            Ok(format!("{open} open"))
        })
        .await?;
    }
    let incidents = store.count_incidents(t, &IncidentFilter::default()).await?;
    let mut known = 0u64;
    let problem_seconds = in_batches(args.problems, "problems", async |n| {
        let rows: Vec<NewProblem> = (0..n)
            .map(|_| generators.next_problem(&services, incidents, now))
            .collect();
        store.load_problems(t, &rows, &actor).await?;
        known += rows
            .iter()
            .filter(|p| p.fields.status == ProblemStatus::KnownError)
            .count() as u64;
        Ok(format!("{known} known errors"))
    })
    .await?;
    let started = Instant::now();
    store.refresh_statistics().await?;
    let seconds =
        incident_seconds + request_seconds + problem_seconds + started.elapsed().as_secs_f64();
    let rate = |count: u64, seconds: f64| count as f64 / seconds.max(0.001);
    println!(
        "{{\"scenario\":\"generate\",\"backend\":\"{}\",\"incidents\":{},\"comments\":{comments},\"requests\":{},\"problems\":{},\"seconds\":{seconds:.1},\"per_second\":{:.0},\"incidents_per_second\":{:.0},\"requests_per_second\":{:.0},\"problems_per_second\":{:.0}}}",
        store.backend().name(),
        args.incidents,
        args.requests,
        args.problems,
        rate(args.incidents + args.requests + args.problems, seconds),
        rate(args.incidents, incident_seconds),
        rate(args.requests, request_seconds),
        rate(args.problems, problem_seconds),
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
                .map(|_| g.next((&services, &[]), 1_000 * 86_400_000_000, comments))
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
        // Requests, problems and customers come from their own generators: the same seed
        // gives the same ones, and generating them leaves the incidents what they were.
        let items = bench_items();
        let now = 1_000 * 86_400_000_000;
        let mixed = |seed| {
            let mut g = Generators::new(seed);
            let mut incidents = Vec::new();
            let mut requests = Vec::new();
            let mut problems = Vec::new();
            for _ in 0..100 {
                incidents.push(g.next((&services, &[7, 8]), now, 2));
                requests.push(g.next_request(&items, &[11, 12], now));
                problems.push(g.next_problem(&services, 500, now));
            }
            (incidents, requests, problems)
        };
        let (a, b) = (mixed(9), mixed(9));
        assert_eq!(a, b);
        assert_ne!(a.1, mixed(10).1, "another seed, other requests");
        let customerless: Vec<_> =
            a.0.iter()
                .map(|(f, c)| {
                    let mut f = f.clone();
                    f.customer_id = None;
                    (f, c.clone())
                })
                .collect();
        assert_eq!(
            customerless,
            with[..100],
            "the incidents stay what they were"
        );
        assert!(
            a.0.iter()
                .all(|(f, _)| matches!(f.customer_id, Some(7 | 8)))
        );
    }

    /// The benchmark catalogue as saved items, item k with id k + 1 and approvers 101 and 102.
    fn bench_items() -> Vec<CatalogueItem> {
        catalogue(&[101, 102, 103])
            .into_iter()
            .enumerate()
            .map(|(k, d)| {
                let d = d.validate().expect("valid item");
                CatalogueItem {
                    id: k as i64 + 1,
                    name: d.name,
                    description: d.description,
                    category: d.category,
                    fields: d.fields,
                    approver_ids: d.approver_ids,
                    tasks: d.tasks,
                    active: true,
                    created_at: 0,
                    updated_at: 0,
                }
            })
            .collect()
    }

    #[test]
    fn generated_requests_are_plausible() {
        use RequestStatus::*;
        let items = bench_items();
        assert_eq!(items.len(), CATALOGUE.len());
        assert_eq!(items[0].approver_ids, [101, 102]);
        let now = 1_000 * 86_400_000_000;
        let mut rng = StdRng::seed_from_u64(3);
        let requests: Vec<_> = (0..2_000)
            .map(|_| request(&mut rng, &items, &[5, 6], now))
            .collect();
        for status in RequestStatus::ALL {
            assert!(
                requests.iter().any(|r| r.values.status == *status),
                "{status}"
            );
        }
        for r in &requests {
            let v = &r.values;
            let approval = !r.item.approver_ids.is_empty();
            assert_eq!(v.title, r.item.name);
            assert!(matches!(v.requester_user_id, Some(5 | 6)));
            // Answers the item's form accepts as they are.
            assert_eq!(
                check_answers(&r.item.fields, &v.answers).as_ref(),
                Ok(&v.answers)
            );
            assert!(
                r.item
                    .fields
                    .iter()
                    .filter(|f| f.required)
                    .all(|f| v.answers.contains_key(&f.name))
            );
            assert!(approval || !matches!(v.status, PendingApproval | Rejected));
            match v.status {
                PendingApproval => assert!(r.decided_at.is_none()),
                Cancelled => assert!(approval || r.decided_at.is_none()),
                _ => assert_eq!(r.decided_at.is_some(), approval),
            }
            assert_eq!(
                v.fulfilled_at.is_some(),
                matches!(v.status, Fulfilled | Closed)
            );
            assert_eq!(v.closed_at.is_some(), v.status.is_terminal());
            let times = [Some(v.opened_at), r.decided_at, v.fulfilled_at, v.closed_at];
            let times: Vec<i64> = times.into_iter().flatten().collect();
            assert!(
                times.windows(2).all(|w| w[0] <= w[1]),
                "in order: {times:?}"
            );
            assert!(times.iter().all(|t| (now - 366 * DAY..now).contains(t)));
            if !v.status.is_terminal() && v.status != Fulfilled {
                assert!(v.opened_at >= now - 14 * DAY, "open requests are recent");
            }
        }
    }

    #[test]
    fn generated_problems_are_plausible() {
        use ProblemStatus::*;
        let now = 1_000 * 86_400_000_000;
        let mut g = Generators::new(5);
        let problems: Vec<_> = (0..1_000)
            .map(|_| g.next_problem(&[1, 2], 300, now))
            .collect();
        for status in ProblemStatus::ALL {
            assert!(
                problems.iter().any(|p| p.fields.status == *status),
                "{status}"
            );
        }
        for p in &problems {
            let f = &p.fields;
            // What the status needs, as a person moving it there would have had to give.
            if matches!(f.status, KnownError | Resolved | Closed) {
                assert!(!f.root_cause.is_empty());
            }
            if f.status == KnownError {
                assert!(
                    Investigating
                        .transition(KnownError, &f.root_cause, &f.workaround)
                        .is_ok()
                );
            }
            assert_eq!(
                f.resolved_at.is_some(),
                matches!(f.status, Resolved | Closed)
            );
            assert_eq!(f.closed_at.is_some(), f.status.is_terminal());
            let times: Vec<i64> = [Some(p.opened_at), f.resolved_at, f.closed_at]
                .into_iter()
                .flatten()
                .collect();
            assert!(times.windows(2).all(|w| w[0] <= w[1]) && times.iter().all(|t| *t < now));
            assert!(p.incident_numbers.len() <= 4);
            assert!(p.incident_numbers.iter().all(|n| (1..=300).contains(n)));
            assert!(matches!(f.service_id, Some(1 | 2)));
        }
        assert!(problems.iter().any(|p| !p.incident_numbers.is_empty()));
        // Without incidents there is nothing to link.
        assert!(g.next_problem(&[1], 0, now).incident_numbers.is_empty());
    }
}
