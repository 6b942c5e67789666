//! `/api/v1/categories`, `/api/v1/custom-fields/incident` and incidents that carry both.

use super::api::{app, is_problem};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use steward_domain::access::Role;
use steward_store::{Store, both_backends};

/// The fields named by a problem document's errors.
pub fn field_of(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errs| {
            errs.iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

both_backends!(
    categories_form_a_tree_without_cycles,
    |store: Store| async move {
        let app = app(store).await;
        let hardware = app
            .post(
                "/api/v1/categories",
                Role::Manager,
                json!({"name": "Hardware"}),
            )
            .await;
        assert_eq!(hardware.status, StatusCode::CREATED, "{}", hardware.text);
        let hw = hardware.body["id"].as_i64().expect("id");
        let laptops = app
            .post(
                "/api/v1/categories",
                Role::Admin,
                json!({"name": "Laptops", "parent_id": hw}),
            )
            .await;
        assert_eq!(laptops.status, StatusCode::CREATED, "{}", laptops.text);
        assert_eq!(laptops.body["path"], "Hardware › Laptops");
        assert_eq!(laptops.body["depth"], 1);
        let lp = laptops.body["id"].as_i64().expect("id");

        let twin = app
            .post(
                "/api/v1/categories",
                Role::Admin,
                json!({"name": "laptops", "parent_id": hw}),
            )
            .await;
        assert_eq!(
            twin.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            twin.text
        );
        assert_eq!(field_of(&twin.body), vec!["name"]);

        let agent = app
            .post("/api/v1/categories", Role::Agent, json!({"name": "Nope"}))
            .await;
        assert_eq!(agent.status, StatusCode::FORBIDDEN);

        let cycle = app
            .patch(
                &format!("/api/v1/categories/{hw}"),
                Role::Admin,
                json!({"parent_id": lp}),
            )
            .await;
        assert_eq!(
            cycle.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            cycle.text
        );
        assert!(is_problem(&cycle));
        assert_eq!(field_of(&cycle.body), vec!["parent_id"]);

        let renamed = app
            .patch(
                &format!("/api/v1/categories/{lp}"),
                Role::Admin,
                json!({"name": "Notebooks"}),
            )
            .await;
        assert_eq!(
            renamed.body["path"], "Hardware › Notebooks",
            "{}",
            renamed.text
        );
        let top = app
            .patch(
                &format!("/api/v1/categories/{lp}"),
                Role::Admin,
                json!({"parent_id": null}),
            )
            .await;
        assert_eq!(top.body["depth"], 0, "{}", top.text);

        let list = app.get("/api/v1/categories", Role::Agent).await;
        assert_eq!(list.status, StatusCode::OK);
        assert_eq!(list.body.as_array().map(Vec::len), Some(2));
        let foreign = app
            .call(
                Method::PATCH,
                &format!("/api/v1/categories/{hw}"),
                Some(&app.outsider),
                Some(json!({"name": "Mine"})),
            )
            .await;
        assert_eq!(foreign.status, StatusCode::NOT_FOUND);
        assert!(app.store.verify_journal().await.expect("verify").is_ok());
    }
);

both_backends!(
    incidents_carry_categories_and_custom_fields,
    |store: Store| async move {
        let app = app(store).await;
        let hw = app
            .post(
                "/api/v1/categories",
                Role::Admin,
                json!({"name": "Hardware"}),
            )
            .await
            .body["id"]
            .as_i64()
            .expect("id");
        let laptops = app
            .post(
                "/api/v1/categories",
                Role::Admin,
                json!({"name": "Laptops", "parent_id": hw}),
            )
            .await
            .body["id"]
            .as_i64()
            .expect("id");
        let access = app
            .post("/api/v1/categories", Role::Admin, json!({"name": "Access"}))
            .await
            .body["id"]
            .as_i64()
            .expect("id");

        let fields = json!([
            {"name": "asset_tag", "label": "Asset tag", "kind": "text", "required": true},
            {"name": "floor", "label": "Floor", "kind": "number"},
            {"name": "since", "label": "Since", "kind": "date"},
            {"name": "os", "label": "Operating system", "kind": "select", "options": ["Linux", "Windows"]},
            {"name": "owner", "label": "Owner", "kind": "user"},
        ]);
        let by_manager = app
            .call(
                Method::PUT,
                "/api/v1/custom-fields/incident",
                Some(app.token(Role::Manager)),
                Some(fields.clone()),
            )
            .await;
        assert_eq!(by_manager.status, StatusCode::FORBIDDEN);
        let bad_defs = app
            .call(
                Method::PUT,
                "/api/v1/custom-fields/incident",
                Some(app.token(Role::Admin)),
                Some(json!([{"name": "x y", "label": "", "kind": "select"}])),
            )
            .await;
        assert_eq!(
            bad_defs.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            bad_defs.text
        );
        let saved = app
            .call(
                Method::PUT,
                "/api/v1/custom-fields/incident",
                Some(app.token(Role::Admin)),
                Some(fields),
            )
            .await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
        let listed = app.get("/api/v1/custom-fields/incident", Role::Agent).await;
        assert_eq!(listed.body.as_array().map(Vec::len), Some(5));
        assert_eq!(listed.body[4]["kind"], "user");
        let unknown = app.get("/api/v1/custom-fields/change", Role::Agent).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);

        let missing = app
            .post(
                "/api/v1/incidents",
                Role::Agent,
                json!({"title": "Laptop broken", "category_id": laptops}),
            )
            .await;
        assert_eq!(
            missing.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            missing.text
        );
        assert_eq!(field_of(&missing.body), vec!["custom.asset_tag"]);
        assert!(
            missing.text.contains("Asset tag is required"),
            "{}",
            missing.text
        );

        let wrong_type = app
        .post(
            "/api/v1/incidents",
            Role::Agent,
            json!({"title": "Laptop broken", "custom": {"asset_tag": "A-1", "floor": "third", "since": "yesterday"}}),
        )
        .await;
        assert_eq!(wrong_type.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            field_of(&wrong_type.body),
            vec!["custom.floor", "custom.since"]
        );

        let bad_option = app
            .post(
                "/api/v1/incidents",
                Role::Agent,
                json!({"title": "Laptop broken", "custom": {"asset_tag": "A-1", "os": "BeOS"}}),
            )
            .await;
        assert_eq!(field_of(&bad_option.body), vec!["custom.os"]);

        let outsider_id = app
            .call(Method::GET, "/api/v1/me", Some(&app.outsider), None)
            .await
            .body["id"]
            .as_i64()
            .expect("outsider id");
        let foreign_user = app
        .post(
            "/api/v1/incidents",
            Role::Agent,
            json!({"title": "Laptop broken", "custom": {"asset_tag": "A-1", "owner": outsider_id}}),
        )
        .await;
        assert_eq!(foreign_user.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(field_of(&foreign_user.body), vec!["custom.owner"]);

        let unknown_category = app
        .post(
            "/api/v1/incidents",
            Role::Agent,
            json!({"title": "Laptop broken", "category_id": 999_999, "custom": {"asset_tag": "A-1"}}),
        )
        .await;
        assert_eq!(field_of(&unknown_category.body), vec!["category_id"]);

        let me = app.get("/api/v1/me", Role::Agent).await.body["id"]
            .as_i64()
            .expect("id");
        let created = app
            .post(
                "/api/v1/incidents",
                Role::Agent,
                json!({"title": "Laptop broken", "category_id": laptops,
                   "custom": {"asset_tag": " A-1 ", "floor": "3", "os": "Linux", "owner": me}}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        assert_eq!(created.body["category_id"], laptops);
        assert_eq!(created.body["custom"]["asset_tag"], "A-1");
        assert_eq!(created.body["custom"]["owner"], me);
        let key = created.body["key"].as_str().expect("key").to_owned();

        let other = app
        .post(
            "/api/v1/incidents",
            Role::Agent,
            json!({"title": "Cannot sign in", "category_id": access, "custom": {"asset_tag": "B-2"}}),
        )
        .await;
        assert_eq!(other.status, StatusCode::CREATED, "{}", other.text);

        let patched = app
            .patch(
                &format!("/api/v1/incidents/{key}"),
                Role::Agent,
                json!({"custom": {"floor": null, "os": "Windows"}}),
            )
            .await;
        assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
        assert_eq!(patched.body["custom"]["os"], "Windows");
        assert_eq!(patched.body["custom"]["asset_tag"], "A-1");
        assert!(patched.body["custom"].get("floor").is_none());
        let cleared = app
            .patch(
                &format!("/api/v1/incidents/{key}"),
                Role::Agent,
                json!({"custom": {"asset_tag": null}}),
            )
            .await;
        assert_eq!(field_of(&cleared.body), vec!["custom.asset_tag"]);

        let under_hardware = app
            .get(&format!("/api/v1/incidents?category_id={hw}"), Role::Agent)
            .await;
        let keys: Vec<&str> = under_hardware.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|i| i["key"].as_str())
            .collect();
        assert_eq!(keys, vec![key.as_str()], "subcategories are included");
        let exact = app
            .get(
                &format!("/api/v1/incidents?category_id={access}"),
                Role::Agent,
            )
            .await;
        assert_eq!(exact.body["items"].as_array().map(Vec::len), Some(1));

        let retired = app
            .patch(
                &format!("/api/v1/categories/{access}"),
                Role::Admin,
                json!({"retired": true}),
            )
            .await;
        assert_eq!(retired.body["retired"], true, "{}", retired.text);
        let into_retired = app
            .patch(
                &format!("/api/v1/incidents/{key}"),
                Role::Agent,
                json!({"category_id": access}),
            )
            .await;
        assert_eq!(field_of(&into_retired.body), vec!["category_id"]);

        assert!(app.store.verify_journal().await.expect("verify").is_ok());
    }
);

/// Keys of every record a list URL returns, following `next_cursor` one record at a time.
async fn all_keys(app: &super::api::TestApp, url: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page_url = match &cursor {
            Some(c) => format!("{url}&limit=1&cursor={c}"),
            None => format!("{url}&limit=1"),
        };
        let page = app.get(&page_url, Role::Agent).await;
        assert_eq!(page.status, StatusCode::OK, "{page_url}: {}", page.text);
        keys.extend(
            page.body["items"]
                .as_array()
                .expect("items")
                .iter()
                .filter_map(|i| i["key"].as_str().map(str::to_owned)),
        );
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    keys.sort();
    keys
}

both_backends!(
    lists_filter_on_custom_fields_and_categories,
    |store: Store| async move {
        let app = app(store).await;
        let hw = app
            .post(
                "/api/v1/categories",
                Role::Admin,
                json!({"name": "Hardware"}),
            )
            .await
            .body["id"]
            .as_i64()
            .expect("id");
        let laptops = app
            .post(
                "/api/v1/categories",
                Role::Admin,
                json!({"name": "Laptops", "parent_id": hw}),
            )
            .await
            .body["id"]
            .as_i64()
            .expect("id");
        let fields = json!([
            {"name": "site", "label": "Site", "kind": "text"},
            {"name": "floor", "label": "Floor", "kind": "number"},
        ]);
        let saved = app
            .call(
                Method::PUT,
                "/api/v1/custom-fields/incident",
                Some(app.token(Role::Admin)),
                Some(fields),
            )
            .await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
        for (title, category, custom) in [
            (
                "Laptop",
                Some(laptops),
                json!({"site": "Berlin", "floor": 3}),
            ),
            ("Desk", None, json!({"site": "BERLIN", "floor": "4"})),
            ("Badge", Some(hw), json!({"site": "Paris", "floor": "3"})),
            ("Loose", None, json!({})),
        ] {
            let created = app
                .post(
                    "/api/v1/incidents",
                    Role::Agent,
                    json!({"title": title, "category_id": category, "custom": custom}),
                )
                .await;
            assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        }
        // INC-1 Laptop, INC-2 Desk, INC-3 Badge, INC-4 Loose.
        for (url, expected) in [
            (
                "/api/v1/incidents?custom.site=berlin",
                vec!["INC-1", "INC-2"],
            ),
            ("/api/v1/incidents?custom.site=Berl", vec![]),
            ("/api/v1/incidents?custom.floor=3", vec!["INC-1", "INC-3"]),
            ("/api/v1/incidents?custom.floor=3.0", vec!["INC-1", "INC-3"]),
            (
                "/api/v1/incidents?custom.site=Berlin&custom.floor=4",
                vec!["INC-2"],
            ),
            (
                &format!("/api/v1/incidents?category_id={hw}"),
                vec!["INC-1", "INC-3"],
            ),
            (
                &format!("/api/v1/incidents?category_id={hw}&custom.site=BERLIN"),
                vec!["INC-1"],
            ),
            (
                "/api/v1/incidents?custom.site=&sort=number",
                vec!["INC-1", "INC-2", "INC-3", "INC-4"],
            ),
        ] {
            assert_eq!(all_keys(&app, url).await, expected, "{url}");
        }

        for (url, field) in [
            ("/api/v1/incidents?custom.nope=x", "custom.nope"),
            ("/api/v1/incidents?custom.floor=third", "custom.floor"),
        ] {
            let refused = app.get(url, Role::Agent).await;
            assert_eq!(
                refused.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{url}: {}",
                refused.text
            );
            assert!(is_problem(&refused));
            assert_eq!(field_of(&refused.body), vec![field], "{url}");
        }

        // Problems take the same filters, against the fields defined for problems.
        let saved = app
            .call(
                Method::PUT,
                "/api/v1/custom-fields/problem",
                Some(app.token(Role::Admin)),
                Some(json!([{"name": "vendor", "label": "Vendor", "kind": "text"}])),
            )
            .await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
        for (title, category, vendor) in [
            ("Laptop batteries swell", Some(laptops), "Acme"),
            ("Docking stations", None, "acme"),
            ("Badge readers", None, "Other"),
        ] {
            let created = app
                .post(
                    "/api/v1/problems",
                    Role::Manager,
                    json!({"title": title, "category_id": category, "custom": {"vendor": vendor}}),
                )
                .await;
            assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        }
        assert_eq!(
            all_keys(&app, "/api/v1/problems?custom.vendor=ACME").await,
            vec!["PRB-1", "PRB-2"]
        );
        assert_eq!(
            all_keys(&app, &format!("/api/v1/problems?category_id={hw}")).await,
            vec!["PRB-1"]
        );
        let wrong_kind = app
            .get("/api/v1/problems?custom.site=Berlin", Role::Agent)
            .await;
        assert_eq!(wrong_kind.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(field_of(&wrong_kind.body), vec!["custom.site"]);
        let requests = app
            .get("/api/v1/requests?custom.site=Berlin", Role::Agent)
            .await;
        assert_eq!(requests.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(field_of(&requests.body), vec!["custom.site"]);

        let doc = serde_json::to_value(&*steward_server::api::openapi()).expect("json");
        for path in ["/incidents", "/problems", "/requests"] {
            let description = doc["paths"][path]["get"]["description"]
                .as_str()
                .unwrap_or_default();
            assert!(
                description.contains("custom.<name>"),
                "{path}: {description}"
            );
        }
        assert!(
            doc["paths"]["/problems"]["get"]["parameters"]
                .as_array()
                .expect("parameters")
                .iter()
                .any(|p| p["name"] == "category_id")
        );
    }
);
