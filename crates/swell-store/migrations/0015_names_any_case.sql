-- API names are unique regardless of case, as an org's are. The create checks first to name
-- the asset that holds the name; these indexes make the rule hold when two creates race, on
-- one server or on several sharing the database (an in-process lock could not).
CREATE UNIQUE INDEX dataflow_name_any_case ON dataflow (lower(name));
CREATE UNIQUE INDEX data_connector_name_any_case ON data_connector (lower(name));
