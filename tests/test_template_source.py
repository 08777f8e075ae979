"""Reading a template source without Copier: git's errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.errors import TemplateSourceError
from generator.template.source import TemplateSource


def test_a_failed_clone_names_gits_cause(tmp_path: Path) -> None:
    source = TemplateSource(url=f"file://{tmp_path}/nowhere.git", origin="flag", root=None, version=None)
    with pytest.raises(TemplateSourceError) as caught, source.readable():
        pass
    message = str(caught.value)
    assert message.startswith(f"cannot fetch templates from file://{tmp_path}/nowhere.git: fatal: ")
    assert "\n" not in message
