//! The OpenAPI 3.1 description of `/api/v1`, served at `/api/v1/openapi.json`.

use serde_json::{json, Value};

pub fn document() -> Value {
    let error = json!({ "$ref": "#/components/schemas/Error" });
    let view_parameters = json!([
        { "name": "q", "in": "query", "schema": { "type": "string", "maxLength": 200 },
          "description": "Search in identifier or display name: case-insensitive, anywhere in the text; % _ \\ are plain characters." },
        { "name": "sort", "in": "query", "schema": { "enum": ["interactions", "first", "latest", "score"], "default": "interactions" } },
        { "name": "dir", "in": "query", "schema": { "enum": ["desc", "asc"], "default": "desc" } },
        { "name": "page", "in": "query", "schema": { "type": "integer", "minimum": 1, "default": 1 },
          "description": "Past the last page answers the last page." },
        { "name": "per_page", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 100, "default": 30 } },
        { "name": "period", "in": "query", "schema": { "enum": ["all", "7d", "30d", "90d", "month", "last-month", "quarter", "year"], "default": "all" },
          "description": "Conversations of a relative period in the organisation's time zone, in whole days (7d: today and the 6 days before). Not with from/to." },
        { "name": "from", "in": "query", "schema": { "type": "string", "format": "date" },
          "description": "First day (YYYY-MM-DD, inclusive) of a custom range in the organisation's time zone; either end may be left out." },
        { "name": "to", "in": "query", "schema": { "type": "string", "format": "date" },
          "description": "Last day (YYYY-MM-DD, inclusive) of a custom range; before `from` is a 400." },
        { "name": "type", "in": "query", "schema": { "type": "string", "pattern": "^(voice|chat|email)(,(voice|chat|email))*$" },
          "description": "Channels, comma-separated: voice, chat, email." },
        { "name": "rep", "in": "query", "schema": { "type": "string", "maxLength": 256 },
          "description": "A representative's email: only their conversations count. An email the organisation does not have is a 400." },
        { "name": "f.{key}", "in": "query", "schema": { "type": "string" },
          "description": "A custom field filter: the option of a select field, or text a text field's value contains (case-insensitive). Filters combine: one conversation must match them all." }
    ]);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Playbook API",
            "version": "1",
            "description": "Conversations in, customers out. Every call but this document needs `Authorization: Bearer <token>` (server token create --org SLUG --name NAME); a token sees its own organisation only. Only scored conversations count towards customers, as on the Customers page. Errors are JSON: {\"error\": \"…\"}."
        },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": { "type": "string" },
                        "total": { "type": "integer", "description": "How many items are bad (422 only)." },
                        "errors": { "type": "array", "maxItems": 100, "items": {
                            "type": "object",
                            "properties": { "item": { "type": "integer", "description": "1-based position in the array" },
                                            "field": { "type": ["string", "null"] }, "message": { "type": "string" } } } }
                    }
                },
                "Conversation": {
                    "type": "object",
                    "required": ["external_id", "customer", "representative", "title", "type", "occurred_at"],
                    "additionalProperties": false,
                    "properties": {
                        "external_id": { "type": "string", "description": "Unique per organisation; sending it again updates the conversation." },
                        "customer": { "type": "string", "description": "The customer's identifier: an email, a phone number, an account id." },
                        "customer_name": { "type": ["string", "null"], "description": "Updates the customer's display name when given." },
                        "representative": { "type": "string", "format": "email" },
                        "representative_name": { "type": ["string", "null"] },
                        "title": { "type": "string" },
                        "type": { "enum": ["voice", "chat", "email"] },
                        "occurred_at": { "type": "string", "format": "date-time", "description": "RFC 3339 with an offset." },
                        "score": { "type": ["number", "null"], "minimum": 0, "maximum": 100, "description": "null or absent: not scored." },
                        "fields": { "type": "object", "additionalProperties": { "type": "string" },
                                    "description": "Custom field key to value; an unknown key creates a text field; a select field's value must be one of its options." }
                    }
                },
                "Customer": {
                    "type": "object",
                    "properties": {
                        "identifier": { "type": "string" },
                        "display_name": { "type": ["string", "null"] },
                        "interactions": { "type": "integer" },
                        "first_interaction": { "type": "string", "format": "date-time" },
                        "latest_interaction": { "type": "string", "format": "date-time" },
                        "average_score": { "type": "number" }
                    }
                },
                "Interaction": {
                    "type": "object",
                    "properties": {
                        "external_id": { "type": "string" },
                        "title": { "type": "string" },
                        "type": { "enum": ["voice", "chat", "email"] },
                        "occurred_at": { "type": "string", "format": "date-time" },
                        "representative": { "type": "object", "properties": { "email": { "type": "string" }, "name": { "type": "string" } } },
                        "score": { "type": "number" }
                    }
                }
            }
        },
        "security": [{ "bearer": [] }],
        "paths": {
            "/api/v1/conversations": {
                "post": {
                    "summary": "Create or update up to 1000 conversations, all or nothing",
                    "requestBody": { "required": true, "content": { "application/json": { "schema": {
                        "type": "array", "maxItems": 1000, "items": { "$ref": "#/components/schemas/Conversation" } } } } },
                    "responses": {
                        "200": { "description": "Written", "content": { "application/json": { "schema": { "type": "object", "properties": {
                            "created": { "type": "integer" }, "updated": { "type": "integer" },
                            "skipped": { "type": "integer", "description": "Sent again unchanged" },
                            "new_fields": { "type": "integer" } } } } } },
                        "400": { "description": "Not a JSON array", "content": { "application/json": { "schema": error } } },
                        "401": { "description": "No valid token", "content": { "application/json": { "schema": error } } },
                        "413": { "description": "Over 1000 items or 4 MiB", "content": { "application/json": { "schema": error } } },
                        "422": { "description": "Bad items; nothing was written", "content": { "application/json": { "schema": error } } }
                    }
                }
            },
            "/api/v1/customers": {
                "get": {
                    "summary": "The Customers page as JSON",
                    "parameters": view_parameters,
                    "responses": {
                        "200": { "description": "A page of customers", "content": { "application/json": { "schema": { "type": "object", "properties": {
                            "total": { "type": "integer" }, "page": { "type": "integer" }, "per_page": { "type": "integer" },
                            "page_count": { "type": "integer" },
                            "rows": { "type": "array", "items": { "$ref": "#/components/schemas/Customer" } } } } } } },
                        "400": { "description": "An unknown parameter, field, option or representative, or an invalid value (a bad date, a range that ends before it starts)", "content": { "application/json": { "schema": error } } },
                        "422": { "description": "The question took longer than the server's query budget and was stopped: narrow it", "content": { "application/json": { "schema": error } } },
                        "401": { "description": "No valid token", "content": { "application/json": { "schema": error } } }
                    }
                }
            },
            "/api/v1/customers/{identifier}/interactions": {
                "get": {
                    "summary": "A customer's scored conversations, newest first",
                    "parameters": [
                        { "name": "identifier", "in": "path", "required": true, "schema": { "type": "string" } },
                        { "name": "page", "in": "query", "schema": { "type": "integer", "minimum": 1, "default": 1 } },
                        { "name": "per_page", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 100, "default": 20 } },
                        { "name": "period", "in": "query", "schema": { "type": "string" }, "description": "As for /api/v1/customers." },
                        { "name": "from", "in": "query", "schema": { "type": "string", "format": "date" }, "description": "As for /api/v1/customers." },
                        { "name": "to", "in": "query", "schema": { "type": "string", "format": "date" }, "description": "As for /api/v1/customers." },
                        { "name": "type", "in": "query", "schema": { "type": "string" }, "description": "As for /api/v1/customers." },
                        { "name": "rep", "in": "query", "schema": { "type": "string" }, "description": "As for /api/v1/customers." },
                        { "name": "f.{key}", "in": "query", "schema": { "type": "string" }, "description": "The same filters as /api/v1/customers." }
                    ],
                    "responses": {
                        "200": { "description": "A page of conversations", "content": { "application/json": { "schema": { "type": "object", "properties": {
                            "customer": { "type": "string" }, "total": { "type": "integer" }, "page": { "type": "integer" },
                            "per_page": { "type": "integer" }, "page_count": { "type": "integer" },
                            "rows": { "type": "array", "items": { "$ref": "#/components/schemas/Interaction" } } } } } } },
                        "400": { "description": "An invalid parameter", "content": { "application/json": { "schema": error } } },
                        "401": { "description": "No valid token", "content": { "application/json": { "schema": error } } },
                        "404": { "description": "No such customer in the token's organisation", "content": { "application/json": { "schema": error } } }
                    }
                }
            }
        }
    })
}
