#!/usr/bin/env python3
"""Expand template.yaml through the AWS SAM transform, offline.

`make validate` runs this when the SAM CLI is not installed: it is the same
translator `sam validate` uses, called without AWS credentials. The template
names no managed policies (every function has its own inline statements), so
the policy loader never has to reach IAM; if one is added, this fails and says
so instead of guessing an ARN.

usage: scripts/sam-translate.py [template.yaml] [-o translated.json]
"""

import argparse
import json
import os
import sys

from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


def stand_in_for_local_code(template):
    """Points local CodeUri paths at a dummy S3 object.

    The translator accepts only S3 locations; `sam package` uploads the built
    code and writes the real one, and `sam validate` makes the same swap.
    """
    sections = [template.get("Globals", {}).get("Function", {})]
    sections += [
        r.get("Properties", {})
        for r in template.get("Resources", {}).values()
        if r.get("Type") == "AWS::Serverless::Function"
    ]
    for properties in sections:
        uri = properties.get("CodeUri")
        if isinstance(uri, str) and not uri.startswith("s3://"):
            properties["CodeUri"] = "s3://local-build-stand-in/" + uri.strip("./") + "code.zip"


class OfflinePolicyLoader:
    """Stands in for the IAM-backed loader: knows no managed policy names."""

    def load(self):
        return {}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("template", nargs="?", default="template.yaml")
    parser.add_argument("-o", "--output", help="write the expanded template here (JSON)")
    parser.add_argument(
        "--region",
        default="us-east-1",
        help="region for the pseudo-parameters when none is configured (output is not deployed)",
    )
    args = parser.parse_args()

    # The translator insists on a region to fill AWS::Region and
    # AWS::Partition; a configured one wins.
    if not (os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")):
        os.environ["AWS_DEFAULT_REGION"] = args.region

    with open(args.template, encoding="utf-8") as f:
        template = yaml_parse(f.read())

    stand_in_for_local_code(template)
    try:
        expanded = transform(template, {}, OfflinePolicyLoader())
    except InvalidDocumentException as err:
        for cause in err.causes:
            print(f"{args.template}: {cause.message}", file=sys.stderr)
        return 1

    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            json.dump(expanded, f, indent=2, sort_keys=True)
            f.write("\n")

    kinds = {}
    for resource in expanded.get("Resources", {}).values():
        kinds[resource["Type"]] = kinds.get(resource["Type"], 0) + 1
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    print(f"{args.template}: SAM transform ok ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
