"""Sharing a dataset through DVC remotes, with real git, DVC and sshd: every byte must survive the trip.

Each test builds small git + DVC repositories in temporary folders. The dataset is a few real JPEGs
and YOLO label files in the layout the split stage writes, tracked with `dvc add` (running the whole
pipeline would only make these tests slow, not more telling).
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from framehound.params import load
from framehound.pipeline import declared_outputs
from tests.conftest import REPO

DATASET = Path("data/dataset")
SSHD = Path("/usr/sbin/sshd")

# Frames per split; the second version adds a video to val, as a new fetch would.
V1 = {"train": ["clipA_0", "clipA_250", "clipA_500"], "val": ["clipB_0"], "test": ["clipC_0"]}
V2 = {**V1, "val": ["clipB_0", "clipD_0", "clipD_250"]}


class Shell:
    """Runs git and DVC in the temp repos, isolated from this machine's user and system config.

    Own HOME and DVC config dirs (a developer's global remote or cache dir must not leak in), a
    fixed git identity, and no analytics (the only network these tests may use is 127.0.0.1).
    """

    def __init__(self, root: Path) -> None:
        home = root / "home"
        for sub in ("dvc-global", "dvc-system", "dvc-site"):
            (home / sub).mkdir(parents=True)
        self.env = {**os.environ, "HOME": str(home), "DVC_NO_ANALYTICS": "1",
                    "DVC_GLOBAL_CONFIG_DIR": str(home / "dvc-global"),
                    "DVC_SYSTEM_CONFIG_DIR": str(home / "dvc-system"),
                    "DVC_SITE_CACHE_DIR": str(home / "dvc-site"),
                    "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0",
                    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
        for name in ("SSH_AUTH_SOCK", "XDG_CONFIG_HOME"):
            self.env.pop(name, None)

    def __call__(self, cwd: Path, *cmd: str | Path) -> str:
        """Run ``cmd`` (``dvc ...`` means this interpreter's DVC) and return its stdout."""
        argv = [sys.executable, "-m", "dvc", *cmd[1:]] if cmd[0] == "dvc" else list(cmd)
        result = subprocess.run([str(a) for a in argv], cwd=cwd, env=self.env, capture_output=True, text=True,
                                check=False)
        if result.returncode:
            raise AssertionError(f"{cmd} failed in {cwd}:\n{result.stdout}\n{result.stderr}")
        return result.stdout


@pytest.fixture
def sh(tmp_path: Path) -> Shell:
    return Shell(tmp_path)


def write_dataset(root: Path, frames: dict[str, list[str]]) -> None:
    """Replace ``root`` with a dataset of real JPEGs, YOLO labels and the Darknet/Ultralytics files."""
    shutil.rmtree(root, ignore_errors=True)
    for split, ids in frames.items():
        (root / "images" / split).mkdir(parents=True)
        (root / "labels" / split).mkdir(parents=True)
        for frame_id in ids:
            pixels = np.random.default_rng(zlib.crc32(frame_id.encode())).integers(0, 256, (48, 64, 3), np.uint8)
            assert cv2.imwrite(str(root / "images" / split / f"{frame_id}.jpg"), pixels)
            (root / "labels" / split / f"{frame_id}.txt").write_text("0 0.500000 0.500000 0.250000 0.300000\n")
        (root / f"{split}.txt").write_text("".join(f"images/{split}/{i}.jpg\n" for i in ids))
    (root / "obj.names").write_text("person\n")
    (root / "obj.data").write_text("classes = 1\ntrain = train.txt\nvalid = val.txt\nnames = obj.names\n")
    (root / "data.yaml").write_text("train: images/train\nval: images/val\ntest: images/test\nnc: 1\n"
                                    "names:\n  0: person\n")


def digests(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` by relative path: equal dicts mean byte-identical trees."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def new_repo(sh: Shell, root: Path, remote: str | None = None) -> Path:
    """An empty git + DVC repository, with ``remote`` as its default DVC remote when given."""
    root.mkdir(parents=True)
    sh(root, "git", "init", "-q")
    sh(root, "dvc", "init", "-q")
    if remote:
        sh(root, "dvc", "remote", "add", "-d", "storage", remote)
    sh(root, "git", "add", "-A")
    sh(root, "git", "commit", "-qm", "dvc init")
    return root


def publish(sh: Shell, repo: Path, message: str) -> None:
    """What an owner does after changing the dataset: track it, commit the pointer, push the data."""
    sh(repo, "dvc", "add", DATASET)
    sh(repo, "git", "add", "-A")
    sh(repo, "git", "commit", "-qm", message)
    sh(repo, "dvc", "push")


def clone_and_pull(sh: Shell, source: Path, target: Path) -> Path:
    """A fresh git clone, which holds only pointers until `dvc pull` fetches the data."""
    sh(source.parent, "git", "clone", "-q", source, target)
    assert not (target / DATASET).exists(), "git must carry the .dvc pointer, never the data"
    sh(target, "dvc", "pull")
    return target


def test_a_clone_pulls_the_pushed_dataset_byte_for_byte_from_a_local_folder_remote(sh, tmp_path):
    storage = tmp_path / "storage"
    source = new_repo(sh, tmp_path / "source", remote=str(storage))
    write_dataset(source / DATASET, V1)
    publish(sh, source, "dataset v1")
    assert (storage / "files" / "md5").is_dir()

    clone = clone_and_pull(sh, source, tmp_path / "clone")

    original = digests(source / DATASET)
    assert len([p for p in original if p.endswith(".jpg")]) == 5
    assert digests(clone / DATASET) == original


def test_a_fresh_clone_pulls_every_output_of_detect_including_its_cache(sh, tmp_path):
    """The detect stage's outputs as this repo's dvc.yaml and .gitignore declare them.

    The detection cache is a ``persist: true`` output that DVC caches and pushes like
    any other, so after ``dvc pull`` a fresh clone is up to date and detect does not re-run.
    """
    every = declared_outputs(load(REPO / "params.yaml"), REPO / "dvc.yaml")
    declared = [(path, persist) for stage, path, persist in every if stage == "detect"]
    paths = [str(path.relative_to(REPO)) for path, _ in declared]
    outs = [{path: {"persist": True}} if persist else path for path, (_, persist) in zip(paths, declared, strict=True)]
    assert "data/detect-cache" in paths
    source = new_repo(sh, tmp_path / "source", remote=str(tmp_path / "storage"))
    shutil.copyfile(REPO / ".gitignore", source / ".gitignore")
    cmd = " && ".join(f"mkdir -p {p} && echo {p} > {p}/made.txt" for p in paths)
    (source / "dvc.yaml").write_text(yaml.safe_dump({"stages": {"detect": {"cmd": cmd, "outs": outs}}}))
    sh(source, "dvc", "repro")
    sh(source, "git", "add", "-A")
    sh(source, "git", "commit", "-qm", "detect")
    sh(source, "dvc", "push")

    clone = clone_and_pull(sh, source, tmp_path / "clone")

    for path in paths:
        assert digests(clone / path) == digests(source / path) != {}
    assert json.loads(sh(clone, "dvc", "status", "--json")) == {}


@dataclass(frozen=True)
class SshServer:
    port: int
    user: str
    keyfile: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_listening(proc: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"sshd exited with {proc.returncode}:\n{log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"sshd is not listening on 127.0.0.1:{port} after 10 s:\n{log.read_text()}")


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[SshServer]:
    """A real sshd on 127.0.0.1, our child process, with throwaway host and user keys; always stopped."""
    if not SSHD.exists():
        pytest.skip(f"{SSHD} not found: install openssh-server (.ci/run does) to test SSH remotes")
    d = tmp_path / "sshd"
    d.mkdir()
    for key in ("host_key", "user_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "framehound-test", "-f", d / key],
                       check=True)
    shutil.copyfile(d / "user_key.pub", d / "authorized_keys")
    port = _free_port()
    (d / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d / 'host_key'}\nPidFile {d / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {d / 'authorized_keys'}\nStrictModes no\nUsePAM no\n"
        "PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "UseDNS no\nSubsystem sftp internal-sftp\n")
    if os.geteuid() == 0:
        # sshd started as root refuses to run without its privilege-separation dir, which the
        # service manager would create; it is empty and harmless.
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    log = d / "sshd.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([SSHD, "-D", "-e", "-f", d / "sshd_config"], stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_until_listening(proc, port, log)
        yield SshServer(port, getpass.getuser(), d / "user_key")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_a_clone_pulls_the_pushed_dataset_byte_for_byte_from_an_ssh_remote(sh, tmp_path, sshd):
    storage = tmp_path / "ssh-storage"
    source = new_repo(sh, tmp_path / "source", remote=f"ssh://{sshd.user}@127.0.0.1:{sshd.port}{storage}")
    # The key is each user's own: config.local, never committed.
    sh(source, "dvc", "remote", "modify", "--local", "storage", "keyfile", sshd.keyfile)
    write_dataset(source / DATASET, V1)
    publish(sh, source, "dataset v1")
    assert (storage / "files" / "md5").is_dir(), "the push did not land in the SSH remote's folder"

    # A teammate's key comes from their ~/.ssh/config, which DVC's SSH remote reads like ssh does.
    ssh_dir = Path(sh.env["HOME"]) / ".ssh"
    ssh_dir.mkdir()
    (ssh_dir / "config").write_text(f"Host 127.0.0.1\n    IdentityFile {sshd.keyfile}\n")
    clone = clone_and_pull(sh, source, tmp_path / "clone")

    assert not (clone / ".dvc" / "config.local").exists()
    assert digests(clone / DATASET) == digests(source / DATASET) != {}


def _rev_lock(dvc_file: Path) -> str:
    return yaml.safe_load(dvc_file.read_text())["deps"][0]["repo"]["rev_lock"]


def test_an_import_pins_the_registry_commit_and_update_brings_the_next_one(sh, tmp_path):
    registry = new_repo(sh, tmp_path / "registry", remote=str(tmp_path / "storage"))
    write_dataset(registry / DATASET, V1)
    publish(sh, registry, "dataset v1")
    # Consumers read what was pushed, never the registry's working cache.
    shutil.rmtree(registry / ".dvc" / "cache")
    project = new_repo(sh, tmp_path / "project")
    (project / "datasets").mkdir()  # `dvc import -o` refuses an output folder whose parent is missing

    sh(project, "dvc", "import", registry, DATASET, "-o", "datasets/people")

    pointer = project / "datasets" / "people.dvc"
    v1 = digests(registry / DATASET)
    assert digests(project / "datasets" / "people") == v1
    assert _rev_lock(pointer) == sh(registry, "git", "rev-parse", "HEAD").strip()
    sh(project, "git", "add", "-A")
    sh(project, "git", "commit", "-qm", "import people v1")

    write_dataset(registry / DATASET, V2)
    publish(sh, registry, "dataset v2: one more video")
    assert digests(project / "datasets" / "people") == v1, "an import must not follow the registry on its own"

    sh(project, "dvc", "update", pointer.relative_to(project))

    v2 = digests(registry / DATASET)
    assert v2 != v1
    assert digests(project / "datasets" / "people") == v2
    assert _rev_lock(pointer) == sh(registry, "git", "rev-parse", "HEAD").strip()
