#!/usr/bin/env python3
"""Validates every example under schemas/examples/ against its JSON Schema with an independent validator
(python-jsonschema, draft 2020-12) and prints one line per file: `<valid|invalid> <path>`.

Layout: examples/<schema>/{valid,invalid,refused}/*.json, where <schema> names schemas/<schema>.schema.json.
`refused` holds payloads the schema accepts but receivers refuse (checks a schema cannot state).
NaN and Infinity are treated as the invalid JSON they are, and a repeated key as malformed (RFC 8259 says keys
SHOULD be unique; Python's json module would accept all three, keeping the last value of a repeated key).
Exit status 1 when a file's verdict disagrees with its folder, so the script is a check on its own too.
"""
import json, pathlib, sys
import jsonschema
from referencing import Registry, Resource

root = pathlib.Path(__file__).resolve().parent
schemas = {p.name.removesuffix(".schema.json"): json.loads(p.read_text()) for p in root.glob("*.schema.json")}
registry = Registry().with_resources(
    (s["$id"], Resource.from_contents(s)) for s in schemas.values()
)

def reject_constant(name):
    raise ValueError(f"{name} is not JSON")

def unique_keys(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("repeated key")
    return dict(pairs)

disagreements = 0
for path in sorted((root / "examples").glob("*/*/*.json")):
    schema_name, folder = path.parent.parent.name, path.parent.name
    validator = jsonschema.Draft202012Validator(schemas[schema_name], registry=registry,
                                                format_checker=jsonschema.FormatChecker())
    try:
        instance = json.loads(path.read_bytes().decode("utf-8"), parse_constant=reject_constant,
                              object_pairs_hook=unique_keys)
        ok = validator.is_valid(instance)
    except ValueError:
        ok = False
    print(("valid" if ok else "invalid"), path.relative_to(root))
    if ok != (folder in ("valid", "refused")):
        disagreements += 1
        print(f"  ^ disagrees with its folder '{folder}'", file=sys.stderr)
sys.exit(1 if disagreements else 0)
