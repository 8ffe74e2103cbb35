//! The OpenAPI 3.1 description of `/api/v1`, served at `/api/v1/openapi.json`.
//!
//! It is derived from the handlers (`#[utoipa::path]` in [`super::reads`] and [`super::writes`]) and the types
//! they check with ([`super::schema`]): every limit, default and list of values comes from the
//! constant or enum the server checks with, never from a copy of the number here. A fuzzer
//! (scripts/api-fuzz.sh) holds the server to it.

use super::reads::{
    self, CustomerItem, CustomersPage, InteractionItem, InteractionsPage, RepresentativeRef,
};
use super::schema::{
    filters_description, filters_extension, Conversation, ErrorBody, ErrorCode, ItemError,
    RETRY_AFTER_SECS,
};
use super::writes::{self, Deleted, Written};
use crate::conversations::model::Channel;
use serde_json::json;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref};
use utoipa::{Modify, OpenApi, ToSchema};

/// The document.
pub fn document() -> Document {
    ApiDoc::openapi()
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Playbook API",
        version = "1",
        description = "Conversations in, customers out. Every call but this document needs `Authorization: Bearer <token>` (server token create --org SLUG --name NAME); a token sees its own organisation only, and only an Admin token (server token create --admin) may erase. Only scored conversations count towards customers, as on the Customers page. Errors are JSON: {\"code\": \"…\", \"error\": \"…\"}, where `code` is one of a fixed list (`ErrorCode`) a client can act on and `error` a sentence for people. Writes (conversation batches and erasures) are limited per token (429 with Retry-After) and in how many run at once over all tokens (503 with Retry-After).",
    ),
    paths(
        writes::post_conversations,
        writes::delete_conversation,
        reads::get_customers,
        reads::get_interactions,
        writes::delete_customer
    ),
    components(schemas(
        ErrorBody, ErrorCode, ItemError, Conversation, Channel, Written, Deleted, CustomerItem,
        CustomersPage, InteractionItem, InteractionsPage, RepresentativeRef
    )),
    modifiers(&EveryCall),
    security(("bearer" = [])),
)]
struct ApiDoc;

// ---------------------------------------------------------------------------------------------
// What every call shares: the bearer scheme, 401 and 503, and the filters' description.

struct EveryCall;

impl Modify for EveryCall {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        let error = || {
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(ErrorBody::name())))
                .build()
        };
        let unauthorized = ResponseBuilder::new()
            .description("No token, or one that is not valid or has been revoked")
            .content("application/json", error())
            .build();
        let retry_after = |description: &str| {
            HeaderBuilder::new()
                .schema(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(0))
                        .examples([json!(RETRY_AFTER_SECS)]),
                )
                .description(Some(description))
                .build()
        };
        let unavailable = ResponseBuilder::new()
            .description("The database is busy (an import may be running) or briefly out of reach, the server is still loading, or (writes) too many writes run at once (`busy`, `loading`, `timeout`); nothing was written: try again after Retry-After seconds")
            .header("Retry-After", retry_after("Seconds to wait before trying again"))
            .content("application/json", error())
            .build();
        let rate_limited = ResponseBuilder::new()
            .description("The token made more writes than it may for now (`rate_limited`); nothing was written: try again after Retry-After seconds")
            .header("Retry-After", retry_after("Seconds until the token may write again"))
            .content("application/json", error())
            .build();
        for item in openapi.paths.paths.values_mut() {
            for operation in [&mut item.get, &mut item.post, &mut item.delete]
                .into_iter()
                .flatten()
            {
                operation
                    .responses
                    .responses
                    .insert("401".to_owned(), unauthorized.clone().into());
                operation
                    .responses
                    .responses
                    .insert("503".to_owned(), unavailable.clone().into());
            }
            for operation in [&mut item.post, &mut item.delete].into_iter().flatten() {
                operation
                    .responses
                    .responses
                    .insert("429".to_owned(), rate_limited.clone().into());
            }
            if let Some(operation) = &mut item.get {
                if operation.parameters.is_some() {
                    let description = operation.description.get_or_insert_with(String::new);
                    description.push_str("\n\n");
                    description.push_str(&filters_description());
                    operation.extensions = Some(filters_extension());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::schema::{MAX_ITEMS_PER_CALL, MAX_PER_PAGE};
    use super::*;
    use crate::conversations::import::MAX_REPORTED_ERRORS;
    use crate::customers::query::{
        Period, SortKey, FILTER_PREFIX, MAX_EMAIL_CHARS, MAX_PAGE, MAX_SEARCH_CHARS, PAGE_SIZE,
    };
    use crate::limits::{MAX_FIELD_VALUE_CHARS, MAX_IDENTIFIER_CHARS, MAX_TITLE_CHARS};
    use serde_json::Value;

    fn document_json() -> Value {
        serde_json::to_value(document()).unwrap()
    }

    #[test]
    fn the_document_carries_the_limits_the_server_checks() {
        let doc = document_json();
        assert_eq!(doc["openapi"], "3.1.0");
        let batch = &doc["paths"]["/api/v1/conversations"]["post"]["requestBody"]["content"]
            ["application/json"]["schema"];
        assert_eq!(batch["maxItems"], MAX_ITEMS_PER_CALL);
        let item = &doc["components"]["schemas"]["Conversation"];
        let title = &item["properties"]["title"];
        assert_eq!(title["x-max-trimmed-length"], MAX_TITLE_CHARS);
        let bound = format!("{{0,{}}}", MAX_TITLE_CHARS - 2);
        assert!(title["pattern"].as_str().unwrap().contains(&bound));
        assert_eq!(
            item["properties"]["external_id"]["x-max-trimmed-length"],
            MAX_IDENTIFIER_CHARS
        );
        for name in ["external_id", "customer", "representative", "title"] {
            assert_eq!(item["properties"][name]["minLength"], 1, "{name}");
        }
        assert_eq!(
            item["properties"]["fields"]["additionalProperties"]["x-max-trimmed-length"],
            MAX_FIELD_VALUE_CHARS
        );
        assert_eq!(
            doc["components"]["schemas"]["Error"]["properties"]["errors"]["maxItems"],
            MAX_REPORTED_ERRORS
        );
        let parameter = |path: &str, name: &str| -> Value {
            doc["paths"][path]["get"]["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == name)
                .unwrap_or_else(|| panic!("{path} has no parameter {name}"))
                .clone()
        };
        let customers = "/api/v1/customers";
        let interactions = "/api/v1/customers/{identifier}/interactions";
        for (path, name, key, expected) in [
            (customers, "per_page", "maximum", json!(MAX_PER_PAGE)),
            (customers, "per_page", "default", json!(PAGE_SIZE)),
            (interactions, "per_page", "maximum", json!(MAX_PER_PAGE)),
            (
                interactions,
                "per_page",
                "default",
                json!(super::super::schema::INTERACTIONS_PER_PAGE),
            ),
            (customers, "page", "maximum", json!(MAX_PAGE)),
            (customers, "q", "maxLength", json!(MAX_SEARCH_CHARS)),
            (customers, "rep", "maxLength", json!(MAX_EMAIL_CHARS)),
            (interactions, "rep", "maxLength", json!(MAX_EMAIL_CHARS)),
        ] {
            assert_eq!(
                parameter(path, name)["schema"][key],
                expected,
                "{path} {name} {key}"
            );
        }
        assert_eq!(
            parameter(customers, "sort")["schema"]["enum"],
            json!(SortKey::ALL.map(SortKey::param))
        );
        assert_eq!(
            parameter(interactions, "period")["schema"]["enum"],
            json!(Period::PRESETS.map(Period::param))
        );
        assert_eq!(
            doc["components"]["schemas"]["Channel"]["enum"],
            json!(Channel::ALL.map(Channel::as_str))
        );
        let post = &doc["paths"]["/api/v1/conversations"]["post"];
        for status in ["200", "400", "401", "413", "422", "429", "503"] {
            assert!(post["responses"][status].is_object(), "{status}");
        }
        assert!(post["responses"]["503"]["headers"]["Retry-After"].is_object());
        assert!(post["responses"]["429"]["headers"]["Retry-After"].is_object());
        for path in [
            "/api/v1/customers/{identifier}",
            "/api/v1/conversations/{external_id}",
        ] {
            let erase = &doc["paths"][path]["delete"];
            for status in ["200", "401", "403", "404", "429", "503"] {
                assert!(erase["responses"][status].is_object(), "{path} {status}");
            }
            assert!(erase.get("x-filter-parameters").is_none(), "{path}");
        }
        let get = &doc["paths"][customers]["get"];
        assert!(
            get["responses"]["429"].is_null(),
            "reads are not rate limited"
        );
        assert!(get["description"]
            .as_str()
            .unwrap()
            .contains("wins over `period`"));
        // Every error answer names its code, from a closed list.
        let error = &doc["components"]["schemas"]["Error"];
        assert_eq!(error["required"], json!(["code", "error"]));
        assert_eq!(
            doc["components"]["schemas"]["ErrorCode"]["enum"],
            json!(ErrorCode::ALL.map(ErrorCode::as_str))
        );
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
    }

    #[test]
    fn no_parameter_is_named_with_braces_and_the_filters_are_described() {
        let doc = document_json();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                for parameter in operation["parameters"].as_array().into_iter().flatten() {
                    let name = parameter["name"].as_str().unwrap();
                    assert!(
                        !name.contains(['{', '}', '<', '>']),
                        "{method} {path}: parameter `{name}`"
                    );
                }
                if method == "get" {
                    let description = operation["description"].as_str().unwrap();
                    assert!(description.contains(&format!("`{FILTER_PREFIX}<key>=<value>`")));
                    assert_eq!(operation["x-filter-parameters"]["prefix"], FILTER_PREFIX);
                }
            }
        }
    }

    #[test]
    fn error_codes_are_written_as_listed_and_each_status_has_one() {
        for code in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), json!(code.as_str()));
            assert!(code.meaning().starts_with(|c: char| c.is_ascii_digit()));
        }
        let distinct: std::collections::HashSet<&str> =
            ErrorCode::ALL.iter().map(|code| code.as_str()).collect();
        assert_eq!(distinct.len(), ErrorCode::ALL.len());
        use axum::http::StatusCode;
        for (status, code) in [
            (StatusCode::BAD_REQUEST, ErrorCode::BadRequest),
            (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized),
            (StatusCode::FORBIDDEN, ErrorCode::Forbidden),
            (StatusCode::NOT_FOUND, ErrorCode::NotFound),
            (StatusCode::METHOD_NOT_ALLOWED, ErrorCode::MethodNotAllowed),
            (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::TooLarge),
            (StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited),
            (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal),
            (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Busy),
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, ErrorCode::BadRequest),
        ] {
            assert_eq!(ErrorCode::for_status(status), code, "{status}");
            assert!(code
                .meaning()
                .starts_with(&status.as_u16().to_string()[..1]));
        }
    }
}
