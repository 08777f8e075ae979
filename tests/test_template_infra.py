"""The `infra` template: a Terraform module in the standard module structure, per cloud and kind.

Fast tests render every cloud x module_kind variant once (plus a few with non-default answers) and check
the tree, the fill regions, the README tables and the validation of the answers. Slow tests parse every
file with python-hcl2, hold the variable/output conventions, run `terraform fmt`, run checkov once over
all variants and, where the AWS provider is mirrored on the machine, `terraform validate` and
`terraform test` for real.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.fill.regions import find_regions
from tests.helpers import AGENTS_REGION, ci_checks, render_template, run, venv_bin

# Checkov adds checks in minor releases; the template must stay clean under any 3.x.
TOOLS = {"checkov": "checkov>=3.2,<4", "hcl2": "python-hcl2>=7,<9"}

KINDS = {"aws": ["storage", "network", "container"], "gcp": ["storage", "network"], "azure": ["storage", "network"]}
PROVIDERS = {"aws": "aws", "gcp": "google", "azure": "azurerm"}
DEFAULT_REGIONS = {"aws": "eu-west-1", "gcp": "europe-west1", "azure": "westeurope"}

# Variant id -> answers. The plain variants give only cloud and kind, so they also prove the defaults;
# the project names carry an underscore, which resource names must not.
VARIANTS: dict[str, dict[str, str]] = {
    f"{cloud}_{kind}": ({"cloud": cloud, "module_kind": kind} if (cloud, kind) != ("aws", "storage") else {})
    for cloud, kinds in KINDS.items()
    for kind in kinds
}
VARIANTS["aws_network_prod"] = {
    "cloud": "aws",
    "module_kind": "network",
    "environment": "prod",
    "region": "us-east-2",
    "tags": "cost-center=cc-42, team=payments,app.example/tier=gold",
}
VARIANTS["gcp_storage_tagged"] = {
    "cloud": "gcp",
    "module_kind": "storage",
    "environment": "staging",
    "owner": "Data Platform",
    "tags": "cost-center=cc-42",
}
VARIANTS["azure_storage_prod"] = {"cloud": "azure", "module_kind": "storage", "environment": "prod"}

MODULE_FILES = [
    "versions.tf",
    "main.tf",
    "variables.tf",
    "outputs.tf",
    "README.md",
    "examples/basic/main.tf",
    "examples/basic/versions.tf",
    "examples/basic/variables.tf",
    "examples/basic/outputs.tf",
    "tests/unit.tftest.hcl",
    ".tflint.hcl",
    ".gitignore",
    "Makefile",
    ".github/workflows/ci.yml",
    ".github/workflows/template-update.yml",
    "scripts/readme_tables.py",
    ".copier-answers.yml",
]
REGIONS = {
    "main.tf#resources",
    "variables.tf#inputs",
    "outputs.tf#outputs",
    "tests/unit.tftest.hcl#tests",
    AGENTS_REGION,
}

# `${{ ... }}` is a GitHub Actions expression and `%{ ... }` a Terraform directive; anything else
# that looks like Jinja is a rendering leak.
JINJA_LEFTOVER = re.compile(r"\{%|%\}|\{#|#\}|(?<!\$)\{\{")
HCL_FILE = re.compile(r"(\.tf|\.tftest\.hcl|\.tflint\.hcl)$")


def _answers(project: Path) -> dict[str, Any]:
    answers: dict[str, Any] = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    return answers


def _cloud_kind(variant: str) -> tuple[str, str]:
    answers = VARIANTS[variant]
    return answers.get("cloud", "aws"), answers.get("module_kind", "storage")


def _hcl_files(project: Path) -> list[Path]:
    return sorted(p for p in project.rglob("*") if p.is_file() and HCL_FILE.search(p.name))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, render_home: None) -> dict[str, Path]:
    """Every variant rendered once into one folder, so checkov can scan them in one run."""
    root = tmp_path_factory.mktemp("infra-variants")
    return {name: render_template("infra", root / name, data) for name, data in VARIANTS.items()}


# --- fast -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
def test_renders_the_standard_module_structure(rendered: dict[str, Path], variant: str) -> None:
    project = rendered[variant]
    cloud, kind = _cloud_kind(variant)
    missing = [name for name in MODULE_FILES if not (project / name).is_file()]
    assert not missing, f"{variant}: missing {missing}"
    assert not (project / "questions.yml").exists()
    assert not any("~" in p.as_posix() for p in project.rglob("*")), "template partials leaked"

    answers = _answers(project)
    assert (answers["cloud"], answers["module_kind"]) == (cloud, kind)
    for shared in ("python_version", "port", "include_docker"):
        assert shared not in answers, f"{shared} does not apply to infra"

    provider = PROVIDERS[cloud]
    versions = (project / "versions.tf").read_text(encoding="utf-8")
    assert re.search(r'required_version\s*=\s*">= 1\.11', versions)
    assert f'source  = "hashicorp/{provider}"' in versions
    assert re.search(r'version\s*=\s*">= [0-9.]+, < [0-9.]+"', versions), "provider needs a bounded range"
    others = {p for c, p in PROVIDERS.items() if c != cloud}
    for tf in project.rglob("*.tf"):
        text = tf.read_text(encoding="utf-8")
        assert not any(re.search(rf'resource "{other}_', text) for other in others), tf

    example = (project / "examples/basic/main.tf").read_text(encoding="utf-8")
    assert 'source = "../.."' in example
    assert f'provider "{provider}"' in example
    assert "required_providers" in (project / "examples/basic/versions.tf").read_text(encoding="utf-8")

    unit = (project / "tests/unit.tftest.hcl").read_text(encoding="utf-8")
    assert f'mock_provider "{provider}"' in unit
    runs = re.findall(r'^run "', unit, flags=re.M)
    assert len(runs) >= 4 and len(re.findall(r"^  command = plan$", unit, flags=re.M)) == len(runs)

    makefile = (project / "Makefile").read_text(encoding="utf-8")
    for target in ("fmt", "validate", "test", "lint", "checkov"):
        assert re.search(rf"^{target}:", makefile, flags=re.M), target
    assert "\n\t" in makefile, "make recipes need tabs"
    checks = ci_checks(project)
    for check in ("fmt -check", "validate", "test", "tflint", "checkov", "PARSE_HCL"):
        assert check in checks, check
    assert f'plugin "{provider}"' in (project / ".tflint.hcl").read_text(encoding="utf-8")


@pytest.mark.parametrize("variant", VARIANTS)
def test_leaves_no_jinja_behind(rendered: dict[str, Path], variant: str) -> None:
    leaks = [
        f"{path.relative_to(rendered[variant])}:{number}: {line.strip()}"
        for path in rendered[variant].rglob("*")
        if path.is_file()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if JINJA_LEFTOVER.search(line)
    ]
    assert not leaks, "\n".join(leaks)


@pytest.mark.parametrize("variant", VARIANTS)
def test_marks_the_fill_regions(rendered: dict[str, Path], variant: str) -> None:
    project = rendered[variant]
    regions = {region.key: region for region in find_regions(project)}
    assert set(regions) == REGIONS
    description = _answers(project)["description"]
    for region in regions.values():
        assert region.body.strip(), f"{region.key} needs a working fallback"
        assert region.comment == ("<!--" if region.key == AGENTS_REGION else "#")
    # The instructions are the model's prompt: they must carry the project's purpose.
    assert description in regions["main.tf#resources"].instruction
    assert "checkov" in regions["main.tf#resources"].instruction
    assert "command = plan" in regions["tests/unit.tftest.hcl#tests"].instruction
    assert 'resource "' in regions["main.tf#resources"].body
    assert 'variable "' in regions["variables.tf#inputs"].body
    assert 'output "' in regions["outputs.tf#outputs"].body
    assert 'run "' in regions["tests/unit.tftest.hcl#tests"].body


@pytest.mark.parametrize("variant", VARIANTS)
def test_readme_tables_list_every_input_and_output(rendered: dict[str, Path], variant: str) -> None:
    project = rendered[variant]
    readme = (project / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| (\w+) \|", readme, flags=re.M))
    inputs = re.findall(r'^variable "(\w+)"', (project / "variables.tf").read_text(encoding="utf-8"), re.M)
    outputs = re.findall(r'^output "(\w+)"', (project / "outputs.tf").read_text(encoding="utf-8"), re.M)
    assert inputs and outputs
    assert not set(inputs) - documented, f"inputs missing from README: {set(inputs) - documented}"
    assert not set(outputs) - documented, f"outputs missing from README: {set(outputs) - documented}"
    # The rendered tables are exactly what `make generated` writes, or a fresh project's `make check` fails.
    done = run([sys.executable, "scripts/readme_tables.py", "--check"], cwd=project, check=False)
    assert done.returncode == 0, done.stderr


def _fake_venv(project: Path) -> None:
    """A .venv that `make install` counts as built, running this interpreter (which has python-hcl2)."""
    python = project / ".venv/bin/python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
    python.chmod(0o755)
    (project / ".venv/.installed").touch()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_generated_rewrites_the_tables_and_make_check_catches_stale_ones(
    rendered: dict[str, Path], tmp_path: Path
) -> None:
    project = Path(shutil.copytree(rendered["aws_storage"], tmp_path / "module"))
    _fake_venv(project)
    prerequisites = re.search(r"^check:([^#\n]*)", (project / "Makefile").read_text(encoding="utf-8"), re.M)
    assert prerequisites and "readme" in prerequisites[1].split()
    with (project / "variables.tf").open("a", encoding="utf-8") as variables:
        variables.write(
            '\nvariable "object_lock_days" {\n  description = "Days | objects stay locked."\n'
            "  type        = number\n  default     = 30\n}\n"
        )
    (project / "outputs.tf").write_text(
        (project / "outputs.tf").read_text(encoding="utf-8").replace("Name of the bucket.", "The bucket's name."),
        encoding="utf-8",
    )
    stale = run(["make", "readme"], cwd=project, check=False)
    assert stale.returncode != 0
    assert "tables are stale; run `make generated`" in stale.stdout + stale.stderr
    run(["make", "generated"], cwd=project)
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert "| object_lock_days | Days \\| objects stay locked. | `number` | `30` | no |" in readme
    assert "| bucket_name | The bucket's name. |" in readme
    assert "| bucket_name | Name of the bucket. |" not in readme
    # Only the part between the markers changed.
    fresh = (rendered["aws_storage"] / "README.md").read_text(encoding="utf-8")
    assert readme.split("<!-- BEGIN_TF_TABLES -->")[0] == fresh.split("<!-- BEGIN_TF_TABLES -->")[0]
    run(["make", "readme"], cwd=project)


def _stale_tables(project: Path) -> None:
    with (project / "variables.tf").open("a", encoding="utf-8") as variables:
        variables.write('\nvariable "retention_days" {\n  type    = number\n  default = 30\n}\n')


def _limit_file_size() -> None:
    # Like a disk filling up: writes past 1 KiB fail with EFBIG (Python ignores SIGXFSZ).
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))


def test_readme_tables_never_leave_a_half_written_readme(rendered: dict[str, Path], tmp_path: Path) -> None:
    project = Path(shutil.copytree(rendered["aws_storage"], tmp_path / "module"))
    readme = project / "README.md"
    before = readme.read_bytes()
    assert len(before) > 1024
    _stale_tables(project)
    failed = subprocess.run(
        [sys.executable, "scripts/readme_tables.py"],
        cwd=project,
        capture_output=True,
        text=True,
        preexec_fn=_limit_file_size,
        check=False,
    )
    assert failed.returncode != 0, failed.stdout
    assert readme.read_bytes() == before
    assert sorted(p.name for p in project.iterdir()) == sorted(p.name for p in rendered["aws_storage"].iterdir())


def test_readme_tables_keep_the_readme_mode(rendered: dict[str, Path], tmp_path: Path) -> None:
    project = Path(shutil.copytree(rendered["aws_storage"], tmp_path / "module"))
    readme = project / "README.md"
    readme.chmod(0o640)
    _stale_tables(project)
    run([sys.executable, "scripts/readme_tables.py"], cwd=project)
    assert "| retention_days |" in readme.read_text(encoding="utf-8")
    assert readme.stat().st_mode & 0o7777 == 0o640
    assert sorted(p.name for p in project.iterdir()) == sorted(p.name for p in rendered["aws_storage"].iterdir())


def test_defaults_are_an_aws_storage_module_in_dev(rendered: dict[str, Path]) -> None:
    project = rendered["aws_storage"]
    answers = _answers(project)
    assert answers["environment"] == "dev"
    assert answers["region"] == "eu-west-1"
    main = (project / "main.tf").read_text(encoding="utf-8")
    for resource in ("aws_s3_bucket", "aws_kms_key", "aws_s3_bucket_public_access_block", "aws_s3_bucket_logging"):
        assert f'resource "{resource}"' in main
    # The project name "aws_storage" becomes a hyphenated resource name and an HCL module label.
    assert 'default     = "aws-storage"' in (project / "examples/basic/variables.tf").read_text(encoding="utf-8")
    assert 'module "aws_storage"' in (project / "examples/basic/main.tf").read_text(encoding="utf-8")


@pytest.mark.parametrize("cloud", KINDS)
def test_region_defaults_per_cloud(rendered: dict[str, Path], cloud: str) -> None:
    project = rendered[f"{cloud}_network"]
    assert _answers(project)["region"] == DEFAULT_REGIONS[cloud]
    example_vars = (project / "examples/basic/variables.tf").read_text(encoding="utf-8")
    assert f'default     = "{DEFAULT_REGIONS[cloud]}"' in example_vars


def test_the_longest_owner_still_makes_a_valid_gcp_label(tmp_path: Path, render_home: None) -> None:
    project = render_template("infra", tmp_path / "assets", {"cloud": "gcp", "owner": "A" * 64})
    label = re.search(r'"owner"\s*=\s*"([^"]*)"', (project / "main.tf").read_text(encoding="utf-8"))
    assert label is not None and re.fullmatch(r"[a-z0-9_-]{1,63}", label[1]), label


def test_answers_shape_the_module(rendered: dict[str, Path]) -> None:
    prod = rendered["aws_network_prod"]
    main = (prod / "main.tf").read_text(encoding="utf-8")
    assert re.search(r'^      "cost-center"\s+= "cc-42"$', main, flags=re.M)
    assert re.search(r'^      "app\.example/tier" = "gold"$', main, flags=re.M)
    assert 'default     = "prod"' in (prod / "variables.tf").read_text(encoding="utf-8")
    assert '"us-east-2a", "us-east-2b", "us-east-2c"' in (prod / "tests/unit.tftest.hcl").read_text(encoding="utf-8")

    tagged = rendered["gcp_storage_tagged"]
    labels = (tagged / "main.tf").read_text(encoding="utf-8")
    # GCP label values allow no spaces or capitals: the owner is slugged, extra labels kept.
    assert '"owner"       = "data-platform"' in labels
    assert '"cost-center" = "cc-42"' in labels
    assert "Data Platform" in (tagged / "README.md").read_text(encoding="utf-8")

    azure = (rendered["azure_storage_prod"] / "variables.tf").read_text(encoding="utf-8")
    assert re.search(r'variable "soft_delete_retention_days" \{[^}]*default     = 30', azure)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"cloud": "foo"}, r"Invalid choice for 'cloud'"),
        ({"cloud": "gcp", "module_kind": "container"}, r"container is only available for cloud=aws"),
        ({"tags": "cost-center"}, r"key=value pairs - rejected: cost-center"),
        ({"tags": "team=a,team=b"}, r"must not repeat a key"),
        ({"cloud": "gcp", "tags": "Team=Payments"}, r"lowercase letters, digits"),
        ({"region": "westeurope"}, r"must be an AWS region"),
        ({"cloud": "azure", "region": "West Europe"}, r"must be an Azure location"),
    ],
    ids=[
        "unknown-cloud",
        "container-on-gcp",
        "tag-without-value",
        "duplicate-tag",
        "gcp-label",
        "region",
        "azure-region",
    ],
)
def test_rejects_invalid_answers(tmp_path: Path, data: dict[str, str], message: str) -> None:
    dest = tmp_path / "net"
    with pytest.raises(ValueError, match=message):
        render_template("infra", dest, data)
    assert not dest.exists() or not any(dest.iterdir()), "a rejected answer must write nothing"


# --- slow -------------------------------------------------------------------------------------------

# Runs inside the python-hcl2 venv: parse every HCL file and report what the conventions need.
# python-hcl2 8 keeps quotes around labels and strings, older releases wrap values in lists.
HCL_REPORT = textwrap.dedent(
    """
    import json, pathlib, re, sys
    import hcl2

    def bare(value):
        while isinstance(value, list) and len(value) == 1:
            value = value[0]
        text = str(value).strip()
        if text.startswith("${") and text.endswith("}"):
            text = text[2:-1]
        return text.strip('"')

    def blocks(doc, kind):
        for block in doc.get(kind, []):
            for label, body in block.items():
                yield label.strip('"'), body

    report = {}
    for path in sorted(pathlib.Path(sys.argv[1]).rglob("*")):
        if not path.is_file() or not re.search(r"(\\.tf|\\.tftest\\.hcl|\\.tflint\\.hcl)$", path.name):
            continue
        try:
            doc = hcl2.loads(path.read_text(encoding="utf-8"))
        except Exception as error:
            report[str(path)] = {"error": f"{type(error).__name__}: {error}"}
            continue
        runs = {}
        for name, body in blocks(doc, "run"):
            failures = body.get("expect_failures", [])
            while failures and isinstance(failures[0], list):
                failures = failures[0]
            runs[name] = {
                "command": bare(body.get("command", "apply")),
                "expect_failures": [bare(failure) for failure in failures],
                "asserts": len(body.get("assert", [])),
            }
        report[str(path)] = {
            "variables": {name: sorted(k for k in body if not k.startswith("__")) for name, body in blocks(doc, "variable")},
            "outputs": {name: sorted(k for k in body if not k.startswith("__")) for name, body in blocks(doc, "output")},
            "runs": runs,
            "mock_providers": [name for name, _ in blocks(doc, "mock_provider")],
        }
    print(json.dumps(report))
    """
)


@dataclass(frozen=True)
class InfraTools:
    """The generated module's static checkers. checkov depends on bc-python-hcl2, a fork that installs
    the same `hcl2` package as python-hcl2, so each gets a venv of its own."""

    checkov: Path
    hcl_python: Path


@pytest.fixture(scope="session", autouse=True)
def _install_infra_tools(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, tuple[Path, subprocess.Popen[bytes]]]]:
    """Start installing the tools in the background as soon as this module's tests begin.

    Installing checkov takes about two minutes; meanwhile the variants render and the tests that need
    only Terraform run. Nothing starts when no slow test of this module was selected.
    """
    here = Path(__file__).resolve()
    if not any(item.path == here and item.get_closest_marker("slow") for item in request.session.items):
        yield {}
        return
    root = tmp_path_factory.mktemp("infra-tools")
    jobs: dict[str, tuple[Path, subprocess.Popen[bytes]]] = {}
    for name, requirement in TOOLS.items():
        venv = root / name
        run([sys.executable, "-m", "venv", venv])
        process = subprocess.Popen(
            [venv_bin(venv, "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", requirement],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        jobs[name] = (venv, process)
    yield jobs
    for _, process in jobs.values():
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def infra_tools(_install_infra_tools: dict[str, tuple[Path, subprocess.Popen[bytes]]]) -> InfraTools:
    """Venvs with checkov and python-hcl2 (see TOOLS), once their background install has finished."""
    venvs = {}
    for name, (venv, process) in _install_infra_tools.items():
        output, _ = process.communicate(timeout=900)
        assert process.returncode == 0, f"installing {TOOLS[name]} failed:\n{output.decode(errors='replace')[-3000:]}"
        venvs[name] = venv
    return InfraTools(checkov=venv_bin(venvs["checkov"], "checkov"), hcl_python=venv_bin(venvs["hcl2"], "python"))


@pytest.fixture(scope="module")
def hcl_report(infra_tools: InfraTools, rendered: dict[str, Path]) -> dict[str, dict[str, Any]]:
    root = next(iter(rendered.values())).parent
    result = run([infra_tools.hcl_python, "-c", HCL_REPORT, root])
    return {Path(path).resolve().as_posix(): facts for path, facts in json.loads(result.stdout).items()}


@pytest.fixture(scope="module")
def checkov_report(
    infra_tools: InfraTools, rendered: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """One checkov run over every variant: its start-up costs more than the scan.

    Not --quiet: the JSON then lists passed and skipped checks too, which proves each variant was scanned.
    """
    root = next(iter(rendered.values())).parent
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path_factory.mktemp("checkov-home"))}
    result = run(
        [
            infra_tools.checkov,
            "--directory",
            root,
            "--framework",
            "terraform",
            "--compact",
            "--skip-download",
            "--output",
            "json",
        ],
        env=env,
        check=False,
        timeout=600,
    )
    # Exit 1 means failed checks, which the tests report per variant; anything else is a crash.
    assert result.returncode in (0, 1), result.stdout[-2000:] + result.stderr[-3000:]
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    (report,) = [r for r in reports if r.get("check_type") == "terraform"]
    assert report["summary"]["parsing_errors"] == 0, report["results"].get("parsing_errors")
    results: dict[str, Any] = report["results"]
    return results


def _in_variant(check: dict[str, Any], variant: str) -> bool:
    path: str = check["file_path"]
    return path.lstrip("/").split("/", 1)[0] == variant


@pytest.mark.slow
def test_terraform_fmt_accepts_every_file(rendered: dict[str, Path]) -> None:
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not installed")
    root = next(iter(rendered.values())).parent
    result = run([terraform, "fmt", "-check", "-recursive", "-diff", "-no-color", root], check=False)
    assert result.returncode == 0, result.stdout + result.stderr


AWS_MIRROR = Path("/opt/tf-plugins")


@pytest.mark.slow
@pytest.mark.parametrize("variant", [f"aws_{kind}" for kind in KINDS["aws"]])
def test_aws_module_validates_and_passes_its_own_tests(rendered: dict[str, Path], tmp_path: Path, variant: str) -> None:
    """Runs the generated `terraform validate` and `terraform test` against a local provider mirror.

    Placed before the checkov tests so it runs while the tools still install.
    """
    terraform = shutil.which("terraform")
    if terraform is None or not (AWS_MIRROR / "registry.terraform.io/hashicorp/aws").is_dir():
        pytest.skip("needs terraform and the hashicorp/aws provider mirrored in /opt/tf-plugins")
    project = tmp_path / variant
    shutil.copytree(rendered[variant], project)
    cli_config = tmp_path / "terraformrc"
    cli_config.write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path = "{AWS_MIRROR}"\n  }}\n}}\n', encoding="utf-8"
    )
    env = {
        "PATH": str(Path(terraform).parent),
        "HOME": str(tmp_path),
        "TF_CLI_CONFIG_FILE": str(cli_config),
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
    }
    for folder in (project, project / "examples/basic"):
        run([terraform, "init", "-backend=false", "-input=false", "-no-color"], cwd=folder, env=env)
        run([terraform, "validate", "-no-color"], cwd=folder, env=env)
    result = run([terraform, "test", "-no-color"], cwd=project, env=env)
    assert re.search(r"Success! \d+ passed, 0 failed", result.stdout), result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS)
def test_every_file_parses_and_follows_the_conventions(
    rendered: dict[str, Path], hcl_report: dict[str, dict[str, Any]], variant: str
) -> None:
    project = rendered[variant].resolve()
    files = _hcl_files(project)
    assert len(files) >= 9
    facts = {path.relative_to(project).as_posix(): hcl_report[path.as_posix()] for path in files}
    errors = {name: fact["error"] for name, fact in facts.items() if "error" in fact}
    assert not errors, errors

    problems = []
    for name, fact in facts.items():
        for variable, keys in fact["variables"].items():
            problems += [
                f"{name}: variable {variable} has no {key}" for key in ("type", "description") if key not in keys
            ]
        for output, keys in fact["outputs"].items():
            if "description" not in keys:
                problems.append(f"{name}: output {output} has no description")
    assert not problems, "\n".join(problems)

    module_vars = facts["variables.tf"]["variables"]
    for required in ("name", "environment"):
        assert "validation" in module_vars[required], f"{required} must be validated"
    assert sum("validation" in keys for keys in module_vars.values()) >= len(module_vars) // 2
    assert facts["outputs.tf"]["outputs"]

    unit = facts["tests/unit.tftest.hcl"]
    assert unit["mock_providers"] == [PROVIDERS[_cloud_kind(variant)[0]]]
    assert all(run_["command"] == "plan" for run_ in unit["runs"].values())
    assert sum(run_["asserts"] for run_ in unit["runs"].values()) >= 5
    # A test expecting a variable to be rejected only means something if that variable validates.
    for run_name, run_ in unit["runs"].items():
        for failure in run_["expect_failures"]:
            variable = re.sub(r"^\$\{|\}$", "", str(failure)).removeprefix("var.")
            assert "validation" in module_vars.get(variable, []), f"{run_name}: {failure} has no validation"


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS)
def test_checkov_finds_nothing_to_fix(checkov_report: dict[str, Any], variant: str) -> None:
    failed = [c for c in checkov_report["failed_checks"] if _in_variant(c, variant)]
    assert not failed, "\n".join(
        f"{c['check_id']} {c['check_name']}: {c['resource']} ({c['file_path']}:{c['file_line_range']})" for c in failed
    )
    passed = [c for c in checkov_report["passed_checks"] if _in_variant(c, variant)]
    assert len(passed) >= 10, "checkov scanned (almost) nothing of this variant"
    # The example's call into the module is scanned too, with the example's inputs.
    assert any(c["resource"].startswith("module.") for c in passed)
    for skipped in (c for c in checkov_report["skipped_checks"] if _in_variant(c, variant)):
        reason = skipped["check_result"].get("suppress_comment", "")
        assert len(reason) >= 30, f"{skipped['check_id']} on {skipped['resource']} needs a real reason"
