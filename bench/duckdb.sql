-- The benchmark dataflow written as the SQL a DuckDB user would write, producing the same
-- rows and columns (including the date parts swell generates for CloseDate).
COPY (
  WITH o AS (
    SELECT Id, Name, AccountId, Amount, StageName, CAST(CloseDate AS TIMESTAMP) AS CloseDate, Probability
    FROM read_parquet('{objects}/Opportunity.parquet')
  ),
  a AS (SELECT Id, Name, Industry, Region FROM read_parquet('{objects}/Account.parquet')),
  j AS (
    SELECT o.*, a.Name AS "Account.Name", a.Industry AS "Account.Industry", a.Region AS "Account.Region"
    FROM o LEFT JOIN a ON o.AccountId = a.Id
  ),
  d AS (
    SELECT *,
      strftime(CloseDate, '%S') AS CloseDate_Second, strftime(CloseDate, '%M') AS CloseDate_Minute,
      strftime(CloseDate, '%H') AS CloseDate_Hour, strftime(CloseDate, '%d') AS CloseDate_Day,
      lpad(CAST(CAST(strftime(CloseDate, '%U') AS INTEGER)
        + CASE WHEN dayofweek(date_trunc('year', CloseDate)) = 0 THEN 0 ELSE 1 END AS VARCHAR), 2, '0') AS CloseDate_Week, strftime(CloseDate, '%m') AS CloseDate_Month,
      CAST(quarter(CloseDate) AS VARCHAR) AS CloseDate_Quarter, strftime(CloseDate, '%Y') AS CloseDate_Year,
      epoch(CloseDate) AS CloseDate_sec_epoch, floor(epoch(CloseDate) / 86400) AS CloseDate_day_epoch
    FROM j
  ),
  c AS (
    SELECT *,
      CASE WHEN StageName = 'Closed Won' THEN Amount WHEN StageName = 'Closed Lost' THEN 0
           ELSE Amount * Probability / 100 END AS Weighted,
      upper(substr("Account.Region", 1, 2)) || '-' || CloseDate_Year AS RegionYear,
      date_diff('day', CloseDate, TIMESTAMP '2025-01-01') AS Age
    FROM d
  ),
  f AS (SELECT * FROM c WHERE Amount > 1000 AND "Account.Industry" != 'Government')
  SELECT Id, Name, AccountId, CAST(Amount AS DECIMAL(18, 6)) AS Amount, StageName, CloseDate,
    CloseDate_Second, CloseDate_Minute, CloseDate_Hour, CloseDate_Day, CloseDate_Week, CloseDate_Month,
    CloseDate_Quarter, CloseDate_Year, CAST(CloseDate_sec_epoch AS DECIMAL(18, 0)) AS CloseDate_sec_epoch,
    CAST(CloseDate_day_epoch AS DECIMAL(18, 0)) AS CloseDate_day_epoch, CAST(Probability AS DECIMAL(18, 0)) AS Probability,
    "Account.Name", "Account.Industry", "Account.Region",
    CAST(Weighted AS DECIMAL(18, 2)) AS Weighted, RegionYear, CAST(Age AS DECIMAL(18, 0)) AS Age,
    CAST(lag(Amount) OVER (PARTITION BY AccountId ORDER BY CloseDate, Id) AS DECIMAL(18, 6)) AS PrevAmount
  FROM f
) TO '{out}' (FORMAT parquet, COMPRESSION snappy);
