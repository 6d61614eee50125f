"""Synthetic fingerprints, grown the way SFinGe-style generators do (docs/FINGERPRINTS.md).

`master`: a finger's master print from its pattern class, singular points, orientation field and
ridge period, grown from noise by iterated Gabor filtering. `impression`: one touch of that finger
on a scanner: elastic distortion, rotation, translation, pressure, dry or wet skin, partial contact
and noise. Everything follows from integer seeds.
"""
