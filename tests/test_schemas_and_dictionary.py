"""The contract's table models, what is derived from them, and the data dictionary generated from them."""

import pandas as pd
import pandera.errors
import pytest

from pipeline.contract import CORRECTION_FIELDS
from pipeline.publish.dictionary import TARGET, render
from pipeline.tables.schemas import COLUMN_TYPES, COLUMNS, SCHEMAS, TEXT_TYPE, column_types


def test_every_table_is_named_after_its_file_and_says_what_it_holds():
    for name, schema in SCHEMAS.items():
        assert schema.name == name and schema.title and schema.description, name


def test_every_column_is_described():
    for name, schema in SCHEMAS.items():
        assert all(column.description for column in schema.columns.values()), name


def test_a_column_name_is_read_as_one_type_in_every_table():
    """The data dictionary gives consumers one map of types for all the files."""
    for name in SCHEMAS:
        for column, kind in column_types(name).items():
            assert COLUMN_TYPES.get(column, TEXT_TYPE) == kind, (name, column)


def test_committed_data_dictionary_matches_the_schemas():
    assert TARGET.read_text(encoding="utf-8") == render(), "run: python -m pipeline.publish.dictionary"


ITEM = {
    "item_id": "a1", "document_id": "d1", "departement_code": "72", "section": "diagnostic",
    "theme": "gouvernance", "theme_raw": "Gouvernance", "role": "irritant", "text": "Trop peu de postes.",
    "category": "equipement", "categories": ["equipement"], "category_score": 0.8, "page": None,
    "table_index": 2, "row_index": 1, "category_source": "model", "needs_review": False,
}
PARTICIPANT = {"document_id": "d1", "departement_code": "72", "category": "usagers", "checked": True, "count": 12,
               "n_etablissements": None}


def _failures(table: str, rows: list[dict]) -> set[tuple[str, str]]:
    try:
        SCHEMAS[table].validate(pd.DataFrame(rows, dtype=object), lazy=True)
    except pandera.errors.SchemaErrors as errors:
        return set(errors.failure_cases[["column", "check"]].itertuples(index=False, name=None))
    return set()


def test_the_schemas_accept_a_valid_row():
    assert _failures("items", [ITEM]) == set()
    assert _failures("participants", [PARTICIPANT]) == set()


@pytest.mark.parametrize("table, rows, column", [
    ("items", [ITEM, ITEM], "item_id"),
    ("items", [{**ITEM, "theme": "numerique"}], "theme"),
    ("participants", [{**PARTICIPANT, "count": -1}], "count"),
    ("participants", [{**PARTICIPANT, "n_etablissements": True}], "n_etablissements"),
])
def test_the_schemas_refuse_a_duplicated_id_an_unknown_theme_and_a_bad_count(table, rows, column):
    """The rules the blocking check `schema_du_contrat` enforces in each table's step."""
    assert column in {failed for failed, _ in _failures(table, rows)}


def test_the_review_queue_ends_with_the_columns_of_a_corrections_file():
    """A filled-in copy of the queue is a valid corrections file."""
    assert COLUMNS["review_queue"][-6:] == [*CORRECTION_FIELDS, "exclude", "comment"]
