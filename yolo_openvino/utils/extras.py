"""The package's extras as its installed metadata declares them (pyproject.toml's optional-dependencies are their
one home): what ``yolo-ov checks`` lists and what a missing optional package's error names."""

from __future__ import annotations


def declared_extras() -> dict[str, list[str]]:
    """Each extra of pyproject.toml's optional-dependencies -> its distributions, read from the installed package's
    metadata (their one home); ``dev`` and an extra's inclusion of another (``yolo-openvino[serve]``) left out.
    Empty when run from a checkout that was never installed."""
    import re
    from importlib.metadata import PackageNotFoundError, requires

    try:
        requirements = requires("yolo-openvino") or []
    except PackageNotFoundError:
        return {}
    extras: dict[str, list[str]] = {}
    for requirement in requirements:
        name = re.split(r"[\s<>=!~;\[(]", requirement, maxsplit=1)[0]
        extra = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", requirement)
        if extra and extra[1] != "dev" and name != "yolo-openvino":
            extras.setdefault(extra[1], []).append(name)
    return extras
