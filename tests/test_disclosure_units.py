"""Publication units: which municipalities are published alone and which only inside an
aggregate of small municipalities (hfeval.disclosure.publication_units; minimum 20 here)."""

import io

import polars as pl

from hfeval.disclosure import publication_units, to_units, with_stratum_country


def munis(csv: str) -> pl.DataFrame:
    return pl.read_csv(io.StringIO("country,region,municipality_code,municipality_name,"
                                   "n_participants\n" + csv),
                       schema_overrides={"municipality_code": pl.String})


def mapping(csv: str, minimum: int = 20) -> dict[str, tuple]:
    units = publication_units(munis(csv), minimum)
    return {r["municipality_code"]: (r["unit_code"], r["unit_kind"], r["unit_region"],
                                     r["n_municipalities_in_unit"])
            for r in units.iter_rows(named=True)}


def test_municipalities_with_enough_participants_stand_alone():
    got = mapping("NO,Agder,4205,Lindesnes,45\nNO,Rogaland,1108,Sandnes,21\n")
    assert got == {"4205": ("4205", "municipality", None, 1),
                   "1108": ("1108", "municipality", None, 1)}


def test_small_municipalities_of_a_region_are_merged_into_a_region_aggregate():
    got = mapping("NO,Agder,1,A,5\nNO,Agder,2,B,16\nNO,Rogaland,3,C,50\n")
    # A + B = 21 >= 20: together they are published as Agder's small municipalities
    assert got == {"1": ("NO-agg-Agder", "region", "Agder", 2),
                   "2": ("NO-agg-Agder", "region", "Agder", 2),
                   "3": ("3", "municipality", None, 1)}


def test_small_regions_that_stay_too_small_are_merged_into_a_country_aggregate():
    got = mapping("NO,Agder,1,A,4\nNO,Agder,2,B,5\nNO,Rogaland,3,C,6\nNO,Rogaland,4,D,7\n"
                  "NO,Innlandet,5,E,60\n")
    # Agder 9 and Rogaland 13 are each below 20; the four together make 22
    assert {k: v[0] for k, v in got.items()} == {"1": "NO-agg", "2": "NO-agg", "3": "NO-agg",
                                                "4": "NO-agg", "5": "5"}
    assert got["1"][1:] == ("country", None, 4)


def test_a_country_aggregate_still_too_small_takes_in_the_next_smallest_municipality():
    got = mapping("NO,Agder,1,A,3\nNO,Rogaland,2,B,40\nNO,Innlandet,3,C,25\n")
    # A alone (3) would be the country total minus B and C: C, the smaller, joins it
    assert got == {"1": ("NO-agg", "country", None, 2), "2": ("2", "municipality", None, 1),
                   "3": ("NO-agg", "country", None, 2)}


def test_a_region_aggregate_is_folded_into_the_country_aggregate_when_it_is_the_smallest_unit():
    got = mapping("NO,Agder,1,A,10\nNO,Agder,2,B,12\nNO,Rogaland,3,C,3\nNO,Oslo,4,D,100\n")
    assert {k: v[:2] for k, v in got.items()} == {
        "1": ("NO-agg", "country"), "2": ("NO-agg", "country"), "3": ("NO-agg", "country"),
        "4": ("4", "municipality")}


def test_when_every_municipality_is_small_the_whole_country_is_one_unit():
    got = mapping("DK,Midtjylland,730,Randers,2\nDK,Syddanmark,461,Odense,3\n")
    assert got == {"730": ("DK-agg", "country", None, 2), "461": ("DK-agg", "country", None, 2)}


def test_the_only_municipality_of_a_country_is_published_alone_however_small():
    # its total is the country's anyway: merging it with nothing protects nothing
    got = mapping("NO,Agder,4205,Lindesnes,4\nDK,Syddanmark,461,Odense,4\n")
    assert got == {"4205": ("4205", "municipality", None, 1),
                   "461": ("461", "municipality", None, 1)}


def test_countries_are_aggregated_separately():
    got = mapping("NO,Agder,1,A,5\nNO,Agder,2,B,30\nDK,Syddanmark,3,C,5\nDK,Syddanmark,4,D,30\n")
    assert {k: v[0] for k, v in got.items()} == {"1": "NO-agg", "2": "NO-agg", "3": "DK-agg",
                                                "4": "DK-agg"}


def test_a_minimum_of_zero_never_merges():
    got = mapping("NO,Agder,1,A,1\nNO,Agder,2,B,2\n", minimum=0)
    assert {k: v[1] for k, v in got.items()} == {"1": "municipality", "2": "municipality"}


def test_aggregates_are_named_so_a_reader_can_tell_what_they_hold():
    units = publication_units(munis("NO,Agder,1,A,5\nNO,Agder,2,B,16\nNO,Oslo,3,C,3\n"
                                    "NO,Rogaland,4,D,19\nNO,Viken,5,E,60\n"), 20)
    names = dict(zip(units["municipality_code"], units["unit_name"], strict=True))
    assert names["1"] == "Small municipalities, Agder"
    assert names["3"] == "Small municipalities, Norway"
    assert names["5"] == "E"


def test_person_rows_are_moved_to_their_unit_keeping_their_columns():
    units = publication_units(munis("NO,Agder,1,A,5\nNO,Agder,2,B,16\nNO,Rogaland,3,C,50\n"), 20)
    people = pl.DataFrame({"participant_id": ["p1", "p2", "p3"],
                           "municipality_code": ["1", "3", "2"],
                           "municipality_name": ["A", "C", "B"]})
    out = to_units(people, units)
    assert out.columns == people.columns
    assert out.rows() == [("p1", "NO-agg-Agder", "Small municipalities, Agder"),
                          ("p2", "3", "C"),
                          ("p3", "NO-agg-Agder", "Small municipalities, Agder")]


def test_country_and_unit_strata_name_their_country():
    units = publication_units(munis("NO,Agder,1,A,5\nNO,Agder,2,B,16\n"), 20)
    table = pl.DataFrame({"stratum_variable": ["all", "country", "municipality", "sex"],
                          "stratum_value": ["all", "NO", "Small municipalities, Agder",
                                            "male"]})
    out = with_stratum_country(table, units)
    assert out["stratum_country"].to_list() == [None, "NO", "NO", None]


def test_units_that_would_share_a_name_are_told_apart():
    # two countries with a region of the same name, and two municipalities named alike
    units = publication_units(munis(
        "NO,Synthetic,1,A,5\nNO,Synthetic,2,B,16\nNO,Agder,3,Os,50\n"
        "DK,Synthetic,4,C,5\nDK,Synthetic,5,D,16\nDK,Fyn,6,Os,50\n"), 20)
    names = dict(zip(units["municipality_code"], units["unit_name"], strict=True))
    assert names["1"] == "Small municipalities, Synthetic (Norway)"
    assert names["4"] == "Small municipalities, Synthetic (Denmark)"
    assert (names["3"], names["6"]) == ("Os (3)", "Os (6)")
