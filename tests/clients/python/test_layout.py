"""The README's layout section matches the tree: every module and folder it
lists exists, and every Rust module of the service and the tools is
listed."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[3]


def listed_paths():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Layout\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```\n(.*?)```", section, re.S).group(1)
    return [line.split()[0] for line in block.splitlines() if line.strip()]


def test_every_listed_path_exists():
    missing = [p for p in listed_paths() if not (ROOT / p).exists()]
    assert not missing, f"listed in README's layout but not in the tree: {missing}"


def test_every_module_is_listed():
    listed = set(listed_paths())
    modules = sorted(
        str(path.relative_to(ROOT))
        for base in ("src", "tools/src")
        for path in (ROOT / base).rglob("*.rs")
    )
    unlisted = [m for m in modules if m not in listed]
    assert not unlisted, f"modules missing from README's layout: {unlisted}"
    folders = sorted(
        str(path.relative_to(ROOT)) + "/"
        for base in ("src", "tools/src")
        for path in (ROOT / base).rglob("*")
        if path.is_dir()
    )
    assert not [f for f in folders if f not in listed], "every folder is listed"
