"""Tiny hand-written sources for pipeline tests (contract column names, inline text)."""

from __future__ import annotations

import hashlib
from pathlib import Path

PARTICIPANTS = """participant_id,municipality_code,birth_year,sex,enrolment_date,arm,support_model
P01,4205,1980,male,2014-01-06,housing_first,HF-team
P02,4205,1985,female,2014-01-06,housing_first,HF-team
P03,4205,1979,male,2014-02-03,housing_first,HF-team
P04,4205,1990,male,2014-03-10,comparison,
P05,461,1975,female,2012-05-01,housing_first,ICM
P06,461,1988,male,2012-06-01,housing_first,CTI
P07,461,1970,male,2012-07-01,comparison,TAU
P08,461,1983,female,2012-08-01,housing_first,ICM
"""

HOUSING_SPELLS = """participant_id,start_date,end_date,housing_type,lease_type,end_reason
P01,2014-01-06,2014-02-20,temporary_accommodation,no_lease,moved_within_programme
P01,2014-02-20,,own_lease,ordinary,
P02,2014-01-06,2014-03-01,shelter,no_lease,voluntary_move
P02,2014-03-01,2015-01-10,municipal_flat,ordinary,eviction
P02,2015-01-10,,rough_sleeping,,
P03,2014-02-03,,own_lease,ordinary,
P04,2014-03-10,,temporary_accommodation,no_lease,
P05,2012-05-01,,own_lease,ordinary,
P06,2012-06-01,2013-01-01,own_lease,ordinary,death
P07,2012-07-01,,shelter,,
P08,2012-08-01,2012-09-15,temporary_accommodation,,voluntary_move
P08,2012-09-15,,municipal_flat,time_limited,
"""

SERVICE_USE = """participant_id,service,start_date,end_date,quantity,unit,source_system
P01,somatic_inpatient,2013-05-01,2013-05-04,3,day,patient_register
P01,emergency_primary_care,2014-06-01,,1,contact,municipal_record
P05,prison,2011-01-01,2011-01-31,30,day,prison_register
P07,shelter,2012-07-01,2012-07-10,9,night,municipal_record
"""

SOURCE_YAML = """source_id: tiny
description: hand-written test source
extraction_date: 2016-12-31
synthetic: true
"""


def write_source(
    root: Path,
    *,
    participants: str = PARTICIPANTS,
    housing_spells: str = HOUSING_SPELLS,
    service_use: str | None = SERVICE_USE,
    source_yaml: str | None = SOURCE_YAML,
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "participants.csv").write_text(participants, encoding="utf-8")
    (root / "housing_spells.csv").write_text(housing_spells, encoding="utf-8")
    if service_use is not None:
        (root / "service_use.csv").write_text(service_use, encoding="utf-8")
    if source_yaml is not None:
        (root / "source.yaml").write_text(source_yaml, encoding="utf-8")
    return root


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
