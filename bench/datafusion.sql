-- The benchmark dataflow written as plain DataFusion SQL (the engine's own limit, run by
-- crates/swell-engine/examples/sql.rs on the engine's session settings); the same rows as
-- bench/duckdb.sql, which the script checks.
COPY (
  WITH o AS (
    SELECT "Id", "Name", "AccountId", "Amount", "StageName", CAST("CloseDate" AS TIMESTAMP) AS "CloseDate", "Probability"
    FROM "Opportunity"
  ),
  a AS (SELECT "Id", "Name", "Industry", "Region" FROM "Account"),
  j AS (
    SELECT o.*, a."Name" AS "Account.Name", a."Industry" AS "Account.Industry", a."Region" AS "Account.Region"
    -- written as a right join so that the 1M accounts are the hash table, as swell's augment
    -- builds it (the session turns join reordering off, so the written side is kept)
    FROM a RIGHT JOIN o ON o."AccountId" = a."Id"
  ),
  d AS (
    SELECT *,
      to_char("CloseDate", '%S') AS "CloseDate_Second", to_char("CloseDate", '%M') AS "CloseDate_Minute",
      to_char("CloseDate", '%H') AS "CloseDate_Hour", to_char("CloseDate", '%d') AS "CloseDate_Day",
      lpad(CAST(CAST(to_char("CloseDate", '%U') AS INT)
        + CASE WHEN date_part('dow', date_trunc('year', "CloseDate")) = 0 THEN 0 ELSE 1 END AS VARCHAR), 2, '0') AS "CloseDate_Week",
      to_char("CloseDate", '%m') AS "CloseDate_Month",
      CAST(CAST(date_part('quarter', "CloseDate") AS INT) AS VARCHAR) AS "CloseDate_Quarter", to_char("CloseDate", '%Y') AS "CloseDate_Year",
      date_part('epoch', "CloseDate") AS "CloseDate_sec_epoch", floor(date_part('epoch', "CloseDate") / 86400) AS "CloseDate_day_epoch"
    FROM j
  ),
  c AS (
    SELECT *,
      CASE WHEN "StageName" = 'Closed Won' THEN "Amount" WHEN "StageName" = 'Closed Lost' THEN 0
           ELSE "Amount" * "Probability" / 100 END AS "Weighted",
      upper(substr("Account.Region", 1, 2)) || '-' || "CloseDate_Year" AS "RegionYear",
      floor((1735689600 - date_part('epoch', "CloseDate")) / 86400) AS "Age"
    FROM d
  ),
  f AS (SELECT * FROM c WHERE "Amount" > 1000 AND "Account.Industry" != 'Government')
  SELECT "Id", "Name", "AccountId", CAST("Amount" AS DECIMAL(18, 6)) AS "Amount", "StageName", "CloseDate",
    "CloseDate_Second", "CloseDate_Minute", "CloseDate_Hour", "CloseDate_Day", "CloseDate_Week", "CloseDate_Month",
    "CloseDate_Quarter", "CloseDate_Year", CAST("CloseDate_sec_epoch" AS DECIMAL(18, 0)) AS "CloseDate_sec_epoch",
    CAST("CloseDate_day_epoch" AS DECIMAL(18, 0)) AS "CloseDate_day_epoch", CAST("Probability" AS DECIMAL(18, 0)) AS "Probability",
    "Account.Name", "Account.Industry", "Account.Region",
    CAST("Weighted" AS DECIMAL(18, 2)) AS "Weighted", "RegionYear", CAST("Age" AS DECIMAL(18, 0)) AS "Age",
    CAST(lag("Amount") OVER (PARTITION BY "AccountId" ORDER BY "CloseDate", "Id") AS DECIMAL(18, 6)) AS "PrevAmount"
  FROM f
) TO '{out}' STORED AS PARQUET
