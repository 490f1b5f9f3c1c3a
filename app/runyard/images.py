"""Images logged per step, in MLflow's layout, so either client's images show in either UI.

``log_image(image, key=..., step=...)`` writes two artifacts per image,
``images/<key>+step+<n>+timestamp+<ms>+<uuid>.png`` and a copy at most 256 px on its longer
side, ``...+compressed.webp``, and tags the run ``mlflow.loggedImages``. Slashes in a key
become ``~`` in the name (older MLflow wrote ``#``, and ``%`` as the separator; both are read).
Pillow (and numpy, for arrays) are imported only when an image is logged.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from runyard import tags as system_tags
from runyard.errors import InvalidParameterValue

IMAGES_DIR = "images"
LOGGED_IMAGES_TAG = system_tags.LOGGED_IMAGES
COMPRESSED_SIZE = 256
_KEY = re.compile(r"[a-zA-Z0-9_\-./ ]+")
_NAME = re.compile(
    r"^(?P<key>.+?)(?P<sep>[+%])step(?P=sep)(?P<step>-?\d+)(?P=sep)timestamp(?P=sep)"
    r"(?P<ts>\d+)(?P=sep)(?P<uuid>[0-9a-fA-F-]+)(?P<compressed>(?P=sep)compressed)?"
    r"\.(?P<ext>png|webp|jpe?g)$"
)


@dataclass(frozen=True)
class StepImage:
    """One logged image of a key at a step: its full file and its small (compressed) copy."""

    key: str
    step: int
    timestamp: int
    file: str
    compressed: str | None


def validate_image_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise InvalidParameterValue(
            "The `key` parameter may only contain alphanumerics, underscores (_), dashes (-), "
            f"periods (.), spaces ( ), and slashes (/). The provided key `{key}` contains "
            "invalid characters."
        )
    return key


def image_paths(key: str, step: int, timestamp: int) -> tuple[str, str]:
    """The artifact paths of the full image (PNG) and its compressed copy (WebP)."""
    name = f"{IMAGES_DIR}/{key.replace('/', '~')}+step+{step}+timestamp+{timestamp}+{uuid.uuid4()}"
    return f"{name}.png", f"{name}+compressed.webp"


def parse_image_names(names: list[str]) -> dict[str, list[StepImage]]:
    """File names inside ``images/`` grouped by key, each key's images ordered by step."""
    full: dict[str, tuple[str, int, int, str]] = {}
    small: dict[str, str] = {}
    for name in names:
        match = _NAME.match(name)
        if not match:
            continue
        uid = match["uuid"]
        if match["compressed"]:
            small[uid] = name
        else:
            key = match["key"].replace("~", "/").replace("#", "/")
            full[uid] = (key, int(match["step"]), int(match["ts"]), name)
    by_key: dict[str, list[StepImage]] = {}
    for uid, (key, step, ts, name) in full.items():
        path = f"{IMAGES_DIR}/{name}"
        compressed = f"{IMAGES_DIR}/{small[uid]}" if uid in small else None
        by_key.setdefault(key, []).append(StepImage(key, step, ts, path, compressed))
    for images in by_key.values():
        images.sort(key=lambda i: (i.step, i.timestamp))
    return dict(sorted(by_key.items()))


# ---- conversion (Pillow and numpy imported here only) -------------------------------------------
def pil() -> Any:
    """Pillow's ``PIL.Image`` module, or an install hint when it is missing."""
    try:
        from PIL import Image
    except ImportError as exc:
        raise ImportError("Images need Pillow: pip install 'runyard[images]'.") from exc
    return Image


def to_pil(image: Any) -> Any:
    """A ``PIL.Image`` from a PIL image, an object with ``to_pil()`` or a numpy array (H x W,
    H x W x 1/3/4; bool, ints in [0, 255] or floats in [0, 1], rescaled when outside)."""
    Image = pil()
    if isinstance(image, Image.Image):
        return image
    if hasattr(image, "to_pil"):
        return image.to_pil()
    if type(image).__module__ == "numpy" and type(image).__name__ == "ndarray":
        return _array_to_pil(image, Image)
    raise TypeError(
        f"Unsupported image object type: {type(image)}. `image` must be a numpy.ndarray, "
        "a PIL.Image.Image or an mlflow.Image."
    )


def _array_to_pil(array: Any, image_module: Any) -> Any:
    import numpy as np

    if array.dtype.kind not in "biuf":
        raise TypeError(f"Invalid array data type: '{array.dtype}'.")
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
        raise ValueError(f"`image` must be H x W or H x W x 1/3/4, got shape {array.shape}.")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.dtype.kind in "iu":
        if array.min() < 0 or array.max() > 255:
            raise ValueError("Integer pixel values out of acceptable range [0, 255].")
        return image_module.fromarray(array.astype(np.uint8))
    values = array.astype(np.float64)
    if array.dtype.kind == "f" and (values.min() < 0 or values.max() > 1):
        span = values.max() - values.min()
        values = (values - values.min()) / (span or 1.0)
    return image_module.fromarray((values * 255).astype(np.uint8))


def compressed_copy(image: Any) -> Any:
    """The image scaled to fit a ``COMPRESSED_SIZE`` square, keeping its aspect ratio."""
    width, height = image.size
    scale = COMPRESSED_SIZE / max(width, height)
    return image.resize((max(1, int(width * scale)), max(1, int(height * scale))))
