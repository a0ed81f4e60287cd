"""Fonts for the /stats picture: a CJK font for Chinese labels, a scalable Latin font otherwise.

Fonts are found at a short list of known paths (Debian's fonts-noto-cjk and fonts-dejavu first, then the places
other systems keep the same fonts) instead of through fontconfig, which slim images lack. Without a CJK font a
Chinese label would come out as empty boxes, so the picture falls back to English labels and says so in the log
once per process. Pillow's own scalable default font is the last resort for Latin text, never a bitmap font.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import ImageFont

from bot.core.types import Lang

log = logging.getLogger(__name__)


def _pair(folder: str, regular: str, bold: str | None = None) -> tuple[Path, Path]:
    return Path(folder) / regular, Path(folder) / (bold or regular)


# (regular, bold) pairs, best first; a missing bold falls back to the regular face.
CJK_FONTS: tuple[tuple[Path, Path], ...] = (
    _pair("/usr/share/fonts/opentype/noto", "NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc"),  # Debian
    _pair("/usr/share/fonts/noto-cjk", "NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc"),  # Arch
    _pair("/usr/share/fonts/google-noto-cjk", "NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc"),  # Fedora
    _pair("/usr/share/fonts/truetype/wqy", "wqy-microhei.ttc"),
    _pair("/usr/share/fonts/truetype/wqy", "wqy-zenhei.ttc"),
    _pair("/System/Library/Fonts", "PingFang.ttc"),  # macOS
)
LATIN_FONTS: tuple[tuple[Path, Path], ...] = (
    _pair("/usr/share/fonts/truetype/dejavu", "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),  # Debian fonts-dejavu-core
    _pair("/usr/share/fonts/dejavu-sans-fonts", "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),  # Fedora
    _pair("/usr/share/fonts/TTF", "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),  # Arch
)
# A collection holds one face per region; Chinese users want the simplified-Chinese glyph forms.
SIMPLIFIED_CHINESE_MARKS = (" SC", " CN", " GB", "Micro Hei", "Zen Hei")
MAX_FACES = 32

FreeTypeFont = ImageFont.FreeTypeFont


@dataclass(frozen=True, slots=True)
class Face:
    """One font face: a file (and its index in a collection), or None for Pillow's scalable default font."""

    path: Path | None
    index: int = 0

    def at(self, size: int) -> FreeTypeFont:
        """A fresh font object per picture: FreeType objects are not shared between render threads."""
        if self.path is None:
            font = ImageFont.load_default(size=size)
            assert isinstance(font, FreeTypeFont), "Pillow without FreeType has no scalable default font"
            return font
        return ImageFont.truetype(str(self.path), size, index=self.index)

    @property
    def name(self) -> str:
        return "Pillow default" if self.path is None else f"{self.path}#{self.index}"


@dataclass(frozen=True, slots=True)
class Fonts:
    """The faces of one picture and the language its labels are drawn in (English when CJK glyphs are missing)."""

    lang: Lang
    regular: Face
    bold: Face


def _simplified_chinese_index(path: Path) -> int:
    """The index of the simplified-Chinese face in a collection (0 for a single font or when none says so)."""
    for index in range(MAX_FACES):
        try:
            family, _style = ImageFont.truetype(str(path), 12, index=index).getname()
        except OSError:  # past the last face of the collection
            break
        if family and any(mark in family for mark in SIMPLIFIED_CHINESE_MARKS):
            return index
    return 0


def _loadable(path: Path) -> bool:
    try:
        ImageFont.truetype(str(path), 12)
    except OSError:
        return False
    return True


@dataclass
class FontLibrary:
    """Finds the picture's fonts once per process; tests build one pointed at other paths."""

    cjk: Sequence[tuple[Path, Path]] = CJK_FONTS
    latin: Sequence[tuple[Path, Path]] = LATIN_FONTS
    _found: dict[str, tuple[Face, Face] | None] = field(default_factory=dict, repr=False)
    _warned: bool = field(default=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def fonts_for(self, lang: Lang) -> Fonts:
        """Chinese labels with a CJK face, or English labels (logged once) when none is installed."""
        with self._lock:
            if lang == "zh":
                cjk = self._find("cjk", self.cjk, chinese=True)
                if cjk is not None:
                    return Fonts("zh", *cjk)
                if not self._warned:
                    self._warned = True
                    log.warning(
                        "No CJK font found (looked in %s): /stats pictures for Chinese users get English labels. "
                        "Install Debian's fonts-noto-cjk to draw them in Chinese.",
                        ", ".join(str(regular) for regular, _bold in self.cjk) or "no paths",
                    )
            latin = self._find("latin", self.latin, chinese=False) or self._find("cjk", self.cjk, chinese=True)
            return Fonts("en", *(latin or (Face(None), Face(None))))

    def _find(self, key: str, candidates: Sequence[tuple[Path, Path]], chinese: bool) -> tuple[Face, Face] | None:
        if key not in self._found:
            self._found[key] = None
            for regular, bold in candidates:
                if regular.is_file() and _loadable(regular):
                    bold = bold if bold.is_file() and _loadable(bold) else regular
                    pick = _simplified_chinese_index if chinese else (lambda _path: 0)
                    self._found[key] = (Face(regular, pick(regular)), Face(bold, pick(bold)))
                    break
        return self._found[key]


FONTS = FontLibrary()
