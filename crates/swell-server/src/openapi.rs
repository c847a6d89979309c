//! The OpenAPI 3.1 document of the API, generated from the same declarations that mount the
//! routes: each handler's `#[utoipa::path]` (method, path, parameters, input, answer) and the
//! typed wire shapes (`#[derive(ToSchema)]`, with [`crate::wire::Since`] saying from which
//! version a field is shown). What every route shares is added here once: the path
//! parameters, the bearer token, and the error answer (`default`: an array of
//! `{errorCode, message}` whose codes are the one table of `swell_app::ErrorCode`).
//!
//! The server answers it at `GET /openapi.json` (no token); `docs/openapi.json` is the
//! committed copy, and a test fails when it is stale (`SWELL_BLESS=1` writes it).

use crate::resources;
use crate::wire::shapes::Errors;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Required, ResponseBuilder};
use utoipa::{PartialSchema, ToSchema};

/// The whole document.
pub fn document() -> OpenApi {
    let (_, mut doc) = resources::routes().split_for_parts();
    let (_, public) = resources::public().split_for_parts();
    doc.merge(public);
    complete(&mut doc);
    doc
}

/// The document as the server sends it and docs/openapi.json holds it.
pub fn document_json() -> String {
    document().to_pretty_json().unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}")) + "\n"
}

fn complete(doc: &mut OpenApi) {
    doc.info.title = "swell: the CRM Analytics (Wave) REST API".into();
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    doc.info.description = Some(
        "The Wave REST API as swell serves it: dataflows, recipes, jobs, schedules, datasets, \
         data connections and connected objects, from API version 41.0 to 66.0. Strings of answers \
         are HTML-entity-encoded unless the request says `X-Chatter-Entity-Encoding: false`. \
         A field marked 'From API version N.0' is left out of answers to older versions."
            .into(),
    );
    doc.info.license = None;
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme("token", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    let mut schemas = Vec::new();
    Errors::schemas(&mut schemas);
    components.schemas.extend(schemas);
    doc.security = Some(vec![SecurityRequirement::new("token", Vec::<String>::new())]);

    let mut ids = std::collections::HashSet::new();
    for (path, item) in doc.paths.paths.iter_mut() {
        let names: Vec<String> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(str::to_string)
            .collect();
        let operations = [
            ("get", &mut item.get),
            ("put", &mut item.put),
            ("post", &mut item.post),
            ("delete", &mut item.delete),
            ("patch", &mut item.patch),
        ];
        for (method, op) in operations {
            let Some(op) = op else { continue };
            add_path_parameters(op, &names);
            add_error_answer(op);
            name_uniquely(op, method, &mut ids);
            describe_answers(op);
        }
    }
}

/// Declares each `{name}` of the path (utoipa declares only those of typed extractors).
fn add_path_parameters(op: &mut Operation, names: &[String]) {
    let parameters = op.parameters.get_or_insert_with(Vec::new);
    for name in names.iter().rev() {
        let (schema, description) = match name.as_str() {
            "version" => (
                ObjectBuilder::new().schema_type(Type::String).pattern(Some(r"^v[0-9]+\.0$")).examples(["v66.0"]),
                "The API version, v41.0 to v66.0",
            ),
            "id" => (
                ObjectBuilder::new().schema_type(Type::String).examples(["02KXX0000000001AAA"]),
                "An 18- or 15-character id, or where the resource allows it an API name",
            ),
            "node" => (ObjectBuilder::new().schema_type(Type::String), "A node of the job (its id)"),
            "part" => (
                ObjectBuilder::new().schema_type(Type::String),
                "A saved version of the asset: a history (0Rm) or a dataset version (0Fc)",
            ),
            "object" => (ObjectBuilder::new().schema_type(Type::String), "A source object or sObject, by name"),
            _ => (ObjectBuilder::new().schema_type(Type::String), "A path segment"),
        };
        let parameter = ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Path)
            .required(Required::True)
            .description(Some(description))
            .schema(Some(schema))
            .build();
        parameters.insert(0, parameter.into());
    }
}

/// `dataflows.list`, not `list`: operation ids are unique in a document (client generators
/// name their methods after them), and a handler's name is unique only in its resource. A
/// handler of two methods (`dataPreview` answers GET and POST) names the second by its method.
fn name_uniquely(op: &mut Operation, method: &str, ids: &mut std::collections::HashSet<String>) {
    let tag = op.tags.as_ref().and_then(|t| t.first()).map(|t| t.replace(' ', "_"));
    if let (Some(tag), Some(id)) = (tag, op.operation_id.as_mut()) {
        *id = format!("{tag}.{id}");
        if !ids.insert(id.clone()) {
            *id = format!("{id}_{method}");
            ids.insert(id.clone());
        }
    }
}

/// Every answer has a description (OpenAPI requires one); a success answer without its own
/// says what it is.
fn describe_answers(op: &mut Operation) {
    for (status, answer) in op.responses.responses.iter_mut() {
        if let utoipa::openapi::RefOr::T(a) = answer
            && a.description.is_empty()
        {
            a.description = match status.as_str() {
                "201" => "Created",
                "204" => "Done; no body",
                _ => "OK",
            }
            .into();
        }
    }
}

/// Every operation may answer an error: a JSON array of `{errorCode, message}`.
fn add_error_answer(op: &mut Operation) {
    let errors = ResponseBuilder::new()
        .description("An error: the array of what is wrong (code, and a message naming the field or asset)")
        .content("application/json", ContentBuilder::new().schema(Some(Errors::schema())).build())
        .build();
    op.responses.responses.entry("default".into()).or_insert(errors.into());
}
