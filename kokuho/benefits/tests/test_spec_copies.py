"""The spec's examples are kept in the repository (`examples/`) so that a clone stands alone;
where the shared spec is checked out next to the repository, the copies must still be its
files byte for byte, and every kogaku-*/gassan-* example of it must have a copy."""

from pathlib import Path

import pytest

COPIES = Path(__file__).with_name("examples")
ORIGINAL = Path(__file__).resolve().parents[3].parent / "shared" / "spec" / "examples"
PATTERNS = ("kogaku-*.yaml", "kogaku-*.expected.json", "gassan-*.yaml", "gassan-*.expected.json")
# Not a spec file: it keeps the project's linter and formatter off the copies.
LOCAL = {"ruff.toml"}

needs_original = pytest.mark.skipif(
    not ORIGINAL.is_dir(), reason=f"the shared spec is not checked out at {ORIGINAL}"
)


def _copied() -> list[Path]:
    return sorted(p for p in COPIES.iterdir() if p.is_file() and p.name not in LOCAL)


def test_the_copies_are_there_without_the_shared_spec():
    """What the kogaku and gassan tests read exists in the clone itself."""
    names = {p.name for p in _copied()}
    assert "check.py" in names
    assert any(n.startswith("kogaku-") for n in names)
    assert any(n.startswith("gassan-") for n in names)
    for case in COPIES.glob("*.yaml"):
        assert case.with_name(f"{case.stem}.expected.json").is_file(), case.name


@needs_original
def test_every_copy_equals_its_original():
    for copy in _copied():
        original = ORIGINAL / copy.name
        assert original.is_file(), f"{copy.name} is no longer in {ORIGINAL}"
        assert copy.read_bytes() == original.read_bytes(), f"{copy.name} differs from the spec"


@needs_original
def test_every_kogaku_and_gassan_example_of_the_spec_has_a_copy():
    wanted = {p.name for pattern in PATTERNS for p in ORIGINAL.glob(pattern)} | {"check.py"}
    missing = sorted(wanted - {p.name for p in _copied()})
    assert not missing, f"copy these from {ORIGINAL}: {', '.join(missing)}"
