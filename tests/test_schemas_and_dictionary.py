"""The contract's schemas and the data dictionary generated from them."""

from pipeline.contract import COLUMN_TYPES, COLUMNS
from pipeline.dictionary import TARGET, render
from pipeline.schemas import SCHEMAS


def test_every_contract_table_has_a_schema_with_its_exact_columns():
    assert set(SCHEMAS) == set(COLUMNS)
    for name, columns in COLUMNS.items():
        assert list(SCHEMAS[name].columns) == columns


def test_every_column_is_described():
    for name, schema in SCHEMAS.items():
        assert all(column.description for column in schema.columns.values()), name


def test_committed_data_dictionary_matches_the_schemas():
    assert TARGET.read_text(encoding="utf-8") == render(), "run: python -m pipeline.dictionary"


def test_every_typed_column_is_a_contract_column():
    """A typo in `COLUMN_TYPES` would leave a number read as text."""
    assert set(COLUMN_TYPES) <= {column for columns in COLUMNS.values() for column in columns}
