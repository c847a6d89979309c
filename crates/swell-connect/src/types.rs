//! Connector types: the `connectorType` names of CRM Analytics that swell can sync, grouped
//! into families that share one connector, and the connection properties each expects (the
//! `/wave/dataConnectorTypes` resource).

/// The connector that serves a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Salesforce,
    Postgres,
    MySql,
    Files,
}

/// A connector type swell syncs, by its CRM Analytics name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectorType {
    name: &'static str,
    label: &'static str,
    family: Family,
}

const TYPES: &[ConnectorType] = &[
    ConnectorType { name: "SfdcLocal", label: "Salesforce (local org)", family: Family::Salesforce },
    ConnectorType { name: "SalesforceExternal", label: "Salesforce (external org)", family: Family::Salesforce },
    ConnectorType { name: "SalesforceSalesCloud", label: "Salesforce Sales Cloud", family: Family::Salesforce },
    ConnectorType { name: "SalesforceServiceCloud", label: "Salesforce Service Cloud", family: Family::Salesforce },
    ConnectorType { name: "AwsRdsPostgres", label: "Amazon RDS PostgreSQL", family: Family::Postgres },
    ConnectorType { name: "AwsRdsAuroraPostgres", label: "Amazon Aurora PostgreSQL", family: Family::Postgres },
    ConnectorType { name: "HerokuPostgres", label: "Heroku Postgres", family: Family::Postgres },
    ConnectorType { name: "AwsRdsMySQL", label: "Amazon RDS MySQL", family: Family::MySql },
    ConnectorType { name: "AwsRdsAuroraMySQL", label: "Amazon Aurora MySQL", family: Family::MySql },
    ConnectorType { name: "AwsRdsMariaDB", label: "Amazon RDS MariaDB", family: Family::MySql },
    ConnectorType { name: "AmazonS3", label: "Amazon S3 (CSV and Parquet files)", family: Family::Files },
];

/// Types CRM Analytics has that swell does not sync (yet): named in the error so that a user
/// knows the name is right and the support is missing.
const KNOWN_UNSUPPORTED: &[&str] = &[
    "ActCRM",
    "ActOn",
    "AdobeAnalytics",
    "AmazonAthena",
    "AmazonDynamoDB",
    "AmazonS3Output",
    "AwsMarketplace",
    "AwsRdsOracle",
    "AwsRdsSqlServer",
    "AzureCosmosDB",
    "AzureSqlDatabase",
    "AzureSqlDatawarehouse",
    "AzureTable",
    "Box",
    "Cassandra",
    "CdpDirect",
    "Dropbox",
    "GoogleAds",
    "GoogleAnalytics",
    "GoogleBigQuery",
    "GoogleBigQueryStandardSQL",
    "GoogleCloudStorage",
    "GoogleSheets",
    "GoogleSpanner",
    "IbmCloudSqlQuery",
    "LinkedIn",
    "MarkLogic",
    "Marketo",
    "MicrosoftAdvertising",
    "MicrosoftDynamics",
    "MongoDB",
    "NetSuite",
    "OracleEloqua",
    "Redshift",
    "SalesforceCPQ",
    "SalesforceCommunityCloud",
    "SalesforceEinsteinAnalytics",
    "SalesforceForceCom",
    "SalesforceMarketingCloud",
    "SalesforceOutput",
    "SalesforceReport",
    "SapConcur",
    "SapHana",
    "SapSuccessFactors",
    "ServiceNow",
    "SnowflakeComputing",
    "SnowflakeDirect",
    "SnowflakeOutput",
    "SugarCRM",
    "TableauHyperOutput",
    "Teradata",
    "VeevaVault",
    "Xactly",
    "Zendesk",
    "ZohoCRM",
    "ZuoraAQuA",
];

/// A connection property of a type (`connectionProperties` of `/wave/dataConnectorTypes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PropertySpec {
    pub name: &'static str,
    pub label: &'static str,
    /// `Text`, `Numeric` or `Boolean`.
    pub data_type: &'static str,
    pub default_value: Option<&'static str>,
    /// Secret: stored, never returned (`"******"`), never logged.
    pub encrypted: bool,
    pub required: bool,
}

const fn prop(name: &'static str, label: &'static str, required: bool) -> PropertySpec {
    PropertySpec { name, label, data_type: "Text", default_value: None, encrypted: false, required }
}

const fn secret(name: &'static str, label: &'static str, required: bool) -> PropertySpec {
    PropertySpec { name, label, data_type: "Text", default_value: None, encrypted: true, required }
}

const SALESFORCE: &[PropertySpec] = &[
    prop("instanceUrl", "Instance URL (https://MyDomain.my.salesforce.com)", false),
    secret("accessToken", "Access token (a session id)", false),
    secret("refreshToken", "OAuth refresh token (used when the access token expires)", false),
    prop("clientId", "Connected app consumer key (for the refresh token)", false),
    secret("clientSecret", "Connected app consumer secret", false),
    PropertySpec {
        name: "loginUrl",
        label: "Login URL for the refresh token",
        data_type: "Text",
        default_value: Some("https://login.salesforce.com"),
        encrypted: false,
        required: false,
    },
    PropertySpec {
        name: "apiVersion",
        label: "REST API version",
        data_type: "Text",
        default_value: Some(crate::salesforce::DEFAULT_API_VERSION),
        encrypted: false,
        required: false,
    },
    prop("FolderPath", "Offline stand-in for an org: a folder of OBJECT.csv / OBJECT.parquet files", false),
];

const POSTGRES: &[PropertySpec] = &[
    prop("host", "Host", true),
    PropertySpec {
        name: "port",
        label: "Port",
        data_type: "Numeric",
        default_value: Some("5432"),
        encrypted: false,
        required: false,
    },
    prop("database", "Database", true),
    PropertySpec {
        name: "schema",
        label: "Schema",
        data_type: "Text",
        default_value: Some("public"),
        encrypted: false,
        required: false,
    },
    prop("username", "User name", true),
    secret("password", "Password", false),
    PropertySpec {
        name: "sslMode",
        label: "SSL mode (disable, prefer, require)",
        data_type: "Text",
        default_value: Some("prefer"),
        encrypted: false,
        required: false,
    },
];

const MYSQL: &[PropertySpec] = &[
    prop("host", "Host", true),
    PropertySpec {
        name: "port",
        label: "Port",
        data_type: "Numeric",
        default_value: Some("3306"),
        encrypted: false,
        required: false,
    },
    prop("database", "Database", true),
    prop("username", "User name", true),
    secret("password", "Password", false),
];

const FILES: &[PropertySpec] = &[
    prop(
        "FolderPath",
        "bucket/prefix (or a local folder) of OBJECT.csv / OBJECT.parquet files or OBJECT/ folders",
        true,
    ),
    prop("RegionName", "Region (S3 buckets)", false),
    prop("Endpoint", "S3-compatible endpoint instead of AWS (MinIO, Ceph; http allowed)", false),
    secret("AccessKey", "Access key (S3 buckets)", false),
    secret("SecretKey", "Secret key (S3 buckets)", false),
    secret("MasterSymmetricKey", "Master symmetric key (S3 buckets)", false),
];

impl ConnectorType {
    /// Reads a `connectorType` in any case; unknown and unsupported names get their own message.
    pub fn parse(name: &str) -> Result<ConnectorType, String> {
        if let Some(t) = TYPES.iter().find(|t| t.name.eq_ignore_ascii_case(name)) {
            return Ok(*t);
        }
        let supported: Vec<&str> = TYPES.iter().map(|t| t.name).collect();
        if let Some(known) = KNOWN_UNSUPPORTED.iter().find(|t| t.eq_ignore_ascii_case(name)) {
            return Err(format!(
                "connector type '{known}' is not supported by swell; supported types: {}",
                supported.join(", ")
            ));
        }
        Err(format!("unknown connector type '{name}'; supported types: {}", supported.join(", ")))
    }

    pub fn all() -> &'static [ConnectorType] {
        TYPES
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn label(&self) -> &'static str {
        self.label
    }

    pub fn family(&self) -> Family {
        self.family
    }

    /// The local Salesforce connection (`SFDC_LOCAL`): its sync raises the event that
    /// `$ALL_SALESFORCE_OBJECTS` schedules wait for.
    pub fn is_local_salesforce(&self) -> bool {
        self.name == "SfdcLocal"
    }

    pub fn properties(&self) -> &'static [PropertySpec] {
        match self.family {
            Family::Salesforce => SALESFORCE,
            Family::Postgres => POSTGRES,
            Family::MySql => MYSQL,
            Family::Files => FILES,
        }
    }

    /// Whether a property holds a secret. Unknown names that look like secrets count too, so
    /// that a misspelt `Password` is still masked.
    pub fn is_secret(&self, property: &str) -> bool {
        if let Some(p) = self.properties().iter().find(|p| p.name.eq_ignore_ascii_case(property)) {
            return p.encrypted;
        }
        let lower = property.to_ascii_lowercase();
        ["password", "secret", "token", "key"].iter().any(|w| lower.contains(w))
    }

    /// `associatedCategories` of the type.
    pub fn categories(&self) -> &'static [&'static str] {
        match self.family {
            Family::Files => &["BatchRead", "FileBased"],
            _ => &["BatchRead", "FilterSupport"],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_in_any_case_and_names_what_is_missing() {
        assert_eq!(ConnectorType::parse("awsrdspostgres").unwrap().name(), "AwsRdsPostgres");
        assert_eq!(ConnectorType::parse("SfdcLocal").unwrap().family(), Family::Salesforce);
        let e = ConnectorType::parse("Snowflakecomputing").unwrap_err();
        assert!(e.contains("'SnowflakeComputing' is not supported"), "{e}");
        let e = ConnectorType::parse("Postgress").unwrap_err();
        assert!(e.starts_with("unknown connector type 'Postgress'"), "{e}");
    }

    #[test]
    fn secrets_are_known_and_guessed() {
        let pg = ConnectorType::parse("HerokuPostgres").unwrap();
        assert!(pg.is_secret("password"));
        assert!(pg.is_secret("PASSWORD"));
        assert!(!pg.is_secret("host"));
        assert!(pg.is_secret("api_secret_value"));
    }
}
