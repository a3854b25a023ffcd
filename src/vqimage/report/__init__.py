"""Figures and the seed demo (matplotlib is imported only when used)."""
