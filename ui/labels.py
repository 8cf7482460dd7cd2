"""Map labels as one transparent image (deck.gl BitmapLayer), because Streamlit's deck.gl cannot render CJK text.

deck.gl's TextLayer only draws the characters of its font atlas; in Streamlit's JSON renderer any custom
``characterSet`` (needed for Chinese) makes the layer draw nothing, and per-label IconLayer icons did not render
either. So the labels are drawn here with Pillow and a local CJK font onto one transparent PNG laid over the
district's bounding box, sent as a ``data:`` URL (no request leaves the host).
"""

from __future__ import annotations

import base64
import io
import math
import subprocess
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

# Noto Sans CJK (Debian fonts-noto-cjk) first; index 2 of the collection is Simplified Chinese.
_CANDIDATES = [
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
]


@lru_cache(maxsize=1)
def cjk_font_path() -> tuple[str, int] | None:
    """A local font that has Chinese glyphs, or None."""
    for path, index in _CANDIDATES:
        if Path(path).exists():
            return path, index
    try:
        found = subprocess.run(
            ["fc-match", "-f", "%{file}", ":lang=zh-cn"], capture_output=True, text=True, timeout=5
        ).stdout.strip()
        return (found, 0) if found else None
    except (OSError, subprocess.SubprocessError):
        return None


def draw_labels(draw: ImageDraw.ImageDraw, placed, font_px: int) -> bool:
    """Draw each (text, x, y) centred at its pixel, light on a dark halo; False (nothing drawn) without a CJK font."""
    font_spec = cjk_font_path()
    if font_spec is None:
        return False
    font = ImageFont.truetype(font_spec[0], font_px, index=font_spec[1])
    stroke = max(2, font_px // 8)
    for text, x, y in placed:
        draw.text(
            (x, y),
            text,
            font=font,
            anchor="mm",
            fill=(240, 245, 250, 255),
            stroke_width=stroke,
            stroke_fill=(0, 0, 0, 200),
        )
    return True


def mercator_y(lat):
    """Web-Mercator y (radians) of a latitude in degrees; scalars or numpy arrays."""
    return np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))


@lru_cache(maxsize=32)
def label_overlay(
    labels: tuple[tuple[str, float, float], ...],
    bounds: tuple[float, float, float, float],
    width_px: int = 1600,
    font_px: int = 30,
) -> str | None:
    """A transparent PNG (as a data: URL) with each (text, lat, lon) centred at its place inside
    ``bounds`` = (west, south, east, north); None when no CJK font is available. Cached: the streets rarely
    change and encoding the PNG costs a quarter of a second."""
    font_spec = cjk_font_path()
    if font_spec is None or not labels:
        return None
    west, south, east, north = bounds
    y0, y1 = mercator_y(south), mercator_y(north)
    height_px = max(1, round(width_px * (y1 - y0) / math.radians(east - west)))
    image = Image.new("RGBA", (width_px, height_px), (0, 0, 0, 0))
    draw_labels(
        ImageDraw.Draw(image),
        [
            (text, (lon - west) / (east - west) * width_px, (y1 - mercator_y(lat)) / (y1 - y0) * height_px)
            for text, lat, lon in labels
        ],
        font_px,
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
