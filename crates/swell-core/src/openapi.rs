//! Helpers of the OpenAPI schemas that the typed wire shapes declare (feature `openapi`,
//! enabled by swell-server, which generates the document).

use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

/// The schema of a text that is one of `words` (an enum of the API).
pub fn one_of(words: impl IntoIterator<Item = &'static str>) -> Object {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(words.into_iter().collect::<Vec<_>>())).build()
}
