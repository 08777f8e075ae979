"""Print the OpenAPI document; `make openapi` writes it to openapi.json.

The committed openapi.json is the API contract; tests/test_openapi.py fails when the
app and the file disagree. `make openapi` writes the output to a temporary file and
moves it over openapi.json only when this module exits cleanly, so an app that fails
to import leaves the contract as it was.
"""

import json
import sys
from typing import Any

from shop.app import create_app


def render(document: dict[str, Any]) -> str:
    """The canonical text of the document: sorted keys, so diffs show real changes only."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    sys.stdout.write(render(create_app().openapi()))


if __name__ == "__main__":
    main()
