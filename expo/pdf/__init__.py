"""Shared print pieces: CJK fonts, page presets and text fitting. No Flask here."""
