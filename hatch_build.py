"""Build hook: ship the templates, the bundled context and their git history in the package.

The wheel gets `generator/_data/repo/` (copier.yml, includes/, templates/, context/ as plain
files, for reading) and `generator/_data/templates.bundle` (the history, for Copier). An sdist
carries a prebuilt bundle, so a wheel built from it keeps the history it cannot rebuild.
Editable installs need neither: they read the checkout.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

PREBUILT = "generator/_data/templates.bundle"


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    # The folder holding this build's bundle: it must outlive `initialize` (the archive is written
    # from it afterwards), so `finalize` removes it, or `initialize` itself when it fails.
    _scratch: Path | None = None

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return
        self._scratch = Path(tempfile.mkdtemp(prefix="scaffold-build-"))
        try:
            self._include_bundle(build_data, self._scratch / "templates.bundle")
        except BaseException:
            self._remove_scratch()
            raise

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        self._remove_scratch()

    def _remove_scratch(self) -> None:
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def _include_bundle(self, build_data: dict[str, Any], bundle_file: Path) -> None:
        root = Path(self.root)
        sys.path.insert(0, str(root))
        try:
            from generator.template import bundle
        finally:
            sys.path.pop(0)

        force: dict[str, str] = build_data.setdefault("force_include", {})
        if bundle.is_git_checkout(root):
            bundle.build_bundle(root, bundle_file)
            force[str(bundle_file)] = PREBUILT
        elif (root / PREBUILT).is_file():
            pass  # an unpacked sdist: the prebuilt bundle is already a package file
        else:
            package_version = self.metadata.version
            self.app.display_warning(
                "not a git checkout and no prebuilt bundle: projects made from this build record a "
                "single-commit history and cannot be updated from other releases"
            )
            bundle.build_bundle_from_files(root, bundle_file, package_version)
            force[str(bundle_file)] = PREBUILT

        if self.target_name == "wheel":
            for item in bundle.REPO_LAYOUT:
                if (root / item).exists():
                    force[str(root / item)] = f"generator/_data/repo/{item}"
