"""One way for every command to print its result: a text rendering, or JSON with --json."""
from __future__ import annotations

import json
import sys
from typing import Any, Callable


def add_json_flag(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def emit(result: Any, as_json: bool, render: Callable[[Any], str] | None = None) -> None:
    if as_json:
        json.dump(result, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    elif render is not None:
        print(render(result))
    else:
        json.dump(result, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
