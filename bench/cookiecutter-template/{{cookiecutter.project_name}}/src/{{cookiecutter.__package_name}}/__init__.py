"""{{ cookiecutter.description | wordwrap(80, break_on_hyphens=False) | replace('\\', '\\\\') | replace('"', '\\"') }}"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("{{ cookiecutter.project_name }}")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0.0.0"

# One line for places that show the summary (OpenAPI, logs), whatever the docstring's wrapping.
DESCRIPTION = " ".join((__doc__ or "").split())
