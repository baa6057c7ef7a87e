#!/usr/bin/env python3
"""Validates recorded real responses of boilerd against schemas/openapi.yaml.

Input (argv[1]): a JSON list of {"path": "/v1/boilers/{id}", "method": "get", "status": 200,
"content_type": "application/json", "body": <parsed JSON or text>}. Each response must be documented for its path,
method and status, with the content type documented, and its body must validate against the schema
(OpenAPI 3.1 schemas are JSON Schema 2020-12). Prints one line per failure; exits 1 if any.
"""
import json
import sys

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

spec_path = sys.argv[2] if len(sys.argv) > 2 else "schemas/openapi.yaml"
with open(spec_path) as f:
    spec = yaml.safe_load(f)
registry = Registry().with_resource("urn:openapi", DRAFT202012.create_resource(spec))


def resolve(node):
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        target = spec
        for part in ref.lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


failures = []
with open(sys.argv[1]) as f:
    recorded = json.load(f)
for entry in recorded:
    where = f"{entry['method'].upper()} {entry['path']} {entry['status']}"
    operation = spec["paths"].get(entry["path"], {}).get(entry["method"])
    if operation is None:
        failures.append(f"{where}: path and method not in the document")
        continue
    response = resolve(operation["responses"].get(str(entry["status"])))
    if response is None:
        failures.append(f"{where}: status not documented")
        continue
    content_type = entry["content_type"].split(";")[0].strip()
    media = response.get("content", {}).get(content_type)
    if media is None:
        failures.append(f"{where}: content type {content_type} not documented")
        continue
    schema = dict(media["schema"])
    if "$ref" in schema:
        schema = {"$ref": "urn:openapi#" + schema["$ref"][1:]}
    validator = Draft202012Validator(schema, registry=registry)
    for error in validator.iter_errors(entry["body"]):
        failures.append(f"{where}: {error.json_path}: {error.message}")
for failure in failures:
    print(failure)
print(f"{len(recorded)} responses checked, {len(failures)} failures")
sys.exit(1 if failures else 0)
