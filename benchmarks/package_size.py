"""zip_mb.<function>: the function's deployment zip plus its share of the layers it uses.

Zipped as `sam package`/`sam deploy` zip a build folder (deflate, default level). A layer
is uploaded once and shared: each function is charged its size divided by the number of
functions that use it. 1 MB = 2^20 bytes.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from .context import Bench
from .registry import Figure, Goal, measurement

GOAL = Goal("<=", 5.0)
MB = 1024 * 1024


def zipped_size(folder: Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.tell()


def unzipped_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


@measurement("zip_mb")
def zip_mb(bench: Bench) -> list[Figure]:
    artifacts = bench.artifacts
    layer_zip = {logical_id: zipped_size(folder) for logical_id, folder in artifacts.layers.items()}
    figures = []
    for function in artifacts.functions.values():
        own = zipped_size(function.code_dir)
        shares = {layer: layer_zip[layer] / artifacts.layer_users(layer) for layer in function.layers}
        layer_text = ", ".join(
            f"{layer} {layer_zip[layer] / MB:.2f}/{artifacts.layer_users(layer)} "
            f"({unzipped_size(artifacts.layers[layer]) / MB:.1f} unzipped, "
            f"botocore {'inside' if (artifacts.layers[layer] / 'python' / 'botocore').exists() else 'not inside'})"
            for layer in function.layers
        )
        figures.append(
            Figure(
                f"zip_mb.{function.name}",
                round((own + sum(shares.values())) / MB, 2),
                GOAL,
                unit="MB",
                detail=f"function {own / MB:.2f} + {layer_text}",
            )
        )
    return figures
