"""A Pillow canvas that draws text in the picture's fonts and remembers every label it drew.

The record (text, box, size, face) lets tests check what a reader sees, its size and which font drew it,
without reading pixels back through OCR.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image, ImageDraw

from bot.accountability.stats_fonts import Face, Fonts, FreeTypeFont

Box = tuple[int, int, int, int]
Colour = tuple[int, int, int]
ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class Label:
    text: str
    box: Box  # the rendered text's bounding box in the picture
    size: int  # the font's pixel size
    face: Face


@dataclass
class Canvas:
    width: int
    height: int
    fonts: Fonts
    background: Colour
    labels: list[Label] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.image = Image.new("RGB", (self.width, self.height), self.background)
        self.draw = ImageDraw.Draw(self.image)
        # Font objects live as long as the canvas: one picture is drawn on one thread.
        self._fonts: dict[tuple[bool, int], FreeTypeFont] = {}

    def font(self, size: int, bold: bool = False) -> FreeTypeFont:
        key = (bold, size)
        if key not in self._fonts:
            self._fonts[key] = (self.fonts.bold if bold else self.fonts.regular).at(size)
        return self._fonts[key]

    def line_height(self, size: int, bold: bool = False) -> int:
        """Ascent plus descent: the fonts differ (Noto CJK sits lower and reaches higher than DejaVu)."""
        ascent, descent = self.font(size, bold).getmetrics()
        return int(ascent + descent)

    def measure(self, text: str, size: int, bold: bool = False) -> int:
        return int(self.draw.textlength(text, font=self.font(size, bold)))

    def fit(self, text: str, size: int, max_width: int, bold: bool = False) -> str:
        """`text`, cut with an ellipsis where it would run past `max_width` (long plan titles)."""
        if self.measure(text, size, bold) <= max_width:
            return text
        while text and self.measure(text + ELLIPSIS, size, bold) > max_width:
            text = text[:-1]
        return text.rstrip() + ELLIPSIS

    def text(
        self,
        xy: tuple[float, float],
        text: str,
        size: int,
        fill: Colour,
        bold: bool = False,
        anchor: str = "la",
    ) -> Box:
        font = self.font(size, bold)
        self.draw.text(xy, text, fill=fill, font=font, anchor=anchor)
        left, top, right, bottom = self.draw.textbbox(xy, text, font=font, anchor=anchor)
        box = (int(left), int(top), int(right), int(bottom))
        self.labels.append(Label(text, box, size, self.fonts.bold if bold else self.fonts.regular))
        return box

    def cropped(self, height: int) -> Image.Image:
        return self.image.crop((0, 0, self.width, min(height, self.height)))
