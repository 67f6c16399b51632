"""docs/data.md is rendered from the schema and must stay in sync with it."""

from pathlib import Path

from werkeffect.data.schema import render_markdown


def test_docs_data_md_is_rendered_from_schema():
    doc = Path(__file__).parents[1] / "docs" / "data.md"
    assert doc.read_text(encoding="utf-8") == render_markdown() + "\n", (
        "run `python -m werkeffect.data.schema > docs/data.md`"
    )
