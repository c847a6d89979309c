-- A recipe's notification settings (/wave/recipes/{id}/notification).
ALTER TABLE recipe ADD COLUMN notification_level TEXT;
ALTER TABLE recipe ADD COLUMN long_running_alert_mins BIGINT;
