"""The tables of a werkeffect dataset: columns, types, allowed codes and their meaning.

This is the one place where the data model is written down; ``docs/data.md`` is rendered from
it (``python -m werkeffect.data.schema > docs/data.md``), validation reads it, and the
simulator writes it.

Dates are calendar dates (``datetime64[ns]`` after loading). An empty ``end_date`` of a spell
means the spell was still running at the extract date (right-censored).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str  # "id", "date", "int", "float", "bool", "category", "str"
    description: str
    required: bool = True
    nullable: bool = False
    codes: dict[str, str] | None = None  # allowed code -> meaning
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    required: bool = True
    person_column: str | None = "person_id"
    date_pairs: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (start, end)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_names(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


SEX = {"M": "man", "V": "vrouw", "X": "anders / onbekend"}
EDUCATION = {
    "laag": "basisonderwijs, vmbo or mbo-1 (no startkwalificatie)",
    "middelbaar": "mbo-2 to mbo-4, havo, vwo",
    "hoog": "hbo or wo",
}
HOUSEHOLD = {
    "alleenstaand": "single",
    "alleenstaande_ouder": "single parent",
    "paar": "couple without children",
    "paar_kinderen": "couple with children",
}
EXIT_REASONS = {
    "werk": "regular paid job",
    "deeltijdwerk": (
        "part-time work with earnings above the benefit level (ends the benefit; an exit to "
        "work in the evaluations and the programme monitor)"
    ),
    "scholing": "education",
    "partner": "partner income",
    "verhuizing": "moved to another municipality",
    "overlijden": "death",
    "overig": "other or unknown",
}
#: Exit reasons grouped into the competing exits the estimators use.
EXIT_GROUPS = {
    "werk": "work",
    "deeltijdwerk": "work",
    "scholing": "education",
    "partner": "other",
    "verhuizing": "other",
    "overlijden": "other",
    "overig": "other",
}
PROGRAMMES = {
    "jobcoaching": "individual jobcoaching while on benefit",
    "nazorg": "jobcoach support after starting work",
    "scholing": "training",
    "praktijkleren": "learning on the job",
    "stadsbeheer": "pilot: statushouders placed in municipal maintenance (stadsbeheer)",
    "ww_naar_bijstand": "contact under the Aanpak WW naar bijstand",
}
LADDER = {
    "1": "geïsoleerd (isolated)",
    "2": "sociale contacten buiten huis",
    "3": "deelname georganiseerde activiteiten",
    "4": "onbetaald werk",
    "5": "betaald werk met ondersteuning",
    "6": "betaald werk",
}

PERSONS = Table(
    name="persons",
    description="One row per pseudonymised person.",
    key=("person_id",),
    person_column=None,
    columns=(
        Column("person_id", "id", "pseudonymous person id (never a BSN)"),
        Column("birth_date", "date", "date of birth (or 1 July of the birth year)"),
        Column("sex", "category", "sex", codes=SEX),
        Column("education", "category", "highest education level", codes=EDUCATION),
        Column("startkwalificatie", "bool", "has a startkwalificatie (mbo-2 or higher)"),
        Column("household", "category", "household type", codes=HOUSEHOLD),
        Column("municipality", "str", "municipality of residence at first record"),
        Column("wijk", "str", "district (wijk) of residence", required=False, nullable=True),
        Column("statushouder", "bool", "refugee with a residence permit"),
        Column(
            "permit_date",
            "date",
            "date the residence permit was granted",
            required=False,
            nullable=True,
        ),
        Column("barrier_health", "bool", "health problems recorded"),
        Column("barrier_language", "bool", "low literacy or Dutch language"),
        Column("barrier_debts", "bool", "problematic debts"),
        Column(
            "ladder_intake",
            "int",
            "participation-ladder step at intake",
            required=False,
            nullable=True,
            min=1,
            max=6,
        ),
    ),
)

SPELLS = Table(
    name="spells",
    description="Bijstand benefit spells (Participatiewet). One row per spell.",
    key=("spell_id",),
    date_pairs=(("start_date", "end_date"),),
    columns=(
        Column("spell_id", "id", "spell id"),
        Column("person_id", "id", "person id"),
        Column("start_date", "date", "first day on benefit"),
        Column("end_date", "date", "last day on benefit; empty = still running", nullable=True),
        Column(
            "exit_reason",
            "category",
            "reason the spell ended; empty while running (an ended spell without a reason "
            "counts as an exit for another reason, cause 3: counted in the data flow)",
            nullable=True,
            codes=EXIT_REASONS,
        ),
        Column(
            "monthly_amount",
            "float",
            "monthly benefit in euros",
            required=False,
            nullable=True,
            min=0,
            max=10_000,
        ),
    ),
)

PROGRAMME_PARTICIPATIONS = Table(
    name="programmes",
    description="Programme participations (trajecten). One row per participation.",
    key=("participation_id",),
    date_pairs=(("start_date", "end_date"),),
    columns=(
        Column("participation_id", "id", "participation id"),
        Column("person_id", "id", "person id"),
        Column("programme", "category", "programme", codes=PROGRAMMES),
        Column("start_date", "date", "start of the participation"),
        Column("end_date", "date", "end; empty = still running", nullable=True),
        Column("provider", "str", "provider or team", required=False, nullable=True),
    ),
)

WW = Table(
    name="ww",
    description="Unemployment-insurance (WW) records from UWV. One row per WW spell.",
    key=("ww_id",),
    required=False,
    date_pairs=(("ww_start", "ww_end"),),
    columns=(
        Column("ww_id", "id", "WW record id"),
        Column("person_id", "id", "person id"),
        Column("municipality", "str", "municipality of residence"),
        Column("ww_start", "date", "start of WW"),
        Column("ww_max_end", "date", "maximum end date of the WW entitlement"),
        Column("ww_end", "date", "actual end of WW; empty = still running", nullable=True),
        Column(
            "contact_date",
            "date",
            "date contacted under the Aanpak WW naar bijstand",
            required=False,
            nullable=True,
        ),
    ),
)

JOBS = Table(
    name="jobs",
    description="Employment spells (from the polisadministratie), optional.",
    key=("job_id",),
    required=False,
    date_pairs=(("start_date", "end_date"),),
    columns=(
        Column("job_id", "id", "job id"),
        Column("person_id", "id", "person id"),
        Column("start_date", "date", "first day of the job"),
        Column("end_date", "date", "last day; empty = still running", nullable=True),
        Column(
            "monthly_earnings",
            "float",
            "monthly earnings in euros",
            required=False,
            nullable=True,
            min=0,
        ),
    ),
)

LADDER_STEPS = Table(
    name="ladder",
    description="Participation-ladder (ontwikkelladder) assessments, optional.",
    key=("person_id", "date"),
    required=False,
    columns=(
        Column("person_id", "id", "person id"),
        Column("date", "date", "date of the assessment"),
        Column("step", "int", "ladder step, 1 (isolated) to 6 (paid work)", min=1, max=6),
    ),
)

TABLES: dict[str, Table] = {
    t.name: t for t in (PERSONS, SPELLS, PROGRAMME_PARTICIPATIONS, WW, JOBS, LADDER_STEPS)
}


READING_EXTRACTS = """
## Reading extracts

`werkeffect.load(path, mapping=None)` reads a folder with one file per table, named
`<table>.<ext>` (`persons.csv`, `spells.sav`, ...; ext `csv`, `parquet`, `sav`, `dta`), and an
optional `extract.json` `{"extract_date": "YYYY-MM-DD"}`. Without an extract date, the latest
date in the data is used and noted in the data flow. `werkeffect check PATH` loads an extract,
prints the tables, row counts, date ranges and data flow, or every problem found (exit code 1).

### The Dutch CSV dialect

- Delimiter detected from the header line: `;` (Dutch Excel), `,`, tab or `|`.
- Encoding detected from the bytes: UTF-8 with or without byte-order mark, UTF-16,
  otherwise Windows-1252 (the superset of latin-1 Dutch Windows systems write).
- Numbers, decided per column (a euro sign and spaces are ignored):
  - decimal comma: a column in which any value has a comma is read as Dutch notation, `.`
    being the thousands separator in all its values (`1.234,56` = 1234.56);
  - whole euros: without commas, when every value with a `.` is a whole number in groups of
    three (`1.200`, `€ 1.200`, `12.345.678`), `.` is the thousands separator (`€ 1.200` =
    1200); the data flow notes it;
  - otherwise `.` is the decimal mark (`1250.50`; also `1.250` when the column's other values
    have three decimals, `1234.567`).
  - A column that mixes notations so that a value could be read either way — `1.200` next to
    `1075.38`, or `85.50` next to `1.234,56` — is refused (`ambiguous number notation`, with
    the rows): write all values of a column in one notation.
- Dates: `dd-mm-yyyy`, `dd/mm/yyyy`, `dd.mm.yyyy`, ISO `yyyy-mm-dd` (optionally with a time)
  and `yyyymmdd`, mixed within a column. Anything else is reported as a wrong type.
- Yes/no columns accept `1/0`, `ja/nee`, `j/n`, `true/false`, `waar/onwaar`, `yes/no`.
- Codes are matched case-insensitively (`WERK` is read as `werk`).
- Blank fields are missing values.

### SPSS and Stata value labels

Value labels are applied to the category columns (`sex`, `education`, `household`,
`exit_reason`, `programme`): a label that equals a code (`V`) or a code's meaning (`vrouw`)
gives that code; when the label matches nothing but the stored value is itself a code, the
value is kept; otherwise the label is used and reported as an unknown code. Other columns keep
their stored values.

### Mapping files

Extracts with other column names are read through a mapping file (YAML or JSON) that renames
columns per table before anything else:

```yaml
persons:
  PERSOON_ID: person_id
  GESLACHT: sex
spells:
  UITKERING_ID: spell_id
  BEGINDATUM: start_date
  EINDDATUM: end_date
  REDEN_UITSTROOM: exit_reason
```

`werkeffect check PATH --mapping mapping.yaml`. Column names that differ from the schema only
in upper/lower case are matched without a mapping.

### Validation

All problems are found in one pass and reported together in one `DataValidationError`, per
problem: table, column, rule, count and up to five example rows (1-based record numbers within
the file, header not counted; in a CSV file, line = row + 1). Rules: missing tables or
columns, unreadable or empty files, wrong types, missing values, identical duplicate rows
(dropped only with `repair=True` / `--repair`, recorded in the data flow), duplicate keys, end
before start, overlapping spells of one person, `jobcoaching`/`scholing`/`praktijkleren`
participations that start outside every bijstand spell of the person (`nazorg`, `stadsbeheer`
and `ww_naar_bijstand` need not lie within a spell), ids absent from persons, an age under 15
or over 100 at a spell start, dates after the extract date (except `ww_max_end`) or before
1900, numbers out of range, unknown codes, and an exit reason on a running spell.

An ended spell without an exit reason is not refused, but it counts as an exit for another
reason (cause 3, never an exit to work): `werkeffect check` prints how many there are and warns
when they are more than 5% of the ended spells, and the frames (`episodes`, `person_months`)
count them in the data flow. A high share undercounts exits to work and biases the effect on
exit to work when reasons are missing more often for participants than for others (or the
reverse).

### The BSN guard

An analysis extract must never contain a BSN. `load` refuses an extract in which 50% or more
of a column's non-empty values look like BSNs: 9 digits (or 8, a leading zero lost) passing the
*elfproef* (9·d1 + 8·d2 + … + 2·d8 − d9 divisible by 11). About 1 in 11 random 9-digit numbers
pass, so pseudonymous numeric ids do not trip the guard. The message names table and column and
tells the user to pseudonymise.

### Pseudonymisation

```sh
werkeffect pseudonymise RAW_FOLDER --out PSEUDO_FOLDER --key-file ~/secure/werkeffect.key
```

replaces every `*_id` column (or those named with `--columns`) in every table by an
HMAC-SHA256 keyed hash of the id, the first 16 hex characters (64 bits; with n ids the chance
of any collision is about n²/2⁶⁵, 3·10⁻⁸ for a million ids). The same id gives the same
pseudonym in every table, so joins keep working, and the same key gives the same pseudonyms for
later extracts. Numeric ids are normalised first (`012345678`, `12345678` and `12345678.0` are
one id). The key is read from the key file, which is created with a random 256-bit key and
permissions 600 when it does not exist; keep it private and outside the output folder (a key
file inside the output folder is refused). Neither the key nor the original ids are written
anywhere; if another column still looks like BSNs afterwards, nothing is written. Tables keep
their format (CSV, Parquet, SPSS, Stata); `extract.json` is copied, other files are not.

### Analysis frames

`werkeffect.episodes(dataset, programme="jobcoaching", window_start=None)` gives start–stop
rows per spell, split where the programme starts and ends, with times in months of
365.25/12 days since the spell's start (a spell is at risk from its first to the end of its
last day; running spells are censored at the end of the extract date). A participation
belongs to the spell in which it starts; `treated` switches on at the first start (absorbing),
`in_programme` while a participation runs. With `window_start`, spells already running enter
at their elapsed duration (left truncation) and spells ended before it are dropped.
`werkeffect.person_months(dataset)` gives one row per person per calendar month (on benefit,
completed months in the spell, exit and cause, treated, employed and earnings from `jobs`,
the last ladder step). Both carry the data-flow record in `frame.attrs["flow"]`. The full
panel has every person in every month; at national scale that does not fit in memory, and
`person_months` then refuses before building it (a `MemoryError` with the size), so use
`on_benefit_only=True` or a window (`start=`, `end=`).
`werkeffect.data.participation_spells(dataset, programme="jobcoaching")` links each
participation to its spell by the same rule, with the spell's end, exit reason and the days
from the start to that end (empty when the spell is still running); the programme monitor
counts participants who found work with it.
"""


def render_markdown() -> str:
    """The data model as Markdown (for ``docs/data.md``)."""
    out = ["# The werkeffect data model", "", __doc__.strip(), ""]
    for t in TABLES.values():
        req = "required" if t.required else "optional"
        out += [f"## `{t.name}` ({req})", "", t.description, "", f"Key: `{', '.join(t.key)}`", ""]
        out += ["| column | type | required | empty allowed | meaning |", "|---|---|---|---|---|"]
        for c in t.columns:
            meaning = c.description
            if c.min is not None and c.max is not None:
                meaning += f" (range {c.min:g}–{c.max:g})"
            elif c.min is not None:
                meaning += f" (at least {c.min:g})"
            out.append(
                f"| `{c.name}` | {c.dtype} | {'yes' if c.required else 'no'} | "
                f"{'yes' if c.nullable else 'no'} | {meaning} |"
            )
        for c in t.columns:
            if c.codes:
                out += ["", f"Codes of `{c.name}`:", ""]
                out += [f"- `{k}`: {v}" for k, v in c.codes.items()]
        out.append("")
    out.append(READING_EXTRACTS.strip())
    out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(render_markdown())
