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
    "deeltijdwerk": "part-time work with earnings above the benefit level",
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
            "reason the spell ended; empty while running",
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


def render_markdown() -> str:
    """The data model as Markdown (for ``docs/data.md``)."""
    out = ["# The werkeffect data model", "", __doc__.strip(), ""]
    for t in TABLES.values():
        req = "required" if t.required else "optional"
        out += [f"## `{t.name}` ({req})", "", t.description, "", f"Key: `{', '.join(t.key)}`", ""]
        out += ["| column | type | required | empty allowed | meaning |", "|---|---|---|---|---|"]
        for c in t.columns:
            meaning = c.description
            if c.min is not None or c.max is not None:
                meaning += f" (range {c.min:g}–{c.max:g})" if c.max is not None else ""
            out.append(
                f"| `{c.name}` | {c.dtype} | {'yes' if c.required else 'no'} | "
                f"{'yes' if c.nullable else 'no'} | {meaning} |"
            )
        for c in t.columns:
            if c.codes:
                out += ["", f"Codes of `{c.name}`:", ""]
                out += [f"- `{k}`: {v}" for k, v in c.codes.items()]
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(render_markdown())
