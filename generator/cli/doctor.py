"""`scaffold doctor`: is this machine, with this configuration, ready? Each finding with its fix."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from generator.errors import ExitCode

if TYPE_CHECKING:
    from generator.results import DoctorReport

DOCTOR_HELP = """\
required: git, the user config, the template source and the knowledge home. The rest (git
identity, folders, the bundled templates' copy, optional checkers, AI settings and key) only warns.
Nothing is created or changed, and the API key is never shown.

exit codes of doctor:
  0    every required part is fine (warnings do not count)
  2    the configuration is broken: the user config, the template source or the knowledge home
  5    the machine is: git is missing or too old (5 wins when both apply)
"""


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add `scaffold doctor` to the `scaffold` parser."""
    parser = sub.add_parser(
        "doctor",
        help="check git, the configuration, the templates, the knowledge home and the AI setup",
        description=(
            "Check this machine and scaffold's configuration: git and its version, the user config, the "
            "per-user folders, the bundled templates, the template source, the knowledge home, the optional "
            "checkers of the fill step and the API key. Each finding says what it means and how to fix it."
        ),
        epilog=DOCTOR_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--online", action="store_true", help="also ask the Anthropic API whether it answers (one free request)"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object with every check on stdout")
    parser.set_defaults(handler=run_doctor)


def run_doctor(args: argparse.Namespace) -> int:
    from generator.doctor import diagnose

    report = diagnose(online=args.online)
    code = exit_code(report)
    if args.json:
        print(json.dumps(_as_json(report, code), indent=2))
    else:
        print("\n".join(_lines(report, code)))
    return code


def exit_code(report: DoctorReport) -> ExitCode:
    faults = {check.fault for check in report.failures}
    if "environment" in faults:
        return ExitCode.EXTERNAL
    return ExitCode.USAGE if faults else ExitCode.OK


def _as_json(report: DoctorReport, code: int) -> dict[str, Any]:
    return {
        "scaffold": report.version,
        "python": _python_version(),
        "ok": not report.failures,
        "exit_code": int(code),
        "checks": [
            {
                "name": check.name,
                "status": check.status,
                "detail": check.detail,
                "fix": check.fix,
                "required": check.required,
                "fault": check.fault,
            }
            for check in report.checks
        ],
    }


_LABELS = {"ok": "ok", "warn": "warn", "fail": "FAIL"}


def _python_version() -> str:
    # `platform` compiles nine regular expressions on import: every command would pay for doctor's line.
    import platform

    return platform.python_version()


def _lines(report: DoctorReport, code: int) -> list[str]:
    lines = [f"Checking scaffold {report.version} (Python {_python_version()}, {sys.executable})"]
    width = max(len(check.name) for check in report.checks)
    for check in report.checks:
        lines.append(f"  {_LABELS[check.status]:<4}  {check.name:<{width}}  {check.detail}")
        if check.fix:
            lines.append(f"        {'':<{width}}  {'note' if check.status == 'ok' else 'fix'}: {check.fix}")
    warnings = len(report.warnings)
    noted = f"; {warnings} warning{'s' * (warnings != 1)}" if warnings else ""
    if report.failures:
        failed = ", ".join(check.name for check in report.failures)
        lines.append(f"Not ready: {failed} failed{noted} (exit code {int(code)}).")
    else:
        lines.append(f"Ready: every required part is fine{noted}.")
    return lines
