"""Where the service's pieces live: policies beside the service, storage used by its public
names only, the old ``oppcore.storage`` policy names kept for one release with a warning."""

import ast
from pathlib import Path

import pytest

import oppcore
import oppcore.storage
from oppcore import AllowAll, OwnerTeamPolicy, Permission, Policy

SRC = Path(oppcore.__file__).resolve().parent
MOVED = ("AllowAll", "OwnerTeamPolicy", "Permission", "Policy")


def module_level_imports(path: Path, *, anywhere: bool = False) -> list[str]:
    """The modules a file imports when it is imported (not inside functions or
    ``if TYPE_CHECKING:``), as absolute dotted names; with ``anywhere``, every import in
    the file (inside functions and ``if TYPE_CHECKING:`` too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(SRC.parent).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(tree) if anywhere else tree.body:
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                found.append(f"{base}.{node.module}" if node.module else base)
            else:
                found.append(str(node.module))
    return found


def test_policies_live_beside_the_service() -> None:
    from oppcore._service import _policy

    for name in MOVED:
        assert getattr(oppcore, name) is getattr(_policy, name)
        assert getattr(oppcore, name).__module__ == "oppcore"  # its public home
        assert name not in oppcore.storage.__all__
        assert name not in vars(oppcore.storage)
    assert not (SRC / "storage" / "_policy.py").exists()


def test_storage_does_not_import_the_service() -> None:
    for path in sorted((SRC / "storage").glob("*.py")):
        for module in module_level_imports(path):
            assert not module.startswith("oppcore._service"), (path.name, module)


def test_the_service_imports_storage_by_its_public_namespace_only() -> None:
    used = []
    for path in sorted((SRC / "_service").glob("*.py")):
        for module in module_level_imports(path):
            if module.startswith("oppcore.storage"):
                assert module == "oppcore.storage", (path.name, module)
                used.append(path.name)
    assert used  # the check looked at real imports


def test_analytics_never_imports_the_report() -> None:
    # The analytics draw their charts with oppcore._charts, the code the report uses; the
    # report (a higher layer) is never imported from below (#13).
    used = []
    for path in sorted((SRC / "analytics").glob("*.py")):
        for module in module_level_imports(path, anywhere=True):
            assert not module.startswith(("oppcore._report", "oppcore._cli")), (path.name,
                                                                                module)
            used.append(module)
    assert "oppcore._charts" in used  # the check looked at real imports


def test_the_charts_import_only_the_locale() -> None:
    # Below the analytics and the report: words and numbers from the locale, nothing else.
    paths = sorted((SRC / "_charts").glob("*.py"))
    assert paths
    for path in paths:
        for module in module_level_imports(path, anywhere=True):
            if module.startswith("oppcore"):
                assert module.startswith(("oppcore._charts", "oppcore.locale")), (path.name,
                                                                                  module)


@pytest.mark.parametrize("name", MOVED)
def test_the_old_storage_names_still_resolve_with_a_deprecation_warning(name: str) -> None:
    pattern = rf"oppcore\.storage\.{name} is deprecated.*use oppcore\.{name}"
    with pytest.warns(DeprecationWarning, match=pattern):
        old = getattr(oppcore.storage, name)
    assert old is getattr(oppcore, name)


def test_from_import_of_an_old_name_warns_too() -> None:
    with pytest.warns(DeprecationWarning, match=r"use oppcore\.OwnerTeamPolicy"):
        from oppcore.storage import OwnerTeamPolicy as Old
    assert Old is OwnerTeamPolicy


def test_unknown_storage_names_still_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        oppcore.storage.Nope  # noqa: B018 - the lookup is the test


def test_owner_team_policy_on_create() -> None:
    from datetime import datetime, timezone

    from oppcore import Lead

    policy = OwnerTeamPolicy(teams={"ann": "east", "bob": "east"}, managers={"boss"})
    at = datetime(2026, 3, 2, tzinfo=timezone.utc)
    mine = Lead(id="L1", name="Wang Li", owner="ann", captured_at=at)
    nobodys = Lead(id="L2", name="Wang Li", captured_at=at)
    assert policy.allows("ann", Permission.CREATE, mine)
    assert not policy.allows("bob", Permission.CREATE, mine)  # a team mate reads, no more
    assert policy.allows("boss", Permission.CREATE, mine)
    assert policy.allows("bob", Permission.CREATE, nobodys)
    assert isinstance(policy, Policy) and isinstance(AllowAll(), Policy)
    assert AllowAll().allows("anyone", Permission.CREATE, mine)
