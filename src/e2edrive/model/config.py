"""The driving network's configuration, saved beside every checkpoint (no torch here: the command line and
the planner read it)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from e2edrive.core import io


@dataclass(frozen=True)
class ModelConfig:
    stem_channels: int = 32
    stem_patch_px: int = 4
    """Stem: a patch_px x patch_px convolution with stride patch_px (a "patchify" stem). Full-resolution
    convolutions on 3 or 16 channels were most of the time on CPU and gain nothing from INT8; the patch stem
    does the full-resolution work once, cheaply, and leaves the rest to wide layers INT8 speeds up ~2x."""
    channels: tuple[int, ...] = (48, 64)
    """Widths of the stride-2 blocks after the stem (two 3x3 convs each)."""
    fused_channels: int = 96
    hidden: int = 256
    dropout: float = 0.1

    def __post_init__(self) -> None:
        if not self.channels or any(c <= 0 for c in self.channels) or self.stem_channels <= 0:
            raise ValueError(f"stem_channels={self.stem_channels}, channels={self.channels}: need positive widths")
        down = self.stem_patch_px * 2 ** len(self.channels)
        if io.IMAGE_HEIGHT_PX % down or io.IMAGE_WIDTH_PX % down:
            raise ValueError(
                f"stem_patch_px={self.stem_patch_px} with {len(self.channels)} blocks downsamples by {down}, "
                f"which does not divide the {io.IMAGE_WIDTH_PX}x{io.IMAGE_HEIGHT_PX} image"
            )

    @property
    def feature_hw(self) -> tuple[int, int]:
        """(h, w) of the encoder's output map."""
        down = self.stem_patch_px * 2 ** len(self.channels)
        return io.IMAGE_HEIGHT_PX // down, io.IMAGE_WIDTH_PX // down

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> ModelConfig:
        return cls(**{**d, "channels": tuple(d["channels"])})
