"""The data contract: every input and reference table hfeval reads, machine-readable.

This module is the single source of truth for table names, column names, types, allowed codes,
keys and the Norwegian/Danish terms a municipal export is likely to use. `data/README.md`
documents it for people, the loaders use it to recognise columns, the expectation suites in
`expectations/` are generated from it, and the staging SQL casts to its types.

Types are DuckDB type names. All codes are lower-case snake_case except the support models, which
keep their established abbreviations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DType = Literal["VARCHAR", "INTEGER", "DOUBLE", "DATE", "BOOLEAN"]
TableKind = Literal["input", "reference"]


@dataclass(frozen=True)
class Column:
    name: str
    dtype: DType
    description: str
    required: bool = True  # must be present as a column and non-null in every row
    codes: tuple[str, ...] | None = None  # allowed values (after code mapping)
    min_value: float | str | None = None  # plausible range, inclusive; dates as ISO strings
    max_value: float | str | None = None  # "$extraction_date" = the source's extraction date
    unit: str | None = None
    nb: tuple[str, ...] = ()  # Norwegian (bokmål) column names seen in municipal exports
    da: tuple[str, ...] = ()  # Danish column names
    personal: bool = False  # a direct or quasi identifier; never printed


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    name: str
    kind: TableKind
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    required: bool = False  # a run fails if no source provides this table
    nb: tuple[str, ...] = ()  # file/sheet names seen in exports
    da: tuple[str, ...] = ()
    grain: str = ""
    # Extra row checks beyond per-column rules, by name; see hfeval.validation.
    row_rules: tuple[str, ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


# ---- code lists ---------------------------------------------------------------------------------

SEX = ("female", "male", "other", "unknown")
ARM = ("housing_first", "comparison")
SUPPORT_MODEL = ("ACT", "FACT", "ICM", "CTI", "HF-team", "TAU")
SUBSTANCE_USE = ("none", "alcohol", "drugs", "alcohol_and_drugs", "unknown")
MENTAL_ILLNESS_SEVERITY = ("none", "mild", "moderate", "severe", "unknown")
NEEDS_LEVEL = ("high", "moderate")
REFERRAL_SOURCE = (
    "social_services",
    "specialist_health",
    "prison_probation",
    "shelter",
    "housing_office",
    "self_or_family",
    "other",
    "unknown",
)
HOUSING_TYPE = (
    "own_lease",
    "municipal_flat",
    "supported_housing",
    "temporary_accommodation",
    "shelter",
    "institution",
    "prison",
    "hospital",
    "rough_sleeping",
    "family_friends",
)
# Housing types that count as a home of one's own (a tenancy) for retention.
STABLE_HOUSING_TYPES = ("own_lease", "municipal_flat", "supported_housing")
HOMELESS_HOUSING_TYPES = ("temporary_accommodation", "shelter", "rough_sleeping", "family_friends")
LEASE_TYPE = ("ordinary", "time_limited", "sublet", "no_lease", "unknown")
END_REASON = (
    "moved_within_programme",
    "voluntary_move",
    "eviction",
    "abandoned",
    "returned_to_homelessness",
    "institution",
    "prison",
    "hospital",
    "death",
    "unknown",
)
SERVICE = (
    "somatic_inpatient",
    "psychiatric_inpatient",
    "emergency_department",
    "emergency_primary_care",
    "outpatient_mental_health",
    "substance_treatment_inpatient",
    "detox",
    "police_custody",
    "police_arrest",
    "court_case",
    "prison",
    "remand",
    "shelter",
    "temporary_accommodation",
)
SERVICE_UNIT = ("day", "night", "contact", "visit", "episode", "case", "hour", "drg_point")
SOURCE_SYSTEM = (
    "patient_register",
    "municipal_record",
    "prison_register",
    "police_register",
    "court_register",
    "self_report",
    "other",
)
CONTACT_TYPE = (
    "home_visit",
    "office_visit",
    "phone",
    "digital",
    "accompaniment",
    "network_meeting",
    "other",
)
COST_ITEM = ("staff", "housing_subsidy", "rent_guarantee", "administration", "other")
CURRENCY = ("NOK", "DKK", "EUR")
COUNTRY = ("NO", "DK")
PAYER_SECTOR = ("municipality", "specialist_health", "justice", "welfare", "citizen", "other")

# MANSA: 12 satisfaction items rated 1 (couldn't be worse) to 7 (couldn't be better).
MANSA_ITEMS = (
    ("mansa_01_life_as_whole", "life as a whole"),
    ("mansa_02_job", "job or sheltered employment, or being unemployed"),
    ("mansa_03_finances", "financial situation"),
    ("mansa_04_friendships", "number and quality of friendships"),
    ("mansa_05_leisure", "leisure activities"),
    ("mansa_06_accommodation", "accommodation"),
    ("mansa_07_safety", "personal safety"),
    ("mansa_08_people_lived_with", "people you live with, or living alone"),
    ("mansa_09_sex_life", "sex life"),
    ("mansa_10_family", "relationship with family"),
    ("mansa_11_physical_health", "physical health"),
    ("mansa_12_mental_health", "mental health"),
)

EARLIEST_DATE = "1990-01-01"
EXTRACTION = "$extraction_date"  # resolved per source at validation time

_PID = Column(
    "participant_id",
    "VARCHAR",
    "Pseudonym of the participant (keyed hash or project serial number; never a national id).",
    nb=("løpenummer", "lopenummer", "deltaker_id", "deltakernummer", "pseudonym", "id"),
    da=("løbenummer", "lobenummer", "borger_id", "borgernummer", "pseudonym", "id"),
    personal=True,
)


def _pid(description: str = "Participant pseudonym; must exist in participants.") -> Column:
    return Column(
        "participant_id", "VARCHAR", description, nb=_PID.nb, da=_PID.da, personal=True
    )


PARTICIPANTS = Table(
    name="participants",
    kind="input",
    grain="one row per participant",
    description="Everyone enrolled in the Housing First programme or in its comparison group.",
    required=True,
    nb=("deltakere", "deltaker"),
    da=("deltagere", "borgere"),
    primary_key=("participant_id",),
    foreign_keys=(ForeignKey(("municipality_code",), "municipalities", ("municipality_code",)),),
    columns=(
        _PID,
        Column(
            "municipality_code",
            "VARCHAR",
            "Official municipality number of the municipality responsible (NO 4 digits, DK 3).",
            nb=("kommunenummer", "kommunenr", "kommune"),
            da=("kommunekode", "kommunenr", "kommune"),
        ),
        Column(
            "birth_year",
            "INTEGER",
            "Year of birth (never the full birth date).",
            min_value=1920,
            max_value=2012,
            nb=("fødselsår", "fodselsar", "født"),
            da=("fødselsår", "fodselsaar", "født"),
            personal=True,
        ),
        Column(
            "sex",
            "VARCHAR",
            "Sex as recorded.",
            codes=SEX,
            nb=("kjønn", "kjonn"),
            da=("køn", "kon"),
        ),
        Column(
            "enrolment_date",
            "DATE",
            "Date of enrolment (inclusion) in the programme or comparison group.",
            min_value=EARLIEST_DATE,
            max_value=EXTRACTION,
            nb=("innskrivingsdato", "inntaksdato", "startdato", "oppstartsdato"),
            da=("indskrivningsdato", "startdato", "opstartsdato"),
        ),
        Column(
            "arm",
            "VARCHAR",
            "Study arm: Housing First or comparison (treatment as usual / waiting list).",
            codes=ARM,
            nb=("gruppe", "arm", "tiltak"),
            da=("gruppe", "arm", "indsats"),
        ),
        Column(
            "support_model",
            "VARCHAR",
            "Follow-up method: ACT, FACT, ICM, CTI, a municipal HF team, or TAU (as usual).",
            required=False,
            codes=SUPPORT_MODEL,
            nb=("oppfølgingsmodell", "oppfolgingsmodell", "oppfølging", "metode"),
            da=("støttemetode", "stottemetode", "metode", "bostøttemetode"),
        ),
        Column(
            "substance_use",
            "VARCHAR",
            "Substance use problem at enrolment.",
            required=False,
            codes=SUBSTANCE_USE,
            nb=("rusmiddelbruk", "rus"),
            da=("misbrug", "rusmiddelbrug"),
        ),
        Column(
            "mental_illness_severity",
            "VARCHAR",
            "Severity of mental illness at enrolment.",
            required=False,
            codes=MENTAL_ILLNESS_SEVERITY,
            nb=("psykisk_lidelse", "psykisk_helse"),
            da=("psykisk_lidelse", "psykisk_sygdom"),
        ),
        Column(
            "needs_level",
            "VARCHAR",
            "High or moderate needs (At Home/Chez Soi split), if assessed.",
            required=False,
            codes=NEEDS_LEVEL,
            nb=("behovsnivå", "behovsniva"),
            da=("behovsniveau",),
        ),
        Column(
            "months_homeless_before",
            "INTEGER",
            "Months homeless (lifetime or last episode, as recorded) before enrolment.",
            required=False,
            min_value=0,
            max_value=720,
            unit="months",
            nb=("måneder_bostedsløs", "maneder_bostedslos", "mnd_bostedsløs"),
            da=("måneder_hjemløs", "maaneder_hjemlos", "mdr_hjemløs"),
        ),
        Column(
            "referral_source",
            "VARCHAR",
            "Who referred the participant.",
            required=False,
            codes=REFERRAL_SOURCE,
            nb=("henvist_fra", "henviser"),
            da=("henvist_fra", "henviser"),
        ),
    ),
)

HOUSING_SPELLS = Table(
    name="housing_spells",
    kind="input",
    grain="one row per participant and period in one place of living",
    description=(
        "Where each participant lived, as consecutive spells. An open spell (no end date) "
        "is ongoing at the extraction date. Spells of one person must not overlap."
    ),
    required=True,
    nb=("boforhold", "botid", "boligforhold"),
    da=("boligforløb", "boligforlob", "boforhold"),
    primary_key=("participant_id", "start_date"),
    foreign_keys=(ForeignKey(("participant_id",), "participants", ("participant_id",)),),
    row_rules=("start_not_after_end", "no_overlapping_spells"),
    columns=(
        _pid(),
        Column(
            "start_date",
            "DATE",
            "First day in this place (move-in).",
            min_value=EARLIEST_DATE,
            max_value=EXTRACTION,
            nb=("innflyttingsdato", "fra_dato", "startdato"),
            da=("indflytningsdato", "fra_dato", "startdato"),
        ),
        Column(
            "end_date",
            "DATE",
            "Last day (move-out); empty while the spell is ongoing.",
            required=False,
            min_value=EARLIEST_DATE,
            max_value=EXTRACTION,
            nb=("utflyttingsdato", "til_dato", "sluttdato"),
            da=("fraflytningsdato", "til_dato", "slutdato"),
        ),
        Column(
            "housing_type",
            "VARCHAR",
            "Kind of place: own lease, municipal flat, supported housing, temporary "
            "accommodation, shelter, institution, prison, hospital, rough sleeping, "
            "with family or friends.",
            codes=HOUSING_TYPE,
            nb=("boligtype", "botype"),
            da=("boligtype", "boform"),
        ),
        Column(
            "lease_type",
            "VARCHAR",
            "Kind of lease for a dwelling (ordinary, time-limited, sublet, none).",
            required=False,
            codes=LEASE_TYPE,
            nb=("kontraktstype", "leiekontrakt"),
            da=("lejekontrakt", "kontrakttype"),
        ),
        Column(
            "end_reason",
            "VARCHAR",
            "Why the spell ended; empty while ongoing.",
            required=False,
            codes=END_REASON,
            nb=("årsak_utflytting", "arsak_utflytting", "sluttårsak"),
            da=("fraflytningsårsag", "fraflytningsaarsag", "ophørsårsag"),
        ),
    ),
)

SERVICE_USE = Table(
    name="service_use",
    kind="input",
    grain="one row per service event or stay",
    description=(
        "Use of public services that carry a cost (hospital, detox, police, courts, prison, "
        "shelter), from registry linkage, municipal records or self-report."
    ),
    nb=("tjenestebruk", "tjenester"),
    da=("ydelsesforbrug", "ydelser"),
    foreign_keys=(ForeignKey(("participant_id",), "participants", ("participant_id",)),),
    row_rules=("start_not_after_end",),
    columns=(
        _pid(),
        Column(
            "service",
            "VARCHAR",
            "Service used (see the code list).",
            codes=SERVICE,
            nb=("tjeneste", "tjenestetype"),
            da=("ydelse", "ydelsestype"),
        ),
        Column(
            "start_date",
            "DATE",
            "Date of the event, or first day of a stay.",
            min_value=EARLIEST_DATE,
            max_value=EXTRACTION,
            nb=("dato", "fra_dato", "startdato"),
            da=("dato", "fra_dato", "startdato"),
        ),
        Column(
            "end_date",
            "DATE",
            "Last day of a stay; empty for single events.",
            required=False,
            min_value=EARLIEST_DATE,
            max_value=EXTRACTION,
            nb=("til_dato", "sluttdato"),
            da=("til_dato", "slutdato"),
        ),
        Column(
            "quantity",
            "DOUBLE",
            "Amount of service in `unit` (e.g. 3 days, 1 contact).",
            min_value=0,
            max_value=3660,
            nb=("antall", "mengde"),
            da=("antal", "mængde"),
        ),
        Column(
            "unit",
            "VARCHAR",
            "Unit of `quantity`.",
            codes=SERVICE_UNIT,
            nb=("enhet",),
            da=("enhed",),
        ),
        Column(
            "source_system",
            "VARCHAR",
            "Where the record comes from.",
            required=False,
            codes=SOURCE_SYSTEM,
            nb=("kilde", "kildesystem"),
            da=("kilde", "kildesystem"),
        ),
    ),
)

SUPPORT_CONTACTS = Table(
    name="support_contacts",
    kind="input",
    grain="one row per contact between the follow-up team and a participant",
    description="Follow-up contacts by the HF team (home visits, phone calls, ...).",
    nb=("kontakter", "oppfølgingskontakter"),
    da=("kontakter", "støttekontakter"),
    foreign_keys=(ForeignKey(("participant_id",), "participants", ("participant_id",)),),
    columns=(
        _pid(),
        Column(
            "contact_date",
            "DATE",
            "Date of the contact.",
            min_value=EARLIEST_DATE,
            max_value=EXTRACTION,
            nb=("dato", "kontaktdato"),
            da=("dato", "kontaktdato"),
        ),
        Column(
            "contact_type",
            "VARCHAR",
            "Kind of contact.",
            codes=CONTACT_TYPE,
            nb=("kontakttype", "type"),
            da=("kontakttype", "type"),
        ),
        Column(
            "minutes",
            "INTEGER",
            "Duration in minutes, if recorded.",
            required=False,
            min_value=0,
            max_value=1440,
            unit="minutes",
            nb=("minutter", "varighet"),
            da=("minutter", "varighed"),
        ),
    ),
)

QUALITY_OF_LIFE = Table(
    name="quality_of_life",
    kind="input",
    grain="one row per participant and assessment wave",
    description=(
        "MANSA (Manchester Short Assessment of Quality of Life): 12 satisfaction items "
        "scored 1-7, at baseline (wave 0) and follow-ups."
    ),
    nb=("livskvalitet", "mansa"),
    da=("livskvalitet", "mansa"),
    primary_key=("participant_id", "wave"),
    foreign_keys=(ForeignKey(("participant_id",), "participants", ("participant_id",)),),
    columns=(
        _pid(),
        Column(
            "wave",
            "INTEGER",
            "Assessment wave: 0 = baseline, 1, 2, ... = follow-ups.",
            min_value=0,
            max_value=20,
            nb=("runde", "måling"),
            da=("runde", "måling"),
        ),
        Column(
            "assessment_date",
            "DATE",
            "Date of the interview.",
            required=False,
            min_value=EARLIEST_DATE,
            max_value=EXTRACTION,
            nb=("dato", "intervjudato"),
            da=("dato", "interviewdato"),
        ),
        *(
            Column(
                name,
                "INTEGER",
                f"MANSA item: satisfaction with {label} (1-7).",
                required=False,
                min_value=1,
                max_value=7,
                nb=(name.replace("mansa_", "mansa"),),
                da=(name.replace("mansa_", "mansa"),),
            )
            for name, label in MANSA_ITEMS
        ),
    ),
)

PROGRAMME_COSTS = Table(
    name="programme_costs",
    kind="input",
    grain="one row per municipality, year and cost item",
    description="What the programme itself costs: team staff, housing subsidies, other items.",
    nb=("programkostnader", "kostnader"),
    da=("programomkostninger", "omkostninger"),
    primary_key=("municipality_code", "year", "cost_item"),
    foreign_keys=(ForeignKey(("municipality_code",), "municipalities", ("municipality_code",)),),
    columns=(
        Column(
            "municipality_code",
            "VARCHAR",
            "Municipality that pays.",
            nb=("kommunenummer", "kommune"),
            da=("kommunekode", "kommune"),
        ),
        Column("year", "INTEGER", "Budget year.", min_value=1990, max_value=2100,
               nb=("år", "ar"), da=("år", "aar")),
        Column(
            "cost_item",
            "VARCHAR",
            "Cost item: staff (team FTEs), housing subsidy, rent guarantee, administration, other.",
            codes=COST_ITEM,
            nb=("kostnadspost", "post"),
            da=("omkostningspost", "post"),
        ),
        Column("amount", "DOUBLE", "Amount spent in the year, nominal.", min_value=0,
               max_value=1e10, nb=("beløp", "belop"), da=("beløb", "belob")),
        Column("currency", "VARCHAR", "Currency of `amount`.", codes=CURRENCY,
               nb=("valuta",), da=("valuta",)),
        Column("fte", "DOUBLE", "Full-time equivalents, for staff rows.", required=False,
               min_value=0, max_value=1000, unit="FTE", nb=("årsverk", "arsverk"),
               da=("årsværk", "aarsvaerk")),
        Column("note", "VARCHAR", "Free-text note (no personal data).", required=False,
               nb=("merknad",), da=("bemærkning",)),
    ),
)

MUNICIPALITIES = Table(
    name="municipalities",
    kind="reference",
    grain="one row per municipality",
    description="Municipalities, their country and region, and their Housing First targets.",
    primary_key=("municipality_code",),
    columns=(
        Column("municipality_code", "VARCHAR", "Official municipality number."),
        Column("name", "VARCHAR", "Municipality name."),
        Column("country", "VARCHAR", "NO or DK.", codes=COUNTRY),
        Column("region", "VARCHAR", "County (NO fylke) or region (DK); used to aggregate small "
               "municipalities.", required=False),
        Column("population", "INTEGER", "Inhabitants, for rates.", required=False, min_value=0,
               max_value=10_000_000),
        Column("hf_start_year", "INTEGER", "Year the Housing First programme started.",
               required=False, min_value=1990, max_value=2100),
        Column("target_housed_per_year", "INTEGER", "Target: participants housed per year.",
               required=False, min_value=0, max_value=100_000),
        Column("target_housed_total", "INTEGER", "Target: participants housed in the project.",
               required=False, min_value=0, max_value=100_000),
        Column("former_codes", "VARCHAR", "Earlier municipality numbers, separated by '|'.",
               required=False),
        Column("source", "VARCHAR", "Where the targets and facts come from.", required=False),
    ),
)

UNIT_COSTS = Table(
    name="unit_costs",
    kind="reference",
    grain="one row per country, service and unit",
    description="Cost of one unit of a service, its price year, who pays it, and its source.",
    primary_key=("country", "service", "unit"),
    columns=(
        Column("country", "VARCHAR", "NO or DK.", codes=COUNTRY),
        Column("service", "VARCHAR", "Service (same codes as service_use).", codes=SERVICE),
        Column("unit", "VARCHAR", "Unit the amount is per.", codes=SERVICE_UNIT),
        Column("amount", "DOUBLE", "Cost of one unit.", min_value=0, max_value=1e8),
        Column("currency", "VARCHAR", "Currency.", codes=CURRENCY),
        Column("price_year", "INTEGER", "Price year of the amount.", min_value=1990,
               max_value=2100),
        Column("payer_sector", "VARCHAR", "Who pays: municipality, specialist health (DK: "
               "region), justice (DK: state), welfare, citizen.", codes=PAYER_SECTOR),
        Column("source", "VARCHAR", "Citation for the amount."),
        Column("note", "VARCHAR", "How it was derived; caveats.", required=False),
    ),
)

CPI = Table(
    name="cpi",
    kind="reference",
    grain="one row per country and year",
    description="Consumer price index, annual average, to move costs to one price year.",
    primary_key=("country", "year"),
    columns=(
        Column("country", "VARCHAR", "NO or DK.", codes=COUNTRY),
        Column("year", "INTEGER", "Year.", min_value=1990, max_value=2100),
        Column("index_value", "DOUBLE", "Index value (base year = 100).", min_value=0,
               max_value=1000),
        Column("base_year", "INTEGER", "Base year of the index.", min_value=1990,
               max_value=2100),
        Column("source", "VARCHAR", "Citation."),
        Column("note", "VARCHAR", "Derived or second-hand values are marked here.",
               required=False),
    ),
)

EXCHANGE_RATES = Table(
    name="exchange_rates",
    kind="reference",
    grain="one row per year and currency",
    description="Annual mean exchange rate, units of currency per EUR.",
    primary_key=("year", "currency"),
    columns=(
        Column("year", "INTEGER", "Year.", min_value=1990, max_value=2100),
        Column("currency", "VARCHAR", "Currency.", codes=CURRENCY),
        Column("per_eur", "DOUBLE", "Units of `currency` per 1 EUR (annual mean).",
               min_value=0, max_value=1000),
        Column("source", "VARCHAR", "Citation."),
    ),
)

# Order matters: a table's foreign keys point only to tables earlier in this list, so the
# pipeline validates parents before children.
TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        MUNICIPALITIES,
        UNIT_COSTS,
        CPI,
        EXCHANGE_RATES,
        PARTICIPANTS,
        HOUSING_SPELLS,
        SERVICE_USE,
        SUPPORT_CONTACTS,
        QUALITY_OF_LIFE,
        PROGRAMME_COSTS,
    )
}
INPUT_TABLES = [n for n, t in TABLES.items() if t.kind == "input"]
REFERENCE_TABLES = [n for n, t in TABLES.items() if t.kind == "reference"]


def table(name: str) -> Table:
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; known: {', '.join(TABLES)}") from None
