//! The REST API under `/api/v1`: JSON in and out, problem+json errors, OpenAPI 3.1 generated
//! from the handlers themselves.

pub mod assets;
pub mod attachments;
pub mod audits;
pub mod bulk;
pub mod calendars;
pub mod categories;
pub mod certificates;
pub mod changes;
pub mod cmdb;
pub mod cmdb_baselines;
pub mod competence;
pub mod complaints;
pub mod conformance;
mod customers;
pub mod designs;
pub mod documents;
pub mod imports;
pub mod improvements;
pub mod incidents;
mod journal;
pub mod knowledge;
pub mod major;
pub mod management_reviews;
mod me;
pub mod nonconformities;
pub mod notifications;
pub mod objectives;
pub mod problems;
pub mod record_cis;
pub mod releases;
pub mod requests;
pub mod risks;
pub mod roles;
pub mod satisfaction;
pub mod search;
mod services;
pub mod settings;
pub mod sla;
pub mod sla_reports;
pub mod suppliers;
mod teams;
mod tokens;
mod users;
pub mod views;
pub mod watchers;

pub use me::change_own_password;

use crate::AppState;
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use axum::routing::get;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use std::sync::{Arc, OnceLock};
use steward_domain::Invalid;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Steward API",
        description = "IT service management for ISO/IEC 20000-1. Authenticate with `Authorization: Bearer <token>` \
                       (create tokens with `steward token create` or in the UI). Errors are RFC 9457 problem documents. \
                       Lists use keyset pagination: pass `next_cursor` back as `cursor`.",
    ),
    servers((url = "/api/v1")),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(Problem)),
    tags(
        (name = "services", description = "The service catalogue"),
        (name = "customers", description = "Customers and their contacts"),
        (name = "teams", description = "Teams and membership"),
        (name = "users", description = "People who sign in"),
        (name = "tokens", description = "API tokens"),
        (name = "incidents", description = "Incidents (ISO/IEC 20000-1 8.6.1)"),
        (name = "requests", description = "The service catalogue and service requests (ISO/IEC 20000-1 8.6.2)"),
        (name = "problems", description = "Problems and known errors (ISO/IEC 20000-1 8.6.3)"),
        (name = "cmdb", description = "Configuration management: CI classes, CIs, relationships, impact analysis and baselines (ISO/IEC 20000-1 8.2.6)"),
        (name = "assets", description = "Asset management: hardware and software assets, their lifecycle, licences and the CIs they are (ISO/IEC 20000-1 8.2.5)"),
        (name = "changes", description = "Change management: changes, risk, approvals, the forward schedule with blackouts and collisions, and the change calendar (ISO/IEC 20000-1 8.5.1)"),
        (name = "conformance", description = "Conformance with ISO/IEC 20000-1 clauses 4 to 10: each requirement's status from the organisation's records beside the assessor's judgement, reproducible record samples, judgements (readiness, not a certification)"),
        (name = "service-designs", description = "Design and transition of new or changed services: service design records and their acceptance into live operation (ISO/IEC 20000-1 8.5.2)"),
        (name = "releases", description = "Release and deployment management: releases grouping changes, acceptance criteria with sign-off, deployments per environment updating the CMDB (ISO/IEC 20000-1 8.5.3)"),
        (name = "certificates", description = "The certificate register: ISO/IEC 20000-1 certificates the organisation holds, their status and its history; the public, signed verification is at /verify/{number}"),
        (name = "documents", description = "Controlled documents (ISO/IEC 20000-1 7.5) and the SMS's core documents (scope 4.3, policy 5.2, plan 6.3, communication plan 7.4): versions with review and approval, periodic reviews, acknowledgements by the distribution, files"),
        (name = "internal-audit", description = "Internal audit (ISO/IEC 20000-1 9.2): the audit programme over a three-year certification cycle with its coverage of the clauses, audits with independent auditors, checklists from the clause catalogue, and findings; a nonconformity finding raises a nonconformity"),
        (name = "risks", description = "Risks and opportunities (ISO/IEC 20000-1 6.1): likelihood and impact on a five-by-five grid, treatment, owner, residual rating, periodic reviews and the heat map"),
        (name = "roles", description = "Roles, responsibilities and authorities (ISO/IEC 20000-1 5.3): roles with their duties and powers, the people who hold them over time (each told of it), and the RACI matrix of the SMS's processes"),
        (name = "competence", description = "Competence (ISO/IEC 20000-1 7.2): each role's competence requirements, people's education, training, qualification and experience records, actions that close gaps with their evaluation, and the gap analysis of current role holders"),
        (name = "objectives", description = "Service management objectives (ISO/IEC 20000-1 6.2): measurable targets with an owner, measured monthly from Steward's own records (SLA attainment, change success, major incidents) or by hand"),
        (name = "nonconformities", description = "Nonconformity and corrective action (ISO/IEC 20000-1 10.1): nonconformities from incidents, complaints, management reviews and audit findings, with containment, root cause, corrective actions and an independent effectiveness check before closure"),
        (name = "improvements", description = "The improvement register (ISO/IEC 20000-1 10.2): opportunities, their evaluation criteria and priority, the decision on each with its reason, and the benefit realised"),
        (name = "complaints", description = "Complaints (ISO/IEC 20000-1 8.3.2-g/h/i): recorded, investigated, actioned and closed with the outcome told to the complainant, escalated past their target date, raising nonconformities and improvements"),
        (name = "suppliers", description = "Supplier management (ISO/IEC 20000-1 8.3.4): external and internal suppliers with their owner, interfaces and selection evaluation, contract versions with approval, impact assessment and periodic review, performance reviews raising improvements, disputes with escalation, and linked underpinning contracts with their attainment"),
        (name = "satisfaction", description = "Customer satisfaction (ISO/IEC 20000-1 8.3.2-f): surveys with their sample, responses, average score and analysis; requesters rate their own resolved incidents at /incidents/{key}/rating"),
        (name = "management-reviews", description = "Management review (ISO/IEC 20000-1 9.3): reviews at planned intervals on inputs Steward compiles from its own records for the period (frozen once held), minutes, decisions, and actions tracked to closure"),
        (name = "imports", description = "Incidents, requests and problems from other tools, as CSV"),
        (name = "knowledge", description = "Knowledge articles (ISO/IEC 20000-1 7.6)"),
        (name = "views", description = "Saved list views"),
        (name = "settings", description = "The organisation's process settings"),
        (name = "categories", description = "Incident categories and custom fields"),
        (name = "calendars", description = "Business calendars: working hours, holidays and working-time arithmetic"),
        (name = "sla", description = "Service level management: agreements (SLA, OLA, UC) and attainment (ISO/IEC 20000-1 8.3.3, 9.4)"),
        (name = "search", description = "One search across every kind of record"),
        (name = "journal", description = "The audit journal"),
        (name = "me", description = "The signed-in user"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token"))
                    .build(),
            ),
        );
    }
}

fn parts() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let router = OpenApiRouter::with_openapi(ApiDoc::openapi());
    sms_routes(control_routes(relationship_routes(router)))
        .routes(routes!(services::list, services::create))
        .routes(routes!(
            services::get_one,
            services::update,
            services::delete
        ))
        .routes(routes!(customers::list, customers::create))
        .routes(routes!(
            customers::get_one,
            customers::update,
            customers::delete
        ))
        .routes(routes!(customers::list_contacts, customers::create_contact))
        .routes(routes!(
            customers::get_contact,
            customers::update_contact,
            customers::delete_contact
        ))
        .routes(routes!(teams::list, teams::create))
        .routes(routes!(teams::get_one, teams::update, teams::delete))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::get_one, users::update, users::delete))
        .routes(routes!(tokens::list, tokens::create))
        .routes(routes!(tokens::revoke))
        .routes(routes!(incidents::list, incidents::create))
        .routes(routes!(bulk::bulk))
        .routes(routes!(incidents::get_one, incidents::update))
        .routes(routes!(incidents::list_comments, incidents::create_comment))
        .routes(routes!(attachments::list, attachments::upload))
        .routes(routes!(attachments::download))
        .routes(routes!(watchers::list, watchers::add))
        .routes(routes!(watchers::remove))
        .routes(routes!(
            major::get_major,
            major::declare_major,
            major::stand_down_major
        ))
        .routes(routes!(
            major::list_communications,
            major::create_communication
        ))
        .routes(routes!(major::get_review, major::put_review))
        .routes(routes!(problems::incident_links, problems::link_incident))
        .routes(routes!(requests::list_items, requests::create_item))
        .routes(routes!(requests::get_item, requests::replace_item))
        .routes(routes!(requests::list, requests::create))
        .routes(routes!(requests::get_one, requests::update))
        .routes(routes!(requests::approve))
        .routes(routes!(requests::complete_task))
        .routes(routes!(problems::list, problems::create))
        .routes(routes!(problems::candidates))
        .routes(routes!(problems::get_one, problems::update))
        .routes(routes!(problems::problem_links, problems::link_problem))
        .routes(routes!(problems::list_known_errors))
        .routes(routes!(imports::import))
        .routes(routes!(services::get_customers, services::set_customers))
        .routes(routes!(
            problems::get_known_error,
            problems::update_known_error
        ))
        .routes(routes!(knowledge::list, knowledge::create))
        .routes(routes!(knowledge::get_one, knowledge::update))
        .routes(routes!(knowledge::versions))
        .routes(routes!(search::search_all))
        .routes(routes!(settings::get, settings::put))
        .routes(routes!(notifications::list))
        .routes(routes!(notifications::put))
        .routes(routes!(categories::list, categories::create))
        .routes(routes!(categories::update))
        .routes(routes!(
            categories::get_custom_fields,
            categories::put_custom_fields
        ))
        .routes(routes!(calendars::list, calendars::create))
        .routes(routes!(
            calendars::get_one,
            calendars::replace,
            calendars::delete
        ))
        .routes(routes!(calendars::add))
        .routes(routes!(calendars::between))
        .routes(routes!(calendars::holidays_ics))
        .routes(routes!(sla::list, sla::create))
        .routes(routes!(sla::get_one, sla::replace))
        .routes(routes!(sla::incident::clocks))
        .routes(routes!(sla::incident::exclude, sla::incident::include))
        .routes(routes!(sla::incident::breach_reason))
        .routes(routes!(sla::request::clocks))
        .routes(routes!(sla::request::exclude, sla::request::include))
        .routes(routes!(sla::request::breach_reason))
        .routes(routes!(sla_reports::attainment))
        .routes(routes!(sla_reports::breaches))
        .routes(routes!(views::list, views::create))
        .routes(routes!(views::delete))
        .routes(routes!(journal::list))
        .routes(routes!(me::get_me))
        .routes(routes!(me::change_password))
        .split_for_parts()
}

// The routes are chained in a few functions rather than one: every route chained in one
// function adds to its stack frame, which debug builds keep large enough to overflow a test
// thread's 2 MiB.

/// Relationship and agreement routes (8.3): complaints, satisfaction, suppliers.
fn relationship_routes(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
        .routes(routes!(complaints::list, complaints::create))
        .routes(routes!(complaints::get_one, complaints::update))
        .routes(routes!(complaints::transition))
        .routes(routes!(complaints::history))
        .routes(routes!(complaints::escalations, complaints::escalate))
        .routes(routes!(complaints::raise_nonconformity))
        .routes(routes!(complaints::propose_improvement))
        .routes(routes!(
            satisfaction::list_surveys,
            satisfaction::create_survey
        ))
        .routes(routes!(satisfaction::get_survey))
        .routes(routes!(
            satisfaction::list_reviews,
            satisfaction::create_review
        ))
        .routes(routes!(satisfaction::get_rating, satisfaction::rate))
        .routes(routes!(suppliers::list, suppliers::create))
        .routes(routes!(suppliers::get_one, suppliers::update))
        .routes(routes!(suppliers::contracts, suppliers::add_contract))
        .routes(routes!(suppliers::approve_contract))
        .routes(routes!(suppliers::review_contract))
        .routes(routes!(suppliers::reviews, suppliers::add_review))
        .routes(routes!(suppliers::disputes, suppliers::add_dispute))
        .routes(routes!(suppliers::step_dispute))
        .routes(routes!(suppliers::ucs, suppliers::set_ucs))
}

/// Control routes (8.2.6, 8.5): the CMDB, assets, changes, releases and service design.
fn control_routes(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
        .routes(routes!(cmdb::list_classes, cmdb::create_class))
        .routes(routes!(cmdb::get_class, cmdb::replace_class))
        .routes(routes!(cmdb::list_types, cmdb::create_type))
        .routes(routes!(cmdb::list_cis, cmdb::create_ci))
        .routes(routes!(cmdb::get_ci, cmdb::replace_ci))
        .routes(routes!(cmdb::verify_ci))
        .routes(routes!(cmdb::relationships_of))
        .routes(routes!(cmdb::get_impact))
        .routes(routes!(cmdb::get_health))
        .routes(routes!(cmdb::create_relationship))
        .routes(routes!(cmdb::get_relationship, cmdb::delete_relationship))
        .routes(routes!(cmdb_baselines::list, cmdb_baselines::create))
        .routes(routes!(cmdb_baselines::get_one))
        .routes(routes!(cmdb_baselines::diff))
        .routes(routes!(cmdb_baselines::ci_as_of))
        .routes(routes!(
            record_cis::incident_cis,
            record_cis::set_incident_cis
        ))
        .routes(routes!(
            record_cis::problem_cis,
            record_cis::set_problem_cis
        ))
        .routes(routes!(assets::list, assets::create))
        .routes(routes!(assets::expiring))
        .routes(routes!(assets::get_one, assets::update))
        .routes(routes!(assets::transition))
        .routes(routes!(assets::get_cis, assets::put_cis))
        .routes(routes!(changes::list, changes::create))
        .routes(routes!(changes::schedule))
        .routes(routes!(changes::metrics))
        .routes(routes!(changes::ics))
        .routes(routes!(changes::get_one, changes::update))
        .routes(routes!(changes::transition))
        .routes(routes!(changes::put_risk))
        .routes(routes!(changes::get_approvals, changes::decide))
        .routes(routes!(changes::conflicts))
        .routes(routes!(changes::impact))
        .routes(routes!(changes::put_review))
        .routes(routes!(changes::get_policy, changes::put_policy))
        .routes(routes!(changes::list_blackouts, changes::create_blackout))
        .routes(routes!(changes::delete_blackout))
        .routes(routes!(changes::list_templates, changes::create_template))
        .routes(routes!(changes::update_template))
        .routes(routes!(
            changes::list_delegations,
            changes::create_delegation
        ))
        .routes(routes!(changes::end_delegation))
        .routes(routes!(releases::list, releases::create))
        .routes(routes!(releases::get_one, releases::update))
        .routes(routes!(releases::transition))
        .routes(routes!(releases::put_changes))
        .routes(routes!(releases::put_known_errors))
        .routes(routes!(releases::add_criterion))
        .routes(routes!(releases::sign_off))
        .routes(routes!(
            releases::list_deployments,
            releases::create_deployment
        ))
        .routes(routes!(releases::record_outcome))
        .routes(routes!(designs::list, designs::create))
        .routes(routes!(designs::get_one, designs::update))
        .routes(routes!(designs::transition))
        .routes(routes!(designs::accept))
}

/// Management system routes (4–7, 9, 10): conformance, certificates, the SMS registers, internal
/// audit, nonconformities and documents.
fn sms_routes(router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    router
        .routes(routes!(conformance::clauses))
        .routes(routes!(conformance::trend))
        .routes(routes!(conformance::clause))
        .routes(routes!(conformance::clause_sample))
        .routes(routes!(conformance::assess, conformance::assessments))
        .routes(routes!(conformance::evidence_pack))
        .routes(routes!(certificates::list, certificates::create))
        .routes(routes!(certificates::get_one, certificates::update))
        .routes(routes!(certificates::change_status))
        .routes(routes!(certificates::history))
        .routes(routes!(risks::list, risks::create))
        .routes(routes!(risks::heat))
        .routes(routes!(risks::get_one, risks::update))
        .routes(routes!(risks::reviews, risks::review))
        .routes(routes!(risks::close))
        .routes(routes!(
            competence::list_requirements,
            competence::create_requirement
        ))
        .routes(routes!(competence::update_requirement))
        .routes(routes!(competence::list_records, competence::create_record))
        .routes(routes!(competence::update_record))
        .routes(routes!(competence::list_actions, competence::create_action))
        .routes(routes!(competence::complete_action))
        .routes(routes!(competence::evaluate_action))
        .routes(routes!(competence::gaps))
        .routes(routes!(roles::list, roles::create))
        .routes(routes!(roles::get_one, roles::update))
        .routes(routes!(roles::assign))
        .routes(routes!(roles::end))
        .routes(routes!(roles::raci))
        .routes(routes!(roles::set_raci))
        .routes(routes!(objectives::list, objectives::create))
        .routes(routes!(objectives::get_one, objectives::update))
        .routes(routes!(objectives::readings))
        .routes(routes!(objectives::measurements, objectives::measure))
        .routes(routes!(improvements::list, improvements::create))
        .routes(routes!(improvements::get_one, improvements::update))
        .routes(routes!(improvements::steps, improvements::step))
        .routes(routes!(
            management_reviews::list,
            management_reviews::create
        ))
        .routes(routes!(
            management_reviews::get_one,
            management_reviews::update
        ))
        .routes(routes!(
            management_reviews::inputs,
            management_reviews::compile
        ))
        .routes(routes!(management_reviews::hold))
        .routes(routes!(management_reviews::close))
        .routes(routes!(management_reviews::cancel))
        .routes(routes!(
            management_reviews::actions,
            management_reviews::add_action
        ))
        .routes(routes!(management_reviews::complete_action))
        .routes(routes!(audits::list_programmes, audits::create_programme))
        .routes(routes!(audits::get_programme, audits::update_programme))
        .routes(routes!(audits::coverage))
        .routes(routes!(audits::list, audits::create))
        .routes(routes!(audits::get_one, audits::update))
        .routes(routes!(audits::start))
        .routes(routes!(audits::report))
        .routes(routes!(audits::close))
        .routes(routes!(audits::cancel))
        .routes(routes!(audits::checklist))
        .routes(routes!(audits::record_result))
        .routes(routes!(audits::findings, audits::record_finding))
        .routes(routes!(nonconformities::list, nonconformities::create))
        .routes(routes!(nonconformities::get_one, nonconformities::update))
        .routes(routes!(
            nonconformities::actions,
            nonconformities::add_action
        ))
        .routes(routes!(nonconformities::complete_action))
        .routes(routes!(nonconformities::checks, nonconformities::verify))
        .routes(routes!(nonconformities::history))
        .routes(routes!(documents::list, documents::create))
        .routes(routes!(documents::get_one, documents::update))
        .routes(routes!(documents::withdraw))
        .routes(routes!(documents::versions, documents::create_version))
        .routes(routes!(documents::get_version, documents::update_version))
        .routes(routes!(documents::submit))
        .routes(routes!(documents::approve))
        .routes(routes!(documents::return_version))
        .routes(routes!(documents::reviews, documents::record_review))
        .routes(routes!(documents::awareness, documents::acknowledge))
        .routes(routes!(documents::files, documents::upload))
        .routes(routes!(documents::download))
}

/// The OpenAPI document, built once.
pub fn openapi() -> Arc<utoipa::openapi::OpenApi> {
    static DOC: OnceLock<Arc<utoipa::openapi::OpenApi>> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = parts().1;
        ProblemResponses.modify(&mut doc);
        Arc::new(doc)
    })
    .clone()
}

/// What every operation's errors look like, said once for all of them: problem documents go
/// out as `application/problem+json`, and any operation may answer 400 (a body, query or path
/// it cannot read), 401 (no valid session or token) and 403 (a role without the permission);
/// one with a body also 413 (too large), 415 (not a content type it reads) and 422 (not what
/// it takes).
/// Found by API fuzzing: the document listed none of these everywhere, so clients generated
/// from it mis-handled them.
struct ProblemResponses;

/// What any operation may answer, whatever it does.
const ANY_PROBLEMS: &[(&str, &str)] = &[
    (
        "400",
        "The request could not be read: malformed JSON, query or path",
    ),
    ("401", "No valid session or API token"),
    ("403", "The caller's role may not do this"),
];

/// What an operation that reads a body may answer besides.
const BODY_PROBLEMS: &[(&str, &str)] = &[
    ("413", "The body is larger than the server accepts"),
    (
        "415",
        "The body is not of a content type the operation reads",
    ),
    (
        "422",
        "The body is well-formed but not what the operation takes: a wrong type, an unknown \
         field, or a value its rules refuse",
    ),
];

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                let with_body = operation.request_body.is_some();
                let responses = &mut operation.responses.responses;
                for response in responses.values_mut() {
                    if let RefOr::T(response) = response {
                        as_problem_json(response);
                    }
                }
                let body_problems: &[(&str, &str)] = if with_body { BODY_PROBLEMS } else { &[] };
                for (status, description) in ANY_PROBLEMS.iter().chain(body_problems) {
                    responses
                        .entry((*status).to_owned())
                        .or_insert_with(|| RefOr::T(problem_response(description)));
                }
            }
        }
    }
}

/// Relabels a response whose body is a `Problem` as `application/problem+json`.
fn as_problem_json(response: &mut utoipa::openapi::Response) {
    use utoipa::openapi::RefOr;
    let is_problem = |content: &RefOr<utoipa::openapi::Content>| matches!(content, RefOr::T(c) if matches!(&c.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/Problem")));
    if response
        .content
        .get("application/json")
        .is_some_and(is_problem)
        && let Some(content) = response.content.shift_remove("application/json")
    {
        response
            .content
            .insert("application/problem+json".to_owned(), content);
    }
}

fn problem_response(description: &str) -> utoipa::openapi::Response {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

pub fn router() -> Router<AppState> {
    parts()
        .0
        .route("/openapi.json", get(|| async { Json(openapi()) }))
        .fallback(|| async { ApiError::not_found() })
}

/// A record named in a path: by its key (`INC-42`) or by its numeric id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRef {
    Number(i64),
    Id(i64),
}

impl KeyRef {
    /// Reads `PREFIX-n` (any case) or a bare id; anything else names no record (404).
    pub fn parse(key: &str, prefix: &str) -> ApiResult<KeyRef> {
        let (by_number, text) = match key.split_once('-') {
            Some((p, n)) if p.eq_ignore_ascii_case(prefix) => (true, n),
            _ => (false, key),
        };
        let value = text.parse().map_err(|_| ApiError::not_found())?;
        Ok(if by_number {
            KeyRef::Number(value)
        } else {
            KeyRef::Id(value)
        })
    }
}

impl ApiError {
    /// A record whose lifecycle has ended refuses every change.
    pub fn frozen(key: &str, status: &dyn std::fmt::Display) -> ApiError {
        ApiError::transition(
            format!("{key} is {status} and can no longer change"),
            Vec::new(),
        )
    }
}

/// A page of results.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListOf<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T> ListOf<T> {
    pub fn from_page<S>(page: steward_store::Page<S>, f: impl Fn(S) -> T) -> Self {
        ListOf {
            items: page.items.into_iter().map(f).collect(),
            next_cursor: page.next_cursor,
        }
    }
}

/// A civil date as the API and the pages write it: `YYYY-MM-DD`.
pub fn date_out(date: jiff::civil::Date) -> String {
    date.strftime("%Y-%m-%d").to_string()
}

/// An instant as RFC 3339 in UTC.
pub fn time(micros: i64) -> String {
    jiff::Timestamp::from_microsecond(micros)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

pub fn opt_time(micros: Option<i64>) -> Option<String> {
    micros.map(time)
}

/// Parses an RFC 3339 instant from a query parameter.
pub fn parse_time(field: &str, text: &str) -> Result<i64, ApiError> {
    text.parse::<jiff::Timestamp>()
        .map(|t| t.as_microsecond())
        .map_err(|_| {
            Invalid::one(
                field,
                format!("{field} must be an RFC 3339 time such as 2026-01-31T09:00:00Z"),
            )
            .into()
        })
}

/// Parses an RFC 3339 instant that may be left out.
pub fn parse_opt_time(field: &str, text: Option<&str>) -> Result<Option<i64>, ApiError> {
    text.map(|t| parse_time(field, t)).transpose()
}

/// For PATCH fields that may be set to null: absent = leave alone, null = clear.
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A record's custom values with a PATCH's `custom` applied: given values replace, `null`
/// clears. The result still has to pass `Store::check_custom_values`.
pub fn merge_custom(
    current: &serde_json::Map<String, serde_json::Value>,
    changes: serde_json::Map<String, serde_json::Value>,
) -> serde_json::Map<String, serde_json::Value> {
    let mut merged = current.clone();
    for (name, value) in changes {
        if value.is_null() {
            merged.remove(&name);
        } else {
            merged.insert(name, value);
        }
    }
    merged
}

/// A JSON body: wrong content type, malformed JSON, unknown fields and wrong types all become
/// problem documents naming the field.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                let v = v.trim();
                v == "application/json" || (v.starts_with("application/") && v.ends_with("+json"))
            });
        if !is_json {
            return Err(ApiError::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Send the body as JSON with `Content-Type: application/json`.",
            ));
        }
        let bytes = bytes::Bytes::from_request(req, state).await.map_err(|_| {
            ApiError::new(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                "The request body is too large.",
            )
        })?;
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let value =
            serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|e| json_error(&e))?;
        de.end()
            .map_err(|e| ApiError::bad_request(format!("The body is not valid JSON: {e}")))?;
        Ok(ApiJson(value))
    }
}

fn json_error(e: &serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let inner = e.inner();
    if inner.is_syntax() || inner.is_eof() {
        return ApiError::bad_request(format!("The body is not valid JSON: {inner}"));
    }
    let message = inner.to_string();
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(&message)
        .to_owned();
    let path = e.path().to_string();
    let field = if path == "." {
        message
            .strip_prefix("missing field `")
            .or_else(|| message.strip_prefix("unknown field `"))
            .and_then(|rest| rest.split('`').next())
            .unwrap_or("body")
            .to_owned()
    } else {
        path
    };
    ApiError::invalid(Invalid::one(&field, message))
}

/// A body sent as a file of its own (not JSON): refused with 415 unless its `Content-Type`
/// (parameters such as `charset` aside) is one of `accepted`, saying `hint`; 413 beyond `max`
/// bytes.
pub async fn file_body(
    headers: &axum::http::HeaderMap,
    body: axum::body::Body,
    accepted: &[&str],
    hint: &str,
    max: usize,
) -> ApiResult<bytes::Bytes> {
    let acceptable = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| accepted.iter().any(|a| v.trim().eq_ignore_ascii_case(a)));
    if !acceptable {
        return Err(ApiError::new(
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            hint,
        ));
    }
    axum::body::to_bytes(body, max).await.map_err(|_| {
        ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            format!("The body is larger than the limit of {max} bytes."),
        )
    })
}

/// Query parameters; a bad one is a 400 problem, not a plain-text error.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parse_query(parts.uri.query().unwrap_or_default()).map(ApiQuery)
    }
}

/// A query string as typed parameters; a bad one is a 400 problem naming it.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> ApiResult<T> {
    serde_urlencoded::from_str(query)
        .map_err(|e| ApiError::bad_request(format!("Bad query parameter: {e}")))
}

/// The `custom.<name>=<value>` pairs of a query string: filters on custom field values, as
/// (name, value) in the order given. Empty values filter nothing and are left out.
pub fn custom_filters(query: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(key, value)| {
            let name = key.strip_prefix("custom.")?;
            (!value.trim().is_empty()).then(|| (name.to_owned(), value))
        })
        .collect()
}

/// How list operations describe their `custom.<name>` parameters in the OpenAPI document.
pub const CUSTOM_FILTERS_DOC: &str = "Besides the parameters listed, `custom.<name>=<value>` filters on a custom field \
    (see `/custom-fields/{kind}`), e.g. `custom.site=Berlin`: text fields match the whole value ignoring case; number, \
    date, select and user fields match exactly (numbers as numbers, so `3` matches `3.0`). Several may be given and \
    all must match; an empty value filters nothing. A name that is not a field of this kind of record, or a value \
    the field could never hold, is a 422 whose error names `custom.<name>`.";

/// The custom-field filters of a list request (`custom.<name>=<value>`, see `custom_filters`).
pub struct CustomFilters(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for CustomFilters {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(CustomFilters(custom_filters(
            parts.uri.query().unwrap_or_default(),
        )))
    }
}

/// Path parameters; one that does not parse names no record, so it is a 404.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|_| ApiError::not_found())
    }
}

/// Paging parameters shared by every list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PageParams {
    /// Rows per page, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageParams {
    pub fn page(&self) -> steward_store::PageRequest {
        steward_store::PageRequest {
            limit: self.limit,
            cursor: self.cursor.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operation lists the errors any request may meet, as problem documents.
    #[test]
    fn every_operation_documents_its_problems() {
        let doc = serde_json::to_value(&*openapi()).expect("serialisable");
        let paths = doc["paths"].as_object().expect("paths");
        let mut checked = 0;
        for (path, item) in paths {
            for (method, op) in item.as_object().expect("path item") {
                let responses = &op["responses"];
                let mut needed = vec!["400", "401", "403"];
                if op.get("requestBody").is_some() {
                    needed.extend(["413", "415", "422"]);
                }
                for status in needed {
                    assert!(
                        responses[status]["content"]["application/problem+json"].is_object(),
                        "{method} {path} does not list {status} as a problem document"
                    );
                }
                for (status, response) in responses.as_object().expect("responses") {
                    let problem_as_json = response["content"]["application/json"]["schema"]["$ref"]
                        .as_str()
                        .is_some_and(|r| r.ends_with("/Problem"));
                    assert!(
                        !problem_as_json,
                        "{method} {path} {status}: a problem as application/json"
                    );
                }
                checked += 1;
            }
        }
        assert!(checked > 100, "only {checked} operations");
    }
}
