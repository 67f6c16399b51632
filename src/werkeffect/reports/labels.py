"""Readable names for the covariates the evaluations store under their column names.

Balance tables and the proportional-hazards test list covariates as the analyses name them
(``x_barrier_health``, ``household_paar_kinderen``); a report shows them in words.
"""

from __future__ import annotations

#: covariate column -> (Dutch, English)
COVARIATE_LABELS: dict[str, tuple[str, str]] = {
    "age": ("leeftijd", "age"),
    "age_lt27": ("jonger dan 27", "under 27"),
    "age_45_54": ("45 tot 55 jaar", "aged 45 to 54"),
    "age_55p": ("55 jaar of ouder", "aged 55 or over"),
    "female": ("vrouw", "female"),
    "sex_V": ("vrouw", "female"),
    "sex_X": ("geslacht anders of onbekend", "sex other or unknown"),
    "barrier_health": ("gezondheidsproblemen", "health problems"),
    "barrier_language": ("taalbarrière", "language barrier"),
    "barrier_debts": ("schulden", "debts"),
    "statushouder": ("statushouder", "refugee with a permit (statushouder)"),
    "startkwalificatie": ("met startkwalificatie", "with a basic qualification"),
    "previous_spells_capped": ("eerdere uitkeringen (tot 3)", "previous spells (up to 3)"),
    "log_months_on_benefit": ("maanden in de bijstand (log)", "months on bijstand (log)"),
    "months_on_benefit": ("maanden in de bijstand", "months on bijstand"),
    "distance": ("propensity score (logit)", "propensity score (logit)"),
    "treated": ("deelname", "participation"),
    "GLOBAL": ("alle kenmerken samen", "all covariates together"),
}

#: prefix of a category dummy -> (Dutch, English) name of the variable
CATEGORY_LABELS: dict[str, tuple[str, str]] = {
    "education": ("opleiding", "education"),
    "household": ("huishouden", "household"),
    "sex": ("geslacht", "sex"),
}

#: category levels as the data code them -> (Dutch, English)
LEVEL_LABELS: dict[str, tuple[str, str]] = {
    "laag": ("laag", "low"),
    "middelbaar": ("middelbaar", "intermediate"),
    "hoog": ("hoog", "high"),
    "alleenstaande_ouder": ("alleenstaande ouder", "single parent"),
    "alleenstaand": ("alleenstaand", "single"),
    "paar": ("paar zonder kinderen", "couple without children"),
    "paar_kinderen": ("paar met kinderen", "couple with children"),
}

#: the kind of a covariate in a balance table
KIND_LABELS: dict[str, tuple[str, str]] = {
    "binary": ("0/1", "binary"),
    "continuous": ("doorlopend", "continuous"),
}


def covariate_label(name: str, lang: str = "nl") -> str:
    """A covariate's name in words (unknown names are returned as they are)."""
    i = 0 if lang == "nl" else 1
    base = name[2:] if name.startswith("x_") else name
    if base in COVARIATE_LABELS:
        return COVARIATE_LABELS[base][i]
    for prefix, words in CATEGORY_LABELS.items():
        if base.startswith(prefix + "_"):
            level = base[len(prefix) + 1 :]
            return f"{words[i]}: {LEVEL_LABELS.get(level, (level, level))[i]}"
    return name


def kind_label(kind: str, lang: str = "nl") -> str:
    """``binary``/``continuous`` in words."""
    return KIND_LABELS.get(kind, (kind, kind))[0 if lang == "nl" else 1]
