#!/usr/bin/env python3
"""Draws Roster's app icon and writes the PNG sizes Tauri wants.

Standard library only (zlib + struct): shapes are signed-distance functions,
so edges are anti-aliased without supersampling. Run from anywhere:

    python3 icons/make_icons.py

Writes icon.png (512), 128x128.png, 128x128@2x.png (256) and 32x32.png next
to this script, as 8-bit RGBA (tauri-codegen refuses anything else).
"""

import math
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))

TOP = (0x25, 0xD3, 0x66)     # WhatsApp-ish green
BOTTOM = (0x12, 0x8C, 0x7E)  # deep teal
WHITE = (0xFF, 0xFF, 0xFF)


def sd_round_rect(px, py, cx, cy, hw, hh, r):
    """Signed distance to a rounded rectangle centred on (cx, cy)."""
    qx = abs(px - cx) - (hw - r)
    qy = abs(py - cy) - (hh - r)
    outside = math.hypot(max(qx, 0.0), max(qy, 0.0))
    inside = min(max(qx, qy), 0.0)
    return outside + inside - r


def sd_circle(px, py, cx, cy, r):
    return math.hypot(px - cx, py - cy) - r


def coverage(d, px_size):
    """Fraction of a pixel covered by a shape at signed distance d (in units)."""
    return min(1.0, max(0.0, 0.5 - d / px_size))


def over(dst, src, alpha):
    """Composites colour src with coverage alpha over premultiplied-free dst."""
    r, g, b, a = dst
    out_a = alpha + a * (1.0 - alpha)
    if out_a <= 0.0:
        return (0.0, 0.0, 0.0, 0.0)
    mix = lambda s, d: (s * alpha + d * a * (1.0 - alpha)) / out_a
    return (mix(src[0], r), mix(src[1], g), mix(src[2], b), out_a)


def shade(u, v, px):
    """Colour at (u, v) in the unit square; px is one pixel in those units."""
    color = (0.0, 0.0, 0.0, 0.0)

    # Background tile with a vertical gradient.
    d = sd_round_rect(u, v, 0.5, 0.5, 0.46, 0.46, 0.11)
    a = coverage(d, px)
    if a > 0.0:
        t = min(1.0, max(0.0, (v - 0.04) / 0.92))
        bg = tuple(TOP[i] + (BOTTOM[i] - TOP[i]) * t for i in range(3))
        color = over(color, bg, a)

    # A contact: head and shoulders.
    head = sd_circle(u, v, 0.345, 0.385, 0.105)
    body = max(
        sd_round_rect(u, v, 0.345, 0.66, 0.175, 0.15, 0.14),
        -(v - 0.52) if v < 0.52 else v - 0.695,  # cut to a bust
    )
    glyph = min(head, body)
    # The list: three bars to the right.
    for i, y in enumerate((0.37, 0.5, 0.63)):
        width = 0.15 if i < 2 else 0.11
        glyph = min(glyph, sd_round_rect(u, v, 0.585 + width, y, width, 0.04, 0.04))
    a = coverage(glyph, px)
    if a > 0.0:
        color = over(color, WHITE, a)
    return color


def render(size):
    px = 1.0 / size
    rows = []
    for y in range(size):
        row = bytearray([0])  # filter type: none
        v = (y + 0.5) * px
        for x in range(size):
            r, g, b, a = shade((x + 0.5) * px, v, px)
            row += bytes((round(r), round(g), round(b), round(a * 255)))
        rows.append(bytes(row))
    return b"".join(rows)


def png(size, raw):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def main():
    for name, size in (
        ("icon.png", 512),
        ("128x128@2x.png", 256),
        ("128x128.png", 128),
        ("32x32.png", 32),
    ):
        path = os.path.join(HERE, name)
        with open(path, "wb") as f:
            f.write(png(size, render(size)))
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
