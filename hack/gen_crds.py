"""Write crds/*.yaml from the spec models (`python hack/gen_crds.py`, `--check` in CI).

The Pydantic spec models in runtime/wta_runtime/specs are the one definition of the API; the
CRDs are generated from them, so the runtime, the operator and the API server agree.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from wta_runtime.specs.crds import CUSTOM_RESOURCES, render_crd

CRDS_DIR = Path(__file__).resolve().parent.parent / "crds"


def stale_files(folder: Path) -> list[Path]:
    """The CRD files under `folder` whose content differs from what the models generate."""
    return [
        folder / r.file_name
        for r in CUSTOM_RESOURCES
        if not (folder / r.file_name).is_file()
        or (folder / r.file_name).read_text(encoding="utf-8") != render_crd(r)
    ]


def write_crds(folder: Path) -> list[Path]:
    """Write every CRD file; return the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for resource in CUSTOM_RESOURCES:
        path = folder / resource.file_name
        path.write_text(render_crd(resource), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=CRDS_DIR, help="folder (default: crds/)")
    parser.add_argument(
        "--check", action="store_true", help="fail if the files are out of date; write nothing"
    )
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files(args.out)
        for path in stale:
            print(f"{path} is out of date: run python hack/gen_crds.py", file=sys.stderr)
        return 1 if stale else 0
    for path in write_crds(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
