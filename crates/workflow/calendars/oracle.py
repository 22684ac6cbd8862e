#!/usr/bin/env python3
"""The independent source the bundled holiday tables are checked against.

Prints, for every year the tables list, the weekdays that are not working days and the weekend
days that are, per region, from PyPI's `holidays` package (Hong Kong: public and optional
categories, which together are the general holidays; China: public holidays with the State
Council's make-up working days). `.ci/run` installs the pinned version, runs this and compares
the output with oracle-holidays.json, which crates/workflow/tests/calendars.rs reads.

    pip install holidays==0.109 && python3 crates/workflow/calendars/oracle.py > crates/workflow/calendars/oracle-holidays.json
"""
import datetime
import json

import holidays

YEARS = [2026, 2027]


def region(cls, categories):
    out = {}
    for year in YEARS:
        h = cls(years=year, categories=categories)
        on = sorted(d.isoformat() for d in getattr(h, "weekend_workdays", set()) if d.year == year)
        off = sorted(d.isoformat() for d in h if d.weekday() < 5)
        out[str(year)] = {"off": off, "on": on}
    return out


print(json.dumps({
    "source": f"holidays {holidays.__version__}",
    "hk": region(holidays.HongKong, ("public", "optional")),
    "mainland": region(holidays.China, ("public",)),
}, indent=1, sort_keys=True))
