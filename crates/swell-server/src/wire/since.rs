//! [`Since`]: a field of a representation that orgs return from one API version on. The first
//! version is part of the field's type (`historiesUrl: Since<46, String>`), so it is declared
//! once, next to the field, and cannot name a field that does not exist (the string-keyed
//! gates it replaced could: a misspelt one gated nothing). The OpenAPI document says the
//! version in the field's description.
//!
//! Every `Since` field carries `#[serde(skip_serializing_if = "Since::absent")]` (an absent
//! field is left out, not `null`) and `#[schema(inline)]` (its schema is the value's, with
//! the note); golden tests at the boundary versions check both.

use crate::Version;
use serde::Serialize;
use utoipa::__dev::ComposeSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa::{PartialSchema, ToSchema};

/// A value shown from API version `N` on; absent below it.
#[derive(Debug, Clone, PartialEq)]
pub struct Since<const N: u32, T>(Option<T>);

impl<const N: u32, T> Since<N, T> {
    /// The first API version that shows the field.
    pub const FIRST: u32 = N;

    /// `value` when the request's version shows the field.
    pub fn at(v: &Version, value: T) -> Self {
        Since((v.major() >= N).then_some(value))
    }

    /// `value`, when there is one and the request's version shows the field.
    pub fn maybe(v: &Version, value: Option<T>) -> Self {
        Since(value.filter(|_| v.major() >= N))
    }

    /// Whether the field is left out (serde's `skip_serializing_if`).
    pub fn absent(&self) -> bool {
        self.0.is_none()
    }
}

impl<const N: u32, T: Serialize> Serialize for Since<N, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// The schema of the value, with "From API version N.0" as its description.
impl<const N: u32, T: PartialSchema> ComposeSchema for Since<N, T> {
    fn compose(generics: Vec<RefOr<Schema>>) -> RefOr<Schema> {
        let mut schema = generics.into_iter().next().unwrap_or_else(T::schema);
        let note = format!("From API version {N}.0.");
        match &mut schema {
            RefOr::T(Schema::Object(o)) => o.description = Some(note),
            RefOr::T(Schema::Array(a)) => a.description = Some(note),
            RefOr::T(Schema::OneOf(o)) => o.description = Some(note),
            RefOr::T(Schema::AllOf(o)) => o.description = Some(note),
            RefOr::T(Schema::AnyOf(o)) => o.description = Some(note),
            RefOr::Ref(r) => r.description = note,
            _ => {}
        }
        schema
    }
}

/// Named as its value: `#[schema(inline)]` on the field puts the schema in place.
impl<const N: u32, T: ToSchema> ToSchema for Since<N, T> {
    fn name() -> std::borrow::Cow<'static, str> {
        T::name()
    }

    fn schemas(out: &mut Vec<(String, RefOr<Schema>)>) {
        T::schemas(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Shape {
        #[serde(skip_serializing_if = "Since::absent")]
        late: Since<50, u32>,
    }

    #[test]
    fn a_field_is_left_out_below_its_first_version() {
        let at = |v: &str| serde_json::to_string(&Shape { late: Since::at(&Version(v.into()), 7) }).unwrap();
        assert_eq!(at("49.0"), "{}");
        assert_eq!(at("50.0"), r#"{"late":7}"#);
        assert_eq!(at("66.0"), r#"{"late":7}"#);
        let none = Shape { late: Since::maybe(&Version("66.0".into()), None) };
        assert_eq!(serde_json::to_string(&none).unwrap(), "{}");
    }
}
