"""The synthetic demo data: deterministic, contract-shaped, calibrated, scalable, realistic files.

Assert messages name tables, columns and counts only, never values of a row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import numpy as np
import openpyxl
import polars as pl
import pytest
import yaml

from hfeval import contract as c
from hfeval import pipeline, synth
from hfeval.config import get_paths
from hfeval.synth import (
    ASSUMPTIONS,
    CALIBRATION,
    SynthConfig,
    demo_cohort_sizes,
    generate,
    generate_tables,
)

PERSON_TABLES = ("housing_spells", "service_use", "support_contacts", "quality_of_life")
NO_SOURCES = ("lindesnes", "sandnes", "hamar")
DK_SOURCES = ("randers", "odense")
DTYPES = {"VARCHAR": pl.String, "INTEGER": pl.Int32, "DOUBLE": pl.Float64, "DATE": pl.Date,
          "BOOLEAN": pl.Boolean}


class Tables(dict):
    """Tables whose repr never shows rows (pytest prints fixture values on failure)."""

    def __repr__(self) -> str:
        return f"<{len(self)} synthetic tables>"


@pytest.fixture(scope="module")
def contract_tables() -> Tables:
    return Tables(generate_tables(SynthConfig(style="contract")))


@pytest.fixture(scope="module")
def demo_tables() -> Tables:
    return Tables(generate_tables(SynthConfig()))


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    generate(out, SynthConfig())
    return out


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _extraction(code: str) -> dt.date:
    return dt.date.fromisoformat(CALIBRATION[code]["extraction_date"]["value"])


def _with_municipality(df: pl.DataFrame, participants: pl.DataFrame) -> pl.DataFrame:
    return df.join(participants.select("participant_id", "municipality_code", "arm",
                                       "enrolment_date"), on="participant_id")


# ---- determinism --------------------------------------------------------------------------------


@pytest.mark.parametrize("style,fmt", [("contract", "parquet"), ("contract", "csv"),
                                       ("municipal", "csv")])
def test_same_seed_and_config_give_byte_identical_files(tmp_path, style, fmt):
    config = SynthConfig(seed=7, participants=300, style=style, file_format=fmt)
    generate(tmp_path / "a", config)
    generate(tmp_path / "b", config)
    assert _hashes(tmp_path / "a") == _hashes(tmp_path / "b")


def test_a_different_seed_gives_different_files(tmp_path):
    generate(tmp_path / "a", SynthConfig(seed=1, participants=300, style="contract"))
    generate(tmp_path / "b", SynthConfig(seed=2, participants=300, style="contract"))
    a, b = _hashes(tmp_path / "a"), _hashes(tmp_path / "b")
    changed = [name for name in a if name.endswith(".csv") and a[name] != b[name]]
    assert len(changed) == 6


# ---- contract shape -----------------------------------------------------------------------------


@pytest.mark.parametrize("table", c.INPUT_TABLES)
def test_every_table_has_exactly_the_contract_columns_and_types(contract_tables, table):
    df = contract_tables[table]
    expected = {col.name: DTYPES[col.dtype] for col in c.table(table).columns}
    schema = dict(df.schema)
    rows = df.height
    assert schema == expected
    assert rows > 0


@pytest.mark.parametrize("table", c.INPUT_TABLES)
def test_coded_columns_hold_only_contract_codes(contract_tables, table):
    df = contract_tables[table]
    for col in c.table(table).columns:
        if col.codes is not None:
            bad = df.filter(pl.col(col.name).is_not_null()
                            & ~pl.col(col.name).is_in(col.codes)).height
            assert bad == 0, f"{table}.{col.name}: {bad} rows outside the code list"


@pytest.mark.parametrize("table", c.INPUT_TABLES)
def test_required_columns_are_never_null(contract_tables, table):
    df = contract_tables[table]
    for name in c.table(table).required_columns:
        nulls = df[name].null_count()
        assert nulls == 0, f"{table}.{name}: {nulls} nulls in a required column"


@pytest.mark.parametrize("table", c.INPUT_TABLES)
def test_values_lie_within_the_contract_ranges(demo_tables, table):
    df = demo_tables[table]
    if "participant_id" in df.columns:
        df = _with_municipality(df, demo_tables["participants"]) if table != "participants" \
            else df
    extraction = pl.col("municipality_code").replace_strict(
        {code: _extraction(code) for code in CALIBRATION}, return_dtype=pl.Date)
    for col in c.table(table).columns:
        for bound, keep in ((col.min_value, "min"), (col.max_value, "max")):
            if bound is None:
                continue
            if bound == c.EXTRACTION:
                limit = extraction
            elif col.dtype == "DATE":
                limit = pl.lit(dt.date.fromisoformat(str(bound)))
            else:
                limit = pl.lit(bound)
            out = pl.col(col.name) < limit if keep == "min" else pl.col(col.name) > limit
            bad = df.filter(out).height
            assert bad == 0, f"{table}.{col.name}: {bad} rows beyond the {keep} of the contract"


@pytest.mark.parametrize("table", [t for t in c.INPUT_TABLES if c.table(t).primary_key])
def test_primary_keys_are_unique(contract_tables, table):
    key = list(c.table(table).primary_key)
    df = contract_tables[table]
    duplicated = int(df.select(key).is_duplicated().sum())
    assert duplicated == 0


def test_every_foreign_key_resolves(contract_tables):
    ids = contract_tables["participants"]["participant_id"]
    for table in PERSON_TABLES:
        orphans = contract_tables[table].filter(
            ~pl.col("participant_id").is_in(ids.implode())).height
        assert orphans == 0, f"{table}: {orphans} rows without a participant"
    for table in ("participants", "programme_costs"):
        unknown = contract_tables[table].filter(
            ~pl.col("municipality_code").is_in(list(CALIBRATION))).height
        assert unknown == 0, f"{table}: {unknown} rows with unknown municipality codes"


def test_participant_ids_are_marked_synthetic(contract_tables):
    ids = contract_tables["participants"]["participant_id"]
    not_synthetic = int((~ids.str.contains(r"^SYN-(NO|DK)\d{3,4}-\d{6}$")).sum())
    assert not_synthetic == 0


def test_housing_spells_start_no_later_than_they_end(contract_tables):
    bad = contract_tables["housing_spells"].filter(
        pl.col("end_date") < pl.col("start_date")).height
    assert bad == 0


def test_housing_spells_of_one_person_never_overlap(contract_tables):
    spells = contract_tables["housing_spells"].sort("participant_id", "start_date")
    prev_end = pl.col("end_date").shift(1).over("participant_id")
    prev_open = pl.col("end_date").is_null().shift(1).over("participant_id")
    overlaps = spells.filter((pl.col("start_date") < prev_end)
                             | prev_open.fill_null(False)).height
    assert overlaps == 0


def test_only_the_last_spell_of_a_person_is_open(contract_tables):
    spells = contract_tables["housing_spells"].sort("participant_id", "start_date")
    is_last = pl.col("start_date") == pl.col("start_date").max().over("participant_id")
    open_not_last = spells.filter(pl.col("end_date").is_null() & ~is_last).height
    open_with_reason = spells.filter(pl.col("end_date").is_null()
                                     & pl.col("end_reason").is_not_null()).height
    assert open_not_last == 0
    assert open_with_reason == 0


def test_nothing_happens_to_a_person_after_death(contract_tables):
    deaths = (contract_tables["housing_spells"].filter(pl.col("end_reason") == "death")
              .select("participant_id", death=pl.col("end_date")))
    n_deaths = deaths.height
    assert n_deaths > 0
    for table, date_col in (("housing_spells", "start_date"), ("service_use", "start_date"),
                            ("support_contacts", "contact_date"),
                            ("quality_of_life", "assessment_date")):
        late = contract_tables[table].join(deaths, on="participant_id").filter(
            pl.col(date_col) > pl.col("death")).height
        assert late == 0, f"{table}: {late} rows after death"


def test_consecutive_nights_of_one_person_in_one_service_merge_into_one_stay():
    shelter, temporary = c.SERVICE.index("shelter"), c.SERVICE.index("temporary_accommodation")
    # person, first night, last night (day numbers), service
    nights = [(0, 10, 12, shelter), (0, 13, 14, shelter),  # consecutive: one stay
              (0, 16, 16, shelter),  # a night's gap: a new stay
              (0, 17, 19, temporary),  # another service: a new stay
              (1, 15, 15, shelter)]  # another person
    expected = [(0, shelter, 10, 15, 5.0), (0, shelter, 16, 17, 1.0),
                (0, temporary, 17, 20, 3.0), (1, shelter, 15, 16, 1.0)]
    person, first, last, service = (np.array(col) for col in zip(*nights, strict=True))
    stays = synth._night_stays(person, first, last, service)
    got = list(zip(*(a.tolist() for a in stays), strict=True))
    assert got == expected


def test_shelter_and_temporary_accommodation_are_stays_that_count_their_nights(
        contract_tables):
    stays = contract_tables["service_use"].filter(
        pl.col("service").is_in(["shelter", "temporary_accommodation"]))
    nights = (pl.col("end_date") - pl.col("start_date")).dt.total_days()
    n_stays = stays.height
    not_night = stays.filter(pl.col("unit") != "night").height
    open_or_empty = stays.filter(pl.col("end_date").is_null() | (nights < 1)).height
    miscounted = stays.filter(pl.col("quantity") != nights).height
    assert n_stays > 0
    assert not_night == 0
    assert open_or_empty == 0
    assert miscounted == 0


def test_stays_end_no_earlier_than_they_start_and_count_at_least_one_unit(contract_tables):
    stays = contract_tables["service_use"].filter(pl.col("end_date").is_not_null())
    days = (pl.col("end_date") - pl.col("start_date")).dt.total_days()
    backwards = stays.filter(days < 0).height
    miscounted = stays.filter(pl.col("quantity") != pl.max_horizontal(days, 1)).height
    assert backwards == 0
    assert miscounted == 0


def test_night_stays_of_one_person_neither_overlap_nor_touch_in_the_same_service(
        contract_tables):
    stays = (contract_tables["service_use"].filter(pl.col("unit") == "night")
             .sort("participant_id", "start_date", "service"))
    prev_end = pl.col("end_date").shift(1).over("participant_id")
    overlapping = stays.filter(pl.col("start_date") < prev_end).height
    same_service = stays.sort("participant_id", "service", "start_date")
    prev_end_same = pl.col("end_date").shift(1).over("participant_id", "service")
    unmerged = same_service.filter(pl.col("start_date") <= prev_end_same).height
    assert overlapping == 0
    assert unmerged == 0


# ---- calibration --------------------------------------------------------------------------------


def test_demo_cohort_sizes_match_the_calibration(demo_tables):
    counts = demo_tables["participants"].group_by("municipality_code", "arm").len()
    got = {(code, arm): n for code, arm, n in counts.iter_rows()}
    expected = demo_cohort_sizes()
    assert got == {(code, arm): n for code, arms in expected.items() for arm, n in arms.items()}
    assert expected["4205"]["housing_first"] == 30  # 8 from January 2014, then ~10 a year
    assert expected["1108"]["housing_first"] == 14
    assert expected["461"]["housing_first"] == 317


def test_mandal_starts_in_january_2014_with_eight_participants(demo_tables):
    hf = demo_tables["participants"].filter(
        (pl.col("municipality_code") == "4205") & (pl.col("arm") == "housing_first"))
    month = pl.col("enrolment_date").dt.strftime("%Y-%m")
    earlier = hf.filter(month < "2014-01").height
    in_january = hf.filter(month == "2014-01").height
    assert earlier == 0
    assert in_january == 8


def test_comparison_arms_are_about_half_the_housing_first_cohorts():
    for code, arms in demo_cohort_sizes().items():
        ratio = arms["comparison"] / arms["housing_first"]
        assert 0.4 <= ratio <= 0.6, f"municipality {code}: comparison/HF ratio {ratio:.2f}"


def _retention_12m(tables: dict[str, pl.DataFrame], code: str, arm: str) -> float:
    """Share of those housed who have not lost their first tenancy 365 days after move-in
    (moves between flats are not losses; death is)."""
    who = tables["participants"].filter(
        (pl.col("municipality_code") == code) & (pl.col("arm") == arm)).select("participant_id")
    stable = tables["housing_spells"].join(who, on="participant_id").filter(
        pl.col("housing_type").is_in(c.STABLE_HOUSING_TYPES))
    move_in = stable.group_by("participant_id").agg(move_in=pl.col("start_date").min())
    lost = (stable.join(move_in, on="participant_id")
            .filter(pl.col("end_reason").is_not_null()
                    & ~pl.col("end_reason").is_in(["moved_within_programme", "voluntary_move"])
                    & (pl.col("end_date") < pl.col("move_in") + pl.duration(days=365)))
            .select("participant_id").unique())
    return 1 - lost.height / move_in.height


@pytest.mark.parametrize("code", list(CALIBRATION))
def test_twelve_month_retention_is_within_ten_points_of_the_target(demo_tables, code):
    target = CALIBRATION[code]["retention_12m_hf"]["value"]
    got = _retention_12m(demo_tables, code, "housing_first")
    assert abs(got - target) <= 0.10, f"municipality {code}: {got:.2f} vs target {target:.2f}"


def test_comparison_group_keeps_housing_less_often_than_housing_first(demo_tables):
    for code in CALIBRATION:
        hf = _retention_12m(demo_tables, code, "housing_first")
        comp = _retention_12m(demo_tables, code, "comparison")
        assert comp < hf, f"municipality {code}"


def test_housing_first_is_housed_much_faster_than_the_comparison(demo_tables):
    spells = _with_municipality(demo_tables["housing_spells"], demo_tables["participants"])
    days = (spells.filter(pl.col("housing_type").is_in(c.STABLE_HOUSING_TYPES))
            .group_by("participant_id", "arm")
            .agg(days=(pl.col("start_date").min() - pl.col("enrolment_date").first())
                 .dt.total_days()))
    median = dict(days.group_by("arm").agg(pl.col("days").median()).iter_rows())
    assert median["housing_first"] <= 90
    assert median["comparison"] >= 2 * median["housing_first"]


def test_most_mandal_participants_leave_temporary_housing_within_two_months(demo_tables):
    spells = _with_municipality(demo_tables["housing_spells"], demo_tables["participants"])
    first = (spells.filter((pl.col("municipality_code") == "4205")
                           & (pl.col("arm") == "housing_first"))
             .sort("start_date").group_by("participant_id").first())
    share = float(((first["end_date"] - first["start_date"]).dt.total_days() <= 61).mean())
    assert share >= 0.6


def _before_after(tables: dict[str, pl.DataFrame], nights: bool) -> pl.DataFrame:
    """Events (rows) or nights (quantity of the stays) per person in the 24 months before and
    after move-in (HF) or enrolment."""
    p = tables["participants"]
    move_in = (tables["housing_spells"].filter(pl.col("housing_type")
                                              .is_in(c.STABLE_HOUSING_TYPES))
               .group_by("participant_id").agg(move_in=pl.col("start_date").min()))
    people = p.join(move_in, on="participant_id", how="left").with_columns(
        anchor=pl.when(pl.col("arm") == "housing_first").then(pl.col("move_in"))
        .otherwise(pl.col("enrolment_date")))
    extraction = pl.col("municipality_code").replace_strict(
        {code: _extraction(code) for code in CALIBRATION}, return_dtype=pl.Date)
    people = people.filter(pl.col("anchor").is_not_null()
                           & (pl.col("anchor") + pl.duration(days=730) <= extraction))
    use = tables["service_use"].filter((pl.col("unit") == "night") == nights)
    window = (pl.col("start_date") - pl.col("anchor")).dt.total_days()
    amount = pl.col("quantity") if nights else pl.lit(1.0)
    counted = (people.select("participant_id", "arm", "anchor")
               .join(use, on="participant_id", how="left")
               .with_columns(before=amount * window.is_between(-730, -1),
                             after=amount * window.is_between(0, 729))
               .group_by("participant_id", "arm")
               .agg(before=pl.col("before").sum(), after=pl.col("after").sum()))
    return counted.group_by("arm").agg(pl.col("before").mean(), pl.col("after").mean())


@pytest.mark.parametrize("nights", [False, True], ids=["events", "nights"])
def test_housing_first_uses_fewer_services_after_move_in_than_before(demo_tables, nights):
    means = {row["arm"]: row for row in _before_after(demo_tables, nights).iter_rows(named=True)}
    hf = means["housing_first"]
    assert hf["after"] < hf["before"]


def test_comparison_group_also_uses_somewhat_fewer_services_after_but_falls_less(demo_tables):
    means = {row["arm"]: row for row in _before_after(demo_tables, False).iter_rows(named=True)}
    hf, comp = means["housing_first"], means["comparison"]
    assert comp["after"] < comp["before"]  # regression to the mean
    assert comp["after"] / comp["before"] > hf["after"] / hf["before"]


def test_mansa_improves_about_half_a_point_for_housing_first_and_less_for_comparison(
        demo_tables):
    items = [name for name, _ in c.MANSA_ITEMS]
    qol = _with_municipality(demo_tables["quality_of_life"], demo_tables["participants"])
    mean = (qol.filter(pl.col("wave").is_in([0, 3]))
            .with_columns(score=pl.mean_horizontal(items))
            .group_by("arm", "wave").agg(pl.col("score").mean()))
    m = {(arm, wave): s for arm, wave, s in mean.iter_rows()}
    hf_gain = m[("housing_first", 3)] - m[("housing_first", 0)]
    comp_gain = m[("comparison", 3)] - m[("comparison", 0)]
    assert 0.3 <= hf_gain <= 0.8
    assert comp_gain < hf_gain


def test_some_mansa_items_are_missing(demo_tables):
    qol = demo_tables["quality_of_life"]
    missing, rows = qol["mansa_05_leisure"].null_count(), qol.height
    assert 0 < missing < 0.1 * rows


def test_hf_team_makes_about_one_home_visit_a_week(demo_tables):
    p = demo_tables["participants"].filter(pl.col("support_model") == "HF-team")
    visits = demo_tables["support_contacts"].join(p.select("participant_id"), on="participant_id")
    first_year = visits.join(p.select("participant_id", "enrolment_date"), on="participant_id")
    first_year = first_year.filter(
        (pl.col("contact_date") - pl.col("enrolment_date")).dt.total_days() < 365)
    per_week = first_year.filter(pl.col("contact_type") == "home_visit").height / (p.height * 52)
    assert 0.8 <= per_week <= 1.8


def test_cti_support_ends_within_a_year_of_move_in(demo_tables):
    p = demo_tables["participants"].filter(pl.col("support_model") == "CTI")
    last = (demo_tables["support_contacts"].join(p.select("participant_id", "enrolment_date"),
                                                 on="participant_id")
            .group_by("participant_id")
            .agg(days=(pl.col("contact_date").max() - pl.col("enrolment_date").first())
                 .dt.total_days()))
    n_cti = last.height
    too_long = last.filter(pl.col("days") > 180 + 300).height  # max days to housing + 9 months
    assert n_cti > 0
    assert too_long == 0


def test_programme_costs_use_local_currency_and_mandal_has_six_fte(demo_tables):
    costs = demo_tables["programme_costs"]
    currency = dict(costs.select("municipality_code", "currency").unique().iter_rows())
    assert currency == {"4205": "NOK", "1108": "NOK", "3403": "NOK", "730": "DKK", "461": "DKK"}
    staff = costs.filter((pl.col("cost_item") == "staff") & (pl.col("municipality_code") == "4205"))
    not_six = staff.filter(pl.col("fte") != 6.0).height
    items = sorted(costs["cost_item"].unique().to_list())
    assert not_six == 0
    assert items == ["administration", "housing_subsidy", "staff"]


def test_hamar_operations_cost_about_four_million_kroner_a_year(demo_tables):
    hamar = demo_tables["programme_costs"].filter(
        (pl.col("municipality_code") == "3403") & (pl.col("year") == 2015)
        & pl.col("cost_item").is_in(["staff", "administration"]))
    total = hamar["amount"].sum()
    assert 3.7e6 <= total <= 4.5e6


def test_every_calibration_fact_names_its_source():
    for facts in (*CALIBRATION.values(), ASSUMPTIONS):
        for name, fact in facts.items():
            assert set(fact) == {"value", "source"}, name
            assert fact["source"], name


# ---- scaling ------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [137, 721])
def test_scaling_up_to_the_demo_size_gives_the_requested_number_in_the_five(n):
    p = generate_tables(SynthConfig(participants=n, style="contract"))["participants"]
    total, municipalities = p.height, p["municipality_code"].n_unique()
    assert total == n
    assert municipalities == 5


def test_scaling_beyond_the_demo_size_gives_the_requested_number_in_more_municipalities():
    p = generate_tables(SynthConfig(participants=2000, style="contract"))["participants"]
    total, municipalities = p.height, p["municipality_code"].n_unique()
    assert total == 2000
    assert municipalities > 5


def test_service_rows_project_to_ten_to_sixteen_million_at_national_scale():
    tables = generate_tables(SynthConfig(seed=3, participants=2000, style="contract"))
    per_participant = tables["service_use"].height / tables["participants"].height
    assert 1.0e7 <= per_participant * 100_000 <= 1.6e7


def test_large_tables_written_block_by_block_equal_the_generated_tables(tmp_path, monkeypatch):
    monkeypatch.setattr(synth, "_BLOCK", 70)  # 250 participants: four blocks
    config = SynthConfig(seed=5, participants=250, style="contract", file_format="parquet")
    summary = generate(tmp_path, config)
    tables = generate_tables(config)
    for name in ("service_use", "support_contacts"):
        back = pl.read_parquet(tmp_path / f"{name}.parquet")
        rows = back.height
        same = back.equals(tables[name])
        assert rows == summary.rows[name] == tables[name].height, name
        assert same, f"{name}: file differs from the generated table"


def test_scaling_below_the_demo_size_keeps_the_shares_of_municipalities_and_arms():
    n = 300
    p = generate_tables(SynthConfig(participants=n, style="contract"))["participants"]
    counts = {(code, arm): k for code, arm, k in
              p.group_by("municipality_code", "arm").len().iter_rows()}
    demo = demo_cohort_sizes()
    total = sum(sum(arms.values()) for arms in demo.values())
    for code, arms in demo.items():
        for arm, k in arms.items():
            off = abs(counts[(code, arm)] - k * n / total)
            assert off < 1, f"municipality {code}, {arm}: {off:.2f} from its share"


# ---- national scale: synthetic municipalities beside the five ------------------------------------

NATIONAL = SynthConfig(participants=3000, style="contract", file_format="parquet")
SYNTHETIC_CODE = r"^S\d{4}$"


@pytest.fixture(scope="module")
def national_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("national")
    generate(out, NATIONAL)
    return out


def _national(folder: Path, table: str) -> pl.DataFrame:
    return pl.read_parquet(folder / f"{table}.parquet")


def _synthetic_reference(folder: Path) -> pl.DataFrame:
    return pl.read_csv(folder / "reference" / "municipalities.csv", infer_schema=False)


def _real_municipalities() -> pl.DataFrame:
    return pl.read_csv(get_paths().reference / "municipalities.csv", infer_schema=False)


def test_national_scale_writes_its_synthetic_municipalities_as_a_reference_file(national_dir):
    ref = _synthetic_reference(national_dir)
    header = (get_paths().reference / "municipalities.csv").read_text(
        encoding="utf-8").splitlines()[0]
    written_header = (national_dir / "reference" / "municipalities.csv").read_bytes().decode(
        "utf-8").splitlines()[0]
    n = ref.height
    not_synthetic_code = ref.filter(~pl.col("municipality_code").str.contains(SYNTHETIC_CODE))
    numbers = ref["municipality_code"].str.slice(1).cast(pl.Int64)
    names = ("Synthetic municipality " + numbers.cast(pl.String)).to_list()
    assert written_header == header
    assert n > 0
    assert not_synthetic_code.height == 0
    assert ref["name"].to_list() == names
    assert set(ref["region"]) == {"Synthetic"}
    assert set(ref["country"]) <= {"NO", "DK"}
    assert ref["source"].str.contains("SYNTHETIC").all()


def test_national_scale_reference_file_lists_only_the_synthetic_municipalities(national_dir):
    codes = set(_synthetic_reference(national_dir)["municipality_code"])
    assert not codes & set(CALIBRATION)


def test_synthetic_codes_never_collide_with_real_municipality_codes(national_dir):
    real = set(_real_municipalities()["municipality_code"])
    synthetic = set(_synthetic_reference(national_dir)["municipality_code"])
    assert real >= set(CALIBRATION)
    assert not real & synthetic


@pytest.mark.parametrize("table", ["participants", "programme_costs"])
def test_every_municipality_code_at_national_scale_is_one_of_the_five_or_synthetic(
        national_dir, table):
    known = set(CALIBRATION) | set(_synthetic_reference(national_dir)["municipality_code"])
    df = _national(national_dir, table)
    unknown = df.filter(~pl.col("municipality_code").is_in(sorted(known))).height
    assert unknown == 0, f"{table}: {unknown} rows with an unknown municipality code"


def test_every_synthetic_municipality_has_participants_and_programme_costs(national_dir):
    synthetic = set(_synthetic_reference(national_dir)["municipality_code"])
    for table in ("participants", "programme_costs"):
        used = set(_national(national_dir, table)["municipality_code"])
        missing = len(synthetic - used)
        assert missing == 0, f"{table}: {missing} synthetic municipalities without rows"


def test_the_five_keep_their_demo_cohort_sizes_at_national_scale(national_dir):
    p = _national(national_dir, "participants")
    counts = {(code, arm): n for code, arm, n in
              p.group_by("municipality_code", "arm").len().iter_rows() if code in CALIBRATION}
    expected = {(code, arm): n for code, arms in demo_cohort_sizes().items()
                for arm, n in arms.items()}
    total = p.height
    assert counts == expected
    assert total == NATIONAL.participants


@pytest.mark.parametrize("table", c.INPUT_TABLES)
def test_the_five_get_exactly_their_demo_rows_at_national_scale(national_dir, contract_tables,
                                                                table):
    demo = contract_tables[table]
    got = _national(national_dir, table)
    if "municipality_code" in got.columns:
        got = got.filter(pl.col("municipality_code").is_in(list(CALIBRATION)))
    else:
        got = got.filter(pl.col("participant_id").is_in(
            contract_tables["participants"]["participant_id"].implode()))
    same = got.equals(demo)
    assert same, f"{table}: the five differ from their demo-size rows"


def test_national_scale_fte_lies_within_the_contract_range(national_dir):
    fte_col = next(col for col in c.table("programme_costs").columns if col.name == "fte")
    fte = _national(national_dir, "programme_costs")["fte"].drop_nulls()
    outside = fte.filter((fte < fte_col.min_value) | (fte > fte_col.max_value)).len()
    assert fte.len() > 0
    assert outside == 0


def test_synthetic_teams_have_one_fte_per_seven_to_nine_housing_first_participants(
        national_dir):
    p = _national(national_dir, "participants").filter(
        pl.col("municipality_code").str.contains(SYNTHETIC_CODE)
        & (pl.col("arm") == "housing_first"))
    hf = p.group_by("municipality_code").len()
    staff = (_national(national_dir, "programme_costs")
             .filter(pl.col("cost_item") == "staff")
             .group_by("municipality_code").agg(pl.col("fte").max())
             .join(hf, on="municipality_code"))
    per_fte = staff["len"] / staff["fte"]
    implausible = int(((per_fte < 6.5) | (per_fte > 9.5)).sum())
    assert staff.height == hf.height
    assert implausible == 0
    assert staff["fte"].max() <= 50


def test_synthetic_cohorts_are_skewed_within_20_to_400_and_add_up():
    sizes = synth._synthetic_sizes(np.random.default_rng(1), 100_000)
    total, smallest, largest = int(sizes.sum()), int(sizes.min()), int(sizes.max())
    assert total == 100_000
    assert smallest >= 20
    assert largest <= 400
    assert np.median(sizes) < sizes.mean()  # many small programmes, a few large


@pytest.mark.parametrize("total,expected", [(7, [7]), (19, [19]), (20, [20])])
def test_few_remaining_participants_form_one_synthetic_cohort(total, expected):
    sizes = synth._synthetic_sizes(np.random.default_rng(1), total).tolist()
    assert sizes == expected


def test_a_small_remainder_is_topped_up_to_the_minimum_cohort():
    for seed in range(20):
        sizes = synth._synthetic_sizes(np.random.default_rng(seed), 1_000)
        total, smallest = int(sizes.sum()), int(sizes.min())
        assert total == 1_000
        assert smallest >= 20


@pytest.fixture(scope="module")
def synthetic_municipalities() -> list:
    return synth._synthetic_municipalities(np.random.default_rng(2), 100_000)


def test_about_sixty_percent_of_synthetic_municipalities_are_norwegian(synthetic_municipalities):
    norwegian = np.mean([m.country == "NO" for m in synthetic_municipalities])
    assert 0.55 <= norwegian <= 0.65


def test_synthetic_municipalities_follow_a_calibrated_profile_of_their_own_country(
        synthetic_municipalities):
    codes = list(CALIBRATION)
    mismatched = sum(CALIBRATION[codes[m.profile]]["country"]["value"] != m.country
                     for m in synthetic_municipalities)
    profiles = {m.profile for m in synthetic_municipalities}
    assert mismatched == 0
    assert profiles == set(range(len(codes)))


def test_synthetic_extraction_comes_at_a_quarter_end_after_enrolment_but_never_after_the_five(
        synthetic_municipalities):
    latest_calibrated = max(_extraction(code) for code in CALIBRATION)
    for m in synthetic_municipalities:
        last_enrolment = dt.date.fromisoformat(m.waves[-1][1])
        extraction = dt.date.fromisoformat(m.extraction)
        months = (extraction.year - last_enrolment.year) * 12 + (
            extraction.month - last_enrolment.month)
        assert extraction <= latest_calibrated
        assert months >= 33
        assert (extraction + dt.timedelta(days=1)).month in (1, 4, 7, 10)
        assert (extraction + dt.timedelta(days=1)).day == 1


def test_municipal_style_beyond_the_demo_size_asks_for_contract_style(tmp_path):
    with pytest.raises(ValueError, match="use --style contract for national scale"):
        generate(tmp_path, SynthConfig(participants=3000, style="municipal"))


def test_national_scale_gives_byte_identical_files_including_the_reference_file(tmp_path):
    config = SynthConfig(seed=11, participants=1500, style="contract", file_format="csv")
    generate(tmp_path / "a", config)
    generate(tmp_path / "b", config)
    a = _hashes(tmp_path / "a")
    assert "reference/municipalities.csv" in a
    assert a == _hashes(tmp_path / "b")


@pytest.mark.slow
def test_the_pipeline_runs_national_scale_data_without_quarantining_a_row(national_dir):
    result = pipeline.run(national_dir)
    exit_code = result.exit_code
    tables = result.manifest["tables"]
    quarantined = {name: t["rows_quarantined"] for name, t in tables.items()}
    synthetic = _synthetic_reference(national_dir).height
    assert exit_code == 0
    assert quarantined == dict.fromkeys(quarantined, 0)
    assert tables["participants"]["rows_loaded"] == NATIONAL.participants
    assert tables["municipalities"]["rows_loaded"] == _real_municipalities().height + synthetic


# ---- municipal-style files ----------------------------------------------------------------------


def _spec(folder: Path) -> dict:
    return yaml.safe_load((folder / "source.yaml").read_text(encoding="utf-8"))


def _read_export(folder: Path, entry: dict, csv_opts: dict) -> pl.DataFrame:
    """A municipal file with every column as text (what a loader would see)."""
    path = folder / entry["file"]
    if path.suffix == ".xlsx":
        ws = openpyxl.load_workbook(path, read_only=True)[entry["sheet"]]
        rows = list(ws.iter_rows(min_row=entry["header_row"], values_only=True))
        header, body = rows[0], rows[1:]
        text = [[None if v is None else (v.strftime("%d.%m.%Y") if isinstance(v, dt.datetime)
                                         else str(v)) for v in col] for col in zip(*body)]
        return pl.DataFrame(dict(zip(header, text, strict=True)), schema=dict.fromkeys(header,
                                                                                       pl.String))
    raw = path.read_bytes().decode(csv_opts["encoding"])
    return pl.read_csv(raw.encode("utf-8"), separator=csv_opts["delimiter"],
                       infer_schema=False)


def _to_contract(df: pl.DataFrame, entry: dict, table: str) -> pl.DataFrame:
    """Apply a source.yaml table mapping, the way the loader will."""
    cols = []
    for col in c.table(table).columns:
        if col.name in entry["constants"]:
            e = pl.lit(entry["constants"][col.name])
        elif col.name in entry["columns"]:
            e = pl.col(entry["columns"][col.name])
            if col.name in entry["codes"]:
                e = e.replace_strict(entry["codes"][col.name])
        else:
            e = pl.lit(None, pl.String)
        if col.dtype == "DATE":
            e = pl.coalesce(e.str.to_date("%d.%m.%Y", strict=False),
                            e.str.to_date("%d-%m-%Y", strict=False))
        elif col.dtype in ("INTEGER", "DOUBLE"):
            e = e.str.replace(",", ".").cast(pl.Float64).cast(DTYPES[col.dtype])
        cols.append(e.alias(col.name))
    return df.select(cols)


@pytest.mark.parametrize("source", NO_SOURCES)
def test_norwegian_sources_are_windows_1252_with_semicolons(demo_dir, source):
    spec = _spec(demo_dir / source)
    assert spec["csv"] == {"delimiter": ";", "encoding": "cp1252"}
    raw = (demo_dir / source / spec["tables"]["housing_spells"]["file"]).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # 'ø' and 'å' are single cp1252 bytes
    text = raw.decode("cp1252")
    separators = text.splitlines()[0].count(";")
    has_norwegian_letters = "ø" in text
    assert separators == 5
    assert has_norwegian_letters


@pytest.mark.parametrize("source", DK_SOURCES)
def test_danish_sources_are_utf8_with_a_byte_order_mark(demo_dir, source):
    spec = _spec(demo_dir / source)
    assert spec["csv"]["encoding"] == "utf-8-sig"
    for entry in spec["tables"].values():
        raw = (demo_dir / source / entry["file"]).read_bytes()
        has_bom = raw.startswith(b"\xef\xbb\xbf")
        assert has_bom, entry["file"]
        raw.decode("utf-8")


def test_norwegian_and_danish_files_use_local_dates_and_decimal_commas(demo_dir):
    no = (demo_dir / "lindesnes" / "tjenestebruk.csv").read_bytes().decode("cp1252")
    dk = (demo_dir / "randers" / "ydelser.csv").read_bytes().decode("utf-8-sig")
    no_row, dk_row = no.splitlines()[1].split(";"), dk.splitlines()[1].split(";")
    no_dotted = no_row[2][2] == "." and no_row[2][5] == "."  # dd.mm.yyyy
    dk_dashed = dk_row[2][2] == "-" and dk_row[2][5] == "-"  # dd-mm-yyyy
    decimal_commas = "," in no_row[4] and "," in dk_row[4]
    assert no_dotted
    assert dk_dashed
    assert decimal_commas


def test_hamar_participants_are_an_excel_sheet_below_a_title(demo_dir):
    spec = _spec(demo_dir / "hamar")
    entry = spec["tables"]["participants"]
    assert entry["file"].endswith(".xlsx")
    ws = openpyxl.load_workbook(demo_dir / "hamar" / entry["file"], read_only=True)[
        entry["sheet"]]
    rows = list(ws.iter_rows(max_row=entry["header_row"], values_only=True))
    assert str(rows[0][0]).startswith("Hamar kommune")
    assert "SYNTETISKE" in str(rows[0][0])
    assert set(entry["columns"].values()) == {v for v in rows[-1] if v is not None}


@pytest.mark.parametrize("source", NO_SOURCES + DK_SOURCES)
def test_source_yaml_references_only_columns_present_in_the_files(demo_dir, source):
    folder = demo_dir / source
    spec = _spec(folder)
    for table, entry in spec["tables"].items():
        df = _read_export(folder, entry, spec["csv"])
        assert set(entry["columns"].values()) == set(df.columns), table
        assert set(entry["codes"]) <= set(entry["columns"]), table
        assert not set(entry["constants"]) & set(entry["columns"]), table


@pytest.mark.parametrize("source", NO_SOURCES + DK_SOURCES)
def test_source_yaml_is_marked_synthetic_with_its_municipality_and_extraction_date(
        demo_dir, source):
    spec = _spec(demo_dir / source)
    assert spec["synthetic"] is True
    assert spec["source_id"].endswith("-synthetic")
    assert "SYNTHETIC" in spec["description"]
    assert spec["municipality_code"] in CALIBRATION
    assert spec["extraction_date"] == _extraction(spec["municipality_code"])
    assert set(spec["tables"]) == set(c.INPUT_TABLES)


@pytest.mark.parametrize("source", NO_SOURCES + DK_SOURCES)
def test_municipal_files_map_back_to_exactly_the_contract_tables(demo_dir, demo_tables, source):
    folder = demo_dir / source
    spec = _spec(folder)
    code = spec["municipality_code"]
    ids = demo_tables["participants"].filter(pl.col("municipality_code") == code)[
        "participant_id"]
    for table, entry in spec["tables"].items():
        got = _to_contract(_read_export(folder, entry, spec["csv"]), entry, table)
        want = demo_tables[table]
        want = (want.filter(pl.col("municipality_code") == code)
                if "municipality_code" in want.columns
                else want.filter(pl.col("participant_id").is_in(ids.implode())))
        missing = [k for k in c.table(table).column_names if k not in entry["columns"]
                   and k not in entry["constants"]]
        want = want.with_columns(pl.lit(None, want.schema[k]).alias(k) for k in missing)
        same_rows = got.height == want.height
        same = got.equals(want)
        assert same_rows, f"{table}: row count differs from the contract table"
        assert same, f"{table}: file content differs from the contract table"


def test_readme_says_the_data_are_synthetic(demo_dir):
    text = (demo_dir / "README.txt").read_text(encoding="utf-8")
    assert "SYNTHETIC" in text and "hfeval.synth" in text


def test_contract_style_writes_one_file_per_table_and_a_minimal_source_yaml(tmp_path):
    summary = generate(tmp_path, SynthConfig(participants=200, style="contract",
                                             file_format="parquet"))
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {f"{t}.parquet" for t in c.INPUT_TABLES} | {"source.yaml", "README.txt"}
    spec = _spec(tmp_path)
    assert spec["source_id"] == "synthetic-national" and spec["synthetic"] is True
    assert isinstance(spec["extraction_date"], dt.date)
    back = pl.read_parquet(tmp_path / "participants.parquet").height
    assert back == summary.rows["participants"] == 200
    assert sum(sum(a.values()) for a in summary.participants.values()) == 200
    assert summary.files_written == len(names)
