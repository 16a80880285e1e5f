"""The shared vocabulary: the data standard, its code lists and its definitions.

The JSON files in ``v1/`` are the single source of truth; this package reads them and
the documentation in ``docs/standard/`` is generated from them.
"""

from publieksdata.standard.codelists import CodeList, codelist, codelists
from publieksdata.standard.schema import Field, Resource, Standard, load_standard

__all__ = [
    "CodeList",
    "Field",
    "Resource",
    "Standard",
    "codelist",
    "codelists",
    "load_standard",
]
