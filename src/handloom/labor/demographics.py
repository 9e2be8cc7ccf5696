"""Self-reported demographics: what a worker chooses to say about themselves, and nothing more.

Every field is optional; leaving one out is "prefer not to say" and is stored as nothing at
all. The worker can change or erase their answers at any time, and an operator can erase
them on request (``handloom worker forget-demographics``). Values live in
``workers.demographics`` (only the keys given; NULL when none) and are never shown to staff
one worker at a time: the transparency report counts them in groups of at least k workers
(:mod:`handloom.disclose.facts`), and nothing else reads them. The ledger records which
fields were given or erased, never the values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from handloom import ledger
from handloom.errors import Invalid, NotFound
from handloom.store.fastsql import Sql

AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
GENDERS = ("woman", "man", "non_binary", "another_gender")
EDUCATION = ("secondary_or_less", "some_tertiary", "bachelors", "postgraduate")

# ISO 639-1 two-letter language codes with their English names.
LANGUAGES: dict[str, str] = {
    "aa": "Afar", "ab": "Abkhazian", "ae": "Avestan", "af": "Afrikaans", "ak": "Akan",
    "am": "Amharic", "an": "Aragonese", "ar": "Arabic", "as": "Assamese", "av": "Avaric",
    "ay": "Aymara", "az": "Azerbaijani", "ba": "Bashkir", "be": "Belarusian",
    "bg": "Bulgarian", "bi": "Bislama", "bm": "Bambara", "bn": "Bengali", "bo": "Tibetan",
    "br": "Breton", "bs": "Bosnian", "ca": "Catalan", "ce": "Chechen", "ch": "Chamorro",
    "co": "Corsican", "cr": "Cree", "cs": "Czech", "cu": "Church Slavonic", "cv": "Chuvash",
    "cy": "Welsh", "da": "Danish", "de": "German", "dv": "Dhivehi", "dz": "Dzongkha",
    "ee": "Ewe", "el": "Greek", "en": "English", "eo": "Esperanto", "es": "Spanish",
    "et": "Estonian", "eu": "Basque", "fa": "Persian", "ff": "Fulah", "fi": "Finnish",
    "fj": "Fijian", "fo": "Faroese", "fr": "French", "fy": "Western Frisian", "ga": "Irish",
    "gd": "Scottish Gaelic", "gl": "Galician", "gn": "Guarani", "gu": "Gujarati",
    "gv": "Manx", "ha": "Hausa", "he": "Hebrew", "hi": "Hindi", "ho": "Hiri Motu",
    "hr": "Croatian", "ht": "Haitian Creole", "hu": "Hungarian", "hy": "Armenian",
    "hz": "Herero", "ia": "Interlingua", "id": "Indonesian", "ie": "Interlingue",
    "ig": "Igbo", "ii": "Sichuan Yi", "ik": "Inupiaq", "io": "Ido", "is": "Icelandic",
    "it": "Italian", "iu": "Inuktitut", "ja": "Japanese", "jv": "Javanese",
    "ka": "Georgian", "kg": "Kongo", "ki": "Kikuyu", "kj": "Kuanyama", "kk": "Kazakh",
    "kl": "Kalaallisut", "km": "Khmer", "kn": "Kannada", "ko": "Korean", "kr": "Kanuri",
    "ks": "Kashmiri", "ku": "Kurdish", "kv": "Komi", "kw": "Cornish", "ky": "Kyrgyz",
    "la": "Latin", "lb": "Luxembourgish", "lg": "Ganda", "li": "Limburgish",
    "ln": "Lingala", "lo": "Lao", "lt": "Lithuanian", "lu": "Luba-Katanga", "lv": "Latvian",
    "mg": "Malagasy", "mh": "Marshallese", "mi": "Maori", "mk": "Macedonian",
    "ml": "Malayalam", "mn": "Mongolian", "mr": "Marathi", "ms": "Malay", "mt": "Maltese",
    "my": "Burmese", "na": "Nauru", "nb": "Norwegian Bokmål", "nd": "North Ndebele",
    "ne": "Nepali", "ng": "Ndonga", "nl": "Dutch", "nn": "Norwegian Nynorsk",
    "no": "Norwegian", "nr": "South Ndebele", "nv": "Navajo", "ny": "Chichewa",
    "oc": "Occitan", "oj": "Ojibwa", "om": "Oromo", "or": "Odia", "os": "Ossetian",
    "pa": "Punjabi", "pi": "Pali", "pl": "Polish", "ps": "Pashto", "pt": "Portuguese",
    "qu": "Quechua", "rm": "Romansh", "rn": "Kirundi", "ro": "Romanian", "ru": "Russian",
    "rw": "Kinyarwanda", "sa": "Sanskrit", "sc": "Sardinian", "sd": "Sindhi",
    "se": "Northern Sami", "sg": "Sango", "si": "Sinhala", "sk": "Slovak",
    "sl": "Slovenian", "sm": "Samoan", "sn": "Shona", "so": "Somali", "sq": "Albanian",
    "sr": "Serbian", "ss": "Swati", "st": "Southern Sotho", "su": "Sundanese",
    "sv": "Swedish", "sw": "Swahili", "ta": "Tamil", "te": "Telugu", "tg": "Tajik",
    "th": "Thai", "ti": "Tigrinya", "tk": "Turkmen", "tl": "Tagalog", "tn": "Tswana",
    "to": "Tongan", "tr": "Turkish", "ts": "Tsonga", "tt": "Tatar", "tw": "Twi",
    "ty": "Tahitian", "ug": "Uyghur", "uk": "Ukrainian", "ur": "Urdu", "uz": "Uzbek",
    "ve": "Venda", "vi": "Vietnamese", "vo": "Volapük", "wa": "Walloon", "wo": "Wolof",
    "xh": "Xhosa", "yi": "Yiddish", "yo": "Yoruba", "za": "Zhuang", "zh": "Chinese",
    "zu": "Zulu",
}

# The fields a worker may give, with their allowed values; None: an ISO 639-1 code
# (``LANGUAGES``). Reports iterate this to count every value, given or not.
FIELDS: dict[str, tuple[str, ...] | None] = {
    "age_band": AGE_BANDS,
    "gender": GENDERS,
    "education": EDUCATION,
    "first_language": None,
}

# How fields and values read on a page.
FIELD_NAMES = {"age_band": "Age", "gender": "Gender", "education": "Education",
               "first_language": "First language"}
VALUE_NAMES: dict[str, dict[str, str]] = {
    "age_band": {"18-24": "18–24", "25-34": "25–34", "35-44": "35–44", "45-54": "45–54",
                 "55-64": "55–64", "65+": "65 or over"},
    "gender": {"woman": "Woman", "man": "Man", "non_binary": "Non-binary",
               "another_gender": "Another gender"},
    "education": {"secondary_or_less": "Secondary school or less",
                  "some_tertiary": "Some university or college",
                  "bachelors": "Bachelor's degree", "postgraduate": "Postgraduate degree"},
    "first_language": LANGUAGES,
}

# Said wherever a worker is asked: why, and what becomes of the answers.
HOW_USED = ("Every question is optional: leave it at \"Prefer not to say\" and nothing is "
            "stored. Your answers are never shown to anyone one worker at a time, project "
            "staff included. Transparency reports count them only in groups of at least 5 "
            "workers (more where a project asks for more); a smaller group is folded into "
            "\"other\" or left out. You can change or erase them at any time.")


def allowed_values(name: str) -> tuple[str, ...]:
    """The values a field takes (for ``first_language``, every ISO 639-1 code)."""
    values = FIELDS[name]
    return tuple(LANGUAGES) if values is None else values


def validate(values: Mapping[str, Any]) -> dict[str, str]:
    """The fields given, checked: absent, None or empty means "prefer not to say" and is
    dropped. An unknown field or value is Invalid, naming the field and what it takes."""
    out: dict[str, str] = {}
    for name, raw in values.items():
        if name not in FIELDS:
            raise Invalid(f"Unknown demographic field {name!r}; the fields are "
                          f"{', '.join(FIELDS)} (all optional).", field=name)
        if raw is None:
            continue
        if not isinstance(raw, str):
            raise Invalid(f"{name} must be text (one of the listed values) or left out.",
                          field=name)
        value = raw.strip()
        if not value:
            continue
        if FIELDS[name] is None:
            value = value.lower()
            if value not in LANGUAGES:
                raise Invalid(f"{name}: {raw[:20]!r} is not an ISO 639-1 language code; use "
                              "two letters such as 'en', 'sw', 'hi' or 'es', or leave it out.",
                              field=name)
        elif value not in allowed_values(name):
            raise Invalid(f"{name}: {raw[:40]!r} is not one of "
                          f"{', '.join(allowed_values(name))} (or leave it out).", field=name)
        out[name] = value
    return out


def clean(raw: Any) -> dict[str, str]:
    """A stored value read back safely: only known fields with allowed values (anything
    else, e.g. written by an older version, is ignored rather than published)."""
    if isinstance(raw, str | bytes):
        raw = Sql.load(raw)
    if not isinstance(raw, Mapping):
        return {}
    out = {}
    for name, value in raw.items():
        if name in FIELDS and isinstance(value, str) and value in allowed_values(name):
            out[name] = value
    return out


def _stored(sql: Sql, worker_id: int) -> dict[str, str]:
    row = sql.first("SELECT demographics FROM workers WHERE id = ?"
                    + (" FOR UPDATE" if sql.pg else ""), (worker_id,))
    if row is None:
        raise NotFound(f"No worker with id {worker_id}.")
    return clean(row[0])


def demographics_of(conn: Connection, worker_id: int) -> dict[str, str]:
    """What the worker has chosen to give (only the fields given). For the worker
    themselves; never show it to staff."""
    sql = Sql(conn)
    row = sql.first("SELECT demographics FROM workers WHERE id = ?", (worker_id,))
    if row is None:
        raise NotFound(f"No worker with id {worker_id}.")
    return clean(row[0])


def set_demographics(conn: Connection, worker_id: int, values: Mapping[str, Any], *,
                     actor: str) -> dict[str, str]:
    """Replace what the worker has given with *values* (a field left out is no longer
    given). Records ``worker.demographics_set`` with the field names given and those
    cleared, never the values; writes nothing when nothing changes."""
    chosen = validate(values)
    sql = Sql(conn)
    before = _stored(sql, worker_id)
    if chosen == before:
        return chosen
    sql.run("UPDATE workers SET demographics = ? WHERE id = ?",
            (sql.json(chosen) if chosen else None, worker_id))
    ledger.append(conn, "worker.demographics_set", actor=actor,
                  body={"worker": worker_id, "fields": sorted(chosen),
                        "cleared": sorted(set(before) - set(chosen))})
    return chosen


def forget_demographics(conn: Connection, worker_id: int, *, actor: str) -> list[str]:
    """Erase everything the worker gave (their own choice, or an operator acting on their
    erasure request). Always recorded (``worker.demographics_erased``, with the field
    names erased), so that an erasure request can be shown to have been acted on. Returns
    the fields erased."""
    sql = Sql(conn)
    before = _stored(sql, worker_id)
    if before:
        sql.run("UPDATE workers SET demographics = NULL WHERE id = ?", (worker_id,))
    ledger.append(conn, "worker.demographics_erased", actor=actor,
                  body={"worker": worker_id, "fields": sorted(before)})
    return sorted(before)
