"""Data-page images as a desk reader photographs them: a TD3 page drawn (visual zone, portrait,
OCR-B MRZ), then paper, rotation, blur, glare, noise and JPEG, for the simulated reader's image
frame, the scenarios and `limes bench ocr`."""
from hardware_sim.datapage.damage import Damage, damage_page, encode_jpeg
from hardware_sim.datapage.holders import random_page
from hardware_sim.datapage.render import PrintedPage, render_page, viz_date

__all__ = ["Damage", "PrintedPage", "damage_page", "encode_jpeg", "random_page", "render_page", "viz_date"]
