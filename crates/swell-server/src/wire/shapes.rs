//! The small shapes that many representations share: the user, a reference to another
//! asset, a time, the error entry, the license. Each representation is typed in the file of
//! its resource (`resources/`); the OpenAPI document is generated from those types.

use chrono::{DateTime, Utc};
use serde::Serialize;
use swell_app::{Actor, ErrorCode};
use swell_core::SalesforceId;
use swell_store::UserRef;
use utoipa::ToSchema;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};

/// The picture every user shows: swell keeps no photos (orgs give a URL string here).
pub const PROFILE_PHOTO: &str = "/img/userprofile/default_profile_45_v2.png";

/// A user as representations show it (`WaveUser`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WaveUser {
    pub id: String,
    pub name: String,
    pub profile_photo_url: String,
}

impl WaveUser {
    pub fn of(actor: &Actor) -> Self {
        WaveUser { id: actor.id.to_string(), name: actor.name.clone(), profile_photo_url: PROFILE_PHOTO.into() }
    }

    /// A user a record names (who made or changed it, who started a job).
    pub fn named(u: &UserRef) -> Self {
        WaveUser { id: u.id.to_string(), name: u.name.clone(), profile_photo_url: PROFILE_PHOTO.into() }
    }
}

/// Who made an asset and when, and who changed it last: the base asset fields of every stored
/// asset (datasets and their versions, dataflows, recipes, connections, connected objects).
/// Representations flatten it, so that the rule lives here once.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Audit {
    pub created_by: WaveUser,
    pub created_date: Timestamp,
    pub last_modified_by: WaveUser,
    pub last_modified_date: Timestamp,
}

impl Audit {
    /// The fields of an asset `created` by a user at a time and last `modified` by one at a
    /// time. A change never reads as older than the creation: a recipe's dates come from two
    /// records written a moment apart.
    pub fn new(created: (&UserRef, &DateTime<Utc>), modified: (&UserRef, &DateTime<Utc>)) -> Self {
        Audit {
            created_by: WaveUser::named(created.0),
            created_date: Timestamp::from(created.1),
            last_modified_by: WaveUser::named(modified.0),
            last_modified_date: Timestamp::from((*modified.1).max(*created.1)),
        }
    }
}

/// An instant as orgs write it: ISO-8601 in UTC with milliseconds (`2026-12-01T09:30:00.000Z`).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(value_type = String, format = DateTime)]
pub struct Timestamp(String);

impl From<&DateTime<Utc>> for Timestamp {
    fn from(t: &DateTime<Utc>) -> Self {
        Timestamp(swell_core::dates::to_wire(t))
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(t: DateTime<Utc>) -> Self {
        Timestamp::from(&t)
    }
}

/// A reference to another asset: `{id, name?, url?}` (a dataflow of a job, the dataset of a
/// version, the connection of a source object).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssetRef {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl AssetRef {
    pub fn new(id: &SalesforceId) -> Self {
        AssetRef { id: id.to_string(), name: None, kind: None, url: None }
    }

    pub fn named(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }

    pub fn kind(mut self, kind: &str) -> Self {
        self.kind = Some(kind.to_string());
        self
    }

    pub fn url(mut self, url: String) -> Self {
        self.url = Some(url);
        self
    }
}

/// What the acting user may do with an asset (`Permissions` of the base asset), by their role.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Permissions {
    pub create: bool,
    pub manage: bool,
    pub modify: bool,
    pub view: bool,
}

impl Permissions {
    /// What `actor` may do with an asset of `kind`, by their role (swell-app decides).
    pub fn of(actor: &Actor, kind: swell_app::Asset) -> Permissions {
        let a = actor.allowed(kind);
        Permissions { create: a.create, manage: a.manage, modify: a.modify, view: true }
    }
}

/// The license an asset runs under; every swell asset runs as CRM Analytics does.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LicenseAttributes {
    #[serde(rename = "type")]
    pub kind: &'static str,
}

impl LicenseAttributes {
    pub const ANALYTICS: LicenseAttributes = LicenseAttributes { kind: "einsteinanalytics" };
}

/// One entry of an error answer: every error is a JSON array of them
/// (`swell_app::ApiError` writes it; its codes are the one table of `swell_app::ErrorCode`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorEntry {
    pub error_code: String,
    pub message: String,
}

impl utoipa::PartialSchema for ErrorEntry {
    fn schema() -> RefOr<Schema> {
        let codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.wire()).collect();
        ObjectBuilder::new()
            .property("errorCode", ObjectBuilder::new().schema_type(Type::String).enum_values(Some(codes)))
            .required("errorCode")
            .property("message", ObjectBuilder::new().schema_type(Type::String))
            .required("message")
            .into()
    }
}

impl ToSchema for ErrorEntry {}

/// The body of every error answer.
pub struct Errors;

impl utoipa::PartialSchema for Errors {
    fn schema() -> RefOr<Schema> {
        ArrayBuilder::new()
            .items(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("ErrorEntry")))
            .min_items(Some(1))
            .into()
    }
}

impl ToSchema for Errors {
    fn schemas(out: &mut Vec<(String, RefOr<Schema>)>) {
        out.push(("ErrorEntry".into(), <ErrorEntry as utoipa::PartialSchema>::schema()));
    }
}

pub use swell_core::openapi::one_of;
