-- Dataset names are unique regardless of case too, as an org's API names are: `DfA_ds` and
-- `dfa_ds` would be two folders that collide on a file system that ignores case. Recording a
-- version names the dataset that holds the name; this index makes the rule hold when two
-- jobs race, on one server or on several sharing the database.
CREATE UNIQUE INDEX dataset_name_any_case ON dataset (lower(name));
