"""Overview: participants, housed and stably housed per municipality (disclosure-controlled)."""

import data
import polars as pl
import streamlit as st

db = str(data.publish_db_path())
m = data.manifest(db)
threshold = m["parameters"]["disclosure.threshold"]

st.title("Housing First: overview")
st.write(
    "Participants enrolled, housed, and in their own or supported home at the data extraction "
    "date, by municipality and arm. Retention curves and costs follow in later versions."
)
df = data.query(db, "select * from mart_overview_by_municipality order by country, "
                    "municipality_code, arm")
shown = df.select(
    pl.col("country"),
    pl.col("municipality_name").alias("municipality"),
    pl.col("arm").str.replace("_", " "),
    *[
        pl.when(pl.col(f"{c}_suppressed")).then(pl.lit("suppressed"))
        .otherwise(pl.col(c).cast(pl.String)).alias(label)
        for c, label in [
            ("n_participants", "participants"),
            ("n_housed", "housed"),
            ("n_stably_housed_at_extraction", "stably housed now"),
        ]
    ],
)
st.dataframe(shown, hide_index=True, width="stretch")
st.caption(
    f"Counts of 1–{threshold} people are suppressed; other counts are rounded to the nearest "
    f"{m['parameters']['disclosure.rounding_base']}."
)
