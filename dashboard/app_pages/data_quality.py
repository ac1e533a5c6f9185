"""Data quality: the last run, rows read/loaded/quarantined, failed expectations."""

import data
import polars as pl
import streamlit as st

db = str(data.publish_db_path())
m = data.manifest(db)

st.title("Data quality")
st.write(f"Last run **{m['run_id']}** finished {m['finished_at'] or ''} with status "
         f"**{m['status']}**.")
acc = pl.DataFrame(
    [{"table": t, **{k: v for k, v in a.items()}} for t, a in m["tables"].items()]
)
st.subheader("Rows per input table")
st.dataframe(acc, hide_index=True, width="stretch")
st.subheader("Quarantined rows by failed expectation")
q = data.query(db, "select table_name, expectation_type, column_name, rows_failing_expectation "
                   "from mart_data_quality where expectation_type is not null")
if q.is_empty():
    st.success("No row failed validation.")
else:
    st.dataframe(q, hide_index=True, width="stretch")
