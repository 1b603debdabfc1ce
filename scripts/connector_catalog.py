#!/usr/bin/env python3
"""Writes a connector catalog holding opencti-webhook's one entry, for OpenCTI's
`app:custom_catalogs` setting: the shape OpenCTI-Platform/connectors builds its own catalog
in, one contract per connector made of __metadata__/connector_manifest.json with the logo
inlined as a data URL and __metadata__/connector_config_schema.json as `config_schema`.

usage: scripts/connector_catalog.py OUTPUT      (called by `make connector-catalog`)
"""

import base64
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MIME_TYPES = {".svg": "image/svg+xml", ".png": "image/png"}


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    with open(os.path.join(ROOT, "__metadata__", "connector_manifest.json"), encoding="utf-8") as f:
        contract = json.load(f)
    with open(os.path.join(ROOT, "__metadata__", "connector_config_schema.json"), encoding="utf-8") as f:
        schema = json.load(f)
    logo = contract["logo"]
    with open(os.path.join(ROOT, logo), "rb") as f:
        encoded = base64.b64encode(f.read()).decode("ascii")
    contract["logo"] = "data:%s;base64,%s" % (MIME_TYPES[os.path.splitext(logo)[1]], encoded)
    contract["config_schema"] = schema
    catalog = {
        "id": "opencti-webhook-catalog",
        "name": "opencti-webhook",
        "description": "The opencti-webhook connector, deployable by the connector manager.",
        "version": contract["container_version"],
        "contracts": [contract],
    }
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        json.dump(catalog, f, indent=2, ensure_ascii=False)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
