"""``make test``'s set-up step (scripts/system-packages) on a machine without Chromium.

Chromium is installed where the suite runs, so the step runs against fake ``dpkg-query``,
``apt-get`` and ``id`` commands put first on PATH: they answer from, and write to, files
in a temporary folder. That is the boundary we cannot run for real (installing and
removing Debian packages as root on a shared machine).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "system-packages"


@dataclass
class FakeDebian:
    """A PATH folder with fake package tools and the files they share."""

    bin_dir: Path
    installed: Path
    apt_calls: Path

    def run(self, *, uid: int) -> subprocess.CompletedProcess[str]:
        (self.bin_dir / "id").write_text(f"#!/bin/sh\necho {uid}\n")
        (self.bin_dir / "id").chmod(0o755)
        env = dict(os.environ, PATH=f"{self.bin_dir}{os.pathsep}{os.environ['PATH']}")
        return subprocess.run(
            [str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60, check=False
        )

    def calls(self) -> list[str]:
        return self.apt_calls.read_text().splitlines() if self.apt_calls.exists() else []


def _script(path: Path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


@pytest.fixture
def fake_debian(tmp_path: Path) -> FakeDebian:
    """A machine where fonts-dejavu-core is installed and chromium is not."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = FakeDebian(bin_dir, tmp_path / "installed", tmp_path / "apt-calls")
    fake.installed.write_text("fonts-dejavu-core\n")
    # dpkg-query -W -f=${Status} PKG: the package is the last argument
    _script(
        bin_dir / "dpkg-query",
        f'for pkg; do :; done\ngrep -qx "$pkg" "{fake.installed}" || exit 1\n'
        'printf "install ok installed"\n',
    )
    # apt-get records every call; "install" marks its package arguments installed.
    _script(
        bin_dir / "apt-get",
        f'echo "$*" >> "{fake.apt_calls}"\n'
        'if [ "$1" = install ]; then\n'
        '  for arg in "$@"; do case "$arg" in -*|install) ;; '
        f'*) echo "$arg" >> "{fake.installed}";; esac; done\n'
        "fi\n",
    )
    return fake


def test_as_root_it_installs_the_missing_package_with_one_apt_update(
    fake_debian: FakeDebian,
) -> None:
    result = fake_debian.run(uid=0)

    assert result.returncode == 0, result.stderr
    assert fake_debian.calls() == [
        "update -qq",
        "install -y -qq --no-install-recommends chromium",
    ]
    assert "chromium" in fake_debian.installed.read_text().split()


def test_without_root_it_stops_with_one_line_naming_package_and_command(
    fake_debian: FakeDebian,
) -> None:
    result = fake_debian.run(uid=1000)

    assert result.returncode != 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "chromium" in lines[0]
    assert "fonts-dejavu-core" not in lines[0], "only what is missing is named"
    assert "sudo apt-get install -y chromium" in lines[0]
    assert fake_debian.calls() == [], "nothing is installed without root"


def test_with_everything_installed_it_does_nothing(fake_debian: FakeDebian) -> None:
    fake_debian.installed.write_text("chromium\nfonts-dejavu-core\n")

    for uid in (0, 1000):
        result = fake_debian.run(uid=uid)
        assert result.returncode == 0, result.stderr
        assert result.stdout == result.stderr == ""
    assert fake_debian.calls() == []
