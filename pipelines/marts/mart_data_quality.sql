-- Rows read, loaded and quarantined per table, and quarantined rows per failed expectation.
-- Counts of rows, not of people: no disclosure control needed, and no values.
with accounting as (
    select * from load_accounting
),

quarantine_reasons as (
    select
        table_name,
        expectation_type,
        column_name,
        count(*) as n_rows
    from quarantine
    group by all
)

select
    a.table_name,
    a.rows_read,
    a.rows_loaded,
    a.rows_quarantined,
    a.rows_replaced_by_override,
    q.expectation_type,
    q.column_name,
    q.n_rows as rows_failing_expectation
from accounting as a
left join quarantine_reasons as q using (table_name)
order by a.table_name, q.expectation_type, q.column_name
