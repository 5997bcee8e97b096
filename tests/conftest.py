"""Shared fixtures: repository paths, the shared real-data folder, one finished tiny workflow run."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import shared_data_dir

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo() -> Path:
    """The repository root."""
    return REPO


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared real-data folder, or skip with the reason."""
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"shared real data absent: {path} (set SNNCONV_SHARED_DATA)")
    return path


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """One complete tiny run (tests/configs/tiny.yaml) shared by every integration test of the session."""
    from helpers.tiny import run_snakemake

    workdir = tmp_path_factory.mktemp("tiny")
    run_snakemake(workdir)
    return workdir


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """Tiny tensors run far faster on one thread on a loaded 2-core machine; tests that need more set it."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
