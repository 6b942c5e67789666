//! The HTML UI: server-rendered pages (askama) with a little htmx, all assets in the binary.
//!
//! Handlers here translate between forms and domain calls, the same way the API translates
//! JSON; permissions come from the same `Can<P>` extractor.

mod admin;
mod agreements;
mod asset_register;
mod assets;
mod attachments;
mod audits;
mod calendars;
mod categories;
mod certificates;
mod change_admin;
mod change_approvals;
mod change_calendar;
mod change_dashboard;
mod change_form;
mod change_view;
mod changes;
mod classify;
mod cmdb;
mod cmdb_baselines;
mod cmdb_graph;
mod cmdb_impact;
mod cmdb_schema;
mod cmdb_view;
mod competence;
mod complaints;
mod conformance;
mod custom_fields;
mod customer_reviews;
mod customers;
mod design_form;
mod designs;
mod documents;
mod home;
mod improvements;
mod incidents;
mod journal;
mod knowledge;
mod list_filters;
mod major;
mod management_reviews;
mod nonconformities;
mod notifications;
mod objectives;
mod people;
mod portal;
mod problems;
mod readiness_trend;
mod record_cis;
mod register_form;
mod releases;
mod requests;
mod risks;
mod roles;
mod satisfaction;
mod search;
mod services;
mod session;
mod settings;
mod sla;
mod sla_dashboard;
mod sms;
mod suppliers;

use crate::AppState;
use crate::auth::Principal;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use std::collections::HashMap;
use steward_domain::access::Permission;
use steward_domain::{FieldError, Invalid};
use steward_store::StoreError;
use steward_store::journal::JournalEntry;

/// Where a person reads an incident: the console for agents, the portal for requesters.
pub use incidents::record_path as record_href;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home::page))
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route("/account", get(session::account))
        .route("/account/password", post(session::change_password))
        .route("/services", get(services::list).post(services::create))
        .route("/services/new", get(services::new_form))
        .route("/services/{id}", get(services::view).post(services::update))
        .route("/services/{id}/edit", get(services::edit_form))
        .route("/services/{id}/delete", post(services::delete))
        .route("/cis", get(cmdb::list).post(cmdb::create))
        .route("/releases", get(releases::list).post(releases::create))
        .route("/releases/new", get(releases::new_form))
        .route(
            "/releases/{key}",
            get(releases::view).post(releases::update),
        )
        .route("/releases/{key}/edit", get(releases::edit_form))
        .route("/releases/{key}/transitions", post(releases::transition))
        .route("/releases/{key}/changes", post(releases::set_changes))
        .route(
            "/releases/{key}/known-errors",
            post(releases::set_known_errors),
        )
        .route("/releases/{key}/criteria", post(releases::add_criterion))
        .route(
            "/releases/{key}/criteria/{id}/sign-off",
            post(releases::sign_off),
        )
        .route(
            "/releases/{key}/deployments",
            post(releases::add_deployment),
        )
        .route(
            "/releases/{key}/deployments/{id}/outcome",
            post(releases::record_outcome),
        )
        .route("/cis/new", get(cmdb::new_form))
        .route("/cis/{id}", get(cmdb_view::view).post(cmdb::update))
        .route("/cis/{id}/edit", get(cmdb::edit_form))
        .route("/cis/{id}/verify", post(cmdb::verify))
        .route("/cis/{id}/impact", get(cmdb_impact::page))
        .route("/cis/{id}/as-of", get(cmdb_baselines::as_of))
        .route(
            "/cmdb/baselines",
            get(cmdb_baselines::list).post(cmdb_baselines::take),
        )
        .route("/cmdb/baselines/diff", get(cmdb_baselines::diff))
        .route("/cmdb/baselines/{id}", get(cmdb_baselines::view))
        .route("/cis/{id}/relationships", post(cmdb_view::add_relationship))
        .route(
            "/cis/{id}/relationships/{rel}/delete",
            post(cmdb_view::remove_relationship),
        )
        .route(
            "/cmdb/classes",
            get(cmdb_schema::list).post(cmdb_schema::create_class),
        )
        .route("/cmdb/classes/new", get(cmdb_schema::new_class))
        .route(
            "/cmdb/classes/{id}",
            get(cmdb_schema::edit_class).post(cmdb_schema::update_class),
        )
        .route("/cmdb/relationship-types", post(cmdb_schema::create_type))
        .route("/customers", get(customers::list).post(customers::create))
        .route("/customers/new", get(customers::new_form))
        .route(
            "/customers/{id}",
            get(customers::view).post(customers::update),
        )
        .route("/customers/{id}/edit", get(customers::edit_form))
        .route(
            "/customers/{id}/reviews",
            post(customer_reviews::record_review),
        )
        .route(
            "/complaints",
            get(complaints::list).post(complaints::create),
        )
        .route("/complaints/new", get(complaints::new_form))
        .route(
            "/complaints/{id}",
            get(complaints::view).post(complaints::update),
        )
        .route("/complaints/{id}/edit", get(complaints::edit_form))
        .route("/complaints/{id}/transition", post(complaints::transition))
        .route("/complaints/{id}/escalate", post(complaints::escalate))
        .route(
            "/complaints/{id}/nonconformity",
            post(complaints::raise_nonconformity),
        )
        .route(
            "/complaints/{id}/improvement",
            post(complaints::propose_improvement),
        )
        .route("/satisfaction", get(satisfaction::view))
        .route("/satisfaction/surveys", post(satisfaction::record_survey))
        .route("/portal/{key}/rating", post(satisfaction::rate))
        .route("/customers/{id}/delete", post(customers::delete))
        .route("/customers/{id}/contacts", post(customers::add_contact))
        .route(
            "/customers/{id}/contacts/{contact_id}/delete",
            post(customers::remove_contact),
        )
        .route("/users", get(admin::users).post(admin::create_user))
        .route("/users/{id}/active", post(admin::set_user_active))
        .route("/users/{id}/role", post(admin::set_user_role))
        .route("/teams", get(admin::teams).post(admin::create_team))
        .route("/teams/{id}", get(admin::team).post(admin::update_team))
        .route("/teams/{id}/members", post(admin::set_members))
        .route("/teams/{id}/delete", post(admin::delete_team))
        .route("/tokens", get(admin::tokens).post(admin::create_token))
        .route("/tokens/{id}/revoke", post(admin::revoke_token))
        .route("/incidents", get(incidents::list).post(incidents::create))
        .route("/incidents/new", get(incidents::new_form))
        .route("/incidents/changes", get(incidents::changes))
        .route("/incidents/bulk", post(incidents::bulk))
        .route("/incidents/views", post(incidents::save_view))
        .route("/incidents/views/{id}/delete", post(incidents::delete_view))
        .route("/incidents/{key}", get(incidents::view))
        .route(
            "/incidents/{key}/edit",
            get(incidents::edit_form).post(incidents::update),
        )
        .route("/incidents/{key}/status", post(incidents::set_status))
        .route("/incidents/{key}/comments", post(incidents::reply))
        .route("/incidents/{key}/links", post(incidents::link))
        .route("/incidents/{key}/cis", post(record_cis::add_to_incident))
        .route(
            "/incidents/{key}/cis/{ci}/delete",
            post(record_cis::remove_from_incident),
        )
        .route("/incidents/{key}/major", post(major::declare_major))
        .route(
            "/incidents/{key}/major/stand-down",
            post(major::stand_down_major),
        )
        .route("/incidents/{key}/communications", post(major::add_update))
        .route("/incidents/{key}/review", post(major::review))
        .route(
            "/incidents/{key}/attachments",
            // The handler reads the file within `max_upload_bytes` itself.
            post(attachments::upload).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/incidents/{key}/attachments/{id}",
            get(attachments::download),
        )
        .route("/incidents/{key}/watchers", post(attachments::add))
        .route(
            "/incidents/{key}/watchers/{id}/delete",
            post(attachments::remove),
        )
        .route("/problems", get(problems::list).post(problems::create))
        .route("/problems/new", get(problems::new_form))
        .route(
            "/problems/{key}",
            get(problems::view).post(problems::update),
        )
        .route(
            "/problems/{key}/edit",
            get(problems::edit_form).post(problems::edit),
        )
        .route("/problems/{key}/links", post(problems::link))
        .route("/problems/{key}/cis", post(record_cis::add_to_problem))
        .route(
            "/problems/{key}/cis/{ci}/delete",
            post(record_cis::remove_from_problem),
        )
        .route("/known-errors", get(problems::known_errors))
        .route("/portal", get(portal::home).post(portal::report))
        .route(
            "/portal/catalogue/{id}",
            get(requests::order_form).post(requests::order),
        )
        .route("/portal/requests/{key}", get(requests::portal_view))
        .route("/requests", get(requests::list))
        .route("/requests/{key}", get(requests::view))
        .route("/requests/{key}/approval", post(requests::approval))
        .route("/requests/{key}/status", post(requests::set_status))
        .route("/requests/{key}/fields", post(requests::set_fields))
        .route("/requests/{key}/tasks/{task}", post(requests::task_done))
        .route(
            "/catalogue",
            get(requests::catalogue).post(requests::create_item),
        )
        .route(
            "/catalogue/{id}",
            get(requests::edit_item).post(requests::update_item),
        )
        .route("/portal/{key}", get(portal::record))
        .route("/knowledge", get(knowledge::list).post(knowledge::create))
        .route("/knowledge/new", get(knowledge::new_form))
        .route("/knowledge/{key}", get(knowledge::view))
        .route(
            "/knowledge/{key}/edit",
            get(knowledge::edit_form).post(knowledge::update),
        )
        .route("/knowledge/{key}/status", post(knowledge::set_status))
        .route("/search", get(search::page))
        .route("/settings", get(settings::page).post(settings::save))
        .route(
            "/categories",
            get(categories::page).post(categories::create),
        )
        .route("/categories/{id}/retired", post(categories::set_retired))
        .route("/calendars", get(calendars::list).post(calendars::create))
        .route("/calendars/new", get(calendars::new_form))
        .route(
            "/calendars/{id}",
            get(calendars::view).post(calendars::update),
        )
        .route("/calendars/{id}/edit", get(calendars::edit_form))
        .route("/calendars/{id}/delete", post(calendars::delete))
        .route("/calendars/{id}/holidays", post(calendars::import))
        .route(
            "/agreements",
            get(agreements::list).post(agreements::create),
        )
        .route("/agreements/new", get(agreements::new_form))
        .route(
            "/agreements/{id}",
            get(agreements::view).post(agreements::update),
        )
        .route("/agreements/{id}/edit", get(agreements::edit_form))
        .route(
            "/incidents/{key}/sla/exclusion",
            post(sla::incident_exclusion),
        )
        .route(
            "/incidents/{key}/sla/{clock_id}/reason",
            post(sla::incident_reason),
        )
        .route(
            "/requests/{key}/sla/exclusion",
            post(sla::request_exclusion),
        )
        .route(
            "/requests/{key}/sla/{clock_id}/reason",
            post(sla::request_reason),
        )
        .route("/sla", get(sla_dashboard::page))
        .route("/admin/custom-fields", get(custom_fields::index))
        .route("/admin/custom-fields/{kind}", get(custom_fields::page))
        .route("/admin/custom-fields/{kind}/add", post(custom_fields::add))
        .route(
            "/admin/custom-fields/{kind}/{name}/edit",
            post(custom_fields::edit),
        )
        .route(
            "/admin/custom-fields/{kind}/{name}/remove",
            post(custom_fields::remove),
        )
        .route(
            "/admin/custom-fields/{kind}/{name}/move",
            post(custom_fields::move_field),
        )
        .route("/notifications", get(notifications::page))
        .route("/notifications/{event}", post(notifications::update))
        .route("/journal", get(journal::page))
        .route("/changes", get(changes::list).post(change_form::create))
        .route("/changes/new", get(change_form::new_form))
        .route("/changes/approvals", get(change_approvals::page))
        .route(
            "/changes/approvals/delegations",
            post(change_approvals::delegate),
        )
        .route(
            "/changes/approvals/delegations/{id}/end",
            post(change_approvals::end_delegation),
        )
        .route("/changes/calendar", get(change_calendar::page))
        .route("/changes/dashboard", get(change_dashboard::page))
        .route("/changes/setup", get(change_admin::page))
        .route("/changes/setup/blackouts", post(change_admin::add_blackout))
        .route(
            "/changes/setup/blackouts/{id}/lift",
            post(change_admin::lift_blackout),
        )
        .route("/changes/setup/templates", post(change_admin::add_template))
        .route("/changes/setup/policy", post(change_admin::save_policy))
        .route(
            "/changes/setup/templates/{id}",
            post(change_admin::edit_template),
        )
        .route(
            "/changes/setup/templates/{id}/active",
            post(change_admin::set_template_active),
        )
        .route("/changes/{key}", get(change_view::view))
        .route(
            "/changes/{key}/edit",
            get(change_form::edit_form).post(change_form::update),
        )
        .route("/changes/{key}/transitions", post(change_view::transition))
        .route("/changes/{key}/risk", post(change_view::assess))
        .route("/changes/{key}/review", post(change_view::review))
        .route("/changes/{key}/approvals", post(change_approvals::decide))
        .route(
            "/assets",
            get(asset_register::list).post(asset_register::create),
        )
        .route("/assets/new", get(asset_register::new_form))
        .route(
            "/assets/{id}",
            get(asset_register::view).post(asset_register::update),
        )
        .route("/assets/{id}/edit", get(asset_register::edit_form))
        .route("/assets/{id}/transitions", post(asset_register::transition))
        .route("/assets/{id}/cis", post(asset_register::link_ci))
        .route(
            "/assets/{id}/cis/{ci}/delete",
            post(asset_register::unlink_ci),
        )
        .route("/designs", get(designs::list).post(design_form::create))
        .route("/designs/new", get(design_form::new_form))
        .route(
            "/designs/{key}",
            get(designs::view).post(design_form::update),
        )
        .route("/designs/{key}/edit", get(design_form::edit_form))
        .route("/designs/{key}/transitions", post(designs::transition))
        .route("/designs/{key}/accept", post(designs::accept))
        .route(
            "/certificates",
            get(certificates::list).post(certificates::create),
        )
        .route("/certificates/new", get(certificates::new_form))
        .route(
            "/certificates/{id}",
            get(certificates::view).post(certificates::update),
        )
        .route("/certificates/{id}/edit", get(certificates::edit_form))
        .route(
            "/certificates/{id}/status",
            post(certificates::change_status),
        )
        .route("/conformance", get(conformance::dashboard))
        .route("/conformance/{clause_id}", get(conformance::clause))
        .route(
            "/conformance/{clause_id}/requirements/{requirement_id}/assessments",
            post(conformance::assess),
        )
        .route("/sms", get(sms::hub))
        .route("/documents", get(documents::list).post(documents::create))
        .route("/documents/new", get(documents::new_form))
        .route(
            "/documents/{id}",
            get(documents::view).post(documents::update),
        )
        .route("/documents/{id}/edit", get(documents::edit_form))
        .route("/documents/{id}/withdraw", post(documents::withdraw))
        .route("/documents/{id}/reviews", post(documents::record_review))
        .route(
            "/documents/{id}/acknowledgements",
            post(documents::acknowledge),
        )
        .route("/documents/{id}/versions", post(documents::create_version))
        .route(
            "/documents/{id}/versions/new",
            get(documents::new_version_form),
        )
        .route(
            "/documents/{id}/versions/{number}",
            get(documents::version).post(documents::update_version),
        )
        .route(
            "/documents/{id}/versions/{number}/edit",
            get(documents::edit_version_form),
        )
        .route(
            "/documents/{id}/versions/{number}/submit",
            post(documents::submit),
        )
        .route(
            "/documents/{id}/versions/{number}/approve",
            post(documents::approve),
        )
        .route(
            "/documents/{id}/versions/{number}/return",
            post(documents::return_version),
        )
        .route(
            "/documents/{id}/versions/{number}/files",
            post(documents::upload).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/documents/{id}/versions/{number}/files/{file_id}",
            get(documents::download),
        )
        .route(
            "/improvements",
            get(improvements::list).post(register_form::create::<improvements::Improvements>),
        )
        .route("/improvements/new", get(improvements::new_form))
        .route(
            "/improvements/{id}",
            get(register_form::view::<improvements::Improvements>)
                .post(register_form::update::<improvements::Improvements>),
        )
        .route(
            "/improvements/{id}/edit",
            get(register_form::edit_form::<improvements::Improvements>),
        )
        .route("/improvements/{id}/steps", post(improvements::step))
        .route(
            "/management-reviews",
            get(management_reviews::list)
                .post(register_form::create::<management_reviews::Reviews>),
        )
        .route("/management-reviews/new", get(management_reviews::new_form))
        .route(
            "/management-reviews/{id}",
            get(register_form::view::<management_reviews::Reviews>)
                .post(register_form::update::<management_reviews::Reviews>),
        )
        .route(
            "/management-reviews/{id}/edit",
            get(register_form::edit_form::<management_reviews::Reviews>),
        )
        .route(
            "/management-reviews/{id}/inputs",
            post(management_reviews::compile),
        )
        .route(
            "/management-reviews/{id}/steps",
            post(management_reviews::step),
        )
        .route(
            "/management-reviews/{id}/actions",
            post(management_reviews::add_action),
        )
        .route(
            "/management-reviews/{id}/actions/{action_id}/complete",
            post(management_reviews::complete_action),
        )
        .route(
            "/risks",
            get(risks::list).post(register_form::create::<risks::Risks>),
        )
        .route("/risks/new", get(risks::new_form))
        .route(
            "/risks/{id}",
            get(register_form::view::<risks::Risks>).post(register_form::update::<risks::Risks>),
        )
        .route(
            "/risks/{id}/edit",
            get(register_form::edit_form::<risks::Risks>),
        )
        .route("/risks/{id}/review", post(risks::review))
        .route("/risks/{id}/close", post(risks::close))
        .route("/competence", get(competence::matrix))
        .route(
            "/competence/requirements",
            post(competence::add_requirement),
        )
        .route(
            "/competence/requirements/{id}",
            post(competence::update_requirement),
        )
        .route("/competence/people/{id}", get(competence::person))
        .route(
            "/competence/people/{id}/records",
            post(competence::add_record),
        )
        .route(
            "/competence/people/{id}/actions",
            post(competence::add_action),
        )
        .route("/competence/records/{id}", post(competence::update_record))
        .route(
            "/competence/actions/{id}/complete",
            post(competence::complete),
        )
        .route(
            "/competence/actions/{id}/evaluate",
            post(competence::evaluate),
        )
        .route("/suppliers", get(suppliers::list).post(suppliers::create))
        .route("/suppliers/new", get(suppliers::new_form))
        .route(
            "/suppliers/{id}",
            get(suppliers::view).post(suppliers::update),
        )
        .route("/suppliers/{id}/edit", get(suppliers::edit_form))
        .route("/suppliers/{id}/contracts", post(suppliers::add_contract))
        .route(
            "/suppliers/{id}/contracts/{contract_id}/approve",
            post(suppliers::approve_contract),
        )
        .route(
            "/suppliers/{id}/contracts/{contract_id}/reviews",
            post(suppliers::review_contract),
        )
        .route("/suppliers/{id}/reviews", post(suppliers::add_review))
        .route("/suppliers/{id}/disputes", post(suppliers::add_dispute))
        .route(
            "/suppliers/{id}/disputes/{dispute_id}/steps",
            post(suppliers::step_dispute),
        )
        .route("/suppliers/{id}/ucs", post(suppliers::set_ucs))
        .route(
            "/roles",
            get(roles::list).post(register_form::create::<roles::Roles>),
        )
        .route("/roles/new", get(roles::new_form))
        .route(
            "/roles/{id}",
            get(register_form::view::<roles::Roles>).post(register_form::update::<roles::Roles>),
        )
        .route(
            "/roles/{id}/edit",
            get(register_form::edit_form::<roles::Roles>),
        )
        .route("/roles/{id}/assignments", post(roles::assign))
        .route(
            "/roles/{id}/assignments/{assignment_id}/end",
            post(roles::end),
        )
        .route("/roles/{id}/retire", post(roles::retire))
        .route("/raci", get(roles::raci))
        .route(
            "/raci/{process}",
            get(roles::row_form).post(roles::save_row),
        )
        .route(
            "/objectives",
            get(objectives::list).post(register_form::create::<objectives::Objectives>),
        )
        .route("/objectives/new", get(objectives::new_form))
        .route(
            "/objectives/{id}",
            get(register_form::view::<objectives::Objectives>)
                .post(register_form::update::<objectives::Objectives>),
        )
        .route(
            "/objectives/{id}/edit",
            get(register_form::edit_form::<objectives::Objectives>),
        )
        .route("/objectives/{id}/measurements", post(objectives::measure))
        .route("/audits", get(audits::index))
        .route("/audits/{id}", get(audits::view).post(audits::update_audit))
        .route("/audits/{id}/edit", get(audits::edit_audit))
        .route("/audits/{id}/start", post(audits::start))
        .route("/audits/{id}/report", post(audits::report))
        .route("/audits/{id}/close", post(audits::close))
        .route("/audits/{id}/cancel", post(audits::cancel))
        .route(
            "/audits/{id}/checklist/{requirement_id}",
            post(audits::record_result),
        )
        .route("/audits/{id}/findings", post(audits::record_finding))
        .route(
            "/audit-programmes",
            get(audits::programmes).post(register_form::create::<audits::Programmes>),
        )
        .route("/audit-programmes/new", get(audits::new_programme))
        .route(
            "/audit-programmes/{id}",
            get(register_form::view::<audits::Programmes>)
                .post(register_form::update::<audits::Programmes>),
        )
        .route(
            "/audit-programmes/{id}/edit",
            get(register_form::edit_form::<audits::Programmes>),
        )
        .route("/audit-programmes/{id}/audits", post(audits::create_audit))
        .route("/audit-programmes/{id}/audits/new", get(audits::new_audit))
        .route(
            "/nonconformities",
            get(nonconformities::list).post(nonconformities::create),
        )
        .route("/nonconformities/new", get(nonconformities::new_form))
        .route(
            "/nonconformities/{id}",
            get(nonconformities::view).post(nonconformities::update),
        )
        .route(
            "/nonconformities/{id}/actions",
            post(nonconformities::add_action),
        )
        .route(
            "/nonconformities/{id}/actions/{action_id}/complete",
            post(nonconformities::complete_action),
        )
        .route(
            "/nonconformities/{id}/verification",
            post(nonconformities::verify),
        )
        .route("/static/{file}", get(assets::serve))
}

/// The frame around every signed-in page: who, where, and the navigation they may use.
pub struct Chrome {
    pub tenant: String,
    pub user_name: String,
    pub role: &'static str,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    pub notice: Option<&'static str>,
}

pub struct NavItem {
    pub label: &'static str,
    pub href: &'static str,
    pub current: bool,
}

/// Pages and the permission that shows them; Knowledge is also shown to everyone who reads
/// records (auditors hold RecordsRead but not RecordsOwn), see `Chrome::new`.
const NAV: [(&str, &str, Option<Permission>); 30] = [
    ("Home", "/", None),
    ("Incidents", "/incidents", Some(Permission::RecordsRead)),
    ("Requests", "/requests", Some(Permission::RecordsRead)),
    ("Problems", "/problems", Some(Permission::RecordsRead)),
    ("Help portal", "/portal", Some(Permission::RecordsOwn)),
    ("Knowledge", "/knowledge", Some(Permission::RecordsOwn)),
    ("Services", "/services", Some(Permission::ServicesRead)),
    ("Customers", "/customers", Some(Permission::CustomersRead)),
    ("Complaints", "/complaints", Some(Permission::CustomersRead)),
    ("Suppliers", "/suppliers", Some(Permission::SuppliersRead)),
    ("CMDB", cmdb::NAV_HREF, Some(Permission::CmdbRead)),
    (
        "Releases",
        releases::NAV_HREF,
        Some(Permission::ReleasesRead),
    ),
    (
        "Assets",
        asset_register::NAV_HREF,
        Some(Permission::AssetsRead),
    ),
    ("Changes", changes::NAV_HREF, Some(Permission::ChangesRead)),
    (
        "Service design",
        designs::NAV_HREF,
        Some(Permission::DesignRead),
    ),
    (
        "Certificates",
        certificates::NAV_HREF,
        Some(Permission::CertificatesRead),
    ),
    (
        "Management system",
        sms::NAV_HREF,
        Some(Permission::SmsRead),
    ),
    (
        "Documents",
        documents::NAV_HREF,
        Some(Permission::DocumentsRead),
    ),
    (
        "Conformance",
        conformance::NAV_HREF,
        Some(Permission::ConformanceRead),
    ),
    ("Teams", "/teams", Some(Permission::TeamsRead)),
    ("Users", "/users", Some(Permission::UsersRead)),
    ("API tokens", "/tokens", Some(Permission::TokensOwn)),
    ("Journal", "/journal", Some(Permission::JournalRead)),
    ("Settings", "/settings", Some(Permission::UsersWrite)),
    (
        "Notifications",
        "/notifications",
        Some(Permission::UsersWrite),
    ),
    ("Categories", "/categories", Some(Permission::ServicesWrite)),
    ("Calendars", "/calendars", Some(Permission::RecordsRead)),
    ("SLA dashboard", "/sla", Some(Permission::RecordsRead)),
    ("Agreements", "/agreements", Some(Permission::RecordsRead)),
    (
        "Custom fields",
        custom_fields::NAV_HREF,
        Some(Permission::UsersWrite),
    ),
];

impl Chrome {
    pub async fn new(state: &AppState, who: &Principal, current: &str) -> Chrome {
        let tenant = state
            .store
            .tenant(who.tenant_id())
            .await
            .map(|t| t.name)
            .unwrap_or_default();
        let nav = NAV
            .iter()
            .filter(|(_, href, p)| {
                p.is_none_or(|p| who.can(p))
                    || (*href == "/knowledge" && crate::api::knowledge::readable(who))
            })
            .map(|&(label, href, _)| NavItem {
                label,
                href,
                current: href == current,
            })
            .collect();
        Chrome {
            tenant,
            user_name: who.user.name.clone(),
            role: who.role().as_str(),
            csrf: who.csrf_token().to_owned(),
            nav,
            notice: None,
        }
    }

    /// Shows the confirmation named by a `?done=` code after a redirect.
    pub fn with_notice(mut self, done: Option<&str>) -> Chrome {
        self.notice = done.and_then(|code| match code {
            "created" => Some("Created."),
            "saved" => Some("Saved."),
            "deleted" => Some("Deleted. The journal keeps its history."),
            "password" => Some("Your password has been changed; other sessions were signed out."),
            "revoked" => Some("Token revoked."),
            "imported" => Some("Holidays imported; dates the calendar already had are kept once."),
            _ => None,
        });
        self
    }
}

/// What a person typed into a form, and what was wrong with it.
#[derive(Debug, Default)]
pub struct FormState {
    values: HashMap<String, String>,
    pub errors: Vec<FieldError>,
}

impl FormState {
    pub fn with(values: &[(&str, &str)]) -> FormState {
        FormState {
            values: values
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            errors: Vec::new(),
        }
    }

    /// A form kept as text fields by name plus the services ticked, posted as `service_ids`
    /// (shown again comma-separated).
    pub fn with_services(fields: &HashMap<String, String>, service_ids: &[String]) -> FormState {
        let mut values = fields.clone();
        values.insert("service_ids".to_owned(), service_ids.join(","));
        FormState {
            values,
            errors: Vec::new(),
        }
    }

    pub fn rejected(mut self, invalid: Invalid) -> FormState {
        self.errors = invalid.errors;
        self
    }

    pub fn value(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }

    pub fn error(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| e.message.as_str())
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }
}

/// One `<option>` of a select.
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// A form as the browser posts it, for unit tests of form parsers.
#[cfg(test)]
pub fn posted_pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

pub fn options(choices: impl IntoIterator<Item = (String, String)>, current: &str) -> Vec<Opt> {
    choices
        .into_iter()
        .map(|(value, label)| Opt {
            selected: value == current,
            value,
            label,
        })
        .collect()
}

/// A multiple select over `list`, ticked where `chosen` (ids as the form keeps them,
/// comma-separated) names them.
pub fn ticked_options(list: &[(i64, String)], chosen: &str) -> Vec<Opt> {
    let chosen: Vec<&str> = chosen.split(',').collect();
    list.iter()
        .map(|(id, name)| Opt {
            value: id.to_string(),
            label: name.clone(),
            selected: chosen.contains(&id.to_string().as_str()),
        })
        .collect()
}

/// A select whose first, empty choice stands for none or any (`blank` says which).
pub fn options_after_blank(
    blank: &str,
    choices: impl IntoIterator<Item = (String, String)>,
    current: &str,
) -> Vec<Opt> {
    options(
        std::iter::once((String::new(), blank.to_owned())).chain(choices),
        current,
    )
}

/// A list filter's select over every value of an enum: `any` first, then each `value`, shown by
/// its `label`.
pub fn filter_choices<T: Copy>(
    all: &[T],
    any: &str,
    value: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
    current: &str,
) -> Vec<Opt> {
    options_after_blank(
        any,
        all.iter()
            .map(|v| (value(*v).to_owned(), label(*v).to_owned())),
        current,
    )
}

/// A page could not be shown.
#[derive(Debug)]
pub enum UiError {
    NotFound,
    Internal,
}

impl From<StoreError> for UiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => UiError::NotFound,
            other => {
                tracing::error!(error = %other, "store failure");
                UiError::Internal
            }
        }
    }
}

impl From<crate::error::ApiError> for UiError {
    fn from(e: crate::error::ApiError) -> Self {
        if e.status() == StatusCode::NOT_FOUND {
            UiError::NotFound
        } else {
            UiError::Internal
        }
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        match self {
            UiError::NotFound => crate::auth::plain_page(
                StatusCode::NOT_FOUND,
                "Not found",
                "There is no such page or record.",
            ),
            UiError::Internal => crate::auth::plain_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Steward could not complete this; the problem has been logged. Please try again.",
            ),
        }
    }
}

pub type UiResult = Result<Response, UiError>;

/// The first 500 of a list, enough for a picker.
const PICKER: steward_store::PageRequest = steward_store::PageRequest {
    limit: Some(500),
    cursor: None,
};

/// The tenant's services as (id, name), for pickers.
pub async fn service_names(
    state: &AppState,
    who: &Principal,
) -> Result<Vec<(i64, String)>, UiError> {
    let page = state
        .store
        .services(who.tenant_id(), &Default::default(), &PICKER)
        .await?;
    Ok(page.items.into_iter().map(|s| (s.id, s.name)).collect())
}

/// The tenant's customers as (id, name), for pickers; none for those who may not read them.
pub async fn customer_names(
    state: &AppState,
    who: &Principal,
) -> Result<Vec<(i64, String)>, UiError> {
    if !who.can(Permission::CustomersRead) {
        return Ok(Vec::new());
    }
    let page = state
        .store
        .customers(who.tenant_id(), &Default::default(), &PICKER)
        .await?;
    Ok(page.items.into_iter().map(|c| (c.id, c.name)).collect())
}

/// Names of the tenant's services, customers, teams and users by id, for lists and pickers;
/// teams and users only for those who may read both.
pub struct Names {
    pub services: Vec<(i64, String)>,
    pub customers: Vec<(i64, String)>,
    pub teams: Vec<(i64, String)>,
    pub users: Vec<(i64, String)>,
}

impl Names {
    pub async fn load(state: &AppState, who: &Principal) -> Result<Names, UiError> {
        let t = who.tenant_id();
        let services = service_names(state, who).await?;
        let customers = customer_names(state, who).await?;
        let (teams, users) = if who.can(Permission::TeamsRead) && who.can(Permission::UsersRead) {
            let teams = state
                .store
                .teams(t, None, &PICKER)
                .await?
                .items
                .into_iter()
                .map(|t| (t.id, t.name))
                .collect();
            let filter = steward_store::identity::UserFilter {
                sort: Some("name".into()),
                ..Default::default()
            };
            let users = state
                .store
                .users(t, &filter, &PICKER)
                .await?
                .items
                .into_iter()
                .map(|u| (u.id, u.name))
                .collect();
            (teams, users)
        } else {
            (Vec::new(), Vec::new())
        };
        Ok(Names {
            services,
            customers,
            teams,
            users,
        })
    }

    pub fn of(list: &[(i64, String)], id: Option<i64>) -> String {
        id.and_then(|id| list.iter().find(|(i, _)| *i == id))
            .map_or_else(|| "—".to_owned(), |(_, n)| n.clone())
    }

    pub fn choices(list: &[(i64, String)], none: &str) -> Vec<(String, String)> {
        std::iter::once((String::new(), none.to_owned()))
            .chain(list.iter().map(|(id, n)| (id.to_string(), n.clone())))
            .collect()
    }
}

/// The end of every form submit: on success go to the page `to` names; on invalid input show
/// the form `again` with the field errors (and what was typed); anything else is an error page.
pub async fn after_save<T, Again, Fut>(
    saved: Result<T, StoreError>,
    to: impl FnOnce(&T) -> String,
    again: Again,
) -> UiResult
where
    Again: FnOnce(Invalid) -> Fut,
    Fut: std::future::Future<Output = UiResult>,
{
    match saved {
        Ok(value) => Ok(axum::response::Redirect::to(&to(&value)).into_response()),
        Err(StoreError::Invalid(invalid)) => again(invalid).await,
        Err(e) => Err(e.into()),
    }
}

/// A numeric id from the path; anything else is a page that does not exist.
pub struct Id<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> FromRequestParts<S> for Id<T> {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Id(p.0))
            .map_err(|_| UiError::NotFound)
    }
}

/// An instant for people: `2026-11-25 09:30 UTC`.
pub fn when(micros: i64) -> String {
    jiff::Timestamp::from_microsecond(micros)
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// A link to the next page of a list, keeping the other query parameters.
pub fn next_link(path: &str, params: &[(&str, &str)], cursor: Option<String>) -> Option<String> {
    let cursor = cursor?;
    let mut pairs: Vec<(&str, &str)> = params
        .iter()
        .copied()
        .filter(|(_, v)| !v.is_empty())
        .collect();
    pairs.push(("cursor", &cursor));
    Some(format!(
        "{path}?{}",
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    ))
}

/// A refused write as the form shows it: the field errors, or an edit over someone else's
/// (a conflict) as a message under `field`. Any other failure is the page's error.
pub fn refusal(e: StoreError, field: &str) -> Result<Invalid, StoreError> {
    match e {
        StoreError::Invalid(invalid) => Ok(invalid),
        StoreError::Conflict(message) => Ok(Invalid::one(field, message)),
        other => Err(other),
    }
}

/// Where a saved form goes: the record's page `{base}/{id}`, with the notice of what was done.
pub fn saved_page(base: &str, id: i64, editing: bool) -> Response {
    let done = if editing { "saved" } else { "created" };
    axum::response::Redirect::to(&format!("{base}/{id}?done={done}")).into_response()
}

/// What a filtered list page shows around its rows.
pub struct ListFrame {
    /// With the notice an action that led here left (`?done=`).
    pub chrome: Chrome,
    /// The next page, keeping the filters.
    pub next: Option<String>,
    /// Whether any filter is set, so the page can offer to clear them.
    pub filtered: bool,
}

impl ListFrame {
    pub async fn new(
        state: &AppState,
        who: &Principal,
        href: &str,
        filters: &[(&str, &str)],
        next_cursor: Option<String>,
        done: Option<&str>,
    ) -> ListFrame {
        ListFrame {
            chrome: Chrome::new(state, who, href).await.with_notice(done),
            next: next_link(href, filters, next_cursor),
            filtered: filters.iter().any(|(_, v)| !v.trim().is_empty()),
        }
    }
}

/// Escapes text for inline SVG or HTML written by hand (element text and attribute values).
pub fn html_attr(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One journal entry, summarised for a history table.
pub struct HistoryRow {
    pub at: String,
    pub actor: String,
    pub action: &'static str,
    pub record: String,
    pub summary: String,
    pub seq: i64,
    pub hash: String,
    pub short_hash: String,
}

impl From<JournalEntry> for HistoryRow {
    fn from(e: JournalEntry) -> Self {
        HistoryRow {
            at: when(e.at_micros),
            summary: summarize(e.before.as_ref(), e.after.as_ref()),
            actor: e.actor,
            action: e.action.as_str(),
            record: format!("{} {}", e.record_type, e.record_id),
            seq: e.seq,
            short_hash: e.hash.chars().take(12).collect(),
            hash: e.hash,
        }
    }
}

/// `name: Payroll → Payroll Service; status: pipeline → live`, leaving out bookkeeping fields
/// and showing instants (`*_at`) as times.
pub fn summarize(before: Option<&Value>, after: Option<&Value>) -> String {
    const SKIP: [&str; 4] = ["id", "number", "created_at", "updated_at"];
    let show = |key: &str, v: Option<&Value>| match v {
        None | Some(Value::Null) => "—".to_owned(),
        Some(Value::Number(n)) if key.ends_with("_at") => {
            n.as_i64().map_or_else(|| n.to_string(), when)
        }
        Some(Value::String(s)) if s.chars().count() > 60 => {
            format!("{}…", s.chars().take(60).collect::<String>())
        }
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            // Lists such as a calendar's holidays can be long: show their start.
            let text = other.to_string();
            if text.chars().count() > 60 {
                format!("{}…", text.chars().take(60).collect::<String>())
            } else {
                text
            }
        }
    };
    let empty = serde_json::Map::new();
    let b = before.and_then(Value::as_object).unwrap_or(&empty);
    let a = after.and_then(Value::as_object).unwrap_or(&empty);
    let mut keys: Vec<&String> = a
        .keys()
        .chain(b.keys())
        .filter(|k| !SKIP.contains(&k.as_str()))
        .collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .filter(|k| {
            before.is_some()
                || !matches!(a.get(*k), None | Some(Value::Null))
                    && a.get(*k) != Some(&Value::String(String::new()))
        })
        .map(|k| match (b.get(k), a.get(k)) {
            (None, v) if before.is_none() => format!("{k}: {}", show(k, v)),
            (old, new) => format!("{k}: {} → {}", show(k, old), show(k, new)),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The journal entries of one record, newest first, for its page's History section.
pub async fn history(
    state: &AppState,
    who: &Principal,
    record_type: &str,
    id: i64,
) -> Option<Vec<HistoryRow>> {
    if !who.can(Permission::JournalRead) {
        return None;
    }
    let filter = steward_store::journal::JournalFilter {
        record_type: Some(record_type.to_owned()),
        record_id: Some(id),
        ..Default::default()
    };
    let page = steward_store::PageRequest {
        limit: Some(50),
        cursor: None,
    };
    let entries = state
        .store
        .journal_entries(who.tenant_id(), &filter, &page)
        .await
        .ok()?;
    Some(entries.items.into_iter().map(HistoryRow::from).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn summaries_show_what_changed() {
        let before = json!({"name": "Payroll", "status": "live", "updated_at": 1});
        let after = json!({"name": "Payroll Service", "status": "live", "updated_at": 2});
        assert_eq!(
            summarize(Some(&before), Some(&after)),
            "name: Payroll → Payroll Service"
        );
        assert_eq!(
            summarize(None, Some(&json!({"name": "X", "id": 1}))),
            "name: X"
        );
    }

    #[test]
    fn next_links_keep_filters() {
        assert_eq!(
            next_link("/services", &[("q", "pay"), ("x", "")], Some("abc".into())).as_deref(),
            Some("/services?q=pay&cursor=abc")
        );
        assert_eq!(next_link("/services", &[], None), None);
    }
}
