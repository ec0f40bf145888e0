"""conftest.py - what the package's tests share: the CLI (HETCOMP_CLI, set by CTest; tests that
need it are skipped without it), and one small dataset made by the CLI (`synth` + `split`,
300 users x 400 items) with an MF teacher trained by the CLI, built once per session in a
temporary directory (a few seconds). The tests import hetcomp from PYTHONPATH (build/python)."""
import os
import subprocess
from pathlib import Path

import pytest

import hetcomp


def run_cli(*args, cwd=None):
    """Runs the CLI, returning stdout; fails the test with its stderr on a non-zero exit."""
    cli = os.environ.get("HETCOMP_CLI")
    if not cli:
        pytest.skip("HETCOMP_CLI is not set (CTest sets it)")
    p = subprocess.run([cli, *map(str, args)], cwd=cwd, capture_output=True, text=True)
    assert p.returncode == 0, f"hetcomp {' '.join(map(str, args))}: {p.stderr}"
    return p.stdout


@pytest.fixture(scope="session")
def small(tmp_path_factory):
    """A directory with X.tsv, ds.hcd and t1/ (a CLI MF teacher), and the Dataset."""
    d = tmp_path_factory.mktemp("small")
    run_cli("synth", "--users", 300, "--items", 400, "--interactions", 8000, "--out", d / "X.tsv")
    run_cli("split", "--data", d / "X.tsv", "--out", d / "ds.hcd")
    run_cli("teacher", "--model", "mf", "--dim", 8, "--epochs", 9, "--eval-every", 3,
            "--checkpoints", 3, "--topk", 20, "--quiet", "--threads", 1, "--data", d / "ds.hcd",
            "--out", d / "t1")
    return d, hetcomp.Dataset.load(d / "ds.hcd")


def read_tsv(path):
    """Rows of a TSV file after its header, split on tabs."""
    lines = Path(path).read_text().splitlines()
    return [line.split("\t") for line in lines[1:] if line]
