"""The command line of publishing (``python -m snnconv.publish make|verify|reseal``): every subcommand parses to
what the functions take, and a bad invocation is a usage error naming what is wrong."""

from __future__ import annotations

import pytest

from snnconv.publish.cli import build_parser, main, parse_args
from snnconv.publish.make import MAX_PLAIN_BYTES
from snnconv.publish.run import REPO


def usage_error(argv: list[str], capsys) -> str:
    """The message of the usage error ``argv`` gives (argparse exits with status 2)."""
    with pytest.raises(SystemExit) as exit_info:
        parse_args(argv)
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def test_make_takes_every_option_of_the_old_command_line():
    args = build_parser().parse_args(
        ["make", "--config", "c.yaml", "--workdir", "run", "--out", "docs/results/x", "--command", "snakemake -c2",
         "--paper-pdf", "p.pdf", "--force", "--max-plain-mb", "0.5"]
    )  # fmt: skip
    assert args.action == "make" and args.config == "c.yaml" and args.workdir == "run"
    assert args.out == "docs/results/x" and args.command == "snakemake -c2" and args.paper_pdf == "p.pdf"
    assert args.force is True and args.max_plain_mb == 0.5


def test_make_defaults():
    args = build_parser().parse_args(["make", "--config", "c.yaml", "--out", "o", "--command", "c"])
    assert args.workdir == str(REPO) and args.paper_pdf is None and args.force is False
    assert args.max_plain_mb * 2**20 == MAX_PLAIN_BYTES


@pytest.mark.parametrize("action", ["verify", "reseal"])
def test_verify_and_reseal_take_one_snapshot_folder(action):
    args = build_parser().parse_args([action, "docs/results/paper-cpu"])
    assert args.action == action and args.snapshot == "docs/results/paper-cpu"


def test_no_subcommand_names_the_choices(capsys):
    assert "required: {make,verify,reseal}" in usage_error([], capsys)
    assert "invalid choice: 'publish'" in usage_error(["publish"], capsys)


def test_make_names_each_missing_option(capsys):
    assert "required: --out, --command" in usage_error(["make", "--config", "c.yaml"], capsys)


def test_the_former_flags_name_the_subcommand_that_replaces_them(capsys):
    err = usage_error(["--verify", "docs/results/x"], capsys)
    assert "--verify comes after a subcommand now: python -m snnconv.publish verify SNAPSHOT" in err
    assert "python -m snnconv.publish reseal SNAPSHOT" in usage_error(["--manifest=docs/results/x"], capsys)
    assert "python -m snnconv.publish make --config ..." in usage_error(["--config", "c.yaml"], capsys)
    assert "required: SNAPSHOT" in usage_error(["verify"], capsys)


@pytest.mark.parametrize("value", ["-1", "nan", "lots"])
def test_a_bad_size_is_refused_by_name(value, capsys):
    err = usage_error(["make", "--config", "c", "--out", "o", "--command", "c", "--max-plain-mb", value], capsys)
    assert "--max-plain-mb" in err and repr(value) in err


def test_failures_exit_1_with_the_reason(tmp_path, capsys):
    absent = tmp_path / "absent"
    assert main(["verify", str(absent)]) == 1
    assert f"{absent}: no such folder" in capsys.readouterr().out
    assert main(["reseal", str(absent)]) == 1
    assert "reseal: " in (err := capsys.readouterr().err) and f"{absent / 'PROVENANCE'}: missing" in err
    argv = ["make", "--config", str(tmp_path / "none.yaml"), "--out", str(absent), "--command", "c"]
    assert main(argv) == 1
    assert f"--config {tmp_path / 'none.yaml'}: no such file" in capsys.readouterr().err
    assert not absent.exists()
