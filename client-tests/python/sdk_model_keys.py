"""Unknown keys: every member of a JSON answer checked against the spec-generated model of the
Python SDK (azure-mgmt-containerservice). Reads `{"model": "ManagedCluster", "body": {...}}`
documents (a JSON list) from the file named by the first argument and prints `{"checked": N, "unknown": ["<model>: <path>", ...]}`.
A list answer is checked with `"list": true` (each member of `value`). Free-form members
(dictionaries such as tags, addon config, node labels) accept any key."""

import json
import sys
import typing

from azure.mgmt.containerservice import models as m
from azure.mgmt.containerservice._utils.model_base import Model


def hints(cls):
    try:
        return typing.get_type_hints(cls, globalns={**vars(m), "_models": m})
    except Exception:  # pragma: no cover - a model whose hints do not resolve checks shallowly
        return {}


def inner(tp):
    """The model class (or dict/list marker) a type annotation names."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Union:
        for a in args:
            if a is not type(None):
                return inner(a)
    if origin in (list, typing.List):
        return ("list", inner(args[0]) if args else None)
    if origin in (dict, typing.Dict):
        return ("dict", None)
    if isinstance(tp, type) and issubclass(tp, Model):
        return tp
    return None


def check(cls, value, path, unknown):
    if cls is None or value is None:
        return
    if isinstance(cls, tuple):
        kind, item = cls
        if kind == "list" and isinstance(value, list):
            for i, v in enumerate(value):
                check(item, v, f"{path}[{i}]", unknown)
        return
    if not isinstance(value, dict):
        return
    if not hasattr(cls, "_attr_to_rest_field"):
        cls.__new__(cls)  # the model base fills the field table on the first construction
    fields = {f._rest_name: attr for attr, f in cls._attr_to_rest_field.items()}
    types = hints(cls)
    for key, v in value.items():
        attr = fields.get(key)
        where = f"{path}.{key}" if path else key
        if attr is None:
            unknown.append(f"{cls.__name__}: {where}")
            continue
        check(inner(types.get(attr)), v, where, unknown)


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        docs = json.load(f)
    unknown = []
    checked = 0
    for doc in docs:
        cls = getattr(m, doc["model"])
        bodies = doc["body"]["value"] if doc.get("list") else [doc["body"]]
        for body in bodies:
            check(cls, body, doc["model"], unknown)
            checked += 1
    print(json.dumps({"checked": checked, "unknown": unknown}))


main()
