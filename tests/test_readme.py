"""Every shell block of README.md and docs/*.md runs as written, in a fresh clone, from a plain shell.

The shell starts with the venv *not* on ``PATH`` (as a user's terminal after ``make setup``), runs README's
bash blocks in order in one session, then each ``docs/*.md`` file in a copy of that project, and fails on the
first command that fails, naming the file and line. Blocks are marked in the Markdown with an HTML comment
just above them (invisible on GitHub):

- ``<!-- readme-test: skip: <reason> -->``: not run (needs the internet, a GPU, an SSH host...); the reason
  is printed.
- ``<!-- readme-test: server -->``: a command that serves until Ctrl+C; it is started, its printed URL must
  answer 200, then it gets SIGINT.
- ``<!-- readme-test: elsewhere -->``: run in a fresh empty folder ("on another machine").

Placeholders written for people (``<your repo>``, ``/mnt/shared/...``) are filled from ``PLACEHOLDERS``.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO, run
from tests.test_pipeline import _tracked_files

pytestmark = pytest.mark.slow

MARK = re.compile(r"<!--\s*readme-test:\s*(skip|server|elsewhere)\s*:?\s*(.*?)\s*-->")
FENCE = re.compile(r"^```(\S*)\s*$")
# Lines not run, with the reason: they are what runs this test.
NOT_RUN = {"make test": "this test runs inside `make test`"}
# The project as README's `make run` left it: each docs page starts from a copy of it.
SNAPSHOT_AFTER = "make run"


@dataclass(frozen=True)
class Block:
    """One fenced shell block and how the test treats it."""

    file: str
    line: int
    commands: list[str]
    mark: str = ""
    reason: str = ""


def shell_blocks(path: Path, name: str = "") -> list[Block]:
    """The ```bash blocks of a Markdown file, with the marker comment just above each."""
    name = name or path.relative_to(REPO).as_posix()
    blocks: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    mark, reason, i = "", "", 0
    while i < len(lines):
        if found := MARK.search(lines[i]):
            mark, reason = found.group(1), found.group(2)
        elif fence := FENCE.match(lines[i]):
            body_start = i + 1
            i = body_start
            while not lines[i].startswith("```"):
                i += 1
            if fence.group(1) in ("bash", "sh", "shell"):
                blocks.append(Block(name, body_start, lines[body_start:i], mark, reason))
            mark, reason = "", ""
        elif lines[i].strip():
            mark, reason = ("", "") if not lines[i].lstrip().startswith("<!--") else (mark, reason)
        i += 1
    return blocks


def script(blocks: list[Block], placeholders: dict[str, str]) -> str:
    """One bash session running the blocks in order; a failure names its file and line."""
    out = ["set -euo pipefail", 'WHERE=start; START="$PWD"',
           "trap 'echo \"readme-test: FAILED at $WHERE: $BASH_COMMAND\" >&2' ERR"]
    for block in blocks:
        where = f"{block.file}:{block.line}"
        if block.mark == "skip":
            out.append(f"echo {shlex.quote(f'readme-test: skipped {where}: {block.reason}')}")
            continue
        out.append(f"WHERE={shlex.quote(where)}; echo {shlex.quote(f'readme-test: running {where}')}")
        body = []
        for line in block.commands:
            for placeholder, value in placeholders.items():
                line = line.replace(placeholder, value)
            skipped = next((r for cmd, r in NOT_RUN.items() if line.split("#")[0].strip() == cmd), None)
            body.append(f"echo {shlex.quote(f'readme-test: not run: {line.strip()} ({skipped})')}"
                        if skipped else line)
        if block.mark == "elsewhere":
            out.append('cd "$(mktemp -d "$START/../elsewhere.XXXX")"')
        if block.mark == "server":
            out.append(serve(body))
        else:
            out.extend(body)
        if any(line.split("#")[0].strip() == SNAPSHOT_AFTER for line in block.commands):
            out.append('cp -a "$START" "$START/../after-make-run"; '
                       'cp -a "$START/../origin.git" "$START/../after-make-run.git"')
    out.append("echo readme-test: all blocks passed")
    return "\n".join(out) + "\n"


def serve(body: list[str]) -> str:
    """Start a serving command, wait for the URL it prints, GET it, then stop it with SIGINT."""
    command = "\n".join(line for line in body if line.strip())
    probe = ("import re, sys, time, urllib.request\n"
             "deadline = time.time() + 120\n"
             "while time.time() < deadline:\n"
             "    m = re.search(r'http://127\\.0\\.0\\.1:\\d+/[^\\s)]*', open(sys.argv[1]).read())\n"
             "    if m:\n"
             "        assert urllib.request.urlopen(m.group(0), timeout=30).status == 200\n"
             "        print('readme-test: served', m.group(0)); sys.exit(0)\n"
             "    time.sleep(0.2)\n"
             "sys.exit('readme-test: no URL printed in 120 s')\n")
    # Job control gives the server its own process group, so SIGINT reaches it as Ctrl+C would.
    return (f"log=$(mktemp); set -m; {{\n{command}\n}} >\"$log\" 2>&1 & server=$!; set +m\n"
            f"python3 -c {shlex.quote(probe)} \"$log\" || {{ cat \"$log\"; kill -- -$server; false; }}\n"
            "kill -INT -- -$server; wait $server || true; cat \"$log\"")


def plain_shell_env(home: Path) -> dict[str, str]:
    """The environment of a new terminal: no venv on PATH, no PYTHONPATH, git identity set."""
    venv_bin = Path(sys.executable).parent
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep)
                           if p and Path(p).resolve() != venv_bin.resolve() and "/.venv/" not in p + "/")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    return {**env, "PATH": path, "HOME": str(home), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This working tree as a user's clone of it: a git repo with an origin, the venv already set up."""
    root = tmp_path_factory.mktemp("readme")
    project = root / "framehound"
    for name in _tracked_files():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, project / name)
    run(["git", "init", "-q", "-b", "main"], project)
    (project / ".venv").symlink_to(REPO / ".venv")  # `make setup` already ran: it is a no-op here
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "init"], project)
    run(["git", "init", "-q", "--bare", "-b", "main", str(root / "origin.git")], root)
    run(["git", "remote", "add", "origin", str(root / "origin.git")], project)
    run(["git", "push", "-q", "-u", "origin", "main"], project)
    (root / "home").mkdir()
    return project


def run_blocks(blocks: list[Block], cwd: Path, root: Path) -> subprocess.CompletedProcess:
    placeholders = {"<your repo>": str(root / "origin.git"), "<url of this repo>": str(root / "origin.git"),
                    "cd <repo>": "cd origin", "/mnt/shared/framehound-cache": str(root / "remote")}
    started = time.perf_counter()
    result = subprocess.run(["bash", "-c", script(blocks, placeholders)], cwd=cwd, env=plain_shell_env(root / "home"),
                            capture_output=True, text=True, check=False, start_new_session=True)
    print(f"{blocks[0].file}: {time.perf_counter() - started:.0f}s")
    print("\n".join(ln for ln in result.stdout.splitlines() if ln.startswith("readme-test:")))
    return result


def assert_passed(result: subprocess.CompletedProcess) -> None:
    failure = [ln for ln in result.stderr.splitlines() if ln.startswith("readme-test: FAILED")]
    tail = f"\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    assert result.returncode == 0, (failure[-1] if failure else "") + tail


@pytest.fixture(scope="module")
def readme_run(clone: Path) -> subprocess.CompletedProcess:
    return run_blocks(shell_blocks(REPO / "README.md"), clone, clone.parent)


def test_the_shell_does_not_find_the_venv_python(clone):
    """The premise: a plain shell's `python` is not the venv's, so nothing passes by accident."""
    env = plain_shell_env(clone.parent / "home")
    found = subprocess.run(["bash", "-c", "command -v python python3 dvc framehound || true"], cwd=clone, env=env,
                           capture_output=True, text=True, check=False).stdout
    assert ".venv" not in found


def test_every_readme_block_runs_as_written(readme_run):
    assert_passed(readme_run)
    assert "readme-test: all blocks passed" in readme_run.stdout


def sections(output: str) -> dict[str, str]:
    """The output of each block, by the first command of the block."""
    parts = re.split(r"^readme-test: running (\S+)$", output, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_the_readme_experiment_reruns_filter_and_what_follows_it_only(readme_run):
    blocks = shell_blocks(REPO / "README.md")
    where = next(f"{b.file}:{b.line}" for b in blocks if any("-S filter.min_confidence=0.6" in c
                                                              for c in b.commands))
    ran = re.findall(r"Running stage '([^']+)'", sections(readme_run.stdout)[where])
    assert ran[:2] == ["check", "filter"] and set(ran) <= {"check", "filter", "split", "evaluate", "report", "train"}


def test_going_back_from_an_experiment_leaves_the_committed_params_in_the_workspace(readme_run):
    blocks = shell_blocks(REPO / "README.md")
    where = next(f"{b.file}:{b.line}" for b in blocks if any("dvc exp run --temp" in c for c in b.commands))
    output = sections(readme_run.stdout)[where]
    # After the --temp experiment: `dvc params diff` lists nothing, `dvc status` is clean.
    assert output.split("dvc exp apply <exp>")[-1].strip() == "Data and pipelines are up to date.", output


@pytest.mark.parametrize("doc", sorted(p.name for p in (REPO / "docs").glob("*.md")))
def test_every_docs_block_runs_as_written(readme_run, clone, doc, tmp_path):
    """Each docs page runs in its own copy of the project as README's `make run` left it, venv activated."""
    blocks = shell_blocks(REPO / "docs" / doc)
    if not blocks:
        pytest.skip(f"docs/{doc} has no shell blocks")
    copy = tmp_path / "framehound"
    shutil.copytree(clone.parent / "after-make-run", copy, symlinks=True)
    (tmp_path / "home").mkdir()
    shutil.copytree(clone.parent / "after-make-run.git", tmp_path / "origin.git")
    run(["git", "remote", "set-url", "origin", str(tmp_path / "origin.git")], copy)
    activate = Block(f"docs/{doc}", 0, ["source .venv/bin/activate  # README: once in each new terminal"])
    assert_passed(run_blocks([activate, *blocks], copy, tmp_path))


def test_a_broken_command_fails_and_names_its_line(clone, tmp_path):
    broken = [Block("README.md", 7, ["echo fine"]), Block("README.md", 42, ["dvc exp run --no-such-flag"])]
    result = run_blocks(broken, clone, clone.parent)
    assert result.returncode != 0
    assert "readme-test: FAILED at README.md:42: dvc exp run --no-such-flag" in result.stderr


def test_markers_are_read(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("<!-- readme-test: skip: needs the internet -->\n```bash\ncurl x\n```\n\n"
                    "```yaml\na: 1\n```\n<!-- readme-test: server -->\n```bash\nframehound review\n```\n"
                    "```bash\nls\n```\n")
    blocks = shell_blocks(page, "page.md")
    assert [(b.mark, b.reason, b.commands) for b in blocks] == [
        ("skip", "needs the internet", ["curl x"]), ("server", "", ["framehound review"]), ("", "", ["ls"])]


def test_a_server_block_is_started_answered_and_stopped(clone):
    result = run_blocks([Block("docs/x.md", 1, ["python3 -u -m http.server --bind 127.0.0.1 0"], "server")],
                        clone, clone.parent)
    assert_passed(result)
    assert "readme-test: served http://127.0.0.1:" in result.stdout
    assert "Keyboard interrupt received" in result.stdout
